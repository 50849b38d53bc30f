//! A fast validator for the JSON Schema keywords CRM and PSA schemas use, compiled from the
//! schemas check loaded.
//!
//! `apply` validates every deal and every record. The general `jsonschema` validator needs a whole
//! `serde_json::Value`, and building one costs more than the rest of a mapping together; this one
//! validates a `Value` or, through `walk.rs`, JSON text while it is being read (the checks are in
//! `conform.rs`). It supports:
//! `type`, `enum`, `const`, `properties`, `required`, `additionalProperties`, `items` (one
//! schema), `minItems`, `maxItems`, `minLength`, `maxLength`, `pattern`, `minimum`, `maximum`,
//! `exclusiveMinimum`, `exclusiveMaximum` (numbers), `format` (asserted: `formats.rs` checks
//! them as `jsonschema` does), `$ref`, `allOf`, `anyOf`, `oneOf`, `not`, boolean schemas and
//! annotations (extension keywords starting with `x-`, such as the `x-mapctl-*` labels imported
//! schemas carry, among them). `enum` and `const` compare as JSON Schema does (numbers by value, at any depth);
//! a value under an enum that holds an object or an array is read whole to be compared. A schema
//! using any other keyword is not compiled ([`Shapes::compile`] returns `None`) and apply falls
//! back to `jsonschema` for it.
//!
//! `tests/validator_law.rs` holds these shapes, the streaming walk and the tree path to
//! `jsonschema` on generated schemas and values (valid and invalid), and
//! `tests/json_schema_suite.rs` holds them to the official JSON-Schema-Test-Suite.

use regex::Regex;
use serde_json::{Map, Value};

pub use super::conform::{
    check_item_count, check_number, failure, missing_member, missing_members, not_allowed,
    not_one_of, push_segment, short, short_str,
};
use super::formats::FormatCheck;
use crate::schema::SchemaSet;
use crate::schema::model::NodeId;
use crate::value::{Kinds, member};

/// Index of a compiled shape.
pub type ShapeId = usize;

/// What a schema node constrains.
#[derive(Debug, Default)]
pub struct Shape {
    /// `true` / `false` schemas.
    pub boolean: Option<bool>,
    /// Allowed JSON kinds (`integer` is `Kinds::INT`, `number` both number kinds).
    pub kinds: Option<Kinds>,
    /// `enum` (and `const`, as a one-value enum).
    pub enum_values: Option<Vec<Value>>,
    /// `pattern`.
    pub pattern: Option<Regex>,
    /// `minLength`.
    pub min_length: Option<u64>,
    /// `maxLength`.
    pub max_length: Option<u64>,
    /// `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`.
    pub bounds: [Option<Bound>; 4],
    /// `format`, as an index into [`Shapes::formats`].
    pub format: Option<usize>,
    /// `properties` (a fast non-cryptographic hash: keys come from the schema, not the input),
    /// each with whether `required` names it.
    pub properties: rustc_hash::FxHashMap<String, (ShapeId, bool)>,
    /// True when every `required` name is a declared property, named once: an object then has
    /// all of them exactly when as many of its members are required ones.
    pub required_declared: bool,
    /// `required`.
    pub required: Vec<String>,
    /// `additionalProperties` (a shape; `None` allows anything).
    pub additional: Option<ShapeId>,
    /// `items`.
    pub items: Option<ShapeId>,
    /// `minItems`, `maxItems`.
    pub item_count: [Option<u64>; 2],
    /// `$ref` and `allOf`: shapes that must also hold.
    pub all_of: Vec<ShapeId>,
    /// `anyOf`.
    pub any_of: Vec<ShapeId>,
    /// `oneOf`.
    pub one_of: Vec<ShapeId>,
    /// `not`.
    pub not: Option<ShapeId>,
}

impl Shape {
    /// The shape of a declared property.
    pub fn property(&self, key: &str) -> Option<ShapeId> {
        self.properties.get(key).map(|(shape, _)| *shape)
    }

    /// The shape member `key` must satisfy (`None`: anything), and whether it is required.
    pub fn member(&self, key: &str) -> (Option<ShapeId>, bool) {
        match self.properties.get(key) {
            Some((shape, required)) => (Some(*shape), *required),
            None => (self.additional, false),
        }
    }

