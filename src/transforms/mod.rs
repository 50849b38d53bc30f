//! Transforms: the typed functions of pipelines (`| trim`, `| number`, `| lookup(table)` ...).
//!
//! [`registry`] declares every transform once; [`Step`] is a transform compiled with its
//! arguments (regexes built, tables resolved), run by [`run_pipeline`]. A pipeline stops at the
//! first failure, unless a later `default(...)` step supplies a value.

pub mod arith;
pub mod dates;
pub mod registry;
pub mod table;
pub mod text;

use std::borrow::Cow;

use regex::Regex;
use serde_json::Value;

pub use registry::{TRANSFORMS, TransformDecl};
pub use table::Table;

use crate::value::Val;

/// A resolved transform argument.
#[derive(Debug, Clone)]
pub enum ArgValue {
    /// A literal.
    Json(Value),
    /// A table, by index in the program.
    Table(usize),
}

/// A transform ready to run.
#[derive(Debug, Clone)]
pub enum Step {
    /// `trim`
    Trim,
    /// `nonblank`
    NonBlank,
    /// `lower`
    Lower,
    /// `upper`
    Upper,
    /// `collapse_whitespace`
    CollapseWhitespace,
    /// `company_name`
    CompanyName,
    /// `number`
    Number,
    /// `integer`
    Integer,
    /// `round(places)`, `round(places, mode)`
    Round(u32, arith::Rounding),
    /// `string`
    ToString,
    /// `boolean`
    Boolean,
    /// `date` / `date(format)`
    Date(Option<String>),
    /// `datetime` / `datetime(format)`
    DateTime(Option<String>),
    /// `format_date(format)`
    FormatDate(String),
    /// `unix`
    Unix,
    /// `add_days(days)`
    AddDays(i64),
    /// `add_months(months)`
    AddMonths(i64),
    /// `truncate(length)`
    Truncate(usize),
    /// `replace(pattern, with)`
    Replace(Regex, String),
    /// `split(separator)`
    Split(String),
    /// `join(separator)`
    Join(String),
    /// `first`
    First,
    /// `lookup(table)`
    Lookup(usize),
    /// `default(value)`
    Default(Value),
}

/// Largest compiled size of a `replace` pattern, in bytes.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Builds a regex with the size limit every mapping regex uses.
pub fn build_regex(pattern: &str) -> Result<Regex, String> {
    if let Some(count) = repetition_too_large(pattern) {
        return Err(format!(
            "repetition count {{{count}}} is larger than {MAX_REPETITION}"
        ));
    }
    regex::RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| e.to_string())
}

/// Largest counted repetition (`{n}`, `{n,}`, `{n,m}`) accepted in a regex: the regex crate
/// accepts counts up to 2^32 - 1 (of an empty group, cheaply), which no real pattern needs.
pub const MAX_REPETITION: u64 = 1000;

