//! Values a mapping names by their labels (`trigger when deal.properties.dealstage == "Closed
//! won"`), followed from the old version of a schema to the new.
//!
//! A literal that is not one of the field's values in the old version but a label of some is a
//! label use: it meant the values the label named then ([`ValueLabels::name`], ids win), and
//! `check` against the new version will read it as the values the label names now. When the
//! label no longer names a value it named (the value was relabelled or removed, or the label
//! went to another value), the rule silently stops meaning it: that breaks the line (M709), as
//! does any change to what a label written into a field names (a field takes that one value).
//! When the label now names more values, a comparison now holds for them too: a warning (M710).

use serde_json::Value;

use super::refs::{How, Uses, ValueUse};
use super::same_field;
use crate::diag::{Code, Diagnostic};
use crate::schema::diff::{Change, ChangeKind, FieldValues};
use crate::schema::labels::{Named, ValueLabels};
use crate::value::json_equal;

/// A value a rule names by its label, and what the label names in each version.
#[derive(Debug, Clone)]
pub(super) struct LabelUse<'a> {
    /// The rule's literal.
    pub used: &'a ValueUse,
    /// The field's values in both versions.
    pub field: &'a FieldValues,
    /// The values the label named in the old version (at least one).
    pub old: Vec<Value>,
    /// The values it names in the new version (the literal itself when it is now a value).
    pub new: Vec<Value>,
}

impl LabelUse<'_> {
    /// True when the label named `value` in the old version.
    pub fn named(&self, value: &Value) -> bool {
        self.old.iter().any(|v| json_equal(v, value))
    }
}

/// Every literal of `uses` that is a label of its field's values in the old version.
pub(super) fn label_uses<'a>(uses: &'a Uses, values: &'a [FieldValues]) -> Vec<LabelUse<'a>> {
    let mut out = Vec::new();
    let by_label = |how: &How| matches!(how, How::Compared | How::Stage | How::Written);
    for used in uses.values.iter().filter(|u| by_label(&u.how)) {
        let Some(field) = values.iter().find(|f| same_field(&used.field, &f.path)) else {
            continue;
        };
        let Named::Label(old) = field.old.name(&used.value) else {
            continue;
        };
        let new = match field.new.name(&used.value) {
            Named::Value { .. } => vec![used.value.clone()],
            Named::Label(ids) => ids,
            Named::Neither => Vec::new(),
        };
        out.push(LabelUse {
            used,
            field,
            old,
            new,
        });
    }
    out
}

