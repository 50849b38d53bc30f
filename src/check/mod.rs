//! The checker: AST + schemas -> a checked [`Program`], or a list of diagnostics.
//!
//! Passes run in a fixed order and each pushes problems into one list and goes on:
//! 1. `structure` counts items (one header, one trigger, one target ...);
//! 2. `records` loads every record's schema and checks joins;
//! 3. `tables` builds value tables (inline or from YAML/CSV files);
//! 4. `stages` checks the trigger and `require at stage` rules and computes which source paths
//!    are guaranteed present when a deal is handed off;
//! 5. `writes` checks maps and selects in file order: target paths, types (`compat`), absence,
//!    unreachable branches, and finally required target fields;
//! 6. `taint` checks that no rule reads a never-transfer field; `sync` checks sync back rules.
//!
//! A name that failed to resolve (a record whose schema did not load, an unknown table) is
//! remembered so that its later uses add no follow-on noise. Only when there are no errors is a
//! [`Program`] returned.

mod clients;
mod compat;
mod conds;
mod exprs;
mod paths;
pub mod program;
mod records;
mod stages;
mod structure;
pub mod suggest;
mod sync;
mod tables;
mod taint;
pub mod types;
mod writes;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use program::Program;

use crate::diag::Diagnostic;
use crate::schema::{Flattener, MetaCheck, NodeId, SchemaSet};
use crate::source::{FileId, SourceMap, Span};
use crate::syntax::{self, Limits, ast::MappingFile};
use program::{CPath, RecordRef};
use types::Read;

/// The result of checking one mapping.
#[derive(Debug)]
pub struct CheckOutput {
    /// The program, when there are no errors.
    pub program: Option<Program>,
    /// Every problem found, sorted by position.
    pub diagnostics: Vec<Diagnostic>,
    /// The mapping file's id in the source map.
    pub file: FileId,
    /// The schemas loaded (for tools that look things up: hover, apply validation).
    pub schemas: SchemaSet,
    /// The declared records with their schema roots (None when the schema did not load), for
    /// tools that resolve paths themselves (the language server's hover and completion).
    pub records: Vec<RecordRoot>,
}

/// A declared record and its schema.
#[derive(Debug, Clone)]
pub struct RecordRoot {
    /// Its name (`deal`).
    pub name: String,
    /// True for the target record.
    pub is_target: bool,
    /// The root node of its schema.
    pub root: Option<NodeId>,
    /// Where it is declared.
    pub name_span: Span,
}

/// Why a mapping could not be checked at all (exit code 2).
#[derive(Debug)]
pub struct CannotRun(pub String);

/// Reads and checks the mapping file at `path`.
pub fn check_file(
    sources: &mut SourceMap,
    path: &Path,
    limits: &Limits,
) -> Result<CheckOutput, CannotRun> {
    check_file_with(sources, path, limits, MetaCheck::Always)
}

/// Reads and checks the mapping file at `path`, holding its schema files against their
/// meta-schema as `meta` says (`mapctl check` remembers the files it found valid).
pub fn check_file_with(
    sources: &mut SourceMap,
    path: &Path,
    limits: &Limits,
    meta: MetaCheck,
) -> Result<CheckOutput, CannotRun> {
    let file = load_mapping(sources, path, limits)?;
    Ok(check_source_with(sources, file, limits, meta))
}

/// Reads a mapping file into `sources`.
fn load_mapping(
    sources: &mut SourceMap,
    path: &Path,
    limits: &Limits,
) -> Result<FileId, CannotRun> {
    // Read up to well past the mapping limit, so an oversize file still gets its M108.
    let readable = (limits.max_mapping_bytes as u64)
        .saturating_mul(8)
        .max(1 << 20);
    let text = crate::io::files::read_utf8_file(path, readable).map_err(|reason| {
        CannotRun(format!(
            "cannot read mapping `{}`: {reason}",
            path.display()
        ))
    })?;
    let absolute = crate::io::files::normalise(
        &std::env::current_dir()
            .map(|d| d.join(path))
            .unwrap_or_else(|_| path.to_path_buf()),
    );
    Ok(sources.add(
        &absolute,
        crate::io::files::display_name(&absolute),
        Arc::from(text),
    ))
}

/// Checks a mapping already loaded into `sources` as `file`.
pub fn check_source(sources: &mut SourceMap, file: FileId, limits: &Limits) -> CheckOutput {
    check_source_with(sources, file, limits, MetaCheck::Always)
}

/// Reads and checks a mapping for running it: like [`check_file`], without validating the schema
/// documents against their meta-schema (the validators `apply` builds refuse schemas they cannot
/// compile, and `check` in CI has validated them). Saves a millisecond on every single-deal run.
pub fn check_file_for_run(
    sources: &mut SourceMap,
    path: &Path,
    limits: &Limits,
) -> Result<CheckOutput, CannotRun> {
    check_file_with(sources, path, limits, MetaCheck::Skip)
}

