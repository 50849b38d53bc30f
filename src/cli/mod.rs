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

/// As `outln!`, for text people read: made terminal-safe ([`crate::diag::safe`]) first. JSON
/// goes through `outln!`, exact.
macro_rules! sayln {
    ($($arg:tt)*) => {
        $crate::cli::write_stdout(format_args!(
            "{}\n",
            $crate::diag::safe::terminal_safe(&format!($($arg)*))
        ))
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
mod check;
mod explain;
mod fmt;
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
#[command(name = "mapctl", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check mappings against their CRM and PSA schemas and report every problem.
    Check(check::CheckArgs),
    /// Run a mapping on deals: write PSA records, reject what breaks the rules, lose nothing.
    Apply(apply::ApplyArgs),
    /// Alarm when the run log shows fewer projects than usual (the silent break), for cron.
    Monitor(monitor::MonitorArgs),
    /// Compare a CRM deal export with a PSA project export: missing and drifted projects, duplicates.
    Reconcile(reconcile::ReconcileArgs),
    /// Deliver won deals to the PSA exactly once: read, map, record in the ledger, deliver.
    Run(run::RunArgs),
    /// Receive deals by webhook and deliver them exactly once, in the background.
    Serve(serve::ServeArgs),
    /// What the ledger knows: deals by state, the oldest pending, failures with reasons.
    Status(status::StatusArgs),
    /// Queue failed or rejected deals for another try (after a fix in the CRM or the mapping).
    Retry(retry::RetryArgs),
    /// Run the YAML test files beside mappings (`*.tests.yaml`).
    Test(test::TestArgs),
    /// Rewrite mapping files in the canonical layout (`--check`: only report, for CI).
    Fmt(fmt::FmtArgs),
    /// Serve editors over the Language Server Protocol on stdio (diagnostics, hover, completion,
    /// go to definition, quick fixes, formatting).
    Lsp,
    /// Explain a diagnostic code (e.g. `mapctl explain M204`).
    Explain(explain::ExplainArgs),
    /// Schemas from the vendors' own metadata (`import`), and what changed between two
    /// versions of one, with the mapping lines each change breaks (`diff`).
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
        match self {
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
    let code = match cli.command {
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
