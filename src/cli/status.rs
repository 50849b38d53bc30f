//! `mapctl status MAPPING`: what the ledger knows — deals by state, the oldest pending deal,
//! every failed and rejected deal with its reasons, delivered deals whose CRM record changed
//! since (field by field), the requests made, the vendor API calls per delivered deal (by
//! vendor and purpose) and sync back. `--deal ID` shows one deal, its attempts and its calls.
//! Exit codes: 0 nothing failed or pending, 1 something did, 2 could not run.

use clap::Args;
use serde_json::{Value, json};

use super::ledger_args::LedgerArgs;
use super::{EXIT_CANNOT_RUN, EXIT_OK, EXIT_PROBLEMS, ReportFormat};
use crate::ledger::{CallSummary, DealRow, Ledger, State, Summary, now_ms};
use crate::ops::compare::changes;

/// Arguments of `mapctl status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The mapping and its ledger.
    #[command(flatten)]
    pub ledger: LedgerArgs,
    /// Show one deal: its state, ids, reasons and every attempt.
    #[arg(long, value_name = "ID")]
    pub deal: Option<String>,
    /// The report's format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    pub format: ReportFormat,
}

/// Runs `mapctl status`.
pub fn run(args: &StatusArgs) -> u8 {
    let ledger = match args.ledger.open() {
        Ok(ledger) => ledger,
        Err(message) => {
            errln!("error: {message}");
            return EXIT_CANNOT_RUN;
        }
    };
    let result = match &args.deal {
        Some(id) => one_deal(&ledger, id, args.format),
        None => overview(&ledger, args.format),
    };
    result.unwrap_or_else(|message| {
        errln!("error: {message}");
        EXIT_CANNOT_RUN
    })
}

