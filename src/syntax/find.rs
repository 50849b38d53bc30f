//! Finding syntax by position: which node of the tree a byte offset is on ([`node_at`]), the
//! transform call whose arguments a position is in ([`call_around`]), every path a tree writes
//! ([`paths`]) and every expression ([`expressions`]). Tools (the language server) ask these
//! instead of scanning text. A position at the end of a token is on it, so the cursor just after
//! `deal.prop` is on `prop`.

use super::ast::{
    Arg, Assignment, Call, Cond, CondKind, Expr, ExprKind, Item, LitKind, Literal, MapBlock,
    MappingFile, Path, RecordDecl, SyncBlock, TableDecl, TemplatePart,
};
use crate::source::Span;

/// What is under a position.
#[derive(Debug, Clone, Copy)]
pub enum Node<'a> {
    /// A path: on its record name (`segment` is `None`) or on one of its steps.
    Path {
        /// The whole path.
        path: &'a Path,
        /// The index of the step the position is on.
        segment: Option<usize>,
    },
    /// The name of a transform in a pipeline.
    Transform(&'a Call),
    /// A bare name given to a transform (a table in `lookup(owners)`).
    NameArg {
        /// The call.
        call: &'a Call,
        /// Which argument it is.
        index: usize,
    },
    /// The name of a table where it is declared.
    Table(&'a TableDecl),
    /// The name of a record where it is declared (`source deal = ...`).
    Record(&'a RecordDecl),
    /// A string (its span includes the quotes), and what it stands for.
    Text {
        /// Where it is written.
        span: Span,
        /// What its value is checked against.
        role: TextRole<'a>,
    },
}

/// What a string stands for.
#[derive(Debug, Clone, Copy)]
pub enum TextRole<'a> {
    /// It is compared with this expression (`==`, `!=`, `in [...]`).
    Compared(&'a Expr),
    /// The stage of a `require at stage` block.
    Stage,
    /// It is written into this field (a map, a select branch, a sync back rule).
    Written(&'a Path),
    /// Anything else (a message, a pattern, a file name, an argument).
    Other,
}

/// The node of `file` at byte `offset`, if any.
pub fn node_at(file: &MappingFile, offset: usize) -> Option<Node<'_>> {
    let item = file.items.iter().find(|item| covers(item.span(), offset))?;
    item_at(item, offset)
}

/// Every path written in `file`, in order.
pub fn paths(file: &MappingFile) -> Vec<&Path> {
    let mut found = Vec::new();
    for item in &file.items {
        item_paths(item, &mut found);
    }
    found
}

/// Every expression of `file` that is not part of another (assignment values, operands of
/// conditions, select branches, the client match's name), in order. Nested expressions are
/// reached through their [`ExprKind`].
pub fn expressions(file: &MappingFile) -> Vec<&Expr> {
    let mut found = Vec::new();
    for item in &file.items {
        item_exprs(item, &mut found);
    }
    found
}

/// Every test of `file`'s conditions (comparisons, `in`, `matches`, presence), however deeply
/// nested in `and`, `or` and `not`.
pub fn tests(file: &MappingFile) -> Vec<&Cond> {
    let mut stack: Vec<&Cond> = Vec::new();
    for item in &file.items {
        match item {
            Item::Trigger(trigger) => stack.push(&trigger.condition),
            Item::Require(block) => stack.extend(block.rules.iter().map(|r| &r.condition)),
            Item::Select(select) => stack.extend(select.arms.iter().map(|a| &a.condition)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    while let Some(cond) = stack.pop() {
        match &cond.kind {
            CondKind::And(parts) | CondKind::Or(parts) => stack.extend(parts.iter().rev()),
            CondKind::Not(inner) => stack.push(inner),
            _ => found.push(cond),
        }
    }
    found.sort_by_key(|c| c.span.start);
    found
}

/// The transform call whose argument list holds byte `offset` (after its name), and the index
/// of the argument there (the number of arguments before it).
pub fn call_around(file: &MappingFile, offset: usize) -> Option<(&Call, usize)> {
    let mut calls = Vec::new();
    for expr in expressions(file) {
        expr_calls(expr, &mut calls);
    }
    let call = calls
        .into_iter()
        .filter(|call| call.name.span.end < offset && offset <= call.span.end)
        .min_by_key(|call| call.span.len())?;
    let active = call
        .args
        .iter()
        .position(|arg| offset <= arg.span().end)
        .unwrap_or(call.args.len());
    Some((call, active))
}

/// Every transform call inside `expr` (alternatives and template parts included), in order.
pub fn expr_calls<'a>(expr: &'a Expr, found: &mut Vec<&'a Call>) {
    if let ExprKind::Pipeline { input, calls } = &expr.kind {
        expr_calls(input, found);
        found.extend(calls);
        for call in calls {
            for arg in &call.args {
                if let Arg::Value(value) = arg {
                    expr_calls(value, found);
                }
            }
        }
        return;
    }
    for child in expr.children() {
        expr_calls(child, found);
    }
}

fn item_exprs<'a>(item: &'a Item, found: &mut Vec<&'a Expr>) {
    match item {
        Item::Header(_)
        | Item::Checklist(_)
        | Item::Table(_)
        | Item::Source(_)
        | Item::Target(_)
        | Item::NeverTransfer(_) => {}
        Item::Trigger(trigger) => cond_exprs(&trigger.condition, found),
        Item::Require(block) => {
            for rule in &block.rules {
                cond_exprs(&rule.condition, found);
            }
        }
        Item::Map(MapBlock { assignments, .. }) | Item::SyncBack(SyncBlock { assignments, .. }) => {
            found.extend(assignments.iter().map(|a| &a.value));
        }
        Item::Select(select) => {
            for arm in &select.arms {
                cond_exprs(&arm.condition, found);
                found.push(&arm.value);
            }
            if let Some(otherwise) = &select.otherwise {
                found.push(&otherwise.value);
            }
        }
        Item::ClientMatch(rule) => found.push(&rule.name),
        Item::Let(decl) => found.push(&decl.value),
    }
}

fn cond_exprs<'a>(cond: &'a Cond, found: &mut Vec<&'a Expr>) {
    match &cond.kind {
        CondKind::And(parts) | CondKind::Or(parts) => {
            for part in parts {
                cond_exprs(part, found);
            }
        }
        CondKind::Not(inner) => cond_exprs(inner, found),
        CondKind::Present(value) | CondKind::In { value, .. } | CondKind::Matches { value, .. } => {
            found.push(value)
        }
        CondKind::Compare { left, right, .. } => found.extend([left, right]),
    }
}

fn covers(span: Span, offset: usize) -> bool {
    span.start <= offset && offset <= span.end
}

fn item_at(item: &Item, offset: usize) -> Option<Node<'_>> {
    match item {
        Item::Header(_) | Item::Checklist(_) => None,
        Item::Source(record) | Item::Target(record) => {
            if covers(record.name.span, offset) {
                return Some(Node::Record(record));
            }
            if covers(record.schema.span, offset) {
                return Some(Node::Text {
                    span: record.schema.span,
                    role: TextRole::Other,
                });
            }
            let join = record.join.as_ref()?;
            path_at(&join.key, offset).or_else(|| path_at(&join.equals, offset))
        }
        Item::Trigger(trigger) => cond_at(&trigger.condition, offset),
        Item::Require(block) => {
            if covers(block.stage.span, offset) {
                return Some(Node::Text {
                    span: block.stage.span,
                    role: TextRole::Stage,
                });
            }
            block
                .rules
                .iter()
                .find_map(|rule| cond_at(&rule.condition, offset))
        }
        Item::NeverTransfer(block) => block.paths.iter().find_map(|p| path_at(p, offset)),
        Item::Table(table) => covers(table.name.span, offset).then_some(Node::Table(table)),
        Item::Map(block) => assignments_at(&block.assignments, offset),
        Item::SyncBack(block) => assignments_at(&block.assignments, offset),
        Item::Select(select) => path_at(&select.target, offset)
            .or_else(|| {
                select.arms.iter().find_map(|arm| {
                    cond_at(&arm.condition, offset)
                        .or_else(|| expr_at(&arm.value, offset, TextRole::Written(&select.target)))
                })
            })
            .or_else(|| {
                let otherwise = select.otherwise.as_ref()?;
                expr_at(&otherwise.value, offset, TextRole::Written(&select.target))
            }),
        Item::ClientMatch(rule) => {
            path_at(&rule.target, offset).or_else(|| expr_at(&rule.name, offset, TextRole::Other))
        }
        Item::Let(decl) => expr_at(&decl.value, offset, TextRole::Other),
    }
}

fn assignments_at(assignments: &[Assignment], offset: usize) -> Option<Node<'_>> {
    assignments.iter().find_map(|a| {
        path_at(&a.target, offset)
            .or_else(|| expr_at(&a.value, offset, TextRole::Written(&a.target)))
    })
}

