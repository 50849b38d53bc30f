//! Parsing JSON without silent choices: a key given twice in one object, or an integer too large to
//! be held exactly, is an error instead of a guess (`serde_json` keeps the last duplicate and
//! rounds big integers to the nearest float).

use std::cell::RefCell;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Why strict parsing refused the text.
#[derive(Debug)]
pub enum StrictError {
    /// Not valid JSON.
    Json(serde_json::Error),
    /// Valid JSON that is ambiguous: a duplicate key or an inexact number.
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
    let literals = Literals::new(text);
    let note = RefCell::new(None);
    let value = StrictValue {
        note: &note,
        literals: &literals,
    }
    .deserialize(&mut deserializer)
    .map_err(StrictError::Json)?;
    deserializer.end().map_err(StrictError::Json)?;
    match note.into_inner() {
        Some(reason) => Err(StrictError::Ambiguous(reason)),
        None => Ok(value),
    }
}

/// 2^64: serde reads integers as floats only beyond the 64-bit range.
const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;
/// -2^63, the smallest 64-bit signed integer: serde reads it as an integer, so a float equal to it
/// was rounded from something smaller.
const MINUS_TWO_POW_63: f64 = -9_223_372_036_854_775_808.0;

/// True when serde may have read `v` from an integer literal too large for 64 bits: a whole
/// number outside the 64-bit range (serde gives such literals as floats, rounded).
fn maybe_rounded_integer(v: f64) -> bool {
    v.fract() == 0.0 && (v >= TWO_POW_64 || v <= MINUS_TWO_POW_63)
}

/// The text a value is read from, asked only when a number looks rounded: serde gives the same
/// float for the integer literal `100000000000000000000` (rounded: ambiguous) and for `1e20`
/// (a float as written: not ambiguous), so the text says which one was sent.
pub struct Literals<'t> {
    text: &'t [u8],
    /// The integer literals beyond 64 bits in the text, as floats (found on first use).
    long: std::cell::OnceCell<Vec<f64>>,
}

impl<'t> Literals<'t> {
    /// The literals of `text` (nothing is read until a number looks rounded).
    pub fn new(text: &'t [u8]) -> Literals<'t> {
        Literals {
            text,
            long: std::cell::OnceCell::new(),
        }
    }

    /// Why the number serde read as the float `v` is ambiguous: it was written as an integer
    /// literal outside the 64-bit range and rounded on the way in, so the value is not the
    /// one the sender wrote. `None` for every other number (`1e308` is a float as written).
    pub fn inexact_integer(&self, v: f64) -> Option<String> {
        if !maybe_rounded_integer(v) {
            return None;
        }
        let long = self.long.get_or_init(|| long_integer_literals(self.text));
        // The text's literal parsed here and serde's reading of it may differ in the last bit.
        let written = long.iter().any(|l| (l - v).abs() <= v.abs() * 1e-15);
        written.then(|| {
            format!("the integer {v:e} is too large (beyond 64 bits) to be read exactly; send large ids as strings")
        })
    }
}

/// The integer literals (digits only: no fraction, no exponent) outside the 64-bit range in a
/// JSON text, as floats; strings are skipped.
fn long_integer_literals(text: &[u8]) -> Vec<f64> {
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
                    && matches!(text[at], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    at += 1;
                }
                let literal = &text[start..at];
                let integer = !literal.iter().any(|b| matches!(b, b'.' | b'e' | b'E'));
                let long = std::str::from_utf8(literal)
                    .ok()
                    .filter(|l| integer && l.parse::<i64>().is_err() && l.parse::<u64>().is_err())
                    .and_then(|l| l.parse::<f64>().ok());
                found.extend(long.filter(|v| maybe_rounded_integer(*v)));
            }
            _ => at += 1,
        }
    }
    found
}

/// Deserializes a `Value`, noting the first duplicate key or integer too large for 64 bits it
/// meets (a repeated key is noted before anything inside its value) and reading on, so that a
/// syntax error later in the text is still found.
#[derive(Clone, Copy)]
pub struct StrictValue<'n> {
    /// Where the first ambiguity is noted.
    pub note: &'n RefCell<Option<String>>,
    /// The text being read, asked whether a number that looks rounded was written as an integer.
    pub literals: &'n Literals<'n>,
}

impl StrictValue<'_> {
    fn ambiguous(self, reason: String) {
        self.note.borrow_mut().get_or_insert(reason);
    }
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
        if let Some(reason) = self.literals.inexact_integer(v) {
            self.ambiguous(reason);
        }
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

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
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
    fn duplicates_and_inexact_integers_are_refused() {
        assert!(parse(br#"{"a": 1, "b": {"c": [1, 2.5, null]}}"#).is_ok());
        assert!(
            matches!(parse(br#"{"amount": "1", "amount": "2"}"#), Err(StrictError::Ambiguous(r)) if r.contains("\"amount\" appears twice"))
        );
        assert!(matches!(
            parse(br#"{"x": {"id": 1, "id": 1}}"#),
            Err(StrictError::Ambiguous(_))
        ));
        assert!(parse(b"18446744073709551615").is_ok());
        assert!(matches!(
            parse(b"18446744073709551617"),
            Err(StrictError::Ambiguous(_))
        ));
        assert!(matches!(parse(b"1e400"), Err(StrictError::Json(_))));
        // A float as written, however large, is not a rounded integer.
        assert!(parse(br#"{"a": 1e308, "b": -2.0E19, "c": "18446744073709551617"}"#).is_ok());
        assert!(matches!(
            parse(br#"{"a": 1e20, "b": [-100000000000000000000]}"#),
            Err(StrictError::Ambiguous(_))
        ));
        // -2^63 fits; the same value written as a float is a float.
        assert!(parse(br#"[-9223372036854775808, -9.223372036854775808e18]"#).is_ok());
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
        let reason =
            ambiguity(r#"{"a": 1, "n": 123456789012345678901234, "a": 2}"#).unwrap_or_default();
        assert!(reason.contains("the integer"), "{reason}");
        // An ambiguous text that is not JSON is not JSON.
        assert!(matches!(
            parse(br#"{"a": 1, "a": 2"#),
            Err(StrictError::Json(_))
        ));
        assert!(matches!(
            parse(br#"[1e20, 100000000000000000000, "#),
            Err(StrictError::Json(_))
        ));
    }
}
