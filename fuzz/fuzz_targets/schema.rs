//! Schema loading and compiling on an arbitrary schema document: the fuzzed bytes are written as
//! the target schema of a small fixed mapping, which is then checked.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mapctl::check::check_file;
use mapctl::source::SourceMap;
use mapctl::syntax::Limits;

const MAPPING: &str = "mapping fuzz\nsource deal = schema \"deal.json\"\ntarget project = schema \"project.json\"\ntrigger when deal.stage == \"won\"\nmap { project.name = deal.name }\n";
const DEAL: &str = r#"{"type": "object", "properties": {"stage": {"enum": ["won", "open"]}, "name": {"type": "string"}}}"#;

fuzz_target!(|data: &[u8]| {
    let Ok(dir) = tempfile_dir() else { return };
    let _ = std::fs::write(dir.join("deal.json"), DEAL);
    let _ = std::fs::write(dir.join("project.json"), data);
    let _ = std::fs::write(dir.join("fuzz.map"), MAPPING);
    let mut sources = SourceMap::new();
    if let Ok(output) = check_file(&mut sources, &dir.join("fuzz.map"), &Limits::default()) {
        let options = mapctl::engine::LoadOptions::default();
        let _ = mapctl::engine::Mapping::from_checked(sources, output, &options);
    }
});

fn tempfile_dir() -> std::io::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("mapctl-fuzz-schema-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
