//! One open document, checked: the checker's output (unchanged from `mapctl check`: diagnostics,
//! the syntax tree, the records and their schemas), the source map with the schema files it
//! loaded, and the two questions every editor feature asks: what syntax is at a position, and
//! what a path leads to.
//!
//! The syntax comes from the checked tree when an item that parsed holds the position; while the
//! author types (`deal.properties.` with the cursor after the dot) the item does not parse, and
//! `syntax::partial` re-parses it as if the text ended at the cursor. Paths are answered by the
//! checker's own resolver (`check::Query`), so hover and completion agree with the diagnostics.

use std::path::Path;
use std::sync::Arc;

use lsp_types::{Location, Uri};

use super::position::to_range;
use super::uri::path_to_uri;
use crate::check::{self, CheckOutput, Query};
use crate::schema::Flattener;
use crate::source::{SourceMap, Span};
use crate::syntax::Limits;
use crate::syntax::ast::MappingFile;
use crate::syntax::find::{Node, node_at};
use crate::syntax::partial::{Cut, parse_around};

/// A checked document.
pub struct Analysis {
    /// The document's text.
    pub text: String,
    /// The mapping file and every schema file the check read.
    pub sources: SourceMap,
    /// What the checker found.
    pub output: CheckOutput,
    /// Effective schemas, cached between requests.
    pub flattener: Flattener,
}

impl Analysis {
    /// Checks `text` as the mapping file at `path` (schemas are read relative to it).
    pub fn new(path: &Path, text: String) -> Analysis {
        let mut sources = SourceMap::new();
        let name = crate::io::files::display_name(path);
        let file = sources.add(path, name, Arc::from(text.as_str()));
        let output = check::check_source(&mut sources, file, &Limits::default());
        Analysis {
            text,
            sources,
            output,
            flattener: Flattener::new(),
        }
    }

    /// Path questions, answered as the checker resolves paths.
    pub fn query(&self) -> Query<'_> {
        Query::new(&self.output, &self.flattener)
    }

    /// Calls `answer` with the node at byte `offset`: from the checked tree when a parsed item
    /// holds the offset, else from the item around it read up to the end of the word there.
    pub fn at<R>(&self, offset: usize, answer: impl FnOnce(Node<'_>) -> Option<R>) -> Option<R> {
        let parsed = &self.output.ast;
        if parsed
            .items
            .iter()
            .any(|item| item.span().start <= offset && offset <= item.span().end)
        {
            return answer(node_at(parsed, offset)?);
        }
        let cut = word_end(&self.text, offset);
        let partial = parse_around(&self.text, self.output.file, cut, Cut::AsIs)?;
        answer(node_at(&partial, offset)?)
    }

    /// Calls `answer` with the item being typed at byte `offset` (re-parsed with a placeholder
    /// name at the cursor) and the node there, when the item can be read that way.
    pub fn typing<R>(
        &self,
        offset: usize,
        answer: impl FnOnce(Option<&MappingFile>, Option<Node<'_>>) -> R,
    ) -> R {
        let partial = parse_around(&self.text, self.output.file, offset, Cut::Completion);
        let node = partial.as_ref().and_then(|tree| node_at(tree, offset));
        answer(partial.as_ref(), node)
    }

    /// The LSP location of a span; spans in the mapping itself get the document's `uri`.
    pub fn location(&self, span: Span, uri: &Uri) -> Option<Location> {
        let file = self.sources.get(span.file);
        let target = if span.file == self.output.file {
            uri.clone()
        } else {
            path_to_uri(&file.path)?
        };
        Some(Location::new(
            target,
            to_range(&file.text, span.start, span.end),
        ))
    }

    /// `file:line` of a span, the file named relative to the mapping's folder when it is in it.
    pub fn place(&self, span: Span) -> String {
        let file = self.sources.get(span.file);
        let folder = self.sources.get(self.output.file).path.parent();
        let shown = folder
            .and_then(|folder| file.path.strip_prefix(folder).ok())
            .map_or_else(|| file.name.clone(), |p| p.display().to_string());
        let (line, _) = file.line_col(span.start);
        format!("{shown}:{line}")
    }
}

/// The end of the identifier at `offset` (or `offset` when none is there).
fn word_end(text: &str, offset: usize) -> usize {
    let offset = offset.min(text.len());
    text[offset..]
        .char_indices()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
        .map_or(text.len(), |(i, _)| offset + i)
}

/// The identifier characters just before `offset` (what the author has typed of a name).
pub fn typed_word(text: &str, offset: usize) -> &str {
    let offset = offset.min(text.len());
    let start = text[..offset]
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphanumeric() || *c == '_')
        .last()
        .map_or(offset, |(i, _)| i);
    &text[start..offset]
}
