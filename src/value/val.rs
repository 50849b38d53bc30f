//! Runtime values: JSON data borrowed from the input where possible, plus dates.

use std::borrow::Cow;

use chrono::{DateTime, FixedOffset, NaiveDate, SecondsFormat};
use serde_json::Value;

use super::Kinds;

/// A value flowing through a mapping. `Absent` stands for a missing key or JSON null.
#[derive(Debug, Clone, PartialEq)]
pub enum Val<'a> {
    /// No value: the key is missing or null.
    Absent,
    /// An explicit `null` written by the mapping (`?? null`).
    Null,
    /// A boolean.
    Bool(bool),
    /// A whole number.
    Int(i64),
    /// Any other number (always finite).
    Num(f64),
    /// A string.
    Str(Cow<'a, str>),
    /// A calendar date.
    Date(NaiveDate),
    /// A date and time with its offset.
    DateTime(DateTime<FixedOffset>),
    /// An array or object (or a number too large for the other variants).
    Json(Cow<'a, Value>),
}

impl<'a> Val<'a> {
    /// Reads a JSON value without copying it. JSON null becomes [`Val::Absent`].
    pub fn from_json(value: &'a Value) -> Val<'a> {
        match value {
            Value::Null => Val::Absent,
            Value::Bool(b) => Val::Bool(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => Val::Int(i),
                None if n.is_u64() => Val::Json(Cow::Borrowed(value)),
                None => n.as_f64().map_or(Val::Absent, Val::Num),
            },
            Value::String(s) => Val::Str(Cow::Borrowed(s)),
            Value::Array(_) | Value::Object(_) => Val::Json(Cow::Borrowed(value)),
        }
    }

    /// Takes ownership of a JSON value.
    pub fn from_owned_json(value: Value) -> Val<'static> {
        match value {
            Value::Null => Val::Absent,
            Value::Bool(b) => Val::Bool(b),
            Value::Number(ref n) => match n.as_i64() {
                Some(i) => Val::Int(i),
                None if n.is_u64() => Val::Json(Cow::Owned(value)),
                None => n.as_f64().map_or(Val::Absent, Val::Num),
            },
            Value::String(s) => Val::Str(Cow::Owned(s)),
            other => Val::Json(Cow::Owned(other)),
        }
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
            Val::Num(f) => number_to_json(*f),
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
            Val::Num(f) if f.fract() == 0.0 => Kinds::INT,
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

    /// The value as a number, when it is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Val::Int(i) => Some(*i as f64),
            Val::Num(f) => Some(*f),
            Val::Json(v) => v.as_f64(),
            _ => None,
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
            Val::Num(f) => Val::Num(f),
            Val::Str(s) => Val::Str(Cow::Owned(s.into_owned())),
            Val::Date(d) => Val::Date(d),
            Val::DateTime(t) => Val::DateTime(t),
            Val::Json(v) => Val::Json(Cow::Owned(v.into_owned())),
        }
    }
}

/// A finite float as JSON: whole values within ±2^53 print as integers.
pub fn number_to_json(f: f64) -> Value {
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if f.fract() == 0.0 && f.abs() <= EXACT {
        Value::from(f as i64)
    } else {
        serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_floats_print_as_integers() {
        assert_eq!(Val::Num(12500.0).to_json().to_string(), "12500");
        assert_eq!(Val::Num(9999.99).to_json().to_string(), "9999.99");
    }

    #[test]
    fn null_reads_as_absent_and_empty_string_is_not_present() {
        assert!(Val::from_json(&Value::Null).is_absent());
        assert!(!Val::Str("".into()).is_present());
        assert!(Val::Str(" ".into()).is_present());
    }
}
