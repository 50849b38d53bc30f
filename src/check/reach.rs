//! Unreachable select branches (M309): a branch whose condition implies an earlier branch's is
//! never taken. Conditions are compared as conjunctions of simple tests on the same subject
//! (presence, `==`, `!=`, `in`, numeric bounds), read from the syntax, with each literal the
//! checker read as a label taken as the values it names (`"Closed won"` is `"closedwon"`).

use serde_json::Value;

use super::context::Context;
use super::exprs::input_description;
use crate::diag::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{CompareOp, Cond, CondKind, Expr, ExprKind, Literal, SelectBlock};
use crate::value::json_equal;

/// M309: a branch whose condition implies an earlier branch's is never taken. `labelled` holds
/// the literals read as labels, with the values each names.
pub(crate) fn check(
    cx: &mut Context<'_>,
    select: &SelectBlock,
    index: usize,
    labelled: &[(Span, Vec<Value>)],
) {
    let Some(later) = atoms(&select.arms[index].condition, labelled) else {
        return;
    };
    for earlier in &select.arms[..index] {
        let Some(first) = atoms(&earlier.condition, labelled) else {
            continue;
        };
        if first
            .iter()
            .all(|a| later.iter().any(|b| atom_implies(b, a)))
        {
            cx.report(
                    Diagnostic::new(Code::M309, select.arms[index].condition.span, "this branch is never taken", "every deal matching it matches an earlier branch")
                        .with_label(earlier.condition.span, "this earlier branch matches first")
                        .with_help("branches are tried in order: move the narrower branch above the wider one, or delete it"),
                );
            return;
        }
    }
}

/// One simple test in a conjunction, for reachability.
#[derive(Debug, Clone, PartialEq)]
enum Atom {
    Present(String),
    Eq(String, Value),
    Ne(String, Value),
    In(String, Vec<Value>),
    Bound(String, CompareOp, f64),
}

impl Atom {
    fn subject(&self) -> &str {
        match self {
            Atom::Present(s)
            | Atom::Eq(s, _)
            | Atom::Ne(s, _)
            | Atom::In(s, _)
            | Atom::Bound(s, _, _) => s,
        }
    }
}

/// A condition as a conjunction of simple tests, when it is one.
fn atoms(cond: &Cond, labelled: &[(Span, Vec<Value>)]) -> Option<Vec<Atom>> {
    match &cond.kind {
        CondKind::And(parts) => {
            let mut all = Vec::new();
            for part in parts {
                all.extend(atoms(part, labelled)?);
            }
            Some(all)
        }
        CondKind::Present(expr) => Some(vec![Atom::Present(subject(expr)?)]),
        CondKind::In { value, list } => Some(vec![Atom::In(
            subject(value)?,
            list.iter().flat_map(|l| values(l, labelled)).collect(),
        )]),
        CondKind::Compare {
            left, op, right, ..
        } => {
            let (name, literal) = match (&left.kind, &right.kind) {
                (_, ExprKind::Literal(l)) => (subject(left)?, l),
                _ => return None,
            };
            let named = values(literal, labelled);
            Some(match (op, named.as_slice()) {
                (CompareOp::Eq, [one]) => vec![Atom::Eq(name, one.clone())],
                (CompareOp::Eq, _) => vec![Atom::In(name, named)],
                // `!= "label"` is `!= id` for each id the label names.
                (CompareOp::Ne, _) => named
                    .into_iter()
                    .map(|v| Atom::Ne(name.clone(), v))
                    .collect(),
                (ordering, _) => vec![Atom::Bound(
                    name,
                    *ordering,
                    literal.kind.to_json().as_f64()?,
                )],
            })
        }
        _ => None,
    }
}

/// The values a literal stands for: those it names when the checker read it as a label.
fn values(literal: &Literal, labelled: &[(Span, Vec<Value>)]) -> Vec<Value> {
    labelled
        .iter()
        .find(|(span, _)| *span == literal.span)
        .map_or_else(|| vec![literal.kind.to_json()], |(_, ids)| ids.clone())
}

fn subject(expr: &Expr) -> Option<String> {
    match &expr.kind {
        ExprKind::Literal(_) => None,
        _ => Some(input_description(expr)),
    }
}

/// True when every value satisfying `b` satisfies `a` (same subject).
fn atom_implies(b: &Atom, a: &Atom) -> bool {
    if a.subject() != b.subject() {
        return false;
    }
    let same = json_equal;
    match (a, b) {
        (Atom::Present(_), _) => true,
        (Atom::Eq(_, v), Atom::Eq(_, w)) => same(v, w),
        (Atom::Eq(_, v), Atom::In(_, set)) => set.len() == 1 && same(v, &set[0]),
        (Atom::In(_, set), Atom::Eq(_, w)) => set.iter().any(|v| same(v, w)),
        (Atom::In(_, set), Atom::In(_, sub)) => sub.iter().all(|w| set.iter().any(|v| same(v, w))),
        (Atom::Ne(_, v), Atom::Ne(_, w)) => same(v, w),
        (Atom::Ne(_, v), Atom::Eq(_, w)) => !same(v, w),
        (Atom::Ne(_, v), Atom::In(_, set)) => !set.iter().any(|w| same(v, w)),
        (Atom::Bound(_, op, x), Atom::Bound(_, op2, y)) => bound_implies(*op2, *y, *op, *x),
        (Atom::Bound(_, op, x), Atom::Eq(_, w)) => {
            w.as_f64().is_some_and(|n| satisfies(n, *op, *x))
        }
        _ => false,
    }
}

fn satisfies(n: f64, op: CompareOp, x: f64) -> bool {
    match op {
        CompareOp::Ge => n >= x,
        CompareOp::Gt => n > x,
        CompareOp::Le => n <= x,
        CompareOp::Lt => n < x,
        CompareOp::Eq => n == x,
        CompareOp::Ne => n != x,
    }
}

/// True when `v op_b y` implies `v op_a x`.
fn bound_implies(op_b: CompareOp, y: f64, op_a: CompareOp, x: f64) -> bool {
    use CompareOp::*;
    match (op_a, op_b) {
        (Ge, Ge) | (Ge, Gt) | (Gt, Gt) => y >= x,
        (Gt, Ge) => y > x,
        (Le, Le) | (Le, Lt) | (Lt, Lt) => y <= x,
        (Lt, Le) => y < x,
        _ => false,
    }
}
