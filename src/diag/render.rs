//! Rendering diagnostics: human (miette), JSON and GitHub workflow annotations.
//!
//! This is the only place that turns [`Diagnostic`] values into text. Positions are 1-based lines
//! and columns counted in Unicode scalar values; file names are the display names recorded in the
//! [`SourceMap`] (relative to the working folder where possible).

use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan};
use serde_json::{Value, json};

use super::excerpt::Excerpted;
use super::{Diagnostic, Label, Severity};
use crate::source::{FileId, SourceMap, Span};

/// How human output looks.
#[derive(Debug, Clone, Copy)]
pub struct HumanStyle {
    /// Use ANSI colours.
    pub color: bool,
    /// Wrap at this many columns.
    pub width: usize,
}

impl HumanStyle {
    /// The deterministic style used by golden tests: no colour, 100 columns.
    pub fn plain() -> HumanStyle {
        HumanStyle {
            color: false,
            width: 100,
        }
    }
}

/// Renders diagnostics the way `mapctl check` prints them for people.
pub fn human(sources: &SourceMap, diagnostics: &[Diagnostic], style: HumanStyle) -> String {
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .with_links(false)
        .with_break_words(false)
        .without_syntax_highlighting();
    let mut out = String::new();
    for diagnostic in diagnostics {
        let report = MietteReport::build(sources, diagnostic);
        if handler.render_report(&mut out, &report).is_err() {
            out.push_str(&format!("{}: {}\n", diagnostic.code, report.message));
        }
    }
    out
}

/// One line summarising counts, e.g. `2 errors, 1 warning in 1 file`.
pub fn summary_line(diagnostics: &[Diagnostic], files: usize) -> String {
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    summary_counts(errors, diagnostics.len() - errors, files)
}

/// The summary line for counts, e.g. `2 errors, 1 warning in 1 file`.
pub fn summary_counts(errors: usize, warnings: usize, files: usize) -> String {
    format!(
        "{}, {} in {}",
        plural(errors, "error"),
        plural(warnings, "warning"),
        plural(files, "file")
    )
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// A diagnostic as a miette report: labels in the primary file inline, labels in other files
/// (schemas, table files) as related reports with their own source.
struct MietteReport<'s> {
    message: String,
    code: String,
    severity: miette::Severity,
    help: Option<String>,
    source: Excerpted<'s>,
    labels: Vec<LabeledSpan>,
    related: Vec<MietteReport<'s>>,
}

impl<'s> MietteReport<'s> {
    fn build(sources: &'s SourceMap, diagnostic: &Diagnostic) -> MietteReport<'s> {
        let primary_file = diagnostic.primary.span.file;
        let source = excerpted(sources, primary_file);
        let mut labels = vec![labeled(&source, &diagnostic.primary, true)];
        let mut others: Vec<(FileId, Vec<&Label>)> = Vec::new();
        let primary_line = line_of(sources, diagnostic.primary.span);
        for label in &diagnostic.secondary {
            let near = primary_line.abs_diff(line_of(sources, label.span)) <= NEAR_LINES;
            if label.span.file == primary_file && near {
                labels.push(labeled(&source, label, false));
            } else if let Some((_, group)) = others.iter_mut().find(|(f, _)| *f == label.span.file)
            {
                group.push(label);
            } else {
                others.push((label.span.file, vec![label]));
            }
        }
        let related = others
            .into_iter()
            .map(|(file, group)| {
                let source = excerpted(sources, file);
                MietteReport {
                    message: safe(&group[0].message),
                    code: String::new(),
                    severity: miette::Severity::Advice,
                    help: None,
                    labels: group.iter().map(|l| labeled(&source, l, false)).collect(),
                    source,
                    related: Vec::new(),
                }
            })
            .collect();
        MietteReport {
            message: safe(&diagnostic.message),
            code: diagnostic.code.to_string(),
            severity: match diagnostic.severity {
                Severity::Error => miette::Severity::Error,
                Severity::Warning => miette::Severity::Warning,
            },
            help: diagnostic.help.as_deref().map(safe),
            source,
            labels,
            related,
        }
    }
}

/// Labels this many lines or fewer from the primary label share its excerpt; farther ones get
/// their own, so that an excerpt never shows the whole file between two labels.
const NEAR_LINES: usize = 4;

/// Text of a diagnostic made terminal-safe ([`super::safe`]).
fn safe(text: &str) -> String {
    super::safe::terminal_safe(text).into_owned()
}

fn line_of(sources: &SourceMap, span: Span) -> usize {
    sources.get(span.file).line_col(span.start).0
}

fn excerpted(sources: &SourceMap, file: FileId) -> Excerpted<'_> {
    Excerpted::new(sources.get(file))
}

