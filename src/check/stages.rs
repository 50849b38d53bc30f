//! The trigger and `require at stage` rules: which field holds the stage (M209), whether the
//! stage names exist (M205), rules for stages the trigger never fires on (M210), and the set of
//! source paths guaranteed present when a deal is handed off (used by M204).
//!
//! A stage may be named by its label (`"Closed won"`): the trigger's stages and each block's
//! stages are the ids the label names (`labels`), so a block written with a label shared by
//! several pipelines' stages applies at each of them that the trigger fires at (M212 for the
//! others).

use std::collections::HashSet;
use std::rc::Rc;

use super::conds::{CondInfo, implied_by};
use super::context::Context;
use super::exprs::{Env, Scope};
use super::labels;
use super::paths::{self, Allowed};
use super::program::{CCond, CPath, Requirement};
use super::records::Record;
use super::table_use::TableUse;
use super::tables::TableInfo;
use crate::diag::{Code, Diagnostic};
use crate::schema::Flat;
use crate::schema::import::label_key;
use crate::schema::labels::{Named, ValueLabels};
use crate::syntax::ast::{
    CompareOp, Cond, CondKind, ExprKind, Item, LitKind, MappingFile, Path, RequireBlock, StrLit,
};

/// What the trigger and require rules established, for the passes after them.
#[derive(Debug, Clone, Default)]
pub(crate) struct StageFacts {
    /// The stage field, when the trigger names one and it resolves.
    pub stage_path: Option<CPath>,
    /// The stage field as written, to recognise comparisons with it.
    pub stage_display: Option<String>,
    /// Stages the trigger fires on.
    pub trigger_stages: Vec<String>,
    /// Source paths guaranteed present at every trigger stage.
    pub guaranteed: HashSet<String>,
    /// Bounds on numbers the require rules prove at every trigger stage (`bounds::Bound` keys).
    pub bounds: HashSet<String>,
    /// True when the trigger names a stage that does not exist (stage-based checks are skipped).
    pub stage_invalid: bool,
    /// The stage field's schema, when it resolves.
    stage_schema: Option<Rc<Flat>>,
}

impl StageFacts {
    /// True when a source path (or a path below it) is required at every trigger stage.
    pub fn is_guaranteed(&self, display: &str) -> bool {
        self.guaranteed.iter().any(|g| covers(g, display))
    }
}

/// True when `present` (a path or expression known present) is `display` or a path below it
/// (a present field means its parents are present).
pub(crate) fn covers(present: &str, display: &str) -> bool {
    present == display
        || (present.starts_with(display)
            && matches!(present.as_bytes().get(display.len()), Some(b'.' | b'[')))
}

/// The stages pass's result.
pub(crate) struct Stages {
    /// The compiled trigger, when it checks.
    pub trigger: Option<CCond>,
    /// The require rules that check, in file order.
    pub requirements: Vec<Requirement>,
    /// What they established.
    pub facts: StageFacts,
}

/// Checks the trigger and every require block.
pub(crate) fn pass(
    cx: &mut Context<'_>,
    records: &[Record],
    tables: &[TableInfo],
    used: &mut TableUse,
    ast: &MappingFile,
    lets: &std::rc::Rc<Vec<crate::syntax::ast::LetDecl>>,
) -> Stages {
    let trigger = ast.items.iter().find_map(|item| match item {
        Item::Trigger(trigger) => Some(trigger),
        _ => None,
    });
    let mut facts = StageFacts::default();
    let mut compiled_trigger = None;
    let mut trigger_implies = Vec::new();
    if let Some(trigger) = trigger {
        let stage = stage_comparison(&trigger.condition);
        if let Some((path, stages)) = &stage {
            facts.stage_display = Some(path.display());
            let resolved = paths::resolve(cx, records, path, Allowed::Source);
            facts.stage_path = resolved.as_ref().map(|r| r.cpath.clone());
            facts.stage_schema = resolved.map(|r| r.flat);
            facts.trigger_stages = stage_ids(cx, facts.stage_schema.as_deref(), stages);
        }
        trigger_implies = implied_by(&trigger.condition);
        let mark = cx.mark();
        let compiled = Env::new(records, tables, used, &facts)
            .with_lets(lets)
            .cond(cx, &trigger.condition, Scope::Sources);
        facts.stage_invalid = cx.reported_since(mark, Code::M205);
        if let Some((compiled, _)) = compiled {
            if stage.is_none() {
                cx.report(
                    Diagnostic::new(Code::M209, trigger.condition.span, "the trigger does not compare a stage field", "no `FIELD == \"stage\"` here")
                        .with_help("write the trigger as `deal.properties.dealstage == \"closedwon\"` (add other conditions with `and`); require blocks and stage checks rely on it"),
                );
            }
            compiled_trigger = Some(compiled);
        }
    }
    let mut requirements = Vec::new();
    let mut implied_by_stage: Vec<(String, Vec<String>)> = Vec::new();
    let mut bounds_by_stage: Vec<(String, Vec<String>)> = Vec::new();
    for item in &ast.items {
        if let Item::Require(block) = item {
            let stages = block_stages(cx, &facts, block);
            let mut env = Env::new(records, tables, used, &facts).with_lets(lets);
            let implied = require_block(cx, &mut env, block, &stages, &mut requirements);
            let mut bounds = Vec::new();
            for rule in &block.rules {
                super::bounds::proved_by(&rule.condition, &mut bounds);
            }
            for stage in stages {
                implied_by_stage.push((stage.clone(), implied.clone()));
                bounds_by_stage.push((stage, bounds.clone()));
            }
        }
    }
    facts.guaranteed = guaranteed(&trigger_implies, &facts.trigger_stages, &implied_by_stage);
    let mut trigger_bounds = Vec::new();
    if let Some(trigger) = trigger {
        super::bounds::proved_by(&trigger.condition, &mut trigger_bounds);
    }
    facts.bounds = guaranteed(&trigger_bounds, &facts.trigger_stages, &bounds_by_stage);
    Stages {
        trigger: compiled_trigger,
        requirements,
        facts,
    }
}

