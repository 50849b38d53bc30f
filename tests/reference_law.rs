//! The reference law: the fast engine (`engine::Mapping::apply` on the deal's text, as `apply`
//! runs it: streaming reader, slots, compiled shapes and layouts) and the reference interpreter
//! (`mapctl::reference`: `serde_json` trees, the `jsonschema` crate) give every deal the same
//! outcome, to the byte: the same record text, template, client match and branches, or the same
//! skip, or the same rejection phase with the same reasons (code, message, field, value, rule).
//!
//! Held on every case of every shipped suite, every deal of every golden apply case, deals
//! shaped like the reference benchmark's, 14,850 generated deals (most of them broken in some
//! way) across the shipped mappings, a golden case's mapping, one whose schema the fast
//! validator does not compile, a mapping with a bit of everything run with and without its
//! never-transfer fields, and the edge-case mappings of `tests/support/edges/`
//! (`tests/support/targets.rs`), and on the edge cases themselves: the deals of every
//! difference fixed so far and those found beside them, as text and parsed. Any difference
//! fails, showing the mapping, the deal and both outcomes. A known defect of the fast engine
//! may be listed in [`KNOWN`] with a minimal deal until it is fixed (`known_differences_still_differ`
//! keeps the list true: an entry whose deal no longer differs must be removed); the list is
//! empty.

#[path = "support/deals.rs"]
mod deals;
#[path = "support/known.rs"]
mod known;
#[path = "support/targets.rs"]
mod targets;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mapctl::check::check_file;
use mapctl::engine::{ClientDirectory, Deal, Direction, LoadOptions, Mapping};
use mapctl::io::input::{self, InputLimits, Payload};
use mapctl::reference::{Interpreter, Outcome, from_fast};
use mapctl::source::SourceMap;
use mapctl::syntax::Limits;
use serde_json::Value;

use deals::Rng;
use known::KNOWN;
use targets::GENERATED;

/// One mapping, loaded twice: as the fast engine and as the reference interpreter.
struct Pair {
    mapping: PathBuf,
    fast: Mapping,
    reference: Interpreter,
    clients: Option<ClientDirectory>,
}

/// What one side said about one deal.
type Said = (Option<String>, Outcome);

fn pair(
    mapping: &Path,
    refs: &[(&str, PathBuf)],
    clients: Option<&Path>,
    new_clients: bool,
) -> Pair {
    let mut sources = SourceMap::new();
    let output = check_file(&mut sources, mapping, &Limits::default()).expect("readable");
    let program = output.program.expect("the mapping checks clean");
    let options = LoadOptions {
        references: refs
            .iter()
            .map(|(name, file)| (name.to_string(), file.clone()))
            .collect(),
        allow_new_clients: new_clients,
        validate_schemas: true,
    };
    let fast = Mapping::load(mapping, &options).expect("the mapping loads");
    let mut reference = Interpreter::new(program, &output.schemas).expect("interpreter");
    reference.allow_new_clients = new_clients;
    for (name, file) in refs {
        reference
            .set_reference(name, read_records(file))
            .expect("reference file");
    }
    let clients = clients.map(|file| ClientDirectory::new(&read_records(file)).expect("clients"));
    Pair {
        mapping: mapping.to_path_buf(),
        fast,
        reference,
        clients,
    }
}

fn read_records(path: &Path) -> Vec<Value> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let ndjson = path.extension().is_some_and(|e| e == "ndjson");
    let limits = InputLimits {
        ndjson,
        ..InputLimits::default()
    };
    input::read_all(std::io::BufReader::new(file), limits).expect("records")
}

