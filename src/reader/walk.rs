//! The walk over one deal's JSON text: each value validated against its shapes as it passes,
//! kept when the plan reads it, skipped otherwise.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::order::MemberInfo;
use super::project::{MAX_FAILURES, Projector, State};
use super::shape::{
    Failure, Keyword, ShapeId, Shapes, check_item_count, failure, missing_member, not_allowed,
    not_one_of, push_segment,
};
use super::skip::{KeySeed, SeenKeys, Skip, note_ambiguous, note_duplicate, note_repeated_key};
use crate::io::numbers::{MapRead, Resumed, classify};
use crate::io::strict::StrictValue;
use crate::value::Kinds;

/// Walks one value: validates it against `shapes` (all must hold) and keeps it when planned.
pub(super) struct Walk<'p, 's> {
    pub(super) projector: &'p Projector<'p>,
    pub(super) state: &'s RefCell<State>,
    pub(super) plan: Option<usize>,
    pub(super) shapes: Cow<'p, [ShapeId]>,
}

impl<'p, 's> Walk<'p, 's> {
    /// Reads the value of the member `key` (next in `map`), with the JSON pointer of messages
    /// extended by the key while it is read.
    pub(super) fn member<'de, A: MapAccess<'de>>(
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
            return self.whole(|strict| strict.deserialize(deserializer));
        }
        if self.plan.is_none() && self.shapes.is_empty() {
            Skip { state: self.state }.deserialize(deserializer)?;
            return Ok(None);
        }
        deserializer.deserialize_any(self)
    }
}

