//! Whether a value fits the field it is written to: kinds (M304), enumerations (M305, M312),
//! constraints on literals (M306), and conversions that lose data (M307).

use serde_json::Value;

use super::bounds;
use super::calls::conversion_hint;
use super::context::Context;
use super::exprs::input_description;
use super::formats;
use super::labels;
use super::suggest;
use super::types::{ExprInfo, Ty};
use crate::diag::{Code, Diagnostic};
use crate::schema::Flat;
use crate::source::Span;
use crate::syntax::ast::{Expr, ExprKind, LitKind, Literal};
use crate::transforms::build_regex;
use crate::value::{Kinds, json_equal};
use std::collections::HashSet;

/// A write being checked: the field's display name, its schema, and its parent object (to find
/// where it is declared, only when a diagnostic needs it: locating is a scan of the schema file).
pub(crate) struct Field<'a> {
    pub display: &'a str,
    pub flat: &'a Flat,
    pub parent: Option<&'a Flat>,
    pub name: &'a str,
}

/// Where the field is declared in its schema file.
pub(crate) fn declared(cx: &Context<'_>, field: &Field<'_>) -> Option<Span> {
    field
        .parent
        .and_then(|parent| cx.property_span(parent, field.name))
}

/// Checks that `info` (the value of `value`) fits `field`.
pub(crate) fn check(
    cx: &mut Context<'_>,
    value: &Expr,
    info: &ExprInfo,
    field: &Field<'_>,
    proven: Option<&HashSet<String>>,
) {
    let kinds = info.ty.kinds;
    let target = field.flat.kinds;
    if !kinds_fit(cx, value, info, field) {
        return;
    }
    formats::check(cx, value, info, field);
    if let Some(proven) = proven {
        bounds::check(cx, value, info, field, proven);
    }
    if kinds.contains(Kinds::FRAC) && target.contains(Kinds::INT) && !target.contains(Kinds::FRAC) {
        cx.report(lossy(
            value,
            field,
            declared(cx, field),
            "a fractional number is written into an integer field, which refuses it (a deal with a fraction is rejected; nothing is rounded unless you say so)",
            "round(0)",
        ));
    }
    if kinds.intersects(Kinds::DATETIME)
        && target.intersects(Kinds::STRING)
        && field.flat.format.as_deref() == Some("date")
    {
        cx.report(lossy(
            value,
            field,
            declared(cx, field),
            "a date-time is written into a date field; the time of day is dropped",
            "date",
        ));
    }
    if let Some(limit) = field.flat.max_length
        && kinds.intersects(Kinds::STRING)
        && info.ty.constant.is_none()
        && info.ty.max_length.is_none_or(|len| len > limit)
    {
        let help_call = format!("truncate({limit})");
        cx.report(lossy(
                value,
                field,
                declared(cx, field),
                &format!("values longer than {limit} characters break the field's maxLength and the deal is rejected"),
                &help_call,
            ));
    }
    if let Some(limit) = field.flat.min_length
        && limit > 0
        && kinds.intersects(Kinds::STRING)
        && info.ty.constant.is_none()
        && info.ty.values.is_none()
        && info.ty.alternatives.is_empty()
        && info.ty.min_length < limit
    {
        cx.report(too_short(value, field, declared(cx, field), limit));
    }
    for literal in info.ty.literals.clone() {
        check_constant(
            cx,
            value,
            &literal.value,
            literal.span.unwrap_or(value.span),
            field,
        );
    }
    if let Some(values) = &info.ty.values {
        for known in values.clone() {
            if !info.ty.literals.contains(&known) {
                check_enum_member(cx, value, &known.value, known.span, field);
            }
        }
    } else if field.flat.non_null_enum().is_some() && kinds.intersects(Kinds::STRING) {
        let allowed = enum_list(field.flat);
        cx.report(
                Diagnostic::new(
                    Code::M312,
                    value.span,
                    format!("`{}` accepts only {allowed}, but this value is not checked against them", field.display),
                    "any text may arrive here",
                )
                .with_optional_label(declared(cx, field), "the values are listed here")
                .with_help("map the source values with a table (`| lookup(NAME)`), so that check can verify every value"),
            );
    }
}

/// Reports M304 when the kinds cannot fit; returns whether they can. Every alternative of a
/// `??` is checked on its own: any of them may be the one written.
fn kinds_fit(cx: &mut Context<'_>, value: &Expr, info: &ExprInfo, field: &Field<'_>) -> bool {
    let literal = match &value.kind {
        ExprKind::Literal(Literal {
            kind: LitKind::Str(text),
            ..
        }) => Some(text.as_str()),
        _ => None,
    };
    let written = Written {
        span: value.span,
        text: input_description(value),
        literal,
        alternative: false,
    };
    ty_fits(cx, &written, &info.ty, field)
}

