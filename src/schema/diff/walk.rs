//! Walking two versions of a schema side by side: each field's type, its enum values (with
//! their labels and pipelines), its properties (with `required`) and its items.
//!
//! Fields are compared through their effective constraints ([`Flat`]). A pair of nodes is
//! compared once, and the walk stops at a fixed depth, so `$ref` cycles end.

use std::collections::HashSet;
use std::rc::Rc;

use serde_json::{Map, Value};

use super::{Change, ChangeKind, FieldType, FieldValues, Step, Version};
use crate::schema::import::{LABELS, PIPELINES, VENDOR_TYPE, label_key};
use crate::schema::labels::{ValueLabels, annotation};
use crate::schema::load::try_span_at;
use crate::schema::locate::{escape_segment, value_at};
use crate::schema::{Dnf, Flat, Flattener, NodeId, SchemaSet};
use crate::source::{SourceMap, Span};
use crate::value::Kinds;
use crate::value::json_equal;

/// Deepest field path compared.
const MAX_DEPTH: usize = 48;

/// The state of one comparison.
pub(super) struct Walker<'a> {
    sources: &'a SourceMap,
    old: Side<'a>,
    new: Side<'a>,
    changes: Vec<Change>,
    values: Vec<FieldValues>,
    seen: HashSet<(NodeId, NodeId)>,
}

/// One version and the flattener that serves it.
struct Side<'a> {
    set: &'a SchemaSet,
    root: NodeId,
    flattener: Flattener,
}

impl<'a> Side<'a> {
    fn flat(&self, dnf: &Dnf) -> Rc<Flat> {
        self.flattener.dnf(self.set, dnf)
    }

    /// The value of annotation `key` on any node `flat` was made from.
    fn annotation(&self, flat: &Flat, key: &str) -> Option<&'a Value> {
        annotation(self.set, flat, key)
    }

    /// The JSON of a node.
    fn raw(&self, node: NodeId) -> Option<&'a Value> {
        let node = self.set.node(node);
        value_at(&self.set.doc(node.doc?).value, &node.pointer)
    }

    /// Where `flat` (or its keyword at `suffix`, e.g. `/enum/2`) is written.
    fn span(&self, sources: &SourceMap, flat: &Flat, suffix: &str) -> Option<Span> {
        let node = self.set.node(*flat.origin.first()?);
        let file = self.set.doc(node.doc?).file;
        try_span_at(sources, file, &format!("{}{suffix}", node.pointer))
            .or_else(|| try_span_at(sources, file, &node.pointer))
    }

    /// Where enum value `value` is listed.
    fn value_span(&self, sources: &SourceMap, flat: &Flat, value: &Value) -> Option<Span> {
        flat.origin.iter().find_map(|id| {
            let values = self.raw(*id)?.get("enum")?.as_array()?;
            let index = values.iter().position(|v| json_equal(v, value))?;
            let node = self.set.node(*id);
            let file = self.set.doc(node.doc?).file;
            try_span_at(sources, file, &format!("{}/enum/{index}", node.pointer))
        })
    }

    /// The labels (`x-mapctl-labels`) of a field's values.
    fn labels(&self, flat: &Flat) -> Option<&'a Map<String, Value>> {
        self.annotation(flat, LABELS)?.as_object()
    }

    /// The pipelines of each stage (`x-mapctl-pipelines`).
    fn pipelines(&self, flat: &Flat) -> Option<&'a Map<String, Value>> {
        self.annotation(flat, PIPELINES)?.as_object()
    }

    fn field_type(&self, flat: &Flat) -> FieldType {
        FieldType {
            kinds: flat.kinds,
            enumerated: flat.non_null_enum().is_some_and(|v| !v.is_empty()),
            format: flat.format.clone(),
            patterns: flat.patterns.clone(),
            vendor: self
                .annotation(flat, VENDOR_TYPE)
                .and_then(Value::as_str)
                .map(str::to_string),
        }
    }
}

impl<'a> Walker<'a> {
    pub(super) fn new(sources: &'a SourceMap, old: Version<'a>, new: Version<'a>) -> Walker<'a> {
        let side = |v: Version<'a>| Side {
            set: v.set,
            root: v.root,
            flattener: Flattener::new(),
        };
        Walker {
            sources,
            old: side(old),
            new: side(new),
            changes: Vec::new(),
            values: Vec::new(),
            seen: HashSet::new(),
        }
    }

    /// The changes, and the values of every enumerated field with labels in either version.
    pub(super) fn run(mut self) -> (Vec<Change>, Vec<FieldValues>) {
        let old = self.old.flattener.node(self.old.set, self.old.root);
        let new = self.new.flattener.node(self.new.set, self.new.root);
        self.compare(&mut Vec::new(), &old, &new, 0);
        (self.changes, self.values)
    }

    fn push(
        &mut self,
        path: &[Step],
        kind: ChangeKind,
        old_span: Option<Span>,
        new_span: Option<Span>,
    ) {
        self.changes.push(Change {
            path: path.to_vec(),
            kind,
            old_span,
            new_span,
        });
    }

