//! The open mapping documents: their text as the editor has it (whole or incremental changes
//! applied in order), its version, the analysis of that text once it is made, and where their
//! diagnostics were published.

use std::path::PathBuf;

use lsp_types::{TextDocumentContentChangeEvent, Uri};

use super::analysis::Analysis;
use super::position::to_offset;

/// The language id of mapping documents; documents of other languages are not checked.
pub const LANGUAGE_ID: &str = "mapctl";

/// One open mapping.
pub struct Document {
    /// The editor's name for it.
    pub uri: Uri,
    /// Where it is checked from (its file, or for an unsaved one a file in the current folder).
    pub path: PathBuf,
    /// The editor's version of the text.
    pub version: i32,
    /// The text.
    pub text: String,
    /// The analysis of `text`, unless `stale`.
    pub analysis: Option<Analysis>,
    /// True when `text` or a file it reads changed since `analysis` was made.
    pub stale: bool,
    /// The URIs its last diagnostics went to (the mapping and schema files).
    pub published: Vec<Uri>,
}

impl Document {
    /// A document just opened (not analysed yet).
    pub fn open(uri: Uri, version: i32, text: String) -> Document {
        let path = super::features::document_path(&uri).unwrap_or_else(|| untitled_path(&uri));
        Document {
            uri,
            path,
            version,
            text,
            analysis: None,
            stale: true,
            published: Vec::new(),
        }
    }

    /// Applies the editor's changes, in order: a change without a range replaces the text, one
    /// with a range replaces that part (positions out of the text are clamped to it).
    pub fn change(&mut self, version: i32, changes: Vec<TextDocumentContentChangeEvent>) {
        for change in changes {
            match change.range {
                None => self.text = change.text,
                Some(range) => {
                    let start = to_offset(&self.text, range.start);
                    let end = to_offset(&self.text, range.end).max(start);
                    self.text.replace_range(start..end, &change.text);
                }
            }
        }
        self.version = version;
        self.stale = true;
    }

    /// The analysis of the current text, made now if needed.
    pub fn analysed(&mut self) -> &Analysis {
        if self.stale {
            self.analysis = None;
            self.stale = false;
        }
        self.analysis
            .get_or_insert_with(|| Analysis::new(&self.path, self.text.clone()))
    }
}

/// Where an unsaved document (`untitled:`) is checked from: the current folder.
fn untitled_path(uri: &Uri) -> PathBuf {
    let name = uri
        .as_str()
        .rsplit(['/', ':'])
        .next()
        .filter(|n| !n.is_empty())
        .unwrap_or("untitled");
    std::env::current_dir()
        .unwrap_or_default()
        .join(format!("{name}.map"))
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use lsp_types::{Position, Range};

    use super::*;

    fn edit(range: Option<((u32, u32), (u32, u32))>, text: &str) -> TextDocumentContentChangeEvent {
        TextDocumentContentChangeEvent {
            range: range
                .map(|((a, b), (c, d))| Range::new(Position::new(a, b), Position::new(c, d))),
            range_length: None,
            text: text.to_string(),
        }
    }

    #[test]
    fn incremental_changes_apply_in_order_and_clamp() {
        let uri = Uri::from_str("untitled:Untitled-1").unwrap();
        let mut doc = Document::open(uri, 1, "map {\n  job.a = 1\n}\n".into());
        doc.change(
            2,
            vec![
                edit(Some(((1, 6), (1, 7))), "bb"),
                edit(Some(((1, 2), (1, 2))), "# "),
                edit(Some(((9, 0), (9, 5))), "\n"),
                edit(Some(((0, 3), (0, 1))), ""),
            ],
        );
        assert_eq!(doc.text, "map {\n  # job.bb = 1\n}\n\n");
        assert_eq!(doc.version, 2);
        doc.change(3, vec![edit(None, "x")]);
        assert_eq!(doc.text, "x");
        assert!(doc.path.ends_with("Untitled-1.map"));
    }
}
