//! Reading deals: one JSON document, a JSON array, or NDJSON, detected without a flag, streamed
//! so that memory stays flat whatever the input's size.
//!
//! Detection: input starting with `[` is an array, streamed element by element. Otherwise the first
//! line decides: when it is a complete JSON value and another non-blank line follows, the input is
//! NDJSON, read line by line; when it is the only line, a single document. When the first line
//! is not complete JSON, the whole input is read as one (pretty-printed) document; if that fails
//! too, it is one broken document, rejected once with its real error, unless a later line is an
//! NDJSON record (unindented, starting with `{` or `[`, complete on its own: `detect.rs`), so a
//! malformed first line of NDJSON rejects only itself. An input with no value at all is an error
//! ([`EmptyInput`], M521), never a batch of nothing.
//!
//! Files named `*.ndjson` or `*.jsonl` are always read as NDJSON, so a batch of one deal is still a
//! batch.
//!
//! Every item carries its position (line for NDJSON, index for arrays), and a bad line is an item
//! with an error, never the end of the run.

use std::io::{BufRead, Read};

use serde_json::Value;

use super::detect;

/// How an input was laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// One JSON document.
    Single,
    /// A JSON array of deals.
    Array,
    /// One JSON value per line.
    Ndjson,
}

/// Where an item is in its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// 1-based line (NDJSON, single documents).
    Line(usize),
    /// 0-based element index (arrays), with the line the error was found on, if any.
    Index(usize),
}

impl From<super::strict::StrictError> for ItemError {
    fn from(error: super::strict::StrictError) -> ItemError {
        match error {
            super::strict::StrictError::Json(e) => ItemError::Json(e.to_string()),
            super::strict::StrictError::Ambiguous(reason) => ItemError::Ambiguous(reason),
        }
    }
}

/// Why an item could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemError {
    /// Valid JSON that mapctl will not guess about: a duplicate key, an inexact number.
    Ambiguous(String),
    /// Not valid JSON (or not UTF-8), with serde's explanation.
    Json(String),
    /// A document with nothing at the mapping's envelope pointer, or neither a record nor an
    /// array of records there (the words say which).
    Envelope(String),
    /// A single document (not NDJSON, not an array) larger than the limit.
    DocumentTooLarge {
        /// The limit it broke, in bytes.
        limit: usize,
    },
    /// A line longer than the limit, with its length.
    TooLong {
        /// The item's length in bytes.
        length: usize,
        /// The limit it broke.
        limit: usize,
    },
}

/// The content of an item: raw JSON text (NDJSON lines, parsed later by whoever needs it, so that
/// `apply` can read only the fields it uses) or an already parsed value.
#[derive(Debug)]
pub enum Payload<'a> {
    /// One line of JSON text, not yet parsed.
    Text(&'a [u8]),
    /// A value (single documents, array elements).
    Parsed(Value),
}

impl Payload<'_> {
    /// The payload as a value, parsing text.
    pub fn into_value(self) -> Result<Value, ItemError> {
        match self {
            Payload::Text(text) => super::strict::parse(text).map_err(ItemError::from),
            Payload::Parsed(value) => Ok(value),
        }
    }
}

/// One item of an input.
#[derive(Debug)]
pub struct InputItem<'a> {
    /// Where it is.
    pub position: Position,
    /// The content, or why it could not be read.
    pub value: Result<Payload<'a>, ItemError>,
}

/// Reading limits and hints.
#[derive(Debug, Clone, Copy)]
pub struct InputLimits {
    /// The input is NDJSON whatever its first lines look like (files named `.ndjson`/`.jsonl`).
    pub ndjson: bool,
    /// Longest NDJSON line, in bytes.
    pub max_line_bytes: usize,
    /// Largest single (non-NDJSON) document, in bytes.
    pub max_document_bytes: usize,
}

impl Default for InputLimits {
    fn default() -> InputLimits {
        InputLimits {
            ndjson: false,
            max_line_bytes: 16 * 1024 * 1024,
            max_document_bytes: 256 * 1024 * 1024,
        }
    }
}

pub use super::detect::{EmptyInput, is_empty_input};

/// What the consumer of items says after each one.
pub type Flow = std::ops::ControlFlow<()>;

/// Reads every item of `reader`, calling `each` with the layout and the item, in order.
/// Returns the layout, or an I/O error that stopped reading.
pub fn for_each_item<R: BufRead>(
    mut reader: R,
    limits: InputLimits,
    mut each: impl FnMut(Framing, InputItem<'_>) -> Flow,
) -> std::io::Result<Framing> {
    skip_bom(&mut reader)?;
    let blank_lines = skip_leading_space(&mut reader)?;
    let first = reader.fill_buf()?.first().copied();
    match first {
        None => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            EmptyInput,
        )),
        Some(_) if limits.ndjson => ndjson_lines(reader, limits, blank_lines, &mut each),
        Some(b'[') => super::array::stream_array(reader, limits, blank_lines + 1, &mut each),
        Some(_) => lines_or_document(reader, limits, blank_lines, &mut each),
    }
}

