//! Records built field by field: the fast path's way to build a target record.
//!
//! Most mappings write each target field at a path that no other target path contains (none is
//! `project.client` while another is `project.client.id`). Their records are built as a table of
//! field values in a [`FieldLayout`] compiled once per mapping: a write stores its value by index,
//! with no key copied or hashed; the record is validated field by field against shapes found in
//! advance, and written out with keys quoted in advance. It gives the same JSON as building the
//! tree, with members in the order they were first written.

use std::borrow::Cow;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::shape::{ShapeId, Shapes};
use crate::io::compact;
use crate::value::Kinds;
use crate::value::path::{PathStep, read_steps};

/// The root of a layout.
const ROOT: usize = 0;
/// `first_write` of a field nothing was written under.
const UNWRITTEN: u32 = u32::MAX;

/// The target fields a mapping writes, as a tree of field names.
#[derive(Debug)]
pub struct FieldLayout {
    nodes: Vec<LayoutNode>,
    /// The field each write targets, by write number.
    field_of_write: Vec<usize>,
    /// True when every object on the way to a field is checked by [`Fields::is_valid`]; else
    /// records are validated as JSON trees.
    checked_by_field: bool,
}

#[derive(Debug)]
struct LayoutNode {
    key: String,
    parent: usize,
    /// `"key":`, escaped.
    quoted_key: Vec<u8>,
    children: Vec<usize>,
    /// The shape the value here must satisfy (`None`: anything).
    shape: Option<ShapeId>,
    /// The children the shape requires (objects only).
    required_children: Vec<usize>,
    /// True when the shape requires a member no write produces.
    requires_unwritten: bool,
}

impl LayoutNode {
    fn new(key: &str, parent: usize) -> LayoutNode {
        let mut quoted_key = Vec::with_capacity(key.len() + 3);
        compact::write_str(key, &mut quoted_key);
        quoted_key.push(b':');
        LayoutNode {
            key: key.to_string(),
            parent,
            quoted_key,
            children: Vec::new(),
            shape: None,
            required_children: Vec::new(),
            requires_unwritten: false,
        }
    }
}

impl FieldLayout {
    /// The layout of `targets`: (write number, path of field names) in the order the writes
    /// run. `None` when one target contains another, a target is empty, or `reads` (the target
    /// paths the mapping reads) names an object the writes build. `root` is the target schema's
    /// compiled shape, when it has one.
    pub fn compile<'t>(
        targets: impl IntoIterator<Item = (usize, &'t [String])>,
        reads: &[&[PathStep]],
        shapes: &Shapes,
        root: Option<ShapeId>,
    ) -> Option<FieldLayout> {
        let mut layout = FieldLayout {
            nodes: vec![LayoutNode::new("", ROOT)],
            field_of_write: Vec::new(),
            checked_by_field: root.is_some(),
        };
        for (write, target) in targets {
            let field = layout.insert(target)?;
            if layout.field_of_write.len() <= write {
                layout.field_of_write.resize(write + 1, ROOT);
            }
            layout.field_of_write[write] = field;
        }
        if reads.iter().any(|steps| layout.ends_inside(steps)) {
            return None;
        }
        if let Some(root) = root {
            layout.resolve_shapes(ROOT, Some(root), shapes);
        }
        Some(layout)
    }

    /// Adds a target; `None` when it is empty or overlaps another target.
    fn insert(&mut self, target: &[String]) -> Option<usize> {
        let (last, parents) = target.split_last()?;
        let mut node = ROOT;
        for name in parents {
            node = match self.child(node, name) {
                Some(child) if self.is_target_leaf(child) => return None,
                Some(child) => child,
                None => self.add_child(node, name),
            };
        }
        match self.child(node, last) {
            Some(child) if self.is_target_leaf(child) => Some(child),
            Some(_) => None,
            None => Some(self.add_child(node, last)),
        }
    }

    fn add_child(&mut self, parent: usize, name: &str) -> usize {
        self.nodes.push(LayoutNode::new(name, parent));
        let index = self.nodes.len() - 1;
        self.nodes[parent].children.push(index);
        index
    }

    /// True when `node` is a field a write targets (it has no children: objects get theirs when
    /// they are created, from the target that passes through them).
    fn is_target_leaf(&self, node: usize) -> bool {
        node != ROOT && self.nodes[node].children.is_empty()
    }

    fn child(&self, node: usize, name: &str) -> Option<usize> {
        self.nodes[node]
            .children
            .iter()
            .copied()
            .find(|child| self.nodes[*child].key == name)
    }

