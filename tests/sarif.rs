//! `mapctl check --format sarif` is valid SARIF 2.1.0 (checked against the OASIS schema, offline)
//! and carries what GitHub code scanning needs: rules with descriptions and help, results with a
//! rule id, a level, a message and a region in a repository-relative file.

use std::process::Command;

use serde_json::Value;

fn sarif_of(args: &[&str]) -> (i32, Value) {
    let output = Command::new(env!("CARGO_BIN_EXE_mapctl"))
        .args(["check", "--format", "sarif"])
        .args(args)
        .env("MAPCTL_CACHE_DIR", "")
        .output()
        .expect("mapctl runs");
    let document = serde_json::from_slice(&output.stdout).expect("SARIF is JSON");
    (output.status.code().unwrap_or(-1), document)
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
        assert!(rule["name"].as_str().unwrap().len() <= 255);
    }
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
