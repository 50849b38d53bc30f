//! The fast reader's answers, seen through evaluation: paths read through slots read what they
//! read by name, and remembered member orders never change an outcome.

use std::path::Path;

use serde_json::Value;

use crate::check::check_file;
use crate::check::program::Program;
use crate::eval::read::Records;
use crate::reader::Plan;
use crate::source::SourceMap;
use crate::syntax::Limits;

fn program(mapping: &str) -> Program {
    let mut sources = SourceMap::new();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(mapping);
    let output = check_file(&mut sources, &path, &Limits::default()).expect("readable");
    output.program.expect("the mapping checks clean")
}

/// A sample deal file, or JSON text given inline.
fn sample(path_or_json: &str) -> Value {
    if path_or_json.starts_with('{') {
        return serde_json::from_str(path_or_json).expect("json");
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(path_or_json);
    serde_json::from_str(&std::fs::read_to_string(path).expect("sample")).expect("json")
}

/// Every source path reads the same value through its slot as by name, for present,
/// absent and null fields, in bundles and single records.
#[test]
fn slots_read_what_names_read() {
    let cases = [
        (
            "mappings/hubspot_to_accelo.map",
            "mappings/samples/hubspot/deal_won.json",
        ),
        (
            "mappings/hubspot_to_accelo.map",
            "mappings/samples/hubspot/deal_missing_data.json",
        ),
        (
            "mappings/copper_to_harvest.map",
            "mappings/samples/copper/deal_won.json",
        ),
        (
            "mappings/zoho_to_custom.map",
            "mappings/samples/zoho/deal_missing_data.json",
        ),
        (
            "bench/reference.map",
            r#"{"id":"7","properties":{"amount":"12.50","dealstage":"closedwon","dealname":null,"dealtype":"retainer"}}"#,
        ),
    ];
    for (mapping, deal) in cases {
        let program = program(mapping);
        let plan = Plan::of(&program);
        let input = sample(deal);
        let sources: Vec<Option<&Value>> = program
            .sources
            .iter()
            .enumerate()
            .map(|(index, source)| match input.get(&source.name) {
                Some(record) => Some(record),
                None => (index == 0).then_some(&input),
            })
            .collect();
        let mut slots = Vec::new();
        plan.resolve(&sources, &[], &mut slots);
        let target = Value::Null;
        let by_slot = Records {
            sources: &sources,
            target: crate::eval::read::Target::Json(&target),
            slots: &slots,
            slot_of: plan.slot_of(),
        };
        let by_name = Records::by_name(&sources, crate::eval::read::Target::Json(&target));
        let mut slotted = 0;
        let mut paths = Vec::new();
        program.for_each_read(&mut |path| paths.push(path.clone()));
        for path in &paths {
            slotted += usize::from(plan.slot_of()[path.id.index()].is_some());
            assert_eq!(
                by_slot.read(path),
                by_name.read(path),
                "{mapping}: {}",
                path.display
            );
        }
        assert!(slotted > 0, "{mapping}: no path was given a slot");
    }
}

fn engine() -> crate::eval::Runner {
    let mut sources = SourceMap::new();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/reference.map");
    let output = check_file(&mut sources, &path, &Limits::default()).expect("readable");
    let program = output.program.expect("the mapping checks clean");
    crate::eval::Runner::new(program, &output.schemas).expect("engine")
}

/// The codes of the outcome of one deal given as text.
fn codes(engine: &crate::eval::Runner, text: &str) -> Vec<String> {
    use crate::eval::Outcome;
    let (_, outcome) = engine.run_payload(
        crate::io::input::Payload::Text(text.as_bytes()),
        None,
        false,
    );
    match outcome {
        Outcome::Written { .. } => vec!["written".to_string()],
        Outcome::Skipped(reason) => vec![reason.code.to_string()],
        Outcome::Rejected { reasons, .. } => reasons.iter().map(|r| r.code.to_string()).collect(),
    }
}

/// A deal's `properties` with the given members (each `"key":"value"` text).
fn deal(members: &[&str]) -> String {
    format!(r#"{{"id":"7","properties":{{{}}}}}"#, members.join(","))
}

/// Learned member layouts change no answer: repeated keys are found in every order (before,
/// inside and after the remembered layout), missing and extra keys resolve as before, and
/// a new export order is learned.
#[test]
fn layouts_remember_answers_but_never_hide_repeated_keys() {
    let engine = engine();
    let amount = r#""amount":"500.00""#;
    let close = r#""closedate":"2024-11-09T15:12:06.495Z""#;
    let stage = r#""dealstage":"closedwon""#;
    let owner = r#""hubspot_owner_id":"41""#;
    let extra = r#""zz_custom":"x""#;
    let usual = deal(&[amount, close, stage, owner]);
    for _ in 0..3 {
        assert_eq!(codes(&engine, &usual), ["written"]);
    }
    let repeats = [
        deal(&[amount, close, stage, owner, amount]),
        deal(&[owner, amount, close, stage, owner]),
        deal(&[amount, amount, close, stage, owner]),
        deal(&[extra, amount, close, extra, stage, owner]),
        deal(&[amount, close, close, stage, owner]),
        deal(&[close, amount, close, stage, owner]),
        deal(&[amount, stage, close, stage, owner]),
    ];
    for text in &repeats {
        assert!(codes(&engine, text).contains(&"M512".to_string()), "{text}");
    }
    assert_eq!(codes(&engine, &deal(&[amount, stage, owner])), ["M504"]);
    assert_eq!(
        codes(&engine, &deal(&[amount, close, extra, stage, owner])),
        ["written"]
    );
    assert_eq!(
        codes(
            &engine,
            &deal(&[close, amount, r#""dealstage":"closedlost""#, owner])
        ),
        ["M503"]
    );
    let wrong_type = deal(&[r#""amount":5"#, close, stage, owner]);
    assert_eq!(codes(&engine, &wrong_type), ["M502"]);
    let reordered = deal(&[owner, stage, close, amount]);
    for _ in 0..40 {
        assert_eq!(codes(&engine, &reordered), ["written"]);
    }
    assert_eq!(codes(&engine, &usual), ["written"]);
    for text in &repeats {
        assert!(codes(&engine, text).contains(&"M512".to_string()), "{text}");
    }
}