/// The first count of a counted repetition larger than [`MAX_REPETITION`], outside character
/// classes and escapes.
fn repetition_too_large(pattern: &str) -> Option<u64> {
    let bytes = pattern.as_bytes();
    let (mut i, mut in_class) = (0, false);
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'[' => in_class = true,
            b']' => in_class = false,
            b'{' if !in_class => {
                let counts: String = pattern[i + 1..]
                    .chars()
                    .take_while(|c| c.is_ascii_digit() || *c == ',' || *c == ' ')
                    .collect();
                let closed = pattern[i + 1 + counts.len()..].starts_with('}');
                let too_large = counts
                    .split(',')
                    .filter_map(|n| {
                        n.trim()
                            .parse::<u64>()
                            .ok()
                            .or_else(|| (!n.trim().is_empty()).then_some(u64::MAX))
                    })
                    .find(|n| *n > MAX_REPETITION);
                if closed && too_large.is_some() {
                    return too_large;
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

impl Step {
    /// Compiles a declared transform with checked arguments.
    pub fn compile(decl: &TransformDecl, args: &[ArgValue]) -> Result<Step, String> {
        let text = |i: usize| match args.get(i) {
            Some(ArgValue::Json(Value::String(s))) => Some(s.clone()),
            _ => None,
        };
        let int = |i: usize| match args.get(i) {
            Some(ArgValue::Json(v)) => v.as_u64(),
            _ => None,
        };
        let signed = |i: usize| match args.get(i) {
            Some(ArgValue::Json(v)) => v.as_i64(),
            _ => None,
        };
        let missing = || format!("`{}` is missing an argument", decl.name);
        Ok(match decl.name {
            "trim" => Step::Trim,
            "nonblank" => Step::NonBlank,
            "lower" => Step::Lower,
            "upper" => Step::Upper,
            "collapse_whitespace" => Step::CollapseWhitespace,
            "company_name" => Step::CompanyName,
            "number" => Step::Number,
            "integer" => Step::Integer,
            "round" => Step::Round(
                int(0).ok_or_else(missing)? as u32,
                match text(1) {
                    None => arith::Rounding::HalfUp,
                    Some(mode) => arith::Rounding::named(&mode)
                        .ok_or_else(|| format!("`{mode}` is not a rounding mode"))?,
                },
            ),
            "string" => Step::ToString,
            "boolean" => Step::Boolean,
            "date" => Step::Date(text(0)),
            "datetime" => Step::DateTime(text(0)),
            "format_date" => Step::FormatDate(text(0).ok_or_else(missing)?),
            "unix" => Step::Unix,
            "add_days" => Step::AddDays(signed(0).ok_or_else(missing)?),
            "add_months" => Step::AddMonths(signed(0).ok_or_else(missing)?),
            "truncate" => Step::Truncate(int(0).ok_or_else(missing)? as usize),
            "replace" => Step::Replace(
                build_regex(&text(0).ok_or_else(missing)?)?,
                text(1).ok_or_else(missing)?,
            ),
            "split" => Step::Split(text(0).ok_or_else(missing)?),
            "join" => Step::Join(text(0).ok_or_else(missing)?),
            "first" => Step::First,
            "lookup" => match args.first() {
                Some(ArgValue::Table(index)) => Step::Lookup(*index),
                _ => return Err(missing()),
            },
            "default" => match args.first() {
                Some(ArgValue::Json(value)) => Step::Default(value.clone()),
                _ => return Err(missing()),
            },
            other => return Err(format!("unknown transform `{other}`")),
        })
    }

    /// True for steps that read a typed value out of text (numbers, booleans, dates).
    fn reads_values(&self) -> bool {
        matches!(
            self,
            Step::Number | Step::Integer | Step::Boolean | Step::Date(_) | Step::DateTime(_)
        )
    }

    /// Runs the step on a present value (borrowed, so that a failure can still describe it).
    /// Absent values pass through untouched.
    pub fn apply<'a>(&self, input: &Val<'a>, tables: &'a [Table]) -> Result<Val<'a>, String> {
        if input.is_absent() {
            return Ok(Val::Absent);
        }
        // CRMs send cleared numbers and dates as "": for readers of values that means no value.
        if self.reads_values() && input.as_str().is_some_and(|s| s.trim().is_empty()) {
            return Ok(Val::Absent);
        }
        match self {
            Step::Trim => map_str(input, |s| Some(s.trim())),
            Step::NonBlank => map_str(input, |s| (!s.trim().is_empty()).then_some(s)),
            Step::Lower => owned_str(input, str::to_lowercase),
            Step::Upper => owned_str(input, str::to_uppercase),
            Step::CollapseWhitespace => owned_str(input, text::collapse_whitespace),
            Step::CompanyName => owned_str(input, text::company_name),
            Step::Number => to_number(input),
            Step::Integer => to_integer(input),
            Step::Round(places, mode) => arith::round(input, *places, *mode),
            Step::ToString => input
                .to_text()
                .map(|t| Val::Str(Cow::Owned(t.into_owned())))
                .ok_or_else(|| "cannot be written as text".to_string()),
            Step::Boolean => to_boolean(input),
            Step::Date(format) => dates::to_date(input, format.as_deref()).map(Val::Date),
            Step::DateTime(format) => {
                dates::to_datetime(input, format.as_deref()).map(Val::DateTime)
            }
            Step::FormatDate(format) => {
                dates::format(input, format).map(|s| Val::Str(Cow::Owned(s)))
            }
            Step::Unix => dates::unix_seconds(input).map(Val::Int),
            Step::AddDays(days) => dates::add_days(input, *days),
            Step::AddMonths(months) => dates::add_months(input, *months),
            Step::Truncate(length) => map_str(input, |s| {
                Some(s.char_indices().nth(*length).map_or(s, |(i, _)| &s[..i]))
            }),
            Step::Replace(regex, with) => {
                owned_str(input, |s| regex.replace_all(s, with.as_str()).into_owned())
            }
            Step::Split(separator) => split(input, separator),
            Step::Join(separator) => join(input, separator),
            Step::First => first(input),
            Step::Lookup(index) => match tables.get(*index) {
                Some(table) => table.lookup(input).map(Val::from_json),
                None => Err("refers to a missing table".to_string()),
            },
            Step::Default(_) => Ok(input.clone()),
        }
    }
}

/// Where and why a pipeline failed.
#[derive(Debug, Clone, PartialEq)]
pub struct StepFailure {
    /// Index of the failing step.
    pub step: usize,
    /// The value it was given, described.
    pub value: String,
    /// Why it failed.
    pub reason: String,
}

/// Runs steps in order. A failure skips the following steps up to a `default`, which replaces
/// it (as it replaces an absent value); a failure with no `default` after it is returned.
pub fn run_pipeline<'a>(
    input: Val<'a>,
    steps: &[Step],
    tables: &'a [Table],
) -> Result<Val<'a>, StepFailure> {
    let mut current: Result<Val<'a>, StepFailure> = Ok(input);
    for (index, step) in steps.iter().enumerate() {
        current = match (step, current) {
            (Step::Default(value), Ok(Val::Absent) | Err(_)) => {
                Ok(Val::from_owned_json(value.clone()))
            }
            (_, Err(failure)) => Err(failure),
            (step, Ok(value)) => step.apply(&value, tables).map_err(|reason| StepFailure {
                step: index,
                value: value.describe(),
                reason,
            }),
        };
    }
    current
}

fn map_str<'a>(input: &Val<'a>, f: impl FnOnce(&str) -> Option<&str>) -> Result<Val<'a>, String> {
    match input {
        Val::Str(Cow::Borrowed(s)) => Ok(f(s).map_or(Val::Absent, |r| Val::Str(Cow::Borrowed(r)))),
        Val::Str(Cow::Owned(s)) => {
            Ok(f(s).map_or(Val::Absent, |r| Val::Str(Cow::Owned(r.to_string()))))
        }
        other => Err(format!("is {}, not a string", other.kind().a())),
    }
}

