//! The law of the fast validator: on every schema it compiles, it accepts exactly the values the
//! `jsonschema` crate accepts.
//!
//! Schemas are generated from the keywords the reader's shapes support (types, `enum` and
//! `const` with objects and arrays among their values, `properties`, `required`,
//! `additionalProperties`, `items`, bounds, lengths, patterns, formats, `allOf`, `anyOf`,
//! `oneOf`, `not`, `$ref` to `$defs`, boolean schemas), and values from the same small
//! vocabulary, so that many are valid and many are not. Each schema is checked as the source
//! schema of a tiny mapping (as `tests/json_schema_suite.rs` does), and each value is judged three
//! ways against `jsonschema` (`schema::validate::SchemaValidator`):
//! - the shapes on a parsed value (`reader::RecordValidator::build` + `violations`);
//! - the streaming walk over the deal's text (`Mapping::apply(Deal::Text)`);
//! - the tree path (`Mapping::apply(Deal::Value)`).
//!
//! A schema that does not compile to shapes would make the law hold trivially (apply falls back
//! to `jsonschema`), so the test demands that nearly all generated schemas compile.

use std::cell::Cell;

use mapctl::diag::Code;
use mapctl::engine::{Deal, LoadOptions, Mapping, Outcome};
use mapctl::reader::{RecordValidator, Shapes};
use mapctl::schema::MetaCheck;
use mapctl::schema::validate::SchemaValidator;
use mapctl::source::SourceMap;
use mapctl::syntax::Limits;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Map, Value, json};

const CASES: u32 = 300;
const VALUES_PER_SCHEMA: usize = 12;

const MAPPING: &str = "mapping law

source deal = schema \"deal.schema.json\"
target out  = schema \"target.schema.json\"

trigger when deal.stage == \"go\"

map {
  out.stage = deal.stage
}
";

/// Strings schemas and values share: lengths 0 to 4, pattern material, and valid and invalid
/// examples of each generated format (calendar edge cases for the hand-written date checks).
const STRINGS: &[&str] = &[
    "",
    "a",
    "b",
    "ab",
    "abc",
    "ba",
    "é",
    "aé",
    "12",
    "2024-02-29",
    "2023-02-29",
    "2024-1-01",
    "2024-12-31T23:59:59Z",
    "2024-12-31t23:59:59.5+01:00",
    "2024-12-31T23:59:60Z",
    "2024-12-31T24:00:00Z",
    "2024-12-31 23:59:59Z",
    "23:59:59Z",
    "23:59:59",
    "12:00:00.123-05:30",
    "x@example.com",
    "not an email",
    "123e4567-e89b-12d3-a456-426614174000",
    "123e4567-e89b-12d3-a456-42661417400",
    "192.168.0.1",
    "256.1.1.1",
];
const NUMBERS: &[f64] = &[-1.0, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 10.0, -0.5];
const INTEGERS: &[i64] = &[-1, 0, 1, 2, 3, 10];
const KEYS: &[&str] = &["a", "b", "c"];
const PATTERNS: &[&str] = &["^a", "b$", "^[a-c]*$", "^.{2}$", "\\d", "^$"];
const FORMATS: &[&str] = &["date", "date-time", "time", "email", "uuid", "ipv4"];
const TYPES: &[&str] = &[
    "null", "boolean", "integer", "number", "string", "array", "object",
];

fn scalar() -> BoxedStrategy<Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        prop::sample::select(INTEGERS).prop_map(Value::from),
        prop::sample::select(NUMBERS).prop_map(Value::from),
        prop::sample::select(STRINGS).prop_map(Value::from),
    ]
    .boxed()
}

/// JSON values from the shared vocabulary, nested up to three levels.
fn value() -> BoxedStrategy<Value> {
    scalar()
        .prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec((prop::sample::select(KEYS), inner), 0..4).prop_map(
                    |members| {
                        Value::Object(
                            members
                                .into_iter()
                                .map(|(k, v)| (k.to_string(), v))
                                .collect(),
                        )
                    }
                ),
            ]
        })
        .boxed()
}

