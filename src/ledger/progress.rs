//! Delivery progress: claiming due deals (the recorded intent), finishing attempts (the recorded
//! outcome) and recovering from a process that died in between.

use rusqlite::Transaction;

use super::{Ledger, Result, State, StoredReason, now_ms};

/// What the claimed attempt does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimKind {
    /// Create the project.
    Create,
    /// A write may already have happened: ask the target whether the project exists.
    Lookup,
}

impl ClaimKind {
    fn as_str(self) -> &'static str {
        match self {
            ClaimKind::Create => "create",
            ClaimKind::Lookup => "lookup",
        }
    }
}

/// A deal claimed for one attempt; the claim is committed before the request is sent.
#[derive(Debug, Clone)]
pub struct Claim {
    /// The deal.
    pub deal_id: String,
    /// Create or look up.
    pub kind: ClaimKind,
    /// The record to send (compact JSON).
    pub record: Vec<u8>,
    /// The deal's idempotency key.
    pub idempotency_key: String,
    /// Client matching, as JSON, when the mapping matches clients.
    pub client: Option<String>,
    /// The attempt's number within the deal's budget (1 for the first).
    pub attempt: u32,
    /// The attempt's row.
    pub attempt_id: i64,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Finish {
    /// The project was created (or the target said it exists, with its id).
    Delivered {
        /// The project's id in the PSA (`None` when the target did not say it).
        project_id: Option<String>,
        /// The client's id, when the target reports it.
        client_id: Option<String>,
        /// The project as the target answered (JSON), kept for `sync back`.
        project: Option<Vec<u8>>,
        /// Something worth knowing about an otherwise good create (kept with the attempt).
        note: Option<String>,
    },
    /// A lookup found these projects for the deal; the first one no other deal owns is taken,
    /// and when every one is owned the deal is created.
    Found {
        /// The projects' ids.
        ids: Vec<String>,
    },
    /// Another attempt at `at_ms`.
    Retry {
        /// When (unix ms).
        at_ms: i64,
        /// The HTTP status, if any.
        status: Option<u16>,
        /// What went wrong.
        error: String,
        /// Whether the request may have been acted on.
        maybe_written: bool,
    },
    /// No attempts left.
    Failed {
        /// The HTTP status, if any.
        status: Option<u16>,
        /// What went wrong.
        error: String,
        /// Whether the request may have been acted on.
        maybe_written: bool,
    },
    /// The target refused the record; nothing was written.
    Rejected {
        /// The HTTP status, if any.
        status: Option<u16>,
        /// The target's message.
        message: String,
    },
}

/// An attempt's end, for [`Ledger::finish`].
#[derive(Debug, Clone)]
pub struct Finished {
    /// The deal.
    pub deal_id: String,
    /// The attempt's row (from its [`Claim`]).
    pub attempt_id: i64,
    /// Create or lookup (from its [`Claim`]).
    pub kind: ClaimKind,
    /// How it ended.
    pub finish: Finish,
    /// How long the target took, in ms.
    pub latency_ms: i64,
}

impl Ledger {
    /// Turns deals left `in_flight` by a process that died back into pending deals (they stay
    /// `uncertain`, so they are looked up before anything is created). Returns how many.
    pub fn recover(&mut self) -> Result<usize> {
        let now = now_ms();
        let tx = super::write(&mut self.conn)?;
        tx.execute(
            "UPDATE attempts SET outcome = 'interrupted', finished_at = ?2
             WHERE mapping = ?1 AND outcome = 'in_flight'",
            (&self.mapping, now),
        )?;
        let count = tx.execute(
            "UPDATE deals SET state = 'pending', next_attempt_at = 0, updated_at = ?2
             WHERE mapping = ?1 AND state = 'in_flight'",
            (&self.mapping, now),
        )?;
        tx.commit()?;
        Ok(count)
    }

