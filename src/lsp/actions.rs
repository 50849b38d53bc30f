//! Code actions: the verified fixes of the diagnostics the editor asks about (`fixes.rs`: every
//! concrete change a help names, offered only when the checker finds it clean), and "never
//! transfer" for the source path under the cursor. Blocks are found in the syntax tree, fields
//! typed by the checker's resolver.

use lsp_types::{
    CodeAction, CodeActionKind, Diagnostic as LspDiagnostic, NumberOrString, Range, TextEdit, Uri,
    WorkspaceEdit,
};

use super::analysis::Analysis;
use super::fixes::{self, Edit, Fix, add_to_block};
use super::position::{to_offset, to_range};
use crate::check::program::RecordRef;
use crate::syntax::ast::Item;
use crate::syntax::find::Node;

/// Diagnostics looked at when the editor names none (each costs a few checks).
const MAX_UNNAMED: usize = 3;

/// Quick fixes for the diagnostics in `context` (or, when it names none, those at `range`), and
/// "never transfer" for a source path at `range`.
pub fn code_actions(
    analysis: &Analysis,
    uri: &Uri,
    range: Range,
    context: &[LspDiagnostic],
) -> Vec<CodeAction> {
    let mut actions = Vec::new();
    for (index, lsp) in matching(analysis, range, context) {
        for fix in cached_fixes(analysis, index) {
            actions.push(quick_fix(analysis, uri, &fix, lsp.clone()));
        }
    }
    if let Some(action) = never_transfer_action(analysis, uri, range) {
        actions.push(action);
    }
    actions
}

/// The checker's diagnostics (by index) the editor asks about, each with the editor's copy.
fn matching(
    analysis: &Analysis,
    range: Range,
    context: &[LspDiagnostic],
) -> Vec<(usize, LspDiagnostic)> {
    let text = &analysis.text;
    let ours = analysis
        .output
        .diagnostics
        .iter()
        .enumerate()
        .filter(|(_, d)| d.primary.span.file == analysis.output.file);
    let mut found = Vec::new();
    for (index, diagnostic) in ours {
        let at = to_range(
            text,
            diagnostic.primary.span.start,
            diagnostic.primary.span.end,
        );
        let code = NumberOrString::String(diagnostic.code.as_str().to_string());
        if let Some(lsp) = context
            .iter()
            .find(|c| c.range == at && c.code.as_ref() == Some(&code))
        {
            found.push((index, lsp.clone()));
        } else if context.is_empty() && at.start <= range.end && range.start <= at.end {
            let lsp = super::features::convert(analysis, diagnostic);
            found.push((index, lsp));
        }
    }
    if context.is_empty() {
        found.truncate(MAX_UNNAMED);
    }
    found
}

/// The verified fixes of diagnostic `index`, computed once per checked text.
fn cached_fixes(analysis: &Analysis, index: usize) -> Vec<Fix> {
    if let Some(known) = analysis.fixes.borrow().get(&index) {
        return known.clone();
    }
    let Some(diagnostic) = analysis.output.diagnostics.get(index) else {
        return Vec::new();
    };
    let found = fixes::fixes(analysis, diagnostic);
    analysis.fixes.borrow_mut().insert(index, found.clone());
    found
}

fn quick_fix(analysis: &Analysis, uri: &Uri, fix: &Fix, diagnostic: LspDiagnostic) -> CodeAction {
    CodeAction {
        title: fix.title.clone(),
        kind: Some(CodeActionKind::QUICKFIX),
        diagnostics: Some(vec![diagnostic]),
        edit: Some(workspace_edit(analysis, uri, &fix.edit)),
        is_preferred: Some(fix.preferred),
        ..CodeAction::default()
    }
}

fn workspace_edit(analysis: &Analysis, uri: &Uri, edit: &Edit) -> WorkspaceEdit {
    let range = to_range(&analysis.text, edit.range.start, edit.range.end);
    WorkspaceEdit {
        changes: Some(
            [(uri.clone(), vec![TextEdit::new(range, edit.text.clone())])]
                .into_iter()
                .collect(),
        ),
        ..WorkspaceEdit::default()
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
    let items = &analysis.output.ast.items;
    let listed = items.iter().any(|item| match item {
        Item::NeverTransfer(block) => block.paths.iter().any(|p| p.display() == shown),
        _ => false,
    });
    if listed {
        return None;
    }
    let block = items.iter().find_map(|item| match item {
        Item::NeverTransfer(block) => Some(block.span),
        _ => None,
    });
    let edit = add_to_block(&analysis.text, block, &shown, "never transfer");
    Some(CodeAction {
        title: format!("Never transfer `{shown}`"),
        kind: Some(CodeActionKind::QUICKFIX),
        edit: Some(workspace_edit(analysis, uri, &edit)),
        ..CodeAction::default()
    })
}
