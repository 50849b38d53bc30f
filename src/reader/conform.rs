//! Checking values against compiled shapes: whole values ([`Shapes::validate`], the quick
//! yes/no [`Shapes::is_valid_quick`]), and the scalar, text, number and item-count checks the
//! streaming walk applies as it reads.

use serde_json::{Map, Value};

use super::formats::FormatCheck;
use super::shape::{Failure, Shape, ShapeId, Shapes};
use crate::value::Kinds;

impl Shapes {
    /// True when `text` satisfies the format at `index`.
    pub fn format_ok(&self, index: usize, text: &str) -> bool {
        self.formats
            .get(index)
            .is_none_or(|format| format.holds(text))
    }

    /// Validates a whole value, collecting failures (at most `limit`).
    pub fn validate(
        &self,
        shape: ShapeId,
        value: &Value,
        pointer: &mut String,
        out: &mut Vec<Failure>,
        limit: usize,
    ) {
        self.validate_in(shape, value, pointer, true, out, limit);
    }

    /// True when `value` is valid against `shape`, with failures counted but not located (no
    /// JSON pointer is built on the way).
    pub fn is_valid_quick(&self, shape: ShapeId, value: &Value, limit: usize) -> bool {
        if self.passes_by_type(shape, value) {
            return true;
        }
        let mut failures = Vec::new();
        self.validate_in(
            shape,
            value,
            &mut String::new(),
            false,
            &mut failures,
            limit,
        );
        failures.is_empty()
    }

    /// [`Shapes::validate`]; `track` keeps `pointer` at the value being checked.
    fn validate_in(
        &self,
        shape: ShapeId,
        value: &Value,
        pointer: &mut String,
        track: bool,
        out: &mut Vec<Failure>,
        limit: usize,
    ) {
        if out.len() >= limit || self.passes_by_type(shape, value) {
            return;
        }
        let s = &self.shapes[shape];
        if let Some(allowed) = s.boolean {
            if !allowed {
                out.push(failure(
                    pointer,
                    format!("{} is not allowed here", short(value)),
                ));
            }
            return;
        }
        self.check_scalar(s, value, pointer, out);
        match value {
            Value::Object(map) => self.check_object(s, map, pointer, track, out, limit),
            Value::Array(items) => self.check_array(s, items, pointer, track, out, limit),
            _ => {}
        }
        for part in &s.all_of {
            self.validate_in(*part, value, pointer, track, out, limit);
        }
        self.check_combinators(s, value, pointer, out);
    }

    /// True when `value` is valid against `shape`.
    pub fn is_valid(&self, shape: ShapeId, value: &Value) -> bool {
        self.is_valid_quick(shape, value, 1)
    }

    /// Checks the keywords that look at the value itself (type, enum, string and number bounds).
    pub fn check_scalar(&self, s: &Shape, value: &Value, pointer: &str, out: &mut Vec<Failure>) {
        let kind = Kinds::of_json(value);
        if let Some(kinds) = s.kinds
            && !kinds.intersects(kind)
        {
            out.push(failure(
                pointer,
                format!("{} is not of type {}", short(value), kinds.describe()),
            ));
            return;
        }
        if let Some(values) = &s.enum_values
            && !values.iter().any(|v| schema_equal(v, value))
        {
            out.push(not_one_of(pointer, &short(value), values));
        }
        match value {
            Value::String(text) => self.check_text(s, text, pointer, out),
            Value::Number(n) => check_number(s, n.as_f64().unwrap_or(f64::NAN), pointer, out),
            _ => {}
        }
    }

