//! Sync back as Copper takes it (copper.md 4.3): `PUT /opportunities/{id}` changes only the
//! fields its body names, so the body is the `sync back` patch itself — top-level fields, and
//! custom fields as `{"custom_fields": [{"custom_field_definition_id": N, "value": V}]}`, which
//! is exactly what a rule writing `deal.custom_fields[custom_field_definition_id == N].value`
//! gives. That a partial `custom_fields` array leaves the other custom fields alone is not
//! confirmed by Copper's docs, so the opportunity the PUT answers with is checked: every value
//! written must be there, or the sync fails loudly.

use serde_json::Value;

use crate::connect::Needs;
use crate::value::json_equal;
use crate::value::path::PathStep;

/// The fields of an opportunity a `sync back` rule may write: its own scalar fields, and custom
/// field values by definition id.
pub fn check_paths(needs: &Needs) -> Result<(), String> {
    for path in &needs.sync_paths {
        let ok = match path.as_slice() {
            [PathStep::Field(name)] => name != "id" && name != "custom_fields",
            [
                PathStep::Field(list),
                PathStep::Search { key, .. },
                PathStep::Field(value),
            ] => list == "custom_fields" && key == "custom_field_definition_id" && value == "value",
            _ => false,
        };
        if !ok {
            return Err(format!(
                "Copper: `sync back` writes `{}.{}`, but an opportunity is written through its own fields (`{0}.details`) or a custom field's value (`{0}.custom_fields[custom_field_definition_id == 6001].value`)",
                needs.primary,
                crate::connect::encode::path_text(path),
            ));
        }
    }
    Ok(())
}

/// The PUT body for a sync-back patch, checked: an object, and custom fields that each name
/// their definition by id.
pub fn put_body(fields: &Value) -> Result<Value, String> {
    let Some(object) = fields.as_object() else {
        return Err("Copper: the sync back patch is not an object".into());
    };
    if object.contains_key("id") {
        return Err("Copper: sync back cannot write an opportunity's id".into());
    }
    if let Some(custom) = object.get("custom_fields") {
        let entries = custom
            .as_array()
            .ok_or("Copper: `custom_fields` is not a list")?;
        for entry in entries {
            if !entry
                .get("custom_field_definition_id")
                .is_some_and(Value::is_i64)
            {
                return Err(format!(
                    "Copper: a custom field value must name its definition by id: {entry}"
                ));
            }
        }
    }
    Ok(fields.clone())
}

/// What of `written` the opportunity Copper answered with does not hold: `None` when all of it
/// is there.
pub fn missing_in_echo(written: &Value, echoed: &Value) -> Option<String> {
    let written = written.as_object()?;
    for (name, value) in written {
        if name == "custom_fields" {
            for entry in value.as_array().into_iter().flatten() {
                let id = &entry["custom_field_definition_id"];
                let held = echoed
                    .get("custom_fields")
                    .and_then(Value::as_array)
                    .and_then(|list| {
                        list.iter()
                            .find(|e| json_equal(&e["custom_field_definition_id"], id))
                    })
                    .map(|e| &e["value"]);
                if !held.is_some_and(|held| json_equal(held, &entry["value"])) {
                    return Some(format!("custom field {id}"));
                }
            }
        } else if !echoed.get(name).is_some_and(|held| json_equal(held, value)) {
            return Some(format!("`{name}`"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_custom_field_patch_goes_as_it_is_and_is_checked_in_the_echo() {
        let patch =
            json!({"custom_fields": [{"custom_field_definition_id": 6001, "value": "Active"}]});
        assert_eq!(put_body(&patch).unwrap(), patch);
        let echo = json!({"id": 1, "custom_fields": [
            {"custom_field_definition_id": 5001, "value": 417002},
            {"custom_field_definition_id": 6001, "value": "Active"}]});
        assert_eq!(missing_in_echo(&patch, &echo), None);
        let lost = json!({"id": 1, "custom_fields": [{"custom_field_definition_id": 6001, "value": null}]});
        assert_eq!(
            missing_in_echo(&patch, &lost).as_deref(),
            Some("custom field 6001")
        );
        assert!(put_body(&json!({"custom_fields": [{"value": 1}]})).is_err());
        assert!(put_body(&json!({"id": 3})).is_err());
    }
}
