//! Feeding the run log (`mapctl monitor` reads it) from the ledger: every deal that reached a
//! final state (delivered = `written`, `rejected`, `skipped`) since the log last heard of it gets
//! one line, so a deal counts once however many runs see it. Lines are appended (under the log's
//! lock) before the ledger notes them as logged: a crash in between repeats a few lines rather
//! than losing them.

use std::path::Path;

use serde_json::Value;

use crate::ledger::{DealRow, Ledger, State};
use crate::ops::runlog::{LogLine, RunLog, now_rfc3339};

/// Appends the ledger's unlogged outcomes to the run log at `path`; returns how many.
pub fn append(ledger: &mut Ledger, path: &Path, mapping_text: &str) -> Result<usize, String> {
    let rows = ledger.unlogged().map_err(|e| e.to_string())?;
    if rows.is_empty() {
        return Ok(0);
    }
    let name = ledger.mapping().to_string();
    let mut log = RunLog::open(path, &name, mapping_text)
        .map_err(|e| format!("cannot write the run log `{}`: {e}", path.display()))?;
    let ts = now_rfc3339();
    for row in &rows {
        let line = line_for(row, &log, &ts);
        log.record(&line)
            .map_err(|e| format!("cannot write the run log `{}`: {e}", path.display()))?;
    }
    let count = log
        .commit()
        .map_err(|e| format!("cannot write the run log `{}`: {e}", path.display()))?;
    let ids: Vec<String> = rows.into_iter().map(|r| r.deal_id).collect();
    ledger.mark_logged(&ids).map_err(|e| e.to_string())?;
    Ok(count)
}

fn line_for(row: &DealRow, log: &RunLog, ts: &str) -> LogLine {
    let outcome = match row.state {
        State::Delivered => "written",
        State::Skipped => "skipped",
        _ => "rejected",
    };
    let (file, line, index) = position(&row.source);
    LogLine {
        ts: ts.to_string(),
        mapping: log.mapping.clone(),
        mapping_sha256: log.mapping_sha256.clone(),
        run: log.run.clone(),
        deal_id: (!row.deal_id.starts_with('@')).then(|| row.deal_id.clone()),
        outcome: outcome.to_string(),
        direction: None,
        template: row.template.clone().map(Value::String),
        codes: row.reasons.iter().map(|r| r.code.clone()).collect(),
        file,
        line,
        index,
    }
}

/// Splits `deals.ndjson:12` or `deals.json[3]` into file, line and index.
fn position(source: &str) -> (String, Option<usize>, Option<usize>) {
    if let Some(open) = source.rfind('[').filter(|_| source.ends_with(']'))
        && let Ok(index) = source[open + 1..source.len() - 1].parse()
    {
        return (source[..open].to_string(), None, Some(index));
    }
    if let Some((file, line)) = source.rsplit_once(':')
        && let Ok(line) = line.parse()
    {
        return (file.to_string(), Some(line), None);
    }
    (source.to_string(), None, None)
}

#[cfg(test)]
mod tests {
    #[test]
    fn positions_split_into_file_line_and_index() {
        assert_eq!(
            super::position("a/deals.ndjson:12"),
            ("a/deals.ndjson".into(), Some(12), None)
        );
        assert_eq!(
            super::position("deals.json[3]"),
            ("deals.json".into(), None, Some(3))
        );
        assert_eq!(super::position("hubspot"), ("hubspot".into(), None, None));
    }
}
