//! Source excerpts for the human renderer that stay readable on very long lines.
//!
//! miette prints every line of an excerpt whole and pads up to a label's column, and it cannot pad
//! past column 65,535 (minified JSON Schemas and generated mappings have such lines). An
//! [`Excerpted`] source hands miette the lines as they are while they are short; a line longer than
//! [`LONG_LINE`] bytes is cut to a window around the label, so the snippet shows the part that
//! matters and the label's position (line, column) is still the one in the file.

use std::ops::Range;

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

use crate::source::{SourceFile, clamp_to_char_boundary};

/// Lines longer than this many bytes are shown as a window around the label.
pub const LONG_LINE: usize = 240;
/// Bytes shown before a label on a long line.
const LEAD: usize = 40;
/// Bytes shown from a label's start on a long line (the label is cut to fit).
const WIDTH: usize = 160;

/// A loaded file as miette reads it, long lines shown as windows.
#[derive(Debug, Clone, Copy)]
pub struct Excerpted<'s> {
    file: &'s SourceFile,
}

impl<'s> Excerpted<'s> {
    /// The excerpts of `file`.
    pub fn new(file: &'s SourceFile) -> Excerpted<'s> {
        Excerpted { file }
    }

    /// `span` as miette should underline it. A span that touches a long line is cut to the end
    /// of its first line, and on a long line to the window shown around its start.
    pub fn label_span(&self, span: Range<usize>) -> SourceSpan {
        let text = self.file.text.as_bytes();
        let start = span.start.min(text.len());
        let end = span.end.clamp(start, text.len());
        let (_, line) = self.file.line_bounds(start);
        let end = if line.len() > LONG_LINE {
            end.min(self.window(start, &line).end)
        } else if has_long_line(&text[start..end]) {
            end.min(line.end)
        } else {
            end
        };
        SourceSpan::new(start.into(), end - start)
    }

    /// The part of `line` that is shown around `start`: [`LEAD`] bytes before it and up to
    /// [`WIDTH`] bytes from it, on character boundaries.
    fn window(&self, start: usize, line: &Range<usize>) -> Range<usize> {
        let text = &self.file.text;
        let from = clamp_to_char_boundary(text, start.saturating_sub(LEAD).max(line.start));
        let mut to = (start + WIDTH).min(line.end);
        while !text.is_char_boundary(to) {
            to += 1;
        }
        from..to.max(start)
    }

    /// The contents `from..to` of the line numbered `line` (0-based) starting at `line_start`,
    /// without context lines.
    fn contents(
        &self,
        from: usize,
        to: usize,
        line: usize,
        line_start: usize,
    ) -> MietteSpanContents<'s> {
        MietteSpanContents::new_named(
            self.file.name.clone(),
            &self.file.text.as_bytes()[from..to],
            SourceSpan::new(from.into(), to - from),
            line,
            from - line_start,
            0,
        )
    }
}

impl SourceCode for Excerpted<'_> {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let start = span.offset().min(self.file.text.len());
        let (number, line) = self.file.line_bounds(start);
        if line.len() > LONG_LINE {
            // A window, without context lines since it does not start at a line start; read
            // without context (miette's position of a label), it starts at the span itself.
            let window = self.window(start, &line);
            let from = if context_lines_before > 0 {
                window.start
            } else {
                start
            };
            return Ok(Box::new(
                self.contents(from, window.end, number, line.start),
            ));
        }
        // miette counts lines from the start of what it is given: hand it the text from the first
        // context line on, so that rendering a diagnostic costs its excerpt, not the file before it.
        let first_line = number.saturating_sub(context_lines_before);
        let base = self.file.line_start(first_line);
        let shifted = SourceSpan::new((span.offset().max(base) - base).into(), span.len());
        let contents = self.file.text.as_bytes()[base..].read_span(
            &shifted,
            context_lines_before,
            context_lines_after,
        )?;
        let contents = MietteSpanContents::new(
            contents.data(),
            SourceSpan::new(
                (contents.span().offset() + base).into(),
                contents.span().len(),
            ),
            contents.line() + first_line,
            contents.column(),
            contents.line_count() + first_line,
        );
        if has_long_line(contents.data()) {
            // A context line is long: show the label's own line only.
            return Ok(Box::new(
                self.contents(line.start, line.end, number, line.start),
            ));
        }
        Ok(Box::new(MietteSpanContents::new_named(
            self.file.name.clone(),
            contents.data(),
            *contents.span(),
            contents.line(),
            contents.column(),
            contents.line_count(),
        )))
    }
}

