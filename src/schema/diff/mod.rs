//! What changed between two versions of a schema: fields added, removed or retyped, enum values
//! added, removed or relabelled, required changed, stages moved between pipelines.
//!
//! Both versions are compiled as `check` compiles them (so `$ref`, `allOf` and `anyOf` are
//! folded into each field's effective constraints, [`Flat`]) and walked side by side from the
//! root (`walk.rs`). Labels and pipelines are read from the `x-mapctl-*` annotations an import
//! writes (`schema::import`); [`compare`] also hands back every labelled field's values in both
//! versions ([`FieldValues`]), so that a mapping naming a value by its label can be followed.
//! An array whose items are an `anyOf` told apart by one constant member (Copper's custom
//! fields) is compared branch by branch, each named by that member's value, the way mappings
//! name them: `custom_fields[custom_field_definition_id == 5001]`.
//! Nothing here knows about mappings; `ops::drift` finds the mapping lines a change affects.

mod walk;

use serde_json::Value;

use crate::source::{SourceMap, Span};
use crate::syntax::ast::is_plain_name;
use crate::value::Kinds;

use super::labels::ValueLabels;
use super::{NodeId, SchemaSet};

/// One version of a schema: its compiled set and root.
#[derive(Clone, Copy)]
pub struct Version<'a> {
    /// The compiled documents.
    pub set: &'a SchemaSet,
    /// The root node.
    pub root: NodeId,
}

/// One step of a field's path from the record's root.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// A property.
    Field(String),
    /// Any element of an array.
    Items,
    /// The elements of an array whose member `key` equals `value`.
    Where {
        /// The member that tells the elements apart.
        key: String,
        /// Its value.
        value: Value,
    },
}

/// A field's path, shown as mappings write it after the record name (`properties.dealstage`).
pub fn display(path: &[Step]) -> String {
    let mut out = String::new();
    for step in path {
        match step {
            Step::Field(name) if is_plain_name(name) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(name);
            }
            Step::Field(name) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(&Value::String(name.clone()).to_string());
            }
            Step::Items => out.push_str("[]"),
            Step::Where { key, value } => out.push_str(&format!("[{key} == {value}]")),
        }
    }
    out
}

/// A field's type as the diff compares it: kinds, enumeration, format, patterns and the
/// vendor's type name.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldType {
    /// The kinds a value may have.
    pub kinds: Kinds,
    /// True when the values are enumerated.
    pub enumerated: bool,
    /// `format`.
    pub format: Option<String>,
    /// `pattern`s.
    pub patterns: Vec<String>,
    /// The vendor's name for the type (`x-mapctl-vendor-type`), when the schema was imported.
    pub vendor: Option<String>,
}

impl FieldType {
    /// In words: "string or null, pattern `^[0-9]+$` (HubSpot number/number)".
    pub fn describe(&self) -> String {
        let mut out = self.kinds.describe();
        if self.enumerated {
            out.push_str(", enumerated");
        }
        if let Some(format) = &self.format {
            out.push_str(&format!(", format {format}"));
        }
        for pattern in &self.patterns {
            out.push_str(&format!(", pattern `{pattern}`"));
        }
        if let Some(vendor) = &self.vendor {
            out.push_str(&format!(" ({vendor})"));
        }
        out
    }
}

/// What changed about a field.
#[derive(Debug, Clone, PartialEq)]
pub enum ChangeKind {
    /// The field is new; `required` when the new version requires it.
    Added {
        /// The new version requires it.
        required: bool,
    },
    /// The field is gone.
    Removed,
    /// Its type changed.
    Retyped {
        /// Before.
        old: FieldType,
        /// After.
        new: FieldType,
    },
    /// An enum value is new.
    ValueAdded {
        /// The value.
        value: Value,
        /// Its label, when the schema has one.
        label: Option<String>,
    },
    /// An enum value is gone.
    ValueRemoved {
        /// The value.
        value: Value,
        /// Its label in the old version, when known.
        label: Option<String>,
    },
    /// An enum value kept its id but has a new label.
    Relabelled {
        /// The value.
        value: Value,
        /// The old label.
        old: String,
        /// The new label.
        new: String,
    },
    /// A stage now belongs to other pipelines.
    StageMoved {
        /// The stage.
        value: Value,
        /// Its pipelines before.
        old: Vec<String>,
        /// Its pipelines after.
        new: Vec<String>,
    },
    /// An existing field is now required.
    NowRequired,
    /// A field is no longer required.
    NoLongerRequired,
}

