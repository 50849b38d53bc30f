//! The pest parser and the recovering loop that parses one top-level item at a time.

use pest::Parser as _;
use pest::iterators::Pair;

use super::ast::MappingFile;
use super::errors::syntax_error;
use super::limits::{self, Limits};
use super::lower::Lowerer;
use crate::diag::{Code, Diagnostic};
use crate::source::{FileId, Span};

/// The parser generated from `grammar/mapping.pest`.
#[derive(pest_derive::Parser)]
#[grammar = "../grammar/mapping.pest"]
pub(crate) struct MappingParser;

/// Syntax errors reported before parsing stops (each failed item costs a parse attempt, so this
/// also bounds the time spent on garbage input).
const MAX_SYNTAX_ERRORS: usize = 50;

/// Words that start a top-level item; parsing resumes at a line starting with one of them.
pub const TOP_LEVEL_KEYWORDS: &[&str] = &[
    "mapping",
    "source",
    "target",
    "trigger",
    "require",
    "never",
    "table",
    "map",
    "select",
    "sync",
    "checklist",
    "match",
    "let",
];

/// Every reserved word of the language.
pub const KEYWORDS: &[&str] = &[
    "mapping",
    "source",
    "target",
    "schema",
    "join",
    "on",
    "trigger",
    "when",
    "require",
    "at",
    "stage",
    "never",
    "transfer",
    "table",
    "file",
    "map",
    "select",
    "otherwise",
    "sync",
    "back",
    "checklist",
    "owner",
    "and",
    "or",
    "not",
    "in",
    "matches",
    "true",
    "false",
    "null",
    "match",
    "let",
    "into",
];

/// Parses a mapping file into its AST, collecting every syntax error.
pub fn parse(text: &str, file: FileId, limits: &Limits) -> (MappingFile, Vec<Diagnostic>) {
    if let Some(diagnostic) = limits::check(text, file, limits) {
        let ast = MappingFile {
            items: Vec::new(),
            has_syntax_errors: true,
        };
        return (ast, vec![diagnostic]);
    }
    let mut lowerer = Lowerer::new(file);
    lowerer
        .diagnostics
        .extend(limits::hidden_characters(text, file));
    let mut ast = MappingFile::default();
    let mut pos = skip_trivia(text, 0);
    let mut syntax_errors = 0;
    while pos < text.len() {
        match MappingParser::parse(Rule::item_at, &text[pos..]) {
            Ok(mut pairs) => {
                let item = pairs.next().and_then(|item_at| item_at.into_inner().next());
                let Some(item) = item else { break };
                let end = pos + item.as_span().end();
                if let Some(lowered) = lowerer.item(item, pos) {
                    ast.items.push(lowered);
                }
                pos = skip_trivia(text, end.max(pos + 1));
            }
            Err(_) if syntax_errors == MAX_SYNTAX_ERRORS => {
                lowerer.diagnostics.push(
                    Diagnostic::new(
                        Code::M108,
                        Span::new(file, pos, pos),
                        format!("more than {MAX_SYNTAX_ERRORS} syntax errors; the rest of the file was not parsed"),
                        "parsing stopped here",
                    )
                    .with_help("fix the errors above (often one unclosed `{` or string) and check again"),
                );
                break;
            }
            Err(error) => {
                syntax_errors += 1;
                ast.has_syntax_errors = true;
                let diagnostic = syntax_error(text, file, pos, &error);
                let next = next_item_start(text, pos);
                let first_at = diagnostic.primary.span.start;
                let later = super::recover::later_errors(
                    text,
                    file,
                    pos..next,
                    first_at,
                    MAX_SYNTAX_ERRORS - syntax_errors,
                );
                syntax_errors += later.len();
                // The rest of the item is not lowered: its bad escapes are still worth saying,
                // except on the lines a syntax error already points at.
                let error_lines: Vec<usize> = std::iter::once(first_at)
                    .chain(later.iter().map(|d| d.primary.span.start))
                    .map(|at| line_start_of(text, at))
                    .collect();
                let skipped = super::errors::escape_errors(text, file, pos..next, first_at)
                    .into_iter()
                    .filter(|d| !error_lines.contains(&line_start_of(text, d.primary.span.start)));
                lowerer.diagnostics.push(diagnostic);
                lowerer.diagnostics.extend(later);
                lowerer.diagnostics.extend(skipped);
                pos = skip_trivia(text, next);
            }
        }
    }
    let mut diagnostics = lowerer.diagnostics;
    if diagnostics.iter().any(Diagnostic::is_error) {
        ast.has_syntax_errors = true;
    }
    crate::diag::sort(&mut diagnostics);
    (ast, diagnostics)
}

/// The [`Span`] of a parse-tree node parsed from text starting at `base`: the only conversion
/// from pest positions.
///
/// pest includes the whitespace skipped before a trailing optional part (`rule?`, `rule*`) in a
/// node's span, so the end is taken from the node's last token instead: tokens and atomic rules
/// end exactly where their text ends.
pub(crate) fn to_span(file: FileId, base: usize, pair: &Pair<'_, Rule>) -> Span {
    let input = pair.get_input();
    let start = pair.as_span().start();
    let mut end = pair.as_span().end();
    let mut last = pair.clone().into_inner().next_back();
    while let Some(child) = last {
        let child_end = child.as_span().end();
        if !is_trivia(&input[child_end..end]) {
            break;
        }
        end = child_end;
        last = child.into_inner().next_back();
    }
    Span::new(file, base + start, base + end.max(start))
}

