//! The writes of one deal: each rule's value (maps and selects, coerced, never-transfer parts
//! stripped), the client match, and the target record's violations pointed back to the rules.

use serde_json::Value;

use super::clients::{ClientDirectory, ClientOutcome};
use super::expr::{eval, first_path, holds};
use super::outcome::{Outcome, Phase, Reason, dotted, failure_reason, rejected};
use super::read::{Records, Target, remove_at};
use super::record::{Held, Record};
use super::run::Runner;
use crate::check::program::{CExpr, Coercion, PathStep, Program, RecordRef, WriteKind};
use crate::diag::Code;
use crate::schema::validate::Violation;
use crate::transforms::table::mark;
use crate::value::Val;

impl Runner {
    /// The value a write produces (after coercion and never-transfer stripping).
    pub(super) fn write_value(
        &self,
        index: usize,
        kind: &WriteKind,
        records: &Records<'_>,
        branches: &mut Vec<(usize, usize)>,
    ) -> Result<Option<Value>, Reason> {
        let write = &self.program.writes[index];
        let tables = &self.program.tables;
        let (value, origin) = match kind {
            WriteKind::Map(expr) => (eval(expr, records, tables), &write.origin),
            WriteKind::Select { arms, otherwise } => {
                let mut chosen = None;
                let taken = &self.coverage.branches[index];
                for (arm, (condition, value, origin)) in arms.iter().enumerate() {
                    match holds(condition, records, tables) {
                        Ok(true) => {
                            mark(&taken[arm]);
                            branches.push((index, arm));
                            chosen = Some((eval(value, records, tables), origin));
                            break;
                        }
                        Ok(false) => {}
                        Err(error) => return Err(failure_reason(&error, Some(origin))),
                    }
                }
                match (chosen, otherwise) {
                    (Some(found), _) => found,
                    (None, Some((value, origin))) => {
                        branches.push((index, arms.len()));
                        if let Some(flag) = taken.last() {
                            mark(flag);
                        }
                        (eval(value, records, tables), origin)
                    }
                    (None, None) => return Ok(None),
                }
            }
        };
        let value = value.map_err(|error| failure_reason(&error, Some(origin)))?;
        if value.is_absent() {
            return Ok(None);
        }
        let mut json = coerce(value, write.coerce).into_json();
        for remainder in &self.strips[index] {
            remove_at(&mut json, remainder);
        }
        Ok(Some(json))
    }

    pub(super) fn match_client(
        &self,
        sources: &[Option<&Value>],
        slots: &[Option<&Value>],
        record: &mut Record,
        clients: Option<&mut ClientDirectory>,
        input: &Value,
    ) -> Result<Option<ClientOutcome>, Outcome> {
        let (Some(rule), Some(directory)) = (&self.program.client, clients) else {
            return Ok(None);
        };
        let records = Records {
            sources,
            target: Target::Record(record),
            slots,
            slot_of: self.reader.slot_of(),
        };
        let name = match eval(&rule.name, &records, &self.program.tables) {
            Ok(value) => value.as_str().map(str::to_string),
            Err(error) => {
                return Err(rejected(
                    Phase::Client,
                    vec![failure_reason(&error, Some(&rule.origin))],
                ));
            }
        };
        let Some(name) = name.filter(|n| !n.trim().is_empty()) else {
            return Err(rejected(
                Phase::Client,
                vec![Reason {
                    code: Code::M504,
                    message: "the deal has no company name to match against the PSA's clients"
                        .to_string(),
                    field: first_path(&rule.name).map(|p| p.display.clone()),
                    value: None,
                    rule: Some(rule.origin.clone()),
                }],
            ));
        };
        let outcome = directory.resolve(&name, &self.deal_id(input).unwrap_or_default());
        match &outcome {
            ClientOutcome::Existing(client) => {
                let id = if rule.integer_id {
                    integer_id(&client.id).unwrap_or_else(|| client.id.clone())
                } else {
                    string_id(&client.id)
                };
                record.write(self.program.writes.len(), &rule.target, id);
            }
            ClientOutcome::Ambiguous(candidates) => {
                let names = candidates
                    .iter()
                    .map(|c| format!("{} (id {})", c.name, c.id))
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(rejected(
                    Phase::Client,
                    vec![Reason {
                        code: Code::M508,
                        message: format!(
                            "\"{name}\" matches {} existing clients: {names}; choose one in the PSA (merge the duplicates) and run again",
                            candidates.len()
                        ),
                        field: first_path(&rule.name).map(|p| p.display.clone()),
                        value: Some(Value::from(name.clone()).to_string()),
                        rule: Some(rule.origin.clone()),
                    }],
                ));
            }
            ClientOutcome::New { .. } => {}
        }
        Ok(Some(outcome))
    }

