//! The ledger's rules on a real database in a temporary folder.

use super::*;

fn open() -> (tempfile::TempDir, Ledger) {
    let dir = tempfile::tempdir().unwrap();
    let ledger = Ledger::open(&dir.path().join(".mapctl/ledger.db"), "m").unwrap();
    (dir, ledger)
}

fn record(deal: &str, text: &str) -> Observed {
    Observed {
        deal_id: deal.into(),
        source: "deals.ndjson:1".into(),
        version: None,
        outcome: Observation::Record {
            record: text.as_bytes().to_vec(),
            template: None,
            client: None,
        },
    }
}

fn rejected(deal: &str) -> Observed {
    Observed {
        deal_id: deal.into(),
        source: "deals.ndjson:2".into(),
        version: None,
        outcome: Observation::Rejected {
            phase: "require".into(),
            reasons: vec![StoredReason::new("M504", "amount is required")],
        },
    }
}

fn finish(ledger: &mut Ledger, claim: &Claim, finish: Finish) {
    ledger
        .finish(&[Finished {
            deal_id: claim.deal_id.clone(),
            attempt_id: claim.attempt_id,
            kind: claim.kind,
            finish,
            latency_ms: 1,
        }])
        .unwrap();
}

fn state(ledger: &Ledger, deal: &str) -> State {
    ledger.deal(deal).unwrap().unwrap().state
}

#[test]
fn a_delivered_deal_is_never_claimed_again_and_a_change_is_only_reported() {
    let (_dir, mut ledger) = open();
    let counts = ledger
        .ingest(&[record("1", "{\"a\":1}"), rejected("2")])
        .unwrap();
    assert_eq!(counts.new, 2);
    let claims = ledger.claim(10).unwrap();
    assert_eq!(claims.len(), 1);
    assert_eq!(claims[0].kind, ClaimKind::Create);
    assert_eq!(claims[0].idempotency_key, idempotency_key("m", "1", 0));
    let delivered = Finish::Delivered {
        project_id: Some("p1".into()),
        client_id: None,
        project: None,
        note: None,
    };
    finish(&mut ledger, &claims[0], delivered);
    assert_eq!(state(&ledger, "1"), State::Delivered);
    let again = ledger.ingest(&[record("1", "{\"a\":2}")]).unwrap();
    assert_eq!(again.changed_after_delivery, 1);
    assert!(ledger.claim(10).unwrap().is_empty());
    let row = ledger.deal("1").unwrap().unwrap();
    assert_eq!(row.record.as_deref(), Some(&b"{\"a\":1}"[..]));
    assert_eq!(row.changed_record.as_deref(), Some(&b"{\"a\":2}"[..]));
    let summary = ledger.summary().unwrap();
    assert_eq!(summary.counts[&State::Delivered], 1);
    assert_eq!(summary.counts[&State::Rejected], 1);
    assert_eq!(summary.changed.len(), 1);
    assert_eq!(summary.problems[0].reasons[0].code, "M504");
}

#[test]
fn an_interrupted_create_is_looked_up_before_anything_else() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l.db");
    {
        let mut ledger = Ledger::open(&path, "m").unwrap();
        ledger.ingest(&[record("1", "{}")]).unwrap();
        assert_eq!(ledger.claim(10).unwrap().len(), 1);
        // The process dies here, with the create in flight.
    }
    let mut ledger = Ledger::open(&path, "m").unwrap();
    assert_eq!(ledger.recover().unwrap(), 1);
    let claims = ledger.claim(10).unwrap();
    assert_eq!(claims[0].kind, ClaimKind::Lookup);
    // Nothing found: the next claim creates.
    finish(&mut ledger, &claims[0], Finish::Found { ids: vec![] });
    let claims = ledger.claim(10).unwrap();
    assert_eq!(claims[0].kind, ClaimKind::Create);
    let attempts = ledger.attempts("1").unwrap();
    let outcomes: Vec<&str> = attempts.iter().map(|a| a.outcome.as_str()).collect();
    assert_eq!(outcomes, ["interrupted", "not_found", "in_flight"]);
}

