//! `mapctl run` against the loopback fake target: idempotent re-runs, every kind of fault,
//! refusals, the contract's headers, and `status`/`retry`.

#[path = "runtime_support/mod.rs"]
mod support;

use std::time::Duration;

use support::fake_target::{FakeTarget, Fault, Options};
use support::{Kind, mapctl, run_args, status, text, won_ids, write_deals};

fn kinds(n: usize) -> Vec<Kind> {
    (0..n)
        .map(|i| match i % 10 {
            7 => Kind::Incomplete,
            8 | 9 => Kind::Open,
            _ => Kind::Won,
        })
        .collect()
}

/// Exactly one project per won deal, and no other project.
fn assert_one_project_per_won_deal(fake: &FakeTarget, kinds: &[Kind]) {
    let by_deal = fake.projects_by_deal();
    let won = won_ids(kinds);
    let duplicates: Vec<_> = by_deal.iter().filter(|(_, n)| **n > 1).collect();
    assert!(duplicates.is_empty(), "duplicates: {duplicates:?}");
    let mut delivered: Vec<String> = by_deal.keys().cloned().collect();
    let mut expected = won.clone();
    delivered.sort();
    expected.sort();
    assert_eq!(delivered, expected, "projects are not the won deals");
}

#[test]
fn running_twice_on_the_same_file_creates_one_project_per_won_deal() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeTarget::start(Options::default());
    let deals = dir.path().join("deals.ndjson");
    let kinds = kinds(100);
    write_deals(&deals, &kinds);
    let ledger = dir.path().join("ledger.db");
    for _ in 0..2 {
        let output = mapctl()
            .args(run_args(&ledger, &deals, &fake.url()))
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    }
    assert_one_project_per_won_deal(&fake, &kinds);
    let status = status(&ledger);
    assert_eq!(status["total"], 100);
    assert_eq!(status["counts"]["delivered"], 70);
    assert_eq!(status["counts"]["rejected"], 10);
    assert_eq!(status["counts"]["skipped"], 20);
    let rejected = status["problems"].as_array().unwrap();
    assert!(rejected.iter().all(|d| d["reasons"][0]["code"] == "M504"));
}

#[test]
fn each_kind_of_fault_ends_in_exactly_one_project() {
    for fault in support::fake_target::ALL_FAULTS {
        let dir = tempfile::tempdir().unwrap();
        let fake = FakeTarget::start(Options {
            fault_rate: 0.5,
            faults: vec![fault],
            seed: 11,
            ..Options::default()
        });
        let deals = dir.path().join("deals.ndjson");
        let kinds = kinds(20);
        write_deals(&deals, &kinds);
        let ledger = dir.path().join("ledger.db");
        let output = mapctl()
            .args(run_args(&ledger, &deals, &fake.url()))
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{fault:?}: {}",
            text(&output)
        );
        assert!(
            fake.faults().get(&fault).copied().unwrap_or(0) > 0,
            "{fault:?} never injected"
        );
        assert_one_project_per_won_deal(&fake, &kinds);
        if matches!(fault, Fault::LostAfterCommit | Fault::SlowAfterCommit) {
            let status = status(&ledger);
            let lookups: u64 = status["attempts"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|a| a["kind"] == "lookup")
                .map(|a| a["count"].as_u64().unwrap())
                .sum();
            assert!(lookups > 0, "{fault:?}: no lookup before the retry");
        }
    }
}

#[test]
fn a_target_honouring_keys_answers_409_and_the_deal_is_delivered_once() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeTarget::start(Options {
        dedupe_by_key: true,
        fault_rate: 0.5,
        faults: vec![Fault::LostAfterCommit],
        ..Options::default()
    });
    let deals = dir.path().join("deals.ndjson");
    let kinds = kinds(20);
    write_deals(&deals, &kinds);
    let ledger = dir.path().join("ledger.db");
    let mut args = run_args(&ledger, &deals, &fake.url());
    args.push("--no-lookup".into());
    let output = mapctl().args(args).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_one_project_per_won_deal(&fake, &kinds);
    let status = status(&ledger);
    assert_eq!(status["counts"]["delivered"], 14);
}

#[test]
fn a_refused_record_is_rejected_with_the_status_and_delivered_after_retry() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeTarget::start(Options {
        refuse_prefix: Some("Deal 3".into()),
        ..Options::default()
    });
    let deals = dir.path().join("deals.ndjson");
    let kinds = vec![Kind::Won; 5];
    write_deals(&deals, &kinds);
    let ledger = dir.path().join("ledger.db");
    let output = mapctl()
        .args(run_args(&ledger, &deals, &fake.url()))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let status_now = status(&ledger);
    let problem = &status_now["problems"][0];
    assert_eq!(problem["deal_id"], "d3");
    assert_eq!(problem["phase"], "target");
    assert_eq!(problem["reasons"][0]["code"], "M514");
    let message = problem["reasons"][0]["message"].as_str().unwrap();
    assert!(message.starts_with("HTTP 422: "), "{message}");
    // The same record is not sent again by a plain re-run...
    let again = mapctl()
        .args(run_args(&ledger, &deals, &fake.url()))
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert_eq!(fake.projects().len(), 4);
    // ...but after the target is fixed, `retry` queues it and the next run delivers it.
    fake.set_refuse_prefix(None);
    let retry = mapctl()
        .args([
            "retry",
            &support::mapping().display().to_string(),
            "d3",
            "--ledger",
        ])
        .arg(&ledger)
        .output()
        .unwrap();
    assert_eq!(retry.status.code(), Some(0), "{}", text(&retry));
    let last = mapctl()
        .args(run_args(&ledger, &deals, &fake.url()))
        .output()
        .unwrap();
    assert_eq!(last.status.code(), Some(0), "{}", text(&last));
    assert_one_project_per_won_deal(&fake, &kinds);
}

