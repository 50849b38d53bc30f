//! Loading a mapping for running: read, check, compile, join reference files.

use std::path::{Path, PathBuf};

use super::Mapping;
use crate::check::{self, CheckOutput};
use crate::diag::Diagnostic;
use crate::eval::Runner;
use crate::schema::MetaCheck;
use crate::source::{FileId, SourceMap};
use crate::syntax::Limits;

/// How to load a mapping.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Related source records joined from files (`--ref company=companies.ndjson`): the
    /// source record's name and the file of its records.
    pub references: Vec<(String, PathBuf)>,
    /// Emit records for deals whose client is new (without the client id; report envelopes
    /// and plans carry the new client for the caller to create), instead of rejecting them.
    pub allow_new_clients: bool,
    /// Also hold every schema file against its meta-schema (as `mapctl check` does). Off for
    /// runs (CI has checked them; the validators refuse schemas they cannot compile), except
    /// that a mapping refused for check errors is checked again with it on, so that the report
    /// names a broken schema file.
    pub validate_schemas: bool,
}

/// Why a mapping could not be loaded.
#[derive(Debug)]
pub enum LoadError {
    /// A file could not be read, or an option is wrong (exit code 2).
    CannotRun(String),
    /// The mapping has check errors: mapctl only runs mappings that check cleanly.
    Invalid(Box<Invalid>),
}

/// A mapping refused for its check errors, with what is needed to render them.
#[derive(Debug)]
pub struct Invalid {
    /// The mapping's path.
    pub path: PathBuf,
    /// The files the diagnostics point into.
    pub sources: SourceMap,
    /// The errors (warnings left out).
    pub errors: Vec<Diagnostic>,
}

impl LoadError {
    /// One line saying what went wrong.
    pub fn message(&self) -> String {
        match self {
            LoadError::CannotRun(message) => message.clone(),
            LoadError::Invalid(invalid) => format!(
                "`{}` has {} check error(s); mapctl only runs mappings that check cleanly (run `mapctl check`)",
                invalid.path.display(),
                invalid.errors.len()
            ),
        }
    }
}

impl From<String> for LoadError {
    fn from(message: String) -> LoadError {
        LoadError::CannotRun(message)
    }
}

/// Reads, checks and compiles the mapping at `path`.
pub(super) fn load(path: &Path, options: &LoadOptions) -> Result<Mapping, LoadError> {
    let mut sources = SourceMap::new();
    let meta = if options.validate_schemas {
        MetaCheck::Always
    } else {
        MetaCheck::Skip
    };
    let mut output = check::check_file_with(&mut sources, path, &Limits::default(), meta)
        .map_err(|e| LoadError::CannotRun(e.0))?;
    if output.program.is_none() && !options.validate_schemas {
        // A broken schema file shows up first as odd type errors in the rules that use it; a
        // refused mapping is checked again with its schemas held to the meta-schema, so that
        // the report names the file (M603) rather than only its consequences.
        sources = SourceMap::new();
        output = check::check_file_with(&mut sources, path, &Limits::default(), MetaCheck::Always)
            .map_err(|e| LoadError::CannotRun(e.0))?;
    }
    compile(path, sources, output, options)
}

/// Compiles a checked mapping (`output` of the file `path`, whose text is the first file of
/// `sources`).
fn compile(
    path: &Path,
    sources: SourceMap,
    output: CheckOutput,
    options: &LoadOptions,
) -> Result<Mapping, LoadError> {
    let text = sources.get(FileId(0)).text.clone();
    let Some(program) = output.program else {
        let errors = output
            .diagnostics
            .into_iter()
            .filter(Diagnostic::is_error)
            .collect();
        return Err(LoadError::Invalid(Box::new(Invalid {
            path: path.to_path_buf(),
            sources,
            errors,
        })));
    };
    let mut runner = Runner::new(program, &output.schemas)?;
    runner.allow_new_clients = options.allow_new_clients;
    for (name, file) in &options.references {
        let records = crate::io::files::read_records(file)?;
        runner.set_reference(name, records)?;
    }
    Ok(Mapping {
        runner,
        path: path.to_path_buf(),
        text,
    })
}

/// Compiles a mapping checked in memory (`output` of the first file of `sources`).
pub(super) fn from_checked(
    sources: SourceMap,
    output: CheckOutput,
    options: &LoadOptions,
) -> Result<Mapping, LoadError> {
    compile(Path::new("<memory>"), sources, output, options)
}
