//! Laws of `apply`, as property tests over random deals and random batches:
//! (a) conservation: every input item ends exactly once as written, skipped or rejected;
//! (b) never-transfer values never appear in any output;
//! (c) a mapping that checks cleanly only ever writes records valid against the target schema.

use std::io::Write as _;
use std::path::Path;
use std::process::Command;

use mapctl::check::check_file;
use mapctl::engine::{ClientDirectory, Deal, LoadOptions, Mapping, Outcome};
use mapctl::schema::validate::SchemaValidator;
use mapctl::source::SourceMap;
use mapctl::syntax::Limits;
use proptest::prelude::*;
use serde_json::{Value, json};

const MAPPING: &str = "mappings/hubspot_to_accelo.map";
const CLIENTS: &str = "mappings/samples/hubspot/accelo_companies.json";

fn engine() -> (Mapping, SchemaValidator) {
    let mut sources = SourceMap::new();
    let output =
        check_file(&mut sources, Path::new(MAPPING), &Limits::default()).expect("mapping readable");
    let program = output
        .program
        .as_ref()
        .expect("shipped mapping checks clean");
    let independent =
        SchemaValidator::build(&output.schemas, &program.target_schema_path).expect("validator");
    let options = LoadOptions {
        allow_new_clients: true,
        ..LoadOptions::default()
    };
    let engine = Mapping::load(Path::new(MAPPING), &options).expect("the mapping loads");
    (engine, independent)
}

fn clients() -> ClientDirectory {
    let records: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(CLIENTS).expect("clients")).expect("json");
    ClientDirectory::new(&records).expect("clients valid")
}

fn optional(strategy: impl Strategy<Value = String> + 'static) -> BoxedStrategy<Value> {
    prop_oneof![
        1 => Just(Value::Null),
        1 => Just(json!("")),
        6 => strategy.prop_map(Value::from),
    ]
    .boxed()
}