    /// When the shape checks nothing but the value's type: the kinds it allows (`None`: any).
    pub fn only_kinds(&self) -> Option<Option<Kinds>> {
        // Every field is named, so a new keyword cannot be forgotten here.
        let Shape {
            boolean,
            kinds,
            enum_values,
            pattern,
            min_length,
            max_length,
            bounds,
            format,
            properties,
            required_declared: _,
            required,
            additional,
            items,
            item_count,
            all_of,
            any_of,
            one_of,
            not,
        } = self;
        let only = boolean.is_none()
            && enum_values.is_none()
            && pattern.is_none()
            && min_length.is_none()
            && max_length.is_none()
            && bounds.iter().all(Option::is_none)
            && format.is_none()
            && properties.is_empty()
            && required.is_empty()
            && additional.is_none()
            && items.is_none()
            && item_count.iter().all(Option::is_none)
            && all_of.is_empty()
            && any_of.is_empty()
            && one_of.is_empty()
            && not.is_none();
        only.then_some(*kinds)
    }

    /// True when a value must be read whole to be checked against the shape: it has `anyOf`,
    /// `oneOf` or `not`, or an `enum` (`const`) with an object or array among its values.
    fn checks_whole_value(&self) -> bool {
        let composite_enum = self
            .enum_values
            .as_ref()
            .is_some_and(|values| values.iter().any(|v| v.is_object() || v.is_array()));
        !self.any_of.is_empty() || !self.one_of.is_empty() || self.not.is_some() || composite_enum
    }
}

/// A validation failure: where (JSON pointer), what, and which keyword found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// JSON pointer into the validated value.
    pub pointer: String,
    /// What is wrong.
    pub message: String,
    /// For a missing required property: its name.
    pub missing: Option<String>,
    /// The keyword that failed, which places the failure among the value's own.
    pub keyword: Keyword,
}

/// The keyword a failure is about, in the order a value's own failures are listed (the order
/// `schema::violations` lists `jsonschema`'s): its type (or a `false` schema), enum, lengths,
/// pattern, format, bounds, missing members, item counts, combinators. A value's own failures
/// come before its members'.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Keyword {
    /// `type`, or a `false` schema.
    Type,
    /// `enum` or `const`.
    Enum,
    /// `minLength`.
    MinLength,
    /// `maxLength`.
    MaxLength,
    /// `pattern`.
    Pattern,
    /// `format`.
    Format,
    /// `minimum`.
    Minimum,
    /// `maximum`.
    Maximum,
    /// `exclusiveMinimum`.
    ExclusiveMinimum,
    /// `exclusiveMaximum`.
    ExclusiveMaximum,
    /// `required`.
    Required,
    /// `minItems`.
    MinItems,
    /// `maxItems`.
    MaxItems,
    /// `anyOf`.
    AnyOf,
    /// `oneOf`.
    OneOf,
    /// `not`.
    Not,
}

/// Compiled shapes of the schemas of one program.
#[derive(Debug, Default)]
pub struct Shapes {
    /// The shapes, by id.
    pub shapes: Vec<Shape>,
    by_node: rustc_hash::FxHashMap<NodeId, ShapeId>,
    /// Each shape with the shapes its `allOf`/`$ref` add, flattened (filled by `compile`).
    expanded: Vec<Vec<ShapeId>>,
    /// The formats the shapes check.
    pub(super) formats: Vec<FormatCheck>,
    /// For each shape that checks nothing but the type, the kinds it allows (`None`: any): most
    /// values are then checked with one comparison.
    type_only: Vec<Option<Option<Kinds>>>,
    /// For each shape, whether it has `anyOf`, `oneOf`, `not` or an enum of objects or arrays:
    /// a value under it is read whole before it is checked. (A table of flags: the reader asks
    /// for every value it reads.)
    whole: Vec<bool>,
}

/// Most shapes one value is checked against through `allOf`/`$ref` (a schema needing more is left
/// to `jsonschema`; `schema::bounds` keeps such chains short).
const MAX_EXPANDED: usize = 64;

/// Keywords the fast validator understands (others make a schema fall back to `jsonschema`).
const SUPPORTED: &[&str] = &[
    "$schema",
    "$id",
    "$defs",
    "definitions",
    "$comment",
    "$anchor",
    "title",
    "description",
    "default",
    "examples",
    "deprecated",
    "readOnly",
    "writeOnly",
    "type",
    "enum",
    "const",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "format",
    "$ref",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
];

impl Shapes {
    /// An empty set.
    pub fn new() -> Shapes {
        Shapes::default()
    }

