//! The editor features, each a function from a checked document (and a position) to LSP data:
//! diagnostics, hover, completion, go to definition and quick fixes. Formatting is `mapctl fmt`'s
//! formatter unchanged.

use std::path::Path;

use lsp_types::{
    CodeAction, CodeActionKind, CompletionItem, CompletionItemKind, Diagnostic as LspDiagnostic,
    DiagnosticRelatedInformation, DiagnosticSeverity, Documentation, Hover, HoverContents,
    Location, MarkupContent, MarkupKind, NumberOrString, Position, Range, TextEdit, Uri,
    WorkspaceEdit,
};
use serde_json::{Value, json};

use super::analysis::{Analysis, TextPath, line_bounds};
use super::position::{to_offset, to_position, to_range};
use super::uri::path_to_uri;
use crate::diag::{Diagnostic, Severity};
use crate::schema::flat::Flat;
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

fn convert(analysis: &Analysis, diagnostic: &Diagnostic) -> LspDiagnostic {
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
        data: fix_data(diagnostic),
        ..LspDiagnostic::default()
    }
}

/// What a quick fix needs, carried in the diagnostic: the "did you mean" replacement, or the
/// required field to stub.
fn fix_data(diagnostic: &Diagnostic) -> Option<Value> {
    let help = diagnostic.help.as_deref().unwrap_or("");
    if let Some(rest) = help.split("did you mean `").nth(1)
        && let Some((suggestion, _)) = rest.split_once('`')
    {
        return Some(json!({"replace": suggestion}));
    }
    if diagnostic.code == crate::diag::Code::M303
        && let Some(field) = diagnostic.message.split('`').nth(1)
    {
        return Some(json!({"stub": field}));
    }
    None
}

/// The path under the cursor and the index of the segment the cursor is on (`None`: the record
/// name).
fn path_at(analysis: &Analysis, offset: usize) -> Option<(TextPath, Option<usize>)> {
    let (start, end) = line_bounds(&analysis.text, offset);
    let path = analysis
        .paths(start, end)
        .into_iter()
        .find(|p| p.root_start <= offset && offset <= p.end)?;
    if offset <= path.root_end {
        return Some((path, None));
    }
    let index = path
        .segments
        .iter()
        .position(|s| s.start <= offset && offset <= s.end)?;
    Some((path, Some(index)))
}

/// Hover on a path: the field's schema type, format, enum values, whether it is required, its
/// description. On a transform name: its signature and documentation.
pub fn hover(analysis: &Analysis, position: Position) -> Option<Hover> {
    let offset = to_offset(&analysis.text, position);
    if let Some((path, segment)) = path_at(analysis, offset) {
        let count = segment.map_or(0, |i| i + 1);
        let (flat, required) = analysis.resolve(&path.root, &path.segments[..count])?;
        let end = segment.map_or(path.root_end, |i| path.segments[i].end);
        let shown = &analysis.text[path.root_start..end];
        let range = to_range(&analysis.text, path.root_start, end);
        return Some(markdown_hover(
            describe_field(shown, &flat, required, count > 0),
            range,
        ));
    }
    let (word, start, end) = word_at(&analysis.text, offset)?;
    let transform = crate::transforms::registry::find(word)?;
    let before = analysis.text[..start].trim_end();
    if !before.ends_with('|') {
        return None;
    }
    let text = format!(
        "**{}** — transform{}\n\n`{}`\n\n{}",
        transform.name,
        if transform.can_fail {
            " (can fail: the deal is rejected)"
        } else {
            ""
        },
        transform.signature(),
        transform.doc
    );
    Some(markdown_hover(text, to_range(&analysis.text, start, end)))
}

fn markdown_hover(value: String, range: Range) -> Hover {
    Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value,
        }),
        range: Some(range),
    }
}

/// The hover text of a field.
fn describe_field(shown: &str, flat: &Flat, required: bool, is_field: bool) -> String {
    let mut text = format!("**`{shown}`** — {}", flat.kinds.describe());
    if let Some(format) = &flat.format {
        text.push_str(&format!(", format `{format}`"));
    }
    if is_field {
        text.push_str(if required {
            " · required"
        } else {
            " · optional"
        });
    }
    if let Some(values) = flat.non_null_enum() {
        let listed: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
        text.push_str(&format!("\n\nvalues: {}", listed.join(", ")));
    }
    for description in [&flat.title, &flat.description].into_iter().flatten() {
        text.push_str(&format!("\n\n{description}"));
    }
    text
}

