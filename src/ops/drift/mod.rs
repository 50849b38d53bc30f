//! Schema drift: for each change between two versions of a record's schema
//! (`schema::diff`), the mapping lines it breaks or affects, as diagnostics (M7xx).
//!
//! The mapping is read from its syntax tree (`refs.rs`), so a mapping that no longer checks is
//! still read. A change breaks a line (an error) when `mapctl check` against the new schema
//! would refuse that line: a field it names is gone or has a type the rule cannot take, a value
//! it names is gone, a field the target now requires is written by no rule. Other changes to a
//! field a rule uses are warnings: relabelled values and moved stages (ids unchanged), new
//! values an inline table does not cover, and changes whose effect depends on values only
//! `check` can see. Changes no rule touches produce no diagnostic; they are in the report.
//!
//! A value a rule names by its label (`"Closed won"`) is followed through the labels of both
//! versions (`labels.rs`): the rule breaks when its label no longer names a value it named
//! (M709) and is affected when the label names more (M710); a stage it names that moved is
//! reported as for an id (M707).

mod labels;
pub mod refs;

use serde_json::Value;

use crate::diag::{self, Code, Diagnostic};
use crate::schema::diff::{Change, ChangeKind, Diff, FieldType, Step};
use crate::source::Span;
use crate::syntax::ast::MappingFile;
use crate::value::Kinds;
use crate::value::json_equal;
use labels::LabelUse;
use refs::{How, PathUse, RefStep, Uses, ValueUse};

/// The record of a mapping whose schema changed.
#[derive(Debug, Clone)]
pub struct Record<'a> {
    /// The mapping's syntax tree.
    pub ast: &'a MappingFile,
    /// The record's name (`deal`).
    pub name: &'a str,
    /// True for the target record.
    pub is_target: bool,
    /// Where the record is declared (its name).
    pub declared: Span,
}

/// The diagnostics of every change for the mapping lines that use `record`, sorted.
pub fn diagnostics(record: &Record<'_>, diff: &Diff) -> Vec<Diagnostic> {
    let uses = refs::collect(record.ast, record.name);
    let by_label = labels::label_uses(&uses, &diff.values);
    let mut out = labels::diagnostics(&by_label, &diff.changes);
    for change in &diff.changes {
        out.extend(for_change(record, &uses, &by_label, change));
    }
    diag::sort(&mut out);
    out.dedup_by(|a, b| {
        a.code == b.code && a.primary.span == b.primary.span && a.message == b.message
    });
    out
}

fn for_change(
    record: &Record<'_>,
    uses: &Uses,
    by_label: &[LabelUse<'_>],
    change: &Change,
) -> Vec<Diagnostic> {
    let field = format!(
        "{}.{}",
        record.name,
        crate::schema::diff::display(&change.path)
    );
    match &change.kind {
        ChangeKind::Removed => removed(uses, change),
        ChangeKind::Retyped { old, new } => retyped(uses, change, old, new),
        ChangeKind::ValueRemoved { value, label } => {
            let named_by_label = by_label
                .iter()
                .any(|l| same_field(&l.used.field, &change.path) && l.named(value));
            value_removed(record, uses, change, value, label, named_by_label)
        }
        ChangeKind::ValueAdded { value, .. } => value_added(uses, change, value, &field),
        ChangeKind::Relabelled { value, old, new } => {
            let message = |u: &ValueUse| {
                format!(
                    "{} {value} of `{}` is now labelled {} (was {})",
                    noun(u),
                    u.display,
                    quoted(new),
                    quoted(old)
                )
            };
            named_value(
                uses,
                &[],
                change,
                value,
                Code::M706,
                message,
                "its id is unchanged, so nothing breaks: check that the rule still means what people now call it",
            )
        }
        ChangeKind::StageMoved { value, old, new } => {
            let message = |u: &ValueUse| {
                format!(
                    "{} {value} of `{}` moved from pipeline {} to {}",
                    noun(u),
                    u.display,
                    old.join(", "),
                    new.join(", ")
                )
            };
            named_value(
                uses,
                by_label,
                change,
                value,
                Code::M707,
                message,
                "deals now reach this stage in another pipeline: check that the rule should still fire for them",
            )
        }
        ChangeKind::NowRequired | ChangeKind::Added { required: true } if record.is_target => {
            now_required(record, uses, change, &field)
        }
        ChangeKind::NoLongerRequired if !record.is_target => {
            let message = |p: &PathUse| {
                format!(
                    "`{}` is no longer required by the schema: it may now be absent",
                    p.display
                )
            };
            path_warnings(
                uses,
                change,
                message,
                "a rule that needs the value should be covered by a `require` rule (check reports M204 where it must)",
            )
        }
        _ => Vec::new(),
    }
}

/// `"text"`.
fn quoted(text: &str) -> String {
    Value::String(text.to_string()).to_string()
}

/// "the stage" / "the value", for messages.
fn noun(u: &ValueUse) -> &'static str {
    if u.how == How::Stage {
        "the stage"
    } else {
        "the value"
    }
}

