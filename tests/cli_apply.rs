//! `mapctl apply` as a user runs it: interruption never leaves a partial output file, and the
//! acceptance scenarios of the handoff.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn mapctl() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mapctl"));
    command.current_dir(root());
    command
}

/// An NDJSON file of `count` won deals (copies of the sample with distinct ids).
fn many_deals(dir: &Path, count: usize) -> PathBuf {
    let sample: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("mappings/samples/hubspot/deal_won.json"))
            .expect("sample"),
    )
    .expect("json");
    let path = dir.join("deals.ndjson");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
    for i in 0..count {
        let mut deal = sample.clone();
        deal["deal"]["id"] = serde_json::Value::from((18_000_000_000u64 + i as u64).to_string());
        writeln!(file, "{deal}").expect("write");
    }
    path
}

fn apply_args(deals: &Path, out: &Path) -> Vec<String> {
    vec![
        "apply".into(),
        "mappings/hubspot_to_accelo.map".into(),
        "--clients".into(),
        "mappings/samples/hubspot/accelo_companies.json".into(),
        deals.display().to_string(),
        "--out".into(),
        out.display().to_string(),
    ]
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("list")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn killing_the_process_mid_batch_keeps_the_previous_output() {
    let dir = tempfile::tempdir().expect("temp dir");
    let deals = many_deals(dir.path(), 40_000);
    let out = dir.path().join("projects.ndjson");
    std::fs::write(&out, "previous run\n").expect("previous output");
    let mut child = mapctl()
        .args(apply_args(&deals, &out))
        .stderr(Stdio::null())
        .spawn()
        .expect("start");
    std::thread::sleep(Duration::from_millis(300));
    let finished_early = child.try_wait().expect("poll").is_some();
    child.kill().ok();
    child.wait().expect("reap");
    let content = std::fs::read_to_string(&out).expect("output still there");
    if !finished_early {
        assert_eq!(
            content, "previous run\n",
            "a killed run replaced the output"
        );
    }
    assert!(
        content == "previous run\n" || content.lines().count() == 40_000,
        "partial output"
    );
}

#[test]
fn interrupting_removes_the_unfinished_file_and_says_so() {
    let dir = tempfile::tempdir().expect("temp dir");
    let deals = many_deals(dir.path(), 40_000);
    let out = dir.path().join("projects.ndjson");
    let child = mapctl()
        .args(apply_args(&deals, &out))
        .stderr(Stdio::piped())
        .spawn()
        .expect("start");
    std::thread::sleep(Duration::from_millis(300));
    let interrupted = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(interrupted.success());
    let output = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.code() == Some(130) {
        assert!(stderr.contains("interrupted after"), "{stderr}");
        assert_eq!(
            files_in(dir.path()),
            vec!["deals.ndjson".to_string()],
            "output or temporary file left behind"
        );
    } else {
        // The run finished before the signal arrived: then the output must be complete.
        assert_eq!(
            std::fs::read_to_string(&out).expect("out").lines().count(),
            40_000
        );
    }
}

#[test]
fn a_closed_won_deal_becomes_a_valid_accelo_job() {
    let output = mapctl()
        .args([
            "apply",
            "mappings/hubspot_to_accelo.map",
            "--clients",
            "mappings/samples/hubspot/accelo_companies.json",
        ])
        .arg("mappings/samples/hubspot/deal_won.json")
        .output()
        .expect("run");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let job: serde_json::Value = serde_json::from_slice(&output.stdout).expect("one JSON document");
    assert_eq!(
        job["against_id"], 101,
        "Acme Corporation's existing Accelo id is reused"
    );
    assert_eq!(
        job["budget"].to_string(),
        "48500.00",
        "the amount keeps its digits"
    );
    assert_eq!(job["date_started"], "1741910400");
    assert!(
        !String::from_utf8_lossy(&output.stdout).contains("210/h"),
        "rate card leaked"
    );
}

#[test]
fn missing_mapping_or_input_cannot_run() {
    let output = mapctl()
        .args(["apply", "no/such.map", "x.json"])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    let output = mapctl()
        .args([
            "apply",
            "mappings/hubspot_to_accelo.map",
            "--clients",
            "mappings/samples/hubspot/accelo_companies.json",
            "no/such.json",
        ])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot read `no/such.json`"));
}