/// True when `text` is only whitespace and comments.
fn is_trivia(text: &str) -> bool {
    let mut rest = text;
    loop {
        rest = rest.trim_start();
        match rest.strip_prefix('#') {
            Some(comment) => rest = comment.split_once('\n').map_or("", |(_, after)| after),
            None => return rest.is_empty(),
        }
    }
}

/// Skips whitespace and comments from `pos`.
fn skip_trivia(text: &str, mut pos: usize) -> usize {
    let bytes = text.as_bytes();
    while pos < bytes.len() {
        match bytes[pos] {
            b' ' | b'\t' | b'\r' | b'\n' => pos += 1,
            b'#' => {
                while pos < bytes.len() && bytes[pos] != b'\n' {
                    pos += 1;
                }
            }
            _ => break,
        }
    }
    pos
}

/// The leading word of `text` (ASCII letters, digits and `_`), the empty text when it starts
/// with anything else: how recovery and syntax help tell which item or statement a line starts.
pub(super) fn first_word(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// The start of the line holding the byte `at`.
fn line_start_of(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].rfind('\n').map_or(0, |i| i + 1)
}

/// The start of the first line after the one holding `from` whose first word starts an item.
fn next_item_start(text: &str, from: usize) -> usize {
    let mut line_start = match text[from..].find('\n') {
        Some(i) => from + i + 1,
        None => return text.len(),
    };
    while line_start < text.len() {
        let line_end = text[line_start..]
            .find('\n')
            .map_or(text.len(), |i| line_start + i);
        let line = text[line_start..line_end].trim_start();
        if TOP_LEVEL_KEYWORDS.contains(&first_word(line)) {
            return line_start;
        }
        line_start = line_end + 1;
    }
    text.len()
}

/// Parses a transform call written on its own (`round(2)`, `date("%d.%m.%Y")`) and returns its
/// literal arguments as JSON; `None` when it does not parse or has a non-literal argument.
pub fn parse_call(text: &str) -> Option<Vec<serde_json::Value>> {
    let call = MappingParser::parse(Rule::call_at, text)
        .ok()?
        .next()?
        .into_inner()
        .next()?;
    let mut lowerer = Lowerer::new(FileId(0));
    let lowered = lowerer.call_pair(call)?;
    lowered
        .args
        .iter()
        .map(|arg| match arg {
            super::ast::Arg::Literal(literal) => Some(literal.kind.to_json()),
            super::ast::Arg::Name(_) | super::ast::Arg::Value(_) => None,
        })
        .collect()
}

/// The byte ranges of the outermost string literals (plain strings and templates, quotes
/// included, interpolations and the strings inside them too) of a whole file, for tools that
/// must leave strings untouched (the formatter). `None` when the text does not parse as a whole.
pub fn string_spans(text: &str) -> Option<Vec<(usize, usize)>> {
    let pairs = MappingParser::parse(Rule::file, text).ok()?;
    let mut spans = Vec::new();
    let mut stack: Vec<Pair<'_, Rule>> = pairs.collect();
    while let Some(pair) = stack.pop() {
        match pair.as_rule() {
            Rule::string | Rule::template => {
                spans.push((pair.as_span().start(), pair.as_span().end()));
            }
            _ => stack.extend(pair.into_inner()),
        }
    }
    spans.sort_unstable();
    Some(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole of `text` parses as `rule`.
    fn parses_whole(rule: Rule, text: &str) -> bool {
        MappingParser::parse(rule, text)
            .ok()
            .and_then(|mut pairs| pairs.next())
            .is_some_and(|pair| pair.as_str() == text)
    }

    #[test]
    fn every_reserved_word_is_a_keyword_and_no_name() {
        for word in KEYWORDS {
            assert!(
                parses_whole(Rule::keyword, word),
                "`{word}` is not a keyword"
            );
            assert!(
                !parses_whole(Rule::record_name, word),
                "`{word}` is a record name"
            );
            assert!(!parses_whole(Rule::name, word), "`{word}` is a name");
        }
    }

    #[test]
    fn a_word_is_a_keyword_exactly_when_it_is_reserved() {
        let mut near_misses = Vec::new();
        for word in KEYWORDS {
            for end in 1..word.len() {
                near_misses.push(word[..end].to_string());
                near_misses.push(format!("{}{}", &word[..end], &word[end + 1..]));
            }
            near_misses.push(format!("{word}s"));
            near_misses.push(format!("{word}_"));
            near_misses.push(format!("x{word}"));
        }
        for word in near_misses {
            let reserved = KEYWORDS.contains(&word.as_str());
            assert_eq!(parses_whole(Rule::keyword, &word), reserved, "`{word}`");
            assert_eq!(parses_whole(Rule::name, &word), !reserved, "`{word}`");
        }
    }

    proptest::proptest! {
        #[test]
        fn random_words_are_keywords_exactly_when_reserved(word in "[a-z][a-z_]{0,9}") {
            let reserved = KEYWORDS.contains(&word.as_str());
            proptest::prop_assert_eq!(parses_whole(Rule::keyword, &word), reserved);
            proptest::prop_assert_eq!(parses_whole(Rule::name, &word), !reserved);
        }
    }

    #[test]
    fn words_that_start_with_a_keyword_are_names() {
        for word in [
            "mappings", "into_x", "matched", "inside", "nothing", "client", "psa",
        ] {
            assert!(
                parses_whole(Rule::record_name, word),
                "`{word}` is not a record name"
            );
        }
    }
}
