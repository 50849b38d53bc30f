//! Checking and compiling conditions: comparisons between compatible types (M208), literals that
//! are values of the compared field (M205 for stages, M206 otherwise), regexes (M107), and which
//! source paths a condition proves present when it holds ([`implied_by`]).

use serde_json::Value;

use super::calls::conversion_hint;
use super::context::Context;
use super::exprs::{Env, Scope, input_description};
use super::labels::{self, Comparison};
use super::program::{CCond, CExpr};
use super::types::{ExprInfo, Read};
use crate::diag::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{CompareOp, Cond, CondKind, Expr, ExprKind, LitKind, Literal};
use crate::transforms::build_regex;
use crate::value::{Kinds, json_equal};

/// What a condition reads.
#[derive(Debug, Clone, Default)]
pub(crate) struct CondInfo {
    /// Paths read.
    pub reads: Vec<Read>,
}

impl Env<'_> {
    /// Checks and compiles a condition; `None` when it has an error (already reported).
    pub(crate) fn cond(
        &mut self,
        cx: &mut Context<'_>,
        cond: &Cond,
        scope: Scope<'_>,
    ) -> Option<(CCond, CondInfo)> {
        match &cond.kind {
            CondKind::And(parts) | CondKind::Or(parts) => {
                let is_and = matches!(cond.kind, CondKind::And(_));
                let mut compiled = Vec::with_capacity(parts.len());
                let mut info = CondInfo::default();
                let mut ok = true;
                for part in parts {
                    let Some((c, part_info)) = self.cond(cx, part, scope) else {
                        ok = false;
                        continue;
                    };
                    compiled.push(c);
                    info.reads.extend(part_info.reads);
                }
                let compiled = if is_and {
                    CCond::And(compiled)
                } else {
                    CCond::Or(compiled)
                };
                ok.then_some((compiled, info))
            }
            CondKind::Not(inner) => {
                let (c, info) = self.cond(cx, inner, scope)?;
                Some((CCond::Not(Box::new(c)), info))
            }
            CondKind::Present(expr) => {
                let (c, info) = self.expr(cx, expr, scope)?;
                Some((CCond::Present(c), cond_info(info)))
            }
            CondKind::Compare {
                left,
                op,
                op_span,
                right,
            } => self.compare(cx, left, *op, *op_span, right, scope),
            CondKind::In { value, list } => self.membership(cx, value, list, scope),
            CondKind::Matches { value, pattern } => {
                let (c, info) = self.expr(cx, value, scope)?;
                let kinds = info.ty.kinds.without(Kinds::NULL);
                if !kinds.intersects(Kinds::STRING) {
                    cx.report(
                        Diagnostic::new(
                            Code::M208,
                            value.span,
                            format!("`matches` tests text, but `{}` is {}", input_description(value), kinds.a()),
                            "not a string",
                        )
                        .with_help("compare numbers with `<`, `>`, `==`, or turn the value into text with `| string`"),
                    );
                    return None;
                }
                let regex = match build_regex(&pattern.value) {
                    Ok(regex) => regex,
                    Err(reason) => {
                        cx.report(
                            Diagnostic::new(Code::M107, pattern.span, "invalid regular expression", regex_reason(&reason))
                                .with_help("patterns use the `regex` crate's syntax (no look-around or back-references); escape `\\` as `\\\\` in mapping strings"),
                        );
                        return None;
                    }
                };
                Some((CCond::Matches(c, regex), cond_info(info)))
            }
        }
    }

    fn compare(
        &mut self,
        cx: &mut Context<'_>,
        left: &Expr,
        op: CompareOp,
        op_span: Span,
        right: &Expr,
        scope: Scope<'_>,
    ) -> Option<(CCond, CondInfo)> {
        let lhs = self.expr(cx, left, scope);
        let rhs = self.expr(cx, right, scope);
        let ((lc, linfo), (rc, rinfo)) = (lhs?, rhs?);
        for (side, other_side) in [(left, right), (right, left)] {
            if is_null_literal(side) {
                cx.report(
                    Diagnostic::new(Code::M208, side.span, "comparison with `null`", "absent values are never equal to anything")
                        .with_help(format!("test presence instead: `{}` holds when the value is present, `not {}` when it is absent", input_description(other_side), input_description(other_side))),
                );
                return None;
            }
        }
        if !op.is_ordering() {
            let sides = [(left, &lc, &linfo, right), (right, &rc, &rinfo, left)];
            for (index, (subject, compiled, info, other)) in sides.into_iter().enumerate() {
                if let Some(ids) = self.label_ids(cx, subject, info, other, Comparison::of(op)) {
                    let literal_first = index == 1;
                    let condition = labelled_compare(compiled, op, ids, literal_first);
                    return Some((condition, cond_info(info.clone())));
                }
            }
        }
        if !comparable(op, linfo.ty.kinds, rinfo.ty.kinds) {
            let mut diagnostic = incomparable(left, &linfo, op, op_span, right, &rinfo);
            // Text compared with a field of labelled numbers is a label that names nothing.
            if let Some(help) = unknown_label(cx, left, &linfo, right)
                .or_else(|| unknown_label(cx, right, &rinfo, left))
            {
                diagnostic = diagnostic.with_help(help);
            }
            cx.report(diagnostic);
            return None;
        }
        if !op.is_ordering() {
            self.check_literal_value(cx, left, &linfo, right);
            self.check_literal_value(cx, right, &rinfo, left);
        }
        let mut info = cond_info(linfo);
        info.reads.extend(rinfo.reads);
        Some((CCond::Compare(lc, op, rc), info))
    }

    fn membership(
        &mut self,
        cx: &mut Context<'_>,
        value: &Expr,
        list: &[Literal],
        scope: Scope<'_>,
    ) -> Option<(CCond, CondInfo)> {
        let (c, info) = self.expr(cx, value, scope)?;
        let mut values = Vec::with_capacity(list.len());
        let mut ok = true;
        let is_stage = self.is_stage(value);
        for literal in list {
            if let Some(ids) = labels::compared(cx, value, &info, literal, Comparison::In, is_stage)
            {
                self.labelled.push((literal.span, ids.clone()));
                values.extend(ids);
                continue;
            }
            let json = literal.kind.to_json();
            let kinds = Kinds::of_json(&json);
            if !comparable(CompareOp::Eq, info.ty.kinds, kinds) {
                cx.report(
                    Diagnostic::new(
                        Code::M208,
                        literal.span,
                        format!(
                            "`{}` is {}, but the list holds {}",
                            input_description(value),
                            info.ty.kinds.without(Kinds::NULL).a(),
                            kinds.a()
                        ),
                        "can never be equal",
                    )
                    .with_help("list values of the same type as the field"),
                );
                ok = false;
                continue;
            }
            self.check_value(cx, value, &info, &json, literal.span);
            values.push(json);
        }
        ok.then(|| (CCond::In(c, values), cond_info(info)))
    }

    /// When `other` is a literal that is a label of `subject`'s field: the values it names
    /// (remembered in `labelled`).
    fn label_ids(
        &mut self,
        cx: &mut Context<'_>,
        subject: &Expr,
        info: &ExprInfo,
        other: &Expr,
        how: Comparison,
    ) -> Option<Vec<Value>> {
        let ExprKind::Literal(literal) = &other.kind else {
            return None;
        };
        let ids = labels::compared(cx, subject, info, literal, how, self.is_stage(subject))?;
        self.labelled.push((literal.span, ids.clone()));
        Some(ids)
    }

    /// True when `subject` is the stage field the trigger compares.
    fn is_stage(&self, subject: &Expr) -> bool {
        self.stages.stage_display.as_deref() == Some(input_description(subject).as_str())
    }

    /// When `other` is a literal, checks it is a value `subject` can take.
    fn check_literal_value(
        &self,
        cx: &mut Context<'_>,
        subject: &Expr,
        info: &ExprInfo,
        other: &Expr,
    ) {
        if let ExprKind::Literal(literal) = &other.kind {
            self.check_value(cx, subject, info, &literal.kind.to_json(), literal.span);
        }
    }

    fn check_value(
        &self,
        cx: &mut Context<'_>,
        subject: &Expr,
        info: &ExprInfo,
        value: &Value,
        span: Span,
    ) {
        let Some(known) = &info.ty.values else {
            return;
        };
        if known.is_empty() || known.iter().any(|k| json_equal(&k.value, value)) {
            return;
        }
        let described = input_description(subject);
        let is_stage = self.is_stage(subject);
        let names: Vec<String> = known.iter().map(|k| k.value.to_string()).collect();
        let strings: Vec<&str> = known.iter().filter_map(|k| k.value.as_str()).collect();
        let labels = info
            .ty
            .schema
            .as_ref()
            .and_then(|flat| labels::of(cx, flat));
        let close = value
            .as_str()
            .and_then(|v| labels::closest(labels.as_ref(), &strings, v));
        let list = names.join(", ");
        let inactive = value
            .as_str()
            .zip(labels.as_ref())
            .and_then(|(text, labels)| labels.inactive_labelled(text))
            .map(|(id, _)| {
                format!("{value} is the label of {id}, which the vendor lists as inactive; ")
            })
            .unwrap_or_default();
        let (code, message, label, help) = if is_stage {
            (
                Code::M205,
                format!("unknown stage {value}"),
                format!("not a stage of `{described}`"),
                format!("{inactive}the stages are {list}{}", did_you_mean(close)),
            )
        } else {
            (
                Code::M206,
                format!("{value} is not a value of `{described}`"),
                "never equal".to_string(),
                format!("{inactive}the values are {list}{}", did_you_mean(close)),
            )
        };
        let declared = info.ty.schema.as_ref().and_then(|flat| cx.enum_span(flat));
        cx.report(
            Diagnostic::new(code, span, message, label)
                .with_optional_label(
                    declared,
                    if is_stage {
                        "the stages are listed here"
                    } else {
                        "the values are listed here"
                    },
                )
                .with_help(help),
        );
    }
}

