//! `mapctl test`: YAML test files beside a mapping (`NAME.tests.yaml`), each case an input deal
//! and the outcome expected of it, so users pin a mapping's behaviour in CI like dbt tests.
//!
//! A file names its mapping, optional clients and reference files, and its cases. A case's input
//! is a file or an inline object, optionally changed by a JSON merge patch (`with:`), and its
//! expectation is an exact or partial output, a template, a client match, rejection codes, or a
//! skip. After all cases, the engine reports the require rules, select branches and table rows no
//! case exercised.

pub mod diff;
pub mod record;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

use crate::engine::{ClientDirectory, Deal, LoadOptions, Mapping, Outcome};
use crate::io::input::{self, InputLimits};

/// A tests file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TestFile {
    mapping: Option<String>,
    clients: Option<String>,
    #[serde(default)]
    refs: BTreeMap<String, String>,
    /// Paths the mapping must list under `never transfer`; no case's output may contain their values.
    #[serde(default)]
    never_transfer: Vec<String>,
    /// The handoff checklist the mapping must declare, exactly.
    checklist: Option<Vec<String>>,
    cases: Vec<Case>,
}

impl TestFile {
    /// Writes the numbers YAML gave as floats in their shortest form (`48500.0` as `48500`).
    fn tidy_numbers(&mut self) {
        use crate::value::number::tidy_floats;
        for case in &mut self.cases {
            tidy_floats(&mut case.input);
            let expect = &mut case.expect;
            let values = [
                &mut case.with,
                &mut expect.output,
                &mut expect.output_includes,
                &mut expect.template,
                &mut expect.client,
            ];
            values.into_iter().flatten().for_each(tidy_floats);
        }
    }
}

/// One case as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    input: Value,
    #[serde(default)]
    with: Option<Value>,
    #[serde(default)]
    direction: Option<String>,
    expect: Expect,
}

/// What a case expects.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    output: Option<Value>,
    output_includes: Option<Value>,
    output_file: Option<String>,
    template: Option<Value>,
    client: Option<Value>,
    rejected: Option<Vec<String>>,
    reasons_include: Option<Vec<String>>,
    skipped: Option<bool>,
}

/// The result of one case.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseResult {
    /// The case's name.
    pub name: String,
    /// What differed; empty when it passed.
    pub failures: Vec<String>,
    /// True when `--update` rewrote its expected output.
    pub updated: bool,
}

/// The result of one tests file.
#[derive(Debug, Clone)]
pub struct SuiteResult {
    /// The tests file.
    pub file: PathBuf,
    /// The mapping it tests.
    pub mapping: PathBuf,
    /// Each case, in order.
    pub cases: Vec<CaseResult>,
    /// Require rules, select branches and table rows no case exercised.
    pub unexercised: Vec<String>,
    /// SHA-256 of the mapping's text, as tested (hex).
    pub mapping_sha256: String,
}

