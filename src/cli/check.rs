//! `mapctl check [PATHS...]`: check mapping files and render the diagnostics. When a file (or
//! the whole run) cannot be checked, the machine formats still print a valid document that says
//! so (JSON `failures`, a SARIF tool execution notification, a GitHub `::error`), so that CI
//! never uploads an empty or invalid file.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use serde_json::json;

use super::{ColorChoice, EXIT_CANNOT_RUN, EXIT_OK, EXIT_PROBLEMS};
use crate::check::{self, CheckOutput};
use crate::diag::budget::{DEFAULT_MAX_DIAGNOSTICS, Shown};
use crate::diag::render::{self, Failure, HumanStyle};
use crate::diag::{Diagnostic, Severity};
use crate::schema::{MetaCheck, Verdicts};
use crate::source::SourceMap;
use crate::syntax::Limits;

/// Output formats of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Readable reports with source excerpts (on stderr).
    Human,
    /// One JSON document (on stdout).
    Json,
    /// GitHub Actions workflow annotations (on stdout).
    Github,
    /// SARIF 2.1.0 (on stdout), for GitHub code scanning and other dashboards.
    Sarif,
}

/// Arguments of `mapctl check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Mapping files or folders (searched for `*.map`); none means the current folder.
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,
    /// Exit 1 on warnings too.
    #[arg(long)]
    pub deny_warnings: bool,
    /// Largest mapping file accepted, in bytes.
    #[arg(long, default_value_t = Limits::default().max_mapping_bytes)]
    pub max_mapping_bytes: usize,
    /// Validate every schema file against its meta-schema, even one whose exact text was found
    /// valid before (verdicts are kept in `$MAPCTL_CACHE_DIR`, by default the user's cache folder).
    #[arg(long)]
    pub no_cache: bool,
    /// Show at most this many diagnostics (in file order; 0: all). The summary counts them all,
    /// and says how many were left out.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_DIAGNOSTICS)]
    pub max_diagnostics: usize,
}

/// One checked file and its source map.
struct Checked {
    sources: SourceMap,
    output: CheckOutput,
}

/// Runs `mapctl check`.
pub fn run(args: &CheckArgs) -> u8 {
    let files = match collect_files(&args.paths) {
        Ok(files) => files,
        Err(message) => {
            errln!("error: {message}");
            let failure = Failure {
                file: None,
                message,
            };
            print_machine(args.format, &[], &[failure], &shown_of(&[], 0));
            return EXIT_CANNOT_RUN;
        }
    };
    let limits = Limits {
        max_mapping_bytes: args.max_mapping_bytes,
        ..Limits::default()
    };
    let meta = meta_check(args);
    let mut checked = Vec::with_capacity(files.len());
    let mut failures = Vec::new();
    for file in &files {
        let mut sources = SourceMap::new();
        match check::check_file_with(&mut sources, file, &limits, meta.clone()) {
            Ok(output) => checked.push(Checked { sources, output }),
            Err(check::CannotRun(message)) => {
                errln!("error: {message}");
                failures.push(Failure {
                    file: Some(file.display().to_string()),
                    message,
                });
            }
        }
    }
    let shown = shown_of(&checked, args.max_diagnostics);
    match args.format {
        OutputFormat::Human => {
            print_human(&checked, ColorChoice::Auto.enabled_for_stderr(), &shown)
        }
        format => print_machine(format, &checked, &failures, &shown),
    }
    for file in &files {
        if let Some(hint) = super::hints::json_given_as_mapping(file) {
            errln!("hint: {hint}");
        }
    }
    if !failures.is_empty() {
        return EXIT_CANNOT_RUN;
    }
    let all: Vec<&Diagnostic> = checked.iter().flat_map(|c| &c.output.diagnostics).collect();
    if all
        .iter()
        .any(|d| d.is_error() && d.code.is_unusable_file())
    {
        return EXIT_CANNOT_RUN;
    }
    let failing = all
        .iter()
        .any(|d| d.severity == Severity::Error || args.deny_warnings);
    if failing { EXIT_PROBLEMS } else { EXIT_OK }
}

/// How this run holds schema files against their meta-schema: remembering valid ones unless
/// `--no-cache` is given or no cache folder is known.
fn meta_check(args: &CheckArgs) -> MetaCheck {
    match Verdicts::from_env() {
        Some(verdicts) if !args.no_cache => MetaCheck::Remembered(verdicts),
        _ => MetaCheck::Always,
    }
}

