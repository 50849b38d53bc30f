//! The silent-break alarm: counts the projects the run log says were written per ISO week (or
//! day), compares the last complete period with a baseline, and raises alerts when the count
//! drops or the rejection rate jumps.
//!
//! Periods are counted up to the clock, not up to the log's last line: a handoff that stopped
//! running altogether (no lines at all) is a drop to zero, which is exactly the break to catch.
//! Written projects are counted once per deal and period, so a re-run of the same backfill does
//! not hide a drop.

use std::collections::{BTreeMap, HashSet};
use std::io::BufRead;

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use verdict::judge;

mod verdict;

/// How long a period is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    /// ISO weeks, Monday to Sunday (UTC).
    Week,
    /// Calendar days (UTC).
    Day,
}

impl Period {
    /// The first day of the period holding `date`.
    pub fn start_of(self, date: NaiveDate) -> NaiveDate {
        match self {
            Period::Day => date,
            Period::Week => {
                let back = u64::from(date.weekday().num_days_from_monday());
                date.checked_sub_days(Days::new(back)).unwrap_or(date)
            }
        }
    }

    /// The period after the one starting on `start`.
    fn next(self, start: NaiveDate) -> NaiveDate {
        let days = match self {
            Period::Day => 1,
            Period::Week => 7,
        };
        start.checked_add_days(Days::new(days)).unwrap_or(start)
    }

    /// The period before the one starting on `start`.
    fn previous(self, start: NaiveDate) -> NaiveDate {
        let days = match self {
            Period::Day => 1,
            Period::Week => 7,
        };
        start.checked_sub_days(Days::new(days)).unwrap_or(start)
    }

    /// The period's name: `2026-W47` or `2026-11-20`.
    pub fn label(self, start: NaiveDate) -> String {
        match self {
            Period::Day => start.format("%Y-%m-%d").to_string(),
            Period::Week => start.format("%G-W%V").to_string(),
        }
    }

    /// `week` or `day`.
    pub fn noun(self) -> &'static str {
        match self {
            Period::Week => "week",
            Period::Day => "day",
        }
    }
}

/// What the current count is compared with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Baseline {
    /// A fixed number of projects per period.
    Fixed(f64),
    /// The median of the previous K complete periods.
    MedianOf(usize),
}

/// The monitor's settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Weeks or days.
    pub period: Period,
    /// What "normal" is.
    pub baseline: Baseline,
    /// Alert when the count is more than this many percent below the baseline.
    pub max_drop_percent: f64,
    /// Alert when the rejection rate rises by more than this many percentage points.
    pub max_reject_jump: f64,
    /// With a fixed baseline: how many previous periods give the usual rejection rate.
    pub rate_history: usize,
    /// The fewest handled deals (written + rejected) a period needs for its rejection rate to
    /// be judged.
    pub min_deals_for_rate: u64,
    /// The clock: the last complete period is the one before the period holding it.
    pub now: DateTime<Utc>,
    /// Only this mapping's lines, when given.
    pub mapping: Option<String>,
}

/// The counts of one period.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Bucket {
    /// The period's name.
    pub period: String,
    /// Its first day.
    pub start: String,
    /// Its last day.
    pub end: String,
    /// Distinct deals written.
    pub written: u64,
    /// Deals rejected.
    pub rejected: u64,
    /// Deals skipped (not at a trigger stage).
    pub skipped: u64,
}

impl Bucket {
    /// Rejected / (written + rejected), if any deal was handled.
    pub fn reject_rate(&self) -> Option<f64> {
        let handled = self.written + self.rejected;
        (handled > 0).then(|| self.rejected as f64 / handled as f64)
    }
}

/// The baseline actually used.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BaselineUsed {
    /// Projects per period.
    pub written: f64,
    /// How it was found, in words.
    pub method: String,
    /// The history's rejection rate, when it handled deals.
    pub reject_rate: Option<f64>,
}

/// One alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// `drop` or `reject-rate`.
    pub kind: &'static str,
    /// What happened, for people.
    pub message: String,
}