    /// Checks a string's length, pattern and format.
    pub fn check_text(&self, s: &Shape, text: &str, pointer: &str, out: &mut Vec<Failure>) {
        if s.min_length.is_some() || s.max_length.is_some() {
            let length = text.chars().count() as u64;
            if s.min_length.is_some_and(|m| length < m) {
                out.push(failure(
                    pointer,
                    format!(
                        "{} is shorter than {} characters",
                        short_str(text),
                        s.min_length.unwrap_or(0)
                    ),
                ));
            }
            if s.max_length.is_some_and(|m| length > m) {
                out.push(failure(
                    pointer,
                    format!(
                        "{} is longer than {} characters",
                        short_str(text),
                        s.max_length.unwrap_or(0)
                    ),
                ));
            }
        }
        if let Some(pattern) = &s.pattern
            && !pattern.is_match(text)
        {
            out.push(failure(
                pointer,
                format!("{} does not match {:?}", short_str(text), pattern.as_str()),
            ));
        }
        if let Some(format) = s.format
            && !self.format_ok(format, text)
        {
            let name = self.formats.get(format).map_or("value", FormatCheck::name);
            out.push(failure(
                pointer,
                format!("{} is not a valid {name}", short_str(text)),
            ));
        }
    }

    fn check_object(
        &self,
        s: &Shape,
        map: &Map<String, Value>,
        pointer: &mut String,
        track: bool,
        out: &mut Vec<Failure>,
        limit: usize,
    ) {
        let start = out.len();
        if self.check_members(s, map, pointer, track, out, limit) {
            return;
        }
        // Some required member is missing: report it first, then the members' own failures.
        out.truncate(start);
        for name in &s.required {
            if !map.contains_key(name) {
                out.push(Failure {
                    pointer: pointer.clone(),
                    message: format!("\"{name}\" is a required property"),
                    missing: Some(name.clone()),
                    ambiguous: false,
                });
            }
        }
        self.check_members(s, map, pointer, track, out, limit);
    }

    /// Validates each member; true when the object has every required member (counted as the
    /// members pass, when the shape allows).
    fn check_members(
        &self,
        s: &Shape,
        map: &Map<String, Value>,
        pointer: &mut String,
        track: bool,
        out: &mut Vec<Failure>,
        limit: usize,
    ) -> bool {
        let mut required_members = 0;
        for (key, value) in map {
            let (child, required) = s.member(key);
            required_members += usize::from(required);
            if let Some(child) = child {
                let mark = pointer.len();
                if track {
                    push_segment(pointer, key);
                }
                self.validate_in(child, value, pointer, track, out, limit);
                pointer.truncate(mark);
            }
        }
        if s.required_declared {
            required_members == s.required.len()
        } else {
            s.required.iter().all(|name| map.contains_key(name))
        }
    }

    fn check_array(
        &self,
        s: &Shape,
        items: &[Value],
        pointer: &mut String,
        track: bool,
        out: &mut Vec<Failure>,
        limit: usize,
    ) {
        check_item_count(s, items.len(), pointer, out);
        if let Some(item) = s.items {
            for (index, value) in items.iter().enumerate() {
                let mark = pointer.len();
                if track {
                    pointer.push('/');
                    pointer.push_str(&index.to_string());
                }
                self.validate_in(item, value, pointer, track, out, limit);
                pointer.truncate(mark);
            }
        }
    }

    fn check_combinators(&self, s: &Shape, value: &Value, pointer: &str, out: &mut Vec<Failure>) {
        if !s.any_of.is_empty() && !s.any_of.iter().any(|b| self.is_valid(*b, value)) {
            out.push(failure(
                pointer,
                format!(
                    "{} matches none of the allowed shapes (anyOf)",
                    short(value)
                ),
            ));
        }
        if !s.one_of.is_empty() {
            let matching = s
                .one_of
                .iter()
                .filter(|b| self.is_valid(**b, value))
                .count();
            if matching != 1 {
                out.push(failure(
                    pointer,
                    format!(
                        "{} matches {matching} of the oneOf shapes, not exactly one",
                        short(value)
                    ),
                ));
            }
        }
        if let Some(not) = s.not
            && self.is_valid(not, value)
        {
            out.push(failure(
                pointer,
                format!("{} matches a shape it must not (not)", short(value)),
            ));
        }
    }
}

