//! Reading a deal's text. `serde_json` decides whether it is JSON and builds the tree, numbers
//! with their digits as written (`arbitrary_precision`); the one choice it would make silently
//! is refused instead (M512): a key given twice in one object (it keeps the last).

use std::cell::RefCell;
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

/// Parses one JSON value, noting its first repeated key and reading on, so that a syntax error
/// later in the text is still found first.
pub fn parse(text: &[u8]) -> Result<Value, Refusal> {
    let walk = Walk {
        first: RefCell::new(None),
    };
    let mut deserializer = serde_json::Deserializer::from_slice(text);
    let value = (&walk)
        .deserialize(&mut deserializer)
        .map_err(Refusal::Invalid)?;
    deserializer.end().map_err(Refusal::Invalid)?;
    match walk.first.into_inner() {
        Some(reason) => Err(Refusal::Ambiguous(reason)),
        None => Ok(value),
    }
}

/// A reading that builds the value and notes the first repeated key. Numbers keep their digits
/// (`crate::io::numbers` tells them from objects).
struct Walk {
    first: RefCell<Option<String>>,
}

impl Walk {
    fn note(&self, reason: String) {
        self.first.borrow_mut().get_or_insert(reason);
    }
}

impl<'de> DeserializeSeed<'de> for &Walk {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for &Walk {
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
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
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

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Value, A::Error> {
        let mut map = match crate::io::numbers::classify(map)? {
            crate::io::numbers::MapRead::Number(number) => return Ok(Value::Number(number)),
            crate::io::numbers::MapRead::Object(object) => object,
        };
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
    fn numbers_of_any_length_are_read_with_their_digits() {
        let read = |text: &str| parse(text.as_bytes()).map(|v| v.to_string()).ok();
        assert_eq!(
            read(r#"{"id":123456789012345678901234,"x":1e308,"w":48500.00}"#).as_deref(),
            Some(r#"{"id":123456789012345678901234,"x":1e+308,"w":48500.00}"#)
        );
        assert!(matches!(parse(b"[1e400]"), Err(Refusal::Invalid(_))));
        assert!(ambiguity(r#"{"id": -9223372036854775809, "n": 1.5}"#).is_none());
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
        assert!(matches!(
            parse(br#"{"a": 1, "a": 2"#),
            Err(Refusal::Invalid(_))
        ));
    }
}
