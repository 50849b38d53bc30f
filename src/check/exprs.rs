//! Typing and compiling expressions: paths, literals, templates, pipelines of transforms, and
//! `??` alternatives. Transform calls are checked against their declarations (M401-M404).

use std::rc::Rc;

use super::Checker;
use super::paths::Allowed;
use super::program::{CExpr, CPart, PathStep, RecordRef};
use super::suggest;
use super::types::{ExprInfo, KnownValue, Ty};
use crate::diag::{Code, Diagnostic};
use crate::schema::Flat;
use crate::syntax::ast::{Arg, Call, Expr, ExprKind, LitKind, Path, TemplatePart};
use crate::transforms::registry::{self, Output, ParamKind, TransformDecl};
use crate::transforms::{ArgValue, Step, TRANSFORMS, build_regex, dates};
use crate::value::Kinds;

/// Which records an expression may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// Source records only (trigger, require).
    Sources,
    /// Source records and target fields already written (map, select).
    Forward,
    /// The target record only (sync back values).
    Back,
}

impl Checker<'_> {
    /// Types and compiles an expression; `None` when it has an error (already reported).
    pub(crate) fn expr(&mut self, expr: &Expr, scope: Scope) -> Option<(CExpr, ExprInfo)> {
        match &expr.kind {
            ExprKind::Path(path) => self.read_path(path, scope),
            ExprKind::Literal(literal) => {
                let value = literal.kind.to_json();
                let info = ExprInfo {
                    ty: Ty::literal(&value, literal.span),
                    may_be_absent: false,
                    may_fail: false,
                    reads: Vec::new(),
                };
                Some((CExpr::Literal(value), info))
            }
            ExprKind::Template(parts) => self.template(parts, scope),
            ExprKind::Pipeline { input, calls } => self.pipeline(input, calls, scope),
            ExprKind::Coalesce(alternatives) => self.coalesce(alternatives, scope),
        }
    }

    fn read_path(&mut self, path: &Path, scope: Scope) -> Option<(CExpr, ExprInfo)> {
        let allowed = match scope {
            Scope::Sources => Allowed::Source,
            Scope::Forward => Allowed::Any,
            Scope::Back => Allowed::Target,
        };
        let resolved = self.resolve_path(path, allowed)?;
        let may_be_absent = if resolved.cpath.record == RecordRef::Target && scope == Scope::Forward
        {
            self.written_before(&resolved.read.steps, path)?
        } else {
            resolved.may_be_absent && !self.is_guaranteed(&resolved.cpath.display)
        };
        let flat = resolved.flat.clone();
        let values = flat.non_null_enum().map(|values| {
            values
                .into_iter()
                .map(|v| KnownValue {
                    value: v.clone(),
                    span: None,
                })
                .collect()
        });
        let kinds = match flat.kinds.without(Kinds::NULL) {
            k if k.is_none() => Kinds::NULL,
            k => k,
        };
        let info = ExprInfo {
            ty: Ty {
                kinds,
                values,
                max_length: flat.max_length,
                schema: Some(flat),
                constant: None,
                literals: Vec::new(),
            },
            may_be_absent,
            may_fail: false,
            reads: vec![resolved.read.clone()],
        };
        Some((CExpr::Path(resolved.cpath), info))
    }

    /// True when a source path (or a path below it) is required at every trigger stage.
    pub(crate) fn is_guaranteed(&self, display: &str) -> bool {
        self.stages.guaranteed.iter().any(|g| {
            g == display
                || (g.starts_with(display)
                    && matches!(g.as_bytes().get(display.len()), Some(b'.' | b'[')))
        })
    }

    /// For a target read in map/select: whether it was written earlier (M311 if not), and
    /// whether the written value may be absent.
    fn written_before(&mut self, steps: &[PathStep], path: &Path) -> Option<bool> {
        let found = self.written.iter().find(|w| {
            w.fields.iter().zip(steps).all(|(a, b)| match b {
                PathStep::Field(name) => a == name,
                _ => true,
            })
        });
        match found {
            Some(written) => Some(written.may_be_absent || written.fields.len() != steps.len()),
            None => {
                self.report(
                    Diagnostic::new(
                        Code::M311,
                        path.span,
                        format!("`{}` is read before any rule writes it", path.display()),
                        "not written yet",
                    )
                    .with_help("rules run in file order: move the map or select that writes this field above this one"),
                );
                None
            }
        }
    }

    fn template(&mut self, parts: &[TemplatePart], scope: Scope) -> Option<(CExpr, ExprInfo)> {
        let mut compiled = Vec::with_capacity(parts.len());
        let mut reads = Vec::new();
        let mut may_fail = false;
        let mut ok = true;
        for part in parts {
            match part {
                TemplatePart::Text(text) => compiled.push(CPart::Text(text.clone())),
                TemplatePart::Expr(expr) => {
                    let Some((cexpr, info)) = self.expr(expr, scope) else {
                        ok = false;
                        continue;
                    };
                    if !info.ty.kinds.intersects(Kinds::SCALAR) {
                        self.report(
                            Diagnostic::new(
                                Code::M304,
                                expr.span,
                                format!("{} cannot be written into text", info.ty.kinds.a()),
                                format!("this is {}", info.ty.kinds.a()),
                            )
                            .with_help("interpolate a single field, or turn a list into text with `| join(\", \")`"),
                        );
                        ok = false;
                    }
                    may_fail |=
                        info.may_fail || !info.ty.kinds.within(Kinds::SCALAR.or(Kinds::NULL));
                    reads.extend(info.reads);
                    compiled.push(CPart::Expr(cexpr));
                }
            }
        }
        ok.then(|| {
            let info = ExprInfo {
                ty: Ty::of(Kinds::STRING),
                may_be_absent: false,
                may_fail,
                reads,
            };
            (CExpr::Template(compiled), info)
        })
    }

    fn coalesce(&mut self, alternatives: &[Expr], scope: Scope) -> Option<(CExpr, ExprInfo)> {
        let mut compiled = Vec::with_capacity(alternatives.len());
        let mut merged: Option<ExprInfo> = None;
        let mut ok = true;
        for alternative in alternatives {
            let Some((cexpr, info)) = self.expr(alternative, scope) else {
                ok = false;
                continue;
            };
            compiled.push(cexpr);
            merged = Some(match merged {
                None => info,
                Some(mut acc) => {
                    acc.ty = union_ty(&acc.ty, &info.ty);
                    acc.may_be_absent = acc.may_be_absent && info.may_be_absent;
                    acc.may_fail |= info.may_fail;
                    acc.reads.extend(info.reads);
                    acc
                }
            });
        }
        if !ok {
            return None;
        }
        merged.map(|info| (CExpr::Coalesce(compiled), info))
    }

    fn pipeline(
        &mut self,
        input: &Expr,
        calls: &[Call],
        scope: Scope,
    ) -> Option<(CExpr, ExprInfo)> {
        let (cinput, mut info) = self.expr(input, scope)?;
        let mut steps = Vec::with_capacity(calls.len());
        let mut names = Vec::with_capacity(calls.len());
        let mut described = input_description(input);
        for call in calls {
            let decl = self.find_transform(call)?;
            let args = self.transform_args(decl, call)?;
            self.check_transform_input(decl, call, &info, &described)?;
            let step = match Step::compile(decl, &args) {
                Ok(step) => step,
                Err(reason) => {
                    self.report(
                        Diagnostic::new(Code::M402, call.span, reason, "cannot compile")
                            .with_help(decl.signature()),
                    );
                    return None;
                }
            };
            if let Step::Lookup(table) = step {
                self.check_lookup_keys(table, call, &info, &described);
            }
            info = self.after_transform(decl, call, &args, info);
            described = format!("{described} | {}", call_text(call));
            names.push(call_text(call));
            steps.push(step);
        }
        Some((
            CExpr::Pipeline {
                input: Box::new(cinput),
                steps,
                names,
            },
            info,
        ))
    }

    fn find_transform(&mut self, call: &Call) -> Option<&'static TransformDecl> {
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
        self.report(
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

    fn transform_args(&mut self, decl: &TransformDecl, call: &Call) -> Option<Vec<ArgValue>> {
        let given = call.args.len();
        if given < decl.required_params() || given > decl.params.len() {
            let expected = match (decl.required_params(), decl.params.len()) {
                (0, 0) => "no arguments".to_string(),
                (a, b) if a == b => format!("{a} argument{}", if a == 1 { "" } else { "s" }),
                (a, b) => format!("{a} to {b} arguments"),
            };
            self.report(
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
            match self.transform_arg(decl, param.kind, arg) {
                Some(value) => values.push(value),
                None => ok = false,
            }
        }
        ok.then_some(values)
    }

    fn transform_arg(
        &mut self,
        decl: &TransformDecl,
        kind: ParamKind,
        arg: &Arg,
    ) -> Option<ArgValue> {
        let bad = |this: &mut Self, why: String| {
            this.report(
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
                return self.table_arg(name).map(ArgValue::Table);
            }
            Arg::Name(name) => {
                return bad(self, format!("`{}` is a name, not a literal", name.name));
            }
            Arg::Literal(literal) if kind == ParamKind::Table => {
                if let LitKind::Str(name) = &literal.kind {
                    self.mark_table_used(name);
                }
                return bad(
                    self,
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
                _ => bad(self, format!("must be a whole number from {min} to {max}")),
            },
            (ParamKind::Int { .. }, _) => bad(self, "not a whole number".to_string()),
            (ParamKind::Str, LitKind::Str(_)) | (ParamKind::Literal, _) => {
                Some(ArgValue::Json(value))
            }
            (ParamKind::Regex, LitKind::Str(pattern)) => match build_regex(pattern) {
                Ok(_) => Some(ArgValue::Json(value)),
                Err(reason) => {
                    self.report(
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
                bad(self, "not a valid strftime format".to_string())
            }
            _ => bad(
                self,
                format!("{} is the wrong kind of value", literal.kind.display()),
            ),
        }
    }

    fn check_transform_input(
        &mut self,
        decl: &TransformDecl,
        call: &Call,
        info: &ExprInfo,
        described: &str,
    ) -> Option<()> {
        let kinds = info.ty.kinds.without(Kinds::NULL);
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
        self.report(
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

    fn after_transform(
        &self,
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
            Output::Rounded => match args.first() {
                Some(ArgValue::Json(places)) if places.as_u64() == Some(0) => Ty::of(Kinds::INT),
                _ => Ty::of(Kinds::NUMBER),
            },
            Output::Element => {
                next.may_be_absent = true;
                self.element_ty(&info.ty)
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

    fn element_ty(&self, ty: &Ty) -> Ty {
        let items: Option<Rc<Flat>> = ty
            .schema
            .as_ref()
            .and_then(|flat| flat.items.as_ref())
            .map(|dnf| self.flattener.dnf(&self.schemas, dnf));
        match items {
            Some(flat) => Ty {
                kinds: flat.kinds.without(Kinds::NULL),
                values: None,
                max_length: flat.max_length,
                schema: Some(flat),
                constant: None,
                literals: Vec::new(),
            },
            None if ty.kinds == Kinds::ARRAY => Ty::of(Kinds::STRING),
            None => Ty::of(Kinds::ANY),
        }
    }
}

/// The union of two types (for `??` and `default`).
pub(crate) fn union_ty(a: &Ty, b: &Ty) -> Ty {
    let values = match (&a.values, &b.values) {
        (Some(x), Some(y)) => {
            let mut all = x.clone();
            all.extend(
                y.iter()
                    .filter(|v| !x.iter().any(|w| w.value == v.value))
                    .cloned(),
            );
            Some(all)
        }
        _ => None,
    };
    Ty {
        kinds: a.kinds.or(b.kinds),
        values,
        schema: None,
        max_length: a.max_length.zip(b.max_length).map(|(x, y)| x.max(y)),
        constant: None,
        literals: a.literals.iter().chain(&b.literals).cloned().collect(),
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
        })
        .collect();
    format!("{}({})", call.name.name, args.join(", "))
}

/// How an expression is named in messages.
pub(crate) fn input_description(expr: &Expr) -> String {
    match &expr.kind {
        ExprKind::Path(path) => path.display(),
        ExprKind::Literal(literal) => literal.kind.display(),
        ExprKind::Pipeline { input, calls } => {
            let mut text = input_description(input);
            for call in calls {
                text.push_str(" | ");
                text.push_str(&call_text(call));
            }
            text
        }
        ExprKind::Template(_) => "the text".to_string(),
        ExprKind::Coalesce(_) => "the value".to_string(),
    }
}