impl Walk<'_, '_> {
    /// Reads the (rest of the) value whole, with `read`, and validates it as a tree: values
    /// under `anyOf`/`oneOf`/`not` or a composite enum, and objects or arrays their shapes
    /// refuse, which the tree validator then words as it words every value (`[1,2] is not of
    /// type string`). Kept whole when planned.
    fn whole<E>(
        &self,
        read: impl FnOnce(StrictValue<'_>) -> Result<Value, E>,
    ) -> Result<Option<Value>, E> {
        let note = RefCell::new(None);
        let value = read(StrictValue { note: &note })?;
        let mut state = self.state.borrow_mut();
        if note.into_inner().is_some() {
            note_ambiguous(&mut state);
        }
        let mut pointer = state.pointer.clone();
        let mut found = Vec::new();
        let shapes = self.projector.shapes;
        shapes.validate_all(&self.shapes, &value, &mut pointer, &mut found, MAX_FAILURES);
        let record = state.record;
        state
            .failures
            .extend(found.into_iter().map(|f| (record, f)));
        Ok(self.plan.map(|_| value))
    }

    pub(super) fn scalar(&self, value: Value, keep: bool) -> Option<Value> {
        let shapes = self.projector.shapes;
        let mut state = self.state.borrow_mut();
        if state.failures.len() < MAX_FAILURES {
            let mut found = Vec::new();
            for shape in self.shapes.iter() {
                let s = &shapes.shapes[*shape];
                if s.boolean == Some(false) {
                    found.push(not_allowed(&state.pointer, &value));
                    continue;
                }
                shapes.check_scalar(s, &value, &state.pointer, &mut found);
            }
            note_failures(&mut state, found);
        }
        keep.then_some(value)
    }

    pub(super) fn text(&self, text: &str) -> Option<Value> {
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
                    Keyword::Type,
                    format!("{} is not allowed here", super::shape::short_str(text)),
                ));
                continue;
            }
            if let Some(kinds) = s.kinds
                && !kinds.intersects(Kinds::STRING)
            {
                found.push(failure(
                    &state.pointer,
                    Keyword::Type,
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
                let shown = super::shape::short_str(text);
                found.push(not_one_of(&state.pointer, &shown, values));
            }
            shapes.check_text(s, text, &state.pointer, &mut found);
        }
        if state.failures.len() < MAX_FAILURES {
            note_failures(&mut state, found);
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
        let value = serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number);
        Ok(self.scalar(value, self.plan.is_some()))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Option<Value>, E> {
        Ok(self.text(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Option<Value>, E> {
        Ok(self.text(v))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Option<Value>, A::Error> {
        match classify(map)? {
            MapRead::Number(number) => Ok(self.scalar(Value::Number(number), self.plan.is_some())),
            MapRead::Object(object) => self.object(object),
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Option<Value>, A::Error> {
        self.array(seq)
    }
}

impl Walk<'_, '_> {
    /// Reads an object: its planned members kept, every member validated.
    fn object<'de, A: MapAccess<'de>>(
        self,
        object: Resumed<'de, A>,
    ) -> Result<Option<Value>, A::Error> {
        if self.refuses(Kinds::OBJECT) {
            return self.whole(|strict| strict.visit_map(object));
        }
        let (mut next, mut map) = object.into_parts();
        let p = self.projector;
        let mut kept = Map::with_capacity(self.plan.map_or(0, |node| p.plan.width(node)));
        let mut required = Required::of(p.shapes, &self.shapes);
        // Missing members are listed before the members' own failures, as the tree validator
        // lists them: where this object's failures will start.
        let start = match required.names.is_empty() {
            true => 0,
            false => self.state.borrow().failures.len(),
        };
        let mut keys = ObjectKeys::new(&self);
        while let Some(key) = next {
            required.saw(&key);
            self.read_member(&mut keys, &mut map, key, &mut kept)?;
            next = map.next_key_seed(KeySeed)?;
        }
        let mut state = self.state.borrow_mut();
        keys.finish(&mut state);
        required.report(&mut state, start);
        Ok(self.plan.map(|_| Value::Object(kept)))
    }

    /// Reads an array: its items validated, kept when planned.
    fn array<'de, A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<Value>, A::Error> {
        if self.refuses(Kinds::ARRAY) {
            return self.whole(|strict| strict.visit_seq(seq));
        }
        let p = self.projector;
        // The item count is said before the items' own failures, as the tree validator says it.
        let start = self.state.borrow().failures.len();
        let item_shapes = p.shapes.item_shapes(&self.shapes);
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
        if !found.is_empty() {
            found.sort_by_key(|f| f.keyword);
            let record = state.record;
            let at = start.min(state.failures.len());
            state
                .failures
                .splice(at..at, found.into_iter().map(|f| (record, f)));
        }
        Ok(self.plan.map(|_| Value::Array(kept)))
    }
}

impl<'p> Walk<'p, '_> {
    /// The key of this object's layout: its plan node and its one shape. Objects under several
    /// shapes at once (`allOf`) are resolved by lookups every time.
    pub(super) fn object_kind(&self) -> Option<(usize, usize)> {
        match *self.shapes {
            [] => Some((self.plan.unwrap_or(usize::MAX), usize::MAX)),
            [shape] => Some((self.plan.unwrap_or(usize::MAX), shape)),
            _ => None,
        }
    }

    /// Reads member `key` (its value is next in `map`) of this object: resolved through `keys`,
    /// kept in `object` or in the deal's slot table, or only validated.
    pub(super) fn read_member<'de, A: MapAccess<'de>>(
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
    pub(super) fn look_up(&self, key: &str) -> Member<'p> {
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
                shapes: p.shapes.member_shapes(&self.shapes, key),
            },
        }
    }

    /// True when this value's shapes refuse a value of `kind` (an object or an array) or hold
    /// it to an enum (of scalars: an enum with an object or array among its values is read
    /// whole, `Shapes::reads_whole_value`), so the value fails and is read whole to be worded.
    pub(super) fn refuses(&self, kind: Kinds) -> bool {
        self.shapes.iter().any(|shape| {
            let s = &self.projector.shapes.shapes[*shape];
            s.boolean == Some(false)
                || s.kinds.is_some_and(|k| !k.intersects(kind))
                || s.enum_values.is_some()
        })
    }
}

/// Notes the failures of one value (against each of its shapes) as the record's, in the order
/// of their keywords.
fn note_failures(state: &mut State, mut found: Vec<Failure>) {
    if found.is_empty() {
        return;
    }
    found.sort_by_key(|f| f.keyword);
    let record = state.record;
    state
        .failures
        .extend(found.into_iter().map(|f| (record, f)));
}

/// Keeps a member's value: in the deal's slot table when its plan node is kept only there,
/// else in the object being built.
#[inline(always)]
pub(super) fn keep(
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
pub(super) struct Member<'p> {
    pub(super) info: MemberInfo,
    pub(super) shapes: Cow<'p, [ShapeId]>,
}

impl<'p> Member<'p> {
    pub(super) fn of(
        projector: &Projector<'p>,
        plan: Option<usize>,
        shape: Option<ShapeId>,
    ) -> Member<'p> {
        Member {
            info: MemberInfo { plan, shape },
            shapes: Cow::Borrowed(match shape {
                Some(s) => projector.shapes.expanded(s),
                None => &[],
            }),
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
pub(super) struct ObjectKeys<'de> {
    pub(super) layout: Option<usize>,
    pub(super) cursor: usize,
    /// Remembered member positions matched in this object.
    pub(super) matched: u64,
    /// Keys resolved by lookup in this object.
    pub(super) looked_up: SeenKeys<'de>,
    pub(super) missed: bool,
}

impl<'de> ObjectKeys<'de> {
    pub(super) fn new(walk: &Walk<'_, '_>) -> ObjectKeys<'de> {
        let layout = walk
            .object_kind()
            .map(|kind| walk.state.borrow_mut().orders.index_of(kind));
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
    #[inline(always)]
    pub(super) fn resolve<'p>(&mut self, walk: &Walk<'p, '_>, key: &Cow<'de, str>) -> Member<'p> {
        let Some(index) = self.layout else {
            note_duplicate(
                &mut self.looked_up,
                key.clone(),
                &mut walk.state.borrow_mut(),
            );
            return walk.look_up(key);
        };
        let mut state = walk.state.borrow_mut();
        if let Some((position, info)) = state.orders.list[index].recall(&mut self.cursor, key) {
            self.matched |= 1 << position;
            if self.looked_up.contains(key) {
                note_repeated_key(&mut state);
            }
            return Member::of(walk.projector, info.plan, info.shape);
        }
        self.missed = true;
        let repeated =
            state.orders.list[index].holds(self.matched, key) || self.looked_up.contains(key);
        let member = walk.look_up(key);
        if repeated {
            note_repeated_key(&mut state);
        } else {
            self.looked_up.push(key.clone());
            state.orders.list[index].learn(&mut self.cursor, key, member.info);
        }
        member
    }

    /// Ends the object: a layout that keeps missing is learned again.
    pub(super) fn finish(self, state: &mut State) {
        if let Some(index) = self.layout {
            state.orders.list[index].finish(self.missed);
        }
    }
}

/// The required members of an object's shapes, ticked off as keys pass.
pub(super) struct Required<'s> {
    pub(super) names: Vec<(&'s str, bool)>,
}

impl<'s> Required<'s> {
    pub(super) fn of(shapes: &'s Shapes, parents: &[ShapeId]) -> Required<'s> {
        let names = parents
            .iter()
            .flat_map(|p| shapes.shapes[*p].required.iter())
            .map(|name| (name.as_str(), false))
            .collect();
        Required { names }
    }

    pub(super) fn saw(&mut self, key: &str) {
        for (name, seen) in &mut self.names {
            if *name == key {
                *seen = true;
            }
        }
    }

    /// Reports the required members not seen, at `start` among the record's failures (where
    /// the object's own failures began: before its members').
    pub(super) fn report(&self, state: &mut State, start: usize) {
        let record = state.record;
        let pointer = &state.pointer;
        let missing: Vec<(usize, Failure)> = self
            .names
            .iter()
            .filter(|(_, seen)| !seen)
            .map(|(name, _)| (record, missing_member(pointer, name)))
            .collect();
        if !missing.is_empty() {
            let at = start.min(state.failures.len());
            state.failures.splice(at..at, missing);
        }
    }
}
