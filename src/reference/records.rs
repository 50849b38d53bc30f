//! Building JSON trees: the target record, `sync back` patches, and copies of source objects
//! with their never-transfer members taken out.

use serde_json::{Map, Value};

use super::exprs::same;
use crate::check::program::PathStep;

/// Writes `value` at `fields` under `tree`, creating objects on the way. A step onto a value
/// that is not an object goes nowhere, and nothing is written.
pub fn put(tree: &mut Value, fields: &[String], value: Value) {
    let Some((last, parents)) = fields.split_last() else {
        return;
    };
    let mut here = tree;
    for field in parents {
        let Value::Object(map) = here else { return };
        here = map
            .entry(field.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    if let Value::Object(map) = here {
        map.insert(last.clone(), value);
    }
}

/// Writes `value` at `steps` under `patch` (a `sync back` target): fields create objects
/// (over nulls too), a search by key finds or appends the array element with that key.
pub fn put_at_steps(patch: &mut Value, steps: &[PathStep], value: Value) {
    let Some((PathStep::Field(last), parents)) = steps.split_last() else {
        return;
    };
    let mut here = patch;
    for step in parents {
        here = match step {
            PathStep::Field(name) => {
                let Value::Object(map) = here else { return };
                let child = map.entry(name.clone()).or_insert(Value::Null);
                if child.is_null() {
                    *child = Value::Object(Map::new());
                }
                child
            }
            PathStep::Search { key, value } => {
                if here.is_null() || here.as_object().is_some_and(Map::is_empty) {
                    *here = Value::Array(Vec::new());
                }
                let Value::Array(items) = here else { return };
                let found = items
                    .iter()
                    .position(|e| e.get(key).is_some_and(|k| same(k, value)));
                let index = found.unwrap_or_else(|| {
                    items.push(Value::Object(Map::from_iter([(
                        key.clone(),
                        value.clone(),
                    )])));
                    items.len() - 1
                });
                &mut items[index]
            }
            PathStep::Index(_) => return,
        };
    }
    if let Value::Object(map) = here {
        map.insert(last.clone(), value);
    }
}

/// The never-transfer paths that lie inside a copied source object, relative to it: `copied`
/// and `protected` are step lists of one record; an index or a search stands for every element
/// of its array (so a copy may lose more than the protected element, never less).
pub fn inside(copied: &[PathStep], protected: &[PathStep]) -> Option<Vec<Option<String>>> {
    let names = |steps: &[PathStep]| -> Vec<Option<String>> {
        steps
            .iter()
            .map(|s| match s {
                PathStep::Field(name) => Some(name.clone()),
                _ => None,
            })
            .collect()
    };
    let (copied, protected) = (names(copied), names(protected));
    let within = protected.len() > copied.len()
        && copied
            .iter()
            .zip(&protected)
            .all(|(a, b)| a.is_none() || b.is_none() || a == b);
    within.then(|| protected[copied.len()..].to_vec())
}

/// Removes what `rest` names under `value` (`None`: every element of an array).
pub fn strip(value: &mut Value, rest: &[Option<String>]) {
    let Some((first, more)) = rest.split_first() else {
        return;
    };
    match (first, value) {
        (Some(name), Value::Object(map)) if more.is_empty() => {
            map.shift_remove(name);
        }
        (None, Value::Array(items)) if more.is_empty() => items.clear(),
        (Some(name), Value::Object(map)) => {
            if let Some(child) = map.get_mut(name) {
                strip(child, more);
            }
        }
        (None, Value::Array(items)) => items.iter_mut().for_each(|item| strip(item, more)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn writes_create_objects_and_searches_create_elements() {
        let mut tree = json!({});
        put(&mut tree, &["client".into(), "name".into()], json!("Acme"));
        put(&mut tree, &["client".into(), "id".into()], json!(7));
        assert_eq!(
            serde_json::to_string(&tree).ok().as_deref(),
            Some(r#"{"client":{"name":"Acme","id":7}}"#)
        );
        let mut patch = json!({});
        let steps = [
            PathStep::Field("custom_fields".into()),
            PathStep::Search {
                key: "id".into(),
                value: json!(6001),
            },
            PathStep::Field("value".into()),
        ];
        put_at_steps(&mut patch, &steps, json!("Active"));
        assert_eq!(
            patch,
            json!({"custom_fields": [{"id": 6001, "value": "Active"}]})
        );
    }

    #[test]
    fn protected_members_are_stripped_from_copies() {
        let rows = [PathStep::Field("rows".into())];
        let rate = [
            PathStep::Field("rows".into()),
            PathStep::Index(0),
            PathStep::Field("rate".into()),
        ];
        let rest = inside(&rows, &rate).unwrap_or_default();
        let mut copied = json!([{"rate": 1, "x": 2}, {"rate": 3}]);
        strip(&mut copied, &rest);
        assert_eq!(copied, json!([{"x": 2}, {}]));
        assert_eq!(inside(&rate, &rows), None);
    }
}
