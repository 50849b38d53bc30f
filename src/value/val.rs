//! Runtime values: JSON data borrowed from the input where possible, plus dates.

use std::borrow::Cow;

use std::cmp::Ordering;

use chrono::{DateTime, FixedOffset, NaiveDate, SecondsFormat};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde_json::{Number, Value};

use super::{Kinds, number};

/// A value flowing through a mapping. `Absent` stands for a missing key or JSON null.
#[derive(Debug, Clone, PartialEq)]
pub enum Val<'a> {
    /// No value: the key is missing or null.
    Absent,
    /// An explicit `null` written by the mapping (`?? null`).
    Null,
    /// A boolean.
    Bool(bool),
    /// A whole number written without a fraction, in the 64-bit range.
    Int(i64),
    /// Any other number with at most 28 significant digits, exactly, with the scale it was
    /// written or computed with (`48500.00` keeps its two places).
    Num(Decimal),
    /// A string.
    Str(Cow<'a, str>),
    /// A calendar date.
    Date(NaiveDate),
    /// A date and time with its offset.
    DateTime(DateTime<FixedOffset>),
    /// An array or object, or a number with more digits than a decimal holds (kept exactly,
    /// as written).
    Json(Cow<'a, Value>),
}

impl<'a> Val<'a> {
    /// Reads a JSON value without copying it. JSON null becomes [`Val::Absent`].
    #[inline]
    pub fn from_json(value: &'a Value) -> Val<'a> {
        match value {
            Value::Null => Val::Absent,
            Value::Bool(b) => Val::Bool(*b),
            Value::Number(n) => Val::borrowed_number(value, n),
            Value::String(s) => Val::Str(Cow::Borrowed(s)),
            Value::Array(_) | Value::Object(_) => Val::Json(Cow::Borrowed(value)),
        }
    }

    /// Takes ownership of a JSON value.
    pub fn from_owned_json(value: Value) -> Val<'static> {
        match value {
            Value::Null => Val::Absent,
            Value::Bool(b) => Val::Bool(b),
            Value::Number(ref n) => match Val::small_number(n) {
                Some(small) => small,
                None => Val::Json(Cow::Owned(value)),
            },
            Value::String(s) => Val::Str(Cow::Owned(s)),
            other => Val::Json(Cow::Owned(other)),
        }
    }

    /// A JSON number as a value: an integer, a decimal, or (more digits than a decimal holds)
    /// the number itself, exactly.
    pub fn from_number(number: Number) -> Val<'static> {
        match Val::small_number(&number) {
            Some(small) => small,
            None => Val::Json(Cow::Owned(Value::Number(number))),
        }
    }

    /// The number `number` (which is `value`) as a value. Kept out of line: most values read
    /// are text, and [`Val::from_json`] stays small for them.
    #[inline(never)]
    fn borrowed_number(value: &'a Value, number: &Number) -> Val<'a> {
        match Val::small_number(number) {
            Some(small) => small,
            None => Val::Json(Cow::Borrowed(value)),
        }
    }

    /// A number as [`Val::Int`] or [`Val::Num`], when it fits one exactly.
    fn small_number(number: &Number) -> Option<Val<'static>> {
        if let Some(i) = number.as_i64() {
            return Some(Val::Int(i));
        }
        number::to_decimal(number).map(Val::Num)
    }

    /// Converts into JSON, moving owned text. Whole floats print as integers; dates as ISO 8601
    /// text.
    pub fn into_json(self) -> Value {
        match self {
            Val::Str(s) => Value::String(s.into_owned()),
            Val::Json(v) => v.into_owned(),
            other => other.to_json(),
        }
    }

    /// The value as JSON, copied (see [`Val::into_json`]).
    pub fn to_json(&self) -> Value {
        match self {
            Val::Absent | Val::Null => Value::Null,
            Val::Bool(b) => Value::Bool(*b),
            Val::Int(i) => Value::from(*i),
            Val::Num(d) => Value::Number(number::from_decimal(*d)),
            Val::Str(s) => Value::String(s.to_string()),
            Val::Date(d) => Value::String(d.format("%Y-%m-%d").to_string()),
            Val::DateTime(t) => Value::String(t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
            Val::Json(v) => v.as_ref().clone(),
        }
    }

    /// The value's kind.
    pub fn kind(&self) -> Kinds {
        match self {
            Val::Absent => Kinds::NONE,
            Val::Null => Kinds::NULL,
            Val::Bool(_) => Kinds::BOOL,
            Val::Int(_) => Kinds::INT,
            Val::Num(d) if d.fract().is_zero() => Kinds::INT,
            Val::Num(_) => Kinds::FRAC,
            Val::Str(_) => Kinds::STRING,
            Val::Date(_) => Kinds::DATE,
            Val::DateTime(_) => Kinds::DATETIME,
            Val::Json(v) => Kinds::of_json(v),
        }
    }

    /// True for [`Val::Absent`].
    pub fn is_absent(&self) -> bool {
        matches!(self, Val::Absent)
    }

    /// Present in the sense of `require`: not absent, not null, not the empty string.
    pub fn is_present(&self) -> bool {
        match self {
            Val::Absent | Val::Null => false,
            Val::Str(s) => !s.is_empty(),
            _ => true,
        }
    }

    /// The value as the nearest float, when it is a number (for what is measured, not
    /// counted: date arithmetic and ranges; money goes through [`Val::compare_number`] and
    /// decimals).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Val::Int(i) => Some(*i as f64),
            Val::Num(d) => d.to_f64(),
            Val::Json(v) => v.as_f64(),
            _ => None,
        }
    }

    /// True when the value is a number.
    pub fn is_number(&self) -> bool {
        match self {
            Val::Int(_) | Val::Num(_) => true,
            Val::Json(v) => v.is_number(),
            _ => false,
        }
    }

    /// The value as an exact decimal, when it is a number a decimal holds.
    pub fn as_decimal(&self) -> Option<Decimal> {
        match self {
            Val::Int(i) => Some(Decimal::from(*i)),
            Val::Num(d) => Some(*d),
            Val::Json(v) => v.as_number().and_then(number::to_decimal),
            _ => None,
        }
    }

    /// The order of two numbers by value, exactly; `None` unless both are numbers.
    pub fn compare_number(&self, other: &Val<'_>) -> Option<Ordering> {
        match (self, other) {
            (Val::Int(a), Val::Int(b)) => Some(a.cmp(b)),
            (Val::Json(_), _) | (_, Val::Json(_)) => {
                let (a, b) = (self.to_json(), other.to_json());
                Some(number::compare(a.as_number()?, b.as_number()?))
            }
            _ => Some(self.as_decimal()?.cmp(&other.as_decimal()?)),
        }
    }

    /// The value as a string slice, when it is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Text for templates and `string`: strings as is, numbers and dates in canonical form.
    pub fn to_text(&self) -> Option<Cow<'_, str>> {
        match self {
            Val::Absent | Val::Null => None,
            Val::Str(s) => Some(Cow::Borrowed(s.as_ref())),
            other => match other.to_json() {
                Value::String(s) => Some(Cow::Owned(s)),
                json => Some(Cow::Owned(json.to_string())),
            },
        }
    }

    /// A short rendering for error messages (strings quoted, long values cut).
    pub fn describe(&self) -> String {
        let text = match self {
            Val::Absent => return "nothing (absent)".to_string(),
            other => other.to_json().to_string(),
        };
        if text.chars().count() > 60 {
            let cut: String = text.chars().take(57).collect();
            format!("{cut}...")
        } else {
            text
        }
    }

    /// Detaches the value from the input it borrows from.
    pub fn into_owned(self) -> Val<'static> {
        match self {
            Val::Absent => Val::Absent,
            Val::Null => Val::Null,
            Val::Bool(b) => Val::Bool(b),
            Val::Int(i) => Val::Int(i),
            Val::Num(d) => Val::Num(d),
            Val::Str(s) => Val::Str(Cow::Owned(s.into_owned())),
            Val::Date(d) => Val::Date(d),
            Val::DateTime(t) => Val::DateTime(t),
            Val::Json(v) => Val::Json(Cow::Owned(v.into_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_with_their_digits() {
        let read = |text: &str| Val::from_owned_json(serde_json::from_str(text).expect("json"));
        for text in [
            "12500",
            "48500.00",
            "9999.99",
            "12345678901234567890123",
            "1e+300",
        ] {
            assert_eq!(read(text).to_json().to_string(), text);
        }
        assert_eq!(read("1.5e3").to_json().to_string(), "1500");
        assert!(matches!(read("48500.00"), Val::Num(_)));
        assert!(matches!(
            read("1234567890123456789012345678901"),
            Val::Json(_)
        ));
    }

    #[test]
    fn numbers_compare_exactly_across_representations() {
        let read = |text: &str| Val::from_owned_json(serde_json::from_str(text).expect("json"));
        let order = |a: &str, b: &str| read(a).compare_number(&read(b));
        assert_eq!(order("48500.00", "48500"), Some(Ordering::Equal));
        assert_eq!(order("0.1", "0.10000000000000001"), Some(Ordering::Less));
        assert_eq!(
            order(
                "1234567890123456789012345678901",
                "1234567890123456789012345678902"
            ),
            Some(Ordering::Less)
        );
        assert_eq!(order("1e300", "7"), Some(Ordering::Greater));
        assert_eq!(read("2").compare_number(&Val::Str("2".into())), None);
    }

    #[test]
    fn null_reads_as_absent_and_empty_string_is_not_present() {
        assert!(Val::from_json(&Value::Null).is_absent());
        assert!(!Val::Str("".into()).is_present());
        assert!(Val::Str(" ".into()).is_present());
    }
}
