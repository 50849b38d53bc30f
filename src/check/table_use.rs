//! Which tables lookups name: a table name in `lookup(...)` (M404 when unknown), its keys against
//! the values the looked-up expression can take (M406, M409), and tables no lookup uses (M405).

use super::context::Context;
use super::labels;
use super::suggest;
use super::tables::TableInfo;
use super::types::ExprInfo;
use crate::diag::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{Call, Ident};
use crate::value::json_equal;

/// Which tables a lookup has named so far (by declaration index).
#[derive(Debug, Clone, Default)]
pub(crate) struct TableUse(Vec<bool>);

impl TableUse {
    /// No table used yet, out of `tables`.
    pub fn new(tables: &[TableInfo]) -> TableUse {
        TableUse(vec![false; tables.len()])
    }

    fn mark(&mut self, index: usize) {
        if let Some(used) = self.0.get_mut(index) {
            *used = true;
        }
    }

    fn is_used(&self, index: usize) -> bool {
        self.0.get(index).copied().unwrap_or(false)
    }
}

/// Resolves a table name in `lookup(...)` (M404 when unknown) and marks it used.
pub(crate) fn table_arg(
    cx: &mut Context<'_>,
    tables: &[TableInfo],
    used: &mut TableUse,
    name: &Ident,
) -> Option<usize> {
    if let Some(index) = tables.iter().position(|t| t.table.name == name.name) {
        used.mark(index);
        return Some(index);
    }
    let names: Vec<&str> = tables.iter().map(|t| t.table.name.as_str()).collect();
    let close = suggest::closest(&name.name, names.iter().copied()).map(str::to_string);
    if let Some(meant) = &close {
        mark_used(tables, used, meant);
    }
    let help = match close.as_deref() {
        Some(close) => format!("did you mean `{close}`?"),
        None if names.is_empty() => "declare it: `table NAME { \"key\" => \"value\" }`".to_string(),
        None => format!(
            "the tables are: {}",
            crate::diag::quoted_list(&names, "and")
        ),
    };
    cx.report(
        Diagnostic::new(
            Code::M404,
            name.span,
            format!("unknown table `{}`", name.name),
            "no table has this name",
        )
        .with_help(help),
    );
    None
}

/// Marks a table as used (also when the lookup naming it has an error, to avoid M405 noise).
pub(crate) fn mark_used(tables: &[TableInfo], used: &mut TableUse, name: &str) {
    if let Some(index) = tables.iter().position(|t| t.table.name == name) {
        used.mark(index);
    }
}

/// Checks a table's keys against the values the looked-up expression can take.
pub(crate) fn check_lookup_keys(
    cx: &mut Context<'_>,
    table: &TableInfo,
    call: &Call,
    info: &ExprInfo,
    described: &str,
) {
    let Some(values) = info.ty.values.clone() else {
        return;
    };
    if table.broken {
        return;
    }
    let allowed: Vec<String> = values.iter().map(|v| v.value.to_string()).collect();
    let keys = &table.keys;
    for (key, span) in keys {
        if values.iter().any(|v| json_equal(&v.value, key)) {
            continue;
        }
        let candidates: Vec<&str> = values.iter().filter_map(|v| v.value.as_str()).collect();
        let close = key
            .as_str()
            .and_then(|k| suggest::closest(k, candidates.iter().copied()));
        let labels = info
            .ty
            .schema
            .as_ref()
            .and_then(|flat| labels::of(cx, flat));
        let help = match (labels::unresolved_hint(labels.as_ref(), key), close) {
            (Some(hint), _) => hint,
            (None, Some(close)) => format!(
                "did you mean \"{close}\"? the values are {}",
                allowed.join(", ")
            ),
            (None, None) => format!(
                "the values of `{described}` are {}; remove the row or fix the key",
                allowed.join(", ")
            ),
        };
        cx.report(
            Diagnostic::new(
                Code::M406,
                *span,
                format!("table key {key} is not a value of `{described}`"),
                "can never match",
            )
            .with_label(call.span, "looked up here")
            .with_help(help),
        );
    }
    if table.table.default.is_some() {
        return;
    }
    let uncovered: Vec<String> = values
        .iter()
        .filter(|v| !keys.iter().any(|(k, _)| json_equal(k, &v.value)))
        .map(|v| v.value.to_string())
        .collect();
    if !uncovered.is_empty() {
        let name = table.table.name.clone();
        let declared = table.name_span;
        cx.report(
            Diagnostic::new(
                Code::M409,
                call.span,
                format!("table `{name}` has no row for {}", uncovered.join(", ")),
                "deals with these values will be rejected",
            )
            .with_label(declared, "table declared here")
            .with_help("add rows for these values, or a `_` row for everything else"),
        );
    }
}

/// Warns about tables no lookup uses (M405).
pub(crate) fn report_unused(cx: &mut Context<'_>, tables: &[TableInfo], used: &TableUse) {
    if cx.syntax_errors {
        return;
    }
    let unused: Vec<(String, Span)> = tables
        .iter()
        .enumerate()
        .filter(|(index, _)| !used.is_used(*index))
        .map(|(_, t)| (t.table.name.clone(), t.name_span))
        .collect();
    for (name, span) in unused {
        cx.report(
            Diagnostic::new(
                Code::M405,
                span,
                format!("table `{name}` is never used"),
                "no lookup uses this table",
            )
            .with_help(format!("use it with `| lookup({name})`, or delete it")),
        );
    }
}