fn check_source_with(
    sources: &mut SourceMap,
    file: FileId,
    limits: &Limits,
    meta: MetaCheck,
) -> CheckOutput {
    let text = sources.get(file).text.clone();
    let base_dir = sources
        .get(file)
        .path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let (ast, mut diagnostics) = syntax::parse(&text, file, limits);
    let mut checker = Checker::new(sources, file, base_dir, ast.has_syntax_errors);
    checker.schemas.meta = meta;
    let program = checker.run(&ast);
    let records = checker
        .records
        .iter()
        .map(|r| RecordRoot {
            name: r.name.clone(),
            is_target: r.role == RecordRef::Target,
            root: r.root,
            name_span: r.name_span,
        })
        .collect();
    diagnostics.append(&mut checker.diagnostics);
    let schemas = std::mem::take(&mut checker.schemas);
    dedupe(&mut diagnostics);
    crate::diag::sort(&mut diagnostics);
    let has_errors = diagnostics.iter().any(Diagnostic::is_error);
    CheckOutput {
        program: if has_errors { None } else { program },
        diagnostics,
        file,
        schemas,
        records,
    }
}

fn dedupe(diagnostics: &mut Vec<Diagnostic>) {
    let mut seen = HashSet::new();
    diagnostics.retain(|d| seen.insert((d.code, d.primary.span, d.message.clone())));
}

/// A declared record.
#[derive(Debug, Clone)]
pub(crate) struct RecordInfo {
    pub name: String,
    pub role: RecordRef,
    pub root: Option<NodeId>,
    pub name_span: Span,
    pub schema_path: PathBuf,
    pub join: Option<program::JoinKey>,
}

/// A target path written so far.
#[derive(Debug, Clone)]
pub(crate) struct Written {
    pub fields: Vec<String>,
    pub span: Span,
    pub may_be_absent: bool,
}

/// What the trigger and require rules established.
#[derive(Debug, Clone, Default)]
pub(crate) struct StageInfo {
    /// The stage field, when the trigger names one.
    pub stage_path: Option<CPath>,
    /// Its display form, to recognise comparisons with it.
    pub stage_display: Option<String>,
    /// Stages the trigger fires on.
    pub trigger_stages: Vec<String>,
    /// Source paths guaranteed present at every trigger stage.
    pub guaranteed: HashSet<String>,
    /// True when the trigger names a stage that does not exist (stage-based checks are skipped).
    pub stage_invalid: bool,
}

/// The state shared by all passes.
pub(crate) struct Checker<'s> {
    pub sources: &'s mut SourceMap,
    pub file: FileId,
    pub base_dir: PathBuf,
    pub schemas: SchemaSet,
    pub flattener: Flattener,
    pub records: Vec<RecordInfo>,
    pub tables: Vec<tables::TableInfo>,
    pub diagnostics: Vec<Diagnostic>,
    pub stages: StageInfo,
    pub written: Vec<Written>,
    pub forward_reads: Vec<Read>,
    pub syntax_errors: bool,
}

impl<'s> Checker<'s> {
    fn new(
        sources: &'s mut SourceMap,
        file: FileId,
        base_dir: PathBuf,
        syntax_errors: bool,
    ) -> Self {
        Checker {
            sources,
            file,
            base_dir,
            schemas: SchemaSet::new(),
            flattener: Flattener::new(),
            records: Vec::new(),
            tables: Vec::new(),
            diagnostics: Vec::new(),
            stages: StageInfo::default(),
            written: Vec::new(),
            forward_reads: Vec::new(),
            syntax_errors,
        }
    }

    /// Adds a diagnostic.
    pub fn report(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// 1-based line and column of a span, and the first line of its text.
    pub fn origin(&self, span: Span) -> program::Origin {
        let source = self.sources.get(span.file);
        let (line, column) = source.line_col(span.start);
        let first_line = source.text[span.start..span.end]
            .lines()
            .next()
            .unwrap_or("");
        let text = first_line.split_whitespace().collect::<Vec<_>>().join(" ");
        program::Origin { line, column, text }
    }

    fn run(&mut self, ast: &MappingFile) -> Option<Program> {
        let census = structure::census(self, ast);
        self.load_records(ast);
        self.build_tables(ast);
        let (trigger, requirements) = self.check_stages(ast);
        let never_transfer = self.resolve_never_transfer(ast);
        let (writes, client) = self.check_writes(ast);
        self.check_required_targets(ast);
        self.check_never_transfer(&never_transfer);
        let sync_back = self.check_sync_back(ast);
        self.report_unused_tables();
        let trigger = trigger?;
        let sources = self.source_records(ast);
        let target = self.records.iter().find(|r| r.role == RecordRef::Target)?;
        Some(
            Program {
                name: census.name,
                mapping_path: self.sources.get(self.file).path.clone(),
                sources,
                target_name: target.name.clone(),
                target_schema_path: target.schema_path.clone(),
                trigger,
                stage_path: self.stages.stage_path.clone(),
                trigger_stages: self.stages.trigger_stages.clone(),
                requirements,
                never_transfer: never_transfer.into_iter().map(|(path, _)| path).collect(),
                tables: self.tables.iter().map(|t| t.table.clone()).collect(),
                sync_back,
                checklist: census.checklist,
                template_field: writes.iter().find_map(|w| match w.kind {
                    program::WriteKind::Select { .. } => Some(w.target.clone()),
                    program::WriteKind::Map(_) => None,
                }),
                client,
                writes,
                path_count: 0,
            }
            .numbered(),
        )
    }
}