    /// True when reading `steps` from the record would stop at an object the writes build.
    fn ends_inside(&self, steps: &[PathStep]) -> bool {
        let mut node = ROOT;
        for step in steps {
            if self.is_target_leaf(node) {
                return false;
            }
            let PathStep::Field(name) = step else {
                return false;
            };
            match self.child(node, name) {
                Some(child) => node = child,
                None => return false,
            }
        }
        !self.is_target_leaf(node)
    }

    /// Finds the shape of every field under `node`, and whether objects can be checked field by
    /// field (no combinators, `allOf`, `enum` or `false` schema on an object).
    fn resolve_shapes(&mut self, node: usize, shape: Option<ShapeId>, shapes: &Shapes) {
        self.nodes[node].shape = shape;
        let children = self.nodes[node].children.clone();
        if children.is_empty() && node != ROOT {
            return;
        }
        let object = shape.map(|id| &shapes.shapes[id]);
        if let Some(s) = object {
            let simple = s.boolean.is_none()
                && s.enum_values.is_none()
                && s.all_of.is_empty()
                && s.any_of.is_empty()
                && s.one_of.is_empty()
                && s.not.is_none()
                && s.kinds.is_none_or(|k| k.intersects(Kinds::OBJECT));
            if !simple {
                self.checked_by_field = false;
            }
            let mut required_children = Vec::new();
            let mut requires_unwritten = false;
            for name in &s.required {
                match self.child(node, name) {
                    Some(child) => required_children.push(child),
                    None => requires_unwritten = true,
                }
            }
            self.nodes[node].required_children = required_children;
            self.nodes[node].requires_unwritten = requires_unwritten;
        }
        for child in children {
            let child_shape = object.and_then(|s| s.member(&self.nodes[child].key).0);
            self.resolve_shapes(child, child_shape, shapes);
        }
    }
}

/// A record built field by field in a [`FieldLayout`].
#[derive(Clone)]
pub struct Fields {
    layout: Arc<FieldLayout>,
    /// The value of each target field (other nodes: `None`).
    values: Vec<Option<Value>>,
    /// For each node, the number of the first write at or under it.
    first_write: Vec<u32>,
    writes: u32,
}

impl Fields {
    /// An empty record in `layout`.
    pub fn new(layout: Arc<FieldLayout>) -> Fields {
        let count = layout.nodes.len();
        Fields {
            layout,
            values: vec![None; count],
            first_write: vec![UNWRITTEN; count],
            writes: 0,
        }
    }

    /// Sets the field write number `write` targets to `value`.
    pub fn set_by_write(&mut self, write: usize, value: Value) {
        let field = self.layout.field_of_write[write];
        self.set(field, value);
    }

    /// Sets target field `field` to `value`.
    fn set(&mut self, field: usize, value: Value) {
        self.values[field] = Some(value);
        if self.first_write[field] != UNWRITTEN {
            return;
        }
        let number = self.writes;
        self.writes += 1;
        // The field and the objects above it not yet written are first written now.
        let mut node = field;
        while self.first_write[node] == UNWRITTEN {
            self.first_write[node] = number;
            if node == ROOT {
                break;
            }
            node = self.layout.nodes[node].parent;
        }
    }

    fn is_leaf(&self, node: usize) -> bool {
        self.layout.is_target_leaf(node)
    }

    fn written(&self, node: usize) -> bool {
        self.first_write[node] != UNWRITTEN
    }

