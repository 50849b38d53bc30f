//! Hostile inputs: what `mapctl apply` and `mapctl check` do with deals, mappings and schemas
//! written to break them (malformed JSON, ambiguous JSON, huge or deeply nested input, invisible
//! characters, path escapes, reference loops, alias bombs).
//!
//! Every case runs the real binary and asserts that
//! - it did not crash (no signal, no exit 101, no panic message) and did not hang (a generous hang
//!   guard kills it; elapsed time is otherwise never asserted);
//! - the exit code is one of the expected ones;
//! - stderr / the rejects file name the problem and where it is (code, line or index);
//! - for `apply`: read = written + skipped + rejected, read = the number of non-blank input lines
//!   (or array elements), the rejects file agrees with the summary line, and no never-transfer
//!   value (the `NT-SECRET-...` markers of the inputs) appears in any output.
//!
//! Small inputs are static files in `tests/hostile/` (listed in its README); large ones (100,000-deep
//! nesting, a 50 MB string, a 10 MB line, 5 MB mappings, a 20,000-deal batch) are generated at run
//! time into a temporary folder. Every finding of the first hostile review is fixed and its test
//! runs by default.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

#[path = "hostile/diagnostics.rs"]
mod diagnostics;
#[path = "hostile/inputs.rs"]
mod inputs;
#[path = "hostile/schemas.rs"]
mod schemas;

const BIN: &str = env!("CARGO_BIN_EXE_mapctl");

/// A run that has not finished by then is a hang (this is a guard, not a timing assertion).
const HANG_GUARD: Duration = Duration::from_secs(240);

/// Every never-transfer value of the inputs contains this marker.
const NT_MARKER: &str = "NT-SECRET-";

/// Output files, temporary files, terminal-safe text, input detection and envelopes.
#[path = "hostile/io.rs"]
mod io;

// ------------------------------------------------------------------------------------------------
// Running the binary
// ------------------------------------------------------------------------------------------------

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn hostile(path: &str) -> PathBuf {
    root().join("tests/hostile").join(path)
}

fn deals(name: &str) -> PathBuf {
    hostile("deals").join(name)
}

fn reference_map() -> PathBuf {
    root().join("bench/reference.map")
}

fn reference_text() -> String {
    std::fs::read_to_string(reference_map()).expect("bench/reference.map")
}

fn template_line() -> String {
    std::fs::read_to_string(deals("template.ndjson"))
        .expect("template deal")
        .trim_end()
        .to_string()
}

/// The template deal as a value.
fn template_deal() -> Value {
    serde_json::from_str(&template_line()).expect("template is JSON")
}

/// One finished run of mapctl.
struct Run {
    what: String,
    status: ExitStatus,
    stdout: Vec<u8>,
    stderr: String,
}

impl Run {
    fn code(&self) -> i32 {
        self.assert_no_crash();
        self.status.code().expect("exit code")
    }

    fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    fn assert_no_crash(&self) {
        #[cfg(unix)]
        {
            use std::os::unix::process::ExitStatusExt as _;
            if let Some(signal) = self.status.signal() {
                panic!(
                    "{}: killed by signal {signal} (crash)\nstderr tail: {}",
                    self.what,
                    tail(&self.stderr)
                );
            }
        }
        let code = self.status.code().expect("exit code");
        assert_ne!(
            code,
            101,
            "{}: exit 101 (panic)\nstderr tail: {}",
            self.what,
            tail(&self.stderr)
        );
        assert!(
            !self.stderr.contains("panicked at") && !self.stderr.contains("overflowed its stack"),
            "{}: crashed\nstderr tail: {}",
            self.what,
            tail(&self.stderr)
        );
        assert!(
            [0, 1, 2].contains(&code),
            "{}: unexpected exit code {code}\nstderr tail: {}",
            self.what,
            tail(&self.stderr)
        );
    }

    #[track_caller]
    fn assert_exit(&self, expected: &[i32]) {
        let code = self.code();
        assert!(
            expected.contains(&code),
            "{}: exit {code}, expected one of {expected:?}\nstderr tail: {}",
            self.what,
            tail(&self.stderr)
        );
    }
}

/// The last 3,000 characters of a text (for failure messages).
fn tail(text: &str) -> String {
    let count = text.chars().count();
    text.chars().skip(count.saturating_sub(3000)).collect()
}

/// Runs mapctl in `cwd` with stdout and stderr captured to files (no pipe can fill up), killing it
/// (by its own process id) when it outlives `guard`.
fn mapctl_with_guard<S: AsRef<OsStr>>(cwd: &Path, args: &[S], guard: Duration) -> Run {
    let capture = tempfile::tempdir().expect("temp dir");
    let out_path = capture.path().join("stdout");
    let err_path = capture.path().join("stderr");
    let what = format!(
        "mapctl {}",
        args.iter()
            .map(|a| {
                let s = a.as_ref().to_string_lossy();
                if s.chars().count() > 120 {
                    format!("{}...", s.chars().take(120).collect::<String>())
                } else {
                    s.into_owned()
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    );
    let mut child = Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env("MAPCTL_CACHE_DIR", "")
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).expect("stdout file"))
        .stderr(std::fs::File::create(&err_path).expect("stderr file"))
        .spawn()
        .expect("start mapctl");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("poll") {
            break status;
        }
        if started.elapsed() > guard {
            child.kill().ok();
            child.wait().ok();
            panic!("{what}: still running after {guard:?}: hang (killed)");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let stdout = std::fs::read(&out_path).expect("read stdout");
    let stderr =
        String::from_utf8_lossy(&std::fs::read(&err_path).expect("read stderr")).into_owned();
    Run {
        what,
        status,
        stdout,
        stderr,
    }
}

fn mapctl<S: AsRef<OsStr>>(cwd: &Path, args: &[S]) -> Run {
    mapctl_with_guard(cwd, args, HANG_GUARD)
}

// ------------------------------------------------------------------------------------------------
// apply
// ------------------------------------------------------------------------------------------------

/// The result of one `apply` with `--out` and `--rejects`.
struct Applied {
    run: Run,
    out_text: String,
    records: Vec<Value>,
    rejects_text: String,
    rejects: Vec<Value>,
    summary: Option<[usize; 4]>,
}

impl Applied {
    fn summary(&self) -> [usize; 4] {
        self.summary.unwrap_or_else(|| {
            panic!(
                "{}: no `mapctl: read N, written W, skipped S, rejected R` line on stderr\nstderr tail: {}",
                self.run.what,
                tail(&self.run.stderr)
            )
        })
    }

    /// Rejected (or skipped) items: position (line or index) -> codes.
    fn outcomes(&self, outcome: &str) -> BTreeMap<usize, Vec<String>> {
        self.rejects
            .iter()
            .filter(|r| r["outcome"] == outcome)
            .map(|r| (position(r), codes(r)))
            .collect()
    }

    /// The rejects entry for a line (or index).
    fn reject_at(&self, at: usize) -> &Value {
        self.rejects
            .iter()
            .find(|r| position(r) == at)
            .unwrap_or_else(|| {
                panic!(
                    "{}: no rejects entry for {at}: {}",
                    self.run.what, self.rejects_text
                )
            })
    }
}

fn position(reject: &Value) -> usize {
    reject
        .get("line")
        .or_else(|| reject.get("index"))
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("rejects entry without line or index: {reject}")) as usize
}

fn codes(reject: &Value) -> Vec<String> {
    reject["codes"]
        .as_array()
        .unwrap_or_else(|| panic!("rejects entry without codes: {reject}"))
        .iter()
        .map(|c| c.as_str().expect("code is a string").to_string())
        .collect()
}

/// All reason messages of a rejects entry, with their fields and values, in one string.
fn reasons_text(reject: &Value) -> String {
    reject["reasons"]
        .as_array()
        .map(|reasons| {
            reasons
                .iter()
                .map(|r| {
                    format!(
                        "{} {} {} {}",
                        r["code"].as_str().unwrap_or(""),
                        r["message"].as_str().unwrap_or(""),
                        r["field"].as_str().unwrap_or(""),
                        r["value"].as_str().unwrap_or("")
                    )
                })
                .collect::<Vec<_>>()
                .join(" | ")
        })
        .unwrap_or_default()
}

fn parse_summary(stderr: &str) -> Option<[usize; 4]> {
    let line = stderr
        .lines()
        .rev()
        .find(|l| l.starts_with("mapctl: read "))?;
    let numbers: Vec<usize> = line
        .trim_start_matches("mapctl: ")
        .split(", ")
        .map(|part| part.rsplit(' ').next().and_then(|n| n.parse().ok()))
        .collect::<Option<Vec<_>>>()?;
    (numbers.len() == 4).then(|| [numbers[0], numbers[1], numbers[2], numbers[3]])
}

/// `mapctl apply MAPPING INPUTS... --out OUT --rejects REJECTS EXTRA...`, run in a temp folder.
fn apply_with(mapping: &Path, inputs: &[&Path], extra: &[&str]) -> Applied {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("out.ndjson");
    let rejects = dir.path().join("rejects.ndjson");
    let mut args: Vec<String> = vec!["apply".into(), mapping.display().to_string()];
    args.extend(inputs.iter().map(|p| p.display().to_string()));
    args.extend(["--out".into(), out.display().to_string()]);
    args.extend(["--rejects".into(), rejects.display().to_string()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let run = mapctl(dir.path(), &args);
    run.assert_no_crash();
    let read_lossy = |p: &Path| {
        std::fs::read(p)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    };
    let out_text = read_lossy(&out);
    let rejects_text = read_lossy(&rejects);
    let records = out_text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("output line is not JSON ({e})"))
        })
        .collect();
    let rejects = rejects_text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("rejects line is not JSON ({e}): {l}"))
        })
        .collect();
    let summary = parse_summary(&run.stderr);
    Applied {
        run,
        out_text,
        records,
        rejects_text,
        rejects,
        summary,
    }
}

