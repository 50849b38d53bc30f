//! The command line: parse arguments, call a stage, render its results. The only place (with
//! the language server) that prints.

/// Writes formatted text to standard output, quietly stopping if the reader has gone (as with
/// `mapctl check | head`): a closed pipe is not an error worth a panic.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::write_stdout(format_args!($($arg)*))
    };
}

/// As `out!`, with a line break.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// A line on stderr, made terminal-safe ([`crate::diag::safe`]): every message, note and summary
/// a command prints there goes through this.
macro_rules! errln {
    ($($arg:tt)*) => {
        eprintln!("{}", $crate::diag::safe::terminal_safe(&format!($($arg)*)))
    };
}

mod apply;
mod back;
mod check;
mod doc;
mod explain;
mod fmt;
mod hints;
mod ledger_args;
mod loading;
mod monitor;
mod parallel;
mod plan;
mod progress;
mod reconcile;
mod retry;
mod run;
mod schema;
mod serve;
mod sinks;
mod status;
mod test;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Writes to standard output; errors (a closed pipe above all) are ignored, because there is
/// nobody left to tell and the exit code still reports the result.
pub(crate) fn write_stdout(text: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_fmt(text);
}

/// Declarative, checked CRM-to-PSA handoff.
#[derive(Debug, Parser)]
#[command(
    name = "mapctl",
    version,
    about,
    long_about = None,
    after_help = "Example:\n  mapctl check mappings/ && mapctl test mappings/\n\nExit codes: 0 success, 1 problems found, 2 could not run; each command's are in `mapctl COMMAND --help`.\nData goes to stdout, everything for people to stderr (docs/cli.md)."
)]
pub struct Cli {
    /// When to colour output for people: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    #[command(subcommand)]
    command: Command,
}

/// The `--color` given on the command line (auto until it is parsed).
static COLOR: std::sync::OnceLock<ColorChoice> = std::sync::OnceLock::new();

#[derive(Debug, Subcommand)]
enum Command {
    /// Check mappings against their CRM and PSA schemas and report every problem.
    #[command(
        after_help = "Example:\n  mapctl check --format github --deny-warnings mappings/\n\nExit codes: 0 clean, 1 errors (or warnings with --deny-warnings), 2 could not run (also: a schema or table file the mapping names is missing or invalid)."
    )]
    Check(check::CheckArgs),
    /// Run a mapping on deals: write PSA records, reject what breaks the rules, lose nothing.
    #[command(
        after_help = "Example:\n  mapctl apply mappings/hubspot_to_accelo.map --clients accelo_companies.json deal.json\n\nExit codes: 0 every deal written or skipped, 1 a deal rejected, 2 could not run, 130 interrupted."
    )]
    Apply(apply::ApplyArgs),
    /// Alarm when the run log shows fewer projects than usual (the silent break), for cron.
    #[command(
        after_help = "Example:\n  mapctl monitor --quiet /var/log/mapctl/runs.log\n\nExit codes: 0 no alert, 1 an alert, 2 could not run."
    )]
    Monitor(monitor::MonitorArgs),
    /// Compare a CRM deal export with a PSA project export: missing and drifted projects, duplicates.
    #[command(
        after_help = "Example:\n  mapctl reconcile MAPPING --deals deals.ndjson --projects projects.json\n\nExit codes: 0 no finding, 1 a finding, 2 could not run."
    )]
    Reconcile(reconcile::ReconcileArgs),
    /// Deliver won deals to the PSA exactly once: read, map, record in the ledger, deliver.
    #[command(
        after_help = "Example:\n  mapctl run MAPPING --from deals.ndjson --to https://psa.example/api/projects\n\nExit codes: 0 every deal settled, 1 a deal failed or pending, 2 could not run, 130 interrupted."
    )]
    Run(run::RunArgs),
    /// Receive deals by webhook and deliver them exactly once, in the background.
    #[command(
        after_help = "Example:\n  MAPCTL_WEBHOOK_SECRET=... mapctl serve MAPPING --to URL --listen 127.0.0.1:8080\n\nExit codes: 0 stopped cleanly, 2 could not run."
    )]
    Serve(serve::ServeArgs),
    /// What the ledger knows: deals by state, the oldest pending, failures with reasons.
    #[command(
        after_help = "Example:\n  mapctl status MAPPING --deal 18000000027\n\nExit codes: 0 every deal settled, 1 a deal failed or pending, 2 could not run."
    )]
    Status(status::StatusArgs),
    /// Queue failed or rejected deals for another try (after a fix in the CRM or the mapping).
    #[command(
        after_help = "Example:\n  mapctl retry MAPPING --failed\n\nExit codes: 0 something was queued, 1 nothing to queue, 2 could not run."
    )]
    Retry(retry::RetryArgs),
    /// Run the YAML test files beside mappings (`*.tests.yaml`).
    #[command(
        after_help = "Example:\n  mapctl test --require-coverage mappings/\n\nExit codes: 0 every case passed, 1 a case failed (or, with --require-coverage, something is not exercised), 2 could not run."
    )]
    Test(test::TestArgs),
    /// Rewrite mapping files in the canonical layout (`--check`: only report, for CI).
    #[command(
        after_help = "Example:\n  mapctl fmt --check mappings/\n\nExit codes: 0 formatted (nothing to change), 1 with --check: a file is not formatted, or a file has syntax errors, 2 could not run."
    )]
    Fmt(fmt::FmtArgs),
    /// Serve editors over the Language Server Protocol on stdio (diagnostics, hover, completion,
    /// go to definition, quick fixes, formatting).
    #[command(
        after_help = "Example:\n  mapctl lsp   (started by an editor, see docs/editors.md)\n\nExit codes: 0 after the editor asks it to exit, 2 could not run."
    )]
    Lsp,
    /// The mapping sheet for sign-off: every PSA field, required facts, never-transfer proof,
    /// templates, tables, sync back, checklist and test coverage (HTML or Markdown).
    #[command(
        after_help = "Example:\n  mapctl doc mappings/hubspot_to_accelo.map -o sheet.html\n\nExit codes: 0 written, 2 could not run (a mapping with check errors, an unwritable file)."
    )]
    Doc(doc::DocArgs),
    /// Explain a diagnostic code (e.g. `mapctl explain M204`).
    #[command(
        after_help = "Example:\n  mapctl explain M204\n\nExit codes: 0 explained, 2 not a known code."
    )]
    Explain(explain::ExplainArgs),
    /// Schemas from the vendors' own metadata (`import`), and what changed between two
    /// versions of one, with the mapping lines each change breaks (`diff`).
    #[command(
        after_help = "Example:\n  mapctl schema diff old.json new.json --mapping mappings/hubspot_to_accelo.map\n\nExit codes: 0 written (import) or nothing breaks (diff), 1 a change breaks a mapping line (diff), 2 could not run."
    )]
    Schema(schema::SchemaArgs),
}

