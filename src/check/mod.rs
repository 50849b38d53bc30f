//! The checker: AST + schemas -> a checked [`Program`], or a list of diagnostics.
//!
//! The passes are functions, run in a fixed order by `passes`; each takes what it reads and
//! returns what it found, and pushes problems into the shared `Context` and goes on:
//! 1. `structure` counts items (one header, one trigger, one target ...);
//! 2. `records` loads every record's schema and checks joins -> the [`Record`]s;
//! 3. `tables` builds value tables (inline or from YAML/CSV files);
//! 4. `stages` checks the trigger and `require at stage` rules -> the compiled trigger, the
//!    requirements and the stage facts (which source paths are guaranteed present at hand-off);
//! 5. `taint::protected` resolves the never-transfer paths;
//! 6. `writes` checks maps, selects and the client match in file order (types in `compat`,
//!    unreachable branches in `reach`) -> the writes, the target fields written, the source
//!    paths read;
//! 7. `required` reports required target fields no rule writes; `taint` reads of never-transfer
//!    fields; `sync` checks sync back rules; `table_use` reports tables no lookup uses.
//!
//! Literals that are labels of a field's values (`"Closed won"`) are resolved to the values
//! (`labels`) where they meet the field, so the program holds ids only.
//!
//! Expressions and conditions are typed by `exprs`/`conds` in an `Env`: the records, the tables
//! and the stage facts, plus (in `Scope::Forward`) the target fields written so far. A name that
//! failed to resolve (a record whose schema did not load, an unknown table) is remembered so that
//! its later uses add no follow-on noise. Only when there are no errors is a [`Program`]
//! returned. Tools (the language server) ask about paths with [`Query`], which resolves them with
//! the same `paths::step` as the checker.

mod arith;
mod bounds;
mod calls;
mod clients;
mod compat;
mod conditional;
mod conds;
mod context;
mod exprs;
mod formats;
mod labels;
mod lets;
mod paths;
mod patterns;
pub mod program;
mod query;
mod range;
mod reach;
mod records;
mod required;
mod stages;
mod structure;
pub mod suggest;
mod sync;
mod table_use;
mod tables;
mod taint;
pub mod types;
mod writes;

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

pub use program::Program;
pub use query::{FieldSchema, Member, Members, Query};
pub use records::Record;
pub use stages::stage_field;

use crate::diag::Diagnostic;
use crate::schema::{MetaCheck, SchemaSet};
use crate::source::{FileId, SourceMap};
use crate::syntax::{self, Limits, ast::MappingFile};
use context::Context;
use exprs::Env;
use program::RecordRef;
use table_use::TableUse;

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
    /// The declared records with their schemas, for tools that ask about paths ([`Query`]).
    pub records: Vec<Record>,
    /// The mapping's syntax tree (the items that parsed), for tools that find what is under a
    /// position.
    pub ast: MappingFile,
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
    let mut cx = Context::new(sources, file, base_dir, ast.has_syntax_errors);
    cx.schemas.meta = meta;
    let (records, program) = passes(&mut cx, &ast);
    let (mut found, schemas) = cx.finish();
    diagnostics.append(&mut found);
    dedupe(&mut diagnostics);
    crate::diag::sort(&mut diagnostics);
    let has_errors = diagnostics.iter().any(Diagnostic::is_error);
    CheckOutput {
        program: if has_errors { None } else { program },
        diagnostics,
        file,
        schemas,
        records,
        ast,
    }
}

/// The passes in order, each handed what it reads and returning what it found. Returns the
/// declared records and, when nothing failed to resolve on the way, the program (still to be
/// thrown away if any pass reported an error).
fn passes(cx: &mut Context<'_>, ast: &MappingFile) -> (Vec<records::Record>, Option<Program>) {
    let census = structure::pass(cx, ast);
    let records = records::pass(cx, ast);
    patterns::pass(cx);
    let named = lets::collect(ast);
    lets::check_names(cx, &named, &records);
    let tables = tables::pass(cx, ast);
    let mut used = TableUse::new(&tables);
    let stages = stages::pass(cx, &records, &tables, &mut used, ast, &named);
    let protected = taint::protected(cx, &records, ast);
    let env = Env::new(&records, &tables, &mut used, &stages.facts).with_lets(&named);
    let writes = writes::pass(cx, env, ast);
    required::pass(cx, &records, &writes.written, &writes.failed_targets);
    conditional::pass(cx, &records, &writes.written);
    taint::pass(cx, &protected, &writes.forward_reads);
    let env = Env::new(&records, &tables, &mut used, &stages.facts).with_lets(&named);
    let sync_back = sync::pass(cx, env, &writes.forward_reads, ast);
    table_use::report_unused(cx, &tables, &used);
    let target = records
        .iter()
        .find(|r| r.role == RecordRef::Target)
        .map(|r| (r.name.clone(), r.schema_path.clone()));
    let (Some(trigger), Some((target_name, target_schema_path))) = (stages.trigger, target) else {
        return (records, None);
    };
    let program = Program {
        name: census.name,
        mapping_path: cx.sources.get(cx.file).path.clone(),
        sources: records::source_records(&records),
        target_name,
        target_schema_path,
        trigger,
        stage_path: stages.facts.stage_path,
        trigger_stages: stages.facts.trigger_stages,
        requirements: stages.requirements,
        never_transfer: protected.into_iter().map(|(path, _)| path).collect(),
        tables: tables.into_iter().map(|t| t.table).collect(),
        sync_back,
        checklist: census.checklist,
        template_field: writes.writes.iter().find_map(|w| match w.kind {
            program::WriteKind::Select { .. } => Some(w.target.clone()),
            program::WriteKind::Map(_) => None,
        }),
        client: writes.client,
        writes: writes.writes,
        path_count: 0,
    }
    .numbered();
    (records, Some(program))
}

fn dedupe(diagnostics: &mut Vec<Diagnostic>) {
    let mut seen = HashSet::new();
    diagnostics.retain(|d| seen.insert((d.code, d.primary.span, d.message.clone())));
}
