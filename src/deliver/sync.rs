//! Sync back: after delivery, the mapping's `sync back` rules run on the PSA project and the
//! patch they give is written to the CRM deal ([`Source::patch`]), once per delivered deal.
//!
//! The project read is the target's answer to the create, kept in the ledger, so a sync costs
//! the CRM write and nothing else; a deal delivered by a lookup (after a crash) has no such
//! answer, and the target is asked for the project ([`Target::project`]), or, when it cannot
//! say, the delivered record stands for it. The project's id is put in as `id` when the answer
//! lacks it, so `sync back { deal.properties.psa_project_id = job.id }` works whatever the
//! target echoes. The patches of a batch of deals are written together
//! ([`Source::patch_many`]: one call per batch for a CRM whose API updates many records at
//! once). A failed write is recorded with its error and tried again after a backoff, on
//! a later pass (up to the attempt budget); the outcome of every try is in the ledger
//! (`sync_state`).

use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::Value;

use super::backoff::{Backoff, Jitter};
use super::record_calls;
use crate::connect::meter::Meter;
use crate::connect::{Source, Target};
use crate::engine::{Deal, Mapping, Outcome};
use crate::ledger::{Ledger, LedgerError, SyncDue, SyncResult, now_ms};

/// Deals synced per ledger transaction.
const BATCH: usize = 100;

/// What a sync pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncTally {
    /// Patches written.
    pub done: u64,
    /// Deals whose rules gave nothing to write.
    pub skipped: u64,
    /// Writes that failed (tried again later).
    pub failed: u64,
}

/// What a sync pass works with.
pub struct SyncWith<'a> {
    /// The mapping (its `sync back` rules).
    pub mapping: &'a Mapping,
    /// Where the projects are.
    pub target: &'a dyn Target,
    /// The CRM the patches go to.
    pub source: &'a mut dyn Source,
    /// Tries per deal before a failed sync waits for `mapctl retry`.
    pub max_attempts: u32,
    /// The wait after a failed sync (doubled after each further one).
    pub backoff: Backoff,
    /// API calls, moved into the ledger with each batch.
    pub meter: Option<&'a Meter>,
}

/// Syncs every delivered deal whose sync back is due, each once; nothing when the mapping has
/// no `sync back` rules or the source cannot be written.
pub fn sync_back(
    ledger: &mut Ledger,
    with: SyncWith<'_>,
    stop: &AtomicBool,
) -> Result<SyncTally, LedgerError> {
    let mut tally = SyncTally::default();
    if with.mapping.program().sync_back.is_empty() || !with.source.can_patch() {
        return Ok(tally);
    }
    let mut after = 0;
    let mut jitter = Jitter::new();
    while !stop.load(Ordering::SeqCst) {
        let due = ledger.due_syncs(after, BATCH, with.max_attempts)?;
        let Some(last) = due.last() else { break };
        after = last.seq;
        let outcomes = sync_batch(&due, with.mapping, with.target, &mut *with.source, stop);
        let mut results = Vec::with_capacity(due.len());
        for (deal, outcome) in due.iter().zip(outcomes) {
            let Some(outcome) = outcome else { continue };
            let result = match outcome {
                Ok(Some(patch)) => SyncResult::Done(patch),
                Ok(None) => {
                    SyncResult::Skipped("no sync back field has a value in this project".into())
                }
                Err(error) => {
                    let attempt = u32::try_from(deal.attempts + 1).unwrap_or(u32::MAX);
                    let wait = with.backoff.delay(attempt, None, &mut jitter);
                    let retry_at =
                        now_ms() + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 2);
                    SyncResult::Failed { error, retry_at }
                }
            };
            match result {
                SyncResult::Done(_) => tally.done += 1,
                SyncResult::Skipped(_) => tally.skipped += 1,
                SyncResult::Failed { .. } => tally.failed += 1,
            }
            results.push((deal.deal_id.clone(), result));
        }
        ledger.finish_syncs(&results)?;
        if let Some(meter) = with.meter {
            record_calls(ledger, meter)?;
        }
    }
    Ok(tally)
}

