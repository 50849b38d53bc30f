//! Source files and byte spans: the floor every other module stands on.
//!
//! Every file mapctl reads for a check (the mapping, its schemas, its table files) is added to one
//! [`SourceMap`] and named by a [`FileId`]. Positions are byte [`Span`]s into a file's text; line and
//! column numbers are computed only when a diagnostic is rendered.

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Identifies one file in a [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// A byte range in one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Span {
    /// The file the range is in.
    pub file: FileId,
    /// First byte of the range.
    pub start: usize,
    /// One past the last byte of the range.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end` in `file`.
    pub fn new(file: FileId, start: usize, end: usize) -> Span {
        Span {
            file,
            start,
            end: end.max(start),
        }
    }

    /// The smallest span covering both `self` and `other` (same file).
    pub fn to(self, other: Span) -> Span {
        Span::new(
            self.file,
            self.start.min(other.start),
            self.end.max(other.end),
        )
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// True when the span covers no bytes.
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

/// One loaded file.
#[derive(Debug)]
pub struct SourceFile {
    /// The path used to read the file.
    pub path: PathBuf,
    /// The name shown to users (relative where possible).
    pub name: String,
    /// The file's text.
    pub text: Arc<str>,
    line_starts: Vec<usize>,
}

impl SourceFile {
    /// The 0-based line of a byte offset and the byte range of that line, without its line break.
    pub fn line_bounds(&self, offset: usize) -> (usize, std::ops::Range<usize>) {
        let offset = offset.min(self.text.len());
        let line = self.line_index(offset);
        let start = self.line_starts[line];
        let end = self.text.as_bytes()[offset..]
            .iter()
            .position(|&b| matches!(b, b'\n' | b'\r'))
            .map_or(self.text.len(), |i| offset + i);
        (line, start..end)
    }

    /// The byte offset where the 0-based line `line` starts (the text's end past the last line).
    pub fn line_start(&self, line: usize) -> usize {
        self.line_starts
            .get(line)
            .copied()
            .unwrap_or(self.text.len())
    }

    /// 1-based line and column (counted in Unicode scalar values) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = clamp_to_char_boundary(&self.text, offset);
        let line = self.line_index(offset);
        let column = self.text[self.line_starts[line]..offset].chars().count();
        (line + 1, column + 1)
    }

    /// The 0-based line holding byte `offset` (at most the text's length).
    fn line_index(&self, offset: usize) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(index) => index,
            Err(index) => index - 1,
        }
    }

    /// Byte offset of a 1-based line and column (column in Unicode scalar values).
    pub fn offset_of(&self, line: usize, column: usize) -> usize {
        let Some(&start) = self.line_starts.get(line.saturating_sub(1)) else {
            return self.text.len();
        };
        let rest = &self.text[start..];
        let in_line = rest
            .char_indices()
            .take_while(|(_, c)| *c != '\n')
            .nth(column.saturating_sub(1))
            .map(|(i, _)| i)
            .unwrap_or_else(|| rest.find('\n').unwrap_or(rest.len()));
        start + in_line
    }
}

/// Moves an offset back to the nearest char boundary at or before it.
pub fn clamp_to_char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// All files of one run.
#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    /// An empty map.
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    /// Adds a file and returns its id.
    pub fn add(&mut self, path: &Path, name: String, text: Arc<str>) -> FileId {
        let line_starts = std::iter::once(0)
            .chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1))
            .collect();
        self.files.push(SourceFile {
            path: path.to_path_buf(),
            name,
            text,
            line_starts,
        });
        FileId((self.files.len() - 1) as u32)
    }

    /// The file with this id.
    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    /// The id of an already loaded file, by path.
    pub fn find(&self, path: &Path) -> Option<FileId> {
        self.files
            .iter()
            .position(|f| f.path == path)
            .map(|i| FileId(i as u32))
    }

    /// Number of files loaded.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// True when no file is loaded.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters_not_bytes() {
        let mut map = SourceMap::new();
        let id = map.add(Path::new("x"), "x".into(), "ab\nMüller x\n".into());
        let file = map.get(id);
        assert_eq!(file.line_col(0), (1, 1));
        assert_eq!(file.line_col(3), (2, 1));
        let x = "ab\nMüller x".find(" x").unwrap() + 1;
        assert_eq!(file.line_col(x), (2, 8));
        assert_eq!(file.offset_of(2, 8), x);
    }

    #[test]
    fn line_bounds_exclude_the_line_break() {
        let mut map = SourceMap::new();
        let id = map.add(Path::new("x"), "x".into(), "ab\r\ncd\n\nlast".into());
        let file = map.get(id);
        assert_eq!(file.line_bounds(0), (0, 0..2));
        assert_eq!(file.line_bounds(5), (1, 4..6));
        assert_eq!(file.line_bounds(7), (2, 7..7));
        assert_eq!(file.line_bounds(10), (3, 8..12));
        assert_eq!(file.line_bounds(99), (3, 8..12));
    }
}
