//! `apply` on arbitrary deal text with the reference benchmark mapping: never a panic; the
//! never-transfer fields never reach a written record. For the second law, the never-transfer
//! values of the deal are replaced by a canary the input does not otherwise contain, and the
//! written record must not contain it (field *names* may appear in free text legitimately).
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use mapctl::engine::{Deal, LoadOptions, Mapping, Outcome};

fn engine() -> &'static Mapping {
    static ENGINE: OnceLock<Mapping> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/reference.map");
        Mapping::load(&path, &LoadOptions::default()).expect("the mapping loads")
    })
}

const NEVER_TRANSFER: [&str; 2] = ["billing_preferences", "internal_rate_card"];
const CANARY: &str = "QX-CANARY-7f3a";

/// The deal with each never-transfer value replaced by the canary, when it has any.
fn with_canaries(data: &[u8]) -> Option<Vec<u8>> {
    if data.windows(CANARY.len()).any(|w| w == CANARY.as_bytes()) {
        return None;
    }
    let mut deal: serde_json::Value = serde_json::from_slice(data).ok()?;
    let properties = deal.get_mut("properties")?.as_object_mut()?;
    let mut replaced = false;
    for key in NEVER_TRANSFER {
        if let Some(value) = properties.get_mut(key) {
            *value = serde_json::Value::from(CANARY);
            replaced = true;
        }
    }
    replaced.then(|| deal.to_string().into_bytes())
}

fuzz_target!(|data: &[u8]| {
    let _ = engine().apply(Deal::Text(data), None);
    if let Some(canaried) = with_canaries(data) {
        let outcome = engine().apply(Deal::Text(&canaried), None).outcome;
        if let Outcome::Written { record, .. } = outcome {
            assert!(!record.to_string().contains(CANARY), "a never-transfer value leaked");
        }
    }
});