/// The direction a law case runs in.
fn direction(back: bool) -> Direction {
    if back {
        Direction::Back
    } else {
        Direction::Forward
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The law's findings over a run: counts by source, known differences by name, and the
/// unexplained differences in full.
#[derive(Default)]
struct Findings {
    compared: BTreeMap<&'static str, usize>,
    /// The reference's outcomes by kind (written, skipped, rejected at a phase with codes).
    outcomes: BTreeMap<String, usize>,
    known: BTreeMap<&'static str, usize>,
    /// Unexplained differences by kind: how many, and the one with the shortest deal.
    unexplained: BTreeMap<String, (usize, usize, String)>,
}

impl Findings {
    /// Runs one deal through both sides and records whether they agree.
    fn check(
        &mut self,
        source: &'static str,
        pair: &mut Pair,
        payload: Input<'_>,
        back: bool,
    ) -> Said {
        let mut fast_clients = pair.clients.clone();
        let mut reference_clients = pair.clients.clone();
        let fast_said = {
            let deal = match &payload {
                Input::Text(text) => Deal::Text(text),
                Input::Value(value) => Deal::Value(value),
            };
            let applied = pair
                .fast
                .apply_to(deal, fast_clients.as_mut(), direction(back));
            (applied.deal_id, from_fast(&applied.outcome))
        };
        let reference_said = match &payload {
            Input::Text(text) => pair
                .reference
                .run_text(text, reference_clients.as_mut(), back),
            Input::Value(value) => {
                pair.reference
                    .run_value(value, reference_clients.as_mut(), back)
            }
        };
        *self.compared.entry(source).or_default() += 1;
        let phase = match &reference_said.1 {
            Outcome::Rejected { phase, reasons } => format!(
                "{phase} {}",
                reasons.first().map_or("", |r| r.code.as_str())
            ),
            other => kind(other),
        };
        *self.outcomes.entry(phase).or_default() += 1;
        if fast_said == reference_said {
            // The batch goes on with the directory as both left it.
            pair.clients = fast_clients;
            return fast_said;
        }
        let mut repaired = fast_said.clone();
        let repairs: Vec<&'static str> = KNOWN
            .iter()
            .filter(|known| (known.repair)(&mut repaired, &reference_said))
            .map(|known| known.name)
            .collect();
        if repaired == reference_said {
            for name in repairs {
                *self.known.entry(name).or_default() += 1;
            }
            return fast_said;
        }
        let kind = format!(
            "fast {} / reference {}",
            kind(&fast_said.1),
            kind(&reference_said.1)
        );
        let size = match &payload {
            Input::Text(text) => text.len(),
            Input::Value(value) => value.to_string().len(),
        };
        let entry = self
            .unexplained
            .entry(kind)
            .or_insert((0, usize::MAX, String::new()));
        entry.0 += 1;
        if size < entry.1 {
            entry.1 = size;
            entry.2 = describe(source, pair, &payload, back, &fast_said, &reference_said);
        }
        fast_said
    }

    fn assert_lawful(&self, at_least: usize) {
        let total: usize = self.compared.values().sum();
        eprintln!("compared: {:?} (total {total})", self.compared);
        eprintln!("outcomes: {:?}", self.outcomes);
        eprintln!("known differences: {:?}", self.known);
        let shown: Vec<String> = self
            .unexplained
            .iter()
            .map(|(kind, (count, _, example))| {
                format!("=== {count} deal(s): {kind}; the shortest:\n{example}")
            })
            .collect();
        assert!(
            self.unexplained.is_empty(),
            "deals got different outcomes from the fast engine and the reference interpreter:\n\n{}",
            shown.join("\n\n")
        );
        assert!(total >= at_least, "only {total} deals compared");
    }
}

/// An outcome's kind: written, skipped, or the phase and codes of a rejection.
fn kind(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Written { .. } => "written".to_string(),
        Outcome::Skipped(_) => "skipped".to_string(),
        Outcome::Rejected { phase, reasons } => {
            let codes: Vec<&str> = reasons.iter().map(|r| r.code.as_str()).collect();
            format!("rejected at {phase} {codes:?}")
        }
    }
}

/// A deal as given to both sides.
enum Input<'a> {
    Text(&'a [u8]),
    Value(&'a Value),
}

fn describe(
    source: &str,
    pair: &Pair,
    payload: &Input<'_>,
    back: bool,
    fast: &Said,
    reference: &Said,
) -> String {
    let deal = match payload {
        Input::Text(text) => String::from_utf8_lossy(text).into_owned(),
        Input::Value(value) => format!("(parsed) {value}"),
    };
    format!(
        "--- {source}: mapping {}{}\n--- deal\n{deal}\n--- fast engine\n{fast:#?}\n--- reference interpreter\n{reference:#?}",
        pair.mapping.display(),
        if back { " (sync back)" } else { "" },
    )
}

/// The shipped suites and the language acceptance suites (`tests/language/`: named values,
/// arithmetic, rounding modes): each case's deal (its `with:` applied), as `mapctl test` builds
/// it, given to both sides as text, with a fresh client directory per case and records for new
/// clients.
fn shipped_suites(findings: &mut Findings) {
    let mut files: Vec<PathBuf> = ["mappings", "tests/language"]
        .iter()
        .flat_map(|dir| std::fs::read_dir(root().join(dir)).expect("suite folder"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".tests.yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 4, "shipped suites: {files:?}");
    for file in files {
        let folder = file.parent().expect("a suite's folder").to_path_buf();
        let suite: Value =
            serde_yaml::from_str(&std::fs::read_to_string(&file).expect("suite")).expect("yaml");
        let mapping = folder.join(suite["mapping"].as_str().expect("mapping"));
        let clients = suite["clients"].as_str().map(|c| folder.join(c));
        let refs: Vec<(&str, PathBuf)> = suite["refs"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.as_str(), folder.join(v.as_str().unwrap_or_default())))
                    .collect()
            })
            .unwrap_or_default();
        let mut pair = pair(&mapping, &refs, clients.as_deref(), true);
        let base_clients = pair.clients.clone();
        for case in suite["cases"].as_array().expect("cases") {
            let mut deal = match &case["input"] {
                Value::String(path) => serde_json::from_str(
                    &std::fs::read_to_string(folder.join(path)).expect("input"),
                )
                .expect("json"),
                inline => inline.clone(),
            };
            if !case["with"].is_null() {
                mapctl::suite::merge_patch(&mut deal, &case["with"]);
            }
            pair.clients = base_clients.clone();
            let text = serde_json::to_vec(&deal).expect("json");
            let back = case["direction"].as_str() == Some("back");
            findings.check("suites", &mut pair, Input::Text(&text), back);
        }
    }
}

/// The golden apply cases that run a mapping: their deals, read as `apply` reads its inputs.
fn golden_cases(findings: &mut Findings) {
    let folder = root().join("tests/apply");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&folder)
        .expect("tests/apply")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("cmd").is_file())
        .collect();
    cases.sort();
    let mut ran = 0;
    for case in cases {
        let Some(run) = GoldenRun::read(&case) else {
            continue;
        };
        let mut sources = SourceMap::new();
        let checks = check_file(&mut sources, &run.mapping, &Limits::default())
            .is_ok_and(|o| o.program.is_some());
        if !checks {
            continue;
        }
        ran += 1;
        let refs: Vec<(&str, PathBuf)> = run
            .refs
            .iter()
            .map(|(n, f)| (n.as_str(), f.clone()))
            .collect();
        let mut pair = pair(&run.mapping, &refs, run.clients.as_deref(), run.envelope);
        for path in &run.inputs {
            let limits = InputLimits {
                ndjson: path
                    .extension()
                    .is_some_and(|e| e == "ndjson" || e == "jsonl"),
                max_line_bytes: run.max_line_bytes,
                ..InputLimits::default()
            };
            let file =
                std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let read = input::for_each_item(std::io::BufReader::new(file), limits, |_, item| {
                match &item.value {
                    Ok(Payload::Text(text)) => {
                        findings.check("golden", &mut pair, Input::Text(text), run.back);
                    }
                    Ok(Payload::Parsed(value)) => {
                        findings.check("golden", &mut pair, Input::Value(value), run.back);
                    }
                    Err(_) => {}
                }
                std::ops::ControlFlow::Continue(())
            });
            // The golden case of an empty input (M521) has no deal to compare.
            if let Err(error) = read {
                assert!(input::is_empty_input(&error), "input read: {error:?}");
            }
        }
    }
    assert!(ran >= 20, "only {ran} golden cases ran a mapping");
}