/// Whether a mapping step names the schema step.
fn step_matches(used: &RefStep, changed: &Step) -> bool {
    match (used, changed) {
        (RefStep::Field(a), Step::Field(b)) => a == b,
        (RefStep::Index | RefStep::Search { .. }, Step::Items) => true,
        (RefStep::Search { key, value }, Step::Where { key: k, value: v }) => {
            key == k && json_equal(value, v)
        }
        _ => false,
    }
}

/// True when `used` names the changed field or a field inside it.
fn at_or_under(used: &[RefStep], changed: &[Step]) -> bool {
    used.len() >= changed.len() && used.iter().zip(changed).all(|(u, c)| step_matches(u, c))
}

/// True when `used` names exactly the changed field.
fn same_field(used: &[RefStep], changed: &[Step]) -> bool {
    used.len() == changed.len() && at_or_under(used, changed)
}

fn removed(uses: &Uses, change: &Change) -> Vec<Diagnostic> {
    uses.paths
        .iter()
        .filter(|p| at_or_under(&p.steps, &change.path))
        .map(|p| {
            Diagnostic::new(
                Code::M701,
                p.span,
                format!("`{}` is not in the new schema", p.display),
                "removed from the schema",
            )
            .with_optional_label(change.old_span, "declared here in the old schema")
            .with_help("the field was deleted or renamed in the vendor's system: use the field that replaced it, or remove the rule")
        })
        .collect()
}

/// A type change breaks a read that may now meet a kind it never met, and a write whose values
/// the field may no longer accept; anything else (nullability, format, pattern, enumeration,
/// the vendor's type name) is a warning: `check` decides.
fn retyped(uses: &Uses, change: &Change, old: &FieldType, new: &FieldType) -> Vec<Diagnostic> {
    let values = |t: &FieldType| t.kinds.without(Kinds::NULL);
    let widened = !values(new).without(values(old)).is_none();
    let narrowed = !values(old).without(values(new)).is_none();
    let describe = format!("from {} to {}", old.describe(), new.describe());
    uses.paths
        .iter()
        .filter(|p| at_or_under(&p.steps, &change.path))
        .map(|p| {
            let breaks = if p.writes { narrowed } else { widened };
            let code = if breaks { Code::M702 } else { Code::M705 };
            let label = if breaks { "the rule was checked for the old type" } else { "check this rule against the new type" };
            Diagnostic::new(code, p.span, format!("the type of `{}` changed {describe}", p.display), label)
                .with_optional_label(change.new_span, "the new type")
                .with_help(if breaks {
                    "convert the value to what the rule expects (e.g. `| number`, `| string`), or change the rule; `mapctl check` against the new schema shows what fails"
                } else {
                    "run `mapctl check` against the new schema: it decides whether the rule still fits"
                })
        })
        .collect()
}

/// M703 for every literal naming the removed value; when none does (and no label use named it,
/// which M709 reports), M705 for the target's writes whose values the diff cannot see.
fn value_removed(
    record: &Record<'_>,
    uses: &Uses,
    change: &Change,
    value: &Value,
    label: &Option<String>,
    named_by_label: bool,
) -> Vec<Diagnostic> {
    let shown = crate::schema::diff::labelled(value, label);
    let mut out: Vec<Diagnostic> = uses
        .values
        .iter()
        .filter(|u| same_field(&u.field, &change.path) && json_equal(&u.value, value))
        .map(|u| {
            let message = match &u.how {
                How::Stage => format!("the stage {shown} is no longer a stage of `{}`", u.display),
                How::TableKey(table) => format!("table `{table}` has a row for {shown}, which `{}` no longer has", u.display),
                How::TableValue(_) | How::Written => format!("`{}` no longer accepts {shown}", u.display),
                How::Compared => format!("`{}` no longer has the value {shown}", u.display),
            };
            Diagnostic::new(Code::M703, u.span, message, "removed from the field's values")
                .with_optional_label(change.old_span, "listed here in the old schema")
                .with_help("the value was deleted or renamed in the vendor's system: use the value that replaced it (the new schema lists them)")
        })
        .collect();
    if out.is_empty() && record.is_target && !named_by_label {
        out.extend(unknown_writes(uses, change, &shown));
    }
    out
}

