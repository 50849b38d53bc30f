//! The checked program: what `check` hands to `apply`. Paths are resolved to records and steps,
//! transforms compiled, tables built, and every write remembers the mapping rule it came from.
//! Evaluation only ever runs a `Program`, never an AST.

use std::path::PathBuf;

use regex::Regex;
use serde_json::Value;

use crate::syntax::ast::{ArithOp, CompareOp};
use crate::transforms::{Step, Table};

/// Which record a path reads or writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordRef {
    /// A source record, by declaration order (0 is the primary record, the deal).
    Source(usize),
    /// The target record.
    Target,
}

pub use crate::value::path::PathStep;

/// A resolved path.
#[derive(Debug, Clone, PartialEq)]
pub struct CPath {
    /// The record it starts from.
    pub record: RecordRef,
    /// The steps after the record.
    pub steps: Vec<PathStep>,
    /// The path as written, for messages.
    pub display: String,
    /// The path's number in its program: paths written alike share one, and every id is below
    /// [`Program::path_count`], so evaluators can keep per-path tables of their own.
    pub id: PathId,
}

/// The number of a checked path in its program (see [`CPath::id`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PathId(pub u32);

impl PathId {
    /// The id of a path not yet numbered (only while checking).
    pub const UNNUMBERED: PathId = PathId(u32::MAX);

    /// The id as an index into a per-path table.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A compiled expression.
#[derive(Debug, Clone)]
pub enum CExpr {
    /// Read a path.
    Path(CPath),
    /// A constant.
    Literal(Value),
    /// Text with interpolated values (absent values render as empty text).
    Template(Vec<CPart>),
    /// A value through transforms; `origin` names each step for error messages.
    Pipeline {
        /// The value transformed.
        input: Box<CExpr>,
        /// The compiled steps.
        steps: Vec<Step>,
        /// The steps as written (`number`, `lookup(billing)`).
        names: Vec<String>,
    },
    /// The first alternative that has a value.
    Coalesce(Vec<CExpr>),
    /// Two numbers combined exactly (decimal arithmetic); absent when either is absent.
    Arith {
        /// The operator.
        op: ArithOp,
        /// The left operand.
        left: Box<CExpr>,
        /// The right operand.
        right: Box<CExpr>,
    },
    /// `VALUE | default(OTHER)`: the value, or, when it is absent or one of its transforms
    /// failed on this deal, the other expression.
    Fallback {
        /// The value tried first.
        value: Box<CExpr>,
        /// The value used instead.
        fallback: Box<CExpr>,
    },
}

/// One part of a compiled template.
#[derive(Debug, Clone)]
pub enum CPart {
    /// Literal text.
    Text(String),
    /// An interpolated value.
    Expr(CExpr),
}

/// A compiled condition.
#[derive(Debug, Clone)]
pub enum CCond {
    /// All hold.
    And(Vec<CCond>),
    /// One holds.
    Or(Vec<CCond>),
    /// Does not hold.
    Not(Box<CCond>),
    /// The value is present (not absent, null or "").
    Present(CExpr),
    /// A comparison; false when either side is absent.
    Compare(CExpr, CompareOp, CExpr),
    /// Membership in a literal list; false when absent.
    In(CExpr, Vec<Value>),
    /// A regex match on a string; false when absent.
    Matches(CExpr, Regex),
}

/// Where in the mapping a compiled rule came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The rule as written (first line).
    pub text: String,
}

/// A `require at stage` rule.
#[derive(Debug, Clone)]
pub struct Requirement {
    /// The stages it applies at: the block's stage, or every stage the label it names names.
    pub stages: Vec<String>,
    /// What must hold.
    pub condition: CCond,
    /// The mapping's message, or a generated one.
    pub message: String,
    /// The paths the rule is about (named in rejections).
    pub fields: Vec<String>,
    /// Where it is written.
    pub origin: Origin,
}

/// How a target field gets its value.
#[derive(Debug, Clone)]
pub enum WriteKind {
    /// `target = expr`
    Map(CExpr),
    /// `select target { when ... otherwise ... }`
    Select {
        /// Ordered branches with their origins.
        arms: Vec<(CCond, CExpr, Origin)>,
        /// The fallback branch.
        otherwise: Option<(CExpr, Origin)>,
    },
}