    fn compare(&mut self, path: &mut Vec<Step>, old: &Flat, new: &Flat, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        if let (Some(o), Some(n)) = (old.origin.first(), new.origin.first())
            && !self.seen.insert((*o, *n))
        {
            return;
        }
        let (old_type, new_type) = (self.old.field_type(old), self.new.field_type(new));
        if old_type != new_type {
            let spans = (
                self.old.span(self.sources, old, ""),
                self.new.span(self.sources, new, ""),
            );
            self.push(
                path,
                ChangeKind::Retyped {
                    old: old_type,
                    new: new_type,
                },
                spans.0,
                spans.1,
            );
        }
        self.compare_values(path, old, new);
        if old.kinds.intersects(Kinds::OBJECT) && new.kinds.intersects(Kinds::OBJECT) {
            self.compare_properties(path, old, new, depth);
        }
        if old.kinds.intersects(Kinds::ARRAY) && new.kinds.intersects(Kinds::ARRAY) {
            self.compare_items(path, old, new, depth);
        }
    }

    /// Enum values removed, added, relabelled, and stages moved between pipelines.
    fn compare_values(&mut self, path: &[Step], old: &Flat, new: &Flat) {
        let (Some(old_values), Some(new_values)) = (old.non_null_enum(), new.non_null_enum())
        else {
            return;
        };
        let has = |list: &[&Value], v: &Value| list.iter().any(|x| json_equal(x, v));
        let (old_labels, new_labels) = (self.old.labels(old), self.new.labels(new));
        let label = |labels: Option<&Map<String, Value>>, v: &Value| {
            labels
                .and_then(|l| l.get(&label_key(v)))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        for value in old_values.iter().filter(|v| !has(&new_values, v)) {
            let kind = ChangeKind::ValueRemoved {
                value: (*value).clone(),
                label: label(old_labels, value),
            };
            let span = self.old.value_span(self.sources, old, value);
            self.push(path, kind, span, self.new.span(self.sources, new, "/enum"));
        }
        for value in new_values.iter().filter(|v| !has(&old_values, v)) {
            let kind = ChangeKind::ValueAdded {
                value: (*value).clone(),
                label: label(new_labels, value),
            };
            let span = self.new.value_span(self.sources, new, value);
            self.push(path, kind, self.old.span(self.sources, old, "/enum"), span);
        }
        for value in old_values.iter().filter(|v| has(&new_values, v)) {
            self.compare_value_annotations(path, old, new, value);
        }
        if let (Some(before), Some(after)) = (
            ValueLabels::of(self.old.set, old),
            ValueLabels::of(self.new.set, new),
        ) && (before.has_labels() || after.has_labels())
        {
            self.values.push(FieldValues {
                path: path.to_vec(),
                old: before,
                new: after,
                new_span: self.new.span(self.sources, new, &format!("/{LABELS}")),
            });
        }
    }

    /// A value both versions list: its label and its pipelines.
    fn compare_value_annotations(&mut self, path: &[Step], old: &Flat, new: &Flat, value: &Value) {
        let key = label_key(value);
        let text = |m: Option<&Map<String, Value>>| m.and_then(|m| m.get(&key)).cloned();
        if let (Some(Value::String(before)), Some(Value::String(after))) =
            (text(self.old.labels(old)), text(self.new.labels(new)))
            && before != after
        {
            let suffix = format!("/{LABELS}/{}", escape_segment(&key));
            let spans = (
                self.old.span(self.sources, old, &suffix),
                self.new.span(self.sources, new, &suffix),
            );
            let kind = ChangeKind::Relabelled {
                value: value.clone(),
                old: before,
                new: after,
            };
            self.push(path, kind, spans.0, spans.1);
        }
        if let (Some(before), Some(after)) =
            (text(self.old.pipelines(old)), text(self.new.pipelines(new)))
            && before != after
        {
            let suffix = format!("/{PIPELINES}/{}", escape_segment(&key));
            let spans = (
                self.old.span(self.sources, old, &suffix),
                self.new.span(self.sources, new, &suffix),
            );
            let kind = ChangeKind::StageMoved {
                value: value.clone(),
                old: names(&before),
                new: names(&after),
            };
            self.push(path, kind, spans.0, spans.1);
        }
    }

    /// Properties removed, added, required or not, and changed (recursively).
    fn compare_properties(&mut self, path: &mut Vec<Step>, old: &Flat, new: &Flat, depth: usize) {
        let mut names: Vec<&String> = old.properties.keys().collect();
        names.extend(
            new.properties
                .keys()
                .filter(|n| !old.properties.contains_key(*n)),
        );
        for name in names {
            path.push(Step::Field(name.clone()));
            let required = (old.required.contains(name), new.required.contains(name));
            match (old.properties.get(name), new.properties.get(name)) {
                (Some(before), Some(after)) => {
                    let (before, after) = (self.old.flat(before), self.new.flat(after));
                    self.compare_required(path, old, new, required);
                    self.compare(path, &before, &after, depth + 1);
                }
                (Some(before), None) => {
                    let before = self.old.flat(before);
                    let span = self.old.span(self.sources, &before, "");
                    self.push(path, ChangeKind::Removed, span, None);
                }
                (None, Some(after)) => {
                    let after = self.new.flat(after);
                    let span = self.new.span(self.sources, &after, "");
                    self.push(
                        path,
                        ChangeKind::Added {
                            required: required.1,
                        },
                        None,
                        span,
                    );
                }
                (None, None) => {}
            }
            path.pop();
        }
    }

    fn compare_required(&mut self, path: &[Step], old: &Flat, new: &Flat, required: (bool, bool)) {
        let kind = match required {
            (false, true) => ChangeKind::NowRequired,
            (true, false) => ChangeKind::NoLongerRequired,
            _ => return,
        };
        let spans = (
            self.old.span(self.sources, old, "/required"),
            self.new.span(self.sources, new, "/required"),
        );
        self.push(path, kind, spans.0, spans.1);
    }

    /// Array items: branch by branch when both versions tell the elements apart by the same
    /// constant member, else as one element type.
    fn compare_items(&mut self, path: &mut Vec<Step>, old: &Flat, new: &Flat, depth: usize) {
        let (Some(old_items), Some(new_items)) = (&old.items, &new.items) else {
            return;
        };
        let split = (
            discriminated(&self.old, old_items),
            discriminated(&self.new, new_items),
        );
        if let (Some((key, before)), Some((new_key, after))) = split
            && key == new_key
        {
            self.compare_branches(path, &key, &before, &after, depth);
            return;
        }
        let (before, after) = (self.old.flat(old_items), self.new.flat(new_items));
        path.push(Step::Items);
        self.compare(path, &before, &after, depth + 1);
        path.pop();
    }

    fn compare_branches(
        &mut self,
        path: &mut Vec<Step>,
        key: &str,
        old: &Branches,
        new: &Branches,
        depth: usize,
    ) {
        let find = |list: &[(Value, Rc<Flat>)], v: &Value| {
            list.iter()
                .find(|(x, _)| json_equal(x, v))
                .map(|(_, f)| f.clone())
        };
        for (value, before) in old {
            path.push(Step::Where {
                key: key.to_string(),
                value: value.clone(),
            });
            match find(new, value) {
                Some(after) => {
                    if let (Some(a), Some(b)) = (&before.title, &after.title)
                        && a != b
                    {
                        let spans = (
                            self.old.span(self.sources, before, "/title"),
                            self.new.span(self.sources, &after, "/title"),
                        );
                        let kind = ChangeKind::Relabelled {
                            value: value.clone(),
                            old: a.clone(),
                            new: b.clone(),
                        };
                        self.push(path, kind, spans.0, spans.1);
                    }
                    self.compare(path, before, &after, depth + 1);
                }
                None => {
                    let span = self.old.span(self.sources, before, &member(key));
                    self.push(path, ChangeKind::Removed, span, None);
                }
            }
            path.pop();
        }
        for (value, after) in new.iter().filter(|(v, _)| find(old, v).is_none()) {
            path.push(Step::Where {
                key: key.to_string(),
                value: value.clone(),
            });
            let span = self.new.span(self.sources, after, &member(key));
            self.push(path, ChangeKind::Added { required: false }, None, span);
            path.pop();
        }
    }
}

/// The branches of an array's items, each with the value of the member that names it.
type Branches = Vec<(Value, Rc<Flat>)>;

/// The pointer suffix of a branch's member `key` (the constant that names the branch).
fn member(key: &str) -> String {
    format!("/properties/{}", escape_segment(key))
}

/// The names in a pipelines annotation entry (`["default"]`).
fn names(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items.iter().map(label_key).collect(),
        other => vec![label_key(other)],
    }
}