/// The mapping files named by `paths` (folders searched recursively), sorted.
pub(super) fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let roots = if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths.to_vec()
    };
    let mut files = Vec::new();
    for root in &roots {
        let metadata = std::fs::metadata(root).map_err(|e| {
            format!(
                "cannot read `{}`: {}",
                root.display(),
                crate::io::files::io_reason(&e)
            )
        })?;
        if metadata.is_dir() {
            find_maps(root, &mut files, 0)?;
        } else {
            files.push(root.clone());
        }
    }
    files.sort();
    files.dedup();
    if files.is_empty() {
        return Err(format!(
            "no `*.map` files found in {}",
            roots
                .iter()
                .map(|r| format!("`{}`", r.display()))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(files)
}

fn find_maps(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) -> Result<(), String> {
    if depth > 32 {
        return Ok(());
    }
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot list `{}`: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let hidden =
            name.to_string_lossy().starts_with('.') || name == "target" || name == "node_modules";
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() && !hidden {
            find_maps(&path, out, depth + 1)?;
        } else if kind.is_file() && path.extension().is_some_and(|e| e == "map") {
            out.push(path);
        }
    }
    Ok(())
}

/// Which diagnostics of the checked files the run shows under `max`.
fn shown_of(checked: &[Checked], max: usize) -> Shown {
    let lists: Vec<&[Diagnostic]> = checked
        .iter()
        .map(|c| c.output.diagnostics.as_slice())
        .collect();
    Shown::split(&lists, max)
}

/// The diagnostics of file `index` the budget shows.
fn shown_in<'c>(c: &'c Checked, shown: &Shown, index: usize) -> &'c [Diagnostic] {
    let count = shown.per_file.get(index).copied().unwrap_or(0);
    &c.output.diagnostics[..count.min(c.output.diagnostics.len())]
}

fn print_human(checked: &[Checked], color: bool, shown: &Shown) {
    let style = HumanStyle {
        color,
        width: terminal_width(),
    };
    let stderr = std::io::stderr();
    let mut out = stderr.lock();
    for (index, c) in checked.iter().enumerate() {
        let rendered = render::human(&c.sources, shown_in(c, shown, index), style);
        let _ = out.write_all(rendered.as_bytes());
        if c.output.diagnostics.is_empty() {
            let name = &c.sources.get(c.output.file).name;
            let _ = writeln!(out, "{}: ok", crate::diag::safe::terminal_safe(name));
        }
    }
    if let Some(line) = shown.omitted_line() {
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(
        out,
        "{}",
        render::summary_counts(shown.found.errors, shown.found.warnings, checked.len())
    );
}

fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(100)
        .clamp(60, 200)
}

/// Prints a machine format's document (human output is on stderr and says it there).
fn print_machine(format: OutputFormat, checked: &[Checked], failures: &[Failure], shown: &Shown) {
    match format {
        OutputFormat::Human => {}
        OutputFormat::Json => print_json(checked, failures, shown),
        OutputFormat::Github => print_github(checked, failures, shown),
        OutputFormat::Sarif => print_sarif(checked, failures, shown),
    }
}

fn print_json(checked: &[Checked], failures: &[Failure], shown: &Shown) {
    let mut diagnostics = Vec::new();
    let mut files = Vec::new();
    for (index, c) in checked.iter().enumerate() {
        files.push(c.sources.get(c.output.file).name.clone());
        for d in shown_in(c, shown, index) {
            diagnostics.push(render::json_diagnostic(&c.sources, d));
        }
    }
    let failures: Vec<serde_json::Value> = failures
        .iter()
        .map(|f| json!({"file": f.file, "message": f.message}))
        .collect();
    let document = json!({
        "version": 1,
        "files": files,
        "diagnostics": diagnostics,
        "failures": failures,
        "summary": {"files": checked.len(), "errors": shown.found.errors,
                    "warnings": shown.found.warnings, "failures": failures.len(),
                    "shown": diagnostics.len(), "omitted": shown.omitted.total(),
                    "omitted_errors": shown.omitted.errors,
                    "omitted_warnings": shown.omitted.warnings},
    });
    outln!(
        "{}",
        serde_json::to_string_pretty(&document).unwrap_or_default()
    );
}

fn print_github(checked: &[Checked], failures: &[Failure], shown: &Shown) {
    let mut out = String::new();
    for failure in failures {
        out.push_str(&render::github_failure(failure));
    }
    for (index, c) in checked.iter().enumerate() {
        out.push_str(&render::github(&c.sources, shown_in(c, shown, index)));
    }
    if let Some(line) = shown.omitted_line() {
        out.push_str(&render::github_notice(&line));
    }
    out!("{out}");
}

fn print_sarif(checked: &[Checked], failures: &[Failure], shown: &Shown) {
    let files: Vec<(&SourceMap, &[Diagnostic])> = checked
        .iter()
        .enumerate()
        .map(|(index, c)| (&c.sources, shown_in(c, shown, index)))
        .collect();
    let docs_url = docs_url();
    let mut document = crate::diag::sarif::sarif(&files, failures, docs_url.as_deref());
    crate::diag::sarif::note_budget(&mut document, shown);
    outln!(
        "{}",
        serde_json::to_string_pretty(&document).unwrap_or_default()
    );
}

/// Where SARIF rule help links point: `MAPCTL_DOCS_URL` (the published `docs/` folder, an
/// http(s) URL, e.g. `https://github.com/ORG/REPO/blob/main/docs/`), ending in `/`; `None`
/// without it (the links are then left out).
pub(super) fn docs_url() -> Option<String> {
    let url = std::env::var("MAPCTL_DOCS_URL")
        .ok()
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))?;
    Some(if url.ends_with('/') {
        url
    } else {
        format!("{url}/")
    })
}
