//! The commands that catch the silent break, through the real binary: the run log under
//! concurrent writers, `monitor`'s verdicts, `reconcile` and `apply --plan` findings as data.
//! (Their rendered outputs are golden cases in `tests/apply/`.)

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const ZOHO: &str = "mappings/zoho_to_custom.map";
const ZOHO_CLIENTS: &str = "mappings/samples/zoho/clients.json";

fn mapctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mapctl"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("mapctl runs")
}

/// `count` won Zoho deals with distinct ids, as NDJSON.
fn zoho_deals(count: usize, first_id: u64) -> String {
    let text = std::fs::read_to_string("mappings/samples/zoho/deal_won.json").unwrap();
    let deal: Value = serde_json::from_str(&text).unwrap();
    let mut out = String::new();
    for n in 0..count {
        let mut deal = deal.clone();
        deal["id"] = Value::from((first_id + n as u64).to_string());
        out.push_str(&serde_json::to_string(&deal).unwrap());
        out.push('\n');
    }
    out
}

#[test]
fn two_concurrent_runs_append_every_line_whole() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("runs.log");
    let mut children = Vec::new();
    for (run, first_id) in [(0, 1_000_000u64), (1, 2_000_000)] {
        let deals = dir.path().join(format!("deals{run}.ndjson"));
        std::fs::write(&deals, zoho_deals(10_000, first_id)).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_mapctl"))
            .args(["apply", ZOHO, "--clients", ZOHO_CLIENTS, "--log"])
            .arg(&log)
            .arg("--out")
            .arg(dir.path().join(format!("out{run}.ndjson")))
            .arg(&deals)
            .spawn()
            .unwrap();
        children.push(child);
    }
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.ends_with('\n'));
    let mut per_run = std::collections::BTreeMap::<String, usize>::new();
    let mut deal_ids = std::collections::HashSet::new();
    for line in text.lines() {
        let entry: Value = serde_json::from_str(line).expect("every line is whole JSON");
        assert_eq!(entry["outcome"], "written");
        assert_eq!(entry["mapping"], "zoho_to_custom");
        assert_eq!(entry["mapping_sha256"].as_str().unwrap().len(), 64);
        assert_eq!(entry["template"], "fixed-large");
        *per_run
            .entry(entry["run"].as_str().unwrap().into())
            .or_default() += 1;
        deal_ids.insert(entry["deal_id"].as_str().unwrap().to_string());
    }
    assert_eq!(text.lines().count(), 20_000);
    assert_eq!(
        per_run.values().copied().collect::<Vec<_>>(),
        [10_000, 10_000]
    );
    assert_eq!(deal_ids.len(), 20_000);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".spool"))
        .collect();
    assert!(leftovers.is_empty(), "spool files left behind");
}

#[test]
fn a_run_that_cannot_write_its_output_logs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("runs.log");
    let output = mapctl(&[
        "apply",
        ZOHO,
        "--clients",
        ZOHO_CLIENTS,
        "--log",
        log.to_str().unwrap(),
        "--out",
        dir.path().join("missing-folder/out.json").to_str().unwrap(),
        "mappings/samples/zoho/deal_won.json",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&log).unwrap_or_default(), "");
}

