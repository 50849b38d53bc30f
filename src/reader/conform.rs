//! Checking values against compiled shapes: the quick yes/no [`Shapes::is_valid_quick`] on
//! whole values, and the scalar, text, number and item-count checks the streaming walk and
//! `failures.rs` ([`Shapes::validate`], failures located and in reading order) apply.

use serde_json::{Map, Value};

use super::formats::FormatCheck;
use super::shape::{Failure, Keyword, Shape, ShapeId, Shapes};
use crate::value::Kinds;

impl Shapes {
    /// True when `text` satisfies the format at `index`.
    pub fn format_ok(&self, index: usize, text: &str) -> bool {
        self.formats
            .get(index)
            .is_none_or(|format| format.holds(text))
    }

    /// True when `value` is valid against `shape`, with failures counted (up to `limit`) but
    /// not located: no JSON pointer is built on the way, and their order does not matter.
    pub fn is_valid_quick(&self, shape: ShapeId, value: &Value, limit: usize) -> bool {
        if self.passes_by_type(shape, value) {
            return true;
        }
        let mut failures = Vec::new();
        self.count_failures(shape, value, &mut failures, limit);
        failures.is_empty()
    }

    /// The failures of `value` against `shape`, unlocated (up to about `limit`).
    fn count_failures(&self, shape: ShapeId, value: &Value, out: &mut Vec<Failure>, limit: usize) {
        if out.len() >= limit || self.passes_by_type(shape, value) {
            return;
        }
        let s = &self.shapes[shape];
        if let Some(allowed) = s.boolean {
            if !allowed {
                out.push(not_allowed("", value));
            }
            return;
        }
        self.check_scalar(s, value, "", out);
        match value {
            Value::Object(map) => self.check_object(s, map, out, limit),
            Value::Array(items) => self.check_array(s, items, out, limit),
            _ => {}
        }
        for part in &s.all_of {
            self.count_failures(*part, value, out, limit);
        }
        self.check_combinators(s, value, "", out);
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
                Keyword::Type,
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
            Value::Number(n) => check_number(s, n, pointer, out),
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
                    Keyword::MinLength,
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
                    Keyword::MaxLength,
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
                Keyword::Pattern,
                format!("{} does not match {:?}", short_str(text), pattern.as_str()),
            ));
        }
        if let Some(format) = s.format
            && !self.format_ok(format, text)
        {
            let name = self.formats.get(format).map_or("value", FormatCheck::name);
            out.push(failure(
                pointer,
                Keyword::Format,
                format!("{} is not a valid {name}", short_str(text)),
            ));
        }
    }

    fn check_object(
        &self,
        s: &Shape,
        map: &Map<String, Value>,
        out: &mut Vec<Failure>,
        limit: usize,
    ) {
        let mut required_members = 0;
        for (key, value) in map {
            let (child, required) = s.member(key);
            required_members += usize::from(required);
            if let Some(child) = child {
                self.count_failures(child, value, out, limit);
            }
        }
        // Counted as the members pass, when the shape allows.
        let complete = if s.required_declared {
            required_members == s.required.len()
        } else {
            s.required.iter().all(|name| map.contains_key(name))
        };
        if !complete {
            out.extend(missing_members(s, map, ""));
        }
    }

    fn check_array(&self, s: &Shape, items: &[Value], out: &mut Vec<Failure>, limit: usize) {
        check_item_count(s, items.len(), "", out);
        if let Some(item) = s.items {
            for value in items {
                self.count_failures(item, value, out, limit);
            }
        }
    }

    /// Checks `anyOf`, `oneOf` and `not` on the whole value.
    pub fn check_combinators(
        &self,
        s: &Shape,
        value: &Value,
        pointer: &str,
        out: &mut Vec<Failure>,
    ) {
        if !s.any_of.is_empty() && !s.any_of.iter().any(|b| self.is_valid(*b, value)) {
            out.push(failure(
                pointer,
                Keyword::AnyOf,
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
                    Keyword::OneOf,
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
                Keyword::Not,
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
        Keyword::Enum,
        format!("{shown} is not one of {}{more}", allowed.join(", ")),
    )
}

/// Equality as JSON Schema's `enum` and `const` compare values: numbers by their value at any
/// depth (`[1]` equals `[1.0]`), everything else structurally (`false` is not `0`).
#[inline]
pub fn schema_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        // The common case (a string against an enum of strings) decided without a call.
        (Value::String(x), Value::String(y)) => x == y,
        (Value::String(_), _) | (_, Value::String(_)) => false,
        _ => containers_equal(a, b),
    }
}