fn path_at(path: &Path, offset: usize) -> Option<Node<'_>> {
    if !covers(path.span, offset) {
        return None;
    }
    if covers(path.root.span, offset) {
        return Some(Node::Path {
            path,
            segment: None,
        });
    }
    let segment = path
        .segments
        .iter()
        .position(|segment| covers(segment.span, offset))?;
    Some(Node::Path {
        path,
        segment: Some(segment),
    })
}

fn cond_at(cond: &Cond, offset: usize) -> Option<Node<'_>> {
    if !covers(cond.span, offset) {
        return None;
    }
    match &cond.kind {
        CondKind::And(parts) | CondKind::Or(parts) => {
            parts.iter().find_map(|part| cond_at(part, offset))
        }
        CondKind::Not(inner) => cond_at(inner, offset),
        CondKind::Present(value) => expr_at(value, offset, TextRole::Other),
        CondKind::Compare { left, right, .. } => expr_at(left, offset, TextRole::Compared(right))
            .or_else(|| expr_at(right, offset, TextRole::Compared(left))),
        CondKind::In { value, list } => expr_at(value, offset, TextRole::Other).or_else(|| {
            list.iter()
                .find_map(|literal| text_at(literal, offset, TextRole::Compared(value)))
        }),
        CondKind::Matches { value, pattern } => {
            expr_at(value, offset, TextRole::Other).or_else(|| {
                covers(pattern.span, offset).then_some(Node::Text {
                    span: pattern.span,
                    role: TextRole::Other,
                })
            })
        }
    }
}

