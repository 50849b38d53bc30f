//! Maps, selects and the client match, in file order: target paths (M301, M110), writes to the
//! same field (M302), value types (via `compat`), values that may be absent in required fields
//! (M204), selects without `otherwise` (M308), unreachable branches (M309, `reach.rs`), owner
//! clauses out of place (M111). A literal label written into an enumerated field is written as
//! the value it names (`labels`; M313 when it names several).

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use super::bounds;
use super::compat::{self, Field};
use super::conds::{implied_by, implied_when_false};
use super::context::Context;
use super::exprs::{Env, Scope, input_description};
use super::labels;
use super::paths::{self, Allowed};
use super::program::{CExpr, ClientRule, Coercion, PathStep, Write, WriteKind};
use super::reach;
use super::types::{ExprInfo, Read, Ty};
use crate::diag::{Code, Diagnostic};
use crate::schema::Flat;
use crate::source::Span;
use crate::syntax::ast::{
    Assignment, Cond, Expr, Item, MappingFile, Path, SegmentKind, SelectBlock,
};

/// A target path written so far.
#[derive(Debug, Clone)]
pub(crate) struct Written {
    /// Its field names under the target record.
    pub fields: Vec<String>,
    /// Where the rule writing it names it.
    pub span: Span,
    /// True when the value written may be absent.
    pub may_be_absent: bool,
}

/// The writes pass's result.
pub(crate) struct Writes {
    /// The checked writes, in file order.
    pub writes: Vec<Write>,
    /// The client match, when it checks.
    pub client: Option<ClientRule>,
    /// Every target field a rule claims (also rules whose value has an error).
    pub written: Vec<Written>,
    /// Every source path the rules read (for never-transfer and sync back ownership).
    pub forward_reads: Vec<Read>,
    /// Target paths with an unknown field (M301), up to and including it.
    pub failed_targets: Vec<Vec<String>>,
}

/// Checks every map assignment, select and client match, in file order.
pub(crate) fn pass(cx: &mut Context<'_>, env: Env<'_>, ast: &MappingFile) -> Writes {
    let mut pass = WritePass {
        env,
        written: Vec::new(),
        claims: Claims::default(),
        forward_reads: Vec::new(),
        failed_targets: Vec::new(),
    };
    let (writes, client) = pass.items(cx, ast);
    Writes {
        writes,
        client,
        written: pass.written,
        forward_reads: pass.forward_reads,
        failed_targets: pass.failed_targets,
    }
}

/// The writes pass while it runs (its rules are checked here and in `clients.rs`).
pub(crate) struct WritePass<'a> {
    /// What expressions may name.
    pub(super) env: Env<'a>,
    /// The target fields claimed so far.
    pub(super) written: Vec<Written>,
    /// `written` indexed for M302 (so that checking a write does not read every earlier one).
    claims: Claims,
    /// The source paths read so far.
    pub(super) forward_reads: Vec<Read>,
    /// Target paths with an unknown field so far.
    failed_targets: Vec<Vec<String>>,
}

/// The target paths written so far, by path and by every path around them: the first earlier
/// write that one path is a prefix of the other of (equal included), found in a few lookups.
#[derive(Default)]
struct Claims {
    /// Each written path -> the index of its first write.
    whole: HashMap<Vec<String>, usize>,
    /// Each proper prefix of a written path -> the index of the first write under it.
    around: HashMap<Vec<String>, usize>,
}

impl Claims {
    /// The index of the first write that `fields` clashes with.
    fn first_clash(&self, fields: &[String]) -> Option<usize> {
        let inside = (0..=fields.len()).filter_map(|n| self.whole.get(&fields[..n]).copied());
        inside.chain(self.around.get(fields).copied()).min()
    }

    fn add(&mut self, fields: &[String], index: usize) {
        self.whole.entry(fields.to_vec()).or_insert(index);
        for n in 0..fields.len() {
            self.around.entry(fields[..n].to_vec()).or_insert(index);
        }
    }
}

/// A resolved target field.
pub(crate) struct TargetField {
    pub fields: Vec<String>,
    pub display: String,
    pub flat: Rc<Flat>,
    pub required: bool,
    pub parent: Option<Rc<Flat>>,
    pub name: String,
}

