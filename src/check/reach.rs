//! Unreachable select branches (M309): a branch whose condition implies an earlier branch's is
//! never taken. Conditions are compared as conjunctions of simple tests on the same subject
//! (presence, `==`, `!=`, `in`, numeric bounds), read from the syntax, with each literal the
//! checker read as a label taken as the values it names (`"Closed won"` is `"closedwon"`).

use rustc_hash::FxHashMap;
use serde_json::Value;

use super::context::Context;
use super::exprs::input_description;
use crate::diag::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{CompareOp, Cond, CondKind, Expr, ExprKind, Literal, SelectBlock};
use crate::value::json_equal;

/// Most atom comparisons spent on one select's branches that are not plain equalities
/// (bounds, `in`, `!=`): past it, such branches are not compared further (M309 is a warning, and
/// this keeps a select of many range branches linear).
const COMPARISON_BUDGET: usize = 1_000_000;

/// Most equality tests in one branch looked up as a set (their subsets are looked up).
const MAX_EQUALITIES: usize = 6;

/// M309 for one select's branches, checked in order (`check` for each, first to last): a branch
/// whose condition implies an earlier branch's is never taken. Branches that test only
/// equalities are indexed by their tests, so a select of thousands of `==` branches costs one
/// look-up per subset of a branch's tests instead of one comparison per earlier branch.
pub(crate) struct Reach {
    /// Each earlier branch's condition as atoms (`None`: not a conjunction of simple tests).
    earlier: Vec<Option<Vec<Atom>>>,
    /// Earlier branches made of equalities only, by their sorted tests: the first such branch.
    equalities: FxHashMap<Vec<String>, usize>,
    /// Earlier branches with other tests, in order.
    others: Vec<usize>,
    /// The labelled literals seen so far, by span.
    labels: FxHashMap<Span, Vec<Value>>,
    /// How many entries of the checker's `labelled` list `labels` holds.
    labels_seen: usize,
    /// Comparisons left for `others`.
    budget: usize,
}

impl Reach {
    /// Before the first branch of a select.
    pub(crate) fn new() -> Reach {
        Reach {
            earlier: Vec::new(),
            equalities: FxHashMap::default(),
            others: Vec::new(),
            labels: FxHashMap::default(),
            labels_seen: 0,
            budget: COMPARISON_BUDGET,
        }
    }

    /// Checks branch `index` (the branches before it were checked) against the earlier ones.
    /// `labelled` holds the literals read as labels so far, with the values each names.
    pub(crate) fn check(
        &mut self,
        cx: &mut Context<'_>,
        select: &SelectBlock,
        index: usize,
        labelled: &[(Span, Vec<Value>)],
    ) {
        for (span, ids) in labelled.iter().skip(self.labels_seen) {
            self.labels.entry(*span).or_insert_with(|| ids.clone());
        }
        self.labels_seen = labelled.len();
        let later = atoms(&select.arms[index].condition, &self.labels);
        if let Some(later) = &later
            && let Some(first) = self.first_implied(later)
        {
            let earlier = &select.arms[first];
            cx.report(
                Diagnostic::new(Code::M309, select.arms[index].condition.span, "this branch is never taken", "every deal matching it matches an earlier branch")
                    .with_label(earlier.condition.span, "this earlier branch matches first")
                    .with_help("branches are tried in order: move the narrower branch above the wider one, or delete it"),
            );
        }
        self.remember(index, later);
    }

    /// The first earlier branch every deal matching `later` matches, if any.
    fn first_implied(&mut self, later: &[Atom]) -> Option<usize> {
        let mut found = self.first_equal_branch(later);
        for &earlier in &self.others {
            if found.is_some_and(|f| f < earlier) {
                break;
            }
            let Some(first) = &self.earlier[earlier] else {
                continue;
            };
            let cost = first.len() * later.len();
            if cost > self.budget {
                break;
            }
            self.budget -= cost;
            if first
                .iter()
                .all(|a| later.iter().any(|b| atom_implies(b, a)))
            {
                found = Some(earlier);
                break;
            }
        }
        found
    }

