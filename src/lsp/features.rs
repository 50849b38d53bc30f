//! The document-wide features: the checker's diagnostics as LSP diagnostics (grouped by the file
//! they point into), and formatting (`mapctl fmt`'s
//! formatter unchanged). Position features live in `hover.rs`, `complete.rs` and `actions.rs`.

use std::path::Path;

use lsp_types::{
    Diagnostic as LspDiagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, Location,
    NumberOrString, Position, Range, TextEdit, Uri,
};

use super::analysis::Analysis;
use super::position::{to_position, to_range};
use super::uri::path_to_uri;
use crate::diag::{Diagnostic, Severity};
use crate::source::FileId;

/// The document's diagnostics, grouped by the file they point into (the mapping, or a schema).
pub fn diagnostics(analysis: &Analysis) -> Vec<(Uri, Vec<LspDiagnostic>)> {
    let mut by_file: Vec<(FileId, Vec<LspDiagnostic>)> = vec![(analysis.output.file, Vec::new())];
    for diagnostic in &analysis.output.diagnostics {
        let file = diagnostic.primary.span.file;
        let converted = convert(analysis, diagnostic);
        match by_file.iter_mut().find(|(f, _)| *f == file) {
            Some((_, list)) => list.push(converted),
            None => by_file.push((file, vec![converted])),
        }
    }
    by_file
        .into_iter()
        .filter_map(|(file, list)| Some((path_to_uri(&analysis.sources.get(file).path)?, list)))
        .collect()
}

/// One of the checker's diagnostics as an LSP diagnostic (its help and related locations in the
/// message and related information, as `mapctl check` shows them).
pub fn convert(analysis: &Analysis, diagnostic: &Diagnostic) -> LspDiagnostic {
    let span = diagnostic.primary.span;
    let text = &analysis.sources.get(span.file).text;
    let mut message = format!("{}: {}", diagnostic.message, diagnostic.primary.message);
    if let Some(help) = &diagnostic.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    let related = diagnostic
        .secondary
        .iter()
        .filter_map(|label| {
            let file = analysis.sources.get(label.span.file);
            Some(DiagnosticRelatedInformation {
                location: Location::new(
                    path_to_uri(&file.path)?,
                    to_range(&file.text, label.span.start, label.span.end),
                ),
                message: label.message.clone(),
            })
        })
        .collect::<Vec<_>>();
    LspDiagnostic {
        range: to_range(text, span.start, span.end),
        severity: Some(match diagnostic.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(diagnostic.code.as_str().to_string())),
        source: Some("mapctl".to_string()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        ..LspDiagnostic::default()
    }
}

/// The whole-document edit that formats it, if it parses and is not formatted yet.
pub fn formatting(analysis: &Analysis) -> Option<Vec<TextEdit>> {
    let formatted = crate::syntax::format::format(&analysis.text).ok()?;
    if formatted == analysis.text {
        return Some(Vec::new());
    }
    let end = to_position(&analysis.text, analysis.text.len());
    Some(vec![TextEdit::new(
        Range::new(Position::new(0, 0), end),
        formatted,
    )])
}

/// The path of a file URI's document (for checking it relative to its folder).
pub fn document_path(uri: &Uri) -> Option<std::path::PathBuf> {
    super::uri::uri_to_path(uri).filter(|p| p.is_absolute() && p.parent().is_some_and(Path::exists))
}
