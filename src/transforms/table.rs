//! Value tables at run time: keyed by string, number or boolean, with an optional default row.

use std::collections::HashMap;

use serde_json::Value;

use crate::value::Val;

/// A value table, ready for lookups.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// The table's name.
    pub name: String,
    strings: HashMap<String, Value>,
    numbers: Vec<(f64, Value)>,
    bools: [Option<Value>; 2],
    /// The `_` row.
    pub default: Option<Value>,
}

impl Table {
    /// An empty table.
    pub fn new(name: &str) -> Table {
        Table {
            name: name.to_string(),
            ..Table::default()
        }
    }

    /// Adds a row; returns false when the key is already present (the first row wins).
    pub fn insert(&mut self, key: &Value, value: Value) -> bool {
        match key {
            Value::String(s) => {
                if self.strings.contains_key(s) {
                    return false;
                }
                self.strings.insert(s.clone(), value);
            }
            Value::Number(n) => {
                let f = n.as_f64().unwrap_or(f64::NAN);
                if self.numbers.iter().any(|(k, _)| *k == f) {
                    return false;
                }
                self.numbers.push((f, value));
            }
            Value::Bool(b) => {
                let slot = &mut self.bools[usize::from(*b)];
                if slot.is_some() {
                    return false;
                }
                *slot = Some(value);
            }
            _ => return false,
        }
        true
    }

    /// True when a row has this exact key.
    pub fn has_key(&self, key: &Value) -> bool {
        match key {
            Value::String(s) => self.strings.contains_key(s),
            Value::Number(n) => n
                .as_f64()
                .is_some_and(|f| self.numbers.iter().any(|(k, _)| *k == f)),
            Value::Bool(b) => self.bools[usize::from(*b)].is_some(),
            _ => false,
        }
    }

    /// The value for `key`, the default row, or an explanation.
    pub fn lookup(&self, key: &Val<'_>) -> Result<&Value, String> {
        let found = match key {
            Val::Str(s) => self.strings.get(s.as_ref()),
            Val::Bool(b) => self.bools[usize::from(*b)].as_ref(),
            other => other
                .as_f64()
                .and_then(|f| self.numbers.iter().find(|(k, _)| *k == f).map(|(_, v)| v)),
        };
        found.or(self.default.as_ref()).ok_or_else(|| {
            format!(
                "has no row in table `{}` and the table has no `_` row",
                self.name
            )
        })
    }

    /// Every value the table can give.
    pub fn values(&self) -> impl Iterator<Item = &Value> {
        self.strings
            .values()
            .chain(self.numbers.iter().map(|(_, v)| v))
            .chain(self.bools.iter().flatten())
            .chain(self.default.iter())
    }

    /// Number of keyed rows.
    pub fn len(&self) -> usize {
        self.strings.len() + self.numbers.len() + self.bools.iter().flatten().count()
    }

    /// True when there are no keyed rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