/// Writes into a target field whose values the diff cannot see (a table file, a transform).
fn unknown_writes(uses: &Uses, change: &Change, shown: &str) -> Vec<Diagnostic> {
    let message = |p: &PathUse| {
        format!(
            "`{}` no longer accepts {shown}, and this rule's values are known only to `check`",
            p.display
        )
    };
    path_warnings_where(
        uses,
        change,
        |p| p.writes,
        message,
        "run `mapctl check` against the new schema to see whether the rule can still write the value",
    )
}

fn value_added(uses: &Uses, change: &Change, value: &Value, field: &str) -> Vec<Diagnostic> {
    uses.lookups
        .iter()
        .filter(|l| same_field(&l.field, &change.path))
        .filter(|l| !l.has_default && !l.keys.iter().any(|k| json_equal(k, value)))
        .map(|l| {
            Diagnostic::new(
                Code::M708,
                l.table,
                format!("table `{}` has no row for {value}, a new value of `{field}`", l.name),
                "no row for the new value",
            )
            .with_label(l.span, format!("`{}` is looked up here", l.display))
            .with_optional_label(change.new_span, "the new value")
            .with_help(format!("add a row for {value} (or a default row `_ => ...`), so that deals with it are handed off instead of rejected"))
        })
        .collect()
}

/// A diagnostic for every use of `value` of the changed field: by id, or by a label that named
/// it (among `by_label`).
fn named_value(
    uses: &Uses,
    by_label: &[LabelUse<'_>],
    change: &Change,
    value: &Value,
    code: Code,
    message: impl Fn(&ValueUse) -> String,
    help: &str,
) -> Vec<Diagnostic> {
    let labelled = by_label.iter().filter(|l| l.named(value)).map(|l| l.used);
    uses.values
        .iter()
        .filter(|u| json_equal(&u.value, value))
        .chain(labelled)
        .filter(|u| same_field(&u.field, &change.path))
        .map(|u| {
            Diagnostic::new(code, u.span, message(u), "named here")
                .with_optional_label(change.new_span, "changed here in the new schema")
                .with_help(help)
        })
        .collect()
}

fn now_required(record: &Record<'_>, uses: &Uses, change: &Change, field: &str) -> Vec<Diagnostic> {
    let written = uses
        .paths
        .iter()
        .any(|p| p.writes && same_field(&p.steps, &change.path));
    if !written {
        return vec![Diagnostic::new(
            Code::M704,
            record.declared,
            format!("the new schema requires `{field}`, and no rule writes it"),
            "the target record",
        )
        .with_optional_label(change.new_span, "required here")
        .with_help(format!("write `{field}` in a `map` or a `select` (with `otherwise`), or every record will be rejected"))];
    }
    let message = |p: &PathUse| {
        format!(
            "`{}` is now required: a deal whose value is absent will be rejected",
            p.display
        )
    };
    path_warnings_where(
        uses,
        change,
        |p| p.writes,
        message,
        "make sure the value is always present (a `require` rule, a default); `mapctl check` reports M204 where it may be absent",
    )
}

fn path_warnings(
    uses: &Uses,
    change: &Change,
    message: impl Fn(&PathUse) -> String,
    help: &str,
) -> Vec<Diagnostic> {
    path_warnings_where(uses, change, |p| !p.writes, message, help)
}

/// An M705 for every use of exactly the changed field that `keep` selects.
fn path_warnings_where(
    uses: &Uses,
    change: &Change,
    keep: impl Fn(&PathUse) -> bool,
    message: impl Fn(&PathUse) -> String,
    help: &str,
) -> Vec<Diagnostic> {
    uses.paths
        .iter()
        .filter(|p| keep(p) && same_field(&p.steps, &change.path))
        .map(|p| {
            Diagnostic::new(Code::M705, p.span, message(p), "check this rule")
                .with_optional_label(change.new_span.or(change.old_span), "changed here")
                .with_help(help)
        })
        .collect()
}
