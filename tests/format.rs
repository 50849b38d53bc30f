//! `mapctl fmt`'s laws: the shipped mappings are formatted; formatting is idempotent; the layout
//! does not depend on how the author spaced the tokens; the formatted text means the same (it
//! checks to the same program behaviour: the same diagnostics and the same test results); and no
//! input makes it panic.

use mapctl::syntax::format::{FormatError, format};
use proptest::prelude::*;

const MAPPINGS: [&str; 3] = [
    "mappings/hubspot_to_accelo.map",
    "mappings/copper_to_harvest.map",
    "mappings/zoho_to_custom.map",
];

fn read(path: &str) -> String {
    std::fs::read_to_string(path).expect("mapping")
}

#[test]
fn shipped_mappings_are_formatted() {
    for path in MAPPINGS {
        let text = read(path);
        let formatted = format(&text).expect("formats");
        assert_eq!(
            formatted, text,
            "{path} is not formatted: run `mapctl fmt mappings`"
        );
    }
}

/// Byte offsets of the spaces in code (outside strings and comments) that sit between tokens.
fn code_spaces(text: &str) -> Vec<usize> {
    let strings = mapctl::syntax::string_spans(text).expect("the mapping parses");
    let in_string = |at: usize| strings.iter().any(|(s, e)| *s <= at && at < *e);
    let mut spaces = Vec::new();
    let mut in_comment = false;
    for (index, c) in text.char_indices() {
        match c {
            '\n' => in_comment = false,
            _ if in_comment || in_string(index) => {}
            '#' => in_comment = true,
            ' ' => spaces.push(index),
            _ => {}
        }
    }
    spaces
}

/// Widens some of the code spaces to runs of spaces and tabs.
fn respace(text: &str, widen: &[(usize, u8)]) -> String {
    let spaces = code_spaces(text);
    let mut out = String::with_capacity(text.len() * 2);
    let mut extra = std::collections::HashMap::new();
    for &(pick, width) in widen {
        if !spaces.is_empty() {
            extra.insert(spaces[pick % spaces.len()], width);
        }
    }
    for (index, c) in text.char_indices() {
        out.push(c);
        if let Some(width) = extra.get(&index) {
            for n in 0..*width {
                out.push(if n % 3 == 0 { '\t' } else { ' ' });
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn the_layout_ignores_the_authors_spacing(
        which in 0usize..3,
        widen in prop::collection::vec((0usize..10_000, 1u8..6), 0..40),
    ) {
        let text = read(MAPPINGS[which]);
        let messy = respace(&text, &widen);
        let formatted = format(&messy).expect("formats");
        prop_assert_eq!(&formatted, &text);
    }

    #[test]
    fn any_text_formats_or_is_refused_never_panics(text in "[a-z{}\\[\\]()\"#=>|.? \n0-9]{0,200}") {
        match format(&text) {
            Ok(once) => prop_assert_eq!(format(&once).ok(), Some(once.clone())),
            Err(FormatError::Syntax(errors)) => prop_assert!(!errors.is_empty()),
            Err(FormatError::Internal(message)) => prop_assert!(false, "{}", message),
        }
    }
}

#[test]
fn formatted_mappings_check_and_test_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("mappings");
    copy_dir(std::path::Path::new("mappings"), &copy);
    for path in MAPPINGS {
        let file = dir.path().join(path);
        let messy = respace(&read(path), &[(3, 4), (40, 2), (95, 5), (200, 3)]);
        std::fs::write(&file, messy).unwrap();
    }
    let mapctl = env!("CARGO_BIN_EXE_mapctl");
    let status = std::process::Command::new(mapctl)
        .args(["fmt", "mappings"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(status.status.success());
    for path in MAPPINGS {
        assert_eq!(
            std::fs::read_to_string(dir.path().join(path)).unwrap(),
            read(path)
        );
    }
    let tests = std::process::Command::new(mapctl)
        .args(["test", "--require-coverage", "mappings"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(tests.status.success());
}

#[test]
fn check_mode_reports_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("m.map");
    std::fs::write(&file, "mapping   m\n").unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_mapctl"))
        .args(["fmt", "--check"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("line 1"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mapping   m\n");
    std::fs::write(&file, "mapping m\nmap {\n").unwrap();
    let broken = std::process::Command::new(env!("CARGO_BIN_EXE_mapctl"))
        .args(["fmt"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(broken.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&broken.stderr).contains("M10"));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "mapping m\nmap {\n",
        "a file with syntax errors is left alone"
    );
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
