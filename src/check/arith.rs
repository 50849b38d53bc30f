//! Typing arithmetic (`a + b`, `a - b`, `a * b`, `a / b`): both operands must be numbers (M317,
//! with the converting transform in the help), a division by the literal zero is an error
//! (M319), and a division by a value nothing proves nonzero is a warning (M318): the deals where
//! it is zero are rejected. The result is whole when both operands are and the operator is not
//! `/`; it may be absent when either operand may be.

use super::bounds::proven_range;
use super::context::Context;
use super::exprs::{Env, Scope, input_description};
use super::program::CExpr;
use super::range::{Affine, Range};
use super::types::{ExprInfo, KnownValue, Ty};
use crate::diag::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{ArithOp, Expr, ExprKind};
use crate::transforms::arith;
use crate::value::{Kinds, Val};
use serde_json::Value;

/// One operator and its operands, as written.
pub(crate) struct Operation<'e> {
    /// The operator.
    pub op: ArithOp,
    /// Where the operator is written.
    pub op_span: Span,
    /// The left operand.
    pub left: &'e Expr,
    /// The right operand.
    pub right: &'e Expr,
}

impl Env<'_> {
    /// Types and compiles `left OP right`.
    pub(crate) fn arith(
        &mut self,
        cx: &mut Context<'_>,
        operation: Operation<'_>,
        scope: Scope<'_>,
    ) -> Option<(CExpr, ExprInfo)> {
        let Operation {
            op,
            op_span,
            left,
            right,
        } = operation;
        let typed_left = self.expr(cx, left, scope);
        let typed_right = self.expr(cx, right, scope);
        let ((cleft, left_info), (cright, right_info)) = (typed_left?, typed_right?);
        let numbers = [(left, &left_info), (right, &right_info)]
            .into_iter()
            .map(|(operand, info)| {
                let shift = (operand.span == left.span)
                    .then_some(&right_info.ty.constant)
                    .and_then(|c| c.as_ref()?.as_i64());
                number_operand(cx, op, op_span, (operand, info), shift)
            })
            .collect::<Vec<bool>>();
        if numbers.contains(&false) {
            return None;
        }
        let mut may_fail = left_info.may_fail || right_info.may_fail;
        if op == ArithOp::Div {
            may_fail |= !self.divisor_checked(cx, op_span, right, &right_info)?;
        }
        let whole = op != ArithOp::Div
            && left_info.ty.kinds.without(Kinds::NULL).within(Kinds::INT)
            && right_info.ty.kinds.without(Kinds::NULL).within(Kinds::INT);
        let mut ty = Ty::of(if whole { Kinds::INT } else { Kinds::NUMBER });
        ty.range = self
            .known_range(left, &left_info.ty)
            .combine(op, self.known_range(right, &right_info.ty));
        // Both are true of the result: intervals, and (when the operands are of one value) the
        // affine form, which knows `x - x * 0.1` is `0.9 × x`.
        ty.affine = self
            .affine_of(left, &left_info.ty)
            .combine(op, &self.affine_of(right, &right_info.ty));
        if let Some(affine) = &ty.affine {
            ty.range = ty.range.and(affine.range());
        }
        if let (Some(a), Some(b)) = (&left_info.ty.constant, &right_info.ty.constant)
            && let Ok(value) = arith::apply(op, &Val::from_json(a), &Val::from_json(b))
        {
            let value = value.to_json();
            ty.kinds = Kinds::of_json(&value);
            ty.values = Some(vec![KnownValue { value, span: None }]);
        }
        let mut reads = left_info.reads;
        reads.extend(right_info.reads);
        let info = ExprInfo {
            ty,
            may_be_absent: left_info.may_be_absent || right_info.may_be_absent,
            may_fail,
            reads,
        };
        let cexpr = CExpr::Arith {
            op,
            left: Box::new(cleft),
            right: Box::new(cright),
        };
        Some((cexpr, info))
    }

    /// True when the divisor cannot be zero: a nonzero constant, a schema field whose bounds
    /// exclude zero, or a value a `require` rule proves above (or below) zero. M319 (and `None`)
    /// for the constant zero; M318 when nothing proves it.
    fn divisor_checked(
        &self,
        cx: &mut Context<'_>,
        op_span: Span,
        divisor: &Expr,
        info: &ExprInfo,
    ) -> Option<bool> {
        let text = input_description(divisor);
        if let Some(constant) = &info.ty.constant {
            if constant.as_f64() == Some(0.0) {
                cx.report(
                    Diagnostic::new(
                        Code::M319,
                        divisor.span,
                        "division by zero: every deal that reaches this rule is rejected",
                        "this is zero",
                    )
                    .with_label(op_span, "divides by it")
                    .with_help("divide by a number other than zero"),
                );
                return None;
            }
            return Some(true);
        }
        if self.known_range(divisor, &info.ty).excludes_zero()
            || nonzero(&info.ty, &|text| self.proven_nonzero(text))
        {
            return Some(true);
        }
        cx.report(
            Diagnostic::new(
                Code::M318,
                divisor.span,
                format!("`{text}` may be zero; deals where it is are rejected"),
                "nothing proves this is not zero",
            )
            .with_label(op_span, "divides by it")
            .with_help(format!(
                "require it where the deal is handed off: `{text} > 0` in the `require at stage` block"
            )),
        );
        Some(false)
    }
}

