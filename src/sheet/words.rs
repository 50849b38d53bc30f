//! Compiled expressions and conditions said in words, for people who do not read mapping files:
//! "`deal.properties.amount`, then number", "`deal.properties.contract_type` is `"retainer"`".
//! The words follow the checked program's structure, so they say what apply does.

use serde_json::Value;

use crate::check::program::{CCond, CExpr, CPart};
use crate::syntax::ast::CompareOp;

/// An expression in words: paths and constants in backticks, transforms after "through",
/// fallbacks after "else".
pub fn expr(expr: &CExpr) -> String {
    match expr {
        CExpr::Path(path) => format!("`{}`", path.display),
        CExpr::Literal(value) => format!("the constant `{}`", literal(value)),
        CExpr::Template(parts) => format!("the text `\"{}\"`", template(parts)),
        CExpr::Pipeline { input, names, .. } => {
            format!("{} through {}", self::expr(input), names.join(", "))
        }
        CExpr::Coalesce(alternatives) => alternatives
            .iter()
            .map(self::expr)
            .collect::<Vec<_>>()
            .join(", else "),
        CExpr::Arith { op, left, right } => {
            format!("({} {} {})", operand(left), op.words(), operand(right))
        }
        CExpr::Fallback { value, fallback } => {
            format!("{}, else {}", self::expr(value), self::expr(fallback))
        }
    }
}

/// A condition in words.
pub fn cond(cond: &CCond) -> String {
    match cond {
        CCond::And(parts) => joined(parts, " and "),
        CCond::Or(parts) => joined(parts, " or "),
        CCond::Not(inner) => format!("not ({})", self::cond(inner)),
        CCond::Present(e) => format!("{} is set", subject(e)),
        CCond::Compare(left, op, right) => {
            format!("{} {} {}", subject(left), compare(*op), operand(right))
        }
        CCond::In(e, values) => {
            let listed: Vec<String> = values.iter().map(|v| format!("`{}`", literal(v))).collect();
            format!("{} is one of {}", subject(e), listed.join(", "))
        }
        CCond::Matches(e, regex) => format!("{} matches `{}`", subject(e), regex.as_str()),
    }
}

/// The paths a condition reads, in order (as written).
pub fn cond_paths(cond: &CCond) -> Vec<String> {
    let mut found = Vec::new();
    let mut add = |e: &CExpr| found.extend(e.paths().iter().map(|p| p.display.clone()));
    fn walk(cond: &CCond, add: &mut dyn FnMut(&CExpr)) {
        match cond {
            CCond::And(parts) | CCond::Or(parts) => parts.iter().for_each(|p| walk(p, add)),
            CCond::Not(inner) => walk(inner, add),
            CCond::Present(e) | CCond::In(e, _) | CCond::Matches(e, _) => add(e),
            CCond::Compare(left, _, right) => {
                add(left);
                add(right);
            }
        }
    }
    walk(cond, &mut add);
    found
}

/// The transforms an expression's value goes through, outermost last (`number`,
/// `lookup(owners)`), for the fields table.
pub fn transforms(expr: &CExpr) -> Vec<String> {
    match expr {
        CExpr::Pipeline { input, names, .. } => {
            let mut found = transforms(input);
            found.extend(names.iter().cloned());
            found
        }
        CExpr::Coalesce(alternatives) => alternatives.first().map(transforms).unwrap_or_default(),
        CExpr::Fallback { value, .. } => transforms(value),
        _ => Vec::new(),
    }
}

/// The fallbacks of an expression: every alternative after the first of a `??` chain, in words.
pub fn fallbacks(expr: &CExpr) -> Vec<String> {
    match expr {
        CExpr::Coalesce(alternatives) => alternatives.iter().skip(1).map(self::expr).collect(),
        CExpr::Pipeline { input, .. } => fallbacks(input),
        CExpr::Fallback { value, fallback } => {
            let mut found = fallbacks(value);
            found.push(self::expr(fallback));
            found
        }
        CExpr::Template(parts) => parts
            .iter()
            .filter_map(|part| match part {
                CPart::Expr(inner) => Some(fallbacks(inner)),
                CPart::Text(_) => None,
            })
            .flatten()
            .collect(),
        _ => Vec::new(),
    }
}

/// A JSON value as a person reads it: strings in quotes, everything else as JSON.
pub fn literal(value: &Value) -> String {
    value.to_string()
}

fn joined(parts: &[CCond], separator: &str) -> String {
    parts
        .iter()
        .map(|part| match part {
            CCond::And(_) | CCond::Or(_) => format!("({})", cond(part)),
            _ => cond(part),
        })
        .collect::<Vec<_>>()
        .join(separator)
}

/// The left side of a test: the expression without "the constant".
fn subject(e: &CExpr) -> String {
    expr(e)
}

/// The right side of a comparison: constants bare (`"retainer"`, `25000`).
fn operand(e: &CExpr) -> String {
    match e {
        CExpr::Literal(value) => format!("`{}`", literal(value)),
        other => expr(other),
    }
}

fn compare(op: CompareOp) -> &'static str {
    match op {
        CompareOp::Eq => "is",
        CompareOp::Ne => "is not",
        CompareOp::Lt => "is below",
        CompareOp::Le => "is at most",
        CompareOp::Gt => "is above",
        CompareOp::Ge => "is at least",
    }
}

/// A template's text with its interpolations written back as `{...}`.
fn template(parts: &[CPart]) -> String {
    parts
        .iter()
        .map(|part| match part {
            CPart::Text(text) => text.replace('\n', "\\n"),
            CPart::Expr(inner) => format!("{{{}}}", plain(inner)),
        })
        .collect()
}

/// An expression as it is written in a template (`deal.id`, `a ?? "none"`).
fn plain(e: &CExpr) -> String {
    match e {
        CExpr::Path(path) => path.display.clone(),
        CExpr::Literal(value) => literal(value),
        CExpr::Template(parts) => format!("\"{}\"", template(parts)),
        CExpr::Pipeline { input, names, .. } => format!("{} | {}", plain(input), names.join(" | ")),
        CExpr::Coalesce(alternatives) => alternatives
            .iter()
            .map(plain)
            .collect::<Vec<_>>()
            .join(" ?? "),
        CExpr::Arith { op, left, right } => {
            format!("({} {} {})", plain(left), op.as_str(), plain(right))
        }
        CExpr::Fallback { value, fallback } => {
            format!("{} | default({})", plain(value), plain(fallback))
        }
    }
}
