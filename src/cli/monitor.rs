//! `mapctl monitor LOG`: the silent-break alarm over the run log, for cron.
//!
//! Exit codes: 0 no alert, 1 an alert (the count dropped or the rejection rate jumped), 2 could
//! not run. The human report goes to stderr, `--format json` to stdout.

use std::path::PathBuf;

use clap::Args;

use super::{EXIT_CANNOT_RUN, EXIT_OK, EXIT_PROBLEMS, ReportFormat};
use crate::ops::monitor::{self, Baseline, MappingReport, Period, Report, Settings};

/// Arguments of `mapctl monitor`.
#[derive(Debug, Args)]
pub struct MonitorArgs {
    /// The run log written by `mapctl apply --log`.
    pub log: PathBuf,
    /// Count per day instead of per ISO week.
    #[arg(long)]
    pub daily: bool,
    /// The expected projects per period (instead of the median of the previous periods).
    #[arg(long, value_name = "N")]
    pub baseline: Option<f64>,
    /// How many previous complete periods the median baseline (and the usual rejection rate,
    /// also with --baseline) is taken over.
    #[arg(long, value_name = "K", default_value_t = 8)]
    pub history: usize,
    /// Alert when the last complete period wrote more than this percentage below the baseline
    /// (0: any shortfall).
    #[arg(long, value_name = "PERCENT", default_value_t = 50.0)]
    pub max_drop: f64,
    /// Alert when the rejection rate rose by more than this many percentage points.
    #[arg(long, value_name = "POINTS", default_value_t = 20.0)]
    pub max_reject_jump: f64,
    /// The fewest deals (written + rejected) a period needs before its rejection rate is judged.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub min_deals: u64,
    /// Judge only this mapping's lines (by `mapping NAME`).
    #[arg(long, value_name = "NAME")]
    pub mapping: Option<String>,
    /// The clock, for replaying a past day: a date or RFC 3339 time (default: now).
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    pub format: ReportFormat,
    /// Print nothing but the alerts (for cron: no output and exit 0 on a quiet week).
    #[arg(long, short)]
    pub quiet: bool,
}

/// Runs `mapctl monitor`.
pub fn run(args: &MonitorArgs) -> u8 {
    let settings = match settings(args) {
        Ok(settings) => settings,
        Err(message) => {
            errln!("error: {message}");
            return EXIT_CANNOT_RUN;
        }
    };
    let file = match std::fs::File::open(&args.log) {
        Ok(file) => file,
        Err(error) => {
            errln!(
                "error: cannot read the run log `{}`: {}",
                args.log.display(),
                crate::io::files::io_reason(&error)
            );
            return EXIT_CANNOT_RUN;
        }
    };
    let reader = std::io::BufReader::with_capacity(1 << 16, file);
    let report = match monitor::analyse(reader, &settings) {
        Ok(report) => report,
        Err(error) => {
            errln!("error: reading `{}` failed: {error}", args.log.display());
            return EXIT_CANNOT_RUN;
        }
    };
    match args.format {
        ReportFormat::Json => match serde_json::to_string_pretty(&report) {
            Ok(text) => outln!("{text}"),
            Err(error) => {
                errln!("error: {error}");
                return EXIT_CANNOT_RUN;
            }
        },
        ReportFormat::Human if args.quiet => print_alerts(&report),
        ReportFormat::Human => print_human(&report, args),
    }
    if report.has_alerts() {
        EXIT_PROBLEMS
    } else {
        EXIT_OK
    }
}

