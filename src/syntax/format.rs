//! `mapctl fmt`: the one canonical layout of a mapping file.
//!
//! The formatter works line by line on the text, because whitespace is insignificant in the
//! language while the author's line breaks and comments carry meaning for readers. Each line is
//! split into code and a trailing comment (a `#` outside a string); runs of spaces in the code
//! collapse to one; lines are indented two spaces per open `{`, continuation lines (`join on`,
//! `and ...` inside a `when`) a little further; and within a block the separators line up: `=`
//! in `map` and `sync back` blocks (and across the `source`/`target` declarations), `=>` in
//! selects and tables, the messages of `require` rules, and trailing comments. Entries of a
//! `never transfer` list are sorted (their order carries no meaning) unless comments sit among them.
//! Blank lines collapse to one; the file ends with one line break.
//!
//! Safety: the input must parse without errors, and the output is checked before it is returned:
//! it holds exactly the same non-space characters in the same order (apart from the sorted
//! never-transfer entries), so formatting can never change what a mapping means. It is
//! idempotent: formatting formatted text changes nothing.

use super::{Limits, parse};
use crate::diag::Diagnostic;
use crate::source::FileId;

/// Why a text could not be formatted.
#[derive(Debug)]
pub enum FormatError {
    /// The text has syntax errors (formatting needs a parsable file).
    Syntax(Vec<Diagnostic>),
    /// The formatter would have changed the meaning (a bug; the text is left alone).
    Internal(String),
}

/// Formats a mapping file's text.
pub fn format(text: &str) -> Result<String, FormatError> {
    let (_, diagnostics) = parse(text, FileId(0), &Limits::default());
    let errors: Vec<Diagnostic> = diagnostics.into_iter().filter(|d| d.is_error()).collect();
    if !errors.is_empty() {
        return Err(FormatError::Syntax(errors));
    }
    let lines = split_lines(text)?;
    let lines = sort_never_transfer(lines);
    let sorted_code = code_without_spaces(&lines);
    let mut out = layout(lines).join("\n");
    out.push('\n');
    if code_without_spaces(&split_lines(&out)?) != sorted_code {
        return Err(FormatError::Internal(
            "the layout would change the code; the file was left as it is".into(),
        ));
    }
    Ok(out)
}

/// The lines of a text that parses, with its string literals located.
fn split_lines(text: &str) -> Result<Vec<Line>, FormatError> {
    let spans = super::string_spans(text).ok_or_else(|| {
        FormatError::Internal("the file parses item by item but not as a whole".into())
    })?;
    let mut lines = Vec::new();
    let mut offset = 0;
    for piece in text.split_inclusive('\n') {
        let line = piece.trim_end_matches(['\n', '\r']);
        lines.push(Line::split(line, offset, &spans));
        offset += piece.len();
    }
    Ok(lines)
}

/// One source line: its code with runs of spaces outside strings collapsed, where its strings
/// are in that code, and its trailing comment. A line that starts inside a string (the rest of
/// an interpolation written over several lines) is kept exactly as it is (`raw`).
#[derive(Debug, Clone, PartialEq)]
struct Line {
    code: String,
    strings: Vec<(usize, usize)>,
    comment: Option<String>,
    raw: Option<String>,
}

impl Line {
    /// Splits `text`, which starts at byte `start` of a file whose string literals are `spans`.
    fn split(text: &str, start: usize, spans: &[(usize, usize)]) -> Line {
        // `spans` are sorted and disjoint (outermost strings only): a binary search finds the
        // one around `at`, so a line costs its length, not the file's string count.
        let inside = |at: usize| {
            let after = spans.partition_point(|(s, _)| *s <= at);
            after
                .checked_sub(1)
                .map(|i| spans[i])
                .filter(|(_, e)| at < *e)
        };
        let raw = inside(start)
            .filter(|(s, _)| *s < start)
            .map(|_| text.to_string());
        let mut line = Line {
            code: String::new(),
            strings: Vec::new(),
            comment: None,
            raw,
        };
        let mut pending_space = false;
        let mut open: Option<usize> = None;
        for (index, c) in text.char_indices() {
            let in_string = inside(start + index).is_some();
            if in_string {
                if open.is_none() {
                    if pending_space {
                        line.code.push(' ');
                        pending_space = false;
                    }
                    open = Some(line.code.len());
                }
                line.code.push(c);
                continue;
            }
            if let Some(from) = open.take() {
                line.strings.push((from, line.code.len()));
            }
            match c {
                '#' => {
                    line.comment = Some(text[index..].trim_end().to_string());
                    break;
                }
                ' ' | '\t' | '\r' => pending_space = !line.code.is_empty(),
                _ => {
                    if pending_space {
                        line.code.push(' ');
                        pending_space = false;
                    }
                    line.code.push(c);
                }
            }
        }
        if let Some(from) = open {
            line.strings.push((from, line.code.len()));
        }
        line
    }

