//! Paths on JSON values: the steps of a resolved path, and reading, writing and removing the
//! value they lead to. Shared by the checker (equality of literals), both evaluators and the
//! operations that compare records.

use serde_json::Value;

use super::{SCAN_LIMIT, json_equal, member};

/// One step of a resolved path.
#[derive(Debug, Clone, PartialEq)]
pub enum PathStep {
    /// An object member.
    Field(String),
    /// An array element.
    Index(usize),
    /// The first array element whose `key` equals `value`.
    Search {
        /// The member compared.
        key: String,
        /// The value it must equal.
        value: Value,
    },
}

/// Follows steps from `root`.
pub fn read_steps<'a>(root: &'a Value, steps: &[PathStep]) -> Option<&'a Value> {
    let mut current = root;
    for step in steps {
        current = match step {
            PathStep::Field(name) => member(current.as_object()?, name)?,
            PathStep::Index(index) => current.as_array()?.get(*index)?,
            PathStep::Search { key, value } => current
                .as_array()?
                .iter()
                .find(|element| element.get(key).is_some_and(|k| json_equal(k, value)))?,
        };
    }
    Some(current)
}

/// The member `name` of `map`, created as an empty object when missing.
fn member_or_object<'a>(map: &'a mut serde_json::Map<String, Value>, name: &str) -> &'a mut Value {
    let position = if map.len() <= SCAN_LIMIT {
        map.keys().position(|key| key == name)
    } else {
        None
    };
    if let Some(index) = position {
        return map
            .values_mut()
            .nth(index)
            .expect("the position was found among the map's keys");
    }
    map.entry(name.to_string())
        .or_insert_with(|| Value::Object(serde_json::Map::new()))
}

/// Writes `value` at `fields` under `target`, creating objects on the way. Returns false when
/// a step is blocked by a non-object value.
pub fn write_at(target: &mut Value, fields: &[String], value: Value) -> bool {
    let Some((last, parents)) = fields.split_last() else {
        return false;
    };
    let mut current = target;
    for field in parents {
        let Value::Object(map) = current else {
            return false;
        };
        current = member_or_object(map, field);
    }
    match current {
        Value::Object(map) => {
            map.insert(last.clone(), value);
            true
        }
        _ => false,
    }
}

/// Writes `value` at `steps` under `target`, creating objects, and array elements for searches
/// by key (`[custom_field_definition_id == 6001]` creates `{"custom_field_definition_id": 6001}`).
pub fn write_at_steps(target: &mut Value, steps: &[PathStep], value: Value) -> bool {
    let Some((last, parents)) = steps.split_last() else {
        return false;
    };
    let mut current = target;
    for step in parents {
        current = match step_into(current, step) {
            Some(next) => next,
            None => return false,
        };
    }
    match (last, current) {
        (PathStep::Field(name), Value::Object(map)) => {
            map.insert(name.clone(), value);
            true
        }
        _ => false,
    }
}

/// The child a step names, created when missing (objects for fields, keyed elements for searches).
fn step_into<'v>(current: &'v mut Value, step: &PathStep) -> Option<&'v mut Value> {
    match step {
        PathStep::Field(name) => match current {
            Value::Object(map) => Some(map.entry(name.clone()).or_insert(Value::Null)).map(|v| {
                if v.is_null() {
                    *v = Value::Object(serde_json::Map::new());
                }
                v
            }),
            _ => None,
        },
        PathStep::Search { key, value } => {
            if current.is_null() || current.as_object().is_some_and(serde_json::Map::is_empty) {
                *current = Value::Array(Vec::new());
            }
            let Value::Array(items) = current else {
                return None;
            };
            let position = items
                .iter()
                .position(|e| e.get(key).is_some_and(|k| json_equal(k, value)));
            let index = match position {
                Some(index) => index,
                None => {
                    let mut element = serde_json::Map::new();
                    element.insert(key.clone(), value.clone());
                    items.push(Value::Object(element));
                    items.len() - 1
                }
            };
            items.get_mut(index)
        }
        PathStep::Index(_) => None,
    }
}

/// Removes the value at `fields` under `root` (used to strip never-transfer data).
pub fn remove_at(root: &mut Value, fields: &[Option<String>]) {
    let Some((last, parents)) = fields.split_last() else {
        return;
    };
    let mut targets = vec![root];
    for field in parents {
        let mut next = Vec::new();
        for value in targets {
            match (field, value) {
                (Some(name), Value::Object(map)) => next.extend(map.get_mut(name)),
                (None, Value::Array(items)) => next.extend(items.iter_mut()),
                _ => {}
            }
        }
        targets = next;
    }
    for value in targets {
        match (last, value) {
            (Some(name), Value::Object(map)) => {
                map.shift_remove(name);
            }
            (None, Value::Array(items)) => items.clear(),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn searches_arrays_by_key_and_compares_numbers_by_value() {
        let deal = json!({"custom_fields": [
            {"custom_field_definition_id": 1, "value": "a"},
            {"custom_field_definition_id": 123, "value": "b"}
        ]});
        let steps = vec![
            PathStep::Field("custom_fields".into()),
            PathStep::Search {
                key: "custom_field_definition_id".into(),
                value: json!(123.0),
            },
            PathStep::Field("value".into()),
        ];
        assert_eq!(read_steps(&deal, &steps), Some(&json!("b")));
    }

    #[test]
    fn small_and_large_objects_are_read_and_written_alike() {
        for width in [1, SCAN_LIMIT, SCAN_LIMIT + 1, 40] {
            let mut out = json!({});
            for i in 0..width {
                assert!(write_at(&mut out, &[format!("k{i}"), "x".into()], json!(i)));
                assert!(write_at(&mut out, &[format!("k{i}"), "y".into()], json!(i)));
            }
            let map = out.as_object().map(serde_json::Map::len);
            assert_eq!(map, Some(width), "width {width}");
            for i in 0..width {
                let steps = [
                    PathStep::Field(format!("k{i}")),
                    PathStep::Field("y".into()),
                ];
                assert_eq!(read_steps(&out, &steps), Some(&json!(i)), "width {width}");
                assert_eq!(out[format!("k{i}")], json!({"x": i, "y": i}));
            }
            let missing = [PathStep::Field("absent".into())];
            assert_eq!(read_steps(&out, &missing), None);
        }
    }

    #[test]
    fn writes_create_objects_and_removals_reach_into_arrays() {
        let mut out = json!({});
        assert!(write_at(
            &mut out,
            &["client".into(), "name".into()],
            json!("Acme")
        ));
        assert_eq!(out, json!({"client": {"name": "Acme"}}));
        let mut copied = json!({"rows": [{"rate": 1, "x": 2}, {"rate": 3}]});
        remove_at(
            &mut copied,
            &[Some("rows".into()), None, Some("rate".into())],
        );
        assert_eq!(copied, json!({"rows": [{"x": 2}, {}]}));
    }
}
