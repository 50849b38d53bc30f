//! `mapctl explain CODE`: prints a code's entry from `docs/errors.md` (compiled in).

use clap::Args;

use super::{EXIT_CANNOT_RUN, EXIT_OK};
use crate::diag::Code;

/// Arguments of `mapctl explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A diagnostic code such as M204.
    pub code: String,
}

/// Runs `mapctl explain`.
pub fn run(args: &ExplainArgs) -> u8 {
    let Some(code) = Code::parse(&args.code) else {
        errln!(
            "error: `{}` is not a mapctl diagnostic code; codes look like M204 (see `docs/errors.md`)",
            args.code
        );
        return EXIT_CANNOT_RUN;
    };
    match entry(code) {
        Some(text) => {
            outln!("{}", text.trim_end());
            EXIT_OK
        }
        None => {
            errln!("error: no explanation is written for {code} yet");
            EXIT_CANNOT_RUN
        }
    }
}

/// The section of `docs/errors.md` for `code`: from its `## CODE` heading to the next heading.
pub fn entry(code: Code) -> Option<&'static str> {
    code.explanation()
}
