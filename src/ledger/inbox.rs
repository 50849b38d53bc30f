//! The webhook inbox: deal ids a CRM's webhook said changed, committed before the webhook is
//! answered, then fetched from the CRM by the server's background reader. A deal is in the
//! inbox once however often it is announced; it leaves when what was fetched is recorded (in
//! the same transaction), or waits for another try after a failed fetch.

use super::{Ledger, Observed, Result, now_ms};

/// A deal waiting to be fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    /// The deal's id in the CRM.
    pub deal_id: String,
    /// Failed fetches so far.
    pub attempts: i64,
}

impl Ledger {
    /// Queues deal ids announced by `source`'s webhook, in one committed transaction. Returns
    /// how many were not queued already.
    pub fn enqueue(&mut self, source: &str, deal_ids: &[String]) -> Result<usize> {
        let now = now_ms();
        let mapping = self.mapping.clone();
        let tx = super::write(&mut self.conn)?;
        let mut added = 0;
        for id in deal_ids {
            added += tx
                .prepare_cached(
                    "INSERT INTO inbox (mapping, source, deal_id, received_at) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (mapping, source, deal_id) DO UPDATE SET next_at = 0",
                )?
                .execute((&mapping, source, id, now))?;
        }
        tx.commit()?;
        Ok(added.min(deal_ids.len()))
    }

    /// Up to `limit` queued deals of `source` due for a fetch, oldest first.
    pub fn queued(&self, source: &str, limit: usize) -> Result<Vec<Queued>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT deal_id, attempts FROM inbox
             WHERE mapping = ?1 AND source = ?2 AND next_at <= ?3
             ORDER BY received_at, deal_id LIMIT ?4",
        )?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = statement.query_map(
            rusqlite::params![self.mapping, source, now_ms(), limit],
            |row| {
                Ok(Queued {
                    deal_id: row.get(0)?,
                    attempts: row.get(1)?,
                })
            },
        )?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Deals queued (for `status` and health checks).
    pub fn inbox_size(&self) -> Result<u64> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM inbox WHERE mapping = ?1",
            [&self.mapping],
            |row| row.get::<_, i64>(0).map(|n| u64::try_from(n).unwrap_or(0)),
        )?)
    }

    /// Records what was fetched for queued deals (queued id, what the mapping made of it) and
    /// takes them, and `gone` (deals the source no longer has), out of the inbox: one
    /// transaction, so a deal leaves the inbox exactly when its outcome is recorded.
    pub fn ingest_queued(
        &mut self,
        source: &str,
        fetched: &[(String, Observed)],
        gone: &[String],
    ) -> Result<super::Ingested> {
        let mapping = self.mapping.clone();
        let tx = super::write(&mut self.conn)?;
        let observed: Vec<Observed> = fetched.iter().map(|(_, o)| o.clone()).collect();
        let counts = super::ingest::ingest_in(&tx, &mapping, &observed)?;
        for id in fetched.iter().map(|(id, _)| id).chain(gone) {
            tx.prepare_cached(
                "DELETE FROM inbox WHERE mapping = ?1 AND source = ?2 AND deal_id = ?3",
            )?
            .execute((&mapping, source, id))?;
        }
        tx.commit()?;
        Ok(counts)
    }

    /// Notes a failed fetch: the deal waits until `next_at` (unix ms).
    pub fn fetch_failed(
        &mut self,
        source: &str,
        deal_id: &str,
        error: &str,
        next_at: i64,
    ) -> Result<()> {
        self.conn.execute(
            "UPDATE inbox SET attempts = attempts + 1, error = ?4, next_at = ?5
             WHERE mapping = ?1 AND source = ?2 AND deal_id = ?3",
            rusqlite::params![self.mapping, source, deal_id, error, next_at],
        )?;
        Ok(())
    }
}
