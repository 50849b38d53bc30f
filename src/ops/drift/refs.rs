//! Where a mapping names the fields of one record, and the values it names them with.
//!
//! Read from the syntax tree alone (no schema is needed, so a mapping that no longer checks
//! against the new schema is still read): every path that starts at the record, read or
//! written; every literal the record's fields are compared with (`==`, `!=`, `in`), the trigger
//! stage and the stages of `require at stage` blocks; literals written into its fields; the
//! keys of the inline tables its fields are looked up in, and the values of the inline tables
//! whose lookups are written into its fields.

use serde_json::Value;

use crate::source::Span;
use crate::syntax::ast::{
    Assignment, CompareOp, Cond, CondKind, Expr, ExprKind, Item, LitKind, MappingFile, Path,
    SegmentKind, TableBody,
};

/// One step of a mapping path.
#[derive(Debug, Clone, PartialEq)]
pub enum RefStep {
    /// `.name`
    Field(String),
    /// `[3]`
    Index,
    /// `[key == value]`
    Search {
        /// The member compared.
        key: String,
        /// The value searched for.
        value: Value,
    },
}

/// A path of the record, as written.
#[derive(Debug, Clone)]
pub struct PathUse {
    /// The steps after the record name.
    pub steps: Vec<RefStep>,
    /// The path as written (`deal.properties.dealstage`).
    pub display: String,
    /// Where.
    pub span: Span,
    /// True when the rule writes the field (map, select, match client, sync back).
    pub writes: bool,
}

/// How a mapping uses a value of a field.
#[derive(Debug, Clone, PartialEq)]
pub enum How {
    /// Compared with the field (`==`, `!=`, `in`), the trigger among them.
    Compared,
    /// Named as a stage (`require at stage "S"`).
    Stage,
    /// Written into the field.
    Written,
    /// A key of this table, which the field is looked up in.
    TableKey(String),
    /// A value of this table, whose lookup is written into the field.
    TableValue(String),
}

/// A value a mapping names for a field of the record.
#[derive(Debug, Clone)]
pub struct ValueUse {
    /// The field.
    pub field: Vec<RefStep>,
    /// The field as written.
    pub display: String,
    /// The value.
    pub value: Value,
    /// Where the value is written.
    pub span: Span,
    /// How it is used.
    pub how: How,
}

/// A field looked up in an inline table (`deal.properties.service_line | lookup(job_types)`).
#[derive(Debug, Clone)]
pub struct Lookup {
    /// The field.
    pub field: Vec<RefStep>,
    /// The field as written.
    pub display: String,
    /// The table's keys.
    pub keys: Vec<Value>,
    /// True when the table has a default row (`_`).
    pub has_default: bool,
    /// The table's name where it is declared.
    pub table: Span,
    /// The table's name.
    pub name: String,
    /// Where the lookup is written.
    pub span: Span,
}

/// Everything a mapping names of one record.
#[derive(Debug, Default)]
pub struct Uses {
    /// Paths read or written.
    pub paths: Vec<PathUse>,
    /// Values named.
    pub values: Vec<ValueUse>,
    /// Lookups in inline tables.
    pub lookups: Vec<Lookup>,
}

/// An inline table: its name's span, rows (key literals and value literals) and default row.
struct Table {
    name: String,
    span: Span,
    keys: Vec<(Value, Span)>,
    values: Vec<(Value, Span)>,
    has_default: bool,
}

/// What `ast` names of `record`.
pub fn collect(ast: &MappingFile, record: &str) -> Uses {
    let tables: Vec<Table> = ast.items.iter().filter_map(table).collect();
    let mut collector = Collector {
        record,
        tables: &tables,
        uses: Uses::default(),
        stage: stage_path(ast),
        in_trigger: false,
    };
    for item in &ast.items {
        collector.item(item);
    }
    collector.uses
}

