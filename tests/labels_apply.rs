//! Labels are resolved at check time: a mapping that names stages, options and templates by
//! their labels (`tests/labels/with_labels.map`) compiles to the program of the same mapping
//! written with ids (`tests/labels/with_ids.map`), and `engine::Mapping` gives every deal the
//! same outcome with both, to the byte: the same record text, template and branches, the same
//! skip, or the same rejection (phase, codes, messages, fields, values, rule lines; the ids need
//! a second require block for the other stage labelled "Closed won", whose rules count as the
//! first block's).
//!
//! The deals are every combination of stage, pipeline, contract type, priority and service
//! line, with a final, a zero and a missing amount, read from text and as a parsed value. And
//! every stage label of the shipped HubSpot and Zoho schemas compiles to the trigger its ids
//! make; tools (the language server) read the same labels through `check::Query`.

use std::path::Path;

use regex::Regex;
use serde_json::{Value, json};

use mapctl::check::Program;
use mapctl::engine::{Deal, LoadOptions, Mapping, Outcome};

fn load(name: &str) -> Mapping {
    let path = Path::new("tests/labels").join(name);
    Mapping::load(&path, &LoadOptions::default())
        .unwrap_or_else(|e| panic!("{} loads: {}", path.display(), e.message()))
}

/// The deals: every stage, pipeline, option and amount variant.
fn deals() -> Vec<Value> {
    let stages = [
        "appointmentscheduled",
        "closedwon",
        "closedlost",
        "p_scoping",
        "p_won",
        "p_lost",
    ];
    let pipelines = ["default", "partner"];
    let contract_types = [
        json!("retainer"),
        json!("fixed_fee"),
        json!("time_and_materials"),
        Value::Null,
    ];
    let priorities = [json!(1), json!(2), json!(3), Value::Null];
    let service_lines = [
        json!("strategy"),
        json!("Training"),
        json!("training_v2"),
        Value::Null,
    ];
    let amounts = [json!("48500.00"), json!("0"), Value::Null];
    let mut deals = Vec::new();
    let mut id = 0;
    for stage in stages {
        for pipeline in pipelines {
            for contract_type in &contract_types {
                for priority in &priorities {
                    for service_line in &service_lines {
                        for amount in &amounts {
                            id += 1;
                            deals.push(json!({
                                "id": id.to_string(),
                                "properties": {
                                    "dealname": format!("  Deal   {id} "),
                                    "dealstage": stage,
                                    "pipeline": pipeline,
                                    "amount": amount,
                                    "contract_type": contract_type,
                                    "service_line": service_line,
                                    "priority": priority,
                                },
                                "company": {"id": "7", "name": "Acme Corp"},
                            }));
                        }
                    }
                }
            }
        }
    }
    deals
}

/// How a rule line of `with_ids.map` reads in `with_labels.map`: the two files keep their rules
/// on the same lines, except that the ids need a second require block for the partner
/// pipeline's "Closed won" stage, which restates the first block's rules line for line.
fn rule_line(ids_text: &str) -> impl Fn(usize) -> usize {
    let line_of = |needle: &str| {
        ids_text
            .lines()
            .position(|l| l.starts_with(needle))
            .map(|i| i + 1)
            .expect("block in with_ids.map")
    };
    let first = line_of("require at stage \"closedwon\"");
    let second = line_of("require at stage \"p_won\"");
    let lines: Vec<&str> = ids_text.lines().collect();
    let rules = lines[first..]
        .iter()
        .take_while(|l| !l.starts_with('}'))
        .count();
    assert_eq!(
        lines[first..first + rules],
        lines[second..second + rules],
        "the second block restates the first"
    );
    move |line| {
        if line > second && line <= second + rules {
            line - (second - first)
        } else {
            line
        }
    }
}

/// An outcome as bytes: the record's compact text, or the skip or rejection with every field
/// (a rule by its line and column, in `with_labels.map`'s numbering; its text is the file's
/// own).
fn describe(outcome: &Outcome, line: &dyn Fn(usize) -> usize) -> String {
    match outcome {
        Outcome::Written {
            record,
            template,
            client,
            branches,
        } => {
            let mut text = Vec::new();
            record.write_compact(&mut text);
            format!(
                "written {} template={template:?} client={client:?} branches={branches:?}",
                String::from_utf8_lossy(&text)
            )
        }
        Outcome::Skipped(reason) => format!("skipped {}", reason_text(reason, line)),
        Outcome::Rejected { phase, reasons } => {
            let reasons: Vec<String> = reasons.iter().map(|r| reason_text(r, line)).collect();
            format!("rejected at {} {}", phase.as_str(), reasons.join(" | "))
        }
    }
}

