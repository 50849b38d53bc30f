//! What the checker knows about a value: its kinds, the finite set of values it can take (with
//! where each is written), constraints carried from the schema, whether it may be absent or fail,
//! and which source paths it reads.

use std::rc::Rc;

use serde_json::Value;

use super::program::{PathStep, RecordRef};
use super::range::{Affine, Range};
use crate::schema::Flat;
use crate::source::Span;
use crate::value::Kinds;

/// A value the expression may produce, and where it is written (table row, literal), if known.
#[derive(Debug, Clone, PartialEq)]
pub struct KnownValue {
    /// The value.
    pub value: Value,
    /// Where it is written in the mapping.
    pub span: Option<Span>,
}

/// One path read by an expression or condition.
#[derive(Debug, Clone)]
pub struct Read {
    /// The record read.
    pub record: RecordRef,
    /// The steps after the record.
    pub steps: Vec<PathStep>,
    /// As written.
    pub display: String,
    /// Where it is written.
    pub span: Span,
}

impl Read {
    /// True when one path is a prefix of the other (so reading one reads part of the other).
    /// Searches by different keys or values, and different indexes, are different elements; an
    /// index and a search may be the same element.
    pub fn overlaps(&self, record: RecordRef, steps: &[PathStep]) -> bool {
        self.record == record
            && self
                .steps
                .iter()
                .zip(steps)
                .all(|(a, b)| same_element(a, b))
    }
}

/// The static type of an expression.
#[derive(Debug, Clone)]
pub struct Ty {
    /// What it may be.
    pub kinds: Kinds,
    /// The values it can take, when finite and known.
    pub values: Option<Vec<KnownValue>>,
    /// Schema constraints when the value comes straight from a schema field.
    pub schema: Option<Rc<Flat>>,
    /// Known bounds, when it is a number.
    pub range: Range,
    /// The fewest characters it has as text (0 when nothing is known).
    pub min_length: u64,
    /// True when, as text, it always holds a character that is not whitespace (so trimming or
    /// collapsing whitespace cannot empty it).
    pub nonblank: bool,
    /// The longest string it can be, when known.
    pub max_length: Option<u64>,
    /// The constant value, for literals.
    pub constant: Option<Value>,
    /// Literal values the expression may produce (a literal, a `?? "fallback"`, a `default`),
    /// each checked against the target field's constraints.
    pub literals: Vec<KnownValue>,
    /// The alternatives of a `??`, each with its own type, so that every one is checked against
    /// the field it is written to (empty for other expressions).
    pub alternatives: Vec<Alternative>,
    /// For the result of `+ - * /` only: the number as `scale × BASE + offset` of one value,
    /// when it is one (read only by the arithmetic that uses this result as an operand).
    pub affine: Option<Affine>,
}

/// One alternative of `a ?? b`: where it is written, how it reads, and its type.
#[derive(Debug, Clone)]
pub struct Alternative {
    /// Where it is written.
    pub span: Span,
    /// As written (for helps).
    pub text: String,
    /// Its type.
    pub ty: Ty,
}

impl Ty {
    /// A type with only kinds known.
    pub fn of(kinds: Kinds) -> Ty {
        Ty {
            kinds,
            values: None,
            schema: None,
            range: Range::default(),
            min_length: 0,
            nonblank: false,
            max_length: None,
            constant: None,
            literals: Vec::new(),
            alternatives: Vec::new(),
            affine: None,
        }
    }

    /// The type of a literal written at `span`.
    pub fn literal(value: &Value, span: Span) -> Ty {
        Ty {
            kinds: Kinds::of_json(value),
            values: Some(vec![KnownValue {
                value: value.clone(),
                span: Some(span),
            }]),
            schema: None,
            range: Range::of_constant(value),
            min_length: value.as_str().map_or(1, |s| s.chars().count() as u64),
            nonblank: value
                .as_str()
                .is_none_or(|s| s.chars().any(|c| !c.is_whitespace())),
            max_length: value.as_str().map(|s| s.chars().count() as u64),
            constant: Some(value.clone()),
            literals: vec![KnownValue {
                value: value.clone(),
                span: Some(span),
            }],
            alternatives: Vec::new(),
            affine: None,
        }
    }
}

/// What an expression produces, as far as the checker can tell.
#[derive(Debug, Clone)]
pub struct ExprInfo {
    /// Its type.
    pub ty: Ty,
    /// True when it may produce nothing at the trigger stage.
    pub may_be_absent: bool,
    /// True when a transform may fail on real data.
    pub may_fail: bool,
    /// The paths it reads.
    pub reads: Vec<Read>,
}

/// True when two steps may reach the same value.
fn same_element(a: &PathStep, b: &PathStep) -> bool {
    match (a, b) {
        (PathStep::Field(x), PathStep::Field(y)) => x == y,
        (PathStep::Index(x), PathStep::Index(y)) => x == y,
        (PathStep::Search { key: k1, value: v1 }, PathStep::Search { key: k2, value: v2 }) => {
            k1 != k2 || crate::value::json_equal(v1, v2)
        }
        (PathStep::Index(_), PathStep::Search { .. })
        | (PathStep::Search { .. }, PathStep::Index(_)) => true,
        _ => false,
    }
}