fn overview(ledger: &Ledger, format: ReportFormat) -> Result<u8, String> {
    let summary = ledger.summary().map_err(|e| e.to_string())?;
    let calls = ledger.call_summary().map_err(|e| e.to_string())?;
    match format {
        ReportFormat::Json => {
            let mut value = overview_json(ledger, &summary);
            value["api_calls"] = calls_json(&calls);
            outln!("{value}");
        }
        ReportFormat::Human => {
            print_overview(ledger, &summary);
            print_calls(&calls);
        }
    }
    let count = |s: State| summary.counts.get(&s).copied().unwrap_or(0);
    let unsettled = count(State::Failed) + count(State::Pending) + count(State::InFlight);
    Ok(if unsettled > 0 {
        EXIT_PROBLEMS
    } else {
        EXIT_OK
    })
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

fn deal_json(row: &DealRow) -> Value {
    let mut value = json!({
        "deal_id": row.deal_id,
        "state": row.state.as_str(),
        "source": row.source,
        "source_version": row.source_version,
        "project_id": row.project_id,
        "client_id": row.client_id,
        "attempts": row.attempts,
        "uncertain": row.uncertain,
        "first_seen": rfc3339(row.first_seen),
        "updated_at": rfc3339(row.updated_at),
    });
    if !row.reasons.is_empty() {
        value["phase"] = json!(row.phase);
        value["reasons"] = serde_json::to_value(&row.reasons).unwrap_or(Value::Null);
    }
    if let Some(template) = &row.template {
        value["template"] = json!(template);
    }
    if let Some(at) = row.delivered_at {
        value["delivered_at"] = json!(rfc3339(at));
    }
    if let Some(changes) = changed_fields(row) {
        value["changed_since_delivery"] = changes;
    }
    if row.state == State::Delivered {
        value["sync_state"] = json!(row.sync_state);
        if let Some(error) = &row.sync_error {
            value["sync_error"] = json!(error);
        }
    }
    value
}

/// Calls divided by the deals delivered, to two decimals.
fn per_deal(calls: u64, delivered: u64) -> Value {
    if delivered == 0 {
        return Value::Null;
    }
    json!((calls as f64 / delivered as f64 * 100.0).round() / 100.0)
}

/// The vendor API calls: in all, per delivered deal (their own and shared ones), by purpose.
fn calls_json(calls: &CallSummary) -> Value {
    let (own, other, shared) = calls.totals();
    let by_purpose: Vec<Value> = calls
        .by_purpose
        .iter()
        .map(|((vendor, purpose), (own, other, shared))| {
            json!({"vendor": vendor, "purpose": purpose, "for_delivered_deals": own,
                   "for_other_deals": other, "shared": shared})
        })
        .collect();
    json!({
        "total": own + other + shared,
        "delivered_deals": calls.delivered,
        "per_delivered_deal": per_deal(own + other + shared, calls.delivered),
        "own_per_delivered_deal": per_deal(own, calls.delivered),
        "shared": shared,
        "for_other_deals": other,
        "by_purpose": by_purpose,
    })
}

fn print_calls(calls: &CallSummary) {
    let (own, other, shared) = calls.totals();
    if own + other + shared == 0 {
        return;
    }
    let mut vendors: std::collections::BTreeMap<&str, u64> = std::collections::BTreeMap::new();
    for ((vendor, _), (a, b, c)) in &calls.by_purpose {
        *vendors.entry(vendor).or_default() += a + b + c;
    }
    let vendors: Vec<String> = vendors.iter().map(|(v, n)| format!("{v} {n}")).collect();
    errln!(
        "API calls: {} ({})",
        own + other + shared,
        vendors.join(", ")
    );
    if calls.delivered > 0 {
        let delivered = calls.delivered as f64;
        let own_parts: Vec<String> = calls
            .by_purpose
            .iter()
            .filter(|(_, (own, _, _))| *own > 0)
            .map(|((vendor, purpose), (own, _, _))| {
                format!("{vendor} {purpose} {:.2}", *own as f64 / delivered)
            })
            .collect();
        errln!(
            "  per delivered deal: {:.2} ({:.2} of its own: {}; {:.2} shared by polls and runs; {:.2} for deals not delivered)",
            (own + other + shared) as f64 / delivered,
            own as f64 / delivered,
            own_parts.join(", "),
            shared as f64 / delivered,
            other as f64 / delivered,
        );
    }
}

/// The fields a newer CRM record would change in the delivered one.
fn changed_fields(row: &DealRow) -> Option<Value> {
    let newer: Value = serde_json::from_slice(row.changed_record.as_deref()?).ok()?;
    let delivered: Value = serde_json::from_slice(row.record.as_deref()?).ok()?;
    serde_json::to_value(changes(&newer, &delivered, &[])).ok()
}

fn overview_json(ledger: &Ledger, summary: &Summary) -> Value {
    let counts: serde_json::Map<String, Value> = State::ALL
        .iter()
        .map(|s| {
            let n = summary.counts.get(s).copied().unwrap_or(0);
            (s.as_str().to_string(), json!(n))
        })
        .collect();
    let total: u64 = summary.counts.values().sum();
    let attempts: Vec<Value> = summary
        .attempts
        .iter()
        .map(|((kind, outcome), n)| json!({"kind": kind, "outcome": outcome, "count": n}))
        .collect();
    json!({
        "mapping": ledger.mapping(),
        "ledger": ledger.path().display().to_string(),
        "total": total,
        "counts": counts,
        "uncertain": summary.uncertain,
        "oldest_pending": summary.oldest_pending.as_ref().map(deal_json),
        "problems": summary.problems.iter().map(deal_json).collect::<Vec<_>>(),
        "changed": summary.changed.iter().map(deal_json).collect::<Vec<_>>(),
        "attempts": attempts,
        "mean_latency_ms": mean(summary.latency),
        "sync": summary.sync,
        "sync_failures": summary.sync_failures.iter().map(deal_json).collect::<Vec<_>>(),
        "inbox": summary.inbox,
    })
}

fn mean((total, count): (i64, u64)) -> Option<i64> {
    (count > 0).then(|| total / i64::try_from(count).unwrap_or(1))
}

fn print_overview(ledger: &Ledger, summary: &Summary) {
    errln!(
        "mapping {}, ledger {}",
        ledger.mapping(),
        ledger.path().display()
    );
    let total: u64 = summary.counts.values().sum();
    for state in State::ALL {
        let n = summary.counts.get(&state).copied().unwrap_or(0);
        errln!("  {:<10} {n:>8}", state.as_str());
    }
    errln!("  {:<10} {total:>8}", "total");
    if let Some(row) = &summary.oldest_pending {
        let wait = (row.next_attempt_at - now_ms()).max(0) / 1000;
        errln!(
            "oldest pending: {} ({}), first seen {}, {} attempts, next in {wait} s",
            row.deal_id,
            row.source,
            rfc3339(row.first_seen),
            row.attempts
        );
    }
    if summary.uncertain > 0 {
        errln!(
            "uncertain: {} (a write may have happened; the next attempt looks it up first)",
            summary.uncertain
        );
    }
    let requests: Vec<String> = summary
        .attempts
        .iter()
        .map(|((kind, outcome), n)| format!("{n} {kind} {outcome}"))
        .collect();
    if !requests.is_empty() {
        let latency = mean(summary.latency).map_or(String::new(), |m| format!("; mean {m} ms"));
        errln!("requests: {}{latency}", requests.join(", "));
    }
    for row in &summary.problems {
        let reasons: Vec<String> = row
            .reasons
            .iter()
            .map(|r| {
                let field = r
                    .field
                    .as_ref()
                    .map_or(String::new(), |f| format!(" [{f}]"));
                format!("{} {}{field}", r.code, r.message)
            })
            .collect();
        errln!(
            "{} {} ({}, {}): {}",
            row.state.as_str(),
            row.deal_id,
            row.source,
            row.phase.as_deref().unwrap_or("-"),
            reasons.join("; ")
        );
    }
    if !summary.sync.is_empty() {
        let states: Vec<String> = summary
            .sync
            .iter()
            .map(|(s, n)| format!("{n} {s}"))
            .collect();
        errln!("sync back of delivered deals: {}", states.join(", "));
    }
    for row in &summary.sync_failures {
        errln!(
            "sync back failed {} ({} tries): {}",
            row.deal_id,
            row.sync_attempts,
            row.sync_error.as_deref().unwrap_or("-")
        );
    }
    if summary.inbox > 0 {
        errln!(
            "webhook inbox: {} deals waiting to be fetched",
            summary.inbox
        );
    }
    for row in &summary.changed {
        errln!(
            "changed since delivery (not sent again): {} -> project {}",
            row.deal_id,
            row.project_id.as_deref().unwrap_or("?")
        );
        if let Some(Value::Array(fields)) = changed_fields(row) {
            for change in fields {
                errln!(
                    "  {}: {} -> {}",
                    change["field"].as_str().unwrap_or("?"),
                    change
                        .get("current")
                        .map_or("(absent)".to_string(), Value::to_string),
                    change["planned"]
                );
            }
        }
    }
}

fn one_deal(ledger: &Ledger, id: &str, format: ReportFormat) -> Result<u8, String> {
    let Some(row) = ledger.deal(id).map_err(|e| e.to_string())? else {
        errln!(
            "error: the ledger has no deal `{id}` for mapping {}",
            ledger.mapping()
        );
        return Ok(EXIT_PROBLEMS);
    };
    let attempts = ledger.attempts(id).map_err(|e| e.to_string())?;
    let attempts: Vec<Value> = attempts
        .iter()
        .map(|a| {
            json!({"kind": a.kind, "started_at": rfc3339(a.started_at), "outcome": a.outcome,
                   "status": a.status, "error": a.error, "latency_ms": a.latency_ms})
        })
        .collect();
    let calls: Vec<Value> = ledger
        .deal_calls(id)
        .map_err(|e| e.to_string())?
        .iter()
        .map(|c| json!({"vendor": c.vendor, "purpose": c.purpose, "calls": c.calls}))
        .collect();
    let mut value = deal_json(&row);
    value["attempt_log"] = Value::Array(attempts);
    value["api_calls"] = Value::Array(calls);
    match format {
        ReportFormat::Json => outln!("{value}"),
        ReportFormat::Human => {
            errln!(
                "{}",
                serde_json::to_string_pretty(&value).unwrap_or_default()
            );
        }
    }
    Ok(EXIT_OK)
}
