//! `mapctl schema import` and `mapctl schema diff` as a user runs them, and issue 20's
//! acceptance: a schema imported from HubSpot's properties and pipelines responses (two
//! pipelines, custom properties) validates real-shaped deals of both pipelines, and a stage
//! renamed in the pipelines response makes `schema diff --mapping` name the trigger line.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

fn mapctl(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mapctl"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("MAPCTL_CACHE_DIR", "")
        .output()
        .expect("mapctl runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A copy of `mappings/` in a temporary folder.
fn mappings_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(&root().join("mappings"), dir.path());
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("readable")).expect("JSON")
}

const HUBSPOT: &str = "samples/vendor-api/hubspot";

/// Imports the HubSpot deal schema from `pipelines` into `out` (both relative to `dir`).
fn import_hubspot_deals(dir: &Path, pipelines: &str, out: &str) -> Output {
    let properties = format!("{HUBSPOT}/deal_properties.json");
    mapctl(
        &[
            "schema",
            "import",
            "hubspot",
            "--properties",
            &properties,
            "--pipelines",
            pipelines,
            "-o",
            out,
        ],
        dir,
    )
}

/// The deals of the search sample as apply reads them: each with its company association and
/// the company record (as the connector assembles them from the associations and company
/// batch reads).
fn deals_of_both_pipelines(dir: &Path) -> Vec<Value> {
    let search = read_json(&dir.join(HUBSPOT).join("search_deals_page1.json"));
    let companies = read_json(&dir.join(HUBSPOT).join("companies_batch_read.json"));
    let company_of = ["9001", "9002"];
    search["results"]
        .as_array()
        .expect("results")
        .iter()
        .zip(company_of)
        .map(|(deal, company_id)| {
            let mut deal = deal.clone();
            deal["associations"] =
                json!({"companies": {"results": [{"id": company_id, "type": "deal_to_company"}]}});
            let company = companies["results"]
                .as_array()
                .and_then(|c| c.iter().find(|c| c["id"] == company_id))
                .cloned()
                .expect("company in the batch read");
            json!({"deal": deal, "company": company})
        })
        .collect()
}

fn write_ndjson(path: &Path, values: &[Value]) {
    let lines: Vec<String> = values.iter().map(Value::to_string).collect();
    std::fs::write(path, lines.join("\n") + "\n").expect("write deals");
}

#[test]
fn imported_hubspot_schema_validates_deals_of_both_pipelines() {
    let work = mappings_copy();
    let dir = work.path();
    let pipelines = format!("{HUBSPOT}/pipelines_deals.json");
    let imported = import_hubspot_deals(dir, &pipelines, "schemas/hubspot/deal.schema.json");
    assert_eq!(imported.status.code(), Some(0), "{}", text(&imported));
    let schema = read_json(&dir.join("schemas/hubspot/deal.schema.json"));
    let stage = &schema["properties"]["properties"]["properties"]["dealstage"];
    assert_eq!(stage["x-mapctl-pipelines"]["11348547"], json!(["11348541"]));
    assert_eq!(stage["x-mapctl-labels"]["closedwon"], "Closed won");
    let custom = &schema["properties"]["properties"]["properties"]["psa_project_id"];
    assert_eq!(custom["x-mapctl-custom"], true);
    // The handoff fires in both pipelines: the default one's and the partner pipeline's won stage.
    let map = dir.join("hubspot_to_accelo.map");
    let mapping = std::fs::read_to_string(&map).expect("mapping");
    let start = mapping
        .find("require at stage \"closedwon\" {")
        .expect("a require block");
    let end = start + mapping[start..].find("\n}\n").expect("the block's end") + 3;
    let partner_rules = mapping[start..end].replace("\"closedwon\"", "\"11348547\"");
    let both = mapping
        .replace(
            "trigger when deal.properties.dealstage == \"closedwon\"",
            "trigger when deal.properties.dealstage in [\"closedwon\", \"11348547\"]",
        )
        .replacen(
            &mapping[start..end],
            &format!("{}\n{partner_rules}", &mapping[start..end]),
            1,
        );
    assert_ne!(mapping, both);
    std::fs::write(&map, both).expect("edit mapping");
    let checked = mapctl(&["check", "--deny-warnings", "hubspot_to_accelo.map"], dir);
    assert_eq!(checked.status.code(), Some(0), "{}", text(&checked));

    let mut deals = deals_of_both_pipelines(dir);
    assert_eq!(deals[0]["deal"]["properties"]["pipeline"], "default");
    assert_eq!(deals[1]["deal"]["properties"]["pipeline"], "11348541");
    let mut unknown_stage = deals[0].clone();
    unknown_stage["deal"]["id"] = json!("18000000099");
    unknown_stage["deal"]["properties"]["dealstage"] = json!("99999999");
    deals.push(unknown_stage);
    write_ndjson(&dir.join("deals.ndjson"), &deals);
    // One Accelo company per deal's company (the shipped list holds two Globexes on purpose).
    let clients = json!([{"id": 101, "name": "Acme Corporation"}, {"id": 102, "name": "Globex"}]);
    std::fs::write(dir.join("clients.json"), clients.to_string()).expect("write clients");
    let applied = mapctl(
        &[
            "apply",
            "hubspot_to_accelo.map",
            "--clients",
            "clients.json",
            "deals.ndjson",
            "--rejects",
            "rejects.ndjson",
        ],
        dir,
    );
    assert!(
        text(&applied).contains("read 3, written 2, skipped 0, rejected 1"),
        "{}",
        text(&applied)
    );
    let records: Vec<Value> = String::from_utf8_lossy(&applied.stdout)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("a record per line"))
        .collect();
    assert_eq!(records.len(), 2, "{records:?}");
    let rejects = std::fs::read_to_string(dir.join("rejects.ndjson")).expect("rejects");
    assert!(
        rejects.contains("M502") && rejects.contains("deal.properties.dealstage"),
        "{rejects}"
    );
    assert!(rejects.contains("18000000099"), "{rejects}");
}