fn skip_bom<R: BufRead>(reader: &mut R) -> std::io::Result<()> {
    let buffer = reader.fill_buf()?;
    if buffer.starts_with(&[0xEF, 0xBB, 0xBF]) {
        reader.consume(3);
    }
    Ok(())
}

/// Skips whitespace before the first value; returns how many whole lines it spanned, so line
/// numbers stay those of the file.
fn skip_leading_space<R: BufRead>(reader: &mut R) -> std::io::Result<usize> {
    let mut lines = 0;
    loop {
        let buffer = reader.fill_buf()?;
        let blanks = buffer
            .iter()
            .take_while(|b| b.is_ascii_whitespace())
            .count();
        let whole_buffer_blank = blanks == buffer.len();
        // Keep the indentation of the line holding the first value (NDJSON columns stay right).
        let cut = if whole_buffer_blank {
            blanks
        } else {
            buffer[..blanks]
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(0, |at| at + 1)
        };
        lines += memchr::memchr_iter(b'\n', &buffer[..cut]).count();
        let at_end = buffer.is_empty();
        reader.consume(cut);
        if at_end {
            return Ok(lines);
        }
        if !whole_buffer_blank {
            let rest = reader.fill_buf()?;
            let indent = rest.iter().take_while(|b| b.is_ascii_whitespace()).count();
            if rest.get(indent) == Some(&b'[') {
                reader.consume(indent);
            }
            return Ok(lines);
        }
    }
}

/// Reads one line (without its `\n` or `\r\n`) into `line`, keeping at most `max` bytes.
/// Returns `None` at the end of input, otherwise the line's full length.
fn read_line_bounded<R: BufRead>(
    reader: &mut R,
    line: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<Option<usize>> {
    line.clear();
    let mut length = 0usize;
    let mut seen_any = false;
    loop {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            break;
        }
        seen_any = true;
        let (chunk, done) = match memchr::memchr(b'\n', buffer) {
            Some(i) => (&buffer[..i], Some(i + 1)),
            None => (buffer, None),
        };
        let room = max.saturating_sub(line.len());
        line.extend_from_slice(&chunk[..chunk.len().min(room)]);
        length += chunk.len();
        let consumed = done.unwrap_or(chunk.len());
        reader.consume(consumed);
        if done.is_some() {
            break;
        }
    }
    if !seen_any {
        return Ok(None);
    }
    if line.last() == Some(&b'\r') {
        line.pop();
        length = length.saturating_sub(1);
    }
    Ok(Some(length))
}

pub(super) fn is_blank(line: &[u8]) -> bool {
    line.iter().all(|b| b.is_ascii_whitespace())
}

fn line_payload(line: &[u8], length: usize, max: usize) -> Result<Payload<'_>, ItemError> {
    if length > max {
        return Err(ItemError::TooLong { length, limit: max });
    }
    Ok(Payload::Text(line))
}

