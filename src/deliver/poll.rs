//! Reading a source into the ledger: every deal it reports changed since the saved cursor is
//! mapped and recorded in batches, and the source's new cursor is saved only after the last
//! batch is committed, so a crash or an error mid-read leaves the old cursor and the next run
//! reads those deals again (the ledger, keyed by deal id, makes that harmless). Deals
//! `mapctl retry` marked are then fetched by id, when the source can do that.

use std::collections::HashSet;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};

use super::observe::observe;
use crate::connect::{Source, SourceError, SourceItem};
use crate::engine::{ClientDirectory, Deal, Direction, Mapping};
use crate::ledger::{Ingested, Ledger, Observed};

/// Deals recorded per ledger transaction.
const BATCH: usize = 1000;

/// What a read did.
#[derive(Debug, Default)]
pub struct Read {
    /// Deals (and unreadable items) read.
    pub read: u64,
    /// What recording them did.
    pub ingested: Ingested,
    /// Why the source stopped early, when it did (what was read before is recorded; the
    /// cursor is not moved).
    pub source_error: Option<String>,
}

/// Where a read's outcomes go, in batches.
struct Recorder<'a> {
    ledger: &'a mut Ledger,
    batch: Vec<Observed>,
    total: Ingested,
    seen: HashSet<String>,
}

impl Recorder<'_> {
    fn push(&mut self, observed: Observed) -> Result<(), String> {
        self.seen.insert(observed.deal_id.clone());
        self.batch.push(observed);
        if self.batch.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), String> {
        let counts = self.ledger.ingest(&self.batch).map_err(|e| e.to_string())?;
        self.total.new += counts.new;
        self.total.updated += counts.updated;
        self.total.unchanged += counts.unchanged;
        self.total.changed_after_delivery += counts.changed_after_delivery;
        self.batch.clear();
        Ok(())
    }
}

/// Reads every deal the source reports changed since its saved cursor, maps it and records
/// the outcomes; saves the new cursor once all are committed; then fetches the deals `retry`
/// marked. `progress` is told how many deals were read, now and then. An `Err` is a ledger
/// failure (the run cannot go on); a source failure is reported in [`Read::source_error`].
pub fn poll(
    mapping: &Mapping,
    source: &mut dyn Source,
    mut clients: Option<&mut ClientDirectory>,
    ledger: &mut Ledger,
    stop: &AtomicBool,
    progress: &mut dyn FnMut(u64),
) -> Result<Read, String> {
    let cursor_name = source.cursor_name().map(str::to_string);
    let cursor = match &cursor_name {
        Some(name) => ledger.cursor(name).map_err(|e| e.to_string())?,
        None => None,
    };
    let mut recorder = Recorder {
        ledger,
        batch: Vec::with_capacity(BATCH),
        total: Ingested::default(),
        seen: HashSet::new(),
    };
    let mut read = 0u64;
    let mut failure = None;
    let outcome = source.changed(cursor.as_deref(), &mut |deal: SourceItem<'_>| {
        let applied = mapping.apply_item(deal.item, clients.as_deref_mut(), Direction::Forward);
        read += 1;
        if let Err(error) = recorder.push(observe(applied, &deal.origin, deal.version)) {
            failure = Some(error);
            return ControlFlow::Break(());
        }
        if read.is_multiple_of(BATCH as u64) {
            progress(read);
        }
        if stop.load(Ordering::SeqCst) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    if let Some(message) = failure {
        return Err(message);
    }
    recorder.flush()?;
    let mut result = Read {
        read,
        ..Read::default()
    };
    match outcome {
        Ok(Some(next)) if !stop.load(Ordering::SeqCst) => {
            if let Some(name) = &cursor_name {
                recorder
                    .ledger
                    .set_cursor(name, &next)
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok(_) => {}
        Err(error) => result.source_error = Some(error.to_string()),
    }
    if !stop.load(Ordering::SeqCst) {
        result.read += refetch(mapping, source, clients, &mut recorder, &mut result)?;
    }
    recorder.flush()?;
    result.ingested = recorder.total;
    Ok(result)
}

/// Fetches, maps and records the deals `mapctl retry` marked that this read did not meet.
fn refetch(
    mapping: &Mapping,
    source: &mut dyn Source,
    mut clients: Option<&mut ClientDirectory>,
    recorder: &mut Recorder<'_>,
    result: &mut Read,
) -> Result<u64, String> {
    let marked = recorder.ledger.refetch_due().map_err(|e| e.to_string())?;
    let label = source.cursor_name().unwrap_or("source").to_string();
    let mut fetched = 0;
    let mut done = Vec::new();
    for id in marked {
        if recorder.seen.contains(&id) || id.starts_with('@') {
            done.push(id);
            continue;
        }
        match source.fetch(&id) {
            Ok(Some(text)) => {
                let applied = mapping.apply(Deal::Text(&text), clients.as_deref_mut());
                recorder.push(observe(applied, &format!("{label}:{id}"), None))?;
                fetched += 1;
            }
            Ok(None) => {}
            Err(SourceError::Unsupported(_)) => {
                // A file is read whole on every run: nothing to fetch, nothing left marked.
                let all = recorder.ledger.refetch_due().map_err(|e| e.to_string())?;
                recorder.ledger.refetched(&all).map_err(|e| e.to_string())?;
                return Ok(fetched);
            }
            Err(SourceError::Failed(message)) => {
                result.source_error.get_or_insert(message);
                continue;
            }
        }
        done.push(id);
    }
    recorder
        .ledger
        .refetched(&done)
        .map_err(|e| e.to_string())?;
    Ok(fetched)
}
