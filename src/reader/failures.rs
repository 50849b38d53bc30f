//! The failures of a whole value, located and in reading order: a value's own failures (sorted
//! by [`Keyword`], across every shape it must satisfy: its own, and those its `allOf` and
//! `$ref` add) before its members', members in the order they are written, the first ones only.
//! The streaming walk (`walk.rs`) lists the failures of a deal it reads in the same order, and
//! `schema::violations` orders `jsonschema`'s findings so too: a deal gets the same reasons
//! read from text, read whole, or validated by `jsonschema`.

use std::borrow::Cow;

use serde_json::Value;

use super::conform::{check_item_count, missing_members, not_allowed, push_segment};
use super::shape::{Failure, Shape, ShapeId, Shapes};

impl Shapes {
    /// Validates a whole value against `shape`, collecting its failures in reading order: all
    /// of the first `limit` of them (a value's own failures may take a few more; the caller
    /// keeps the first `limit`).
    pub fn validate(
        &self,
        shape: ShapeId,
        value: &Value,
        pointer: &mut String,
        out: &mut Vec<Failure>,
        limit: usize,
    ) {
        self.validate_all(self.expanded(shape), value, pointer, out, limit);
    }

    /// [`Shapes::validate`] against every shape of `shapes` (an expanded list: each shape with
    /// the shapes its `allOf` and `$ref` add).
    pub(super) fn validate_all(
        &self,
        shapes: &[ShapeId],
        value: &Value,
        pointer: &mut String,
        out: &mut Vec<Failure>,
        limit: usize,
    ) {
        // Failures found later come later: once `limit` are found, the rest are not needed.
        if out.len() >= limit {
            return;
        }
        let start = out.len();
        for shape in shapes {
            self.own_failures(&self.shapes[*shape], value, pointer, out);
        }
        out[start..].sort_by_key(|f| f.keyword);
        match value {
            Value::Object(map) => {
                for (key, member) in map {
                    let children = self.member_shapes(shapes, key);
                    if children.is_empty() {
                        continue;
                    }
                    let mark = pointer.len();
                    push_segment(pointer, key);
                    self.validate_all(&children, member, pointer, out, limit);
                    pointer.truncate(mark);
                }
            }
            Value::Array(items) => {
                let children = self.item_shapes(shapes);
                if children.is_empty() {
                    return;
                }
                for (index, item) in items.iter().enumerate() {
                    let mark = pointer.len();
                    pointer.push('/');
                    pointer.push_str(&index.to_string());
                    self.validate_all(&children, item, pointer, out, limit);
                    pointer.truncate(mark);
                }
            }
            _ => {}
        }
    }

    /// The failures of `value` itself against one shape: a `false` schema; its type, enum,
    /// lengths, pattern, format and bounds; missing members or item counts; combinators.
    fn own_failures(&self, s: &Shape, value: &Value, pointer: &str, out: &mut Vec<Failure>) {
        if let Some(allowed) = s.boolean {
            if !allowed {
                out.push(not_allowed(pointer, value));
            }
            return;
        }
        self.check_scalar(s, value, pointer, out);
        match value {
            Value::Object(map) => out.extend(missing_members(s, map, pointer)),
            Value::Array(items) => check_item_count(s, items.len(), pointer, out),
            _ => {}
        }
        self.check_combinators(s, value, pointer, out);
    }

    /// The shapes member `key` must satisfy, given its object's (expanded) shapes: each
    /// shape's declared property, or its `additionalProperties`, expanded.
    pub(super) fn member_shapes<'s>(
        &'s self,
        parents: &[ShapeId],
        key: &str,
    ) -> Cow<'s, [ShapeId]> {
        if let [parent] = parents {
            let s = &self.shapes[*parent];
            return match s.property(key).or(s.additional) {
                Some(child) => Cow::Borrowed(self.expanded(child)),
                None => Cow::Borrowed(&[]),
            };
        }
        let mut out = Vec::new();
        for parent in parents {
            let s = &self.shapes[*parent];
            if let Some(child) = s.property(key).or(s.additional) {
                for shape in self.expanded(child) {
                    if !out.contains(shape) {
                        out.push(*shape);
                    }
                }
            }
        }
        Cow::Owned(out)
    }

    /// The shapes each item of an array must satisfy, given the array's (expanded) shapes.
    pub(super) fn item_shapes(&self, parents: &[ShapeId]) -> Vec<ShapeId> {
        parents
            .iter()
            .filter_map(|s| self.shapes[*s].items)
            .flat_map(|s| self.expanded(s).iter().copied())
            .collect()
    }
}