    fn is_blank(&self) -> bool {
        self.code.is_empty() && self.comment.is_none() && self.raw.is_none()
    }

    /// True when byte `at` of the code is inside a string literal.
    fn in_string(&self, at: usize) -> bool {
        self.strings.iter().any(|(s, e)| *s <= at && at < *e)
    }

    /// The code's characters outside strings, with their offsets.
    fn code_chars(&self) -> impl Iterator<Item = (usize, char)> + '_ {
        self.code
            .char_indices()
            .filter(|(i, _)| !self.in_string(*i))
    }

    /// The change in brace depth over the line's code (braces in strings do not count), and
    /// whether the line starts by closing a block.
    fn braces(&self) -> (i32, bool) {
        let depth = self.code_chars().fold(0, |depth, (_, c)| match c {
            '{' => depth + 1,
            '}' => depth - 1,
            _ => depth,
        });
        (depth, self.code.starts_with('}'))
    }

    fn first_word(&self) -> &str {
        self.code
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .next()
            .unwrap_or("")
    }
}

/// Byte offsets of `needle` in a line's code outside strings and brackets, in order.
fn top_level_matches(line: &Line, needle: &str) -> Vec<usize> {
    let mut found = Vec::new();
    let mut nesting = 0i32;
    let mut skip_until = 0;
    for (index, c) in line.code_chars() {
        if index < skip_until {
            continue;
        }
        match c {
            '[' | '(' => nesting += 1,
            ']' | ')' => nesting -= 1,
            _ if nesting == 0 && line.code[index..].starts_with(needle) => {
                found.push(index);
                skip_until = index + needle.len();
            }
            _ => {}
        }
    }
    found
}

/// The position of a lone `=` (not part of `==`, `=>`, `!=`, `>=`, `<=`) at the top level.
fn assignment_at(line: &Line) -> Option<usize> {
    let bytes = line.code.as_bytes();
    top_level_matches(line, "=").into_iter().find(|&i| {
        let before = i.checked_sub(1).map(|j| bytes[j]);
        let after = bytes.get(i + 1).copied();
        !matches!(before, Some(b'=' | b'!' | b'>' | b'<')) && !matches!(after, Some(b'=' | b'>'))
    })
}

/// Where a `require` rule's message starts: a final string that follows a complete operand.
fn message_at(line: &Line) -> Option<usize> {
    let &(start, end) = line.strings.last()?;
    if end != line.code.len() {
        return None;
    }
    let before = line.code[..start].trim_end();
    if before.is_empty() {
        return None;
    }
    let operand_ended =
        before.ends_with(|c: char| c.is_alphanumeric() || matches!(c, '_' | ']' | ')' | '"' | '`'));
    let ends_in_operator_word = ["in", "matches", "and", "or", "not"]
        .iter()
        .any(|w| before == *w || before.ends_with(&format!(" {w}")));
    (operand_ended && !ends_in_operator_word).then_some(start)
}

/// Sorts the entries of `never transfer` blocks that hold one plain path per line, no comment
/// and a closing brace on its own line: reordering those lines is a permutation of the list.
fn sort_never_transfer(mut lines: Vec<Line>) -> Vec<Line> {
    let mut index = 0;
    while index < lines.len() {
        let line = &lines[index];
        if line.code != "never transfer {" || line.comment.is_some() || line.raw.is_some() {
            index += 1;
            continue;
        }
        let Some(close) = (index + 1..lines.len()).find(|&i| lines[i].code.contains('}')) else {
            break;
        };
        let entries = &mut lines[index + 1..close];
        let simple = entries.iter().all(|l| {
            l.comment.is_none()
                && l.raw.is_none()
                && l.strings.is_empty()
                && !l.code.is_empty()
                && !l.code.contains([' ', '{', '}', '"'])
        });
        if simple && lines[close].code == "}" && lines[close].comment.is_none() {
            lines[index + 1..close].sort_by(|a, b| a.code.cmp(&b.code));
        }
        index = close + 1;
    }
    lines
}