/// One change, at a field, with where it is written in the old and the new file.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The field, from the record's root.
    pub path: Vec<Step>,
    /// What changed.
    pub kind: ChangeKind,
    /// Where the old version says what it said (absent for additions).
    pub old_span: Option<Span>,
    /// Where the new version says it (absent for removals).
    pub new_span: Option<Span>,
}

impl Change {
    /// One line: the field and what happened to it.
    pub fn describe(&self) -> String {
        let field = display(&self.path);
        let field = if field.is_empty() {
            "(root)".to_string()
        } else {
            field
        };
        let what = match &self.kind {
            ChangeKind::Added { required: true } => "added (required)".to_string(),
            ChangeKind::Added { required: false } => "added".to_string(),
            ChangeKind::Removed => "removed".to_string(),
            ChangeKind::Retyped { old, new } => {
                format!("type changed from {} to {}", old.describe(), new.describe())
            }
            ChangeKind::ValueAdded { value, label } => {
                format!("value {} added", labelled(value, label))
            }
            ChangeKind::ValueRemoved { value, label } => {
                format!("value {} removed", labelled(value, label))
            }
            ChangeKind::Relabelled { value, old, new } => format!(
                "value {value} relabelled from {} to {}",
                Value::String(old.clone()),
                Value::String(new.clone())
            ),
            ChangeKind::StageMoved { value, old, new } => format!(
                "stage {value} moved from pipeline {} to {}",
                old.join(", "),
                new.join(", ")
            ),
            ChangeKind::NowRequired => "now required".to_string(),
            ChangeKind::NoLongerRequired => "no longer required".to_string(),
        };
        format!("{field}: {what}")
    }

    /// A short name of the kind of change, for machine-readable output.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            ChangeKind::Added { .. } => "field_added",
            ChangeKind::Removed => "field_removed",
            ChangeKind::Retyped { .. } => "field_retyped",
            ChangeKind::ValueAdded { .. } => "value_added",
            ChangeKind::ValueRemoved { .. } => "value_removed",
            ChangeKind::Relabelled { .. } => "value_relabelled",
            ChangeKind::StageMoved { .. } => "stage_moved",
            ChangeKind::NowRequired => "now_required",
            ChangeKind::NoLongerRequired => "no_longer_required",
        }
    }
}

/// `"closedwon" ("Closed won")`; the label is left out when it is the value itself.
pub fn labelled(value: &Value, label: &Option<String>) -> String {
    match label {
        Some(label) if value.as_str() != Some(label) => {
            format!("{value} ({})", Value::String(label.clone()))
        }
        _ => value.to_string(),
    }
}

/// The values of an enumerated field in both versions, with their labels: what a label a
/// mapping names named before and names now.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldValues {
    /// The field, from the record's root.
    pub path: Vec<Step>,
    /// Its values and labels in the old version.
    pub old: ValueLabels,
    /// Its values and labels in the new version.
    pub new: ValueLabels,
    /// Where the new version writes the labels (or the field).
    pub new_span: Option<Span>,
}

/// What changed from one version to the other, and the labelled values of each enumerated
/// field both have.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Diff {
    /// The changes, in the order the fields are declared (old fields first).
    pub changes: Vec<Change>,
    /// The enumerated fields of both versions that have labels in either.
    pub values: Vec<FieldValues>,
}

/// Every change from `old` to `new`, in the order the fields are declared (old fields first).
pub fn diff(sources: &SourceMap, old: Version<'_>, new: Version<'_>) -> Vec<Change> {
    compare(sources, old, new).changes
}

/// The changes from `old` to `new`, with the labelled values of the fields both have (for
/// mappings that name values by their labels).
pub fn compare(sources: &SourceMap, old: Version<'_>, new: Version<'_>) -> Diff {
    let (changes, values) = walk::Walker::new(sources, old, new).run();
    Diff { changes, values }
}
