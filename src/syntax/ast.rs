//! The typed syntax tree of a mapping file. Every node carries the [`Span`] it came from.
//!
//! The AST knows nothing about schemas: names are unresolved strings. The checker (`check/`)
//! resolves them and produces a `Program`.

use crate::source::Span;

/// A name with its place in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where it is written.
    pub span: Span,
}

/// A string literal after escapes are decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct StrLit {
    /// The decoded text.
    pub value: String,
    /// The span including the quotes.
    pub span: Span,
}

/// A whole mapping file: its items in source order.
#[derive(Debug, Clone, Default)]
pub struct MappingFile {
    /// Items in the order they appear.
    pub items: Vec<Item>,
    /// True when at least one item failed to parse (and is missing from `items`).
    pub has_syntax_errors: bool,
}

/// One top-level item.
#[derive(Debug, Clone)]
pub enum Item {
    /// `mapping NAME`
    Header(Ident),
    /// `source NAME = schema "FILE" [join on ...]`
    Source(RecordDecl),
    /// `target NAME = schema "FILE"`
    Target(RecordDecl),
    /// `trigger when COND`
    Trigger(Trigger),
    /// `require at stage "S" { ... }`
    Require(RequireBlock),
    /// `never transfer { ... }`
    NeverTransfer(NeverBlock),
    /// `table NAME ...`
    Table(TableDecl),
    /// `map { ... }`
    Map(MapBlock),
    /// `select TARGET { ... }`
    Select(SelectBlock),
    /// `sync back { ... }`
    SyncBack(SyncBlock),
    /// `checklist { ... }`
    Checklist(ChecklistBlock),
    /// `match client EXPR into PATH`
    ClientMatch(ClientMatch),
    /// `let NAME = EXPR`
    Let(LetDecl),
}

/// `let NAME = EXPR`: a named value. Its expression reads source records only; a path whose
/// root is the name (and has no steps) stands for the value wherever an expression may be.
#[derive(Debug, Clone)]
pub struct LetDecl {
    /// The name.
    pub name: Ident,
    /// The value.
    pub value: Expr,
    /// The whole item.
    pub span: Span,
}

impl Item {
    /// Where the item is written (for a header, its name).
    pub fn span(&self) -> Span {
        match self {
            Item::Header(name) => name.span,
            Item::Source(record) | Item::Target(record) => record.span,
            Item::Trigger(trigger) => trigger.span,
            Item::Require(block) => block.span,
            Item::NeverTransfer(block) => block.span,
            Item::Table(table) => table.span,
            Item::Map(block) => block.span,
            Item::Select(select) => select.span,
            Item::SyncBack(block) => block.span,
            Item::Checklist(block) => block.span,
            Item::ClientMatch(rule) => rule.span,
            Item::Let(decl) => decl.span,
        }
    }
}

/// `match client NAME into TARGET`: with `apply --clients`, an existing PSA client whose name
/// matches after normalisation gives its id to `TARGET`.
#[derive(Debug, Clone)]
pub struct ClientMatch {
    /// The company name to match.
    pub name: Expr,
    /// The target field that receives the matched client's id.
    pub target: Path,
    /// The whole item.
    pub span: Span,
}

/// A source or target record and its schema.
#[derive(Debug, Clone)]
pub struct RecordDecl {
    /// The record's name, used as the root of paths.
    pub name: Ident,
    /// The schema file, relative to the mapping file.
    pub schema: StrLit,
    /// `in "POINTER"`: where the records are in each input document (a vendor page), as a JSON
    /// pointer.
    pub envelope: Option<StrLit>,
    /// For related source records: how to find them at apply time.
    pub join: Option<Join>,
    /// The whole declaration.
    pub span: Span,
}

/// `join on LEFT == RIGHT`: LEFT is in the joined record, RIGHT in another source.
#[derive(Debug, Clone)]
pub struct Join {
    /// The key in the joined record.
    pub key: Path,
    /// The value it must equal, from an earlier source.
    pub equals: Path,
    /// The whole clause.
    pub span: Span,
}

/// `trigger when COND`.
#[derive(Debug, Clone)]
pub struct Trigger {
    /// The condition.
    pub condition: Cond,
    /// The whole item.
    pub span: Span,
}

/// `require at stage "S" { RULE... }`.
#[derive(Debug, Clone)]
pub struct RequireBlock {
    /// The stage the rules apply at.
    pub stage: StrLit,
    /// The rules.
    pub rules: Vec<RequireRule>,
    /// The whole block.
    pub span: Span,
}

/// One required fact.
#[derive(Debug, Clone)]
pub struct RequireRule {
    /// What must hold.
    pub condition: Cond,
    /// Shown when it does not.
    pub message: Option<StrLit>,
    /// The whole rule.
    pub span: Span,
}

/// `never transfer { PATH... }`.
#[derive(Debug, Clone)]
pub struct NeverBlock {
    /// The protected paths.
    pub paths: Vec<Path>,
    /// The whole block.
    pub span: Span,
}

/// A value table.
#[derive(Debug, Clone)]
pub struct TableDecl {
    /// The table's name.
    pub name: Ident,
    /// Inline rows or a file.
    pub body: TableBody,
    /// The whole declaration.
    pub span: Span,
}