    /// The written children of `node`, in the order they were first written.
    fn ordered_children(&self, node: usize) -> Cow<'_, [usize]> {
        let children = &self.layout.nodes[node].children;
        let mut last = 0;
        let in_order = children
            .iter()
            .filter(|child| self.written(**child))
            .all(|child| {
                let first = self.first_write[*child];
                let ok = first >= last;
                last = first;
                ok
            });
        if in_order {
            return Cow::Borrowed(children);
        }
        let mut written: Vec<usize> = children
            .iter()
            .copied()
            .filter(|c| self.written(*c))
            .collect();
        written.sort_by_key(|child| self.first_write[*child]);
        Cow::Owned(written)
    }

    /// The value at `steps`.
    pub fn get(&self, steps: &[PathStep]) -> Option<&Value> {
        let mut node = ROOT;
        for (index, step) in steps.iter().enumerate() {
            if self.is_leaf(node) {
                return read_steps(self.values[node].as_ref()?, &steps[index..]);
            }
            let PathStep::Field(name) = step else {
                return None;
            };
            node = self.layout.child(node, name)?;
        }
        if self.is_leaf(node) {
            self.values[node].as_ref()
        } else {
            None
        }
    }

    /// True when the record is valid against the target schema; `None` when the layout cannot
    /// tell (validate [`Fields::to_value`] instead).
    pub fn is_valid(&self, shapes: &Shapes) -> Option<bool> {
        self.layout
            .checked_by_field
            .then(|| self.node_is_valid(ROOT, shapes))
    }

    fn node_is_valid(&self, node: usize, shapes: &Shapes) -> bool {
        let layout_node = &self.layout.nodes[node];
        if self.is_leaf(node) {
            return match (layout_node.shape, &self.values[node]) {
                (Some(shape), Some(value)) => shapes.is_valid(shape, value),
                _ => true,
            };
        }
        if layout_node.shape.is_some() {
            if layout_node.requires_unwritten {
                return false;
            }
            if !layout_node
                .required_children
                .iter()
                .all(|c| self.written(*c))
            {
                return false;
            }
        }
        layout_node
            .children
            .iter()
            .filter(|child| self.written(**child))
            .all(|child| self.node_is_valid(*child, shapes))
    }

    /// Appends the record as compact JSON.
    pub fn write_compact(&self, out: &mut Vec<u8>) {
        self.write_node(ROOT, out);
    }

    fn write_node(&self, node: usize, out: &mut Vec<u8>) {
        if self.is_leaf(node) {
            match &self.values[node] {
                Some(value) => compact::write_value(value, out),
                None => out.extend_from_slice(b"null"),
            }
            return;
        }
        out.push(b'{');
        let mut first = true;
        for child in self.ordered_children(node).iter() {
            if !self.written(*child) {
                continue;
            }
            if !first {
                out.push(b',');
            }
            first = false;
            out.extend_from_slice(&self.layout.nodes[*child].quoted_key);
            self.write_node(*child, out);
        }
        out.push(b'}');
    }

    /// The record as a JSON tree.
    pub fn to_value(&self) -> Value {
        self.tree(ROOT, &mut |field| self.values[field].clone())
    }

    /// The record as a JSON tree, its values moved.
    pub fn into_value(mut self) -> Value {
        let mut values = std::mem::take(&mut self.values);
        self.tree(ROOT, &mut |field| values[field].take())
    }

    fn tree(&self, node: usize, value_of: &mut dyn FnMut(usize) -> Option<Value>) -> Value {
        if self.is_leaf(node) {
            return value_of(node).unwrap_or(Value::Null);
        }
        let children = self.ordered_children(node);
        let mut map = Map::with_capacity(children.len());
        for child in children.iter() {
            if self.written(*child) {
                let key = self.layout.nodes[*child].key.clone();
                map.insert(key, self.tree(*child, value_of));
            }
        }
        Value::Object(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::path::write_at;
    use proptest::prelude::*;

    /// Each target with its write number.
    fn numbered<'t>(paths: &[&'t [String]]) -> Vec<(usize, &'t [String])> {
        paths.iter().copied().enumerate().collect()
    }

    /// Targets drawn (with repeats, in any order) from paths none of which contains another.
    fn targets() -> impl Strategy<Value = Vec<Vec<String>>> {
        let universe = ["a.x", "a.y", "b", "c.x.p", "c.x.q", "c.y", "d", "e.z"];
        let path = prop::sample::select(universe.to_vec())
            .prop_map(|p| p.split('.').map(str::to_string).collect::<Vec<_>>());
        prop::collection::vec(path, 1..8)
    }

    proptest! {
        /// Whatever the targets and whichever writes are skipped, a record built in a layout is
        /// the tree `write_at` builds: the same members, in the same order, the same reads.
        #[test]
        fn fields_build_what_trees_build(
            targets in targets(),
            runs in prop::collection::vec(prop::collection::vec(any::<bool>(), 8), 1..4),
        ) {
            let paths: Vec<&[String]> = targets.iter().map(Vec::as_slice).collect();
            let compiled = FieldLayout::compile(numbered(&paths), &[], &Shapes::new(), None);
            prop_assert!(compiled.is_some(), "no layout for {:?}", targets);
            let Some(layout) = compiled else { return Ok(()) };
            let mut by_field = Fields::new(Arc::new(layout));
            let mut tree = Value::Object(Map::new());
            for (round, skips) in runs.iter().enumerate() {
                for (index, target) in paths.iter().enumerate() {
                    if skips[index] {
                        continue;
                    }
                    let value = Value::from(format!("{round}-{index}"));
                    by_field.set_by_write(index, value.clone());
                    write_at(&mut tree, target, value);
                }
            }
            let mut compact = Vec::new();
            by_field.write_compact(&mut compact);
            let expected = serde_json::to_string(&tree).unwrap_or_default();
            prop_assert_eq!(String::from_utf8_lossy(&compact), expected);
            for target in &paths {
                let steps: Vec<PathStep> =
                    target.iter().map(|n| PathStep::Field(n.clone())).collect();
                prop_assert_eq!(by_field.get(&steps), read_steps(&tree, &steps));
            }
            prop_assert_eq!(by_field.clone().into_value(), tree);
        }
    }

    /// An object schema: `title` (text, required), `budget` (a number above 0), `client` (an
    /// object requiring `name`, text or null).
    fn project_shapes() -> (Shapes, ShapeId) {
        use crate::reader::shape::Shape;
        let mut shapes = Shapes::new();
        let mut add = |shape: Shape| {
            shapes.shapes.push(shape);
            shapes.shapes.len() - 1
        };
        let text = add(Shape {
            kinds: Some(Kinds::STRING),
            ..Shape::default()
        });
        let text_or_null = add(Shape {
            kinds: Some(Kinds::STRING.or(Kinds::NULL)),
            ..Shape::default()
        });
        let budget = add(Shape {
            kinds: Some(Kinds::INT.or(Kinds::FRAC)),
            bounds: [
                None,
                None,
                Some(crate::reader::shape::Bound::of(&0.into())),
                None,
            ],
            ..Shape::default()
        });
        let object = |members: &[(&str, ShapeId, bool)]| Shape {
            kinds: Some(Kinds::OBJECT),
            properties: members
                .iter()
                .map(|(name, shape, required)| (name.to_string(), (*shape, *required)))
                .collect(),
            required: members
                .iter()
                .filter(|m| m.2)
                .map(|m| m.0.to_string())
                .collect(),
            required_declared: true,
            ..Shape::default()
        };
        let client = add(object(&[("name", text_or_null, true)]));
        let root = add(object(&[
            ("title", text, true),
            ("budget", budget, false),
            ("client", client, false),
        ]));
        shapes.index();
        (shapes, root)
    }

    fn any_leaf() -> impl Strategy<Value = Option<Value>> {
        prop_oneof![
            Just(None),
            Just(Some(Value::Null)),
            Just(Some(Value::from("text"))),
            Just(Some(Value::from(0))),
            Just(Some(Value::from(12.5))),
            Just(Some(Value::from(true))),
        ]
    }

    proptest! {
        /// A record checked field by field is valid exactly when its tree is.
        #[test]
        fn field_checks_agree_with_the_tree_validator(
            values in prop::collection::vec(any_leaf(), 4),
        ) {
            let (shapes, root) = project_shapes();
            let path = |p: &str| p.split('.').map(str::to_string).collect::<Vec<_>>();
            let targets = [path("title"), path("budget"), path("client.name"), path("note")];
            let paths: Vec<&[String]> = targets.iter().map(Vec::as_slice).collect();
            let compiled = FieldLayout::compile(numbered(&paths), &[], &shapes, Some(root));
            let Some(layout) = compiled else {
                return Err(TestCaseError::fail("no layout"));
            };
            let mut record = Fields::new(Arc::new(layout));
            for (write, value) in values.iter().enumerate() {
                if let Some(value) = value {
                    record.set_by_write(write, value.clone());
                }
            }
            let tree = record.to_value();
            prop_assert_eq!(record.is_valid(&shapes), Some(shapes.is_valid(root, &tree)), "{}", tree);
        }
    }

    #[test]
    fn a_required_field_no_write_produces_makes_every_record_invalid() {
        let (shapes, root) = project_shapes();
        let budget = ["budget".to_string()];
        let compiled = FieldLayout::compile([(0, &budget[..])], &[], &shapes, Some(root));
        let Some(layout) = compiled else {
            panic!("no layout")
        };
        let mut record = Fields::new(Arc::new(layout));
        record.set_by_write(0, Value::from(10));
        assert_eq!(record.is_valid(&shapes), Some(false));
        assert!(!shapes.is_valid(root, &record.to_value()));
    }

    #[test]
    fn overlapping_targets_and_reads_of_built_objects_get_no_layout() {
        let path = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        let (client, client_id) = (path(&["client"]), path(&["client", "id"]));
        let shapes = Shapes::new();
        let overlapping = [(0, client.as_slice()), (1, client_id.as_slice())];
        assert!(FieldLayout::compile(overlapping, &[], &shapes, None).is_none());
        let reversed = [(0, client_id.as_slice()), (1, client.as_slice())];
        assert!(FieldLayout::compile(reversed, &[], &shapes, None).is_none());
        let read_object = [PathStep::Field("client".into())];
        let only_id = [(0, client_id.as_slice())];
        assert!(FieldLayout::compile(only_id, &[&read_object[..]], &shapes, None).is_none());
        let read_leaf = [
            PathStep::Field("client".into()),
            PathStep::Field("id".into()),
        ];
        assert!(FieldLayout::compile(only_id, &[&read_leaf[..]], &shapes, None).is_some());
    }
}
