//! mapctl: a checked mapping language for the CRM-to-PSA handoff.
//!
//! The pipeline: text -> parse tree -> AST with spans ([`syntax`]) -> checked [`check::Program`]
//! ([`check`], using [`schema`] and [`transforms`]) -> evaluation. Diagnostics are plain data
//! ([`diag`]) rendered only at the edge ([`cli`]). See ARCHITECTURE.md.
#![forbid(unsafe_code)]
// Diagnostics travel in `Result::Err` only on cold, one-off paths (a file that cannot be read),
// where their size costs nothing; boxing them everywhere would only add noise.
#![allow(clippy::result_large_err)]

// The pest parser is generated without `std` (see Cargo.toml) and names `alloc` directly.
extern crate alloc;

pub mod check;
pub mod cli;
pub mod connect;
pub mod deliver;
pub mod diag;
pub mod engine;
pub mod eval;
pub mod io;
pub mod ledger;
pub mod lsp;
pub mod net;
pub mod ops;
pub mod reader;
pub mod reference;
pub mod schema;
pub mod sheet;
pub mod source;
pub mod suite;
pub mod syntax;
pub mod transforms;
pub mod value;