/// The field a trigger compares with a stage name (`deal.properties.dealstage`), if any: the
/// language server completes stage names from it.
pub fn stage_field(ast: &MappingFile) -> Option<Path> {
    ast.items.iter().find_map(|item| match item {
        Item::Trigger(trigger) => stage_comparison(&trigger.condition).map(|(path, _)| path),
        _ => None,
    })
}

/// Checks the rules of one block, which apply at `stages`; returns the paths they prove
/// present.
fn require_block(
    cx: &mut Context<'_>,
    env: &mut Env<'_>,
    block: &RequireBlock,
    stages: &[String],
    out: &mut Vec<Requirement>,
) -> Vec<String> {
    let mut implied = Vec::new();
    for rule in &block.rules {
        implied.extend(implied_by(&rule.condition));
        let Some((condition, info)) = env.cond(cx, &rule.condition, Scope::Sources) else {
            continue;
        };
        let origin = cx.origin(rule.span);
        let message = match &rule.message {
            Some(message) => message.value.clone(),
            None => generated_message(&rule.condition, &cx.origin(rule.condition.span).text),
        };
        let CondInfo { reads, .. } = info;
        let mut fields: Vec<String> = Vec::new();
        for read in reads {
            if !fields.contains(&read.display) {
                fields.push(read.display);
            }
        }
        out.push(Requirement {
            stages: stages.to_vec(),
            condition,
            message,
            fields,
            origin,
        });
    }
    implied
}

/// The trigger's stage names as stage ids: a label stands for every stage it names.
fn stage_ids(cx: &Context<'_>, field: Option<&Flat>, written: &[String]) -> Vec<String> {
    let labels = field.and_then(|flat| labels::of(cx, flat));
    let mut ids: Vec<String> = Vec::new();
    for stage in written {
        let named = labels
            .as_ref()
            .map(|l| l.name(&serde_json::Value::String(stage.clone())));
        let these = match named {
            Some(Named::Label(values)) => values.iter().map(label_key).collect(),
            _ => vec![stage.clone()],
        };
        for id in these {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    ids
}

/// The stages a block's rules apply at: its stage, or the stages its label names. Reports an
/// unknown stage (M205), a block the trigger never fires at (M210), and a label naming stages
/// the trigger fires at and others (M212).
fn block_stages(cx: &mut Context<'_>, facts: &StageFacts, block: &RequireBlock) -> Vec<String> {
    let stage = &block.stage;
    let field = facts.stage_path.as_ref().and(facts.stage_schema.as_deref());
    if let (Some(display), Some(field)) = (&facts.stage_display, field)
        && let Some(named) = labels::stage_block(cx, &stage.value, stage.span, field, display)
    {
        let trigger_known = !facts.trigger_stages.is_empty() && !facts.stage_invalid;
        if trigger_known && !named.ids.iter().any(|id| facts.trigger_stages.contains(id)) {
            never_fired(cx, facts, stage);
        } else if trigger_known {
            let trigger = &facts.trigger_stages;
            labels::stage_block_beyond_trigger(
                cx,
                &stage.value,
                stage.span,
                &named,
                trigger,
                display,
            );
        }
        return named.ids;
    }
    check_stage_name(cx, facts, block);
    vec![stage.value.clone()]
}

/// M205 for a block's stage that the stage field does not list; M210 for one the trigger never
/// fires at.
fn check_stage_name(cx: &mut Context<'_>, facts: &StageFacts, block: &RequireBlock) {
    let stage = &block.stage;
    if let Some(display) = &facts.stage_display
        && let Some((values, declared, labels)) = stage_values(cx, facts)
        && !values.contains(&stage.value)
    {
        let strings: Vec<&str> = values.iter().map(String::as_str).collect();
        let close = labels::closest(labels.as_ref(), &strings, &stage.value);
        let list = values
            .iter()
            .map(|v| format!("\"{v}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let help = match close {
            Some(close) => format!("the stages are {list}; did you mean \"{close}\"?"),
            None => format!("the stages are {list}"),
        };
        cx.report(
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
    let trigger_known = !facts.trigger_stages.is_empty() && !facts.stage_invalid;
    if trigger_known && !facts.trigger_stages.contains(&stage.value) {
        never_fired(cx, facts, stage);
    }
}

/// M210: the trigger never fires at the block's stage.
fn never_fired(cx: &mut Context<'_>, facts: &StageFacts, stage: &StrLit) {
    let stages = facts
        .trigger_stages
        .iter()
        .map(|s| format!("\"{s}\""))
        .collect::<Vec<_>>()
        .join(", ");
    cx.report(
        Diagnostic::new(
            Code::M210,
            stage.span,
            format!("the trigger never fires at stage \"{}\", so these rules are never checked", stage.value),
            "not a trigger stage",
        )
        .with_help(format!("the trigger fires at {stages}; require facts at that stage, or add this stage to the trigger")),
    );
}

/// The non-null string enum values of the stage field, with where they are declared and their
/// labels.
fn stage_values(
    cx: &Context<'_>,
    facts: &StageFacts,
) -> Option<(
    Vec<String>,
    Option<crate::source::Span>,
    Option<ValueLabels>,
)> {
    facts.stage_path.as_ref()?;
    let flat = facts.stage_schema.as_ref()?;
    let values: Vec<String> = flat
        .non_null_enum()?
        .into_iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    Some((values, cx.enum_span(flat), labels::of(cx, flat)))
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
