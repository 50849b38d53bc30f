//! Recovery inside a block: after a syntax error in a `{ ... }` item, the statements after the
//! failing one are parsed again on their own, so that several typos in one `map`, `select`,
//! `sync back`, `require`, `table`, `never transfer` or `checklist` block are reported in one run.
//!
//! The item's head (up to and with its `{`) is joined to the body from the next line that
//! starts a statement, and parsed again; an error in what follows is a real one of a later
//! statement, and a joined item that parses has no other. Each pass reads from its resuming line
//! to its error only, so recovery is linear in the item's length. A line only counts as a statement start when it looks like one of its block's
//! statements and the line before it does not end in the middle of an expression (`|`, `??`,
//! `and`, `,`...), so a statement written over several lines is never cut in two: recovery may
//! miss an error, but it does not invent one.

use std::ops::Range;
use std::sync::LazyLock;

use pest::Parser as _;
use regex::Regex;

use super::errors::syntax_error_shifted;
use super::parser::{MappingParser, Rule, first_word};
use crate::diag::Diagnostic;
use crate::source::FileId;

/// What a statement of a block looks like at the start of its line.
#[derive(Debug, Clone, Copy)]
enum Statements {
    /// `TARGET = EXPRESSION` (`map`, `sync back`).
    Assignments,
    /// `when ... =>` or `otherwise =>` (`select`).
    Arms,
    /// `KEY, KEY => VALUE` (inline `table`).
    Rows,
    /// A condition (`require at stage`).
    Conditions,
    /// A path (`never transfer`).
    Paths,
    /// A string (`checklist`).
    Strings,
}

impl Statements {
    /// The kind of statements of the item whose first word is `word`; `None` for items without
    /// a block.
    fn of_item(word: &str) -> Option<Statements> {
        Some(match word {
            "map" | "sync" => Statements::Assignments,
            "select" => Statements::Arms,
            "table" => Statements::Rows,
            "require" => Statements::Conditions,
            "never" => Statements::Paths,
            "checklist" => Statements::Strings,
            _ => return None,
        })
    }

    /// True when `line` (without its comment) starts a statement of this kind.
    fn starts(self, line: &str) -> bool {
        static ASSIGNMENT: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(
                r#"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*|\[[^\]]*\])*\s*=([^=>]|$)"#,
            )
            .expect("assignment pattern")
        });
        static ARM: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"^(when|otherwise)\b").expect("arm pattern"));
        static ROW: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r#"^("|-?[0-9]|_\s|_=|true\b|false\b|null\b).*=>"#).expect("row pattern")
        });
        static CONDITION: LazyLock<Regex> = LazyLock::new(|| {
            Regex::new(r"^(\(|[A-Za-z_][A-Za-z0-9_]*)").expect("condition pattern")
        });
        static PATH: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r"^[A-Za-z_][A-Za-z0-9_]*").expect("path pattern"));
        let line = line.trim_start();
        if LEADING_CONTINUATIONS.contains(&first_word(line)) {
            return false;
        }
        match self {
            Statements::Assignments => ASSIGNMENT.is_match(line),
            Statements::Arms => ARM.is_match(line),
            Statements::Rows => ROW.is_match(line),
            Statements::Conditions => CONDITION.is_match(line),
            Statements::Paths => PATH.is_match(line),
            Statements::Strings => line.starts_with('"'),
        }
    }
}

/// Words that, starting a line, continue the expression of the line before.
const LEADING_CONTINUATIONS: &[&str] = &["and", "or", "in", "matches", "into"];

/// Words and marks that, ending a line, say the expression goes on on the next one.
const CONTINUATIONS: &[&str] = &[
    "|", "??", "=", "==", "!=", ">", "<", ">=", "<=", "=>", "(", "[", ",", "+", "-", "*", "/",
    "and", "or", "not", "in", "matches", "when",
];

/// The syntax errors of the statements after the one that failed at `first_error`, in the item
/// `item` (from its first word to the start of the next item), at most `budget` of them.
pub(super) fn later_errors(
    text: &str,
    file: FileId,
    item: Range<usize>,
    first_error: usize,
    budget: usize,
) -> Vec<Diagnostic> {
    let source = &text[item.clone()];
    let (Some(kind), Some(open)) = (Statements::of_item(first_word(source)), block_open(source))
    else {
        return Vec::new();
    };
    let body = item.start + open + 1;
    let mut out = Vec::new();
    let mut error_at = first_error;
    while out.len() < budget && (body..item.end).contains(&error_at) {
        let Some(resume) = next_statement(text, &item, error_at, kind) else {
            break;
        };
        // The item's head and `{`, then the body from the resuming line: each pass reads only
        // from there to its error, so recovery stays linear in the item's length.
        let head = &text[item.start..body];
        let joined = format!("{head}{}", &text[resume..item.end]);
        let Err(error) = MappingParser::parse(Rule::item_at, &joined) else {
            break;
        };
        let parsed_from = resume - head.len();
        let diagnostic = syntax_error_shifted(text, file, item.start, parsed_from, &error);
        if diagnostic.primary.span.start < resume {
            break;
        }
        error_at = diagnostic.primary.span.start;
        out.push(diagnostic);
    }
    out
}

