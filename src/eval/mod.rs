//! Evaluation: what a checked [`Program`](crate::check::Program) does to a deal.
//!
//! `run.rs` is the per-deal pipeline, `writes.rs` its writes and client match, `outcome.rs`
//! how a deal ends ([`Outcome`]), `back.rs` the `sync back` direction, `coverage.rs` what the
//! deals so far exercised; `entry.rs` takes a deal's text through
//! the fast reader (`crate::reader`) or parses it whole; `expr.rs` evaluates expressions and
//! conditions; `read.rs` reads paths from a deal's records; `record.rs` is the target record the
//! writes build; `refs.rs` joins related records from reference files; `clients.rs` matches
//! companies against the PSA's existing clients; `redact.rs` withholds never-transfer values
//! from messages. Eval never sees an AST or a schema file, and never reads JSON text itself.

mod back;
pub mod clients;
mod coverage;
mod entry;
pub mod expr;
pub mod outcome;
pub mod read;
pub mod record;
mod redact;
pub mod refs;
pub mod run;
mod writes;

pub use clients::{ClientDirectory, ClientOutcome};
pub use outcome::{Outcome, Phase, Reason};
pub use run::Runner;

#[cfg(test)]
mod tests;
