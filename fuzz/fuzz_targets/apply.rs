//! `apply` on arbitrary deal text with the reference benchmark mapping: never a panic; the
//! never-transfer fields never reach a written record.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use mapctl::check::check_file;
use mapctl::eval::{Engine, Outcome};
use mapctl::io::input::Payload;
use mapctl::source::SourceMap;
use mapctl::syntax::Limits;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut sources = SourceMap::new();
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../bench/reference.map");
        let output = check_file(&mut sources, &path, &Limits::default()).expect("mapping");
        Engine::new(output.program.expect("checks clean"), &output.schemas).expect("engine")
    })
}

fuzz_target!(|data: &[u8]| {
    let (_, outcome) = engine().run_payload(Payload::Text(data), None, false);
    if let Outcome::Written { record, .. } = outcome {
        let text = record.to_string();
        assert!(!text.contains("billing_preferences") && !text.contains("internal_rate_card"));
    }
});
