//! The official JSON-Schema-Test-Suite (draft 2020-12, required tests, vendored in
//! `tests/json-schema-test-suite/`) through `check` and `apply`, as a user would run it.
//!
//! Each test group becomes a tiny mapping in a temporary folder: the group's schema is a file of
//! its own (`group.json`, so `#/$defs/...` and its `$id` mean what they mean in the suite), and
//! the source schema wraps it: a deal is `{"stage": "go", "datum": DATUM}` whose `datum` is
//! `{"$ref": "group.json"}`. The trigger always fires and the one write always succeeds, so a
//! deal whose datum is valid is written and one whose datum is invalid is rejected for its
//! schema (M502) and nothing else. Every test datum is applied twice: as text (the streaming
//! reader and its compiled shapes) and as a parsed value (the tree path).
//!
//! [`EXPECTED`] lists every test that does not agree, with the reason; the test fails when any
//! other test disagrees, and when a listed one starts agreeing, so the list stays true.

use std::path::Path;

use mapctl::diag::Code;
use mapctl::engine::{Deal, LoadError, LoadOptions, Mapping, Outcome};
use mapctl::reader::{RecordValidator, Shapes};
use mapctl::schema::MetaCheck;
use mapctl::source::SourceMap;
use mapctl::syntax::Limits;
use serde_json::{Value, json};

const SUITE: &str = "tests/json-schema-test-suite/draft2020-12";

const MAPPING: &str = "mapping suite_case

source deal = schema \"deal.schema.json\"
target out  = schema \"target.schema.json\"

trigger when deal.stage == \"go\"

map {
  out.stage = deal.stage
}
";

/// How a test (or its whole group) ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ending {
    /// The deal was written: the datum is valid.
    Written,
    /// The deal was rejected for its schema only (M502): the datum is invalid.
    Invalid,
    /// Anything else: another code, a skip.
    Other(String),
    /// `check` (or compiling the mapping) refused the group's schema, with these codes.
    Refused(String),
}

/// A test expected not to agree with the suite, how it ends instead, and why.
struct Exception {
    file: &'static str,
    group: &'static str,
    /// `None`: every test of the group.
    test: Option<&'static str>,
    /// How it ends, by text and by value alike.
    ends: Expected,
    reason: &'static str,
}

/// How an expected exception ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expected {
    /// `check` (or compiling the mapping) refuses the group's schema.
    Refused,
    /// The deal is rejected for its schema (M502) although the suite calls the datum valid.
    Rejected,
}

/// mapctl asserts `format` (a PSA that wants a date must not receive "14.03.2025"); the suite's
/// required tests treat it as an annotation. The formats whose invalid strings it tests:
const ASSERTED_FORMATS: &[&str] = &[
    "email",
    "regex",
    "ipv4",
    "ipv6",
    "hostname",
    "date",
    "date-time",
    "time",
    "json-pointer",
    "relative-json-pointer",
    "iri",
    "iri-reference",
    "uri",
    "uri-reference",
    "uri-template",
    "uuid",
    "duration",
];
const FORMAT: &str = "format is asserted (docs/guarantees.md, the format policy)";

/// Needs a document the suite serves from `http://localhost:1234` or the meta-schema from
/// `json-schema.org`: mapctl never fetches a schema (M604), and a relative reference under an
/// `http` base that names no resource of a loaded document is read as a file beside the schema,
/// which is not there (M601).
const REMOTE: &str = "needs a remote document; mapctl never fetches schemas";

/// Groups refused because they need a remote document.
const REMOTE_GROUPS: &[(&str, &str)] = &[
    ("defs.json", "validate definition against metaschema"),
    (
        "dynamicRef.json",
        "$ref and $dynamicAnchor are independent of order - $defs first",
    ),
    (
        "dynamicRef.json",
        "$ref and $dynamicAnchor are independent of order - $ref first",
    ),
    (
        "dynamicRef.json",
        "$ref to $dynamicRef finds detached $dynamicAnchor",
    ),
    (
        "dynamicRef.json",
        "strict-tree schema, guards against misspelled properties",
    ),
    (
        "dynamicRef.json",
        "tests for implementation dynamic anchor and reference link",
    ),
    ("ref.json", "remote ref, containing refs itself"),
    ("refRemote.json", "$ref to $ref finds detached $anchor"),
    (
        "refRemote.json",
        "Location-independent identifier in remote ref",
    ),
    ("refRemote.json", "anchor within remote ref"),
    ("refRemote.json", "base URI change"),
    ("refRemote.json", "base URI change - change folder"),
    (
        "refRemote.json",
        "base URI change - change folder in subschema",
    ),
    ("refRemote.json", "fragment within remote ref"),
    ("refRemote.json", "ref within remote ref"),
    ("refRemote.json", "remote HTTP ref with different $id"),
    ("refRemote.json", "remote HTTP ref with different URN $id"),
    ("refRemote.json", "remote HTTP ref with nested absolute ref"),
    ("refRemote.json", "remote ref"),
    ("refRemote.json", "remote ref with ref to defs"),
    (
        "refRemote.json",
        "retrieved nested refs resolve relative to their URI not $id",
    ),
    ("refRemote.json", "root ref in remote ref"),
];

