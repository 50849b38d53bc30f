//! The labels a vendor shows for the values of an enumerated field, and what a literal written in
//! a mapping names with them.
//!
//! An imported schema keeps the vendor's labels as annotations (`schema::import`):
//! `x-mapctl-labels` (`{value: label}`, a number's key being its JSON text) and, on a stage
//! field, `x-mapctl-pipelines` (`{stage: [pipeline, ...]}`). [`ValueLabels`] reads them for the
//! values the field's `enum` lists (inactive entries, which the enum leaves out, are not values),
//! and [`ValueLabels::name`] says what a literal means: **ids win** — a literal that is one of
//! the values is that value, even when another value's label is the same text — otherwise the
//! literal names every value whose label it is (one, several, or none). Labels match exactly:
//! "closed won" is not "Closed won". `check` resolves literals with it, and `ops::drift` compares
//! what a label names in two versions of a schema.

use serde_json::{Map, Value};

use super::import::{INACTIVE, LABELS, PIPELINES, label_key};
use super::locate::value_at;
use super::{Flat, SchemaSet};
use crate::value::json_equal;

/// One value of an enumerated field, with what the vendor says about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Labelled {
    /// The value records hold (the id).
    pub value: Value,
    /// The label the vendor shows for it, when the schema has one.
    pub label: Option<String>,
    /// The pipelines it belongs to, for a stage (empty when the schema does not say).
    pub pipelines: Vec<String>,
}

/// The values of an enumerated field (null left out), in schema order, with their labels.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ValueLabels {
    /// The values.
    pub values: Vec<Labelled>,
    /// Entries the vendor lists as inactive (`x-mapctl-inactive`, left out of the enum): each
    /// id's annotation key and its label. They are not values, so their labels name nothing.
    pub inactive: Vec<(String, String)>,
}

/// What a literal names among a field's values.
#[derive(Debug, Clone, PartialEq)]
pub enum Named {
    /// The literal is one of the values; `shadowed` lists the other values whose label is the
    /// same text (the literal still means the value: ids win).
    Value {
        /// Other values labelled with the literal's text.
        shadowed: Vec<Value>,
    },
    /// The literal is not a value but the label of these values (at least one).
    Label(Vec<Value>),
    /// Neither a value nor a label.
    Neither,
}

impl ValueLabels {
    /// The values of `flat` with the labels its schema nodes give them; `None` when the field
    /// lists no values.
    pub fn of(set: &SchemaSet, flat: &Flat) -> Option<ValueLabels> {
        let values = flat.non_null_enum().filter(|v| !v.is_empty())?;
        let labels = merged(set, flat, LABELS);
        let pipelines = merged(set, flat, PIPELINES);
        let mut field = ValueLabels::from_parts(&values, &labels, &pipelines);
        field.inactive = merged(set, flat, INACTIVE)
            .into_iter()
            .filter_map(|(id, label)| Some((id, label.as_str()?.to_string())))
            .collect();
        Some(field)
    }

    /// The values with their labels and pipelines, as the annotations write them.
    pub fn from_parts(
        values: &[&Value],
        labels: &Map<String, Value>,
        pipelines: &Map<String, Value>,
    ) -> ValueLabels {
        let values = values
            .iter()
            .map(|value| {
                let key = label_key(value);
                Labelled {
                    value: (*value).clone(),
                    label: labels.get(&key).and_then(Value::as_str).map(str::to_string),
                    pipelines: pipelines.get(&key).map(pipeline_names).unwrap_or_default(),
                }
            })
            .collect();
        ValueLabels {
            values,
            inactive: Vec::new(),
        }
    }

    /// True when some value has a label.
    pub fn has_labels(&self) -> bool {
        self.values.iter().any(|v| v.label.is_some())
    }

    /// What `literal` names: one of the values (ids win), the values it is the label of, or
    /// nothing.
    pub fn name(&self, literal: &Value) -> Named {
        let labelled: Vec<Value> = match literal.as_str() {
            Some(text) => self
                .values
                .iter()
                .filter(|v| v.label.as_deref() == Some(text))
                .map(|v| v.value.clone())
                .collect(),
            None => Vec::new(),
        };
        if self.values.iter().any(|v| json_equal(&v.value, literal)) {
            let shadowed = labelled
                .into_iter()
                .filter(|v| !json_equal(v, literal))
                .collect();
            return Named::Value { shadowed };
        }
        if labelled.is_empty() {
            Named::Neither
        } else {
            Named::Label(labelled)
        }
    }

    /// The entry of `value`.
    pub fn entry(&self, value: &Value) -> Option<&Labelled> {
        self.values.iter().find(|v| json_equal(&v.value, value))
    }

