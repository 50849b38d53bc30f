//! `mapctl run MAPPING --from SOURCE --to TARGET`: one pass of the handoff (for cron, a CI
//! schedule, a systemd timer). Reads every deal from the source, maps it, records the outcome
//! in the ledger, delivers what is pending to the target exactly once, feeds the run log, and
//! says what happened. Exit codes: 0 every deal settled (delivered, skipped or rejected: see
//! `mapctl status`), 1 some deal failed or is still pending, 2 could not run, 130 interrupted.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::Args;

use super::ledger_args::{LedgerArgs, TargetArgs, open_source};
use super::progress::Progress;
use super::{EXIT_CANNOT_RUN, EXIT_OK, EXIT_PROBLEMS};
use crate::connect::meter::Meter;
use crate::connect::{Guarantee, Source, Target};
use crate::deliver::poll::{Read, poll};
use crate::deliver::sync::{SyncTally, SyncWith, sync_back};
use crate::deliver::{self, Control, Tally, record_calls};
use crate::engine::Mapping;
use crate::ledger::{Ledger, State};

/// Arguments of `mapctl run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The mapping and its ledger.
    #[command(flatten)]
    pub ledger: LedgerArgs,
    /// Where deals come from: a connector (`hubspot`, `copper`, `zoho`: docs/connectors/), or
    /// deal files (JSON, array or NDJSON; repeatable), or `-` for stdin.
    #[arg(long, value_name = "SOURCE", required = true)]
    pub from: Vec<PathBuf>,
    /// The target and delivery options.
    #[command(flatten)]
    pub target: TargetArgs,
    /// The PSA's existing clients, for mappings with `match client`.
    #[arg(long)]
    pub clients: Option<PathBuf>,
    /// Join a related source record from a file: `--ref company=companies.ndjson`.
    #[arg(long = "ref", value_name = "NAME=FILE")]
    pub refs: Vec<String>,
    /// The run log `mapctl monitor` reads (default: `runs.log` beside the ledger).
    #[arg(long, value_name = "FILE", conflicts_with = "no_log")]
    pub log: Option<PathBuf>,
    /// Write no run log.
    #[arg(long)]
    pub no_log: bool,
    /// No progress line, even on a terminal.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Set by Ctrl-C / SIGTERM: reading stops, requests in progress finish and are recorded.
static STOP: AtomicBool = AtomicBool::new(false);

/// Makes Ctrl-C and SIGTERM set [`STOP`], once per process.
pub(super) fn watch_stop() -> &'static AtomicBool {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let _ = ctrlc::set_handler(|| STOP.store(true, Ordering::SeqCst));
    });
    &STOP
}

/// Runs `mapctl run`.
pub fn run(args: &RunArgs) -> u8 {
    match run_pass(args) {
        Ok(code) => code,
        Err(message) => {
            errln!("error: {message}");
            EXIT_CANNOT_RUN
        }
    }
}

fn run_pass(args: &RunArgs) -> Result<u8, String> {
    let stop = watch_stop();
    let meter = Meter::new();
    let target = args.target.open(&meter)?;
    let mapping =
        super::loading::load_mapping(&args.ledger.mapping, &args.refs, target.creates_clients())?;
    let mut source = open_source(&args.from, &mapping, &args.target.settings(&meter))?;
    let mut ledger = args.ledger.open()?;
    let _lock = ledger.lock().map_err(|e| e.to_string())?;
    let resumed = ledger.recover().map_err(|e| e.to_string())?;
    if resumed > 0 {
        errln!(
            "mapctl: {resumed} deliveries were interrupted by an earlier run; each is looked up in the target before anything is created"
        );
    }
    if target.guarantee() == Guarantee::AtLeastOnce {
        errln!(
            "note: {} cannot be asked what it already has: a crash mid-write may repeat a record (at-least-once)",
            target.describe()
        );
    }
    for note in target.review(&written_fields(&mapping)) {
        errln!("note: {note}");
    }
    let mut clients =
        super::ledger_args::client_directory(args.clients.as_deref(), &mapping, target.as_ref())?;
    let mut progress = Progress::new(!args.quiet);
    let read = poll(
        &mapping,
        source.as_mut(),
        clients.as_mut(),
        &mut ledger,
        stop,
        &mut |n| progress.show(|| format!("read {n} deals")),
    )?;
    if let Some(error) = &read.source_error {
        errln!("error: reading {}: {error}", source.describe());
    }
    let (tally, synced) = if stop.load(Ordering::SeqCst) {
        (Tally::default(), SyncTally::default())
    } else {
        let tally = deliver_pending(&mut ledger, &target, args, stop, &mut progress, &meter)?;
        let with = SyncWith {
            mapping: &mapping,
            target: target.as_ref(),
            source: source.as_mut(),
            max_attempts: args.target.max_attempts.max(1),
            backoff: args.target.policy().backoff,
            meter: Some(&meter),
        };
        (
            tally,
            sync_back(&mut ledger, with, stop).map_err(|e| e.to_string())?,
        )
    };
    record_calls(&mut ledger, &meter).map_err(|e| e.to_string())?;
    progress.clear();
    if !args.no_log {
        let log = args.log.clone().unwrap_or_else(|| {
            let ledger_path = args.ledger.ledger_path();
            ledger_path.with_file_name("runs.log")
        });
        deliver::runlog::append(&mut ledger, &log, mapping.text())?;
    }
    let outcome = Outcome {
        read,
        tally,
        synced,
    };
    report(&ledger, &outcome, target.as_ref(), source.as_ref(), stop)
}