    /// Compiles the schema rooted at `root`; `None` when it uses a keyword this validator does
    /// not support (the caller then uses `jsonschema`).
    pub fn compile(&mut self, set: &SchemaSet, root: NodeId) -> Option<ShapeId> {
        let mut pending = vec![root];
        let start = self.shapes.len();
        let mut order = Vec::new();
        while let Some(node) = pending.pop() {
            if self.by_node.contains_key(&node) {
                continue;
            }
            let id = self.shapes.len();
            self.by_node.insert(node, id);
            self.shapes.push(Shape::default());
            order.push((node, id));
            pending.extend(children(set, node));
        }
        for (node, id) in order {
            match self.compile_node(set, node) {
                Some(shape) => self.shapes[id] = shape,
                None => {
                    self.shapes.truncate(start);
                    self.by_node.retain(|_, s| *s < start);
                    return None;
                }
            }
        }
        self.index();
        if self.expanded.iter().any(|parts| parts.len() > MAX_EXPANDED) {
            // Some value must satisfy more parts than a shape holds: `jsonschema` checks it.
            self.shapes.truncate(start);
            self.by_node.retain(|_, s| *s < start);
            self.index();
            return None;
        }
        self.by_node.get(&root).copied()
    }

    /// Derives the tables kept beside the shapes: each shape's `allOf` expansion, and the kinds
    /// of the shapes that check only the type. (Done by `compile`.)
    pub(crate) fn index(&mut self) {
        self.expanded = (0..self.shapes.len())
            .map(|id| self.expand_now(id))
            .collect();
        self.type_only = self.shapes.iter().map(Shape::only_kinds).collect();
        self.whole = self.shapes.iter().map(Shape::checks_whole_value).collect();
    }

    /// True when values under `shape` are read whole to be checked (it has `anyOf`, `oneOf`,
    /// `not`, or an enum of objects or arrays).
    pub fn reads_whole_value(&self, shape: ShapeId) -> bool {
        self.whole.get(shape).copied().unwrap_or(false)
    }

    /// True when an object can be checked against `shape` member by member as it is read: no
    /// shape it must satisfy refuses objects, holds them to an enum, or checks them whole.
    pub fn streams_object(&self, shape: ShapeId) -> bool {
        self.expanded(shape).iter().all(|id| {
            let s = &self.shapes[*id];
            s.boolean != Some(false)
                && s.kinds.is_none_or(|k| k.intersects(Kinds::OBJECT))
                && s.enum_values.is_none()
                && !self.reads_whole_value(*id)
        })
    }

    /// True when `value` passes `shape` by its type alone (the shape checks nothing else).
    pub(super) fn passes_by_type(&self, shape: ShapeId, value: &Value) -> bool {
        match self.type_only.get(shape) {
            Some(Some(kinds)) => kinds.is_none_or(|k| k.intersects(Kinds::of_json(value))),
            _ => false,
        }
    }

    fn expand_now(&self, shape: ShapeId) -> Vec<ShapeId> {
        let mut out = Vec::new();
        let mut stack = vec![shape];
        while let Some(next) = stack.pop() {
            if out.contains(&next) || out.len() > MAX_EXPANDED {
                continue;
            }
            out.push(next);
            // In schema order: a shape, then each of its parts with theirs.
            stack.extend(self.shapes[next].all_of.iter().rev().copied());
        }
        out
    }

    /// True when `shape` accepts every string: a string checked against it needs no look.
    pub fn accepts_any_text(&self, shape: ShapeId) -> bool {
        matches!(self.type_only.get(shape), Some(Some(kinds)) if kinds.is_none_or(|k| k.intersects(Kinds::STRING)))
    }

    /// A shape and every shape its `allOf`/`$ref` add.
    pub fn expanded(&self, shape: ShapeId) -> &[ShapeId] {
        &self.expanded[shape]
    }

