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

fn judge(name: String, series: Series, settings: &Settings, window: &Window) -> MappingReport {
    let period = settings.period;
    let unseen = series.first_period.is_none();
    let first = match (series.first_period, settings.baseline) {
        (Some(first), _) => first,
        (None, Baseline::Fixed(_)) => window.judged,
        (None, Baseline::MedianOf(_)) => window.current,
    };
    let mut history = Vec::new();
    let mut start = window.oldest.max(first);
    while start < window.judged {
        history.push(bucket(&series, period, start));
        start = period.next(start);
    }
    let judged = bucket(&series, period, window.judged);
    let current = bucket(&series, period, window.current);
    let last_written = series
        .last_written
        .map(|(_, ts, deal_id)| LastWritten { ts, deal_id });
    let versions = versions_by_first_use(series.versions);
    let mut report = MappingReport {
        mapping: name,
        periods: history.clone(),
        judged: judged.clone(),
        current,
        baseline: None,
        note: None,
        last_written,
        versions,
        alerts: Vec::new(),
    };
    report.periods.push(judged.clone());
    if unseen && first > window.judged {
        report.note = Some(
            "the log has no line for this mapping: pass --baseline N to alert on silence".into(),
        );
        return report;
    }
    if first > window.judged {
        report.note = Some(format!(
            "no complete {} since the mapping's first log line: nothing to judge yet",
            period.noun()
        ));
        return report;
    }
    let Some(baseline) = baseline(&history, settings) else {
        report.note = Some(format!(
            "no complete {} before {} in the log: pass --baseline N to judge without history",
            period.noun(),
            judged.period
        ));
        return report;
    };
    report.alerts = alerts(&report.mapping, &judged, &baseline, settings, &report);
    report.baseline = Some(baseline);
    report
}

/// The mapping's versions, oldest first.
fn versions_by_first_use(versions: BTreeMap<String, DateTime<Utc>>) -> Vec<MappingVersion> {
    let mut by_time: Vec<(DateTime<Utc>, String)> =
        versions.into_iter().map(|(h, at)| (at, h)).collect();
    by_time.sort();
    by_time
        .into_iter()
        .map(|(at, sha256)| MappingVersion {
            sha256,
            first_seen: at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        })
        .collect()
}

fn baseline(history: &[Bucket], settings: &Settings) -> Option<BaselineUsed> {
    let handled: u64 = history.iter().map(|b| b.written + b.rejected).sum();
    let rejected: u64 = history.iter().map(|b| b.rejected).sum();
    let reject_rate = (handled > 0).then(|| rejected as f64 / handled as f64);
    let noun = settings.period.noun();
    let (written, method) = match settings.baseline {
        Baseline::Fixed(n) => (n, "--baseline".to_string()),
        Baseline::MedianOf(_) => {
            let (first, last) = (history.first()?, history.last()?);
            let mut counts: Vec<u64> = history.iter().map(|b| b.written).collect();
            counts.sort_unstable();
            let middle = counts.len() / 2;
            let median = if counts.len() % 2 == 1 {
                counts[middle] as f64
            } else {
                (counts[middle - 1] + counts[middle]) as f64 / 2.0
            };
            let span = if history.len() == 1 {
                first.period.clone()
            } else {
                format!("{}..{}", first.period, last.period)
            };
            let plural = if history.len() == 1 { "" } else { "s" };
            (
                median,
                format!("median of {} {noun}{plural}, {span}", history.len()),
            )
        }
    };
    Some(BaselineUsed {
        written,
        method,
        reject_rate,
    })
}