/// Where a table's rows come from.
#[derive(Debug, Clone)]
pub enum TableBody {
    /// Rows written in the mapping.
    Inline(Vec<TableRow>),
    /// A YAML or CSV file relative to the mapping.
    File(StrLit),
}

/// One inline row.
#[derive(Debug, Clone)]
pub struct TableRow {
    /// The keys; empty for the default row `_`.
    pub keys: Vec<Literal>,
    /// The value.
    pub value: Literal,
    /// The whole row.
    pub span: Span,
}

/// `map { ... }`.
#[derive(Debug, Clone)]
pub struct MapBlock {
    /// The assignments.
    pub assignments: Vec<Assignment>,
    /// The whole block.
    pub span: Span,
}

/// `PATH = EXPR [owner psa]`.
#[derive(Debug, Clone)]
pub struct Assignment {
    /// Where the value goes.
    pub target: Path,
    /// The value.
    pub value: Expr,
    /// `owner psa|crm`, only meaningful in `sync back`.
    pub owner: Option<Ident>,
    /// The whole assignment.
    pub span: Span,
}

/// `select TARGET { when ... otherwise ... }`.
#[derive(Debug, Clone)]
pub struct SelectBlock {
    /// The field the select writes.
    pub target: Path,
    /// The ordered branches.
    pub arms: Vec<WhenArm>,
    /// The fallback branch.
    pub otherwise: Option<Otherwise>,
    /// The whole block.
    pub span: Span,
}

/// `when COND => EXPR`.
#[derive(Debug, Clone)]
pub struct WhenArm {
    /// The condition.
    pub condition: Cond,
    /// The value written when it holds.
    pub value: Expr,
    /// The whole arm.
    pub span: Span,
}

/// `otherwise => EXPR`.
#[derive(Debug, Clone)]
pub struct Otherwise {
    /// The value.
    pub value: Expr,
    /// The whole arm.
    pub span: Span,
}

/// `sync back { ... }`.
#[derive(Debug, Clone)]
pub struct SyncBlock {
    /// The assignments (CRM path = PSA expression).
    pub assignments: Vec<Assignment>,
    /// The whole block.
    pub span: Span,
}

/// `checklist { ... }`.
#[derive(Debug, Clone)]
pub struct ChecklistBlock {
    /// The items.
    pub items: Vec<StrLit>,
    /// The whole block.
    pub span: Span,
}

/// A path into a record.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    /// The record the path starts from.
    pub root: Ident,
    /// The steps after the root.
    pub segments: Vec<Segment>,
    /// The whole path.
    pub span: Span,
}

impl Path {
    /// The path as written, normalised (`deal.properties.amount`).
    pub fn display(&self) -> String {
        let mut out = self.root.name.clone();
        for segment in &self.segments {
            segment.kind.write(&mut out);
        }
        out
    }

    /// The path up to and including segment `count - 1`.
    pub fn display_prefix(&self, count: usize) -> String {
        let mut out = self.root.name.clone();
        for segment in self.segments.iter().take(count) {
            segment.kind.write(&mut out);
        }
        out
    }
}

/// One step of a path.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// What kind of step.
    pub kind: SegmentKind,
    /// Where it is written.
    pub span: Span,
}

/// A field, an index, or a search by key.
#[derive(Debug, Clone, PartialEq)]
pub enum SegmentKind {
    /// `.name` or `."quoted name"`
    Field(String),
    /// `[3]`
    Index(usize),
    /// `[key == literal]`
    Search {
        /// The field compared in each element.
        key: String,
        /// Where the key is written.
        key_span: Span,
        /// The value searched for.
        value: Literal,
    },
}

impl SegmentKind {
    /// Appends the segment as written to `out`.
    pub fn write(&self, out: &mut String) {
        match self {
            SegmentKind::Field(name) if is_plain_name(name) => {
                out.push('.');
                out.push_str(name);
            }
            SegmentKind::Field(name) => {
                out.push('.');
                out.push_str(&serde_json::Value::String(name.clone()).to_string());
            }
            SegmentKind::Index(i) => out.push_str(&format!("[{i}]")),
            SegmentKind::Search { key, value, .. } => {
                out.push_str(&format!("[{key} == {}]", value.kind.display()))
            }
        }
    }
}

/// True for names that need no quotes in a path.
pub fn is_plain_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A literal value.
#[derive(Debug, Clone, PartialEq)]
pub struct Literal {
    /// The value.
    pub kind: LitKind,
    /// Where it is written.
    pub span: Span,
}

/// The kinds of literal.
#[derive(Debug, Clone, PartialEq)]
pub enum LitKind {
    /// A string.
    Str(String),
    /// A number, kept as JSON number.
    Num(serde_json::Number),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
}

impl LitKind {
    /// The literal as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            LitKind::Str(s) => serde_json::Value::String(s.clone()),
            LitKind::Num(n) => serde_json::Value::Number(n.clone()),
            LitKind::Bool(b) => serde_json::Value::Bool(*b),
            LitKind::Null => serde_json::Value::Null,
        }
    }

    /// The literal as it would be written in a mapping.
    pub fn display(&self) -> String {
        self.to_json().to_string()
    }
}

