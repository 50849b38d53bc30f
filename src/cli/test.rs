//! `mapctl test [PATHS...]`: run the YAML test files beside mappings.

use std::path::PathBuf;

use clap::Args;

use super::{EXIT_CANNOT_RUN, EXIT_OK, EXIT_PROBLEMS};
use crate::suite;

/// Arguments of `mapctl test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// Tests files (`*.tests.yaml`) or folders searched for them; none = the current folder.
    pub paths: Vec<PathBuf>,
    /// Rewrite expected outputs that differ with the actual ones.
    #[arg(long)]
    pub update: bool,
    /// Fail when a require rule, select branch or table row is not exercised by any case.
    #[arg(long)]
    pub require_coverage: bool,
    /// Print only failures, what is not exercised, and the summary line (for cron and CI logs).
    #[arg(long, short)]
    pub quiet: bool,
    /// Do not record the coverage beside each mapping (`.mapctl/coverage/NAME.json`, read by
    /// `mapctl doc`).
    #[arg(long)]
    pub no_record: bool,
}

/// Runs `mapctl test`.
pub fn run(args: &TestArgs) -> u8 {
    let files = match suite::collect(&args.paths) {
        Ok(files) if files.is_empty() => {
            errln!("error: no `*.tests.yaml` files found");
            return EXIT_CANNOT_RUN;
        }
        Ok(files) => files,
        Err(message) => {
            errln!("error: {message}");
            return EXIT_CANNOT_RUN;
        }
    };
    let (mut passed, mut failed, mut uncovered) = (0, 0, 0);
    let mut cannot_run = false;
    for file in &files {
        match suite::run_file(file, args.update) {
            Ok(result) => {
                let failing = result.cases.iter().any(|c| !c.failures.is_empty());
                if !args.quiet || failing || !result.unexercised.is_empty() {
                    errln!("{} ({})", result.file.display(), result.mapping.display());
                }
                for case in &result.cases {
                    if case.failures.is_empty() {
                        passed += 1;
                        if !args.quiet {
                            let mark = if case.updated { "updated" } else { "ok  " };
                            errln!("  {mark}  {}", case.name);
                        }
                    } else {
                        failed += 1;
                        errln!("  FAIL  {}", case.name);
                        for failure in &case.failures {
                            errln!("        {failure}");
                        }
                    }
                }
                if !result.unexercised.is_empty() {
                    uncovered += result.unexercised.len();
                    errln!("  not exercised by any case:");
                    for line in &result.unexercised {
                        errln!("    {line}");
                    }
                }
                if !args.no_record
                    && let Err(message) = crate::suite::record::write(&result)
                {
                    errln!(
                        "warning: {message} (the tests ran; `mapctl doc` will not show this run)"
                    );
                }
            }
            Err(message) => {
                errln!("error: {message}");
                cannot_run = true;
            }
        }
    }
    errln!(
        "{passed} passed, {failed} failed, {uncovered} not exercised, in {} file{}",
        files.len(),
        if files.len() == 1 { "" } else { "s" }
    );
    if cannot_run {
        EXIT_CANNOT_RUN
    } else if failed > 0 {
        EXIT_PROBLEMS
    } else if args.require_coverage && uncovered > 0 {
        errln!(
            "error: --require-coverage: {uncovered} require rule(s), select branch(es) or table row(s) listed above are exercised by no case; add a case that reaches each (a merge patch `with:` on a sample is enough)"
        );
        EXIT_PROBLEMS
    } else {
        EXIT_OK
    }
}
