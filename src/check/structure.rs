//! Counting items: exactly one header, one trigger and one target; at least one source.

use super::context::Context;
use crate::diag::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{Item, MappingFile};

/// What the census found.
pub(crate) struct Census {
    /// The mapping's name ("" when missing).
    pub name: String,
    /// Checklist items in order.
    pub checklist: Vec<String>,
}

/// Counts items, reporting duplicates (M104) and, when the file parsed, missing items (M105).
pub(crate) fn pass(cx: &mut Context<'_>, ast: &MappingFile) -> Census {
    let mut name = None;
    let mut first_seen: [Option<Span>; 3] = [None; 3];
    let mut sources = 0;
    let mut checklist = Vec::new();
    for item in &ast.items {
        let (slot, span, what) = match item {
            Item::Header(ident) => {
                name.get_or_insert_with(|| ident.name.clone());
                (0, ident.span, "`mapping` header")
            }
            Item::Trigger(trigger) => (1, trigger.span, "trigger"),
            Item::Target(record) => (2, record.span, "target record"),
            Item::Source(_) => {
                sources += 1;
                continue;
            }
            Item::Checklist(block) => {
                checklist.extend(block.items.iter().map(|s| s.value.clone()));
                continue;
            }
            _ => continue,
        };
        match first_seen[slot] {
            None => first_seen[slot] = Some(span),
            Some(first) => cx.report(
                Diagnostic::new(
                    Code::M104,
                    span,
                    format!("a mapping has one {what}; this is a second one"),
                    "second declaration",
                )
                .with_label(first, "first declared here")
                .with_help(match slot {
                    1 => "combine the conditions into one trigger with `and` / `or`",
                    2 => "a mapping writes one target record; split it into two mappings",
                    _ => "keep one header",
                }),
            ),
        }
    }
    if !cx.syntax_errors {
        let top = Span::new(cx.file, 0, 0);
        let missing = [
            (
                first_seen[0].is_none(),
                "`mapping NAME` header",
                "start the file with `mapping hubspot_to_accelo`",
            ),
            (
                sources == 0,
                "source record",
                "declare the CRM record: `source deal = schema \"schemas/deal.schema.json\"`",
            ),
            (
                first_seen[2].is_none(),
                "target record",
                "declare the PSA record: `target project = schema \"schemas/project.schema.json\"`",
            ),
            (
                first_seen[1].is_none(),
                "trigger",
                "say which deals are handed off: `trigger when deal.properties.dealstage == \"closedwon\"`",
            ),
        ];
        for (is_missing, what, help) in missing {
            if is_missing {
                cx.report(
                    Diagnostic::new(
                        Code::M105,
                        top,
                        format!("the mapping has no {what}"),
                        format!("no {what} in this file"),
                    )
                    .with_help(help),
                );
            }
        }
    }
    Census {
        name: name.unwrap_or_default(),
        checklist,
    }
}