    /// Claims up to `limit` due pending deals: records an attempt for each and marks it
    /// `in_flight` (and, for a create, `uncertain`), in one committed transaction.
    pub fn claim(&mut self, limit: usize) -> Result<Vec<Claim>> {
        let now = now_ms();
        let mapping = self.mapping.clone();
        let tx = super::write(&mut self.conn)?;
        let due = due_deals(&tx, &mapping, now, limit)?;
        let mut claims = Vec::with_capacity(due.len());
        for mut claim in due {
            tx.prepare_cached(
                "INSERT INTO attempts (mapping, deal_id, kind, started_at, outcome)
                 VALUES (?1, ?2, ?3, ?4, 'in_flight')",
            )?
            .execute((&mapping, &claim.deal_id, claim.kind.as_str(), now))?;
            claim.attempt_id = tx.last_insert_rowid();
            tx.prepare_cached(
                "UPDATE deals SET state = 'in_flight', attempts = attempts + 1,
                     uncertain = CASE WHEN ?3 = 'create' THEN 1 ELSE uncertain END,
                     updated_at = ?4
                 WHERE mapping = ?1 AND deal_id = ?2",
            )?
            .execute((&mapping, &claim.deal_id, claim.kind.as_str(), now))?;
            claims.push(claim);
        }
        tx.commit()?;
        Ok(claims)
    }

