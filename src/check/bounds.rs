//! Numbers into bounded fields (M316): a computed number written into a field with a `minimum`
//! or `maximum` must be known to stay inside it, or the deals whose value is outside are
//! rejected at apply (M507). A `require at stage` rule that compares the same expression with a
//! literal (`deal.properties.amount | number >= 0`) at every trigger stage proves the bound; a
//! literal is checked exactly (M306).

use std::collections::HashSet;

use super::compat::{Field, declared};
use super::context::Context;
use super::exprs::input_description;
use super::range::Range;
use super::types::{ExprInfo, Ty};
use crate::diag::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{CompareOp, Cond, CondKind, Expr, ExprKind, LitKind};
use crate::value::Kinds;

/// A bound a require rule proves: the expression as written, the limit, whether it is a lower
/// bound, and whether the limit itself is excluded.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Bound {
    pub expr: String,
    pub limit: f64,
    pub lower: bool,
    pub exclusive: bool,
}

impl Bound {
    /// The bound as a key (for intersecting the bounds of several stages).
    pub fn key(&self) -> String {
        format!(
            "{}\u{0}{}\u{0}{}\u{0}{}",
            self.expr, self.limit, self.lower, self.exclusive
        )
    }

    /// The bound back from its key.
    pub fn from_key(key: &str) -> Option<Bound> {
        let mut parts = key.split('\u{0}');
        Some(Bound {
            expr: parts.next()?.to_string(),
            limit: parts.next()?.parse().ok()?,
            lower: parts.next()? == "true",
            exclusive: parts.next()? == "true",
        })
    }
}

/// What the proven bounds (keys of [`Bound`]) say about the expression written `text`.
pub(crate) fn proven_range(proven: &HashSet<String>, text: &str) -> Range {
    proven
        .iter()
        .filter_map(|k| Bound::from_key(k))
        .filter(|b| b.expr == text)
        .fold(Range::default(), |range, b| {
            let limit = Some((b.limit, b.exclusive));
            range.and(if b.lower {
                Range {
                    min: limit,
                    max: None,
                }
            } else {
                Range {
                    min: None,
                    max: limit,
                }
            })
        })
}

/// The bounds a rule's condition proves (the comparisons at its top level and inside `and`).
pub(crate) fn proved_by(cond: &Cond, out: &mut Vec<String>) {
    match &cond.kind {
        CondKind::And(parts) => parts.iter().for_each(|p| proved_by(p, out)),
        CondKind::Compare {
            left, op, right, ..
        } => compared(left, *op, right, out),
        _ => {}
    }
}

/// The bounds `left op right` states when it holds, where one side is a number literal.
fn compared(left: &Expr, op: CompareOp, right: &Expr, out: &mut Vec<String>) {
    let (expr, limit, op) = match (number(left), number(right)) {
        (None, Some(limit)) => (left, limit, op),
        (Some(limit), None) => (right, limit, flipped(op)),
        _ => return,
    };
    let expr = input_description(expr);
    let mut push = |lower, exclusive| {
        out.push(
            Bound {
                expr: expr.clone(),
                limit,
                lower,
                exclusive,
            }
            .key(),
        )
    };
    match op {
        CompareOp::Gt => push(true, true),
        CompareOp::Ge => push(true, false),
        CompareOp::Lt => push(false, true),
        CompareOp::Le => push(false, false),
        CompareOp::Eq => {
            push(true, false);
            push(false, false);
        }
        CompareOp::Ne => {}
    }
}

/// The bounds that hold where `cond` does not (a later select branch, `otherwise`): a
/// comparison that fails on a present number states the opposite bound (`not (x < 0)` is
/// `x >= 0`; an absent `x` writes nothing to bound); all parts of an `or` fail; a `not` fails
/// where its condition holds.
pub(crate) fn refuted_by(cond: &Cond, out: &mut Vec<String>) {
    match &cond.kind {
        CondKind::Or(parts) => parts.iter().for_each(|p| refuted_by(p, out)),
        CondKind::Not(inner) => proved_by(inner, out),
        CondKind::Compare {
            left, op, right, ..
        } => {
            let opposite = match op {
                CompareOp::Lt => CompareOp::Ge,
                CompareOp::Le => CompareOp::Gt,
                CompareOp::Gt => CompareOp::Le,
                CompareOp::Ge => CompareOp::Lt,
                CompareOp::Ne => CompareOp::Eq,
                CompareOp::Eq => return,
            };
            compared(left, opposite, right, out);
        }
        _ => {}
    }
}

