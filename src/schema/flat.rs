//! The effective constraints of a subschema: `$ref`, `allOf`, `anyOf` and `oneOf` folded away.
//!
//! A [`Flat`] answers the checker's questions (what kinds can this be, which enum values, which
//! properties, is it required) without the checker walking combinators itself. Property and item
//! types stay lazy as a [`Dnf`]: an OR of ANDs of nodes, flattened only when a path steps into
//! them. Cycles (`$ref` back to an ancestor through `allOf`) stop with "no information".

use rustc_hash::{FxHashMap, FxHashSet};
use std::cell::RefCell;
use std::rc::Rc;

use indexmap::IndexMap;
use serde_json::Value;

use super::model::{NodeId, SchemaSet};
use crate::value::Kinds;

/// An OR of ANDs of schema nodes. `[[]]` means "anything"; `[]` means "nothing".
pub type Dnf = Vec<Vec<NodeId>>;

/// Most disjuncts kept in a [`Dnf`]; beyond it, precision is dropped rather than time spent.
const MAX_DISJUNCTS: usize = 16;

/// Whether an object accepts properties it does not list.
#[derive(Debug, Clone, PartialEq)]
pub enum Additional {
    /// Any other property, of any type.
    Any,
    /// Other properties, of this type.
    Typed(Dnf),
    /// No other property.
    Closed,
}

/// The effective constraints of a schema.
#[derive(Debug, Clone)]
pub struct Flat {
    /// The kinds a value may have.
    pub kinds: Kinds,
    /// The allowed values, when enumerated.
    pub enum_values: Option<Vec<Value>>,
    /// `format`.
    pub format: Option<String>,
    /// `pattern`s that all apply.
    pub patterns: Vec<String>,
    /// `maxLength`.
    pub max_length: Option<u64>,
    /// `minLength`.
    pub min_length: Option<u64>,
    /// Inclusive lower bound and whether it is exclusive.
    pub minimum: Option<(f64, bool)>,
    /// Inclusive upper bound and whether it is exclusive.
    pub maximum: Option<(f64, bool)>,
    /// Properties by name.
    pub properties: IndexMap<String, Dnf>,
    /// Required property names.
    pub required: Vec<String>,
    /// `patternProperties`: the properties whose names match a pattern, and their types (a name
    /// that matches one is not an additional property).
    pub pattern_properties: Vec<(String, Dnf)>,
    /// Properties not listed.
    pub additional: Additional,
    /// Array items.
    pub items: Option<Dnf>,
    /// `title`.
    pub title: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// True when a `default` is given.
    pub has_default: bool,
    /// The nodes this was flattened from (for locating it in files).
    pub origin: Vec<NodeId>,
}

impl Flat {
    /// No constraint at all.
    pub fn any() -> Flat {
        Flat {
            kinds: Kinds::JSON,
            enum_values: None,
            format: None,
            patterns: Vec::new(),
            max_length: None,
            min_length: None,
            minimum: None,
            maximum: None,
            properties: IndexMap::new(),
            required: Vec::new(),
            pattern_properties: Vec::new(),
            additional: Additional::Any,
            items: None,
            title: None,
            description: None,
            has_default: false,
            origin: Vec::new(),
        }
    }

    /// Nothing is valid.
    pub fn never() -> Flat {
        Flat {
            kinds: Kinds::NONE,
            ..Flat::any()
        }
    }

    /// True when the value may be null (so read as absent).
    pub fn nullable(&self) -> bool {
        self.kinds.contains(Kinds::NULL)
    }

    /// Enum values without null.
    pub fn non_null_enum(&self) -> Option<Vec<&Value>> {
        self.enum_values
            .as_ref()
            .map(|values| values.iter().filter(|v| !v.is_null()).collect())
    }

    fn intersect(mut self, other: &Flat) -> Flat {
        self.kinds = self.kinds.and(other.kinds);
        self.enum_values = match (self.enum_values.take(), &other.enum_values) {
            (Some(a), Some(b)) => Some(a.into_iter().filter(|v| b.contains(v)).collect()),
            (a, b) => a.or_else(|| b.clone()),
        };
        self.format = self.format.or_else(|| other.format.clone());
        for pattern in &other.patterns {
            if !self.patterns.contains(pattern) {
                self.patterns.push(pattern.clone());
            }
        }
        self.max_length = min_opt(self.max_length, other.max_length);
        self.min_length = self.min_length.max(other.min_length);
        self.minimum = pick_bound(self.minimum, other.minimum, |a, b| a > b);
        self.maximum = pick_bound(self.maximum, other.maximum, |a, b| a < b);
        for (name, dnf) in &other.properties {
            let merged = match self.properties.get(name) {
                Some(existing) => dnf_and(existing, dnf),
                None => dnf.clone(),
            };
            self.properties.insert(name.clone(), merged);
        }
        for name in &other.required {
            if !self.required.contains(name) {
                self.required.push(name.clone());
            }
        }
        for (pattern, dnf) in &other.pattern_properties {
            self.pattern_properties.push((pattern.clone(), dnf.clone()));
        }
        self.additional = match (&self.additional, &other.additional) {
            (Additional::Closed, _) | (_, Additional::Closed) => Additional::Closed,
            (Additional::Typed(a), Additional::Typed(b)) => Additional::Typed(dnf_and(a, b)),
            (Additional::Typed(a), Additional::Any) | (Additional::Any, Additional::Typed(a)) => {
                Additional::Typed(a.clone())
            }
            (Additional::Any, Additional::Any) => Additional::Any,
        };
        self.items = match (self.items.take(), &other.items) {
            (Some(a), Some(b)) => Some(dnf_and(&a, b)),
            (a, b) => a.or_else(|| b.clone()),
        };
        self.title = self.title.or_else(|| other.title.clone());
        self.description = self.description.or_else(|| other.description.clone());
        self.has_default |= other.has_default;
        merge_origin(&mut self.origin, &other.origin);
        self
    }

