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
fn deepest_nesting(text: &str, stop_after: usize) -> (usize, usize) {
    // A stack of modes: entering a string pushes Str, `{` inside a string pushes Code.
    let mut stack = vec![Mode::Code];
    let mut deepest = (0, 0);
    let mut bytes = text.bytes().enumerate();
    while let Some((i, b)) = bytes.next() {
        let mode = *stack.last().unwrap_or(&Mode::Code);
        match (mode, b) {
            (Mode::Comment, b'\n') => {
                stack.pop();
            }
            (Mode::Comment, _) => {}
            (Mode::Code, b'#') => stack.push(Mode::Comment),
            (Mode::Code, b'"') => stack.push(Mode::Str),
            (Mode::Code, b'(' | b'[' | b'{') => stack.push(Mode::Code),
            (Mode::Code, b')' | b']' | b'}') if stack.len() > 1 => {
                stack.pop();
            }
            (Mode::Str, b'\\') => {
                bytes.next();
            }
            (Mode::Str, b'"' | b'\n') => {
                stack.pop();
            }
            (Mode::Str, b'{') => stack.push(Mode::Code),
            _ => {}
        }
        let depth = stack.len() - 1;
        if depth > deepest.0 {
            deepest = (depth, i);
            if depth > stop_after {
                break;
            }
        }
    }
    deepest
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
    fn deep_input_is_refused() {
        let text = "(".repeat(100_000);
        let diagnostic = check(&text, FileId(0), &Limits::default());
        assert!(diagnostic.is_some_and(|d| d.code == Code::M108));
    }
}
