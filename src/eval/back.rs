//! `sync back`: the CRM fields a PSA record may change, and nothing else.

use serde_json::Value;

use super::expr::eval;
use super::outcome::{Outcome, Phase, Reason, failure_reason, kind_name, rejected};
use super::read::{Records, Target, write_at_steps};
use super::record::Record;
use super::run::Runner;
use crate::diag::Code;

impl Runner {
    /// Runs the `sync back` rules on a PSA record: the CRM fields they allow, nothing else.
    pub fn run_back(&self, project: &Value) -> Outcome {
        if !project.is_object() {
            return rejected(
                Phase::Parse,
                vec![Reason::new(
                    Code::M509,
                    format!("the input is {}, not a JSON object", kind_name(project)),
                )],
            );
        }
        let records = Records::by_name(&[], Target::Json(project));
        let mut patch = Value::Object(serde_json::Map::new());
        let mut reasons = Vec::new();
        for write in &self.program.sync_back {
            match eval(&write.value, &records, &self.program.tables) {
                Ok(value) if value.is_absent() => {}
                Ok(value) => {
                    write_at_steps(&mut patch, &write.target, value.into_json());
                }
                Err(error) => reasons.push(failure_reason(&error, Some(&write.origin))),
            }
        }
        if !reasons.is_empty() {
            return rejected(Phase::Map, reasons);
        }
        if patch.as_object().is_some_and(serde_json::Map::is_empty) {
            return Outcome::Skipped(Reason::new(
                Code::M503,
                "no sync back field has a value in this record",
            ));
        }
        Outcome::Written {
            record: Record::from(patch),
            template: None,
            client: None,
            branches: Vec::new(),
        }
    }
}