fn alerts(
    mapping: &str,
    judged: &Bucket,
    baseline: &BaselineUsed,
    settings: &Settings,
    report: &MappingReport,
) -> Vec<Alert> {
    let mut alerts = Vec::new();
    let noun = settings.period.noun();
    let floor = baseline.written * (1.0 - settings.max_drop_percent / 100.0);
    let written = judged.written as f64;
    if baseline.written > 0.0 && written < floor {
        let drop = (baseline.written - written) / baseline.written * 100.0;
        let last = match &report.last_written {
            Some(LastWritten { ts, deal_id }) => format!(
                " The last project in the log was written at {ts}{}.",
                deal_id
                    .as_ref()
                    .map(|d| format!(" (deal {d})"))
                    .unwrap_or_default()
            ),
            None => String::new(),
        };
        alerts.push(Alert {
            kind: "drop",
            message: format!(
                "{mapping}: {noun} {} ({}..{}) wrote {} project{}, {:.0}% below the baseline of {} ({}); the alarm is set at {:.0}% below. Check that the trigger stage and the fields it reads still exist in the CRM, and that apply still runs.{last}",
                judged.period,
                judged.start,
                judged.end,
                judged.written,
                if judged.written == 1 { "" } else { "s" },
                drop,
                format_count(baseline.written),
                baseline.method,
                settings.max_drop_percent,
            ),
        });
    }
    let handled = judged.written + judged.rejected;
    if let (Some(rate), Some(before)) = (judged.reject_rate(), baseline.reject_rate)
        && handled >= settings.min_deals_for_rate
        && (rate - before) * 100.0 > settings.max_reject_jump
    {
        alerts.push(Alert {
            kind: "reject-rate",
            message: format!(
                "{mapping}: {noun} {} rejected {} of {} deals ({:.0}%), up from {:.0}% before; the alarm is set at a rise of {} points. Look at the rejects for a field the CRM stopped filling.",
                judged.period,
                judged.rejected,
                handled,
                rate * 100.0,
                before * 100.0,
                format_count(settings.max_reject_jump),
            ),
        });
    }
    alerts
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
mod tests {
    use super::*;

    fn settings(now: &str) -> Settings {
        Settings {
            period: Period::Week,
            baseline: Baseline::MedianOf(8),
            rate_history: 8,
            max_drop_percent: 50.0,
            max_reject_jump: 20.0,
            min_deals_for_rate: 5,
            now: parse_now(now).unwrap(),
            mapping: None,
        }
    }

    fn line(ts: &str, deal: usize, outcome: &str) -> String {
        format!(
            r#"{{"ts":"{ts}","mapping":"m","mapping_sha256":"x","run":"r","deal_id":"{deal}","outcome":"{outcome}","codes":[],"file":"f"}}"#
        )
    }

    /// 8 weeks of 20 projects from Monday 2026-09-21 (2026-W39), then nothing.
    fn steady_then_silent() -> String {
        let mut log = String::new();
        let mut deal = 0;
        for week in 0..8u64 {
            let day = NaiveDate::from_ymd_opt(2026, 9, 21)
                .unwrap()
                .checked_add_days(Days::new(week * 7 + 2))
                .unwrap();
            for _ in 0..20 {
                deal += 1;
                log.push_str(&line(&format!("{day}T10:00:00Z"), deal, "written"));
                log.push('\n');
            }
        }
        log
    }

    #[test]
    fn a_week_of_nothing_after_eight_steady_weeks_is_a_drop() {
        let report = analyse(steady_then_silent().as_bytes(), &settings("2026-11-26")).unwrap();
        let m = &report.mappings[0];
        assert_eq!(m.judged.period, "2026-W47");
        assert_eq!(m.judged.written, 0);
        let baseline = m.baseline.as_ref().unwrap();
        assert_eq!(baseline.written, 20.0);
        assert_eq!(baseline.method, "median of 8 weeks, 2026-W39..2026-W46");
        assert_eq!(m.alerts.len(), 1);
        assert!(
            m.alerts[0]
                .message
                .contains("week 2026-W47 (2026-11-16..2026-11-22) wrote 0 projects, 100% below"),
            "{}",
            m.alerts[0].message
        );
    }

    #[test]
    fn a_normal_week_raises_nothing_and_reruns_count_once() {
        let mut log = steady_then_silent();
        log.push_str(&steady_then_silent());
        let report = analyse(log.as_bytes(), &settings("2026-11-18")).unwrap();
        let m = &report.mappings[0];
        assert_eq!(m.judged.period, "2026-W46");
        assert_eq!(m.judged.written, 20);
        assert!(m.alerts.is_empty());
    }

    #[test]
    fn a_jump_in_rejections_is_an_alert() {
        let mut log = steady_then_silent();
        for deal in 0..10 {
            if deal < 5 {
                log.push_str(&line("2026-11-17T10:00:00Z", 1000 + deal, "written"));
                log.push('\n');
            }
            log.push_str(&line("2026-11-17T10:00:00Z", 2000 + deal, "rejected"));
            log.push('\n');
        }
        let report = analyse(log.as_bytes(), &settings("2026-11-26")).unwrap();
        let kinds: Vec<_> = report.mappings[0].alerts.iter().map(|a| a.kind).collect();
        assert_eq!(kinds, ["drop", "reject-rate"]);
    }

    #[test]
    fn malformed_and_unfinished_lines_are_counted_not_fatal() {
        let mut log = steady_then_silent();
        log.push_str("not json\n{\"ts\":");
        let report = analyse(log.as_bytes(), &settings("2026-11-26")).unwrap();
        assert_eq!(report.malformed, 1);
        assert_eq!(report.malformed_lines, [161]);
        assert!(report.unfinished_last_line);
    }

    #[test]
    fn without_history_nothing_is_judged_unless_a_baseline_is_given() {
        let log = line("2026-11-17T10:00:00Z", 1, "written") + "\n";
        let report = analyse(log.as_bytes(), &settings("2026-11-26")).unwrap();
        assert!(report.mappings[0].note.is_some());
        assert!(!report.has_alerts());
        let fixed = Settings {
            baseline: Baseline::Fixed(10.0),
            ..settings("2026-11-26")
        };
        let report = analyse(log.as_bytes(), &fixed).unwrap();
        assert!(report.has_alerts());
    }

    #[test]
    fn a_fixed_baseline_still_judges_the_rejection_rate_and_reruns_count_once() {
        let mut log = steady_then_silent();
        for _ in 0..5 {
            for deal in 0..20 {
                log.push_str(&line("2026-11-17T10:00:00Z", 5000 + deal, "written"));
                log.push('\n');
            }
            log.push_str(&line("2026-11-17T10:00:00Z", 9999, "rejected"));
            log.push('\n');
        }
        let fixed = Settings {
            baseline: Baseline::Fixed(20.0),
            ..settings("2026-11-26")
        };
        let report = analyse(log.as_bytes(), &fixed).unwrap();
        let m = &report.mappings[0];
        assert_eq!((m.judged.written, m.judged.rejected), (20, 1));
        assert!(m.baseline.as_ref().unwrap().reject_rate.is_some());
        assert!(m.alerts.is_empty(), "{:?}", m.alerts);
        for deal in 0..10 {
            log.push_str(&line("2026-11-18T10:00:00Z", 7000 + deal, "rejected"));
            log.push('\n');
        }
        let report = analyse(log.as_bytes(), &fixed).unwrap();
        let kinds: Vec<_> = report.mappings[0].alerts.iter().map(|a| a.kind).collect();
        assert_eq!(kinds, ["reject-rate"]);
    }

    #[test]
    fn sync_back_lines_are_not_projects_and_mapping_versions_are_listed() {
        let mut log = steady_then_silent();
        let back = line("2026-11-17T10:00:00Z", 7, "written")
            .replace("\"outcome\"", "\"direction\":\"back\",\"outcome\"");
        log.push_str(&back);
        log.push('\n');
        log.push_str(&line("2026-11-24T10:00:00Z", 8, "written").replace("\"x\"", "\"y\""));
        log.push('\n');
        let report = analyse(log.as_bytes(), &settings("2026-11-26")).unwrap();
        let m = &report.mappings[0];
        assert_eq!(m.judged.written, 0);
        assert_eq!(m.current.written, 1);
        let hashes: Vec<&str> = m.versions.iter().map(|v| v.sha256.as_str()).collect();
        assert_eq!(hashes, ["x", "y"]);
        assert_eq!(m.versions[1].first_seen, "2026-11-24T10:00:00Z");
    }

    #[test]
    fn iso_weeks_start_on_monday() {
        let sunday = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        let start = Period::Week.start_of(sunday);
        assert_eq!(start, NaiveDate::from_ymd_opt(2026, 11, 23).unwrap());
        assert_eq!(Period::Week.label(start), "2026-W48");
        let new_year = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
        assert_eq!(
            Period::Week.label(Period::Week.start_of(new_year)),
            "2026-W53"
        );
    }
}