fn reason_text(reason: &mapctl::engine::Reason, line: &dyn Fn(usize) -> usize) -> String {
    format!(
        "{} {:?} field={:?} value={:?} rule={:?}",
        reason.code.as_str(),
        reason.message,
        reason.field,
        reason.value,
        reason.rule.as_ref().map(|o| (line(o.line), o.column))
    )
}

#[test]
fn a_mapping_written_with_labels_gives_every_deal_the_outcome_of_the_ids() {
    let (labels, ids) = (load("with_labels.map"), load("with_ids.map"));
    let same = |line: usize| line;
    let ids_line = rule_line(ids.text());
    let deals = deals();
    let mut kinds = [0usize; 3];
    for deal in &deals {
        let text = serde_json::to_vec(deal).expect("deal text");
        for input in [Deal::Text(&text), Deal::Value(deal)] {
            let (a, b) = (labels.apply(input, None), ids.apply(input, None));
            assert_eq!(a.deal_id, b.deal_id);
            let (a, b) = (describe(&a.outcome, &same), describe(&b.outcome, &ids_line));
            assert_eq!(a, b, "deal {deal}");
            let kind = match b.split(' ').next() {
                Some("written") => 0,
                Some("skipped") => 1,
                _ => 2,
            };
            kinds[kind] += 1;
        }
    }
    // The deals reach every phase: written with every template and status, skipped, rejected.
    assert!(kinds.iter().all(|n| *n > 0), "outcomes {kinds:?}");
    let written: Vec<Value> = deals
        .iter()
        .filter_map(|d| match labels.apply(Deal::Value(d), None).outcome {
            Outcome::Written { record, .. } => Some(record.to_value()),
            _ => None,
        })
        .collect();
    for template in ["retainer", "fixed", "enterprise", "tm"] {
        assert!(
            written.iter().any(|r| r["template"] == template),
            "{template}"
        );
    }
    for status in [1, 2] {
        assert!(written.iter().any(|r| r["status_id"] == status), "{status}");
    }
}

