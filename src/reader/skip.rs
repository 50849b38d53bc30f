//! What the walk notices besides schema failures: keys repeated in one object (the deal is then
//! ambiguous, M512), also in values nobody reads, which [`Skip`] passes over without building
//! them.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;
use std::hash::BuildHasher;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::project::State;
pub(super) use crate::io::numbers::KeySeed;
use crate::io::numbers::{MapRead, classify};

/// The keys of one object seen so far, each with its hash, so that most comparisons are of
/// two integers.
#[derive(Default)]
pub(super) struct SeenKeys<'de> {
    pub(super) keys: Vec<(u64, Cow<'de, str>)>,
}

impl<'de> SeenKeys<'de> {
    pub(super) fn contains(&self, key: &str) -> bool {
        if self.keys.is_empty() {
            return false;
        }
        let hash = rustc_hash::FxBuildHasher.hash_one(key);
        self.keys.iter().any(|(h, k)| *h == hash && k == key)
    }

    pub(super) fn push(&mut self, key: Cow<'de, str>) {
        let hash = rustc_hash::FxBuildHasher.hash_one(key.as_ref());
        self.keys.push((hash, key));
    }
}

/// Records a key seen twice in one object (the input is then ambiguous).
pub(super) fn note_duplicate<'de>(seen: &mut SeenKeys<'de>, key: Cow<'de, str>, state: &mut State) {
    if seen.contains(&key) {
        note_repeated_key(state);
    } else {
        seen.push(key);
    }
}

/// Records that a key appears twice in one object (M512). The reader only notices: evaluation
/// reads an ambiguous deal again with the strict parser, which words it (it keeps the values a
/// reader skips, so it can say whether the two differ, and which ambiguity comes first).
pub(super) fn note_repeated_key(state: &mut State) {
    note_ambiguous(state);
}

/// Records that the deal is ambiguous (M512).
pub(super) fn note_ambiguous(state: &mut State) {
    state.ambiguous = true;
}

/// Skips a value nobody reads, still refusing what makes a deal ambiguous (a duplicate key):
/// the same deal gets the same answer however much of it a mapping reads.
pub(super) struct Skip<'s> {
    pub(super) state: &'s RefCell<State>,
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
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(self.again())?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        let MapRead::Object(object) = classify(map)? else {
            return Ok(());
        };
        let (mut next, mut map) = object.into_parts();
        let mut seen = SeenKeys::default();
        while let Some(key) = next {
            note_duplicate(&mut seen, key, &mut self.state.borrow_mut());
            map.next_value_seed(self.again())?;
            next = map.next_key_seed(KeySeed)?;
        }
        Ok(())
    }
}

impl Skip<'_> {
    /// The same skip, for a value inside this one.
    fn again(&self) -> Self {
        Skip { state: self.state }
    }
}
