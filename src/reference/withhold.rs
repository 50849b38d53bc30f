//! Keeping never-transfer values out of rejections: a rejection is written to files and
//! terminals, where a rate card or a billing note must not reach. Every form in which a
//! message can quote a protected value (as it is, JSON-escaped, cut the way messages cut long
//! strings) is replaced by a marker.

use serde_json::Value;

use super::exprs::Trees;
use crate::check::program::{CPath, PathStep, RecordRef};
use crate::schema::violations::quote;

/// What replaces a never-transfer value in a message.
pub const WITHHELD: &str = "<withheld: never-transfer field>";

/// The protected texts of a deal: every string of four characters or more and every number of
/// four digits or more found at or under a never-transfer path.
pub fn protected_texts(never_transfer: &[CPath], trees: &Trees<'_>) -> Vec<String> {
    let mut texts = Vec::new();
    let mut stack: Vec<&Value> = never_transfer
        .iter()
        .filter_map(|p| trees.read(p))
        .collect();
    while let Some(value) = stack.pop() {
        match value {
            Value::String(s) if s.trim().chars().count() >= 4 => texts.push(s.clone()),
            Value::Number(n) if n.to_string().len() >= 4 => texts.push(n.to_string()),
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => stack.extend(map.values()),
            _ => {}
        }
    }
    texts
}

/// Every form of `texts` a message may hold, longest first.
pub fn forms(texts: &[String]) -> Vec<String> {
    let mut forms = Vec::new();
    for text in texts {
        let quoted = Value::String(text.clone()).to_string();
        let escaped = &quoted[1..quoted.len() - 1];
        forms.push(text.clone());
        forms.push(escaped.to_string());
        // Long strings are quoted as their first 55 characters and `..."`.
        let cut: String = escaped.chars().take(55).collect();
        if cut.chars().count() >= 4 {
            forms.push(cut);
        }
    }
    forms.sort_by_key(|form| std::cmp::Reverse(form.len()));
    forms.dedup();
    forms
}

/// `text` with every form replaced by the marker.
pub fn scrub(text: &str, forms: &[String]) -> String {
    forms.iter().fold(text.to_string(), |text, form| {
        text.replace(form.as_str(), WITHHELD)
    })
}

/// A violation's message about the value at `pointer` of source record `record`, with that
/// value withheld when it is a never-transfer field, lies inside one or holds one.
pub fn in_violation(
    never_transfer: &[CPath],
    record: usize,
    value: &Value,
    pointer: &str,
    message: String,
) -> String {
    let segments = crate::schema::locate::pointer_segments(pointer);
    let touches = never_transfer
        .iter()
        .filter(|p| p.record == RecordRef::Source(record))
        .any(|p| {
            p.steps
                .iter()
                .zip(&segments)
                .all(|(step, segment)| match step {
                    PathStep::Field(name) => name == segment,
                    PathStep::Index(_) | PathStep::Search { .. } => true,
                })
        });
    let Some(found) = value.pointer(pointer).filter(|_| touches) else {
        return message;
    };
    [found.to_string(), quote(found)]
        .iter()
        .filter(|form| form.len() >= 4)
        .fold(message, |message, form| {
            message.replace(form.as_str(), WITHHELD)
        })
}
