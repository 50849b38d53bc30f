//! Typing and compiling expressions: paths, literals, templates, pipelines of transforms, and
//! `??` alternatives. Transform calls are checked against their declarations (M401-M404).

use serde_json::Value;

use super::calls::call_text;
use super::context::Context;
use super::paths::{self, Allowed};
use super::program::{CExpr, CPart, PathStep, RecordRef};
use super::range::Range;
use super::records::Record;
use super::stages::{StageFacts, covers};
use super::table_use::{self, TableUse};
use super::tables::TableInfo;
use super::types::{Alternative, ExprInfo, KnownValue, Ty};
use super::writes::Written;
use crate::diag::{Code, Diagnostic};
use crate::source::Span;
use std::rc::Rc;

use super::arith::Operation;
use super::lets;
use crate::syntax::ast::{Arg, Call, Expr, ExprKind, LetDecl, Path, TemplatePart};
use crate::transforms::Step;
use crate::value::Kinds;

/// Which records an expression may read.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Scope<'a> {
    /// Source records only (trigger, require).
    Sources,
    /// Source records and the target fields written so far (map, select).
    Forward(&'a [Written]),
    /// The target record only (sync back values).
    Back,
}

/// What expressions may name: the records, the tables (recording which ones lookups use), and
/// what the trigger and require rules established about stages.
pub(crate) struct Env<'a> {
    /// The declared records.
    pub(super) records: &'a [Record],
    /// The declared tables.
    pub(super) tables: &'a [TableInfo],
    /// Which tables lookups named so far.
    pub(super) used: &'a mut TableUse,
    /// What the trigger and require rules established.
    pub(super) stages: &'a StageFacts,
    /// The literals compared as labels so far, with the values each names (for `reach`, which
    /// reads conditions from the syntax).
    pub(super) labelled: Vec<(Span, Vec<Value>)>,
    /// The named values (`let`), and the ones being typed now (to refuse a cycle).
    pub(super) lets: Rc<Vec<LetDecl>>,
    in_progress: Vec<String>,
    /// What the condition of the select branch being typed proves present (paths and
    /// expressions as written, `conds::implied_by`); empty outside a branch.
    pub(super) branch: Vec<String>,
}

impl<'a> Env<'a> {
    /// Expressions over `records` and `tables` (lookups are marked in `used`), after `stages`.
    pub fn new(
        records: &'a [Record],
        tables: &'a [TableInfo],
        used: &'a mut TableUse,
        stages: &'a StageFacts,
    ) -> Self {
        Env {
            records,
            tables,
            used,
            stages,
            labelled: Vec::new(),
            lets: Rc::new(Vec::new()),
            in_progress: Vec::new(),
            branch: Vec::new(),
        }
    }

    /// The same, where `lets` name values.
    pub fn with_lets(mut self, lets: &Rc<Vec<LetDecl>>) -> Self {
        self.lets = lets.clone();
        self
    }

    /// True when `display` (a path or an expression as written) is present where it is read:
    /// required at every trigger stage, or proven by the condition of the select branch.
    pub(super) fn is_present(&self, display: &str) -> bool {
        self.stages.is_guaranteed(display) || self.branch.iter().any(|p| covers(p, display))
    }

    /// A named value read as `path` (a name with no steps), typed where it is used.
    fn named_value(
        &mut self,
        cx: &mut Context<'_>,
        path: &Path,
        scope: Scope<'_>,
    ) -> Option<Option<(CExpr, ExprInfo)>> {
        if !path.segments.is_empty() || matches!(scope, Scope::Back) {
            return None;
        }
        let decl = self
            .lets
            .iter()
            .find(|d| d.name.name == path.root.name)?
            .clone();
        if self.in_progress.contains(&decl.name.name) {
            lets::cycle(cx, &decl);
            return Some(None);
        }
        self.in_progress.push(decl.name.name.clone());
        let typed = self.expr(cx, &decl.value, Scope::Sources);
        self.in_progress.pop();
        Some(typed.map(|(cexpr, mut info)| {
            if self.is_present(&decl.name.name) {
                info.may_be_absent = false;
            }
            (cexpr, info)
        }))
    }

    /// Types and compiles an expression; `None` when it has an error (already reported). An
    /// expression a `require` rule proves present (as written) is not absent.
    pub(crate) fn expr(
        &mut self,
        cx: &mut Context<'_>,
        expr: &Expr,
        scope: Scope<'_>,
    ) -> Option<(CExpr, ExprInfo)> {
        let (cexpr, mut info) = self.expr_as_written(cx, expr, scope)?;
        if matches!(scope, Scope::Back) {
            return Some((cexpr, info));
        }
        let text = input_description(expr);
        if self.is_present(&text) {
            // Present in the sense of `require`: not absent, not null, not "".
            info.may_be_absent = false;
            info.ty.min_length = info.ty.min_length.max(1);
        }
        if self.is_present(&format!("{text} | nonblank")) {
            info.may_be_absent = false;
            info.ty.min_length = info.ty.min_length.max(1);
            info.ty.nonblank = true;
        }
        Some((cexpr, info))
    }

