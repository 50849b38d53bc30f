//! The language server (`mapctl lsp`): the checker's diagnostics while typing, hover, completion,
//! go to definition, quick fixes and formatting, over LSP on stdio.
//!
//! `server.rs` runs the message loop on `transport.rs` (JSON-RPC framing); each open document is
//! an `analysis.rs` value (the unchanged checker's output, and the syntax node at a position);
//! `features.rs` turns it into diagnostics and formatting, `hover.rs` into hovers and
//! definitions, `complete.rs` into completions, `actions.rs` into quick fixes; `position.rs`
//! converts byte offsets to UTF-16 positions and back; `uri.rs` converts file URIs. Paths are
//! resolved by the checker (`check::Query`), syntax found by `syntax::find`: nothing here reads
//! the mapping's text on its own, and nothing changes what the checker reports.

pub mod actions;
pub mod analysis;
pub mod complete;
pub mod features;
pub mod hover;
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
