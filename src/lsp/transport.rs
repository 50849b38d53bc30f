//! JSON-RPC over stdio with LSP's `Content-Length` framing: read one message, write one message.
//!
//! Written here rather than taken from a crate so that the binary holds no socket code (the
//! common crates also listen on TCP) and no threads: the server reads a message, answers, and
//! reads the next.

use std::io::{BufRead, Read, Write};

use serde_json::Value;

/// The largest message accepted (a mapping is at most a few MiB; this leaves room for JSON
/// escaping).
pub const MAX_MESSAGE_BYTES: usize = 64 << 20;

/// Longest header line kept; longer lines (binary garbage) are read through and dropped.
const MAX_HEADER_LINE: usize = 8 << 10;

/// Why no message could be read.
#[derive(Debug)]
pub enum ReadError {
    /// The client closed the stream.
    Closed,
    /// The bytes were not an LSP message (a bad or missing `Content-Length`, a body that is not
    /// JSON, such as one with a lone surrogate `"\ud800"`, or one over the limit). They have been
    /// read through: the next call reads the next message. The server answers with a JSON-RPC
    /// parse error and goes on.
    Malformed(String),
}

/// Reads the next message. Nothing in the bytes can stop the stream: a frame that is not a
/// message is read through and reported as [`ReadError::Malformed`]; a `Content-Length` header is
/// found even after garbage on its line, so framing comes back at the next header.
pub fn read_message(reader: &mut impl BufRead) -> Result<Value, ReadError> {
    let mut length: Option<Result<usize, String>> = None;
    let mut seen_header = false;
    let mut line = Vec::new();
    loop {
        if !read_header_line(reader, &mut line)? {
            return Err(ReadError::Closed);
        }
        let text = String::from_utf8_lossy(&line);
        let header = text.trim_end_matches(['\r', '\n']);
        if header.trim().is_empty() {
            if seen_header {
                break;
            }
            continue; // blank lines between messages
        }
        seen_header = true;
        if let Some(value) = content_length(header) {
            length = Some(
                value
                    .trim()
                    .parse::<usize>()
                    .map_err(|_| format!("bad Content-Length `{}`", value.trim().escape_debug())),
            );
        }
    }
    let length = match length {
        Some(Ok(length)) => length,
        Some(Err(reason)) => return Err(ReadError::Malformed(reason)),
        None => return Err(ReadError::Malformed("no Content-Length header".into())),
    };
    if length > MAX_MESSAGE_BYTES {
        let skipped = std::io::copy(
            &mut Read::take(&mut *reader, length as u64),
            &mut std::io::sink(),
        )
        .map_err(|_| ReadError::Closed)?;
        if skipped < length as u64 {
            return Err(ReadError::Closed);
        }
        return Err(ReadError::Malformed(format!(
            "a message of {length} bytes is over the limit of {MAX_MESSAGE_BYTES}"
        )));
    }
    let mut body = vec![0; length];
    reader
        .read_exact(&mut body)
        .map_err(|_| ReadError::Closed)?;
    serde_json::from_slice(&body).map_err(|e| ReadError::Malformed(format!("not JSON: {e}")))
}

/// The value of a `Content-Length` header on `line`, wherever on the line it starts.
fn content_length(line: &str) -> Option<&str> {
    const NAME: &str = "content-length";
    let lower = line.to_ascii_lowercase();
    let at = lower.find(NAME)?;
    let rest = line.get(at + NAME.len()..)?.trim_start();
    rest.strip_prefix(':')
}

/// Reads one line (up to its `\n`) into `line`, keeping at most [`MAX_HEADER_LINE`] bytes of it;
/// false at the end of the stream.
fn read_header_line(reader: &mut impl BufRead, line: &mut Vec<u8>) -> Result<bool, ReadError> {
    line.clear();
    let mut any = false;
    loop {
        let buffer = match reader.fill_buf() {
            Ok(buffer) => buffer,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return Err(ReadError::Closed),
        };
        if buffer.is_empty() {
            return Ok(any);
        }
        any = true;
        let (chunk, done) = match buffer.iter().position(|b| *b == b'\n') {
            Some(at) => (&buffer[..=at], true),
            None => (buffer, false),
        };
        let room = MAX_HEADER_LINE.saturating_sub(line.len());
        line.extend_from_slice(&chunk[..chunk.len().min(room)]);
        let used = chunk.len();
        reader.consume(used);
        if done {
            return Ok(true);
        }
    }
}

