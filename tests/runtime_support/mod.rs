//! Shared by the runtime tests: the fake target, deal generation, and running the binary.

#![allow(dead_code)]

pub mod accelo_fake;
pub mod fake_target;
pub mod hubspot_fake;
pub mod loopback;
pub mod pair;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

/// The runtime tests' mapping (won deals with a name and an amount become projects).
pub fn mapping() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/runtime/handoff.map")
}

/// The mapctl binary, with colour off and no inherited secrets.
pub fn mapctl() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mapctl"));
    command
        .env("NO_COLOR", "1")
        .env_remove("MAPCTL_TARGET_AUTHORIZATION")
        .env_remove("MAPCTL_WEBHOOK_SECRET");
    for variable in [
        "HUBSPOT_TOKEN",
        "HUBSPOT_CLIENT_SECRET",
        "MAPCTL_HUBSPOT_URL",
        "ACCELO_CLIENT_ID",
        "ACCELO_CLIENT_SECRET",
        "ACCELO_DEPLOYMENT",
        "MAPCTL_ACCELO_URL",
    ] {
        command.env_remove(variable);
    }
    command
}

/// What kind of deal to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Won, with a name and an amount: becomes a project.
    Won,
    /// Won without an amount: rejected (M504).
    Incomplete,
    /// Not won: skipped.
    Open,
}

/// One deal of the kind, with id `d{n}`.
pub fn deal(n: usize, kind: Kind) -> Value {
    match kind {
        Kind::Won => {
            json!({"id": format!("d{n}"), "stage": "won", "name": format!("Deal {n}"), "amount": 100 + n})
        }
        Kind::Incomplete => {
            json!({"id": format!("d{n}"), "stage": "won", "name": format!("Deal {n}")})
        }
        Kind::Open => json!({"id": format!("d{n}"), "stage": "open", "name": format!("Deal {n}")}),
    }
}

/// Writes deals as NDJSON.
pub fn write_deals(path: &Path, kinds: &[Kind]) {
    let mut text = String::new();
    for (n, kind) in kinds.iter().enumerate() {
        text.push_str(&deal(n, *kind).to_string());
        text.push('\n');
    }
    std::fs::write(path, text).expect("write deals");
}

/// The ids of the won deals among `kinds`.
pub fn won_ids(kinds: &[Kind]) -> Vec<String> {
    kinds
        .iter()
        .enumerate()
        .filter(|(_, k)| **k == Kind::Won)
        .map(|(n, _)| format!("d{n}"))
        .collect()
}

/// `mapctl run` arguments for fast tests: short backoff and timeouts, many attempts.
pub fn run_args(ledger: &Path, deals: &Path, target: &str) -> Vec<String> {
    [
        "run",
        &mapping().display().to_string(),
        "--from",
        &deals.display().to_string(),
        "--to",
        target,
        "--ledger",
        &ledger.display().to_string(),
        "--backoff-ms",
        "5",
        "--max-backoff-ms",
        "40",
        "--timeout-ms",
        "250",
        "--max-attempts",
        "30",
        "--quiet",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// `mapctl status --format json` for the test mapping's ledger.
pub fn status(ledger: &Path) -> Value {
    let output = mapctl()
        .args(["status", &mapping().display().to_string(), "--ledger"])
        .arg(ledger)
        .args(["--format", "json"])
        .output()
        .expect("status runs");
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "status is not JSON ({e}): {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// Stdout and stderr of a finished command, for assertion messages.
pub fn text(output: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
