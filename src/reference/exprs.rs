//! Expressions and conditions on JSON trees: a path is read by following its steps from its
//! record, a value flows through transforms as a [`Val`], and a test with an absent operand is
//! false.

use std::cmp::Ordering;

use serde_json::Value;

use crate::check::program::{CCond, CExpr, CPart, CPath, PathStep, RecordRef};
use crate::syntax::ast::CompareOp;
use crate::transforms::{Table, arith, run_pipeline};
use crate::value::Val;

/// The records one deal is evaluated against.
#[derive(Clone, Copy)]
pub struct Trees<'a> {
    /// Source records in declaration order (`None`: a related record that is missing).
    pub sources: &'a [Option<&'a Value>],
    /// The target record as written so far (or the PSA record `sync back` reads).
    pub target: &'a Value,
}

impl<'a> Trees<'a> {
    /// The value at `path`, or `None` when a step finds nothing.
    pub fn read(&self, path: &CPath) -> Option<&'a Value> {
        let root = match path.record {
            RecordRef::Source(index) => (*self.sources.get(index)?)?,
            RecordRef::Target => self.target,
        };
        follow(root, &path.steps)
    }
}

/// The value `steps` lead to from `root`.
pub fn follow<'v>(root: &'v Value, steps: &[PathStep]) -> Option<&'v Value> {
    let mut here = root;
    for step in steps {
        here = match step {
            PathStep::Field(name) => here.as_object()?.get(name)?,
            PathStep::Index(index) => here.as_array()?.get(*index)?,
            PathStep::Search { key, value } => here
                .as_array()?
                .iter()
                .find(|element| element.get(key).is_some_and(|k| same(k, value)))?,
        };
    }
    Some(here)
}

/// JSON equality where numbers are equal by value (`1` and `1.0`).
pub fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => crate::value::number::same(x, y),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| same(v, w))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// A transform that failed on the deal's data.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// The path the failing pipeline starts from.
    pub field: Option<String>,
    /// The value the transform was given, described.
    pub value: String,
    /// The transform as written.
    pub transform: String,
    /// Why it failed.
    pub reason: String,
}

impl Failure {
    /// "`deal.amount` = "12,5x": `number` failed: the value is not a number ...".
    pub fn describe(&self) -> String {
        let subject = match &self.field {
            Some(field) => format!("`{field}` = {}", self.value),
            None => self.value.clone(),
        };
        format!(
            "{subject}: `{}` failed: the value {}",
            self.transform, self.reason
        )
    }
}

/// The value of an expression.
pub fn eval<'a>(
    expr: &'a CExpr,
    trees: &Trees<'a>,
    tables: &'a [Table],
) -> Result<Val<'a>, Failure> {
    Ok(match expr {
        CExpr::Path(path) => trees.read(path).map_or(Val::Absent, Val::from_json),
        CExpr::Literal(Value::Null) => Val::Null,
        CExpr::Literal(value) => Val::from_json(value),
        CExpr::Template(parts) => {
            let mut text = String::new();
            let mut pieces = Vec::new();
            for part in parts {
                if let CPart::Expr(inner) = part {
                    pieces.push(eval(inner, trees, tables)?);
                }
            }
            let mut pieces = pieces.iter();
            for part in parts {
                match part {
                    CPart::Text(literal) => text.push_str(literal),
                    CPart::Expr(_) => {
                        if let Some(piece) = pieces.next().and_then(Val::to_text) {
                            text.push_str(&piece);
                        }
                    }
                }
            }
            Val::Str(text.into())
        }
        CExpr::Pipeline {
            input,
            steps,
            names,
        } => {
            let value = eval(input, trees, tables)?;
            run_pipeline(value, steps, tables).map_err(|failure| Failure {
                field: first_path(input).map(|p| p.display.clone()),
                value: failure.value,
                transform: names.get(failure.step).cloned().unwrap_or_default(),
                reason: failure.reason,
            })?
        }
        CExpr::Coalesce(alternatives) => {
            for alternative in alternatives {
                let value = eval(alternative, trees, tables)?;
                if !value.is_absent() {
                    return Ok(value);
                }
            }
            Val::Absent
        }
        CExpr::Arith { op, left, right } => {
            let left_value = eval(left, trees, tables)?;
            let right_value = eval(right, trees, tables)?;
            match arith::apply(*op, &left_value, &right_value) {
                Ok(result) => result,
                Err(failure) => {
                    let (operand, value) = match failure.right {
                        true => (right, right_value),
                        false => (left, left_value),
                    };
                    return Err(Failure {
                        field: first_path(operand).map(|p| p.display.clone()),
                        value: value.describe(),
                        transform: op.as_str().to_string(),
                        reason: failure.reason,
                    });
                }
            }
        }
        CExpr::Fallback { value, fallback } => match eval(value, trees, tables) {
            Ok(found) if !found.is_absent() => found,
            _ => eval(fallback, trees, tables)?,
        },
    })
}