    fn expr_as_written(
        &mut self,
        cx: &mut Context<'_>,
        expr: &Expr,
        scope: Scope<'_>,
    ) -> Option<(CExpr, ExprInfo)> {
        match &expr.kind {
            ExprKind::Path(path) => self.read_path(cx, path, scope),
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
            ExprKind::Template(parts) => self.template(cx, parts, scope),
            ExprKind::Pipeline { input, calls } => self.pipeline(cx, input, calls, scope),
            ExprKind::Coalesce(alternatives) => self.coalesce(cx, alternatives, scope),
            ExprKind::Arith {
                op,
                op_span,
                left,
                right,
            } => self.arith(
                cx,
                Operation {
                    op: *op,
                    op_span: *op_span,
                    left,
                    right,
                },
                scope,
            ),
        }
    }

    fn read_path(
        &mut self,
        cx: &mut Context<'_>,
        path: &Path,
        scope: Scope<'_>,
    ) -> Option<(CExpr, ExprInfo)> {
        if let Some(named) = self.named_value(cx, path, scope) {
            return named;
        }
        let allowed = match scope {
            Scope::Sources => Allowed::Source,
            Scope::Forward(_) => Allowed::Any,
            Scope::Back => Allowed::Target,
        };
        let resolved = paths::resolve(cx, self.records, path, allowed)?;
        let may_be_absent = match scope {
            Scope::Forward(written) if resolved.cpath.record == RecordRef::Target => {
                written_before(cx, written, &resolved.read.steps, path)?
            }
            _ => resolved.may_be_absent && !self.is_present(&resolved.cpath.display),
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
                range: Range::of_schema(flat.minimum, flat.maximum),
                min_length: schema_min_length(&flat),
                nonblank: false,
                schema: Some(flat),
                constant: None,
                literals: Vec::new(),
                alternatives: Vec::new(),
                affine: None,
            },
            may_be_absent,
            may_fail: false,
            reads: vec![resolved.read.clone()],
        };
        Some((CExpr::Path(resolved.cpath), info))
    }

    fn template(
        &mut self,
        cx: &mut Context<'_>,
        parts: &[TemplatePart],
        scope: Scope<'_>,
    ) -> Option<(CExpr, ExprInfo)> {
        let mut compiled = Vec::with_capacity(parts.len());
        let mut reads = Vec::new();
        let mut may_fail = false;
        let mut ok = true;
        let (mut min_length, mut nonblank) = (0u64, false);
        for part in parts {
            match part {
                TemplatePart::Text(text) => {
                    min_length += text.chars().count() as u64;
                    nonblank |= text.chars().any(|c| !c.is_whitespace());
                    compiled.push(CPart::Text(text.clone()));
                }
                TemplatePart::Expr(expr) => {
                    let Some((cexpr, info)) = self.expr(cx, expr, scope) else {
                        ok = false;
                        continue;
                    };
                    if !info.ty.kinds.intersects(Kinds::SCALAR) {
                        cx.report(
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
                    if !info.may_be_absent {
                        min_length += info.ty.min_length;
                        nonblank |= info.ty.nonblank;
                    }
                    reads.extend(info.reads);
                    compiled.push(CPart::Expr(cexpr));
                }
            }
        }
        ok.then(|| {
            let mut ty = Ty::of(Kinds::STRING);
            (ty.min_length, ty.nonblank) = (min_length, nonblank);
            let info = ExprInfo {
                ty,
                may_be_absent: false,
                may_fail,
                reads,
            };
            (CExpr::Template(compiled), info)
        })
    }

    fn coalesce(
        &mut self,
        cx: &mut Context<'_>,
        alternatives: &[Expr],
        scope: Scope<'_>,
    ) -> Option<(CExpr, ExprInfo)> {
        let mut compiled = Vec::with_capacity(alternatives.len());
        let mut merged: Option<ExprInfo> = None;
        let mut each = Vec::with_capacity(alternatives.len());
        let mut ok = true;
        for alternative in alternatives {
            let Some((cexpr, info)) = self.expr(cx, alternative, scope) else {
                ok = false;
                continue;
            };
            compiled.push(cexpr);
            each.push(Alternative {
                span: alternative.span,
                text: input_description(alternative),
                ty: info.ty.clone(),
            });
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
        merged.map(|mut info| {
            info.ty.alternatives = each;
            (CExpr::Coalesce(compiled), info)
        })
    }

    fn pipeline(
        &mut self,
        cx: &mut Context<'_>,
        input: &Expr,
        calls: &[Call],
        scope: Scope<'_>,
    ) -> Option<(CExpr, ExprInfo)> {
        let (mut cinput, mut info) = self.expr(cx, input, scope)?;
        let mut steps = Vec::with_capacity(calls.len());
        let mut names = Vec::with_capacity(calls.len());
        let mut described = input_description(input);
        let mut tried_span = input.span;
        for call in calls {
            if let Some(fallback) = self.value_default(call) {
                let (cfallback, fallback_info) = self.expr(cx, &fallback, scope)?;
                cinput = CExpr::Fallback {
                    value: Box::new(close_pipeline(cinput, &mut steps, &mut names)),
                    fallback: Box::new(cfallback),
                };
                info = fallback_union((info, tried_span, &described), &fallback, fallback_info);
                described = format!("{described} | {}", call_text(call));
                tried_span = tried_span.to(call.span);
                continue;
            }
            tried_span = tried_span.to(call.span);
            let decl = Self::find_transform(cx, call)?;
            let args = self.transform_args(cx, decl, call)?;
            Self::check_transform_input(cx, decl, call, &info, &described)?;
            let step = match Step::compile(decl, &args) {
                Ok(step) => step,
                Err(reason) => {
                    cx.report(
                        Diagnostic::new(Code::M402, call.span, reason, "cannot compile")
                            .with_help(decl.signature()),
                    );
                    return None;
                }
            };
            if let Step::Lookup(table) = step {
                table_use::check_lookup_keys(cx, &self.tables[table], call, &info, &described);
            }
            info = self.after_transform(cx, decl, call, &args, info);
            described = format!("{described} | {}", call_text(call));
            names.push(call_text(call));
            steps.push(step);
        }
        Some((close_pipeline(cinput, &mut steps, &mut names), info))
    }

    /// The expression a `default(...)` call falls back to, when it is a field or a named value
    /// rather than a literal.
    fn value_default(&self, call: &Call) -> Option<Expr> {
        if call.name.name != "default" || call.args.len() != 1 {
            return None;
        }
        match &call.args[0] {
            Arg::Value(value) => Some(value.clone()),
            Arg::Name(name) if self.lets.iter().any(|d| d.name.name == name.name) => Some(Expr {
                kind: ExprKind::Path(Path {
                    root: name.clone(),
                    segments: Vec::new(),
                    span: name.span,
                }),
                span: name.span,
            }),
            _ => None,
        }
    }
}

/// The steps gathered so far applied to `input` (the input itself when there are none).
fn close_pipeline(input: CExpr, steps: &mut Vec<Step>, names: &mut Vec<String>) -> CExpr {
    if steps.is_empty() {
        return input;
    }
    CExpr::Pipeline {
        input: Box::new(input),
        steps: std::mem::take(steps),
        names: std::mem::take(names),
    }
}

/// What `VALUE | default(OTHER)` produces: either alternative (each checked on its own against
/// the field it is written to), absent only when the fallback may be, failing only when the
/// fallback may fail.
fn fallback_union(
    (tried, tried_span, tried_text): (ExprInfo, Span, &str),
    fallback: &Expr,
    fallback_info: ExprInfo,
) -> ExprInfo {
    let mut ty = union_ty(&tried.ty, &fallback_info.ty);
    ty.alternatives = vec![
        Alternative {
            span: tried_span,
            text: tried_text.to_string(),
            ty: tried.ty,
        },
        Alternative {
            span: fallback.span,
            text: input_description(fallback),
            ty: fallback_info.ty,
        },
    ];
    let mut reads = tried.reads;
    reads.extend(fallback_info.reads);
    ExprInfo {
        ty,
        may_be_absent: fallback_info.may_be_absent,
        may_fail: fallback_info.may_fail,
        reads,
    }
}

/// The fewest characters a string valid under `flat` has: its `minLength`, or 1 when one of its
/// `pattern`s does not match the empty string (`^[0-9]+$`).
pub(crate) fn schema_min_length(flat: &crate::schema::Flat) -> u64 {
    let declared = flat.min_length.unwrap_or(0);
    let pattern_needs_a_character = flat.patterns.iter().any(|pattern| {
        crate::transforms::build_regex(pattern).is_ok_and(|regex| !regex.is_match(""))
    });
    declared.max(u64::from(pattern_needs_a_character))
}

/// For a target read in map/select: whether it was written earlier (M311 if not), and
/// whether the written value may be absent.
fn written_before(
    cx: &mut Context<'_>,
    written: &[Written],
    steps: &[PathStep],
    path: &Path,
) -> Option<bool> {
    let found = written.iter().find(|w| {
        w.fields.iter().zip(steps).all(|(a, b)| match b {
            PathStep::Field(name) => a == name,
            _ => true,
        })
    });
    match found {
        Some(written) => Some(written.may_be_absent || written.fields.len() != steps.len()),
        // An item that failed to parse may be the one that writes it: say nothing then.
        None if cx.syntax_errors => None,
        None => {
            cx.report(
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
        range: a.range.or(b.range),
        min_length: a.min_length.min(b.min_length),
        nonblank: a.nonblank && b.nonblank,
        schema: None,
        max_length: a.max_length.zip(b.max_length).map(|(x, y)| x.max(y)),
        constant: None,
        literals: a.literals.iter().chain(&b.literals).cloned().collect(),
        alternatives: Vec::new(),
        affine: None,
    }
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
        ExprKind::Coalesce(alternatives) => format!(
            "({})",
            alternatives
                .iter()
                .map(input_description)
                .collect::<Vec<_>>()
                .join(" ?? ")
        ),
        ExprKind::Arith {
            op, left, right, ..
        } => format!(
            "({} {} {})",
            input_description(left),
            op.as_str(),
            input_description(right)
        ),
    }
}
