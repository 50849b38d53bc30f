//! `mapctl schema diff OLD NEW [--mapping M ...]`: what changed between two versions of a
//! schema, and for each change the mapping lines it breaks or affects (`ops::drift`).
//!
//! Each mapping's record is the one whose schema is OLD or NEW (or `--record`). The report goes
//! to standard output: the changes, then the diagnostics, in the chosen format. Exit 1 when a
//! change breaks a mapping line (an error diagnostic), 0 otherwise, 2 when a file cannot be
//! read or is not a schema or mapping.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, ValueEnum};
use serde_json::json;

use crate::cli::{ColorChoice, EXIT_CANNOT_RUN, EXIT_OK, EXIT_PROBLEMS};
use crate::diag::render::{self, HumanStyle};
use crate::diag::{Diagnostic, Severity};
use crate::io::files::{display_name, normalise, read_utf8_file};
use crate::ops::drift::{self, Record};
use crate::schema::diff::{Change, ChangeKind, Diff, Version, compare};
use crate::schema::load::MAX_FILE_BYTES;
use crate::schema::{LoadContext, NodeId, SchemaSet};
use crate::source::{FileId, SourceMap, Span};
use crate::syntax::ast::{Item, MappingFile};
use crate::syntax::{Limits, parse};

/// Output formats of `schema diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// The changes, then readable reports with source excerpts.
    Human,
    /// One JSON document: changes, diagnostics, summary.
    Json,
    /// GitHub Actions workflow annotations: a notice per change, the diagnostics.
    Github,
    /// SARIF 2.1.0: the diagnostics.
    Sarif,
}

/// Arguments of `mapctl schema diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The schema as it was (e.g. the committed file).
    old: PathBuf,
    /// The schema as it is now (e.g. a fresh `schema import`).
    new: PathBuf,
    /// A mapping whose lines the changes may break (repeatable).
    #[arg(long = "mapping", value_name = "FILE")]
    mappings: Vec<PathBuf>,
    /// The record of each mapping the schema belongs to (default: the record whose schema file
    /// is OLD or NEW).
    #[arg(long, value_name = "NAME")]
    record: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DiffFormat::Human)]
    format: DiffFormat,
}

/// Runs `mapctl schema diff`.
pub fn run(args: &DiffArgs) -> u8 {
    let mut sources = SourceMap::new();
    let loaded = load_schema(&mut sources, &args.old)
        .and_then(|old| Ok((old, load_schema(&mut sources, &args.new)?)));
    let (old, new) = match loaded {
        Ok(both) => both,
        Err(problem) => return cannot_run(&sources, problem),
    };
    let diff = compare(&sources, old.version(), new.version());
    let mut diagnostics = Vec::new();
    for mapping in &args.mappings {
        match mapping_diagnostics(&mut sources, mapping, args, [&old.path, &new.path], &diff) {
            Ok(found) => diagnostics.extend(found),
            Err(problem) => return cannot_run(&sources, problem),
        }
    }
    let report = Report {
        sources: &sources,
        old: &sources.get(old.file).name,
        new: &sources.get(new.file).name,
        changes: &diff.changes,
        diagnostics: &diagnostics,
        mappings: args.mappings.len(),
    };
    match args.format {
        DiffFormat::Human => eprint!("{}", report.human(ColorChoice::Auto.enabled_for_stderr())),
        DiffFormat::Json => outln!(
            "{}",
            serde_json::to_string_pretty(&report.json()).unwrap_or_default()
        ),
        DiffFormat::Github => out!("{}", report.github()),
        DiffFormat::Sarif => {
            let document = crate::diag::sarif::sarif(
                &[(&sources, diagnostics.as_slice())],
                &[],
                crate::cli::check::docs_url().as_deref(),
            );
            outln!(
                "{}",
                serde_json::to_string_pretty(&document).unwrap_or_default()
            );
        }
    }
    if diagnostics.iter().any(Diagnostic::is_error) {
        EXIT_PROBLEMS
    } else {
        EXIT_OK
    }
}