/// The verdict for one mapping.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MappingReport {
    /// The mapping's name.
    pub mapping: String,
    /// The history periods, oldest first, then the judged period last.
    pub periods: Vec<Bucket>,
    /// The judged period (the last complete one).
    pub judged: Bucket,
    /// The period in progress (not judged).
    pub current: Bucket,
    /// The baseline, when there is enough history.
    pub baseline: Option<BaselineUsed>,
    /// Why nothing was judged, when that is the case.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// When the mapping last wrote a project, and for which deal.
    pub last_written: Option<LastWritten>,
    /// The versions of the mapping (by content hash) in the log, oldest first: a drop that
    /// starts with a new version points at the mapping change.
    pub versions: Vec<MappingVersion>,
    /// What is wrong.
    pub alerts: Vec<Alert>,
}

/// One version of a mapping seen in the log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MappingVersion {
    /// SHA-256 of the mapping text.
    pub sha256: String,
    /// Its first line in the log.
    pub first_seen: String,
}

/// The last written project seen in the log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LastWritten {
    /// Its timestamp.
    pub ts: String,
    /// Its deal.
    pub deal_id: Option<String>,
}

/// Everything `monitor` found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Weeks or days.
    pub period: Period,
    /// The clock used.
    pub now: String,
    /// One report per mapping in the log (or the one asked for).
    pub mappings: Vec<MappingReport>,
    /// Log lines read.
    pub lines: u64,
    /// Lines that are not run-log entries: how many, and the first few line numbers.
    pub malformed: u64,
    /// The first malformed line numbers (at most 5).
    pub malformed_lines: Vec<u64>,
    /// True when the last line has no line break (a run may be appending right now).
    pub unfinished_last_line: bool,
}

impl Report {
    /// True when any mapping raised an alert.
    pub fn has_alerts(&self) -> bool {
        self.mappings.iter().any(|m| !m.alerts.is_empty())
    }
}

/// The fields of a log line the monitor reads.
#[derive(Deserialize)]
struct Entry<'a> {
    #[serde(borrow)]
    ts: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    mapping: std::borrow::Cow<'a, str>,
    #[serde(default, borrow)]
    deal_id: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    outcome: std::borrow::Cow<'a, str>,
    #[serde(default, borrow)]
    direction: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    mapping_sha256: Option<std::borrow::Cow<'a, str>>,
}

/// Counting state for one mapping.
#[derive(Default)]
struct Series {
    first_period: Option<NaiveDate>,
    buckets: BTreeMap<NaiveDate, Counter>,
    last_written: Option<(DateTime<Utc>, String, Option<String>)>,
    versions: BTreeMap<String, DateTime<Utc>>,
}

/// Counts of one period: deals written and rejected are counted once each (a re-run of the
/// same backfill changes nothing), lines without a deal id one by one.
#[derive(Default)]
struct Counter {
    written_ids: HashSet<String>,
    written_anonymous: u64,
    rejected_ids: HashSet<String>,
    rejected_anonymous: u64,
    skipped: u64,
}

/// The window of periods that matter: the history, the judged period and the current one.
struct Window {
    oldest: NaiveDate,
    judged: NaiveDate,
    current: NaiveDate,
}

impl Window {
    fn new(settings: &Settings) -> Window {
        let period = settings.period;
        let current = period.start_of(settings.now.date_naive());
        let judged = period.previous(current);
        let history = match settings.baseline {
            Baseline::Fixed(_) => settings.rate_history,
            Baseline::MedianOf(k) => k,
        };
        let oldest = (0..history).fold(judged, |start, _| period.previous(start));
        Window {
            oldest,
            judged,
            current,
        }
    }
}

