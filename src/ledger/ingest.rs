//! Recording what a run read: each deal's mapping outcome is inserted or folded into the deal's
//! row by rules that never undo a possible write. A deal that was delivered, is in flight, or
//! whose last request may have been acted on keeps its record (the one its idempotency key
//! covers); a newer record seen for it is kept aside as `changed_record` and reported, never
//! sent. A skipped deal and one the mapping rejected take the new outcome. A pending or failed
//! deal nothing was written for, and one the target refused, are queued afresh only when their
//! record changed (a fix in the CRM); with the same record they stay as they are.

use rusqlite::{OptionalExtension, Transaction};

use super::{Ledger, Result, State, StoredReason, idempotency_key, now_ms, sha256_hex};

/// What the mapping made of one deal.
#[derive(Debug, Clone, PartialEq)]
pub enum Observation {
    /// A record to deliver.
    Record {
        /// The record, as compact JSON.
        record: Vec<u8>,
        /// The template chosen, if any.
        template: Option<String>,
        /// Client matching, as JSON, if the mapping matches clients.
        client: Option<String>,
    },
    /// Not at a trigger stage.
    Skipped(Vec<StoredReason>),
    /// Refused by the mapping.
    Rejected {
        /// The phase it stopped in.
        phase: String,
        /// Every reason.
        reasons: Vec<StoredReason>,
    },
}

/// One deal as a run read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    /// The deal's id (the ledger's key with the mapping).
    pub deal_id: String,
    /// Where it was read (`deals.ndjson:12`, `hubspot`).
    pub source: String,
    /// The source's version of the deal (a modification time), when it has one.
    pub version: Option<String>,
    /// What the mapping made of it.
    pub outcome: Observation,
}

/// What ingesting a batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ingested {
    /// Deals seen for the first time.
    pub new: usize,
    /// Deals whose outcome was replaced (re-mapped before anything was sent, or queued again).
    pub updated: usize,
    /// Deals with nothing new.
    pub unchanged: usize,
    /// Deals whose record changed after it was delivered or possibly written (reported only).
    pub changed_after_delivery: usize,
}

/// The parts of a deal's row that decide how a new observation is folded in.
struct Existing {
    state: State,
    record_sha256: Option<String>,
    phase: Option<String>,
    uncertain: bool,
    key_generation: i64,
}

impl Ledger {
    /// Records a batch of observed deals in one transaction.
    pub fn ingest(&mut self, batch: &[Observed]) -> Result<Ingested> {
        let mapping = self.mapping.clone();
        let tx = super::write(&mut self.conn)?;
        let counts = ingest_in(&tx, &mapping, batch)?;
        tx.commit()?;
        Ok(counts)
    }
}

/// Records a batch of observed deals inside the caller's transaction.
pub(super) fn ingest_in(
    tx: &Transaction<'_>,
    mapping: &str,
    batch: &[Observed],
) -> Result<Ingested> {
    let now = now_ms();
    let mut counts = Ingested::default();
    let mut seq: i64 = tx.query_row(
        "SELECT COALESCE(MAX(seq), 0) FROM deals WHERE mapping = ?1",
        [mapping],
        |row| row.get(0),
    )?;
    for deal in batch {
        match existing(tx, mapping, &deal.deal_id)? {
            None => {
                seq += 1;
                insert(tx, mapping, deal, seq, now)?;
                counts.new += 1;
            }
            Some(row) => fold(tx, mapping, deal, &row, now, &mut counts)?,
        }
    }
    Ok(counts)
}

fn existing(tx: &Transaction<'_>, mapping: &str, deal_id: &str) -> Result<Option<Existing>> {
    let mut statement = tx.prepare_cached(
        "SELECT state, record_sha256, phase, uncertain, key_generation
         FROM deals WHERE mapping = ?1 AND deal_id = ?2",
    )?;
    let row = statement
        .query_row((mapping, deal_id), |row| {
            let state: String = row.get(0)?;
            Ok(Existing {
                state: State::parse(&state).unwrap_or(State::Pending),
                record_sha256: row.get(1)?,
                phase: row.get(2)?,
                uncertain: row.get::<_, i64>(3)? != 0,
                key_generation: row.get(4)?,
            })
        })
        .optional()?;
    Ok(row)
}

/// The columns an observation sets: state, record, hash, template, client, phase, reasons.
struct Columns {
    state: State,
    record: Option<Vec<u8>>,
    sha: Option<String>,
    template: Option<String>,
    client: Option<String>,
    phase: Option<String>,
    reasons: Option<String>,
}