/// Runs every case of a tests file. With `update`, exact expected outputs that differ are
/// rewritten with the actual ones (inline `output:` rewrites the YAML file, without its comments).
pub fn run_file(path: &Path, update: bool) -> Result<SuiteResult, String> {
    let text = crate::io::files::read_utf8_file(path, 64 << 20)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    if let Some(at) = crate::io::depth::yaml_too_deep(&text) {
        let line = text[..at].matches('\n').count() + 1;
        return Err(format!(
            "`{}` is not a valid tests file (M609): it nests deeper than {} levels at line {line}",
            path.display(),
            crate::io::depth::MAX_DEPTH
        ));
    }
    let mut file: TestFile = serde_yaml::from_str(&text)
        .map_err(|e| format!("`{}` is not a valid tests file: {e}", path.display()))?;
    file.tidy_numbers();
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mapping = dir.join(
        file.mapping
            .clone()
            .unwrap_or_else(|| default_mapping_name(path)),
    );
    let options = LoadOptions {
        references: file
            .refs
            .iter()
            .map(|(name, reference)| (name.clone(), dir.join(reference)))
            .collect(),
        allow_new_clients: true,
        validate_schemas: true,
    };
    let engine = Mapping::load(&mapping, &options).map_err(|error| match error {
        crate::engine::LoadError::Invalid(invalid) => format!(
            "`{}` has {} check error(s); run `mapctl check` on it",
            invalid.path.display(),
            invalid.errors.len()
        ),
        crate::engine::LoadError::CannotRun(message) => message,
    })?;
    let clients = match &file.clients {
        Some(clients) => Some(read_values(&dir.join(clients))?),
        None => None,
    };
    let mut results = Vec::with_capacity(file.cases.len());
    let mut rewritten: Vec<(usize, Value)> = Vec::new();
    for (index, case) in file.cases.iter().enumerate() {
        let mut directory = match &clients {
            Some(records) => Some(
                ClientDirectory::new(records).map_err(|e| format!("`{}`: {e}", path.display()))?,
            ),
            None => None,
        };
        let result = run_case(
            &engine,
            &dir,
            case,
            directory.as_mut(),
            !file.never_transfer.is_empty(),
        );
        let (mut result, actual) = match result {
            Ok(found) => found,
            Err(message) => (
                CaseResult {
                    name: case.name.clone(),
                    failures: vec![message],
                    updated: false,
                },
                None,
            ),
        };
        if update
            && !result.failures.is_empty()
            && let Some(actual) = actual
            && (case.expect.output.is_some() || case.expect.output_file.is_some())
        {
            match &case.expect.output_file {
                Some(file) => write_json(&dir.join(file), &actual)?,
                None => rewritten.push((index, actual)),
            }
            result.failures.clear();
            result.updated = true;
        }
        results.push(result);
    }
    if !rewritten.is_empty() {
        rewrite_outputs(path, &text, &rewritten)?;
    }
    let declared = declarations(&engine, &file);
    if !declared.failures.is_empty() || !file.never_transfer.is_empty() || file.checklist.is_some()
    {
        results.insert(0, declared);
    }
    Ok(SuiteResult {
        file: path.to_path_buf(),
        mapping,
        cases: results,
        unexercised: engine.unexercised(),
        mapping_sha256: record::sha256_hex(engine.text().as_bytes()),
    })
}

/// The file-level expectations: never-transfer declarations and the checklist.
fn declarations(engine: &Mapping, file: &TestFile) -> CaseResult {
    let program = engine.program();
    let mut failures = Vec::new();
    for path in &file.never_transfer {
        if !program.never_transfer.iter().any(|p| &p.display == path) {
            failures.push(format!("`{path}` is not listed under `never transfer`"));
        }
    }
    if let Some(checklist) = &file.checklist
        && checklist != &program.checklist
    {
        failures.push(format!(
            "checklist is {:?}, expected {checklist:?}",
            program.checklist
        ));
    }
    CaseResult {
        name: "declared never-transfer fields and checklist".to_string(),
        failures,
        updated: false,
    }
}

/// `hubspot_to_accelo.tests.yaml` tests `hubspot_to_accelo.map`.
fn default_mapping_name(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name
        .strip_suffix(".tests.yaml")
        .or_else(|| name.strip_suffix(".tests.yml"))
        .unwrap_or(&name);
    format!("{stem}.map")
}

fn read_values(path: &Path) -> Result<Vec<Value>, String> {
    let file = std::fs::File::open(path).map_err(|e| {
        format!(
            "cannot read `{}`: {}",
            path.display(),
            crate::io::files::io_reason(&e)
        )
    })?;
    input::read_all(std::io::BufReader::new(file), InputLimits::default())
        .map_err(|e| format!("`{}`: {e}", path.display()))
}

