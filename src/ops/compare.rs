//! Pairing deals with the PSA's projects and comparing them field by field: the key field (the
//! project field the mapping writes the deal id into), an index of a project export by that key,
//! and the differences between the record the mapping would write and the project as it is.

use std::collections::{HashMap, HashSet};

use serde::Serialize;
use serde_json::Value;

use crate::check::program::{CExpr, PathStep, Program, RecordRef, WriteKind};
use crate::value::json_equal;

/// The project field that identifies a deal's project.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyField {
    /// The field's path under the target record.
    pub target: Vec<String>,
    /// The path as the mapping writes it (`project.source.deal_id`).
    pub display: String,
}

/// Finds the key field: the one named by `explicit` (with or without the target record's name),
/// or else the field the mapping writes from the deal's `id`, preferring a plain copy over a
/// template such as `"WEB-{deal.id}"`.
pub fn key_field(program: &Program, explicit: Option<&str>) -> Result<KeyField, String> {
    let target = &program.target_name;
    if let Some(name) = explicit {
        let bare = name
            .strip_prefix(target.as_str())
            .and_then(|rest| rest.strip_prefix('.'))
            .unwrap_or(name);
        let path: Vec<String> = bare.split('.').map(str::to_string).collect();
        let written = program.writes.iter().any(|w| w.target == path)
            || program.client.as_ref().is_some_and(|c| c.target == path);
        if !written {
            return Err(format!(
                "--key {name}: the mapping writes no field `{target}.{bare}`; name a field a `map` or `select` rule writes"
            ));
        }
        return Ok(KeyField {
            display: format!("{target}.{bare}"),
            target: path,
        });
    }
    let reads_id = |expr: &CExpr| {
        expr.paths()
            .iter()
            .any(|p| p.record == RecordRef::Source(0) && p.steps == [PathStep::Field("id".into())])
    };
    let candidates: Vec<_> = program
        .writes
        .iter()
        .filter_map(|w| match &w.kind {
            WriteKind::Map(expr) if reads_id(expr) => Some((w, matches!(expr, CExpr::Path(_)))),
            _ => None,
        })
        .collect();
    let chosen = candidates
        .iter()
        .find(|(_, direct)| *direct)
        .or_else(|| candidates.first());
    match chosen {
        Some((write, _)) => Ok(KeyField {
            target: write.target.clone(),
            display: write.display.clone(),
        }),
        None => Err(format!(
            "`{}` writes the deal's id into no {target} field, so deals cannot be paired with projects; write it (e.g. into a reference or custom field) or pass --key FIELD naming the project field that identifies the deal",
            program.name
        )),
    }
}

/// The key of a record: the key field's value as text (numbers in their JSON form).
pub fn key_of(record: &Value, key: &KeyField) -> Option<String> {
    let mut current = record;
    for field in &key.target {
        current = current.get(field)?;
    }
    match current {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        // Whole numbers by their digits (`48500.00` is the key `48500`), others by value.
        Value::Number(n) => Some(match crate::value::number::to_i64(n) {
            Some(whole) => whole.to_string(),
            None => crate::value::number::canonical(n),
        }),
        _ => None,
    }
}

/// A project export indexed by key.
#[derive(Debug)]
pub struct ProjectIndex {
    /// The projects, in export order.
    pub projects: Vec<Value>,
    by_key: HashMap<String, Vec<usize>>,
    /// Projects without a key value.
    pub unkeyed: usize,
}

impl ProjectIndex {
    /// Indexes `projects` by `key`.
    pub fn new(projects: Vec<Value>, key: &KeyField) -> ProjectIndex {
        let mut by_key: HashMap<String, Vec<usize>> = HashMap::new();
        let mut unkeyed = 0;
        for (index, project) in projects.iter().enumerate() {
            match key_of(project, key) {
                Some(value) => by_key.entry(value).or_default().push(index),
                None => unkeyed += 1,
            }
        }
        ProjectIndex {
            projects,
            by_key,
            unkeyed,
        }
    }

    /// The positions of the projects with this key.
    pub fn find(&self, key: &str) -> &[usize] {
        self.by_key.get(key).map_or(&[], Vec::as_slice)
    }

    /// Every key with more than one project, with their positions.
    pub fn duplicates(&self) -> Vec<(&str, &[usize])> {
        let mut found: Vec<_> = self
            .by_key
            .iter()
            .filter(|(_, positions)| positions.len() > 1)
            .map(|(key, positions)| (key.as_str(), positions.as_slice()))
            .collect();
        found.sort_by_key(|(_, positions)| positions[0]);
        found
    }
}

/// One field whose planned value differs from the project's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    /// The field, dotted, under the target record.
    pub field: String,
    /// The project's current value (absent: the field is not in the project).
    pub current: Option<Value>,
    /// The value the mapping writes.
    pub planned: Value,
}

