//! Sync-back bookkeeping: which delivered deals still need their `sync back` patch written to
//! the CRM, and how each try went. `sync_state` is `none` until a sync is tried, then `done`
//! (the patch was written), `skipped` (the rules gave nothing to write) or `failed` (tried again
//! on later runs until the attempts run out; `mapctl retry DEAL` gives it a fresh budget).

use super::{Ledger, Result, now_ms};

/// A delivered deal whose sync back is due.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncDue {
    /// The deal.
    pub deal_id: String,
    /// Its project's id.
    pub project_id: Option<String>,
    /// The project as the target answered its create (JSON), when it did.
    pub project: Option<Vec<u8>>,
    /// The record delivered.
    pub record: Option<Vec<u8>>,
    /// Sync attempts so far.
    pub attempts: i64,
    /// The deal's order in the ledger (for paging through due syncs).
    pub seq: i64,
}

/// How one sync went.
#[derive(Debug, Clone, PartialEq)]
pub enum SyncResult {
    /// The patch (JSON) was written.
    Done(String),
    /// The rules gave nothing to write.
    Skipped(String),
    /// Writing failed; tried again from `retry_at` (unix ms).
    Failed {
        /// What went wrong.
        error: String,
        /// When the next try is due.
        retry_at: i64,
    },
}

impl Ledger {
    /// Up to `limit` delivered deals after `after_seq` (in ledger order) whose sync back is
    /// due: never tried, or failed fewer than `max_attempts` times.
    pub fn due_syncs(
        &self,
        after_seq: i64,
        limit: usize,
        max_attempts: u32,
    ) -> Result<Vec<SyncDue>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT deal_id, project_id, project, record, sync_attempts, seq FROM deals
             WHERE mapping = ?1 AND state = 'delivered' AND sync_state IN ('none', 'failed')
                 AND sync_attempts < ?2 AND seq > ?3 AND sync_next_at <= ?5
             ORDER BY seq LIMIT ?4",
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = statement.query_map(
            rusqlite::params![
                self.mapping,
                i64::from(max_attempts),
                after_seq,
                limit,
                now_ms()
            ],
            |row| {
                Ok(SyncDue {
                    deal_id: row.get(0)?,
                    project_id: row.get(1)?,
                    project: row.get(2)?,
                    record: row.get(3)?,
                    attempts: row.get(4)?,
                    seq: row.get(5)?,
                })
            },
        )?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Records how syncs went, in one transaction.
    pub fn finish_syncs(&mut self, results: &[(String, SyncResult)]) -> Result<()> {
        let now = now_ms();
        let mapping = self.mapping.clone();
        let tx = super::write(&mut self.conn)?;
        for (deal_id, result) in results {
            let (state, patch, error, next) = match result {
                SyncResult::Done(patch) => ("done", Some(patch.as_str()), None, 0),
                SyncResult::Skipped(why) => ("skipped", None, Some(why.as_str()), 0),
                SyncResult::Failed { error, retry_at } => {
                    ("failed", None, Some(error.as_str()), *retry_at)
                }
            };
            tx.prepare_cached(
                "UPDATE deals SET sync_state = ?3, sync_patch = COALESCE(?4, sync_patch),
                     sync_error = ?5, sync_attempts = sync_attempts + 1, sync_next_at = ?7,
                     synced_at = CASE WHEN ?3 = 'done' THEN ?6 ELSE synced_at END
                 WHERE mapping = ?1 AND deal_id = ?2",
            )?
            .execute(rusqlite::params![
                mapping, deal_id, state, patch, error, now, next
            ])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Deals `mapctl retry` asked to fetch from the source again (rejected by the mapping).
    pub fn refetch_due(&self) -> Result<Vec<String>> {
        let mut statement = self
            .conn
            .prepare("SELECT deal_id FROM deals WHERE mapping = ?1 AND refetch = 1 ORDER BY seq")?;
        let rows = statement.query_map([&self.mapping], |row| row.get(0))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Notes that these deals were fetched again (or could not be: they are left to the source).
    pub fn refetched(&mut self, deal_ids: &[String]) -> Result<()> {
        let mapping = self.mapping.clone();
        let tx = super::write(&mut self.conn)?;
        for id in deal_ids {
            tx.prepare_cached("UPDATE deals SET refetch = 0 WHERE mapping = ?1 AND deal_id = ?2")?
                .execute((&mapping, id))?;
        }
        tx.commit()?;
        Ok(())
    }
}