/// Reads a run log and judges every mapping in it.
pub fn analyse<R: BufRead>(mut reader: R, settings: &Settings) -> std::io::Result<Report> {
    let window = Window::new(settings);
    let mut series: BTreeMap<String, Series> = BTreeMap::new();
    let mut report = Report {
        period: settings.period,
        now: settings
            .now
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        mappings: Vec::new(),
        lines: 0,
        malformed: 0,
        malformed_lines: Vec::new(),
        unfinished_last_line: false,
    };
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        report.lines += 1;
        if line.last() != Some(&b'\n') {
            report.unfinished_last_line = true;
            report.lines -= 1;
            break;
        }
        let text = line.trim_ascii();
        if text.is_empty() {
            continue;
        }
        match parse_entry(text) {
            Some((entry, at)) => count(&mut series, &entry, at, settings, &window),
            None => {
                report.malformed += 1;
                if report.malformed_lines.len() < 5 {
                    report.malformed_lines.push(report.lines);
                }
            }
        }
    }
    if let Some(wanted) = &settings.mapping {
        series.entry(wanted.clone()).or_default();
        series.retain(|name, _| name == wanted);
    }
    report.mappings = series
        .into_iter()
        .map(|(name, s)| judge(name, s, settings, &window))
        .collect();
    Ok(report)
}

fn parse_entry(text: &[u8]) -> Option<(Entry<'_>, DateTime<Utc>)> {
    let entry: Entry<'_> = serde_json::from_slice(text).ok()?;
    let at = DateTime::parse_from_rfc3339(&entry.ts).ok()?.to_utc();
    matches!(&*entry.outcome, "written" | "rejected" | "skipped").then_some((entry, at))
}

fn count(
    series: &mut BTreeMap<String, Series>,
    entry: &Entry<'_>,
    at: DateTime<Utc>,
    settings: &Settings,
    window: &Window,
) {
    let other_mapping = settings
        .mapping
        .as_ref()
        .is_some_and(|m| m != &*entry.mapping);
    if other_mapping || entry.direction.as_deref() == Some("back") {
        return;
    }
    let start = settings.period.start_of(at.date_naive());
    let s = match series.get_mut(&*entry.mapping) {
        Some(s) => s,
        None => series.entry(entry.mapping.to_string()).or_default(),
    };
    s.first_period = Some(s.first_period.map_or(start, |f| f.min(start)));
    if let Some(hash) = &entry.mapping_sha256 {
        let seen = s.versions.entry(hash.to_string()).or_insert(at);
        *seen = (*seen).min(at);
    }
    if entry.outcome == "written" && s.last_written.as_ref().is_none_or(|(t, ..)| at > *t) {
        let deal = entry.deal_id.as_ref().map(|d| d.to_string());
        s.last_written = Some((at, entry.ts.to_string(), deal));
    }
    if start < window.oldest || start > window.current {
        return;
    }
    let counter = s.buckets.entry(start).or_default();
    let (ids, anonymous) = match &*entry.outcome {
        "written" => (&mut counter.written_ids, &mut counter.written_anonymous),
        "rejected" => (&mut counter.rejected_ids, &mut counter.rejected_anonymous),
        _ => {
            counter.skipped += 1;
            return;
        }
    };
    match &entry.deal_id {
        Some(id) if !ids.contains(&**id) => {
            ids.insert(id.to_string());
        }
        Some(_) => {}
        None => *anonymous += 1,
    }
}

fn bucket(series: &Series, period: Period, start: NaiveDate) -> Bucket {
    let counter = series.buckets.get(&start);
    Bucket {
        period: period.label(start),
        start: start.format("%Y-%m-%d").to_string(),
        end: period
            .next(start)
            .pred_opt()
            .unwrap_or(start)
            .format("%Y-%m-%d")
            .to_string(),
        written: counter.map_or(0, |c| c.written_ids.len() as u64 + c.written_anonymous),
        rejected: counter.map_or(0, |c| c.rejected_ids.len() as u64 + c.rejected_anonymous),
        skipped: counter.map_or(0, |c| c.skipped),
    }
}

/// A count without a needless ".0".
pub fn format_count(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n:.1}")
    }
}

/// Parses `--now`: RFC 3339, or a date (midnight UTC).
pub fn parse_now(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.to_utc());
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| {
            format!(
                "`{text}` is not a date (2026-11-26) or an RFC 3339 time (2026-11-26T08:00:00Z)"
            )
        })
}

#[cfg(test)]
mod tests;