/// The target fields the mapping writes, as dotted paths (for [`Target::review`]).
fn written_fields(mapping: &Mapping) -> Vec<String> {
    let program = mapping.program();
    program
        .writes
        .iter()
        .map(|w| w.target.join("."))
        .chain(program.client.iter().map(|c| c.target.join(".")))
        .collect()
}

/// What one run did.
struct Outcome {
    read: Read,
    tally: Tally,
    synced: SyncTally,
}

fn deliver_pending(
    ledger: &mut Ledger,
    target: &Arc<dyn Target>,
    args: &RunArgs,
    stop: &AtomicBool,
    progress: &mut Progress,
    meter: &Meter,
) -> Result<Tally, String> {
    let pending = ledger
        .summary()
        .map_err(|e| e.to_string())?
        .counts
        .get(&State::Pending)
        .copied()
        .unwrap_or(0);
    let mut show = |tally: &Tally| {
        progress.show(|| {
            format!(
                "delivered {} of {pending}, {} retrying, {} failed, {} refused, {} in flight",
                tally.delivered, tally.retries, tally.failed, tally.rejected, tally.in_flight
            )
        });
    };
    let control = Control {
        stop,
        wake: None,
        progress: &mut show,
        observe: &mut |_| {},
        meter: Some(meter),
    };
    deliver::deliver(ledger, target, &args.target.policy(), control).map_err(|e| e.to_string())
}

/// Prints the run's summary and decides the exit code.
fn report(
    ledger: &Ledger,
    outcome: &Outcome,
    target: &dyn Target,
    source: &dyn Source,
    stop: &AtomicBool,
) -> Result<u8, String> {
    let summary = ledger.summary().map_err(|e| e.to_string())?;
    let count = |state: State| summary.counts.get(&state).copied().unwrap_or(0);
    let (read, ingested, tally) = (&outcome.read, &outcome.read.ingested, &outcome.tally);
    errln!(
        "mapctl run: {} deals read from {} ({} new); {} delivered to {} in this run; ledger: {} delivered, {} skipped, {} rejected, {} failed, {} pending",
        read.read,
        source.describe(),
        ingested.new,
        tally.delivered,
        target.describe(),
        count(State::Delivered),
        count(State::Skipped),
        count(State::Rejected),
        count(State::Failed),
        count(State::Pending) + count(State::InFlight),
    );
    let synced = outcome.synced;
    if synced != SyncTally::default() {
        errln!(
            "sync back: {} written to {}, {} with nothing to write, {} failed (tried again next run)",
            synced.done,
            source.describe(),
            synced.skipped,
            synced.failed
        );
    }
    if ingested.changed_after_delivery > 0 {
        errln!(
            "note: {} delivered deals changed in the CRM since delivery; they are not sent again (`mapctl status` shows the differences)",
            ingested.changed_after_delivery
        );
    }
    for row in summary.problems.iter().take(10) {
        let reasons: Vec<String> = row
            .reasons
            .iter()
            .map(|r| format!("{} {}", r.code, r.message))
            .collect();
        errln!(
            "  {} {} ({}): {}",
            row.state.as_str(),
            row.deal_id,
            row.source,
            reasons.join("; ")
        );
    }
    if summary.problems.len() > 10 {
        errln!(
            "  ... and {} more (`mapctl status`)",
            summary.problems.len() - 10
        );
    }
    if stop.load(Ordering::SeqCst) {
        errln!("mapctl: interrupted; requests in progress were recorded; run again to go on");
        return Ok(130);
    }
    if read.source_error.is_some() && read.read == 0 {
        return Ok(EXIT_CANNOT_RUN);
    }
    let unsettled = count(State::Failed) + count(State::Pending) + count(State::InFlight);
    let failed = read.source_error.is_some() || synced.failed > 0;
    Ok(if unsettled > 0 || failed {
        EXIT_PROBLEMS
    } else {
        EXIT_OK
    })
}