fn apply(input: &Path) -> Applied {
    apply_with(&reference_map(), &[input], &[])
}

/// Non-blank lines of an NDJSON input (what `read` must count).
fn nonblank_lines(bytes: &[u8]) -> usize {
    bytes
        .split(|b| *b == b'\n')
        .filter(|line| !line.iter().all(|b| b.is_ascii_whitespace()))
        .count()
}

/// The invariants of every apply run: accounting, exit code, rejects file shape, no leaks.
fn assert_laws(a: &Applied, expected_read: usize) {
    let [read, written, skipped, rejected] = a.summary();
    let what = &a.run.what;
    assert_eq!(
        read,
        expected_read,
        "{what}: read count\nstderr tail: {}",
        tail(&a.run.stderr)
    );
    assert_eq!(
        written + skipped + rejected,
        read,
        "{what}: written {written} + skipped {skipped} + rejected {rejected} != read {read}"
    );
    assert_eq!(
        a.records.len(),
        written,
        "{what}: records in the output file vs `written`"
    );
    assert_eq!(
        a.outcomes("rejected").len(),
        rejected,
        "{what}: rejects file vs `rejected`\n{}",
        a.rejects_text
    );
    assert_eq!(
        a.outcomes("skipped").len(),
        skipped,
        "{what}: rejects file vs `skipped`"
    );
    assert_eq!(
        a.rejects.len(),
        rejected + skipped,
        "{what}: one rejects line per rejected or skipped deal"
    );
    a.run.assert_exit(&[if rejected > 0 { 1 } else { 0 }]);
    for reject in &a.rejects {
        let cs = codes(reject);
        assert!(
            !cs.is_empty() && cs.iter().all(|c| c.starts_with("M5")),
            "{what}: codes of {reject}"
        );
        let reasons = reject["reasons"]
            .as_array()
            .unwrap_or_else(|| panic!("no reasons: {reject}"));
        assert!(
            !reasons.is_empty(),
            "{what}: a rejection without reasons: {reject}"
        );
        for reason in reasons {
            assert!(
                reason["code"].is_string(),
                "{what}: reason without code: {reject}"
            );
            assert!(
                reason["message"]
                    .as_str()
                    .is_some_and(|m| !m.trim().is_empty()),
                "{what}: reason without message: {reject}"
            );
        }
        let _ = position(reject);
    }
    assert_no_never_transfer(a);
}

fn assert_no_never_transfer(a: &Applied) {
    for (name, text) in [
        ("output", a.out_text.as_str()),
        ("rejects", a.rejects_text.as_str()),
        ("stderr", a.run.stderr.as_str()),
    ] {
        if let Some(at) = text.find(NT_MARKER) {
            let start = text[..at]
                .char_indices()
                .rev()
                .nth(80)
                .map_or(0, |(i, _)| i);
            let end = (at + 80).min(text.len());
            let end = (end..=text.len())
                .find(|i| text.is_char_boundary(*i))
                .unwrap_or(text.len());
            panic!(
                "{}: a never-transfer value leaked into the {name}: ...{}...",
                a.run.what,
                &text[start..end]
            );
        }
    }
    assert!(
        !a.run.stdout_text().contains(NT_MARKER),
        "{}: a never-transfer value leaked to stdout",
        a.run.what
    );
}

/// An expected rejection: the line, the code, and words its reasons must contain.
struct Bad {
    line: usize,
    code: &'static str,
    mentions: &'static [&'static str],
}

const fn bad(line: usize, code: &'static str, mentions: &'static [&'static str]) -> Bad {
    Bad {
        line,
        code,
        mentions,
    }
}

/// Applies `bench/reference.map` to a static NDJSON input: the laws, exactly the expected rejected
/// lines with their codes and words, nothing skipped; then the same without `--rejects`, where
/// stderr must name each rejected line and code. Returns the first run for extra checks.
fn apply_case(file: &str, expected: &[Bad]) -> Applied {
    let input = deals(file);
    let bytes = std::fs::read(&input).expect("input");
    let a = apply(&input);
    assert_laws(&a, nonblank_lines(&bytes));
    let got = a.outcomes("rejected");
    let want: BTreeMap<usize, Vec<String>> = expected
        .iter()
        .map(|b| (b.line, vec![b.code.to_string()]))
        .collect();
    let got_first: BTreeMap<usize, Vec<String>> =
        got.iter().map(|(l, c)| (*l, vec![c[0].clone()])).collect();
    assert_eq!(
        got_first, want,
        "{file}: rejected lines and codes\n{}",
        a.rejects_text
    );
    assert!(
        a.outcomes("skipped").is_empty(),
        "{file}: nothing should be skipped\n{}",
        a.rejects_text
    );
    for b in expected {
        let text = reasons_text(a.reject_at(b.line));
        for word in b.mentions {
            assert!(
                text.to_lowercase().contains(&word.to_lowercase()),
                "{file} line {}: the reasons should mention {word:?}: {text}",
                b.line
            );
        }
        assert_eq!(a.reject_at(b.line)["outcome"], "rejected");
    }
    // Without --rejects, each rejection is described on stderr with its line and code.
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("out.ndjson");
    let args = [
        "apply".to_string(),
        reference_map().display().to_string(),
        input.display().to_string(),
        "--out".into(),
        out.display().to_string(),
    ];
    let run = mapctl(dir.path(), &args);
    run.assert_exit(&[if expected.is_empty() { 0 } else { 1 }]);
    for b in expected {
        let needle = format!("line {},", b.line);
        let at = run.stderr.find(&needle).unwrap_or_else(|| {
            panic!(
                "{file}: stderr does not name `{needle}`:\n{}",
                tail(&run.stderr)
            )
        });
        let block: String = run.stderr[at..]
            .lines()
            .take(3)
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            block.contains(b.code),
            "{file}: stderr names line {} without {}:\n{block}",
            b.line,
            b.code
        );
    }
    assert!(
        !run.stderr.contains(NT_MARKER),
        "{file}: a never-transfer value leaked to stderr"
    );
    a
}

fn title_of(record: &Value) -> &str {
    record["title"]
        .as_str()
        .unwrap_or_else(|| panic!("record without a title: {record}"))
}

fn deal_ids(a: &Applied) -> Vec<String> {
    a.records
        .iter()
        .map(|r| {
            r["source"]["deal_id"]
                .as_str()
                .expect("source.deal_id")
                .to_string()
        })
        .collect()
}

// ---- static deal inputs through bench/reference.map ---------------------------------------------

#[test]
fn truncated_json_line_is_m501_and_the_run_goes_on() {
    let a = apply_case("truncated_line.ndjson", &[bad(2, "M501", &["column"])]);
    assert_eq!(deal_ids(&a), ["18000000001", "18000000003"]);
}

#[test]
fn trailing_garbage_after_a_value_is_m501() {
    let a = apply_case(
        "trailing_garbage.ndjson",
        &[bad(2, "M501", &["trailing"]), bad(4, "M501", &["trailing"])],
    );
    assert_eq!(deal_ids(&a), ["18000000001", "18000000003"]);
}

#[test]
fn utf8_bom_at_the_start_is_ignored() {
    let a = apply_case("bom.ndjson", &[]);
    assert_eq!(deal_ids(&a), ["18000000001", "18000000002"]);
    // Also when the file is not named *.ndjson (layout detection sees the BOM first).
    let dir = tempfile::tempdir().expect("temp dir");
    let renamed = dir.path().join("bom.json");
    std::fs::copy(deals("bom.ndjson"), &renamed).expect("copy");
    let b = apply(&renamed);
    assert_laws(&b, 2);
    assert_eq!(deal_ids(&b), ["18000000001", "18000000002"]);
}

#[test]
fn nul_bytes_inside_a_line_are_m501_escaped_nul_is_data() {
    let a = apply_case(
        "nul_bytes.ndjson",
        &[
            bad(2, "M501", &["control character", "column"]),
            bad(3, "M501", &["column"]),
        ],
    );
    assert_eq!(deal_ids(&a), ["18000000001", "18000000004", "18000000005"]);
    // `\u0000` is valid JSON: the name is written with the NUL escaped, not truncated or dropped.
    assert_eq!(a.records[1]["client"]["name"], "Acme\u{0}Corp");
    assert!(
        a.out_text.contains("Acme\\u0000Corp"),
        "a NUL must be written escaped"
    );
}

#[test]
fn invalid_utf8_on_one_line_rejects_only_that_line() {
    let a = apply_case(
        "invalid_utf8.ndjson",
        &[bad(2, "M501", &["column"]), bad(4, "M501", &["column"])],
    );
    assert_eq!(deal_ids(&a), ["18000000001", "18000000003", "18000000005"]);
    assert!(
        !a.out_text.contains('\u{FFFD}'),
        "invalid bytes must not be replaced and written"
    );
}

