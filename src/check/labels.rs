//! Labels where people think in labels: a literal that is not one of a field's values but the
//! label its schema gives one (`"Closed won"` for `"closedwon"`, `"Implementation"` for `4`) is
//! resolved here to the value, so that the program holds ids only and `apply` runs exactly what
//! the same mapping written with ids would run.
//!
//! Labels are read with [`ValueLabels`] (ids win; labels match exactly). They are accepted where
//! a literal meets a field whose schema lists its values: compared with a path (`==`, `!=`,
//! `in [...]`, the trigger among them), a `require at stage` name, and a literal written whole
//! into an enumerated target field (a `map` value, a `select` branch). A label several values
//! share means all of them in a comparison (M212, a warning that names the ids) and is an error
//! in a write (M313), which takes one value. A literal that is a value and also another value's
//! label means the value (M213). Tables hold ids: a table key or value that is a label gets the
//! id named in the help of its M406 or M305.

use serde_json::Value;

use super::context::Context;
use super::exprs::input_description;
use super::suggest;
use super::types::ExprInfo;
use crate::diag::{Code, Diagnostic};
use crate::schema::labels::{Named, ValueLabels};
use crate::schema::{Flat, import::label_key};
use crate::source::Span;
use crate::syntax::ast::{CompareOp, Expr, ExprKind, LitKind, Literal};

/// The labelled values of a field, when its schema lists values and labels some of them.
pub(crate) fn of(cx: &Context<'_>, flat: &Flat) -> Option<ValueLabels> {
    ValueLabels::of(&cx.schemas, flat).filter(ValueLabels::has_labels)
}

/// How a literal meets the field it names a value of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Comparison {
    /// `FIELD == "label"`.
    Eq,
    /// `FIELD != "label"`.
    Ne,
    /// `FIELD in [..., "label", ...]`.
    In,
}

impl Comparison {
    /// The comparison of an equality operator.
    pub fn of(op: CompareOp) -> Comparison {
        if op == CompareOp::Ne {
            Comparison::Ne
        } else {
            Comparison::Eq
        }
    }
}

/// A literal compared with `subject`: the values it names when it is a label of the subject's
/// field (M212 when several), `None` when it stands as written (an id, M213 when it is also a
/// label; or neither, which the value checks report).
pub(crate) fn compared(
    cx: &mut Context<'_>,
    subject: &Expr,
    info: &ExprInfo,
    literal: &Literal,
    how: Comparison,
    is_stage: bool,
) -> Option<Vec<Value>> {
    if !matches!(subject.kind, ExprKind::Path(_)) {
        return None;
    }
    let LitKind::Str(text) = &literal.kind else {
        return None;
    };
    let labels = of(cx, info.ty.schema.as_deref()?)?;
    let described = input_description(subject);
    let noun = Noun::new(is_stage);
    match labels.name(&Value::String(text.clone())) {
        Named::Label(ids) => {
            if ids.len() > 1 {
                cx.report(several_compared(
                    &labels,
                    text,
                    &ids,
                    literal.span,
                    &described,
                    how,
                    noun,
                ));
            }
            Some(ids)
        }
        Named::Value { shadowed } if !shadowed.is_empty() => {
            cx.report(shadowing(
                &labels,
                text,
                &shadowed,
                literal.span,
                &described,
                noun,
            ));
            None
        }
        _ => None,
    }
}

/// A literal written whole into a target field: the value it names when it is a label of the
/// field (`Ok(Some)`), `Ok(None)` when it stands as written, `Err(())` when the label names
/// several values (M313, reported).
pub(crate) fn written(
    cx: &mut Context<'_>,
    value: &Expr,
    field: &Flat,
    display: &str,
) -> Result<Option<Value>, ()> {
    let ExprKind::Literal(Literal {
        kind: LitKind::Str(text),
        span,
    }) = &value.kind
    else {
        return Ok(None);
    };
    let Some(labels) = of(cx, field) else {
        return Ok(None);
    };
    match labels.name(&Value::String(text.clone())) {
        Named::Label(ids) => match ids.as_slice() {
            [one] => Ok(Some(one.clone())),
            _ => {
                cx.report(several_written(&labels, text, &ids, *span, display));
                Err(())
            }
        },
        Named::Value { shadowed } if !shadowed.is_empty() => {
            let noun = Noun::new(false);
            cx.report(shadowing(&labels, text, &shadowed, *span, display, noun));
            Ok(None)
        }
        _ => Ok(None),
    }
}

