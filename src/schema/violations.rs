//! Schema violations in mapctl's words, for every record the `jsonschema` crate validates: the
//! fast engine's fallback (a schema with a keyword the reader's shapes lack, `validate.rs`) and
//! the reference interpreter. `jsonschema` decides what is wrong and where; this file says it the
//! way the reader's shapes do (`"x" is not of type string or null`, values quoted and cut to
//! about 60 characters) and orders the violations as a reader meets them in the record: a
//! value's own problems (a value of the wrong type is only said to be of the wrong type, not also
//! outside its `enum` or bounds) and its missing required members before the problems of its
//! members, members in the order they are written. At most ten are reported per record.

use std::collections::HashMap;

use jsonschema::Validator;
use jsonschema::error::{TypeKind, ValidationError, ValidationErrorKind as Kind};
use serde_json::Value;

use super::locate::{escape_segment, pointer_segments};
use super::validate::{MAX_VIOLATIONS, Violation};
use crate::value::Kinds;

/// The violations of `value` against `validator`, in reading order (empty when valid).
pub fn violations(validator: &Validator, value: &Value) -> Vec<Violation> {
    let errors: Vec<ValidationError<'_>> = validator.iter_errors(value).collect();
    let mistyped: Vec<(String, String)> = errors
        .iter()
        .filter(|e| matches!(e.kind(), Kind::Type { .. }))
        .map(node_of)
        .collect();
    let mut found: Vec<(usize, Violation)> = Vec::new();
    for error in &errors {
        if about_the_value(error.kind()) && mistyped.contains(&node_of(error)) {
            continue;
        }
        for violation in render(error, value) {
            found.push((rank(error.kind()), violation));
        }
    }
    let order = reading_order(value);
    let position = |pointer: &str| order.get(pointer).copied().unwrap_or(usize::MAX);
    found.sort_by_key(|(rank, v)| (position(&v.pointer), *rank));
    found
        .into_iter()
        .take(MAX_VIOLATIONS)
        .map(|(_, v)| v)
        .collect()
}

/// True for the keywords that judge a value itself (not its members): a value of the wrong type
/// is only said to be of the wrong type.
fn about_the_value(kind: &Kind) -> bool {
    matches!(
        kind,
        Kind::Enum { .. }
            | Kind::Constant { .. }
            | Kind::MinLength { .. }
            | Kind::MaxLength { .. }
            | Kind::Pattern { .. }
            | Kind::Format { .. }
            | Kind::Minimum { .. }
            | Kind::Maximum { .. }
            | Kind::ExclusiveMinimum { .. }
            | Kind::ExclusiveMaximum { .. }
    )
}

/// The value and the schema node an error is about.
fn node_of(error: &ValidationError<'_>) -> (String, String) {
    let keyword = error.schema_path().as_str().to_string();
    let node = keyword
        .rsplit_once('/')
        .map_or("", |(node, _)| node)
        .to_string();
    (error.instance_path().as_str().to_string(), node)
}

/// The position of every value of `root` in reading order (a value before its members).
fn reading_order(root: &Value) -> HashMap<String, usize> {
    let mut order = HashMap::new();
    let mut stack = vec![(String::new(), root)];
    while let Some((pointer, value)) = stack.pop() {
        order.insert(pointer.clone(), order.len());
        let members: Vec<(String, &Value)> = match value {
            Value::Object(map) => map
                .iter()
                .map(|(k, v)| (format!("{pointer}/{}", escape_segment(k)), v))
                .collect(),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("{pointer}/{i}"), v))
                .collect(),
            _ => Vec::new(),
        };
        stack.extend(members.into_iter().rev());
    }
    order
}

/// Where a kind of problem comes among those of one value.
fn rank(kind: &Kind) -> usize {
    match kind {
        // A member that is not allowed is said first, as a value a `false` schema refuses.
        Kind::Type { .. } | Kind::FalseSchema | Kind::AdditionalProperties { .. } => 0,
        Kind::Enum { .. } | Kind::Constant { .. } => 1,
        Kind::MinLength { .. } => 2,
        Kind::MaxLength { .. } => 3,
        Kind::Pattern { .. } => 4,
        Kind::Format { .. } => 5,
        Kind::Minimum { .. } => 6,
        Kind::Maximum { .. } => 7,
        Kind::ExclusiveMinimum { .. } => 8,
        Kind::ExclusiveMaximum { .. } => 9,
        Kind::Required { .. } => 10,
        Kind::MinItems { .. } => 11,
        Kind::MaxItems { .. } => 12,
        Kind::AnyOf { .. } => 13,
        Kind::OneOfNotValid { .. } | Kind::OneOfMultipleValid { .. } => 14,
        Kind::Not { .. } => 15,
        _ => 16,
    }
}

