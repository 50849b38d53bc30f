//! Per-deal `apply` cost: the reference benchmark mapping on one generated deal, read from its
//! JSON text the way `apply` reads NDJSON lines (validation while reading, planned fields only).
//!
//! Run with `cargo bench --bench apply`. Whole-process throughput against jq and a typed-Rust
//! baseline is measured by `python3 bench/run.py` (see docs/performance.md).

use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use mapctl::engine::{Deal, LoadOptions, Mapping, Outcome};

const DEAL: &str = r#"{"id":"18000000027","properties":{"amount":"5700.00","billing_preferences":"Invoice monthly; Net 60; PO-682385 required","closedate":"2024-11-09T15:12:06.495Z","company_name":"Umbrella Corp Inc","createdate":"2024-08-25T04:29:30.520Z","dealname":"Umbrella - Training programme 2024","dealstage":"closedwon","dealtype":"newbusiness","delivery_lead_email":"ivan.khan@ourfirm.example","description":"Budget approved after the second workshop; legal review took 9 days. They run SAP for finance and want weekly exports.","hs_lastmodifieddate":"2024-11-11T16:57:04.599Z","hs_object_id":"18000000027","hubspot_owner_id":"41012287","internal_rate_card":"Principal 246/h; floor margin 32%","pipeline":"default","resource_assignments":"lena rossi (PM, 40%)"},"createdAt":"2024-08-25T04:29:30.520Z","updatedAt":"2024-11-11T16:57:04.599Z","archived":false}"#;

fn compile_engine() -> Mapping {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/reference.map");
    let options = LoadOptions {
        validate_schemas: true,
        ..LoadOptions::default()
    };
    Mapping::load(&path, &options).expect("the reference mapping loads")
}

fn benches(c: &mut Criterion) {
    let engine = compile_engine();
    let outcome = engine.apply(Deal::Text(DEAL.as_bytes()), None).outcome;
    assert!(matches!(outcome, Outcome::Written { .. }), "{outcome:?}");
    c.bench_function("apply one deal from NDJSON text (reference mapping)", |b| {
        b.iter(|| engine.apply(Deal::Text(DEAL.as_bytes()), None))
    });
    let value: serde_json::Value = serde_json::from_str(DEAL).expect("json");
    c.bench_function("apply one parsed deal (reference mapping)", |b| {
        b.iter(|| engine.apply(Deal::Value(&value), None))
    });
    c.bench_function("load, check and compile the reference mapping", |b| {
        b.iter(compile_engine)
    });
}

criterion_group!(name = group; config = Criterion::default().sample_size(30); targets = benches);
criterion_main!(group);
