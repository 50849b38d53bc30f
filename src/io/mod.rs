//! Input and output plumbing: files, streaming deal readers and atomic output files.

pub mod atomic;
pub mod compact;
pub mod files;
pub mod input;
pub mod strict;
