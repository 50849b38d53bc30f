//! A law of reading: a deal gets the same outcome whether `apply` reads it from JSON text (the
//! streaming reader, which keeps only the fields the mapping reads, some of them only in the
//! slot table) or from a document parsed whole. Checked on every forward case of the shipped
//! mappings' test files, with their client directories, and on the reference benchmark job.
//! And a law of building: records built field by field equal records built as JSON trees.

use std::path::Path;

use mapctl::engine::{ClientDirectory, Deal, LoadOptions, Mapping, Outcome};
use serde_json::Value;

fn engine(mapping: &Path) -> Mapping {
    Mapping::load(mapping, &LoadOptions::default()).expect("the mapping loads")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// RFC 7396 merge patch, as the test files' `with:` applies it.
fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(changes) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    if let Value::Object(map) = target {
        for (key, change) in changes {
            if change.is_null() {
                map.remove(key);
            } else {
                merge_patch(map.entry(key.clone()).or_insert(Value::Null), change);
            }
        }
    }
}

/// The outcome of `deal` read from its JSON text, and read whole, each with its own copy of
/// the client directory.
fn both_ways(
    engine: &Mapping,
    deal: &Value,
    clients: Option<&ClientDirectory>,
) -> (Outcome, Outcome) {
    let text = serde_json::to_vec(deal).expect("serializable");
    let mut for_text = clients.cloned();
    let mut for_value = clients.cloned();
    let from_text = engine.apply(Deal::Text(&text), for_text.as_mut()).outcome;
    let from_value = engine.apply(Deal::Value(deal), for_value.as_mut()).outcome;
    (from_text, from_value)
}

/// One shipped mapping with its client directory and forward test cases (name, deal).
struct ShippedSuite {
    file: &'static str,
    mapping: std::path::PathBuf,
    clients: Option<ClientDirectory>,
    cases: Vec<(String, Value)>,
}

/// The forward cases of the shipped mappings' test files, each deal with its `with:` applied.
fn shipped_suites() -> Vec<ShippedSuite> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings");
    let files = ["hubspot_to_accelo", "copper_to_harvest", "zoho_to_custom"];
    files
        .into_iter()
        .map(|file| {
            let suite: Value = serde_yaml::from_str(
                &std::fs::read_to_string(root.join(format!("{file}.tests.yaml"))).expect("tests"),
            )
            .expect("yaml");
            let clients = suite["clients"].as_str().map(|path| {
                let records = read_json(&root.join(path));
                ClientDirectory::new(records.as_array().expect("clients array")).expect("clients")
            });
            let cases = suite["cases"]
                .as_array()
                .expect("cases")
                .iter()
                .filter(|case| case["direction"].as_str() != Some("back"))
                .map(|case| {
                    let mut deal = match &case["input"] {
                        Value::String(path) => read_json(&root.join(path)),
                        inline => inline.clone(),
                    };
                    if !case["with"].is_null() {
                        merge_patch(&mut deal, &case["with"]);
                    }
                    (case["name"].to_string(), deal)
                })
                .collect();
            ShippedSuite {
                file,
                mapping: root.join(format!("{file}.map")),
                clients,
                cases,
            }
        })
        .collect()
}

#[test]
fn every_shipped_case_gets_the_same_outcome_from_text_as_from_a_parsed_deal() {
    let mut compared = 0;
    for suite in shipped_suites() {
        let engine = engine(&suite.mapping);
        for (name, deal) in &suite.cases {
            let (from_text, from_value) = both_ways(&engine, deal, suite.clients.as_ref());
            assert_eq!(from_text, from_value, "{}: {name}", suite.file);
            compared += 1;
        }
    }
    assert!(compared > 80, "only {compared} cases compared");
}

/// The record as its output line: members in order (outcomes compare records as JSON values,
/// where member order does not count).
fn record_line(outcome: &Outcome) -> Option<String> {
    match outcome {
        Outcome::Written { record, .. } => Some(record.to_string()),
        _ => None,
    }
}

/// A law of building: a record built field by field in the mapping's compiled layout is the
/// record built as a JSON tree, byte for byte, and is valid or invalid alike.
#[test]
fn every_shipped_case_gets_the_same_record_built_by_field_as_built_as_a_tree() {
    let mut compared = 0;
    let mut by_field = 0;
    for suite in shipped_suites() {
        let fields = engine(&suite.mapping);
        let mut trees = engine(&suite.mapping);
        trees.build_records_as_trees();
        by_field += usize::from(fields.builds_records_by_field());
        for (name, deal) in &suite.cases {
            let (by_layout, _) = both_ways(&fields, deal, suite.clients.as_ref());
            let (as_tree, _) = both_ways(&trees, deal, suite.clients.as_ref());
            assert_eq!(by_layout, as_tree, "{}: {name}", suite.file);
            assert_eq!(record_line(&by_layout), record_line(&as_tree));
            compared += 1;
        }
    }
    assert!(compared > 80, "only {compared} cases compared");
    assert!(
        by_field >= 2,
        "only {by_field} shipped mappings build records by field"
    );
}

