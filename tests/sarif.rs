//! `mapctl check --format sarif` is valid SARIF 2.1.0 (checked against the OASIS schema, offline)
//! and carries what GitHub code scanning needs: rules with descriptions, help and help links,
//! results with a rule id, a level, a message and a region in a repository-relative file. The
//! JSON format is held to its published schema (`docs/check-output.schema.json`), and every
//! machine format prints a valid document when check cannot run.

use std::process::Command;

use serde_json::Value;

/// The published docs folder the help links of these tests point into.
const DOCS_URL: &str = "https://docs.example.org/mapctl/docs/";

fn check_as(format: &str, args: &[&str]) -> (i32, String) {
    check_with_docs(format, args, Some(DOCS_URL))
}

fn check_with_docs(format: &str, args: &[&str], docs_url: Option<&str>) -> (i32, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mapctl"));
    command
        .args(["check", "--format", format])
        .args(args)
        .env("MAPCTL_CACHE_DIR", "")
        .env_remove("MAPCTL_DOCS_URL");
    if let Some(url) = docs_url {
        command.env("MAPCTL_DOCS_URL", url);
    }
    let output = command.output().expect("mapctl runs");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    (output.status.code().unwrap_or(-1), stdout)
}

fn sarif_of(args: &[&str]) -> (i32, Value) {
    let (code, stdout) = check_as("sarif", args);
    let document = serde_json::from_str(&stdout).expect("SARIF is JSON");
    (code, document)
}

fn json_of(args: &[&str]) -> (i32, Value) {
    let (code, stdout) = check_as("json", args);
    let document: Value = serde_json::from_str(&stdout).expect("the output is JSON");
    let text = std::fs::read_to_string("docs/check-output.schema.json").expect("the schema");
    let schema: Value = serde_json::from_str(&text).expect("schema JSON");
    let validator = jsonschema::draft202012::new(&schema).expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&document)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "output of {args:?} breaks docs/check-output.schema.json:\n{}",
        errors.join("\n")
    );
    (code, document)
}

fn validate(document: &Value) {
    let text = std::fs::read_to_string("tests/sarif/sarif-schema-2.1.0.json").expect("schema");
    let schema: Value = serde_json::from_str(&text).expect("schema JSON");
    let validator = jsonschema::draft4::new(&schema).expect("the SARIF schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(document)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "invalid SARIF:\n{}", errors.join("\n"));
}

#[test]
fn diagnostics_become_valid_sarif_results() {
    let (code, document) = sarif_of(&["tests/check/five_problems.map"]);
    assert_eq!(code, 1);
    validate(&document);
    let run = &document["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    assert!(results.len() >= 5, "{results:?}");
    for result in results {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
        assert!(matches!(
            result["level"].as_str(),
            Some("error" | "warning")
        ));
        assert!(!result["message"]["text"].as_str().unwrap().is_empty());
        let location = &result["locations"][0]["physicalLocation"];
        assert_eq!(
            location["artifactLocation"]["uri"],
            "tests/check/five_problems.map"
        );
        assert!(location["region"]["startLine"].as_u64().unwrap() >= 1);
        assert!(location["region"]["startColumn"].as_u64().unwrap() >= 1);
    }
}

#[test]
fn every_rule_has_what_github_shows() {
    let (code, document) = sarif_of(&["mappings/hubspot_to_accelo.map"]);
    assert_eq!(code, 0);
    validate(&document);
    let run = &document["runs"][0];
    assert_eq!(run["results"], serde_json::json!([]));
    for rule in run["tool"]["driver"]["rules"].as_array().unwrap() {
        for field in ["shortDescription", "fullDescription", "help"] {
            let text = rule[field]["text"].as_str().unwrap_or_default();
            assert!(!text.is_empty(), "{} lacks {field}", rule["id"]);
            if field != "help" {
                assert!(
                    text.chars().count() <= 1024,
                    "{} {field} too long",
                    rule["id"]
                );
            }
        }
        let name = rule["name"].as_str().unwrap();
        assert!(name.len() <= 255);
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric()) && !name.contains("DealSStage"),
            "{name}"
        );
        let id = rule["id"].as_str().unwrap().to_lowercase();
        let help = rule["helpUri"].as_str().unwrap_or_default();
        assert!(
            help.starts_with(DOCS_URL) && help.contains(&format!("errors.md#{id}-")),
            "{id}: {help}"
        );
    }
    let driver = &run["tool"]["driver"];
    assert!(
        driver["informationUri"]
            .as_str()
            .is_some_and(|u| u.starts_with("https://"))
    );
    let names: Vec<&str> = driver["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"RequiredFactMissingAtTheDealsStage"),
        "{names:?}"
    );
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);
}

