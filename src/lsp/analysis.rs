//! One open document, checked: the checker's output (unchanged from `mapctl check`: diagnostics,
//! the syntax tree, the records and their schemas), the source map with the schema files it
//! loaded, and the two questions every editor feature asks: what syntax is at a position, and
//! what a path leads to.
//!
//! The syntax comes from the checked tree when an item that parsed holds the position; while the
//! author types (`deal.properties.` with the cursor after the dot) the item does not parse, and
//! `syntax::partial` re-parses it as if the text ended at the cursor. Paths are answered by the
//! checker's own resolver (`check::Query`), so hover and completion agree with the diagnostics.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

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
    /// Where the document is checked from (schemas and tables are read relative to it).
    pub path: PathBuf,
    /// The document's text.
    pub text: String,
    /// The mapping file and every schema file the check read.
    pub sources: SourceMap,
    /// What the checker found.
    pub output: CheckOutput,
    /// Effective schemas, cached between requests.
    pub flattener: Flattener,
    /// The other files the check read, as they were on disk then.
    pub stamps: Vec<Stamp>,
    /// The verified fixes of each diagnostic (by index), once asked for.
    pub fixes: RefCell<HashMap<usize, Vec<super::fixes::Fix>>>,
}

/// A file the check read and what it looked like on disk (so a change can be noticed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    /// The file.
    pub path: PathBuf,
    /// Its modification time and length, or `None` when it could not be read.
    pub seen: Option<(SystemTime, u64)>,
}

impl Stamp {
    /// The file at `path` as it is now.
    pub fn now(path: &Path) -> Stamp {
        let seen = std::fs::metadata(path)
            .ok()
            .and_then(|m| Some((m.modified().ok()?, m.len())));
        Stamp {
            path: path.to_path_buf(),
            seen,
        }
    }

    /// True when the file changed (or appeared, or went away) since it was stamped.
    pub fn changed(&self) -> bool {
        Stamp::now(&self.path).seen != self.seen
    }
}

impl Analysis {
    /// Checks `text` as the mapping file at `path` (schemas are read relative to it).
    pub fn new(path: &Path, text: String) -> Analysis {
        let (sources, output) = check_text(path, &text);
        let stamps = (0..sources.len())
            .map(|id| crate::source::FileId(u32::try_from(id).unwrap_or(u32::MAX)))
            .filter(|&id| id != output.file)
            .map(|id| Stamp::now(&sources.get(id).path))
            .collect();
        Analysis {
            path: path.to_path_buf(),
            text,
            sources,
            output,
            flattener: Flattener::new(),
            stamps,
            fixes: RefCell::default(),
        }
    }

    /// True when the check read `path` (a schema or table file), or would have read it had it
    /// existed: a file in the mapping's folder tree named like the files the check reads.
    pub fn depends_on(&self, path: &Path) -> bool {
        if self.stamps.iter().any(|s| s.path == path) {
            return true;
        }
        let folder = self.path.parent();
        let is_input = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| ["json", "yaml", "yml", "csv"].contains(&e));
        is_input && folder.is_some_and(|f| path.starts_with(f)) && self.misses_a_file()
    }

    /// True when a file the mapping names could not be read (it may appear later).
    fn misses_a_file(&self) -> bool {
        use crate::diag::Code;
        self.output
            .diagnostics
            .iter()
            .any(|d| matches!(d.code, Code::M601 | Code::M408 | Code::M605))
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

/// Checks `text` as the mapping file at `path`, in memory: its source map and the checker's
/// output (what the check of a saved file would report).
///
/// The check reads files only under the workspace folders the client named (see
/// [`set_workspace`]), or, when it named none, beside the mapping if the mapping is a file on
/// disk; never devices, nor files with a second hard link ([`crate::io::files::confine_reads`]).
/// So a `didOpen` of `file:///etc/x.map` naming `schema "passwd"` reads nothing.
pub fn check_text(path: &Path, text: &str) -> (SourceMap, CheckOutput) {
    let mut sources = SourceMap::new();
    let name = crate::io::files::display_name(path);
    let file = sources.add(path, name, Arc::from(text));
    let roots = readable_roots(path);
    let output = crate::io::files::confine_reads(roots, || {
        check::check_source(&mut sources, file, &Limits::default())
    });
    (sources, output)
}

thread_local! {
    /// The workspace folders the client named in `initialize` (canonical), if any.
    static WORKSPACE: std::cell::RefCell<Vec<PathBuf>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Keeps the workspace folders of the client's `initialize` parameters (`workspaceFolders`, else
/// `rootUri`, else `rootPath`) as the folders checks may read under, on this thread.
pub fn set_workspace(params: &serde_json::Value) {
    let mut uris: Vec<String> = params["workspaceFolders"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|folder| folder["uri"].as_str().map(str::to_string))
        .collect();
    if uris.is_empty()
        && let Some(root) = params["rootUri"].as_str()
    {
        uris.push(root.to_string());
    }
    let mut roots: Vec<PathBuf> = uris
        .iter()
        .filter_map(|uri| uri.parse::<Uri>().ok())
        .filter_map(|uri| super::uri::uri_to_path(&uri))
        .collect();
    if roots.is_empty()
        && let Some(root) = params["rootPath"].as_str()
    {
        roots.push(PathBuf::from(root));
    }
    let roots = roots
        .iter()
        .filter_map(|root| std::fs::canonicalize(root).ok())
        .filter(|root| root.is_dir())
        .collect();
    WORKSPACE.with(|w| *w.borrow_mut() = roots);
}

/// The folders a check of the mapping at `path` may read under: the workspace's, or the
/// mapping's own folder when it is a file on disk, or none.
fn readable_roots(path: &Path) -> Vec<PathBuf> {
    let workspace = WORKSPACE.with(|w| w.borrow().clone());
    if !workspace.is_empty() {
        return workspace;
    }
    let on_disk = std::fs::metadata(path).is_ok_and(|m| m.is_file());
    let folder = path.parent().and_then(|p| std::fs::canonicalize(p).ok());
    match folder {
        Some(folder) if on_disk => vec![folder],
        _ => Vec::new(),
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
