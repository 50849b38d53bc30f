//! Reading a deal straight from JSON text: validate it against the source schema while parsing,
//! and keep only the fields the program reads.
//!
//! Building a whole `serde_json::Value` for every deal costs more than everything else `apply`
//! does; most of a CRM record (descriptions, audit dates, never-transfer notes) is never read.
//! A [`Plan`] is the trie of source paths the program reads; [`project`] walks the text once
//! with serde, checks each value against the compiled [`Shapes`] as it passes, and builds a
//! sparse `Value` holding only the planned paths (whole subtrees where a path reads an object or
//! goes through an array). Values under `anyOf`/`oneOf`/`not` are buffered and checked whole.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::shape::{Failure, ShapeId, Shapes, check_item_count, failure, push_segment};
use super::spares::Spares;
use crate::check::program::{CPath, PathStep, Program, RecordRef};
use crate::value::Kinds;

/// Most validation failures collected per deal.
const MAX_FAILURES: usize = 10;

/// One node of the path trie.
#[derive(Debug, Default, Clone)]
struct PlanNode {
    keep_all: bool,
    children: rustc_hash::FxHashMap<String, usize>,
    /// Some path is read from the record by name through this node (it has no slot, or is read
    /// before slots are filled, or is a never-transfer path), so it must be in the kept tree.
    in_tree: bool,
    /// A leaf whose value is kept only in the deal's slot table, not in the kept tree.
    slot_only: bool,
}

/// The source paths a program reads, per source record, as tries.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Unique in the process: the key of the member layouts a thread has learned for this plan.
    id: u64,
    nodes: Vec<PlanNode>,
    /// The trie root of each source record.
    roots: Vec<usize>,
    /// The plan node each path's value is found at, by path id (`None`: read by name).
    slot_of: Vec<Option<u32>>,
}

impl Plan {
    /// The plan of everything `program` reads from its source records (and the primary `id`).
    /// Each source path that ends at a node of the plan is given that node as its slot (kept by
    /// path id in [`Plan::slot_of`]), so a deal's reads are answered from the table
    /// [`Plan::resolve`] fills, without a lookup by name.
    pub fn of(program: &Program) -> Plan {
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        let mut plan = Plan {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            nodes: Vec::new(),
            roots: Vec::new(),
            slot_of: vec![None; program.path_count],
        };
        for _ in &program.sources {
            plan.nodes.push(PlanNode::default());
            plan.roots.push(plan.nodes.len() - 1);
        }
        let mut by_name: Vec<&CPath> = Vec::new();
        program.for_each_read(&mut |path| {
            let slot = match path.record {
                RecordRef::Source(index) => plan
                    .roots
                    .get(index)
                    .copied()
                    .and_then(|root| plan.insert(root, &path.steps)),
                RecordRef::Target => None,
            };
            match (slot, plan.slot_of.get_mut(path.id.index())) {
                (Some(node), Some(entry)) => *entry = Some(node as u32),
                _ => by_name.push(path),
            }
        });
        let id = PathStep::Field("id".to_string());
        if let Some(root) = plan.roots.first().copied() {
            plan.insert(root, std::slice::from_ref(&id));
            plan.keep_in_tree(root, std::slice::from_ref(&id));
        }
        let joins = program.sources.iter().filter_map(|s| s.join.as_ref());
        let read_by_name = by_name
            .into_iter()
            .chain(joins.map(|join| &join.equals))
            .chain(&program.never_transfer);
        for path in read_by_name {
            if let RecordRef::Source(index) = path.record
                && let Some(root) = plan.roots.get(index).copied()
            {
                plan.keep_in_tree(root, &path.steps);
            }
        }
        for root in plan.roots.clone() {
            plan.mark_slot_only(root);
        }
        plan
    }

    /// The slot of each path, by path id (`None`: read by name).
    pub fn slot_of(&self) -> &[Option<u32>] {
        &self.slot_of
    }

    /// Marks the nodes `steps` pass through from `node` as needed in the kept tree.
    fn keep_in_tree(&mut self, mut node: usize, steps: &[PathStep]) {
        self.nodes[node].in_tree = true;
        for step in steps {
            let PathStep::Field(name) = step else { return };
            match self.nodes[node].children.get(name) {
                Some(child) => node = *child,
                None => return,
            }
            self.nodes[node].in_tree = true;
        }
    }

    /// Marks the leaves under `node` that the walk reaches as their own plan node and that no
    /// path reads by name: their values go to the slot table only.
    fn mark_slot_only(&mut self, node: usize) {
        if self.nodes[node].keep_all {
            return;
        }
        let children: Vec<usize> = self.nodes[node].children.values().copied().collect();
        for child in children {
            let leaf = &self.nodes[child];
            if leaf.keep_all && leaf.children.is_empty() && !leaf.in_tree {
                self.nodes[child].slot_only = true;
            } else {
                self.mark_slot_only(child);
            }
        }
    }

    /// True when the value of a member at plan node `node`, inside an object at plan node
    /// `parent`, is kept in the slot table instead of the tree.
    fn goes_to_slot(&self, parent: Option<usize>, node: Option<usize>) -> Option<usize> {
        let node = node?;
        (parent != Some(node) && self.nodes[node].slot_only).then_some(node)
    }