fn table(item: &Item) -> Option<Table> {
    let Item::Table(decl) = item else {
        return None;
    };
    let TableBody::Inline(rows) = &decl.body else {
        return None;
    };
    let mut table = Table {
        name: decl.name.name.clone(),
        span: decl.name.span,
        keys: Vec::new(),
        values: Vec::new(),
        has_default: false,
    };
    for row in rows {
        table.has_default |= row.keys.is_empty();
        table
            .keys
            .extend(row.keys.iter().map(|k| (k.kind.to_json(), k.span)));
        table
            .values
            .push((row.value.kind.to_json(), row.value.span));
    }
    Some(table)
}

/// The path the trigger compares with a literal: the stage field.
fn stage_path(ast: &MappingFile) -> Option<Path> {
    ast.items.iter().find_map(|item| match item {
        Item::Trigger(trigger) => compared_path(&trigger.condition),
        _ => None,
    })
}

fn compared_path(cond: &Cond) -> Option<Path> {
    match &cond.kind {
        CondKind::And(parts) | CondKind::Or(parts) => parts.iter().find_map(compared_path),
        CondKind::Not(inner) => compared_path(inner),
        CondKind::Compare { left, right, .. } => {
            direct_path(left).or_else(|| direct_path(right)).cloned()
        }
        CondKind::In { value, .. } => direct_path(value).cloned(),
        _ => None,
    }
}

/// The path an expression is, when it is only a path.
fn direct_path(expr: &Expr) -> Option<&Path> {
    match &expr.kind {
        ExprKind::Path(path) => Some(path),
        _ => None,
    }
}

struct Collector<'a> {
    record: &'a str,
    tables: &'a [Table],
    uses: Uses,
    stage: Option<Path>,
    /// True while the trigger is read: the values it compares the stage field with are stages.
    in_trigger: bool,
}