/// A schema with at most one `type`, its checks drawn for that type.
fn leaf(refs: &'static [&'static str]) -> BoxedStrategy<Value> {
    let mut choices = vec![
        any::<bool>().prop_map(Value::Bool).boxed(),
        prop::sample::subsequence(TYPES, 1..3)
            .prop_map(|types| match types.as_slice() {
                [one] => json!({ "type": one }),
                many => json!({ "type": many }),
            })
            .boxed(),
        prop::collection::vec(value(), 0..4)
            .prop_map(|values| json!({ "enum": values }))
            .boxed(),
        value().prop_map(|v| json!({ "const": v })).boxed(),
        (
            prop::option::of(0u64..3),
            prop::option::of(1u64..4),
            prop::option::of(prop::sample::select(PATTERNS)),
            prop::option::of(prop::sample::select(FORMATS)),
            any::<bool>(),
        )
            .prop_map(|(min, max, pattern, format, typed)| {
                let mut map = Map::new();
                if typed {
                    map.insert("type".into(), json!("string"));
                }
                insert_some(&mut map, "minLength", min.map(Value::from));
                insert_some(&mut map, "maxLength", max.map(Value::from));
                insert_some(&mut map, "pattern", pattern.map(Value::from));
                insert_some(&mut map, "format", format.map(Value::from));
                Value::Object(map)
            })
            .boxed(),
        (
            prop::sample::select(&["number", "integer"][..]),
            prop::collection::vec(prop::option::of(prop::sample::select(NUMBERS)), 4),
        )
            .prop_map(|(kind, bounds)| {
                let mut map = Map::new();
                map.insert("type".into(), json!(kind));
                let names = ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"];
                for (name, bound) in names.iter().zip(bounds) {
                    insert_some(&mut map, name, bound.map(Value::from));
                }
                Value::Object(map)
            })
            .boxed(),
    ];
    if !refs.is_empty() {
        choices.push(
            prop::sample::select(refs)
                .prop_map(|r| json!({ "$ref": r }))
                .boxed(),
        );
    }
    prop::strategy::Union::new(choices).boxed()
}

/// Schemas nested up to three levels: objects, arrays and combinators over leaves.
fn schema(refs: &'static [&'static str]) -> BoxedStrategy<Value> {
    leaf(refs)
        .prop_recursive(3, 16, 3, |inner| {
            prop_oneof![
                (
                    prop::collection::vec((prop::sample::select(KEYS), inner.clone()), 0..3),
                    prop::sample::subsequence(KEYS, 0..3),
                    prop::option::of(inner.clone()),
                    any::<bool>(),
                )
                    .prop_map(|(properties, required, additional, typed)| {
                        let mut map = Map::new();
                        if typed {
                            map.insert("type".into(), json!("object"));
                        }
                        let properties: Map<String, Value> = properties
                            .into_iter()
                            .map(|(k, v)| (k.to_string(), v))
                            .collect();
                        map.insert("properties".into(), Value::Object(properties));
                        if !required.is_empty() {
                            map.insert("required".into(), json!(required));
                        }
                        insert_some(&mut map, "additionalProperties", additional);
                        Value::Object(map)
                    }),
                (
                    inner.clone(),
                    prop::option::of(0u64..2),
                    prop::option::of(1u64..4)
                )
                    .prop_map(|(items, min, max)| {
                        let mut map = Map::new();
                        map.insert("type".into(), json!("array"));
                        map.insert("items".into(), items);
                        insert_some(&mut map, "minItems", min.map(Value::from));
                        insert_some(&mut map, "maxItems", max.map(Value::from));
                        Value::Object(map)
                    }),
                (
                    prop::sample::select(&["allOf", "anyOf", "oneOf"][..]),
                    prop::collection::vec(inner.clone(), 1..3),
                )
                    .prop_map(|(keyword, parts)| json!({ keyword: parts })),
                inner.prop_map(|part| json!({ "not": part })),
            ]
        })
        .boxed()
}

/// A whole schema document: a root that may `$ref` two definitions, the second of which may
/// `$ref` the first (no cycles, which `jsonschema` would follow for ever).
fn document() -> impl Strategy<Value = Value> {
    (
        schema(&[]),
        schema(&["#/$defs/d0"]),
        schema(&["#/$defs/d0", "#/$defs/d1"]),
    )
        .prop_map(|(d0, d1, root)| {
            json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "$defs": { "d0": d0, "d1": d1 },
                "allOf": [root]
            })
        })
}

fn insert_some(map: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(value) = value {
        map.insert(key.to_string(), value);
    }
}

/// What one generated case found.
#[derive(Default)]
struct Tally {
    schemas: Cell<usize>,
    compiled: Cell<usize>,
    valid: Cell<usize>,
    invalid: Cell<usize>,
}

fn bump(cell: &Cell<usize>) {
    cell.set(cell.get() + 1);
}

#[test]
fn the_fast_validator_accepts_what_jsonschema_accepts() {
    let tally = Tally::default();
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    });
    let cases = (
        document(),
        prop::collection::vec(value(), VALUES_PER_SCHEMA),
    );
    let result = runner.run(&cases, |(schema, values)| {
        judge(&schema, &values, &tally)
            .map_err(|message| TestCaseError::fail(format!("{message}\nschema: {schema}")))
    });
    if let Err(error) = result {
        panic!("{error}");
    }
    let (schemas, compiled) = (tally.schemas.get(), tally.compiled.get());
    let (valid, invalid) = (tally.valid.get(), tally.invalid.get());
    eprintln!(
        "validator law: {schemas} schemas ({compiled} compiled to shapes), {valid} valid and \
         {invalid} invalid values, judged by shapes, by text and by value"
    );
    assert!(
        compiled * 20 >= schemas * 19,
        "only {compiled} of {schemas} schemas compiled"
    );
    let judged = valid + invalid;
    assert!(
        valid * 5 >= judged && invalid * 5 >= judged,
        "{valid} valid, {invalid} invalid"
    );
}