/// [`schema_equal`] for numbers, arrays, objects and the other scalars.
fn containers_equal(a: &Value, b: &Value) -> bool {
    crate::value::equal::equal_with(a, b, validator_number_equal)
}

/// Numbers as the tree validator compares them: fractions as floats, integers by value.
fn validator_number_equal(x: &serde_json::Number, y: &serde_json::Number) -> bool {
    if x.is_f64() || y.is_f64() {
        x.as_f64() == y.as_f64()
    } else {
        crate::value::number::same(x, y)
    }
}

/// Checks `minItems` / `maxItems`.
pub fn check_item_count(s: &Shape, count: usize, pointer: &str, out: &mut Vec<Failure>) {
    let count = count as u64;
    if s.item_count[0].is_some_and(|m| count < m) {
        out.push(failure(
            pointer,
            Keyword::MinItems,
            format!(
                "has {count} items, fewer than {}",
                s.item_count[0].unwrap_or(0)
            ),
        ));
    }
    if s.item_count[1].is_some_and(|m| count > m) {
        out.push(failure(
            pointer,
            Keyword::MaxItems,
            format!(
                "has {count} items, more than {}",
                s.item_count[1].unwrap_or(0)
            ),
        ));
    }
}

/// Checks numeric bounds at the precision of a 64-bit float (for integers beyond 2^53 the tree
/// validator, `jsonschema`, is exact where this is not: a documented limit of schema bounds).
pub fn check_number(s: &Shape, number: &serde_json::Number, pointer: &str, out: &mut Vec<Failure>) {
    if s.bounds.iter().all(Option::is_none) {
        return;
    }
    let [min, max, xmin, xmax] = s.bounds.each_ref().map(|b| b.as_ref().map(|b| b.value));
    // Beyond a float's range the number counts as infinite, as the tree validator counts it.
    let n = number.as_str().parse::<f64>().unwrap_or(f64::NAN);
    let fmt = |at: usize| {
        s.bounds[at]
            .as_ref()
            .map_or_else(String::new, |b| b.text.to_string())
    };
    // The number with its digits as written, shown only for a failure (most numbers pass).
    let shown = || number.to_string();
    if min.is_some_and(|m| n < m) {
        out.push(failure(
            pointer,
            Keyword::Minimum,
            format!("{} is less than the minimum of {}", shown(), fmt(0)),
        ));
    }
    if max.is_some_and(|m| n > m) {
        out.push(failure(
            pointer,
            Keyword::Maximum,
            format!("{} is greater than the maximum of {}", shown(), fmt(1)),
        ));
    }
    if xmin.is_some_and(|m| n <= m) {
        out.push(failure(
            pointer,
            Keyword::ExclusiveMinimum,
            format!("{} is not greater than {}", shown(), fmt(2)),
        ));
    }
    if xmax.is_some_and(|m| n >= m) {
        out.push(failure(
            pointer,
            Keyword::ExclusiveMaximum,
            format!("{} is not less than {}", shown(), fmt(3)),
        ));
    }
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

/// A failure of `keyword` at `pointer`.
pub fn failure(pointer: &str, keyword: Keyword, message: String) -> Failure {
    Failure {
        pointer: pointer.to_string(),
        message,
        missing: None,
        keyword,
    }
}

/// The failure of a value at `pointer` where a `false` schema allows nothing.
pub fn not_allowed(pointer: &str, value: &Value) -> Failure {
    failure(
        pointer,
        Keyword::Type,
        format!("{} is not allowed here", short(value)),
    )
}

/// The failure of a required member `name` missing from the object at `pointer`.
pub fn missing_member(pointer: &str, name: &str) -> Failure {
    Failure {
        pointer: pointer.to_string(),
        message: format!("\"{name}\" is a required property"),
        missing: Some(name.to_string()),
        keyword: Keyword::Required,
    }
}

/// The failures of the required members of `s` that `map` lacks, in the order `required`
/// names them.
pub fn missing_members<'a>(
    s: &'a Shape,
    map: &'a Map<String, Value>,
    pointer: &'a str,
) -> impl Iterator<Item = Failure> + 'a {
    s.required
        .iter()
        .filter(|name| !map.contains_key(*name))
        .map(move |name| missing_member(pointer, name))
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
