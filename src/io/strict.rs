//! Parsing JSON without silent choices: a key given twice in one object is an error instead of
//! a guess (`serde_json` keeps the last duplicate). Numbers keep their digits as written
//! (serde_json's `arbitrary_precision`, read through [`super::numbers`]), so no number is
//! rounded on the way in, however many digits it has.

use std::cell::RefCell;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::numbers::{MapRead, classify};

/// Why strict parsing refused the text.
#[derive(Debug)]
pub enum StrictError {
    /// Not valid JSON.
    Json(serde_json::Error),
    /// Valid JSON that is ambiguous: a duplicate key.
    Ambiguous(String),
}

impl fmt::Display for StrictError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StrictError::Json(error) => write!(f, "{error}"),
            StrictError::Ambiguous(reason) => f.write_str(reason),
        }
    }
}

/// Parses one JSON value strictly. Syntax errors come first (an ambiguous text that is not
/// JSON is not JSON); of the ambiguities, the first in reading order is reported, a repeated key
/// before anything inside its value.
pub fn parse(text: &[u8]) -> Result<Value, StrictError> {
    let mut deserializer = serde_json::Deserializer::from_slice(text);
    let note = RefCell::new(None);
    let value = StrictValue { note: &note }
        .deserialize(&mut deserializer)
        .map_err(StrictError::Json)?;
    deserializer.end().map_err(StrictError::Json)?;
    match note.into_inner() {
        Some(reason) => Err(StrictError::Ambiguous(reason)),
        None => Ok(value),
    }
}

/// Deserializes a `Value`, noting the first duplicate key it meets (a repeated key is noted
/// before anything inside its value) and reading on, so that a syntax error later in the text
/// is still found.
#[derive(Clone, Copy)]
pub struct StrictValue<'n> {
    /// Where the first ambiguity is noted.
    pub note: &'n RefCell<Option<String>>,
}

impl<'de> DeserializeSeed<'de> for StrictValue<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue<'_> {
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
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Value, A::Error> {
        match classify(map)? {
            MapRead::Number(number) => Ok(Value::Number(number)),
            MapRead::Object(object) => self.object(object),
        }
    }
}

impl StrictValue<'_> {
    /// Reads an object, noting its first repeated key.
    fn object<'de, A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            // A repeated key is noted where it is read: the note is taken before anything
            // inside its value can take it, and worded once the value is read.
            let noted_here = object.contains_key(&key) && self.note.borrow().is_none();
            if noted_here {
                *self.note.borrow_mut() = Some(String::new());
            }
            let value = map.next_value_seed(self)?;
            if noted_here {
                let conflict = match object.get(&key) == Some(&value) {
                    true => "the same value",
                    false => "different values",
                };
                *self.note.borrow_mut() = Some(format!(
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

    #[test]
    fn duplicates_are_refused_and_numbers_keep_their_digits() {
        assert!(parse(br#"{"a": 1, "b": {"c": [1, 2.5, null]}}"#).is_ok());
        assert!(
            matches!(parse(br#"{"amount": "1", "amount": "2"}"#), Err(StrictError::Ambiguous(r)) if r.contains("\"amount\" appears twice"))
        );
        assert!(matches!(
            parse(br#"{"x": {"id": 1, "id": 1}}"#),
            Err(StrictError::Ambiguous(_))
        ));
        let exact = |text: &str| parse(text.as_bytes()).map(|v| v.to_string()).ok();
        assert_eq!(
            exact("18446744073709551617").as_deref(),
            Some("18446744073709551617")
        );
        assert_eq!(
            exact(r#"{"a":48500.00,"b":[-100000000000000000000],"c":1e300}"#).as_deref(),
            Some(r#"{"a":48500.00,"b":[-100000000000000000000],"c":1e+300}"#)
        );
        assert!(matches!(parse(b"1e400"), Err(StrictError::Json(_))));
        assert!(matches!(parse(br#"{"a": 1} x"#), Err(StrictError::Json(_))));
    }

    fn ambiguity(text: &str) -> Option<String> {
        match parse(text.as_bytes()) {
            Err(StrictError::Ambiguous(reason)) => Some(reason),
            _ => None,
        }
    }

    #[test]
    fn the_first_ambiguity_in_reading_order_is_said_syntax_errors_first() {
        let reason = ambiguity(r#"{"a": {"b": 1, "b": 2}}"#).unwrap_or_default();
        assert!(reason.contains("\"b\" appears twice") && reason.contains("different values"));
        let reason = ambiguity(r#"{"a": [1], "a": [1]}"#).unwrap_or_default();
        assert!(reason.contains("with the same value"), "{reason}");
        // A repeated key comes before what its value holds, after what came before it.
        let reason = ambiguity(r#"{"a": 1, "a": {"b": 1, "b": 2}}"#).unwrap_or_default();
        assert!(reason.contains("\"a\" appears twice"), "{reason}");
        // An ambiguous text that is not JSON is not JSON.
        assert!(matches!(
            parse(br#"{"a": 1, "a": 2"#),
            Err(StrictError::Json(_))
        ));
        assert!(matches!(
            parse(br#"[1e20, 100000000000000000000, "#),
            Err(StrictError::Json(_))
        ));
        // An object that pretends to be a number's private form is refused, not misread.
        assert!(matches!(
            parse(br#"{"$serde_json::private::Number": "abc"}"#),
            Err(StrictError::Json(_))
        ));
    }
}
