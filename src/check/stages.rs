//! The trigger and `require at stage` rules: which field holds the stage (M209), whether the
//! stage names exist (M205), rules for stages the trigger never fires on (M210), and the set of
//! source paths guaranteed present when a deal is handed off (used by M204).

use std::collections::HashSet;

use super::Checker;
use super::conds::CondInfo;
use super::exprs::Scope;
use super::paths::Allowed;
use super::program::{CCond, Requirement};
use super::suggest;
use crate::diag::{Code, Diagnostic};
use crate::syntax::ast::{
    CompareOp, Cond, CondKind, ExprKind, Item, LitKind, MappingFile, Path, RequireBlock,
};

impl Checker<'_> {
    /// Checks the trigger and every require block.
    pub(crate) fn check_stages(&mut self, ast: &MappingFile) -> (Option<CCond>, Vec<Requirement>) {
        let trigger = ast.items.iter().find_map(|item| match item {
            Item::Trigger(trigger) => Some(trigger),
            _ => None,
        });
        let mut compiled_trigger = None;
        let mut trigger_implies = Vec::new();
        if let Some(trigger) = trigger {
            let stage = stage_comparison(&trigger.condition);
            if let Some((path, stages)) = &stage {
                self.stages.stage_display = Some(path.display());
                self.stages.stage_path = self.resolve_path(path, Allowed::Source).map(|r| r.cpath);
                self.stages.trigger_stages = stages.clone();
            }
            trigger_implies = super::conds::implied_by(&trigger.condition);
            let before = self.diagnostics.len();
            let compiled = self.cond(&trigger.condition, Scope::Sources);
            self.stages.stage_invalid = self.diagnostics[before..]
                .iter()
                .any(|d| d.code == Code::M205);
            if let Some((compiled, _)) = compiled {
                if stage.is_none() {
                    self.report(
                        Diagnostic::new(Code::M209, trigger.condition.span, "the trigger does not compare a stage field", "no `FIELD == \"stage\"` here")
                            .with_help("write the trigger as `deal.properties.dealstage == \"closedwon\"` (add other conditions with `and`); require blocks and stage checks rely on it"),
                    );
                }
                compiled_trigger = Some(compiled);
            }
        }
        let mut requirements = Vec::new();
        let mut implied_by_stage: Vec<(String, Vec<String>)> = Vec::new();
        for item in &ast.items {
            if let Item::Require(block) = item {
                let implied = self.check_require_block(block, &mut requirements);
                implied_by_stage.push((block.stage.value.clone(), implied));
            }
        }
        self.stages.guaranteed = guaranteed(
            &trigger_implies,
            &self.stages.trigger_stages,
            &implied_by_stage,
        );
        (compiled_trigger, requirements)
    }

    fn check_require_block(
        &mut self,
        block: &RequireBlock,
        out: &mut Vec<Requirement>,
    ) -> Vec<String> {
        self.check_stage_name(block);
        let mut implied = Vec::new();
        for rule in &block.rules {
            implied.extend(super::conds::implied_by(&rule.condition));
            let Some((condition, info)) = self.cond(&rule.condition, Scope::Sources) else {
                continue;
            };
            let origin = self.origin(rule.span);
            let message = match &rule.message {
                Some(message) => message.value.clone(),
                None => generated_message(&rule.condition, &self.origin(rule.condition.span).text),
            };
            let CondInfo { reads, .. } = info;
            let mut fields: Vec<String> = Vec::new();
            for read in reads {
                if !fields.contains(&read.display) {
                    fields.push(read.display);
                }
            }
            out.push(Requirement {
                stage: block.stage.value.clone(),
                condition,
                message,
                fields,
                origin,
            });
        }
        implied
    }

    fn check_stage_name(&mut self, block: &RequireBlock) {
        let stage = &block.stage;
        if let Some(display) = self.stages.stage_display.clone()
            && let Some(path) = self.stages.stage_path.clone()
        {
            let values = self.stage_values(&path.display);
            if let Some((values, declared)) = values
                && !values.contains(&stage.value)
            {
                let close = suggest::closest(&stage.value, values.iter().map(String::as_str));
                let list = values
                    .iter()
                    .map(|v| format!("\"{v}\""))
                    .collect::<Vec<_>>()
                    .join(", ");
                let help = match close {
                    Some(close) => format!("the stages are {list}; did you mean \"{close}\"?"),
                    None => format!("the stages are {list}"),
                };
                self.report(
                    Diagnostic::new(
                        Code::M205,
                        stage.span,
                        format!("unknown stage \"{}\"", stage.value),
                        format!("not a stage of `{display}`"),
                    )
                    .with_optional_label(declared, "the stages are listed here")
                    .with_help(help),
                );
                return;
            }
        }
        let trigger_known = !self.stages.trigger_stages.is_empty() && !self.stages.stage_invalid;
        if trigger_known && !self.stages.trigger_stages.contains(&stage.value) {
            let stages = self
                .stages
                .trigger_stages
                .iter()
                .map(|s| format!("\"{s}\""))
                .collect::<Vec<_>>()
                .join(", ");
            self.report(
                Diagnostic::new(
                    Code::M210,
                    stage.span,
                    format!("the trigger never fires at stage \"{}\", so these rules are never checked", stage.value),
                    "not a trigger stage",
                )
                .with_help(format!("the trigger fires at {stages}; require facts at that stage, or add this stage to the trigger")),
            );
        }
    }

    /// The non-null enum values of the stage field, with where they are declared.
    fn stage_values(
        &mut self,
        _display: &str,
    ) -> Option<(Vec<String>, Option<crate::source::Span>)> {
        let path = self.stages.stage_path.clone()?;
        let record = match path.record {
            super::program::RecordRef::Source(i) => self
                .records
                .iter()
                .filter(|r| matches!(r.role, super::program::RecordRef::Source(_)))
                .nth(i)?,
            super::program::RecordRef::Target => return None,
        };
        let mut flat = self.flattener.node(&self.schemas, record.root?);
        for step in &path.steps {
            let super::program::PathStep::Field(name) = step else {
                let dnf = flat.items.clone()?;
                flat = self.flattener.dnf(&self.schemas, &dnf);
                continue;
            };
            let dnf = flat.properties.get(name)?.clone();
            flat = self.flattener.dnf(&self.schemas, &dnf);
        }
        let values: Vec<String> = flat
            .non_null_enum()?
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        let declared = flat
            .origin
            .iter()
            .find(|n| self.schemas.node(**n).enum_values.is_some())
            .and_then(|node| self.schemas.span_of_keyword(self.sources, *node, "/enum"));
        Some((values, declared))
    }
}