impl WritePass<'_> {
    fn items(
        &mut self,
        cx: &mut Context<'_>,
        ast: &MappingFile,
    ) -> (Vec<Write>, Option<ClientRule>) {
        let mut writes = Vec::new();
        let mut client: Option<(ClientRule, Span)> = None;
        for item in &ast.items {
            match item {
                Item::Map(block) => {
                    for assignment in &block.assignments {
                        if let Some(write) = self.map_assignment(cx, assignment) {
                            writes.push(write);
                        }
                    }
                }
                Item::Select(select) => {
                    if let Some(write) = self.select(cx, select) {
                        writes.push(write);
                    }
                }
                Item::ClientMatch(rule) => {
                    if let Some((_, first)) = &client {
                        cx.report(
                            Diagnostic::new(
                                Code::M104,
                                rule.span,
                                "a mapping has one client match; this is a second one",
                                "second client match",
                            )
                            .with_label(*first, "first declared here")
                            .with_help("match the client once; combine name sources with `??`"),
                        );
                    } else if let Some(checked) = self.client_match(cx, rule, writes.len()) {
                        client = Some((checked, rule.span));
                    }
                }
                _ => {}
            }
        }
        (writes, client.map(|(rule, _)| rule))
    }

    fn map_assignment(&mut self, cx: &mut Context<'_>, assignment: &Assignment) -> Option<Write> {
        if let Some(owner) = &assignment.owner {
            cx.report(
                Diagnostic::new(Code::M111, owner.span, "`owner` belongs in `sync back` rules", "not allowed in a map")
                    .with_help("a forward map is always owned by the CRM; to let the PSA own a field, declare `owner psa` on its sync back rule"),
            );
        }
        let target = self.written_target(cx, &assignment.target);
        let value = self
            .env
            .expr(cx, &assignment.value, Scope::Forward(&self.written));
        let target = target?;
        // Claim the field even when the value has an error, so that M303 does not follow.
        let may_be_absent = value.as_ref().is_none_or(|(_, info)| info.may_be_absent);
        let claimed = self.claim(cx, &target, assignment.target.span, may_be_absent);
        let (cexpr, info) = labelled_write(cx, &assignment.value, &target, value?)?;
        self.forward_reads.extend(info.reads.iter().cloned());
        compat::check(
            cx,
            &assignment.value,
            &info,
            &target.as_field(),
            Some(&self.env.stages.bounds),
        );
        self.check_absence(cx, &assignment.value, &info, &target);
        if !claimed {
            return None;
        }
        Some(Write {
            target: target.fields,
            display: target.display,
            kind: WriteKind::Map(cexpr),
            coerce: coercion(&target.flat),
            origin: cx.origin(assignment.span),
        })
    }

    fn select(&mut self, cx: &mut Context<'_>, select: &SelectBlock) -> Option<Write> {
        let target = self.written_target(cx, &select.target);
        let mut arms = Vec::with_capacity(select.arms.len());
        let mut may_be_absent = select.otherwise.is_none();
        let mut ok = target.is_some();
        let mut reach = reach::Reach::new();
        for (index, arm) in select.arms.iter().enumerate() {
            let condition = self
                .env
                .cond(cx, &arm.condition, Scope::Forward(&self.written));
            reach.check(cx, select, index, &self.env.labelled);
            // The branch's value is read only where its condition holds and the earlier ones failed.
            let earlier = select.arms[..index].iter().map(|a| &a.condition);
            let (present, proven) = self.branch_facts(Some(&arm.condition), earlier);
            self.env.branch = present;
            let value = self.env.expr(cx, &arm.value, Scope::Forward(&self.written));
            let value = value.and_then(|v| match &target {
                Some(target) => labelled_write(cx, &arm.value, target, v),
                None => Some(v),
            });
            let (Some((ccond, cond_info)), Some((cexpr, info))) = (condition, value) else {
                ok = false;
                continue;
            };
            self.forward_reads.extend(cond_info.reads);
            self.forward_reads.extend(info.reads.iter().cloned());
            if let Some(target) = &target {
                compat::check(cx, &arm.value, &info, &target.as_field(), Some(&proven));
                self.check_absence(cx, &arm.value, &info, target);
            }
            self.env.branch.clear();
            may_be_absent |= info.may_be_absent;
            arms.push((ccond, cexpr, cx.origin(arm.span)));
        }
        self.env.branch.clear();
        let mut otherwise = None;
        if let Some(arm) = &select.otherwise {
            let every = select.arms.iter().map(|a| &a.condition);
            let (present, proven) = self.branch_facts(None, every);
            self.env.branch = present;
            let value = self.env.expr(cx, &arm.value, Scope::Forward(&self.written));
            let value = value.and_then(|v| match &target {
                Some(target) => labelled_write(cx, &arm.value, target, v),
                None => Some(v),
            });
            match value {
                Some((cexpr, info)) => {
                    self.forward_reads.extend(info.reads.iter().cloned());
                    if let Some(target) = &target {
                        compat::check(cx, &arm.value, &info, &target.as_field(), Some(&proven));
                        self.check_absence(cx, &arm.value, &info, target);
                    }
                    may_be_absent |= info.may_be_absent;
                    otherwise = Some((cexpr, cx.origin(arm.span)));
                }
                None => ok = false,
            }
            self.env.branch.clear();
        }
        let target = target?;
        if select.otherwise.is_none() && target.required {
            cx.report(
                Diagnostic::new(
                    Code::M308,
                    select.target.span,
                    format!(
                        "`{}` is required, but this select writes nothing when no branch matches",
                        target.display
                    ),
                    "no `otherwise` branch",
                )
                .with_optional_label(required_entry(cx, &target), "required here")
                .with_help("add `otherwise => VALUE` as the last branch"),
            );
        }
        if !self.claim(cx, &target, select.target.span, may_be_absent) || !ok {
            return None;
        }
        Some(Write {
            target: target.fields,
            display: target.display,
            kind: WriteKind::Select { arms, otherwise },
            coerce: coercion(&target.flat),
            origin: cx.origin(select.target.span.to(select.span)),
        })
    }

    /// What holds where a select branch is taken, that is where its condition (`None` for
    /// `otherwise`) holds and every `failed` one did not: the paths and expressions present
    /// (`conds::implied_by`, `implied_when_false`) and the number bounds (`bounds::Bound` keys:
    /// the require rules' at every trigger stage, and the conditions').
    fn branch_facts<'c>(
        &self,
        holds: Option<&Cond>,
        failed: impl Iterator<Item = &'c Cond>,
    ) -> (Vec<String>, HashSet<String>) {
        let mut present = holds.map(implied_by).unwrap_or_default();
        let mut bounds = Vec::new();
        if let Some(condition) = holds {
            bounds::proved_by(condition, &mut bounds);
        }
        for condition in failed {
            present.extend(implied_when_false(condition));
            bounds::refuted_by(condition, &mut bounds);
        }
        let mut proven = self.env.stages.bounds.clone();
        proven.extend(bounds);
        (present, proven)
    }

    /// Resolves the target of a map or select; remembers it when a field is unknown (M301).
    fn written_target(&mut self, cx: &mut Context<'_>, path: &Path) -> Option<TargetField> {
        let mark = cx.mark();
        let target = self.target_field(cx, path);
        let unknown = cx.spans_since(mark, Code::M301);
        if !unknown.is_empty() {
            let mut fields = Vec::new();
            for segment in &path.segments {
                if let SegmentKind::Field(name) = &segment.kind {
                    fields.push(name.clone());
                }
                if unknown.contains(&segment.span) {
                    self.failed_targets.push(fields);
                    break;
                }
            }
        }
        target
    }

    /// Resolves a target path for writing (field names only).
    pub(crate) fn target_field(
        &mut self,
        cx: &mut Context<'_>,
        path: &Path,
    ) -> Option<TargetField> {
        let resolved = paths::resolve(cx, self.env.records, path, Allowed::Target)?;
        let mut fields = Vec::with_capacity(resolved.cpath.steps.len());
        for (step, segment) in resolved.cpath.steps.iter().zip(&path.segments) {
            match step {
                PathStep::Field(name) => fields.push(name.clone()),
                _ => {
                    cx.report(
                        Diagnostic::new(Code::M110, segment.span, "target paths name fields only", "cannot write through an index or search")
                            .with_help("write whole arrays, e.g. `project.tags = deal.properties.tags | split(\";\")`"),
                    );
                    return None;
                }
            }
        }
        if fields.is_empty() {
            cx.report(
                Diagnostic::new(
                    Code::M110,
                    path.span,
                    "a rule must write a field of the target, not the whole record",
                    "the whole record",
                )
                .with_help("write fields one by one: `project.title = ...`"),
            );
            return None;
        }
        Some(TargetField {
            display: resolved.cpath.display.clone(),
            name: fields.last().cloned().unwrap_or_default(),
            fields,
            flat: resolved.flat,
            required: resolved.required_in_parent,
            parent: resolved.parent,
        })
    }

    /// Records a write; reports M302 when the field (or a field inside or around it) is taken.
    pub(crate) fn claim(
        &mut self,
        cx: &mut Context<'_>,
        target: &TargetField,
        span: Span,
        may_be_absent: bool,
    ) -> bool {
        let clash = self.claims.first_clash(&target.fields);
        if let Some(previous) = clash.and_then(|i| self.written.get(i)) {
            let previous_span = previous.span;
            let message = if previous.fields == target.fields {
                format!("`{}` is written twice", target.display)
            } else {
                format!("`{}` overlaps a field written earlier", target.display)
            };
            cx.report(
                Diagnostic::new(Code::M302, span, message, "written again here")
                    .with_label(previous_span, "first written here")
                    .with_help(
                        "keep one rule per field; to choose between values, use `??` or a select",
                    ),
            );
            return false;
        }
        self.claims.add(&target.fields, self.written.len());
        self.written.push(Written {
            fields: target.fields.clone(),
            span,
            may_be_absent,
        });
        true
    }

    /// M204: a required field fed by a value that may be absent at the trigger stage.
    fn check_absence(
        &self,
        cx: &mut Context<'_>,
        value: &Expr,
        info: &ExprInfo,
        target: &TargetField,
    ) {
        let stages = self.env.stages;
        // Without a valid trigger stage or with unparsed items, presence cannot be judged.
        if !target.required || !info.may_be_absent || stages.stage_invalid || cx.syntax_errors {
            return;
        }
        let sources: Vec<String> = info
            .reads
            .iter()
            .filter(|r| !self.env.is_present(&r.display))
            .map(|r| format!("`{}`", r.display))
            .collect();
        let stage = match stages.trigger_stages.as_slice() {
            [one] => format!("stage \"{one}\""),
            _ => "the trigger stage".to_string(),
        };
        let what = if sources.is_empty() {
            format!("`{}`", input_description(value))
        } else {
            sources.join(" and ")
        };
        cx.report(
            Diagnostic::new(
                Code::M204,
                value.span,
                format!("`{}` is required, but {what} may be absent when a deal reaches {stage}", target.display),
                "may be absent",
            )
            .with_optional_label(required_entry(cx, target), "required here")
            .with_help(format!(
                "require it at {stage} (add {} to the `require at stage` block), or give a fallback with `?? VALUE` or `| default(VALUE)`",
                sources.first().cloned().unwrap_or_else(|| "the field".to_string())
            )),
        );
    }
}