    /// The first earlier branch of equalities only whose tests are all among `later`'s.
    fn first_equal_branch(&self, later: &[Atom]) -> Option<usize> {
        let mut keys: Vec<String> = later.iter().filter_map(equality_key).collect();
        keys.sort();
        keys.dedup();
        if keys.is_empty() || keys.len() > MAX_EQUALITIES {
            return None;
        }
        (1u32..(1 << keys.len()))
            .filter_map(|mask| {
                let subset: Vec<String> = (0..keys.len())
                    .filter(|bit| mask & (1 << bit) != 0)
                    .map(|bit| keys[bit].clone())
                    .collect();
                self.equalities.get(&subset).copied()
            })
            .min()
    }

    fn remember(&mut self, index: usize, atoms: Option<Vec<Atom>>) {
        if let Some(list) = &atoms {
            let keys: Option<Vec<String>> = list.iter().map(equality_key).collect();
            match keys {
                Some(mut keys) if !keys.is_empty() => {
                    keys.sort();
                    keys.dedup();
                    self.equalities.entry(keys).or_insert(index);
                }
                _ => self.others.push(index),
            }
        }
        self.earlier.push(atoms);
    }
}

/// An equality test (`==` one value, or `in` one value) as a key: its subject and its value,
/// numbers by value (as `json_equal` compares them).
fn equality_key(atom: &Atom) -> Option<String> {
    let (subject, value) = match atom {
        Atom::Eq(subject, value) => (subject, value),
        Atom::In(subject, values) if values.len() == 1 => (subject, &values[0]),
        _ => return None,
    };
    let value = match value {
        Value::Number(n) => format!("n{}", crate::value::number::canonical(n)),
        other => other.to_string(),
    };
    Some(format!("{subject}\u{0}{value}"))
}

/// One simple test in a conjunction, for reachability.
#[derive(Debug, Clone, PartialEq)]
enum Atom {
    Present(String),
    Eq(String, Value),
    Ne(String, Value),
    In(String, Vec<Value>),
    Bound(String, CompareOp, serde_json::Number),
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
fn atoms(cond: &Cond, labelled: &FxHashMap<Span, Vec<Value>>) -> Option<Vec<Atom>> {
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
                    literal.kind.to_json().as_number()?.clone(),
                )],
            })
        }
        _ => None,
    }
}

/// The values a literal stands for: those it names when the checker read it as a label.
fn values(literal: &Literal, labelled: &FxHashMap<Span, Vec<Value>>) -> Vec<Value> {
    labelled
        .get(&literal.span)
        .map_or_else(|| vec![literal.kind.to_json()], Clone::clone)
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
        (Atom::Bound(_, op, x), Atom::Bound(_, op2, y)) => bound_implies(*op2, y, *op, x),
        (Atom::Bound(_, op, x), Atom::Eq(_, w)) => {
            w.as_number().is_some_and(|n| satisfies(n, *op, x))
        }
        _ => false,
    }
}

/// True when `n op x`, comparing the numbers exactly.
fn satisfies(n: &serde_json::Number, op: CompareOp, x: &serde_json::Number) -> bool {
    let order = crate::value::number::compare(n, x);
    match op {
        CompareOp::Ge => order.is_ge(),
        CompareOp::Gt => order.is_gt(),
        CompareOp::Le => order.is_le(),
        CompareOp::Lt => order.is_lt(),
        CompareOp::Eq => order.is_eq(),
        CompareOp::Ne => order.is_ne(),
    }
}

/// True when `v op_b y` implies `v op_a x` (numbers compared exactly).
fn bound_implies(
    op_b: CompareOp,
    y: &serde_json::Number,
    op_a: CompareOp,
    x: &serde_json::Number,
) -> bool {
    use CompareOp::*;
    let order = crate::value::number::compare(y, x);
    match (op_a, op_b) {
        (Ge, Ge) | (Ge, Gt) | (Gt, Gt) => order.is_ge(),
        (Gt, Ge) => order.is_gt(),
        (Le, Le) | (Le, Lt) | (Lt, Lt) => order.is_le(),
        (Lt, Le) => order.is_lt(),
        _ => false,
    }
}
