//! Laws of the language server's position features, on the shipped mappings:
//! - completion at the start of any field step of any path offers that step's name (the server's
//!   members are the checker's: every path in a clean mapping resolves);
//! - hover on any step of any path describes it, and go to definition finds it in a schema;
//! - on random edits (deletions, half-typed tokens) at random places, hover, completion and
//!   definition answer without panicking.

use std::path::{Path, PathBuf};

use lsp_types::{Position, Uri};
use mapctl::lsp::analysis::Analysis;
use mapctl::lsp::position::to_position;
use mapctl::lsp::{complete, hover};
use mapctl::syntax::ast::SegmentKind;
use mapctl::syntax::find::paths;
use proptest::prelude::*;

fn shipped() -> Vec<(PathBuf, String)> {
    ["hubspot_to_accelo", "copper_to_harvest", "zoho_to_custom"]
        .iter()
        .map(|name| {
            let path = std::fs::canonicalize(Path::new("mappings").join(format!("{name}.map")))
                .expect("shipped mapping");
            let text = std::fs::read_to_string(&path).expect("readable");
            (path, text)
        })
        .collect()
}

fn uri(path: &Path) -> Uri {
    mapctl::lsp::uri::path_to_uri(path).expect("a file URI")
}

fn labels(analysis: &Analysis, position: Position) -> Vec<String> {
    complete::completion(analysis, position)
        .into_iter()
        .map(|item| item.label)
        .collect()
}

#[test]
fn completion_before_any_field_step_offers_its_name() {
    for (path, text) in shipped() {
        let analysis = Analysis::new(&path, text.clone());
        assert!(
            analysis.output.program.is_some(),
            "{} checks",
            path.display()
        );
        let mut steps = 0;
        for written in paths(&analysis.output.ast) {
            for segment in &written.segments {
                let SegmentKind::Field(name) = &segment.kind else {
                    continue;
                };
                if !text[segment.span.start..].starts_with(name.as_str()) {
                    continue; // a quoted name: the cursor would be inside the string
                }
                let offered = labels(&analysis, to_position(&text, segment.span.start));
                assert!(
                    offered.contains(name),
                    "{}: `{}` before `{name}` offers {offered:?}",
                    path.display(),
                    written.display()
                );
                steps += 1;
            }
        }
        assert!(steps > 20, "{}: only {steps} steps", path.display());
    }
}

#[test]
fn hover_and_definition_know_every_step_of_every_path() {
    for (path, text) in shipped() {
        let analysis = Analysis::new(&path, text.clone());
        let document = uri(&path);
        for written in paths(&analysis.output.ast) {
            for (index, segment) in written.segments.iter().enumerate() {
                let at = to_position(&text, segment.span.start);
                let shown = hover::hover(&analysis, at).expect("a hover on every step");
                let lsp_types::HoverContents::Markup(markup) = shown.contents else {
                    panic!("markdown hovers");
                };
                let prefix = written.display_prefix(index + 1);
                assert!(
                    markup.value.starts_with(&format!("**`{prefix}`**")),
                    "{}",
                    markup.value
                );
                if matches!(segment.kind, SegmentKind::Field(_)) {
                    let location = hover::definition(&analysis, at, &document)
                        .unwrap_or_else(|| panic!("a definition for `{prefix}`"));
                    assert!(location.uri.as_str().ends_with(".json"), "{prefix}");
                }
            }
        }
    }
}

/// Edits an author makes while typing.
const TYPED: &[&str] = &[
    ".", "|", "| ", "\"", "(", ")", "{", "}", "[", "]", " == \"", "lookup(", "deal.", "job.",
    "project.", " ?? ", "\\", "#", "\n", "{deal.", "=> \"", " in [\"",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn position_features_never_panic_on_edits(
        mapping in 0usize..3,
        at in 0usize..10_000,
        cut in 0usize..40,
        typed in proptest::sample::select(TYPED),
        probes in proptest::collection::vec(0usize..60, 1..4),
    ) {
        let (path, text) = shipped().swap_remove(mapping);
        let at = mapctl::source::clamp_to_char_boundary(&text, at % text.len());
        let end = mapctl::source::clamp_to_char_boundary(&text, (at + cut).min(text.len()));
        let edited = format!("{}{typed}{}", &text[..at], &text[end..]);
        let analysis = Analysis::new(&path, edited.clone());
        let document = uri(&path);
        for probe in probes {
            let offset = mapctl::source::clamp_to_char_boundary(
                &edited,
                (at + typed.len() + probe).saturating_sub(30).min(edited.len()),
            );
            let position = to_position(&edited, offset);
            let _ = complete::completion(&analysis, position);
            let _ = hover::hover(&analysis, position);
            let _ = hover::definition(&analysis, position, &document);
            let range = lsp_types::Range::new(position, position);
            let _ = mapctl::lsp::actions::code_actions(&analysis, &document, range, &[]);
        }
    }
}