/// A conversion applied when a value is written, decided from the target field's schema (the
/// lossy ones are M307 warnings at check time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Coercion {
    /// Write the value as it is.
    #[default]
    None,
    /// An integer-only field: a whole decimal (`48500.00`) is written as the integer (`48500`).
    /// A fractional one is left as it is, for the target's schema to refuse: never rounded.
    WholeToInteger,
    /// A `format: date` text field: date-times keep only their date.
    DateOnly,
    /// A `format: date-time` text field: dates become midnight UTC.
    DateTimeText,
}

/// One write into the target record.
#[derive(Debug, Clone)]
pub struct Write {
    /// The target path (field names under the target record).
    pub target: Vec<String>,
    /// The target path as written.
    pub display: String,
    /// How the value is computed.
    pub kind: WriteKind,
    /// The conversion applied on writing.
    pub coerce: Coercion,
    /// The rule that writes it.
    pub origin: Origin,
}

/// `match client NAME into TARGET`.
#[derive(Debug, Clone)]
pub struct ClientRule {
    /// The company name matched against the PSA's clients.
    pub name: CExpr,
    /// The target field that receives the matched client's id.
    pub target: Vec<String>,
    /// The target path as written.
    pub display: String,
    /// True when the target field holds integers (ids are converted).
    pub integer_id: bool,
    /// How many writes come before it in the mapping (it runs in file order).
    pub position: usize,
    /// The rule.
    pub origin: Origin,
}

/// A `sync back` rule: a CRM field from a PSA expression.
#[derive(Debug, Clone)]
pub struct SyncWrite {
    /// The CRM path written (under the primary source record): fields, and searches by key that
    /// name an array element (created in the patch when missing).
    pub target: Vec<PathStep>,
    /// The CRM path as written.
    pub display: String,
    /// The value, reading the target record.
    pub value: CExpr,
    /// The rule.
    pub origin: Origin,
}

/// A source record.
#[derive(Debug, Clone)]
pub struct SourceRecord {
    /// Its name.
    pub name: String,
    /// Its schema file.
    pub schema_path: PathBuf,
    /// How it is joined from a reference file, if it is.
    pub join: Option<JoinKey>,
    /// `in "POINTER"` (the primary source only): the JSON pointer of the records in each input
    /// document, for inputs that are vendor pages.
    pub envelope: Option<String>,
}

/// `join on KEY == EQUALS`.
#[derive(Debug, Clone)]
pub struct JoinKey {
    /// The key inside the joined record.
    pub key: CPath,
    /// The value it must equal, in another record.
    pub equals: CPath,
}

/// A checked mapping, ready to run.
#[derive(Debug, Clone)]
pub struct Program {
    /// The mapping's name.
    pub name: String,
    /// The mapping file.
    pub mapping_path: PathBuf,
    /// Source records in declaration order.
    pub sources: Vec<SourceRecord>,
    /// The target record's name.
    pub target_name: String,
    /// The target record's schema file.
    pub target_schema_path: PathBuf,
    /// Which deals are handed off.
    pub trigger: CCond,
    /// The field whose value is the deal's stage.
    pub stage_path: Option<CPath>,
    /// The stage values the trigger fires on.
    pub trigger_stages: Vec<String>,
    /// Requirements, in file order.
    pub requirements: Vec<Requirement>,
    /// Source paths never copied.
    pub never_transfer: Vec<CPath>,
    /// Value tables.
    pub tables: Vec<Table>,
    /// Writes into the target, in file order.
    pub writes: Vec<Write>,
    /// Sync back rules.
    pub sync_back: Vec<SyncWrite>,
    /// The handoff checklist.
    pub checklist: Vec<String>,
    /// Client matching, when the mapping declares it.
    pub client: Option<ClientRule>,
    /// The target field written by the first select (the project template), if any.
    pub template_field: Option<Vec<String>>,
    /// How many path ids the program's paths use (ids are `0..path_count`).
    pub path_count: usize,
}