fn lines_or_document<R: BufRead>(
    mut reader: R,
    limits: InputLimits,
    skipped_lines: usize,
    each: &mut impl FnMut(Framing, InputItem<'_>) -> Flow,
) -> std::io::Result<Framing> {
    let max = limits.max_line_bytes;
    let mut first = Vec::new();
    let mut line_number = skipped_lines;
    let mut first_length = 0;
    while let Some(length) = read_line_bounded(&mut reader, &mut first, max)? {
        line_number += 1;
        first_length = length;
        if !is_blank(&first) {
            break;
        }
    }
    let first_line = line_number;
    if first_length > max {
        let item = InputItem {
            position: Position::Line(first_line),
            value: Err(ItemError::TooLong {
                length: first_length,
                limit: max,
            }),
        };
        if each(Framing::Ndjson, item).is_break() {
            return Ok(Framing::Ndjson);
        }
        return ndjson_lines(reader, limits, first_line, each);
    }
    match super::strict::parse(&first) {
        Ok(value) => return ndjson_after_first(reader, limits, first_line, Ok(value), each),
        Err(super::strict::StrictError::Ambiguous(reason)) => {
            return ndjson_after_first(
                reader,
                limits,
                first_line,
                Err(ItemError::Ambiguous(reason)),
                each,
            );
        }
        Err(super::strict::StrictError::Json(_)) => {}
    }
    // Not a complete value on one line: a pretty-printed document, or NDJSON with a bad first line.
    let mut document = first.clone();
    document.push(b'\n');
    let limit = limits.max_document_bytes as u64;
    reader.by_ref().take(limit).read_to_end(&mut document)?;
    let whole_fits = reader.fill_buf()?.is_empty();
    let single = if whole_fits {
        match super::strict::parse(&document) {
            Ok(value) => Some(Ok(Payload::Parsed(value))),
            Err(super::strict::StrictError::Ambiguous(reason)) => {
                Some(Err(ItemError::Ambiguous(reason)))
            }
            Err(super::strict::StrictError::Json(error)) => (!detect::has_record_line(&document))
                .then(|| {
                    Err(ItemError::Json(detect::error_at_file_line(
                        &error, first_line,
                    )))
                }),
        }
    } else {
        (!detect::has_record_line(&document)).then_some(Err(ItemError::DocumentTooLarge {
            limit: limits.max_document_bytes,
        }))
    };
    if let Some(value) = single {
        let _ = each(
            Framing::Single,
            InputItem {
                position: Position::Line(first_line),
                value,
            },
        );
        return Ok(Framing::Single);
    }
    let buffered = std::io::Cursor::new(document).chain(reader);
    ndjson_lines(
        std::io::BufReader::new(buffered),
        limits,
        first_line.saturating_sub(1),
        each,
    )
}

fn ndjson_after_first<R: BufRead>(
    mut reader: R,
    limits: InputLimits,
    first_line: usize,
    first: Result<Value, ItemError>,
    each: &mut impl FnMut(Framing, InputItem<'_>) -> Flow,
) -> std::io::Result<Framing> {
    let max = limits.max_line_bytes;
    let mut line = Vec::new();
    let mut number = first_line;
    // Look ahead to the next non-blank line: without one, this is a single document.
    let next = loop {
        match read_line_bounded(&mut reader, &mut line, max)? {
            None => break None,
            Some(length) => {
                number += 1;
                if !is_blank(&line) {
                    break Some(length);
                }
            }
        }
    };
    let Some(next_length) = next else {
        let _ = each(
            Framing::Single,
            InputItem {
                position: Position::Line(first_line),
                value: first.map(Payload::Parsed),
            },
        );
        return Ok(Framing::Single);
    };
    if each(
        Framing::Ndjson,
        InputItem {
            position: Position::Line(first_line),
            value: first.map(Payload::Parsed),
        },
    )
    .is_break()
    {
        return Ok(Framing::Ndjson);
    }
    let second = InputItem {
        position: Position::Line(number),
        value: line_payload(&line, next_length, max),
    };
    if each(Framing::Ndjson, second).is_break() {
        return Ok(Framing::Ndjson);
    }
    ndjson_lines(reader, limits, number, each)
}

fn ndjson_lines<R: BufRead>(
    mut reader: R,
    limits: InputLimits,
    mut number: usize,
    each: &mut impl FnMut(Framing, InputItem<'_>) -> Flow,
) -> std::io::Result<Framing> {
    let max = limits.max_line_bytes;
    let mut line = Vec::new();
    while let Some(length) = read_line_bounded(&mut reader, &mut line, max)? {
        number += 1;
        if is_blank(&line) && length <= max {
            continue;
        }
        let item = InputItem {
            position: Position::Line(number),
            value: line_payload(&line, length, max),
        };
        if each(Framing::Ndjson, item).is_break() {
            break;
        }
    }
    Ok(Framing::Ndjson)
}

/// Reads every value of a small input (reference and client files) into memory; any bad item is
/// an error naming its position.
pub fn read_all<R: BufRead>(reader: R, limits: InputLimits) -> Result<Vec<Value>, String> {
    let mut values = Vec::new();
    let mut problem = None;
    for_each_item(reader, limits, |_, item| {
        match item.value.and_then(Payload::into_value) {
            Ok(value) => {
                values.push(value);
                Flow::Continue(())
            }
            Err(error) => {
                problem = Some(format!(
                    "{}: {}",
                    describe_position(item.position),
                    describe_error(&error)
                ));
                Flow::Break(())
            }
        }
    })
    .map_err(|e| e.to_string())?;
    match problem {
        Some(problem) => Err(problem),
        None => Ok(values),
    }
}

/// "line 3" or "element 4".
pub fn describe_position(position: Position) -> String {
    match position {
        Position::Line(line) => format!("line {line}"),
        Position::Index(index) => format!("element {index}"),
    }
}

/// An item error in words.
pub fn describe_error(error: &ItemError) -> String {
    match error {
        ItemError::Json(reason) => format!("not valid JSON ({reason})"),
        ItemError::TooLong { length, limit } => format!(
            "the deal's text is {length} bytes, longer than the limit of {limit} (raise it with --max-line-bytes)"
        ),
        ItemError::Ambiguous(reason) => format!("ambiguous JSON: {reason}"),
        ItemError::Envelope(reason) => reason.clone(),
        ItemError::DocumentTooLarge { limit } => format!(
            "the document is larger than the limit of {limit} bytes for a single JSON document (write it as NDJSON or a JSON array, which are streamed)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Read = Vec<(Position, Result<Value, ItemError>)>;

    fn items(text: &str) -> (Framing, Read) {
        let mut out = Vec::new();
        let limits = InputLimits {
            ndjson: false,
            max_line_bytes: 64,
            max_document_bytes: 1 << 20,
        };
        let layout = for_each_item(text.as_bytes(), limits, |_, item| {
            out.push((item.position, item.value.and_then(Payload::into_value)));
            Flow::Continue(())
        })
        .unwrap();
        (layout, out)
    }

    #[test]
    fn one_compact_line_is_a_single_document() {
        let (layout, got) = items("{\"id\": 1}\n\n");
        assert_eq!(layout, Framing::Single);
        assert_eq!(got.len(), 1);
    }

    #[test]
    fn pretty_documents_are_single() {
        let (layout, got) = items("{\n  \"id\": 1\n}\n");
        assert_eq!(layout, Framing::Single);
        assert_eq!(got[0].1, Ok(serde_json::json!({"id": 1})));
    }

    #[test]
    fn ndjson_keeps_line_numbers_through_blank_crlf_and_bad_lines() {
        let (layout, got) = items("{\"id\":1}\r\n\r\n{\"id\":2\n{\"id\":3}");
        assert_eq!(layout, Framing::Ndjson);
        let positions: Vec<Position> = got.iter().map(|(p, _)| *p).collect();
        assert_eq!(
            positions,
            vec![Position::Line(1), Position::Line(3), Position::Line(4)]
        );
        assert!(got[1].1.is_err());
        assert!(got[2].1.is_ok());
    }

    #[test]
    fn a_bad_first_line_rejects_only_itself() {
        let (layout, got) = items("{\"id\":\n{\"id\":2}\n{\"id\":3}\n");
        assert_eq!(layout, Framing::Ndjson);
        assert_eq!(got.len(), 3);
        assert!(got[0].1.is_err());
        assert_eq!(got[2].0, Position::Line(3));
    }

    #[test]
    fn long_lines_are_items_with_errors() {
        let long = format!("{{\"x\":\"{}\"}}", "a".repeat(100));
        let (_, got) = items(&format!("{{\"id\":1}}\n{long}\n{{\"id\":3}}\n"));
        assert_eq!(got.len(), 3);
        assert!(matches!(got[1].1, Err(ItemError::TooLong { .. })));
    }

    #[test]
    fn arrays_stream_and_report_a_broken_tail_once() {
        let (layout, got) = items("[{\"id\":1}, {\"id\":2}, {\"id\": ]");
        assert_eq!(layout, Framing::Array);
        assert_eq!(got.len(), 3);
        assert_eq!(got[2].0, Position::Index(2));
        assert!(got[2].1.is_err());
    }

    #[test]
    fn a_bad_array_element_rejects_only_itself() {
        let (_, got) = items("[{\"a\": 1e400}, {\"b\": \"x,]}\\\"[\"}, 3]");
        assert_eq!(got.len(), 3);
        assert!(matches!(got[0].1, Err(ItemError::Json(_))));
        assert_eq!(got[1].1, Ok(serde_json::json!({"b": "x,]}\"["})));
        assert_eq!(got[2].1, Ok(serde_json::json!(3)));
    }

    #[test]
    fn empty_arrays_stray_commas_and_trailing_text_are_reported() {
        assert!(items("[]").1.is_empty());
        assert!(items(" [ \n ] \n").1.is_empty());
        let (_, got) = items("[1,,2,]");
        let errors: Vec<usize> = got
            .iter()
            .filter(|(_, v)| v.is_err())
            .map(|(p, _)| match p {
                Position::Index(i) => *i,
                Position::Line(l) => *l,
            })
            .collect();
        assert_eq!((got.len(), errors), (4, vec![1, 3]));
        let (_, got) = items("[1] x");
        assert_eq!(got.len(), 2);
        assert!(got[1].1.is_err());
        let (_, got) = items("[1, {\"a\": [2");
        assert_eq!(got.len(), 2);
        assert!(got[1].1.is_err());
        assert_eq!(items("[").1.len(), 1);
    }
}