/// Runs one case; returns its result and the actual output (for `--update`).
fn run_case(
    engine: &Mapping,
    dir: &Path,
    case: &Case,
    clients: Option<&mut ClientDirectory>,
    check_leaks: bool,
) -> Result<(CaseResult, Option<Value>), String> {
    let mut deal = match &case.input {
        Value::String(file) => read_json(&dir.join(file))?,
        inline => inline.clone(),
    };
    if let Some(patch) = &case.with {
        merge_patch(&mut deal, patch);
    }
    let outcome = match case.direction.as_deref() {
        None | Some("forward") => engine.apply(Deal::Value(&deal), clients).outcome,
        Some("back") => engine.sync_back(Deal::Value(&deal)).outcome,
        Some(other) => return Err(format!("direction `{other}` is not `forward` or `back`")),
    };
    let expected_output = match &case.expect.output_file {
        Some(file) => Some(read_json(&dir.join(file)).unwrap_or(Value::Null)),
        None => case.expect.output.clone(),
    };
    let mut failures = compare(&case.expect, expected_output.as_ref(), &outcome);
    if check_leaks && let Outcome::Written { record, client, .. } = &outcome {
        let shown = format!(
            "{record}{}",
            client
                .as_ref()
                .map(|c| c.to_json().to_string())
                .unwrap_or_default()
        );
        for secret in engine.protected_values(&deal) {
            if shown.contains(&secret) {
                failures.push(format!(
                    "never-transfer data reached the output: {secret:?}"
                ));
            }
        }
    }
    let actual = match &outcome {
        Outcome::Written { record, .. } => Some(record.to_value()),
        _ => None,
    };
    Ok((
        CaseResult {
            name: case.name.clone(),
            failures,
            updated: false,
        },
        actual,
    ))
}

/// Everything that differs between the expectation and the outcome.
fn compare(expect: &Expect, output: Option<&Value>, outcome: &Outcome) -> Vec<String> {
    let mut failures = Vec::new();
    match outcome {
        Outcome::Written {
            record,
            template,
            client,
            ..
        } => {
            let record = &record.to_value();
            if expect.rejected.is_some() || expect.skipped == Some(true) {
                failures.push(format!(
                    "expected {}, but a record was written: {}",
                    expected_kind(expect),
                    short(record)
                ));
                return failures;
            }
            if let Some(output) = output {
                failures.extend(
                    diff::exact(output, record)
                        .into_iter()
                        .map(|l| format!("output {l}")),
                );
            }
            if let Some(includes) = &expect.output_includes {
                failures.extend(
                    diff::subset(includes, record)
                        .into_iter()
                        .map(|l| format!("output {l}")),
                );
            }
            if let Some(want) = &expect.template {
                let got = template.clone().unwrap_or(Value::Null);
                failures.extend(
                    diff::exact(want, &got)
                        .into_iter()
                        .map(|l| format!("template {l}")),
                );
            }
            if let Some(want) = &expect.client {
                let got = client.as_ref().map_or(Value::Null, |c| c.to_json());
                failures.extend(
                    diff::subset(want, &got)
                        .into_iter()
                        .map(|l| format!("client {l}")),
                );
            }
        }
        Outcome::Skipped(reason) => {
            if expect.skipped != Some(true) {
                failures.push(format!(
                    "expected {}, but the deal was skipped: {} {}",
                    expected_kind(expect),
                    reason.code,
                    reason.message
                ));
            }
            for text in expect.reasons_include.iter().flatten() {
                if !reason.message.contains(text.as_str()) {
                    failures.push(format!(
                        "the skip reason does not mention \"{text}\": {}",
                        reason.message
                    ));
                }
            }
        }
        Outcome::Rejected { phase, reasons } => {
            let codes: Vec<&str> = reasons.iter().map(|r| r.code.as_str()).collect();
            let described = reasons
                .iter()
                .map(|r| format!("{} {}", r.code, r.message))
                .collect::<Vec<_>>()
                .join("; ");
            match &expect.rejected {
                None => failures.push(format!(
                    "expected {}, but the deal was rejected ({}): {described}",
                    expected_kind(expect),
                    phase.as_str()
                )),
                Some(want) => {
                    let mut want_set: Vec<&str> = want.iter().map(String::as_str).collect();
                    let mut got_set = codes.clone();
                    want_set.sort_unstable();
                    want_set.dedup();
                    got_set.sort_unstable();
                    got_set.dedup();
                    if want_set != got_set {
                        failures.push(format!(
                            "expected rejection codes {want_set:?}, got {got_set:?}: {described}"
                        ));
                    }
                }
            }
            for text in expect.reasons_include.iter().flatten() {
                if !reasons.iter().any(|r| r.message.contains(text.as_str())) {
                    failures.push(format!(
                        "no rejection reason mentions \"{text}\": {described}"
                    ));
                }
            }
        }
    }
    failures
}

