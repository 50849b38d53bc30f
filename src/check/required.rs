//! Required target fields that no rule writes (M303), looked for under every object a rule
//! writes part of.

use std::rc::Rc;

use super::context::Context;
use super::program::RecordRef;
use super::records::Record;
use super::suggest;
use super::writes::Written;
use crate::diag::{Code, Diagnostic};
use crate::schema::Flat;
use crate::source::Span;

/// M303: required target fields that no rule writes. `written` are the target fields the
/// rules write; `failed` the target paths that did not resolve, up to the unknown field (so
/// that M303 does not repeat an M301: `project.client.nmae` meant to write `client.name`).
pub(crate) fn pass(
    cx: &mut Context<'_>,
    records: &[Record],
    written: &[Written],
    failed: &[Vec<String>],
) {
    if cx.syntax_errors {
        return;
    }
    let Some(record) = records.iter().find(|r| r.role == RecordRef::Target) else {
        return;
    };
    let Some(root) = record.root else {
        return;
    };
    let flat = cx.flat(root);
    let walk = Walk {
        written,
        failed,
        record: &record.name,
        at: record.name_span,
    };
    walk.required_under(cx, &flat, &mut vec![]);
}

/// The required fields under one object, looked for in what was written.
struct Walk<'a> {
    written: &'a [Written],
    failed: &'a [Vec<String>],
    record: &'a str,
    at: Span,
}

impl Walk<'_> {
    fn required_under(&self, cx: &mut Context<'_>, flat: &Rc<Flat>, prefix: &mut Vec<String>) {
        if prefix.len() > 16 {
            return;
        }
        for name in flat.required.clone() {
            prefix.push(name.clone());
            let whole = self.written.iter().any(|w| prefix.starts_with(&w.fields));
            let partial = self.written.iter().any(|w| w.fields.starts_with(prefix));
            let child = flat
                .properties
                .get(&name)
                .map(|dnf| cx.flattener.dnf(&cx.schemas, dnf));
            if whole {
            } else if partial {
                if let Some(child) = child {
                    self.required_under(cx, &child, prefix);
                }
            } else if !child.as_ref().is_some_and(|c| c.has_default)
                && !meant_by_failed_write(prefix, self.failed)
            {
                let display = format!("{}.{}", self.record, prefix.join("."));
                let entry = cx.required_span(flat, &name);
                cx.report(
                    Diagnostic::new(Code::M303, self.at, format!("required field `{display}` is not written by any rule"), format!("`{display}` is never written"))
                        .with_optional_label(entry, format!("the PSA schema requires `{name}` here"))
                        .with_help(format!("add `{display} = ...` to a map block (or a select): the PSA refuses records without it")),
                );
            }
            prefix.pop();
        }
    }
}

/// True when a failed write was aimed at `prefix` (same parents; the same or a close name),
/// or inside it.
fn meant_by_failed_write(prefix: &[String], failed: &[Vec<String>]) -> bool {
    let depth = prefix.len() - 1;
    failed.iter().any(|path| {
        path.len() > depth
            && path[..depth] == prefix[..depth]
            && (path[depth] == prefix[depth]
                || suggest::closest(&path[depth], [prefix[depth].as_str()]).is_some())
    })
}
