//! Quick fixes that the checker verifies: every concrete change a diagnostic's help names is
//! tried on the text in memory and checked again; it is offered only when the diagnostic is gone
//! and no new error appeared. So a suggestion that reads well but would not check clean (a
//! conversion that leaves a type mismatch, a name that is taken) is never offered.
//!
//! What the help names, and what is tried:
//! - "did you mean `name`?" / "did you mean \"value\"?": the name or string under the
//!   diagnostic is replaced (fields, records, tables, transforms; stages, enum values, template
//!   names);
//! - a rule or expression in backticks (`project.budget = deal.x | number`,
//!   `deal.x | number > 0`, `join on a.id == b.id`): it replaces the enclosing assignment,
//!   condition, expression or join that starts with the same word;
//! - "remove `| join(...)`": that call is deleted from the expression;
//! - "add `deal.x` to the `require at stage` block": the path is added to the block of that stage;
//! - "require it where the deal is handed off: `deal.x > 0` in the `require at stage` block"
//!   (M316, M318): the rule is added to the mapping's one require block;
//! - M303, a required field no rule writes: a rule is added that writes `null` when the field
//!   takes null, and otherwise a rule whose value is left for the author to write (`TODO`, a
//!   visible error), never an invented `0` or `""`.

use std::collections::HashMap;
use std::ops::Range;

use super::analysis::{Analysis, check_text};
use super::quote::{name_or_quoted, string_literal};
use crate::diag::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{Assignment, Cond, CondKind, Expr, Item, Path, Segment, SegmentKind};
use crate::value::Kinds;

/// A change to the document's text: the byte range replaced and its new text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    /// The bytes replaced.
    pub range: Range<usize>,
    /// What is written there.
    pub text: String,
}

/// A fix the checker verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    /// What the editor shows.
    pub title: String,
    /// The change.
    pub edit: Edit,
    /// True for the fix of choice (an editor may apply it on a key press).
    pub preferred: bool,
}

/// A change worth trying, and where in the changed text new errors are expected (a stub whose
/// value the author must write).
struct Candidate {
    title: String,
    edit: Edit,
    preferred: bool,
    expected_errors: bool,
}

/// At most this many candidates are checked for one diagnostic (each is a whole check).
const MAX_TRIES: usize = 8;

/// The verified fixes of `diagnostic` (one of `analysis`'s).
pub fn fixes(analysis: &Analysis, diagnostic: &Diagnostic) -> Vec<Fix> {
    let mut found: Vec<Fix> = Vec::new();
    for candidate in candidates(analysis, diagnostic).into_iter().take(MAX_TRIES) {
        if found.iter().any(|f| f.edit == candidate.edit) {
            continue;
        }
        if verified(analysis, diagnostic, &candidate) {
            found.push(Fix {
                title: candidate.title,
                edit: candidate.edit,
                preferred: candidate.preferred,
            });
        }
    }
    found
}

/// The changes the help names, most specific first.
fn candidates(analysis: &Analysis, diagnostic: &Diagnostic) -> Vec<Candidate> {
    let mut found = Vec::new();
    if diagnostic.primary.span.file != analysis.output.file {
        return found;
    }
    let help = diagnostic.help.as_deref().unwrap_or_default();
    if let Some(value) = quoted_suggestion(help) {
        found.push(replace_primary(analysis, diagnostic, &value, true));
    }
    for (before, snippet) in &backticked(help) {
        let snippet = snippet.as_str();
        if before.ends_with("did you mean ") {
            found.push(replace_primary(analysis, diagnostic, snippet, false));
        } else if before.ends_with("remove ") && snippet.starts_with('|') {
            found.extend(remove_call(analysis, diagnostic.primary.span, snippet));
        } else if before.ends_with("(add ") && snippet_is_path(snippet) {
            found.extend(require_path(analysis, help, snippet));
        } else if before.ends_with("where the deal is handed off: ") {
            found.extend(require_condition(analysis, snippet));
        } else if !snippet.contains("...") {
            found.extend(replace_enclosing(
                analysis,
                diagnostic.primary.span,
                snippet,
            ));
        }
    }
    if diagnostic.code == Code::M303 {
        found.extend(stub(analysis, diagnostic));
    }
    found
}