/// A `require at stage` name that is a label of stages.
pub(crate) struct LabelledStages {
    /// The stages it names, as stage names.
    pub ids: Vec<String>,
    /// Them in words, with their pipelines.
    pub described: String,
}

/// The stages a `require at stage` name names, when it is a label of the stage field's values;
/// M213 when it is a stage and also another stage's label.
pub(crate) fn stage_block(
    cx: &mut Context<'_>,
    stage: &str,
    span: Span,
    field: &Flat,
    display: &str,
) -> Option<LabelledStages> {
    let labels = of(cx, field)?;
    match labels.name(&Value::String(stage.to_string())) {
        Named::Label(ids) => Some(LabelledStages {
            ids: ids.iter().map(label_key).collect(),
            described: described_values(&labels, &ids),
        }),
        Named::Value { shadowed } if !shadowed.is_empty() => {
            let noun = Noun::new(true);
            cx.report(shadowing(&labels, stage, &shadowed, span, display, noun));
            None
        }
        _ => None,
    }
}

/// M212 for a `require at stage` label that names stages the trigger never fires at, next to
/// stages it does: the block's rules are checked at the trigger's stages only.
pub(crate) fn stage_block_beyond_trigger(
    cx: &mut Context<'_>,
    stage: &str,
    span: Span,
    named: &LabelledStages,
    trigger_stages: &[String],
    display: &str,
) {
    let (fired, never): (Vec<&String>, Vec<&String>) =
        named.ids.iter().partition(|id| trigger_stages.contains(id));
    if fired.is_empty() || never.is_empty() {
        return;
    }
    let listed = |list: &[&String]| {
        list.iter()
            .map(|s| quoted(s))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let help = match fired.as_slice() {
        [one] => format!(
            "did you mean `{one}`? the trigger fires at {}, so the rules are checked there only",
            listed(&fired)
        ),
        _ => format!(
            "the trigger fires at {} only; add {} to the trigger, or write the stage the rules are for",
            listed(&fired),
            listed(&never)
        ),
    };
    cx.report(
        Diagnostic::new(
            Code::M212,
            span,
            format!(
                "the label {} names {} stages of `{display}`: {}",
                quoted(stage),
                named.ids.len(),
                named.described
            ),
            format!("the trigger never fires at {}", listed(&never)),
        )
        .with_help(help),
    );
}

/// The closest value or label to `text` among a field's, for a "did you mean".
pub(crate) fn closest<'a>(
    labels: Option<&'a ValueLabels>,
    values: &[&'a str],
    text: &str,
) -> Option<&'a str> {
    let mut candidates: Vec<&str> = values.to_vec();
    if let Some(labels) = labels {
        candidates.extend(labels.labels());
    }
    suggest::closest(text, candidates)
}

/// Help for a string literal written whole into (or compared with) a field with labels that is
/// neither one of its values nor a label of one: an inactive entry's label, a close label, or
/// the values with their labels.
pub(crate) fn unknown_written(labels: &ValueLabels, text: &str) -> String {
    let active = || {
        let listed: Vec<String> = labels
            .values
            .iter()
            .map(|v| match &v.label {
                Some(label) => format!("{} ({})", v.value, quoted(label)),
                None => v.value.to_string(),
            })
            .collect();
        listed.join(", ")
    };
    if let Some((id, _)) = labels.inactive_labelled(text) {
        return format!(
            "{} is the label of {id}, which the vendor lists as inactive, so it is not a value \
             of the field: write an active one (or its label): {}",
            quoted(text),
            active()
        );
    }
    match suggest::closest(text, labels.labels()) {
        Some(close) => format!(
            "did you mean {}? the values are {}",
            quoted(close),
            active()
        ),
        None => format!("write one of the values or its label: {}", active()),
    }
}

