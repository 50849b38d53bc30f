//! The entry point for deals read from input: raw JSON text goes through the streaming reader
//! (validate while reading, keep only planned fields) when every source schema compiled to the
//! fast validator; everything else is parsed whole and validated with `jsonschema`.

use serde_json::Value;

use super::clients::ClientDirectory;
use super::outcome::{Outcome, Phase, Reason};
use super::run::Runner;
use crate::diag::Code;
use crate::io::input::Payload;
use crate::reader::ProjectError;

impl Runner {
    /// Runs one input item forward (or back) and returns the deal's id with its outcome.
    pub fn run_payload(
        &self,
        payload: Payload<'_>,
        clients: Option<&mut ClientDirectory>,
        back: bool,
    ) -> (Option<String>, Outcome) {
        let text = match payload {
            Payload::Parsed(value) => return self.run_value(&value, clients, back),
            Payload::Text(text) => text,
        };
        if back || !self.reader.reads_text() {
            return self.run_strict(text, clients, back);
        }
        match self.reader.project(text) {
            Ok(projected) if projected.ambiguous => {
                // The strict parser says which ambiguity comes first and whether a repeated
                // key's values differ (the reader skipped values nobody reads).
                self.run_strict(text, clients, back)
            }
            Ok(projected) => {
                let deal_id = self.deal_id(&projected.value);
                if projected.failures.is_empty() {
                    let outcome = self.run_validated(&projected.value, &projected.slots, clients);
                    // The reader keeps every never-transfer field (the plan holds them), so a
                    // rejection's messages can withhold their values without a second read.
                    let outcome =
                        self.withhold_protected(&projected.value, &projected.slots, outcome);
                    self.reader.recycle(projected);
                    return (deal_id, outcome);
                }
                if !self.program.never_transfer.is_empty() {
                    // Only fields the mapping reads were kept: read the whole deal, so that the
                    // never-transfer values can be withheld from the messages.
                    return self.run_strict(text, clients, back);
                }
                let reasons = projected
                    .failures
                    .into_iter()
                    .map(|(record, failure)| {
                        let field = format!(
                            "{}{}",
                            self.program.sources[record].name,
                            super::outcome::dotted(&failure.pointer)
                        );
                        Reason {
                            code: Code::M502,
                            message: format!("`{field}` {}", failure.message),
                            field: Some(field),
                            value: None,
                            rule: None,
                        }
                    })
                    .collect();
                (
                    deal_id,
                    Outcome::Rejected {
                        phase: Phase::ValidateSource,
                        reasons,
                    },
                )
            }
            Err(ProjectError::Json(error)) => (None, invalid_json(&error)),
            Err(ProjectError::Unusual) => self.run_strict(text, clients, back),
        }
    }

    /// Parses the whole deal strictly (no duplicate keys, no inexact numbers) and runs it.
    fn run_strict(
        &self,
        text: &[u8],
        clients: Option<&mut ClientDirectory>,
        back: bool,
    ) -> (Option<String>, Outcome) {
        match crate::io::strict::parse(text) {
            Ok(value) => self.run_value(&value, clients, back),
            Err(crate::io::strict::StrictError::Json(error)) => (None, invalid_json(&error)),
            Err(crate::io::strict::StrictError::Ambiguous(reason)) => (None, ambiguous(reason)),
        }
    }

    fn run_value(
        &self,
        value: &Value,
        clients: Option<&mut ClientDirectory>,
        back: bool,
    ) -> (Option<String>, Outcome) {
        let deal_id = self.deal_id(value);
        let outcome = if back {
            self.run_back(value)
        } else {
            self.run(value, clients)
        };
        (deal_id, outcome)
    }
}

fn invalid_json(error: &serde_json::Error) -> Outcome {
    Outcome::Rejected {
        phase: Phase::Parse,
        reasons: vec![Reason::new(Code::M501, format!("not valid JSON ({error})"))],
    }
}

fn ambiguous(reason: String) -> Outcome {
    Outcome::Rejected {
        phase: Phase::Parse,
        reasons: vec![Reason::new(Code::M512, format!("ambiguous JSON: {reason}"))],
    }
}
