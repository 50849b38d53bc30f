//! How a deal ends in the reference interpreter, as plain data that can be compared: the record
//! as the exact text `serde_json` writes for it, every reason with its code, message, field,
//! value and rule. [`from_fast`] states the fast engine's outcome in the same terms, so the law
//! test compares the two field by field.

use serde_json::Value;

use crate::check::program::Origin;
use crate::diag::Code;
use crate::eval::ClientOutcome;

/// One reason a deal was rejected or skipped.
#[derive(Debug, Clone, PartialEq)]
pub struct Reason {
    /// The code (M5xx).
    pub code: Code,
    /// What is wrong, for people.
    pub message: String,
    /// The field concerned.
    pub field: Option<String>,
    /// Its value, described.
    pub value: Option<String>,
    /// The mapping rule concerned.
    pub rule: Option<Origin>,
}

impl Reason {
    /// A reason with only a code and a message.
    pub fn new(code: Code, message: impl Into<String>) -> Reason {
        Reason {
            code,
            message: message.into(),
            field: None,
            value: None,
            rule: None,
        }
    }
}

/// How a deal ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A record for the PSA.
    Written {
        /// The record as compact JSON, exactly as `serde_json::to_vec` writes its tree.
        record: String,
        /// The value of the first select's field (the template), if any.
        template: Option<Value>,
        /// What client matching decided, if the mapping matches clients.
        client: Option<ClientOutcome>,
        /// The select branches taken: (index into the program's writes, branch; `otherwise` is
        /// the number of `when` branches).
        branches: Vec<(usize, usize)>,
    },
    /// Not handed off.
    Skipped(Reason),
    /// Refused, with every reason found.
    Rejected {
        /// Where processing stopped, as rejects files name it (`parse`, `validate-source` ...).
        phase: &'static str,
        /// Why, in the order found.
        reasons: Vec<Reason>,
    },
}

impl Outcome {
    /// A rejection in `phase`.
    pub fn rejected(phase: &'static str, reasons: Vec<Reason>) -> Outcome {
        Outcome::Rejected { phase, reasons }
    }
}

/// The fast engine's outcome in the reference's terms (its record written out as compact JSON).
pub fn from_fast(outcome: &crate::eval::Outcome) -> Outcome {
    use crate::eval::Outcome as Fast;
    let reason = |r: &crate::eval::Reason| Reason {
        code: r.code,
        message: r.message.clone(),
        field: r.field.clone(),
        value: r.value.clone(),
        rule: r.rule.clone(),
    };
    match outcome {
        Fast::Written {
            record,
            template,
            client,
            branches,
        } => {
            let mut bytes = Vec::new();
            record.write_compact(&mut bytes);
            Outcome::Written {
                record: String::from_utf8_lossy(&bytes).into_owned(),
                template: template.clone(),
                client: client.clone(),
                branches: branches.clone(),
            }
        }
        Fast::Skipped(r) => Outcome::Skipped(reason(r)),
        Fast::Rejected { phase, reasons } => Outcome::Rejected {
            phase: phase.as_str(),
            reasons: reasons.iter().map(reason).collect(),
        },
    }
}
