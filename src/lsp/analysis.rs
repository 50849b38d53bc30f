//! One open document, checked: the checker's output (unchanged from `mapctl check`), the source
//! map with the schema files it loaded, and the lookups the editor features need: the paths
//! written in a line of text, and what a path leads to in the schemas.
//!
//! Paths are found in the text rather than in the AST, because while the author types
//! (`deal.properties.` with the cursor after the dot) the item does not parse, yet completion and
//! hover must still work.

use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use crate::check::{self, CheckOutput, Record as RecordRoot};
use crate::schema::Flattener;
use crate::schema::flat::Flat;
use crate::source::SourceMap;
use crate::syntax::Limits;

/// A checked document.
pub struct Analysis {
    /// The document's text.
    pub text: String,
    /// The mapping file and every schema file the check read.
    pub sources: SourceMap,
    /// What the checker found.
    pub output: CheckOutput,
    /// Effective schemas, cached.
    pub flattener: Flattener,
}

impl Analysis {
    /// Checks `text` as the mapping file at `path` (schemas are read relative to it).
    pub fn new(path: &Path, text: String) -> Analysis {
        let mut sources = SourceMap::new();
        let name = crate::schema::load::display_name(path);
        let file = sources.add(path, name, Arc::from(text.as_str()));
        let output = check::check_source(&mut sources, file, &Limits::default());
        Analysis {
            text,
            sources,
            output,
            flattener: Flattener::new(),
        }
    }

    /// The record named `name`.
    pub fn record(&self, name: &str) -> Option<&RecordRoot> {
        self.output.records.iter().find(|r| r.name == name)
    }

    /// The effective schema at the end of `segments` under record `root`, and whether the last
    /// field is required in its parent.
    pub fn resolve(&self, root: &str, segments: &[Segment]) -> Option<(Rc<Flat>, bool)> {
        let node = self.record(root)?.root?;
        let schemas = &self.output.schemas;
        let mut flat = self.flattener.node(schemas, node);
        let mut required = true;
        for segment in segments {
            let next = match &segment.kind {
                SegmentKind::Field(name) => {
                    required = flat.required.iter().any(|r| r == name);
                    self.flattener.dnf(schemas, flat.properties.get(name)?)
                }
                SegmentKind::Item => {
                    required = true;
                    self.flattener.dnf(schemas, flat.items.as_ref()?)
                }
            };
            flat = next;
        }
        Some((flat, required))
    }

    /// The file and byte range where a schema was declared (its first origin).
    pub fn declaration_of(&self, flat: &Flat) -> Option<(PathBuf, String, usize, usize)> {
        let node = *flat.origin.first()?;
        let span = self.output.schemas.span_of(&self.sources, node)?;
        let file = self.sources.get(span.file);
        Some((
            file.path.clone(),
            file.text.to_string(),
            span.start,
            span.end,
        ))
    }

    /// The paths written in `text[start..end]` that start with a declared record.
    pub fn paths(&self, start: usize, end: usize) -> Vec<TextPath> {
        let records: Vec<&str> = self
            .output
            .records
            .iter()
            .map(|r| r.name.as_str())
            .collect();
        paths_in(&self.text, start, end, &records)
    }

    /// Table names declared in the document, in order.
    pub fn table_names(&self) -> Vec<(String, usize)> {
        let mut names = Vec::new();
        let mut offset = 0;
        for line in self.text.split_inclusive('\n') {
            let trimmed = line.trim_start();
            if let Some(rest) = trimmed.strip_prefix("table ") {
                let spaced = rest.trim_start();
                let name: String = spaced
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    let at = offset + line.len() - spaced.len();
                    names.push((name, at));
                }
            }
            offset += line.len();
        }
        names
    }
}

/// One step of a path written in the text.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// What the step is.
    pub kind: SegmentKind,
    /// Its byte range in the text (the name, without the dot).
    pub start: usize,
    /// End of the range.
    pub end: usize,
}

/// A field or an array step.
#[derive(Debug, Clone, PartialEq)]
pub enum SegmentKind {
    /// `.name` or `."quoted name"`.
    Field(String),
    /// `[0]` or `[key == value]`.
    Item,
}

