//! Evaluating compiled expressions and conditions against one deal's records.

use std::borrow::Cow;
use std::cmp::Ordering;

use chrono::{DateTime, FixedOffset, NaiveDate};

use super::read::{Records, json_equal};
use crate::check::program::{CCond, CExpr, CPart, CPath};
use crate::syntax::ast::CompareOp;
use crate::transforms::{Table, arith, run_pipeline};
use crate::value::Val;

/// A transform that failed on this deal's data.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalError {
    /// The path whose value failed, when the pipeline starts from one.
    pub field: Option<String>,
    /// The value the transform was given.
    pub value: String,
    /// The transform as written (`number`, `lookup(owners)`).
    pub transform: String,
    /// Why it failed.
    pub reason: String,
}

impl EvalError {
    /// "`deal.properties.amount` = "12,5x": `number` failed: is not a number".
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

/// Text with interpolated values: the values first, then one string of the right size (a
/// description interpolated into a note would otherwise grow the text several times).
fn fill_template<'a>(
    parts: &'a [CPart],
    records: &Records<'a>,
    tables: &'a [Table],
) -> Result<Val<'a>, EvalError> {
    let mut values = Vec::with_capacity(parts.len());
    for part in parts {
        if let CPart::Expr(inner) = part {
            values.push(eval(inner, records, tables)?);
        }
    }
    let pieces: Vec<Option<Cow<'_, str>>> = values.iter().map(Val::to_text).collect();
    let length = parts
        .iter()
        .map(|part| match part {
            CPart::Text(literal) => literal.len(),
            CPart::Expr(_) => 0,
        })
        .sum::<usize>()
        + pieces
            .iter()
            .flatten()
            .map(|piece| piece.len())
            .sum::<usize>();
    let mut text = String::with_capacity(length);
    let mut next_piece = pieces.iter();
    for part in parts {
        match part {
            CPart::Text(literal) => text.push_str(literal),
            CPart::Expr(_) => {
                if let Some(Some(piece)) = next_piece.next() {
                    text.push_str(piece);
                }
            }
        }
    }
    Ok(Val::Str(Cow::Owned(text)))
}

/// Evaluates an expression.
pub fn eval<'a>(
    expr: &'a CExpr,
    records: &Records<'a>,
    tables: &'a [Table],
) -> Result<Val<'a>, EvalError> {
    match expr {
        CExpr::Path(path) => Ok(records.read(path).map_or(Val::Absent, Val::from_json)),
        CExpr::Literal(value) => Ok(match value {
            serde_json::Value::Null => Val::Null,
            other => Val::from_json(other),
        }),
        CExpr::Template(parts) => fill_template(parts, records, tables),
        CExpr::Pipeline {
            input,
            steps,
            names,
        } => {
            let value = eval(input, records, tables)?;
            run_pipeline(value, steps, tables).map_err(|failure| EvalError {
                field: first_path(input).map(|p| p.display.clone()),
                value: failure.value,
                transform: names.get(failure.step).cloned().unwrap_or_default(),
                reason: failure.reason,
            })
        }
        CExpr::Coalesce(alternatives) => {
            for alternative in alternatives {
                let value = eval(alternative, records, tables)?;
                if !value.is_absent() {
                    return Ok(value);
                }
            }
            Ok(Val::Absent)
        }
        CExpr::Arith { op, left, right } => {
            let (l, r) = (eval(left, records, tables)?, eval(right, records, tables)?);
            arith::apply(*op, &l, &r).map_err(|failure| {
                let (operand, value) = if failure.right {
                    (right, &r)
                } else {
                    (left, &l)
                };
                EvalError {
                    field: first_path(operand).map(|p| p.display.clone()),
                    value: value.describe(),
                    transform: op.as_str().to_string(),
                    reason: failure.reason,
                }
            })
        }
        CExpr::Fallback { value, fallback } => match eval(value, records, tables) {
            Ok(found) if !found.is_absent() => Ok(found),
            _ => eval(fallback, records, tables),
        },
    }
}

/// The path an expression starts from, for messages.
pub fn first_path(expr: &CExpr) -> Option<&CPath> {
    match expr {
        CExpr::Path(path) => Some(path),
        CExpr::Pipeline { input, .. } => first_path(input),
        CExpr::Coalesce(alternatives) => alternatives.first().and_then(first_path),
        CExpr::Fallback { value, .. } => first_path(value),
        _ => None,
    }
}

/// Evaluates a condition. A test with an absent operand is false.
pub fn holds<'a>(
    cond: &'a CCond,
    records: &Records<'a>,
    tables: &'a [Table],
) -> Result<bool, EvalError> {
    Ok(match cond {
        CCond::And(parts) => {
            for part in parts {
                if !holds(part, records, tables)? {
                    return Ok(false);
                }
            }
            true
        }
        CCond::Or(parts) => {
            for part in parts {
                if holds(part, records, tables)? {
                    return Ok(true);
                }
            }
            false
        }
        CCond::Not(inner) => !holds(inner, records, tables)?,
        CCond::Present(expr) => eval(expr, records, tables)?.is_present(),
        CCond::Compare(left, op, right) => {
            let (l, r) = (eval(left, records, tables)?, eval(right, records, tables)?);
            if l.is_absent() || r.is_absent() {
                return Ok(false);
            }
            compare(&l, *op, &r)
        }
        CCond::In(expr, list) => {
            let value = eval(expr, records, tables)?;
            !value.is_absent() && list.iter().any(|item| json_equal(&value.to_json(), item))
        }
        CCond::Matches(expr, regex) => eval(expr, records, tables)?
            .as_str()
            .is_some_and(|s| regex.is_match(s)),
    })
}

/// Compares two present values; values that cannot be compared make every comparison false.
fn compare(left: &Val<'_>, op: CompareOp, right: &Val<'_>) -> bool {
    let ordering = match (left, right) {
        (Val::Str(a), Val::Str(b)) if !op.is_ordering() => Some(a.as_ref().cmp(b.as_ref())),
        (Val::Bool(a), Val::Bool(b)) if !op.is_ordering() => Some(a.cmp(b)),
        (Val::Json(a), Val::Json(b)) if !op.is_ordering() && !a.is_number() => {
            Some(if json_equal(a, b) {
                Ordering::Equal
            } else {
                Ordering::Less
            })
        }
        _ => match (as_moment(left), as_moment(right)) {
            (Some(a), Some(b)) => Some(a.cmp(&b)),
            _ => left.compare_number(right),
        },
    };
    let Some(ordering) = ordering else {
        return false;
    };
    match op {
        CompareOp::Eq => ordering == Ordering::Equal,
        CompareOp::Ne => ordering != Ordering::Equal,
        CompareOp::Lt => ordering == Ordering::Less,
        CompareOp::Le => ordering != Ordering::Greater,
        CompareOp::Gt => ordering == Ordering::Greater,
        CompareOp::Ge => ordering != Ordering::Less,
    }
}

fn as_moment(value: &Val<'_>) -> Option<DateTime<FixedOffset>> {
    match value {
        Val::DateTime(t) => Some(*t),
        Val::Date(d) => Some(midnight(*d)),
        _ => None,
    }
}

fn midnight(date: NaiveDate) -> DateTime<FixedOffset> {
    date.and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc()
        .fixed_offset()
}
