//! Reading a deal's text. `serde_json` decides whether it is JSON and builds the tree; two
//! choices it would make silently are refused instead (M512): a key given twice in one object
//! (it keeps the last), and an integer literal outside the 64-bit range (it rounds it to a
//! float). A number written with a fraction or an exponent (`1e308`) is a float as written, and
//! is read as one.

use std::cell::{Cell, RefCell};
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Why a deal's text was refused.
#[derive(Debug)]
pub enum Refusal {
    /// Not JSON (M501).
    Invalid(serde_json::Error),
    /// JSON that would have to be guessed at (M512).
    Ambiguous(String),
}

/// Parses one JSON value: first as `serde_json` reads it, then for its ambiguities.
pub fn parse(text: &[u8]) -> Result<Value, Refusal> {
    let value: Value = serde_json::from_slice(text).map_err(Refusal::Invalid)?;
    let literals = number_literals(text);
    let walk = Walk {
        literals: &literals,
        next: Cell::new(0),
        first: RefCell::new(None),
    };
    let mut deserializer = serde_json::Deserializer::from_slice(text);
    // The text was read once already: this second reading cannot fail.
    let _ = (&walk).deserialize(&mut deserializer);
    match walk.first.into_inner() {
        Some(reason) => Err(Refusal::Ambiguous(reason)),
        None => Ok(value),
    }
}

/// Each number literal of a valid JSON text, in order: its text when it is an integer literal
/// (no fraction, no exponent), `None` otherwise.
fn number_literals(text: &[u8]) -> Vec<Option<String>> {
    let mut found = Vec::new();
    let mut at = 0;
    while at < text.len() {
        match text[at] {
            b'"' => {
                at += 1;
                while at < text.len() && text[at] != b'"' {
                    at += if text[at] == b'\\' { 2 } else { 1 };
                }
                at += 1;
            }
            b'-' | b'0'..=b'9' => {
                let start = at;
                while at < text.len()
                    && matches!(text[at], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
                {
                    at += 1;
                }
                let literal = String::from_utf8_lossy(&text[start..at]).into_owned();
                let integer = !literal.contains(['.', 'e', 'E']);
                found.push(integer.then_some(literal));
            }
            _ => at += 1,
        }
    }
    found
}

/// A reading that notes the first ambiguity. Numbers reach it in the order they are written,
/// so the `n`th number it is given is the `n`th literal of the text.
struct Walk<'l> {
    literals: &'l [Option<String>],
    next: Cell<usize>,
    first: RefCell<Option<String>>,
}

impl Walk<'_> {
    fn note(&self, reason: String) {
        self.first.borrow_mut().get_or_insert(reason);
    }

    /// The literal of the number being read.
    fn literal(&self) -> Option<&str> {
        let index = self.next.get();
        self.next.set(index + 1);
        self.literals.get(index).and_then(Option::as_deref)
    }
}

impl<'de> DeserializeSeed<'de> for &Walk<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for &Walk<'_> {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        self.literal();
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        self.literal();
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        let outside_64_bits = self
            .literal()
            .is_some_and(|text| text.parse::<i64>().is_err() && text.parse::<u64>().is_err());
        if outside_64_bits {
            self.note(format!(
                "the integer {v:e} is too large (beyond 64 bits) to be read exactly; send large ids as strings"
            ));
        }
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            // A repeated key is noted where it is read: before anything inside its value.
            let repeated = object.contains_key(&key) && self.first.borrow().is_none();
            if repeated {
                self.note(String::new());
            }
            let value = map.next_value_seed(self)?;
            if repeated {
                let conflict = match object.get(&key) == Some(&value) {
                    true => "the same value",
                    false => "different values",
                };
                *self.first.borrow_mut() = Some(format!(
                    "the key \"{key}\" appears twice in one object, with {conflict}; mapctl will not guess which one counts"
                ));
            }
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ambiguity(text: &str) -> Option<String> {
        match parse(text.as_bytes()) {
            Err(Refusal::Ambiguous(reason)) => Some(reason),
            _ => None,
        }
    }

    #[test]
    fn integer_literals_beyond_64_bits_are_ambiguous_floats_are_not() {
        assert!(ambiguity(r#"{"id": 123456789012345678901234}"#).is_some());
        assert!(ambiguity(r#"{"id": -9223372036854775809}"#).is_some());
        assert!(ambiguity(r#"{"id": 18446744073709551615, "b": -9223372036854775808}"#).is_none());
        assert!(ambiguity(r#"{"x": 1e308, "y": 2e19, "z": -0, "w": 1.5}"#).is_none());
        // Numbers inside strings are not literals.
        assert!(ambiguity(r#"{"s": "123456789012345678901234 \" 1e5", "n": 5}"#).is_none());
    }

    #[test]
    fn duplicate_keys_are_ambiguous_and_syntax_errors_come_first() {
        let reason = ambiguity(r#"{"a": {"b": 1, "b": 2}}"#).unwrap_or_default();
        assert!(reason.contains("\"b\" appears twice") && reason.contains("different values"));
        let reason = ambiguity(r#"{"a": 1, "a": 1}"#).unwrap_or_default();
        assert!(reason.contains("the same value"));
        // The first ambiguity in reading order counts.
        let reason = ambiguity(r#"{"a": 1, "a": {"b": 1, "b": 2}}"#).unwrap_or_default();
        assert!(reason.contains("\"a\" appears twice"), "{reason}");
        let reason =
            ambiguity(r#"{"a": 1, "n": 123456789012345678901234, "a": 2}"#).unwrap_or_default();
        assert!(reason.contains("the integer"), "{reason}");
        assert!(matches!(
            parse(br#"{"a": 1, "a": 2"#),
            Err(Refusal::Invalid(_))
        ));
        assert!(matches!(parse(b"1e400"), Err(Refusal::Invalid(_))));
    }
}