#[test]
fn a_lookup_takes_the_first_project_no_other_deal_owns() {
    let (_dir, mut ledger) = open();
    ledger
        .ingest(&[record("1", "{}"), record("2", "{}")])
        .unwrap();
    let claims = ledger.claim(1).unwrap();
    let delivered = Finish::Delivered {
        project_id: Some("p1".into()),
        client_id: None,
        project: None,
        note: None,
    };
    finish(&mut ledger, &claims[0], delivered);
    let claims = ledger.claim(1).unwrap();
    let lost = Finish::Retry {
        at_ms: 0,
        status: None,
        error: "connection closed".into(),
        maybe_written: true,
    };
    finish(&mut ledger, &claims[0], lost);
    let claims = ledger.claim(1).unwrap();
    assert_eq!(claims[0].kind, ClaimKind::Lookup);
    let found = Finish::Found {
        ids: vec!["p1".into(), "p2".into()],
    };
    finish(&mut ledger, &claims[0], found);
    let row = ledger.deal(&claims[0].deal_id).unwrap().unwrap();
    assert_eq!(row.project_id.as_deref(), Some("p2"));
}

#[test]
fn a_refused_deal_is_retried_under_a_new_key_and_a_failed_one_under_the_old() {
    let (_dir, mut ledger) = open();
    ledger
        .ingest(&[record("1", "{}"), record("2", "{}")])
        .unwrap();
    let claims = ledger.claim(10).unwrap();
    let refused = Finish::Rejected {
        status: Some(422),
        message: "budget must be positive".into(),
    };
    finish(&mut ledger, &claims[0], refused);
    let failed = Finish::Failed {
        status: Some(503),
        error: "unavailable".into(),
        maybe_written: true,
    };
    finish(&mut ledger, &claims[1], failed);
    assert_eq!(state(&ledger, "1"), State::Rejected);
    assert_eq!(state(&ledger, "2"), State::Failed);
    // The same record read again does not re-send a refused deal.
    ledger.ingest(&[record("1", "{}")]).unwrap();
    assert_eq!(state(&ledger, "1"), State::Rejected);
    let requeued = ledger.retry(&Selection::Deals(vec!["1".into(), "2".into(), "9".into()]));
    assert_eq!(requeued.unwrap(), ["1", "2"]);
    let claims = ledger.claim(10).unwrap();
    let keys: Vec<(&str, ClaimKind, &str)> = claims
        .iter()
        .map(|c| (c.deal_id.as_str(), c.kind, c.idempotency_key.as_str()))
        .collect();
    let key1 = idempotency_key("m", "1", 1);
    let key2 = idempotency_key("m", "2", 0);
    assert_eq!(
        keys,
        [
            ("1", ClaimKind::Create, key1.as_str()),
            ("2", ClaimKind::Lookup, key2.as_str())
        ]
    );
}

#[test]
fn a_pending_deal_nothing_was_sent_for_takes_the_new_outcome() {
    let (_dir, mut ledger) = open();
    ledger.ingest(&[record("1", "{\"a\":1}")]).unwrap();
    ledger.ingest(&[rejected("1")]).unwrap();
    assert_eq!(state(&ledger, "1"), State::Rejected);
    ledger.ingest(&[record("1", "{\"a\":3}")]).unwrap();
    let claims = ledger.claim(10).unwrap();
    assert_eq!(claims[0].record, b"{\"a\":3}");
}

