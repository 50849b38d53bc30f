//! Buffers a thread keeps from one deal to the next: the strings of the values the reader kept,
//! and the slot table. Once a thread has read a few deals, copying a kept string out of the line
//! reuses a spare buffer instead of asking the allocator, and the deal's strings come back here
//! when it is done.

use serde_json::Value;

/// Most spare strings one thread keeps.
const MAX_SPARE_STRINGS: usize = 64;

/// Strings with more capacity than this are freed, not kept, so one deal with a huge text does
/// not pin its memory for the rest of the run (at most 64 x 64 KiB are kept per thread).
const MAX_SPARE_CAPACITY: usize = 64 * 1024;

/// Spare buffers of one thread.
#[derive(Debug, Default)]
pub(super) struct Spares {
    strings: Vec<String>,
    slots: Vec<Option<Value>>,
}

impl Spares {
    /// `text` as an owned string, written into a spare buffer when there is one.
    pub(super) fn string(&mut self, text: &str) -> String {
        match self.strings.pop() {
            Some(mut spare) => {
                spare.push_str(text);
                spare
            }
            None => text.to_owned(),
        }
    }

    /// An empty slot table of `len` entries, in the spare table's memory when there is one.
    pub(super) fn slots(&mut self, len: usize) -> Vec<Option<Value>> {
        let mut slots = std::mem::take(&mut self.slots);
        slots.resize(len, None);
        slots
    }

    /// Takes back a slot table: its strings and its memory are kept for the next deal.
    pub(super) fn reclaim_slots(&mut self, mut slots: Vec<Option<Value>>) {
        for value in slots.drain(..).flatten() {
            self.reclaim(value);
        }
        if slots.capacity() > self.slots.capacity() {
            self.slots = slots;
        }
    }

    /// Takes back the strings of `value`, its members' and its elements'.
    pub(super) fn reclaim(&mut self, value: Value) {
        match value {
            Value::String(text) => self.keep(text),
            Value::Array(items) => items.into_iter().for_each(|item| self.reclaim(item)),
            Value::Object(members) => {
                for (key, member) in members {
                    self.keep(key);
                    self.reclaim(member);
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }

    fn keep(&mut self, mut text: String) {
        let capacity = text.capacity();
        if capacity > 0 && capacity <= MAX_SPARE_CAPACITY && self.strings.len() < MAX_SPARE_STRINGS
        {
            text.clear();
            self.strings.push(text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reclaimed_strings_are_reused_empty_and_hold_the_new_text() {
        let mut spares = Spares::default();
        spares.reclaim(serde_json::json!({"name": "Acme Corporation", "tags": ["a", 1, null]}));
        let reused = spares.string("Initech");
        assert_eq!(reused, "Initech");
        assert!(reused.capacity() >= "Initech".len());
        assert_eq!(
            spares.strings.len(),
            3,
            "the key, the name and one tag remain"
        );
    }

    #[test]
    fn spares_are_bounded_in_number_and_size() {
        let mut spares = Spares::default();
        let many: Vec<Value> = (0..200).map(|i| Value::String(format!("{i}"))).collect();
        spares.reclaim(Value::Array(many));
        assert_eq!(spares.strings.len(), MAX_SPARE_STRINGS);
        let mut fresh = Spares::default();
        fresh.reclaim(Value::String("x".repeat(MAX_SPARE_CAPACITY + 1)));
        assert!(fresh.strings.is_empty(), "a huge buffer is freed, not kept");
    }

    #[test]
    fn a_reclaimed_slot_table_comes_back_empty_at_the_asked_length() {
        let mut spares = Spares::default();
        spares.reclaim_slots(vec![Some(Value::from("id-1")), None, Some(Value::from(3))]);
        let slots = spares.slots(5);
        assert_eq!(slots, vec![None; 5]);
        assert_eq!(spares.strings.len(), 1);
    }
}
