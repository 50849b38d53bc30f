//! Tests of the monitor's analysis and verdicts.

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