#[test]
fn lone_surrogate_escape_is_m501() {
    let a = apply_case(
        "lone_surrogate.ndjson",
        &[bad(2, "M501", &["column"]), bad(3, "M501", &["column"])],
    );
    assert_eq!(deal_ids(&a), ["18000000001", "18000000004"]);
}

#[test]
fn number_1e400_is_m501_out_of_range() {
    apply_case("number_1e400.ndjson", &[bad(2, "M501", &["out of range"])]);
}

#[test]
fn negative_zero_where_strings_are_expected_is_m502() {
    apply_case(
        "negative_zero.ndjson",
        &[
            bad(2, "M502", &["deal.properties.amount"]),
            bad(3, "M502", &["deal.id"]),
        ],
    );
}

#[test]
fn integers_beyond_2_pow_53_and_2_pow_64() {
    let a = apply_case(
        "big_integers.ndjson",
        &[
            bad(2, "M502", &["deal.properties.amount"]),
            // Read with every digit (not rounded, not ambiguous), and refused by the schema.
            bad(3, "M502", &["18446744073709551617 is not of type string"]),
            bad(
                4,
                "M502",
                &["123456789012345678901234567890 is not of type string"],
            ),
        ],
    );
    // "9007199254740993" (2^53 + 1) as a string goes through `| number` exactly.
    let record = a
        .records
        .iter()
        .find(|r| r["source"]["deal_id"] == "18000000005")
        .expect("deal 5 written");
    assert_eq!(
        record["budget"].as_u64(),
        Some(9_007_199_254_740_993),
        "{record}"
    );
    assert!(
        a.out_text.contains("\"budget\":9007199254740993"),
        "budget rounded: {record}"
    );
}

#[test]
fn text_amounts_are_rejected_by_the_require_rule_never_written_as_null_or_zero() {
    let amounts = [
        "NaN",
        "inf",
        "1e999",
        "12,500.00",
        "$12,500",
        "€5000",
        "-inf",
        "Infinity",
        "0x1F",
        " ",
        "",
    ];
    let expected: Vec<Bad> = (2..2 + amounts.len())
        .map(|line| bad(line, "M504", &["deal.properties.amount"]))
        .collect();
    let a = apply_case("text_amounts.ndjson", &expected);
    for (i, amount) in amounts.iter().enumerate() {
        let reject = a.reject_at(i + 2);
        assert_eq!(reject["phase"], "require", "{reject}");
        let reason = &reject["reasons"][0];
        assert_eq!(reason["field"], "deal.properties.amount", "{reject}");
        assert!(
            reason["rule"]["line"].is_u64(),
            "the reason names the mapping rule: {reject}"
        );
        if !amount.trim().is_empty() {
            let value = reason["value"].as_str().unwrap_or("");
            assert!(
                value.contains(amount),
                "the reason shows the value {amount:?}: {reject}"
            );
        }
    }
    for record in &a.records {
        assert_eq!(record["budget"].as_f64(), Some(12500.0), "{record}");
    }
}

#[test]
fn duplicate_keys_are_m512_with_conflicting_or_equal_values() {
    apply_case(
        "duplicate_keys.ndjson",
        &[
            bad(2, "M512", &["\"amount\"", "twice"]),
            bad(3, "M512", &["\"amount\"", "twice"]),
        ],
    );
}

#[test]
fn properties_as_array_or_null_is_m502() {
    apply_case(
        "properties_shapes.ndjson",
        &[
            bad(2, "M502", &["deal.properties"]),
            bad(3, "M502", &["deal.properties"]),
        ],
    );
}

#[test]
fn lines_that_are_not_objects_are_m509() {
    apply_case(
        "non_objects.ndjson",
        &[
            bad(2, "M509", &["null"]),
            bad(3, "M509", &["array"]),
            bad(4, "M509", &["string"]),
            bad(5, "M509", &["number"]),
        ],
    );
}

#[test]
fn invisible_and_bidi_characters_are_kept_in_titles_and_dropped_from_client_names() {
    let input = deals("invisible_chars.ndjson");
    let a = apply_case("invisible_chars.ndjson", &[]);
    let text = std::fs::read_to_string(&input).expect("input");
    let names: Vec<String> = text
        .lines()
        .map(|l| {
            let deal: Value = serde_json::from_str(l).expect("input line");
            deal["properties"]["dealname"]
                .as_str()
                .expect("dealname")
                .to_string()
        })
        .collect();
    let titles: Vec<&str> = a.records.iter().map(title_of).collect();
    assert_eq!(
        titles, names,
        "deal names must be written exactly as received"
    );
    let clients: Vec<&str> = a
        .records
        .iter()
        .map(|r| r["client"]["name"].as_str().unwrap_or(""))
        .collect();
    // Client names go through `company_name`, which drops invisible characters: "Ac\u{200B}me"
    // must not become a second client beside "Acme".
    for (i, client) in clients.iter().enumerate().skip(1).take(2) {
        assert!(
            !client.contains('\u{200B}') && !client.contains('\u{202E}'),
            "client name {i} keeps an invisible character: {client:?}"
        );
        assert!(!client.is_empty(), "client name {i} is empty");
    }
    // The output stays valid JSON with the characters intact (checked by parsing above).
}

#[test]
fn crlf_line_endings_are_accepted_and_not_written() {
    let a = apply_case("crlf.ndjson", &[]);
    assert_eq!(deal_ids(&a), ["18000000001", "18000000002", "18000000003"]);
    assert!(
        !a.out_text.contains('\r') && !a.out_text.contains("\\r"),
        "a CR leaked into the output"
    );
}

#[test]
fn blank_lines_are_not_deals() {
    let a = apply_case("blank_lines.ndjson", &[]);
    assert_eq!(deal_ids(&a), ["18000000001", "18000000002"]);
}

#[test]
fn no_final_newline_still_reads_the_last_deal() {
    let a = apply_case("no_final_newline.ndjson", &[]);
    assert_eq!(deal_ids(&a), ["18000000001", "18000000002"]);
}

#[test]
fn empty_file_is_m521() {
    let a = apply(&deals("empty.ndjson"));
    a.run.assert_exit(&[2]);
    assert!(a.run.stderr.contains("M521"), "{}", a.run.stderr);
}

#[test]
fn file_of_only_blank_lines_is_m521() {
    let a = apply(&deals("only_blank_lines.ndjson"));
    a.run.assert_exit(&[2]);
    assert!(a.run.stderr.contains("M521"), "{}", a.run.stderr);
}

#[test]
fn json_array_with_a_broken_tail_keeps_the_elements_before_it() {
    let a = apply(&deals("array_broken_tail.json"));
    // Two complete elements, then the broken one (counted once, as the rest of the array).
    assert_laws(&a, 3);
    assert_eq!(deal_ids(&a), ["18000000001", "18000000002"]);
    assert_eq!(
        a.outcomes("rejected").into_iter().collect::<Vec<_>>(),
        [(2, vec!["M501".to_string()])]
    );
    let reject = a.reject_at(2);
    assert!(
        reject.get("index").is_some(),
        "array items carry an index: {reject}"
    );
    assert!(
        reasons_text(reject).contains("line 4"),
        "the reason names where the array breaks: {reject}"
    );
}

// ---- generated deal inputs --------------------------------------------------------------------

/// The template deal with `edit` applied, as one line.
fn deal_line(n: u64, edit: impl FnOnce(&mut Value)) -> String {
    let mut deal = template_deal();
    let id = Value::from((18_000_000_000u64 + n).to_string());
    deal["id"] = id.clone();
    let props = &mut deal["properties"];
    props["hs_object_id"] = id;
    for field in [
        "billing_preferences",
        "internal_rate_card",
        "resource_assignments",
    ] {
        props[field] = Value::from(format!("{NT_MARKER}{field}-{n}"));
    }
    props["dealname"] = Value::from(format!("Acme - Implementation {n}"));
    edit(&mut deal);
    serde_json::to_string(&deal).expect("serialise")
}

/// A template line with the text of field `field` replaced by raw JSON `value` (no escaping).
fn with_raw_field(line: &str, field: &str, value: &str) -> String {
    let deal: Value = serde_json::from_str(line).expect("line");
    let old = format!("\"{field}\":{}", deal["properties"][field]);
    assert!(line.contains(&old), "{old} not in the line");
    line.replacen(&old, &format!("\"{field}\":{value}"), 1)
}