#[test]
fn reference_job_deals_get_the_same_outcome_from_text_as_from_a_parsed_deal() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut trees = engine(&root.join("bench/reference.map"));
    trees.build_records_as_trees();
    let engine = engine(&root.join("bench/reference.map"));
    let deals = [
        r#"{"id":"1","properties":{"amount":"5700.00","closedate":"2024-11-09T15:12:06.495Z","dealstage":"closedwon","dealtype":"retainer","hubspot_owner_id":"4","company_name":"Umbrella, Inc. ","dealname":"Umbrella","description":"x","internal_rate_card":"secret"}}"#,
        r#"{"id":"2","properties":{"amount":"","dealstage":"closedwon","internal_rate_card":"Principal 246/h","billing_preferences":"Net 15"}}"#,
        r#"{"id":"3","properties":{"dealstage":"appointmentscheduled"}}"#,
        r#"{"id":"4","properties":{"amount":"250000","closedate":"2024-01-01T00:00:00Z","dealstage":"closedwon","hubspot_owner_id":"9","dealtype":"fixedfee","delivery_lead_email":null}}"#,
        r#"{"id":"5","properties":{"amount":7,"dealstage":"closedwon","internal_rate_card":"Principal 246/h"}}"#,
        r#"{"id":"6","properties":{"amount":"100","closedate":"2024-01-01","dealstage":"closedwon","hubspot_owner_id":"9"}}"#,
    ];
    assert!(engine.builds_records_by_field());
    for text in deals {
        let deal: Value = serde_json::from_str(text).expect("json");
        let (from_text, from_value) = both_ways(&engine, &deal, None);
        assert_eq!(from_text, from_value, "{text}");
        let (as_tree, _) = both_ways(&trees, &deal, None);
        assert_eq!(from_text, as_tree, "{text}");
        assert_eq!(record_line(&from_text), record_line(&as_tree), "{text}");
    }
}

/// A never-transfer field that a rule reads (here in a requirement) is withheld from the
/// rejection however the deal is read: the streaming reader keeps it where the redaction
/// looks for it.
#[test]
fn a_never_transfer_field_read_by_a_rule_is_withheld_from_text_and_from_a_parsed_deal() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("mapctl-reading-laws-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("schemas")).expect("temp dir");
    for schema in ["deal.schema.json", "project.schema.json"] {
        std::fs::copy(
            root.join("bench/schemas").join(schema),
            dir.join("schemas").join(schema),
        )
        .expect("schema copied");
    }
    let reference = std::fs::read_to_string(root.join("bench/reference.map")).expect("mapping");
    let owner_rule = "\"hubspot_owner_id\"\n";
    assert!(reference.contains(owner_rule));
    let mapping = reference.replacen(
        owner_rule,
        "\"hubspot_owner_id\"\n  deal.properties.internal_rate_card matches \"^OK\" \"rate card approved\"\n",
        1,
    );
    std::fs::write(dir.join("nt.map"), mapping).expect("mapping written");
    let engine = engine(&dir.join("nt.map"));
    let deal: Value = serde_json::from_str(
        r#"{"id":"5","properties":{"amount":"100","closedate":"2024-01-01T00:00:00Z","dealstage":"closedwon","hubspot_owner_id":"9","internal_rate_card":"Principal 246/h secret"}}"#,
    )
    .expect("json");
    let (from_text, from_value) = both_ways(&engine, &deal, None);
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        matches!(from_text, Outcome::Rejected { .. }),
        "{from_text:?}"
    );
    assert!(!format!("{from_text:?}").contains("246/h"), "{from_text:?}");
    assert_eq!(from_text, from_value);
}

/// A never-transfer field no rule reads is not kept by the streaming reader; a rejection whose
/// message quotes its value (here the requirement's own words equal the billing preferences)
/// must still withhold it, from an NDJSON line as from a parsed document.
#[test]
fn never_transfer_values_no_rule_reads_are_withheld_from_streamed_rejections() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let engine = engine(&root.join("bench/reference.map"));
    let text = br#"{"id":"1","properties":{"dealstage":"closedwon","amount":"0","closedate":"2025-01-01T00:00:00Z","hubspot_owner_id":"1","billing_preferences":"amount"}}"#;
    let deal: Value = serde_json::from_slice(text).expect("json");
    let from_text = engine.apply(Deal::Text(text), None).outcome;
    let from_value = engine.apply(Deal::Value(&deal), None).outcome;
    assert_eq!(from_text, from_value);
    let Outcome::Rejected { reasons, .. } = from_text else {
        panic!("the deal is rejected: {from_text:?}")
    };
    let shown = format!("{reasons:?}");
    assert!(
        shown.contains("<withheld: never-transfer field>"),
        "{shown}"
    );
}
