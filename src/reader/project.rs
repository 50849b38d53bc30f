//! Reading a deal straight from JSON text: validate it against the source schema while parsing,
//! and keep only the fields the program reads.
//!
//! Building a whole `serde_json::Value` for every deal costs more than everything else `apply`
//! does; most of a CRM record (descriptions, audit dates, never-transfer notes) is never read.
//! [`Projector::project`] walks the text once with serde (`walk.rs`), checks each value against
//! the compiled [`Shapes`] as it passes, and builds a sparse `Value` holding only the planned
//! paths (whole subtrees where a path reads an object or goes through an array). Values under
//! `anyOf`/`oneOf`/`not` are buffered and checked whole.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;
use std::sync::Mutex;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::order::MemberOrders;
use super::plan::Plan;
use super::shape::{Failure, ShapeId, Shapes};
use super::skip::{KeySeed, SeenKeys, note_duplicate};
use super::spares::Spares;
use super::walk::{ObjectKeys, Required, Walk};
use crate::io::numbers::{MapRead, classify};

/// Most validation failures reported per record (the first ones in reading order).
pub(super) const MAX_FAILURES: usize = 10;

/// A deal read by [`Projector::project`].
#[derive(Debug)]
pub struct Projected {
    /// The planned fields (the primary record, or a bundle object keyed by record name), but
    /// for those kept only in `slots`.
    pub value: Value,
    /// The values of the plan's slot-only nodes, by node (see [`Plan::resolve`]).
    pub slots: Vec<Option<Value>>,
    /// Schema violations found while reading, each with a pointer into its record: by record,
    /// at most [`MAX_FAILURES`] each, in reading order (a value's own problems and its missing
    /// members before its members' problems).
    pub failures: Vec<(usize, Failure)>,
    /// True when the deal is ambiguous (a key repeated in one object, an integer literal beyond
    /// 64 bits), anywhere, read or not: the caller reads it again strictly, which says why.
    pub ambiguous: bool,
    /// The reader's buffers this deal was read with, for the next deal.
    scratch: Scratch,
}

impl Projected {
    /// Gives the deal's buffers back to `pool`, for the next deal to reuse (the deal is done;
    /// dropping it instead is correct, only slower).
    pub fn recycle(self, pool: &ScratchPool) {
        let mut scratch = self.scratch;
        scratch.spares.reclaim(self.value);
        scratch.spares.reclaim_slots(self.slots);
        pool.give(scratch);
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
pub(super) struct Projector<'a> {
    /// The program's plan.
    pub plan: &'a Plan,
    /// The compiled shapes.
    pub shapes: &'a Shapes,
    /// The root shape of each source record (`None`: not validated here).
    pub roots: &'a [Option<ShapeId>],
    /// The name of each source record.
    pub names: &'a [String],
    /// The buffers deals are read with.
    pub pool: &'a ScratchPool,
}

/// The mutable state of one projection.
pub(super) struct State {
    /// The JSON pointer of the value being read, when `track` is set.
    pub(super) pointer: String,
    pub(super) track: bool,
    /// The failures of the record being read.
    pub(super) failures: Vec<(usize, Failure)>,
    /// The failures of the records read before it (a bundle's), each closed by
    /// [`State::close_record`].
    pub(super) closed: Vec<(usize, Failure)>,
    pub(super) ambiguous: bool,
    pub(super) record: usize,
    pub(super) orders: MemberOrders,
    /// The values of slot-only plan nodes, by node.
    pub(super) slot_values: Vec<Option<Value>>,
    /// Buffers for the strings the walk keeps.
    pub(super) spares: Spares,
}

impl State {
    /// Ends the failures of the record being read: the first [`MAX_FAILURES`] in reading order
    /// are kept (failures found after as many others come later in that order, so the walk
    /// may stop looking for them).
    pub(super) fn close_record(&mut self) {
        self.failures.truncate(MAX_FAILURES);
        if self.closed.is_empty() {
            std::mem::swap(&mut self.closed, &mut self.failures);
        } else {
            self.closed.append(&mut self.failures);
        }
    }

    /// True when some record read so far has failures.
    fn failed(&self) -> bool {
        !self.failures.is_empty() || !self.closed.is_empty()
    }

    /// The parts kept for the next deal, the slot values and the failures (by record, in the
    /// program's order of records, as a bundle's records are validated when read whole).
    fn split(mut self) -> (Scratch, Vec<Option<Value>>, Vec<(usize, Failure)>) {
        self.close_record();
        if self.closed.len() > 1 {
            self.closed.sort_by_key(|(record, _)| *record);
        }
        let scratch = Scratch {
            orders: self.orders,
            pointer: self.pointer,
            spares: self.spares,
        };
        (scratch, self.slot_values, self.closed)
    }
}

/// One reading of a deal's text, with the state it ended in.
struct Pass {
    result: Result<Option<Value>, ProjectError>,
    state: State,
}

/// What a reader keeps from deal to deal: member orders, the pointer buffer, spare buffers.
#[derive(Debug, Default)]
struct Scratch {
    orders: MemberOrders,
    pointer: String,
    spares: Spares,
}

/// The scratches of one reader: a deal takes one (or a new one) when its reading starts and
/// gives it back when it is done, so concurrent deals never share one and a reader's member
/// orders are never mistaken for another's. Bounded by the number of deals read at once.
#[derive(Debug, Default)]
pub struct ScratchPool(Mutex<Vec<Scratch>>);

impl ScratchPool {
    fn take(&self) -> Scratch {
        let mut pool = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        pool.pop().unwrap_or_default()
    }

