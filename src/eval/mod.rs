//! Evaluation: runs a checked [`Program`](crate::check::Program) on deals.
//!
//! `run.rs` is the per-deal pipeline and its [`Outcome`]; `expr.rs` evaluates expressions and
//! conditions; `read.rs` reads and writes paths; `record.rs` builds
//! the target record; `validate.rs` validates records offline with
//! the `jsonschema` crate; `refs.rs` joins related records from reference files; `clients.rs`
//! matches companies against the PSA's existing clients; `stream.rs` reads deals from their text,
//! with `spares.rs` keeping its buffers from deal to deal. Eval never sees an AST or a schema file.

pub mod clients;
mod entry;
pub mod expr;
pub mod formats;
pub mod read;
pub mod record;
mod redact;
pub mod refs;
pub mod run;
pub mod shape;
mod spares;
pub mod stream;
pub mod validate;

pub use clients::{ClientDirectory, ClientOutcome};
pub use run::{Outcome, Phase, Reason, Runner};