/// Checks the changed text: the diagnostic must be gone (one fewer of its code and message) and
/// no error must be new (none that the text did not have before, except, for a stub, inside
/// the line it adds).
fn verified(analysis: &Analysis, diagnostic: &Diagnostic, candidate: &Candidate) -> bool {
    let edit = &candidate.edit;
    let Some(text) = apply(&analysis.text, edit) else {
        return false;
    };
    if text == analysis.text {
        return false;
    }
    let (_, after) = check_text(&analysis.path, &text);
    let key = |d: &Diagnostic| (d.code, d.message.clone());
    let mut before: HashMap<(Code, String), isize> = HashMap::new();
    for d in &analysis.output.diagnostics {
        *before.entry(key(d)).or_default() += 1;
    }
    *before.entry(key(diagnostic)).or_default() -= 1;
    let inserted = edit.range.start..edit.range.start + edit.text.len();
    let mut remaining = before;
    for d in &after.diagnostics {
        let count = remaining.entry(key(d)).or_default();
        *count -= 1;
        let in_stub = candidate.expected_errors
            && d.primary.span.file == after.file
            && inserted.contains(&d.primary.span.start);
        if *count < 0 && d.is_error() && !in_stub {
            return false;
        }
    }
    // The diagnostic itself must not be there any more (not even as a warning).
    remaining.get(&key(diagnostic)).copied().unwrap_or(0) >= 0
}

/// The text with `edit` made, or `None` when its range is not in the text.
pub fn apply(text: &str, edit: &Edit) -> Option<String> {
    let Range { start, end } = edit.range.clone();
    if start > end || !text.is_char_boundary(start) || !text.is_char_boundary(end) {
        return None;
    }
    let mut out = String::with_capacity(text.len() + edit.text.len());
    out.push_str(text.get(..start)?);
    out.push_str(&edit.text);
    out.push_str(text.get(end..)?);
    Some(out)
}

/// The value of `did you mean "VALUE"?` (a JSON string), if the help says that.
fn quoted_suggestion(help: &str) -> Option<String> {
    let rest = help.split("did you mean \"").nth(1)?;
    let mut end = None;
    let mut escaped = false;
    for (i, c) in rest.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => {
                end = Some(i);
                break;
            }
            _ => escaped = false,
        }
    }
    let literal = format!("\"{}\"", &rest[..end?]);
    serde_json::from_str(&literal).ok()
}

/// The texts between backticks, in order, each with the help text before it.
fn backticked(help: &str) -> Vec<(&str, String)> {
    let mut found = Vec::new();
    let mut offset = 0;
    for (i, part) in help.split('`').enumerate() {
        if i % 2 == 1 && !part.is_empty() {
            found.push((&help[..offset - 1], part.to_string()));
        }
        offset += part.len() + 1;
    }
    found
}

fn snippet_is_path(snippet: &str) -> bool {
    !snippet.is_empty()
        && snippet
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '"' | '[' | ']'))
}

/// Replaces the diagnostic's token with `value`: a string literal where the token is one (or
/// the help quoted the value), else a name.
fn replace_primary(
    analysis: &Analysis,
    diagnostic: &Diagnostic,
    value: &str,
    quoted: bool,
) -> Candidate {
    let span = diagnostic.primary.span;
    let at = analysis.text.get(span.start..span.end).unwrap_or_default();
    let text = if quoted || at.starts_with('"') {
        string_literal(value)
    } else {
        name_or_quoted(value)
    };
    Candidate {
        title: format!("Replace with `{}`", if quoted { &text } else { value }),
        edit: Edit {
            range: span.start..span.end,
            text,
        },
        preferred: true,
        expected_errors: false,
    }
}

/// The enclosing assignments, conditions, expressions and joins of `span` that start with the
/// same word as `snippet`, each replaced by it (innermost first).
fn replace_enclosing(analysis: &Analysis, span: Span, snippet: &str) -> Vec<Candidate> {
    // `(a * b) | round(2)` replaces the expression `a * b | round(2)`: parentheses aside, the
    // same first word.
    let first_word = |s: &str| {
        let word = s.split_whitespace().next().unwrap_or_default();
        word.trim_start_matches('(').to_string()
    };
    let wanted = first_word(snippet);
    let mut spans = enclosing(analysis, span);
    spans.sort_by_key(Span::len);
    spans
        .into_iter()
        .filter(|s| first_word(analysis.text.get(s.start..s.end).unwrap_or_default()) == wanted)
        .map(|s| Candidate {
            title: format!("Change to `{snippet}`"),
            edit: Edit {
                range: s.start..s.end,
                text: snippet.to_string(),
            },
            preferred: true,
            expected_errors: false,
        })
        .collect()
}