/// The identifier around `offset`.
fn word_at(text: &str, offset: usize) -> Option<(&str, usize, usize)> {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let start = text[..offset]
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_word(*c))
        .last()
        .map_or(offset, |(i, _)| i);
    let end = text[offset..]
        .char_indices()
        .find(|(_, c)| !is_word(*c))
        .map_or(text.len(), |(i, _)| offset + i);
    (start < end).then(|| (&text[start..end], start, end))
}

/// Completion: field names after `.`, transforms after `|`, tables inside `lookup(`, enum values
/// inside a string compared with (or selected into) an enumerated field, record names.
pub fn completion(analysis: &Analysis, position: Position) -> Vec<CompletionItem> {
    let offset = to_offset(&analysis.text, position);
    let (line_start, _) = line_bounds(&analysis.text, offset);
    let before = &analysis.text[line_start..offset];
    if let Some(items) = complete_in_string(analysis, before, offset) {
        return items;
    }
    let partial: String = before
        .chars()
        .rev()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let head = before[..before.len() - partial.len()].trim_end();
    let replace = to_range(&analysis.text, offset - partial.len(), offset);
    if head.ends_with('|') {
        return transform_items(replace);
    }
    if head.ends_with("lookup(") {
        return analysis
            .table_names()
            .into_iter()
            .map(|(name, _)| item(&name, CompletionItemKind::VARIABLE, "table", replace))
            .collect();
    }
    if before[..before.len() - partial.len()].ends_with('.') {
        return field_items(analysis, line_start, offset - partial.len(), replace);
    }
    analysis
        .output
        .records
        .iter()
        .map(|r| {
            let detail = if r.role == crate::check::program::RecordRef::Target {
                "target record"
            } else {
                "source record"
            };
            item(&r.name, CompletionItemKind::MODULE, detail, replace)
        })
        .collect()
}

fn item(label: &str, kind: CompletionItemKind, detail: &str, range: Range) -> CompletionItem {
    CompletionItem {
        label: label.to_string(),
        kind: Some(kind),
        detail: Some(detail.to_string()),
        text_edit: Some(lsp_types::CompletionTextEdit::Edit(TextEdit::new(
            range,
            label.to_string(),
        ))),
        ..CompletionItem::default()
    }
}

fn transform_items(range: Range) -> Vec<CompletionItem> {
    crate::transforms::registry::TRANSFORMS
        .iter()
        .map(|t| {
            let mut completion = item(t.name, CompletionItemKind::FUNCTION, &t.signature(), range);
            completion.documentation = Some(Documentation::String(t.doc.to_string()));
            completion
        })
        .collect()
}

/// The fields of the object the path before `dot_end` (which ends with a dot) leads to.
fn field_items(
    analysis: &Analysis,
    line_start: usize,
    dot_end: usize,
    range: Range,
) -> Vec<CompletionItem> {
    let Some(path) = analysis
        .paths(line_start, dot_end)
        .into_iter()
        .find(|p| p.end == dot_end && p.trailing_dot)
    else {
        return Vec::new();
    };
    let Some((flat, _)) = analysis.resolve(&path.root, &path.segments) else {
        return Vec::new();
    };
    flat.properties
        .iter()
        .map(|(name, dnf)| {
            let child = analysis.flattener.dnf(&analysis.output.schemas, dnf);
            let required = flat.required.contains(name);
            let detail = format!(
                "{}{}",
                child.kinds.describe(),
                if required { ", required" } else { "" }
            );
            let label = name_or_quoted(name);
            let mut completion = item(&label, CompletionItemKind::FIELD, &detail, range);
            completion.documentation = child.description.clone().map(Documentation::String);
            completion
        })
        .collect()
}

