//! The names a mapping declares and where each is used: records (`source deal = ...`, the root of
//! every path `deal.x`) and tables (`table owners ...`, a bare argument `lookup(owners)`). Tools
//! (the language server's references and rename) ask this instead of scanning text, so a word in
//! a comment or a string is never taken for a use.

use super::ast::{Arg, Item, MappingFile};
use super::find::{expr_calls, expressions, paths};
use crate::source::Span;

/// What a name names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    /// A source or target record.
    Record,
    /// A value table.
    Table,
}

/// One place a name is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameUse {
    /// What it names.
    pub kind: NameKind,
    /// The name.
    pub name: String,
    /// Where it is written (the name alone).
    pub span: Span,
    /// True where the name is declared.
    pub declaration: bool,
}

/// Every place a record or table name is written in `file`, declarations first, then uses in
/// file order.
pub fn name_uses(file: &MappingFile) -> Vec<NameUse> {
    let mut found = Vec::new();
    for item in &file.items {
        let (kind, ident) = match item {
            Item::Source(record) | Item::Target(record) => (NameKind::Record, &record.name),
            Item::Table(table) => (NameKind::Table, &table.name),
            _ => continue,
        };
        found.push(NameUse {
            kind,
            name: ident.name.clone(),
            span: ident.span,
            declaration: true,
        });
    }
    let mut uses = Vec::new();
    for path in paths(file) {
        uses.push(NameUse {
            kind: NameKind::Record,
            name: path.root.name.clone(),
            span: path.root.span,
            declaration: false,
        });
    }
    let mut calls = Vec::new();
    for expr in expressions(file) {
        expr_calls(expr, &mut calls);
    }
    for call in calls {
        for arg in &call.args {
            if let Arg::Name(name) = arg {
                uses.push(NameUse {
                    kind: NameKind::Table,
                    name: name.name.clone(),
                    span: name.span,
                    declaration: false,
                });
            }
        }
    }
    uses.sort_by_key(|u| u.span.start);
    found.extend(uses);
    found
}

/// The uses of the name written at byte `offset` (declaration and every use of the same kind and
/// name), when a record or table name is there.
pub fn same_name(file: &MappingFile, offset: usize) -> Option<(NameKind, String, Vec<NameUse>)> {
    let all = name_uses(file);
    let here = all
        .iter()
        .find(|u| u.span.start <= offset && offset <= u.span.end)?;
    let (kind, name) = (here.kind, here.name.clone());
    let same = all
        .into_iter()
        .filter(|u| u.kind == kind && u.name == name)
        .collect();
    Some((kind, name, same))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;
    use crate::syntax::{Limits, parse};

    #[test]
    fn every_use_of_a_table_and_a_record_is_found_and_nothing_in_strings() {
        let text = "source deal = schema \"d.json\"\ntarget job = schema \"j.json\"\n\
            table owners { \"a\" => 1 }\n# owners in a comment\n\
            map {\n  job.a = deal.x | lookup(owners)\n  job.b = \"owners {deal.y}\"\n}\n";
        let (file, _) = parse(text, FileId(0), &Limits::default());
        let at = text.find("lookup(owners)").unwrap() + 8;
        let (kind, name, uses) = same_name(&file, at).unwrap();
        assert_eq!((kind, name.as_str()), (NameKind::Table, "owners"));
        let starts: Vec<usize> = uses.iter().map(|u| u.span.start).collect();
        assert_eq!(
            starts,
            [text.find("owners {").unwrap(), at - 1],
            "the declaration and the lookup, not the comment or the string"
        );
        let deal = text.find("deal.y").unwrap();
        let (_, _, records) = same_name(&file, deal).unwrap();
        assert_eq!(records.len(), 3, "{records:?}");
        assert!(records[0].declaration);
    }
}
