//! Issue 19's acceptance scenarios against the loopback fake target. Scaled down in the
//! ordinary test run; the full sizes are `#[ignore]`d tests that CI runs on their own
//! (`cargo test --test runtime_acceptance -- --ignored --skip backfill`, a few seconds), as
//! does `bench/runtime.sh` in release, which also times the 10,000-deal backfill
//! (docs/performance.md).

#[path = "runtime_support/mod.rs"]
mod support;

use std::process::Stdio;
use std::time::{Duration, Instant};

use support::fake_target::{FakeTarget, Options};
use support::{Kind, mapctl, run_args, status, text, won_ids, write_deals};

/// Deals as a CRM export has them: mostly won, some won without an amount, some open.
fn export(n: usize) -> Vec<Kind> {
    (0..n)
        .map(|i| match i % 20 {
            3 | 11 => Kind::Incomplete,
            5 | 9 | 17 => Kind::Open,
            _ => Kind::Won,
        })
        .collect()
}

fn assert_exactly_once(fake: &FakeTarget, kinds: &[Kind]) {
    let by_deal = fake.projects_by_deal();
    let mut won = won_ids(kinds);
    won.sort();
    assert_eq!(by_deal.keys().cloned().collect::<Vec<_>>(), won);
    let duplicates: Vec<_> = by_deal.iter().filter(|(_, n)| **n != 1).collect();
    assert!(duplicates.is_empty(), "duplicates: {duplicates:?}");
}

/// Status accounts for every input deal, each in the state its kind calls for.
fn assert_status_accounts_for(ledger: &std::path::Path, kinds: &[Kind]) {
    let status = status(ledger);
    let count = |kind: Kind| kinds.iter().filter(|k| **k == kind).count() as u64;
    assert_eq!(status["total"].as_u64(), Some(kinds.len() as u64));
    assert_eq!(
        status["counts"]["delivered"].as_u64(),
        Some(count(Kind::Won))
    );
    assert_eq!(
        status["counts"]["rejected"].as_u64(),
        Some(count(Kind::Incomplete))
    );
    assert_eq!(
        status["counts"]["skipped"].as_u64(),
        Some(count(Kind::Open))
    );
    assert_eq!(status["counts"]["failed"].as_u64(), Some(0));
    assert_eq!(status["counts"]["pending"].as_u64(), Some(0));
}

fn run_twice(n: usize) {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeTarget::start(Options::default());
    let kinds = export(n);
    let deals = dir.path().join("deals.ndjson");
    write_deals(&deals, &kinds);
    let ledger = dir.path().join("ledger.db");
    for _ in 0..2 {
        let output = mapctl()
            .args(run_args(&ledger, &deals, &fake.url()))
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    }
    assert_exactly_once(&fake, &kinds);
    assert_status_accounts_for(&ledger, &kinds);
}

/// 20% faults and three kill -9s at a quarter, half and three quarters of the won deals'
/// requests; then runs (with `retry --failed` after a run that ends with failures) until one
/// exits 0.
fn faults_and_three_kills(n: usize) {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeTarget::start(Options {
        fault_rate: 0.2,
        seed: 19,
        slow: Duration::from_millis(300),
        ..Options::default()
    });
    let kinds = export(n);
    let deals = dir.path().join("deals.ndjson");
    write_deals(&deals, &kinds);
    let ledger = dir.path().join("ledger.db");
    let args = run_args(&ledger, &deals, &fake.url());
    let won = won_ids(&kinds).len() as u64;
    let mut kills = 0;
    for share in [4, 2, 4] {
        let start = fake.requests();
        let mut child = mapctl().args(&args).stderr(Stdio::null()).spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            if fake.requests() >= start + won / share {
                child.kill().unwrap();
                kills += 1;
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let _ = child.kill();
        child.wait().unwrap();
    }
    assert_eq!(kills, 3, "every run was killed mid-way");
    for attempt in 0..20 {
        let output = mapctl().args(&args).output().unwrap();
        match output.status.code() {
            Some(0) => break,
            Some(1) if attempt < 19 => {
                let retry = mapctl()
                    .args([
                        "retry",
                        &support::mapping().display().to_string(),
                        "--failed",
                    ])
                    .arg("--ledger")
                    .arg(&ledger)
                    .output()
                    .unwrap();
                assert!(retry.status.code().is_some());
            }
            _ => panic!("{}", text(&output)),
        }
    }
    assert!(!fake.faults().is_empty(), "no fault was injected");
    assert_exactly_once(&fake, &kinds);
    assert_status_accounts_for(&ledger, &kinds);
}

#[test]
fn run_twice_on_the_same_file_one_project_per_won_deal() {
    run_twice(200);
}

#[test]
fn faults_and_three_kills_end_in_one_project_per_won_deal() {
    faults_and_three_kills(200);
}

#[test]
#[ignore = "full size: run on its own (CI, bench/runtime.sh)"]
fn full_size_run_twice_on_1000_deals() {
    run_twice(1000);
}

#[test]
#[ignore = "full size: run on its own (CI, bench/runtime.sh)"]
fn full_size_faults_and_three_kills_on_1000_deals() {
    faults_and_three_kills(1000);
}

/// The benchmark: a 10,000-deal backfill to the fake at zero latency, the ledger on disk.
/// Prints the rate (no assertion on time: `bench/runtime.sh` records it).
#[test]
#[ignore = "benchmark: run in release by bench/runtime.sh"]
fn backfill_10000_deals_benchmark() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let fake = FakeTarget::start(Options::default());
    let kinds = vec![Kind::Won; 10_000];
    let deals = dir.path().join("deals.ndjson");
    write_deals(&deals, &kinds);
    let ledger = dir.path().join("ledger.db");
    let started = Instant::now();
    let output = mapctl()
        .args(run_args(&ledger, &deals, &fake.url()))
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert_exactly_once(&fake, &kinds);
    println!(
        "backfill: 10000 deals in {:.3} s = {:.0} deals/s (ledger on disk: {})",
        elapsed.as_secs_f64(),
        10_000.0 / elapsed.as_secs_f64(),
        ledger.display()
    );
}
