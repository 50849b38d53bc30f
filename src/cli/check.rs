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
            print_machine(args.format, &[], &[failure]);
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
    match args.format {
        OutputFormat::Human => print_human(&checked, ColorChoice::Auto.enabled_for_stderr()),
        format => print_machine(format, &checked, &failures),
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

fn print_human(checked: &[Checked], color: bool) {
    let style = HumanStyle {
        color,
        width: terminal_width(),
    };
    let stderr = std::io::stderr();
    let mut out = stderr.lock();
    let mut all = Vec::new();
    for c in checked {
        let rendered = render::human(&c.sources, &c.output.diagnostics, style);
        let _ = out.write_all(rendered.as_bytes());
        if c.output.diagnostics.is_empty() {
            let name = &c.sources.get(c.output.file).name;
            let _ = writeln!(out, "{}: ok", crate::diag::safe::terminal_safe(name));
        }
        all.extend(c.output.diagnostics.iter().cloned());
    }
    let _ = writeln!(out, "{}", render::summary_line(&all, checked.len()));
}

fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(100)
        .clamp(60, 200)
}

/// Prints a machine format's document (human output is on stderr and says it there).
fn print_machine(format: OutputFormat, checked: &[Checked], failures: &[Failure]) {
    match format {
        OutputFormat::Human => {}
        OutputFormat::Json => print_json(checked, failures),
        OutputFormat::Github => print_github(checked, failures),
        OutputFormat::Sarif => print_sarif(checked, failures),
    }
}

fn print_json(checked: &[Checked], failures: &[Failure]) {
    let mut diagnostics = Vec::new();
    let mut files = Vec::new();
    let (mut errors, mut warnings) = (0, 0);
    for c in checked {
        files.push(c.sources.get(c.output.file).name.clone());
        for d in &c.output.diagnostics {
            match d.severity {
                Severity::Error => errors += 1,
                Severity::Warning => warnings += 1,
            }
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
        "summary": {"files": checked.len(), "errors": errors, "warnings": warnings,
                    "failures": failures.len()},
    });
    outln!(
        "{}",
        serde_json::to_string_pretty(&document).unwrap_or_default()
    );
}

fn print_github(checked: &[Checked], failures: &[Failure]) {
    let mut out = String::new();
    for failure in failures {
        out.push_str(&render::github_failure(failure));
    }
    for c in checked {
        out.push_str(&render::github(&c.sources, &c.output.diagnostics));
    }
    out!("{out}");
}

fn print_sarif(checked: &[Checked], failures: &[Failure]) {
    let files: Vec<(&SourceMap, &[Diagnostic])> = checked
        .iter()
        .map(|c| (&c.sources, c.output.diagnostics.as_slice()))
        .collect();
    let docs_url = docs_url();
    let document = crate::diag::sarif::sarif(&files, failures, docs_url.as_deref());
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