/// An expression: a value, possibly transformed, possibly with alternatives.
#[derive(Debug, Clone)]
pub struct Expr {
    /// What kind of expression.
    pub kind: ExprKind,
    /// The whole expression.
    pub span: Span,
}

/// The kinds of expression.
#[derive(Debug, Clone)]
pub enum ExprKind {
    /// A path read.
    Path(Path),
    /// A literal.
    Literal(Literal),
    /// A string with `{...}` interpolations.
    Template(Vec<TemplatePart>),
    /// `VALUE | call | call ...`
    Pipeline {
        /// The value transformed.
        input: Box<Expr>,
        /// The transforms, in order.
        calls: Vec<Call>,
    },
    /// `A ?? B ?? ...`: the first alternative with a value.
    Coalesce(Vec<Expr>),
    /// `A + B`, `A - B`, `A * B`, `A / B` on numbers.
    Arith {
        /// The operator.
        op: ArithOp,
        /// Where the operator is written.
        op_span: Span,
        /// The left operand.
        left: Box<Expr>,
        /// The right operand.
        right: Box<Expr>,
    },
}

impl Expr {
    /// The expressions directly inside this one, in source order: a pipeline's input and the
    /// value arguments of its calls, alternatives, template parts, operands.
    pub fn children(&self) -> Vec<&Expr> {
        match &self.kind {
            ExprKind::Path(_) | ExprKind::Literal(_) => Vec::new(),
            ExprKind::Template(parts) => parts
                .iter()
                .filter_map(|part| match part {
                    TemplatePart::Expr(inner) => Some(inner),
                    TemplatePart::Text(_) => None,
                })
                .collect(),
            ExprKind::Pipeline { input, calls } => std::iter::once(input.as_ref())
                .chain(calls.iter().flat_map(|call| {
                    call.args.iter().filter_map(|arg| match arg {
                        Arg::Value(value) => Some(value),
                        _ => None,
                    })
                }))
                .collect(),
            ExprKind::Coalesce(alternatives) => alternatives.iter().collect(),
            ExprKind::Arith { left, right, .. } => vec![left, right],
        }
    }
}

/// An arithmetic operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
}

impl ArithOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            ArithOp::Add => "+",
            ArithOp::Sub => "-",
            ArithOp::Mul => "*",
            ArithOp::Div => "/",
        }
    }

    /// The operator in words, for the mapping sheet ("plus", "divided by").
    pub fn words(self) -> &'static str {
        match self {
            ArithOp::Add => "plus",
            ArithOp::Sub => "minus",
            ArithOp::Mul => "times",
            ArithOp::Div => "divided by",
        }
    }
}

/// One part of a template string.
#[derive(Debug, Clone)]
pub enum TemplatePart {
    /// Literal text (escapes decoded).
    Text(String),
    /// `{EXPR}`
    Expr(Expr),
}

/// A transform call in a pipeline.
#[derive(Debug, Clone)]
pub struct Call {
    /// The transform's name.
    pub name: Ident,
    /// Its arguments.
    pub args: Vec<Arg>,
    /// The whole call.
    pub span: Span,
}

/// A transform argument.
#[derive(Debug, Clone)]
pub enum Arg {
    /// A literal.
    Literal(Literal),
    /// A bare name (a table, or a named value given to `default`).
    Name(Ident),
    /// A value read from a record (`default(deal.close_date)`): a path expression.
    Value(Expr),
}

impl Arg {
    /// Where the argument is written.
    pub fn span(&self) -> Span {
        match self {
            Arg::Literal(l) => l.span,
            Arg::Name(n) => n.span,
            Arg::Value(e) => e.span,
        }
    }
}

/// A condition.
#[derive(Debug, Clone)]
pub struct Cond {
    /// What kind of condition.
    pub kind: CondKind,
    /// The whole condition.
    pub span: Span,
}

/// The kinds of condition.
#[derive(Debug, Clone)]
pub enum CondKind {
    /// All must hold.
    And(Vec<Cond>),
    /// One must hold.
    Or(Vec<Cond>),
    /// Must not hold.
    Not(Box<Cond>),
    /// The value is present (not missing, null or "").
    Present(Expr),
    /// `LEFT OP RIGHT`
    Compare {
        /// Left operand.
        left: Expr,
        /// Operator.
        op: CompareOp,
        /// Where the operator is written.
        op_span: Span,
        /// Right operand.
        right: Expr,
    },
    /// `VALUE in [LITERALS]`
    In {
        /// The value.
        value: Expr,
        /// The allowed literals.
        list: Vec<Literal>,
    },
    /// `VALUE matches "REGEX"`
    Matches {
        /// The value.
        value: Expr,
        /// The pattern.
        pattern: StrLit,
    },
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CompareOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "==",
            CompareOp::Ne => "!=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
        }
    }

    /// True for `<`, `<=`, `>`, `>=`.
    pub fn is_ordering(self) -> bool {
        !matches!(self, CompareOp::Eq | CompareOp::Ne)
    }
}