/// The node inside `expr`; a string that is the whole value stands for `role`.
fn expr_at<'a>(expr: &'a Expr, offset: usize, role: TextRole<'a>) -> Option<Node<'a>> {
    if !covers(expr.span, offset) {
        return None;
    }
    match &expr.kind {
        ExprKind::Path(path) => path_at(path, offset),
        ExprKind::Literal(literal) => text_at(literal, offset, role),
        ExprKind::Template(parts) => parts
            .iter()
            .find_map(|part| match part {
                TemplatePart::Expr(inner) => expr_at(inner, offset, TextRole::Other),
                TemplatePart::Text(_) => None,
            })
            .or(Some(Node::Text {
                span: expr.span,
                role: TextRole::Other,
            })),
        ExprKind::Pipeline { input, calls } => expr_at(input, offset, TextRole::Other)
            .or_else(|| calls.iter().find_map(|call| call_at(call, offset))),
        ExprKind::Coalesce(alternatives) => alternatives
            .iter()
            .find_map(|alternative| expr_at(alternative, offset, role)),
        ExprKind::Arith { left, right, .. } => expr_at(left, offset, TextRole::Other)
            .or_else(|| expr_at(right, offset, TextRole::Other)),
    }
}

fn call_at(call: &Call, offset: usize) -> Option<Node<'_>> {
    if covers(call.name.span, offset) {
        return Some(Node::Transform(call));
    }
    call.args
        .iter()
        .enumerate()
        .find_map(|(index, arg)| match arg {
            Arg::Name(name) if covers(name.span, offset) => Some(Node::NameArg { call, index }),
            Arg::Name(_) => None,
            Arg::Literal(literal) => text_at(literal, offset, TextRole::Other),
            Arg::Value(value) => expr_at(value, offset, TextRole::Other),
        })
}

fn text_at<'a>(literal: &Literal, offset: usize, role: TextRole<'a>) -> Option<Node<'a>> {
    (matches!(literal.kind, LitKind::Str(_)) && covers(literal.span, offset)).then_some(
        Node::Text {
            span: literal.span,
            role,
        },
    )
}

fn item_paths<'a>(item: &'a Item, found: &mut Vec<&'a Path>) {
    match item {
        Item::Header(_) | Item::Checklist(_) | Item::Table(_) => {}
        Item::Source(record) | Item::Target(record) => {
            if let Some(join) = &record.join {
                found.extend([&join.key, &join.equals]);
            }
        }
        Item::Trigger(trigger) => cond_paths(&trigger.condition, found),
        Item::Require(block) => {
            for rule in &block.rules {
                cond_paths(&rule.condition, found);
            }
        }
        Item::NeverTransfer(block) => found.extend(&block.paths),
        Item::Map(MapBlock { assignments, .. }) | Item::SyncBack(SyncBlock { assignments, .. }) => {
            for assignment in assignments {
                found.push(&assignment.target);
                expr_paths(&assignment.value, found);
            }
        }
        Item::Select(select) => {
            found.push(&select.target);
            for arm in &select.arms {
                cond_paths(&arm.condition, found);
                expr_paths(&arm.value, found);
            }
            if let Some(otherwise) = &select.otherwise {
                expr_paths(&otherwise.value, found);
            }
        }
        Item::ClientMatch(rule) => {
            expr_paths(&rule.name, found);
            found.push(&rule.target);
        }
        Item::Let(decl) => expr_paths(&decl.value, found),
    }
}

fn cond_paths<'a>(cond: &'a Cond, found: &mut Vec<&'a Path>) {
    match &cond.kind {
        CondKind::And(parts) | CondKind::Or(parts) => {
            for part in parts {
                cond_paths(part, found);
            }
        }
        CondKind::Not(inner) => cond_paths(inner, found),
        CondKind::Present(value) | CondKind::In { value, .. } | CondKind::Matches { value, .. } => {
            expr_paths(value, found)
        }
        CondKind::Compare { left, right, .. } => {
            expr_paths(left, found);
            expr_paths(right, found);
        }
    }
}

fn expr_paths<'a>(expr: &'a Expr, found: &mut Vec<&'a Path>) {
    if let ExprKind::Path(path) = &expr.kind {
        found.push(path);
    }
    for child in expr.children() {
        expr_paths(child, found);
    }
}
