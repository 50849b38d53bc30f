//! Input and output plumbing: files, streaming deal readers and atomic output files.

mod array;
pub mod atomic;
pub mod compact;
pub mod depth;
mod detect;
pub mod envelope;
pub mod files;
pub mod input;
pub mod numbers;
pub mod outputs;
pub mod strict;
