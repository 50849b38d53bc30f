//! `mapctl schema import`: the vendors' own metadata responses, saved to files, turned into the
//! JSON Schemas (draft 2020-12) that `mapctl check` and `apply` read.
//!
//! One file per vendor: [`hubspot`] (properties and pipelines), [`zoho`] (fields, layouts and
//! pipelines), [`copper`] (custom field definitions and pipelines) on the CRM side; [`accelo`]
//! and [`harvest`] on the PSA side, where mapctl ships the write-side (create request) schemas
//! and an import adds the account's reference data. Each importer walks its responses through
//! [`input::Node`], so a response of the wrong shape is refused naming the file and the JSON
//! pointer; nothing here panics on input.
//!
//! What the vendors say about a field but JSON Schema has no word for travels as annotations in
//! one vocabulary, the `x-mapctl-*` keywords below (documented in `docs/schemas.md`); standard
//! annotations (`title` for the vendor's label, `description`, `readOnly`) are used where they
//! fit. Output is canonical ([`render`]): object keys sorted, arrays in the vendor's display
//! order, two-space indentation and a final newline, so importing the same metadata twice gives
//! the same bytes and a changed response shows as a small `git diff`.

pub mod accelo;
pub mod copper;
pub mod harvest;
pub mod hubspot;
pub mod input;
pub mod psa;
pub mod zoho;

use serde_json::{Map, Value, json};

pub use input::{ImportError, Input, Node};

/// The JSON Schema dialect of every imported schema.
pub const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";
/// Enum values' labels: an object from the value (a string as is, a number as its JSON text) to
/// the label the vendor shows.
pub const LABELS: &str = "x-mapctl-labels";
/// Enum values the vendor hides from pickers (still valid in records).
pub const HIDDEN: &str = "x-mapctl-hidden";
/// Reference data the account lists as inactive, left out of the enum: `{id: label}`.
pub const INACTIVE: &str = "x-mapctl-inactive";
/// For a stage field: the pipelines each stage belongs to, `{stage: [pipeline, ...]}`.
pub const PIPELINES: &str = "x-mapctl-pipelines";
/// What a field is to the handoff: `"stage"` or `"pipeline"`.
pub const ROLE: &str = "x-mapctl-role";
/// True for a field the account defined (not one of the vendor's own).
pub const CUSTOM: &str = "x-mapctl-custom";
/// True for a field whose value the vendor computes.
pub const CALCULATED: &str = "x-mapctl-calculated";
/// The vendor's own name for the field's type (`number/number`, `picklist`, `Dropdown`).
pub const VENDOR_TYPE: &str = "x-mapctl-vendor-type";
/// The kind of record a reference field points at (`OWNER`, `Accounts`).
pub const REFERENCES: &str = "x-mapctl-references";
/// The vendor's group or section of the field.
pub const GROUP: &str = "x-mapctl-group";
/// The currency of a money field, when the vendor fixes one per field.
pub const CURRENCY: &str = "x-mapctl-currency";
/// Layouts in which the field is mandatory (Zoho).
pub const LAYOUT_REQUIRED: &str = "x-mapctl-layout-required";
/// Custom fields set by separate calls after a create (Accelo profile fields).
pub const PROFILE_FIELDS: &str = "x-mapctl-profile-fields";
/// On the root: which vendor, object and responses the schema was imported from.
pub const IMPORT: &str = "x-mapctl-import";

/// One value of an enumerated field.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// The value records hold.
    pub value: Value,
    /// The label the vendor shows for it.
    pub label: Option<String>,
    /// True when the vendor hides it from pickers.
    pub hidden: bool,
}

impl Choice {
    /// A visible value with a label.
    pub fn labelled(value: Value, label: &str) -> Choice {
        Choice {
            value,
            label: Some(label.to_string()),
            hidden: false,
        }
    }
}

