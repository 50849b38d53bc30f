//! The language's growth (issue 22, item 4) held by its acceptance: a Copper -> Harvest mapping
//! that reads one custom field once through a named value, computes an end date from a start
//! date and rounds a budget passes `check --deny-warnings`, and its tests pass with every rule,
//! branch and table row exercised. Named values that clash or refer to themselves are refused.

use std::process::Command;

fn mapctl(args: &[&str], dir: &str) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mapctl"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("mapctl runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn the_named_values_mapping_checks_clean_and_its_tests_pass() {
    let (code, text) = mapctl(
        &["check", "--deny-warnings", "copper_named_values.map"],
        "tests/language",
    );
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("0 errors, 0 warnings"), "{text}");
    let (code, text) = mapctl(
        &[
            "test",
            "--require-coverage",
            "copper_named_values.tests.yaml",
        ],
        "tests/language",
    );
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("0 failed, 0 not exercised"), "{text}");
}

#[test]
fn the_custom_field_is_written_once() {
    let text = std::fs::read_to_string("tests/language/copper_named_values.map").expect("mapping");
    let reads = text.matches("custom_field_definition_id == 5001").count();
    assert_eq!(
        reads, 1,
        "the Project type field is read through its named value only"
    );
}
