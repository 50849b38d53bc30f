//! Maps and selects: target paths (M301, M110), writes to the same field (M302), value types
//! (via `compat`), values that may be absent in required fields (M204), selects without
//! `otherwise` (M308), unreachable branches (M309), owner clauses out of place (M111), and
//! required target fields that no rule writes (M303).

use std::rc::Rc;

use serde_json::Value;

use super::compat::Field;
use super::exprs::{Scope, input_description};
use super::paths::Allowed;
use super::program::{ClientRule, Coercion, PathStep, Write, WriteKind};
use super::types::ExprInfo;
use super::{Checker, Written, suggest};
use crate::diag::{Code, Diagnostic};
use crate::schema::Flat;
use crate::source::Span;
use crate::syntax::ast::{
    Assignment, CompareOp, Cond, CondKind, Expr, ExprKind, Item, MappingFile, Path, SelectBlock,
};

/// A resolved target field.
pub(crate) struct TargetField {
    pub fields: Vec<String>,
    pub display: String,
    pub flat: Rc<Flat>,
    pub required: bool,
    pub parent: Option<Rc<Flat>>,
    pub name: String,
}

impl Checker<'_> {
    /// Checks every map assignment, select and client match, in file order.
    pub(crate) fn check_writes(&mut self, ast: &MappingFile) -> (Vec<Write>, Option<ClientRule>) {
        let mut writes = Vec::new();
        let mut client: Option<(ClientRule, Span)> = None;
        for item in &ast.items {
            match item {
                Item::Map(block) => {
                    for assignment in &block.assignments {
                        if let Some(write) = self.map_assignment(assignment) {
                            writes.push(write);
                        }
                    }
                }
                Item::Select(select) => {
                    if let Some(write) = self.select(select) {
                        writes.push(write);
                    }
                }
                Item::ClientMatch(rule) => {
                    if let Some((_, first)) = &client {
                        self.report(
                            Diagnostic::new(
                                Code::M104,
                                rule.span,
                                "a mapping has one client match; this is a second one",
                                "second client match",
                            )
                            .with_label(*first, "first declared here")
                            .with_help("match the client once; combine name sources with `??`"),
                        );
                    } else if let Some(checked) = self.client_match(rule, writes.len()) {
                        client = Some((checked, rule.span));
                    }
                }
                _ => {}
            }
        }
        (writes, client.map(|(rule, _)| rule))
    }

    fn map_assignment(&mut self, assignment: &Assignment) -> Option<Write> {
        if let Some(owner) = &assignment.owner {
            self.report(
                Diagnostic::new(Code::M111, owner.span, "`owner` belongs in `sync back` rules", "not allowed in a map")
                    .with_help("a forward map is always owned by the CRM; to let the PSA own a field, declare `owner psa` on its sync back rule"),
            );
        }
        let target = self.target_field(&assignment.target);
        let value = self.expr(&assignment.value, Scope::Forward);
        let target = target?;
        // Claim the field even when the value has an error, so that M303 does not follow.
        let may_be_absent = value.as_ref().is_none_or(|(_, info)| info.may_be_absent);
        let claimed = self.claim(&target, assignment.target.span, may_be_absent);
        let (cexpr, info) = value?;
        self.forward_reads.extend(info.reads.iter().cloned());
        self.check_compat(&assignment.value, &info, &target.as_field());
        self.check_absence(&assignment.value, &info, &target);
        if !claimed {
            return None;
        }
        Some(Write {
            target: target.fields,
            display: target.display,
            kind: WriteKind::Map(cexpr),
            coerce: coercion(&target.flat),
            origin: self.origin(assignment.span),
        })
    }

    fn select(&mut self, select: &SelectBlock) -> Option<Write> {
        let target = self.target_field(&select.target);
        let mut arms = Vec::with_capacity(select.arms.len());
        let mut may_be_absent = select.otherwise.is_none();
        let mut ok = target.is_some();
        for (index, arm) in select.arms.iter().enumerate() {
            self.check_reachable(select, index);
            let condition = self.cond(&arm.condition, Scope::Forward);
            let value = self.expr(&arm.value, Scope::Forward);
            let (Some((ccond, cond_info)), Some((cexpr, info))) = (condition, value) else {
                ok = false;
                continue;
            };
            self.forward_reads.extend(cond_info.reads);
            self.forward_reads.extend(info.reads.iter().cloned());
            if let Some(target) = &target {
                self.check_compat(&arm.value, &info, &target.as_field());
                self.check_absence(&arm.value, &info, target);
            }
            may_be_absent |= info.may_be_absent;
            arms.push((ccond, cexpr, self.origin(arm.span)));
        }
        let mut otherwise = None;
        if let Some(arm) = &select.otherwise {
            match self.expr(&arm.value, Scope::Forward) {
                Some((cexpr, info)) => {
                    self.forward_reads.extend(info.reads.iter().cloned());
                    if let Some(target) = &target {
                        self.check_compat(&arm.value, &info, &target.as_field());
                        self.check_absence(&arm.value, &info, target);
                    }
                    may_be_absent |= info.may_be_absent;
                    otherwise = Some((cexpr, self.origin(arm.span)));
                }
                None => ok = false,
            }
        }
        let target = target?;
        if select.otherwise.is_none() && target.required {
            self.report(
                Diagnostic::new(
                    Code::M308,
                    select.target.span,
                    format!(
                        "`{}` is required, but this select writes nothing when no branch matches",
                        target.display
                    ),
                    "no `otherwise` branch",
                )
                .with_optional_label(self.required_entry(&target), "required here")
                .with_help("add `otherwise => VALUE` as the last branch"),
            );
        }
        if !self.claim(&target, select.target.span, may_be_absent) || !ok {
            return None;
        }
        Some(Write {
            target: target.fields,
            display: target.display,
            kind: WriteKind::Select { arms, otherwise },
            coerce: coercion(&target.flat),
            origin: self.origin(select.target.span.to(select.span)),
        })
    }

    /// Resolves a target path for writing (field names only).
    pub(crate) fn target_field(&mut self, path: &Path) -> Option<TargetField> {
        let resolved = self.resolve_path(path, Allowed::Target)?;
        let mut fields = Vec::with_capacity(resolved.cpath.steps.len());
        for (step, segment) in resolved.cpath.steps.iter().zip(&path.segments) {
            match step {
                PathStep::Field(name) => fields.push(name.clone()),
                _ => {
                    self.report(
                        Diagnostic::new(Code::M110, segment.span, "target paths name fields only", "cannot write through an index or search")
                            .with_help("write whole arrays, e.g. `project.tags = deal.properties.tags | split(\";\")`"),
                    );
                    return None;
                }
            }
        }
        if fields.is_empty() {
            self.report(
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

    /// Where the PSA schema lists a target field as required.
    fn required_entry(&self, target: &TargetField) -> Option<Span> {
        target
            .parent
            .as_ref()
            .and_then(|parent| self.required_span(parent, &target.name))
    }

    /// Where `name` is declared under an object's `properties`.
    pub(crate) fn property_span(&self, parent: &Flat, name: &str) -> Option<Span> {
        let escaped = crate::schema::locate::escape_segment(name);
        parent
            .origin
            .iter()
            .find(|n| {
                self.schemas
                    .node(**n)
                    .properties
                    .iter()
                    .any(|(p, _)| p == name)
            })
            .and_then(|n| {
                self.schemas
                    .span_of_keyword(self.sources, *n, &format!("/properties/{escaped}"))
            })
    }

    /// Where `name` is listed in an object's `required`.
    pub(crate) fn required_span(&self, parent: &Flat, name: &str) -> Option<Span> {
        parent.origin.iter().find_map(|n| {
            let index = self
                .schemas
                .node(*n)
                .required
                .iter()
                .position(|r| r == name)?;
            self.schemas
                .span_of_keyword(self.sources, *n, &format!("/required/{index}"))
        })
    }

    /// Records a write; reports M302 when the field (or a field inside or around it) is taken.
    pub(crate) fn claim(&mut self, target: &TargetField, span: Span, may_be_absent: bool) -> bool {
        let clash = self.written.iter().find(|w| {
            let n = w.fields.len().min(target.fields.len());
            w.fields[..n] == target.fields[..n]
        });
        if let Some(previous) = clash {
            let previous_span = previous.span;
            let message = if previous.fields == target.fields {
                format!("`{}` is written twice", target.display)
            } else {
                format!("`{}` overlaps a field written earlier", target.display)
            };
            self.report(
                Diagnostic::new(Code::M302, span, message, "written again here")
                    .with_label(previous_span, "first written here")
                    .with_help(
                        "keep one rule per field; to choose between values, use `??` or a select",
                    ),
            );
            return false;
        }
        self.written.push(Written {
            fields: target.fields.clone(),
            span,
            may_be_absent,
        });
        true
    }

    /// M204: a required field fed by a value that may be absent at the trigger stage.
    fn check_absence(&mut self, value: &Expr, info: &ExprInfo, target: &TargetField) {
        // Without a valid trigger stage or with unparsed items, presence cannot be judged.
        if !target.required
            || !info.may_be_absent
            || self.stages.stage_invalid
            || self.syntax_errors
        {
            return;
        }
        let sources: Vec<String> = info
            .reads
            .iter()
            .filter(|r| !self.is_guaranteed(&r.display))
            .map(|r| format!("`{}`", r.display))
            .collect();
        let stage = match self.stages.trigger_stages.as_slice() {
            [one] => format!("stage \"{one}\""),
            _ => "the trigger stage".to_string(),
        };
        let what = if sources.is_empty() {
            format!("`{}`", input_description(value))
        } else {
            sources.join(" and ")
        };
        self.report(
            Diagnostic::new(
                Code::M204,
                value.span,
                format!("`{}` is required, but {what} may be absent when a deal reaches {stage}", target.display),
                "may be absent",
            )
            .with_optional_label(self.required_entry(target), "required here")
            .with_help(format!(
                "require it at {stage} (add {} to the `require at stage` block), or give a fallback with `?? VALUE` or `| default(VALUE)`",
                sources.first().cloned().unwrap_or_else(|| "the field".to_string())
            )),
        );
    }

    /// M309: a branch whose condition implies an earlier branch's is never taken.
    fn check_reachable(&mut self, select: &SelectBlock, index: usize) {
        let Some(later) = atoms(&select.arms[index].condition) else {
            return;
        };
        for earlier in &select.arms[..index] {
            let Some(first) = atoms(&earlier.condition) else {
                continue;
            };
            if first
                .iter()
                .all(|a| later.iter().any(|b| atom_implies(b, a)))
            {
                self.report(
                    Diagnostic::new(Code::M309, select.arms[index].condition.span, "this branch is never taken", "every deal matching it matches an earlier branch")
                        .with_label(earlier.condition.span, "this earlier branch matches first")
                        .with_help("branches are tried in order: move the narrower branch above the wider one, or delete it"),
                );
                return;
            }
        }
    }

    /// M303: required target fields that no rule writes.
    pub(crate) fn check_required_targets(&mut self, ast: &MappingFile) {
        if self.syntax_errors {
            return;
        }
        let Some(record) = self
            .records
            .iter()
            .find(|r| r.role == super::program::RecordRef::Target)
        else {
            return;
        };
        let (Some(root), name, name_span) = (record.root, record.name.clone(), record.name_span)
        else {
            return;
        };
        let failed = self.failed_target_paths(ast);
        let flat = self.flattener.node(&self.schemas, root);
        self.required_under(&flat, &mut vec![], &name, name_span, &failed);
    }

    fn required_under(
        &mut self,
        flat: &Rc<Flat>,
        prefix: &mut Vec<String>,
        record: &str,
        at: Span,
        failed: &[Vec<String>],
    ) {
        if prefix.len() > 16 {
            return;
        }
        for name in flat.required.clone() {
            prefix.push(name.clone());
            let whole = self.written.iter().any(|w| prefix.starts_with(&w.fields));
            let partial = self.written.iter().any(|w| w.fields.starts_with(prefix));
            let child = flat
                .properties
                .get(&name)
                .map(|dnf| self.flattener.dnf(&self.schemas, dnf));
            if whole {
            } else if partial {
                if let Some(child) = child {
                    self.required_under(&child, prefix, record, at, failed);
                }
            } else if !child.as_ref().is_some_and(|c| c.has_default)
                && !meant_by_failed_write(prefix, failed)
            {
                let display = format!("{record}.{}", prefix.join("."));
                let entry = self.required_span(flat, &name);
                self.report(
                    Diagnostic::new(Code::M303, at, format!("required field `{display}` is not written by any rule"), format!("`{display}` is never written"))
                        .with_optional_label(entry, format!("the PSA schema requires `{name}` here"))
                        .with_help(format!("add `{display} = ...` to a map block (or a select): the PSA refuses records without it")),
                );
            }
            prefix.pop();
        }
    }

    /// Target paths that failed to resolve, up to and including the failing field, so that
    /// M303 does not repeat an M301 (`project.client.nmae` meant to write `client.name`).
    fn failed_target_paths(&self, ast: &MappingFile) -> Vec<Vec<String>> {
        let unresolved: Vec<Span> = self
            .diagnostics
            .iter()
            .filter(|d| d.code == Code::M301)
            .map(|d| d.primary.span)
            .collect();
        let mut failed = Vec::new();
        for item in &ast.items {
            let paths: Vec<&Path> = match item {
                Item::Map(block) => block.assignments.iter().map(|a| &a.target).collect(),
                Item::Select(select) => vec![&select.target],
                _ => continue,
            };
            for path in paths {
                let mut fields = Vec::new();
                for segment in &path.segments {
                    if let crate::syntax::ast::SegmentKind::Field(name) = &segment.kind {
                        fields.push(name.clone());
                    }
                    if unresolved.contains(&segment.span) {
                        failed.push(fields.clone());
                        break;
                    }
                }
            }
        }
        failed
    }
}

/// True when a failed write was aimed at `prefix` (same parents; the same or a close name),
/// or inside it.
fn meant_by_failed_write(prefix: &[String], failed: &[Vec<String>]) -> bool {
    let depth = prefix.len() - 1;
    failed.iter().any(|path| {
        path.len() > depth
            && path[..depth] == prefix[..depth]
            && (path[depth] == prefix[depth]
                || suggest::closest(&path[depth], [prefix[depth].as_str()]).is_some())
    })
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
        Coercion::RoundToInteger
    } else if kinds.intersects(Kinds::STRING) && flat.format.as_deref() == Some("date") {
        Coercion::DateOnly
    } else if kinds.intersects(Kinds::STRING) && flat.format.as_deref() == Some("date-time") {
        Coercion::DateTimeText
    } else {
        Coercion::None
    }
}

/// One simple test in a conjunction, for reachability.
#[derive(Debug, Clone, PartialEq)]
enum Atom {
    Present(String),
    Eq(String, Value),
    Ne(String, Value),
    In(String, Vec<Value>),
    Bound(String, CompareOp, f64),
}

impl Atom {
    fn subject(&self) -> &str {
        match self {
            Atom::Present(s)
            | Atom::Eq(s, _)
            | Atom::Ne(s, _)
            | Atom::In(s, _)
            | Atom::Bound(s, _, _) => s,
        }
    }
}

/// A condition as a conjunction of simple tests, when it is one.
fn atoms(cond: &Cond) -> Option<Vec<Atom>> {
    match &cond.kind {
        CondKind::And(parts) => {
            let mut all = Vec::new();
            for part in parts {
                all.extend(atoms(part)?);
            }
            Some(all)
        }
        CondKind::Present(expr) => Some(vec![Atom::Present(subject(expr)?)]),
        CondKind::In { value, list } => Some(vec![Atom::In(
            subject(value)?,
            list.iter().map(|l| l.kind.to_json()).collect(),
        )]),
        CondKind::Compare {
            left, op, right, ..
        } => {
            let (name, literal) = match (&left.kind, &right.kind) {
                (_, ExprKind::Literal(l)) => (subject(left)?, l.kind.to_json()),
                _ => return None,
            };
            Some(vec![match op {
                CompareOp::Eq => Atom::Eq(name, literal),
                CompareOp::Ne => Atom::Ne(name, literal),
                ordering => Atom::Bound(name, *ordering, literal.as_f64()?),
            }])
        }
        _ => None,
    }
}

fn subject(expr: &Expr) -> Option<String> {
    match &expr.kind {
        ExprKind::Literal(_) => None,
        _ => Some(input_description(expr)),
    }
}

/// True when every value satisfying `b` satisfies `a` (same subject).
fn atom_implies(b: &Atom, a: &Atom) -> bool {
    if a.subject() != b.subject() {
        return false;
    }
    let same = |x: &Value, y: &Value| super::tables::same_key(x, y);
    match (a, b) {
        (Atom::Present(_), _) => true,
        (Atom::Eq(_, v), Atom::Eq(_, w)) => same(v, w),
        (Atom::Eq(_, v), Atom::In(_, set)) => set.len() == 1 && same(v, &set[0]),
        (Atom::In(_, set), Atom::Eq(_, w)) => set.iter().any(|v| same(v, w)),
        (Atom::In(_, set), Atom::In(_, sub)) => sub.iter().all(|w| set.iter().any(|v| same(v, w))),
        (Atom::Ne(_, v), Atom::Ne(_, w)) => same(v, w),
        (Atom::Ne(_, v), Atom::Eq(_, w)) => !same(v, w),
        (Atom::Ne(_, v), Atom::In(_, set)) => !set.iter().any(|w| same(v, w)),
        (Atom::Bound(_, op, x), Atom::Bound(_, op2, y)) => bound_implies(*op2, *y, *op, *x),
        (Atom::Bound(_, op, x), Atom::Eq(_, w)) => {
            w.as_f64().is_some_and(|n| satisfies(n, *op, *x))
        }
        _ => false,
    }
}

fn satisfies(n: f64, op: CompareOp, x: f64) -> bool {
    match op {
        CompareOp::Ge => n >= x,
        CompareOp::Gt => n > x,
        CompareOp::Le => n <= x,
        CompareOp::Lt => n < x,
        CompareOp::Eq => n == x,
        CompareOp::Ne => n != x,
    }
}

/// True when `v op_b y` implies `v op_a x`.
fn bound_implies(op_b: CompareOp, y: f64, op_a: CompareOp, x: f64) -> bool {
    use CompareOp::*;
    match (op_a, op_b) {
        (Ge, Ge) | (Ge, Gt) | (Gt, Gt) => y >= x,
        (Gt, Ge) => y > x,
        (Le, Le) | (Le, Lt) | (Lt, Lt) => y <= x,
        (Lt, Le) => y < x,
        _ => false,
    }
}
