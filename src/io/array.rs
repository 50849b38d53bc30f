//! Streaming a JSON array of deals element by element: a byte scanner cuts the elements apart
//! (strings and nesting tracked), so each is read on its own, a bad element rejects only itself,
//! and an unclosed array is one final rejection.

use std::io::BufRead;

use super::input::{Flow, Framing, InputItem, InputLimits, ItemError, Payload, Position, is_blank};

/// Streams the elements of a top-level array. Elements are cut apart by a byte scanner that only
/// tracks strings and bracket depth, and each is handed on as text: an element that is not valid
/// JSON (a syntax error, a number out of range) rejects only itself, and every element is read
/// the same way as an NDJSON line.
pub(super) fn stream_array<R: BufRead>(
    mut reader: R,
    limits: InputLimits,
    first_line: usize,
    each: &mut impl FnMut(Framing, InputItem<'_>) -> Flow,
) -> std::io::Result<Framing> {
    reader.consume(1); // the opening `[`
    let mut scanner = ElementScanner::new(limits.max_line_bytes, first_line);
    let mut index = 0usize;
    loop {
        let (value, after) = match scanner.next_element(&mut reader)? {
            Element::End => break,
            Element::Item { length, closed } => {
                let after = if closed { After::Closed } else { After::More };
                (scanner.payload(length, index), after)
            }
            Element::Unclosed => {
                let reason = if is_blank(&scanner.buffer) {
                    unclosed_array()
                } else {
                    format!(
                        "{}; element {index}, from line {}, is cut off",
                        unclosed_array(),
                        scanner.start_line
                    )
                };
                (Err(ItemError::Json(reason)), After::Eof)
            }
        };
        let item = InputItem {
            position: Position::Index(index),
            value,
        };
        index += 1;
        if each(Framing::Array, item).is_break() {
            return Ok(Framing::Array);
        }
        match after {
            After::More => {}
            After::Closed => break,
            After::Eof => return Ok(Framing::Array),
        }
    }
    if let Some(trailing) = trailing_text(&mut reader)? {
        let item = InputItem {
            position: Position::Index(index),
            value: Err(ItemError::Json(format!(
                "unexpected `{trailing}` after the closing `]` of the array"
            ))),
        };
        let _ = each(Framing::Array, item);
    }
    Ok(Framing::Array)
}

fn unclosed_array() -> String {
    "the input ends before the array is closed with `]`".to_string()
}

/// The first non-blank character after the array, if any (text there is an error, not ignored).
fn trailing_text<R: BufRead>(reader: &mut R) -> std::io::Result<Option<char>> {
    loop {
        let buffer = reader.fill_buf()?;
        let Some(&first) = buffer.first() else {
            return Ok(None);
        };
        match buffer.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(_) if first.is_ascii_whitespace() => {
                let blanks = buffer
                    .iter()
                    .take_while(|b| b.is_ascii_whitespace())
                    .count();
                reader.consume(blanks);
            }
            Some(_) => return Ok(Some(char::from(first))),
            None => {
                let all = buffer.len();
                reader.consume(all);
            }
        }
    }
}

/// What the scanner found next in an array.
enum Element {
    /// An element (its full length in bytes); `closed` when the array's `]` followed it.
    Item { length: usize, closed: bool },
    /// The `]` of an empty array.
    End,
    /// The input ended inside the array.
    Unclosed,
}

/// What follows an element.
enum After {
    /// A comma: more elements.
    More,
    /// The closing `]`.
    Closed,
    /// The end of the input, before `]`.
    Eof,
}

/// Cuts the elements of an array apart without parsing them: it tracks only whether it is inside
/// a string (and after a backslash) and how deep in brackets it is.
struct ElementScanner {
    buffer: Vec<u8>,
    max: usize,
    seen_element: bool,
    /// The line the scanner is on (1-based).
    line: usize,
    /// The line the last element starts on.
    start_line: usize,
}

impl ElementScanner {
    fn new(max: usize, line: usize) -> ElementScanner {
        ElementScanner {
            buffer: Vec::new(),
            max,
            seen_element: false,
            line,
            start_line: line,
        }
    }

    /// The element just scanned as an item's content, or why it cannot be one.
    fn payload(&self, length: usize, index: usize) -> Result<Payload<'_>, ItemError> {
        if length > self.max {
            Err(ItemError::TooLong {
                length,
                limit: self.max,
            })
        } else if is_blank(&self.buffer) {
            Err(ItemError::Json(format!(
                "element {index}, on line {}, is empty (two commas in a row, or a comma before `]`)",
                self.start_line
            )))
        } else {
            Ok(Payload::Text(&self.buffer))
        }
    }

    /// Reads up to the next top-level `,` or `]`, keeping at most `max` bytes of the element.
    fn next_element<R: BufRead>(&mut self, reader: &mut R) -> std::io::Result<Element> {
        self.buffer.clear();
        let line_before = self.line;
        let mut length = 0usize;
        let mut depth = 0usize;
        let mut in_string = false;
        let mut escaped = false;
        loop {
            let chunk = reader.fill_buf()?;
            if chunk.is_empty() {
                return Ok(Element::Unclosed);
            }
            let mut end = None;
            for (at, &byte) in chunk.iter().enumerate() {
                if in_string {
                    match byte {
                        _ if escaped => escaped = false,
                        b'\\' => escaped = true,
                        b'"' => in_string = false,
                        _ => {}
                    }
                    continue;
                }
                match byte {
                    b'"' => in_string = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' if depth > 0 => depth -= 1,
                    b',' | b']' if depth == 0 => {
                        end = Some((at, byte == b']'));
                        break;
                    }
                    _ => {}
                }
            }
            let taken = end.map_or(chunk.len(), |(at, _)| at);
            let room = self.max.saturating_sub(self.buffer.len());
            self.buffer.extend_from_slice(&chunk[..taken.min(room)]);
            length += taken;
            self.line += memchr::memchr_iter(b'\n', &chunk[..taken]).count();
            let indent = self.buffer.iter().take_while(|b| b.is_ascii_whitespace());
            self.start_line = line_before + indent.filter(|b| **b == b'\n').count();
            if let Some((at, closed)) = end {
                reader.consume(at + 1);
                let first_and_empty = closed && !self.seen_element && is_blank(&self.buffer);
                self.seen_element = true;
                if first_and_empty {
                    return Ok(Element::End);
                }
                return Ok(Element::Item { length, closed });
            }
            let all = chunk.len();
            reader.consume(all);
        }
    }
}