/// When `literal` is the label of values of a field where labels are not resolved (a table's
/// keys and values, a `??` fallback): what to write instead.
pub(crate) fn unresolved_hint(labels: Option<&ValueLabels>, literal: &Value) -> Option<String> {
    let Named::Label(ids) = labels?.name(literal) else {
        return None;
    };
    let written: Vec<String> = ids.iter().map(|v| format!("`{v}`")).collect();
    Some(format!(
        "{literal} is the label of {}, but labels are not resolved here (tables hold ids): write {}",
        values_list(&ids),
        written.join(" or ")
    ))
}

/// "stage" or "value", for messages.
#[derive(Debug, Clone, Copy)]
struct Noun {
    one: &'static str,
    many: &'static str,
}

impl Noun {
    fn new(is_stage: bool) -> Noun {
        if is_stage {
            Noun {
                one: "stage",
                many: "stages",
            }
        } else {
            Noun {
                one: "value",
                many: "values",
            }
        }
    }
}

fn several_compared(
    labels: &ValueLabels,
    text: &str,
    ids: &[Value],
    span: Span,
    described: &str,
    how: Comparison,
    noun: Noun,
) -> Diagnostic {
    let values: Vec<String> = ids.iter().map(Value::to_string).collect();
    let explicit = match how {
        Comparison::Eq => format!("`{described} in [{}]`", values.join(", ")),
        Comparison::Ne => {
            let parts: Vec<String> = values
                .iter()
                .map(|v| format!("{described} != {v}"))
                .collect();
            format!("`{}`", parts.join(" and "))
        }
        Comparison::In => format!("`{}` in the list", values.join(", ")),
    };
    let means = match how {
        Comparison::Ne => "means none of them",
        _ => "means each of them",
    };
    Diagnostic::new(
        Code::M212,
        span,
        format!(
            "the label {} names {} {} of `{described}`: {}",
            quoted(text),
            ids.len(),
            noun.many,
            described_values(labels, ids)
        ),
        means,
    )
    .with_help(format!(
        "to mean all of them without a warning, write the ids: {explicit}; to mean one, compare with its id"
    ))
}

fn several_written(
    labels: &ValueLabels,
    text: &str,
    ids: &[Value],
    span: Span,
    display: &str,
) -> Diagnostic {
    let written: Vec<String> = ids.iter().map(|v| format!("`{v}`")).collect();
    Diagnostic::new(
        Code::M313,
        span,
        format!(
            "the label {} names {} values of `{display}`: {}",
            quoted(text),
            ids.len(),
            described_values(labels, ids)
        ),
        "which one?",
    )
    .with_help(format!(
        "a field takes one value: write the id of the one you mean, {}",
        written.join(" or ")
    ))
}

fn shadowing(
    labels: &ValueLabels,
    text: &str,
    shadowed: &[Value],
    span: Span,
    described: &str,
    noun: Noun,
) -> Diagnostic {
    let value = Value::String(text.to_string());
    let own = labels
        .label(&value)
        .map(|l| format!(" (labelled {})", quoted(l)))
        .unwrap_or_default();
    let others: Vec<String> = shadowed.iter().map(|v| format!("`{v}`")).collect();
    Diagnostic::new(
        Code::M213,
        span,
        format!(
            "{value} is a {} of `{described}`{own}, and also the label of {}",
            noun.one,
            described_values(labels, shadowed)
        ),
        format!("means the {} {value}", noun.one),
    )
    .with_help(format!(
        "ids win, so this names the {} {value}; to mean the other, write {}; giving the {} \
         distinct labels in the CRM ends the confusion for people too",
        noun.one,
        others.join(" or "),
        noun.many
    ))
}

/// `"closedwon" (pipeline "default") and "11348547" (pipeline "11348541")`.
fn described_values(labels: &ValueLabels, ids: &[Value]) -> String {
    let described: Vec<String> = ids
        .iter()
        .map(|id| {
            labels
                .entry(id)
                .map_or_else(|| id.to_string(), |entry| entry.describe())
        })
        .collect();
    join_and(&described)
}

/// `a`, `a and b`, `a, b and c`.
fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// `4` or `"closedwon"`, joined with "and".
fn values_list(ids: &[Value]) -> String {
    let shown: Vec<String> = ids.iter().map(Value::to_string).collect();
    join_and(&shown)
}

/// `"text"`, as JSON writes it.
fn quoted(text: &str) -> String {
    Value::String(text.to_string()).to_string()
}
