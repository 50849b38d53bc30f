//! The `mapctl` binary as a user runs it: exit codes, output formats, the acceptance scenarios.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs mapctl remembering no schema verdicts (the cache is tested on its own below).
fn mapctl(args: &[&str], dir: &Path) -> Output {
    mapctl_caching_in(args, dir, "")
}

/// Runs mapctl with `MAPCTL_CACHE_DIR` set to `cache` (empty: remember nothing).
fn mapctl_caching_in(args: &[&str], dir: &Path, cache: impl AsRef<std::ffi::OsStr>) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mapctl"))
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .env("MAPCTL_CACHE_DIR", cache)
        .output()
        .expect("mapctl runs")
}

fn verdict_count(cache: &Path) -> usize {
    std::fs::read_dir(cache.join("schema-verdicts")).map_or(0, |listing| listing.count())
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A copy of `mappings/` in a temporary folder, with `hubspot_to_accelo.map` edited.
fn edited_copy(edit: impl Fn(&str) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(&root().join("mappings"), dir.path());
    let map = dir.path().join("hubspot_to_accelo.map");
    let original = std::fs::read_to_string(&map).expect("shipped mapping");
    let changed = edit(&original);
    assert_ne!(original, changed, "the edit must change the mapping");
    std::fs::write(&map, changed).expect("write edited mapping");
    dir
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

#[test]
fn check_remembers_valid_schema_files_and_still_reports_a_broken_one() {
    let work = edited_copy(|text| text.replacen("\n", "\n# a comment\n", 1));
    let cache = tempfile::tempdir().expect("temp dir");
    let first = mapctl_caching_in(
        &["check", "hubspot_to_accelo.map"],
        work.path(),
        cache.path(),
    );
    assert_eq!(first.status.code(), Some(0), "{}", text(&first));
    assert_eq!(
        verdict_count(cache.path()),
        3,
        "the three schema files are remembered"
    );
    let again = mapctl_caching_in(
        &["check", "hubspot_to_accelo.map"],
        work.path(),
        cache.path(),
    );
    assert_eq!(text(&again), text(&first));
    assert_eq!(verdict_count(cache.path()), 3);

    let schema = work.path().join("schemas/accelo/job.schema.json");
    let valid = std::fs::read_to_string(&schema).expect("shipped schema");
    let broken = valid.replacen("\"type\": \"object\"", "\"type\": \"objekt\"", 1);
    assert_ne!(valid, broken);
    std::fs::write(&schema, broken).expect("write schema");
    for _ in 0..2 {
        let out = mapctl_caching_in(
            &["check", "hubspot_to_accelo.map"],
            work.path(),
            cache.path(),
        );
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(text(&out).contains("M603"), "{}", text(&out));
    }
    assert_eq!(
        verdict_count(cache.path()),
        3,
        "an invalid file is never remembered"
    );

    let unused = tempfile::tempdir().expect("temp dir");
    let out = mapctl_caching_in(
        &["check", "--no-cache", "mappings/hubspot_to_accelo.map"],
        &root(),
        unused.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(verdict_count(unused.path()), 0, "--no-cache writes nothing");
}

#[test]
fn shipped_mapping_checks_clean() {
    let out = mapctl(&["check", "mappings/hubspot_to_accelo.map"], &root());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("0 errors, 0 warnings"),
        "{}",
        text(&out)
    );
}

#[test]
fn every_shipped_mapping_checks_clean_with_warnings_denied() {
    let out = mapctl(&["check", "--deny-warnings", "mappings"], &root());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn renamed_source_field_is_caught_with_a_suggestion() {
    let dir = edited_copy(|m| {
        m.replacen(
            "= deal.properties.dealname |",
            "= deal.properties.dealnme |",
            1,
        )
    });
    let out = mapctl(&["check", "hubspot_to_accelo.map"], dir.path());
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("M201"), "{shown}");
    assert!(shown.contains("has no field `dealnme`"), "{shown}");
    assert!(shown.contains("did you mean `dealname`?"), "{shown}");
}

#[test]
fn renamed_trigger_stage_lists_the_stage_ids() {
    let dir =
        edited_copy(|m| m.replace("dealstage == \"closedwon\"", "dealstage == \"closed_won\""));
    let out = mapctl(&["check", "hubspot_to_accelo.map"], dir.path());
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("M205"), "{shown}");
    for stage in [
        "appointmentscheduled",
        "contractsent",
        "closedwon",
        "closedlost",
    ] {
        assert!(shown.contains(stage), "stage {stage} not listed:\n{shown}");
    }
}

#[test]
fn deleting_a_required_field_rule_points_into_the_schema() {
    let dir = edited_copy(|m| {
        m.lines()
            .filter(|l| !l.trim_start().starts_with("job.budget "))
            .collect::<Vec<_>>()
            .join("\n")
    });
    let out = mapctl(&["check", "hubspot_to_accelo.map"], dir.path());
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("M303"), "{shown}");
    assert!(shown.contains("`job.budget`"), "{shown}");
    assert!(shown.contains("schemas/accelo/job.schema.json"), "{shown}");
}