/// Deletes the call `snippet` (`| join(", ")`) from the expression around `span`.
fn remove_call(analysis: &Analysis, span: Span, snippet: &str) -> Vec<Candidate> {
    let text = &analysis.text;
    enclosing(analysis, span)
        .into_iter()
        .filter_map(|s| {
            let inside = text.get(s.start..s.end)?;
            let found = inside.find(snippet)?;
            let mut start = s.start + found;
            while start > s.start && text[..start].ends_with(' ') {
                start -= 1;
            }
            Some(Candidate {
                title: format!("Remove `{snippet}`"),
                edit: Edit {
                    range: start..s.start + found + snippet.len(),
                    text: String::new(),
                },
                preferred: true,
                expected_errors: false,
            })
        })
        .take(1)
        .collect()
}

/// Adds `path` to the `require at stage "S"` block the help names (or a new block for it).
fn require_path(analysis: &Analysis, help: &str, path: &str) -> Option<Candidate> {
    let stage = help.split("at stage \"").nth(1)?.split('"').next()?;
    let block = analysis
        .output
        .ast
        .items
        .iter()
        .find_map(|item| match item {
            Item::Require(block) if block.stage.value == stage => Some(block.span),
            _ => None,
        });
    let opener = format!("require at stage {}", string_literal(stage));
    Some(Candidate {
        title: format!("Require `{path}` at stage \"{stage}\""),
        edit: add_to_block(&analysis.text, block, path, &opener),
        preferred: true,
        expected_errors: false,
    })
}

/// Adds the rule `condition` to the mapping's one `require at stage` block (M316, M318: "require
/// it where the deal is handed off"). With several blocks the rule must hold at every trigger
/// stage, which is the author's call: nothing is offered.
fn require_condition(analysis: &Analysis, condition: &str) -> Option<Candidate> {
    let mut blocks = analysis
        .output
        .ast
        .items
        .iter()
        .filter_map(|item| match item {
            Item::Require(block) => Some(block),
            _ => None,
        });
    let block = blocks.next()?;
    if blocks.next().is_some() {
        return None;
    }
    let opener = format!("require at stage {}", string_literal(&block.stage.value));
    Some(Candidate {
        title: format!("Require `{condition}` at stage \"{}\"", block.stage.value),
        edit: add_to_block(&analysis.text, Some(block.span), condition, &opener),
        preferred: true,
        expected_errors: false,
    })
}

/// A rule for the required field M303 names: `= null` where the field takes null, else a rule
/// whose value is left to write (a visible error until it is).
fn stub(analysis: &Analysis, diagnostic: &Diagnostic) -> Option<Candidate> {
    let field = diagnostic.message.split('`').nth(1)?;
    let path = dotted_path(analysis, field);
    let nullable = analysis
        .query()
        .field(&path, path.segments.len())
        .is_some_and(|f| f.flat.kinds.intersects(Kinds::NULL));
    let (line, title) = if nullable {
        (
            format!("{field} = null  # TODO: the PSA requires this field"),
            format!("Add `{field} = null`"),
        )
    } else {
        (
            format!("{field} = TODO  # the PSA requires this field: write its value"),
            format!("Add a rule for `{field}` (its value to write)"),
        )
    };
    let block = analysis
        .output
        .ast
        .items
        .iter()
        .find_map(|item| match item {
            Item::Map(block) => Some(block.span),
            _ => None,
        });
    Some(Candidate {
        title,
        edit: add_to_block(&analysis.text, block, &line, "map"),
        preferred: nullable,
        expected_errors: !nullable,
    })
}

/// `record.a.b` (as M303 names a field) as a path of field steps.
fn dotted_path(analysis: &Analysis, field: &str) -> Path {
    let nowhere = Span::new(analysis.output.file, 0, 0);
    let mut names = field.split('.');
    let root = crate::syntax::ast::Ident {
        name: names.next().unwrap_or_default().to_string(),
        span: nowhere,
    };
    let segments = names
        .map(|name| Segment {
            kind: SegmentKind::Field(name.to_string()),
            span: nowhere,
        })
        .collect();
    Path {
        root,
        segments,
        span: nowhere,
    }
}