/// Checks the schema's mapping and judges each value the three ways.
fn judge(schema: &Value, values: &[Value], tally: &Tally) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let write = |name: &str, text: String| std::fs::write(dir.path().join(name), text);
    let wrapper = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "stage": {"type": "string", "enum": ["go"]},
            "datum": {"$ref": "group.json"}
        },
        "required": ["stage", "datum"]
    });
    let target = json!({"type": "object", "properties": {"stage": {"type": "string"}}});
    write("group.json", schema.to_string())
        .and_then(|()| write("deal.schema.json", wrapper.to_string()))
        .and_then(|()| write("target.schema.json", target.to_string()))
        .and_then(|()| write("case.map", MAPPING.to_string()))
        .map_err(|e| e.to_string())?;
    let mut sources = SourceMap::new();
    let output = mapctl::check::check_file_with(
        &mut sources,
        &dir.path().join("case.map"),
        &Limits::default(),
        MetaCheck::Always,
    )
    .map_err(|e| e.0)?;
    if output.program.is_none() {
        return Err(format!(
            "check refused the schema: {:?}",
            output.diagnostics
        ));
    }
    let group = dir.path().join("group.json");
    let reference = SchemaValidator::build(&output.schemas, &group)?;
    let mut shapes = Shapes::new();
    let fast = RecordValidator::build(&output.schemas, &group, &mut shapes)?;
    bump(&tally.schemas);
    if fast.shape().is_some() {
        bump(&tally.compiled);
    }
    let mapping =
        Mapping::from_checked(sources, output, &LoadOptions::default()).map_err(|e| e.message())?;
    for value in values.iter().chain(&picked(schema)) {
        let expected = reference.is_valid(value);
        bump(if expected {
            &tally.valid
        } else {
            &tally.invalid
        });
        let by_shapes = fast.violations(&shapes, value).is_empty();
        let deal = json!({"stage": "go", "datum": value});
        let by_text = written(&mapping, Deal::Text(deal.to_string().as_bytes()))?;
        let by_value = written(&mapping, Deal::Value(&deal))?;
        if (by_shapes, by_text, by_value) != (expected, expected, expected) {
            return Err(format!(
                "value {value}: jsonschema says valid = {expected}; shapes {by_shapes}, \
                 text {by_text}, value {by_value}"
            ));
        }
    }
    Ok(())
}

/// Values picked for the schema: those of its `enum`s and `const`s, each also with its whole
/// numbers written the other way (`1` as `1.0` and back: equal to JSON Schema, different to
/// serde); and when it checks strings by format or pattern, every shared string.
fn picked(schema: &Value) -> Vec<Value> {
    let mut found = Vec::new();
    let mut pending = vec![schema];
    while let Some(next) = pending.pop() {
        match next {
            Value::Object(map) => {
                if let Some(Value::Array(values)) = map.get("enum") {
                    found.extend(values.iter().cloned());
                }
                found.extend(map.get("const").cloned());
                pending.extend(map.values());
            }
            Value::Array(items) => pending.extend(items),
            _ => {}
        }
    }
    let flipped: Vec<Value> = found.iter().map(flip_numbers).collect();
    found.extend(flipped);
    let text = schema.to_string();
    if text.contains("\"format\"") || text.contains("\"pattern\"") {
        // Every shared string, bare, as each member of an object and as an item.
        for s in STRINGS {
            found.push(json!(s));
            found.push(json!({"a": s, "b": s, "c": s}));
            found.push(json!([s]));
        }
    }
    found
}

fn flip_numbers(value: &Value) -> Value {
    match value {
        Value::Number(n) if n.is_f64() => match n.as_f64() {
            Some(f) if f.fract() == 0.0 => Value::from(f as i64),
            _ => value.clone(),
        },
        Value::Number(n) => n.as_i64().map_or(value.clone(), |i| Value::from(i as f64)),
        Value::Array(items) => Value::Array(items.iter().map(flip_numbers).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), flip_numbers(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// True when the deal was written, false when it was rejected for its schema (M502) only.
fn written(mapping: &Mapping, deal: Deal<'_>) -> Result<bool, String> {
    match mapping.apply(deal, None).outcome {
        Outcome::Written { .. } => Ok(true),
        Outcome::Rejected { reasons, .. } if reasons.iter().all(|r| r.code == Code::M502) => {
            Ok(false)
        }
        other => Err(format!(
            "neither written nor rejected by its schema: {other:?}"
        )),
    }
}