/// Every line's code with the spaces outside strings removed, its strings as they are, and its
/// comment: what the layout must not change.
fn code_without_spaces(lines: &[Line]) -> String {
    let mut all = String::new();
    for line in lines.iter().filter(|l| !l.is_blank()) {
        if let Some(raw) = &line.raw {
            all.push_str(raw);
            all.push('\n');
            continue;
        }
        for (index, c) in line.code.char_indices() {
            if c != ' ' || line.in_string(index) {
                all.push(c);
            }
        }
        all.push('\n');
        if let Some(comment) = &line.comment {
            all.push_str(comment);
            all.push('\n');
        }
    }
    all
}

/// What kind of block a line sits in, deciding what lines up.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Block {
    Top,
    Assignments,
    Arrows,
    Require,
    Other,
}

fn block_kind(opener: &str) -> Block {
    match opener.split(' ').next().unwrap_or("") {
        "map" | "sync" => Block::Assignments,
        "select" | "table" => Block::Arrows,
        "require" => Block::Require,
        _ => Block::Other,
    }
}

/// A line placed: its indentation, code and comment, and the group it aligns with.
struct Placed {
    indent: usize,
    line: Line,
    block: Block,
    group: usize,
    continuation: bool,
}

/// Indents every line and aligns separators within groups.
fn layout(lines: Vec<Line>) -> Vec<String> {
    let placed = place(lines);
    let mut out: Vec<String> = Vec::new();
    let mut start = 0;
    while start < placed.len() {
        let group = placed[start].group;
        let end = (start..placed.len())
            .find(|&i| placed[i].group != group)
            .unwrap_or(placed.len());
        out.extend(render_group(&placed[start..end]));
        start = end;
    }
    collapse_blank_lines(out)
}

/// Computes indentation, block kinds and alignment groups.
fn place(lines: Vec<Line>) -> Vec<Placed> {
    let mut placed = Vec::with_capacity(lines.len());
    let mut stack: Vec<Block> = Vec::new();
    let mut group = 0;
    let mut previous_code: Option<String> = None;
    let mut previous_top_word = String::new();
    for line in lines {
        let (change, closes_first) = line.braces();
        let depth = stack.len() - usize::from(closes_first && !stack.is_empty());
        let block = stack.last().copied().unwrap_or(Block::Top);
        let continuation = !line.code.is_empty()
            && previous_code
                .as_deref()
                .is_some_and(|p| continues(p, &line.code, block));
        let word = line.first_word().to_string();
        let declaration = matches!(word.as_str(), "source" | "target");
        let keeps_group = match block {
            Block::Top => {
                (declaration || continuation)
                    && matches!(previous_top_word.as_str(), "source" | "target")
                    && !line.is_blank()
            }
            _ => !closes_first && !line.is_blank() && depth > 0,
        };
        if !keeps_group {
            group += 1;
        }
        let extra = if continuation {
            continuation_indent(&line.code, block)
        } else {
            0
        };
        placed.push(Placed {
            indent: depth * 2 + extra,
            line: line.clone(),
            block: if closes_first { Block::Other } else { block },
            group,
            continuation,
        });
        if closes_first {
            group += 1;
        }
        apply_braces(&mut stack, &line, change, closes_first);
        if change > 0 {
            group += 1;
        }
        if !line.code.is_empty() {
            previous_code = Some(line.code.clone());
            if stack.is_empty() && !continuation {
                previous_top_word = word;
            }
        } else if line.is_blank() {
            previous_top_word.clear();
        }
    }
    placed
}

/// Opens and closes blocks for the braces of a line.
fn apply_braces(stack: &mut Vec<Block>, line: &Line, change: i32, closes_first: bool) {
    if change > 0 {
        let kind = block_kind(&line.code);
        for _ in 0..change {
            stack.push(kind);
        }
    } else {
        for _ in 0..(-change) {
            stack.pop();
        }
    }
    if closes_first && change == 0 {
        stack.pop();
        stack.push(block_kind(line.code.trim_start_matches('}').trim_start()));
    }
}