fn number(expr: &Expr) -> Option<f64> {
    match &expr.kind {
        ExprKind::Literal(literal) => match &literal.kind {
            LitKind::Num(n) => n.as_f64(),
            _ => None,
        },
        _ => None,
    }
}

fn flipped(op: CompareOp) -> CompareOp {
    match op {
        CompareOp::Gt => CompareOp::Lt,
        CompareOp::Ge => CompareOp::Le,
        CompareOp::Lt => CompareOp::Gt,
        CompareOp::Le => CompareOp::Ge,
        other => other,
    }
}

fn inside(number: f64, field: &Field<'_>) -> bool {
    let above = field
        .flat
        .minimum
        .is_none_or(|(m, excl)| number > m || (!excl && number == m));
    let below = field
        .flat
        .maximum
        .is_none_or(|(m, excl)| number < m || (!excl && number == m));
    above && below
}

/// M316 when a computed number may fall outside `field`'s `minimum`/`maximum`.
pub(crate) fn check(
    cx: &mut Context<'_>,
    value: &Expr,
    info: &ExprInfo,
    field: &Field<'_>,
    proven: &HashSet<String>,
) {
    check_ty(
        cx,
        value.span,
        &input_description(value),
        &info.ty,
        field,
        proven,
    );
}

fn check_ty(
    cx: &mut Context<'_>,
    span: Span,
    text: &str,
    ty: &Ty,
    field: &Field<'_>,
    proven: &HashSet<String>,
) {
    if !ty.alternatives.is_empty() {
        for alternative in &ty.alternatives {
            check_ty(
                cx,
                alternative.span,
                &alternative.text,
                &alternative.ty,
                field,
                proven,
            );
        }
        return;
    }
    if !ty.kinds.intersects(Kinds::NUMBER) || ty.constant.is_some() {
        return;
    }
    if let Some(values) = &ty.values {
        for known in values {
            if let Some(number) = known.value.as_f64()
                && !inside(number, field)
            {
                cx.report(
                    Diagnostic::new(
                        Code::M316,
                        known.span.unwrap_or(span),
                        format!("{number} is outside the bounds of `{}`; deals that write it are rejected", field.display),
                        "outside the field's bounds",
                    )
                    .with_optional_label(declared(cx, field), "the bound is declared here")
                    .with_help("write a value inside the field's `minimum` and `maximum`"),
                );
            }
        }
        return;
    }
    let known = ty.range.and(proven_range(proven, text));
    let mut open = Vec::new();
    if let Some((min, excl)) = field.flat.minimum {
        let proved = known
            .min
            .is_some_and(|(m, e)| m > min || (m == min && (e || !excl)));
        if !proved {
            open.push((
                if excl { "above" } else { "at least" },
                min,
                if excl { ">" } else { ">=" },
            ));
        }
    }
    if let Some((max, excl)) = field.flat.maximum {
        let proved = known
            .max
            .is_some_and(|(m, e)| m < max || (m == max && (e || !excl)));
        if !proved {
            open.push((
                if excl { "below" } else { "at most" },
                max,
                if excl { "<" } else { "<=" },
            ));
        }
    }
    let Some((what, limit, op)) = open.first().copied() else {
        return;
    };
    cx.report(
        Diagnostic::new(
            Code::M316,
            span,
            format!("`{}` must be {what} {limit}, but nothing proves this value is; deals where it is not are rejected", field.display),
            "not checked against the field's bounds",
        )
        .with_optional_label(declared(cx, field), "the bound is declared here")
        .with_help(format!("require it where the deal is handed off: `{text} {op} {limit}` in the `require at stage` block")),
    );
}
