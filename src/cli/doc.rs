//! `mapctl doc MAPPING [-o FILE] [--format html|markdown]`: the mapping sheet for sign-off,
//! built from the checked program (`crate::sheet`) with the coverage `mapctl test` recorded.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::{ColorChoice, EXIT_CANNOT_RUN, EXIT_OK};
use crate::diag::Diagnostic;
use crate::diag::render::{self, HumanStyle};
use crate::schema::MetaCheck;
use crate::sheet::{self, Coverage};
use crate::source::SourceMap;
use crate::suite::record;
use crate::syntax::Limits;

/// Formats of the mapping sheet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DocFormat {
    /// One self-contained HTML page (inline CSS, light and dark, printable).
    Html,
    /// GitHub-flavoured Markdown, for a wiki or a pull request.
    Markdown,
}

/// Arguments of `mapctl doc`.
#[derive(Debug, Args)]
pub struct DocArgs {
    /// The mapping file.
    pub mapping: PathBuf,
    /// Write the sheet to FILE (atomically) instead of stdout.
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The format; default: markdown when FILE ends in `.md`, else html.
    #[arg(long, value_enum)]
    pub format: Option<DocFormat>,
    /// Leave out the coverage of the last `mapctl test` run.
    #[arg(long)]
    pub no_coverage: bool,
}

/// Runs `mapctl doc`.
pub fn run(args: &DocArgs, color: ColorChoice) -> u8 {
    match render_sheet(args, color) {
        Ok(text) => match write_out(args.out.as_deref(), &text) {
            Ok(()) => EXIT_OK,
            Err(message) => {
                errln!("error: {message}");
                EXIT_CANNOT_RUN
            }
        },
        Err(message) => {
            errln!("error: {message}");
            EXIT_CANNOT_RUN
        }
    }
}

fn format_of(args: &DocArgs) -> DocFormat {
    args.format.unwrap_or_else(|| {
        let markdown = args
            .out
            .as_ref()
            .and_then(|p| p.extension())
            .is_some_and(|e| e.eq_ignore_ascii_case("md"));
        if markdown {
            DocFormat::Markdown
        } else {
            DocFormat::Html
        }
    })
}

fn render_sheet(args: &DocArgs, color: ColorChoice) -> Result<String, String> {
    if let Some(hint) = super::hints::json_given_as_mapping(&args.mapping) {
        return Err(hint);
    }
    let mut sources = SourceMap::new();
    let output = crate::check::check_file_with(
        &mut sources,
        &args.mapping,
        &Limits::default(),
        MetaCheck::Skip,
    )
    .map_err(|e| e.0)?;
    let text = sources.get(output.file).text.clone();
    if output.program.is_none() {
        let errors: Vec<Diagnostic> = output
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .cloned()
            .collect();
        let style = HumanStyle {
            color: color.enabled_for_stderr(),
            width: 100,
        };
        eprint!("{}", render::human(&sources, &errors, style));
        return Err(format!(
            "`{}` has {} check error(s); a sheet is only made of a mapping that checks cleanly (run `mapctl check`)",
            args.mapping.display(),
            errors.len()
        ));
    }
    let coverage = if args.no_coverage {
        None
    } else {
        recorded_coverage(&args.mapping, &text)?
    };
    let file = args.mapping.display().to_string();
    let sheet = sheet::build(&output, &file, &text, coverage)
        .ok_or_else(|| "the mapping did not check".to_string())?;
    Ok(match format_of(args) {
        DocFormat::Html => sheet::html(&sheet),
        DocFormat::Markdown => sheet::markdown(&sheet),
    })
}

/// The coverage recorded by the last `mapctl test` of this mapping, if any.
fn recorded_coverage(mapping: &Path, text: &str) -> Result<Option<Coverage>, String> {
    let Some(found) = record::read(mapping)? else {
        return Ok(None);
    };
    Ok(Some(Coverage {
        current: found.mapping_sha256 == sheet::sha256_hex(text.as_bytes()),
        recorded_at: found.recorded_at,
        tests_file: found.tests_file,
        passed: found.passed,
        failed: found.failed,
        unexercised: found.unexercised,
    }))
}

fn write_out(out: Option<&Path>, text: &str) -> Result<(), String> {
    let Some(path) = out else {
        out!("{text}");
        return Ok(());
    };
    let fail = |e: std::io::Error| format!("cannot write `{}`: {e}", path.display());
    let mut file = crate::io::atomic::AtomicFile::create(path).map_err(fail)?;
    file.write_all(text.as_bytes()).map_err(fail)?;
    file.commit().map_err(fail)?;
    errln!("mapctl doc: wrote {}", path.display());
    Ok(())
}
