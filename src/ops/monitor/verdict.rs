//! The monitor's verdict on one mapping's series: the baseline it is judged against (median of
//! earlier periods), and the alerts (drop in projects created, rejection rate up).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::{
    Alert, Baseline, BaselineUsed, Bucket, LastWritten, MappingReport, MappingVersion, Series,
    Settings, Window, bucket, format_count,
};

pub(super) fn judge(
    name: String,
    series: Series,
    settings: &Settings,
    window: &Window,
) -> MappingReport {
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