/// When `subject` is a path whose field labels its values and `other` a text literal that is
/// none of its labels: the help naming the values (or the inactive entry so labelled).
fn unknown_label(
    cx: &Context<'_>,
    subject: &Expr,
    info: &ExprInfo,
    other: &Expr,
) -> Option<String> {
    let (ExprKind::Path(_), ExprKind::Literal(literal)) = (&subject.kind, &other.kind) else {
        return None;
    };
    let LitKind::Str(text) = &literal.kind else {
        return None;
    };
    let labels = labels::of(cx, info.ty.schema.as_deref()?)?;
    Some(labels::unknown_written(&labels, text))
}

/// The comparison of a field with the values a label names, as if the mapping had written the
/// ids: one id in place of the label; several as `in [ids]` for `==`, and for `!=` as
/// `FIELD != id and ...` (false when the field is absent, as every test with an absent operand).
fn labelled_compare(subject: &CExpr, op: CompareOp, ids: Vec<Value>, literal_first: bool) -> CCond {
    match (ids.as_slice(), op) {
        ([one], _) if literal_first => {
            CCond::Compare(CExpr::Literal(one.clone()), op, subject.clone())
        }
        ([one], _) => CCond::Compare(subject.clone(), op, CExpr::Literal(one.clone())),
        (_, CompareOp::Ne) => CCond::And(
            ids.into_iter()
                .map(|id| CCond::Compare(subject.clone(), CompareOp::Ne, CExpr::Literal(id)))
                .collect(),
        ),
        _ => CCond::In(subject.clone(), ids),
    }
}

