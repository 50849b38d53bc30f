//! The language server (`mapctl lsp`): the checker's diagnostics while typing, hover, completion,
//! go to definition, quick fixes and formatting, over LSP on stdio.
//!
//! `server.rs` runs the message loop on `transport.rs` (JSON-RPC framing); each open document is
//! an `analysis.rs` value (the unchanged checker's output plus path lookups); `features.rs` turns
//! it into LSP answers; `position.rs` converts byte offsets to UTF-16 positions and back; `uri.rs`
//! converts file URIs. Nothing here changes what the checker reports.

pub mod analysis;
pub mod features;
pub mod position;
mod server;
pub mod transport;
pub mod uri;

/// Serves an editor on stdin/stdout until it exits; returns the exit code.
pub fn run_stdio() -> u8 {
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    server::serve(stdin.lock(), std::io::BufWriter::new(stdout.lock()))
}
