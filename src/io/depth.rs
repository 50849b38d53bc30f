//! Nesting limits on JSON and YAML text, checked before any parser sees it.
//!
//! Parsers recurse per level, and the YAML parser takes time quadratic in the depth before its
//! own recursion limit stops it (100,000 levels: 22 s). So every JSON or YAML file mapctl reads
//! whole (schemas, tables, tests files) is scanned first, in one linear pass that allocates
//! nothing per level, and refused (M609) when it nests deeper than [`MAX_DEPTH`]. Deals are
//! read by serde_json, whose limit is the same 128 levels.

/// Deepest nesting accepted in a JSON or YAML document.
pub const MAX_DEPTH: usize = 128;

/// Where a JSON text first nests deeper than [`MAX_DEPTH`] (a byte offset), if it does. Brackets
/// inside strings do not count.
pub fn json_too_deep(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (at, byte) in text.bytes().enumerate() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some(at);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// Where a YAML text first nests deeper than [`MAX_DEPTH`] (a byte offset), if it does. Flow
/// brackets and block levels both count: a block level is an indentation deeper than the line
/// that opens it, or a compact `- `/`? ` entry. The count errs on the high side (a sequence
/// under a key counts twice), never low. Quoted scalars, comments and the text of block scalars
/// (`|`, `>`) are skipped; a quote only opens a scalar where one can start (so the apostrophe in
/// `it's` does not).
pub fn yaml_too_deep(text: &str) -> Option<usize> {
    let mut scan = YamlScan::default();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if let Some(at) = scan.line(line) {
            return Some(offset + at);
        }
        offset += line.len();
    }
    None
}

/// The state carried from one line to the next.
#[derive(Default)]
struct YamlScan {
    /// Open flow brackets.
    flow: usize,
    /// The quote of a scalar still open at the end of the previous line.
    quote: Option<char>,
    /// Indentations of the open block levels.
    indents: Vec<usize>,
    /// Inside a block scalar opened at this indentation.
    block_scalar: Option<usize>,
}

impl YamlScan {
    fn line(&mut self, line: &str) -> Option<usize> {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let content = line[indent..].trim_end();
        if let Some(opened) = self.block_scalar {
            if content.is_empty() || indent > opened {
                return None;
            }
            self.block_scalar = None;
        }
        if self.quote.is_none() && self.flow == 0 {
            if content.is_empty() || content.starts_with('#') {
                return None;
            }
            while self.indents.last().is_some_and(|&open| open >= indent) {
                self.indents.pop();
            }
            self.indents.push(indent);
            let mut column = indent;
            let mut rest = content;
            while let Some(after) = rest.strip_prefix("- ").or_else(|| rest.strip_prefix("? ")) {
                let skipped = rest.len() - after.trim_start_matches(' ').len();
                column += skipped;
                rest = &rest[skipped..];
                self.indents.push(column);
            }
            if self.indents.len() > MAX_DEPTH {
                return Some(indent);
            }
        }
        self.chars(line, indent)
    }

    /// Scans the characters of a line for quotes, comments and flow brackets; the offset where
    /// the depth is exceeded, if it is.
    fn chars(&mut self, line: &str, indent: usize) -> Option<usize> {
        let mut previous = ' ';
        let mut chars = line.char_indices().peekable();
        let mut last_token = ' ';
        while let Some((at, c)) = chars.next() {
            match self.quote {
                Some('"') if c == '\\' => {
                    chars.next();
                }
                Some(open) if c == open => self.quote = None,
                Some(_) => {}
                None => match c {
                    '#' if previous.is_whitespace() => break,
                    '"' | '\'' if previous.is_whitespace() || ":,[{-?".contains(previous) => {
                        self.quote = Some(c);
                    }
                    '[' | '{' => {
                        self.flow += 1;
                        if self.flow + self.indents.len() > MAX_DEPTH {
                            return Some(at);
                        }
                    }
                    ']' | '}' => self.flow = self.flow.saturating_sub(1),
                    _ => {}
                },
            }
            if !c.is_whitespace() {
                last_token = c;
            }
            previous = c;
        }
        let opens_block = self.quote.is_none()
            && self.flow == 0
            && block_scalar_header(line.trim_end(), last_token);
        if opens_block {
            self.block_scalar = Some(indent);
        }
        None
    }
}

/// True when a line ends in a block scalar header (`|`, `>`, `|-`, `>+2` ...).
fn block_scalar_header(line: &str, last: char) -> bool {
    let without_comment = line.split(" #").next().unwrap_or(line).trim_end();
    let header = without_comment
        .rsplit([' ', ':'])
        .next()
        .unwrap_or(without_comment);
    let mut chars = header.chars();
    matches!(chars.next(), Some('|' | '>'))
        && chars.all(|c| c == '-' || c == '+' || c.is_ascii_digit())
        && last != '"'
        && last != '\''
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_depth_counts_brackets_outside_strings() {
        let deep = "[".repeat(MAX_DEPTH + 1);
        assert_eq!(json_too_deep(&deep), Some(MAX_DEPTH));
        assert_eq!(json_too_deep(&"[".repeat(MAX_DEPTH)), None);
        let quoted = format!("{{\"a\": \"{deep}\\\"{deep}\"}}");
        assert_eq!(json_too_deep(&quoted), None);
    }

    #[test]
    fn yaml_flow_depth_is_bounded_outside_strings_and_comments() {
        let deep = "[".repeat(MAX_DEPTH + 1);
        assert!(yaml_too_deep(&deep).is_some());
        let quoted = format!("a: \"{deep}\"\nb: '{deep}'\n# {deep}\nc: it's [1, [2]]\n");
        assert_eq!(yaml_too_deep(&quoted), None);
    }

    #[test]
    fn yaml_block_levels_count_indentation_and_compact_entries() {
        let compact = format!("{}x\n", "- ".repeat(MAX_DEPTH + 1));
        assert!(yaml_too_deep(&compact).is_some());
        let indented: String = (0..=MAX_DEPTH)
            .map(|level| format!("{}k{level}:\n", " ".repeat(level)))
            .collect();
        assert!(yaml_too_deep(&indented).is_some());
        let shallow: String = (0..40)
            .map(|level| format!("{}k{level}:\n", " ".repeat(level)))
            .collect();
        assert_eq!(yaml_too_deep(&shallow), None);
    }

    #[test]
    fn yaml_block_scalars_and_siblings_do_not_add_depth() {
        let text: String = (0..=MAX_DEPTH)
            .map(|level| format!("{}line {level}\n", " ".repeat(level + 2)))
            .collect();
        let scalar = format!("text: |\n{text}after: 1\n");
        assert_eq!(yaml_too_deep(&scalar), None);
        let siblings = "a: 1\n".repeat(10_000);
        assert_eq!(yaml_too_deep(&siblings), None);
    }
}