/// What a golden case's `cmd` runs: the mapping, its inputs and the options that change outcomes.
struct GoldenRun {
    mapping: PathBuf,
    inputs: Vec<PathBuf>,
    clients: Option<PathBuf>,
    refs: Vec<(String, PathBuf)>,
    envelope: bool,
    back: bool,
    max_line_bytes: usize,
}

impl GoldenRun {
    fn read(case: &Path) -> Option<GoldenRun> {
        let cmd = std::fs::read_to_string(case.join("cmd")).ok()?;
        let mut words = cmd.split_whitespace();
        let command = words.next()?;
        let mut run = GoldenRun {
            mapping: PathBuf::new(),
            inputs: Vec::new(),
            clients: None,
            refs: Vec::new(),
            envelope: false,
            back: false,
            max_line_bytes: InputLimits::default().max_line_bytes,
        };
        let mut positional = Vec::new();
        while let Some(word) = words.next() {
            match word {
                "--envelope" => run.envelope = true,
                "--plan" => {}
                "--clients" => run.clients = words.next().map(|w| case.join(w)),
                "--deals" => positional.push(words.next()?.to_string()),
                "--direction" => run.back = words.next() == Some("back"),
                "--max-line-bytes" => run.max_line_bytes = words.next()?.parse().ok()?,
                "--ref" => {
                    let (name, file) = words.next()?.split_once('=')?;
                    run.refs.push((name.to_string(), case.join(file)));
                }
                flag if flag.starts_with("--") => {
                    words.next();
                }
                other => positional.push(other.to_string()),
            }
        }
        if !matches!(command, "apply" | "reconcile") || positional.is_empty() {
            return None;
        }
        run.mapping = case.join(positional.remove(0));
        run.inputs = positional
            .iter()
            .map(|p| {
                if p == "-" {
                    case.join("stdin")
                } else {
                    case.join(p)
                }
            })
            .collect();
        Some(run)
    }
}