#[test]
fn without_a_published_docs_url_no_help_link_is_invented() {
    let (code, stdout) = check_with_docs("sarif", &["mappings/hubspot_to_accelo.map"], None);
    assert_eq!(code, 0);
    let document: Value = serde_json::from_str(&stdout).expect("SARIF is JSON");
    validate(&document);
    let driver = &document["runs"][0]["tool"]["driver"];
    assert!(driver.get("informationUri").is_none());
    for rule in driver["rules"].as_array().unwrap() {
        assert!(rule.get("helpUri").is_none(), "{}", rule["id"]);
        assert!(!rule["help"]["text"].as_str().unwrap_or_default().is_empty());
    }
}

#[test]
fn when_check_cannot_run_every_machine_format_still_says_so() {
    for args in [&["no/such/mapping.map"][..], &["tests/sarif"][..]] {
        let (code, document) = sarif_of(args);
        assert_eq!(code, 2, "{args:?}");
        validate(&document);
        let invocation = &document["runs"][0]["invocations"][0];
        assert_eq!(invocation["executionSuccessful"], false);
        let notification = &invocation["toolExecutionNotifications"][0];
        assert_eq!(notification["level"], "error");
        assert!(!notification["message"]["text"].as_str().unwrap().is_empty());

        let (code, document) = json_of(args);
        assert_eq!(code, 2);
        assert_eq!(document["summary"]["failures"], 1);
        assert!(document["failures"][0]["message"].as_str().unwrap().len() > 5);

        let (code, annotations) = check_as("github", args);
        assert_eq!(code, 2);
        assert!(annotations.starts_with("::error "), "{annotations}");
    }
    // One unreadable file among good ones: the others are still reported.
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("binary.map");
    std::fs::write(&binary, b"mapping \xff\xfe\n").unwrap();
    let binary = binary.to_str().unwrap();
    let (code, document) = json_of(&["mappings/hubspot_to_accelo.map", binary]);
    assert_eq!(code, 2);
    assert_eq!(
        document["files"],
        serde_json::json!(["mappings/hubspot_to_accelo.map"])
    );
    assert_eq!(document["failures"][0]["file"], binary);
    let (_, document) = sarif_of(&["mappings/hubspot_to_accelo.map", binary]);
    validate(&document);
    let notification = &document["runs"][0]["invocations"][0]["toolExecutionNotifications"][0];
    assert!(
        notification["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .ends_with("binary.map")
    );
}

#[test]
fn json_output_of_every_golden_case_follows_the_published_schema() {
    let (code, _) = json_of(&["mappings"]);
    assert_eq!(code, 0);
    let mut cases = 0;
    for entry in std::fs::read_dir("tests/check").unwrap().flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "map") {
            json_of(&[path.to_str().unwrap()]);
            cases += 1;
        }
    }
    assert!(cases > 50);
}

#[test]
fn github_annotations_put_the_message_first_and_keep_secondary_locations() {
    let (code, annotations) =
        check_as("github", &["tests/check/m305_value_not_in_target_enum.map"]);
    assert_eq!(code, 1);
    let lines: Vec<&str> = annotations.lines().collect();
    let (_, text) = lines[0]
        .split_once("::")
        .unwrap()
        .1
        .split_once("::")
        .unwrap();
    assert!(
        text.starts_with("\"Enterprize\" is not a value `project.template` accepts: not in"),
        "the message first, then the label: {text}"
    );
    assert!(lines[0].starts_with("::error file=tests/check/m305_value_not_in_target_enum.map,"));
    let notice = lines
        .iter()
        .find(|l| l.starts_with("::notice "))
        .expect("the schema entry as its own annotation");
    assert!(notice.contains(".json,line="), "{notice}");
    assert!(notice.contains("title=M305 (related)"), "{notice}");
}

#[test]
fn related_locations_point_into_schema_files() {
    let dir = "tests/check";
    let mut found = false;
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "map") {
            continue;
        }
        let (_, document) = sarif_of(&[path.to_str().unwrap()]);
        validate(&document);
        for result in document["runs"][0]["results"].as_array().unwrap() {
            for related in result["relatedLocations"].as_array().into_iter().flatten() {
                let uri = related["physicalLocation"]["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap();
                found |= uri.ends_with(".json") || uri.ends_with(".yaml");
            }
        }
    }
    assert!(
        found,
        "no golden case has a related location in a schema file"
    );
}