impl Collector<'_> {
    fn item(&mut self, item: &Item) {
        match item {
            Item::Source(decl) | Item::Target(decl) => {
                if let Some(join) = &decl.join {
                    self.path(&join.key, false);
                    self.path(&join.equals, false);
                }
            }
            Item::Trigger(trigger) => {
                self.in_trigger = true;
                self.cond(&trigger.condition);
                self.in_trigger = false;
            }
            Item::Require(block) => {
                if let Some(stage) = self.stage.clone() {
                    self.value(
                        &stage,
                        Value::String(block.stage.value.clone()),
                        block.stage.span,
                        How::Stage,
                    );
                }
                for rule in &block.rules {
                    self.cond(&rule.condition);
                }
            }
            Item::NeverTransfer(block) => {
                for path in &block.paths {
                    self.path(path, false);
                }
            }
            Item::Map(block) => block.assignments.iter().for_each(|a| self.assignment(a)),
            Item::SyncBack(block) => block.assignments.iter().for_each(|a| self.assignment(a)),
            Item::Select(select) => {
                self.path(&select.target, true);
                for arm in &select.arms {
                    self.cond(&arm.condition);
                    self.written(&select.target, &arm.value);
                }
                if let Some(otherwise) = &select.otherwise {
                    self.written(&select.target, &otherwise.value);
                }
            }
            Item::ClientMatch(client) => {
                self.expr(&client.name);
                self.path(&client.target, true);
            }
            Item::Let(decl) => self.expr(&decl.value),
            Item::Header(_) | Item::Table(_) | Item::Checklist(_) => {}
        }
    }

    fn assignment(&mut self, assignment: &Assignment) {
        self.path(&assignment.target, true);
        self.written(&assignment.target, &assignment.value);
    }

    /// The values `value` writes into `target`: a literal, or the values of the inline table
    /// its last lookup reads.
    fn written(&mut self, target: &Path, value: &Expr) {
        self.expr(value);
        match &value.kind {
            ExprKind::Literal(literal) => {
                self.value(target, literal.kind.to_json(), literal.span, How::Written);
            }
            ExprKind::Pipeline { calls, .. } => {
                let Some(table) = calls.last().and_then(|c| self.looked_up(c)) else {
                    return;
                };
                let name = table.name.clone();
                for (v, span) in table.values.clone() {
                    self.value(target, v, span, How::TableValue(name.clone()));
                }
            }
            _ => {}
        }
    }

    /// The inline table a `lookup(T)` call names.
    fn looked_up(&self, call: &crate::syntax::ast::Call) -> Option<&Table> {
        if call.name.name != "lookup" {
            return None;
        }
        let crate::syntax::ast::Arg::Name(name) = call.args.first()? else {
            return None;
        };
        self.tables.iter().find(|t| t.name == name.name)
    }

    fn expr(&mut self, expr: &Expr) {
        match &expr.kind {
            ExprKind::Path(path) => self.path(path, false),
            ExprKind::Pipeline { input, calls } => {
                if let (Some(path), Some(first)) = (direct_path(input), calls.first()) {
                    self.lookup(path, first);
                }
            }
            _ => {}
        }
        for child in expr.children() {
            self.expr(child);
        }
    }

    /// `path | lookup(T)`: the keys of T are values of the field.
    fn lookup(&mut self, path: &Path, call: &crate::syntax::ast::Call) {
        let Some(table) = self.looked_up(call) else {
            return;
        };
        let Some(field) = self.steps(path) else {
            return;
        };
        let (name, span, keys) = (table.name.clone(), table.span, table.keys.clone());
        self.uses.lookups.push(Lookup {
            field,
            display: path.display(),
            keys: keys.iter().map(|(v, _)| v.clone()).collect(),
            has_default: table.has_default,
            table: span,
            name: name.clone(),
            span: call.span,
        });
        for (value, key_span) in keys {
            self.value(path, value, key_span, How::TableKey(name.clone()));
        }
    }

    fn cond(&mut self, cond: &Cond) {
        match &cond.kind {
            CondKind::And(parts) | CondKind::Or(parts) => parts.iter().for_each(|c| self.cond(c)),
            CondKind::Not(inner) => self.cond(inner),
            CondKind::Present(expr) => self.expr(expr),
            CondKind::Compare {
                left, op, right, ..
            } => {
                self.expr(left);
                self.expr(right);
                if matches!(op, CompareOp::Eq | CompareOp::Ne) {
                    self.compared(left, right);
                    self.compared(right, left);
                }
            }
            CondKind::In { value, list } => {
                self.expr(value);
                if let Some(path) = direct_path(value) {
                    let how = self.comparison(path);
                    for literal in list {
                        self.value(path, literal.kind.to_json(), literal.span, how.clone());
                    }
                }
            }
            CondKind::Matches { value, .. } => self.expr(value),
        }
    }

    /// `path == literal`.
    fn compared(&mut self, side: &Expr, other: &Expr) {
        if let (Some(path), ExprKind::Literal(literal)) = (direct_path(side), &other.kind)
            && literal.kind != LitKind::Null
        {
            let how = self.comparison(path);
            self.value(path, literal.kind.to_json(), literal.span, how);
        }
    }

    /// A comparison names a stage when the trigger compares the stage field.
    fn comparison(&self, path: &Path) -> How {
        let is_stage = self
            .stage
            .as_ref()
            .is_some_and(|s| s.display() == path.display());
        if self.in_trigger && is_stage {
            How::Stage
        } else {
            How::Compared
        }
    }

    fn value(&mut self, path: &Path, value: Value, span: Span, how: How) {
        if let Some(field) = self.steps(path) {
            self.uses.values.push(ValueUse {
                field,
                display: path.display(),
                value,
                span,
                how,
            });
        }
    }

    fn path(&mut self, path: &Path, writes: bool) {
        if let Some(steps) = self.steps(path) {
            self.uses.paths.push(PathUse {
                steps,
                display: path.display(),
                span: path.span,
                writes,
            });
        }
    }

    /// The steps of `path` after the record name, when it starts at the record.
    fn steps(&self, path: &Path) -> Option<Vec<RefStep>> {
        (path.root.name == self.record).then(|| {
            path.segments
                .iter()
                .map(|s| match &s.kind {
                    SegmentKind::Field(name) => RefStep::Field(name.clone()),
                    SegmentKind::Index(_) => RefStep::Index,
                    SegmentKind::Search { key, value, .. } => RefStep::Search {
                        key: key.clone(),
                        value: value.kind.to_json(),
                    },
                })
                .collect()
        })
    }
}