/// Inside a string: the enum values of the field it is compared with, the trigger's stage field
/// (in `require at stage "`), or the field a select writes (after `=> "`).
fn complete_in_string(
    analysis: &Analysis,
    before: &str,
    offset: usize,
) -> Option<Vec<CompletionItem>> {
    let quote = open_string_start(before)?;
    let typed = &before[quote + 1..];
    let head = before[..quote].trim_end();
    let line_start = offset - before.len();
    let path = if head.ends_with("require at stage") {
        stage_path(analysis)?
    } else if head.ends_with("=>") {
        select_target(analysis, line_start)?
    } else {
        let operand = head
            .strip_suffix("==")
            .or_else(|| head.strip_suffix("!="))
            .map(str::trim_end)
            .or_else(|| in_list_operand(head))?;
        let operand_start = line_start + operand.len();
        analysis
            .paths(line_start, operand_start)
            .into_iter()
            .rfind(|p| p.end == operand_start)?
    };
    let (flat, _) = analysis.resolve(&path.root, &path.segments)?;
    let range = to_range(&analysis.text, offset - typed.len(), offset);
    let values = flat.non_null_enum()?;
    Some(
        values
            .iter()
            .filter_map(|v| v.as_str())
            .map(|v| {
                item(
                    v,
                    CompletionItemKind::ENUM_MEMBER,
                    &path_text(analysis, &path),
                    range,
                )
            })
            .collect(),
    )
}

/// Where the string the cursor is in starts (`None` when the cursor is not in a string).
fn open_string_start(before: &str) -> Option<usize> {
    let mut open = None;
    let mut escaped = false;
    for (index, c) in before.char_indices() {
        match (open, escaped, c) {
            (Some(_), true, _) => escaped = false,
            (Some(_), false, '\\') => escaped = true,
            (Some(_), false, '"') => open = None,
            (None, _, '"') => open = Some(index),
            (None, _, '#') => return None,
            _ => {}
        }
    }
    open
}

/// For `PATH in ["a", "b", `: the text up to the end of PATH.
fn in_list_operand(head: &str) -> Option<&str> {
    let bracket = head.rfind('[')?;
    let before = head[..bracket].trim_end().strip_suffix("in")?;
    Some(before.trim_end())
}

/// The trigger's stage field.
fn stage_path(analysis: &Analysis) -> Option<TextPath> {
    let at = analysis.text.find("trigger when")?;
    let (start, end) = line_bounds(&analysis.text, at);
    analysis.paths(start, end).into_iter().next()
}

/// The field of the `select` block the line at `line_start` is in.
fn select_target(analysis: &Analysis, line_start: usize) -> Option<TextPath> {
    let before = &analysis.text[..line_start];
    let at = before.rfind("select ")?;
    if before[at..].contains('}') {
        return None;
    }
    let (start, end) = line_bounds(&analysis.text, at);
    analysis.paths(start, end).into_iter().next()
}

fn path_text(analysis: &Analysis, path: &TextPath) -> String {
    analysis.text[path.root_start..path.end]
        .trim_end_matches('.')
        .to_string()
}