impl Program {
    /// The rule that wrote the target field at `fields` (a target violation is pointed back to
    /// it): the write or client match whose target holds the field; for a select, the branch
    /// taken (`branches`: write index and branch index, as the interpreters record them).
    pub fn rule_for_field(&self, fields: &[String], branches: &[(usize, usize)]) -> Option<Origin> {
        let wrote = |target: &[String]| !target.is_empty() && fields.starts_with(target);
        let write = self
            .writes
            .iter()
            .enumerate()
            .find(|(_, w)| wrote(&w.target));
        let client = self.client.as_ref().filter(|c| wrote(&c.target));
        let Some((index, write)) = write else {
            return client.map(|c| c.origin.clone());
        };
        let branch = branches.iter().find(|(w, _)| *w == index).map(|(_, b)| *b);
        let origin = match (&write.kind, branch) {
            (WriteKind::Select { arms, otherwise }, Some(branch)) => arms
                .get(branch)
                .map(|(_, _, origin)| origin)
                .or(otherwise.as_ref().map(|(_, origin)| origin)),
            _ => None,
        };
        Some(origin.unwrap_or(&write.origin).clone())
    }

    /// Calls `visit` with every path the program reads from a deal's records: trigger, stage,
    /// requirements, writes, client rule, and the other side of each join.
    pub fn for_each_read<'p>(&'p self, visit: &mut dyn FnMut(&'p CPath)) {
        cond_paths(&self.trigger, visit);
        if let Some(path) = &self.stage_path {
            visit(path);
        }
        for requirement in &self.requirements {
            cond_paths(&requirement.condition, visit);
        }
        for write in &self.writes {
            match &write.kind {
                WriteKind::Map(expr) => expr_paths(expr, visit),
                WriteKind::Select { arms, otherwise } => {
                    for (cond, expr, _) in arms {
                        cond_paths(cond, visit);
                        expr_paths(expr, visit);
                    }
                    if let Some((expr, _)) = otherwise {
                        expr_paths(expr, visit);
                    }
                }
            }
        }
        if let Some(client) = &self.client {
            expr_paths(&client.name, visit);
        }
        for join in self.sources.iter().filter_map(|s| s.join.as_ref()) {
            visit(&join.equals);
        }
    }

    /// Calls `visit` with every path of the program: its reads ([`Program::for_each_read`]),
    /// then the keys inside joined records, the never-transfer paths and the sync-back values.
    pub fn for_each_path<'p>(&'p self, visit: &mut dyn FnMut(&'p CPath)) {
        self.for_each_read(visit);
        for join in self.sources.iter().filter_map(|s| s.join.as_ref()) {
            visit(&join.key);
        }
        self.never_transfer.iter().for_each(&mut *visit);
        for write in &self.sync_back {
            expr_paths(&write.value, visit);
        }
    }

    /// Numbers the program's paths: one id per distinct (record, path as written), in the
    /// order [`Program::for_each_path`] meets them. Done once, when check builds the program.
    pub(super) fn numbered(mut self) -> Program {
        let mut ids: std::collections::HashMap<(RecordRef, String), PathId> =
            std::collections::HashMap::new();
        let mut order = Vec::new();
        self.for_each_path(&mut |path| order.push((path.record, path.display.clone())));
        for key in order {
            let next = PathId(ids.len() as u32);
            ids.entry(key).or_insert(next);
        }
        self.path_count = ids.len();
        number_all(&mut self, &|path: &mut CPath| {
            path.id = ids
                .get(&(path.record, path.display.clone()))
                .copied()
                .unwrap_or(PathId::UNNUMBERED);
        });
        self
    }
}

impl CExpr {
    /// The expressions directly inside this one, in order.
    pub fn children(&self) -> Vec<&CExpr> {
        match self {
            CExpr::Path(_) | CExpr::Literal(_) => Vec::new(),
            CExpr::Template(parts) => parts
                .iter()
                .filter_map(|part| match part {
                    CPart::Expr(inner) => Some(inner),
                    CPart::Text(_) => None,
                })
                .collect(),
            CExpr::Pipeline { input, .. } => vec![input],
            CExpr::Coalesce(alternatives) => alternatives.iter().collect(),
            CExpr::Arith { left, right, .. } => vec![left, right],
            CExpr::Fallback { value, fallback } => vec![value, fallback],
        }
    }