/// A path written in the text: `record.field[0].other`.
#[derive(Debug, Clone, PartialEq)]
pub struct TextPath {
    /// The record name.
    pub root: String,
    /// Byte range of the record name.
    pub root_start: usize,
    /// End of the record name.
    pub root_end: usize,
    /// The steps.
    pub segments: Vec<Segment>,
    /// True when the path ends with a dot (the author is about to type a field).
    pub trailing_dot: bool,
    /// End of the whole path (after a trailing dot).
    pub end: usize,
}

/// Every path in `text[start..end]` that starts with one of `records`.
pub fn paths_in(text: &str, start: usize, end: usize, records: &[&str]) -> Vec<TextPath> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut index = start;
    while index < end {
        let at_word_start = is_ident_start(bytes[index])
            && (index == 0 || !(is_ident_char(bytes[index - 1]) || bytes[index - 1] == b'.'));
        if at_word_start {
            let word_end = scan_ident(bytes, index);
            let word = &text[index..word_end];
            if records.contains(&word) {
                let path = scan_path(text, index, word_end, end);
                index = path.end.max(word_end);
                found.push(path);
                continue;
            }
            index = word_end;
            continue;
        }
        index += 1;
    }
    found
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn scan_ident(bytes: &[u8], start: usize) -> usize {
    let mut end = start;
    while end < bytes.len() && is_ident_char(bytes[end]) {
        end += 1;
    }
    end
}

/// Reads the steps of a path whose record name is `text[start..root_end]`.
fn scan_path(text: &str, start: usize, root_end: usize, limit: usize) -> TextPath {
    let bytes = text.as_bytes();
    let mut path = TextPath {
        root: text[start..root_end].to_string(),
        root_start: start,
        root_end,
        segments: Vec::new(),
        trailing_dot: false,
        end: root_end,
    };
    let mut index = root_end;
    while index < limit {
        match bytes[index] {
            b'.' if index + 1 < limit && is_ident_start(bytes[index + 1]) => {
                let end = scan_ident(bytes, index + 1);
                path.segments.push(Segment {
                    kind: SegmentKind::Field(text[index + 1..end].to_string()),
                    start: index + 1,
                    end,
                });
                index = end;
            }
            b'.' if index + 1 < limit && bytes[index + 1] == b'"' => {
                let Some(close) = closing_quote(bytes, index + 2, limit) else {
                    break;
                };
                path.segments.push(Segment {
                    kind: SegmentKind::Field(text[index + 2..close].to_string()),
                    start: index + 1,
                    end: close + 1,
                });
                index = close + 1;
            }
            b'.' => {
                path.trailing_dot = true;
                index += 1;
                break;
            }
            b'[' => {
                let Some(close) = text[index..limit].find(']').map(|i| index + i) else {
                    break;
                };
                path.segments.push(Segment {
                    kind: SegmentKind::Item,
                    start: index,
                    end: close + 1,
                });
                index = close + 1;
            }
            _ => break,
        }
    }
    path.end = index;
    path
}

fn closing_quote(bytes: &[u8], from: usize, limit: usize) -> Option<usize> {
    let mut index = from;
    while index < limit {
        match bytes[index] {
            b'\\' => index += 2,
            b'"' => return Some(index),
            _ => index += 1,
        }
    }
    None
}

/// The byte range of the line holding `offset`.
pub fn line_bounds(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    (start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_found_with_their_segments() {
        let text = r#"  job.title = "{deal.properties."deal name"}" | lookup(x) ?? deal.custom_fields[id == 5].value"#;
        let paths = paths_in(text, 0, text.len(), &["deal", "job"]);
        let roots: Vec<&str> = paths.iter().map(|p| p.root.as_str()).collect();
        assert_eq!(roots, ["job", "deal", "deal"]);
        assert_eq!(
            paths[1].segments[1].kind,
            SegmentKind::Field("deal name".into())
        );
        assert_eq!(paths[2].segments[1].kind, SegmentKind::Item);
        assert_eq!(
            paths[2].segments[2].kind,
            SegmentKind::Field("value".into())
        );
        let typing = "  job.title = deal.properties.";
        let path = &paths_in(typing, 0, typing.len(), &["deal", "job"])[1];
        assert!(path.trailing_dot);
        assert_eq!(path.end, typing.len());
    }
}