/// The target fields the PSA owns: those `sync back` reads (a project's status). After the
/// project is created they change in the PSA, so they are not compared.
pub fn psa_owned(program: &Program) -> Vec<Vec<String>> {
    let mut owned: Vec<Vec<String>> = program
        .sync_back
        .iter()
        .flat_map(|rule| rule.value.paths())
        .filter(|path| path.record == RecordRef::Target)
        .map(|path| {
            path.steps
                .iter()
                .filter_map(|step| match step {
                    PathStep::Field(name) => Some(name.clone()),
                    _ => None,
                })
                .collect()
        })
        .collect();
    owned.sort();
    owned.dedup();
    owned
}

/// The fields of `planned` whose values `current` does not hold, leaf by leaf (arrays compare
/// whole; numbers by value), skipping `ignored` fields and everything under them.
pub fn changes(planned: &Value, current: &Value, ignored: &[Vec<String>]) -> Vec<Change> {
    let mut found = Vec::new();
    let mut path = Vec::new();
    collect_changes(planned, Some(current), ignored, &mut path, &mut found);
    found
}

fn collect_changes(
    planned: &Value,
    current: Option<&Value>,
    ignored: &[Vec<String>],
    path: &mut Vec<String>,
    found: &mut Vec<Change>,
) {
    if ignored.iter().any(|i| path.starts_with(i) && !i.is_empty()) {
        return;
    }
    if let Value::Object(fields) = planned
        && current.is_none_or(Value::is_object)
    {
        for (name, value) in fields {
            path.push(name.clone());
            let inner = current.and_then(|c| c.get(name));
            collect_changes(value, inner, ignored, path, found);
            path.pop();
        }
        return;
    }
    let same = current.is_some_and(|c| json_equal(c, planned) || arrays_equal(c, planned));
    if !same {
        found.push(Change {
            field: path.join("."),
            current: current.cloned(),
            planned: planned.clone(),
        });
    }
}

fn arrays_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_equal(p, q))
        }
        _ => false,
    }
}

/// Every field path (objects' members, at any depth) that some project of an export has: a
/// mapped field outside it is one the export does not carry, and comparing it would only report
/// noise.
#[derive(Debug, Default)]
pub struct ExportFields(HashSet<Vec<String>>);

impl ExportFields {
    /// Collects the paths of `projects`.
    pub fn new(projects: &[Value]) -> ExportFields {
        let mut paths = HashSet::new();
        for project in projects {
            member_paths(project, &mut Vec::new(), &mut paths);
        }
        ExportFields(paths)
    }

    /// The leaf fields of `record` (dotted) that no project has.
    pub fn absent_leaves(&self, record: &Value) -> Vec<String> {
        let mut leaves = Vec::new();
        leaf_paths(record, &mut Vec::new(), &mut leaves);
        leaves
            .into_iter()
            .filter(|path| !self.0.contains(path))
            .map(|path| path.join("."))
            .collect()
    }
}

fn member_paths(value: &Value, path: &mut Vec<String>, out: &mut HashSet<Vec<String>>) {
    if let Value::Object(fields) = value {
        for (name, inner) in fields {
            path.push(name.clone());
            if !out.contains(path.as_slice()) {
                out.insert(path.clone());
            }
            member_paths(inner, path, out);
            path.pop();
        }
    }
}

fn leaf_paths(value: &Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match value {
        Value::Object(fields) if !fields.is_empty() => {
            for (name, inner) in fields {
                path.push(name.clone());
                leaf_paths(inner, path, out);
                path.pop();
            }
        }
        _ => out.push(path.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn changes_compare_leaves_numbers_by_value_and_skip_owned_fields() {
        let planned = json!({"name": "ERP", "budget": {"amount": 48500, "currency": "EUR"}, "status": "planned", "tags": [1, 2]});
        let current = json!({"name": "ERP", "budget": {"amount": 48500.0, "currency": "USD"}, "status": "active", "tags": [1, 2], "extra": 1});
        let found = changes(&planned, &current, &[vec!["status".to_string()]]);
        assert_eq!(
            found,
            [Change {
                field: "budget.currency".into(),
                current: Some(json!("USD")),
                planned: json!("EUR"),
            }]
        );
        let absent = changes(&json!({"a": {"b": 1}}), &json!({}), &[]);
        assert_eq!(absent[0].field, "a.b");
        assert_eq!(absent[0].current, None);
    }

    #[test]
    fn keys_are_text_and_duplicates_are_found() {
        let key = KeyField {
            target: vec!["source".into(), "deal_id".into()],
            display: "project.source.deal_id".into(),
        };
        let index = ProjectIndex::new(
            vec![
                json!({"source": {"deal_id": 7}}),
                json!({"source": {"deal_id": "7"}}),
                json!({"source": {}}),
            ],
            &key,
        );
        assert_eq!(index.find("7"), [0, 1]);
        assert_eq!(index.unkeyed, 1);
        assert_eq!(index.duplicates().len(), 1);
    }

    #[test]
    fn fields_no_project_has_are_named() {
        let export = ExportFields::new(&[json!({"a": 1, "b": {"c": 2}}), json!({"d": null})]);
        let record = json!({"a": 1, "b": {"c": 2, "e": 3}, "d": 4, "f": {"g": 5}});
        assert_eq!(export.absent_leaves(&record), ["b.e", "f.g"]);
    }
}
