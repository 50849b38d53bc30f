//! JSON-RPC over stdio with LSP's `Content-Length` framing: read one message, write one message.
//!
//! Written here rather than taken from a crate so that the binary holds no socket code (the
//! common crates also listen on TCP) and no threads: the server reads a message, answers, and
//! reads the next.

use std::io::{BufRead, Write};

use serde_json::Value;

/// The largest message accepted (a mapping is at most a few MiB; this leaves room for JSON
/// escaping).
pub const MAX_MESSAGE_BYTES: usize = 64 << 20;

/// Why no message could be read.
#[derive(Debug)]
pub enum ReadError {
    /// The client closed the stream.
    Closed,
    /// The bytes are not an LSP message; the stream cannot be trusted any more.
    Malformed(String),
}

/// Reads the next message.
pub fn read_message(reader: &mut impl BufRead) -> Result<Value, ReadError> {
    let mut length = None;
    let mut line = String::new();
    loop {
        line.clear();
        let read = reader
            .read_line(&mut line)
            .map_err(|e| ReadError::Malformed(e.to_string()))?;
        if read == 0 {
            return Err(ReadError::Closed);
        }
        let header = line.trim_end_matches(['\r', '\n']);
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            length = Some(value.trim().parse::<usize>().map_err(|_| {
                ReadError::Malformed(format!("bad Content-Length `{}`", value.trim()))
            })?);
        }
    }
    let length = length.ok_or_else(|| ReadError::Malformed("no Content-Length header".into()))?;
    if length > MAX_MESSAGE_BYTES {
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
        assert!(matches!(
            read_message(&mut huge),
            Err(ReadError::Malformed(_))
        ));
    }
}