/// Every expected exception.
fn expected() -> Vec<Exception> {
    let mut out: Vec<Exception> = ASSERTED_FORMATS
        .iter()
        .map(|name| Exception {
            file: "format.json",
            group: leak(format!("{name} format")),
            test: Some(leak(format!(
                "invalid {name} string is only an annotation by default"
            ))),
            ends: Expected::Rejected,
            reason: FORMAT,
        })
        .collect();
    out.extend(REMOTE_GROUPS.iter().map(|(file, group)| Exception {
        file,
        group,
        test: None,
        ends: Expected::Refused,
        reason: REMOTE,
    }));
    out.push(Exception {
        file: "vocabulary.json",
        group: "schema that uses custom metaschema with with no validation vocabulary",
        test: Some("no validation: invalid number, but it still validates"),
        ends: Expected::Rejected,
        reason: "its `$schema` is a remote meta-schema without the validation vocabulary; \
                 mapctl does not fetch it and reads the schema as 2020-12, with a warning (M606)",
    });
    out
}

fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

/// One suite test and how it ended, by text and by value.
struct Result {
    file: String,
    group: String,
    test: String,
    valid: bool,
    /// True when the source schema compiled to the reader's shapes (the fast validator).
    fast: bool,
    text: Ending,
    value: Ending,
}

#[test]
fn the_draft_2020_12_suite_agrees_through_check_and_apply() {
    let mut results = Vec::new();
    for file in suite_files() {
        let groups: Value = serde_json::from_str(&std::fs::read_to_string(&file).expect("read"))
            .expect("suite file is JSON");
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
        for group in groups.as_array().expect("a list of groups") {
            results.extend(run_group(name, group));
        }
    }
    let expected = expected();
    let mut problems = Vec::new();
    let mut seen = vec![false; expected.len()];
    let (mut agreeing, mut excepted) = (0, 0);
    for result in &results {
        let listed = expected.iter().position(|e| covers(e, result));
        match (agrees(result), listed) {
            (true, None) => agreeing += 1,
            (false, None) => problems.push(format!("disagrees: {}", describe(result))),
            (true, Some(index)) => problems.push(format!(
                "now agrees, so remove it from the expected exceptions ({}): {}",
                expected[index].reason,
                describe(result)
            )),
            (false, Some(index)) if ends_as(expected[index].ends, result) => {
                seen[index] = true;
                excepted += 1;
            }
            (false, Some(index)) => problems.push(format!(
                "expected {:?} ({}): {}",
                expected[index].ends,
                expected[index].reason,
                describe(result)
            )),
        }
    }
    for (exception, seen) in expected.iter().zip(seen) {
        if !seen {
            problems.push(format!(
                "listed but not in the suite: {} / {} / {:?}",
                exception.file, exception.group, exception.test
            ));
        }
    }
    let fast = results.iter().filter(|r| r.fast).count();
    eprintln!(
        "JSON-Schema-Test-Suite draft 2020-12 (required): {} tests, {agreeing} agree by text and \
         by value, {excepted} expected exceptions; {fast} tests read by the fast validator",
        results.len()
    );
    // The reader's own validator, not only its fallback to `jsonschema`, is held to the suite.
    assert!(
        fast * 2 > results.len(),
        "only {fast} tests used the fast validator"
    );
    assert!(
        problems.is_empty(),
        "{} unexpected result(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert_eq!(agreeing + excepted, results.len());
}

fn ends_as(expected: Expected, result: &Result) -> bool {
    match expected {
        Expected::Refused => {
            matches!(result.text, Ending::Refused(_)) && matches!(result.value, Ending::Refused(_))
        }
        Expected::Rejected => result.text == Ending::Invalid && result.value == Ending::Invalid,
    }
}

fn suite_files() -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(SUITE);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("the vendored suite")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 40, "the suite has {} files", files.len());
    files
}

