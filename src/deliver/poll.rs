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
    /// The deals read, when some are marked to be fetched again (else not kept).
    seen: Option<HashSet<String>>,
}

impl Recorder<'_> {
    fn push(&mut self, observed: Observed) -> Result<(), String> {
        if let Some(seen) = &mut self.seen {
            seen.insert(observed.deal_id.clone());
        }
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
    let marked = !ledger.refetch_due().map_err(|e| e.to_string())?.is_empty();
    let mut recorder = Recorder {
        ledger,
        batch: Vec::with_capacity(BATCH),
        total: Ingested::default(),
        seen: marked.then(HashSet::new),
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
        let read_now = recorder
            .seen
            .as_ref()
            .is_some_and(|seen| seen.contains(&id));
        if read_now || id.starts_with('@') {
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicBool;

    use serde_json::{Value, json};

    use super::*;
    use crate::engine::LoadOptions;
    use crate::io::input::{InputItem, Payload, Position};
    use crate::ledger::{Selection, State};

    /// A source holding deals in memory: `changed` gives those not yet given, `fetch` any.
    struct Memory {
        deals: Vec<Value>,
        given: usize,
        fetched: Vec<String>,
    }

    impl Source for Memory {
        fn describe(&self) -> String {
            "memory".into()
        }

        fn cursor_name(&self) -> Option<&str> {
            Some("memory")
        }

        fn changed(
            &mut self,
            _cursor: Option<&str>,
            each: &mut dyn FnMut(SourceItem<'_>) -> ControlFlow<()>,
        ) -> Result<Option<String>, SourceError> {
            for deal in &self.deals[self.given..] {
                let item = InputItem {
                    position: Position::Index(0),
                    value: Ok(Payload::Parsed(deal.clone())),
                };
                let _ = each(SourceItem {
                    item,
                    origin: "memory".into(),
                    version: None,
                });
            }
            self.given = self.deals.len();
            Ok(Some(self.given.to_string()))
        }

        fn fetch(&mut self, deal_id: &str) -> Result<Option<Vec<u8>>, SourceError> {
            self.fetched.push(deal_id.to_string());
            Ok(self
                .deals
                .iter()
                .find(|d| d["id"] == deal_id)
                .map(|d| d.to_string().into_bytes()))
        }
    }

    #[test]
    fn the_cursor_is_saved_and_a_retried_deal_is_fetched_once_by_id() {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(&dir.path().join("l.db"), "handoff").unwrap();
        let mapping = Mapping::load(
            "tests/runtime/handoff.map".as_ref(),
            &LoadOptions::default(),
        )
        .unwrap();
        let mut source = Memory {
            deals: vec![json!({"id": "d1", "stage": "won", "name": "Deal 1"})],
            given: 0,
            fetched: Vec::new(),
        };
        let stop = AtomicBool::new(false);
        let read = |ledger: &mut Ledger, source: &mut Memory| {
            poll(&mapping, source, None, ledger, &stop, &mut |_| {}).unwrap()
        };
        assert_eq!(read(&mut ledger, &mut source).read, 1);
        assert_eq!(ledger.cursor("memory").unwrap().as_deref(), Some("1"));
        assert_eq!(ledger.deal("d1").unwrap().unwrap().state, State::Rejected);
        // The mapping (here: the deal, unchanged at the source) is fixed; retry marks it.
        source.deals[0]["amount"] = json!(100);
        ledger.retry(&Selection::Deals(vec!["d1".into()])).unwrap();
        let again = read(&mut ledger, &mut source);
        assert_eq!(
            (again.read, source.fetched.as_slice()),
            (1, ["d1".to_string()].as_slice())
        );
        assert_eq!(ledger.deal("d1").unwrap().unwrap().state, State::Pending);
        read(&mut ledger, &mut source);
        assert_eq!(
            source.fetched.len(),
            1,
            "fetched once, then no longer marked"
        );
    }
}
