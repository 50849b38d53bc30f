//! Text formats (M314): a string written into a field whose schema asserts a `format` (`date`,
//! `date-time`, `email`, `uri`, ...) must be known to have it, or every deal whose text has
//! another form is rejected at apply (M507). A source field declared with the same format is
//! known to; a date-time string into a `format: date` field, or free text, is not, and the help
//! names the transform that converts it where one exists.

use super::compat::{Field, declared};
use super::context::Context;
use super::exprs::input_description;
use super::types::{ExprInfo, KnownValue, Ty};
use crate::diag::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::Expr;
use crate::value::Kinds;

/// The formats mapctl asserts (docs/guarantees.md, "Format policy"); other names check nothing.
const ASSERTED: &[&str] = &[
    "date",
    "date-time",
    "time",
    "duration",
    "email",
    "idn-email",
    "hostname",
    "idn-hostname",
    "ipv4",
    "ipv6",
    "uri",
    "uri-reference",
    "iri",
    "iri-reference",
    "uri-template",
    "uuid",
    "json-pointer",
    "relative-json-pointer",
    "regex",
];

/// Checks the format of every alternative `value` may write into `field` (after its kinds fit).
pub(crate) fn check(cx: &mut Context<'_>, value: &Expr, info: &ExprInfo, field: &Field<'_>) {
    let Some(wanted) = field.flat.format.as_deref() else {
        return;
    };
    if !ASSERTED.contains(&wanted) || !field.flat.kinds.intersects(Kinds::STRING) {
        return;
    }
    check_ty(
        cx,
        value.span,
        &input_description(value),
        &info.ty,
        wanted,
        field,
    );
}

/// A value with a known set of values (a literal, a table's values): each text is tested.
fn known_values(
    cx: &mut Context<'_>,
    span: Span,
    values: &[KnownValue],
    wanted: &str,
    field: &Field<'_>,
) {
    let schema = serde_json::json!({ "format": wanted });
    let Ok(validator) = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
    else {
        return;
    };
    for known in values {
        if !known.value.is_string() || validator.is_valid(&known.value) {
            continue;
        }
        cx.report(
            Diagnostic::new(
                Code::M314,
                known.span.unwrap_or(span),
                format!(
                    "{} is not text in `format: {wanted}`, which `{}` takes; a deal that writes it is rejected",
                    known.value, field.display
                ),
                format!("not `format: {wanted}`"),
            )
            .with_optional_label(declared(cx, field), format!("`format: {wanted}` is declared here"))
            .with_help(format!("write text in `format: {wanted}`")),
        );
    }
}

fn check_ty(
    cx: &mut Context<'_>,
    span: Span,
    text: &str,
    ty: &Ty,
    wanted: &str,
    field: &Field<'_>,
) {
    if !ty.alternatives.is_empty() {
        for alternative in &ty.alternatives {
            check_ty(
                cx,
                alternative.span,
                &alternative.text,
                &alternative.ty,
                wanted,
                field,
            );
        }
        return;
    }
    if !ty.kinds.intersects(Kinds::STRING) {
        return;
    }
    if let Some(values) = &ty.values {
        known_values(cx, span, values, wanted, field);
        return;
    }
    let has = ty.schema.as_ref().and_then(|flat| flat.format.as_deref());
    if has == Some(wanted) {
        return;
    }
    let what = match has {
        Some(format) => format!("text in `format: {format}`"),
        None => "text of any form".to_string(),
    };
    let help = match wanted {
        "date" => format!("read it as a date: `{} = {text} | date`", field.display),
        "date-time" => format!(
            "read it as a date-time: `{} = {text} | datetime`",
            field.display
        ),
        _ => format!(
            "no transform converts text into `format: {wanted}`: write a source field whose schema declares `format: {wanted}`, or require the form at the trigger stage with `{text} matches \"...\"`"
        ),
    };
    cx.report(
        Diagnostic::new(
            Code::M314,
            span,
            format!(
                "`{}` takes only text in `format: {wanted}`, but this value is {what}; deals whose text has another form are rejected",
                field.display
            ),
            format!("may not be `format: {wanted}`"),
        )
        .with_optional_label(declared(cx, field), format!("`format: {wanted}` is declared here"))
        .with_help(help),
    );
}
