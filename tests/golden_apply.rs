//! Golden tests for `mapctl apply` and the commands around it (`--plan`, `reconcile`,
//! `monitor`): every folder `tests/apply/<case>/` holds a `cmd` file (the
//! arguments, run with the case folder as working directory), its inputs, and the expected
//! `expected.out` (stdout), `expected.err` (stderr and exit code) and, when `cmd` names
//! `{rejects}`, `expected.rejects` (the rejects file). `{tmp}` in `cmd` is a fresh temporary
//! folder (for the ledger of `mapctl run` cases).
//!
//! Re-bless with `MAPCTL_BLESS=1 cargo test --test golden_apply`.

use std::path::{Path, PathBuf};
use std::process::Command;

use mapctl::diag::Code;

fn cases() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir("tests/apply")
        .expect("tests/apply exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("cmd").is_file())
        .collect();
    cases.sort();
    cases
}

/// Runs a case; returns (stdout, stderr + exit line, rejects file content).
fn run_case(case: &Path) -> (String, String, Option<String>) {
    let cmd = std::fs::read_to_string(case.join("cmd")).expect("cmd file");
    let rejects = tempfile::NamedTempFile::new().expect("temp file");
    let rejects_path = rejects.path().to_path_buf();
    let tmp = tempfile::tempdir().expect("temp folder");
    let mut wants_rejects = false;
    let args: Vec<String> = cmd
        .split_whitespace()
        .map(|arg| {
            if arg == "{rejects}" {
                wants_rejects = true;
                rejects_path.display().to_string()
            } else {
                arg.replace("{tmp}", &tmp.path().display().to_string())
            }
        })
        .collect();
    let stdin_file = case.join("stdin");
    let stdin = if stdin_file.is_file() {
        std::process::Stdio::from(std::fs::File::open(&stdin_file).expect("stdin file"))
    } else {
        std::process::Stdio::null()
    };
    let output = Command::new(env!("CARGO_BIN_EXE_mapctl"))
        .args(&args)
        .current_dir(case)
        .stdin(stdin)
        .env("NO_COLOR", "1")
        .output()
        .expect("mapctl runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let mut stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    stderr.push_str(&format!("exit: {}\n", output.status.code().unwrap_or(-1)));
    let rejects = wants_rejects.then(|| std::fs::read_to_string(&rejects_path).unwrap_or_default());
    (stdout, stderr, rejects)
}

#[test]
fn apply_cases_match_their_expected_output() {
    let bless = std::env::var_os("MAPCTL_BLESS").is_some();
    let mut failures = Vec::new();
    for case in cases() {
        let (stdout, stderr, rejects) = run_case(&case);
        let mut files = vec![("expected.out", stdout), ("expected.err", stderr)];
        if let Some(rejects) = rejects {
            files.push(("expected.rejects", rejects));
        }
        for (name, actual) in files {
            let path = case.join(name);
            if bless {
                std::fs::write(&path, &actual).expect("write expectation");
                continue;
            }
            let expected = std::fs::read_to_string(&path).unwrap_or_default();
            if expected != actual {
                failures.push(format!(
                    "--- {} differs (re-bless with MAPCTL_BLESS=1)\n--- expected\n{expected}\n--- actual\n{actual}",
                    path.display()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_apply_time_code_has_a_golden_case() {
    let mut seen = String::new();
    for case in cases() {
        for name in ["expected.err", "expected.rejects", "expected.out"] {
            seen.push_str(&std::fs::read_to_string(case.join(name)).unwrap_or_default());
        }
    }
    let missing: Vec<&str> = Code::ALL
        .iter()
        .map(|c| c.as_str())
        .filter(|c| c.starts_with("M5") && !seen.contains(c))
        .collect();
    assert!(
        missing.is_empty(),
        "apply-time codes without a case in tests/apply: {missing:?}"
    );
}
