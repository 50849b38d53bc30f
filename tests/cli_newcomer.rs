//! The command line as a newcomer meets it, through the real binary: help with an example and
//! exit codes on every subcommand, one `--color` for all, reports on stderr and data on stdout,
//! hints for swapped arguments, API envelopes and a terminal as input, `--quiet` for cron, and
//! the fixes of issue 25 (coverage failures that say why, monitor on a new log, plan and
//! reconcile agreeing, sync-back patches naming their CRM deal).

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const HUBSPOT: &str = "mappings/hubspot_to_accelo.map";
const HUBSPOT_CLIENTS: &str = "mappings/samples/hubspot/accelo_companies.json";
const ZOHO: &str = "mappings/zoho_to_custom.map";
const ZOHO_CLIENTS: &str = "mappings/samples/zoho/clients.json";

fn mapctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mapctl"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("mapctl runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn every_subcommand_help_has_an_example_and_its_exit_codes() {
    let subcommands = [
        "check",
        "apply",
        "monitor",
        "reconcile",
        "run",
        "serve",
        "status",
        "retry",
        "test",
        "fmt",
        "lsp",
        "doc",
        "explain",
        "schema",
    ];
    for name in subcommands {
        let output = mapctl(&[name, "--help"]);
        assert_eq!(output.status.code(), Some(0), "{name}");
        let help = text(&output.stdout);
        let example = help
            .split("Example:\n")
            .nth(1)
            .unwrap_or_else(|| panic!("`{name} --help` shows no example:\n{help}"));
        assert!(
            example.trim_start().starts_with(&format!("mapctl {name}"))
                || example.contains(&format!("mapctl {name} ")),
            "`{name} --help`: the example does not run `mapctl {name}`:\n{help}"
        );
        assert!(help.contains("Exit codes: 0 "), "`{name} --help`:\n{help}");
        assert!(
            help.contains("--color"),
            "`{name} --help` lacks the global --color"
        );
    }
}

#[test]
fn color_is_one_global_option_and_never_colours_when_asked_not_to() {
    for args in [
        &["--color", "never", "check", HUBSPOT][..],
        &["check", "--color", "never", HUBSPOT],
        &[
            "monitor",
            "--color",
            "always",
            "mappings/samples/monitor/runs.log",
            "--now",
            "2026-10-01",
        ],
    ] {
        let output = mapctl(args);
        assert!(
            output.status.code() == Some(0) || output.status.code() == Some(1),
            "{args:?}: {}",
            text(&output.stderr)
        );
    }
    let broken = tempfile::tempdir().expect("temp dir");
    let mapping = broken.path().join("broken.map");
    std::fs::write(&mapping, "mapping broken\nsource deal = \n").expect("write");
    let plain = mapctl(&[
        "check",
        "--color",
        "never",
        mapping.to_str().expect("utf-8"),
    ]);
    assert!(!text(&plain.stderr).contains('\u{1b}'));
    let coloured = mapctl(&[
        "check",
        "--color",
        "always",
        mapping.to_str().expect("utf-8"),
    ]);
    assert!(
        text(&coloured.stderr).contains('\u{1b}'),
        "{}",
        text(&coloured.stderr)
    );
}

#[test]
fn reports_go_to_stderr_and_data_to_stdout() {
    let test = mapctl(&["test", "mappings/zoho_to_custom.tests.yaml", "--no-record"]);
    assert_eq!(test.status.code(), Some(0));
    assert!(test.stdout.is_empty(), "{}", text(&test.stdout));
    assert!(text(&test.stderr).contains(" passed, 0 failed"));
    let monitor = mapctl(&[
        "monitor",
        "mappings/samples/monitor/runs.log",
        "--now",
        "2026-11-26",
    ]);
    assert_eq!(monitor.status.code(), Some(1));
    assert!(monitor.stdout.is_empty());
    assert!(text(&monitor.stderr).contains("ALERT hubspot_to_accelo"));
    let json = mapctl(&[
        "monitor",
        "mappings/samples/monitor/runs.log",
        "--now",
        "2026-11-26",
        "--format",
        "json",
    ]);
    let _: Value = serde_json::from_slice(&json.stdout).expect("JSON on stdout");
    let reconcile = mapctl(&[
        "reconcile",
        ZOHO,
        "--deals",
        "mappings/samples/zoho/reconcile/deals.ndjson",
        "--projects",
        "mappings/samples/zoho/reconcile/projects.json",
        "--clients",
        ZOHO_CLIENTS,
    ]);
    assert!(reconcile.stdout.is_empty());
    assert!(text(&reconcile.stderr).contains("Projects that drifted"));
}

