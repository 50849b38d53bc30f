//! A real editor client: Neovim (0.7 or later), headless, drives `mapctl lsp` through its own
//! LSP client (`tests/nvim/session.lua`): a stage typo fixed by a code action, a schema edit on
//! disk re-checked without touching the mapping, a table renamed across the file, the outline.
//!
//! Skipped with a message when `nvim` is not installed; CI installs it (`.ci/run`), and with
//! `CI` set a missing `nvim` fails the test instead.

#[path = "support/lsp_client.rs"]
mod lsp_client;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long the whole session may take before it is killed.
const SESSION_LIMIT: Duration = Duration::from_secs(180);

fn nvim_available() -> bool {
    Command::new("nvim")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn a_neovim_session_fixes_renames_outlines_and_sees_schema_edits() {
    if !nvim_available() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI installs Neovim (.ci/run): `nvim` must be on PATH"
        );
        eprintln!("skipped: `nvim` not found (install Neovim 0.7+ to run this session)");
        return;
    }
    let dir = lsp_client::workspace();
    let mapping = dir.path().join("hubspot_to_accelo.map");
    let text = std::fs::read_to_string(&mapping).unwrap().replacen(
        "require at stage \"closedwon\"",
        "require at stage \"closedwn\"",
        1,
    );
    std::fs::write(&mapping, text).unwrap();
    let result = dir.path().join("nvim-result.txt");
    let script = std::fs::canonicalize("tests/nvim/session.lua").unwrap();
    let mut child = Command::new("nvim")
        .args(["--headless", "-u", "NONE", "-i", "NONE", "-n", "-c"])
        .arg(format!("luafile {}", script.display()))
        .env("MAPCTL_BIN", env!("CARGO_BIN_EXE_mapctl"))
        .env("MAPCTL_NVIM_MAPPING", &mapping)
        .env(
            "MAPCTL_NVIM_SCHEMA",
            dir.path().join("schemas/hubspot/deal.schema.json"),
        )
        .env("MAPCTL_NVIM_RESULT", &result)
        .env("MAPCTL_CACHE_DIR", "")
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("nvim starts");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("nvim runs") {
            break status;
        }
        if started.elapsed() > SESSION_LIMIT {
            let _ = child.kill();
            panic!("the Neovim session did not end in {SESSION_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let report = std::fs::read_to_string(&result).unwrap_or_default();
    eprintln!("{report}");
    assert!(status.success(), "nvim exited with {status}: {report}");
    let steps: Vec<&str> = report.lines().collect();
    for step in ["typo", "schema", "rename", "outline"] {
        assert!(
            steps.iter().any(|l| l.starts_with(&format!("ok {step} "))),
            "step {step} did not pass: {report}"
        );
    }
    assert!(
        !steps.iter().any(|l| l.starts_with("fail")),
        "a step failed: {report}"
    );
    let outline = steps.iter().find(|l| l.starts_with("ok outline ")).unwrap();
    assert!(
        outline.contains("|service_types|") && outline.contains("|map|"),
        "{outline}"
    );
    assert!(
        steps[0].contains("Replace with `\"closedwon\"`"),
        "{report}"
    );
}
