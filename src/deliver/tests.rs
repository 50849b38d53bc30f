//! The state machine against an in-memory target that fails at random, loses answers after
//! committing, and panics: whatever happens, every deal ends delivered exactly once.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use proptest::prelude::*;

use super::backoff::Backoff;
use super::{Control, Policy, deliver};
use crate::connect::{Created, Delivery, Guarantee, Target, TargetError};
use crate::ledger::{Ledger, Observation, Observed, State};

/// What the flaky target does to a create, chosen from a seeded sequence.
struct Flaky {
    projects: Mutex<BTreeMap<String, Vec<String>>>,
    script: Mutex<Vec<u8>>,
}

impl Flaky {
    fn next(&self) -> u8 {
        self.script.lock().unwrap().pop().unwrap_or(0)
    }
}

fn retryable(maybe_written: bool) -> TargetError {
    TargetError::Retryable {
        status: Some(503),
        message: "flaky".into(),
        after: None,
        maybe_written,
        throttled: false,
    }
}

impl Target for Flaky {
    fn describe(&self) -> String {
        "flaky".into()
    }
    fn guarantee(&self) -> Guarantee {
        Guarantee::ExactlyOnce
    }
    fn create(&self, delivery: &Delivery<'_>) -> Result<Created, TargetError> {
        match self.next() {
            1 => return Err(retryable(false)),
            2 => panic!("a connector bug"),
            _ => {}
        }
        let mut projects = self.projects.lock().unwrap();
        let ids = projects.entry(delivery.deal_id.to_string()).or_default();
        let id = format!("p-{}-{}", delivery.deal_id, ids.len());
        ids.push(id.clone());
        drop(projects);
        if self.next() == 3 {
            return Err(retryable(true)); // written, answer lost
        }
        Ok(Created {
            project_id: Some(id),
            ..Created::default()
        })
    }
    fn find(&self, delivery: &Delivery<'_>) -> Result<Vec<String>, TargetError> {
        if self.next() == 1 {
            return Err(retryable(false));
        }
        let projects = self.projects.lock().unwrap();
        Ok(projects.get(delivery.deal_id).cloned().unwrap_or_default())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn every_deal_is_delivered_once_whatever_the_target_does(
        deals in 1usize..40,
        script in prop::collection::vec(0u8..4, 0..200),
        concurrency in 1usize..5,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::open(&dir.path().join("l.db"), "m").unwrap();
        let batch: Vec<Observed> = (0..deals)
            .map(|n| Observed {
                deal_id: format!("d{n}"),
                source: format!("deals:{n}"),
                version: None,
                outcome: Observation::Record {
                    record: format!("{{\"n\":{n}}}").into_bytes(),
                    template: None,
                    client: None,
                },
            })
            .collect();
        ledger.ingest(&batch).unwrap();
        let flaky = Arc::new(Flaky {
            projects: Mutex::new(BTreeMap::new()),
            script: Mutex::new(script),
        });
        let target: Arc<dyn Target> = flaky.clone();
        let policy = Policy {
            concurrency,
            max_attempts: 1000,
            backoff: Backoff {
                base: Duration::from_millis(1),
                cap: Duration::from_millis(2),
                ..Backoff::default()
            },
        };
        let stop = AtomicBool::new(false);
        let control = Control {
            stop: &stop,
            wake: None,
            progress: &mut |_| {},
            observe: &mut |_| {},
            meter: None,
        };
        deliver(&mut ledger, &target, &policy, control).unwrap();
        let projects = flaky.projects.lock().unwrap();
        prop_assert_eq!(projects.len(), deals);
        prop_assert!(projects.values().all(|ids| ids.len() == 1), "{:?}", projects);
        let summary = ledger.summary().unwrap();
        prop_assert_eq!(summary.counts.get(&State::Delivered).copied(), Some(deals as u64));
        for row in ledger.deals().unwrap() {
            let expected = projects[&row.deal_id][0].clone();
            prop_assert_eq!(row.project_id, Some(expected));
        }
    }
}