/// A literal written whole into an enumerated field that is the label of one of its values
/// becomes that value, as if the mapping had written it; `None` when the label names several
/// (M313, reported).
fn labelled_write(
    cx: &mut Context<'_>,
    value: &Expr,
    target: &TargetField,
    compiled: (CExpr, ExprInfo),
) -> Option<(CExpr, ExprInfo)> {
    match labels::written(cx, value, &target.flat, &target.display) {
        Ok(Some(id)) => {
            let info = ExprInfo {
                ty: Ty::literal(&id, value.span),
                ..compiled.1
            };
            Some((CExpr::Literal(id), info))
        }
        Ok(None) => Some(compiled),
        Err(()) => None,
    }
}

/// Where the PSA schema lists a target field as required.
fn required_entry(cx: &Context<'_>, target: &TargetField) -> Option<Span> {
    target
        .parent
        .as_ref()
        .and_then(|parent| cx.required_span(parent, &target.name))
}

impl TargetField {
    fn as_field(&self) -> Field<'_> {
        Field {
            display: &self.display,
            flat: &self.flat,
            parent: self.parent.as_deref(),
            name: &self.name,
        }
    }
}

/// The conversion writing into a field with this schema needs.
fn coercion(flat: &Flat) -> Coercion {
    use crate::value::Kinds;
    let kinds = flat.kinds;
    if kinds.contains(Kinds::INT) && !kinds.intersects(Kinds::FRAC.or(Kinds::STRING)) {
        Coercion::WholeToInteger
    } else if kinds.intersects(Kinds::STRING) && flat.format.as_deref() == Some("date") {
        Coercion::DateOnly
    } else if kinds.intersects(Kinds::STRING) && flat.format.as_deref() == Some("date-time") {
        Coercion::DateTimeText
    } else {
        Coercion::None
    }
}