/// The offset of the first `{` of an item's text outside strings and comments.
fn block_open(source: &str) -> Option<usize> {
    let mut in_string = false;
    let mut in_comment = false;
    let mut escaped = false;
    for (at, c) in source.char_indices() {
        match (in_comment, in_string, c) {
            (true, _, '\n') => in_comment = false,
            (true, _, _) => {}
            (false, true, _) if escaped => escaped = false,
            (false, true, '\\') => escaped = true,
            (false, true, '"') => in_string = false,
            (false, true, '\n') => in_string = false,
            (false, true, _) => {}
            (false, false, '"') => in_string = true,
            (false, false, '#') => in_comment = true,
            (false, false, '{') => return Some(at),
            (false, false, _) => {}
        }
    }
    None
}

/// The start of the first line after the one holding `after`, inside `item`, that starts a
/// statement of `kind` (the line before it not ending mid-expression).
fn next_statement(
    text: &str,
    item: &Range<usize>,
    after: usize,
    kind: Statements,
) -> Option<usize> {
    // An error may lie past the item's end (the parser read on into the next item).
    let rest = text.get(after..item.end)?;
    let mut line_start = after + rest.find('\n')? + 1;
    // The failing line cannot be trusted to end where its statement does: the next line goes
    // on with it when either the text before the error or the whole line ends mid-expression.
    let before_error = line_before(text, item.start, after);
    let mut previous = line_before(text, item.start, line_start);
    if ends_mid_expression(before_error) {
        previous = before_error;
    }
    while line_start < item.end {
        let line_end = text[line_start..item.end]
            .find('\n')
            .map_or(item.end, |i| line_start + i);
        let line = without_comment(&text[line_start..line_end]);
        if !line.trim().is_empty() {
            if kind.starts(line) && !ends_mid_expression(previous) {
                return Some(line_start);
            }
            previous = line;
        }
        line_start = line_end + 1;
    }
    None
}

/// The last non-blank line (comment removed) of `text[from..before]`.
fn line_before(text: &str, from: usize, before: usize) -> &str {
    text.get(from..before)
        .unwrap_or("")
        .lines()
        .rev()
        .map(without_comment)
        .find(|line| !line.trim().is_empty())
        .unwrap_or("")
}

/// True when `line` ends with a word or mark after which an expression must go on.
fn ends_mid_expression(line: &str) -> bool {
    let line = line.trim_end();
    CONTINUATIONS.iter().any(|end| {
        line.strip_suffix(end).is_some_and(|rest| {
            let word = end.chars().all(|c| c.is_ascii_alphabetic());
            !word || rest.is_empty() || !rest.ends_with(|c: char| c.is_alphanumeric() || c == '_')
        })
    })
}

/// `line` without a `#` comment (a `#` inside a string is kept).
fn without_comment(line: &str) -> &str {
    let mut in_string = false;
    let mut escaped = false;
    for (at, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            '#' if !in_string => return &line[..at],
            _ => {}
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuation_ends_are_recognised_and_words_need_a_boundary() {
        assert!(ends_mid_expression("  title = deal.name |"));
        assert!(ends_mid_expression("  x = a ??"));
        assert!(ends_mid_expression("  when a == 1 and"));
        assert!(!ends_mid_expression("  x = deal.brand"));
        assert!(!ends_mid_expression("  x = deal.color"));
        assert!(!ends_mid_expression("  x = \"done\""));
    }

    #[test]
    fn comments_are_cut_but_not_inside_strings() {
        assert_eq!(without_comment("a = \"#1\" # note"), "a = \"#1\" ");
        assert_eq!(without_comment("a = b"), "a = b");
    }

    #[test]
    fn an_error_past_the_item_end_ends_recovery_without_a_panic() {
        // The parser may fail after reading on into the next item (robustness proptest).
        let text = "map {\n  a.b = c.d\n}\nmap {\n";
        for error_at in [6, 8, 19, text.len()] {
            assert!(later_errors(text, FileId(0), 0..6, error_at, 50).is_empty());
        }
    }

    #[test]
    fn the_block_opens_at_the_first_brace_outside_strings() {
        assert_eq!(block_open("require at stage \"a{b\" {"), Some(23));
        assert_eq!(block_open("let x = 1"), None);
    }
}