/// Inserts `line` as the last line of the block at `block`, or appends a new `opener` block
/// holding it at the end of the text.
pub fn add_to_block(text: &str, block: Option<Span>, line: &str, opener: &str) -> Edit {
    let Some(block) = block else {
        let gap = if text.ends_with('\n') || text.is_empty() {
            "\n"
        } else {
            "\n\n"
        };
        return Edit {
            range: text.len()..text.len(),
            text: format!("{gap}{opener} {{\n  {line}\n}}\n"),
        };
    };
    let close = block.end.saturating_sub(1).min(text.len());
    let line_start = text[..close].rfind('\n').map_or(0, |i| i + 1);
    if text[line_start..close].trim().is_empty() {
        Edit {
            range: line_start..line_start,
            text: format!("  {line}\n"),
        }
    } else {
        Edit {
            range: close..close,
            text: format!("\n  {line}\n"),
        }
    }
}

/// The spans of the assignments, conditions, expressions and joins that hold `span`.
fn enclosing(analysis: &Analysis, span: Span) -> Vec<Span> {
    let mut found = Vec::new();
    let holds = |outer: Span| outer.start <= span.start && span.end <= outer.end;
    for item in &analysis.output.ast.items {
        if !holds(item.span()) {
            continue;
        }
        match item {
            Item::Source(record) | Item::Target(record) => {
                found.extend(record.join.as_ref().map(|j| j.span).filter(|s| holds(*s)));
            }
            Item::Trigger(trigger) => cond_spans(&trigger.condition, &holds, &mut found),
            Item::Require(block) => {
                for rule in &block.rules {
                    cond_spans(&rule.condition, &holds, &mut found);
                }
            }
            Item::Map(block) => assignment_spans(&block.assignments, &holds, &mut found),
            Item::SyncBack(block) => assignment_spans(&block.assignments, &holds, &mut found),
            Item::Select(select) => {
                for arm in &select.arms {
                    cond_spans(&arm.condition, &holds, &mut found);
                    expr_spans(&arm.value, &holds, &mut found);
                }
                if let Some(otherwise) = &select.otherwise {
                    expr_spans(&otherwise.value, &holds, &mut found);
                }
            }
            Item::ClientMatch(rule) => expr_spans(&rule.name, &holds, &mut found),
            Item::Let(decl) => expr_spans(&decl.value, &holds, &mut found),
            Item::Header(_) | Item::NeverTransfer(_) | Item::Table(_) | Item::Checklist(_) => {}
        }
    }
    found
}

fn assignment_spans(assignments: &[Assignment], holds: &dyn Fn(Span) -> bool, out: &mut Vec<Span>) {
    for assignment in assignments.iter().filter(|a| holds(a.span)) {
        out.push(assignment.span);
        expr_spans(&assignment.value, holds, out);
    }
}

fn cond_spans(cond: &Cond, holds: &dyn Fn(Span) -> bool, out: &mut Vec<Span>) {
    if !holds(cond.span) {
        return;
    }
    out.push(cond.span);
    match &cond.kind {
        CondKind::And(parts) | CondKind::Or(parts) => {
            for part in parts {
                cond_spans(part, holds, out);
            }
        }
        CondKind::Not(inner) => cond_spans(inner, holds, out),
        CondKind::Present(value) | CondKind::In { value, .. } | CondKind::Matches { value, .. } => {
            expr_spans(value, holds, out)
        }
        CondKind::Compare { left, right, .. } => {
            expr_spans(left, holds, out);
            expr_spans(right, holds, out);
        }
    }
}

fn expr_spans(expr: &Expr, holds: &dyn Fn(Span) -> bool, out: &mut Vec<Span>) {
    if !holds(expr.span) {
        return;
    }
    out.push(expr.span);
    for child in expr.children() {
        expr_spans(child, holds, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_are_read_from_the_help() {
        assert_eq!(
            quoted_suggestion(r#"the stages are "a", "b"; did you mean "closed \"won\""?"#),
            Some("closed \"won\"".to_string())
        );
        assert_eq!(quoted_suggestion("did you mean `x`?"), None);
        let help = "convert it: `a = b | number`; or remove `| join(\", \")`";
        assert_eq!(
            backticked(help),
            [
                ("convert it: ", "a = b | number".to_string()),
                (
                    "convert it: `a = b | number`; or remove ",
                    "| join(\", \")".to_string()
                )
            ]
        );
    }

    #[test]
    fn edits_outside_the_text_are_refused() {
        let edit = |range: Range<usize>| Edit {
            range,
            text: "x".into(),
        };
        assert_eq!(apply("abc", &edit(1..2)).as_deref(), Some("axc"));
        assert_eq!(apply("abc", &edit(Range { start: 2, end: 1 })), None);
        assert_eq!(apply("abc", &edit(2..9)), None);
        assert_eq!(apply("é", &edit(1..1)), None);
    }
}
