//! `mapctl retry MAPPING [DEAL...|--failed|--rejected]`: queue deals for another try after a fix
//! in the CRM, the mapping or the target. Failed deals and deals the target refused become
//! pending (the next `mapctl run`, or a running `serve`, delivers them; a deal whose last attempt
//! may have reached the target is looked up first). Deals the mapping rejected are mapped again
//! when the source next delivers them. Exit codes: 0 something was queued, 1 nothing matched.

use clap::Args;

use super::ledger_args::LedgerArgs;
use super::{EXIT_CANNOT_RUN, EXIT_OK, EXIT_PROBLEMS};
use crate::ledger::Selection;

/// Arguments of `mapctl retry`.
#[derive(Debug, Args)]
pub struct RetryArgs {
    /// The mapping and its ledger.
    #[command(flatten)]
    pub ledger: LedgerArgs,
    /// The deals to retry (by id).
    #[arg(value_name = "DEAL", conflicts_with_all = ["failed", "rejected"])]
    pub deals: Vec<String>,
    /// Every failed deal.
    #[arg(long, conflicts_with = "rejected")]
    pub failed: bool,
    /// Every rejected deal.
    #[arg(long)]
    pub rejected: bool,
}

/// Runs `mapctl retry`.
pub fn run(args: &RetryArgs) -> u8 {
    let selection = if args.failed {
        Selection::Failed
    } else if args.rejected {
        Selection::Rejected
    } else if !args.deals.is_empty() {
        Selection::Deals(args.deals.clone())
    } else {
        errln!("error: name the deals to retry, or pass `--failed` or `--rejected`");
        return EXIT_CANNOT_RUN;
    };
    let mut ledger = match args.ledger.open() {
        Ok(ledger) => ledger,
        Err(message) => {
            errln!("error: {message}");
            return EXIT_CANNOT_RUN;
        }
    };
    // No run lock: failed and refused deals are not being worked on, so re-queuing them is
    // safe while a `serve` holds the ledger (which then delivers them).
    let queued = match ledger.retry(&selection) {
        Ok(queued) => queued,
        Err(error) => {
            errln!("error: {error}");
            return EXIT_CANNOT_RUN;
        }
    };
    if let Selection::Deals(ids) = &selection {
        for id in ids.iter().filter(|id| !queued.contains(id)) {
            errln!("note: `{id}` is not failed or rejected in the ledger; left alone");
        }
    }
    errln!(
        "mapctl retry: {} deal(s) queued; the next `mapctl run` (or a running `mapctl serve`) delivers them",
        queued.len()
    );
    if queued.is_empty() {
        EXIT_PROBLEMS
    } else {
        EXIT_OK
    }
}