/// True when `line` continues the statement of `previous` rather than starting one.
fn continues(previous: &str, line: &str, block: Block) -> bool {
    if previous.ends_with('{') || line.starts_with('}') {
        return false;
    }
    let first = line.split(' ').next().unwrap_or("");
    let leading_operator = matches!(
        first,
        "and"
            | "or"
            | "join"
            | "=>"
            | "|"
            | "??"
            | "=="
            | "!="
            | ">="
            | "<="
            | ">"
            | "<"
            | "in"
            | "matches"
            | "+"
            | "-"
            | "*"
            | "/"
    );
    let trailing_operator = [
        "and", "or", "not", "=", "==", "=>", "|", "??", "(", ",", "+", "-", "*", "/",
    ]
    .iter()
    .any(|op| ends_with_token(previous, op));
    match block {
        Block::Require if line.starts_with('"') => true,
        Block::Arrows => leading_operator || (trailing_operator && !previous.contains("=>")),
        _ => leading_operator || trailing_operator,
    }
}

/// True when `code` ends with the operator `op` as a token of its own (`or` but not `color`).
fn ends_with_token(code: &str, op: &str) -> bool {
    let Some(before) = code.strip_suffix(op) else {
        return false;
    };
    let is_word = op.chars().all(|c| c.is_alphanumeric());
    !is_word || !before.ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '.')
}

/// How much further a continuation line is indented: under the condition of a `when`, else 2.
fn continuation_indent(line: &str, block: Block) -> usize {
    let first = line.split(' ').next().unwrap_or("");
    if block == Block::Arrows && matches!(first, "and" | "or") {
        "when ".len()
    } else if block == Block::Require && line.starts_with('"') {
        0
    } else {
        2
    }
}

/// Renders a group of lines, aligning its separators and trailing comments.
fn render_group(group: &[Placed]) -> Vec<String> {
    let split_at = |p: &Placed| -> Option<usize> {
        match p.block {
            Block::Assignments if !p.continuation => assignment_at(&p.line),
            Block::Top if p.line.first_word() == "source" || p.line.first_word() == "target" => {
                assignment_at(&p.line)
            }
            Block::Arrows => top_level_matches(&p.line, "=>").first().copied(),
            Block::Require if p.line.code.starts_with('"') => Some(0),
            Block::Require => message_at(&p.line),
            _ => None,
        }
    };
    let splits: Vec<Option<usize>> = group
        .iter()
        .map(|p| {
            if p.line.raw.is_some() {
                None
            } else {
                split_at(p)
            }
        })
        .collect();
    let column = group
        .iter()
        .zip(&splits)
        .filter_map(|(p, s)| s.map(|s| p.indent + p.line.code[..s].trim_end().chars().count()))
        .max();
    let codes: Vec<String> = group
        .iter()
        .zip(&splits)
        .map(|(p, split)| aligned_code(p, *split, column))
        .collect();
    let comment_column = group
        .iter()
        .zip(&codes)
        .filter(|(p, code)| p.line.comment.is_some() && !code.trim().is_empty())
        .map(|(_, code)| code.chars().count() + 2)
        .max();
    group
        .iter()
        .zip(codes)
        .map(|(p, code)| match &p.line.raw {
            Some(raw) => raw.clone(),
            None => with_comment(p, code, comment_column),
        })
        .collect()
}

/// The indented code of a line, padded so that its separator starts at `column`.
fn aligned_code(placed: &Placed, split: Option<usize>, column: Option<usize>) -> String {
    let indent = " ".repeat(placed.indent);
    let code = &placed.line.code;
    match (split, column) {
        (Some(split), Some(column)) => {
            let left = code[..split].trim_end();
            let right = code[split..].trim_start();
            let width = placed.indent + left.chars().count();
            let pad = column.saturating_sub(width) + 1;
            format!("{indent}{left}{}{right}", " ".repeat(pad))
        }
        _ if code.is_empty() => String::new(),
        _ => format!("{indent}{code}"),
    }
}

/// Appends a line's comment: at `column` after code, or indented on its own line.
fn with_comment(placed: &Placed, code: String, column: Option<usize>) -> String {
    match &placed.line.comment {
        None => code.trim_end().to_string(),
        Some(comment) if code.trim().is_empty() => {
            format!("{}{comment}", " ".repeat(placed.indent))
        }
        Some(comment) => {
            let width = code.chars().count();
            let pad = column.map_or(2, |c| c.saturating_sub(width).max(2));
            format!("{code}{}{comment}", " ".repeat(pad))
        }
    }
}

