//! `mapctl check` speed: the shipped HubSpot -> Accelo mapping, and a generated 1,000-rule mapping
//! against a 500-property source schema (the editor-on-every-keystroke budget).
//!
//! Run with `cargo bench --bench check`.

use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};
use mapctl::check::check_file;
use mapctl::source::SourceMap;
use mapctl::syntax::Limits;

fn check(path: &Path) -> usize {
    let mut sources = SourceMap::new();
    let output = check_file(&mut sources, path, &Limits::default()).expect("mapping readable");
    assert!(
        output.program.is_some(),
        "benchmark mapping must check clean: {:?}",
        output.diagnostics.first()
    );
    output.diagnostics.len()
}

/// Writes a mapping with `rules` map rules reading a `properties`-wide source schema.
pub fn generate(dir: &Path, properties: usize, rules: usize) -> PathBuf {
    let source_props: Vec<String> = (0..properties)
        .map(|i| {
            format!(
                "\"p{i}\": {{\"type\": [\"string\", \"null\"], \"description\": \"property {i}\"}}"
            )
        })
        .collect();
    let source = format!(
        "{{\"type\": \"object\", \"required\": [\"properties\"], \"properties\": {{\"id\": {{\"type\": \"string\"}}, \"properties\": {{\"type\": \"object\", \"properties\": {{\"stage\": {{\"type\": \"string\", \"enum\": [\"open\", \"won\"]}}, {}}}}}}}}}",
        source_props.join(", ")
    );
    let target_props: Vec<String> = (0..rules)
        .map(|i| format!("\"f{i}\": {{\"type\": \"string\", \"maxLength\": 200}}"))
        .collect();
    let target = format!(
        "{{\"type\": \"object\", \"required\": [\"f0\"], \"properties\": {{{}}}, \"additionalProperties\": false}}",
        target_props.join(", ")
    );
    std::fs::write(dir.join("source.schema.json"), source).expect("write schema");
    std::fs::write(dir.join("target.schema.json"), target).expect("write schema");
    let mut mapping = String::from(
        "mapping generated\nsource deal = schema \"source.schema.json\"\ntarget project = schema \"target.schema.json\"\ntrigger when deal.properties.stage == \"won\"\nrequire at stage \"won\" {\n  deal.properties.p0\n}\nmap {\n",
    );
    for i in 0..rules {
        let p = i % properties;
        mapping.push_str(&format!("  project.f{i} = deal.properties.p{p} | collapse_whitespace | truncate(200) ?? \"none\"\n"));
    }
    mapping.push_str("}\n");
    let path = dir.join("generated.map");
    std::fs::write(&path, mapping).expect("write mapping");
    path
}

fn benches(c: &mut Criterion) {
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings/hubspot_to_accelo.map");
    c.bench_function("check shipped hubspot_to_accelo.map", |b| {
        b.iter(|| check(&shipped))
    });
    let dir = tempfile::tempdir().expect("temp dir");
    for rules in [250, 1000] {
        let generated = generate(dir.path(), 500, rules);
        c.bench_function(
            &format!("check generated {rules} rules x 500 properties"),
            |b| b.iter(|| check(&generated)),
        );
    }
}

criterion_group!(name = group; config = Criterion::default().sample_size(20); targets = benches);
criterion_main!(group);
