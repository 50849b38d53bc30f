//! SARIF 2.1.0 output (`mapctl check --format sarif`), the format GitHub code scanning and other
//! static-analysis dashboards read.
//!
//! One run; every code is a rule (so a rule's index never changes between runs), with the code's
//! title as short description, the first paragraph of its `docs/errors.md` entry as full
//! description and the whole entry as help. Each diagnostic is a result located at its primary
//! span; the other labels are related locations. Columns count Unicode code points, as in every
//! other output of mapctl. File paths stay as the user gave them (relative to where check ran,
//! which in CI is the repository root).

use serde_json::{Value, json};

use super::render::position;
use super::{Code, Diagnostic, Label, Severity};
use crate::source::SourceMap;

/// The SARIF document for the diagnostics of several checked files.
pub fn sarif(checked: &[(&SourceMap, &[Diagnostic])]) -> Value {
    let results: Vec<Value> = checked
        .iter()
        .flat_map(|(sources, diagnostics)| diagnostics.iter().map(|d| result(sources, d)))
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "mapctl",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": Code::ALL.iter().map(|&code| rule(code)).collect::<Vec<_>>(),
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

/// The rule describing a code.
fn rule(code: Code) -> Value {
    let entry = code.explanation().unwrap_or_default();
    let body = entry.split_once('\n').map_or("", |(_, rest)| rest).trim();
    let first_paragraph = body
        .split("\n\n")
        .next()
        .unwrap_or_default()
        .replace("**What**: ", "");
    let full = if first_paragraph.is_empty() {
        code.title().to_string()
    } else {
        shorten(&first_paragraph, 1000)
    };
    json!({
        "id": code.as_str(),
        "name": rule_name(code.title()),
        "shortDescription": {"text": code.title()},
        "fullDescription": {"text": full},
        "help": {
            "text": if body.is_empty() { code.title().to_string() } else { body.replace("**", "") },
            "markdown": if body.is_empty() { code.title() } else { body },
        },
        "defaultConfiguration": {"level": level(code.severity())},
    })
}

/// `unknown source field` -> `UnknownSourceField`.
fn rule_name(title: &str) -> String {
    title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

fn shorten(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_string();
    }
    let cut: String = text.chars().take(limit - 1).collect();
    format!("{cut}…")
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// One diagnostic as a SARIF result.
fn result(sources: &SourceMap, diagnostic: &Diagnostic) -> Value {
    let mut text = format!("{}: {}", diagnostic.message, diagnostic.primary.message);
    if let Some(help) = &diagnostic.help {
        text.push_str("\nhelp: ");
        text.push_str(help);
    }
    let related: Vec<Value> = diagnostic
        .secondary
        .iter()
        .enumerate()
        .map(|(id, label)| {
            let mut located = location(sources, label);
            located["id"] = json!(id + 1);
            located["message"] = json!({"text": label.message});
            located
        })
        .collect();
    let rule_index = Code::ALL.iter().position(|c| *c == diagnostic.code);
    let mut result = json!({
        "ruleId": diagnostic.code.as_str(),
        "ruleIndex": rule_index,
        "level": level(diagnostic.severity),
        "message": {"text": text},
        "locations": [location(sources, &diagnostic.primary)],
    });
    if !related.is_empty() {
        result["relatedLocations"] = json!(related);
    }
    result
}

/// A SARIF location for a label's span.
fn location(sources: &SourceMap, label: &Label) -> Value {
    let at = position(sources, label.span);
    json!({"physicalLocation": {
        "artifactLocation": {"uri": file_uri(&at.file)},
        "region": {
            "startLine": at.line,
            "startColumn": at.column,
            "endLine": at.end_line,
            "endColumn": at.end_column.max(if at.end_line == at.line { at.column + 1 } else { 1 }),
        },
    }})
}

/// A file name as a URI reference: relative paths stay relative (with `/` separators), absolute
/// ones become `file://` URIs; characters outside the unreserved set are percent-encoded.
pub fn file_uri(name: &str) -> String {
    let path = name.replace('\\', "/");
    let path = path.strip_prefix("./").unwrap_or(&path);
    let encoded: String = path
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    if path.starts_with('/') {
        format!("file://{encoded}")
    } else {
        encoded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_become_uri_references() {
        assert_eq!(file_uri("mappings/a b.map"), "mappings/a%20b.map");
        assert_eq!(file_uri("./x/Müller.map"), "x/M%C3%BCller.map");
        assert_eq!(file_uri("/abs/m.map"), "file:///abs/m.map");
        assert_eq!(file_uri("dir\\m.map"), "dir/m.map");
    }

    #[test]
    fn rule_names_are_pascal_case() {
        assert_eq!(rule_name("unknown source field"), "UnknownSourceField");
        assert_eq!(
            rule_name("owner clause outside sync back"),
            "OwnerClauseOutsideSyncBack"
        );
    }
}