/// A value written into a field, as the checker names it in diagnostics.
struct Written<'a> {
    span: Span,
    text: String,
    literal: Option<&'a str>,
    /// True for one alternative of a `??` (its help converts the alternative, not the rule).
    alternative: bool,
}

fn ty_fits(cx: &mut Context<'_>, written: &Written<'_>, ty: &Ty, field: &Field<'_>) -> bool {
    if !ty.alternatives.is_empty() {
        let mut all = true;
        for alternative in &ty.alternatives {
            let each = Written {
                span: alternative.span,
                text: alternative.text.clone(),
                literal: None,
                alternative: true,
            };
            all &= ty_fits(cx, &each, &alternative.ty, field);
        }
        return all;
    }
    let kinds = ty.kinds;
    let target = field.flat.kinds;
    let mut accepted = target.or(Kinds::NULL);
    if target.intersects(Kinds::STRING) {
        accepted = accepted.or(Kinds::DATES);
    }
    if target.intersects(Kinds::INT) {
        accepted = accepted.or(Kinds::FRAC);
    }
    if kinds.within(accepted) || kinds.contains(Kinds::JSON) {
        if kinds.intersects(Kinds::DATES)
            && !target.intersects(Kinds::DATES)
            && !kinds.intersects(target)
        {
            return iso_date_fits_pattern(cx, written, field);
        }
        return true;
    }
    let labels = labels::of(cx, field.flat);
    let source_format = ty.schema.as_ref().and_then(|flat| flat.format.as_deref());
    let help = match (
        written.literal,
        labels,
        conversion_for(kinds, source_format, target),
    ) {
        (Some(text), Some(labels), _) => labels::unknown_written(&labels, text),
        (_, _, Some(hint)) if written.alternative => {
            format!("convert this alternative: `{} | {hint}`", written.text)
        }
        (_, _, Some(hint)) => format!(
            "convert it: `{} = {} | {hint}`",
            field.display, written.text
        ),
        (_, _, None) => format!(
            "write {} into `{}`",
            target.without(Kinds::NULL).a(),
            field.display
        ),
    };
    let stray = kinds.without(accepted);
    let label = if stray == kinds.without(Kinds::NULL) {
        format!("this is {}", kinds.a())
    } else {
        format!("this may be {}", stray.a())
    };
    cx.report(
        Diagnostic::new(
            Code::M304,
            written.span,
            format!(
                "`{}` is {}, but this value is {}",
                field.display,
                target.without(Kinds::NULL).a(),
                kinds.a()
            ),
            label,
        )
        .with_optional_label(
            declared(cx, field),
            format!("declared as {} here", target.without(Kinds::NULL).a()),
        )
        .with_help(help),
    );
    false
}

/// The conversion to propose from a value of `kinds` (a string in `format`, when it has one)
/// into a field of `target` kinds: a date string into an integer is `date | unix`, not
/// `integer`, which would fail on every deal.
pub(crate) fn conversion_for(kinds: Kinds, format: Option<&str>, target: Kinds) -> Option<String> {
    let dated = matches!(format, Some("date" | "date-time")) && kinds.intersects(Kinds::STRING);
    if dated && target.intersects(Kinds::INT) && !target.intersects(Kinds::STRING) {
        return Some("date | unix".to_string());
    }
    if dated && target.intersects(Kinds::NUMBER) && !target.intersects(Kinds::STRING) {
        return Some("date | unix".to_string());
    }
    conversion_hint(kinds, target).map(str::to_string)
}

/// Dates are written as ISO text; a string field with a pattern may refuse that.
fn iso_date_fits_pattern(cx: &mut Context<'_>, written: &Written<'_>, field: &Field<'_>) -> bool {
    let sample = "2025-03-14";
    for pattern in &field.flat.patterns {
        if let Ok(regex) = build_regex(pattern)
            && !regex.is_match(sample)
        {
            cx.report(
                    Diagnostic::new(
                        Code::M304,
                        written.span,
                        format!("a date is written as ISO text (\"{sample}\"), which breaks the pattern {pattern:?} of `{}`", field.display),
                        "a date",
                    )
                    .with_optional_label(declared(cx, field), "the pattern is declared here")
                    .with_help(format!("write the form the field wants, e.g. Unix seconds as text: `{} | unix | string`", written.text)),
                );
            return false;
        }
    }
    true
}