    fn compile_node(&mut self, set: &SchemaSet, id: NodeId) -> Option<Shape> {
        let node = set.node(id);
        let doc = set.doc(node.doc?);
        let raw = crate::schema::locate::value_at(&doc.value, &node.pointer)?;
        let map = match raw {
            Value::Bool(b) => {
                return Some(Shape {
                    boolean: Some(*b),
                    ..Shape::default()
                });
            }
            Value::Object(map) => map,
            _ => return None,
        };
        if map.keys().any(|k| !is_supported(k)) || !legacy_safe(doc, map) {
            return None;
        }
        let shape_of = |n: &NodeId| self.by_node.get(n).copied();
        let mut shape = Shape {
            kinds: type_kinds(member(map, "type"))?,
            enum_values: match (member(map, "enum"), member(map, "const")) {
                (Some(Value::Array(values)), _) => Some(values.clone()),
                (Some(_), _) => return None,
                (None, Some(value)) => Some(vec![value.clone()]),
                (None, None) => None,
            },
            pattern: match member(map, "pattern") {
                Some(Value::String(p)) => Some(crate::transforms::build_regex(p).ok()?),
                Some(_) => return None,
                None => None,
            },
            min_length: count(map, "minLength")?,
            max_length: count(map, "maxLength")?,
            bounds: [
                bound(map, "minimum")?,
                bound(map, "maximum")?,
                bound(map, "exclusiveMinimum")?,
                bound(map, "exclusiveMaximum")?,
            ],
            item_count: [count(map, "minItems")?, count(map, "maxItems")?],
            required: match member(map, "required") {
                Some(Value::Array(names)) => names
                    .iter()
                    .map(|n| n.as_str().map(str::to_string))
                    .collect::<Option<_>>()?,
                Some(_) => return None,
                None => Vec::new(),
            },
            ..Shape::default()
        };
        for (name, child) in &node.properties {
            let required = shape.required.contains(name);
            shape
                .properties
                .insert(name.clone(), (shape_of(child)?, required));
        }
        shape.required_declared = shape.required.iter().enumerate().all(|(index, name)| {
            shape.properties.contains_key(name) && !shape.required[..index].contains(name)
        });
        if member(map, "properties").is_some()
            && !member(map, "properties").is_some_and(Value::is_object)
        {
            return None;
        }
        shape.additional = match (member(map, "additionalProperties"), node.additional) {
            (None, _) => None,
            (Some(_), Some(child)) => Some(shape_of(&child)?),
            (Some(_), None) => return None,
        };
        shape.items = match (member(map, "items"), node.items) {
            (None, _) => None,
            (Some(_), Some(child)) => Some(shape_of(&child)?),
            (Some(_), None) => return None,
        };
        if member(map, "$ref").is_some() {
            shape.all_of.push(shape_of(&node.reference?)?);
        }
        for part in &node.all_of {
            shape.all_of.push(shape_of(part)?);
        }
        let branches = |keyword: &str| -> Option<Vec<ShapeId>> {
            let count = map
                .get(keyword)
                .map(|v| v.as_array().map(Vec::len))
                .unwrap_or(Some(0))?;
            (0..count)
                .map(|i| {
                    set_lookup(set, node.doc?, &format!("{}/{keyword}/{i}", node.pointer))
                        .and_then(|n| shape_of(&n))
                })
                .collect()
        };
        shape.any_of = branches("anyOf")?;
        shape.one_of = branches("oneOf")?;
        if member(map, "not").is_some() {
            shape.not = Some(
                set_lookup(set, node.doc?, &format!("{}/not", node.pointer))
                    .and_then(|n| shape_of(&n))?,
            );
        }
        if let Some(format) = member(map, "format") {
            let name = format.as_str()?;
            shape.format = Some(match self.formats.iter().position(|f| f.name() == name) {
                Some(index) => index,
                None => {
                    self.formats.push(FormatCheck::new(name));
                    self.formats.len() - 1
                }
            });
        }
        Some(shape)
    }
}

fn type_kinds(value: Option<&Value>) -> Option<Option<Kinds>> {
    let one = |name: &str| Kinds::from_type_name(name);
    match value {
        None => Some(None),
        Some(Value::String(name)) => Some(Some(one(name)?)),
        Some(Value::Array(names)) => {
            let mut kinds = Kinds::NONE;
            for name in names {
                kinds = kinds.or(one(name.as_str()?)?);
            }
            Some(Some(kinds))
        }
        Some(_) => None,
    }
}

fn count(map: &Map<String, Value>, key: &str) -> Option<Option<u64>> {
    match member(map, key) {
        None => Some(None),
        Some(value) => value.as_u64().map(Some).or_else(|| {
            value
                .as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                .map(|f| Some(f as u64))
        }),
    }
}

/// A numeric bound of a schema: the float it is compared as (as the tree validator compares
/// it; beyond a float's range, infinite) and its text as written, for messages.
#[derive(Debug, Clone, PartialEq)]
pub struct Bound {
    /// The value compared against.
    pub value: f64,
    /// The bound with its digits as written.
    pub text: serde_json::Number,
}

