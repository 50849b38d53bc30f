//! The shipped mappings' tests pin every rule: deleting any one rule line of a shipped mapping
//! (a map, a require rule, a select branch, a table row, the client match, a sync back rule)
//! makes `check` fail or at least one case of its tests file fail.

use std::path::{Path, PathBuf};

use mapctl::check::check_file;
use mapctl::source::SourceMap;
use mapctl::syntax::Limits;

/// Line numbers (0-based) of the rules of a mapping: lines inside blocks that are not braces,
/// comments or blank, plus `match client` lines.
fn rule_lines(text: &str) -> Vec<usize> {
    let mut depth = 0usize;
    let mut lines = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        let closes_only = trimmed == "}";
        if (depth > 0
            && !trimmed.is_empty()
            && !trimmed.starts_with('#')
            && !closes_only
            && !trimmed.starts_with("checklist"))
            || trimmed.starts_with("match client")
        {
            lines.push(index);
        }
        if trimmed.starts_with('#') {
            continue;
        }
        let code = trimmed.split(" #").next().unwrap_or("");
        if code.ends_with('{') && !code.contains('"') || code.ends_with(" {") {
            depth += 1;
        }
        if closes_only {
            depth = depth.saturating_sub(1);
        }
    }
    lines
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

/// True when the mutated mapping is caught: a check error or a failing case.
fn caught(mapping: &Path, tests: &Path) -> bool {
    let mut sources = SourceMap::new();
    let checked = check_file(&mut sources, mapping, &Limits::default()).expect("readable");
    if checked.program.is_none() {
        return true;
    }
    match mapctl::suite::run_file(tests, false) {
        Ok(result) => result.cases.iter().any(|c| !c.failures.is_empty()),
        Err(_) => true,
    }
}

#[test]
fn deleting_any_rule_of_a_shipped_mapping_is_caught() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let work = tempfile::tempdir().expect("temp dir");
    copy_dir(&root.join("mappings"), work.path());
    let test_files: Vec<PathBuf> =
        mapctl::suite::collect(&[work.path().to_path_buf()]).expect("tests files");
    assert!(!test_files.is_empty(), "no shipped tests files");
    let mut survivors = Vec::new();
    for tests in &test_files {
        let name = tests
            .file_name()
            .expect("name")
            .to_string_lossy()
            .replace(".tests.yaml", ".map");
        let mapping = tests.with_file_name(name);
        let original = std::fs::read_to_string(&mapping).expect("mapping");
        let lines: Vec<&str> = original.lines().collect();
        for index in rule_lines(&original) {
            let mutated: Vec<&str> = lines
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != index)
                .map(|(_, l)| *l)
                .collect();
            std::fs::write(&mapping, mutated.join("\n") + "\n").expect("write mutant");
            if !caught(&mapping, tests) {
                survivors.push(format!(
                    "{}:{}: {}",
                    mapping.file_name().expect("n").to_string_lossy(),
                    index + 1,
                    lines[index].trim()
                ));
            }
        }
        std::fs::write(&mapping, &original).expect("restore");
    }
    assert!(
        survivors.is_empty(),
        "deleting these rules breaks no shipped test:\n{}",
        survivors.join("\n")
    );
}

#[test]
fn rule_lines_are_found_inside_blocks_only() {
    let text = "mapping x\nmap {\n  a.b = c.d\n  # comment\n}\nmatch client c.n into a.id\ntable t {\n  \"k\" => 1\n}\n";
    assert_eq!(rule_lines(text), vec![2, 5, 7]);
}
