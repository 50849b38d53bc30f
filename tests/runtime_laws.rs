//! The delivery laws, as property tests over random deals, random fault schedules and random
//! kill -9 points: the real binary is spawned, killed while it works, and run again until it
//! exits 0. Then every won deal exists exactly once in the fake target, every rejected deal is
//! in the ledger with its reasons, every skipped one too, and nothing else was written.

#[path = "runtime_support/mod.rs"]
mod support;

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use proptest::prelude::*;
use support::fake_target::{FakeTarget, Options};
use support::{Kind, mapctl, run_args, status, text, won_ids, write_deals};

/// Runs `mapctl run`, killing it (SIGKILL) once the target has seen `after` more requests;
/// returns whether it was killed.
fn run_and_kill(args: &[String], fake: &FakeTarget, after: u64) -> bool {
    let start = fake.requests();
    let mut child: Child = mapctl()
        .args(args)
        .stderr(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("mapctl starts");
    // Bounded: a run of these sizes ends in seconds; 30 s of polling is far beyond.
    for _ in 0..30_000 {
        if child.try_wait().expect("wait").is_some() {
            return false;
        }
        if fake.requests() >= start + after {
            child.kill().expect("kill -9");
            child.wait().expect("reaped");
            return true;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    child.kill().expect("kill a run that did not end");
    panic!("a run did not end within 30 s");
}

/// Runs until exit 0, re-queuing failed deals when a run ends with exit 1. Bounded.
fn run_to_completion(args: &[String], ledger: &Path) {
    for _ in 0..20 {
        let output = mapctl().args(args).output().expect("mapctl runs");
        match output.status.code() {
            Some(0) => return,
            Some(1) => {
                let retry = mapctl()
                    .args([
                        "retry",
                        &support::mapping().display().to_string(),
                        "--failed",
                    ])
                    .arg("--ledger")
                    .arg(ledger)
                    .output()
                    .expect("retry runs");
                assert!(retry.status.code().is_some(), "{}", text(&retry));
            }
            _ => panic!("run could not run: {}", text(&output)),
        }
    }
    panic!("no run ended with exit 0 in 20 tries");
}

/// The laws, checked against the fake and `mapctl status`.
fn assert_laws(fake: &FakeTarget, ledger: &Path, kinds: &[Kind]) -> Result<(), TestCaseError> {
    let by_deal = fake.projects_by_deal();
    let mut won = won_ids(kinds);
    won.sort();
    let delivered: Vec<String> = by_deal.keys().cloned().collect();
    prop_assert_eq!(&delivered, &won, "projects are exactly the won deals");
    prop_assert!(
        by_deal.values().all(|n| *n == 1),
        "a duplicate: {:?}",
        by_deal
    );
    let status = status(ledger);
    let count = |kind: Kind| kinds.iter().filter(|k| **k == kind).count() as u64;
    prop_assert_eq!(status["total"].as_u64(), Some(kinds.len() as u64));
    prop_assert_eq!(
        status["counts"]["delivered"].as_u64(),
        Some(count(Kind::Won))
    );
    prop_assert_eq!(
        status["counts"]["rejected"].as_u64(),
        Some(count(Kind::Incomplete))
    );
    prop_assert_eq!(
        status["counts"]["skipped"].as_u64(),
        Some(count(Kind::Open))
    );
    for problem in status["problems"].as_array().unwrap() {
        prop_assert_eq!(&problem["state"], "rejected");
        prop_assert_eq!(&problem["reasons"][0]["code"], "M504");
    }
    prop_assert_eq!(status["uncertain"].as_u64(), Some(0));
    Ok(())
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![6 => Just(Kind::Won), 2 => Just(Kind::Incomplete), 2 => Just(Kind::Open)]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 8,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_won_deal_exists_exactly_once_whatever_the_faults_and_kills(
        kinds in prop::collection::vec(kind(), 10..80),
        fault_rate in 0.0..0.4f64,
        seed in any::<u64>(),
        kills in prop::collection::vec(0.0..0.7f64, 0..4),
        concurrency in 1usize..6,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let fake = FakeTarget::start(Options {
            fault_rate,
            seed,
            slow: Duration::from_millis(300),
            ..Options::default()
        });
        let deals = dir.path().join("deals.ndjson");
        write_deals(&deals, &kinds);
        let ledger = dir.path().join("ledger.db");
        let mut args = run_args(&ledger, &deals, &fake.url());
        args.extend(["--concurrency".to_string(), concurrency.to_string()]);
        // Each kill comes after a share of the won deals' worth of requests: early, late, or
        // (when the runs before it delivered everything) never.
        let won = won_ids(&kinds).len() as f64;
        for share in kills {
            run_and_kill(&args, &fake, 1 + (share * won) as u64);
        }
        run_to_completion(&args, &ledger);
        assert_laws(&fake, &ledger, &kinds)?;
    }
}

/// The same laws with a file target: killed runs never leave a record twice in the file.
#[test]
fn a_file_target_holds_each_record_once_through_kills() {
    let dir = tempfile::tempdir().unwrap();
    let kinds: Vec<Kind> = (0..300)
        .map(|i| if i % 5 == 0 { Kind::Open } else { Kind::Won })
        .collect();
    let deals = dir.path().join("deals.ndjson");
    write_deals(&deals, &kinds);
    let ledger = dir.path().join("ledger.db");
    let out = dir.path().join("projects.ndjson");
    let args = run_args(&ledger, &deals, &out.display().to_string());
    // Kill each run once the file has grown by some lines (or when it ends by itself).
    let lines =
        |path: &Path| std::fs::read(path).map_or(0, |b| b.iter().filter(|c| **c == b'\n').count());
    for grow in [20usize, 60, 40] {
        let start = lines(&out);
        let mut child = mapctl().args(&args).stderr(Stdio::null()).spawn().unwrap();
        for _ in 0..30_000 {
            if child.try_wait().unwrap().is_some() || lines(&out) >= start + grow {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let _ = child.kill();
        child.wait().unwrap();
    }
    assert!(
        lines(&out) > 0 && lines(&out) < 240,
        "the kills did not land mid-run"
    );
    run_to_completion(&args, &ledger);
    let text = std::fs::read_to_string(&out).unwrap();
    let mut seen = std::collections::BTreeMap::new();
    for line in text.lines() {
        let record: serde_json::Value = serde_json::from_str(line).expect("whole lines only");
        *seen
            .entry(record["deal_id"].as_str().unwrap().to_string())
            .or_insert(0) += 1;
    }
    let mut won = won_ids(&kinds);
    won.sort();
    assert_eq!(seen.keys().cloned().collect::<Vec<_>>(), won);
    assert!(seen.values().all(|n| *n == 1), "{seen:?}");
}