    fn give(&self, scratch: Scratch) {
        let mut pool = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        pool.push(scratch);
    }
}

impl Projector<'_> {
    /// Reads one deal (a primary record or a bundle) from JSON text.
    pub fn project(&self, text: &[u8]) -> Result<Projected, ProjectError> {
        // One UTF-8 check of the whole line is cheaper than one per string. Text that is not
        // UTF-8 is read again as bytes, building every string (skipping one would not check
        // it), so that the error names the first problem at its place: an invalid code point,
        // or a syntax error before it.
        let Ok(text) = std::str::from_utf8(text) else {
            return Err(match serde_json::from_slice::<Value>(text) {
                Err(error) => ProjectError::Json(error),
                Ok(_) => ProjectError::Unusual,
            });
        };
        let scratch = self.pool.take();
        // Most deals are valid: read without tracking where each value is, and read again,
        // tracking, only to say where the failures are.
        let mut pass = self.project_pass(text, scratch, false);
        if pass.result.is_ok() && !pass.state.ambiguous && pass.state.failed() {
            let (mut scratch, slots, _) = pass.state.split();
            if let Ok(Some(value)) = pass.result {
                scratch.spares.reclaim(value);
            }
            scratch.spares.reclaim_slots(slots);
            pass = self.project_pass(text, scratch, true);
        }
        let Pass { result, state } = pass;
        let ambiguous = state.ambiguous;
        let (scratch, slot_values, failures) = state.split();
        let value = match result {
            Ok(Some(value)) => value,
            Ok(None) => {
                self.pool.give(scratch);
                return Err(ProjectError::Unusual);
            }
            Err(error) => {
                self.pool.give(scratch);
                return Err(error);
            }
        };
        Ok(Projected {
            value,
            slots: slot_values,
            failures,
            ambiguous,
            scratch,
        })
    }

    /// One reading of the text; `track` keeps the JSON pointer of the current value up to date.
    fn project_pass(&self, text: &str, scratch: Scratch, track: bool) -> Pass {
        let Scratch {
            orders,
            mut pointer,
            mut spares,
        } = scratch;
        pointer.clear();
        let state = RefCell::new(State {
            pointer,
            track,
            failures: Vec::new(),
            closed: Vec::new(),
            ambiguous: false,
            record: 0,
            orders,
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

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Option<Value>, A::Error> {
        // A deal that is a number is not an object (as a deal that is an integer is not).
        let MapRead::Object(object) = classify(map)? else {
            return Ok(None);
        };
        let (mut next, mut map) = object.into_parts();
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
        while let Some(key) = next {
            if let Some(index) = p.names.iter().position(|n| *n == key) {
                let mut state = self.state.borrow_mut();
                note_duplicate(&mut names_seen, key.clone(), &mut state);
                state.close_record();
                state.record = index;
                drop(state);
                let seed = Walk {
                    projector: p,
                    state: self.state,
                    plan: Some(p.plan.roots[index]),
                    shapes: Cow::Borrowed(p.roots[index].map_or(&[], |s| p.shapes.expanded(s))),
                };
                if let Some(value) = map.next_value_seed(BundleRecord(seed))? {
                    members.insert(key.into_owned(), value);
                }
            } else {
                self.state.borrow_mut().record = 0;
                required.saw(&key);
                primary_keys += 1;
                top.read_member(&mut keys, &mut map, key, &mut fields)?;
            }
            next = map.next_key_seed(KeySeed)?;
        }
        keys.finish(&mut self.state.borrow_mut());
        match (members.is_empty(), primary_keys == 0) {
            (true, _) => {
                required.report(&mut self.state.borrow_mut(), 0);
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

/// One record of a bundle: `null` is no record (it is neither read nor validated, as when the
/// name is absent); anything else is walked as the record.
struct BundleRecord<'p, 's>(Walk<'p, 's>);

impl<'de> DeserializeSeed<'de> for BundleRecord<'_, '_> {
    type Value = Option<Value>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<Value>, D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for BundleRecord<'_, '_> {
    type Value = Option<Value>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a record or null")
    }

    fn visit_none<E>(self) -> Result<Option<Value>, E> {
        Ok(None)
    }

    fn visit_unit<E>(self) -> Result<Option<Value>, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Option<Value>, D::Error> {
        self.0.deserialize(deserializer)
    }
}