    /// How many plan nodes there are (the size of a deal's slot table).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Adds `steps` under `node`; returns the node they end at, or `None` when they pass through
    /// a node kept whole or step into an array (the path is then read by name).
    fn insert(&mut self, mut node: usize, steps: &[PathStep]) -> Option<usize> {
        for step in steps {
            if self.nodes[node].keep_all {
                return None;
            }
            let PathStep::Field(name) = step else {
                self.nodes[node].keep_all = true;
                return None;
            };
            node = match self.nodes[node].children.get(name) {
                Some(child) => *child,
                None => {
                    self.nodes.push(PlanNode::default());
                    let child = self.nodes.len() - 1;
                    self.nodes[node].children.insert(name.clone(), child);
                    child
                }
            };
        }
        self.nodes[node].keep_all = true;
        Some(node)
    }

    /// Fills `slots` (one entry per plan node) with the values of one deal's source records:
    /// `slots[n]` is the value at node `n`, `None` when the deal has nothing there. `owned` holds
    /// the values the streaming reader kept only by slot (empty for deals parsed whole).
    pub fn resolve<'v>(
        &self,
        sources: &[Option<&'v Value>],
        owned: &'v [Option<Value>],
        slots: &mut Vec<Option<&'v Value>>,
    ) {
        slots.clear();
        slots.resize(self.nodes.len(), None);
        for (slot, value) in slots.iter_mut().zip(owned) {
            *slot = value.as_ref();
        }
        for (root, source) in self.roots.iter().zip(sources) {
            if let Some(value) = source {
                slots[*root] = Some(value);
                self.fill(*root, value, slots);
            }
        }
    }

    fn fill<'v>(&self, node: usize, value: &'v Value, slots: &mut [Option<&'v Value>]) {
        let children = &self.nodes[node].children;
        let Value::Object(map) = value else { return };
        if children.is_empty() {
            return;
        }
        if map.len() <= children.len() * 2 {
            for (key, member) in map {
                if let Some(child) = children.get(key.as_str()).copied() {
                    slots[child] = Some(member);
                    self.fill(child, member, slots);
                }
            }
        } else {
            for (key, child) in children {
                if let Some(member) = map.get(key) {
                    slots[*child] = Some(member);
                    self.fill(*child, member, slots);
                }
            }
        }
    }

    /// How many members of the object at `node` are kept, when known (0 when all are).
    fn width(&self, node: usize) -> usize {
        let node = &self.nodes[node];
        if node.keep_all {
            0
        } else {
            let in_tree = |child: &&usize| !self.nodes[**child].slot_only;
            node.children.values().filter(in_tree).count()
        }
    }

    fn child(&self, node: usize, key: &str) -> Option<usize> {
        let parent = &self.nodes[node];
        if parent.keep_all {
            return Some(node);
        }
        parent.children.get(key).copied()
    }
}

/// A deal read by [`project`].
#[derive(Debug)]
pub struct Projected {
    /// The planned fields (the primary record, or a bundle object keyed by record name), but
    /// for those kept only in `slots`.
    pub value: Value,
    /// The values of the plan's slot-only nodes, by node (see [`Plan::resolve`]).
    pub slots: Vec<Option<Value>>,
    /// Schema violations found while reading, each with a pointer into its record.
    pub failures: Vec<(usize, Failure)>,
}

impl Projected {
    /// Gives the deal's buffers back to this thread's reader, for the next deal to reuse (the
    /// deal is done; dropping it instead is correct, only slower).
    pub fn recycle(self) {
        SCRATCH.with(|scratch| {
            if let Some(scratch) = scratch.borrow_mut().as_mut() {
                scratch.spares.reclaim(self.value);
                scratch.spares.reclaim_slots(self.slots);
            }
        });
    }
}

/// Why a deal could not be projected.
#[derive(Debug)]
pub enum ProjectError {
    /// Not valid JSON.
    Json(serde_json::Error),
    /// Valid JSON that is not an object, or mixes record names with fields: read it whole.
    Unusual,
}

/// Everything one projection needs.
pub struct Projector<'a> {
    /// The program's plan.
    pub plan: &'a Plan,
    /// The compiled shapes.
    pub shapes: &'a Shapes,
    /// The root shape of each source record (`None`: not validated here).
    pub roots: &'a [Option<ShapeId>],
    /// The name of each source record.
    pub names: &'a [String],
}

/// The mutable state of one projection.
struct State {
    /// The JSON pointer of the value being read, when `track` is set.
    pointer: String,
    track: bool,
    failures: Vec<(usize, Failure)>,
    record: usize,
    layouts: Layouts,
    /// The values of slot-only plan nodes, by node.
    slot_values: Vec<Option<Value>>,
    /// Buffers for the strings the walk keeps.
    spares: Spares,
}

impl State {
    /// The parts kept for the next deal, the slot values and the failures.
    fn split(self) -> (Scratch, Vec<Option<Value>>, Vec<(usize, Failure)>) {
        let scratch = Scratch {
            layouts: self.layouts,
            pointer: self.pointer,
            spares: self.spares,
        };
        (scratch, self.slot_values, self.failures)
    }
}

/// One reading of a deal's text, with the state it ended in.
struct Pass {
    result: Result<Option<Value>, ProjectError>,
    state: State,
}

/// What the walk needs to know about one member of an object: where it goes in the plan, the
/// shape it must satisfy (`None`: anything).
#[derive(Debug, Clone, Copy, PartialEq)]
struct MemberInfo {
    plan: Option<usize>,
    shape: Option<ShapeId>,
}