/// The failure of a value (`shown` as messages quote it) that is none of the enum's `values`.
pub fn not_one_of(pointer: &str, shown: &str, values: &[Value]) -> Failure {
    let allowed: Vec<String> = values.iter().take(8).map(Value::to_string).collect();
    let more = if values.len() > 8 {
        format!(" and {} more", values.len() - 8)
    } else {
        String::new()
    };
    failure(
        pointer,
        format!("{shown} is not one of {}{more}", allowed.join(", ")),
    )
}

/// Equality as JSON Schema's `enum` and `const` compare values: numbers by their value at any
/// depth (`[1]` equals `[1.0]`), everything else structurally (`false` is not `0`).
pub fn schema_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if x.is_f64() || y.is_f64() {
                x.as_f64() == y.as_f64()
            } else {
                x == y
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| schema_equal(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(key, p)| y.get(key).is_some_and(|q| schema_equal(p, q)))
        }
        _ => a == b,
    }
}

/// Checks `minItems` / `maxItems`.
pub fn check_item_count(s: &Shape, count: usize, pointer: &str, out: &mut Vec<Failure>) {
    let count = count as u64;
    if s.item_count[0].is_some_and(|m| count < m) {
        out.push(failure(
            pointer,
            format!(
                "has {count} items, fewer than {}",
                s.item_count[0].unwrap_or(0)
            ),
        ));
    }
    if s.item_count[1].is_some_and(|m| count > m) {
        out.push(failure(
            pointer,
            format!(
                "has {count} items, more than {}",
                s.item_count[1].unwrap_or(0)
            ),
        ));
    }
}

/// Checks numeric bounds.
pub fn check_number(s: &Shape, n: f64, pointer: &str, out: &mut Vec<Failure>) {
    let [min, max, xmin, xmax] = s.bounds;
    // The number as JSON shows it, written only for a failure (most numbers pass).
    let shown = || crate::value::Val::Num(n).to_json().to_string();
    if min.is_some_and(|m| n < m) {
        out.push(failure(
            pointer,
            format!("{} is less than the minimum of {}", shown(), fmt(min)),
        ));
    }
    if max.is_some_and(|m| n > m) {
        out.push(failure(
            pointer,
            format!("{} is greater than the maximum of {}", shown(), fmt(max)),
        ));
    }
    if xmin.is_some_and(|m| n <= m) {
        out.push(failure(
            pointer,
            format!("{} is not greater than {}", shown(), fmt(xmin)),
        ));
    }
    if xmax.is_some_and(|m| n >= m) {
        out.push(failure(
            pointer,
            format!("{} is not less than {}", shown(), fmt(xmax)),
        ));
    }
}

fn fmt(bound: Option<f64>) -> String {
    crate::value::Val::Num(bound.unwrap_or(0.0))
        .to_json()
        .to_string()
}

/// Appends an escaped JSON pointer segment.
pub fn push_segment(pointer: &mut String, key: &str) {
    pointer.push('/');
    if key.bytes().any(|b| b == b'~' || b == b'/') {
        pointer.push_str(&crate::schema::locate::escape_segment(key));
    } else {
        pointer.push_str(key);
    }
}

/// A failure at `pointer`.
pub fn failure(pointer: &str, message: String) -> Failure {
    Failure {
        pointer: pointer.to_string(),
        message,
        missing: None,
        ambiguous: false,
    }
}

/// A value as messages quote it: JSON, cut to about 60 characters.
pub fn short(value: &Value) -> String {
    match value {
        Value::String(s) => short_str(s),
        other => {
            let text = other.to_string();
            if text.len() > 60 {
                format!(
                    "{}...",
                    &text[..crate::source::clamp_to_char_boundary(&text, 57)]
                )
            } else {
                text
            }
        }
    }
}

/// A string quoted and cut for messages.
pub fn short_str(text: &str) -> String {
    let quoted = Value::String(text.to_string()).to_string();
    if quoted.chars().count() > 60 {
        format!("{}...\"", quoted.chars().take(56).collect::<String>())
    } else {
        quoted
    }
}