#[test]
fn nesting_100000_deep_is_rejected_without_a_stack_overflow() {
    let dir = tempfile::tempdir().expect("temp dir");
    let depth = 100_000;
    let deep_array = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let deep_object = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
    let lines = [
        deal_line(1, |_| {}),
        with_raw_field(&deal_line(2, |_| {}), "description", &deep_array),
        deep_array.clone(),
        with_raw_field(&deal_line(4, |_| {}), "dealname", &deep_object),
        deal_line(5, |d| d["extra"] = Value::from("PLACEHOLDER"))
            .replace("\"PLACEHOLDER\"", &deep_array),
        deal_line(6, |_| {}),
    ];
    let input = dir.path().join("deep.ndjson");
    std::fs::write(&input, lines.join("\n") + "\n").expect("write");
    let a = apply(&input);
    assert_laws(&a, 6);
    let rejected = a.outcomes("rejected");
    for line in [2, 3, 4] {
        let cs = rejected
            .get(&line)
            .unwrap_or_else(|| panic!("line {line} must be rejected: {}", a.rejects_text));
        assert!(cs[0] == "M501" || cs[0] == "M509", "line {line}: {cs:?}");
    }
    let ids = deal_ids(&a);
    assert!(ids.contains(&"18000000001".to_string()) && ids.contains(&"18000000006".to_string()));
    // Line 5 nests 100,000 deep in a field no rule reads: written or rejected, but never a crash.
    assert!(
        rejected.keys().all(|l| [2, 3, 4, 5].contains(l)),
        "{}",
        a.rejects_text
    );
}

/// A deal whose description is `size` bytes of `fill`, and a normal deal before and after.
fn huge_description_input(dir: &Path, size: usize, fill: char) -> PathBuf {
    let input = dir.join("huge.ndjson");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&input).expect("create"));
    writeln!(file, "{}", deal_line(1, |_| {})).expect("write");
    let line = deal_line(2, |d| d["properties"]["description"] = Value::from("HUGE"));
    let (before, after) = line.split_once("HUGE").expect("placeholder");
    file.write_all(before.as_bytes()).expect("write");
    let chunk: String = std::iter::repeat_n(fill, 1 << 20).collect();
    let mut left = size;
    while left > 0 {
        let n = left.min(chunk.len());
        file.write_all(&chunk.as_bytes()[..n]).expect("write");
        left -= n;
    }
    writeln!(file, "{after}").expect("write");
    writeln!(file, "{}", deal_line(3, |_| {})).expect("write");
    file.flush().expect("flush");
    input
}

#[test]
fn string_of_50_mb_is_m510_over_the_default_line_limit() {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = huge_description_input(dir.path(), 50 * 1024 * 1024, 'x');
    let a = apply(&input);
    assert_laws(&a, 3);
    assert_eq!(
        a.outcomes("rejected").into_iter().collect::<Vec<_>>(),
        [(2, vec!["M510".to_string()])]
    );
    assert!(
        reasons_text(a.reject_at(2)).contains("bytes"),
        "{}",
        a.rejects_text
    );
    assert_eq!(deal_ids(&a), ["18000000001", "18000000003"]);
}

#[test]
fn string_of_50_mb_with_a_raised_line_limit_is_processed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let size = 50 * 1024 * 1024;
    let input = huge_description_input(dir.path(), size, 'x');
    let a = apply_with(
        &reference_map(),
        &[&input],
        &["--max-line-bytes", "60000000"],
    );
    assert_laws(&a, 3);
    assert_eq!(deal_ids(&a), ["18000000001", "18000000002", "18000000003"]);
    let notes = a.records[1]["notes"].as_str().expect("notes");
    assert!(
        notes.len() > size,
        "the 50 MB description is in the notes ({} bytes)",
        notes.len()
    );
}

#[test]
fn line_of_10_mb_under_the_limit_is_processed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let size = 10 * 1024 * 1024;
    let input = huge_description_input(dir.path(), size, 'é');
    let a = apply(&input);
    assert_laws(&a, 3);
    assert_eq!(deal_ids(&a), ["18000000001", "18000000002", "18000000003"]);
    let notes = a.records[1]["notes"].as_str().expect("notes");
    let written = notes.chars().filter(|c| *c == 'é').count();
    assert_eq!(
        written,
        size / 'é'.len_utf8(),
        "the description is written whole"
    );
}

#[test]
fn batch_of_20000_with_1_percent_malformed_lines_is_accounted_exactly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("batch.ndjson");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&input).expect("create"));
    let mut physical = 0usize;
    let mut bad_lines = BTreeMap::new();
    let mut skipped_lines = BTreeSet::new();
    let mut written_ids = Vec::new();
    let total = 20_000u64;
    for i in 0..total {
        if i % 997 == 500 {
            file.write_all(b"\n   \n").expect("write"); // blank lines: not deals, but counted as lines
            physical += 2;
        }
        physical += 1;
        let good = deal_line(i, |d| {
            if i % 50 == 10 {
                d["properties"]["dealstage"] = Value::from("contractsent");
            }
        });
        let bytes: Vec<u8> = if i % 100 == 37 {
            let kind = (i / 100) % 10;
            let (line, code): (Vec<u8>, &str) = match kind {
                0 => (good.as_bytes()[..good.len() / 2].to_vec(), "M501"),
                1 => (format!("{good} ,").into_bytes(), "M501"),
                2 => (b"null".to_vec(), "M509"),
                3 => (b"[]".to_vec(), "M509"),
                4 => (
                    good.replace("Acme Corp", "Acme \u{1}Corp").into_bytes(),
                    "M501",
                ),
                5 => {
                    let mut b = good.clone().into_bytes();
                    let at = good.find("Acme Corp").expect("company");
                    b[at + 1] = 0xFF; // invalid UTF-8
                    (b, "M501")
                }
                6 => (
                    good.replacen(
                        "\"amount\":\"12500.00\"",
                        "\"amount\":\"1\",\"amount\":\"2\"",
                        1,
                    )
                    .into_bytes(),
                    "M512",
                ),
                // Read exactly (no longer ambiguous), and refused by the schema: amounts are text.
                7 => (
                    with_raw_field(&good, "amount", "18446744073709551617").into_bytes(),
                    "M502",
                ),
                8 => (
                    good.replace("Acme Corp", "Acme \\ud800").into_bytes(),
                    "M501",
                ),
                _ => (
                    with_raw_field(&good, "amount", "1e400").into_bytes(),
                    "M501",
                ),
            };
            assert_ne!(line, good.as_bytes(), "kind {kind} must change the line");
            bad_lines.insert(physical, code.to_string());
            line
        } else {
            if i % 50 == 10 {
                skipped_lines.insert(physical);
            } else {
                written_ids.push((18_000_000_000u64 + i).to_string());
            }
            good.into_bytes()
        };
        file.write_all(&bytes).expect("write");
        file.write_all(b"\n").expect("write");
    }
    file.flush().expect("flush");
    drop(file);
    assert_eq!(bad_lines.len(), 200);
    let a = apply(&input);
    assert_laws(&a, total as usize);
    assert_eq!(
        a.summary(),
        [
            20_000,
            20_000 - 200 - skipped_lines.len(),
            skipped_lines.len(),
            200
        ],
        "exact accounting"
    );
    let rejected: BTreeMap<usize, String> = a
        .outcomes("rejected")
        .into_iter()
        .map(|(l, c)| (l, c[0].clone()))
        .collect();
    let missing: Vec<_> = bad_lines
        .keys()
        .filter(|l| !rejected.contains_key(l))
        .collect();
    assert!(
        missing.is_empty(),
        "bad lines missing from the rejects file: {missing:?}"
    );
    assert_eq!(
        rejected, bad_lines,
        "every bad line, with its code, and nothing else"
    );
    let skipped: BTreeSet<usize> = a.outcomes("skipped").into_keys().collect();
    assert_eq!(skipped, skipped_lines);
    assert_eq!(
        deal_ids(&a),
        written_ids,
        "every good deal written once, in input order"
    );
    for jobs in ["2", "3"] {
        let parallel = apply_with(&reference_map(), &[&input], &["--jobs", jobs]);
        assert_eq!(parallel.summary, a.summary, "--jobs {jobs}: same counts");
        assert!(
            parallel.out_text == a.out_text,
            "--jobs {jobs}: the output differs from one thread's"
        );
        assert!(
            parallel.rejects_text == a.rejects_text,
            "--jobs {jobs}: the rejects differ from one thread's"
        );
    }
}

// ---- numbers a mapping reads as numbers (tests/hostile/numeric/) --------------------------------

#[test]
fn numbers_read_as_numbers_stay_exact_or_are_refused() {
    let mapping = hostile("numeric/numeric.map");
    let input = hostile("numeric/numbers.ndjson");
    let a = apply_with(&mapping, &[&input], &[]);
    assert_laws(&a, 9);
    let rejected = a.outcomes("rejected");
    // Beyond a float's range (1e400, 1e999) no PSA can hold the number: refused as out of range.
    let want: BTreeMap<usize, Vec<String>> = [(4, "M501"), (6, "M501")]
        .into_iter()
        .map(|(l, c)| (l, vec![c.to_string()]))
        .collect();
    assert_eq!(rejected, want, "{}", a.rejects_text);
    assert_eq!(a.outcomes("skipped").into_keys().collect::<Vec<_>>(), [9]);
    let lines: Vec<&str> = a.out_text.lines().collect();
    assert_eq!(lines.len(), 6);
    let has = |line: usize, text: &str| {
        assert!(lines[line].contains(text), "{text} not in {}", lines[line]);
    };
    has(0, "\"external_ref\":9007199254740993,");
    has(0, "\"external_ref_text\":\"9007199254740993\"");
    has(1, "\"budget\":9007199254740993,");
    has(1, "\"external_ref\":18446744073709551615,");
    has(2, "\"external_ref\":-9223372036854775808,");
    // 2^64 and a 30-digit amount are written with every digit, as they were sent.
    has(3, "\"external_ref\":18446744073709551616,");
    has(3, "\"external_ref_text\":\"18446744073709551616\"");
    has(4, "\"budget\":123456789012345678901234567890,");
    assert_eq!(
        a.records[2]["budget"].as_f64(),
        Some(0.0),
        "-0 is zero: {}",
        lines[2]
    );
    assert_eq!(
        a.records[5]["external_ref"].as_f64(),
        Some(0.0),
        "{}",
        lines[5]
    );
}