/// The member order last seen in one kind of object, with what each member resolved to.
///
/// CRM exports write every deal's keys in the same order, so the next deal's `n`th key is
/// compared with the `n`th (or, when a key is missing, the next) key remembered: one string
/// comparison instead of a lookup in the plan and one in the schema. A key that does not match
/// is resolved by lookups, as without the layout; the layout only remembers answers.
#[derive(Debug, Default)]
struct Layout {
    members: Vec<(Box<str>, MemberInfo)>,
    /// True until the first object of this kind has been read whole.
    learning: bool,
    /// Objects in a row with at least one key resolved by lookup; many mean a new export order.
    missed_objects: u32,
}

/// Objects in a row that miss the remembered layout before it is learned again.
const RELEARN_AFTER: u32 = 16;

/// The layouts of one thread's deals, for one plan; an object kind (plan node, object shape)
/// is looked up once per object, its members by position.
#[derive(Debug, Default)]
struct Layouts {
    plan: u64,
    index: rustc_hash::FxHashMap<(usize, usize), usize>,
    list: Vec<Layout>,
}

impl Layouts {
    fn index_of(&mut self, kind: (usize, usize)) -> usize {
        let next = self.list.len();
        let index = *self.index.entry(kind).or_insert(next);
        if index == next {
            self.list.push(Layout {
                learning: true,
                ..Layout::default()
            });
        }
        index
    }
}

/// Most members a layout remembers (positions are tracked in a 64-bit mask).
const MAX_LAYOUT: usize = 64;

/// What a thread keeps from deal to deal: member layouts, the pointer buffer, spare buffers.
#[derive(Debug, Default)]
struct Scratch {
    layouts: Layouts,
    pointer: String,
    spares: Spares,
}

thread_local! {
    /// Each thread's scratch (taken at the start of a projection and given back at its end).
    static SCRATCH: RefCell<Option<Scratch>> = const { RefCell::new(None) };
}

impl Layout {
    /// The remembered answer for `key` at `cursor` (or one further, when a key was left out),
    /// with its position.
    fn recall(&self, cursor: &mut usize, key: &str) -> Option<(usize, MemberInfo)> {
        for ahead in 0..2 {
            let position = *cursor + ahead;
            match self.members.get(position) {
                Some((known, info)) if **known == *key => {
                    *cursor = position + 1;
                    return Some((position, *info));
                }
                Some(_) => {}
                None => return None,
            }
        }
        None
    }

    /// True when `key` is one of the members at the positions set in `positions`.
    fn holds(&self, positions: u64, key: &str) -> bool {
        self.members
            .iter()
            .enumerate()
            .any(|(position, (known, _))| positions & (1 << position) != 0 && **known == *key)
    }

    fn learn(&mut self, cursor: &mut usize, key: &str, info: MemberInfo) {
        if self.learning && self.members.len() < MAX_LAYOUT {
            self.members.push((key.into(), info));
            *cursor = self.members.len();
        }
    }

    /// Called when an object ends: `missed` says whether any key had to be looked up.
    fn finish(&mut self, missed: bool) {
        if self.learning {
            self.learning = false;
            return;
        }
        self.missed_objects = if missed { self.missed_objects + 1 } else { 0 };
        if self.missed_objects >= RELEARN_AFTER {
            self.members.clear();
            self.missed_objects = 0;
            self.learning = true;
        }
    }
}

impl Projector<'_> {
    /// Reads one deal (a primary record or a bundle) from JSON text.
    pub fn project(&self, text: &[u8]) -> Result<Projected, ProjectError> {
        // One UTF-8 check of the whole line is cheaper than one per string. Text that is not
        // UTF-8 is read again as bytes, so that the error names the place.
        let Ok(text) = std::str::from_utf8(text) else {
            return Err(match serde_json::from_slice::<IgnoredAny>(text) {
                Err(error) => ProjectError::Json(error),
                Ok(_) => ProjectError::Unusual,
            });
        };
        let mut scratch = SCRATCH
            .with(|scratch| scratch.borrow_mut().take())
            .unwrap_or_default();
        if scratch.layouts.plan != self.plan.id {
            scratch.layouts = Layouts {
                plan: self.plan.id,
                ..Layouts::default()
            };
        }
        // Most deals are valid: read without tracking where each value is, and read again,
        // tracking, only to say where the failures are.
        let mut pass = self.project_pass(text, scratch, false);
        if pass.result.is_ok() && !pass.state.failures.is_empty() {
            let (mut scratch, slots, _) = pass.state.split();
            if let Ok(Some(value)) = pass.result {
                scratch.spares.reclaim(value);
            }
            scratch.spares.reclaim_slots(slots);
            pass = self.project_pass(text, scratch, true);
        }
        let Pass { result, state } = pass;
        let (scratch, slot_values, failures) = state.split();
        SCRATCH.with(|kept| *kept.borrow_mut() = Some(scratch));
        let value = result?.ok_or(ProjectError::Unusual)?;
        Ok(Projected {
            value,
            slots: slot_values,
            failures,
        })
    }

    /// One reading of the text; `track` keeps the JSON pointer of the current value up to date.
    fn project_pass(&self, text: &str, scratch: Scratch, track: bool) -> Pass {
        let Scratch {
            layouts,
            mut pointer,
            mut spares,
        } = scratch;
        pointer.clear();
        let state = RefCell::new(State {
            pointer,
            track,
            failures: Vec::new(),
            record: 0,
            layouts,
            slot_values: spares.slots(self.plan.node_count()),
            spares,
        });
        let result = self.project_text(text, &state);
        Pass {
            result,
            state: state.into_inner(),
        }
    }

    fn project_text(
        &self,
        text: &str,
        state: &RefCell<State>,
    ) -> Result<Option<Value>, ProjectError> {
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let top = TopSeed {
            projector: self,
            state,
        };
        let value = top
            .deserialize(&mut deserializer)
            .map_err(ProjectError::Json)?;
        deserializer.end().map_err(ProjectError::Json)?;
        Ok(value)
    }
}

