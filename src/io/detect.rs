//! What input detection decides beyond the first bytes: whether a document that is not valid
//! JSON is one broken document or NDJSON with a broken first line, where its error is in the
//! file, and that an input with no value at all is an error.

/// Why an input holds nothing to read: it is empty, or only whitespace (and a byte-order mark).
/// Reading it is an error (M521), not a batch of no deals: an export that came out empty is a
/// failure upstream. An empty batch is written `[]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmptyInput;

impl std::fmt::Display for EmptyInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the input is empty: it holds no JSON value (an empty batch is written `[]`)")
    }
}

impl std::error::Error for EmptyInput {}

/// True when reading stopped because the input is empty ([`EmptyInput`]).
pub fn is_empty_input(error: &std::io::Error) -> bool {
    error
        .get_ref()
        .is_some_and(|inner| inner.is::<EmptyInput>())
}

/// True when a line after the first of `text` is an NDJSON record: it starts at its first
/// column with `{` or `[` and is a complete JSON value on its own. A pretty-printed document
/// indents every line between its first and its last, and its last line (`}`) is not a value;
/// NDJSON lines are written unindented, so one such line means the input is NDJSON whose first
/// line is broken, not one broken document.
pub(super) fn has_record_line(text: &[u8]) -> bool {
    text.split(|b| *b == b'\n').skip(1).any(|line| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        matches!(line.first(), Some(b'{' | b'['))
            && !matches!(
                super::strict::parse(line),
                Err(super::strict::StrictError::Json(_))
            )
    })
}

/// serde's message for a document's syntax error, with the line counted in the whole file (the
/// document starts on `first_line`).
pub(super) fn error_at_file_line(error: &serde_json::Error, first_line: usize) -> String {
    let text = error.to_string();
    if error.line() == 0 {
        return text;
    }
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    match text.strip_suffix(&suffix) {
        Some(reason) => format!(
            "{reason} at line {} column {}",
            error.line() + first_line - 1,
            error.column()
        ),
        None => text,
    }
}