/// `status` follows the same rule: its report for people on stderr, its JSON on stdout.
#[test]
fn status_reports_to_stderr_and_its_json_to_stdout() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ledger = dir.path().join("ledger.db");
    let ledger = ledger.to_str().expect("utf-8 path");
    let projects = dir.path().join("projects.ndjson");
    let run = mapctl(&[
        "run",
        HUBSPOT,
        "--from",
        "mappings/samples/hubspot/deal_won.json",
        "--clients",
        HUBSPOT_CLIENTS,
        "--to",
        projects.to_str().expect("utf-8 path"),
        "--ledger",
        ledger,
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    let human = mapctl(&["status", HUBSPOT, "--ledger", ledger]);
    assert_eq!(human.status.code(), Some(0), "{}", text(&human.stderr));
    assert!(human.stdout.is_empty(), "{}", text(&human.stdout));
    assert!(
        text(&human.stderr).contains("delivered"),
        "{}",
        text(&human.stderr)
    );
    let json = mapctl(&["status", HUBSPOT, "--ledger", ledger, "--format", "json"]);
    let _: Value = serde_json::from_slice(&json.stdout).expect("JSON on stdout");
}

#[test]
fn a_deal_given_where_the_mapping_goes_is_named_as_such() {
    let output = mapctl(&[
        "apply",
        "mappings/samples/hubspot/deal_won.json",
        HUBSPOT,
        "--clients",
        HUBSPOT_CLIENTS,
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("is JSON") && stderr.contains("mapping file comes first"),
        "{stderr}"
    );
    assert!(!stderr.contains("M101"), "{stderr}");
    let check = mapctl(&["check", "mappings/samples/hubspot/deal_won.json"]);
    assert_eq!(check.status.code(), Some(1));
    let stderr = text(&check.stderr);
    assert!(
        stderr.contains("M101") && stderr.contains("hint: ") && stderr.contains("is JSON"),
        "{stderr}"
    );
}

#[test]
fn an_api_envelope_given_as_a_deal_gets_a_hint() {
    let dir = tempfile::tempdir().expect("temp dir");
    let deal: Value = serde_json::from_str(
        &std::fs::read_to_string("mappings/samples/hubspot/deal_won.json").expect("sample"),
    )
    .expect("JSON");
    let envelope = serde_json::json!({"results": [deal], "paging": {"next": {"after": "1"}}});
    let file = dir.path().join("search.json");
    std::fs::write(&file, envelope.to_string()).expect("write");
    let output = mapctl(&[
        "apply",
        HUBSPOT,
        "--clients",
        HUBSPOT_CLIENTS,
        file.to_str().expect("utf-8"),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("API response envelope") && stderr.contains("jq -c '.results[]'"),
        "{stderr}"
    );
}

#[test]
fn apply_with_no_file_refuses_an_empty_stdin_instead_of_reporting_zero() {
    // Empty input is M521 (exit 2) however stdin is named: a zero-deal batch is written `[]`.
    for args in [
        &["apply", HUBSPOT, "--clients", HUBSPOT_CLIENTS][..],
        &["apply", HUBSPOT, "--clients", HUBSPOT_CLIENTS, "-"][..],
    ] {
        let output = mapctl(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = text(&output.stderr);
        assert!(
            stderr.contains("M521") && stderr.contains("the input is empty"),
            "{stderr}"
        );
        assert!(!stderr.contains("read 0"), "{stderr}");
    }
}

#[test]
fn apply_on_a_terminal_stdin_says_so_instead_of_waiting() {
    let Some(script) = ["/usr/bin/script", "/bin/script"]
        .into_iter()
        .find(|p| Path::new(p).exists())
    else {
        eprintln!("skipped: `script` (util-linux) not found to give mapctl a terminal");
        return;
    };
    let command = format!(
        "{} apply {HUBSPOT} --clients {HUBSPOT_CLIENTS}",
        env!("CARGO_BIN_EXE_mapctl")
    );
    let output = Command::new(script)
        .args(["-qec", &command, "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .expect("script runs");
    let all = text(&output.stdout) + &text(&output.stderr);
    assert!(all.contains("stdin, which is a terminal"), "{all}");
    assert_eq!(output.status.code(), Some(2), "{all}");
}

#[test]
fn monitor_quiet_prints_only_alerts_and_nothing_on_a_quiet_week() {
    let alert = mapctl(&[
        "monitor",
        "--quiet",
        "mappings/samples/monitor/runs.log",
        "--now",
        "2026-11-26",
    ]);
    assert_eq!(alert.status.code(), Some(1));
    let stderr = text(&alert.stderr);
    assert!(stderr.starts_with("ALERT hubspot_to_accelo"), "{stderr}");
    assert!(!stderr.contains("baseline: "), "{stderr}");
    let quiet = mapctl(&[
        "monitor",
        "-q",
        "mappings/samples/monitor/runs.log",
        "--now",
        "2026-11-12",
    ]);
    assert_eq!(quiet.status.code(), Some(0), "{}", text(&quiet.stderr));
    assert!(
        quiet.stdout.is_empty() && quiet.stderr.is_empty(),
        "{}",
        text(&quiet.stderr)
    );
}

#[test]
fn monitor_on_a_new_log_does_not_call_the_unjudged_week_judged() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("runs.log");
    let line = r#"{"ts": "2026-11-18T09:00:00.000Z", "mapping": "m", "mapping_sha256": "ab", "run": "1", "deal_id": "1", "outcome": "written", "template": null, "codes": []}"#;
    std::fs::write(&log, format!("{line}\n")).expect("write");
    let output = mapctl(&[
        "monitor",
        log.to_str().expect("utf-8"),
        "--now",
        "2026-11-25",
    ]);
    assert_eq!(output.status.code(), Some(0));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("nothing to judge") || stderr.contains("--baseline"),
        "{stderr}"
    );
    assert!(!stderr.contains("<- judged"), "{stderr}");
    assert!(stderr.contains("not judged"), "{stderr}");
}

#[test]
fn require_coverage_says_why_it_fails() {
    let dir = tempfile::tempdir().expect("temp dir");
    for entry in ["zoho_to_custom.map", "schemas", "tables", "samples"] {
        copy(&Path::new("mappings").join(entry), &dir.path().join(entry));
    }
    let tests = "cases:\n  - name: won\n    input: samples/zoho/deal_won.json\n    expect: {output_includes: {name: \"ACME - ERP rollout phase 2\"}}\nclients: samples/zoho/clients.json\n";
    std::fs::write(dir.path().join("zoho_to_custom.tests.yaml"), tests).expect("write");
    let output = mapctl(&[
        "test",
        "--require-coverage",
        "--no-record",
        dir.path().to_str().expect("utf-8"),
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("1 passed, 0 failed"), "{stderr}");
    assert!(
        stderr.contains("error: --require-coverage:") && stderr.contains("exercised by no case"),
        "{stderr}"
    );
}

fn copy(from: &Path, to: &Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).expect("mkdir");
        for entry in std::fs::read_dir(from).expect("read dir").flatten() {
            copy(&entry.path(), &to.join(entry.file_name()));
        }
    } else {
        std::fs::copy(from, to).expect("copy");
    }
}

/// A Zoho export where project ids are numbers and no project carries `notes`.
fn numeric_export(dir: &Path) -> String {
    let text =
        std::fs::read_to_string("mappings/samples/zoho/reconcile/projects.json").expect("export");
    let mut projects: Vec<Value> = serde_json::from_str(&text).expect("JSON");
    for (n, project) in projects.iter_mut().enumerate() {
        project["id"] = Value::from(301 + n as u64);
        project.as_object_mut().expect("object").remove("notes");
    }
    let path = dir.join("projects.json");
    std::fs::write(&path, serde_json::to_string(&projects).expect("JSON")).expect("write");
    path.to_str().expect("utf-8").to_string()
}

#[test]
fn plan_keeps_numeric_ids_and_agrees_with_reconcile_on_fields_the_export_lacks() {
    let dir = tempfile::tempdir().expect("temp dir");
    let projects = numeric_export(dir.path());
    let deal = "mappings/samples/zoho/deal_won.json";
    let plan = mapctl(&[
        "apply",
        "--plan",
        ZOHO,
        deal,
        "--existing",
        &projects,
        "--clients",
        ZOHO_CLIENTS,
    ]);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan.stderr));
    let human = text(&plan.stderr);
    assert!(human.contains("record 1 (301)"), "{human}");
    assert!(human.contains("no changes"), "{human}");
    assert!(
        human.contains("not compared (no project in the export carries them): notes"),
        "{human}"
    );
    let json = mapctl(&[
        "apply",
        "--plan",
        ZOHO,
        deal,
        "--existing",
        &projects,
        "--clients",
        ZOHO_CLIENTS,
        "--format",
        "json",
    ]);
    let entry: Value = serde_json::from_slice(&json.stdout).expect("JSON");
    assert_eq!(entry["project"]["id"], 301);
    assert_eq!(entry["action"], "none");
    assert_eq!(entry["not_in_export"], serde_json::json!(["notes"]));
    let reconcile = mapctl(&[
        "reconcile",
        ZOHO,
        "--deals",
        deal,
        "--projects",
        &projects,
        "--clients",
        ZOHO_CLIENTS,
        "--format",
        "json",
    ]);
    let result: Value = serde_json::from_slice(&reconcile.stdout).expect("JSON");
    assert_eq!(result["drifted"], serde_json::json!([]), "{result}");
    assert_eq!(result["not_in_export"], serde_json::json!(["notes"]));
}

#[test]
fn sync_back_names_the_crm_deal_in_the_envelope_and_the_patch() {
    let dir = tempfile::tempdir().expect("temp dir");
    let job = dir.path().join("job.json");
    std::fs::write(
        &job,
        r#"{"id": 555, "title": "Acme", "standing": "active", "crm_deal_id": "HS-18000000027"}"#,
    )
    .expect("write");
    let output = mapctl(&[
        "apply",
        "--direction",
        "back",
        "--envelope",
        HUBSPOT,
        job.to_str().expect("utf-8"),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let envelope: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(envelope["deal_id"], "18000000027", "{envelope}");
    assert_eq!(envelope["record"]["id"], "18000000027");
    assert_eq!(envelope["record"]["properties"]["psa_project_id"], 555);
    let zoho = dir.path().join("project.json");
    std::fs::write(&zoho, r#"{"id": "prj_1", "status": "active", "source": {"system": "zoho", "deal_id": "5725767000000524157"}}"#)
        .expect("write");
    let output = mapctl(&[
        "apply",
        "--direction",
        "back",
        ZOHO,
        zoho.to_str().expect("utf-8"),
    ]);
    let patch: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(
        patch,
        serde_json::json!({"id": "5725767000000524157", "Project_Status": "In Delivery"})
    );
    std::fs::write(&job, r#"{"id": 555, "standing": "active"}"#).expect("write");
    let output = mapctl(&[
        "apply",
        "--direction",
        "back",
        "--envelope",
        HUBSPOT,
        job.to_str().expect("utf-8"),
    ]);
    let envelope: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(
        envelope["deal_id"],
        Value::Null,
        "the PSA id is not the deal's: {envelope}"
    );
    assert!(text(&output.stderr).contains("holds no deal id in `job.crm_deal_id`"));
}