fn agrees(result: &Result) -> bool {
    let expected = if result.valid {
        Ending::Written
    } else {
        Ending::Invalid
    };
    result.text == expected && result.value == expected
}

fn covers(exception: &Exception, result: &Result) -> bool {
    exception.file == result.file
        && exception.group == result.group
        && exception.test.is_none_or(|t| t == result.test)
}

fn describe(result: &Result) -> String {
    format!(
        "{} / {} / {} (valid: {}): as text {:?}, as value {:?}",
        result.file, result.group, result.test, result.valid, result.text, result.value
    )
}

/// Checks the group's mapping and applies it to each of its tests.
fn run_group(file: &str, group: &Value) -> Vec<Result> {
    let description = group["description"].as_str().unwrap_or("").to_string();
    let tests = group["tests"].as_array().expect("tests");
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |name: &str, value: &Value| {
        std::fs::write(dir.path().join(name), value.to_string()).expect("write")
    };
    write("group.json", &group["schema"]);
    write(
        "deal.schema.json",
        &json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {
                "stage": {"type": "string", "enum": ["go"]},
                "datum": {"$ref": "group.json"}
            },
            "required": ["stage", "datum"]
        }),
    );
    write(
        "target.schema.json",
        &json!({
            "type": "object",
            "properties": {"stage": {"type": "string"}},
            "required": ["stage"]
        }),
    );
    std::fs::write(dir.path().join("case.map"), MAPPING).expect("write");
    let mapping = load(&dir.path().join("case.map"));
    tests
        .iter()
        .map(|test| {
            let deal = json!({"stage": "go", "datum": test["data"]});
            let (text, value) = match &mapping {
                Ok((mapping, _)) => (
                    ending(
                        mapping
                            .apply(Deal::Text(deal.to_string().as_bytes()), None)
                            .outcome,
                    ),
                    ending(mapping.apply(Deal::Value(&deal), None).outcome),
                ),
                Err(codes) => (
                    Ending::Refused(codes.clone()),
                    Ending::Refused(codes.clone()),
                ),
            };
            Result {
                file: file.to_string(),
                group: description.clone(),
                test: test["description"].as_str().unwrap_or("").to_string(),
                valid: test["valid"].as_bool().expect("valid"),
                fast: matches!(mapping, Ok((_, true))),
                text,
                value,
            }
        })
        .collect()
}

/// Checks the mapping (schemas held against their meta-schema, as `mapctl check` does) and
/// compiles it, with whether the source schema compiled to the reader's shapes (else both
/// paths validate with `jsonschema`); the codes of the errors when it is refused.
fn load(path: &Path) -> std::result::Result<(Mapping, bool), String> {
    let mut sources = SourceMap::new();
    let output =
        mapctl::check::check_file_with(&mut sources, path, &Limits::default(), MetaCheck::Always)
            .map_err(|e| e.0)?;
    let deal_schema = path.with_file_name("deal.schema.json");
    let fast = matches!(
        RecordValidator::build(&output.schemas, &deal_schema, &mut Shapes::new()),
        Ok(RecordValidator::Fast(_))
    );
    match Mapping::from_checked(sources, output, &LoadOptions::default()) {
        Ok(mapping) => Ok((mapping, fast)),
        Err(LoadError::Invalid(invalid)) => {
            let codes: Vec<String> = invalid
                .errors
                .iter()
                .map(|d| format!("{}: {}", d.code, d.message))
                .collect();
            Err(codes.join("; "))
        }
        Err(LoadError::CannotRun(message)) => Err(message),
    }
}

fn ending(outcome: Outcome) -> Ending {
    match outcome {
        Outcome::Written { .. } => Ending::Written,
        Outcome::Rejected { reasons, .. } if reasons.iter().all(|r| r.code == Code::M502) => {
            Ending::Invalid
        }
        Outcome::Rejected { reasons, .. } => Ending::Other(
            reasons
                .iter()
                .map(|r| format!("{}: {}", r.code, r.message))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        Outcome::Skipped(reason) => Ending::Other(format!("skipped: {}", reason.message)),
    }
}
