//! Counting API calls: every request a vendor connector sends is counted here by vendor, purpose
//! (`search`, `create job`, `sync back`, ...) and the deal it was for, or as shared by a poll or
//! a run (a search page, a batch read, a token, reference data). The runtime moves the counts
//! into the ledger ([`Meter::take`]) each time it records outcomes, and `mapctl status` reports
//! them per delivered deal.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::ledger::CallCount;

type Key = (Option<String>, String, String);

/// API call counts not yet recorded; clones share them.
#[derive(Debug, Clone, Default)]
pub struct Meter {
    counts: Arc<Mutex<BTreeMap<Key, u64>>>,
}

impl Meter {
    /// A meter with nothing counted.
    pub fn new() -> Meter {
        Meter::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<Key, u64>> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts one call to `vendor` for `purpose`, made for `deal` (`None`: shared).
    pub fn count(&self, vendor: &str, purpose: &str, deal: Option<&str>) {
        let key = (
            deal.map(str::to_string),
            vendor.to_string(),
            purpose.to_string(),
        );
        *self.lock().entry(key).or_default() += 1;
    }

    /// The counts so far, emptied (they are the caller's to record).
    pub fn take(&self) -> Vec<CallCount> {
        std::mem::take(&mut *self.lock())
            .into_iter()
            .map(|((deal_id, vendor, purpose), calls)| CallCount {
                deal_id,
                vendor,
                purpose,
                calls,
            })
            .collect()
    }

    /// Puts counts back (recording them failed; they go with the next batch).
    pub fn restore(&self, counts: Vec<CallCount>) {
        let mut map = self.lock();
        for count in counts {
            let key = (count.deal_id, count.vendor, count.purpose);
            *map.entry(key).or_default() += count.calls;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_taken_once_and_can_be_put_back() {
        let meter = Meter::new();
        meter.count("accelo", "create job", Some("d1"));
        meter.count("accelo", "create job", Some("d1"));
        meter.count("hubspot", "search", None);
        let taken = meter.take();
        assert_eq!(taken.len(), 2);
        assert!(meter.take().is_empty());
        meter.restore(taken.clone());
        assert_eq!(meter.take(), taken);
    }
}
