//! The whole checker on arbitrary mapping text, with the fixed schemas of `tests/check/schemas`
//! (the text is checked as if it were `tests/check/fuzz.map`), and every renderer on the result.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use mapctl::check::check_source;
use mapctl::diag::render::{HumanStyle, github, human, json_diagnostic};
use mapctl::source::SourceMap;
use mapctl::syntax::Limits;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut sources = SourceMap::new();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/check/fuzz.map");
    let file = sources.add(&path, "fuzz.map".into(), text.into());
    let output = check_source(&mut sources, file, &Limits::default());
    let _ = human(&sources, &output.diagnostics, HumanStyle::plain());
    let _ = github(&sources, &output.diagnostics);
    for diagnostic in &output.diagnostics {
        let _ = json_diagnostic(&sources, diagnostic);
    }
});