fn did_you_mean(close: Option<&str>) -> String {
    close
        .map(|c| format!("; did you mean \"{c}\"?"))
        .unwrap_or_default()
}

fn is_null_literal(expr: &Expr) -> bool {
    matches!(
        &expr.kind,
        ExprKind::Literal(Literal {
            kind: LitKind::Null,
            ..
        })
    )
}

/// True when values of these kinds can be compared with `op`.
fn comparable(op: CompareOp, left: Kinds, right: Kinds) -> bool {
    let both = |k: Kinds| left.intersects(k) && right.intersects(k);
    if both(Kinds::NUMBER) || both(Kinds::DATES) {
        return true;
    }
    !op.is_ordering()
        && (both(Kinds::STRING) || both(Kinds::BOOL) || both(Kinds::OBJECT) || both(Kinds::ARRAY))
        || left.contains(Kinds::JSON)
        || right.contains(Kinds::JSON)
}

fn incomparable(
    left: &Expr,
    linfo: &ExprInfo,
    op: CompareOp,
    op_span: Span,
    right: &Expr,
    rinfo: &ExprInfo,
) -> Diagnostic {
    let (lk, rk) = (
        linfo.ty.kinds.without(Kinds::NULL),
        rinfo.ty.kinds.without(Kinds::NULL),
    );
    // Compared with a number, read text as any number (`| number`), not only as an integer.
    let widen = |k: Kinds| {
        if k.intersects(Kinds::NUMBER) {
            k.or(Kinds::NUMBER)
        } else {
            k
        }
    };
    let help = match (
        conversion_hint(lk, widen(rk)),
        conversion_hint(rk, widen(lk)),
    ) {
        (Some(hint), _) if !matches!(left.kind, ExprKind::Literal(_)) => {
            format!(
                "convert the left side: `{} | {hint} {} {}`",
                input_description(left),
                op.as_str(),
                input_description(right)
            )
        }
        (_, Some(hint)) if !matches!(right.kind, ExprKind::Literal(_)) => {
            format!(
                "convert the right side: `{} {} {} | {hint}`",
                input_description(left),
                op.as_str(),
                input_description(right)
            )
        }
        _ if op.is_ordering() => {
            "`<`, `<=`, `>`, `>=` compare numbers or dates: convert with `| number` or `| date`"
                .to_string()
        }
        _ => "compare values of the same type".to_string(),
    };
    Diagnostic::new(
        Code::M208,
        op_span,
        format!(
            "cannot compare {} with {} using `{}`",
            lk.a(),
            rk.a(),
            op.as_str()
        ),
        format!(
            "`{}` is {}, `{}` is {}",
            input_description(left),
            lk.a(),
            input_description(right),
            rk.a()
        ),
    )
    .with_label(left.span, lk.a())
    .with_label(right.span, rk.a())
    .with_help(help)
}