/// An error in mapctl's words (an `additionalProperties: false` error names each member) about
/// a value of the record `root`.
fn render(error: &ValidationError<'_>, root: &Value) -> Vec<Violation> {
    let pointer = error.instance_path().as_str().to_string();
    let instance: &Value = error.instance();
    let at = |message: String| Violation {
        pointer: pointer.clone(),
        message,
        missing: None,
    };
    let text = || instance.as_str().map(quote_str).unwrap_or_default();
    let number = || number_text(instance);
    let message = match error.kind() {
        Kind::Type { kind } => format!("{} is not of type {}", quote(instance), type_names(kind)),
        Kind::Enum { options } => {
            not_one_of(instance, options.as_array().map_or(&[], Vec::as_slice))
        }
        Kind::Constant { expected_value } => {
            not_one_of(instance, std::slice::from_ref(expected_value))
        }
        Kind::MinLength { limit } => format!("{} is shorter than {limit} characters", text()),
        Kind::MaxLength { limit } => format!("{} is longer than {limit} characters", text()),
        Kind::Pattern { pattern } => format!("{} does not match {pattern:?}", text()),
        Kind::Format { format } => format!("{} is not a valid {format}", text()),
        Kind::Minimum { limit } => format!(
            "{} is less than the minimum of {}",
            number(),
            number_text(limit)
        ),
        Kind::Maximum { limit } => format!(
            "{} is greater than the maximum of {}",
            number(),
            number_text(limit)
        ),
        Kind::ExclusiveMinimum { limit } => {
            format!("{} is not greater than {}", number(), number_text(limit))
        }
        Kind::ExclusiveMaximum { limit } => {
            format!("{} is not less than {}", number(), number_text(limit))
        }
        Kind::MinItems { limit } => format!("has {} items, fewer than {limit}", items(instance)),
        Kind::MaxItems { limit } => format!("has {} items, more than {limit}", items(instance)),
        Kind::FalseSchema
            if error
                .schema_path()
                .as_str()
                .ends_with("/additionalProperties") =>
        {
            // `additionalProperties: false` beside no `properties` allows no member at all;
            // `jsonschema` then names the object and the first member's value only.
            return not_allowed_members(&pointer, root.pointer(&pointer));
        }
        Kind::FalseSchema => format!("{} is not allowed here", quote(instance)),
        Kind::AnyOf { .. } => format!(
            "{} matches none of the allowed shapes (anyOf)",
            quote(instance)
        ),
        Kind::OneOfNotValid { .. } => format!(
            "{} matches 0 of the oneOf shapes, not exactly one",
            quote(instance)
        ),
        Kind::OneOfMultipleValid { context } => {
            let matching = context.iter().filter(|errors| errors.is_empty()).count();
            format!(
                "{} matches {matching} of the oneOf shapes, not exactly one",
                quote(instance)
            )
        }
        Kind::Not { .. } => format!("{} matches a shape it must not (not)", quote(instance)),
        Kind::Required { property } => {
            let name = property.as_str().unwrap_or_default().to_string();
            let mut path = pointer_segments(&pointer);
            path.push(name.clone());
            return vec![Violation {
                pointer: pointer.clone(),
                message: format!("\"{name}\" is a required property"),
                missing: Some(path),
            }];
        }
        Kind::AdditionalProperties { unexpected } => {
            return unexpected
                .iter()
                .map(|name| Violation {
                    pointer: format!("{pointer}/{}", escape_segment(name)),
                    message: format!("{} is not allowed here", quote(&instance[name.as_str()])),
                    missing: None,
                })
                .collect();
        }
        _ => error.to_string(),
    };
    vec![at(message)]
}

/// Each member of the object at `pointer` (none when it is not an object), as not allowed.
fn not_allowed_members(pointer: &str, object: Option<&Value>) -> Vec<Violation> {
    let Some(Value::Object(members)) = object else {
        return Vec::new();
    };
    members
        .iter()
        .map(|(name, value)| Violation {
            pointer: format!("{pointer}/{}", escape_segment(name)),
            message: format!("{} is not allowed here", quote(value)),
            missing: None,
        })
        .collect()
}

fn type_names(kind: &TypeKind) -> String {
    let names: Vec<String> = match kind {
        TypeKind::Single(one) => vec![one.to_string()],
        TypeKind::Multiple(set) => set.iter().map(|t| t.to_string()).collect(),
    };
    names
        .iter()
        .filter_map(|name| Kinds::from_type_name(name))
        .fold(Kinds::NONE, Kinds::or)
        .describe()
}

fn not_one_of(instance: &Value, allowed: &[Value]) -> String {
    let listed: Vec<String> = allowed.iter().take(8).map(Value::to_string).collect();
    let more = match allowed.len() {
        n if n > 8 => format!(" and {} more", n - 8),
        _ => String::new(),
    };
    format!(
        "{} is not one of {}{more}",
        quote(instance),
        listed.join(", ")
    )
}

fn items(instance: &Value) -> usize {
    instance.as_array().map_or(0, Vec::len)
}

/// A number with the digits it was written with.
fn number_text(number: &Value) -> String {
    number.to_string()
}

/// A value as messages quote it: JSON, cut to about 60 characters.
pub fn quote(value: &Value) -> String {
    match value {
        Value::String(text) => quote_str(text),
        other => {
            let text = other.to_string();
            if text.len() <= 60 {
                return text;
            }
            let mut cut = 57;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            format!("{}...", &text[..cut])
        }
    }
}

/// A string quoted as JSON and cut to 56 characters and `..."` when longer than 60.
pub fn quote_str(text: &str) -> String {
    let quoted = Value::String(text.to_string()).to_string();
    if quoted.chars().count() <= 60 {
        return quoted;
    }
    format!("{}...\"", quoted.chars().take(56).collect::<String>())
}
