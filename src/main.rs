//! The `mapctl` binary: see `mapctl --help`.
#![forbid(unsafe_code)]

/// With `--features mimalloc`: deals are many small allocations, which mimalloc serves faster
/// than the system allocator (docs/performance.md).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    mapctl::cli::run()
}