/// The key a value has in an `x-mapctl-labels` object: a string as is, anything else as JSON.
pub fn label_key(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Adds `enum` (the values in order, each once, then `null` when `nullable`) with their labels
/// and hidden values as annotations.
pub fn enumerate(schema: &mut Map<String, Value>, choices: &[Choice], nullable: bool) {
    let mut values: Vec<Value> = Vec::new();
    let mut labels = Map::new();
    let mut hidden = Vec::new();
    for choice in choices {
        if values.contains(&choice.value) {
            continue;
        }
        values.push(choice.value.clone());
        if let Some(label) = &choice.label {
            labels.insert(label_key(&choice.value), Value::String(label.clone()));
        }
        if choice.hidden {
            hidden.push(choice.value.clone());
        }
    }
    if nullable {
        values.push(Value::Null);
    }
    schema.insert("enum".into(), Value::Array(values));
    if !labels.is_empty() {
        schema.insert(LABELS.into(), Value::Object(labels));
    }
    if !hidden.is_empty() {
        schema.insert(HIDDEN.into(), Value::Array(hidden));
    }
}

/// `"type"` for one JSON type, or it and null.
pub fn json_type(name: &str, nullable: bool) -> Value {
    if nullable {
        json!([name, "null"])
    } else {
        json!(name)
    }
}

/// A schema object from `pairs`, leaving out `null` values and empty strings.
pub fn object(pairs: Vec<(&str, Value)>) -> Map<String, Value> {
    pairs
        .into_iter()
        .filter(|(_, v)| !v.is_null() && v.as_str() != Some(""))
        .map(|(k, v)| (k.to_string(), v))
        .collect()
}

/// Sets `key` to `true` when `on`.
pub fn mark(schema: &mut Map<String, Value>, key: &str, on: bool) {
    if on {
        schema.insert(key.into(), Value::Bool(true));
    }
}

/// Where a schema was imported from, for the root's `x-mapctl-import`.
#[derive(Debug, Clone)]
pub struct Provenance {
    /// `hubspot`, `zoho`, ...
    pub vendor: &'static str,
    /// The object the schema describes (`deals`, `jobs`).
    pub object: &'static str,
    /// The calls whose responses were read, e.g. `GET /crm/v3/properties/deals`.
    pub responses: Vec<&'static str>,
}

impl Provenance {
    /// The annotation's value.
    pub fn to_value(&self) -> Value {
        json!({
            "vendor": self.vendor,
            "object": self.object,
            "responses": self.responses,
            "by": "mapctl schema import (do not edit by hand: import again)",
        })
    }
}

/// A whole schema document: the dialect, `$id`, title and description, the provenance, and
/// `body` (type, properties, required ...).
pub fn document(
    id: &str,
    title: &str,
    description: &str,
    provenance: &Provenance,
    body: Map<String, Value>,
) -> Value {
    let mut root = object(vec![
        ("$schema", json!(DIALECT)),
        ("$id", json!(id)),
        ("title", json!(title)),
        ("description", json!(description)),
        (IMPORT, provenance.to_value()),
    ]);
    root.extend(body);
    Value::Object(root)
}

/// The canonical form of a schema: every object's keys sorted (arrays keep their order).
pub fn canonical(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, canonical(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(canonical).collect()),
        other => other,
    }
}

/// The text written for a schema: canonical, two-space indented, with a final newline.
pub fn render(schema: &Value) -> String {
    let mut text = serde_json::to_string_pretty(&canonical(schema.clone()))
        .unwrap_or_else(|_| "{}".to_string());
    text.push('\n');
    text
}

/// Names must be unique in a response: the second use of one is an error at `node`.
pub fn check_unique(
    seen: &mut Vec<String>,
    name: &str,
    node: &Node<'_>,
) -> Result<(), ImportError> {
    if seen.iter().any(|s| s == name) {
        return Err(node.error(format!("`{name}` is listed twice")));
    }
    seen.push(name.to_string());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendering_is_canonical_and_ends_with_a_newline() {
        let a = json!({"b": 1, "a": {"d": [3, 1], "c": null}});
        let b = json!({"a": {"c": null, "d": [3, 1]}, "b": 1});
        assert_eq!(render(&a), render(&b));
        assert!(render(&a).starts_with("{\n  \"a\""));
        assert!(render(&a).ends_with("}\n"));
    }

    #[test]
    fn enums_keep_order_drop_repeats_and_carry_labels() {
        let mut schema = Map::new();
        let choices = vec![
            Choice::labelled(json!("b"), "Bee"),
            Choice::labelled(json!("a"), "Ay"),
            Choice::labelled(json!("b"), "Again"),
            Choice {
                value: json!(7),
                label: None,
                hidden: true,
            },
        ];
        enumerate(&mut schema, &choices, true);
        assert_eq!(schema["enum"], json!(["b", "a", 7, null]));
        assert_eq!(schema[LABELS], json!({"b": "Bee", "a": "Ay"}));
        assert_eq!(schema[HIDDEN], json!([7]));
    }
}
