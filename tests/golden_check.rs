//! Golden tests for `mapctl check`: every `tests/check/<case>.map` is checked and its rendering
//! (plain, 100 columns) compared with `tests/check/<case>.expected`.
//!
//! Re-bless expectations with `MAPCTL_BLESS=1 cargo test --test golden_check`.

use std::path::{Path, PathBuf};

use mapctl::check;
use mapctl::diag::Code;
use mapctl::diag::render::{self, HumanStyle};
use mapctl::source::SourceMap;
use mapctl::syntax::Limits;

fn cases() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir("tests/check")
        .expect("tests/check exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "map"))
        .collect();
    cases.sort();
    cases
}

/// The rendering a case is compared against.
fn render_case(path: &Path) -> String {
    let mut sources = SourceMap::new();
    match check::check_file(&mut sources, path, &Limits::default()) {
        Ok(output) => {
            let mut text = render::human(&sources, &output.diagnostics, HumanStyle::plain());
            text.push_str(&render::summary_line(&output.diagnostics, 1));
            text.push('\n');
            text
        }
        Err(check::CannotRun(message)) => format!("cannot run: {message}\n"),
    }
}

#[test]
fn check_cases_match_their_expected_rendering() {
    let bless = std::env::var_os("MAPCTL_BLESS").is_some();
    let mut failures = Vec::new();
    for case in cases() {
        let actual = render_case(&case);
        let expected_path = case.with_extension("expected");
        if bless {
            std::fs::write(&expected_path, &actual).expect("write expectation");
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != actual {
            failures.push(format!(
                "--- {} differs (re-bless with MAPCTL_BLESS=1)\n--- expected\n{expected}\n--- actual\n{actual}",
                case.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Check-time codes appear in `tests/check`, schema drift codes (M7xx) in the `schema diff`
/// cases of `tests/schema/diff` (`tests/golden_schema.rs`); apply-time codes (M5xx) are covered
/// by `tests/golden_apply.rs`.
#[test]
fn every_code_has_a_golden_case() {
    let mut rendered = String::new();
    for case in cases() {
        rendered.push_str(
            &std::fs::read_to_string(case.with_extension("expected")).unwrap_or_default(),
        );
    }
    for case in std::fs::read_dir("tests/schema/diff")
        .into_iter()
        .flatten()
        .flatten()
    {
        // The human report is on stderr (`expected.err`), the machine formats on stdout.
        for stream in ["expected.out", "expected.err"] {
            rendered
                .push_str(&std::fs::read_to_string(case.path().join(stream)).unwrap_or_default());
        }
    }
    let missing: Vec<&str> = Code::ALL
        .iter()
        .filter(|code| !code.as_str().starts_with("M5"))
        .filter(|code| !rendered.lines().any(|line| line.trim() == code.as_str()))
        .map(|code| code.as_str())
        .collect();
    assert!(
        missing.is_empty(),
        "codes without a golden case in tests/check: {missing:?}"
    );
}

#[test]
fn every_code_has_a_documentation_entry() {
    let docs = std::fs::read_to_string("docs/errors.md").expect("docs/errors.md");
    let mut missing = Vec::new();
    for code in Code::ALL {
        let heading = format!("## {}", code.as_str());
        match docs.lines().position(|l| l.starts_with(&heading)) {
            Some(_) => {
                let entry = mapctl::cli::explain_entry(*code).unwrap_or_default();
                for part in ["**Why**", "**Example**", "**Fix**"] {
                    if !entry.contains(part) {
                        missing.push(format!("{code}: no {part} part"));
                    }
                }
            }
            None => missing.push(format!("{code}: no `{heading}` heading")),
        }
    }
    assert!(
        missing.is_empty(),
        "docs/errors.md is incomplete:\n{}",
        missing.join("\n")
    );
}

/// The helps that propose code are held to it: on every case with a `<case>.sample.json` beside
/// it, the fixes the language server offers (built from the helps and verified there) are applied
/// one after another until none is left; the text must then check with no diagnostic at all, and
/// the sample deal must be written by the fixed mapping (not rejected).
#[test]
fn suggested_fixes_check_clean_and_apply_a_sample() {
    use mapctl::engine::{Deal, LoadOptions, Mapping, Outcome};
    use mapctl::lsp::analysis::Analysis;
    use mapctl::lsp::fixes::{apply, fixes};
    let mut tried = 0;
    for case in cases() {
        let sample_path = case.with_extension("sample.json");
        let Ok(sample) = std::fs::read(&sample_path) else {
            continue;
        };
        tried += 1;
        let path = std::fs::canonicalize(&case).expect("a golden case");
        let mut text = std::fs::read_to_string(&path).expect("readable");
        for _ in 0..10 {
            let analysis = Analysis::new(&path, text.clone());
            let fix = analysis
                .output
                .diagnostics
                .iter()
                .flat_map(|d| fixes(&analysis, d))
                .find(|f| f.preferred);
            let Some(fix) = fix else { break };
            text = apply(&text, &fix.edit).expect("the edit is in the text");
        }
        let analysis = Analysis::new(&path, text.clone());
        let left: Vec<String> = analysis
            .output
            .diagnostics
            .iter()
            .map(|d| format!("{} {}", d.code, d.message))
            .collect();
        assert!(
            left.is_empty(),
            "{}: after its suggested fixes the mapping still has {left:?}:\n{text}",
            case.display()
        );
        let fixed = case.with_extension("fixed-by-test");
        std::fs::write(&fixed, &text).expect("write the fixed mapping");
        let loaded = Mapping::load(&fixed, &LoadOptions::default());
        let _ = std::fs::remove_file(&fixed);
        let mapping = loaded.unwrap_or_else(|e| panic!("{}: {}", case.display(), e.message()));
        let applied = mapping.apply(Deal::Text(&sample), None);
        assert!(
            matches!(applied.outcome, Outcome::Written { .. }),
            "{}: the fixed mapping does not write the sample: {:?}",
            case.display(),
            applied.outcome
        );
    }
    assert!(tried >= 5, "only {tried} cases have a sample deal");
}