/// Whether any line of `data` is longer than [`LONG_LINE`] bytes.
fn has_long_line(data: &[u8]) -> bool {
    data.split(|&b| b == b'\n')
        .any(|line| line.len() > LONG_LINE)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::diag::render::{HumanStyle, human};
    use crate::diag::{Code, Diagnostic};
    use crate::source::{SourceMap, Span};

    /// Renders one diagnostic at `at..at + len` of `text` with a secondary label at `also`.
    fn render(text: &str, at: usize, len: usize, also: Option<usize>) -> String {
        let mut sources = SourceMap::new();
        let file = sources.add(Path::new("long.map"), "long.map".into(), text.into());
        let mut diagnostic = Diagnostic::new(
            Code::M201,
            Span::new(file, at, at + len),
            "no such field",
            "not in the schema",
        );
        if let Some(also) = also {
            diagnostic = diagnostic.with_label(Span::new(file, also, also + 1), "declared here");
        }
        human(&sources, &[diagnostic], HumanStyle::plain())
    }

    #[test]
    fn a_label_past_column_65535_is_shown_in_a_window_at_its_true_position() {
        let text = format!(
            "first line\n{}deal.dealstge == 1\nlast line\n",
            " ".repeat(70_000)
        );
        let at = text.find("dealstge").expect("label");
        let out = render(&text, at, "dealstge".len(), None);
        let column = at - text.find('\n').expect("line break");
        assert!(out.contains(&format!("[long.map:2:{column}]")), "{out}");
        assert!(out.contains("deal.dealstge == 1"), "{out}");
        assert!(
            out.lines().all(|line| line.chars().count() < 2 * WIDTH),
            "{out}"
        );
        assert!(out.contains("not in the schema"), "{out}");
    }

    #[test]
    fn a_label_longer_than_the_window_is_cut_to_it() {
        let text = format!("{}\n", "x".repeat(100_000));
        let out = render(&text, 80_000, 20_000, None);
        assert!(out.contains("[long.map:1:80001]"), "{out}");
        assert!(
            out.lines().all(|line| line.chars().count() < 2 * WIDTH),
            "{out}"
        );
    }

    #[test]
    fn a_long_context_line_is_left_out_and_a_multibyte_line_is_cut_on_characters() {
        let long = "é".repeat(LONG_LINE);
        let text = format!("{long}\nshort = value\n{long}\n");
        let at = text.find("value").expect("label");
        let out = render(&text, at, 5, Some(3));
        assert!(out.contains("[long.map:2:9]"), "{out}");
        assert!(out.contains("short = value"), "{out}");
        assert!(
            out.lines().all(|line| line.chars().count() < 2 * WIDTH),
            "{out}"
        );
        let at = LONG_LINE; // in the middle of a two-byte character's run, on a boundary
        let out = render(&text, at, 2, None);
        assert!(out.contains("[long.map:1:"), "{out}");
    }

    #[test]
    fn short_lines_render_as_miette_renders_them() {
        let text = "mapping x\nsource deal = schema \"a.json\"\n";
        let out = render(text, 17, 4, None);
        assert!(out.contains("[long.map:2:8]"), "{out}");
        assert!(out.contains(" 1 │ mapping x"), "{out}");
        assert!(
            out.contains(" 2 │ source deal = schema \"a.json\""),
            "{out}"
        );
    }

    #[test]
    fn a_label_at_the_end_of_the_text_is_shown() {
        let text = "x".repeat(1_000);
        let out = render(&text, text.len(), 0, None);
        assert!(out.contains("[long.map:1:1001]"), "{out}");
    }
}