    /// The record's violations of the target schema (none when it is valid).
    pub(super) fn target_violations(&self, record: &Record) -> Vec<Violation> {
        match record.held() {
            Held::Tree(tree) => self.reader.target_violations(tree),
            Held::Fields(fields) => self.reader.field_violations(fields),
        }
    }

    /// Target violations, each pointed back to the rule that wrote the field (for a select, the
    /// branch taken, from `branches`).
    pub(super) fn explain_violations(
        &self,
        violations: &[Violation],
        branches: &[(usize, usize)],
    ) -> Vec<Reason> {
        violations
            .iter()
            .map(|violation| {
                let fields = crate::schema::locate::pointer_segments(&violation.pointer);
                let field = format!("{}{}", self.program.target_name, dotted(&violation.pointer));
                Reason {
                    code: Code::M507,
                    message: format!("`{field}` {}", violation.message),
                    field: Some(field),
                    value: None,
                    rule: self.program.rule_for_field(&fields, branches),
                }
            })
            .collect()
    }
}

/// The number of distinct top-level fields the writes of `program` target.
pub(super) fn top_level_targets(program: &Program) -> usize {
    let mut names: Vec<&str> = program
        .writes
        .iter()
        .filter_map(|w| w.target.first().map(String::as_str))
        .collect();
    names.sort_unstable();
    names.dedup();
    names.len()
}

fn coerce(value: Val<'_>, coercion: Coercion) -> Val<'_> {
    match (coercion, value) {
        (Coercion::WholeToInteger, Val::Num(d)) => match crate::value::number::whole_i64(d) {
            Some(whole) => Val::Int(whole),
            None => Val::Num(d),
        },
        (Coercion::DateOnly, Val::DateTime(t)) => Val::Date(t.date_naive()),
        (Coercion::DateTimeText, Val::Date(d)) => Val::DateTime(
            d.and_hms_opt(0, 0, 0)
                .unwrap_or_default()
                .and_utc()
                .fixed_offset(),
        ),
        (_, value) => value,
    }
}

fn integer_id(id: &Value) -> Option<Value> {
    match id {
        Value::String(s) => s.trim().parse::<i64>().ok().map(Value::from),
        Value::Number(_) => Some(id.clone()),
        _ => None,
    }
}

fn string_id(id: &Value) -> Value {
    match id {
        Value::Number(n) => Value::String(n.to_string()),
        other => other.clone(),
    }
}

/// For a write that copies a source object, the never-transfer paths inside it (relative).
pub(super) fn never_transfer_inside(
    program: &Program,
    kind: &WriteKind,
) -> Vec<Vec<Option<String>>> {
    let WriteKind::Map(CExpr::Path(path)) = kind else {
        return Vec::new();
    };
    let copied = step_names(&path.steps);
    program
        .never_transfer
        .iter()
        .filter(|nt| nt.record == path.record && path.record != RecordRef::Target)
        .filter_map(|nt| {
            let protected = step_names(&nt.steps);
            let inside = protected.len() > copied.len()
                && copied
                    .iter()
                    .zip(&protected)
                    .all(|(a, b)| a.is_none() || b.is_none() || a == b);
            inside.then(|| protected[copied.len()..].to_vec())
        })
        .collect()
}

fn step_names(steps: &[PathStep]) -> Vec<Option<String>> {
    steps
        .iter()
        .map(|s| match s {
            PathStep::Field(name) => Some(name.clone()),
            _ => None,
        })
        .collect()
}
