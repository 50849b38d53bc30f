//! The language server on arbitrary bytes: framing, JSON and message handling never panic, hang
//! or stop the server before the stream ends, and every frame read moves the stream on.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mapctl::lsp::transport::{ReadError, read_message};

fuzz_target!(|data: &[u8]| {
    // The transport alone: each call consumes bytes or reports the end.
    let mut stream = std::io::Cursor::new(data);
    loop {
        let before = stream.position();
        match read_message(&mut stream) {
            Err(ReadError::Closed) => break,
            _ => assert!(stream.position() > before, "a frame read nothing"),
        }
    }
    // The whole server, after a proper `initialize`, on the bytes as frames and as they are.
    let init = br#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"capabilities":{}}}"#;
    let mut input = format!("Content-Length: {}\r\n\r\n", init.len()).into_bytes();
    input.extend_from_slice(init);
    input.extend_from_slice(format!("Content-Length: {}\r\n\r\n", data.len()).as_bytes());
    input.extend_from_slice(data);
    input.extend_from_slice(data);
    let _ = mapctl::lsp::serve(std::io::Cursor::new(input), std::io::sink());
});
