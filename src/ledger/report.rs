//! Reading the ledger for people and for the run log, and re-queuing deals (`mapctl retry`).

use std::collections::BTreeMap;

use rusqlite::Row;

use super::{Ledger, Result, State, StoredReason, now_ms};

/// One deal's row, for reports.
#[derive(Debug, Clone, PartialEq)]
pub struct DealRow {
    /// The deal's id.
    pub deal_id: String,
    /// Its state.
    pub state: State,
    /// Where it was last read.
    pub source: String,
    /// The source's version of the deal when last read (a modification time, or a hash of the
    /// deal's text for files).
    pub source_version: Option<String>,
    /// The PSA project's id, once delivered.
    pub project_id: Option<String>,
    /// The PSA client's id, when known.
    pub client_id: Option<String>,
    /// The template chosen.
    pub template: Option<String>,
    /// Where a rejection or failure happened (`target` or a mapping phase).
    pub phase: Option<String>,
    /// Why it was rejected, skipped or failed.
    pub reasons: Vec<StoredReason>,
    /// Attempts in the current budget.
    pub attempts: i64,
    /// Whether a write may have happened that is not yet confirmed.
    pub uncertain: bool,
    /// The delivered record (or the one waiting to be).
    pub record: Option<Vec<u8>>,
    /// A newer record seen after delivery, never sent.
    pub changed_record: Option<Vec<u8>>,
    /// First seen (unix ms).
    pub first_seen: i64,
    /// Last change (unix ms).
    pub updated_at: i64,
    /// Delivered (unix ms).
    pub delivered_at: Option<i64>,
    /// When the next attempt is due (unix ms), for pending deals.
    pub next_attempt_at: i64,
    /// Whether the run log has this deal's state.
    pub logged: bool,
    /// Sync back: `none`, `done`, `skipped` or `failed`.
    pub sync_state: String,
    /// Why the last sync failed or was skipped.
    pub sync_error: Option<String>,
    /// Sync attempts so far.
    pub sync_attempts: i64,
}

/// One attempt, for `mapctl status --deal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRow {
    /// `create` or `lookup`.
    pub kind: String,
    /// Started (unix ms).
    pub started_at: i64,
    /// `created`, `found`, `not_found`, `retry`, `failed`, `rejected`, `interrupted`, `in_flight`.
    pub outcome: String,
    /// The HTTP status, if any.
    pub status: Option<u16>,
    /// What went wrong, if anything.
    pub error: Option<String>,
    /// How long it took.
    pub latency_ms: Option<i64>,
}

/// The ledger of one mapping at a glance.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// Deals by state.
    pub counts: BTreeMap<State, u64>,
    /// The pending deal waiting longest.
    pub oldest_pending: Option<DealRow>,
    /// Deals not delivered because of a problem: failed and rejected ones, by state.
    pub problems: Vec<DealRow>,
    /// Delivered deals whose record changed in the CRM after delivery.
    pub changed: Vec<DealRow>,
    /// Requests made, by kind and outcome.
    pub attempts: BTreeMap<(String, String), u64>,
    /// Deals with a write that may have happened and is not yet confirmed.
    pub uncertain: u64,
    /// Total latency of finished attempts (ms) and their number, for an average.
    pub latency: (i64, u64),
    /// Delivered deals by sync-back state.
    pub sync: BTreeMap<String, u64>,
    /// Delivered deals whose sync back failed.
    pub sync_failures: Vec<DealRow>,
    /// Deals a webhook announced that are not fetched yet.
    pub inbox: u64,
}

/// Which deals `mapctl retry` re-queues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// These deals.
    Deals(Vec<String>),
    /// Every failed deal.
    Failed,
    /// Every deal rejected (by the target: re-sent; by the mapping: mapped again when read).
    Rejected,
}

const DEAL_COLUMNS: &str = "deal_id, state, source, project_id, client_id, template, phase,
    reasons, attempts, uncertain, record, changed_record, first_seen, updated_at, delivered_at,
    next_attempt_at, logged, source_version, sync_state, sync_error, sync_attempts";

