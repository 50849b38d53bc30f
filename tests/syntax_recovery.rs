//! Laws of syntax-error recovery inside a block (issue 23: "one syntax error per item hides the
//! rest"), over every mapping shipped in `mappings/` and `tests/` that parses cleanly:
//!
//! - **nothing invented**: one stray token after any statement of any block, or at the end of
//!   any line inside a statement written over several lines, gives exactly one syntax error, at
//!   that token;
//! - **nothing hidden**: stray tokens after two statements of the same block, each alone on its
//!   lines, give exactly two syntax errors, at those tokens.

use std::path::{Path, PathBuf};

use mapctl::diag::{Code, Diagnostic};
use mapctl::source::{FileId, Span};
use mapctl::syntax::ast::{Item, TableBody};
use mapctl::syntax::{Limits, parse};

/// Every `*.map` under `dir`, recursively.
fn maps_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            maps_under(&path, out);
        } else if path.extension().is_some_and(|e| e == "map") {
            out.push(path);
        }
    }
}

/// The shipped mappings that parse without a syntax error, with their text.
fn clean_mappings() -> Vec<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = Vec::new();
    maps_under(&root.join("mappings"), &mut paths);
    maps_under(&root.join("tests"), &mut paths);
    paths.sort();
    let clean: Vec<_> = paths
        .into_iter()
        .filter_map(|path| {
            let text = std::fs::read_to_string(&path).ok()?;
            let (ast, diagnostics) = parse(&text, FileId(0), &Limits::default());
            let syntax_error = diagnostics.iter().any(is_syntax_error);
            (!ast.has_syntax_errors && !syntax_error).then_some((path, text))
        })
        .collect();
    assert!(
        clean.len() > 50,
        "only {} clean mappings found",
        clean.len()
    );
    clean
}

fn is_syntax_error(d: &Diagnostic) -> bool {
    d.code == Code::M101
}

/// The statements of each block of a parsed file: one list of spans per block.
fn blocks(text: &str) -> Vec<Vec<Span>> {
    let (ast, _) = parse(text, FileId(0), &Limits::default());
    ast.items
        .iter()
        .filter_map(|item| {
            let spans: Vec<Span> = match item {
                Item::Map(block) => block.assignments.iter().map(|a| a.span).collect(),
                Item::SyncBack(block) => block.assignments.iter().map(|a| a.span).collect(),
                Item::Select(select) => select
                    .arms
                    .iter()
                    .map(|a| a.span)
                    .chain(select.otherwise.iter().map(|o| o.span))
                    .collect(),
                Item::Require(block) => block.rules.iter().map(|r| r.span).collect(),
                Item::NeverTransfer(block) => block.paths.iter().map(|p| p.span).collect(),
                Item::Checklist(block) => block.items.iter().map(|s| s.span).collect(),
                Item::Table(table) => match &table.body {
                    TableBody::Inline(rows) => rows.iter().map(|r| r.span).collect(),
                    TableBody::File(_) => return None,
                },
                _ => return None,
            };
            (!spans.is_empty()).then_some(spans)
        })
        .collect()
}

/// True when the statement at `span` is alone on its lines: only blanks before it on its first
/// line and only blanks or a comment after it on its last.
fn alone_on_its_lines(text: &str, span: Span) -> bool {
    let line_start = text[..span.start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[span.end..]
        .find('\n')
        .map_or(text.len(), |i| span.end + i);
    let after = text[span.end..line_end].trim_start();
    text[line_start..span.start].trim().is_empty() && (after.is_empty() || after.starts_with('#'))
}

/// `text` with ` @` inserted after each of `spans` (sorted); returns the text and the
/// positions of the `@`s in it.
fn with_stray_tokens(text: &str, spans: &[Span]) -> (String, Vec<usize>) {
    let mut out = String::with_capacity(text.len() + 2 * spans.len());
    let mut at = Vec::new();
    let mut copied = 0;
    for span in spans {
        out.push_str(&text[copied..span.end]);
        out.push(' ');
        at.push(out.len());
        out.push('@');
        copied = span.end;
    }
    out.push_str(&text[copied..]);
    (out, at)
}

/// The positions of the syntax errors of `text`.
fn syntax_errors_at(text: &str) -> Vec<usize> {
    let (_, diagnostics) = parse(text, FileId(0), &Limits::default());
    diagnostics
        .iter()
        .filter(|d| is_syntax_error(d))
        .map(|d| d.primary.span.start)
        .collect()
}

#[test]
fn one_stray_token_after_any_statement_is_exactly_one_error_there() {
    let mut tried = 0;
    for (path, text) in clean_mappings() {
        for span in blocks(&text).into_iter().flatten() {
            let (broken, at) = with_stray_tokens(&text, &[span]);
            assert_eq!(
                syntax_errors_at(&broken),
                at,
                "{}: a `@` after the statement at byte {}",
                path.display(),
                span.start
            );
            tried += 1;
        }
    }
    assert!(tried > 200, "only {tried} statements tried");
}

#[test]
fn stray_tokens_after_two_statements_of_one_block_are_both_reported() {
    let mut tried = 0;
    for (path, text) in clean_mappings() {
        for statements in blocks(&text) {
            let alone: Vec<Span> = statements
                .into_iter()
                .filter(|s| alone_on_its_lines(&text, *s))
                .collect();
            // The first with the last, and every neighbouring pair: bounded work per block.
            let mut pairs: Vec<(usize, usize)> = (1..alone.len()).map(|i| (i - 1, i)).collect();
            if alone.len() > 2 {
                pairs.push((0, alone.len() - 1));
            }
            for (a, b) in pairs {
                let (broken, at) = with_stray_tokens(&text, &[alone[a], alone[b]]);
                assert_eq!(
                    syntax_errors_at(&broken),
                    at,
                    "{}: `@` after the statements at bytes {} and {}\n{}",
                    path.display(),
                    alone[a].start,
                    alone[b].start,
                    &broken[alone[a].start..(at[1] + 1).min(broken.len())]
                );
                tried += 1;
            }
        }
    }
    assert!(tried > 100, "only {tried} pairs tried");
}

#[test]
fn one_stray_token_inside_a_statement_over_several_lines_is_exactly_one_error() {
    let mut tried = 0;
    for (path, text) in clean_mappings() {
        for span in blocks(&text).into_iter().flatten() {
            let inner = &text[span.start..span.end];
            for (offset, _) in inner.match_indices('\n') {
                let line_end = span.start + offset;
                let line_start = text[..line_end].rfind('\n').map_or(0, |i| i + 1);
                if text[line_start..line_end].contains('#') {
                    continue;
                }
                let cut = Span::new(FileId(0), span.start, line_end);
                let (broken, at) = with_stray_tokens(&text, &[cut]);
                assert_eq!(
                    syntax_errors_at(&broken),
                    at,
                    "{}: a `@` at the end of the line ending at byte {line_end}",
                    path.display()
                );
                tried += 1;
            }
        }
    }
    assert!(tried > 20, "only {tried} lines tried");
}