#[test]
fn the_contract_headers_are_sent_and_the_secret_is_never_stored_or_printed() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeTarget::start(Options::default());
    let deals = dir.path().join("deals.ndjson");
    write_deals(&deals, &[Kind::Won, Kind::Won]);
    let ledger = dir.path().join("ledger.db");
    let secret = "Bearer s3cr3t-token-value";
    let output = mapctl()
        .args(run_args(&ledger, &deals, &fake.url()))
        .env("MAPCTL_TARGET_AUTHORIZATION", secret)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let projects = fake.projects();
    assert_eq!(projects.len(), 2);
    assert!(
        projects
            .iter()
            .all(|p| p.authorization.as_deref() == Some(secret))
    );
    let keys: Vec<_> = projects.iter().map(|p| p.key.clone().unwrap()).collect();
    assert_ne!(keys[0], keys[1]);
    assert!(keys.iter().all(|k| k.starts_with("mapctl-")));
    assert!(!text(&output).contains("s3cr3t"));
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(
            !bytes.windows(6).any(|w| w == b"s3cr3t"),
            "the secret was stored"
        );
    }
}

#[test]
fn a_target_that_stays_down_fails_the_deals_and_retry_failed_delivers_them() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeTarget::start(Options {
        fault_rate: 1.0,
        faults: vec![Fault::Unavailable],
        ..Options::default()
    });
    let deals = dir.path().join("deals.ndjson");
    let kinds = vec![Kind::Won; 3];
    write_deals(&deals, &kinds);
    let ledger = dir.path().join("ledger.db");
    let mut args = run_args(&ledger, &deals, &fake.url());
    let attempts = args.iter().position(|a| a == "--max-attempts").unwrap();
    args[attempts + 1] = "3".into();
    let output = mapctl().args(&args).output().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert_eq!(status(&ledger)["counts"]["failed"], 3);
    fake.set_fault_rate(0.0);
    let retry = mapctl()
        .args([
            "retry",
            &support::mapping().display().to_string(),
            "--failed",
            "--ledger",
        ])
        .arg(&ledger)
        .output()
        .unwrap();
    assert_eq!(retry.status.code(), Some(0), "{}", text(&retry));
    let output = mapctl().args(&args).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_one_project_per_won_deal(&fake, &kinds);
}

#[test]
fn a_second_run_waits_for_no_one_while_the_first_holds_the_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeTarget::start(Options {
        fault_rate: 1.0,
        faults: vec![Fault::SlowAfterCommit],
        slow: Duration::from_millis(150),
        ..Options::default()
    });
    let deals = dir.path().join("deals.ndjson");
    write_deals(&deals, &[Kind::Won; 8]);
    let ledger = dir.path().join("ledger.db");
    let mut args = run_args(&ledger, &deals, &fake.url());
    let timeout = args.iter().position(|a| a == "--timeout-ms").unwrap();
    args[timeout + 1] = "5000".into();
    let mut first = mapctl()
        .args(&args)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait (boundedly) until the first run is talking to the target, then start a second.
    for _ in 0..500 {
        if fake.requests() > 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let second = mapctl().args(&args).output().unwrap();
    assert_eq!(second.status.code(), Some(2), "{}", text(&second));
    assert!(String::from_utf8_lossy(&second.stderr).contains("lock"));
    assert!(first.wait().unwrap().success());
    assert_eq!(fake.projects().len(), 8);
}

#[test]
fn a_deal_changed_after_delivery_is_reported_field_by_field_and_not_sent_again() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeTarget::start(Options::default());
    let deals = dir.path().join("deals.ndjson");
    write_deals(&deals, &[Kind::Won, Kind::Won]);
    let ledger = dir.path().join("ledger.db");
    let first = mapctl()
        .args(run_args(&ledger, &deals, &fake.url()))
        .output()
        .unwrap();
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    let edited = std::fs::read_to_string(&deals)
        .unwrap()
        .replace("\"amount\":101", "\"amount\":999");
    std::fs::write(&deals, edited).unwrap();
    let second = mapctl()
        .args(run_args(&ledger, &deals, &fake.url()))
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(0), "{}", text(&second));
    assert!(String::from_utf8_lossy(&second.stderr).contains("changed in the CRM since delivery"));
    assert_eq!(fake.projects().len(), 2);
    let status = status(&ledger);
    let changed = status["changed"].as_array().unwrap();
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0]["deal_id"], "d1");
    let fields = &changed[0]["changed_since_delivery"];
    assert_eq!(fields[0]["field"], "budget");
    assert_eq!(fields[0]["current"], 101);
    assert_eq!(fields[0]["planned"], 999);
    assert!(
        changed[0]["source_version"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
}
