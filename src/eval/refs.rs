//! Related records joined at apply time from reference files (`--ref company=companies.ndjson`),
//! indexed by the key the mapping's `join on` names.

use std::collections::HashMap;

use serde_json::Value;

use super::read::read_steps;
use crate::check::program::JoinKey;

/// The records of one reference file, by join key.
#[derive(Debug, Default)]
pub struct RefIndex {
    by_key: HashMap<String, Vec<Value>>,
}

/// The text a join key is compared by: numbers by value, strings as they are.
pub fn key_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(format!("s:{s}")),
        Value::Number(n) => Some(format!("n:{}", crate::value::number::canonical(n))),
        _ => None,
    }
}

/// A key compared across types: `"42"` and `42` join (CRMs mix string and number ids).
pub fn loose_key(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => crate::value::number::parse_loose(s)
            .map(|n| format!("n:{}", crate::value::number::canonical(&n)))
            .or_else(|| key_text(value)),
        other => key_text(other),
    }
}

impl RefIndex {
    /// Indexes `records` by the join key (records without a key are ignored).
    pub fn new(records: Vec<Value>, join: &JoinKey) -> RefIndex {
        let mut by_key: HashMap<String, Vec<Value>> = HashMap::new();
        for record in records {
            if let Some(key) = read_steps(&record, &join.key.steps).and_then(loose_key) {
                by_key.entry(key).or_default().push(record);
            }
        }
        RefIndex { by_key }
    }

    /// The records with this key value.
    pub fn find(&self, key: &Value) -> &[Value] {
        loose_key(key)
            .and_then(|k| self.by_key.get(&k))
            .map_or(&[], Vec::as_slice)
    }

    /// Number of distinct keys.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    /// True when no record has a key.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}