/// Output format of the reporting commands (`monitor`, `reconcile`, `apply --plan`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Readable text for people (and cron mail).
    Human,
    /// JSON for dashboards and scripts.
    Json,
}

/// When to use colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

impl ColorChoice {
    /// Whether to colour output written to stderr.
    pub fn enabled_for_stderr(self) -> bool {
        use std::io::IsTerminal;
        self.enabled(std::io::stderr().is_terminal())
    }

    /// Whether to colour output written to stdout.
    pub fn enabled_for_stdout(self) -> bool {
        use std::io::IsTerminal;
        self.enabled(std::io::stdout().is_terminal())
    }

    fn enabled(self, terminal: bool) -> bool {
        let choice = match self {
            ColorChoice::Auto => COLOR.get().copied().unwrap_or(ColorChoice::Auto),
            other => other,
        };
        match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && terminal
            }
        }
    }
}

pub use explain::entry as explain_entry;

/// Exit code: everything fine.
pub const EXIT_OK: u8 = 0;
/// Exit code: problems found (errors, or warnings with `--deny-warnings`).
pub const EXIT_PROBLEMS: u8 = 1;
/// Exit code: could not run (bad arguments, unreadable input).
pub const EXIT_CANNOT_RUN: u8 = 2;

/// Runs the command line and returns the process exit code.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let code = if error.use_stderr() {
                EXIT_CANNOT_RUN
            } else {
                EXIT_OK
            };
            let _ = error.print();
            return ExitCode::from(code);
        }
    };
    let _ = COLOR.set(cli.color);
    let code = match cli.command {
        Command::Doc(args) => doc::run(&args, cli.color),
        Command::Check(args) => check::run(&args),
        Command::Explain(args) => explain::run(&args),
        Command::Apply(args) if args.plan => plan::run(&args),
        Command::Apply(args) => apply::run(&args),
        Command::Test(args) => test::run(&args),
        Command::Monitor(args) => monitor::run(&args),
        Command::Fmt(args) => fmt::run(&args),
        Command::Lsp => crate::lsp::run_stdio(),
        Command::Reconcile(args) => reconcile::run(&args),
        Command::Run(args) => run::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Status(args) => status::run(&args),
        Command::Retry(args) => retry::run(&args),
        Command::Schema(args) => schema::run(&args),
    };
    ExitCode::from(code)
}