fn owned_str<'a>(input: &Val<'a>, f: impl FnOnce(&str) -> String) -> Result<Val<'a>, String> {
    match input.as_str() {
        Some(s) => Ok(Val::Str(Cow::Owned(f(s)))),
        None => Err(format!("is {}, not a string", input.kind().a())),
    }
}

fn to_number<'a>(input: &Val<'_>) -> Result<Val<'a>, String> {
    match input {
        Val::Int(i) => Ok(Val::Int(*i)),
        Val::Num(d) => Ok(Val::Num(*d)),
        Val::Str(s) => match text::parse_number(s) {
            Some(number) => Ok(number),
            None => Err("is not a number (expected digits with an optional sign, fraction and comma thousands separators)".to_string()),
        },
        Val::Json(v) if v.is_number() => Ok(Val::Json(Cow::Owned(v.as_ref().clone()))),
        other => Err(format!("is {}, not a number", other.kind().a())),
    }
}

fn to_integer<'a>(input: &Val<'_>) -> Result<Val<'a>, String> {
    match to_number(input)? {
        Val::Int(i) => Ok(Val::Int(i)),
        Val::Num(d) if d.fract().is_zero() => match crate::value::number::whole_i64(d) {
            Some(whole) => Ok(Val::Int(whole)),
            None => Err("is beyond the 64-bit range of whole numbers".to_string()),
        },
        Val::Num(_) => {
            Err("has a fractional part; add `round(0)` before `integer` to round it".to_string())
        }
        Val::Json(v) if v.as_number().is_some_and(crate::value::number::is_whole) => {
            Err("is beyond the 64-bit range of whole numbers".to_string())
        }
        Val::Json(_) => {
            Err("has a fractional part; add `round(0)` before `integer` to round it".to_string())
        }
        _ => Err("is not a number".to_string()),
    }
}