/// The reference benchmark job on deals shaped like its generator's, and on text variants.
fn benchmark_job(findings: &mut Findings, count: u64) {
    let mut pair = pair(&root().join("bench/reference.map"), &[], None, false);
    let mut rng = Rng::new(42);
    for index in 0..count {
        let deal = deals::benchmark_deal(&mut rng, index);
        let text = if rng.chance(0.3) {
            deals::mutated(&mut rng, &deal, &Vec::new())
        } else {
            serde_json::to_vec(&deal).expect("json")
        };
        findings.check("benchmark", &mut pair, Input::Text(&text), false);
    }
}

/// Generated deals: `per_mapping` for each of [`GENERATED`], half with records for new clients
/// allowed; each written record is also run back through `sync back`, sometimes changed.
fn generated_deals(findings: &mut Findings, per_mapping: usize) {
    let mut rng = Rng::new(2026);
    for generated in GENERATED {
        let folder = tempfile::tempdir().expect("temp dir");
        let mapping = match generated.streamed {
            true => without_never_transfer(&root().join(generated.mapping), folder.path()),
            false => root().join(generated.mapping),
        };
        let refs: Vec<(&str, PathBuf)> = generated
            .refs
            .iter()
            .map(|(n, f)| (*n, root().join(f)))
            .collect();
        let clients = generated.clients.map(|c| root().join(c));
        let mut pairs =
            [false, true].map(|new_clients| pair(&mapping, &refs, clients.as_deref(), new_clients));
        let bases: Vec<Value> = generated
            .bases
            .iter()
            .flat_map(|b| read_records(&root().join(b)))
            .collect();
        let focus: deals::Focus = generated
            .focus
            .iter()
            .map(|(pointer, values)| {
                (
                    pointer.to_string(),
                    serde_json::from_str(values).expect("focus values"),
                )
            })
            .collect();
        for index in 0..per_mapping {
            let pair = &mut pairs[index % 2];
            let base = &bases[rng.below(bases.len())];
            let text = deals::mutated(&mut rng, base, &focus);
            let (_, outcome) = findings.check("generated", pair, Input::Text(&text), false);
            if let Outcome::Written { record, .. } = outcome {
                let back = match rng.chance(0.3) {
                    true => deals::mutated(
                        &mut rng,
                        &serde_json::from_str(&record).expect("record"),
                        &Vec::new(),
                    ),
                    false => record.into_bytes(),
                };
                findings.check("generated back", pair, Input::Text(&back), true);
            }
        }
    }
}

/// A copy of `mapping` in `folder` (its schemas beside it) without its `never transfer` block.
fn without_never_transfer(mapping: &Path, folder: &Path) -> PathBuf {
    let text = std::fs::read_to_string(mapping).expect("mapping");
    let start = text
        .find("never transfer {")
        .expect("a never transfer block");
    let end = start + text[start..].find('}').expect("its end") + 1;
    let copy = folder.join("streamed.map");
    std::fs::write(&copy, format!("{}{}", &text[..start], &text[end..])).expect("copy");
    let schemas = std::fs::read_dir(mapping.parent().expect("folder")).expect("schemas");
    for schema in schemas.filter_map(|e| e.ok().map(|e| e.path())) {
        if schema.to_string_lossy().ends_with(".schema.json") {
            std::fs::copy(&schema, folder.join(schema.file_name().expect("name"))).expect("schema");
        }
    }
    copy
}

