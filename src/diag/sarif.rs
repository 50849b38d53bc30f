//! SARIF 2.1.0 output (`mapctl check --format sarif`), the format GitHub code scanning and other
//! static-analysis dashboards read.
//!
//! One run; every code is a rule (so a rule's index never changes between runs), named from the
//! code's title (`UnknownSourceField`), with the title as short description, the first paragraph
//! of its `docs/errors.md` entry as full description, the whole entry as help and a `helpUri`
//! at that entry in the published docs. Each diagnostic is a result located at its primary
//! span; the other labels are related locations. Columns count Unicode code points, as in every
//! other output of mapctl. File paths stay as the user gave them (relative to where check ran,
//! which in CI is the repository root). A file that could not be checked at all is a tool
//! execution notification of the run's invocation (`executionSuccessful: false`), so the
//! document stays valid and says why.

use serde_json::{Value, json};

use super::render::{Failure, position};
use super::{Code, Diagnostic, Label, Severity};
use crate::source::SourceMap;

/// The SARIF document for the diagnostics of several checked files, and the files that could
/// not be checked. Rule help links (`helpUri`, and the tool's `informationUri`) point into the
/// docs at `docs_url` (the published folder holding `errors.md`, ending in `/`); without one
/// they are left out, since SARIF requires them absolute and mapctl cannot know where its docs
/// are published (each rule's help text is in the document either way).
pub fn sarif(
    checked: &[(&SourceMap, &[Diagnostic])],
    failures: &[Failure],
    docs_url: Option<&str>,
) -> Value {
    let results: Vec<Value> = checked
        .iter()
        .flat_map(|(sources, diagnostics)| diagnostics.iter().map(|d| result(sources, d)))
        .collect();
    let notifications: Vec<Value> = failures.iter().map(notification).collect();
    let mut driver = json!({
        "name": "mapctl",
        "version": env!("CARGO_PKG_VERSION"),
        "semanticVersion": env!("CARGO_PKG_VERSION"),
        "rules": Code::ALL.iter().map(|&code| rule(code, docs_url)).collect::<Vec<_>>(),
    });
    if let Some(url) = docs_url {
        driver["informationUri"] = json!(format!("{url}cli.md"));
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": driver},
            "invocations": [{
                "executionSuccessful": failures.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

/// Adds what a diagnostic budget did to a SARIF document: exact counts in the run's property
/// bag (`errors`, `warnings`, `omittedResults`), and a note among the invocation's
/// notifications when results were left out.
pub fn note_budget(document: &mut Value, shown: &super::budget::Shown) {
    let Some(run) = document.pointer_mut("/runs/0") else {
        return;
    };
    run["properties"] = json!({
        "errors": shown.found.errors,
        "warnings": shown.found.warnings,
        "omittedResults": shown.omitted.total(),
    });
    if let (Some(line), Some(Value::Array(notes))) = (
        shown.omitted_line(),
        run.pointer_mut("/invocations/0/toolExecutionNotifications"),
    ) {
        notes.push(json!({"level": "note", "message": {"text": line}}));
    }
}

/// A file that could not be checked, as a tool execution notification.
fn notification(failure: &Failure) -> Value {
    let mut notification = json!({
        "level": "error",
        "message": {"text": failure.message},
    });
    if let Some(file) = &failure.file {
        notification["locations"] =
            json!([{"physicalLocation": {"artifactLocation": {"uri": file_uri(file)}}}]);
    }
    notification
}

/// The anchor of a code's `docs/errors.md` heading (`## M201 unknown source field`,
/// `## M307 lossy conversion (warning)`) as markdown renderers make it: lower case, spaces as
/// `-`, other punctuation dropped.
pub fn anchor(code: Code) -> String {
    let heading = code
        .explanation()
        .and_then(|entry| entry.lines().next())
        .and_then(|line| line.strip_prefix("## "))
        .map_or_else(
            || format!("{} {}", code.as_str(), code.title()),
            str::to_string,
        );
    heading
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The rule describing a code.
fn rule(code: Code, docs_url: Option<&str>) -> Value {
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
    let mut rule = json!({
        "id": code.as_str(),
        "name": rule_name(code.title()),
        "shortDescription": {"text": code.title()},
        "fullDescription": {"text": full},
        "help": {
            "text": if body.is_empty() { code.title().to_string() } else { body.replace("**", "") },
            "markdown": if body.is_empty() { code.title() } else { body },
        },
        "defaultConfiguration": {"level": level(code.severity())},
    });
    if let Some(url) = docs_url {
        rule["helpUri"] = json!(format!("{url}errors.md#{}", anchor(code)));
    }
    rule
}

/// `unknown source field` -> `UnknownSourceField`: words are split at spaces and hyphens, and
/// other punctuation is dropped from them (`the deal's stage` -> `TheDealsStage`).
fn rule_name(title: &str) -> String {
    title
        .split([' ', '-'])
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric())
                .collect::<String>()
        })
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
        assert_eq!(
            rule_name("required fact missing at the deal's stage"),
            "RequiredFactMissingAtTheDealsStage"
        );
        assert_eq!(
            rule_name("invisible or direction-changing character"),
            "InvisibleOrDirectionChangingCharacter"
        );
        assert_eq!(
            rule_name("deal skipped: not at a trigger stage"),
            "DealSkippedNotAtATriggerStage"
        );
    }

    #[test]
    fn every_rule_links_to_its_heading() {
        assert_eq!(anchor(Code::M201), "m201-unknown-source-field");
        assert_eq!(
            anchor(Code::M504),
            "m504-required-fact-missing-at-the-deals-stage"
        );
        assert_eq!(anchor(Code::M307), "m307-lossy-conversion-warning");
        for &code in Code::ALL {
            let heading = format!("\n## {} {}", code.as_str(), code.title());
            assert!(
                super::super::codes::ERRORS_MD.contains(&heading),
                "docs/errors.md heads {} with its title",
                code.as_str()
            );
        }
    }
}
