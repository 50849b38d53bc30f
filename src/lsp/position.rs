//! Positions: byte offsets (what spans hold) to and from LSP positions (line, UTF-16 code unit).
//!
//! LSP counts columns in UTF-16 code units by default; CRM data is full of accented and
//! non-Latin names (`"Müller & Söhne GmbH"`, emoji in deal names), where bytes, characters and
//! UTF-16 units all differ. These two functions are the only place the conversion happens.

use lsp_types::{Position, Range};

/// The LSP position of byte `offset` in `text` (clamped to the text, and to a character boundary).
pub fn to_position(text: &str, offset: usize) -> Position {
    let offset = crate::source::clamp_to_char_boundary(text, offset.min(text.len()));
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.matches('\n').count();
    let character: usize = before[line_start..].chars().map(char::len_utf16).sum();
    Position::new(
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(character).unwrap_or(u32::MAX),
    )
}

/// The byte offset of an LSP position in `text`. A line past the end gives the end of the text; a
/// column past the end of its line gives the line's end; a column inside a surrogate pair gives
/// the start of that character.
pub fn to_offset(text: &str, position: Position) -> usize {
    let mut line_start = 0;
    for _ in 0..position.line {
        match text[line_start..].find('\n') {
            Some(i) => line_start += i + 1,
            None => return text.len(),
        }
    }
    let line_end = text[line_start..]
        .find('\n')
        .map_or(text.len(), |i| line_start + i);
    let mut units = 0usize;
    for (index, c) in text[line_start..line_end].char_indices() {
        let next = units + c.len_utf16();
        if next > position.character as usize {
            return line_start + index;
        }
        units = next;
    }
    line_end
}

/// The LSP range of a byte range.
pub fn to_range(text: &str, start: usize, end: usize) -> Range {
    Range::new(to_position(text, start), to_position(text, end))
}

/// A text's line starts, for converting many offsets (an outline, semantic tokens) without
/// reading the text from its start each time.
pub struct Lines<'t> {
    text: &'t str,
    starts: Vec<usize>,
}

impl<'t> Lines<'t> {
    /// Indexes `text`.
    pub fn new(text: &'t str) -> Lines<'t> {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Lines { text, starts }
    }

    /// The LSP position of byte `offset`, as [`to_position`] gives it.
    pub fn position(&self, offset: usize) -> Position {
        let offset = crate::source::clamp_to_char_boundary(self.text, offset.min(self.text.len()));
        let line = self
            .starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1);
        let start = self.starts.get(line).copied().unwrap_or(0);
        let character: usize = self.text[start..offset].chars().map(char::len_utf16).sum();
        Position::new(
            u32::try_from(line).unwrap_or(u32::MAX),
            u32::try_from(character).unwrap_or(u32::MAX),
        )
    }

    /// The LSP range of a byte range.
    pub fn range(&self, start: usize, end: usize) -> Range {
        Range::new(self.position(start), self.position(end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accented_and_astral_characters_count_in_utf16_units() {
        let text = "mapping m\n  job.title = \"Müller & Söhne GmbH\" | trim # 😀 x\n";
        let m = text.find("Müller").unwrap();
        assert_eq!(to_position(text, m), Position::new(1, 15));
        let trim = text.find("trim").unwrap();
        // "Müller & Söhne GmbH" is 19 characters, 19 UTF-16 units, 21 bytes.
        assert_eq!(to_position(text, trim), Position::new(1, 38));
        let x = text.find(" x").unwrap() + 1;
        let emoji = text.find('😀').unwrap();
        assert_eq!(
            to_position(text, x).character - to_position(text, emoji).character,
            3
        );
        let lines = Lines::new(text);
        for offset in [0, m, trim, emoji, x, text.len()] {
            assert_eq!(to_offset(text, to_position(text, offset)), offset);
            assert_eq!(lines.position(offset), to_position(text, offset));
        }
        for offset in 0..text.len() {
            assert_eq!(
                lines.position(offset),
                to_position(text, offset),
                "{offset}"
            );
        }
    }

    #[test]
    fn out_of_range_positions_are_clamped() {
        let text = "ab\ncd";
        assert_eq!(to_offset(text, Position::new(0, 99)), 2);
        assert_eq!(to_offset(text, Position::new(9, 0)), text.len());
        let astral = "😀z";
        assert_eq!(
            to_offset(astral, Position::new(0, 1)),
            0,
            "inside the surrogate pair"
        );
        assert_eq!(to_offset(astral, Position::new(0, 2)), 4);
        assert_eq!(
            to_position(astral, 2),
            Position::new(0, 0),
            "inside the character"
        );
    }
}