fn labeled(source: &Excerpted, label: &Label, primary: bool) -> LabeledSpan {
    let span = source.label_span(label.span.start..label.span.end);
    let text = (!label.message.is_empty()).then(|| safe(&label.message));
    if primary {
        LabeledSpan::new_primary_with_span(text, span)
    } else {
        LabeledSpan::new_with_span(text, span)
    }
}

impl fmt::Debug for MietteReport<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for MietteReport<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for MietteReport<'_> {}

impl miette::Diagnostic for MietteReport<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        (!self.code.is_empty()).then(|| Box::new(&self.code) as Box<dyn fmt::Display>)
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(
                self.related.iter().map(|r| r as &dyn miette::Diagnostic),
            ))
        }
    }
}

/// Line and column range of a span, 1-based, columns in Unicode scalar values.
pub fn position(sources: &SourceMap, span: Span) -> LineColumn {
    let file = sources.get(span.file);
    let (line, column) = file.line_col(span.start);
    let (end_line, end_column) = file.line_col(span.end);
    LineColumn {
        file: file.name.clone(),
        line,
        column,
        end_line,
        end_column,
    }
}

/// A resolved location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineColumn {
    /// Display name of the file.
    pub file: String,
    /// 1-based start line.
    pub line: usize,
    /// 1-based start column.
    pub column: usize,
    /// 1-based end line.
    pub end_line: usize,
    /// 1-based end column (exclusive).
    pub end_column: usize,
}

/// One diagnostic as a JSON object (the stable machine-readable form).
pub fn json_diagnostic(sources: &SourceMap, diagnostic: &Diagnostic) -> Value {
    let at = position(sources, diagnostic.primary.span);
    let mut labels = vec![json_label(sources, &diagnostic.primary, true)];
    labels.extend(
        diagnostic
            .secondary
            .iter()
            .map(|l| json_label(sources, l, false)),
    );
    json!({
        "code": diagnostic.code.as_str(),
        "severity": diagnostic.severity.as_str(),
        "message": diagnostic.message,
        "file": at.file,
        "line": at.line,
        "column": at.column,
        "end_line": at.end_line,
        "end_column": at.end_column,
        "labels": labels,
        "help": diagnostic.help,
    })
}

fn json_label(sources: &SourceMap, label: &Label, primary: bool) -> Value {
    let at = position(sources, label.span);
    json!({
        "file": at.file,
        "line": at.line,
        "column": at.column,
        "end_line": at.end_line,
        "end_column": at.end_column,
        "message": label.message,
        "primary": primary,
    })
}

/// A file that could not be checked at all (unreadable, missing): the run cannot vouch for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The file, as the user named it, when the failure is about one.
    pub file: Option<String>,
    /// Why, in words.
    pub message: String,
}

/// GitHub Actions workflow commands (`::error file=...,line=...::message`): each diagnostic's
/// message first, then its primary label and help; each secondary label (the schema entry, the
/// other assignment) as a `::notice` of its own at its place, naming the diagnostic it belongs to.
pub fn github(sources: &SourceMap, diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for diagnostic in diagnostics {
        let mut text = format!("{}: {}", diagnostic.message, diagnostic.primary.message);
        if let Some(help) = &diagnostic.help {
            text.push_str("\nhelp: ");
            text.push_str(help);
        }
        let title = format!("{} {}", diagnostic.code, diagnostic.code.title());
        out.push_str(&annotation(
            diagnostic.severity.as_str(),
            &position(sources, diagnostic.primary.span),
            &title,
            &text,
        ));
        for label in &diagnostic.secondary {
            let text = format!(
                "{} (see {}: {})",
                label.message, diagnostic.code, diagnostic.message
            );
            out.push_str(&annotation(
                "notice",
                &position(sources, label.span),
                &format!("{} (related)", diagnostic.code),
                &text,
            ));
        }
    }
    out
}

/// A failure to check a file as a GitHub `::error` annotation.
/// A workflow `::notice` with `text` (the diagnostics a budget left out).
pub fn github_notice(text: &str) -> String {
    format!(
        "::notice title={}::{}\n",
        escape_property("mapctl check"),
        escape_data(text)
    )
}

/// A file (or run) that could not be checked, as a workflow `::error`.
pub fn github_failure(failure: &Failure) -> String {
    let file = failure
        .file
        .as_ref()
        .map(|f| format!("file={},", escape_property(f)))
        .unwrap_or_default();
    format!(
        "::error {file}title={}::{}\n",
        escape_property("mapctl check could not run"),
        escape_data(&failure.message)
    )
}

fn annotation(level: &str, at: &LineColumn, title: &str, text: &str) -> String {
    format!(
        "::{level} file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
        escape_property(&at.file),
        at.line,
        at.column,
        at.end_line,
        at.end_column,
        escape_property(title),
        escape_data(text)
    )
}

fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}
