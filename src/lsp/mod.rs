//! The language server (`mapctl lsp`): the checker's diagnostics while typing, hover, completion,
//! signature help, go to definition, references, rename, the outline, folding, semantic tokens,
//! verified quick fixes and formatting, over LSP on stdio.
//!
//! `server.rs` runs the message loop (a reader thread frames messages from `transport.rs` into a
//! queue; queued edits are merged and each changed document is checked once, on its newest
//! text); `dispatch.rs` answers requests; `documents.rs` holds each open document's text
//! (incremental changes) and its `analysis.rs` value (the unchanged checker's output, and the
//! syntax node at a position); `watch.rs` notices edits to the schema, table and test files a
//! mapping reads. `features.rs` turns an analysis into diagnostics and formatting, `hover.rs`
//! and `values.rs` into hovers and definitions, `complete.rs` into completions, `signature.rs`
//! into signature help, `rename.rs` into references and renames, `symbols.rs` into the outline
//! and folding ranges, `tokens.rs` into semantic tokens, and `actions.rs` into code actions with
//! the fixes `fixes.rs` verified by checking them; `position.rs` converts byte offsets to UTF-16
//! positions and back; `uri.rs` converts file URIs. Paths are resolved by the checker
//! (`check::Query`), syntax found by `syntax::find` and `syntax::names`: nothing here reads the
//! mapping's text on its own, and nothing changes what the checker reports.

pub mod actions;
pub mod analysis;
pub mod complete;
mod dispatch;
pub mod documents;
pub mod features;
pub mod fixes;
pub mod hover;
pub mod position;
pub mod quote;
pub mod rename;
mod server;
pub mod signature;
pub mod symbols;
pub mod tokens;
pub mod transport;
pub mod uri;
mod values;
pub mod watch;

/// Serves an editor on stdin/stdout until it exits; returns the exit code.
pub fn run_stdio() -> u8 {
    let stdin = std::io::BufReader::new(std::io::stdin());
    let stdout = std::io::stdout();
    server::serve(stdin, std::io::BufWriter::new(stdout.lock()))
}

/// Serves one client over any byte stream until it closes or says `exit`; returns the exit code.
/// No byte sequence stops it early: malformed frames are answered with JSON-RPC errors (the
/// `lsp_frames` fuzz target holds it to that).
pub fn serve<R: std::io::BufRead + Send + 'static>(reader: R, writer: impl std::io::Write) -> u8 {
    server::serve(reader, writer)
}