fn settings(args: &MonitorArgs) -> Result<Settings, String> {
    let now = match &args.now {
        Some(text) => monitor::parse_now(text)?,
        None => chrono::DateTime::from(std::time::SystemTime::now()),
    };
    let baseline = match args.baseline {
        Some(n) if n.is_finite() && n >= 0.0 => Baseline::Fixed(n),
        Some(n) => return Err(format!("--baseline {n}: give a count of 0 or more")),
        None if args.history == 0 => return Err("--history 0: give at least 1 period".into()),
        None => Baseline::MedianOf(args.history),
    };
    if !(0.0..=100.0).contains(&args.max_drop) {
        return Err(format!(
            "--max-drop {}: give a percentage from 0 to 100",
            args.max_drop
        ));
    }
    if !(args.max_reject_jump.is_finite() && args.max_reject_jump >= 0.0) {
        return Err(format!(
            "--max-reject-jump {}: give 0 or more points",
            args.max_reject_jump
        ));
    }
    Ok(Settings {
        period: if args.daily {
            Period::Day
        } else {
            Period::Week
        },
        baseline,
        rate_history: args.history.max(1),
        max_drop_percent: args.max_drop,
        max_reject_jump: args.max_reject_jump,
        min_deals_for_rate: args.min_deals,
        now,
        mapping: args.mapping.clone(),
    })
}

fn print_human(report: &Report, args: &MonitorArgs) {
    let noun = report.period.noun();
    errln!(
        "mapctl monitor: {} per {noun}, now {} ({} lines)",
        args.log.display(),
        report.now,
        report.lines
    );
    if report.mappings.is_empty() {
        errln!("the log has no entries yet");
    }
    for mapping in &report.mappings {
        print_mapping(mapping, noun);
    }
    if report.malformed > 0 {
        let lines: Vec<String> = report.malformed_lines.iter().map(u64::to_string).collect();
        errln!(
            "warning: {} line(s) are not run-log entries and were not counted (line {})",
            report.malformed,
            lines.join(", ")
        );
    }
    if report.unfinished_last_line {
        errln!("note: the last line is unfinished (a run may be appending); it was not counted");
    }
    for alert in report.mappings.iter().flat_map(|m| &m.alerts) {
        errln!("\nALERT {}", alert.message);
    }
}

/// `--quiet`: only the alerts, one paragraph each.
fn print_alerts(report: &Report) {
    for alert in report.mappings.iter().flat_map(|m| &m.alerts) {
        errln!("ALERT {}", alert.message);
    }
}

fn print_mapping(mapping: &MappingReport, noun: &str) {
    errln!("\n{}", mapping.mapping);
    errln!(
        "  {:<10} {:>8} {:>8} {:>8} {:>12}",
        noun,
        "written",
        "rejected",
        "skipped",
        "reject rate"
    );
    let judged = mapping.periods.len();
    for (index, bucket) in mapping.periods.iter().chain([&mapping.current]).enumerate() {
        let rate = bucket
            .reject_rate()
            .map_or("-".to_string(), |r| format!("{:.0}%", r * 100.0));
        let mark = match index + 1 {
            n if n == judged && mapping.baseline.is_some() => "  <- judged",
            n if n == judged => "  <- not judged (see below)",
            n if n > judged => "  (in progress)",
            _ => "",
        };
        errln!(
            "  {:<10} {:>8} {:>8} {:>8} {:>12}{mark}",
            bucket.period,
            bucket.written,
            bucket.rejected,
            bucket.skipped,
            rate
        );
    }
    match (&mapping.baseline, &mapping.note) {
        (Some(baseline), _) => errln!(
            "  baseline: {} written a {noun} ({})",
            monitor::format_count(baseline.written),
            baseline.method
        ),
        (None, Some(note)) => errln!("  {note}"),
        (None, None) => {}
    }
    if let [.., previous, latest] = mapping.versions.as_slice() {
        errln!(
            "  mapping changed: version {} since {} (before: {} since {})",
            short_hash(&latest.sha256),
            latest.first_seen,
            short_hash(&previous.sha256),
            previous.first_seen
        );
    }
    if mapping.alerts.is_empty() && mapping.baseline.is_some() {
        errln!("  ok");
    }
}

/// The first 12 characters of a content hash.
fn short_hash(hash: &str) -> String {
    hash.chars().take(12).collect()
}
