//! The webhook reader of `mapctl serve --from CRM`: the webhook only queues the deal ids a CRM
//! says changed (committed before it is answered, so the CRM gets its answer fast and nothing
//! is lost); this loop, on a thread of its own, fetches each queued deal from the CRM, maps it,
//! records the outcome and takes it off the queue in one transaction, then wakes the deliverer.
//! Between batches it runs the sync-back pass. A failed fetch waits (capped exponential backoff)
//! and is tried again; a deal the CRM no longer has leaves the queue.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::backoff::{Backoff, Jitter};
use super::observe::observe;
use super::record_calls;
use super::sync::{SyncWith, sync_back};
use crate::connect::meter::Meter;
use crate::connect::{Source, Target};
use crate::engine::{ClientDirectory, Deal, Mapping};
use crate::ledger::{Ledger, now_ms};

/// Deals fetched per ledger transaction.
const BATCH: usize = 50;

/// What the webhook reader works with.
pub struct Reader {
    /// The mapping.
    pub mapping: Arc<Mapping>,
    /// The PSA's clients, for mappings that match clients.
    pub clients: Arc<Mutex<Option<ClientDirectory>>>,
    /// Its own ledger connection.
    pub ledger: Ledger,
    /// The CRM.
    pub source: Box<dyn Source>,
    /// The name the queue keeps the source's deals under.
    pub source_name: String,
    /// Where projects are (for sync back).
    pub target: Arc<dyn Target>,
    /// API calls, moved into the ledger with each batch.
    pub meter: Meter,
    /// Wakes the deliverer when deals were recorded.
    pub wake: Sender<()>,
    /// Retry timing of failed fetches; the attempt budget of sync back.
    pub backoff: Backoff,
    /// Tries per deal before a failed sync waits for `mapctl retry`.
    pub max_attempts: u32,
}

/// Fetches queued deals until `stop`, woken by `queued` (the webhook) or every half second.
/// Returns the first ledger error, if any (the server then stops).
pub fn read_queue(
    mut reader: Reader,
    queued: &Receiver<()>,
    stop: &AtomicBool,
) -> Result<(), String> {
    let mut jitter = Jitter::new();
    while !stop.load(Ordering::SeqCst) {
        let fetched = fetch_batch(&mut reader, &mut jitter)?;
        let with = SyncWith {
            mapping: &reader.mapping,
            target: reader.target.as_ref(),
            source: reader.source.as_mut(),
            max_attempts: reader.max_attempts,
            backoff: reader.backoff,
            meter: Some(&reader.meter),
        };
        sync_back(&mut reader.ledger, with, stop).map_err(|e| e.to_string())?;
        record_calls(&mut reader.ledger, &reader.meter).map_err(|e| e.to_string())?;
        if fetched < BATCH {
            let _ = queued.recv_timeout(Duration::from_millis(500));
        }
    }
    Ok(())
}

/// Fetches, maps and records one batch of due queued deals; returns how many were due.
fn fetch_batch(reader: &mut Reader, jitter: &mut Jitter) -> Result<usize, String> {
    let due = reader
        .ledger
        .queued(&reader.source_name, BATCH)
        .map_err(|e| e.to_string())?;
    if due.is_empty() {
        return Ok(0);
    }
    let mut fetched = Vec::new();
    let mut gone = Vec::new();
    for queued in &due {
        match reader.source.fetch(&queued.deal_id) {
            Ok(Some(text)) => {
                let applied = {
                    let mut clients = reader.clients.lock().unwrap_or_else(|p| p.into_inner());
                    reader.mapping.apply(Deal::Text(&text), clients.as_mut())
                };
                let origin = format!("{}:webhook", reader.source_name);
                fetched.push((queued.deal_id.clone(), observe(applied, &origin, None)));
            }
            Ok(None) => gone.push(queued.deal_id.clone()),
            Err(error) => {
                let attempt = u32::try_from(queued.attempts + 1).unwrap_or(u32::MAX);
                let wait = reader.backoff.delay(attempt, None, jitter);
                let next = now_ms() + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 2);
                reader
                    .ledger
                    .fetch_failed(
                        &reader.source_name,
                        &queued.deal_id,
                        &error.to_string(),
                        next,
                    )
                    .map_err(|e| e.to_string())?;
            }
        }
    }
    reader
        .ledger
        .ingest_queued(&reader.source_name, &fetched, &gone)
        .map_err(|e| e.to_string())?;
    if !fetched.is_empty() {
        let _ = reader.wake.send(());
    }
    Ok(due.len())
}