fn expected_kind(expect: &Expect) -> String {
    match (&expect.rejected, expect.skipped) {
        (Some(codes), _) => format!("a rejection with {}", codes.join(", ")),
        (None, Some(true)) => "a skip".to_string(),
        _ => "a record".to_string(),
    }
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.len() > 200 {
        format!(
            "{}...",
            &text[..crate::source::clamp_to_char_boundary(&text, 197)]
        )
    } else {
        text
    }
}

fn read_json(path: &Path) -> Result<Value, String> {
    let text = crate::io::files::read_utf8_file(path, 64 << 20)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("`{}` is not valid JSON: {e}", path.display()))
}

fn write_json(path: &Path, value: &Value) -> Result<(), String> {
    let text = serde_json::to_string_pretty(value).unwrap_or_default() + "\n";
    std::fs::write(path, text).map_err(|e| format!("cannot write `{}`: {e}", path.display()))
}

/// Replaces the inline `expect.output` of the given cases and writes the file back.
fn rewrite_outputs(path: &Path, text: &str, outputs: &[(usize, Value)]) -> Result<(), String> {
    let mut document: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| e.to_string())?;
    for (index, output) in outputs {
        let yaml = crate::value::number::to_yaml(output);
        if let Some(expect) = document
            .get_mut("cases")
            .and_then(|cases| cases.get_mut(*index))
            .and_then(|case| case.get_mut("expect"))
            .and_then(serde_yaml::Value::as_mapping_mut)
        {
            expect.insert(serde_yaml::Value::from("output"), yaml);
        }
    }
    let updated = serde_yaml::to_string(&document).map_err(|e| e.to_string())?;
    std::fs::write(path, updated).map_err(|e| format!("cannot write `{}`: {e}", path.display()))
}

/// Applies a JSON merge patch (RFC 7386): objects merge, `null` deletes, anything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(changes) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(serde_json::Map::new());
    }
    let Value::Object(map) = target else { return };
    for (key, change) in changes {
        if change.is_null() {
            map.shift_remove(key);
        } else {
            merge_patch(map.entry(key.clone()).or_insert(Value::Null), change);
        }
    }
}

/// The tests files named by `paths` (folders searched for `*.tests.yaml`), sorted.
pub fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let roots = if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths.to_vec()
    };
    let mut files = Vec::new();
    for root in &roots {
        let metadata = std::fs::metadata(root).map_err(|e| {
            format!(
                "cannot read `{}`: {}",
                root.display(),
                crate::io::files::io_reason(&e)
            )
        })?;
        if metadata.is_dir() {
            find(root, &mut files, 0);
        } else {
            files.push(root.clone());
        }
    }
    files.sort();
    files.dedup();
    Ok(files)
}

fn find(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() && depth < 32 && !name.starts_with('.') && name != "target" {
            find(&path, out, depth + 1);
        } else if kind.is_file() && (name.ends_with(".tests.yaml") || name.ends_with(".tests.yml"))
        {
            out.push(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patches_follow_rfc_7386() {
        let mut deal = json!({"a": {"b": 1, "c": 2}, "d": [1]});
        merge_patch(&mut deal, &json!({"a": {"b": null, "e": 3}, "d": [2]}));
        assert_eq!(deal, json!({"a": {"c": 2, "e": 3}, "d": [2]}));
    }

    #[test]
    fn tests_files_name_their_mapping_by_default() {
        assert_eq!(
            default_mapping_name(Path::new("m/hubspot_to_accelo.tests.yaml")),
            "hubspot_to_accelo.map"
        );
    }
}