/// At most one blank line in a row; none at the start or end, or just inside a block's braces.
fn collapse_blank_lines(lines: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    for line in lines {
        let blank = line.is_empty();
        let after_open = out.last().is_some_and(|l| l.ends_with('{'));
        if blank && (out.is_empty() || out.last().is_some_and(String::is_empty) || after_open) {
            continue;
        }
        if line.trim_start().starts_with('}') && out.last().is_some_and(String::is_empty) {
            out.pop();
        }
        out.push(line);
    }
    while out.last().is_some_and(String::is_empty) {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(text: &str) -> String {
        match format(text) {
            Ok(out) => out,
            Err(error) => panic!("{error:?}"),
        }
    }

    #[test]
    fn aligns_assignments_arrows_messages_and_comments() {
        let text = "mapping  m\nsource deal = schema \"d.json\"\ntarget   project = schema \"p.json\"\n\n\n\nmap {\nproject.name = deal.name   # the name\n      project.budget_amount = deal.amount | number # money\n}\nselect project.kind {\n  when deal.a == \"x\" => \"X\"\n  otherwise => \"Y\"\n}\nrequire at stage \"won\" {\ndeal.name \"needs a name\"\n  deal.amount > 0      \"needs money\"\n}\n";
        let expected = "mapping m\nsource deal    = schema \"d.json\"\ntarget project = schema \"p.json\"\n\nmap {\n  project.name          = deal.name             # the name\n  project.budget_amount = deal.amount | number  # money\n}\nselect project.kind {\n  when deal.a == \"x\" => \"X\"\n  otherwise          => \"Y\"\n}\nrequire at stage \"won\" {\n  deal.name       \"needs a name\"\n  deal.amount > 0 \"needs money\"\n}\n";
        assert_eq!(fmt(text), expected);
        assert_eq!(fmt(expected), expected);
    }

    #[test]
    fn strings_and_comments_are_never_touched() {
        let text = "mapping m\nmap {\n  p.note = \"a  {deal.x}   # not a comment\"   #   spaced   comment\n}\n";
        let out = fmt(text);
        assert!(out.contains("\"a  {deal.x}   # not a comment\""));
        assert!(out.contains("#   spaced   comment"));
    }

    #[test]
    fn never_transfer_entries_are_sorted_unless_commented() {
        let text = "mapping m\nnever transfer {\n  deal.z\n  deal.a\n}\n";
        assert_eq!(
            fmt(text),
            "mapping m\nnever transfer {\n  deal.a\n  deal.z\n}\n"
        );
        let commented = "mapping m\nnever transfer {\n  deal.z  # why\n  deal.a\n}\n";
        assert!(fmt(commented).find("deal.z") < fmt(commented).find("deal.a"));
    }

    #[test]
    fn strings_inside_interpolations_are_kept_byte_for_byte() {
        let text = "mapping m\nmap {\n  p.note = \"Client: {deal.name ?? \"(company  not   loaded)\"}\"\n  p.x    = \"{deal.a ?? \"No. #1\"}\"\n}\n";
        assert_eq!(fmt(text), text);
        let split = "mapping m\nmap {\n  p.note = \"{deal.a\n      }  hello   world # x\"\n  p.y   = deal.b\n}\n";
        let once = fmt(split);
        assert!(once.contains("      }  hello   world # x\""), "{once}");
        assert_eq!(fmt(&once), once);
    }

    #[test]
    fn a_never_transfer_block_closed_on_an_entry_line_is_left_in_order() {
        let text = "mapping m\nnever transfer {\ndeal.z\ndeal.a}\nmap{\np.x=deal.y\n}\n";
        let once = fmt(text);
        assert!(once.find("deal.z") < once.find("deal.a"), "{once}");
        assert_eq!(fmt(&once), once);
    }

    #[test]
    fn words_ending_in_or_and_not_are_not_operators() {
        let text = "mapping m\nmap {\n  p.color = deal.color\n  p.brand = deal.brand\n  p.snap = deal.snapshot\n  p.x = deal.x\n}\n";
        let expected = "mapping m\nmap {\n  p.color = deal.color\n  p.brand = deal.brand\n  p.snap  = deal.snapshot\n  p.x     = deal.x\n}\n";
        assert_eq!(fmt(text), expected);
    }

    #[test]
    fn syntax_errors_are_refused() {
        assert!(matches!(
            format("mapping m\nmap {"),
            Err(FormatError::Syntax(_))
        ));
    }
}
