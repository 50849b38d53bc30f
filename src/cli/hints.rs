//! Mistakes a newcomer makes, recognised before they turn into a puzzling error: a deal file
//! given where the mapping goes (the arguments swapped), a vendor API's response envelope given
//! as a deal, and a terminal left as the input.

use std::io::Read as _;
use std::path::Path;

use serde_json::Value;

use crate::io::input::{InputItem, Payload};

/// Members under which vendor APIs return their records (HubSpot `results`, Zoho and Copper
/// `data`, Accelo `response`, and common others).
const ENVELOPE_KEYS: [&str; 7] = [
    "results", "data", "response", "records", "items", "objects", "deals",
];

/// When the file given as the mapping is JSON (a deal, most likely), what to say instead of a
/// parse error on its first `{`.
pub(super) fn json_given_as_mapping(path: &Path) -> Option<String> {
    let mut head = [0u8; 512];
    let read = std::fs::File::open(path).ok()?.read(&mut head).ok()?;
    let first = head[..read].iter().find(|b| !b.is_ascii_whitespace())?;
    matches!(first, b'{' | b'[').then(|| {
        format!(
            "`{}` is JSON (a deal or a records file?), not a mapping: the mapping file comes first, e.g. `mapctl apply MAPPING.map DEALS.json`",
            path.display()
        )
    })
}

/// When a document is a vendor API's response envelope rather than a deal: a note saying where
/// its records are and how to give them.
pub(super) fn envelope(item: &InputItem<'_>) -> Option<String> {
    let parsed;
    let value = match &item.value {
        Ok(Payload::Parsed(value)) => value,
        Ok(Payload::Text(text)) => {
            parsed = serde_json::from_slice::<Value>(text).ok()?;
            &parsed
        }
        Err(_) => return None,
    };
    let fields = value.as_object()?;
    if fields.contains_key("id") {
        return None;
    }
    ENVELOPE_KEYS.iter().find_map(|key| match fields.get(*key)? {
        Value::Array(records) if records.iter().any(Value::is_object) => Some(format!(
            "the input looks like an API response envelope, not a deal: it holds {} record(s) under `{key}`; give the records themselves, e.g. `jq -c '.{key}[]' FILE | mapctl apply MAPPING`",
            records.len()
        )),
        Value::Object(inner) if inner.contains_key("id") => Some(format!(
            "the input looks like an API response envelope, not a deal: the record is under `{key}`; give it on its own, e.g. `jq '.{key}' FILE | mapctl apply MAPPING`"
        )),
        _ => None,
    })
}

/// When stdin is a terminal, the error for reading deals from it without being asked to:
/// nothing would come until the user typed JSON and pressed Ctrl-D, so say what to give
/// instead of waiting silently.
pub(super) fn terminal_stdin(command: &str) -> Option<String> {
    use std::io::IsTerminal;
    std::io::stdin().is_terminal().then(|| {
        format!(
            "{command} reads deals from stdin, which is a terminal: name a deal file (`mapctl {command} MAPPING deal.json`) or pipe deals in (`... | mapctl {command} MAPPING`); `-` reads the terminal on purpose"
        )
    })
}
