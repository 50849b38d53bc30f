//! Transform calls in a pipeline: the name (M401), the arguments (M402, M107 for regexes, M404
//! for tables), the input kind (M403), and what the call produces (its type after the step).

use std::rc::Rc;

use super::context::Context;
use super::exprs::{Env, union_ty};
use super::range::Range;
use super::suggest;
use super::table_use;
use super::types::{ExprInfo, KnownValue, Ty};
use crate::diag::{Code, Diagnostic};
use crate::schema::Flat;
use crate::syntax::ast::{Arg, Call, LitKind};
use crate::transforms::registry::{self, Output, ParamKind, TransformDecl};
use crate::transforms::{ArgValue, TRANSFORMS, build_regex, dates};
use crate::value::Kinds;

impl Env<'_> {
    pub(crate) fn find_transform(
        cx: &mut Context<'_>,
        call: &Call,
    ) -> Option<&'static TransformDecl> {
        if let Some(decl) = registry::find(&call.name.name) {
            return Some(decl);
        }
        let names = TRANSFORMS.iter().map(|t| t.name);
        let help = match suggest::closest(&call.name.name, names) {
            Some(close) => format!("did you mean `{close}`?"),
            None => format!(
                "the transforms are: {}",
                TRANSFORMS
                    .iter()
                    .map(|t| t.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        cx.report(
            Diagnostic::new(
                Code::M401,
                call.name.span,
                format!("unknown transform `{}`", call.name.name),
                "no transform has this name",
            )
            .with_help(help),
        );
        None
    }

    pub(crate) fn transform_args(
        &mut self,
        cx: &mut Context<'_>,
        decl: &TransformDecl,
        call: &Call,
    ) -> Option<Vec<ArgValue>> {
        let given = call.args.len();
        if given < decl.required_params() || given > decl.params.len() {
            let expected = match (decl.required_params(), decl.params.len()) {
                (0, 0) => "no arguments".to_string(),
                (a, b) if a == b => format!("{a} argument{}", if a == 1 { "" } else { "s" }),
                (a, b) => format!("{a} to {b} arguments"),
            };
            cx.report(
                Diagnostic::new(
                    Code::M402,
                    call.span,
                    format!(
                        "`{}` takes {expected}, but {given} {} given",
                        decl.name,
                        if given == 1 { "is" } else { "are" }
                    ),
                    "wrong number of arguments",
                )
                .with_help(format!("write it as `{}`", decl.signature())),
            );
            return None;
        }
        let mut values = Vec::with_capacity(given);
        let mut ok = true;
        for (param, arg) in decl.params.iter().zip(&call.args) {
            match self.transform_arg(cx, decl, param.kind, arg) {
                Some(value) => values.push(value),
                None => ok = false,
            }
        }
        ok.then_some(values)
    }

    fn transform_arg(
        &mut self,
        cx: &mut Context<'_>,
        decl: &TransformDecl,
        kind: ParamKind,
        arg: &Arg,
    ) -> Option<ArgValue> {
        let bad = |cx: &mut Context<'_>, why: String| {
            cx.report(
                Diagnostic::new(
                    Code::M402,
                    arg.span(),
                    format!("`{}` needs {} here", decl.name, kind.describe()),
                    why,
                )
                .with_help(format!("write it as `{}`", decl.signature())),
            );
            None
        };
        let literal = match arg {
            Arg::Name(name) if kind == ParamKind::Table => {
                return table_use::table_arg(cx, self.tables, self.used, name).map(ArgValue::Table);
            }
            Arg::Name(name) if kind == ParamKind::Value => {
                return bad(
                    cx,
                    format!("`{}` is neither a field nor a named value", name.name),
                );
            }
            Arg::Name(name) => {
                return bad(cx, format!("`{}` is a name, not a literal", name.name));
            }
            Arg::Value(value) => {
                return bad(
                    cx,
                    format!(
                        "`{}` is a field; only `default` takes one",
                        super::exprs::input_description(value)
                    ),
                );
            }
            Arg::Literal(literal) if kind == ParamKind::Table => {
                if let LitKind::Str(name) = &literal.kind {
                    table_use::mark_used(self.tables, self.used, name);
                }
                return bad(
                    cx,
                    format!(
                        "{} is a literal; write the table's name without quotes",
                        literal.kind.display()
                    ),
                );
            }
            Arg::Literal(literal) => literal,
        };
        let value = literal.kind.to_json();
        match (kind, &literal.kind) {
            (ParamKind::Int { min, max }, LitKind::Num(n)) => match n.as_i64() {
                Some(i) if (min..=max).contains(&i) => Some(ArgValue::Json(value)),
                _ => bad(cx, format!("must be a whole number from {min} to {max}")),
            },
            (ParamKind::Int { .. }, _) => bad(cx, "not a whole number".to_string()),
            (ParamKind::Str, LitKind::Str(_)) | (ParamKind::Literal | ParamKind::Value, _) => {
                Some(ArgValue::Json(value))
            }
            (ParamKind::Regex, LitKind::Str(pattern)) => match build_regex(pattern) {
                Ok(_) => Some(ArgValue::Json(value)),
                Err(reason) => {
                    cx.report(
                        Diagnostic::new(Code::M107, literal.span, "invalid regular expression", super::conds::regex_reason(&reason))
                            .with_help("patterns use the `regex` crate's syntax (no look-around or back-references); escape `\\` as `\\\\` in mapping strings"),
                    );
                    None
                }
            },
            (ParamKind::DateFormat, LitKind::Str(format)) if dates::is_valid_format(format) => {
                Some(ArgValue::Json(value))
            }
            (ParamKind::DateFormat, LitKind::Str(_)) => {
                bad(cx, "not a valid strftime format".to_string())
            }
            (ParamKind::OneOf { words, .. }, LitKind::Str(word))
                if words.contains(&word.as_str()) =>
            {
                Some(ArgValue::Json(value))
            }
            (ParamKind::OneOf { words, .. }, _) => bad(
                cx,
                format!(
                    "{} is not one of {}",
                    literal.kind.display(),
                    words
                        .iter()
                        .map(|w| format!("\"{w}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
            _ => bad(
                cx,
                format!("{} is the wrong kind of value", literal.kind.display()),
            ),
        }
    }

    pub(crate) fn check_transform_input(
        cx: &mut Context<'_>,
        decl: &TransformDecl,
        call: &Call,
        info: &ExprInfo,
        described: &str,
    ) -> Option<()> {
        let kinds = info.ty.kinds.without(Kinds::NULL);
        dated_text_as_number(cx, decl, call, info, described)?;
        if decl.input.contains(Kinds::ANY) || kinds.intersects(decl.input) || kinds.is_none() {
            return Some(());
        }
        let already = matches!(decl.output, Output::Fixed(out) if kinds.within(out));
        let help = match conversion_hint(kinds, decl.input) {
            _ if already => format!(
                "`{described}` is already {}: remove `| {}`",
                kinds.a(),
                call_text(call)
            ),
            Some(hint) => format!(
                "convert it first: `{described} | {hint} | {}`",
                call_text(call)
            ),
            None => format!("`{}` takes {}", decl.name, decl.input.a()),
        };
        cx.report(
            Diagnostic::new(
                Code::M403,
                call.name.span,
                format!(
                    "`{}` takes {}, but `{described}` is {}",
                    decl.name,
                    decl.input.a(),
                    kinds.a()
                ),
                format!("cannot take {}", kinds.a()),
            )
            .with_help(help),
        );
        None
    }

    pub(crate) fn after_transform(
        &self,
        cx: &Context<'_>,
        decl: &TransformDecl,
        call: &Call,
        args: &[ArgValue],
        info: ExprInfo,
    ) -> ExprInfo {
        let partial = !info.ty.kinds.without(Kinds::NULL).within(decl.input);
        let mut next = ExprInfo {
            ty: Ty::of(Kinds::ANY),
            may_be_absent: info.may_be_absent,
            may_fail: info.may_fail || decl.can_fail || partial,
            reads: info.reads,
        };
        next.ty = match decl.output {
            Output::Fixed(kinds) => Ty::of(kinds),
            Output::Input => Ty::of(
                info.ty
                    .kinds
                    .and(decl.input)
                    .or(info.ty.kinds.and(Kinds::NULL)),
            ),
            Output::Rounded => match args.first() {
                Some(ArgValue::Json(places)) if places.as_u64() == Some(0) => Ty::of(Kinds::INT),
                _ => Ty::of(Kinds::NUMBER),
            },
            Output::Element => {
                next.may_be_absent = true;
                Self::element_ty(cx, &info.ty)
            }
            Output::TableValue => match args.first() {
                Some(ArgValue::Table(index)) => self.tables[*index].value_ty(),
                _ => Ty::of(Kinds::ANY),
            },
            Output::InputOrArgument => {
                next.may_be_absent = false;
                next.may_fail = false;
                match args.first() {
                    Some(ArgValue::Json(value)) => {
                        union_ty(&info.ty, &Ty::literal(value, call.args[0].span()))
                    }
                    _ => info.ty.clone(),
                }
            }
        };
        if matches!(decl.name, "number" | "integer") {
            next.ty.values = numeric_values(info.ty.values.as_deref());
            next.ty.range = info.ty.range;
        }
        if decl.name == "round" {
            next.ty.range = info.ty.range.rounded();
        }
        (next.ty.min_length, next.ty.nonblank) = text_length_after(decl.name, args, &info.ty);
        next.ty.max_length = match decl.name {
            "truncate" => args.first().and_then(|a| match a {
                ArgValue::Json(v) => v.as_u64(),
                ArgValue::Table(_) => None,
            }),
            "trim" | "lower" | "upper" | "collapse_whitespace" | "company_name" => {
                info.ty.max_length
            }
            _ => next.ty.max_length,
        };
        next
    }

    fn element_ty(cx: &Context<'_>, ty: &Ty) -> Ty {
        let items: Option<Rc<Flat>> = ty
            .schema
            .as_ref()
            .and_then(|flat| flat.items.as_ref())
            .map(|dnf| cx.flattener.dnf(&cx.schemas, dnf));
        match items {
            Some(flat) => Ty {
                kinds: flat.kinds.without(Kinds::NULL),
                values: None,
                max_length: flat.max_length,
                range: Range::of_schema(flat.minimum, flat.maximum),
                min_length: super::exprs::schema_min_length(&flat),
                nonblank: false,
                schema: Some(flat),
                constant: None,
                literals: Vec::new(),
                alternatives: Vec::new(),
                affine: None,
            },
            None if ty.kinds == Kinds::ARRAY => Ty::of(Kinds::STRING),
            None => Ty::of(Kinds::ANY),
        }
    }
}

/// What is known of the length of a transform's text output: the fewest characters, and
/// whether a character that is not whitespace is always left.
fn text_length_after(name: &str, args: &[ArgValue], input: &Ty) -> (u64, bool) {
    let kept = (input.min_length, input.nonblank);
    let at_least_one = |nonblank: bool| (u64::from(nonblank), nonblank);
    match name {
        "nonblank" => (1, true),
        "trim" | "collapse_whitespace" => at_least_one(input.nonblank),
        "lower" | "upper" => kept,
        "truncate" => match args.first() {
            Some(ArgValue::Json(length)) => {
                (input.min_length.min(length.as_u64().unwrap_or(0)), false)
            }
            _ => (0, false),
        },
        "string" if !input.kinds.intersects(Kinds::STRING) => (1, true),
        "string" | "default" => kept,
        "format_date" => match args.first() {
            Some(ArgValue::Json(format)) => at_least_one(
                format
                    .as_str()
                    .is_some_and(|f| f.chars().any(|c| !c.is_whitespace())),
            ),
            _ => (0, false),
        },
        _ => (0, false),
    }
}

/// The transform that turns `from` into something `to` accepts, if an obvious one exists.
pub(crate) fn conversion_hint(from: Kinds, to: Kinds) -> Option<&'static str> {
    let from_has = |k| from.intersects(k);
    let to_has = |k| to.intersects(k);
    Some(if from_has(Kinds::STRING) && to == Kinds::INT {
        "integer"
    } else if from_has(Kinds::STRING) && to_has(Kinds::NUMBER) && !to_has(Kinds::STRING) {
        "number"
    } else if from_has(Kinds::STRING) && to_has(Kinds::BOOL) && !to_has(Kinds::STRING) {
        "boolean"
    } else if from_has(Kinds::STRING) && to_has(Kinds::DATES) {
        "date"
    } else if from_has(Kinds::DATES) && to_has(Kinds::INT) && !to_has(Kinds::STRING) {
        "unix"
    } else if from_has(Kinds::DATES) && to_has(Kinds::STRING) {
        "format_date(\"%Y-%m-%d\")"
    } else if from_has(Kinds::ARRAY) && to_has(Kinds::STRING) {
        "join(\", \")"
    } else if from_has(Kinds::STRING) && to_has(Kinds::ARRAY) {
        "split(\",\")"
    } else if from_has(Kinds::ARRAY) {
        "first"
    } else if (from_has(Kinds::NUMBER) || from_has(Kinds::BOOL)) && to_has(Kinds::STRING) {
        "string"
    } else {
        return None;
    })
}

/// M403 for `number`, `integer` or `boolean` on text the schema declares a date or date-time:
/// such text never reads as one, so every deal would be rejected. The help reads the date.
fn dated_text_as_number(
    cx: &mut Context<'_>,
    decl: &TransformDecl,
    call: &Call,
    info: &ExprInfo,
    described: &str,
) -> Option<()> {
    let format = info.ty.schema.as_ref().and_then(|f| f.format.as_deref());
    let kinds = info.ty.kinds.without(Kinds::NULL);
    if !matches!(decl.name, "number" | "integer" | "boolean")
        || !matches!(format, Some("date" | "date-time"))
        || !kinds.within(Kinds::STRING)
    {
        return Some(());
    }
    let help = if decl.name == "boolean" {
        format!(
            "a {} is not a yes/no value: test its presence with `{described}` in a condition",
            format.unwrap_or("date")
        )
    } else {
        format!("read the date, then its Unix seconds: `{described} | date | unix`")
    };
    cx.report(
        Diagnostic::new(
            Code::M403,
            call.name.span,
            format!(
                "`{}` cannot read `{described}`: the schema declares it `format: {}`, and such text is never {}",
                decl.name,
                format.unwrap_or("date"),
                if decl.name == "boolean" { "a boolean" } else { "a number" }
            ),
            "fails on every deal",
        )
        .with_help(help),
    );
    None
}

/// The values `number`/`integer` give for a known set of values (a table's), when each reads as
/// a number: the checker then knows the numbers written (bounds, M316).
fn numeric_values(values: Option<&[KnownValue]>) -> Option<Vec<KnownValue>> {
    values?
        .iter()
        .map(|known| {
            let number = match &known.value {
                serde_json::Value::Number(n) => Some(n.clone()),
                serde_json::Value::String(text) => text
                    .trim()
                    .parse::<i64>()
                    .ok()
                    .map(serde_json::Number::from),
                _ => None,
            }?;
            Some(KnownValue {
                value: serde_json::Value::Number(number),
                span: known.span,
            })
        })
        .collect()
}

/// A call as written: `round(2)`, `lookup(billing)`.
pub(crate) fn call_text(call: &Call) -> String {
    if call.args.is_empty() {
        return call.name.name.clone();
    }
    let args: Vec<String> = call
        .args
        .iter()
        .map(|arg| match arg {
            Arg::Literal(literal) => literal.kind.display(),
            Arg::Name(name) => name.name.clone(),
            Arg::Value(value) => super::exprs::input_description(value),
        })
        .collect();
    format!("{}({})", call.name.name, args.join(", "))
}
