//! Limits checked before parsing, so that hostile input cannot exhaust the stack or the clock.
//!
//! The parser is recursive, so nesting depth is measured first by a small scanner that knows
//! strings, comments and template interpolations, and the file is refused with M108 when it is
//! too deep or too large.

use crate::diag::{Code, Diagnostic};
use crate::source::{FileId, Span};

/// Size and depth limits for mapping files.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest mapping file accepted, in bytes.
    pub max_mapping_bytes: usize,
    /// Deepest nesting of brackets, parentheses and interpolations.
    pub max_nesting: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_mapping_bytes: 8 * 1024 * 1024,
            max_nesting: 64,
        }
    }
}

/// Returns a diagnostic when `text` breaks a limit.
pub fn check(text: &str, file: FileId, limits: &Limits) -> Option<Diagnostic> {
    if text.len() > limits.max_mapping_bytes {
        return Some(
            Diagnostic::new(
                Code::M108,
                Span::new(file, 0, 0),
                format!(
                    "mapping file is {} bytes, more than the limit of {} bytes",
                    text.len(),
                    limits.max_mapping_bytes
                ),
                "file starts here",
            )
            .with_help("split the mapping, or raise the limit with `--max-mapping-bytes`"),
        );
    }
    let (depth, at) = deepest_nesting(text, limits.max_nesting);
    (depth > limits.max_nesting).then(|| {
        Diagnostic::new(
            Code::M108,
            Span::new(file, at, at + 1),
            format!("nesting is deeper than the limit of {}", limits.max_nesting),
            "nesting exceeds the limit here",
        )
        .with_help("flatten the expression: split it into several rules or a table")
    })
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Code,
    Str,
    Comment,
}

/// The deepest nesting found (stopping once it passes `stop_after`) and where it was reached.
///
/// Brackets, parentheses, braces and interpolations nest; so does a run of `not`s, which the
/// grammar parses recursively (`not not not x`): each `not` of a run counts as one level.
fn deepest_nesting(text: &str, stop_after: usize) -> (usize, usize) {
    // A stack of modes: entering a string pushes Str, `{` inside a string pushes Code.
    let mut stack = vec![Mode::Code];
    let mut negations = 0;
    let mut deepest = (0, 0);
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let (at, b) = (i, bytes[i]);
        let mode = *stack.last().unwrap_or(&Mode::Code);
        match (mode, b) {
            (Mode::Comment, b'\n') => {
                stack.pop();
            }
            (Mode::Comment, _) => {}
            // Whitespace and comments may stand between the `not`s of a run.
            (Mode::Code, b' ' | b'\t' | b'\r' | b'\n') => {}
            (Mode::Code, b'#') => stack.push(Mode::Comment),
            (Mode::Code, b'n') if is_not_keyword(bytes, i) => {
                negations += 1;
                i += 2;
            }
            (Mode::Code, _) => {
                negations = 0;
                match b {
                    b'"' => stack.push(Mode::Str),
                    b'(' | b'[' | b'{' => stack.push(Mode::Code),
                    b')' | b']' | b'}' if stack.len() > 1 => {
                        stack.pop();
                    }
                    _ => {}
                }
            }
            (Mode::Str, b'\\') => {
                i += 1;
            }
            (Mode::Str, b'"' | b'\n') => {
                stack.pop();
            }
            (Mode::Str, b'{') => stack.push(Mode::Code),
            (Mode::Str, _) => {}
        }
        let depth = stack.len() - 1 + negations;
        if depth > deepest.0 {
            deepest = (depth, at);
            if depth > stop_after {
                break;
            }
        }
        i += 1;
    }
    deepest
}

/// Whether the word `not` starts at `at`: not inside a longer word, as the grammar's keyword
/// (`not#comment` and `not(x)` are `not` too).
fn is_not_keyword(bytes: &[u8], at: usize) -> bool {
    let outside_word =
        |b: Option<&u8>| b.is_none_or(|b| !(b.is_ascii_alphanumeric() || *b == b'_'));
    bytes[at..].starts_with(b"not")
        && outside_word(at.checked_sub(1).and_then(|before| bytes.get(before)))
        && outside_word(bytes.get(at + 3))
}

