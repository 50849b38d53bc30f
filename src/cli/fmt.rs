//! `mapctl fmt [PATHS...]`: rewrite mapping files in the canonical layout, or `--check` that they
//! are. Exit codes: 0 formatted (or already so), 1 with `--check` when a file would change or a
//! file has syntax errors, 2 could not run.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;

use super::{ColorChoice, EXIT_CANNOT_RUN, EXIT_OK, EXIT_PROBLEMS};
use crate::diag::render::{self, HumanStyle};
use crate::io::atomic::AtomicFile;
use crate::source::SourceMap;
use crate::syntax::format::{FormatError, format};

/// Arguments of `mapctl fmt`.
#[derive(Debug, Args)]
pub struct FmtArgs {
    /// Mapping files or folders (searched for `*.map`); `-` formats stdin to stdout; none means
    /// the current folder.
    pub paths: Vec<PathBuf>,
    /// Change nothing: list the files that are not formatted (with their first difference) and
    /// exit 1 if there are any.
    #[arg(long)]
    pub check: bool,
}

/// Runs `mapctl fmt`.
pub fn run(args: &FmtArgs) -> u8 {
    if args.paths.len() == 1 && args.paths[0] == Path::new("-") {
        return format_stdin();
    }
    let files = match super::check::collect_files(&args.paths) {
        Ok(files) => files,
        Err(message) => {
            errln!("error: {message}");
            return EXIT_CANNOT_RUN;
        }
    };
    let mut worst = EXIT_OK;
    let mut changed = 0;
    for file in &files {
        match format_file(file, args.check) {
            Ok(true) => changed += 1,
            Ok(false) => {}
            Err(code) => worst = worst.max(code),
        }
    }
    if args.check && changed > 0 {
        errln!(
            "{changed} of {} file(s) not formatted: run `mapctl fmt`",
            files.len()
        );
        worst = worst.max(EXIT_PROBLEMS);
    }
    worst
}

/// Formats one file; returns whether it differed from its formatted form.
fn format_file(path: &Path, check: bool) -> Result<bool, u8> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        errln!(
            "error: cannot read `{}`: {}",
            path.display(),
            crate::io::files::io_reason(&e)
        );
        EXIT_CANNOT_RUN
    })?;
    let formatted = formatted_or_report(path, &text)?;
    if formatted == text {
        return Ok(false);
    }
    if check {
        errln!(
            "{}: not formatted{}",
            path.display(),
            first_difference(&text, &formatted)
        );
        return Ok(true);
    }
    write_atomically(path, &formatted).map_err(|e| {
        errln!("error: cannot write `{}`: {e}", path.display());
        EXIT_CANNOT_RUN
    })?;
    errln!("formatted {}", path.display());
    Ok(true)
}

fn format_stdin() -> u8 {
    let mut text = String::new();
    if let Err(error) = std::io::stdin().read_to_string(&mut text) {
        errln!("error: cannot read stdin: {error}");
        return EXIT_CANNOT_RUN;
    }
    match formatted_or_report(Path::new("<stdin>"), &text) {
        Ok(formatted) => {
            out!("{formatted}");
            EXIT_OK
        }
        Err(code) => code,
    }
}

/// The UTF-8 byte order mark, which `check` ignores at the start of a file and `fmt` keeps
/// (docs/language.md, "Encoding").
const BOM: char = '\u{feff}';

/// The formatted text, or the syntax errors rendered on stderr. A byte order mark at the start is
/// kept as it is and the rest formatted, as `check` reads it.
fn formatted_or_report(path: &Path, text: &str) -> Result<String, u8> {
    if let Some(rest) = text.strip_prefix(BOM) {
        return formatted_or_report(path, rest).map(|formatted| format!("{BOM}{formatted}"));
    }
    match format(text) {
        Ok(formatted) => Ok(formatted),
        Err(FormatError::Syntax(errors)) => {
            let mut sources = SourceMap::new();
            sources.add(path, path.display().to_string(), Arc::from(text));
            let style = HumanStyle {
                color: ColorChoice::Auto.enabled_for_stderr(),
                width: 100,
            };
            eprint!("{}", render::human(&sources, &errors, style));
            errln!(
                "error: `{}` has syntax errors; fix them before formatting",
                path.display()
            );
            Err(EXIT_PROBLEMS)
        }
        Err(FormatError::Internal(message)) => {
            errln!("error: `{}`: {message}", path.display());
            Err(EXIT_CANNOT_RUN)
        }
    }
}

/// ` (line N: "old" -> "new")` for the first line that differs.
fn first_difference(old: &str, new: &str) -> String {
    let mut old_lines = old.lines();
    let mut new_lines = new.lines();
    for number in 1.. {
        match (old_lines.next(), new_lines.next()) {
            (Some(a), Some(b)) if a == b => continue,
            (None, None) => return " (line breaks at the end)".to_string(),
            (a, b) => {
                return format!(
                    " (line {number}: {:?} would be {:?})",
                    a.unwrap_or(""),
                    b.unwrap_or("")
                );
            }
        }
    }
    String::new()
}

fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let mut file = AtomicFile::create(path)?;
    file.write_all(text.as_bytes())?;
    file.commit()
}
