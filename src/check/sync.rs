//! `sync back` rules: they write the primary CRM record (M110) from the target record; a CRM
//! field that also feeds a forward rule needs `owner psa` (M310), and `owner crm` is refused
//! (M111) because it would make the rule do nothing.

use super::compat::{self, Field};
use super::context::Context;
use super::exprs::{Env, Scope};
use super::paths::{self, Allowed};
use super::program::{PathStep, RecordRef, SyncWrite};
use super::types::Read;
use crate::diag::{Code, Diagnostic};
use crate::syntax::ast::{Assignment, Item, MappingFile};

/// Checks every sync back rule against what the forward rules read.
pub(crate) fn pass(
    cx: &mut Context<'_>,
    mut env: Env<'_>,
    forward_reads: &[Read],
    ast: &MappingFile,
) -> Vec<SyncWrite> {
    let mut out: Vec<SyncWrite> = Vec::new();
    let mut seen: Vec<(Vec<PathStep>, crate::source::Span)> = Vec::new();
    for item in &ast.items {
        let Item::SyncBack(block) = item else {
            continue;
        };
        for assignment in &block.assignments {
            let Some(write) = sync_rule(cx, &mut env, forward_reads, assignment) else {
                continue;
            };
            if let Some((_, first)) = seen.iter().find(|(fields, _)| *fields == write.target) {
                let first = *first;
                cx.report(
                    Diagnostic::new(
                        Code::M302,
                        assignment.target.span,
                        format!("`{}` is synced back twice", write.display),
                        "written again here",
                    )
                    .with_label(first, "first written here")
                    .with_help("keep one sync back rule per CRM field"),
                );
                continue;
            }
            seen.push((write.target.clone(), assignment.target.span));
            out.push(write);
        }
    }
    out
}

fn sync_rule(
    cx: &mut Context<'_>,
    env: &mut Env<'_>,
    forward_reads: &[Read],
    assignment: &Assignment,
) -> Option<SyncWrite> {
    let resolved = paths::resolve(cx, env.records, &assignment.target, Allowed::Source);
    let value = env.expr(cx, &assignment.value, Scope::Back);
    let (resolved, (cexpr, info)) = (resolved?, value?);
    if resolved.cpath.record != RecordRef::Source(0) {
        let primary = env
            .records
            .iter()
            .find(|r| r.role == RecordRef::Source(0))
            .map(|r| r.name.clone())
            .unwrap_or_default();
        cx.report(
                Diagnostic::new(Code::M110, assignment.target.root.span, format!("sync back writes the primary record `{primary}` only"), "not the primary record")
                    .with_help("sync back rules update the deal the project came from; related records are not written"),
            );
        return None;
    }
    if resolved
        .cpath
        .steps
        .iter()
        .any(|s| matches!(s, PathStep::Index(_)))
    {
        cx.report(
                Diagnostic::new(
                    Code::M110,
                    assignment.target.span,
                    "sync back cannot write through an array index",
                    "which element would be updated is not known",
                )
                .with_help("name the element by a key instead, e.g. `deal.custom_fields[custom_field_definition_id == 6001].value`"),
            );
        return None;
    }
    let name = match resolved.cpath.steps.last() {
        Some(PathStep::Field(name)) => name.clone(),
        _ => String::new(),
    };
    let field = Field {
        display: &resolved.cpath.display,
        flat: &resolved.flat,
        parent: resolved.parent.as_deref(),
        name: &name,
    };
    compat::check(cx, &assignment.value, &info, &field, None);
    check_ownership(cx, forward_reads, assignment, &resolved.read)?;
    Some(SyncWrite {
        target: resolved.cpath.steps.clone(),
        display: resolved.cpath.display.clone(),
        value: cexpr,
        origin: cx.origin(assignment.span),
    })
}

fn check_ownership(
    cx: &mut Context<'_>,
    forward_reads: &[Read],
    assignment: &Assignment,
    written: &Read,
) -> Option<()> {
    match assignment.owner.as_ref().map(|o| o.name.as_str()) {
        Some("psa") => return Some(()),
        Some(_) => {
            let span = assignment
                .owner
                .as_ref()
                .map_or(assignment.span, |o| o.span);
            cx.report(
                    Diagnostic::new(Code::M111, span, "`owner crm` on a sync back rule means it never writes", "the CRM cannot own a field the PSA writes back")
                        .with_help("declare `owner psa` to let the PSA win, or delete the rule to keep the CRM in charge"),
                );
            return None;
        }
        None => {}
    }
    let forward = forward_reads
        .iter()
        .find(|r| r.overlaps(written.record, &written.steps))
        .map(|r| (r.span, r.display.clone()));
    if let Some((span, display)) = forward {
        let route = if display == written.display {
            "a forward rule reads it".to_string()
        } else {
            format!("it also feeds the PSA through `{display}`")
        };
        cx.report(
                Diagnostic::new(
                    Code::M310,
                    assignment.target.span,
                    format!("`{}` is synced back from the PSA, but {route}", written.display),
                    "flows back here",
                )
                .with_label(span, "flows forward here")
                .with_help("each system would overwrite the other: add `owner psa` to this rule to let the PSA win, or delete the rule to keep the CRM in charge"),
            );
        return None;
    }
    Some(())
}
