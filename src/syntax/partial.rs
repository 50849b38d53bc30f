//! Parsing the item around a position as if the text ended there: how tools see what is being
//! typed (`job.title = deal.properties.` with the cursor after the dot does not parse).
//!
//! The item holding the position starts at the last line, at or before it, whose first word
//! starts an item (where the recovering parser resumes too). It is cut at the position; for a
//! completion an identifier ([`CURSOR`]) is written there unless the position is inside a
//! string, so that a half-typed path has a last step; then the strings, brackets and blocks left
//! open are closed, after a filler the statement may still lack (an assignment's `= _`, a
//! branch's `=> _`) and before an ending the item may lack (a block `{}`). In a block, the cut
//! line is first read alone under the block's opening line, then with the lines just before it,
//! and only then the whole block up to the cut: its earlier lines may be broken too, and reading
//! a 2,000-line block to complete one name would be slow.

use pest::Parser as _;

use super::ast::MappingFile;
use super::limits::{self, Limits};
use super::lower::Lowerer;
use super::parser::{MappingParser, Rule, TOP_LEVEL_KEYWORDS, first_word};
use crate::source::{FileId, clamp_to_char_boundary};

/// The identifier written at the position for a completion.
pub const CURSOR: &str = "__cursor__";

/// How the text is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// For completion: [`CURSOR`] is written at the position, unless it is inside a string.
    Completion,
    /// The text up to the position as it is (for hover and definition on a broken item).
    AsIs,
}

/// Lines before the cut line that are tried together with it in a block.
const MAX_LINES_BACK: usize = 8;

/// What is tried after the cut, before closing what is open, for a statement that needs more
/// than the name being typed: an assignment's value, a branch's value, a join's other side, a
/// client match's target.
const FILLERS: [&str; 5] = ["", " = _", " => _", " == _", " into _"];

/// What is tried after closing what is open, for an item that needs more than its brackets
/// (`require at stage "S"` and `select PATH` need a block).
const ENDINGS: [&str; 2] = ["", " {}"];

/// The item around byte `cut` of `text`, parsed as if the text ended there; its spans are
/// offsets into `text`. `None` when no reading of it parses.
pub fn parse_around(text: &str, file: FileId, cut: usize, how: Cut) -> Option<MappingFile> {
    let cut = clamp_to_char_boundary(text, cut.min(text.len()));
    let start = item_start(text, cut);
    for reading in readings(&text[start..cut]) {
        let open = Open::scan(&reading.text);
        let insert = match how {
            Cut::Completion if !open.in_string() => CURSOR,
            _ => "",
        };
        let closers = open.closers();
        for filler in FILLERS {
            for ending in ENDINGS {
                let fragment = format!("{}{insert}{filler}{closers}{ending}", reading.text);
                let base = start + reading.shift;
                if let Some(parsed) = parse_item(&fragment, file, base, cut) {
                    return Some(parsed);
                }
            }
        }
    }
    None
}

/// True when byte `cut` of `text` is inside a string (of the item around it).
pub fn inside_string(text: &str, cut: usize) -> bool {
    let cut = clamp_to_char_boundary(text, cut.min(text.len()));
    Open::scan(&text[item_start(text, cut)..cut]).in_string()
}

/// Parses `fragment` (which starts at byte `start` of its file) as one item reaching `cut`.
fn parse_item(fragment: &str, file: FileId, start: usize, cut: usize) -> Option<MappingFile> {
    // Never hand pest a text the limits refuse (nesting depth bounds its recursion).
    if limits::check(fragment, file, &Limits::default()).is_some() {
        return None;
    }
    let pair = MappingParser::parse(Rule::item_at, fragment)
        .ok()?
        .next()?
        .into_inner()
        .next()?;
    let item = Lowerer::new(file).item(pair, start)?;
    (item.span().end >= cut).then(|| MappingFile {
        items: vec![item],
        has_syntax_errors: false,
    })
}

/// The start of the last line at or before `cut` whose first word starts an item (0 if none).
fn item_start(text: &str, cut: usize) -> usize {
    let mut end = cut;
    loop {
        let line_start = text[..end].rfind('\n').map_or(0, |i| i + 1);
        let line = text[line_start..].trim_start();
        if TOP_LEVEL_KEYWORDS.contains(&first_word(line)) || line_start == 0 {
            return line_start;
        }
        end = line_start - 1;
    }
}

/// One way to read the item being typed: its text, and how far into the item that text's
/// second part starts later than in the fragment (the block's earlier lines left out).
struct Reading {
    text: String,
    shift: usize,
}

/// The readings of an item's text (`prefix`, up to the cut) to try, cheapest first: when it has
/// a block, its opening line followed by the cut line alone, then by the lines just before it
/// too (the block's earlier lines, which may be broken, left out); finally the whole text.
///
/// Leaving lines out moves the rest of the text: the fragment is parsed with a base that puts
/// the kept lines at their true offsets, so only the opening line's nodes (before the kept lines,
/// never under the cursor) have shifted spans.
fn readings(prefix: &str) -> Vec<Reading> {
    let mut readings = Vec::new();
    if let Some(open) = Open::scan(prefix).first_block {
        let body_start = open + 1;
        let mut line_start = prefix.rfind('\n').map_or(0, |i| i + 1);
        for _ in 0..=MAX_LINES_BACK {
            if line_start <= body_start {
                break;
            }
            readings.push(Reading {
                text: format!("{}\n{}", &prefix[..body_start], &prefix[line_start..]),
                shift: line_start - body_start - 1,
            });
            line_start = prefix[..line_start - 1].rfind('\n').map_or(0, |i| i + 1);
        }
    }
    readings.push(Reading {
        text: prefix.to_string(),
        shift: 0,
    });
    readings
}

