//! docs/tutorial.md, top to bottom, as a new user would follow it: in a scratch folder holding
//! a copy of `mappings/` (the tutorial copies its schemas, tables and samples from there) and
//! mapctl on the PATH, every `file=`/`append=` block is written and every `sh` block run in
//! document order, each line expected to exit 0 unless it ends with `# exit: N`. Then the
//! mapping the tutorial ends with must be in the canonical layout (`fmt --check`), pass its
//! tests, and give a sheet naming every field it writes; and the install steps must name no
//! placeholder.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `(info string, body)` of every fenced block, in order.
fn fenced_blocks(text: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let Some(info) = line.strip_prefix("```") else {
            continue;
        };
        let mut body = String::new();
        for inner in lines.by_ref() {
            if inner.starts_with("```") {
                break;
            }
            body.push_str(inner);
            body.push('\n');
        }
        blocks.push((info.trim().to_string(), body));
    }
    blocks
}

fn attribute(info: &str, key: &str) -> Option<String> {
    info.split_whitespace()
        .find_map(|word| word.strip_prefix(key).map(str::to_string))
}

/// The commands of an `sh` block with their expected exit codes (`cargo install` is what built
/// the binary under test, so it is not run again).
fn commands(body: &str) -> Vec<(String, i32)> {
    body.replace("\\\n", " ")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("cargo install"))
        .map(|line| match line.split_once("# exit:") {
            Some((command, code)) => (command.trim().to_string(), code.trim().parse().unwrap_or(0)),
            None => (line.to_string(), 0),
        })
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir").flatten() {
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &to.join(&name));
        } else {
            std::fs::copy(entry.path(), to.join(&name)).expect("copy");
        }
    }
}

fn sh(work: &Path, path: &str, command: &str) -> std::process::Output {
    Command::new("sh")
        .args(["-c", command])
        .current_dir(work)
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .env("MAPCTL_CACHE_DIR", "")
        .output()
        .expect("sh runs")
}

#[test]
fn the_tutorial_runs_top_to_bottom_and_ends_with_a_formatted_tested_mapping() {
    let text = std::fs::read_to_string(root().join("docs/tutorial.md")).expect("tutorial");
    let work = tempfile::tempdir().expect("temp dir");
    copy_dir(&root().join("mappings"), &work.path().join("mappings"));
    let bin = work.path().join(".bin");
    std::fs::create_dir_all(&bin).expect("bin");
    std::fs::copy(env!("CARGO_BIN_EXE_mapctl"), bin.join("mapctl")).expect("copy mapctl");
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut ran = 0;
    let mut failures = Vec::new();
    for (info, body) in fenced_blocks(&text) {
        if let Some(file) = attribute(&info, "file=") {
            let target = work.path().join(&file);
            std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
            std::fs::write(&target, &body).expect("write");
        } else if let Some(file) = attribute(&info, "append=") {
            let target = work.path().join(&file);
            let previous = std::fs::read_to_string(&target).unwrap_or_default();
            std::fs::write(&target, previous + &body).expect("append");
        } else if info == "sh" {
            for (command, expected) in commands(&body) {
                let output = sh(work.path(), &path, &command);
                ran += 1;
                if output.status.code() != Some(expected) {
                    failures.push(format!(
                        "`{command}` exited {:?}, expected {expected}\n{}{}",
                        output.status.code(),
                        String::from_utf8_lossy(&output.stdout),
                        String::from_utf8_lossy(&output.stderr)
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(ran >= 12, "only {ran} commands found in the tutorial");
    let mapping = "handoff/hubspot_to_accelo.map";
    let formatted = sh(work.path(), &path, &format!("mapctl fmt --check {mapping}"));
    assert!(
        formatted.status.success(),
        "the tutorial's mapping is not formatted: {}",
        String::from_utf8_lossy(&formatted.stderr)
    );
    let tested = sh(work.path(), &path, "mapctl test handoff/");
    assert!(
        tested.status.success(),
        "{}",
        String::from_utf8_lossy(&tested.stderr)
    );
    let sheet = std::fs::read_to_string(work.path().join("handoff/sheet.html")).expect("the sheet");
    let final_mapping = std::fs::read_to_string(work.path().join(mapping)).expect("mapping");
    for line in final_mapping.lines() {
        if let Some((field, _)) = line.trim().split_once(" = ")
            && field.starts_with("job.")
        {
            let field = field.trim();
            assert!(
                sheet.contains(&format!("data-field=\"{field}\"")),
                "`{field}` is missing from the tutorial's sheet"
            );
        }
    }
}

#[test]
fn install_steps_in_readme_and_tutorial_name_no_placeholder() {
    for doc in [
        "README.md",
        "docs/tutorial.md",
        "docs/deployment.md",
        "docs/cli.md",
    ] {
        let text = std::fs::read_to_string(root().join(doc)).expect("doc");
        for placeholder in ["OUR-ORG", "YOUR-ORG", "<org>", "example.com/mapctl"] {
            assert!(
                !text.contains(placeholder),
                "{doc} names the placeholder `{placeholder}`"
            );
        }
        assert!(
            text.contains("cargo install --locked --path"),
            "{doc} has no `cargo install --locked --path` step"
        );
    }
}