#[test]
fn a_renamed_stage_makes_diff_name_the_trigger_line() {
    let work = mappings_copy();
    let dir = work.path();
    let mut pipelines = read_json(&dir.join(HUBSPOT).join("pipelines_deals.json"));
    for pipeline in pipelines["results"].as_array_mut().expect("pipelines") {
        for stage in pipeline["stages"].as_array_mut().expect("stages") {
            if stage["id"] == "closedwon" {
                stage["label"] = json!("Won - handed to delivery");
            }
        }
    }
    std::fs::write(dir.join("renamed.json"), pipelines.to_string()).expect("write");
    let imported = import_hubspot_deals(dir, "renamed.json", "deal.new.json");
    assert_eq!(imported.status.code(), Some(0), "{}", text(&imported));
    let diff = mapctl(
        &[
            "schema",
            "diff",
            "schemas/hubspot/deal.schema.json",
            "deal.new.json",
            "--mapping",
            "hubspot_to_accelo.map",
            "--format",
            "json",
        ],
        dir,
    );
    assert_eq!(
        diff.status.code(),
        Some(0),
        "a relabelled stage breaks nothing: {}",
        text(&diff)
    );
    let report: Value = serde_json::from_slice(&diff.stdout).expect("JSON report");
    let trigger_line = std::fs::read_to_string(dir.join("hubspot_to_accelo.map"))
        .expect("mapping")
        .lines()
        .position(|l| l.starts_with("trigger when"))
        .expect("a trigger")
        + 1;
    let named: Vec<(String, u64)> = report["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap_or_default().to_string(),
                d["line"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert!(
        named.contains(&("M706".to_string(), trigger_line as u64)),
        "the trigger line {trigger_line} is not named: {named:?}"
    );
    assert_eq!(
        report["changes"].as_array().map(Vec::len),
        Some(1),
        "{report}"
    );
}

#[test]
fn a_stage_renamed_in_zoho_breaks_the_trigger() {
    let work = mappings_copy();
    let dir = work.path();
    let zoho = "samples/vendor-api/zoho";
    let mut pipelines = read_json(&dir.join(zoho).join("pipelines_deals.json"));
    for pipeline in pipelines["pipeline"].as_array_mut().expect("pipelines") {
        for stage in pipeline["maps"].as_array_mut().expect("stages") {
            if stage["actual_value"] == "Closed Won" {
                stage["actual_value"] = json!("Won");
                stage["display_value"] = json!("Won");
            }
        }
    }
    std::fs::write(dir.join("renamed.json"), pipelines.to_string()).expect("write");
    let fields = format!("{zoho}/fields_deals.json");
    let layouts = format!("{zoho}/layouts_deals.json");
    let args = [
        "schema",
        "import",
        "zoho",
        "--fields",
        &fields,
        "--layouts",
        &layouts,
        "--pipelines",
        "renamed.json",
        "-o",
        "deal.new.json",
    ];
    let imported = mapctl(&args, dir);
    assert_eq!(imported.status.code(), Some(0), "{}", text(&imported));
    let diff = mapctl(
        &[
            "schema",
            "diff",
            "schemas/zoho/deal.schema.json",
            "deal.new.json",
            "--mapping",
            "zoho_to_custom.map",
            "--format",
            "github",
        ],
        dir,
    );
    assert_eq!(diff.status.code(), Some(1), "{}", text(&diff));
    let out = String::from_utf8_lossy(&diff.stdout);
    let trigger = out
        .lines()
        .find(|l| l.starts_with("::error file=zoho_to_custom.map") && l.contains("M703"))
        .unwrap_or_else(|| panic!("no M703 on the mapping: {out}"));
    assert!(trigger.contains("line=23,"), "{trigger}");
    assert!(out.contains("::notice"), "{out}");
}

#[test]
fn diff_sarif_is_valid_sarif() {
    let case = root().join("tests/schema/diff/hubspot_option_removed");
    let output = mapctl(
        &[
            "schema",
            "diff",
            "deal.old.json",
            "deal.new.json",
            "--mapping",
            "case.map",
            "--format",
            "sarif",
        ],
        &case,
    );
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let document: Value = serde_json::from_slice(&output.stdout).expect("SARIF is JSON");
    let schema = read_json(&root().join("tests/sarif/sarif-schema-2.1.0.json"));
    let validator = jsonschema::draft4::new(&schema).expect("the SARIF schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&document)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "invalid SARIF: {errors:?}");
    let results = document["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 2);
    assert!(results.iter().all(|r| r["ruleId"] == "M703"));
}

#[test]
fn a_failed_import_leaves_the_previous_file_alone() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("deal.schema.json");
    std::fs::write(&out, "previous\n").expect("write");
    let broken = "{\"results\": [{\"name\": 3, \"fieldType\": \"text\"}]}";
    std::fs::write(dir.path().join("broken.json"), broken).expect("write");
    let failed = mapctl(
        &[
            "schema",
            "import",
            "hubspot",
            "--properties",
            "broken.json",
            "--pipelines",
            "broken.json",
            "-o",
            "deal.schema.json",
        ],
        dir.path(),
    );
    assert_eq!(failed.status.code(), Some(2), "{}", text(&failed));
    assert!(
        text(&failed).contains("`broken.json` at `/results/0/name`"),
        "{}",
        text(&failed)
    );
    assert_eq!(
        std::fs::read_to_string(&out).expect("still there"),
        "previous\n"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("list").count(),
        2,
        "no temporary file left"
    );
    let nowhere = mapctl(
        &[
            "schema",
            "import",
            "harvest",
            "-o",
            "no/such/folder/project.json",
        ],
        dir.path(),
    );
    assert_eq!(nowhere.status.code(), Some(2));
    assert!(
        text(&nowhere).contains("cannot write `no/such/folder/project.json`"),
        "{}",
        text(&nowhere)
    );
}

#[test]
fn a_schema_compared_with_itself_has_no_changes() {
    let mappings = root().join("mappings");
    for schema in [
        "schemas/hubspot/deal.schema.json",
        "schemas/hubspot/company.schema.json",
        "schemas/zoho/deal.schema.json",
        "schemas/copper/opportunity.schema.json",
        "schemas/accelo/job.schema.json",
        "schemas/harvest/project.schema.json",
        "schemas/custom/project.schema.json",
    ] {
        let output = mapctl(
            &[
                "schema",
                "diff",
                schema,
                schema,
                "--mapping",
                "hubspot_to_accelo.map",
                "--record",
                "deal",
            ],
            &mappings,
        );
        assert_eq!(output.status.code(), Some(0), "{schema}: {}", text(&output));
        assert!(
            text(&output).contains(": 0 changes\n"),
            "{schema}: {}",
            text(&output)
        );
        assert!(
            text(&output).contains("0 errors, 0 warnings"),
            "{schema}: {}",
            text(&output)
        );
    }
}

#[test]
fn the_drift_codes_are_explained() {
    for code in ["M701", "M703", "M704", "M708"] {
        let output = mapctl(&["explain", code], &root());
        assert_eq!(output.status.code(), Some(0), "{code}");
        assert!(
            text(&output).contains("**Fix**"),
            "{code}: {}",
            text(&output)
        );
    }
}