/// Go to definition: a path segment jumps to its declaration in the schema file; a table name
/// (in `lookup(NAME)`) to its `table` declaration.
pub fn definition(analysis: &Analysis, position: Position, uri: &Uri) -> Option<Location> {
    let offset = to_offset(&analysis.text, position);
    if let Some((path, segment)) = path_at(analysis, offset) {
        let count = segment.map_or(0, |i| i + 1);
        let (flat, _) = analysis.resolve(&path.root, &path.segments[..count])?;
        let (file, text, start, end) = analysis.declaration_of(&flat)?;
        return Some(Location::new(
            path_to_uri(&file)?,
            to_range(&text, start, end),
        ));
    }
    let (word, _, _) = word_at(&analysis.text, offset)?;
    let (name, at) = analysis
        .table_names()
        .into_iter()
        .find(|(name, _)| name == word)?;
    Some(Location::new(
        uri.clone(),
        to_range(&analysis.text, at, at + name.len()),
    ))
}

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
            actions.push(quick_fix(
                format!("Add a rule for `{field}`"),
                uri,
                vec![stub_rule_edit(
                    &analysis.text,
                    field,
                    placeholder(analysis, field),
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
    use crate::value::Kinds;
    let mut names = field.split('.');
    let root = names.next().unwrap_or_default();
    let segments: Vec<super::analysis::Segment> = names
        .map(|name| super::analysis::Segment {
            kind: super::analysis::SegmentKind::Field(name.to_string()),
            start: 0,
            end: 0,
        })
        .collect();
    let Some((flat, _)) = analysis.resolve(root, &segments) else {
        return "null";
    };
    if flat.kinds.intersects(Kinds::STRING) {
        "\"\""
    } else if flat.kinds.intersects(Kinds::NUMBER) {
        "0"
    } else if flat.kinds.intersects(Kinds::BOOL) {
        "false"
    } else {
        "null"
    }
}

/// A name as a path segment: bare when it is an identifier, else quoted.
fn name_or_quoted(name: &str) -> String {
    let identifier = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if identifier {
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
fn escape_in_string(text: &str) -> String {
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

/// Inserts `FIELD = VALUE  # TODO` at the end of the first `map` block (or a new block at the
/// end).
fn stub_rule_edit(text: &str, field: &str, value: &str) -> TextEdit {
    let stub = format!("{field} = {value}  # TODO: the PSA requires this field");
    match block_end(text, "map {") {
        Some(close) => {
            let at = to_position(text, close);
            TextEdit::new(Range::new(at, at), format!("  {stub}\n"))
        }
        None => {
            let end = to_position(text, text.len());
            TextEdit::new(Range::new(end, end), format!("\nmap {{\n  {stub}\n}}\n"))
        }
    }
}

/// The offset of the line that closes the first block opened by a line starting with `opener`.
fn block_end(text: &str, opener: &str) -> Option<usize> {
    let mut offset = 0;
    let mut inside = false;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if !inside && trimmed.starts_with(opener) && trimmed.ends_with('{') {
            inside = true;
        } else if inside && trimmed.starts_with('}') {
            return Some(offset);
        }
        offset += line.len();
    }
    None
}

/// "Never transfer `deal.x`" for a source path under the cursor not listed yet.
fn never_transfer_action(analysis: &Analysis, uri: &Uri, range: Range) -> Option<CodeAction> {
    let offset = to_offset(&analysis.text, range.start);
    let (path, _) = path_at(analysis, offset)?;
    if analysis.record(&path.root)?.role == crate::check::program::RecordRef::Target
        || path.segments.is_empty()
    {
        return None;
    }
    analysis.resolve(&path.root, &path.segments)?;
    let shown = path_text(analysis, &path);
    let listed = block_end(&analysis.text, "never transfer {").map(|close| {
        let open = analysis.text[..close]
            .rfind("never transfer {")
            .unwrap_or(0);
        analysis.text[open..close].contains(&shown)
    });
    if listed == Some(true) {
        return None;
    }
    let edit = match block_end(&analysis.text, "never transfer {") {
        Some(close) => {
            let at = to_position(&analysis.text, close);
            TextEdit::new(Range::new(at, at), format!("  {shown}\n"))
        }
        None => {
            let end = to_position(&analysis.text, analysis.text.len());
            TextEdit::new(
                Range::new(end, end),
                format!("\nnever transfer {{\n  {shown}\n}}\n"),
            )
        }
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_found_before_the_cursor() {
        assert_eq!(open_string_start(r#"trigger when a == "clo"#), Some(18));
        assert_eq!(open_string_start(r#"x = "a" | y"#), None);
        assert_eq!(open_string_start(r#"x = "a\"b"#), Some(4));
        assert_eq!(open_string_start(r#"x # "comment"#), None);
        assert_eq!(in_list_operand(r#"deal.a in ["x", "#), Some("deal.a"));
    }

    #[test]
    fn inserted_names_and_values_stay_valid_syntax() {
        assert_eq!(name_or_quoted("dealname"), "dealname");
        assert_eq!(name_or_quoted("Deal Name"), "\"Deal Name\"");
        assert_eq!(name_or_quoted("größe"), "\"größe\"");
        assert_eq!(name_or_quoted("2fa"), "\"2fa\"");
        assert_eq!(escape_in_string(r#"a"b\{x}"#), r#"a\"b\\\{x\}"#);
    }
}