fn deal_row(row: &Row<'_>) -> rusqlite::Result<DealRow> {
    let state: String = row.get(1)?;
    let reasons: Option<String> = row.get(7)?;
    Ok(DealRow {
        deal_id: row.get(0)?,
        state: State::parse(&state).unwrap_or(State::Pending),
        source: row.get(2)?,
        project_id: row.get(3)?,
        client_id: row.get(4)?,
        template: row.get(5)?,
        phase: row.get(6)?,
        reasons: reasons
            .and_then(|r| serde_json::from_str(&r).ok())
            .unwrap_or_default(),
        attempts: row.get(8)?,
        uncertain: row.get::<_, i64>(9)? != 0,
        record: row.get(10)?,
        changed_record: row.get(11)?,
        first_seen: row.get(12)?,
        updated_at: row.get(13)?,
        delivered_at: row.get(14)?,
        next_attempt_at: row.get(15)?,
        logged: row.get::<_, i64>(16)? != 0,
        source_version: row.get(17)?,
        sync_state: row.get(18)?,
        sync_error: row.get(19)?,
        sync_attempts: row.get(20)?,
    })
}

impl Ledger {
    /// Counts, the oldest pending deal, problems and changes, for `mapctl status`.
    pub fn summary(&self) -> Result<Summary> {
        let mut summary = Summary::default();
        let mut counts = self.conn.prepare(
            "SELECT state, COUNT(*), SUM(uncertain) FROM deals WHERE mapping = ?1 GROUP BY state",
        )?;
        let rows = counts.query_map([&self.mapping], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, i64>(2)?,
            ))
        })?;
        for row in rows {
            let (state, count, uncertain) = row?;
            if let Some(state) = State::parse(&state) {
                summary
                    .counts
                    .insert(state, u64::try_from(count).unwrap_or(0));
            }
            summary.uncertain += u64::try_from(uncertain).unwrap_or(0);
        }
        summary.oldest_pending = self
            .deals_where("state IN ('pending', 'in_flight') ORDER BY first_seen, seq LIMIT 1")?
            .pop();
        summary.problems =
            self.deals_where("state IN ('failed', 'rejected') ORDER BY state, seq")?;
        summary.changed = self.deals_where("changed_record IS NOT NULL ORDER BY seq")?;
        summary.sync_failures =
            self.deals_where("state = 'delivered' AND sync_state = 'failed' ORDER BY seq")?;
        let mut sync = self.conn.prepare(
            "SELECT sync_state, COUNT(*) FROM deals
             WHERE mapping = ?1 AND state = 'delivered' GROUP BY sync_state",
        )?;
        for row in sync.query_map([&self.mapping], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
        })? {
            let (state, n) = row?;
            summary.sync.insert(state, u64::try_from(n).unwrap_or(0));
        }
        summary.inbox = self.inbox_size()?;
        let mut attempts = self.conn.prepare(
            "SELECT kind, outcome, COUNT(*), COALESCE(SUM(latency_ms), 0), COUNT(latency_ms)
             FROM attempts WHERE mapping = ?1 GROUP BY kind, outcome",
        )?;
        let rows = attempts.query_map([&self.mapping], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, i64>(3)?,
                row.get::<_, i64>(4)?,
            ))
        })?;
        for row in rows {
            let (kind, outcome, count, latency, timed) = row?;
            summary
                .attempts
                .insert((kind, outcome), u64::try_from(count).unwrap_or(0));
            summary.latency.0 += latency;
            summary.latency.1 += u64::try_from(timed).unwrap_or(0);
        }
        Ok(summary)
    }

    /// One deal's row, if the ledger has it.
    pub fn deal(&self, deal_id: &str) -> Result<Option<DealRow>> {
        let sql = format!("SELECT {DEAL_COLUMNS} FROM deals WHERE mapping = ?1 AND deal_id = ?2");
        let mut statement = self.conn.prepare(&sql)?;
        let mut rows = statement.query_map((&self.mapping, deal_id), deal_row)?;
        Ok(rows.next().transpose()?)
    }

    /// Every deal of the mapping, in the order first seen.
    pub fn deals(&self) -> Result<Vec<DealRow>> {
        self.deals_where("1 = 1 ORDER BY seq")
    }

    /// A deal's attempts, oldest first.
    pub fn attempts(&self, deal_id: &str) -> Result<Vec<AttemptRow>> {
        let mut statement = self.conn.prepare(
            "SELECT kind, started_at, outcome, status, error, latency_ms FROM attempts
             WHERE mapping = ?1 AND deal_id = ?2 ORDER BY id",
        )?;
        let rows = statement.query_map((&self.mapping, deal_id), |row| {
            Ok(AttemptRow {
                kind: row.get(0)?,
                started_at: row.get(1)?,
                outcome: row.get(2)?,
                status: row.get(3)?,
                error: row.get(4)?,
                latency_ms: row.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    fn deals_where(&self, condition: &str) -> Result<Vec<DealRow>> {
        let sql = format!("SELECT {DEAL_COLUMNS} FROM deals WHERE mapping = ?1 AND {condition}");
        let mut statement = self.conn.prepare(&sql)?;
        let rows = statement.query_map([&self.mapping], deal_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Re-queues the selected deals and returns the ids affected: failed deals and deals the
    /// target refused become pending with a fresh attempt budget (a refused one under a new
    /// idempotency key, since the target answered the old one); deals the mapping rejected
    /// are mapped again the next time the source delivers them (they are marked, not changed).
    /// Deals named that are delivered, pending or unknown are left alone and not returned.
    pub fn retry(&mut self, selection: &Selection) -> Result<Vec<String>> {
        let now = now_ms();
        let mapping = self.mapping.clone();
        let tx = super::write(&mut self.conn)?;
        let candidates: Vec<(String, String, Option<String>)> = {
            let (condition, ids): (&str, &[String]) = match selection {
                Selection::Deals(ids) => (
                    "(state IN ('failed', 'rejected')
                      OR (state = 'delivered' AND sync_state = 'failed')) AND deal_id = ?2",
                    ids,
                ),
                Selection::Failed => ("state = 'failed'", &[]),
                Selection::Rejected => ("state = 'rejected'", &[]),
            };
            let sql = format!(
                "SELECT deal_id, state, phase FROM deals WHERE mapping = ?1 AND {condition}"
            );
            let mut statement = tx.prepare(&sql)?;
            let mut found = Vec::new();
            let map = |row: &Row<'_>| Ok((row.get(0)?, row.get(1)?, row.get(2)?));
            if ids.is_empty() {
                for row in statement.query_map([&mapping], map)? {
                    found.push(row?);
                }
            } else {
                for id in ids {
                    for row in statement.query_map((&mapping, id), map)? {
                        found.push(row?);
                    }
                }
            }
            found
        };
        let mut requeued = Vec::new();
        for (deal_id, state, phase) in candidates {
            let refused_by_target = state == "rejected" && phase.as_deref() == Some("target");
            if state == "delivered" {
                // Only its sync back failed: a fresh budget of sync attempts.
                tx.execute(
                    "UPDATE deals SET sync_attempts = 0, sync_next_at = 0, updated_at = ?3
                     WHERE mapping = ?1 AND deal_id = ?2",
                    (&mapping, &deal_id, now),
                )?;
            } else if state == "failed" || refused_by_target {
                let bump = i64::from(refused_by_target);
                tx.execute(
                    "UPDATE deals SET state = 'pending', attempts = 0, next_attempt_at = 0,
                         key_generation = key_generation + ?3,
                         idempotency_key = CASE WHEN ?3 = 1 THEN NULL ELSE idempotency_key END,
                         reasons = NULL, phase = NULL, updated_at = ?4
                     WHERE mapping = ?1 AND deal_id = ?2",
                    (&mapping, &deal_id, bump, now),
                )?;
                if refused_by_target {
                    let generation: i64 = tx.query_row(
                        "SELECT key_generation FROM deals WHERE mapping = ?1 AND deal_id = ?2",
                        (&mapping, &deal_id),
                        |row| row.get(0),
                    )?;
                    let key = super::idempotency_key(&mapping, &deal_id, generation);
                    tx.execute(
                        "UPDATE deals SET idempotency_key = ?3 WHERE mapping = ?1 AND deal_id = ?2",
                        (&mapping, &deal_id, key),
                    )?;
                }
            } else {
                // Rejected by the mapping: the source's next copy is mapped again anyway (see
                // ingest); clearing the stored hash makes sure it is not taken as unchanged, and
                // a source that can fetch by id is asked for it on the next run.
                tx.execute(
                    "UPDATE deals SET record_sha256 = NULL, refetch = 1, updated_at = ?3
                     WHERE mapping = ?1 AND deal_id = ?2",
                    (&mapping, &deal_id, now),
                )?;
            }
            requeued.push(deal_id);
        }
        tx.commit()?;
        Ok(requeued)
    }

    /// Deals whose current final state (delivered, rejected, skipped) the run log lacks.
    pub fn unlogged(&self) -> Result<Vec<DealRow>> {
        self.deals_where(
            "logged = 0 AND state IN ('delivered', 'rejected', 'skipped') ORDER BY seq",
        )
    }

    /// Notes that the run log now has these deals' states.
    pub fn mark_logged(&mut self, deal_ids: &[String]) -> Result<()> {
        let mapping = self.mapping.clone();
        let tx = super::write(&mut self.conn)?;
        for id in deal_ids {
            tx.prepare_cached("UPDATE deals SET logged = 1 WHERE mapping = ?1 AND deal_id = ?2")?
                .execute((&mapping, id))?;
        }
        tx.commit()?;
        Ok(())
    }
}