fn check_constant(
    cx: &mut Context<'_>,
    value: &Expr,
    constant: &Value,
    at: Span,
    field: &Field<'_>,
) {
    if constant.is_null() {
        return;
    }
    check_enum_member(cx, value, constant, Some(at), field);
    let flat = field.flat;
    let mut broken = Vec::new();
    if let Some(text) = constant.as_str() {
        let length = text.chars().count() as u64;
        if flat.max_length.is_some_and(|m| length > m) {
            broken.push(format!(
                "it is {length} characters, more than maxLength {}",
                flat.max_length.unwrap_or(0)
            ));
        }
        if flat.min_length.is_some_and(|m| length < m) {
            broken.push(format!(
                "it is {length} characters, fewer than minLength {}",
                flat.min_length.unwrap_or(0)
            ));
        }
        for pattern in &flat.patterns {
            if build_regex(pattern).is_ok_and(|r| !r.is_match(text)) {
                broken.push(format!("it does not match the pattern {pattern:?}"));
            }
        }
    }
    if let Some(number) = constant.as_f64() {
        if let Some((min, exclusive)) = flat.minimum
            && (number < min || (exclusive && number == min))
        {
            broken.push(format!("it is below the minimum {min}"));
        }
        if let Some((max, exclusive)) = flat.maximum
            && (number > max || (exclusive && number == max))
        {
            broken.push(format!("it is above the maximum {max}"));
        }
    }
    if !broken.is_empty() {
        cx.report(
            Diagnostic::new(
                Code::M306,
                at,
                format!(
                    "{constant} cannot be written into `{}`: {}",
                    field.display,
                    broken.join("; ")
                ),
                "breaks the field's constraints",
            )
            .with_optional_label(declared(cx, field), "the field is declared here")
            .with_help("write a value the PSA schema accepts"),
        );
    }
}

fn check_enum_member(
    cx: &mut Context<'_>,
    value: &Expr,
    member: &Value,
    span: Option<Span>,
    field: &Field<'_>,
) {
    let Some(allowed) = field.flat.non_null_enum() else {
        return;
    };
    if member.is_null() || allowed.iter().any(|a| json_equal(a, member)) {
        return;
    }
    let labels = labels::of(cx, field.flat);
    let help = match (labels::unresolved_hint(labels.as_ref(), member), &labels) {
        (Some(hint), _) => hint,
        // A literal written whole is resolved when it is a label: this one is neither.
        (None, Some(labels))
            if matches!(value.kind, ExprKind::Literal(_)) && member.is_string() =>
        {
            labels::unknown_written(labels, member.as_str().unwrap_or_default())
        }
        _ => {
            let strings: Vec<&str> = allowed.iter().filter_map(|v| v.as_str()).collect();
            let close = member
                .as_str()
                .and_then(|m| suggest::closest(m, strings.iter().copied()));
            match close {
                Some(close) => format!(
                    "did you mean \"{close}\"? `{}` accepts {}",
                    field.display,
                    enum_list(field.flat)
                ),
                None => format!("`{}` accepts {}", field.display, enum_list(field.flat)),
            }
        }
    };
    let at = span.unwrap_or(value.span);
    let mut diagnostic = Diagnostic::new(
        Code::M305,
        at,
        format!("{member} is not a value `{}` accepts", field.display),
        "not in the field's list",
    );
    if at != value.span {
        diagnostic =
            diagnostic.with_label(value.span, format!("written into `{}` here", field.display));
    }
    cx.report(
        diagnostic
            .with_optional_label(declared(cx, field), "the values are listed here")
            .with_help(help),
    );
}

fn lossy(
    value: &Expr,
    field: &Field<'_>,
    declared: Option<Span>,
    what: &str,
    call: &str,
) -> Diagnostic {
    Diagnostic::new(
        Code::M307,
        value.span,
        format!("lossy write into `{}`: {what}", field.display),
        "data may be lost here",
    )
    .with_optional_label(declared, "the field is declared here")
    .with_help(format!(
        "make it explicit: `{} = {} | {call}`",
        field.display,
        input_description(value)
    ))
}

/// M320: text that may be shorter than the field's `minLength` (a name of only spaces, after
/// `collapse_whitespace`, is `""`).
fn too_short(value: &Expr, field: &Field<'_>, declared: Option<Span>, limit: u64) -> Diagnostic {
    let text = input_description(value);
    let help = if limit == 1 {
        format!(
            "require it where the deal is handed off: `{text}` in the `require at stage` block (a rule on the value as written proves it is not empty)"
        )
    } else {
        format!(
            "`{}` takes at least {limit} characters: check the length with a `require` rule such as `{text} matches \"^.{{{limit},}}$\"`, or write a longer value",
            field.display
        )
    };
    Diagnostic::new(
        Code::M320,
        value.span,
        format!(
            "`{}` needs at least {limit} character{}, but this text may be shorter (empty, or only spaces trimmed away); such deals are rejected",
            field.display,
            if limit == 1 { "" } else { "s" }
        ),
        "may be too short",
    )
    .with_optional_label(declared, "the minimum length is declared here")
    .with_help(help)
}

fn enum_list(flat: &Flat) -> String {
    flat.non_null_enum()
        .unwrap_or_default()
        .iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
