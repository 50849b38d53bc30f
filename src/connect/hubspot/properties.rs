//! Which HubSpot properties a mapping reads (and so which the connector asks for), the list
//! of all of them when a rule reads a whole record, and sync-back patches as HubSpot takes
//! them: `{"properties": {name: string}}`, every value a string, `""` to clear (hubspot.md 4.5).

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::api::Api;
use crate::connect::vendor::VendorError;
use crate::net::Method;
use crate::value::path::PathStep;

/// Which properties of a record the mapping reads.
#[derive(Debug, Clone, PartialEq)]
pub enum Wanted {
    /// These.
    Named(BTreeSet<String>),
    /// All of them (a rule reads the whole record or its `properties`).
    All,
}

/// The properties `paths` (read in one record) name.
pub fn wanted(paths: &[Vec<PathStep>]) -> Wanted {
    let mut names = BTreeSet::new();
    for path in paths {
        match (path.first(), path.get(1)) {
            (None, _) => return Wanted::All,
            (Some(PathStep::Field(f)), Some(PathStep::Field(name))) if f == "properties" => {
                names.insert(name.clone());
            }
            (Some(PathStep::Field(f)), _) if f == "properties" => return Wanted::All,
            _ => {}
        }
    }
    Wanted::Named(names)
}

/// The property a path under `properties` names.
pub fn property_of(path: &[PathStep]) -> Option<&str> {
    match path {
        [PathStep::Field(f), PathStep::Field(name)] if f == "properties" => Some(name),
        _ => None,
    }
}

/// Every property of `object` (`deals`, `companies`), for rules that read a whole record.
pub fn all_properties(api: &Api, object: &str) -> Result<BTreeSet<String>, VendorError> {
    let path = format!("/crm/v3/properties/{object}?archived=false");
    let answer = api
        .call(Method::Get, &path, None, "read properties", None)?
        .unwrap_or(Value::Null);
    Ok(answer
        .get("results")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| p.get("name").and_then(Value::as_str).map(str::to_string))
        .collect())
}

/// A path for messages.
pub fn display(path: &[PathStep]) -> String {
    path.iter()
        .map(|step| match step {
            PathStep::Field(name) => name.clone(),
            PathStep::Index(index) => format!("[{index}]"),
            PathStep::Search { key, value } => format!("[{key} == {value}]"),
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// A sync-back value as HubSpot wants it: a string (`""` clears).
fn property_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The PATCH body for a sync-back patch: only its `properties`, as strings.
pub fn patch_body(fields: &Value) -> Result<Value, String> {
    let Some(object) = fields.as_object() else {
        return Err("HubSpot: the sync back patch is not an object".into());
    };
    if let Some(other) = object.keys().find(|k| *k != "properties") {
        return Err(format!(
            "HubSpot: sync back writes `{other}`, but deals are written only through their properties"
        ));
    }
    let properties: Map<String, Value> = object
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(name, value)| (name.clone(), Value::String(property_text(value))))
        .collect();
    Ok(json!({"properties": properties}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(names: &[&str]) -> Vec<PathStep> {
        names
            .iter()
            .map(|n| PathStep::Field(n.to_string()))
            .collect()
    }

    #[test]
    fn the_properties_read_are_asked_for_and_a_whole_read_asks_for_all() {
        let named = wanted(&[
            field(&["properties", "amount"]),
            field(&["id"]),
            field(&["properties", "dealname"]),
        ]);
        assert_eq!(
            named,
            Wanted::Named(["amount".to_string(), "dealname".to_string()].into())
        );
        assert_eq!(wanted(&[field(&["properties"])]), Wanted::All);
        assert_eq!(wanted(&[vec![]]), Wanted::All);
    }

    #[test]
    fn patches_carry_strings_only_under_properties() {
        let patch =
            json!({"properties": {"project_status": "active", "psa_project_id": 2417, "x": null}});
        assert_eq!(
            patch_body(&patch).unwrap(),
            json!({"properties": {"project_status": "active", "psa_project_id": "2417", "x": ""}})
        );
        assert!(
            patch_body(&json!({"stage": "x"}))
                .unwrap_err()
                .contains("`stage`")
        );
    }
}
