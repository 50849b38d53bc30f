//! The target record of one deal, as the mapping's writes build it: field by field in the
//! fast path's layout when the mapping allows one (`reader::fields`), else a `serde_json::Value`
//! tree. Both give the same JSON, with members in the order they were first written.

use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::io::compact;
use crate::reader::fields::{FieldLayout, Fields};
use crate::value::path::{PathStep, read_steps, write_at};

/// A deal's target record: field by field when the mapping's layout allows, else a JSON tree.
/// Opaque outside evaluation: callers turn it into JSON ([`Record::to_value`]) or write its
/// compact bytes ([`Record::write_compact`]).
#[derive(Clone)]
pub struct Record(Repr);

/// How a record is held.
#[derive(Clone)]
enum Repr {
    /// Built in a [`FieldLayout`].
    Fields(Fields),
    /// Built as JSON.
    Tree(Value),
}

impl Record {
    /// An empty record: in `layout` when there is one, else an object with room for `width`
    /// top-level members.
    pub(crate) fn new(layout: Option<&Arc<FieldLayout>>, width: usize) -> Record {
        Record(match layout {
            Some(layout) => Repr::Fields(Fields::new(Arc::clone(layout))),
            None => Repr::Tree(Value::Object(Map::with_capacity(width))),
        })
    }

    /// Writes `value` at `target`, the target of write number `write` (its layout knows it).
    pub(crate) fn write(&mut self, write: usize, target: &[String], value: Value) {
        match &mut self.0 {
            Repr::Fields(fields) => fields.set_by_write(write, value),
            Repr::Tree(tree) => {
                write_at(tree, target, value);
            }
        }
    }

    /// The value at `steps`, or `None`.
    pub(crate) fn get(&self, steps: &[PathStep]) -> Option<&Value> {
        match &self.0 {
            Repr::Fields(fields) => fields.get(steps),
            Repr::Tree(tree) => read_steps(tree, steps),
        }
    }

    /// How the record is held: its fields (built in a layout) or its tree.
    pub(crate) fn held(&self) -> Held<'_> {
        match &self.0 {
            Repr::Fields(fields) => Held::Fields(fields),
            Repr::Tree(tree) => Held::Tree(tree),
        }
    }

    /// Appends the record as compact JSON (as `serde_json::to_writer` would write its tree).
    pub fn write_compact(&self, out: &mut Vec<u8>) {
        match &self.0 {
            Repr::Fields(fields) => fields.write_compact(out),
            Repr::Tree(tree) => compact::write_value(tree, out),
        }
    }

    /// The record as a JSON tree.
    pub fn to_value(&self) -> Value {
        match &self.0 {
            Repr::Fields(fields) => fields.to_value(),
            Repr::Tree(tree) => tree.clone(),
        }
    }

    /// The record as a JSON tree, moved.
    pub fn into_value(self) -> Value {
        match self.0 {
            Repr::Fields(fields) => fields.into_value(),
            Repr::Tree(tree) => tree,
        }
    }
}

/// A record as it is held, for validating it.
pub(crate) enum Held<'a> {
    /// Built in a layout.
    Fields(&'a Fields),
    /// Built as a JSON tree.
    Tree(&'a Value),
}

impl From<Value> for Record {
    fn from(tree: Value) -> Record {
        Record(Repr::Tree(tree))
    }
}

impl PartialEq for Record {
    fn eq(&self, other: &Record) -> bool {
        self.to_value() == other.to_value()
    }
}

impl fmt::Debug for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.to_value(), f)
    }
}

impl fmt::Display for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Vec::new();
        self.write_compact(&mut out);
        f.write_str(&String::from_utf8_lossy(&out))
    }
}
