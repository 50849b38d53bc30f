//! Source excerpts for the human renderer that stay readable on very long lines.
//!
//! miette prints every line of an excerpt whole and pads up to a label's column, and it cannot pad
//! past column 65,535 (minified JSON Schemas and generated mappings have such lines). An
//! [`Excerpted`] source hands miette the lines as they are while they are short; a line longer than
//! [`LONG_LINE`] bytes is cut to a window around the label, so the snippet shows the part that
//! matters and the label's position (line, column) is still the one in the file.
//!
//! A file holding characters a terminal must not receive (controls, bidirectional and
//! zero-width characters: [`super::safe`]) is shown from a copy in which each is written escaped
//! (`\u{202E}`); labels are moved to the copy's offsets, and the position in a report's heading
//! is still counted in the file itself.

use std::ops::Range;

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

use std::sync::Arc;

use crate::source::{FileId, SourceFile, SourceMap, clamp_to_char_boundary};

/// Lines longer than this many bytes are shown as a window around the label.
pub const LONG_LINE: usize = 240;
/// Bytes shown before a label on a long line.
const LEAD: usize = 40;
/// Bytes shown from a label's start on a long line (the label is cut to fit).
const WIDTH: usize = 160;

/// A loaded file as miette reads it, long lines shown as windows.
#[derive(Debug, Clone)]
pub struct Excerpted<'s> {
    /// The file as loaded.
    original: &'s SourceFile,
    /// The terminal-safe copy shown instead, when the file needs one.
    shown: Option<Arc<Shown>>,
}

/// A file's terminal-safe copy and where its characters moved.
#[derive(Debug)]
struct Shown {
    /// One file: the copy.
    sources: SourceMap,
    /// The copy's id in `sources`.
    id: FileId,
    /// For each escaped character: its offset in the file, its offset in the copy, its length
    /// in the copy, and how much longer the copy is after it than the file.
    moves: Vec<Move>,
}

/// Where one escaped character went.
#[derive(Debug, Clone, Copy)]
struct Move {
    from: usize,
    from_len: usize,
    to: usize,
    shown_len: usize,
    shift_after: usize,
}

impl Shown {
    /// The copy of `file` with its unsafe characters escaped, or `None` when it has none.
    fn of(file: &SourceFile) -> Option<Shown> {
        let text = &file.text;
        let mut copy = String::new();
        let mut moves = Vec::new();
        let mut copied = 0;
        for (at, c) in text.char_indices() {
            let line_ending = c == '\r' && text.as_bytes().get(at + 1) == Some(&b'\n');
            if !super::safe::is_unsafe(c) || line_ending {
                continue;
            }
            copy.push_str(&text[copied..at]);
            let to = copy.len();
            copy.push_str(&super::safe::escaped(c));
            copied = at + c.len_utf8();
            moves.push(Move {
                from: at,
                from_len: c.len_utf8(),
                to,
                shown_len: copy.len() - to,
                shift_after: copy.len() - copied,
            });
        }
        if moves.is_empty() {
            return None;
        }
        copy.push_str(&text[copied..]);
        let mut sources = SourceMap::new();
        let name = super::safe::terminal_safe(&file.name).into_owned();
        let id = sources.add(&file.path, name, copy.into());
        Some(Shown { sources, id, moves })
    }

    fn file(&self) -> &SourceFile {
        self.sources.get(self.id)
    }

    /// An offset in the file as an offset in the copy (inside an escaped character: its start).
    fn to_shown(&self, offset: usize) -> usize {
        let before = self.moves.partition_point(|m| m.from < offset);
        match before.checked_sub(1).map(|i| self.moves[i]) {
            Some(last) if offset < last.from + last.from_len => last.to,
            Some(last) => offset + last.shift_after,
            None => offset,
        }
    }

    /// An offset in the copy as an offset in the file (inside an escape: the character's).
    fn to_original(&self, offset: usize) -> usize {
        let before = self.moves.partition_point(|m| m.to < offset);
        match before.checked_sub(1).map(|i| self.moves[i]) {
            Some(last) if offset < last.to + last.shown_len => last.from,
            Some(last) => offset - last.shift_after,
            None => offset,
        }
    }
}

impl<'s> Excerpted<'s> {
    /// The excerpts of `file`.
    pub fn new(file: &'s SourceFile) -> Excerpted<'s> {
        Excerpted {
            original: file,
            shown: Shown::of(file).map(Arc::new),
        }
    }

    /// The file as shown: the terminal-safe copy, or the file itself.
    fn file(&self) -> &SourceFile {
        match &self.shown {
            Some(shown) => shown.file(),
            None => self.original,
        }
    }

    /// `span` as miette should underline it. A span that touches a long line is cut to the end
    /// of its first line, and on a long line to the window shown around its start.
    pub fn label_span(&self, span: Range<usize>) -> SourceSpan {
        let span = match &self.shown {
            Some(shown) => shown.to_shown(span.start)..shown.to_shown(span.end),
            None => span,
        };
        let text = self.file().text.as_bytes();
        let start = span.start.min(text.len());
        let end = span.end.clamp(start, text.len());
        let (_, line) = self.file().line_bounds(start);
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
        let text = &self.file().text;
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
    ) -> MietteSpanContents<'_> {
        MietteSpanContents::new_named(
            self.file().name.clone(),
            &self.file().text.as_bytes()[from..to],
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
        let contents = self.read_shown(span, context_lines_before, context_lines_after)?;
        let Some(shown) = &self.shown else {
            return Ok(contents);
        };
        if context_lines_before > 0 || context_lines_after > 0 {
            return Ok(contents);
        }
        // Read without context, a span gives the position in a report's heading: the file's own.
        let at = shown.to_original(span.offset().min(shown.file().text.len()));
        let (number, line) = self.original.line_bounds(at);
        Ok(Box::new(MietteSpanContents::new_named(
            contents.name().unwrap_or_default().to_string(),
            contents.data(),
            *contents.span(),
            number,
            at - line.start,
            contents.line_count(),
        )))
    }
}

impl Excerpted<'_> {
    /// Reads `span` of the file as shown (see [`SourceCode::read_span`]).
    fn read_shown<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let file = self.file();
        let start = span.offset().min(file.text.len());
        let (number, line) = file.line_bounds(start);
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
        let base = file.line_start(first_line);
        let shifted = SourceSpan::new((span.offset().max(base) - base).into(), span.len());
        let contents = file.text.as_bytes()[base..].read_span(
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
            file.name.clone(),
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