    fn union(mut self, other: &Flat) -> Flat {
        if self.kinds.is_none() {
            return other.clone();
        }
        if other.kinds.is_none() {
            return self;
        }
        self.kinds = self.kinds.or(other.kinds);
        self.enum_values = match (self.enum_values.take(), &other.enum_values) {
            (Some(mut a), Some(b)) => {
                a.extend(
                    b.iter()
                        .filter(|v| !a.contains(v))
                        .cloned()
                        .collect::<Vec<_>>(),
                );
                Some(a)
            }
            _ => None,
        };
        if self.format != other.format {
            self.format = None;
        }
        if self.patterns != other.patterns {
            self.patterns.clear();
        }
        self.max_length = self.max_length.zip(other.max_length).map(|(a, b)| a.max(b));
        self.min_length = self.min_length.zip(other.min_length).map(|(a, b)| a.min(b));
        self.minimum = self
            .minimum
            .zip(other.minimum)
            .map(|(a, b)| if a.0 < b.0 { a } else { b });
        self.maximum = self
            .maximum
            .zip(other.maximum)
            .map(|(a, b)| if a.0 > b.0 { a } else { b });
        let mut names: Vec<String> = self.properties.keys().cloned().collect();
        names.extend(
            other
                .properties
                .keys()
                .filter(|n| !self.properties.contains_key(*n))
                .cloned(),
        );
        let mut merged = IndexMap::new();
        for name in names {
            let mut dnf = self.property_dnf(&name);
            dnf.extend(other.property_dnf(&name));
            dnf.truncate(MAX_DISJUNCTS);
            merged.insert(name, dnf);
        }
        self.properties = merged;
        self.required.retain(|name| other.required.contains(name));
        // Either branch's patterns may be the one that applies: a name they match is typed by
        // neither here (it falls back to `additional`, which is then weaker).
        self.pattern_properties.clear();
        self.additional = match (&self.additional, &other.additional) {
            (Additional::Closed, Additional::Closed) => Additional::Closed,
            (Additional::Typed(a), Additional::Typed(b)) => {
                let mut dnf = a.clone();
                dnf.extend(b.iter().cloned());
                Additional::Typed(dnf)
            }
            _ => Additional::Any,
        };
        self.items = match (self.items.take(), &other.items) {
            (Some(mut a), Some(b)) => {
                a.extend(b.iter().cloned());
                Some(a)
            }
            _ => None,
        };
        self.title = self.title.or_else(|| other.title.clone());
        self.description = self.description.or_else(|| other.description.clone());
        self.has_default |= other.has_default;
        merge_origin(&mut self.origin, &other.origin);
        self
    }

    /// The DNF of a property as this object sees it (declared, additional, or nothing).
    fn property_dnf(&self, name: &str) -> Dnf {
        match (self.properties.get(name), &self.additional) {
            (Some(dnf), _) => dnf.clone(),
            (None, Additional::Any) => vec![Vec::new()],
            (None, Additional::Typed(dnf)) => dnf.clone(),
            (None, Additional::Closed) => Vec::new(),
        }
    }
}

/// Adds the nodes of `more` not yet in `origin`, keeping at most [`MAX_ORIGIN`]: a schema whose
/// parts share parts (`allOf: [a, a]` nested) must not double its origin at every level.
fn merge_origin(origin: &mut Vec<NodeId>, more: &[NodeId]) {
    for id in more {
        if origin.len() >= MAX_ORIGIN {
            return;
        }
        if !origin.contains(id) {
            origin.push(*id);
        }
    }
}

/// Most nodes a [`Flat`] remembers it came from (the first are the ones diagnostics point at).
const MAX_ORIGIN: usize = 64;

