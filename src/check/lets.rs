//! Named values (`let NAME = EXPR`). A name stands for its expression wherever an expression
//! may be written (maps, selects, the client match, conditions, templates, other named values):
//! the checker types the expression where it is used, with what is known there (a `require`
//! rule naming the value proves it present), and compiles it in place, so evaluation needs
//! nothing new and never-transfer reads flow through it as through the expression. Problems
//! inside the expression are reported once, at the declaration (diagnostics are deduplicated).
//! A name that is declared twice, or is also a record, is M106; one that refers to itself,
//! directly or through others, M109.

use std::rc::Rc;

use super::context::Context;
use super::records::Record;
use crate::diag::{Code, Diagnostic};
use crate::syntax::ast::{Item, LetDecl, MappingFile};

/// The named values of a mapping, in file order.
pub(crate) fn collect(ast: &MappingFile) -> Rc<Vec<LetDecl>> {
    Rc::new(
        ast.items
            .iter()
            .filter_map(|item| match item {
                Item::Let(decl) => Some(decl.clone()),
                _ => None,
            })
            .collect(),
    )
}

/// M106 for a name declared twice or also declared as a record.
pub(crate) fn check_names(cx: &mut Context<'_>, lets: &[LetDecl], records: &[Record]) {
    for (index, decl) in lets.iter().enumerate() {
        let name = &decl.name.name;
        let earlier = lets[..index]
            .iter()
            .find(|d| &d.name.name == name)
            .map(|d| d.name.span);
        let record = records
            .iter()
            .find(|r| &r.name == name)
            .map(|r| r.name_span);
        if let Some(first) = earlier.or(record) {
            cx.report(
                Diagnostic::new(
                    Code::M106,
                    decl.name.span,
                    format!("`{name}` is already declared"),
                    "declared again here",
                )
                .with_label(first, "first declared here")
                .with_help("give the named value a name no record or other value has"),
            );
        }
    }
}

/// M109 for a named value whose expression refers to itself.
pub(crate) fn cycle(cx: &mut Context<'_>, decl: &LetDecl) {
    cx.report(
        Diagnostic::new(
            Code::M109,
            decl.name.span,
            format!("`{}` refers to itself", decl.name.name),
            "its value reads this name again",
        )
        .with_help(
            "a named value is computed from records and other named values, never from itself",
        ),
    );
}