#[test]
fn negative_integers_beyond_i64_are_written_with_every_digit() {
    // external_ref -9223372036854775809 was once written as -9.223372036854776e+18.
    let mapping = hostile("numeric/numeric.map");
    let input = hostile("numeric/negative_beyond_i64.ndjson");
    let a = apply_with(&mapping, &[&input], &[]);
    assert_laws(&a, 3);
    assert!(
        !a.out_text.contains("e+18"),
        "a rounded integer was written: {}",
        a.out_text
    );
    assert!(a.outcomes("rejected").is_empty(), "{}", a.rejects_text);
    assert!(
        a.out_text
            .contains("\"external_ref\":-9223372036854775809,"),
        "{}",
        a.out_text
    );
    assert!(
        a.out_text
            .contains("\"external_ref_text\":\"-9223372036854775809\""),
        "{}",
        a.out_text
    );
    assert!(
        a.out_text.contains("\"budget\":-18446744073709551615,"),
        "{}",
        a.out_text
    );
}

// ---- bugs found in apply ----------------------------------------------------------------------

#[test]
fn ambiguous_deal_ids_are_not_guessed_in_rejections() {
    // Line 2: "id" twice ("18000000002", then "18000000099"): deal_id is reported as 18000000099.
    // Line 3: "id": 18446744073709551617 was once reported as "1.8446744073709552e+19"; it is
    // read exactly now, and the schema (ids are text) refuses it.
    let a = apply_case(
        "ambiguous_deal_id.ndjson",
        &[
            bad(2, "M512", &["\"id\""]),
            bad(3, "M502", &["18446744073709551617 is not of type string"]),
        ],
    );
    let reject = a.reject_at(2);
    assert!(reject["deal_id"].is_null(), "deal id guessed: {reject}");
    assert_eq!(a.reject_at(3)["deal_id"], "18446744073709551617");
}

#[test]
fn never_transfer_values_are_not_quoted_in_rejections() {
    // bench/reference.map: "internal_rate_card": 987654321 -> "`deal.properties.internal_rate_card`
    // 987654321 is not of type string or null".
    let a = apply_case(
        "never_transfer_wrong_type.ndjson",
        &[
            bad(2, "M502", &["internal_rate_card"]),
            bad(3, "M502", &["billing_preferences"]),
        ],
    );
    assert!(
        !a.rejects_text.contains("987654321"),
        "rate card value quoted: {}",
        a.rejects_text
    );
    assert!(!a.run.stderr.contains("987654321"));
    // numeric.map: a rate card longer than the schema allows is quoted in the M502 message.
    let mapping = hostile("numeric/numeric.map");
    let input = hostile("numeric/rate_card_breaks_schema.ndjson");
    let b = apply_with(&mapping, &[&input], &[]);
    assert_laws(&b, 2);
    assert_eq!(
        b.outcomes("rejected").get(&2).map(|c| c[0].as_str()),
        Some("M502")
    );
    assert!(
        reasons_text(b.reject_at(2)).contains("rate_card"),
        "the field is named"
    );
}

#[test]
fn the_same_deals_get_the_same_outcome_as_ndjson_and_as_an_array() {
    // Deal 1 has {"extra": {"a": 1, "a": 2}}, deal 2 has "extra": 1e400, deal 3 is clean.
    let nd = apply(&deals("unread_field_ambiguity.ndjson"));
    assert_laws(&nd, 3);
    let arr = apply(&deals("unread_field_ambiguity.json"));
    let by_position = |a: &Applied, base: usize| -> Vec<String> {
        (0..3)
            .map(
                |i| match a.rejects.iter().find(|r| position(r) == i + base) {
                    Some(r) => codes(r)[0].clone(),
                    None => "written".to_string(),
                },
            )
            .collect()
    };
    assert_eq!(
        by_position(&nd, 1),
        by_position(&arr, 0),
        "NDJSON vs array outcomes"
    );
    assert_eq!(
        by_position(&nd, 1)[0],
        "M512",
        "a duplicate key is ambiguous wherever it is (docs: M512)"
    );
}

#[test]
fn array_element_with_1e400_does_not_drop_the_rest_of_the_array() {
    // Element 1 has "extra": 1e400 (valid JSON syntax): "the rest of the array cannot be read" and
    // element 2, a clean deal, is never read (summary: read 2 for a 3-element array).
    let a = apply(&deals("unread_field_ambiguity.json"));
    assert_laws(&a, 3);
    assert!(
        deal_ids(&a).contains(&"18000000003".to_string()),
        "element 2 was lost\n{}",
        a.rejects_text
    );
}

#[test]
fn zero_width_characters_do_not_create_a_duplicate_client() {
    // "Ac\u200bme Corp." displays as "Acme Corp." but gets the key "ac me": a new client is created
    // next to the existing "Acme Corporation" (id 101).
    let dir = tempfile::tempdir().expect("temp dir");
    let sample: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("mappings/samples/hubspot/deal_won.json"))
            .expect("sample"),
    )
    .expect("json");
    let mut lines = Vec::new();
    for (i, name) in [
        "Acme Corp.",
        "Ac\u{200B}me Corp.",
        "A\u{200D}cme Corporation",
        "Ac\u{2060}me Corp",
    ]
    .iter()
    .enumerate()
    {
        let mut bundle = sample.clone();
        bundle["deal"]["id"] = Value::from(format!("1800000010{i}"));
        bundle["company"]["properties"]["name"] = Value::from(*name);
        bundle["deal"]["properties"]["company_name"] = Value::from(*name);
        lines.push(serde_json::to_string(&bundle).expect("json"));
    }
    let input = dir.path().join("clients.ndjson");
    std::fs::write(&input, lines.join("\n") + "\n").expect("write");
    let clients = root().join("mappings/samples/hubspot/accelo_companies.json");
    let a = apply_with(
        &root().join("mappings/hubspot_to_accelo.map"),
        &[&input],
        &["--clients", &clients.display().to_string(), "--envelope"],
    );
    let [read, written, ..] = a.summary();
    assert_eq!((read, written), (4, 4), "{}", a.rejects_text);
    for envelope in &a.records {
        assert_eq!(
            envelope["client"]["match"], "existing",
            "{}",
            envelope["client"]
        );
        assert_eq!(envelope["client"]["id"], 101, "{}", envelope["client"]);
    }
}

#[test]
fn apply_to_a_closed_stdout_exits_2_without_a_panic() {
    let mut child = Command::new(BIN)
        .args(["apply", &reference_map().display().to_string()])
        .arg(root().join("bench/data/one-deal.ndjson"))
        .current_dir(root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start");
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        matches!(output.status.code(), Some(0..=2)),
        "{:?}: {stderr}",
        output.status
    );
}

// ------------------------------------------------------------------------------------------------
// check: hostile mappings
// ------------------------------------------------------------------------------------------------

/// A temp folder holding `reference.map` and `schemas/` (the bench schemas plus the hostile
/// schemas of `tests/hostile/schemas/`), plus `outside/secret.schema.json` next to it (a file no
/// mapping may read), returned as (temp dir, workspace folder).
fn workspace() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let ws = dir.path().join("ws");
    std::fs::create_dir_all(ws.join("schemas")).expect("mkdir");
    for source in [root().join("bench/schemas"), hostile("schemas")] {
        for entry in std::fs::read_dir(&source).expect("list schemas").flatten() {
            std::fs::copy(entry.path(), ws.join("schemas").join(entry.file_name()))
                .expect("copy schema");
        }
    }
    std::fs::write(ws.join("reference.map"), reference_text()).expect("copy mapping");
    std::fs::create_dir_all(dir.path().join("outside")).expect("mkdir");
    std::fs::write(
        dir.path().join("outside/secret.schema.json"),
        "SECRET-OUTSIDE-FILE: this text must never be read or printed\n",
    )
    .expect("secret");
    (dir, ws)
}

/// `reference.map` with `from` replaced by `to` (which must occur), written as `name` in `ws`.
fn variant(ws: &Path, name: &str, from: &str, to: &str) -> PathBuf {
    let text = reference_text();
    assert!(
        text.contains(from),
        "bench/reference.map no longer contains {from:?}"
    );
    let path = ws.join(name);
    std::fs::write(&path, text.replacen(from, to, 1)).expect("write mapping");
    path
}

/// `check --format json` of a mapping in `ws`: the run and its diagnostics.
fn check_json(ws: &Path, mapping: &str, extra: &[&str]) -> (Run, Vec<Value>) {
    let mut args = vec!["check", "--format", "json", mapping];
    args.extend_from_slice(extra);
    let run = mapctl(ws, &args);
    run.assert_no_crash();
    let doc: Value = serde_json::from_slice(&run.stdout).unwrap_or_else(|e| {
        panic!(
            "{}: stdout is not JSON ({e}): {}",
            run.what,
            tail(&run.stdout_text())
        )
    });
    let diagnostics = doc["diagnostics"].as_array().cloned().unwrap_or_default();
    (run, diagnostics)
}

