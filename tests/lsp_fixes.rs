//! The quick-fix law, on every golden check case: every fix the language server offers, applied
//! to the text, makes its diagnostic go away and brings no error the text did not have (checked
//! here again, independently of the server's own verification); and the codes whose help names a
//! concrete change get a fix on the cases that show them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use mapctl::diag::Diagnostic;
use mapctl::lsp::analysis::{Analysis, check_text};
use mapctl::lsp::fixes::{apply, fixes};

fn golden_cases() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir("tests/check")
        .expect("the golden cases")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "map"))
        .collect();
    cases.sort();
    cases
}

fn key(d: &Diagnostic) -> (String, String) {
    (d.code.as_str().to_string(), d.message.clone())
}

#[test]
fn every_offered_fix_removes_its_diagnostic_and_adds_no_error() {
    let mut fixed_codes: BTreeMap<String, usize> = BTreeMap::new();
    for case in golden_cases() {
        let path = std::fs::canonicalize(&case).expect("a golden case");
        let text = std::fs::read_to_string(&path).expect("readable");
        let analysis = Analysis::new(&path, text.clone());
        let before: Vec<(String, String)> = analysis.output.diagnostics.iter().map(key).collect();
        for diagnostic in &analysis.output.diagnostics {
            for fix in fixes(&analysis, diagnostic) {
                let changed = apply(&text, &fix.edit).expect("the edit is in the text");
                let (_, after) = check_text(&path, &changed);
                let after_keys: Vec<(String, String)> = after.diagnostics.iter().map(key).collect();
                let count = |list: &[(String, String)], k: &(String, String)| {
                    list.iter().filter(|x| *x == k).count()
                };
                let target = key(diagnostic);
                assert!(
                    count(&after_keys, &target) < count(&before, &target),
                    "{}: `{}` leaves {} in place",
                    case.display(),
                    fix.title,
                    diagnostic.code
                );
                let stub_line = fix.edit.range.start..fix.edit.range.start + fix.edit.text.len();
                for d in after.diagnostics.iter().filter(|d| d.is_error()) {
                    let k = key(d);
                    let in_stub = !fix.preferred && stub_line.contains(&d.primary.span.start);
                    assert!(
                        in_stub || count(&after_keys, &k) <= count(&before, &k),
                        "{}: `{}` brings a new {} ({})",
                        case.display(),
                        fix.title,
                        d.code,
                        d.message
                    );
                }
                assert!(
                    !writes_invented_value(&fix.edit.text),
                    "{}: `{}` invents a value",
                    case.display(),
                    fix.title
                );
                *fixed_codes
                    .entry(diagnostic.code.as_str().to_string())
                    .or_default() += 1;
            }
        }
    }
    let wanted: BTreeSet<&str> = [
        "M109", "M201", "M204", "M205", "M206", "M208", "M211", "M301", "M303", "M304", "M305",
        "M307", "M403", "M404", "M406",
    ]
    .into();
    let missing: Vec<&&str> = wanted
        .iter()
        .filter(|c| !fixed_codes.contains_key(**c))
        .collect();
    assert!(
        missing.is_empty(),
        "no fix offered for {missing:?}; fixed: {fixed_codes:?}"
    );
}

/// True when `text` assigns `0` or `""` (`= 0`), as opposed to comparing with it (`>= 0`).
fn writes_invented_value(text: &str) -> bool {
    ["= 0", "= \"\""].iter().any(|stub| {
        text.match_indices(stub)
            .any(|(at, _)| !text[..at].ends_with(['<', '>', '=', '!']))
    })
}

#[test]
fn an_assigned_stub_is_an_invented_value_and_a_comparison_is_not() {
    assert!(writes_invented_value("project.budget = 0"));
    assert!(writes_invented_value("project.name = \"\""));
    assert!(!writes_invented_value("deal.amount | number >= 0"));
    assert!(!writes_invented_value("deal.hours != 0"));
}