/// Syncs one batch of deals: the rules run on each deal's project, and the patches they give
/// are written [`Source::patches_per_call`] at a time by [`Source::patch_many`] (one call per
/// hundred deals where the CRM allows it), `stop` checked between calls. For each deal, in
/// order: the patch written, `None` when the rules gave nothing to write, or why it failed;
/// `None` for a deal not tried because the run is stopping (it stays due).
fn sync_batch(
    due: &[SyncDue],
    mapping: &Mapping,
    target: &dyn Target,
    source: &mut dyn Source,
    stop: &AtomicBool,
) -> Vec<Option<Result<Option<String>, String>>> {
    let mut outcomes: Vec<Option<Result<Option<String>, String>>> = Vec::with_capacity(due.len());
    let mut patches = Vec::new();
    let mut written = Vec::new();
    for deal in due {
        match patch_for(deal, mapping, target) {
            Ok(Some(patch)) => {
                written.push(outcomes.len());
                outcomes.push(Some(Ok(Some(patch.to_string()))));
                patches.push((deal.deal_id.clone(), patch));
            }
            other => outcomes.push(Some(other.map(|_| None))),
        }
    }
    let per_call = source.patches_per_call().max(1);
    for (chunk, indices) in patches.chunks(per_call).zip(written.chunks(per_call)) {
        if stop.load(Ordering::SeqCst) {
            for &index in indices {
                outcomes[index] = None;
            }
            continue;
        }
        let mut results = source.patch_many(chunk).into_iter();
        for &index in indices {
            let result = results.next().unwrap_or_else(|| {
                Err(crate::connect::SourceError::Failed(
                    "the source gave no result for this deal's patch".into(),
                ))
            });
            if let Err(error) = result {
                outcomes[index] = Some(Err(error.to_string()));
            }
        }
    }
    outcomes
}

/// What the rules give for one deal's project: the patch, `None` when they give nothing to
/// write, or why they failed.
fn patch_for(
    deal: &SyncDue,
    mapping: &Mapping,
    target: &dyn Target,
) -> Result<Option<Value>, String> {
    let project = project_of(deal, target)?;
    match mapping.sync_back(Deal::Value(&project)).outcome {
        Outcome::Written { record, .. } => Ok(Some(record.to_value())),
        Outcome::Skipped(_) => Ok(None),
        Outcome::Rejected { reasons, .. } => {
            let text: Vec<String> = reasons
                .iter()
                .map(|r| format!("{} {}", r.code.as_str(), r.message))
                .collect();
            Err(format!("the sync back rules failed: {}", text.join("; ")))
        }
    }
}

/// The project to read: the create's answer, else the target's current copy, else the record
/// delivered; with its id as `id` when it lacks one.
fn project_of(deal: &SyncDue, target: &dyn Target) -> Result<Value, String> {
    let stored = deal
        .project
        .as_deref()
        .and_then(|bytes| serde_json::from_slice::<Value>(bytes).ok())
        .filter(Value::is_object);
    let mut project = match (stored, &deal.project_id) {
        (Some(project), _) => project,
        (None, Some(id)) => match target.project(id) {
            Ok(Some(project)) if project.is_object() => project,
            Ok(_) => delivered_record(deal)?,
            Err(error) => return Err(format!("reading project {id}: {error}")),
        },
        (None, None) => delivered_record(deal)?,
    };
    if let (Some(map), Some(id)) = (project.as_object_mut(), &deal.project_id) {
        map.entry("id").or_insert_with(|| Value::String(id.clone()));
    }
    Ok(project)
}

fn delivered_record(deal: &SyncDue) -> Result<Value, String> {
    deal.record
        .as_deref()
        .and_then(|bytes| serde_json::from_slice::<Value>(bytes).ok())
        .filter(Value::is_object)
        .ok_or_else(|| "the ledger holds no project or record to sync back from".to_string())
}