/// `check` in human format of a mapping in `ws`.
fn check_human(ws: &Path, mapping: &str) -> Run {
    let run = mapctl(ws, &["check", "--color", "never", mapping]);
    run.assert_no_crash();
    run
}

fn codes_of(diagnostics: &[Value]) -> Vec<String> {
    diagnostics
        .iter()
        .map(|d| d["code"].as_str().unwrap_or("").to_string())
        .collect()
}

/// Asserts that the message of the diagnostic `d` contains `text`.
#[track_caller]
fn assert_message_contains(d: &Value, text: &str) {
    let message = d["message"].as_str().unwrap_or("");
    assert!(message.contains(text), "{text:?} not in {d}");
}

/// The first diagnostic with `code`, which must exist and carry a file, line and column.
fn find_code<'d>(diagnostics: &'d [Value], code: &str) -> &'d Value {
    let d = diagnostics
        .iter()
        .find(|d| d["code"] == code)
        .unwrap_or_else(|| {
            panic!(
                "no {code} among {:?}: {diagnostics:?}",
                codes_of(diagnostics)
            )
        });
    assert!(
        d["file"].is_string() && d["line"].is_u64() && d["column"].is_u64(),
        "{code} without a place: {d}"
    );
    assert!(
        d["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{code} without a message: {d}"
    );
    d
}

/// 1-based line and column (in characters) of byte offset `at` in `text`.
fn line_col(text: &str, at: usize) -> (u64, u64) {
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line as u64, column as u64)
}

fn assert_place(d: &Value, file: &str, line: u64, column: Option<u64>) {
    assert_eq!(
        d["file"].as_str().map(|f| f.ends_with(file)),
        Some(true),
        "file of {d}"
    );
    assert_eq!(d["line"].as_u64(), Some(line), "line of {d}");
    if let Some(column) = column {
        assert_eq!(d["column"].as_u64(), Some(column), "column of {d}");
    }
}

#[test]
fn check_empty_mapping_reports_every_missing_item() {
    let (_dir, ws) = workspace();
    std::fs::write(ws.join("empty.map"), "").expect("write");
    let (run, diagnostics) = check_json(&ws, "empty.map", &[]);
    run.assert_exit(&[1]);
    assert_eq!(codes_of(&diagnostics), ["M105"; 4], "{diagnostics:?}");
    for d in &diagnostics {
        assert_place(d, "empty.map", 1, Some(1));
    }
    let human = check_human(&ws, "empty.map");
    human.assert_exit(&[1]);
    assert!(
        human.stderr.contains("M105") && human.stderr.contains("empty.map:1:1"),
        "{}",
        human.stderr
    );
}

#[test]
fn check_100000_nested_parentheses_is_m108() {
    let (_dir, ws) = workspace();
    let rule = "deal.properties.closedate ";
    let deep = format!(
        "{}deal.properties.closedate{} ",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    variant(&ws, "deep.map", rule, &deep);
    let text = std::fs::read_to_string(ws.join("deep.map")).expect("read");
    let (line, _) = line_col(&text, text.find("((").expect("parens"));
    let (run, diagnostics) = check_json(&ws, "deep.map", &[]);
    run.assert_exit(&[1]);
    let d = find_code(&diagnostics, "M108");
    assert_place(d, "deep.map", line, None);
    // A mapping with check errors is refused by apply (exit 2), with its diagnostics.
    let apply = mapctl(
        &ws,
        &[
            "apply",
            "deep.map",
            &deals("template.ndjson").display().to_string(),
        ],
    );
    apply.assert_exit(&[2]);
    assert!(apply.stderr.contains("M108"), "{}", tail(&apply.stderr));
}

#[test]
fn check_200000_nots_in_a_row_is_m108_at_the_first_not_past_the_limit() {
    // `not not not ... x` recurses in the grammar without any bracket.
    let (_dir, ws) = workspace();
    let trigger = "trigger when deal.properties.dealstage";
    let nots = format!(
        "trigger when {}deal.properties.dealstage",
        "not ".repeat(200_000)
    );
    variant(&ws, "nots.map", trigger, &nots);
    let text = std::fs::read_to_string(ws.join("nots.map")).expect("read");
    let first = text.find("not not").expect("nots");
    let (line, column) = line_col(&text, first + 4 * 64);
    let (run, diagnostics) = check_json(&ws, "nots.map", &[]);
    run.assert_exit(&[1]);
    assert_place(
        find_code(&diagnostics, "M108"),
        "nots.map",
        line,
        Some(column),
    );
    let human = check_human(&ws, "nots.map");
    human.assert_exit(&[1]);
    assert_readable(&human, &["M108", &format!("nots.map:{line}:{column}")]);
    // The same run with a comment right after every `not` (comments may stand between them).
    let commented = format!(
        "trigger when {}deal.properties.dealstage",
        "not#again\n".repeat(200_000)
    );
    variant(&ws, "commented.map", trigger, &commented);
    let (run, diagnostics) = check_json(&ws, "commented.map", &[]);
    run.assert_exit(&[1]);
    find_code(&diagnostics, "M108");
}

#[test]
fn check_renders_errors_past_column_65535_as_a_window_of_the_line() {
    // miette cannot pad a label past column 65,535; such lines come from generated mappings.
    let (_dir, ws) = workspace();
    let trigger = "trigger when deal.properties.dealstage";
    let far = format!(
        "trigger when {}deal.properties.dealstge",
        " ".repeat(70_000)
    );
    variant(&ws, "far.map", trigger, &far);
    let text = std::fs::read_to_string(ws.join("far.map")).expect("read");
    let (line, column) = line_col(&text, text.find("dealstge").expect("typo"));
    let human = check_human(&ws, "far.map");
    human.assert_exit(&[1]);
    assert_readable(
        &human,
        &[
            "M201",
            &format!("far.map:{line}:{column}"),
            "deal.properties.dealstge ==",
        ],
    );
}

/// Human output that names every one of `expected` and prints no line longer than a screen.
fn assert_readable(human: &Run, expected: &[&str]) {
    for text in expected {
        assert!(
            human.stderr.contains(text),
            "no {text:?} in {}",
            tail(&human.stderr)
        );
    }
    let longest = human
        .stderr
        .lines()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0);
    assert!(longest < 400, "a line of {longest} characters was printed");
}

#[test]
fn check_renders_labels_inside_a_minified_schema() {
    // A schema on one line (as APIs serve them), with a diagnostic pointing into it.
    let (_dir, ws) = workspace();
    let schema_path = ws.join("schemas/project.schema.json");
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(&schema_path).expect("read")).expect("JSON");
    let padded = format!(
        "{}{}",
        " ".repeat(70_000),
        serde_json::to_string(&schema).expect("JSON")
    );
    std::fs::write(&schema_path, padded).expect("write");
    let text = reference_text();
    let title = text
        .lines()
        .find(|l| l.trim_start().starts_with("project.title"))
        .expect("a project.title line")
        .to_string();
    variant(&ws, "minified.map", &format!("{title}\n"), "");
    let (run, diagnostics) = check_json(&ws, "minified.map", &[]);
    run.assert_exit(&[1]);
    find_code(&diagnostics, "M303");
    let human = check_human(&ws, "minified.map");
    human.assert_exit(&[1]);
    assert_readable(&human, &["M303", "project.schema.json:1:"]);
}

#[test]
fn check_5_mb_mappings_complete() {
    let (_dir, ws) = workspace();
    // Header, records, trigger and rules, then 5 MB of comment lines.
    let mut text = reference_text();
    let mut i = 0;
    while text.len() < 5 * 1024 * 1024 {
        text.push_str(&format!(
            "# padding comment {i}: the mapping must still be checked in full\n"
        ));
        i += 1;
    }
    std::fs::write(ws.join("comments.map"), &text).expect("write");
    let (run, diagnostics) = check_json(&ws, "comments.map", &[]);
    run.assert_exit(&[0]);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    // 5 MB of valid table rows.
    let row = "  \"newbusiness\"      => \"fixed_fee\"\n";
    let mut rows = String::from(row);
    let mut i = 0;
    while rows.len() < 5 * 1024 * 1024 {
        rows.push_str(&format!("  \"dealtype_{i:07}\" => \"fixed_fee\"\n"));
        i += 1;
    }
    variant(&ws, "table.map", row, &rows);
    let (run, diagnostics) = check_json(&ws, "table.map", &[]);
    run.assert_exit(&[0]);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    // Over the 8 MiB default limit: M108, not an attempt to parse it.
    let mut big = reference_text();
    big.push_str(&"#".repeat(9 * 1024 * 1024));
    big.push('\n');
    std::fs::write(ws.join("big.map"), &big).expect("write");
    let (run, diagnostics) = check_json(&ws, "big.map", &[]);
    run.assert_exit(&[1]);
    assert!(
        find_code(&diagnostics, "M108")["message"]
            .as_str()
            .unwrap_or("")
            .contains("bytes")
    );
}