/// M709 and M710 for the label uses whose label names other values now; `changes` locate what
/// became of each value.
pub(super) fn diagnostics(label_uses: &[LabelUse<'_>], changes: &[Change]) -> Vec<Diagnostic> {
    label_uses
        .iter()
        .filter_map(|l| for_use(l, changes))
        .collect()
}

fn for_use(label: &LabelUse<'_>, changes: &[Change]) -> Option<Diagnostic> {
    let contains = |list: &[Value], v: &Value| list.iter().any(|x| json_equal(x, v));
    let lost: Vec<&Value> = label
        .old
        .iter()
        .filter(|v| !contains(&label.new, v))
        .collect();
    let gained: Vec<&Value> = label
        .new
        .iter()
        .filter(|v| !contains(&label.old, v))
        .collect();
    let written = matches!(label.used.how, How::Written);
    if !lost.is_empty() {
        return Some(no_longer_names(label, &lost, changes));
    }
    if gained.is_empty() {
        return None;
    }
    let diagnostic = if written {
        now_several_written(label)
    } else {
        now_names_more(label, &gained)
    };
    let located = gained.iter().fold(diagnostic, |d, value| {
        match change_of(changes, label, value) {
            Some(c) if matches!(c.kind, ChangeKind::ValueAdded { .. }) => {
                d.with_optional_label(c.new_span, format!("{value} is added here"))
            }
            Some(c) => d.with_optional_label(c.new_span, format!("{value} is relabelled here")),
            None => d.with_optional_label(label.field.new_span, "the labels in the new schema"),
        }
    });
    Some(located)
}

/// M709: the label no longer names values it named.
fn no_longer_names(label: &LabelUse<'_>, lost: &[&Value], changes: &[Change]) -> Diagnostic {
    let used = label.used;
    let (noun, _) = nouns(&used.how);
    let fates: Vec<String> = lost
        .iter()
        .map(|v| format!("{noun} {v} {}", fate(&label.field.new, v)))
        .collect();
    let relabelled: Vec<&str> = lost
        .iter()
        .filter_map(|v| label.field.new.label(v))
        .collect();
    let ids: Vec<String> = lost.iter().map(|v| v.to_string()).collect();
    let ids = match ids.as_slice() {
        [one] => format!("the id {one}"),
        _ => format!("the ids {}", ids.join(", ")),
    };
    let all: Vec<String> = label.old.iter().map(Value::to_string).collect();
    let help = match relabelled.as_slice() {
        _ if !label.new.is_empty() => format!(
            "the label still names {}; to keep every {noun} the rule meant, write the ids: {}",
            label.new.iter().map(Value::to_string).collect::<Vec<_>>().join(", "),
            all.join(", ")
        ),
        [one, rest @ ..] if rest.iter().all(|r| r == one) && relabelled.len() == lost.len() => {
            format!(
                "write the new label {}, or {ids} (an id stays the same when the vendor relabels a value)",
                quoted(one),
            )
        }
        [] => "the value was deleted in the vendor's system: name the value that replaced it (the new schema lists them)".to_string(),
        _ => format!(
            "write {ids}, or the labels the values have now: an id stays the same when the vendor relabels a value"
        ),
    };
    let mut diagnostic = Diagnostic::new(
        Code::M709,
        used.span,
        format!(
            "the label {} of `{}` no longer names what this rule meant: {}",
            used.value,
            used.display,
            fates.join("; ")
        ),
        "named by its label here",
    );
    for value in lost {
        diagnostic =
            match change_of(changes, label, value) {
                Some(c) if matches!(c.kind, ChangeKind::ValueRemoved { .. }) => diagnostic
                    .with_optional_label(
                        c.old_span,
                        format!("{value} was listed here in the old schema"),
                    ),
                Some(c) => diagnostic
                    .with_optional_label(c.new_span, format!("{value} is relabelled here")),
                None => diagnostic
                    .with_optional_label(label.field.new_span, "the labels in the new schema"),
            };
    }
    diagnostic.with_help(help)
}

/// The change that added, removed or relabelled `value` of the label's field.
fn change_of<'c>(changes: &'c [Change], label: &LabelUse<'_>, value: &Value) -> Option<&'c Change> {
    changes.iter().find(|c| {
        c.path == label.field.path
            && match &c.kind {
                ChangeKind::Relabelled { value: v, .. }
                | ChangeKind::ValueRemoved { value: v, .. }
                | ChangeKind::ValueAdded { value: v, .. } => json_equal(v, value),
                _ => false,
            }
    })
}

/// What became of a value the label named: relabelled, or gone.
fn fate(new: &ValueLabels, value: &Value) -> String {
    match new.entry(value) {
        Some(entry) => match &entry.label {
            Some(label) => format!("is now labelled {}", quoted(label)),
            None => "has no label now".to_string(),
        },
        None => "was removed".to_string(),
    }
}

/// M709: a label written into a field now names several values.
fn now_several_written(label: &LabelUse<'_>) -> Diagnostic {
    let used = label.used;
    let described: Vec<String> = label.new.iter().map(Value::to_string).collect();
    Diagnostic::new(
        Code::M709,
        used.span,
        format!(
            "the label {} now names {} values of `{}`: {}",
            used.value,
            label.new.len(),
            used.display,
            described.join(", ")
        ),
        "named by its label here",
    )
    .with_help(format!(
        "a field takes one value: write the id this rule wrote, {}",
        label
            .old
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// M710: the label now also names new values.
fn now_names_more(label: &LabelUse<'_>, gained: &[&Value]) -> Diagnostic {
    let used = label.used;
    let (noun, plural) = nouns(&used.how);
    let described: Vec<String> = gained
        .iter()
        .map(|v| {
            label
                .field
                .new
                .entry(v)
                .map_or_else(|| v.to_string(), |e| e.describe())
        })
        .collect();
    let kept: Vec<String> = label.old.iter().map(Value::to_string).collect();
    let effect = if used.how == How::Stage {
        "deals at it are now handed off or checked too"
    } else {
        "the comparison now holds for it too"
    };
    Diagnostic::new(
        Code::M710,
        used.span,
        format!(
            "the label {} of `{}` now also names the {} {}",
            used.value,
            used.display,
            if gained.len() == 1 { noun } else { plural },
            described.join(", ")
        ),
        "named by its label here",
    )
    .with_help(format!(
        "a label means every {noun} it names: {effect}. To keep the rule as it was, write the ids it meant: {}",
        kept.join(", ")
    ))
}

/// "stage"/"stages" or "value"/"values".
fn nouns(how: &How) -> (&'static str, &'static str) {
    if *how == How::Stage {
        ("stage", "stages")
    } else {
        ("value", "values")
    }
}

/// `"text"`.
fn quoted(text: &str) -> String {
    Value::String(text.to_string()).to_string()
}