impl Env<'_> {
    /// True when a `require` rule proves the expression written `text` above or below zero.
    fn proven_nonzero(&self, text: &str) -> bool {
        proven_range(&self.stages.bounds, text).excludes_zero()
    }

    /// What is known of an operand's size: its type's range, tightened by the rules.
    /// An operand as `scale × BASE + offset`: a constant; the result of arithmetic, as that
    /// arithmetic found it (only then is the type's affine form the operand's: a transform or a
    /// `??` changes the value); anything else is its own base, named by its text.
    fn affine_of(&self, operand: &Expr, ty: &Ty) -> Affine {
        if let Some(constant) = ty.constant.as_ref().and_then(Value::as_f64) {
            return Affine::constant(constant);
        }
        if let (ExprKind::Arith { .. }, Some(affine)) = (&operand.kind, &ty.affine) {
            return affine.clone();
        }
        Affine::of(input_description(operand), self.known_range(operand, ty))
    }

    fn known_range(&self, operand: &Expr, ty: &Ty) -> Range {
        ty.range.and(proven_range(
            &self.stages.bounds,
            &input_description(operand),
        ))
    }
}

/// True when a value of type `ty` cannot be zero: a nonzero constant, finitely many nonzero
/// values, a schema field whose bounds exclude zero, or alternatives (`a ?? 1`) each of which
/// is one of those or is proven by a rule (`proven`, given an alternative as written).
fn nonzero(ty: &Ty, proven: &dyn Fn(&str) -> bool) -> bool {
    if !ty.alternatives.is_empty() {
        return ty
            .alternatives
            .iter()
            .all(|alternative| proven(&alternative.text) || nonzero(&alternative.ty, proven));
    }
    if let Some(values) = &ty.values {
        return values
            .iter()
            .all(|known| known.value.as_f64().is_some_and(|n| n != 0.0));
    }
    ty.range.excludes_zero()
}

/// M317 unless the operand is a number (or `null`, which makes the result absent). `days` is
/// the whole number added to it, when the right side is one (for the `add_days` help).
fn number_operand(
    cx: &mut Context<'_>,
    op: ArithOp,
    op_span: Span,
    (operand, info): (&Expr, &ExprInfo),
    days: Option<i64>,
) -> bool {
    let kinds = info.ty.kinds.without(Kinds::NULL);
    if kinds.is_none() || kinds.within(Kinds::NUMBER) {
        return true;
    }
    let text = input_description(operand);
    let dated_text = info
        .ty
        .schema
        .as_deref()
        .is_some_and(|flat| matches!(flat.format.as_deref(), Some("date" | "date-time")));
    let moving = matches!(op, ArithOp::Add | ArithOp::Sub);
    let help = if moving && (kinds.within(Kinds::DATES) || dated_text) {
        let read = if dated_text { " | date" } else { "" };
        match days.map(|n| if op == ArithOp::Sub { -n } else { n }) {
            Some(n) => format!("move the date with a transform: `{text}{read} | add_days({n})`"),
            None => format!(
                "move a date with a transform: `{text}{read} | add_days(N)` or `{text}{read} | add_months(N)` (N may be negative)"
            ),
        }
    } else if kinds.intersects(Kinds::STRING) {
        format!("read a number from the text first: `({text} | number)`")
    } else {
        format!("`{}` works on numbers only", op.as_str())
    };
    cx.report(
        Diagnostic::new(
            Code::M317,
            operand.span,
            format!(
                "`{}` needs numbers, but `{text}` is {}",
                op.as_str(),
                kinds.a()
            ),
            format!("this is {}", kinds.a()),
        )
        .with_label(op_span, "the operator")
        .with_help(help),
    );
    false
}
