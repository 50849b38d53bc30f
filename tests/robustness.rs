//! The parser and checker never panic or hang, whatever the input: random bytes, random tokens of
//! the language, deep nesting. (Property tests; the time-boxed part of the fuzzing story. The
//! long-running fuzz targets are documented in docs/guarantees.md.)

use std::path::Path;

use mapctl::check::check_source;
use mapctl::source::SourceMap;
use mapctl::syntax::Limits;
use proptest::prelude::*;

/// Checks `text` as if it were a mapping in `tests/check/` (so schema paths can resolve).
fn check_text(text: &str) -> usize {
    let mut sources = SourceMap::new();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/check/fuzz_input.map");
    let file = sources.add(&path, "fuzz_input.map".into(), text.into());
    let output = check_source(&mut sources, file, &Limits::default());
    let rendered = mapctl::diag::render::human(
        &sources,
        &output.diagnostics,
        mapctl::diag::render::HumanStyle::plain(),
    );
    let json: Vec<_> = output
        .diagnostics
        .iter()
        .map(|d| mapctl::diag::render::json_diagnostic(&sources, d))
        .collect();
    rendered.len() + json.len()
}

/// Tokens besides the keywords: paths, operators, literals, and characters that break things.
const EXTRA_TOKENS: &[&str] = &[
    "psa",
    "crm",
    "deal",
    "job",
    "project",
    ".properties",
    ".amount",
    ".dealname",
    "[0]",
    "[id == 3]",
    "=",
    "==",
    "!=",
    ">=",
    "<",
    "=>",
    "??",
    "|",
    "trim",
    "number",
    "lookup(t)",
    "default(0)",
    "round(2)",
    "date(\"%Y\")",
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    ",",
    "\"closedwon\"",
    "\"schemas/crm_deal.schema.json\"",
    "\"a {deal.x} b\"",
    "\"\\q\"",
    "42",
    "-1.5",
    "1e400",
    "_",
    "#c\n",
    "\n",
    " ",
    "\"",
    "\\",
    "é",
    "\u{202e}",
    "\u{0}",
];

fn tokens() -> Vec<&'static str> {
    mapctl::syntax::KEYWORDS
        .iter()
        .chain(EXTRA_TOKENS)
        .copied()
        .collect()
}

fn token_soup(seed: u64, count: usize) -> String {
    let mut state = seed | 1;
    let mut out = String::new();
    for i in 0..count {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let tokens = tokens();
        out.push_str(tokens[(state % tokens.len() as u64) as usize]);
        out.push(if i % 9 == 8 { '\n' } else { ' ' });
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_text_never_panics(text in "\\PC{0,400}") {
        check_text(&text);
    }

    #[test]
    fn random_token_sequences_never_panic(tokens in prop::collection::vec(prop::sample::select(tokens()), 0..120)) {
        check_text(&tokens.join(" "));
    }

    #[test]
    fn edits_of_a_valid_mapping_never_panic(cut in 0usize..4000, insert in prop::sample::select(tokens())) {
        let base = std::fs::read_to_string("mappings/hubspot_to_accelo.map").expect("shipped mapping");
        let at = mapctl::source::clamp_to_char_boundary(&base, cut.min(base.len()));
        let edited = format!("{}{}{}", &base[..at], insert, &base[at..]);
        let mut sources = SourceMap::new();
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings/edited.map");
        let file = sources.add(&path, "edited.map".into(), edited.into());
        check_source(&mut sources, file, &Limits::default());
    }
}

#[test]
fn ten_thousand_lines_of_random_tokens_finish() {
    let text = token_soup(0x5eed, 90_000);
    assert!(text.lines().count() >= 10_000);
    check_text(&text);
}

#[test]
fn ten_thousand_lines_of_random_bytes_finish() {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut bytes = Vec::with_capacity(400_000);
    for i in 0..400_000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        bytes.push(if i % 40 == 39 {
            b'\n'
        } else {
            (state >> 24) as u8
        });
    }
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.lines().count() >= 10_000);
    check_text(&text);
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    for opener in ["(", "[", "\"{"] {
        let text = format!("mapping x\ntrigger when {}", opener.repeat(100_000));
        check_text(&text);
    }
    let deep_condition = format!("trigger when {}deal.x{}", "not ".repeat(50_000), "");
    check_text(&deep_condition);
}