/// Characters that change how text displays without being visible: bidirectional controls
/// (the "Trojan Source" trick: code that reads differently than it runs) and zero-width
/// characters (names that look equal but are not).
const HIDDEN: &[(char, &str)] = &[
    ('\u{200B}', "ZERO WIDTH SPACE"),
    ('\u{200C}', "ZERO WIDTH NON-JOINER"),
    ('\u{200D}', "ZERO WIDTH JOINER"),
    ('\u{2060}', "WORD JOINER"),
    ('\u{FEFF}', "ZERO WIDTH NO-BREAK SPACE"),
    ('\u{200E}', "LEFT-TO-RIGHT MARK"),
    ('\u{200F}', "RIGHT-TO-LEFT MARK"),
    ('\u{202A}', "LEFT-TO-RIGHT EMBEDDING"),
    ('\u{202B}', "RIGHT-TO-LEFT EMBEDDING"),
    ('\u{202C}', "POP DIRECTIONAL FORMATTING"),
    ('\u{202D}', "LEFT-TO-RIGHT OVERRIDE"),
    ('\u{202E}', "RIGHT-TO-LEFT OVERRIDE"),
    ('\u{2066}', "LEFT-TO-RIGHT ISOLATE"),
    ('\u{2067}', "RIGHT-TO-LEFT ISOLATE"),
    ('\u{2068}', "FIRST STRONG ISOLATE"),
    ('\u{2069}', "POP DIRECTIONAL ISOLATE"),
];

/// Why `c` may not appear literally in a mapping, if it may not: a hidden character from
/// [`HIDDEN`], or a control character other than tab, line feed and carriage return (a raw NUL
/// or escape inside a string would be written into every record unseen).
fn hidden_name(c: char) -> Option<&'static str> {
    if let Some((_, name)) = HIDDEN.iter().find(|(h, _)| *h == c) {
        return Some(name);
    }
    let control = c.is_control() && !matches!(c, '\t' | '\n' | '\r');
    control.then_some("CONTROL CHARACTER")
}

/// M112 for every invisible, direction-changing or control character in a mapping (at most 20).
pub fn hidden_characters(text: &str, file: FileId) -> Vec<Diagnostic> {
    text.char_indices()
        .filter_map(|(at, c)| hidden_name(c).map(|name| (at, c, name)))
        .take(20)
        .map(|(at, c, name)| {
            Diagnostic::new(
                Code::M112,
                Span::new(file, at, at + c.len_utf8()),
                format!("invisible character U+{:04X} {name} in the mapping", c as u32),
                "an invisible character is here",
            )
            .with_help(format!(
                "delete it: it makes the text display differently from what mapctl reads; inside a string, write it as `\\u{:04x}` if it is really wanted",
                c as u32
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_brackets_and_interpolations_but_not_strings() {
        assert_eq!(deepest_nesting("a (b [c])", 100).0, 2);
        assert_eq!(deepest_nesting("\"((((\"", 100).0, 1);
        assert_eq!(deepest_nesting("\"{a | f(\"(\")}\"", 100).0, 4);
        assert_eq!(deepest_nesting("# ((((\nx", 100).0, 1);
    }

    #[test]
    fn counts_runs_of_not_but_not_words_containing_it() {
        assert_eq!(deepest_nesting("when not not not x", 100).0, 3);
        assert_eq!(deepest_nesting("when not x and not y", 100).0, 1);
        assert_eq!(deepest_nesting("when not (not x)", 100).0, 2);
        assert_eq!(
            deepest_nesting("deal.nothing == \"not not\" and knot", 100).0,
            1
        );
        assert_eq!(deepest_nesting("# not not not", 100).0, 1);
        assert_eq!(
            deepest_nesting("when not # a comment\n not\n# another\nnot x", 100).0,
            3
        );
        assert_eq!(
            deepest_nesting("when not#a comment\nnot#\nnot(x)", 100).0,
            3
        );
        assert_eq!(deepest_nesting("deal.not.not.not == 1", 100).0, 1);
    }

    #[test]
    fn a_long_run_of_not_is_refused_where_it_passes_the_limit() {
        let text = format!("trigger when {}deal.x", "not ".repeat(100_000));
        let diagnostic = check(&text, FileId(0), &Limits::default());
        let expected_at = "trigger when ".len() + 4 * Limits::default().max_nesting;
        assert!(
            diagnostic.is_some_and(|d| d.code == Code::M108 && d.primary.span.start == expected_at)
        );
    }

    #[test]
    fn deep_input_is_refused() {
        let text = "(".repeat(100_000);
        let diagnostic = check(&text, FileId(0), &Limits::default());
        assert!(diagnostic.is_some_and(|d| d.code == Code::M108));
    }
}
