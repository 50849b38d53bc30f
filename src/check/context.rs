//! What every checker pass shares: the run's files, the schemas and their effective view, and the
//! list diagnostics go into. Passes hand each other data only through their arguments and
//! results; this is the one thing they all hold.

use std::path::PathBuf;

use super::program::Origin;
use crate::diag::{Code, Diagnostic};
use crate::schema::{Flat, Flattener, LoadContext, NodeId, SchemaSet};
use crate::source::{FileId, SourceMap, Span};

/// The shared context of one check.
pub(crate) struct Context<'s> {
    /// The mapping file and every file read for it (schemas, tables); passes add files to it
    /// and read it to locate schema keywords for diagnostics.
    pub sources: &'s mut SourceMap,
    /// The mapping file's id.
    pub file: FileId,
    /// The mapping's folder: schema and table files are named relative to it.
    pub base_dir: PathBuf,
    /// Every schema loaded so far.
    pub schemas: SchemaSet,
    /// The effective constraints of schema nodes, cached.
    pub flattener: Flattener,
    /// True when some item failed to parse (completeness checks are then skipped).
    pub syntax_errors: bool,
    /// Every problem found so far, in the order passes found them.
    diagnostics: Vec<Diagnostic>,
}

impl<'s> Context<'s> {
    /// A context for checking `file`, whose schemas live under `base_dir`.
    pub fn new(
        sources: &'s mut SourceMap,
        file: FileId,
        base_dir: PathBuf,
        syntax_errors: bool,
    ) -> Self {
        Context {
            sources,
            file,
            base_dir,
            schemas: SchemaSet::new(),
            flattener: Flattener::new(),
            syntax_errors,
            diagnostics: Vec::new(),
        }
    }

    /// Adds a diagnostic.
    pub fn report(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// A mark in the diagnostics list, for [`Context::reported_since`].
    pub fn mark(&self) -> usize {
        self.diagnostics.len()
    }

    /// True when a diagnostic with `code` was reported after `mark`.
    pub fn reported_since(&self, mark: usize, code: Code) -> bool {
        self.diagnostics[mark..].iter().any(|d| d.code == code)
    }

    /// The primary spans of the diagnostics with `code` reported after `mark`.
    pub fn spans_since(&self, mark: usize, code: Code) -> Vec<Span> {
        self.diagnostics[mark..]
            .iter()
            .filter(|d| d.code == code)
            .map(|d| d.primary.span)
            .collect()
    }

    /// The diagnostics found, and the schemas loaded.
    pub fn finish(self) -> (Vec<Diagnostic>, SchemaSet) {
        (self.diagnostics, self.schemas)
    }

    /// Loads the schema file a record names (relative to the mapping) and compiles it; `None`
    /// when it cannot be used (reported).
    pub fn load_schema(&mut self, relative: &str, named_at: Span) -> Option<NodeId> {
        let mut load = LoadContext {
            sources: self.sources,
            diagnostics: &mut self.diagnostics,
        };
        self.schemas
            .load_root(&mut load, &self.base_dir, relative, named_at)
    }

    /// 1-based line and column of a span, and the first line of its text.
    pub fn origin(&self, span: Span) -> Origin {
        let source = self.sources.get(span.file);
        let (line, column) = source.line_col(span.start);
        let first_line = source.text[span.start..span.end]
            .lines()
            .next()
            .unwrap_or("");
        let text = first_line.split_whitespace().collect::<Vec<_>>().join(" ");
        Origin { line, column, text }
    }

    /// The effective schema of a node.
    pub fn flat(&self, node: NodeId) -> std::rc::Rc<Flat> {
        self.flattener.node(&self.schemas, node)
    }

    /// Where `name` is declared under an object's `properties`.
    pub fn property_span(&self, parent: &Flat, name: &str) -> Option<Span> {
        let escaped = crate::schema::locate::escape_segment(name);
        parent
            .origin
            .iter()
            .find(|n| {
                self.schemas
                    .node(**n)
                    .properties
                    .iter()
                    .any(|(p, _)| p == name)
            })
            .and_then(|n| {
                self.schemas
                    .span_of_keyword(self.sources, *n, &format!("/properties/{escaped}"))
            })
    }

    /// Where `name` is listed in an object's `required`.
    pub fn required_span(&self, parent: &Flat, name: &str) -> Option<Span> {
        parent.origin.iter().find_map(|n| {
            let index = self
                .schemas
                .node(*n)
                .required
                .iter()
                .position(|r| r == name)?;
            self.schemas
                .span_of_keyword(self.sources, *n, &format!("/required/{index}"))
        })
    }

    /// Where the first of `flat`'s nodes that lists an `enum` writes it.
    pub fn enum_span(&self, flat: &Flat) -> Option<Span> {
        flat.origin
            .iter()
            .find(|n| self.schemas.node(**n).enum_values.is_some())
            .and_then(|node| self.schemas.span_of_keyword(self.sources, *node, "/enum"))
    }
}
