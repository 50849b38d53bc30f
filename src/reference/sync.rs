//! `sync back`: the CRM fields a PSA record's values flow into, as a patch holding those
//! fields only.

use serde_json::{Map, Value};

use super::Interpreter;
use super::exprs::{Trees, eval};
use super::outcome::{Outcome, Reason};
use super::phases::{failure_reason, kind_name};
use super::records::put_at_steps;
use crate::diag::Code;

impl Interpreter {
    /// Runs the `sync back` rules on a PSA record.
    pub(super) fn back(&self, project: &Value) -> Outcome {
        if !project.is_object() {
            let message = format!("the input is {}, not a JSON object", kind_name(project));
            return Outcome::rejected("parse", vec![Reason::new(Code::M509, message)]);
        }
        let trees = Trees {
            sources: &[],
            target: project,
        };
        let mut patch = Value::Object(Map::new());
        let mut failures = Vec::new();
        for write in &self.program.sync_back {
            match eval(&write.value, &trees, &self.program.tables) {
                Ok(value) if value.is_absent() => {}
                Ok(value) => put_at_steps(&mut patch, &write.target, value.into_json()),
                Err(failure) => failures.push(failure_reason(&failure, Some(&write.origin))),
            }
        }
        if !failures.is_empty() {
            return Outcome::rejected("map", failures);
        }
        if patch.as_object().is_some_and(Map::is_empty) {
            return Outcome::Skipped(Reason::new(
                Code::M503,
                "no sync back field has a value in this record",
            ));
        }
        Outcome::Written {
            record: serde_json::to_string(&patch).unwrap_or_default(),
            template: None,
            client: None,
            branches: Vec::new(),
        }
    }
}