    /// Records how attempts ended, in one transaction.
    pub fn finish(&mut self, results: &[Finished]) -> Result<()> {
        let now = now_ms();
        let mapping = self.mapping.clone();
        let tx = super::write(&mut self.conn)?;
        for result in results {
            finish_one(&tx, &mapping, result, now)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// When the next pending deal is due (unix ms), if any deal is pending.
    pub fn next_due(&self) -> Result<Option<i64>> {
        Ok(self.conn.query_row(
            "SELECT MIN(next_attempt_at) FROM deals WHERE mapping = ?1 AND state = 'pending'",
            [&self.mapping],
            |row| row.get(0),
        )?)
    }
}

fn due_deals(tx: &Transaction<'_>, mapping: &str, now: i64, limit: usize) -> Result<Vec<Claim>> {
    let mut statement = tx.prepare_cached(
        "SELECT deal_id, record, idempotency_key, uncertain, attempts, client FROM deals
         WHERE mapping = ?1 AND state = 'pending' AND next_attempt_at <= ?2
             AND record IS NOT NULL
         ORDER BY next_attempt_at, seq LIMIT ?3",
    )?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = statement.query_map((mapping, now, limit), |row| {
        let uncertain: i64 = row.get(3)?;
        let attempts: i64 = row.get(4)?;
        Ok(Claim {
            deal_id: row.get(0)?,
            record: row.get(1)?,
            idempotency_key: row.get::<_, Option<String>>(2)?.unwrap_or_default(),
            kind: if uncertain != 0 {
                ClaimKind::Lookup
            } else {
                ClaimKind::Create
            },
            client: row.get(5)?,
            attempt: u32::try_from(attempts + 1).unwrap_or(u32::MAX),
            attempt_id: 0,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
}

fn finish_one(tx: &Transaction<'_>, mapping: &str, result: &Finished, now: i64) -> Result<()> {
    let deal = &result.deal_id;
    let (outcome, status, error) = match &result.finish {
        Finish::Delivered { note, .. } => ("created", None, note.as_deref()),
        Finish::Found { ids } if ids.is_empty() => ("not_found", None, None),
        Finish::Found { .. } => ("found", None, None),
        Finish::Retry { status, error, .. } => ("retry", *status, Some(error.as_str())),
        Finish::Failed { status, error, .. } => ("failed", *status, Some(error.as_str())),
        Finish::Rejected { status, message } => ("rejected", *status, Some(message.as_str())),
    };
    tx.prepare_cached(
        "UPDATE attempts SET outcome = ?2, status = ?3, error = ?4, finished_at = ?5,
             latency_ms = ?6
         WHERE id = ?1",
    )?
    .execute(rusqlite::params![
        result.attempt_id,
        outcome,
        status,
        error,
        now,
        result.latency_ms
    ])?;
    match &result.finish {
        Finish::Delivered {
            project_id,
            client_id,
            project,
            ..
        } => delivered(
            tx,
            mapping,
            deal,
            Ids {
                project: project_id.as_deref(),
                client: client_id.as_deref(),
                answer: project.as_deref(),
            },
            now,
        ),
        Finish::Found { ids } => match first_unowned(tx, mapping, deal, ids)? {
            Some(id) => delivered(tx, mapping, deal, Ids::project(&id), now),
            None if result.kind == ClaimKind::Create => {
                // A create answered 409 and the lookup found only other deals' projects: a
                // lookup that cannot tell deals apart. Stop rather than loop; a person looks.
                let reasons = reason_json(
                    Some(409),
                    "the target says the project exists, but every project the lookup found belongs to another deal; check the lookup (`--lookup-url`)",
                );
                tx.prepare_cached(
                    "UPDATE deals SET state = 'failed', phase = 'target', reasons = ?3,
                         uncertain = 0, updated_at = ?4
                     WHERE mapping = ?1 AND deal_id = ?2",
                )?
                .execute((mapping, deal, reasons, now))?;
                Ok(())
            }
            None => {
                // Nothing exists for this deal: create it next, straight away.
                tx.prepare_cached(
                    "UPDATE deals SET state = 'pending', uncertain = 0, next_attempt_at = 0,
                         updated_at = ?3
                     WHERE mapping = ?1 AND deal_id = ?2",
                )?
                .execute((mapping, deal, now))?;
                Ok(())
            }
        },
        Finish::Retry {
            at_ms,
            maybe_written,
            ..
        } => {
            let uncertain = keeps_uncertain(result.kind, *maybe_written);
            tx.prepare_cached(
                "UPDATE deals SET state = 'pending', next_attempt_at = ?3,
                     uncertain = CASE WHEN ?4 THEN 1 ELSE 0 END, updated_at = ?5
                 WHERE mapping = ?1 AND deal_id = ?2",
            )?
            .execute((mapping, deal, at_ms, uncertain, now))?;
            Ok(())
        }
        Finish::Failed {
            status,
            error,
            maybe_written,
        } => {
            let uncertain = keeps_uncertain(result.kind, *maybe_written);
            let reasons = reason_json(*status, error);
            tx.prepare_cached(
                "UPDATE deals SET state = 'failed', reasons = ?3, phase = 'target',
                     uncertain = CASE WHEN ?4 THEN 1 ELSE 0 END, updated_at = ?5
                 WHERE mapping = ?1 AND deal_id = ?2",
            )?
            .execute((mapping, deal, reasons, uncertain, now))?;
            Ok(())
        }
        Finish::Rejected { status, message } => {
            let reasons = reason_json(*status, message);
            tx.prepare_cached(
                "UPDATE deals SET state = 'rejected', phase = 'target', reasons = ?3,
                     uncertain = 0, logged = 0, updated_at = ?4
                 WHERE mapping = ?1 AND deal_id = ?2",
            )?
            .execute((mapping, deal, reasons, now))?;
            Ok(())
        }
    }
}

/// A lookup's failure leaves the deal uncertain; a create's leaves it uncertain only when the
/// request may have been acted on.
fn keeps_uncertain(kind: ClaimKind, maybe_written: bool) -> bool {
    kind == ClaimKind::Lookup || maybe_written
}

/// What a delivery is recorded with.
struct Ids<'a> {
    project: Option<&'a str>,
    client: Option<&'a str>,
    answer: Option<&'a [u8]>,
}

impl<'a> Ids<'a> {
    fn project(id: &'a str) -> Ids<'a> {
        Ids {
            project: Some(id),
            client: None,
            answer: None,
        }
    }
}

fn delivered(
    tx: &Transaction<'_>,
    mapping: &str,
    deal: &str,
    ids: Ids<'_>,
    now: i64,
) -> Result<()> {
    tx.prepare_cached(
        "UPDATE deals SET state = ?3, project_id = ?4, client_id = COALESCE(?5, client_id),
             project = COALESCE(?7, project), uncertain = 0, reasons = NULL, phase = NULL,
             delivered_at = ?6, updated_at = ?6, logged = 0
         WHERE mapping = ?1 AND deal_id = ?2",
    )?
    .execute(rusqlite::params![
        mapping,
        deal,
        State::Delivered.as_str(),
        ids.project,
        ids.client,
        now,
        ids.answer,
    ])?;
    Ok(())
}

/// The first of `ids` that no other deal of the mapping was delivered as.
fn first_unowned(
    tx: &Transaction<'_>,
    mapping: &str,
    deal: &str,
    ids: &[String],
) -> Result<Option<String>> {
    let mut statement = tx.prepare_cached(
        "SELECT COUNT(*) FROM deals WHERE mapping = ?1 AND project_id = ?2 AND deal_id <> ?3",
    )?;
    for id in ids {
        let owners: i64 = statement.query_row((mapping, id, deal), |row| row.get(0))?;
        if owners == 0 {
            return Ok(Some(id.clone()));
        }
    }
    Ok(None)
}

/// A target's refusal or a delivery failure, as a stored reason (code M514, the HTTP status
/// in the message).
fn reason_json(status: Option<u16>, message: &str) -> Option<String> {
    let message = match status {
        Some(status) => format!("HTTP {status}: {message}"),
        None => message.to_string(),
    };
    serde_json::to_string(&[StoredReason::new("M514", message)]).ok()
}
