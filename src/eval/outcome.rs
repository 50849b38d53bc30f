//! How a deal ends: an [`Outcome`] (written, skipped, rejected), its [`Phase`] and [`Reason`]s.
//!
//! Every deal ends in exactly one outcome. A rejection lists every reason found in its phase,
//! each with its code, the field and value concerned, and the mapping rule responsible.

use serde_json::Value;

use super::clients::ClientOutcome;
use super::expr::EvalError;
use super::record::Record;
use crate::check::program::Origin;
use crate::diag::Code;

/// The stage of processing a deal was in when it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Reading the input.
    Parse,
    /// Finding related records.
    Join,
    /// Validating against the CRM schema.
    ValidateSource,
    /// Testing the trigger.
    Trigger,
    /// Checking `require at stage` rules.
    Require,
    /// Computing the target record.
    Map,
    /// Matching the client.
    Client,
    /// Validating against the PSA schema.
    ValidateTarget,
}

impl Phase {
    /// The phase's name in rejects files.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Parse => "parse",
            Phase::Join => "join",
            Phase::ValidateSource => "validate-source",
            Phase::Trigger => "trigger",
            Phase::Require => "require",
            Phase::Map => "map",
            Phase::Client => "client",
            Phase::ValidateTarget => "validate-target",
        }
    }
}

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
        /// The record.
        record: Record,
        /// The value of the first select's field (the template), if any.
        template: Option<Value>,
        /// What client matching decided, if the mapping matches clients.
        client: Option<ClientOutcome>,
        /// The select branches that fired: (index into `program.writes`, branch index; the
        /// `otherwise` branch is `arms.len()`).
        branches: Vec<(usize, usize)>,
    },
    /// Not handed off (not at a trigger stage).
    Skipped(Reason),
    /// Refused, with every reason found.
    Rejected {
        /// Where processing stopped.
        phase: Phase,
        /// Why.
        reasons: Vec<Reason>,
    },
}

pub(super) fn rejected(phase: Phase, reasons: Vec<Reason>) -> Outcome {
    Outcome::Rejected { phase, reasons }
}

pub(super) fn failure_reason(error: &EvalError, origin: Option<&Origin>) -> Reason {
    Reason {
        code: Code::M505,
        message: error.describe(),
        field: error.field.clone(),
        value: Some(error.value.clone()),
        rule: origin.cloned(),
    }
}

/// `/properties/amount` as `.properties.amount` (array indexes as `[0]`).
pub(super) fn dotted(pointer: &str) -> String {
    crate::schema::locate::pointer_segments(pointer)
        .iter()
        .map(|s| {
            if s.bytes().all(|b| b.is_ascii_digit()) && !s.is_empty() {
                format!("[{s}]")
            } else {
                format!(".{s}")
            }
        })
        .collect()
}

pub(super) fn kind_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