fn columns(outcome: &Observation) -> Columns {
    let reasons_json = |reasons: &[StoredReason]| serde_json::to_string(reasons).ok();
    match outcome {
        Observation::Record {
            record,
            template,
            client,
        } => Columns {
            state: State::Pending,
            sha: Some(sha256_hex(record)),
            record: Some(record.clone()),
            template: template.clone(),
            client: client.clone(),
            phase: None,
            reasons: None,
        },
        Observation::Skipped(reasons) => Columns {
            state: State::Skipped,
            record: None,
            sha: None,
            template: None,
            client: None,
            phase: Some("trigger".into()),
            reasons: reasons_json(reasons),
        },
        Observation::Rejected { phase, reasons } => Columns {
            state: State::Rejected,
            record: None,
            sha: None,
            template: None,
            client: None,
            phase: Some(phase.clone()),
            reasons: reasons_json(reasons),
        },
    }
}

fn insert(tx: &Transaction<'_>, mapping: &str, deal: &Observed, seq: i64, now: i64) -> Result<()> {
    let c = columns(&deal.outcome);
    let key = idempotency_key(mapping, &deal.deal_id, 0);
    let mut statement = tx.prepare_cached(
        "INSERT INTO deals (mapping, deal_id, seq, state, source, source_version, record,
             record_sha256, template, client, idempotency_key, phase, reasons, first_seen,
             updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14)",
    )?;
    statement.execute(rusqlite::params![
        mapping,
        deal.deal_id,
        seq,
        c.state.as_str(),
        deal.source,
        deal.version,
        c.record,
        c.sha,
        c.template,
        c.client,
        key,
        c.phase,
        c.reasons,
        now,
    ])?;
    Ok(())
}

/// Folds a new observation into an existing row (see the module comment for the rules).
fn fold(
    tx: &Transaction<'_>,
    mapping: &str,
    deal: &Observed,
    row: &Existing,
    now: i64,
    counts: &mut Ingested,
) -> Result<()> {
    let new = columns(&deal.outcome);
    let same_record = new.sha.is_some() && new.sha == row.record_sha256;
    // Delivered, in flight, or a request that may have been acted on: the record its key
    // covers stays; a newer one is only reported.
    let possibly_written = matches!(row.state, State::Delivered | State::InFlight) || row.uncertain;
    if possibly_written {
        if new.record.is_some() && !same_record {
            tx.prepare_cached(
                "UPDATE deals SET changed_record = ?3, changed_at = ?4, source = ?5,
                     source_version = ?6
                 WHERE mapping = ?1 AND deal_id = ?2",
            )?
            .execute(rusqlite::params![
                mapping,
                deal.deal_id,
                new.record,
                now,
                deal.source,
                deal.version
            ])?;
            counts.changed_after_delivery += 1;
        } else {
            if new.record.is_some() {
                // The record is what was delivered again: a change seen earlier was undone.
                tx.prepare_cached(
                    "UPDATE deals SET changed_record = NULL, changed_at = NULL
                     WHERE mapping = ?1 AND deal_id = ?2 AND changed_record IS NOT NULL",
                )?
                .execute((mapping, &deal.deal_id))?;
            }
            counts.unchanged += 1;
        }
        return Ok(());
    }
    let refused_by_target = row.state == State::Rejected && row.phase.as_deref() == Some("target");
    // The same record again: a refused deal stays refused, a waiting or failed one keeps its
    // attempt budget and backoff (`mapctl retry` resets them).
    let waiting = matches!(row.state, State::Pending | State::Failed);
    if same_record && (refused_by_target || waiting) {
        counts.unchanged += 1;
        return Ok(());
    }
    let unchanged = new.state == row.state && (same_record || new.record.is_none());
    let generation = row.key_generation + i64::from(refused_by_target);
    let key = idempotency_key(mapping, &deal.deal_id, generation);
    tx.prepare_cached(
        "UPDATE deals SET state = ?3, source = ?4, source_version = ?5, record = ?6,
             record_sha256 = ?7, template = ?8, client = ?9, phase = ?10, reasons = ?11,
             key_generation = ?12, idempotency_key = ?13, attempts = 0, uncertain = 0,
             next_attempt_at = 0, updated_at = ?14,
             logged = CASE WHEN state = ?3 THEN logged ELSE 0 END
         WHERE mapping = ?1 AND deal_id = ?2",
    )?
    .execute(rusqlite::params![
        mapping,
        deal.deal_id,
        new.state.as_str(),
        deal.source,
        deal.version,
        new.record,
        new.sha,
        new.template,
        new.client,
        new.phase,
        new.reasons,
        generation,
        key,
        now,
    ])?;
    if unchanged {
        counts.unchanged += 1;
    } else {
        counts.updated += 1;
    }
    Ok(())
}