impl Bound {
    /// The bound `number`.
    pub fn of(number: &serde_json::Number) -> Bound {
        Bound {
            value: number.as_str().parse().unwrap_or(f64::NAN),
            text: number.clone(),
        }
    }
}

fn bound(map: &Map<String, Value>, key: &str) -> Option<Option<Bound>> {
    match member(map, key) {
        None => Some(None),
        Some(Value::Number(n)) => Some(Some(Bound::of(n))),
        Some(_) => None,
    }
}

/// True for keywords the fast validator understands, and for `x-` extension keywords: they are
/// annotations (mapctl's own `x-mapctl-*` labels among them) and constrain nothing.
fn is_supported(keyword: &str) -> bool {
    SUPPORTED.contains(&keyword) || keyword.starts_with("x-")
}

/// In draft-07 and earlier, `$ref` hides its siblings; such schemas are left to `jsonschema`.
fn legacy_safe(doc: &crate::schema::model::Doc, map: &Map<String, Value>) -> bool {
    let dialect = doc
        .value
        .get("$schema")
        .and_then(Value::as_str)
        .unwrap_or("");
    let legacy = dialect.contains("draft-0");
    !(legacy
        && member(map, "$ref").is_some()
        && map
            .keys()
            .any(|k| !matches!(k.as_str(), "$ref" | "description" | "title" | "$comment")))
}

/// The node a pointer names, when the checker compiled it.
fn set_lookup(set: &SchemaSet, doc: crate::schema::model::DocId, pointer: &str) -> Option<NodeId> {
    set.node_id(doc, pointer)
}

/// The nodes a node's keywords point to.
fn children(set: &SchemaSet, id: NodeId) -> Vec<NodeId> {
    let node = set.node(id);
    let mut out: Vec<NodeId> = node.properties.iter().map(|(_, c)| *c).collect();
    out.extend(node.additional);
    out.extend(node.items);
    out.extend(node.reference);
    out.extend(&node.all_of);
    out.extend(&node.any_of);
    if let Some(doc) = node.doc
        && let Some(not) = set.node_id(doc, &format!("{}/not", node.pointer))
    {
        out.push(not);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Shapes that check only the type (each kind alone, text or null, anything), and a
    /// number shape with a bound, which is checked in full.
    fn type_shapes() -> Vec<Shape> {
        let kinds = [
            Kinds::NULL,
            Kinds::BOOL,
            Kinds::INT,
            Kinds::INT.or(Kinds::FRAC),
            Kinds::STRING,
            Kinds::STRING.or(Kinds::NULL),
            Kinds::OBJECT,
        ];
        let mut shapes: Vec<Shape> = kinds
            .iter()
            .map(|k| Shape {
                kinds: Some(*k),
                ..Shape::default()
            })
            .collect();
        shapes.push(Shape::default());
        shapes.push(Shape {
            kinds: Some(Kinds::INT.or(Kinds::FRAC)),
            bounds: [Some(Bound::of(&0.into())), None, None, None],
            ..Shape::default()
        });
        shapes
    }

    #[test]
    fn extension_keywords_are_annotations_and_other_unknown_keywords_fall_back() {
        assert!(is_supported("x-mapctl-labels"));
        assert!(is_supported("enum"));
        assert!(!is_supported("dependentRequired"));
        assert!(!is_supported("xmapctl"));
    }

    proptest! {
        /// The type-only shortcut answers as the full check does, for every kind of value.
        #[test]
        fn type_only_shapes_answer_as_the_full_check(
            shape in 0usize..9,
            value in prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::from),
                any::<i64>().prop_map(Value::from),
                any::<f64>().prop_map(Value::from),
                "[a-z]{0,4}".prop_map(Value::from),
                Just(serde_json::json!({"a": 1})),
                Just(serde_json::json!([1, "x"])),
            ],
        ) {
            let mut indexed = Shapes { shapes: type_shapes(), ..Shapes::default() };
            indexed.index();
            let full = Shapes { shapes: type_shapes(), ..Shapes::default() };
            prop_assert_eq!(indexed.is_valid(shape, &value), full.is_valid(shape, &value));
            let mut found = Vec::new();
            indexed.validate(shape, &value, &mut String::new(), &mut found, 10);
            prop_assert_eq!(found.is_empty(), full.is_valid(shape, &value), "{}", value);
        }
    }
}