fn to_boolean<'a>(input: &Val<'_>) -> Result<Val<'a>, String> {
    match input {
        Val::Bool(b) => Ok(Val::Bool(*b)),
        Val::Int(0) => Ok(Val::Bool(false)),
        Val::Int(1) => Ok(Val::Bool(true)),
        Val::Num(d) if d.is_zero() => Ok(Val::Bool(false)),
        Val::Num(d) if *d == rust_decimal::Decimal::ONE => Ok(Val::Bool(true)),
        Val::Str(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Ok(Val::Bool(true)),
            "false" | "no" | "0" => Ok(Val::Bool(false)),
            _ => Err("is not a boolean (expected true/false, yes/no or 1/0)".to_string()),
        },
        _ => Err("is not a boolean (expected true/false, yes/no or 1/0)".to_string()),
    }
}

fn split<'a>(input: &Val<'_>, separator: &str) -> Result<Val<'a>, String> {
    let text = input.as_str().ok_or("is not a string")?;
    let parts: Vec<Value> = text
        .split(separator)
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| Value::String(p.to_string()))
        .collect();
    Ok(Val::Json(Cow::Owned(Value::Array(parts))))
}

fn join<'a>(input: &Val<'_>, separator: &str) -> Result<Val<'a>, String> {
    let Val::Json(value) = input else {
        return Err("is not an array".to_string());
    };
    let items = value.as_array().ok_or("is not an array")?;
    let mut parts = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Value::Null => {}
            Value::String(s) => parts.push(s.clone()),
            Value::Array(_) | Value::Object(_) => {
                return Err("holds an object or array, which cannot be joined as text".to_string());
            }
            other => parts.push(other.to_string()),
        }
    }
    Ok(Val::Str(Cow::Owned(parts.join(separator))))
}

fn first<'a>(input: &Val<'a>) -> Result<Val<'a>, String> {
    match input {
        Val::Json(Cow::Borrowed(Value::Array(items))) => {
            Ok(items.first().map_or(Val::Absent, Val::from_json))
        }
        Val::Json(Cow::Owned(Value::Array(items))) => Ok(items
            .first()
            .cloned()
            .map_or(Val::Absent, Val::from_owned_json)),
        other => Err(format!("is {}, not an array", other.kind().a())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every example in the registry holds.
    #[test]
    fn registry_examples_hold() {
        for decl in TRANSFORMS {
            for example in decl.examples {
                let call = crate::syntax::parse_call(example.call)
                    .unwrap_or_else(|| panic!("example call {} parses", example.call));
                let args: Vec<ArgValue> = call.into_iter().map(ArgValue::Json).collect();
                let step = Step::compile(decl, &args).expect("example compiles");
                let input: Value = serde_json::from_str(example.input).expect("example input");
                let mut steps = Vec::new();
                if decl.input == crate::value::Kinds::DATES {
                    steps.push(Step::Date(None));
                }
                steps.push(step);
                let result = run_pipeline(Val::from_json(&input), &steps, &[]);
                match example.output {
                    Some(expected) => {
                        let expected: Value =
                            serde_json::from_str(expected).expect("example output");
                        let got = result.unwrap_or_else(|f| {
                            panic!("{} on {}: {f:?}", example.call, example.input)
                        });
                        assert_eq!(
                            got.to_json(),
                            expected,
                            "{} on {}",
                            example.call,
                            example.input
                        );
                    }
                    None => assert!(
                        result.is_err(),
                        "{} on {} should fail",
                        example.call,
                        example.input
                    ),
                }
            }
        }
    }

    #[test]
    fn default_replaces_failures_and_absence_but_not_values() {
        let steps = [Step::Number, Step::Default(Value::from(0))];
        let junk = Value::from("n/a");
        assert_eq!(
            run_pipeline(Val::from_json(&junk), &steps, &[]).unwrap(),
            Val::Int(0)
        );
        assert_eq!(run_pipeline(Val::Absent, &steps, &[]).unwrap(), Val::Int(0));
        let good = Value::from("7");
        assert_eq!(
            run_pipeline(Val::from_json(&good), &steps, &[]).unwrap(),
            Val::Int(7)
        );
        let failure = run_pipeline(Val::from_json(&junk), &[Step::Number], &[]).unwrap_err();
        assert_eq!(failure.step, 0);
        assert_eq!(failure.value, "\"n/a\"");
    }
}