#[test]
fn the_lock_is_exclusive_and_released_on_drop() {
    let (_dir, ledger) = open();
    let held = ledger.lock().unwrap();
    assert!(matches!(ledger.lock(), Err(LedgerError::Locked(_))));
    drop(held);
    assert!(ledger.lock().is_ok());
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l.db");
    drop(Ledger::open(&path, "m").unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    assert!(matches!(
        Ledger::open(&path, "m"),
        Err(LedgerError::TooNew(99))
    ));
}

#[test]
fn a_deal_nothing_was_written_for_is_queued_afresh_only_when_its_record_changes() {
    let (_dir, mut ledger) = open();
    ledger.ingest(&[record("1", "{\"a\":1}")]).unwrap();
    let claims = ledger.claim(10).unwrap();
    let refused_connection = Finish::Failed {
        status: None,
        error: "connection refused".into(),
        maybe_written: false,
    };
    finish(&mut ledger, &claims[0], refused_connection);
    ledger.ingest(&[record("1", "{\"a\":1}")]).unwrap();
    assert_eq!(state(&ledger, "1"), State::Failed);
    ledger.ingest(&[record("1", "{\"a\":2}")]).unwrap();
    let claims = ledger.claim(10).unwrap();
    assert_eq!(claims[0].record, b"{\"a\":2}");
    assert_eq!(claims[0].attempt, 1);
    // A possibly-written one keeps its record, and the new one is only reported.
    let lost = Finish::Retry {
        at_ms: 0,
        status: None,
        error: "connection closed".into(),
        maybe_written: true,
    };
    finish(&mut ledger, &claims[0], lost);
    let counts = ledger.ingest(&[record("1", "{\"a\":3}")]).unwrap();
    assert_eq!(counts.changed_after_delivery, 1);
    let claims = ledger.claim(10).unwrap();
    assert_eq!(
        (claims[0].kind, claims[0].record.as_slice()),
        (ClaimKind::Lookup, &b"{\"a\":2}"[..])
    );
}

#[test]
fn api_calls_are_split_into_delivered_other_and_shared() {
    let (_dir, mut ledger) = open();
    ledger
        .ingest(&[record("1", "{\"a\":1}"), rejected("2")])
        .unwrap();
    let claims = ledger.claim(10).unwrap();
    let delivered = Finish::Delivered {
        project_id: Some("p1".into()),
        client_id: None,
        project: None,
        note: None,
    };
    finish(&mut ledger, &claims[0], delivered);
    let count = |deal: Option<&str>, purpose: &str, calls| CallCount {
        deal_id: deal.map(str::to_string),
        vendor: "v".into(),
        purpose: purpose.into(),
        calls,
    };
    ledger
        .add_calls(&[
            count(Some("1"), "create", 1),
            count(Some("2"), "create", 2),
            count(None, "search", 3),
        ])
        .unwrap();
    ledger.add_calls(&[count(None, "search", 1)]).unwrap();
    let summary = ledger.call_summary().unwrap();
    assert_eq!(summary.delivered, 1);
    assert_eq!(summary.totals(), (1, 2, 4));
    assert_eq!(summary.per_delivered_deal(), Some(7.0));
    assert_eq!(
        ledger.deal_calls("1").unwrap(),
        [count(Some("1"), "create", 1)]
    );
}

#[test]
fn a_deal_announced_twice_is_queued_once_and_leaves_with_its_outcome() {
    let (_dir, mut ledger) = open();
    ledger.enqueue("crm", &["7".into(), "7".into()]).unwrap();
    ledger.enqueue("crm", &["7".into()]).unwrap();
    assert_eq!(ledger.inbox_size().unwrap(), 1);
    let queued = ledger.queued("crm", 10).unwrap();
    assert_eq!(queued[0].deal_id, "7");
    ledger
        .fetch_failed("crm", "7", "timeout", i64::MAX)
        .unwrap();
    assert!(
        ledger.queued("crm", 10).unwrap().is_empty(),
        "it waits after a failed fetch"
    );
    ledger
        .ingest_queued("crm", &[("7".into(), record("7", "{}"))], &[])
        .unwrap();
    assert_eq!(ledger.inbox_size().unwrap(), 0);
    assert_eq!(state(&ledger, "7"), State::Pending);
}
