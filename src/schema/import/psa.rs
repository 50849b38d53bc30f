//! What the PSA importers share: the write-side schema an import adds reference data to (the
//! shipped one, or the user's `--base`), and reference lists read from several pages.
//!
//! An import replaces the reference data a schema already carries, so a schema imported before
//! can be its own base and importing twice changes nothing.

use serde_json::{Map, Value, json};

use super::{HIDDEN, IMPORT, INACTIVE, ImportError, Input, LABELS, Node, Provenance};

/// The write-side schema to add reference data to: `base` when given, else the shipped one
/// (`builtin`, shown as `builtin_name`).
pub fn base_schema(
    base: Option<&Input>,
    builtin_name: &str,
    builtin: &str,
) -> Result<(String, Map<String, Value>), ImportError> {
    let shipped;
    let input = match base {
        Some(input) => input,
        None => {
            shipped = Input::parse(builtin_name, builtin)?;
            &shipped
        }
    };
    let root = input.root();
    let Value::Object(schema) = root.value() else {
        return Err(root.error("a base schema must be a JSON Schema object"));
    };
    root.field("properties")?;
    Ok((input.name.clone(), schema.clone()))
}

/// The property `name` of `schema` (from the file shown as `file`), with the reference data of
/// an earlier import removed.
pub fn reference_property<'s>(
    schema: &'s mut Map<String, Value>,
    file: &str,
    name: &str,
) -> Result<&'s mut Map<String, Value>, ImportError> {
    let missing = || ImportError {
        file: file.to_string(),
        pointer: "/properties".to_string(),
        message: format!("the base schema has no property `{name}` to add the reference data to"),
    };
    let property = schema
        .get_mut("properties")
        .and_then(Value::as_object_mut)
        .and_then(|p| p.get_mut(name))
        .and_then(Value::as_object_mut)
        .ok_or_else(missing)?;
    for key in ["enum", LABELS, HIDDEN, INACTIVE] {
        property.remove(key);
    }
    Ok(property)
}

/// Sets the root's provenance.
pub fn stamp(schema: &mut Map<String, Value>, provenance: &Provenance) {
    schema.insert(IMPORT.into(), provenance.to_value());
}

/// The elements of every page of a list response, in order; `element` checks and reads each.
/// `elements_of` finds the list in a page (and refuses a page of the wrong shape).
pub fn pages<'a, T>(
    inputs: &'a [Input],
    elements_of: impl Fn(&'a Input) -> Result<Vec<Node<'a>>, ImportError>,
    mut element: impl FnMut(&Node<'a>) -> Result<T, ImportError>,
) -> Result<Vec<T>, ImportError> {
    let mut out = Vec::new();
    for input in inputs {
        for node in elements_of(input)? {
            out.push(element(&node)?);
        }
    }
    Ok(out)
}

/// An id of reference data, with its label and whether the account still uses it.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The id.
    pub id: i64,
    /// What people call it.
    pub label: String,
    /// False for inactive entries (left out of the enum, listed under `x-mapctl-inactive`).
    pub active: bool,
}

/// Puts `entries` on `property`: the active ids as its enum (when `as_enum`), every label, and
/// the inactive ones. Ids listed twice are an error at `file`.
pub fn put_entries(
    property: &mut Map<String, Value>,
    entries: &mut [Entry],
    as_enum: bool,
    file: &str,
) -> Result<(), ImportError> {
    entries.sort_by_key(|e| e.id);
    if let Some(pair) = entries.windows(2).find(|w| w[0].id == w[1].id) {
        return Err(ImportError {
            file: file.to_string(),
            pointer: String::new(),
            message: format!("the id {} is listed twice", pair[0].id),
        });
    }
    let mut labels = Map::new();
    let mut inactive = Map::new();
    let mut values = Vec::new();
    for entry in entries.iter() {
        labels.insert(entry.id.to_string(), json!(entry.label));
        if entry.active {
            values.push(json!(entry.id));
        } else {
            inactive.insert(entry.id.to_string(), json!(entry.label));
        }
    }
    if as_enum {
        property.insert("enum".into(), Value::Array(values));
    }
    property.insert(LABELS.into(), Value::Object(labels));
    if !inactive.is_empty() {
        property.insert(INACTIVE.into(), Value::Object(inactive));
    }
    Ok(())
}
