//! `mapctl run MAPPING --from SOURCE --to TARGET`: one pass of the handoff (for cron, a CI
//! schedule, a systemd timer). Reads every deal from the source, maps it, records the outcome
//! in the ledger, delivers what is pending to the target exactly once, feeds the run log, and
//! says what happened. Exit codes: 0 every deal settled (delivered, skipped or rejected: see
//! `mapctl status`), 1 some deal failed or is still pending, 2 could not run, 130 interrupted.

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::Args;

use super::ledger_args::{LedgerArgs, TargetArgs};
use super::progress::Progress;
use super::{EXIT_CANNOT_RUN, EXIT_OK, EXIT_PROBLEMS};
use crate::connect::file::FileSource;
use crate::connect::{Guarantee, Source, SourceItem, Target};
use crate::deliver::{self, Control, Tally, observe::observe};
use crate::engine::{ClientDirectory, Direction, Mapping};
use crate::io::input::InputLimits;
use crate::ledger::{Ingested, Ledger, Observed, State};

/// Arguments of `mapctl run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The mapping and its ledger.
    #[command(flatten)]
    pub ledger: LedgerArgs,
    /// Where deals come from: a deal file (JSON, array or NDJSON; repeatable), or `-` for stdin.
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
            eprintln!("error: {message}");
            EXIT_CANNOT_RUN
        }
    }
}

fn run_pass(args: &RunArgs) -> Result<u8, String> {
    let stop = watch_stop();
    let target = args.target.open()?;
    let mapping =
        super::loading::load_mapping(&args.ledger.mapping, &args.refs, target.creates_clients())?;
    let mut clients = load_clients(args, &mapping)?;
    let mut ledger = args.ledger.open()?;
    let _lock = ledger.lock().map_err(|e| e.to_string())?;
    let resumed = ledger.recover().map_err(|e| e.to_string())?;
    if resumed > 0 {
        eprintln!(
            "mapctl: {resumed} deliveries were interrupted by an earlier run; each is looked up in the target before anything is created"
        );
    }
    if target.guarantee() == Guarantee::AtLeastOnce {
        eprintln!(
            "note: {} cannot be asked what it already has: a crash mid-write may repeat a record (at-least-once)",
            target.describe()
        );
    }
    let mut progress = Progress::new(!args.quiet);
    let mut source = FileSource::new(args.from.clone(), InputLimits::default());
    let (read, ingested) = ingest(
        &mapping,
        &mut source,
        clients.as_mut(),
        &mut ledger,
        stop,
        &mut progress,
    )?;
    let tally = if stop.load(Ordering::SeqCst) {
        Tally::default()
    } else {
        deliver_pending(&mut ledger, &target, args, stop, &mut progress)?
    };
    progress.clear();
    if !args.no_log {
        let log = args.log.clone().unwrap_or_else(|| {
            let ledger_path = args.ledger.ledger_path();
            ledger_path.with_file_name("runs.log")
        });
        deliver::runlog::append(&mut ledger, &log, mapping.text())?;
    }
    report(&ledger, read, &ingested, &tally, target.as_ref(), stop)
}

fn load_clients(args: &RunArgs, mapping: &Mapping) -> Result<Option<ClientDirectory>, String> {
    match (&args.clients, mapping.matches_clients()) {
        (Some(path), _) => super::loading::load_clients(path).map(Some),
        (None, true) => Err(
            "the mapping matches clients (`match client`); pass the PSA's existing clients with `--clients FILE` (use `[]` when there are none)"
                .to_string(),
        ),
        (None, false) => Ok(None),
    }
}

/// Reads every deal, maps it and records the outcomes in batches; returns how many were read.
fn ingest(
    mapping: &Mapping,
    source: &mut dyn Source,
    mut clients: Option<&mut ClientDirectory>,
    ledger: &mut Ledger,
    stop: &AtomicBool,
    progress: &mut Progress,
) -> Result<(u64, Ingested), String> {
    const BATCH: usize = 1000;
    let mut batch: Vec<Observed> = Vec::with_capacity(BATCH);
    let mut total = Ingested::default();
    let mut read = 0u64;
    let mut failure = None;
    let mut flush = |batch: &mut Vec<Observed>, total: &mut Ingested| -> Result<(), String> {
        let counts = ledger.ingest(batch).map_err(|e| e.to_string())?;
        total.new += counts.new;
        total.updated += counts.updated;
        total.unchanged += counts.unchanged;
        total.changed_after_delivery += counts.changed_after_delivery;
        batch.clear();
        Ok(())
    };
    source
        .changed(None, &mut |deal: SourceItem<'_>| {
            let applied = mapping.apply_item(deal.item, clients.as_deref_mut(), Direction::Forward);
            batch.push(observe(applied, &deal.origin, deal.version));
            read += 1;
            if batch.len() >= BATCH {
                if let Err(e) = flush(&mut batch, &mut total) {
                    failure = Some(e);
                    return ControlFlow::Break(());
                }
                progress.show(|| format!("read {read} deals"));
            }
            if stop.load(Ordering::SeqCst) {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .map_err(|e| e.to_string())?;
    if let Some(message) = failure {
        return Err(message);
    }
    flush(&mut batch, &mut total)?;
    Ok((read, total))
}

fn deliver_pending(
    ledger: &mut Ledger,
    target: &Arc<dyn Target>,
    args: &RunArgs,
    stop: &AtomicBool,
    progress: &mut Progress,
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
    };
    deliver::deliver(ledger, target, &args.target.policy(), control).map_err(|e| e.to_string())
}

/// Prints the run's summary and decides the exit code.
fn report(
    ledger: &Ledger,
    read: u64,
    ingested: &Ingested,
    tally: &Tally,
    target: &dyn Target,
    stop: &AtomicBool,
) -> Result<u8, String> {
    let summary = ledger.summary().map_err(|e| e.to_string())?;
    let count = |state: State| summary.counts.get(&state).copied().unwrap_or(0);
    eprintln!(
        "mapctl run: {read} deals read ({} new); {} delivered to {} in this run; ledger: {} delivered, {} skipped, {} rejected, {} failed, {} pending",
        ingested.new,
        tally.delivered,
        target.describe(),
        count(State::Delivered),
        count(State::Skipped),
        count(State::Rejected),
        count(State::Failed),
        count(State::Pending) + count(State::InFlight),
    );
    if ingested.changed_after_delivery > 0 {
        eprintln!(
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
        eprintln!(
            "  {} {} ({}): {}",
            row.state.as_str(),
            row.deal_id,
            row.source,
            reasons.join("; ")
        );
    }
    if summary.problems.len() > 10 {
        eprintln!(
            "  ... and {} more (`mapctl status`)",
            summary.problems.len() - 10
        );
    }
    if stop.load(Ordering::SeqCst) {
        eprintln!("mapctl: interrupted; requests in progress were recorded; run again to go on");
        return Ok(130);
    }
    let unsettled = count(State::Failed) + count(State::Pending) + count(State::InFlight);
    Ok(if unsettled > 0 {
        EXIT_PROBLEMS
    } else {
        EXIT_OK
    })
}
