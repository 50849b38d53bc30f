//! References and rename. A record's or table's name is found where it is declared and wherever
//! it is used (`syntax::names`: path roots, bare transform arguments; never a word in a comment
//! or a string); a path step's references are every path that reads or writes the same field.
//! A rename changes every use, and is refused when the new name is not a name, when the file has
//! items that do not parse (a use inside one would be missed), or when the renamed mapping would
//! check with an error it did not have (the name is taken, a keyword...).

use lsp_types::{Location, Position, PrepareRenameResponse, Range, TextEdit, Uri, WorkspaceEdit};

use super::analysis::{Analysis, check_text};
use super::position::{to_offset, to_range};
use crate::source::Span;
use crate::syntax::ast::is_plain_name;
use crate::syntax::find::{Node, paths};
use crate::syntax::names::{NameUse, same_name};

/// The places the name or field at `position` is written.
pub fn references(
    analysis: &Analysis,
    uri: &Uri,
    position: Position,
    include_declaration: bool,
) -> Option<Vec<Location>> {
    let offset = to_offset(&analysis.text, position);
    let spans: Vec<Span> = match same_name(&analysis.output.ast, offset) {
        Some((_, _, uses)) => uses
            .into_iter()
            .filter(|u| include_declaration || !u.declaration)
            .map(|u| u.span)
            .collect(),
        None => field_uses(analysis, offset)?,
    };
    Some(
        spans
            .into_iter()
            .filter_map(|span| analysis.location(span, uri))
            .collect(),
    )
}

/// Every path that reaches the field under `offset` (its prefix up to that step).
fn field_uses(analysis: &Analysis, offset: usize) -> Option<Vec<Span>> {
    let ast = &analysis.output.ast;
    let (wanted, depth) = analysis.at(offset, |node| match node {
        Node::Path {
            path,
            segment: Some(index),
        } => Some((path.display_prefix(index + 1), index + 1)),
        _ => None,
    })?;
    let spans = paths(ast)
        .into_iter()
        .filter(|p| p.segments.len() >= depth && p.display_prefix(depth) == wanted)
        .map(|p| {
            Span::new(
                p.span.file,
                p.root.span.start,
                p.segments[depth - 1].span.end,
            )
        })
        .collect();
    Some(spans)
}

/// The name a rename at `position` would change.
pub fn prepare(analysis: &Analysis, position: Position) -> Option<PrepareRenameResponse> {
    let offset = to_offset(&analysis.text, position);
    let (_, name, uses) = same_name(&analysis.output.ast, offset)?;
    let here = uses
        .iter()
        .find(|u| u.span.start <= offset && offset <= u.span.end)?;
    Some(PrepareRenameResponse::RangeWithPlaceholder {
        range: to_range(&analysis.text, here.span.start, here.span.end),
        placeholder: name,
    })
}

/// The edits renaming the record or table at `position` to `new_name`, or why not.
pub fn rename(
    analysis: &Analysis,
    uri: &Uri,
    position: Position,
    new_name: &str,
) -> Result<Option<WorkspaceEdit>, String> {
    let offset = to_offset(&analysis.text, position);
    let Some((kind, old, uses)) = same_name(&analysis.output.ast, offset) else {
        return Ok(None);
    };
    if !is_plain_name(new_name) || crate::syntax::KEYWORDS.contains(&new_name) {
        return Err(format!(
            "`{new_name}` is not a name: use letters, digits and `_`, not starting with a digit, and not a keyword"
        ));
    }
    if analysis.output.ast.has_syntax_errors {
        return Err(
            "fix the syntax errors first: a use of the name in an item that does not parse would be missed"
                .to_string(),
        );
    }
    if new_name == old {
        return Ok(None);
    }
    let renamed = renamed_text(&analysis.text, &uses, new_name);
    let (_, after) = check_text(&analysis.path, &renamed);
    let errors = |diagnostics: &[crate::diag::Diagnostic]| {
        diagnostics.iter().filter(|d| d.is_error()).count()
    };
    if errors(&after.diagnostics) > errors(&analysis.output.diagnostics) {
        let what = match kind {
            crate::syntax::names::NameKind::Record => "record",
            crate::syntax::names::NameKind::Table => "table",
        };
        return Err(format!(
            "renaming the {what} `{old}` to `{new_name}` would not check: is the name taken?"
        ));
    }
    let edits: Vec<TextEdit> = uses
        .iter()
        .map(|u| TextEdit::new(range_of(analysis, u.span), new_name.to_string()))
        .collect();
    Ok(Some(WorkspaceEdit {
        changes: Some([(uri.clone(), edits)].into_iter().collect()),
        ..WorkspaceEdit::default()
    }))
}

fn range_of(analysis: &Analysis, span: Span) -> Range {
    to_range(&analysis.text, span.start, span.end)
}

/// `text` with every use replaced by `new_name`.
fn renamed_text(text: &str, uses: &[NameUse], new_name: &str) -> String {
    let mut spans: Vec<Span> = uses.iter().map(|u| u.span).collect();
    spans.sort_by_key(|s| s.start);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for span in spans {
        if span.start < at || span.end > text.len() {
            continue;
        }
        out.push_str(&text[at..span.start]);
        out.push_str(new_name);
        at = span.end;
    }
    out.push_str(&text[at..]);
    out
}