    /// The label of `value`, when it has one.
    pub fn label(&self, value: &Value) -> Option<&str> {
        self.entry(value).and_then(|v| v.label.as_deref())
    }

    /// The inactive entry (id key, label) labelled `text`, if any.
    pub fn inactive_labelled(&self, text: &str) -> Option<&(String, String)> {
        self.inactive.iter().find(|(_, label)| label == text)
    }

    /// The distinct labels, in the order of their values.
    pub fn labels(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for label in self.values.iter().filter_map(|v| v.label.as_deref()) {
            if !out.contains(&label) {
                out.push(label);
            }
        }
        out
    }
}

impl Labelled {
    /// `"11348547" (pipeline "11348541")`, or the value alone when its pipelines are unknown.
    pub fn describe(&self) -> String {
        match self.pipelines.as_slice() {
            [] => self.value.to_string(),
            [one] => format!("{} (pipeline {})", self.value, quoted(one)),
            many => {
                let names: Vec<String> = many.iter().map(|p| quoted(p)).collect();
                format!("{} (pipelines {})", self.value, names.join(", "))
            }
        }
    }
}

/// The value of annotation `key` on the first node `flat` was made from that has it.
pub fn annotation<'a>(set: &'a SchemaSet, flat: &Flat, key: &str) -> Option<&'a Value> {
    flat.origin.iter().find_map(|id| {
        let node = set.node(*id);
        value_at(&set.doc(node.doc?).value, &node.pointer)?.get(key)
    })
}

/// The object annotation `key` of every node `flat` was made from, merged (the first node to
/// name a key wins): a field combined from several subschemas keeps the labels of each.
fn merged(set: &SchemaSet, flat: &Flat, key: &str) -> Map<String, Value> {
    let mut out = Map::new();
    for id in &flat.origin {
        let node = set.node(*id);
        let Some(found) = node
            .doc
            .and_then(|doc| value_at(&set.doc(doc).value, &node.pointer))
            .and_then(|raw| raw.get(key))
            .and_then(Value::as_object)
        else {
            continue;
        };
        for (name, value) in found {
            out.entry(name.clone()).or_insert_with(|| value.clone());
        }
    }
    out
}

/// The pipelines of one `x-mapctl-pipelines` entry (`["default"]`, or one name).
fn pipeline_names(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items.iter().map(label_key).collect(),
        other => vec![label_key(other)],
    }
}

/// `"text"`, as JSON writes it.
fn quoted(text: &str) -> String {
    Value::String(text.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn stages() -> ValueLabels {
        let values = [
            json!("closedwon"),
            json!("11348547"),
            json!("Won"),
            json!("lost"),
        ];
        let refs: Vec<&Value> = values.iter().collect();
        let labels = json!({"closedwon": "Closed won", "11348547": "Closed won", "Won": "Won", "lost": "Won"});
        let pipelines = json!({"closedwon": ["default"], "11348547": ["11348541"]});
        ValueLabels::from_parts(
            &refs,
            labels.as_object().expect("object"),
            pipelines.as_object().expect("object"),
        )
    }

    #[test]
    fn ids_win_labels_name_every_value_they_label() {
        let stages = stages();
        assert_eq!(
            stages.name(&json!("closedwon")),
            Named::Value { shadowed: vec![] }
        );
        assert_eq!(
            stages.name(&json!("Closed won")),
            Named::Label(vec![json!("closedwon"), json!("11348547")])
        );
        assert_eq!(
            stages.name(&json!("Won")),
            Named::Value {
                shadowed: vec![json!("lost")]
            }
        );
        assert_eq!(stages.name(&json!("closed won")), Named::Neither);
        assert_eq!(stages.name(&json!(3)), Named::Neither);
        assert_eq!(stages.labels(), vec!["Closed won", "Won"]);
    }

    #[test]
    fn numbers_are_labelled_by_their_json_text() {
        let values = [json!(417001), json!(417002)];
        let refs: Vec<&Value> = values.iter().collect();
        let labels = json!({"417001": "Retainer", "417002": "Fixed fee"});
        let field =
            ValueLabels::from_parts(&refs, labels.as_object().expect("object"), &Map::new());
        assert_eq!(
            field.name(&json!("Fixed fee")),
            Named::Label(vec![json!(417002)])
        );
        assert_eq!(
            field.name(&json!(417001)),
            Named::Value { shadowed: vec![] }
        );
        assert_eq!(field.name(&json!("417001")), Named::Neither);
        assert_eq!(
            stages().entry(&json!("11348547")).map(Labelled::describe),
            Some("\"11348547\" (pipeline \"11348541\")".to_string())
        );
    }
}