/// What is open at the end of a text: strings, interpolations, brackets and braces.
struct Open {
    /// The closing characters, innermost last.
    stack: Vec<u8>,
    /// The offset of the item's first block brace, if one opened.
    first_block: Option<usize>,
}

impl Open {
    fn scan(text: &str) -> Open {
        let bytes = text.as_bytes();
        let mut open = Open {
            stack: Vec::new(),
            first_block: None,
        };
        let mut index = 0;
        while index < bytes.len() {
            let byte = bytes[index];
            if open.in_string() {
                match byte {
                    b'\\' => index += 1,
                    b'"' | b'\n' => {
                        open.stack.pop();
                    }
                    // An interpolation: code until its `}`.
                    b'{' => open.stack.push(b'}'),
                    _ => {}
                }
            } else {
                match byte {
                    b'#' => {
                        while index < bytes.len() && bytes[index] != b'\n' {
                            index += 1;
                        }
                        continue;
                    }
                    b'"' => open.stack.push(b'"'),
                    b'{' => {
                        if open.stack.is_empty() && open.first_block.is_none() {
                            open.first_block = Some(index);
                        }
                        open.stack.push(b'}');
                    }
                    b'[' => open.stack.push(b']'),
                    b'(' => open.stack.push(b')'),
                    b'}' | b']' | b')' if open.stack.last() == Some(&byte) => {
                        open.stack.pop();
                    }
                    _ => {}
                }
            }
            index += 1;
        }
        open
    }

    fn in_string(&self) -> bool {
        self.stack.last() == Some(&b'"')
    }

    fn closers(&self) -> String {
        self.stack.iter().rev().map(|&b| b as char).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::find::{Node, node_at};

    fn node_kind(text: &str, needle: &str, how: Cut) -> String {
        let cut = text.find(needle).expect("needle") + needle.len();
        let Some(parsed) = parse_around(text, FileId(0), cut, how) else {
            return "no parse".to_string();
        };
        match node_at(&parsed, cut) {
            Some(Node::Path { path, segment }) => format!("path {} {segment:?}", path.display()),
            Some(Node::Transform(call)) => format!("transform {}", call.name.name),
            Some(Node::NameArg { call, index }) => format!("arg {index} of {}", call.name.name),
            Some(Node::Table(table)) => format!("table {}", table.name.name),
            Some(Node::Record(record)) => format!("record {}", record.name.name),
            Some(Node::Text { span, .. }) => format!("text at {}", span.start),
            None => "nothing".to_string(),
        }
    }

    #[test]
    fn a_half_typed_path_in_a_broken_block_has_a_last_step() {
        let text = "map {\n  job.a = deal.properties.\n  job.b = deal.x | \n  job.c = 1\n}\n";
        assert_eq!(
            node_kind(text, "deal.properties.", Cut::Completion),
            "path deal.properties.__cursor__ Some(1)"
        );
        assert_eq!(
            node_kind(text, "deal.x | ", Cut::Completion),
            "transform __cursor__"
        );
    }

    #[test]
    fn strings_brackets_and_blocks_are_closed() {
        let text = "table owners { \"a\" => 1 }\nmap {\n  job.a = deal.x | lookup(ow";
        assert_eq!(
            node_kind(text, "lookup(ow", Cut::Completion),
            "arg 0 of lookup"
        );
        let stage = "trigger when deal.s == \"won\"\nrequire at stage \"wo";
        let at = stage.rfind('"').unwrap();
        assert_eq!(
            node_kind(stage, "stage \"wo", Cut::Completion),
            format!("text at {at}")
        );
        let select = "select job.t {\n  when deal.a == \"x\" => \"Ent";
        let at = select.rfind('"').unwrap();
        assert_eq!(
            node_kind(select, "=> \"Ent", Cut::Completion),
            format!("text at {at}")
        );
    }

    #[test]
    fn statements_get_what_they_lack_after_the_cursor() {
        let block = "map {\n  job.x = 1\n  job.";
        assert_eq!(
            node_kind(block, "  job.", Cut::Completion),
            "path job.__cursor__ Some(0)"
        );
        let select = "select job.t {\n  when deal.";
        assert_eq!(
            node_kind(select, "when deal.", Cut::Completion),
            "path deal.__cursor__ Some(0)"
        );
        let header = "select job.";
        assert_eq!(
            node_kind(header, "job.", Cut::Completion),
            "path job.__cursor__ Some(0)"
        );
        let join = "source company = schema \"c.json\" join on company.";
        assert_eq!(
            node_kind(join, "on company.", Cut::Completion),
            "path company.__cursor__ Some(0)"
        );
        assert_eq!(
            node_kind("map {\n  job.x = \"a", "\"a", Cut::Completion),
            "text at 16"
        );
        assert!(inside_string("map {\n  job.x = \"a", 17));
        assert!(!inside_string("map {\n  job.x = \"a\" | ", 21));
    }

    #[test]
    fn hover_reads_a_broken_item_up_to_the_word() {
        let text = "trigger when deal.properties.dealstage == ";
        assert_eq!(
            node_kind(text, "deal.prop", Cut::AsIs),
            "path deal.prop Some(0)"
        );
    }
}
