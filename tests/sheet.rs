//! `mapctl doc`: the mapping sheet, through the real binary.
//!
//! - the Markdown of each shipped mapping is held to a golden file (`tests/sheet/NAME.md`;
//!   re-bless with `MAPCTL_BLESS=1 cargo test --test sheet`);
//! - the HTML is held to its promises: every field of the PSA schema present (read here from
//!   the schema file itself, not from mapctl), self-contained (no script, no external
//!   resource), light and dark, printable, untrusted text escaped;
//! - the HTML rendered by headless Chromium shows every PSA field. Skipped with a message when
//!   `chromium` is not installed; `.ci/run` installs it and sets `MAPCTL_REQUIRE_CHROMIUM=1`,
//!   which makes a missing browser a failure;
//! - the coverage `mapctl test` records is shown, and marked stale once the mapping changes.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const MAPPINGS: [(&str, &str); 3] = [
    ("hubspot_to_accelo", "schemas/accelo/job.schema.json"),
    ("zoho_to_custom", "schemas/custom/project.schema.json"),
    ("copper_to_harvest", "schemas/harvest/project.schema.json"),
];

fn mapctl() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mapctl"))
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn doc(args: &[&str]) -> (String, String, i32) {
    let output = mapctl()
        .arg("doc")
        .args(args)
        .current_dir(root())
        .output()
        .expect("mapctl runs");
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
        output.status.code().unwrap_or(-1),
    )
}

/// The leaf fields a PSA schema declares, read straight from its JSON (local `$ref`s to
/// `$defs` followed), as `record.a.b`.
fn schema_leaves(schema: &Value, node: &Value, prefix: &str, out: &mut Vec<String>) {
    let node = match node.get("$ref").and_then(Value::as_str) {
        Some(pointer) if pointer.starts_with("#/") => schema.pointer(&pointer[1..]).unwrap_or(node),
        _ => node,
    };
    let node = node
        .get("items")
        .filter(|_| node.get("properties").is_none())
        .unwrap_or(node);
    match node.get("properties").and_then(Value::as_object) {
        Some(properties) if !properties.is_empty() => {
            for (name, child) in properties {
                schema_leaves(schema, child, &format!("{prefix}.{name}"), out);
            }
        }
        _ => out.push(prefix.to_string()),
    }
}

fn target_fields(mapping: &str, schema: &str) -> Vec<String> {
    let text = std::fs::read_to_string(root().join("mappings").join(schema)).expect("schema");
    let schema: Value = serde_json::from_str(&text).expect("schema JSON");
    let mapping_text =
        std::fs::read_to_string(root().join(format!("mappings/{mapping}.map"))).expect("mapping");
    let record = mapping_text
        .lines()
        .find_map(|line| line.strip_prefix("target "))
        .and_then(|rest| rest.split_whitespace().next())
        .expect("a target line")
        .to_string();
    let mut fields = Vec::new();
    schema_leaves(&schema, &schema, &record, &mut fields);
    assert!(fields.len() > 3, "{mapping}: {fields:?}");
    fields
}

#[test]
fn the_markdown_sheet_of_each_shipped_mapping_matches_its_golden_file() {
    let bless = std::env::var_os("MAPCTL_BLESS").is_some();
    for (name, _) in MAPPINGS {
        let (stdout, stderr, code) = doc(&[
            &format!("mappings/{name}.map"),
            "--format",
            "markdown",
            "--no-coverage",
        ]);
        assert_eq!(code, 0, "{name}: {stderr}");
        let golden = root().join(format!("tests/sheet/{name}.md"));
        if bless {
            std::fs::create_dir_all(golden.parent().expect("folder")).expect("folder");
            std::fs::write(&golden, &stdout).expect("bless");
            continue;
        }
        let expected = std::fs::read_to_string(&golden)
            .unwrap_or_else(|_| panic!("missing {}: run with MAPCTL_BLESS=1", golden.display()));
        assert_eq!(
            stdout, expected,
            "{name}: re-bless with MAPCTL_BLESS=1 if intended"
        );
    }
}

#[test]
fn the_html_sheet_names_every_psa_field_and_needs_nothing_from_outside() {
    for (name, schema) in MAPPINGS {
        let (html, stderr, code) = doc(&[&format!("mappings/{name}.map"), "--no-coverage"]);
        assert_eq!(code, 0, "{name}: {stderr}");
        assert!(html.starts_with("<!DOCTYPE html>"), "{name}");
        for field in target_fields(name, schema) {
            assert!(
                html.contains(&format!("data-field=\"{field}\"")),
                "{name}: `{field}` is not on the sheet"
            );
        }
        let lower = html.to_ascii_lowercase();
        for forbidden in [
            "<script", "<link", "<img", "<iframe", "src=", "href=", "url(", "@import", "http://",
            "https://",
        ] {
            assert!(
                !lower.contains(forbidden),
                "{name}: the sheet contains `{forbidden}`"
            );
        }
        assert!(
            html.contains("prefers-color-scheme: dark"),
            "{name}: no dark scheme"
        );
        assert!(html.contains("@media print"), "{name}: no print layout");
        for section in [
            "fields",
            "required",
            "never-transfer",
            "sync-back",
            "checklist",
            "not-mapped",
            "coverage",
            "sign-off",
        ] {
            assert!(
                html.contains(&format!("<section id=\"{section}\">")),
                "{name}: no {section}"
            );
        }
        assert_eq!(
            html.matches("<tr").count(),
            html.matches("</tr>").count(),
            "{name}"
        );
        assert_eq!(
            html.matches("<section").count(),
            html.matches("</section>").count(),
            "{name}"
        );
    }
}

