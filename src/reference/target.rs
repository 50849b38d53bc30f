//! The target record's last phases: the client match (an existing client's id written where
//! the mapping says, an ambiguous match refused, a new client left to the caller) and validation
//! against the PSA schema, each violation pointed back to the rule that wrote the field.

use serde_json::Value;

use super::Interpreter;
use super::exprs::{Trees, eval, first_path};
use super::outcome::{Outcome, Reason};
use super::phases::{Phase, dotted, failure_reason};
use super::records::put;
use crate::diag::Code;
use crate::eval::{ClientDirectory, ClientOutcome};
use crate::schema::validate::Violation;
use crate::schema::violations::violations;

impl Interpreter {
    /// Matches the deal's company against the PSA's clients.
    pub(super) fn match_client(
        &self,
        sources: &[Option<&Value>],
        record: &mut Value,
        clients: Option<&mut ClientDirectory>,
        input: &Value,
    ) -> Phase<Option<ClientOutcome>> {
        let (Some(rule), Some(directory)) = (&self.program.client, clients) else {
            return Ok(None);
        };
        let trees = Trees {
            sources,
            target: record,
        };
        let reject = |reason| Err(Outcome::rejected("client", vec![reason]));
        let field = first_path(&rule.name).map(|p| p.display.clone());
        let name = match eval(&rule.name, &trees, &self.program.tables) {
            Ok(value) => value.as_str().map(str::to_string),
            Err(failure) => return reject(failure_reason(&failure, Some(&rule.origin))),
        };
        let Some(name) = name.filter(|n| !n.trim().is_empty()) else {
            return reject(Reason {
                field,
                rule: Some(rule.origin.clone()),
                ..Reason::new(
                    Code::M504,
                    "the deal has no company name to match against the PSA's clients",
                )
            });
        };
        let outcome = directory.resolve(&name, &self.deal_id(input).unwrap_or_default());
        match &outcome {
            ClientOutcome::Existing(found) => {
                let id = match (&found.id, rule.integer_id) {
                    (Value::String(s), true) => s
                        .trim()
                        .parse::<i64>()
                        .map_or(found.id.clone(), Value::from),
                    (Value::Number(n), false) => Value::String(n.to_string()),
                    (other, _) => other.clone(),
                };
                put(record, &rule.target, id);
            }
            ClientOutcome::Ambiguous(candidates) => {
                let names: Vec<String> = candidates
                    .iter()
                    .map(|c| format!("{} (id {})", c.name, c.id))
                    .collect();
                return reject(Reason {
                    code: Code::M508,
                    message: format!(
                        "\"{name}\" matches {} existing clients: {}; choose one in the PSA (merge the duplicates) and run again",
                        candidates.len(),
                        names.join(", ")
                    ),
                    field,
                    value: Some(Value::from(name.clone()).to_string()),
                    rule: Some(rule.origin.clone()),
                });
            }
            ClientOutcome::New { .. } => {}
        }
        Ok(Some(outcome))
    }

    /// Validates the record. A new client's missing id is no violation when the caller creates
    /// clients (`allow_new_clients`); when it is the only one and they do not, it is M511.
    pub(super) fn validate_target(
        &self,
        record: &Value,
        client: Option<&ClientOutcome>,
        branches: &[(usize, usize)],
    ) -> Phase<()> {
        let mut found = violations(&self.target, record);
        if let (Some(ClientOutcome::New { name, .. }), Some(rule)) = (client, &self.program.client)
        {
            let before = found.len();
            found.retain(|v| v.missing.as_ref() != Some(&rule.target));
            if found.is_empty() && before > 0 && !self.allow_new_clients {
                let message = format!(
                    "no existing client matches \"{name}\" and `{}` is required: create the client in the PSA first, or run with --envelope to receive records for new clients",
                    rule.display
                );
                return Err(Outcome::rejected(
                    "client",
                    vec![Reason {
                        field: first_path(&rule.name).map(|p| p.display.clone()),
                        value: Some(Value::from(name.clone()).to_string()),
                        rule: Some(rule.origin.clone()),
                        ..Reason::new(Code::M511, message)
                    }],
                ));
            }
        }
        match found.is_empty() {
            true => Ok(()),
            false => Err(Outcome::rejected(
                "validate-target",
                found.iter().map(|v| self.explain(v, branches)).collect(),
            )),
        }
    }

    /// A target violation as a reason naming the rule that wrote the field (for a select, the
    /// branch taken).
    fn explain(&self, violation: &Violation, branches: &[(usize, usize)]) -> Reason {
        let fields = crate::schema::locate::pointer_segments(&violation.pointer);
        let field = format!("{}{}", self.program.target_name, dotted(&violation.pointer));
        Reason {
            message: format!("`{field}` {}", violation.message),
            field: Some(field),
            rule: self.program.rule_for_field(&fields, branches),
            ..Reason::new(Code::M507, "")
        }
    }
}
