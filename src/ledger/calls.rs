//! API calls made to vendors: counted by the connectors, added here by deal (or as shared by a
//! poll or a run), vendor and purpose, and summed for `mapctl status` (calls per delivered deal).

use std::collections::BTreeMap;

use super::{Ledger, Result};

/// Calls to one vendor for one purpose, for one deal or shared.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct CallCount {
    /// The deal the calls were for; `None` for calls a poll or a run shares (a search page, a
    /// batch read, a token, reference data).
    pub deal_id: Option<String>,
    /// The vendor (`hubspot`).
    pub vendor: String,
    /// What the calls were for (`create job`).
    pub purpose: String,
    /// How many.
    pub calls: u64,
}

/// The calls of one mapping, summed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallSummary {
    /// Calls by (vendor, purpose): (made for a delivered deal, made for other deals, shared).
    pub by_purpose: BTreeMap<(String, String), (u64, u64, u64)>,
    /// Deals delivered.
    pub delivered: u64,
}

impl CallSummary {
    /// Calls made for delivered deals, for other deals, and shared.
    pub fn totals(&self) -> (u64, u64, u64) {
        self.by_purpose
            .values()
            .fold((0, 0, 0), |(a, b, c), (x, y, z)| (a + x, b + y, c + z))
    }

    /// Every call divided by the deals delivered (`None` before the first delivery).
    pub fn per_delivered_deal(&self) -> Option<f64> {
        let (own, other, shared) = self.totals();
        (self.delivered > 0).then(|| (own + other + shared) as f64 / self.delivered as f64)
    }
}

impl Ledger {
    /// Adds counted calls, in one transaction.
    pub fn add_calls(&mut self, counts: &[CallCount]) -> Result<()> {
        if counts.is_empty() {
            return Ok(());
        }
        let mapping = self.mapping.clone();
        let tx = super::write(&mut self.conn)?;
        for count in counts {
            tx.prepare_cached(
                "INSERT INTO api_calls (mapping, deal_id, vendor, purpose, calls)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (mapping, deal_id, vendor, purpose) DO UPDATE SET calls = calls + ?5",
            )?
            .execute(rusqlite::params![
                mapping,
                count.deal_id.as_deref().unwrap_or(""),
                count.vendor,
                count.purpose,
                i64::try_from(count.calls).unwrap_or(i64::MAX),
            ])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The calls of the mapping by vendor and purpose, split into those for delivered deals,
    /// for other deals, and shared ones.
    pub fn call_summary(&self) -> Result<CallSummary> {
        let mut summary = CallSummary {
            delivered: self.conn.query_row(
                "SELECT COUNT(*) FROM deals WHERE mapping = ?1 AND state = 'delivered'",
                [&self.mapping],
                |row| row.get::<_, i64>(0).map(|n| u64::try_from(n).unwrap_or(0)),
            )?,
            ..CallSummary::default()
        };
        let mut statement = self.conn.prepare(
            "SELECT c.vendor, c.purpose,
                 SUM(CASE WHEN d.state = 'delivered' THEN c.calls ELSE 0 END),
                 SUM(CASE WHEN c.deal_id <> '' AND (d.state IS NULL OR d.state <> 'delivered')
                     THEN c.calls ELSE 0 END),
                 SUM(CASE WHEN c.deal_id = '' THEN c.calls ELSE 0 END)
             FROM api_calls c
             LEFT JOIN deals d ON d.mapping = c.mapping AND d.deal_id = c.deal_id
             WHERE c.mapping = ?1 GROUP BY c.vendor, c.purpose",
        )?;
        let rows = statement.query_map([&self.mapping], |row| {
            let n = |i: usize| row.get::<_, i64>(i).map(|v| u64::try_from(v).unwrap_or(0));
            Ok(((row.get(0)?, row.get(1)?), (n(2)?, n(3)?, n(4)?)))
        })?;
        for row in rows {
            let (key, counts) = row?;
            summary.by_purpose.insert(key, counts);
        }
        Ok(summary)
    }

    /// The calls made for one deal, by (vendor, purpose).
    pub fn deal_calls(&self, deal_id: &str) -> Result<Vec<CallCount>> {
        let mut statement = self.conn.prepare(
            "SELECT vendor, purpose, calls FROM api_calls
             WHERE mapping = ?1 AND deal_id = ?2 ORDER BY vendor, purpose",
        )?;
        let rows = statement.query_map((&self.mapping, deal_id), |row| {
            Ok(CallCount {
                deal_id: Some(deal_id.to_string()),
                vendor: row.get(0)?,
                purpose: row.get(1)?,
                calls: u64::try_from(row.get::<_, i64>(2)?).unwrap_or(0),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }
}