/// Writes one message.
pub fn write_message(writer: &mut impl Write, message: &Value) -> std::io::Result<()> {
    let body = serde_json::to_vec(message).map_err(std::io::Error::other)?;
    write!(writer, "Content-Length: {}\r\n\r\n", body.len())?;
    writer.write_all(&body)?;
    writer.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Byte streams made of pieces of frames: headers (good, bad, glued), bodies (JSON, broken
    /// JSON, lone surrogates, invalid UTF-8), line breaks and arbitrary bytes.
    fn stream() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            Just(b"Content-Length: 2\r\n\r\n{}".to_vec()),
            Just(b"Content-Length: 17\r\n\r\n{\"s\": \"\\ud800\"}".to_vec()),
            Just(b"Content-Length: 99999999999999999999\r\n\r\n".to_vec()),
            Just(b"content-length:3\r\n\r\n\xff\xfe\xfd".to_vec()),
            Just(b"Content-Length: 4\r\n".to_vec()),
            Just(b"\r\n".to_vec()),
            Just(b"\n".to_vec()),
            proptest::collection::vec(any::<u8>(), 0..64),
        ];
        proptest::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat())
    }

    proptest! {
        #[test]
        fn every_read_consumes_bytes_or_reports_the_end(bytes in stream()) {
            let mut reader = std::io::Cursor::new(bytes);
            loop {
                let before = reader.position();
                match read_message(&mut reader) {
                    Err(ReadError::Closed) => break,
                    _ => prop_assert!(reader.position() > before),
                }
            }
        }
    }

    #[test]
    fn messages_round_trip_and_bad_frames_are_refused() {
        let mut out = Vec::new();
        write_message(&mut out, &serde_json::json!({"id": 1, "name": "Müller"})).unwrap();
        let mut reader = std::io::Cursor::new(out);
        let message = read_message(&mut reader).unwrap();
        assert_eq!(message["name"], "Müller");
        assert!(matches!(read_message(&mut reader), Err(ReadError::Closed)));
        let mut bad = std::io::Cursor::new(b"Content-Length: x\r\n\r\n{}".to_vec());
        assert!(matches!(
            read_message(&mut bad),
            Err(ReadError::Malformed(_))
        ));
        let mut huge = std::io::Cursor::new(b"Content-Length: 999999999999\r\n\r\n".to_vec());
        assert!(matches!(read_message(&mut huge), Err(ReadError::Closed)));
    }

    /// Frames one body.
    fn frame(body: &[u8]) -> Vec<u8> {
        let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        out.extend_from_slice(body);
        out
    }

    #[test]
    fn bad_frames_are_read_through_and_the_next_message_is_read() {
        let good = br#"{"jsonrpc":"2.0","id":7,"method":"shutdown"}"#;
        let bad_frames: Vec<Vec<u8>> = vec![
            b"Content-Length: 12x\r\n\r\n".to_vec(),
            b"Content-Type: text\r\n\r\n".to_vec(),
            frame(br#"{"s": "\ud800"}"#),
            frame(b"\xff\xfe{not json"),
            b"\xff\xfe\x00garbage\r\n\r\n".to_vec(),
            [b"x".repeat(100_000), b"\r\n\r\n".to_vec()].concat(),
        ];
        for bad in bad_frames {
            let mut stream = std::io::Cursor::new([bad.clone(), frame(good)].concat());
            let first = read_message(&mut stream);
            assert!(
                matches!(first, Err(ReadError::Malformed(_))),
                "{:?}: {first:?}",
                String::from_utf8_lossy(&bad[..bad.len().min(40)])
            );
            let next = read_message(&mut stream).expect("the next message");
            assert_eq!(next["id"], 7);
        }
        let glued = [b"{garbage}".to_vec(), frame(good)].concat();
        let next = read_message(&mut std::io::Cursor::new(glued)).expect("a glued header");
        assert_eq!(next["id"], 7);
        let over = format!("Content-Length: {}\r\n\r\n", MAX_MESSAGE_BYTES + 1).into_bytes();
        let mut stream =
            std::io::Cursor::new([over, vec![b' '; MAX_MESSAGE_BYTES + 1], frame(good)].concat());
        assert!(matches!(
            read_message(&mut stream),
            Err(ReadError::Malformed(_))
        ));
        assert_eq!(
            read_message(&mut stream).expect("after a huge one")["id"],
            7
        );
    }
}