prop_compose! {
    /// A HubSpot deal bundle with random (often wrong) values and never-transfer markers.
    fn deal()(
        stage in prop::sample::select(vec!["closedwon", "closedwon", "closedwon", "contractsent", "closedlost"]),
        amount in optional(prop_oneof!["[0-9]{1,6}(\\.[0-9]{2})?", "-[0-9]{1,3}", "[0-9]{1,3},[0-9]{3}\\.00", "[a-z]{1,4}"]),
        name in optional("[A-Za-z ]{0,40}"),
        owner in optional(prop::sample::select(vec!["51234567".to_string(), "51234568".into(), "99".into()]).boxed()),
        closedate in optional(prop_oneof!["2025-0[1-9]-1[0-9]T09:30:00.000Z", "2025-02-3[0-1]T00:00:00Z"]),
        contract in optional(prop::sample::select(vec!["fixed_fee".to_string(), "retainer".into(), "time_and_materials".into()]).boxed()),
        company in prop_oneof!["Acme( Corp\\.)?", "GLOBEX", "Initech", "[A-Z][a-z]{2,8}( LLC)?"],
        marker in "[a-z]{12}",
        id in 1u64..10_000_000,
    ) -> Value {
        json!({
            "deal": {
                "id": id.to_string(),
                "properties": {
                    "dealstage": stage, "amount": amount, "dealname": name, "hubspot_owner_id": owner,
                    "closedate": closedate, "contract_type": contract, "service_line": "training",
                    "internal_rate_card": format!("NT-SECRET-{marker}-rates"),
                    "billing_preferences": format!("NT-SECRET-{marker}-billing"),
                    "resource_assignments": format!("NT-SECRET-{marker}-people"),
                    "description": "scope text"
                },
                "associations": {"companies": {"results": [{"id": "9001", "type": "deal_to_company"}]}}
            },
            "company": {"id": "9001", "properties": {"name": company}}
        })
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// (b) and (c): no never-transfer value in any output; every written record is valid.
    #[test]
    fn written_records_are_valid_and_never_hold_protected_data(deals in prop::collection::vec(deal(), 1..8)) {
        let (engine, validator) = engine();
        let mut directory = clients();
        for deal in &deals {
            let outcome = engine.apply(Deal::Value(deal), Some(&mut directory)).outcome;
            let shown = format!("{outcome:?}");
            prop_assert!(!shown.contains("NT-SECRET"), "never-transfer data in {shown}");
            if let Outcome::Written { record, .. } = &outcome {
                let violations = validator.violations(&record.to_value());
                let only_new_client_id = violations.iter().all(|v| v.missing.as_deref() == Some(&["against_id".to_string()][..]));
                prop_assert!(only_new_client_id, "invalid record {record}: {violations:?}");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// (a) through the binary: lines read = written + skipped + rejected, each bad line rejected
    /// once with its line number.
    #[test]
    fn every_input_line_ends_exactly_once(
        deals in prop::collection::vec(deal(), 0..30),
        junk in prop::collection::vec(prop_oneof![
            Just("{\"deal\": {".to_string()),
            Just("null".to_string()),
            Just("[]".to_string()),
            Just("\"text\"".to_string()),
            "[a-z{}\\[\\]\",:]{1,20}",
        ], 0..6),
        seed in any::<u64>(),
    ) {
        let dir = tempfile::tempdir().expect("temp dir");
        let input = dir.path().join("deals.ndjson");
        let mut lines: Vec<String> = deals.iter().map(|d| d.to_string()).collect();
        let mut state = seed | 1;
        for bad in junk {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let at = (state >> 33) as usize % (lines.len() + 1);
            lines.insert(at, bad);
        }
        let mut file = std::fs::File::create(&input).expect("input");
        for line in &lines {
            writeln!(file, "{line}").expect("write");
        }
        drop(file);
        let out = dir.path().join("out.ndjson");
        let rejects = dir.path().join("rejects.ndjson");
        let root = env!("CARGO_MANIFEST_DIR");
        let status = Command::new(env!("CARGO_BIN_EXE_mapctl"))
            .args(["apply", &format!("{root}/{MAPPING}"), "--clients", &format!("{root}/{CLIENTS}"), "--envelope"])
            .arg(&input)
            .arg("--out").arg(&out)
            .arg("--rejects").arg(&rejects)
            .output()
            .expect("mapctl runs");
        if lines.is_empty() {
            // An empty file is no batch at all (M521, exit 2), and nothing is written.
            prop_assert_eq!(status.status.code(), Some(2));
            prop_assert!(String::from_utf8_lossy(&status.stderr).contains("M521"));
            prop_assert!(!out.exists() && !rejects.exists());
            return Ok(());
        }
        prop_assert!(status.status.code().is_some_and(|c| c == 0 || c == 1), "{}", String::from_utf8_lossy(&status.stderr));
        let written = std::fs::read_to_string(&out).expect("out").lines().count();
        let reject_lines: Vec<Value> = std::fs::read_to_string(&rejects).expect("rejects")
            .lines().map(|l| serde_json::from_str(l).expect("rejects line is JSON")).collect();
        let non_blank = lines.iter().filter(|l| !l.trim().is_empty()).count();
        prop_assert_eq!(written + reject_lines.len(), non_blank);
        let mut seen_lines: Vec<u64> = reject_lines.iter().filter_map(|r| r["line"].as_u64()).collect();
        let before = seen_lines.len();
        seen_lines.dedup();
        prop_assert_eq!(before, seen_lines.len(), "a line was reported twice");
        let summary = String::from_utf8_lossy(&status.stderr);
        let expected = format!("read {non_blank}, written {written}");
        prop_assert!(summary.contains(&expected), "summary {} lacks {}", summary, expected);
    }
}

#[test]
fn copying_an_object_that_holds_protected_fields_is_refused_by_check() {
    let mapping = std::fs::read_to_string(MAPPING).expect("mapping");
    let leaking = mapping.replace(
        "  job.standing     = \"pending\"\n",
        "  job.standing     = \"pending\"\n  job.description  = deal.properties\n",
    );
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings/leak_probe.map");
    let mut sources = SourceMap::new();
    let text: std::sync::Arc<str> = leaking.into();
    let file = sources.add(&path, "leak_probe.map".into(), text);
    let output = mapctl::check::check_source(&mut sources, file, &Limits::default());
    assert!(output.program.is_none());
    assert!(
        output
            .diagnostics
            .iter()
            .any(|d| d.code == mapctl::diag::Code::M207),
        "{:?}",
        output.diagnostics
    );
}