/// Why the diff could not run: a message, or diagnostics about a file.
enum Problem {
    Message(String),
    Diagnostics(Vec<Diagnostic>),
}

fn cannot_run(sources: &SourceMap, problem: Problem) -> u8 {
    match problem {
        Problem::Message(message) => errln!("error: {message}"),
        Problem::Diagnostics(diagnostics) => {
            eprint!(
                "{}",
                render::human(sources, &diagnostics, HumanStyle::plain())
            );
        }
    }
    EXIT_CANNOT_RUN
}

/// A compiled schema file.
struct Loaded {
    set: SchemaSet,
    root: NodeId,
    file: FileId,
    path: PathBuf,
}

impl Loaded {
    fn version(&self) -> Version<'_> {
        Version {
            set: &self.set,
            root: self.root,
        }
    }
}

/// `path` (relative to the working folder) made absolute and normalised.
fn absolute(path: &Path) -> PathBuf {
    let joined = std::env::current_dir()
        .map(|d| d.join(path))
        .unwrap_or_else(|_| path.to_path_buf());
    normalise(&joined)
}

/// Reads `path` into `sources`.
fn read(sources: &mut SourceMap, path: &Path, what: &str) -> Result<(FileId, PathBuf), Problem> {
    let full = absolute(path);
    let text = read_utf8_file(&full, MAX_FILE_BYTES).map_err(|reason| {
        Problem::Message(format!("cannot read {what} `{}`: {reason}", path.display()))
    })?;
    Ok((
        sources.add(&full, display_name(&full), Arc::from(text)),
        full,
    ))
}

/// Reads and compiles a schema file (its `$ref`s may name files in its folder).
fn load_schema(sources: &mut SourceMap, path: &Path) -> Result<Loaded, Problem> {
    let (file, full) = read(sources, path, "schema")?;
    let (Some(dir), Some(name)) = (full.parent(), full.file_name()) else {
        return Err(Problem::Message(format!(
            "`{}` is not a file",
            path.display()
        )));
    };
    let mut problems = Vec::new();
    let mut set = SchemaSet::new();
    let root = set.load_root(
        &mut LoadContext {
            sources,
            diagnostics: &mut problems,
        },
        dir,
        &name.to_string_lossy(),
        Span::new(file, 0, 0),
    );
    match root {
        Some(root) if !problems.iter().any(Diagnostic::is_error) => Ok(Loaded {
            set,
            root,
            file,
            path: full,
        }),
        _ => Err(Problem::Diagnostics(problems)),
    }
}

/// The diagnostics of the changes of `diff` for the mapping at `path`.
fn mapping_diagnostics(
    sources: &mut SourceMap,
    path: &Path,
    args: &DiffArgs,
    schemas: [&Path; 2],
    diff: &Diff,
) -> Result<Vec<Diagnostic>, Problem> {
    let (file, full) = read(sources, path, "mapping")?;
    let text = sources.get(file).text.clone();
    let (ast, syntax) = parse(&text, file, &Limits::default());
    if syntax.iter().any(Diagnostic::is_error) {
        return Err(Problem::Diagnostics(syntax));
    }
    let records = records(&ast, &full, args.record.as_deref(), schemas);
    if records.is_empty() {
        return Err(Problem::Message(match &args.record {
            Some(name) => format!("`{}` declares no record `{name}`", path.display()),
            None => format!(
                "`{}` names neither `{}` nor `{}` as the schema of a record: pass `--record NAME`",
                path.display(),
                args.old.display(),
                args.new.display()
            ),
        }));
    }
    Ok(records
        .iter()
        .flat_map(|r| drift::diagnostics(r, diff))
        .collect())
}

