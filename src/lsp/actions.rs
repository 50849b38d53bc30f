//! Code actions: the quick fix a diagnostic's help names ("did you mean"), a stub rule for a
//! required field no rule writes (M303), and "never transfer" for the source path under the
//! cursor. Blocks are found in the syntax tree, fields typed by the checker's resolver.

use lsp_types::{
    CodeAction, CodeActionKind, Diagnostic as LspDiagnostic, Range, TextEdit, Uri, WorkspaceEdit,
};

use super::analysis::Analysis;
use super::position::{to_offset, to_position};
use crate::check::program::RecordRef;
use crate::source::Span;
use crate::syntax::ast::{Ident, Item, Path, Segment, SegmentKind};
use crate::syntax::find::Node;
use crate::value::Kinds;

/// Quick fixes for the diagnostics in `context`, and "never transfer" for a source path at
/// `range`.
pub fn code_actions(
    analysis: &Analysis,
    uri: &Uri,
    range: Range,
    context: &[LspDiagnostic],
) -> Vec<CodeAction> {
    let mut actions = Vec::new();
    for diagnostic in context {
        let data = diagnostic.data.as_ref();
        if let Some(replacement) = data.and_then(|d| d["replace"].as_str()) {
            let start = to_offset(&analysis.text, diagnostic.range.start);
            let quoted = analysis.text[start..].starts_with('"');
            let text = if quoted {
                string_literal(replacement)
            } else {
                name_or_quoted(replacement)
            };
            actions.push(quick_fix(
                format!("Replace with `{replacement}`"),
                uri,
                vec![TextEdit::new(diagnostic.range, text)],
                diagnostic,
            ));
        }
        if let Some(field) = data.and_then(|d| d["stub"].as_str()) {
            let stub = format!(
                "{field} = {}  # TODO: the PSA requires this field",
                placeholder(analysis, field)
            );
            actions.push(quick_fix(
                format!("Add a rule for `{field}`"),
                uri,
                vec![add_to_block(
                    analysis,
                    block_span(analysis, is_map),
                    &stub,
                    "map",
                )],
                diagnostic,
            ));
        }
    }
    if let Some(action) = never_transfer_action(analysis, uri, range) {
        actions.push(action);
    }
    actions
}

fn quick_fix(
    title: String,
    uri: &Uri,
    edits: Vec<TextEdit>,
    diagnostic: &LspDiagnostic,
) -> CodeAction {
    CodeAction {
        title,
        kind: Some(CodeActionKind::QUICKFIX),
        diagnostics: Some(vec![diagnostic.clone()]),
        edit: Some(WorkspaceEdit {
            changes: Some([(uri.clone(), edits)].into_iter().collect()),
            ..WorkspaceEdit::default()
        }),
        is_preferred: Some(true),
        ..CodeAction::default()
    }
}

/// A placeholder value of the field's type: `""`, `0`, `false`, or `null`.
fn placeholder(analysis: &Analysis, field: &str) -> &'static str {
    let path = dotted_path(analysis, field);
    let Some(found) = analysis.query().field(&path, path.segments.len()) else {
        return "null";
    };
    let kinds = found.flat.kinds;
    if kinds.intersects(Kinds::STRING) {
        "\"\""
    } else if kinds.intersects(Kinds::NUMBER) {
        "0"
    } else if kinds.intersects(Kinds::BOOL) {
        "false"
    } else {
        "null"
    }
}

/// `record.a.b` (as M303 names a field) as a path of field steps.
fn dotted_path(analysis: &Analysis, field: &str) -> Path {
    let nowhere = Span::new(analysis.output.file, 0, 0);
    let mut names = field.split('.');
    let root = Ident {
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

fn is_map(item: &Item) -> bool {
    matches!(item, Item::Map(_))
}

fn is_never_transfer(item: &Item) -> bool {
    matches!(item, Item::NeverTransfer(_))
}

/// The span of the first item that `wanted` picks.
fn block_span(analysis: &Analysis, wanted: fn(&Item) -> bool) -> Option<Span> {
    analysis
        .output
        .ast
        .items
        .iter()
        .find(|item| wanted(item))
        .map(Item::span)
}

/// Inserts `line` as the last line of the block at `block`, or appends a new `opener` block
/// holding it at the end of the document.
fn add_to_block(analysis: &Analysis, block: Option<Span>, line: &str, opener: &str) -> TextEdit {
    let text = &analysis.text;
    let Some(block) = block else {
        let end = to_position(text, text.len());
        return TextEdit::new(
            Range::new(end, end),
            format!("\n{opener} {{\n  {line}\n}}\n"),
        );
    };
    let close = block.end.saturating_sub(1);
    let line_start = text[..close].rfind('\n').map_or(0, |i| i + 1);
    if text[line_start..close].trim().is_empty() {
        let at = to_position(text, line_start);
        TextEdit::new(Range::new(at, at), format!("  {line}\n"))
    } else {
        let at = to_position(text, close);
        TextEdit::new(Range::new(at, at), format!("\n  {line}\n"))
    }
}

/// "Never transfer `deal.x`" for a source path under the cursor that is not listed yet.
fn never_transfer_action(analysis: &Analysis, uri: &Uri, range: Range) -> Option<CodeAction> {
    let offset = to_offset(&analysis.text, range.start);
    let shown = analysis.at(offset, |node| {
        let Node::Path { path, .. } = node else {
            return None;
        };
        let query = analysis.query();
        let record = query.record(&path.root.name)?;
        if record.role == RecordRef::Target || path.segments.is_empty() {
            return None;
        }
        query.field(path, path.segments.len())?;
        Some(path.display())
    })?;
    let listed = analysis.output.ast.items.iter().any(|item| match item {
        Item::NeverTransfer(block) => block.paths.iter().any(|p| p.display() == shown),
        _ => false,
    });
    if listed {
        return None;
    }
    let block = block_span(analysis, is_never_transfer);
    let edit = add_to_block(analysis, block, &shown, "never transfer");
    Some(CodeAction {
        title: format!("Never transfer `{shown}`"),
        kind: Some(CodeActionKind::QUICKFIX),
        edit: Some(WorkspaceEdit {
            changes: Some([(uri.clone(), vec![edit])].into_iter().collect()),
            ..WorkspaceEdit::default()
        }),
        ..CodeAction::default()
    })
}

/// A name as a path segment: bare when it is an identifier, else quoted.
pub fn name_or_quoted(name: &str) -> String {
    if crate::syntax::ast::is_plain_name(name) {
        name.to_string()
    } else {
        string_literal(name)
    }
}

/// Text as a string literal: quotes, backslashes and braces escaped (a brace would open an
/// interpolation in a template).
fn string_literal(text: &str) -> String {
    format!("\"{}\"", escape_in_string(text))
}

/// Text to insert inside a string literal.
pub fn escape_in_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' | '\\' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserted_names_and_values_stay_valid_syntax() {
        assert_eq!(name_or_quoted("dealname"), "dealname");
        assert_eq!(name_or_quoted("Deal Name"), "\"Deal Name\"");
        assert_eq!(name_or_quoted("größe"), "\"größe\"");
        assert_eq!(name_or_quoted("2fa"), "\"2fa\"");
        assert_eq!(escape_in_string(r#"a"b\{x}"#), r#"a\"b\\\{x\}"#);
    }
}