fn monitor_json(log: &Path, now: &str, extra: &[&str]) -> (i32, Value) {
    let mut args = vec![
        "monitor",
        log.to_str().unwrap(),
        "--now",
        now,
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let output = mapctl(&args);
    let report = serde_json::from_slice(&output.stdout).expect("monitor prints JSON");
    (output.status.code().unwrap_or(-1), report)
}

#[test]
fn monitor_judges_the_last_complete_week_against_the_median() {
    let log = Path::new("mappings/samples/monitor/runs.log");
    let (code, report) = monitor_json(log, "2026-11-26", &[]);
    assert_eq!(code, 1);
    let mapping = &report["mappings"][0];
    assert_eq!(mapping["judged"]["period"], "2026-W47");
    assert_eq!(mapping["judged"]["written"], 0);
    assert_eq!(mapping["baseline"]["written"], 20.0);
    assert_eq!(mapping["alerts"][0]["kind"], "drop");
    let (code, report) = monitor_json(log, "2026-11-18", &[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["mappings"][0]["judged"]["written"], 20);
    let (code, _) = monitor_json(log, "2026-11-18", &["--baseline", "25", "--max-drop", "0"]);
    assert_eq!(code, 1, "any shortfall alerts with --max-drop 0");
    let (code, report) = monitor_json(log, "2026-11-26", &["--daily", "--history", "3"]);
    assert_eq!(report["period"], "day");
    assert_eq!(
        code, 0,
        "days without deals give a zero median, so nothing can drop: {report}"
    );
}

#[test]
fn monitor_refuses_a_missing_log_and_bad_settings() {
    let missing = mapctl(&["monitor", "no/such.log"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no/such.log"));
    let log = "mappings/samples/monitor/runs.log";
    let bad = mapctl(&["monitor", log, "--max-drop", "150"]);
    assert_eq!(bad.status.code(), Some(2));
    let bad = mapctl(&["monitor", log, "--now", "last tuesday"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("last tuesday"));
}

/// `reconcile --format json` of the Zoho mapping on `deals` against the shipped project export.
fn reconcile_zoho(deals: &str) -> (Option<i32>, Value) {
    let output = mapctl(&[
        "reconcile",
        ZOHO,
        "--deals",
        deals,
        "--projects",
        "mappings/samples/zoho/reconcile/projects.json",
        "--clients",
        ZOHO_CLIENTS,
        "--format",
        "json",
    ]);
    let result = serde_json::from_slice(&output.stdout).expect("reconcile prints JSON");
    (output.status.code(), result)
}

#[test]
fn reconcile_reports_exactly_the_missing_project_and_the_drifted_budget() {
    let (code, result) = reconcile_zoho("mappings/samples/zoho/reconcile/deals.ndjson");
    assert_eq!(code, Some(1));
    let missing: Vec<&str> = result["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["deal_id"].as_str().unwrap())
        .collect();
    assert_eq!(missing, ["5725767000000524260"]);
    let drifted = result["drifted"].as_array().unwrap();
    assert_eq!(drifted.len(), 1);
    assert_eq!(drifted[0]["deal_id"], "5725767000000524201");
    let changes = drifted[0]["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0]["field"], "budget.amount");
    assert_eq!(changes[0]["current"], 15000);
    assert_eq!(changes[0]["planned"], 18000);
    for empty in ["unmappable", "duplicate_projects", "duplicate_clients"] {
        assert_eq!(result[empty], serde_json::json!([]), "{empty}");
    }
}

/// The shipped HubSpot mapping without the field it writes the deal id into, with its schemas
/// and tables, in `dir`.
fn hubspot_mapping_without_key(dir: &Path) -> String {
    for folder in ["schemas/hubspot", "schemas/accelo", "tables"] {
        let to = dir.join(folder);
        std::fs::create_dir_all(&to).unwrap();
        for entry in std::fs::read_dir(Path::new("mappings").join(folder)).unwrap() {
            let from = entry.unwrap().path();
            std::fs::copy(&from, to.join(from.file_name().unwrap())).unwrap();
        }
    }
    let text = std::fs::read_to_string("mappings/hubspot_to_accelo.map").unwrap();
    let without: Vec<&str> = text
        .lines()
        .filter(|l| !l.contains("job.crm_deal_id"))
        .collect();
    let mapping = dir.join("hubspot_to_accelo.map");
    std::fs::write(&mapping, without.join("\n")).unwrap();
    mapping.display().to_string()
}

#[test]
fn reconcile_needs_a_key_and_says_how_to_give_one() {
    let dir = tempfile::tempdir().unwrap();
    let keyless = hubspot_mapping_without_key(dir.path());
    let output = mapctl(&[
        "reconcile",
        &keyless,
        "--deals",
        "mappings/samples/hubspot/deal_won.json",
        "--projects",
        "mappings/samples/zoho/reconcile/projects.json",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--key FIELD"), "{stderr}");
    let output = mapctl(&[
        "reconcile",
        ZOHO,
        "--deals",
        "mappings/samples/zoho/deal_won.json",
        "--projects",
        "mappings/samples/zoho/reconcile/projects.json",
        "--key",
        "project.nope",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("project.nope"));
}

#[test]
fn plan_writes_nothing_and_names_only_the_changed_field() {
    let dir = tempfile::tempdir().unwrap();
    let deal = dir.path().join("deal.json");
    let text = std::fs::read_to_string("mappings/samples/zoho/deal_won.json").unwrap();
    std::fs::write(
        &deal,
        text.replace("\"Amount\": 48500", "\"Amount\": 52000"),
    )
    .unwrap();
    let output = mapctl(&[
        "apply",
        "--plan",
        "--format",
        "json",
        ZOHO,
        deal.to_str().unwrap(),
        "--existing",
        "mappings/samples/zoho/reconcile/projects.json",
        "--clients",
        ZOHO_CLIENTS,
    ]);
    assert_eq!(output.status.code(), Some(0));
    let entry: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(entry["action"], "update");
    assert_eq!(entry["changes"].as_array().unwrap().len(), 1);
    assert_eq!(entry["changes"][0]["field"], "budget.amount");
    let mapping = std::fs::read_to_string("mappings/zoho_to_custom.map").unwrap();
    let rule_line = mapping
        .lines()
        .position(|l| l.contains("when deal.Project_Type => deal.Project_Type | lookup(templates)"))
        .unwrap()
        + 1;
    assert_eq!(entry["template_rule"]["line"], rule_line);
    assert_eq!(entry["client"]["match"], "existing");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "plan wrote a file"
    );
    let refused = mapctl(&["apply", "--plan", ZOHO, deal.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(2), "--plan requires --existing");
}

#[test]
fn reconcile_skips_fields_the_export_lacks_and_names_won_deals_the_mapping_rejects() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string("mappings/samples/zoho/reconcile/projects.json").unwrap();
    let mut projects: Vec<Value> = serde_json::from_str(&text).unwrap();
    for project in &mut projects {
        project.as_object_mut().unwrap().remove("notes");
    }
    let export = dir.path().join("projects.json");
    std::fs::write(&export, serde_json::to_string(&projects).unwrap()).unwrap();
    let output = mapctl(&[
        "reconcile",
        ZOHO,
        "--deals",
        "mappings/samples/zoho/deal_won.json",
        "mappings/samples/zoho/deal_missing_data.json",
        "--projects",
        export.to_str().unwrap(),
        "--clients",
        ZOHO_CLIENTS,
        "--format",
        "json",
    ]);
    let result: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(result["not_in_export"], serde_json::json!(["notes"]));
    assert_eq!(result["drifted"], serde_json::json!([]));
    assert_eq!(result["won"], 2);
    let unmappable = result["unmappable"].as_array().unwrap();
    assert_eq!(unmappable.len(), 1);
    assert!(
        unmappable[0]["codes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c == "M504")
    );
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn reconcile_counts_unreadable_deals_instead_of_dropping_them() {
    let dir = tempfile::tempdir().unwrap();
    let deals = dir.path().join("deals.ndjson");
    let mut text = std::fs::read_to_string("mappings/samples/zoho/reconcile/deals.ndjson").unwrap();
    text.push_str("{\"id\": trunc\n");
    std::fs::write(&deals, text).unwrap();
    let (code, result) = reconcile_zoho(deals.to_str().unwrap());
    assert_eq!(result["deals"], 6);
    assert_eq!(result["unreadable"], 1);
    assert!(
        result["unreadable_at"][0]
            .as_str()
            .unwrap()
            .contains("line 6")
    );
    assert_eq!(code, Some(1));
}