/// The records of `ast` whose schema is one of `schemas` (or the one named `wanted`).
fn records<'a>(
    ast: &'a MappingFile,
    mapping: &Path,
    wanted: Option<&'a str>,
    schemas: [&Path; 2],
) -> Vec<Record<'a>> {
    let dir = mapping.parent().unwrap_or(Path::new(""));
    let same = |a: &Path, b: &Path| {
        a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
    };
    ast.items
        .iter()
        .filter_map(|item| match item {
            Item::Source(decl) => Some((decl, false)),
            Item::Target(decl) => Some((decl, true)),
            _ => None,
        })
        .filter(|(decl, _)| match wanted {
            Some(name) => decl.name.name == name,
            None => {
                let named = normalise(&dir.join(&decl.schema.value));
                schemas.iter().any(|s| same(&named, s))
            }
        })
        .map(|(decl, is_target)| Record {
            ast,
            name: &decl.name.name,
            is_target,
            declared: decl.name.span,
        })
        .collect()
}

/// Everything the report shows.
struct Report<'a> {
    sources: &'a SourceMap,
    old: &'a str,
    new: &'a str,
    changes: &'a [Change],
    diagnostics: &'a [Diagnostic],
    mappings: usize,
}

impl Report<'_> {
    fn human(&self, color: bool) -> String {
        let mut out = format!(
            "schema diff `{}` -> `{}`: {}\n",
            self.old,
            self.new,
            plural(self.changes.len(), "change")
        );
        for change in self.changes {
            out.push_str(&format!("  {} {}\n", sign(change), change.describe()));
        }
        if self.mappings > 0 {
            out.push('\n');
            let style = HumanStyle { color, width: 100 };
            out.push_str(&render::human(self.sources, self.diagnostics, style));
            out.push_str(&render::summary_line(self.diagnostics, self.mappings));
            out.push('\n');
        }
        out
    }

    fn json(&self) -> serde_json::Value {
        let at = |span: Option<Span>| {
            span.map(|s| {
                let p = render::position(self.sources, s);
                json!({"file": p.file, "line": p.line, "column": p.column})
            })
        };
        let changes: Vec<_> = self
            .changes
            .iter()
            .map(|c| {
                json!({
                    "kind": c.kind_name(),
                    "field": crate::schema::diff::display(&c.path),
                    "description": c.describe(),
                    "old": at(c.old_span),
                    "new": at(c.new_span),
                })
            })
            .collect();
        let errors = self
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count();
        json!({
            "version": 1,
            "old": self.old,
            "new": self.new,
            "changes": changes,
            "diagnostics": self.diagnostics.iter().map(|d| render::json_diagnostic(self.sources, d)).collect::<Vec<_>>(),
            "summary": {
                "changes": self.changes.len(),
                "errors": errors,
                "warnings": self.diagnostics.len() - errors,
                "mappings": self.mappings,
            },
        })
    }

    fn github(&self) -> String {
        let mut out = String::new();
        for change in self.changes {
            let place = match change.new_span.or(change.old_span) {
                Some(span) => {
                    let p = render::position(self.sources, span);
                    format!(
                        " file={},line={},col={}",
                        escape(&p.file, true),
                        p.line,
                        p.column
                    )
                }
                None => String::new(),
            };
            out.push_str(&format!(
                "::notice{place},title=schema drift::{}\n",
                escape(&change.describe(), false)
            ));
        }
        out.push_str(&render::github(self.sources, self.diagnostics));
        out
    }
}

/// `+` for additions, `-` for removals, `~` for the rest.
fn sign(change: &Change) -> char {
    match change.kind {
        ChangeKind::Added { .. } | ChangeKind::ValueAdded { .. } => '+',
        ChangeKind::Removed | ChangeKind::ValueRemoved { .. } => '-',
        _ => '~',
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Escapes a GitHub workflow command's data (or, with `property`, a property value).
fn escape(text: &str, property: bool) -> String {
    let data = text
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    if property {
        data.replace(':', "%3A").replace(',', "%2C")
    } else {
        data
    }
}