#[test]
fn the_fast_engine_and_the_reference_interpreter_agree_on_every_shipped_case() {
    let mut findings = Findings::default();
    shipped_suites(&mut findings);
    golden_cases(&mut findings);
    benchmark_job(&mut findings, 1_000);
    findings.assert_lawful(1_100);
}

#[test]
fn the_fast_engine_and_the_reference_interpreter_agree_on_generated_deals() {
    let mut findings = Findings::default();
    generated_deals(&mut findings, 1_650);
    findings.assert_lawful(14_850);
}

/// The deals of differences the law found and the fast engine no longer shows, each with its
/// mapping: a duplicate key (worded alike whatever reads it, with whether the values differ),
/// text that is not UTF-8 before a syntax error, an array where the schema wants text, missing
/// members beside a member's failure, a schema with a keyword the reader lacks.
const FIXED: &[(&str, &[u8])] = &[
    ("bench/reference.map", br#"{"id":"1","id":"1"}"#),
    ("bench/reference.map", b"{\"id\":\"\xff\"x\"}"),
    (
        "tests/apply/target_schema_violation/mapping.map",
        br#"{"id":"a1","stage":"won","name":[1,2]}"#,
    ),
    (
        "tests/apply/target_schema_violation/mapping.map",
        br#"{"id":1}"#,
    ),
    (
        "tests/support/unsupported/mapping.map",
        br#"{"id":1,"stage":"won","name":["x"]}"#,
    ),
];

/// Edge cases (`tests/support/edges/`), each file's deals through its mappings: a bundle, wrong
/// containers, missing members and item counts, `allOf` parts on one value, more than ten
/// failures in a record, duplicate keys, text that is not UTF-8 (through the reader's shapes and
/// through `jsonschema`); and a record under `anyOf` with combinators, `$ref` beside bounds and
/// `additionalProperties: false` on its members.
const EDGES: &[(&str, &[&str])] = &[
    (
        "tests/support/edges/deals.ndjson",
        &[
            "tests/support/edges/edges.map",
            "tests/support/edges/fallback.map",
        ],
    ),
    (
        "tests/support/edges/record_deals.ndjson",
        &["tests/support/edges/record.map"],
    ),
];

#[test]
fn the_fast_engine_and_the_reference_interpreter_agree_on_edge_cases() {
    let mut findings = Findings::default();
    for (mapping, deal) in FIXED {
        let mut pair = pair(&root().join(mapping), &[], None, false);
        findings.check("fixed", &mut pair, Input::Text(deal), false);
    }
    for (deals, mappings) in EDGES {
        let text = std::fs::read(root().join(deals)).expect("edge deals");
        let lines: Vec<&[u8]> = text
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .collect();
        for mapping in *mappings {
            let mut pair = pair(&root().join(mapping), &[], None, false);
            for line in &lines {
                findings.check("edges", &mut pair, Input::Text(line), false);
                if let Ok(value) = serde_json::from_slice::<Value>(line) {
                    findings.check("edges parsed", &mut pair, Input::Value(&value), false);
                }
            }
        }
    }
    findings.assert_lawful(200);
}

#[test]
fn known_differences_still_differ() {
    for known in KNOWN {
        let pair = pair(&root().join(known.mapping), &[], None, false);
        let applied = pair
            .fast
            .apply_to(Deal::Text(known.deal), None, direction(known.back));
        let mut fast = (applied.deal_id, from_fast(&applied.outcome));
        let reference = pair.reference.run_text(known.deal, None, known.back);
        let shown = format!("fast: {fast:#?}\nreference: {reference:#?}");
        assert!(
            fast != reference && (known.repair)(&mut fast, &reference) && fast == reference,
            "`{}` no longer shows on its deal: if the fast engine was fixed, remove the entry\n({})\n{shown}",
            known.name,
            known.why
        );
    }
}