/// The path an expression starts from, for messages.
pub fn first_path(expr: &CExpr) -> Option<&CPath> {
    match expr {
        CExpr::Path(path) => Some(path),
        CExpr::Pipeline { input, .. } => first_path(input),
        CExpr::Coalesce(alternatives) => alternatives.first().and_then(first_path),
        CExpr::Fallback { value, .. } => first_path(value),
        CExpr::Literal(_) | CExpr::Template(_) | CExpr::Arith { .. } => None,
    }
}

/// The first path of each test of a condition, in order.
pub fn tested_paths(cond: &CCond) -> Vec<&CPath> {
    match cond {
        CCond::And(parts) | CCond::Or(parts) => parts.iter().flat_map(tested_paths).collect(),
        CCond::Not(inner) => tested_paths(inner),
        CCond::Present(e) | CCond::In(e, _) | CCond::Matches(e, _) => {
            first_path(e).into_iter().collect()
        }
        CCond::Compare(l, _, r) => first_path(l).into_iter().chain(first_path(r)).collect(),
    }
}

/// Whether a condition holds (`and`/`or` stop at the first part that decides).
pub fn holds(cond: &CCond, trees: &Trees<'_>, tables: &[Table]) -> Result<bool, Failure> {
    Ok(match cond {
        CCond::And(parts) => {
            for part in parts {
                if !holds(part, trees, tables)? {
                    return Ok(false);
                }
            }
            true
        }
        CCond::Or(parts) => {
            for part in parts {
                if holds(part, trees, tables)? {
                    return Ok(true);
                }
            }
            false
        }
        CCond::Not(inner) => !holds(inner, trees, tables)?,
        CCond::Present(expr) => eval(expr, trees, tables)?.is_present(),
        CCond::Compare(left, op, right) => {
            let left = eval(left, trees, tables)?;
            let right = eval(right, trees, tables)?;
            !left.is_absent() && !right.is_absent() && compare(&left, *op, &right)
        }
        CCond::In(expr, list) => {
            let value = eval(expr, trees, tables)?;
            !value.is_absent() && list.iter().any(|item| same(&value.to_json(), item))
        }
        CCond::Matches(expr, regex) => eval(expr, trees, tables)?
            .as_str()
            .is_some_and(|s| regex.is_match(s)),
    })
}

/// Compares two present values. Text, booleans, arrays and objects are only equal or not;
/// dates and date-times compare as moments, numbers as numbers; values that cannot be compared
/// make every comparison false (`!=` too).
fn compare(left: &Val<'_>, op: CompareOp, right: &Val<'_>) -> bool {
    let equality = !op.is_ordering();
    let ordering = match (left, right) {
        (Val::Str(a), Val::Str(b)) if equality => Some(a.cmp(b)),
        (Val::Bool(a), Val::Bool(b)) if equality => Some(a.cmp(b)),
        (Val::Json(a), Val::Json(b)) if equality && !a.is_number() => Some(if same(a, b) {
            Ordering::Equal
        } else {
            Ordering::Less
        }),
        _ => match (moment(left), moment(right)) {
            (Some(a), Some(b)) => Some(a.cmp(&b)),
            _ => left.compare_number(right),
        },
    };
    match (ordering, op) {
        (None, _) => false,
        (Some(o), CompareOp::Eq) => o == Ordering::Equal,
        (Some(o), CompareOp::Ne) => o != Ordering::Equal,
        (Some(o), CompareOp::Lt) => o == Ordering::Less,
        (Some(o), CompareOp::Le) => o != Ordering::Greater,
        (Some(o), CompareOp::Gt) => o == Ordering::Greater,
        (Some(o), CompareOp::Ge) => o != Ordering::Less,
    }
}

/// A date as its midnight UTC, a date-time as it is.
fn moment(value: &Val<'_>) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    match value {
        Val::DateTime(t) => Some(*t),
        Val::Date(d) => Some(d.and_hms_opt(0, 0, 0)?.and_utc().fixed_offset()),
        _ => None,
    }
}
