//! Value tables at run time: keyed by string, number or boolean, with an optional default row.
//!
//! Each row remembers whether a lookup used it (one relaxed atomic store), so `mapctl test` can
//! report table rows no test case exercised without slowing `apply` or making tables unshareable
//! between threads.

use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::Value;

use crate::value::Val;

/// A value table, ready for lookups.
#[derive(Debug, Default)]
pub struct Table {
    /// The table's name.
    pub name: String,
    rows: Vec<(Value, Value)>,
    /// Rows keyed by text. Keys come from the mapping (trusted), so a fast hash is safe.
    strings: rustc_hash::FxHashMap<String, usize>,
    numbers: Vec<(Val<'static>, usize)>,
    bools: [Option<usize>; 2],
    /// The `_` row.
    pub default: Option<Value>,
    /// One flag per row, plus one for the default row (last).
    hits: Vec<AtomicBool>,
}

impl Clone for Table {
    fn clone(&self) -> Table {
        Table {
            name: self.name.clone(),
            rows: self.rows.clone(),
            strings: self.strings.clone(),
            numbers: self.numbers.clone(),
            bools: self.bools,
            default: self.default.clone(),
            hits: (0..self.hits.len())
                .map(|_| AtomicBool::new(false))
                .collect(),
        }
    }
}

impl Table {
    /// An empty table.
    pub fn new(name: &str) -> Table {
        Table {
            name: name.to_string(),
            hits: vec![AtomicBool::new(false)],
            ..Table::default()
        }
    }

    /// Adds a row; returns false when the key is already present (the first row wins).
    pub fn insert(&mut self, key: &Value, value: Value) -> bool {
        if self.has_key(key) {
            return false;
        }
        let index = self.rows.len();
        match key {
            Value::String(s) => {
                self.strings.insert(s.clone(), index);
            }
            Value::Number(n) => self.numbers.push((Val::from_number(n.clone()), index)),
            Value::Bool(b) => self.bools[usize::from(*b)] = Some(index),
            _ => return false,
        }
        self.rows.push((key.clone(), value));
        self.hits.insert(index, AtomicBool::new(false));
        true
    }

    /// True when a row has this exact key.
    pub fn has_key(&self, key: &Value) -> bool {
        match key {
            Value::String(s) => self.strings.contains_key(s),
            Value::Number(_) => self.number_row(&Val::from_json(key)).is_some(),
            Value::Bool(b) => self.bools[usize::from(*b)].is_some(),
            _ => false,
        }
    }

    fn row_of(&self, key: &Val<'_>) -> Option<usize> {
        match key {
            Val::Str(s) => self.strings.get(s.as_ref()).copied(),
            Val::Bool(b) => self.bools[usize::from(*b)],
            other if other.is_number() => self.number_row(other),
            _ => None,
        }
    }

    /// The row whose key is the number `key` by value (exactly, as decimals).
    fn number_row(&self, key: &Val<'_>) -> Option<usize> {
        self.numbers
            .iter()
            .find(|(k, _)| k.compare_number(key) == Some(std::cmp::Ordering::Equal))
            .map(|(_, i)| *i)
    }

    /// The value for `key`, the default row, or an explanation.
    pub fn lookup(&self, key: &Val<'_>) -> Result<&Value, String> {
        if let Some(index) = self.row_of(key) {
            mark(&self.hits[index]);
            return Ok(&self.rows[index].1);
        }
        match &self.default {
            Some(value) => {
                if let Some(flag) = self.hits.last() {
                    mark(flag);
                }
                Ok(value)
            }
            None => Err(format!(
                "has no row in table `{}` and the table has no `_` row",
                self.name
            )),
        }
    }

    /// Every value the table can give.
    pub fn values(&self) -> impl Iterator<Item = &Value> {
        self.rows.iter().map(|(_, v)| v).chain(self.default.iter())
    }

    /// The keyed rows, in the order they were written (for the mapping sheet).
    pub fn rows(&self) -> impl Iterator<Item = (&Value, &Value)> {
        self.rows.iter().map(|(k, v)| (k, v))
    }

    /// The keys of rows no lookup has used yet (`"_"` for an unused default row).
    pub fn unused_rows(&self) -> Vec<String> {
        let mut unused: Vec<String> = self
            .rows
            .iter()
            .zip(&self.hits)
            .filter(|(_, hit)| !hit.load(Ordering::Relaxed))
            .map(|((key, _), _)| key.to_string())
            .collect();
        if self.default.is_some() && self.hits.last().is_some_and(|h| !h.load(Ordering::Relaxed)) {
            unused.push("_".to_string());
        }
        unused
    }

    /// Number of keyed rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when there are no keyed rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// Sets a coverage flag, reading it first so that threads do not keep writing a shared line.
pub(crate) fn mark(flag: &std::sync::atomic::AtomicBool) {
    if !flag.load(Ordering::Relaxed) {
        flag.store(true, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups_mark_the_rows_they_use() {
        let mut table = Table::new("t");
        assert!(table.insert(&Value::from("a"), Value::from(1)));
        assert!(table.insert(&Value::from(2), Value::from(2)));
        assert!(!table.insert(&Value::from("a"), Value::from(3)));
        table.default = Some(Value::from(0));
        assert_eq!(table.lookup(&Val::Int(2)), Ok(&Value::from(2)));
        assert_eq!(
            table.unused_rows(),
            vec!["\"a\"".to_string(), "_".to_string()]
        );
        assert_eq!(table.lookup(&Val::Str("zzz".into())), Ok(&Value::from(0)));
        assert_eq!(table.unused_rows(), vec!["\"a\"".to_string()]);
    }
}
