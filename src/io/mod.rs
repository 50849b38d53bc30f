//! Input and output plumbing for `apply`: streaming deal readers and atomic output files.

pub mod atomic;
pub mod compact;
pub mod input;
pub mod strict;