/// The top level: a primary record, or a bundle keyed by record names.
struct TopSeed<'p, 's> {
    projector: &'p Projector<'p>,
    state: &'s RefCell<State>,
}

impl<'de> DeserializeSeed<'de> for TopSeed<'_, '_> {
    type Value = Option<Value>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<Value>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TopSeed<'_, '_> {
    type Value = Option<Value>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<Value>, A::Error> {
        let p = self.projector;
        let primary = p.plan.roots[0];
        let top = Walk {
            projector: p,
            state: self.state,
            plan: Some(primary),
            shapes: Cow::Borrowed(p.roots[0].map_or(&[], |s| p.shapes.expanded(s))),
        };
        let mut fields = Map::with_capacity(p.plan.width(primary));
        let mut members = Map::new();
        let mut required = Required::of(p.shapes, &top.shapes);
        let mut primary_keys = 0usize;
        let mut names_seen = SeenKeys::default();
        let mut keys = ObjectKeys::new(&top);
        while let Some(key) = map.next_key_seed(KeySeed)? {
            if let Some(index) = p.names.iter().position(|n| *n == key) {
                let mut state = self.state.borrow_mut();
                note_duplicate(&mut names_seen, key.clone(), &mut state);
                state.record = index;
                drop(state);
                let seed = Walk {
                    projector: p,
                    state: self.state,
                    plan: Some(p.plan.roots[index]),
                    shapes: Cow::Borrowed(p.roots[index].map_or(&[], |s| p.shapes.expanded(s))),
                };
                if let Some(value) = map.next_value_seed(seed)? {
                    members.insert(key.into_owned(), value);
                }
                continue;
            }
            self.state.borrow_mut().record = 0;
            required.saw(&key);
            primary_keys += 1;
            top.read_member(&mut keys, &mut map, key, &mut fields)?;
        }
        keys.finish(&mut self.state.borrow_mut());
        match (members.is_empty(), primary_keys == 0) {
            (true, _) => {
                required.report(&mut self.state.borrow_mut());
                Ok(Some(Value::Object(fields)))
            }
            (false, true) if members.contains_key(&p.names[0]) => Ok(Some(Value::Object(members))),
            _ => Ok(None),
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<Value>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_unit<E>(self) -> Result<Option<Value>, E> {
        Ok(None)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Option<Value>, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Option<Value>, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Option<Value>, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Option<Value>, E> {
        Ok(None)
    }
    fn visit_str<E>(self, _: &str) -> Result<Option<Value>, E> {
        Ok(None)
    }
}

/// An object key, borrowed from the text when it has no escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Cow<'de, str>, D::Error> {
        deserializer.deserialize_str(KeySeed)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a string")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v))
    }
}

/// Walks one value: validates it against `shapes` (all must hold) and keeps it when planned.
struct Walk<'p, 's> {
    projector: &'p Projector<'p>,
    state: &'s RefCell<State>,
    plan: Option<usize>,
    shapes: Cow<'p, [ShapeId]>,
}

impl<'p, 's> Walk<'p, 's> {
    /// Reads the value of the member `key` (next in `map`), with the JSON pointer of messages
    /// extended by the key while it is read.
    fn member<'de, A: MapAccess<'de>>(
        self,
        map: &mut A,
        key: &str,
    ) -> Result<Option<Value>, A::Error> {
        let state = self.state;
        let mark = {
            let mut state = state.borrow_mut();
            if !state.track {
                drop(state);
                return map.next_value_seed(self);
            }
            let mark = state.pointer.len();
            push_segment(&mut state.pointer, key);
            mark
        };
        let value = map.next_value_seed(self)?;
        state.borrow_mut().pointer.truncate(mark);
        Ok(value)
    }
}

impl<'de> DeserializeSeed<'de> for Walk<'_, '_> {
    type Value = Option<Value>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<Value>, D::Error> {
        let shapes = self.projector.shapes;
        let whole = self.shapes.iter().any(|s| shapes.reads_whole_value(*s));
        if whole {
            let note = RefCell::new(None);
            let strict = crate::io::strict::StrictValue { note: Some(&note) };
            let value = strict.deserialize(deserializer)?;
            let mut state = self.state.borrow_mut();
            if let Some(reason) = note.into_inner() {
                note_ambiguous(&mut state, reason);
            }
            for shape in self.shapes.iter() {
                let mut pointer = state.pointer.clone();
                let mut found = Vec::new();
                shapes.validate(*shape, &value, &mut pointer, &mut found, MAX_FAILURES);
                let record = state.record;
                state
                    .failures
                    .extend(found.into_iter().map(|f| (record, f)));
            }
            return Ok(self.plan.map(|_| value));
        }
        if self.plan.is_none() && self.shapes.is_empty() {
            Skip { state: self.state }.deserialize(deserializer)?;
            return Ok(None);
        }
        deserializer.deserialize_any(self)
    }
}

impl Walk<'_, '_> {
    fn scalar(&self, value: Value, keep: bool) -> Option<Value> {
        let shapes = self.projector.shapes;
        let mut state = self.state.borrow_mut();
        if state.failures.len() < MAX_FAILURES {
            for shape in self.shapes.iter() {
                let s = &shapes.shapes[*shape];
                if s.boolean == Some(false) {
                    let f = failure(&state.pointer, format!("{value} is not allowed here"));
                    let record = state.record;
                    state.failures.push((record, f));
                    continue;
                }
                let mut found = Vec::new();
                shapes.check_scalar(s, &value, &state.pointer, &mut found);
                let record = state.record;
                state
                    .failures
                    .extend(found.into_iter().map(|f| (record, f)));
            }
        }
        keep.then_some(value)
    }

    fn text(&self, text: &str) -> Option<Value> {
        let shapes = self.projector.shapes;
        if self
            .shapes
            .iter()
            .all(|shape| shapes.accepts_any_text(*shape))
        {
            return self
                .plan
                .map(|_| Value::String(self.state.borrow_mut().spares.string(text)));
        }
        let mut state = self.state.borrow_mut();
        let mut found = Vec::new();
        for shape in self.shapes.iter() {
            let s = &shapes.shapes[*shape];
            if s.boolean == Some(false) {
                found.push(failure(
                    &state.pointer,
                    format!("{} is not allowed here", super::shape::short_str(text)),
                ));
                continue;
            }
            if let Some(kinds) = s.kinds
                && !kinds.intersects(Kinds::STRING)
            {
                found.push(failure(
                    &state.pointer,
                    format!(
                        "{} is not of type {}",
                        super::shape::short_str(text),
                        kinds.describe()
                    ),
                ));
                continue;
            }
            if let Some(values) = &s.enum_values
                && !values.iter().any(|v| v.as_str() == Some(text))
            {
                let allowed: Vec<String> = values.iter().take(8).map(Value::to_string).collect();
                found.push(failure(
                    &state.pointer,
                    format!(
                        "{} is not one of {}",
                        super::shape::short_str(text),
                        allowed.join(", ")
                    ),
                ));
            }
            shapes.check_text(s, text, &state.pointer, &mut found);
        }
        let record = state.record;
        if state.failures.len() < MAX_FAILURES {
            state
                .failures
                .extend(found.into_iter().map(|f| (record, f)));
        }
        self.plan.map(|_| Value::String(state.spares.string(text)))
    }
}

impl<'de> Visitor<'de> for Walk<'_, '_> {
    type Value = Option<Value>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<Option<Value>, E> {
        Ok(self.scalar(Value::Null, self.plan.is_some()))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Option<Value>, E> {
        Ok(self.scalar(Value::Bool(v), self.plan.is_some()))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Option<Value>, E> {
        Ok(self.scalar(Value::from(v), self.plan.is_some()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Option<Value>, E> {
        Ok(self.scalar(Value::from(v), self.plan.is_some()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Option<Value>, E> {
        if let Some(reason) = crate::io::strict::inexact_integer(v) {
            note_ambiguous(&mut self.state.borrow_mut(), reason);
        }
        let value = serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number);
        Ok(self.scalar(value, self.plan.is_some()))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Option<Value>, E> {
        Ok(self.text(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Option<Value>, E> {
        Ok(self.text(v))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<Value>, A::Error> {
        let p = self.projector;
        self.check_kind(Kinds::OBJECT);
        let mut kept = Map::with_capacity(self.plan.map_or(0, |node| p.plan.width(node)));
        let mut required = Required::of(p.shapes, &self.shapes);
        let mut keys = ObjectKeys::new(&self);
        while let Some(key) = map.next_key_seed(KeySeed)? {
            required.saw(&key);
            self.read_member(&mut keys, &mut map, key, &mut kept)?;
        }
        let mut state = self.state.borrow_mut();
        keys.finish(&mut state);
        required.report(&mut state);
        Ok(self.plan.map(|_| Value::Object(kept)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<Value>, A::Error> {
        let p = self.projector;
        self.check_kind(Kinds::ARRAY);
        let item_shapes: Vec<ShapeId> = self
            .shapes
            .iter()
            .filter_map(|s| p.shapes.shapes[*s].items)
            .flat_map(|s| expand(p.shapes, s))
            .collect();
        let mut kept = Vec::new();
        let mut count = 0usize;
        loop {
            let mark = {
                let mut state = self.state.borrow_mut();
                let mark = state.pointer.len();
                if state.track {
                    state.pointer.push('/');
                    state.pointer.push_str(&count.to_string());
                }
                mark
            };
            let seed = Walk {
                projector: p,
                state: self.state,
                plan: self.plan,
                shapes: Cow::Borrowed(&item_shapes),
            };
            let next = seq.next_element_seed(seed)?;
            self.state.borrow_mut().pointer.truncate(mark);
            match next {
                None => break,
                Some(value) => {
                    count += 1;
                    kept.extend(value);
                }
            }
        }
        let mut state = self.state.borrow_mut();
        let mut found = Vec::new();
        for shape in self.shapes.iter() {
            check_item_count(&p.shapes.shapes[*shape], count, &state.pointer, &mut found);
        }
        let record = state.record;
        state
            .failures
            .extend(found.into_iter().map(|f| (record, f)));
        Ok(self.plan.map(|_| Value::Array(kept)))
    }
}

impl<'p> Walk<'p, '_> {
    /// The key of this object's layout: its plan node and its one shape. Objects under several
    /// shapes at once (`allOf`) are resolved by lookups every time.
    fn object_kind(&self) -> Option<(usize, usize)> {
        match *self.shapes {
            [] => Some((self.plan.unwrap_or(usize::MAX), usize::MAX)),
            [shape] => Some((self.plan.unwrap_or(usize::MAX), shape)),
            _ => None,
        }
    }

    /// Reads member `key` (its value is next in `map`) of this object: resolved through `keys`,
    /// kept in `object` or in the deal's slot table, or only validated.
    fn read_member<'de, A: MapAccess<'de>>(
        &self,
        keys: &mut ObjectKeys<'de>,
        map: &mut A,
        key: Cow<'de, str>,
        object: &mut Map<String, Value>,
    ) -> Result<(), A::Error> {
        let p = self.projector;
        let member = keys.resolve(self, &key);
        let slot = p.plan.goes_to_slot(self.plan, member.plan);
        let walk = Walk {
            projector: p,
            state: self.state,
            plan: member.plan,
            shapes: member.shapes,
        };
        if let Some(value) = walk.member(map, &key)? {
            keep(object, self.state, slot, key, value);
        }
        Ok(())
    }

    /// Where member `key` goes in the plan and the shapes it must satisfy, by lookups.
    fn look_up(&self, key: &str) -> Member<'p> {
        let p = self.projector;
        let plan = self.plan.and_then(|node| p.plan.child(node, key));
        match *self.shapes {
            [parent] => {
                let s = &p.shapes.shapes[parent];
                let shape = s.property(key).or(s.additional);
                Member::of(p, plan, shape)
            }
            _ => Member {
                info: MemberInfo { plan, shape: None },
                shapes: child_shapes(p.shapes, &self.shapes, key),
            },
        }
    }

    fn check_kind(&self, kind: Kinds) {
        let mut state = self.state.borrow_mut();
        let mut found = Vec::new();
        for shape in self.shapes.iter() {
            let s = &self.projector.shapes.shapes[*shape];
            let refused = s.boolean == Some(false) || s.kinds.is_some_and(|k| !k.intersects(kind));
            if refused {
                found.push(failure(
                    &state.pointer,
                    format!(
                        "{} is not allowed here: expected {}",
                        kind.a(),
                        s.kinds.unwrap_or(Kinds::NONE).describe()
                    ),
                ));
            }
        }
        let record = state.record;
        state
            .failures
            .extend(found.into_iter().map(|f| (record, f)));
    }
}

/// Keeps a member's value: in the deal's slot table when its plan node is kept only there,
/// else in the object being built.
fn keep(
    object: &mut Map<String, Value>,
    state: &RefCell<State>,
    slot: Option<usize>,
    key: Cow<'_, str>,
    value: Value,
) {
    let mut state = state.borrow_mut();
    match slot {
        Some(node) => state.slot_values[node] = Some(value),
        None => {
            let key = match key {
                Cow::Borrowed(key) => state.spares.string(key),
                Cow::Owned(key) => key,
            };
            object.insert(key, value);
        }
    }
}

/// One member resolved: its plan node, and the (expanded) shapes it must satisfy.
struct Member<'p> {
    info: MemberInfo,
    shapes: Cow<'p, [ShapeId]>,
}

impl<'p> Member<'p> {
    fn of(projector: &Projector<'p>, plan: Option<usize>, shape: Option<ShapeId>) -> Member<'p> {
        Member {
            info: MemberInfo { plan, shape },
            shapes: Cow::Borrowed(shape.map_or(&[], |s| projector.shapes.expanded(s))),
        }
    }
}

impl<'p> std::ops::Deref for Member<'p> {
    type Target = MemberInfo;

    fn deref(&self) -> &MemberInfo {
        &self.info
    }
}

/// The keys of one object as it is read: resolved through the layout of its kind when it has
/// one, and checked for repeats. Keys that match the layout in order are distinct layout
/// members, so they cannot repeat each other; every other key is compared with all the keys
/// before it.
struct ObjectKeys<'de> {
    layout: Option<usize>,
    cursor: usize,
    /// Layout positions matched in this object.
    matched: u64,
    /// Keys resolved by lookup in this object.
    looked_up: SeenKeys<'de>,
    missed: bool,
}

impl<'de> ObjectKeys<'de> {
    fn new(walk: &Walk<'_, '_>) -> ObjectKeys<'de> {
        let layout = walk
            .object_kind()
            .map(|kind| walk.state.borrow_mut().layouts.index_of(kind));
        ObjectKeys {
            layout,
            cursor: 0,
            matched: 0,
            looked_up: SeenKeys::default(),
            missed: false,
        }
    }

    /// Resolves member `key`, noting it (M512) when it repeats an earlier key.
    #[expect(
        clippy::ptr_arg,
        reason = "a looked-up key is kept; cloning a borrowed `Cow` copies no text"
    )]
    fn resolve<'p>(&mut self, walk: &Walk<'p, '_>, key: &Cow<'de, str>) -> Member<'p> {
        let Some(index) = self.layout else {
            note_duplicate(
                &mut self.looked_up,
                key.clone(),
                &mut walk.state.borrow_mut(),
            );
            return walk.look_up(key);
        };
        let mut state = walk.state.borrow_mut();
        if let Some((position, info)) = state.layouts.list[index].recall(&mut self.cursor, key) {
            self.matched |= 1 << position;
            if self.looked_up.contains(key) {
                note_repeated_key(&mut state, key);
            }
            return Member::of(walk.projector, info.plan, info.shape);
        }
        self.missed = true;
        let repeated =
            state.layouts.list[index].holds(self.matched, key) || self.looked_up.contains(key);
        let member = walk.look_up(key);
        if repeated {
            note_repeated_key(&mut state, key);
        } else {
            self.looked_up.push(key.clone());
            state.layouts.list[index].learn(&mut self.cursor, key, member.info);
        }
        member
    }

    /// Ends the object: a layout that keeps missing is learned again.
    fn finish(self, state: &mut State) {
        if let Some(index) = self.layout {
            state.layouts.list[index].finish(self.missed);
        }
    }
}

/// A shape and every shape its `allOf`/`$ref` adds.
fn expand(shapes: &Shapes, shape: ShapeId) -> impl Iterator<Item = ShapeId> + '_ {
    shapes.expanded(shape).iter().copied()
}

/// The shapes a member `key` must satisfy, given the object's (expanded) shapes.
fn child_shapes<'s>(shapes: &'s Shapes, parents: &[ShapeId], key: &str) -> Cow<'s, [ShapeId]> {
    if let [parent] = parents {
        let s = &shapes.shapes[*parent];
        return match s.property(key).or(s.additional) {
            Some(child) => Cow::Borrowed(shapes.expanded(child)),
            None => Cow::Borrowed(&[]),
        };
    }
    let mut out = Vec::new();
    for parent in parents {
        let s = &shapes.shapes[*parent];
        if let Some(child) = s.property(key).or(s.additional) {
            for shape in expand(shapes, child) {
                if !out.contains(&shape) {
                    out.push(shape);
                }
            }
        }
    }
    Cow::Owned(out)
}

/// The required members of an object's shapes, ticked off as keys pass.
struct Required<'s> {
    names: Vec<(&'s str, bool)>,
}

impl<'s> Required<'s> {
    fn of(shapes: &'s Shapes, parents: &[ShapeId]) -> Required<'s> {
        let names = parents
            .iter()
            .flat_map(|p| shapes.shapes[*p].required.iter())
            .map(|name| (name.as_str(), false))
            .collect();
        Required { names }
    }

    fn saw(&mut self, key: &str) {
        for (name, seen) in &mut self.names {
            if *name == key {
                *seen = true;
            }
        }
    }

    fn report(&self, state: &mut State) {
        for (name, seen) in &self.names {
            if !seen {
                let found = Failure {
                    pointer: state.pointer.clone(),
                    message: format!("\"{name}\" is a required property"),
                    missing: Some((*name).to_string()),
                    ambiguous: false,
                };
                let record = state.record;
                state.failures.push((record, found));
            }
        }
    }
}

/// The keys of one object seen so far, each with its hash, so that most comparisons are of
/// two integers.
#[derive(Default)]
struct SeenKeys<'de> {
    keys: Vec<(u64, Cow<'de, str>)>,
}

impl<'de> SeenKeys<'de> {
    fn contains(&self, key: &str) -> bool {
        if self.keys.is_empty() {
            return false;
        }
        let hash = rustc_hash::FxBuildHasher.hash_one(key);
        self.keys.iter().any(|(h, k)| *h == hash && k == key)
    }

    fn push(&mut self, key: Cow<'de, str>) {
        let hash = rustc_hash::FxBuildHasher.hash_one(key.as_ref());
        self.keys.push((hash, key));
    }
}

/// Records a key seen twice in one object (the input is then ambiguous).
fn note_duplicate<'de>(seen: &mut SeenKeys<'de>, key: Cow<'de, str>, state: &mut State) {
    if seen.contains(&key) {
        note_repeated_key(state, &key);
    } else {
        seen.push(key);
    }
}

/// Records that `key` appears twice in one object (M512).
fn note_repeated_key(state: &mut State, key: &str) {
    note_ambiguous(
        state,
        format!(
            "the key \"{key}\" appears twice in one object; mapctl will not guess which one counts"
        ),
    );
}

/// Records that the deal is ambiguous (M512) at the current pointer.
fn note_ambiguous(state: &mut State, reason: String) {
    let mut found = failure(&state.pointer, reason);
    found.ambiguous = true;
    let record = state.record;
    state.failures.push((record, found));
}

/// Skips a value nobody reads, still refusing what makes a deal ambiguous (a duplicate key, an
/// inexact integer): the same deal gets the same answer however much of it a mapping reads.
struct Skip<'s> {
    state: &'s RefCell<State>,
}

impl<'de> DeserializeSeed<'de> for Skip<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Skip<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        if let Some(reason) = crate::io::strict::inexact_integer(v) {
            note_ambiguous(&mut self.state.borrow_mut(), reason);
        }
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Skip { state: self.state })?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = SeenKeys::default();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            note_duplicate(&mut seen, key, &mut self.state.borrow_mut());
            map.next_value_seed(Skip { state: self.state })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::Value;

    use super::Plan;
    use crate::check::check_file;
    use crate::check::program::Program;
    use crate::eval::read::Records;
    use crate::source::SourceMap;
    use crate::syntax::Limits;

    fn program(mapping: &str) -> Program {
        let mut sources = SourceMap::new();
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(mapping);
        let output = check_file(&mut sources, &path, &Limits::default()).expect("readable");
        output.program.expect("the mapping checks clean")
    }

    /// A sample deal file, or JSON text given inline.
    fn sample(path_or_json: &str) -> Value {
        if path_or_json.starts_with('{') {
            return serde_json::from_str(path_or_json).expect("json");
        }
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(path_or_json);
        serde_json::from_str(&std::fs::read_to_string(path).expect("sample")).expect("json")
    }

    /// Every source path reads the same value through its slot as by name, for present,
    /// absent and null fields, in bundles and single records.
    #[test]
    fn slots_read_what_names_read() {
        let cases = [
            (
                "mappings/hubspot_to_accelo.map",
                "mappings/samples/hubspot/deal_won.json",
            ),
            (
                "mappings/hubspot_to_accelo.map",
                "mappings/samples/hubspot/deal_missing_data.json",
            ),
            (
                "mappings/copper_to_harvest.map",
                "mappings/samples/copper/deal_won.json",
            ),
            (
                "mappings/zoho_to_custom.map",
                "mappings/samples/zoho/deal_missing_data.json",
            ),
            (
                "bench/reference.map",
                r#"{"id":"7","properties":{"amount":"12.50","dealstage":"closedwon","dealname":null,"dealtype":"retainer"}}"#,
            ),
        ];
        for (mapping, deal) in cases {
            let program = program(mapping);
            let plan = Plan::of(&program);
            let input = sample(deal);
            let sources: Vec<Option<&Value>> = program
                .sources
                .iter()
                .enumerate()
                .map(|(index, source)| match input.get(&source.name) {
                    Some(record) => Some(record),
                    None => (index == 0).then_some(&input),
                })
                .collect();
            let mut slots = Vec::new();
            plan.resolve(&sources, &[], &mut slots);
            let target = Value::Null;
            let by_slot = Records {
                sources: &sources,
                target: crate::eval::read::Target::Json(&target),
                slots: &slots,
                slot_of: plan.slot_of(),
            };
            let by_name = Records::by_name(&sources, crate::eval::read::Target::Json(&target));
            let mut slotted = 0;
            let mut paths = Vec::new();
            program.for_each_read(&mut |path| paths.push(path.clone()));
            for path in &paths {
                slotted += usize::from(plan.slot_of()[path.id.index()].is_some());
                assert_eq!(
                    by_slot.read(path),
                    by_name.read(path),
                    "{mapping}: {}",
                    path.display
                );
            }
            assert!(slotted > 0, "{mapping}: no path was given a slot");
        }
    }

    fn engine() -> crate::eval::Runner {
        let mut sources = SourceMap::new();
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/reference.map");
        let output = check_file(&mut sources, &path, &Limits::default()).expect("readable");
        let program = output.program.expect("the mapping checks clean");
        crate::eval::Runner::new(program, &output.schemas).expect("engine")
    }

    /// The codes of the outcome of one deal given as text.
    fn codes(engine: &crate::eval::Runner, text: &str) -> Vec<String> {
        use crate::eval::Outcome;
        let (_, outcome) = engine.run_payload(
            crate::io::input::Payload::Text(text.as_bytes()),
            None,
            false,
        );
        match outcome {
            Outcome::Written { .. } => vec!["written".to_string()],
            Outcome::Skipped(reason) => vec![reason.code.to_string()],
            Outcome::Rejected { reasons, .. } => {
                reasons.iter().map(|r| r.code.to_string()).collect()
            }
        }
    }

    /// A deal's `properties` with the given members (each `"key":"value"` text).
    fn deal(members: &[&str]) -> String {
        format!(r#"{{"id":"7","properties":{{{}}}}}"#, members.join(","))
    }

    /// Learned member layouts change no answer: repeated keys are found in every order (before,
    /// inside and after the remembered layout), missing and extra keys resolve as before, and
    /// a new export order is learned.
    #[test]
    fn layouts_remember_answers_but_never_hide_repeated_keys() {
        let engine = engine();
        let amount = r#""amount":"500.00""#;
        let close = r#""closedate":"2024-11-09T15:12:06.495Z""#;
        let stage = r#""dealstage":"closedwon""#;
        let owner = r#""hubspot_owner_id":"41""#;
        let extra = r#""zz_custom":"x""#;
        let usual = deal(&[amount, close, stage, owner]);
        for _ in 0..3 {
            assert_eq!(codes(&engine, &usual), ["written"]);
        }
        let repeats = [
            deal(&[amount, close, stage, owner, amount]),
            deal(&[owner, amount, close, stage, owner]),
            deal(&[amount, amount, close, stage, owner]),
            deal(&[extra, amount, close, extra, stage, owner]),
            deal(&[amount, close, close, stage, owner]),
            deal(&[close, amount, close, stage, owner]),
            deal(&[amount, stage, close, stage, owner]),
        ];
        for text in &repeats {
            assert!(codes(&engine, text).contains(&"M512".to_string()), "{text}");
        }
        assert_eq!(codes(&engine, &deal(&[amount, stage, owner])), ["M504"]);
        assert_eq!(
            codes(&engine, &deal(&[amount, close, extra, stage, owner])),
            ["written"]
        );
        assert_eq!(
            codes(
                &engine,
                &deal(&[close, amount, r#""dealstage":"closedlost""#, owner])
            ),
            ["M503"]
        );
        let wrong_type = deal(&[r#""amount":5"#, close, stage, owner]);
        assert_eq!(codes(&engine, &wrong_type), ["M502"]);
        let reordered = deal(&[owner, stage, close, amount]);
        for _ in 0..40 {
            assert_eq!(codes(&engine, &reordered), ["written"]);
        }
        assert_eq!(codes(&engine, &usual), ["written"]);
        for text in &repeats {
            assert!(codes(&engine, text).contains(&"M512".to_string()), "{text}");
        }
    }
}