/// The stage comparison of a trigger: `PATH == "stage"` or `PATH in [...]`, at the top level or
/// inside a top-level `and`.
fn stage_comparison(cond: &Cond) -> Option<(Path, Vec<String>)> {
    match &cond.kind {
        CondKind::And(parts) => parts.iter().find_map(stage_comparison),
        CondKind::Compare {
            left,
            op: CompareOp::Eq,
            right,
            ..
        } => match (&left.kind, &right.kind) {
            (ExprKind::Path(path), ExprKind::Literal(literal))
            | (ExprKind::Literal(literal), ExprKind::Path(path)) => match &literal.kind {
                LitKind::Str(stage) => Some((path.clone(), vec![stage.clone()])),
                _ => None,
            },
            _ => None,
        },
        CondKind::In { value, list } => match &value.kind {
            ExprKind::Path(path) => {
                let stages: Option<Vec<String>> = list
                    .iter()
                    .map(|l| match &l.kind {
                        LitKind::Str(s) => Some(s.clone()),
                        _ => None,
                    })
                    .collect();
                stages.map(|s| (path.clone(), s))
            }
            _ => None,
        },
        _ => None,
    }
}

/// Paths present at every trigger stage: implied by the trigger, or by the rules of each stage.
fn guaranteed(
    trigger: &[String],
    stages: &[String],
    by_stage: &[(String, Vec<String>)],
) -> HashSet<String> {
    let mut set: HashSet<String> = trigger.iter().cloned().collect();
    let mut common: Option<HashSet<String>> = None;
    for stage in stages {
        let at_stage: HashSet<String> = by_stage
            .iter()
            .filter(|(s, _)| s == stage)
            .flat_map(|(_, paths)| paths.iter().cloned())
            .collect();
        common = Some(match common {
            None => at_stage,
            Some(previous) => previous.intersection(&at_stage).cloned().collect(),
        });
    }
    set.extend(common.unwrap_or_default());
    set
}

/// The message of a rule written without one.
fn generated_message(cond: &Cond, text: &str) -> String {
    match &cond.kind {
        CondKind::Present(expr) => match &expr.kind {
            ExprKind::Path(path) => format!("`{}` must be present", path.display()),
            _ => format!("`{text}` must hold"),
        },
        _ => format!("`{text}` must hold"),
    }
}
