//! The `mapctl` binary: see `mapctl --help`.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    mapctl::cli::run()
}