/// When `items` is one node whose `anyOf`/`oneOf` branches each fix the same member to one
/// value: that member's name and each branch by its value. Branches fixing nothing (a
/// catch-all for elements the schema does not know) are left out.
fn discriminated(side: &Side<'_>, items: &Dnf) -> Option<(String, Branches)> {
    let [single] = items.as_slice() else {
        return None;
    };
    let [first] = single.as_slice() else {
        return None;
    };
    let mut node = *first;
    for _ in 0..8 {
        match side.set.node(node).reference {
            Some(target) if side.set.node(node).any_of.is_empty() => node = target,
            _ => break,
        }
    }
    let branches = &side.set.node(node).any_of;
    let mut key: Option<String> = None;
    let mut out = Vec::new();
    for branch in branches {
        let flat = side.flattener.node(side.set, *branch);
        let Some((name, value)) = constant_member(side, &flat) else {
            continue;
        };
        if key.get_or_insert_with(|| name.clone()) != &name {
            return None;
        }
        out.push((value, flat));
    }
    (out.len() >= 2 || (out.len() == 1 && branches.len() > 1)).then_some(())?;
    key.map(|k| (k, out))
}

/// The first member of `flat` whose only allowed value is one constant.
fn constant_member(side: &Side<'_>, flat: &Flat) -> Option<(String, Value)> {
    flat.properties.iter().find_map(|(name, dnf)| {
        let member = side.flat(dnf);
        match member.enum_values.as_deref() {
            Some([only]) => Some((name.clone(), only.clone())),
            _ => None,
        }
    })
}