/// A copy of the shipped HubSpot mapping (with its schemas, tables and samples) in a temporary
/// folder, its text changed by `edit`.
fn copied_mapping(edit: &dyn Fn(String) -> String) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_tree(&root().join("mappings"), dir.path());
    let mapping = dir.path().join("hubspot_to_accelo.map");
    let text = std::fs::read_to_string(&mapping).expect("mapping");
    std::fs::write(&mapping, edit(text)).expect("edit");
    (dir, mapping)
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read dir").flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            std::fs::create_dir_all(to.join(&name)).expect("mkdir");
            copy_tree(&path, &to.join(&name));
        } else {
            std::fs::copy(&path, to.join(&name)).expect("copy");
        }
    }
}

#[test]
fn text_from_the_mapping_is_escaped_in_the_html() {
    let (_dir, mapping) = copied_mapping(&|text| {
        text.replace(
            "\"Resource plan agreed with delivery\"",
            "\"<script>alert('x')</script> & <b>bold</b>\"",
        )
        .replace(
            "\"close date must be set\"",
            "\"close date <img src=x onerror=alert(1)> must be set\"",
        )
    });
    let (html, stderr, code) = doc(&[mapping.to_str().expect("utf-8"), "--no-coverage"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        html.contains(
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;"
        )
    );
    assert!(html.contains("close date &lt;img src=x onerror=alert(1)&gt; must be set"));
    assert!(!html.contains("<script"));
    assert!(!html.contains("<img"));
}

#[test]
fn the_sheet_shows_the_coverage_of_the_last_test_run_and_when_it_is_stale() {
    let (dir, mapping) = copied_mapping(&|text| text);
    let mapping = mapping.to_str().expect("utf-8").to_string();
    let (html, _, _) = doc(&[&mapping]);
    assert!(
        html.contains("No recorded <code>mapctl test</code> run"),
        "{html}"
    );
    let tested = mapctl()
        .args([
            "test",
            dir.path()
                .join("hubspot_to_accelo.tests.yaml")
                .to_str()
                .expect("utf-8"),
        ])
        .output()
        .expect("mapctl test");
    assert_eq!(
        tested.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&tested.stderr)
    );
    let record = dir.path().join(".mapctl/coverage/hubspot_to_accelo.json");
    let recorded: Value =
        serde_json::from_str(&std::fs::read_to_string(&record).expect("a coverage record"))
            .expect("JSON");
    let passed = recorded["passed"].as_u64().expect("passed");
    assert!(passed > 3, "{recorded}");
    assert_eq!(recorded["failed"], 0);
    let (markdown, _, code) = doc(&[&mapping, "--format", "markdown"]);
    assert_eq!(code, 0);
    assert!(
        markdown.contains(&format!("{passed} passed, 0 failed")),
        "{markdown}"
    );
    assert!(!markdown.contains("has changed since"));
    let text = std::fs::read_to_string(&mapping).expect("mapping");
    std::fs::write(&mapping, format!("{text}\n# edited\n")).expect("edit");
    let (markdown, _, _) = doc(&[&mapping, "--format", "markdown"]);
    assert!(
        markdown.contains("The mapping has changed since"),
        "{markdown}"
    );
}

#[test]
fn a_sheet_written_to_a_file_picks_its_format_from_the_name_and_refuses_a_broken_mapping() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("sheet.md");
    let (stdout, stderr, code) = doc(&[
        "mappings/zoho_to_custom.map",
        "-o",
        out.to_str().expect("utf-8"),
        "--no-coverage",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.is_empty());
    let written = std::fs::read_to_string(&out).expect("the sheet");
    assert!(written.starts_with("# Mapping sheet: zoho_to_custom"));
    let (_dir, mapping) = copied_mapping(&|text| text.replace("dealname |", "dealnme |"));
    let (stdout, stderr, code) = doc(&[mapping.to_str().expect("utf-8")]);
    assert_eq!(code, 2);
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("M201") && stderr.contains("checks cleanly"),
        "{stderr}"
    );
}

/// The chromium binary, if one is installed.
fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|dir| dir.join(name))
                    .find(|candidate| candidate.is_file())
            })
        })
}

#[test]
fn each_shipped_sheet_renders_in_headless_chromium_with_every_psa_field() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("MAPCTL_REQUIRE_CHROMIUM").is_none(),
            "MAPCTL_REQUIRE_CHROMIUM is set (.ci/run installs chromium): `chromium` must be on PATH"
        );
        eprintln!("skipped: `chromium` not found (apt-get install chromium to render the sheets)");
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, schema) in MAPPINGS {
        let page = dir.path().join(format!("{name}.html"));
        let (_, stderr, code) = doc(&[
            &format!("mappings/{name}.map"),
            "-o",
            page.to_str().expect("utf-8"),
            "--no-coverage",
        ]);
        assert_eq!(code, 0, "{stderr}");
        let profile = dir.path().join(format!("profile-{name}"));
        let rendered = Command::new(&browser)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-extensions",
                &format!("--user-data-dir={}", profile.display()),
                "--dump-dom",
            ])
            .arg(format!("file://{}", page.display()))
            .output()
            .expect("chromium runs");
        let dom = String::from_utf8_lossy(&rendered.stdout);
        assert!(
            dom.contains("<h1>Mapping sheet:"),
            "{name}: chromium rendered no sheet: {}",
            String::from_utf8_lossy(&rendered.stderr)
        );
        for field in target_fields(name, schema) {
            assert!(
                dom.contains(&format!("data-field=\"{field}\"")),
                "{name}: `{field}` is not in the rendered page"
            );
        }
    }
}