fn min_opt(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn pick_bound(
    a: Option<(f64, bool)>,
    b: Option<(f64, bool)>,
    tighter: fn(f64, f64) -> bool,
) -> Option<(f64, bool)> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if tighter(b.0, a.0) { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// The conjunction of two DNFs.
fn dnf_and(a: &Dnf, b: &Dnf) -> Dnf {
    let mut out = Vec::new();
    for left in a {
        for right in b {
            let mut both = left.clone();
            both.extend(right.iter().copied());
            out.push(both);
            if out.len() >= MAX_DISJUNCTS {
                return out;
            }
        }
    }
    out
}

/// Flattens nodes, caching per node.
#[derive(Debug, Default)]
pub struct Flattener {
    // Keyed by node numbers this program assigns in order: a fast hash cannot be steered.
    cache: RefCell<FxHashMap<NodeId, Rc<Flat>>>,
    visiting: RefCell<FxHashSet<NodeId>>,
}

impl Flattener {
    /// A flattener with an empty cache.
    pub fn new() -> Flattener {
        Flattener::default()
    }

    /// The effective constraints of a DNF.
    pub fn dnf(&self, set: &SchemaSet, dnf: &Dnf) -> Rc<Flat> {
        if let [single] = dnf.as_slice()
            && let [node] = single.as_slice()
        {
            return self.node(set, *node);
        }
        let mut result = Flat::never();
        for conjunction in dnf {
            let mut flat = Flat::any();
            for node in conjunction {
                flat = flat.intersect(&self.node(set, *node));
            }
            result = result.union(&flat);
        }
        Rc::new(result)
    }

    /// The effective constraints of one node.
    pub fn node(&self, set: &SchemaSet, id: NodeId) -> Rc<Flat> {
        if let Some(flat) = self.cache.borrow().get(&id) {
            return flat.clone();
        }
        if !self.visiting.borrow_mut().insert(id) {
            return Rc::new(Flat::any());
        }
        let flat = Rc::new(self.compute(set, id));
        self.visiting.borrow_mut().remove(&id);
        self.cache.borrow_mut().insert(id, flat.clone());
        flat
    }

    fn compute(&self, set: &SchemaSet, id: NodeId) -> Flat {
        let node = set.node(id);
        match node.boolean {
            Some(true) => return Flat::any(),
            Some(false) => return Flat::never(),
            None => {}
        }
        let mut flat = Flat::any();
        flat.origin.push(id);
        if let Some(kinds) = node.kinds {
            flat.kinds = kinds;
        }
        if let Some(values) = &node.enum_values {
            flat.kinds = flat.kinds.and(
                values
                    .iter()
                    .map(Kinds::of_json)
                    .fold(Kinds::NONE, Kinds::or)
                    .or(int_as_number(values)),
            );
            flat.enum_values = Some(values.clone());
        }
        if let Some(value) = &node.const_value {
            flat.kinds = flat
                .kinds
                .and(Kinds::of_json(value).or(int_as_number(std::slice::from_ref(value))));
            flat.enum_values = Some(vec![value.clone()]);
        }
        flat.format = node.format.clone();
        flat.patterns = node.pattern.iter().cloned().collect();
        flat.max_length = node.max_length;
        flat.min_length = node.min_length;
        flat.minimum = node
            .exclusive_minimum
            .map(|m| (m, true))
            .or(node.minimum.map(|m| (m, false)));
        flat.maximum = node
            .exclusive_maximum
            .map(|m| (m, true))
            .or(node.maximum.map(|m| (m, false)));
        flat.properties = node
            .properties
            .iter()
            .map(|(name, child)| (name.clone(), vec![vec![*child]]))
            .collect();
        flat.required = node.required.clone();
        flat.pattern_properties = node
            .pattern_properties
            .iter()
            .map(|(pattern, child)| (pattern.clone(), vec![vec![*child]]))
            .collect();
        flat.additional = match node.additional.map(|a| set.node(a).boolean) {
            None => Additional::Any,
            Some(Some(false)) => Additional::Closed,
            Some(Some(true)) => Additional::Any,
            Some(None) => Additional::Typed(vec![vec![node.additional.unwrap_or(id)]]),
        };
        flat.items = node.items.map(|items| vec![vec![items]]);
        flat.title = node.title.clone();
        flat.description = node.description.clone();
        flat.has_default = node.has_default;
        if let Some(target) = node.reference {
            flat = flat.intersect(&self.node(set, target));
        }
        for part in &node.all_of {
            flat = flat.intersect(&self.node(set, *part));
        }
        if !node.any_of.is_empty() {
            let mut alternatives = Flat::never();
            for branch in &node.any_of {
                alternatives = alternatives.union(&self.node(set, *branch));
            }
            flat = flat.intersect(&alternatives);
        }
        flat
    }
}

/// Whole numbers in an enum also satisfy `"type": "number"`.
fn int_as_number(values: &[Value]) -> Kinds {
    if values.iter().any(|v| v.is_number()) {
        Kinds::NUMBER.and(Kinds::INT)
    } else {
        Kinds::NONE
    }
}