#[test]
fn check_nul_byte_in_a_mapping_is_m101_at_its_place() {
    let (_dir, ws) = workspace();
    variant(
        &ws,
        "nul.map",
        "mapping bench_reference",
        "mapping bench\0reference",
    );
    let text = std::fs::read_to_string(ws.join("nul.map")).expect("read");
    let (line, column) = line_col(&text, text.find('\0').expect("nul"));
    let (run, diagnostics) = check_json(&ws, "nul.map", &[]);
    run.assert_exit(&[1]);
    assert_place(
        find_code(&diagnostics, "M101"),
        "nul.map",
        line,
        Some(column),
    );
}

#[test]
fn check_nul_byte_inside_a_mapping_string_is_refused() {
    let (_dir, ws) = workspace();
    variant(&ws, "nul_string.map", "\"Sold as: {", "\"Sold as:\0 {");
    let text = std::fs::read_to_string(ws.join("nul_string.map")).expect("read");
    let (line, column) = line_col(&text, text.find('\0').expect("nul"));
    let (run, diagnostics) = check_json(&ws, "nul_string.map", &[]);
    run.assert_exit(&[1]);
    let d = diagnostics
        .iter()
        .find(|d| d["code"] == "M101" || d["code"] == "M112")
        .unwrap_or_else(|| panic!("no M101/M112 for a raw NUL: {diagnostics:?}"));
    assert_place(d, "nul_string.map", line, Some(column));
}

#[test]
fn regex_with_nested_quantifiers_runs_in_linear_time() {
    let (_dir, ws) = workspace();
    let rule = "  deal.properties.hubspot_owner_id ";
    variant(
        &ws,
        "redos.map",
        rule,
        &format!(
            "  deal.properties.dealname matches \"(a+)+$\"   \"dealname must end in a\"\n{rule}"
        ),
    );
    let (run, diagnostics) = check_json(&ws, "redos.map", &[]);
    run.assert_exit(&[0]);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let a_s = "a".repeat(100_000);
    let input = ws.join("redos.ndjson");
    let lines = [
        deal_line(1, |d| {
            d["properties"]["dealname"] = Value::from(a_s.clone())
        }),
        deal_line(2, |d| {
            d["properties"]["dealname"] = Value::from(format!("{a_s}!"))
        }),
    ];
    std::fs::write(&input, lines.join("\n") + "\n").expect("write");
    let a = apply_with(&ws.join("redos.map"), &[&input], &[]);
    assert_laws(&a, 2);
    assert_eq!(deal_ids(&a), ["18000000001"]);
    assert_eq!(
        a.outcomes("rejected").into_iter().collect::<Vec<_>>(),
        [(2, vec!["M504".to_string()])]
    );
    let text = reasons_text(a.reject_at(2));
    assert!(
        text.contains("dealname must end in a") && text.contains("deal.properties.dealname"),
        "{text}"
    );
}

