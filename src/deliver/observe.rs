//! What the mapping made of a deal, in the ledger's terms: a record to deliver (compact JSON),
//! or the reasons it is skipped or rejected. A deal without an id cannot be delivered exactly
//! once (nothing would tell its next copy from a new deal), so it is rejected (M513) and kept in
//! the ledger under its position in the input, as are inputs that are not deals at all.

use crate::diag::Code;
use crate::engine::{Applied, Outcome, Reason};
use crate::ledger::{Observation, Observed, StoredReason};

/// The ledger's reason for an engine's.
pub fn stored(reason: &Reason) -> StoredReason {
    StoredReason {
        code: reason.code.as_str().to_string(),
        message: reason.message.clone(),
        field: reason.field.clone(),
        value: reason.value.clone(),
        rule: reason
            .rule
            .as_ref()
            .map(|r| format!("line {}: {}", r.line, r.text)),
    }
}

/// The ledger entry for one applied deal read at `origin`.
pub fn observe(applied: Applied, origin: &str, version: Option<String>) -> Observed {
    let Some(deal_id) = applied.deal_id else {
        let outcome = match applied.outcome {
            Outcome::Rejected { phase, reasons } => Observation::Rejected {
                phase: phase.as_str().to_string(),
                reasons: reasons.iter().map(stored).collect(),
            },
            Outcome::Skipped(reason) => Observation::Skipped(vec![stored(&reason)]),
            Outcome::Written { .. } => Observation::Rejected {
                phase: "deliver".into(),
                reasons: vec![StoredReason::new(
                    Code::M513.as_str(),
                    "the deal has no `id`, so its next copy could not be told from a new deal; it is not delivered",
                )],
            },
        };
        return Observed {
            deal_id: format!("@{origin}"),
            source: origin.to_string(),
            version,
            outcome,
        };
    };
    let outcome = match applied.outcome {
        Outcome::Written {
            record,
            template,
            client,
            ..
        } => {
            let mut bytes = Vec::with_capacity(256);
            record.write_compact(&mut bytes);
            Observation::Record {
                record: bytes,
                template: template.map(|t| match t {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                }),
                client: client.map(|c| c.to_json().to_string()),
            }
        }
        Outcome::Skipped(reason) => Observation::Skipped(vec![stored(&reason)]),
        Outcome::Rejected { phase, reasons } => Observation::Rejected {
            phase: phase.as_str().to_string(),
            reasons: reasons.iter().map(stored).collect(),
        },
    };
    Observed {
        deal_id,
        source: origin.to_string(),
        version,
        outcome,
    }
}