#[test]
fn never_transfer_field_in_a_template_is_refused() {
    let dir = edited_copy(|m| {
        m.replace(
            "{deal.properties.description ?? \"\"}",
            "{deal.properties.internal_rate_card ?? \"\"}",
        )
    });
    let out = mapctl(&["check", "hubspot_to_accelo.map"], dir.path());
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(shown.contains("M207"), "{shown}");
}

#[test]
fn json_format_is_one_parseable_document() {
    let dir = edited_copy(|m| {
        m.replacen(
            "= deal.properties.dealname |",
            "= deal.properties.dealnme |",
            1,
        )
    });
    let out = mapctl(
        &["check", "--format", "json", "hubspot_to_accelo.map"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    let document: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(document["version"], 1);
    assert_eq!(document["summary"]["errors"], 1);
    let first = &document["diagnostics"][0];
    assert_eq!(first["code"], "M201");
    assert_eq!(first["severity"], "error");
    assert_eq!(first["file"], "hubspot_to_accelo.map");
    for key in ["line", "column", "end_line", "end_column"] {
        assert!(
            first[key].as_u64().is_some_and(|n| n > 0),
            "{key} missing in {first}"
        );
    }
    assert_eq!(first["help"], "did you mean `dealname`?");
    assert!(
        first["labels"].as_array().is_some_and(|l| l.len() >= 2),
        "labels: {first}"
    );
}

#[test]
fn github_format_prints_workflow_annotations() {
    let dir = edited_copy(|m| {
        m.replacen(
            "= deal.properties.dealname |",
            "= deal.properties.dealnme |",
            1,
        )
    });
    let out = mapctl(
        &["check", "--format", "github", "hubspot_to_accelo.map"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("::error file=hubspot_to_accelo.map,line="),
        "{stdout}"
    );
    assert!(stdout.contains("title=M201"), "{stdout}");
}

#[test]
fn no_colour_when_not_on_a_terminal() {
    let dir = edited_copy(|m| {
        m.replacen(
            "= deal.properties.dealname |",
            "= deal.properties.dealnme |",
            1,
        )
    });
    let out = mapctl(&["check", "hubspot_to_accelo.map"], dir.path());
    assert!(
        !text(&out).contains('\u{1b}'),
        "ANSI escapes in piped output"
    );
    let forced = mapctl(
        &["check", "--color", "always", "hubspot_to_accelo.map"],
        dir.path(),
    );
    assert!(
        text(&forced).contains('\u{1b}'),
        "--color always should colour"
    );
}

#[test]
fn warnings_fail_only_with_deny_warnings() {
    let dir = edited_copy(|m| {
        m.replace(
            "table job_types {",
            "table unused_rows {\n  \"a\" => \"b\"\n}\n\ntable job_types {",
        )
    });
    let relaxed = mapctl(&["check", "hubspot_to_accelo.map"], dir.path());
    assert_eq!(relaxed.status.code(), Some(0), "{}", text(&relaxed));
    assert!(text(&relaxed).contains("M405"));
    let strict = mapctl(
        &["check", "--deny-warnings", "hubspot_to_accelo.map"],
        dir.path(),
    );
    assert_eq!(strict.status.code(), Some(1));
}

#[test]
fn missing_file_cannot_run() {
    let out = mapctl(&["check", "no/such/file.map"], &root());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("cannot read `no/such/file.map`"),
        "{}",
        text(&out)
    );
}

#[test]
fn check_without_paths_searches_the_current_folder() {
    let out = mapctl(&["check"], &root().join("mappings"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("hubspot_to_accelo.map: ok"));
}

#[test]
fn explain_prints_the_documented_entry() {
    let out = mapctl(&["explain", "m204"], &root());
    assert_eq!(out.status.code(), Some(0));
    let shown = text(&out);
    assert!(shown.starts_with("## M204"), "{shown}");
    assert!(shown.contains("zero budget"), "{shown}");
    assert!(!shown.contains("## M205"), "entry runs into the next one");
    let unknown = mapctl(&["explain", "X1"], &root());
    assert_eq!(unknown.status.code(), Some(2));
}
