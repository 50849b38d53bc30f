//! The hostile-input budgets of issue 23, measured: work that used to grow quadratically with
//! the input and must now grow linearly. Each group runs at two sizes four times apart, so a
//! linear cost shows as a ratio near 4 (quadratic was 16):
//!
//! - `select` branches checked for reachability (M309): 1,000 and 4,000 `==` branches;
//! - `fmt` of one block of 1,000 and 4,000 lines;
//! - human rendering of 2,000 and 8,000 diagnostics (duplicate target assignments, M302);
//! - `check` of a schema whose `$ref` chain is 1,500 and 6,000 links long (refused, M610) and of
//!   a 1,500- and 6,000-level property chain (accepted);
//! - parsing one `map` block of 25,000 and 100,000 lines with a syntax error on its first line
//!   and 48 on its last lines (block recovery reads each part of the block once).
//!
//! Run with `cargo bench --bench hostile`.

use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};
use mapctl::check::check_file;
use mapctl::diag::render::{HumanStyle, human};
use mapctl::source::SourceMap;
use mapctl::syntax::Limits;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn reference_text() -> String {
    std::fs::read_to_string(root().join("bench/reference.map")).expect("bench/reference.map")
}

/// A folder holding the bench schemas, for generated mappings.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("schemas")).expect("mkdir");
    for entry in std::fs::read_dir(root().join("bench/schemas"))
        .expect("bench schemas")
        .flatten()
    {
        std::fs::copy(
            entry.path(),
            dir.path().join("schemas").join(entry.file_name()),
        )
        .expect("copy schema");
    }
    dir
}

/// `reference.map` with `lines` inserted after the line starting with `after`.
fn with_lines(dir: &Path, name: &str, after: &str, lines: &str) -> PathBuf {
    let text = reference_text();
    let at = text.find(after).expect("anchor line");
    let end = at + text[at..].find('\n').expect("line end") + 1;
    let path = dir.join(name);
    std::fs::write(&path, format!("{}{lines}{}", &text[..end], &text[end..])).expect("write");
    path
}

fn select_mapping(dir: &Path, branches: usize) -> PathBuf {
    let lines: String = (0..branches)
        .map(|k| format!("  when deal.properties.dealname == \"name {k}\" => \"enterprise\"\n"))
        .collect();
    with_lines(
        dir,
        &format!("select_{branches}.map"),
        "select project.template {",
        &lines,
    )
}

fn duplicates_mapping(dir: &Path, copies: usize) -> PathBuf {
    let line = "  project.title = deal.properties.dealname ?? null\n".repeat(copies);
    with_lines(dir, &format!("duplicates_{copies}.map"), "map {", &line)
}

/// A mapping whose deal schema's `dealname` is a chain of `links` `$ref`s (`in_place`) or of
/// `links` nested `properties` levels.
fn chain_mapping(dir: &Path, links: usize, in_place: bool) -> PathBuf {
    let text = std::fs::read_to_string(dir.join("schemas/deal.schema.json")).expect("deal schema");
    let mut schema: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let mut defs = serde_json::Map::new();
    for i in 0..links {
        let next = format!("#/$defs/n{}", i + 1);
        let link = if in_place {
            serde_json::json!({"$ref": next})
        } else {
            serde_json::json!({"type": "object", "properties": {"c": {"$ref": next}}})
        };
        defs.insert(format!("n{i}"), link);
    }
    defs.insert(format!("n{links}"), serde_json::json!({"type": "string"}));
    schema["$defs"] = serde_json::Value::Object(defs);
    schema["properties"]["tree"] = serde_json::json!({"$ref": "#/$defs/n0"});
    let name = format!("chain_{links}_{in_place}.schema.json");
    std::fs::write(dir.join("schemas").join(&name), schema.to_string()).expect("write schema");
    let mapping =
        reference_text().replacen("schemas/deal.schema.json", &format!("schemas/{name}"), 1);
    let path = dir.join(format!("chain_{links}_{in_place}.map"));
    std::fs::write(&path, mapping).expect("write mapping");
    path
}

/// A mapping whose one `map` block has `lines` assignments, a stray `@` on the first and on the
/// last 48.
fn broken_block(lines: usize) -> String {
    let mut text = String::from("mapping broken\nmap {\n");
    for i in 0..lines {
        let stray = if i == 0 || i + 48 >= lines { " @" } else { "" };
        text.push_str(&format!(
            "  project.f{i} = deal.properties.dealname | trim{stray}\n"
        ));
    }
    text.push_str("}\n");
    text
}

fn diagnostics_of(path: &Path) -> (SourceMap, Vec<mapctl::diag::Diagnostic>) {
    let mut sources = SourceMap::new();
    let output = check_file(&mut sources, path, &Limits::default()).expect("readable");
    (sources, output.diagnostics)
}

fn benches(c: &mut Criterion) {
    let dir = workspace();
    for branches in [1_000, 4_000] {
        let path = select_mapping(dir.path(), branches);
        c.bench_function(&format!("check select of {branches} branches"), |b| {
            b.iter(|| diagnostics_of(&path).1.len())
        });
    }
    for branches in [1_000, 4_000] {
        let text = std::fs::read_to_string(select_mapping(dir.path(), branches)).expect("read");
        c.bench_function(&format!("fmt block of {branches} lines"), |b| {
            b.iter(|| {
                mapctl::syntax::format::format(&text)
                    .map(|t| t.len())
                    .unwrap_or(0)
            })
        });
    }
    for copies in [2_000, 8_000] {
        let (sources, diagnostics) = diagnostics_of(&duplicates_mapping(dir.path(), copies));
        assert!(
            diagnostics.len() >= copies - 1,
            "duplicates must be reported"
        );
        c.bench_function(&format!("render {copies} diagnostics (human)"), |b| {
            b.iter(|| human(&sources, &diagnostics, HumanStyle::plain()).len())
        });
    }
    for lines in [25_000, 100_000] {
        let text = broken_block(lines);
        let limits = Limits {
            max_mapping_bytes: usize::MAX,
            ..Limits::default()
        };
        let errors = mapctl::syntax::parse(&text, mapctl::source::FileId(0), &limits)
            .1
            .len();
        assert_eq!(errors, 49, "every stray token must be reported");
        c.bench_function(&format!("parse a block of {lines} lines, 49 errors"), |b| {
            b.iter(|| {
                mapctl::syntax::parse(&text, mapctl::source::FileId(0), &limits)
                    .1
                    .len()
            })
        });
    }
    for in_place in [true, false] {
        for links in [1_500, 6_000] {
            let path = chain_mapping(dir.path(), links, in_place);
            let what = if in_place {
                "$ref chain"
            } else {
                "property chain"
            };
            c.bench_function(&format!("check {what} of {links} links"), |b| {
                b.iter(|| diagnostics_of(&path).1.len())
            });
        }
    }
}

criterion_group!(name = group; config = Criterion::default().sample_size(10); targets = benches);
criterion_main!(group);
