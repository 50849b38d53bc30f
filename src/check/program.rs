//! The checked program: what `check` hands to `apply`. Paths are resolved to records and steps,
//! transforms compiled, tables built, and every write remembers the mapping rule it came from.
//! Evaluation only ever runs a `Program`, never an AST.

use std::path::PathBuf;

use regex::Regex;
use serde_json::Value;

use crate::syntax::ast::CompareOp;
use crate::transforms::{Step, Table};

/// Which record a path reads or writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordRef {
    /// A source record, by declaration order (0 is the primary record, the deal).
    Source(usize),
    /// The target record.
    Target,
}

/// One step of a resolved path.
#[derive(Debug, Clone, PartialEq)]
pub enum PathStep {
    /// An object member.
    Field(String),
    /// An array element.
    Index(usize),
    /// The first array element whose `key` equals `value`.
    Search {
        /// The member compared.
        key: String,
        /// The value it must equal.
        value: Value,
    },
}

/// A resolved path.
#[derive(Debug, Clone, PartialEq)]
pub struct CPath {
    /// The record it starts from.
    pub record: RecordRef,
    /// The steps after the record.
    pub steps: Vec<PathStep>,
    /// The path as written, for messages.
    pub display: String,
    /// Where the value is found in a deal's table of planned source fields (see
    /// `eval::stream::Plan`); `None` until the plan is compiled, and for paths the table cannot
    /// hold (target paths, steps into arrays).
    pub slot: Option<usize>,
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
    /// The stage it applies at.
    pub stage: String,
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
    /// An integer-only field: fractional numbers are rounded (half away from zero).
    RoundToInteger,
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
}