#[test]
fn check_bidi_characters_in_a_mapping_are_m112() {
    let (_dir, ws) = workspace();
    let path = variant(
        &ws,
        "bidi.map",
        "== \"closedwon\"",
        "== \"closedwon\u{202E}\"",
    );
    let mut text = std::fs::read_to_string(&path).expect("read");
    text = text.replacen("# The reference", "# The \u{2067}reference\u{2069}", 1);
    text = text.replacen(
        "mapping bench_reference",
        "mapping bench_reference\u{200B}",
        1,
    );
    std::fs::write(&path, &text).expect("write");
    let (run, diagnostics) = check_json(&ws, "bidi.map", &[]);
    run.assert_exit(&[1]);
    let m112: Vec<&Value> = diagnostics.iter().filter(|d| d["code"] == "M112").collect();
    let mut expected: Vec<(u64, u64)> = text
        .char_indices()
        .filter(|(_, c)| ['\u{202E}', '\u{2067}', '\u{2069}', '\u{200B}'].contains(c))
        .map(|(at, _)| line_col(&text, at))
        .collect();
    let mut got: Vec<(u64, u64)> = m112
        .iter()
        .map(|d| {
            (
                d["line"].as_u64().unwrap_or(0),
                d["column"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    expected.sort();
    got.sort();
    assert_eq!(
        got, expected,
        "one M112 at each invisible character: {diagnostics:?}"
    );
    let apply = mapctl(
        &ws,
        &[
            "apply",
            "bidi.map",
            &deals("template.ndjson").display().to_string(),
        ],
    );
    apply.assert_exit(&[2]);
    assert!(apply.stderr.contains("M112"), "{}", tail(&apply.stderr));
}

#[test]
fn check_absolute_schema_path_is_m607_and_never_read() {
    let (_dir, ws) = workspace();
    let text = reference_text();
    let at = text
        .find("\"schemas/deal.schema.json\"")
        .expect("deal schema");
    let (line, column) = line_col(&text, at);
    variant(
        &ws,
        "passwd.map",
        "\"schemas/deal.schema.json\"",
        "\"/etc/passwd\"",
    );
    let (run, diagnostics) = check_json(&ws, "passwd.map", &[]);
    run.assert_exit(&[2]);
    assert_place(
        find_code(&diagnostics, "M607"),
        "passwd.map",
        line,
        Some(column),
    );
    assert!(
        !codes_of(&diagnostics).contains(&"M602".to_string()),
        "the file was parsed: {diagnostics:?}"
    );
    let human = check_human(&ws, "passwd.map");
    assert!(
        !human.stderr.contains("root:") && !run.stdout_text().contains("root:"),
        "{}",
        human.stderr
    );
}

#[test]
fn check_dotdot_path_that_stays_in_the_folder_is_fine() {
    let (_dir, ws) = workspace();
    variant(
        &ws,
        "dots.map",
        "\"schemas/deal.schema.json\"",
        "\"schemas/../schemas/./deal.schema.json\"",
    );
    let (run, diagnostics) = check_json(&ws, "dots.map", &[]);
    run.assert_exit(&[0]);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
}

#[test]
fn check_dotdot_schema_path_leaving_the_folder_is_m607_and_never_read() {
    let (_dir, ws) = workspace();
    // ../outside/secret.schema.json: today M602 quotes "SECRET-OUTSIDE-FILE..." from the file.
    variant(
        &ws,
        "escape.map",
        "\"schemas/deal.schema.json\"",
        "\"../outside/secret.schema.json\"",
    );
    let (run, diagnostics) = check_json(&ws, "escape.map", &[]);
    run.assert_exit(&[2]);
    find_code(&diagnostics, "M607");
    assert!(
        !run.stdout_text().contains("SECRET-OUTSIDE"),
        "{}",
        run.stdout_text()
    );
    let human = check_human(&ws, "escape.map");
    assert!(!human.stderr.contains("SECRET-OUTSIDE"), "{}", human.stderr);
    // ../../../.. up to the file system root, then /etc/passwd: today its first lines are printed.
    let up = "../".repeat(40);
    variant(
        &ws,
        "passwd_up.map",
        "\"schemas/deal.schema.json\"",
        &format!("\"{up}etc/passwd\""),
    );
    let (run, diagnostics) = check_json(&ws, "passwd_up.map", &[]);
    run.assert_exit(&[2]);
    find_code(&diagnostics, "M607");
    let human = check_human(&ws, "passwd_up.map");
    assert!(!human.stderr.contains("root:"), "{}", human.stderr);
}

#[test]
fn check_dotdot_table_path_leaving_the_folder_is_m607_and_never_read() {
    let (_dir, ws) = workspace();
    let text = reference_text();
    let start = text.find("table billing {").expect("table");
    let end = start + text[start..].find("\n}\n").expect("table end") + 2;
    let table = &text[start..end];
    variant(
        &ws,
        "table_escape.map",
        table,
        "table billing = file \"../outside/secret.schema.json\"",
    );
    let (run, diagnostics) = check_json(&ws, "table_escape.map", &[]);
    run.assert_exit(&[2]);
    find_code(&diagnostics, "M607");
    let human = check_human(&ws, "table_escape.map");
    assert!(!human.stderr.contains("SECRET-OUTSIDE"), "{}", human.stderr);
}

#[cfg(unix)]
#[test]
fn check_symlink_leaving_the_folder_is_m607_and_never_read() {
    let (dir, ws) = workspace();
    std::os::unix::fs::symlink(
        dir.path().join("outside/secret.schema.json"),
        ws.join("schemas/link.schema.json"),
    )
    .expect("symlink");
    variant(
        &ws,
        "link.map",
        "\"schemas/deal.schema.json\"",
        "\"schemas/link.schema.json\"",
    );
    let (run, diagnostics) = check_json(&ws, "link.map", &[]);
    run.assert_exit(&[2]);
    find_code(&diagnostics, "M607");
    let human = check_human(&ws, "link.map");
    assert!(!human.stderr.contains("SECRET-OUTSIDE"), "{}", human.stderr);
}

#[test]
fn check_to_a_closed_stdout_does_not_panic() {
    let (_dir, ws) = workspace();
    for i in 0..300 {
        std::fs::write(ws.join(format!("empty_{i:03}.map")), "").expect("write");
    }
    let mut child = Command::new(BIN)
        .args(["check", "--format", "json", "."])
        .current_dir(&ws)
        .env("MAPCTL_CACHE_DIR", "")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut first = [0u8; 16];
    stdout.read_exact(&mut first).expect("first bytes");
    drop(stdout); // the reader goes away, as `head -c 16` does
    let output = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{}", tail(&stderr));
    assert!(
        matches!(output.status.code(), Some(0..=2)),
        "{:?}",
        output.status
    );
}

// ------------------------------------------------------------------------------------------------
// check: hostile schemas (tests/hostile/schemas/, copied into the workspace)
// ------------------------------------------------------------------------------------------------

/// `reference.map` with its deal schema replaced by `schemas/NAME`, written as `NAME.map`.
fn with_deal_schema(ws: &Path, schema: &str) -> String {
    let name = format!("{}.map", schema.split('.').next().expect("name"));
    variant(
        ws,
        &name,
        "\"schemas/deal.schema.json\"",
        &format!("\"schemas/{schema}\""),
    );
    name
}

#[test]
fn schema_ref_cycles_are_accepted_and_applied() {
    let (_dir, ws) = workspace();
    let mapping = with_deal_schema(&ws, "deal_ref_cycle.schema.json");
    let (run, diagnostics) = check_json(&ws, &mapping, &[]);
    run.assert_exit(&[0]);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let mut tree = serde_json::json!({"name": "leaf"});
    for _ in 0..100 {
        tree = serde_json::json!({"name": "node", "child": tree});
    }
    let bad_tree = serde_json::json!({"name": "node", "child": {"name": 5}});
    let input = ws.join("trees.ndjson");
    let lines = [
        deal_line(1, |d| d["tree"] = tree.clone()),
        deal_line(2, |d| d["tree"] = bad_tree.clone()),
        deal_line(3, |_| {}),
    ];
    std::fs::write(&input, lines.join("\n") + "\n").expect("write");
    let a = apply_with(&ws.join(&mapping), &[&input], &[]);
    assert_laws(&a, 3);
    assert_eq!(deal_ids(&a), ["18000000001", "18000000003"]);
    let rejected = a.outcomes("rejected");
    assert_eq!(
        rejected.get(&2).map(|c| c[0].as_str()),
        Some("M502"),
        "{}",
        a.rejects_text
    );
    assert!(
        reasons_text(a.reject_at(2)).contains("tree"),
        "{}",
        a.rejects_text
    );
}

#[test]
fn schema_ref_loop_without_a_schema_is_m608() {
    let (_dir, ws) = workspace();
    let mapping = with_deal_schema(&ws, "deal_ref_loop.schema.json");
    let (run, diagnostics) = check_json(&ws, &mapping, &[]);
    run.assert_exit(&[2]);
    let d = find_code(&diagnostics, "M608");
    assert_message_contains(d, "#/$defs/a -> #/$defs/b -> #/$defs/a");
}

#[test]
fn schema_remote_https_ref_is_m604_and_not_fetched() {
    let (_dir, ws) = workspace();
    let mapping = with_deal_schema(&ws, "deal_remote_ref.schema.json");
    let text =
        std::fs::read_to_string(ws.join("schemas/deal_remote_ref.schema.json")).expect("read");
    let (line, _) = line_col(&text, text.find("https://example.com").expect("url"));
    let (run, diagnostics) = check_json(&ws, &mapping, &[]);
    run.assert_exit(&[2]);
    let d = find_code(&diagnostics, "M604");
    assert_place(d, "deal_remote_ref.schema.json", line, None);
    assert!(
        d["message"]
            .as_str()
            .unwrap_or("")
            .contains("https://example.com/schemas/associations.json")
    );
}

#[test]
fn schema_file_ref_to_etc_passwd_is_m604_and_not_read() {
    let (_dir, ws) = workspace();
    let mapping = with_deal_schema(&ws, "deal_file_ref.schema.json");
    let (run, diagnostics) = check_json(&ws, &mapping, &[]);
    run.assert_exit(&[2]);
    let d = find_code(&diagnostics, "M604");
    assert_message_contains(d, "file:///etc/passwd");
    assert!(
        !codes_of(&diagnostics).contains(&"M602".to_string()),
        "{diagnostics:?}"
    );
    let human = check_human(&ws, &mapping);
    assert!(!human.stderr.contains("root:") && !run.stdout_text().contains("root:"));
}

#[test]
fn schema_dotdot_ref_is_m607_and_not_read() {
    let (_dir, ws) = workspace();
    let mapping = with_deal_schema(&ws, "deal_dotdot_ref.schema.json");
    let (run, diagnostics) = check_json(&ws, &mapping, &[]);
    run.assert_exit(&[2]);
    let d = find_code(&diagnostics, "M607");
    assert_message_contains(d, "../outside/secret.schema.json");
    let human = check_human(&ws, &mapping);
    assert!(
        !human.stderr.contains("SECRET-OUTSIDE") && !run.stdout_text().contains("SECRET-OUTSIDE")
    );
}

#[test]
fn schema_dotdot_ref_message_names_the_folder() {
    let (_dir, ws) = workspace();
    let mapping = with_deal_schema(&ws, "deal_dotdot_ref.schema.json");
    let (run, diagnostics) = check_json(&ws.join("schemas"), &format!("../{mapping}"), &[]);
    run.assert_exit(&[2]);
    let message = find_code(&diagnostics, "M607")["message"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(!message.contains("``"), "{message}");
}

#[test]
fn schema_yaml_alias_bomb_is_refused() {
    let (_dir, ws) = workspace();
    let mapping = with_deal_schema(&ws, "deal_alias_bomb.schema.yaml");
    let (run, diagnostics) = check_json(&ws, &mapping, &[]);
    run.assert_exit(&[2]);
    let d = find_code(&diagnostics, "M602");
    assert_eq!(
        d["file"]
            .as_str()
            .map(|f| f.ends_with("deal_alias_bomb.schema.yaml")),
        Some(true),
        "{d}"
    );
}

#[test]
fn schema_unknown_dialect_is_an_m606_warning() {
    let (_dir, ws) = workspace();
    let mapping = with_deal_schema(&ws, "deal_unknown_dialect.schema.json");
    let text =
        std::fs::read_to_string(ws.join("schemas/deal_unknown_dialect.schema.json")).expect("read");
    let (line, _) = line_col(&text, text.find("\"$schema\"").expect("$schema"));
    let (run, diagnostics) = check_json(&ws, &mapping, &[]);
    run.assert_exit(&[0]);
    let d = find_code(&diagnostics, "M606");
    assert_eq!(d["severity"], "warning");
    assert_place(d, "deal_unknown_dialect.schema.json", line, None);
    let (strict, _) = check_json(&ws, &mapping, &["--deny-warnings"]);
    strict.assert_exit(&[1]);
}

/// `reference.map` with a deal schema that nests `{"items": ...}` 100,000 levels deep.
fn deep_schema_mapping(ws: &Path, yaml: bool) -> String {
    let depth = 100_000;
    let (name, text) = if yaml {
        (
            "deal_deep.schema.yaml",
            format!(
                "type: object\nproperties:\n  id: {{type: string}}\n  properties: {{type: object}}\n  deep: {}{{}}{}\n",
                "{items: ".repeat(depth),
                "}".repeat(depth)
            ),
        )
    } else {
        (
            "deal_deep.schema.json",
            format!(
                "{{\"type\": \"object\", \"properties\": {{\"id\": {{\"type\": \"string\"}}, \"properties\": {{\"type\": \"object\"}}, \"deep\": {}{{}}{}}}}}\n",
                "{\"items\": ".repeat(depth),
                "}".repeat(depth)
            ),
        )
    };
    std::fs::write(ws.join("schemas").join(name), text).expect("write schema");
    with_deal_schema(ws, name)
}

#[test]
fn schema_100000_levels_deep_json_is_refused_without_a_stack_overflow() {
    let (_dir, ws) = workspace();
    let mapping = deep_schema_mapping(&ws, false);
    let (run, diagnostics) = check_json(&ws, &mapping, &[]);
    run.assert_exit(&[2]);
    let d = diagnostics
        .iter()
        .find(|d| {
            d["file"]
                .as_str()
                .is_some_and(|f| f.ends_with("deal_deep.schema.json"))
                && d["severity"] == "error"
        })
        .unwrap_or_else(|| panic!("no error in the deep schema: {diagnostics:?}"));
    assert!(["M609"].contains(&d["code"].as_str().unwrap_or("")), "{d}");
}

#[test]
fn schema_100000_levels_deep_yaml_is_refused_promptly() {
    let (_dir, ws) = workspace();
    let mapping = deep_schema_mapping(&ws, true);
    // A depth limit refuses this at once; 30 s is a hang guard, not a benchmark.
    let run = mapctl_with_guard(
        &ws,
        &["check", "--format", "json", &mapping],
        Duration::from_secs(30),
    );
    run.assert_exit(&[2]);
    let doc: Value = serde_json::from_slice(&run.stdout).expect("json");
    let diagnostics = doc["diagnostics"].as_array().cloned().unwrap_or_default();
    assert!(
        diagnostics
            .iter()
            .any(|d| ["M609"].contains(&d["code"].as_str().unwrap_or(""))
                && d["file"]
                    .as_str()
                    .is_some_and(|f| f.ends_with("deal_deep.schema.yaml"))),
        "{diagnostics:?}"
    );
}