    /// The same, to change them (only [`number_all`] does).
    fn children_mut(&mut self) -> Vec<&mut CExpr> {
        match self {
            CExpr::Path(_) | CExpr::Literal(_) => Vec::new(),
            CExpr::Template(parts) => parts
                .iter_mut()
                .filter_map(|part| match part {
                    CPart::Expr(inner) => Some(inner),
                    CPart::Text(_) => None,
                })
                .collect(),
            CExpr::Pipeline { input, .. } => vec![input],
            CExpr::Coalesce(alternatives) => alternatives.iter_mut().collect(),
            CExpr::Arith { left, right, .. } => vec![left, right],
            CExpr::Fallback { value, fallback } => vec![value, fallback],
        }
    }

    /// Every path the expression reads, in order (templates and fallbacks included).
    pub fn paths(&self) -> Vec<&CPath> {
        let mut found = Vec::new();
        expr_paths(self, &mut |path| found.push(path));
        found
    }
}

/// Calls `visit` with every path of an expression, in order.
fn expr_paths<'p>(expr: &'p CExpr, visit: &mut dyn FnMut(&'p CPath)) {
    if let CExpr::Path(path) = expr {
        visit(path);
    }
    for child in expr.children() {
        expr_paths(child, visit);
    }
}

/// Calls `visit` with every path of a condition, in order.
fn cond_paths<'p>(cond: &'p CCond, visit: &mut dyn FnMut(&'p CPath)) {
    match cond {
        CCond::And(parts) | CCond::Or(parts) => parts.iter().for_each(|p| cond_paths(p, visit)),
        CCond::Not(inner) => cond_paths(inner, visit),
        CCond::Present(e) | CCond::In(e, _) | CCond::Matches(e, _) => expr_paths(e, visit),
        CCond::Compare(l, _, r) => {
            expr_paths(l, visit);
            expr_paths(r, visit);
        }
    }
}

/// Gives every path of `program` its id. The one mutable walk over a program: check builds
/// the program, numbers it here, and nothing changes it afterwards.
fn number_all(program: &mut Program, id_of: &dyn Fn(&mut CPath)) {
    fn expr(e: &mut CExpr, id_of: &dyn Fn(&mut CPath)) {
        if let CExpr::Path(path) = e {
            id_of(path);
        }
        for child in e.children_mut() {
            expr(child, id_of);
        }
    }
    fn cond(c: &mut CCond, id_of: &dyn Fn(&mut CPath)) {
        match c {
            CCond::And(parts) | CCond::Or(parts) => parts.iter_mut().for_each(|p| cond(p, id_of)),
            CCond::Not(inner) => cond(inner, id_of),
            CCond::Present(e) | CCond::In(e, _) | CCond::Matches(e, _) => expr(e, id_of),
            CCond::Compare(l, _, r) => {
                expr(l, id_of);
                expr(r, id_of);
            }
        }
    }
    cond(&mut program.trigger, id_of);
    program.stage_path.iter_mut().for_each(id_of);
    for requirement in &mut program.requirements {
        cond(&mut requirement.condition, id_of);
    }
    for write in &mut program.writes {
        match &mut write.kind {
            WriteKind::Map(e) => expr(e, id_of),
            WriteKind::Select { arms, otherwise } => {
                for (c, e, _) in arms {
                    cond(c, id_of);
                    expr(e, id_of);
                }
                if let Some((e, _)) = otherwise {
                    expr(e, id_of);
                }
            }
        }
    }
    if let Some(client) = &mut program.client {
        expr(&mut client.name, id_of);
    }
    for join in program.sources.iter_mut().filter_map(|s| s.join.as_mut()) {
        id_of(&mut join.key);
        id_of(&mut join.equals);
    }
    program.never_transfer.iter_mut().for_each(id_of);
    for write in &mut program.sync_back {
        expr(&mut write.value, id_of);
    }
}