/// The condition info of a single test.
fn cond_info(info: ExprInfo) -> CondInfo {
    CondInfo { reads: info.reads }
}

/// What must be present for a test on `expr` to hold: the path a plain pipeline reads, and the
/// expression itself as written (`(a ?? b)`, `a | nonblank`), so that a rule naming a computed
/// value proves that value present where the same expression is written.
fn implied_paths(expr: &Expr) -> Vec<String> {
    let mut found = match &expr.kind {
        ExprKind::Path(path) => return vec![path.display()],
        ExprKind::Literal(_) => return Vec::new(),
        ExprKind::Pipeline { input, calls } if !calls.iter().any(|c| c.name.name == "default") => {
            implied_paths(input)
        }
        _ => Vec::new(),
    };
    found.push(input_description(expr));
    found
}

/// The useful line of a `regex` compile error, without its "error: " prefix.
pub(crate) fn regex_reason(reason: &str) -> String {
    let line = reason.lines().last().unwrap_or(reason).trim();
    line.strip_prefix("error: ").unwrap_or(line).to_string()
}

/// Source paths that are present whenever `cond` does not hold (a later select branch,
/// `otherwise`): a `not` fails where its condition holds, and every part of an `or` fails.
pub(crate) fn implied_when_false(cond: &Cond) -> Vec<String> {
    match &cond.kind {
        CondKind::Not(inner) => implied_by(inner),
        CondKind::Or(parts) => parts.iter().flat_map(implied_when_false).collect(),
        _ => Vec::new(),
    }
}

/// Source paths that are present whenever `cond` holds, read from its syntax alone (so a rule
/// with a type error still counts as requiring its field, and adds no follow-on M204).
pub(crate) fn implied_by(cond: &Cond) -> Vec<String> {
    match &cond.kind {
        CondKind::And(parts) => parts.iter().flat_map(implied_by).collect(),
        CondKind::Or(parts) => {
            let mut common = parts.first().map(implied_by).unwrap_or_default();
            for part in &parts[1..] {
                let these = implied_by(part);
                common.retain(|p| these.contains(p));
            }
            common
        }
        CondKind::Not(_) => Vec::new(),
        CondKind::Present(value) | CondKind::In { value, .. } | CondKind::Matches { value, .. } => {
            implied_paths(value)
        }
        CondKind::Compare { left, right, .. } => {
            let mut paths = implied_paths(left);
            paths.extend(implied_paths(right));
            paths
        }
    }
}