/// A program's debug text without what names the file it came from: the mapping's path and
/// each rule's text (its line and column stay).
fn without_rule_text(text: &str) -> String {
    let rule = Regex::new(r#"text: "(?:[^"\\]|\\.)*""#).expect("regex");
    rule.replace_all(text, "text: _").into_owned()
}

/// Every (stage, condition, message) a program's requirements check, sorted: a block named by
/// a label shared by two stages is one requirement per rule at both stages, the same mapping
/// written with ids one block per stage.
fn requirements(program: &Program) -> Vec<String> {
    let mut out: Vec<String> = program
        .requirements
        .iter()
        .flat_map(|r| {
            r.stages
                .iter()
                .map(move |stage| format!("{stage} {:?} {}", r.condition, r.message))
        })
        .collect();
    out.sort();
    out
}

#[test]
fn labels_compile_to_the_program_of_the_ids() {
    let (labels, ids) = (load("with_labels.map"), load("with_ids.map"));
    let (a, b) = (labels.program(), ids.program());
    assert_eq!(format!("{:?}", a.trigger), format!("{:?}", b.trigger));
    assert_eq!(a.trigger_stages, vec!["closedwon", "p_won"]);
    assert_eq!(a.trigger_stages, b.trigger_stages);
    assert_eq!(requirements(a), requirements(b));
    assert_eq!(
        without_rule_text(&format!("{:?}", a.writes)),
        without_rule_text(&format!("{:?}", b.writes))
    );
    assert_eq!(format!("{:?}", a.tables), format!("{:?}", b.tables));
    let written = format!("{:?}", a.writes);
    for label in [
        "\"Retainer\"",
        "\"Fixed fee\"",
        "\"Pending\"",
        "\"Active\"",
        "\"Closed lost\"",
    ] {
        assert!(!written.contains(label), "{label} left in the program");
    }
}

/// A mapping over one of the shipped CRM schemas whose trigger is `trigger`.
fn trigger_mapping(schema: &str, trigger: &str) -> String {
    format!(
        "mapping stages\nsource deal = schema \"schemas/{schema}\"\ntarget job = schema \"schemas/accelo/job.schema.json\"\n\
         trigger when {trigger}\nmap {{\n  job.title = \"t\"\n  job.against_type = \"company\"\n  job.against_id = 101\n\
         job.manager_id = 21\n  job.budget = 0\n  job.job_type_name = \"Retainer\"\n}}\n"
    )
}

/// The trigger and trigger stages `text` compiles to (checked as a file of `mappings/`).
fn compiled_trigger(text: &str) -> (String, Vec<String>) {
    let mut sources = mapctl::source::SourceMap::new();
    let path = std::env::current_dir()
        .expect("cwd")
        .join("mappings/stage_labels.map");
    let file = sources.add(&path, "stage_labels.map".into(), text.into());
    let output =
        mapctl::check::check_source(&mut sources, file, &mapctl::syntax::Limits::default());
    let program = output
        .program
        .unwrap_or_else(|| panic!("{text} checks: {:?}", output.diagnostics));
    (format!("{:?}", program.trigger), program.trigger_stages)
}

/// Every label of the stage field of the shipped HubSpot and Zoho schemas (imported from the
/// vendors' metadata samples), written in the trigger, compiles to the trigger written with the
/// ids it names: itself when it is an id, else every stage so labelled.
#[test]
fn every_stage_label_of_the_shipped_schemas_compiles_to_its_ids() {
    let fields = [
        (
            "hubspot/deal.schema.json",
            "/properties/properties/properties/dealstage",
            "deal.properties.dealstage",
        ),
        ("zoho/deal.schema.json", "/properties/Stage", "deal.Stage"),
    ];
    let mut shared = 0;
    for (schema, pointer, path) in fields {
        let text =
            std::fs::read_to_string(Path::new("mappings/schemas").join(schema)).expect("schema");
        let json: Value = serde_json::from_str(&text).expect("JSON");
        let field = json.pointer(pointer).expect("stage field");
        let values: Vec<&str> = field["enum"]
            .as_array()
            .expect("enum")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let labels = field["x-mapctl-labels"].as_object().expect("labels");
        let mut seen = Vec::new();
        for label in labels.values().filter_map(Value::as_str) {
            if seen.contains(&label) {
                continue;
            }
            seen.push(label);
            let ids: Vec<&str> = if values.contains(&label) {
                vec![label]
            } else {
                values
                    .iter()
                    .copied()
                    .filter(|v| labels.get(*v).and_then(Value::as_str) == Some(label))
                    .collect()
            };
            shared += usize::from(ids.len() > 1);
            let by_ids = match ids.as_slice() {
                [one] => format!("{path} == {}", json!(one)),
                many => format!("{path} in {}", json!(many)),
            };
            let by_label = format!("{path} == {}", json!(label));
            assert_eq!(
                compiled_trigger(&trigger_mapping(schema, &by_label)),
                compiled_trigger(&trigger_mapping(schema, &by_ids)),
                "{by_label} vs {by_ids}"
            );
        }
    }
    assert!(
        shared >= 2,
        "the samples have labels shared by two pipelines' stages"
    );
}

/// Tools see the labels `check` resolves with: `Query::labels` of the trigger's stage field.
#[test]
fn tools_read_the_labels_check_resolves_with() {
    let mut sources = mapctl::source::SourceMap::new();
    let output = mapctl::check::check_file(
        &mut sources,
        Path::new("tests/labels/with_labels.map"),
        &mapctl::syntax::Limits::default(),
    )
    .expect("checks");
    let flattener = mapctl::schema::Flattener::new();
    let query = mapctl::check::Query::new(&output, &flattener);
    let stage = mapctl::check::stage_field(&output.ast).expect("the trigger names a stage field");
    let field = query.field(&stage, stage.segments.len()).expect("resolves");
    let labels = query
        .labels(&field.flat)
        .expect("the stage field lists values");
    assert_eq!(labels.label(&json!("p_won")), Some("Closed won"));
    assert_eq!(
        labels.entry(&json!("p_won")).map(|e| e.pipelines.clone()),
        Some(vec!["partner".to_string()])
    );
}
