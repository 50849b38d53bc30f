//! Running a checked program on one deal, in the order the handoff needs:
//! assemble records -> validate sources -> trigger -> required facts -> writes (maps, selects,
//! client match; `writes.rs`) -> never-transfer strip -> validate target -> emit.

use serde_json::Value;

use super::clients::{ClientDirectory, ClientOutcome};
use super::coverage::Coverage;
use super::expr::{first_path, holds};
use super::outcome::{Outcome, Phase, Reason, dotted, failure_reason, kind_name, rejected};
use super::read::{Records, Target};
use super::record::Record;
use super::refs::RefIndex;
use super::writes::{never_transfer_inside, top_level_targets};
use crate::check::program::{CCond, CPath, PathStep, Program};
use crate::diag::Code;
use crate::reader::Reader;
use crate::schema::SchemaSet;
use crate::transforms::table::mark;

/// A program ready to run, with its reader, reference files and client directory.
pub struct Runner {
    /// The checked program.
    pub program: Program,
    /// The fast path: plan, shapes, validators, record layout.
    pub(super) reader: Reader,
    /// The steps to the template field (the first select's target), read from each record.
    template_steps: Option<Vec<PathStep>>,
    refs: Vec<Option<RefIndex>>,
    /// Never-transfer remainders to strip from each write that copies a source object.
    pub(super) strips: Vec<Vec<Vec<Option<String>>>>,
    /// How many top-level fields the mapping writes: the record's map is made that large at once.
    record_width: usize,
    /// Which requirements have failed and which select branches have been taken (for `mapctl test`).
    pub(super) coverage: Coverage,
    /// True when records for new clients may be emitted without the client id (report envelopes
    /// carry the new client for the caller to create).
    pub allow_new_clients: bool,
}

impl Runner {
    /// Compiles validators for every record of `program` (its schemas are in `schemas`).
    pub fn new(program: Program, schemas: &SchemaSet) -> Result<Runner, String> {
        let reader = Reader::compile(&program, schemas)?;
        let strips = program
            .writes
            .iter()
            .map(|w| never_transfer_inside(&program, &w.kind))
            .collect();
        Ok(Runner {
            reader,
            template_steps: program.template_field.as_ref().map(|fields| {
                fields
                    .iter()
                    .map(|name| PathStep::Field(name.clone()))
                    .collect()
            }),
            record_width: top_level_targets(&program),
            refs: program.sources.iter().map(|_| None).collect(),
            strips,
            coverage: Coverage::new(&program),
            allow_new_clients: false,
            program,
        })
    }

    /// True when records are built field by field in a compiled layout (see `record.rs`).
    pub fn builds_records_by_field(&self) -> bool {
        self.reader.layout().is_some()
    }

    /// Builds every record as a JSON tree from now on, the general way: for comparing the two.
    pub fn build_records_as_trees(&mut self) {
        self.reader.forget_layout();
    }

    /// Loads the reference records of source `name` (which must have a `join on`).
    pub fn set_reference(&mut self, name: &str, records: Vec<Value>) -> Result<usize, String> {
        let index = self
            .program
            .sources
            .iter()
            .position(|s| s.name == name)
            .ok_or_else(|| format!("the mapping has no source record `{name}`"))?;
        let join = self.program.sources[index].join.as_ref().ok_or_else(|| {
            format!("source `{name}` has no `join on` clause, so it cannot be joined from a file")
        })?;
        let refs = RefIndex::new(records, join);
        let count = refs.len();
        self.refs[index] = Some(refs);
        Ok(count)
    }

    /// The deal's id: the primary record's `id`, in a bundle or on its own.
    pub fn deal_id(&self, input: &Value) -> Option<String> {
        let primary = self.primary(input)?;
        match super::read::member(primary.as_object()?, "id")? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    fn primary<'a>(&self, input: &'a Value) -> Option<&'a Value> {
        if self.is_bundle(input) {
            input.get(&self.program.sources[0].name)
        } else {
            Some(input)
        }
    }

    /// True when `input` is a bundle: an object keyed by source record names, the primary among them.
    fn is_bundle(&self, input: &Value) -> bool {
        let Value::Object(map) = input else {
            return false;
        };
        let names = &self.program.sources;
        super::read::member(map, &names[0].name).is_some()
            && map.keys().all(|k| names.iter().any(|s| &s.name == k))
    }

    /// Runs the forward mapping on one deal.
    pub fn run(&self, input: &Value, clients: Option<&mut ClientDirectory>) -> Outcome {
        match self.run_phases(input, &[], clients, false) {
            Ok(outcome) | Err(outcome) => self.withhold_protected(input, &[], outcome),
        }
    }

    /// Runs the forward mapping on a deal whose input records were already validated (while
    /// they were read); records joined from reference files are still validated here.
    /// `owned` holds the values the reader kept only by slot. Never-transfer values are not yet
    /// withheld from a rejection: the caller does it (the reader keeps every never-transfer
    /// field, so the projected deal holds them).
    pub(super) fn run_validated(
        &self,
        input: &Value,
        owned: &[Option<Value>],
        clients: Option<&mut ClientDirectory>,
    ) -> Outcome {
        match self.run_phases(input, owned, clients, true) {
            Ok(outcome) | Err(outcome) => outcome,
        }
    }

    fn run_phases(
        &self,
        input: &Value,
        owned: &[Option<Value>],
        clients: Option<&mut ClientDirectory>,
        validated: bool,
    ) -> Result<Outcome, Outcome> {
        if !input.is_object() {
            return Err(rejected(
                Phase::Parse,
                vec![Reason::new(
                    Code::M509,
                    format!("the input is {}, not a JSON object", kind_name(input)),
                )],
            ));
        }
        let (sources, joined) = self.assemble(input)?;
        self.validate_sources(&sources, &joined, validated)?;
        let mut slots = Vec::new();
        self.reader.resolve(&sources, owned, &mut slots);
        let empty = Value::Object(serde_json::Map::new());
        let records = Records {
            sources: &sources,
            target: Target::Json(&empty),
            slots: &slots,
            slot_of: self.reader.slot_of(),
        };
        let stage = self
            .program
            .stage_path
            .as_ref()
            .and_then(|p| records.read(p));
        match holds(&self.program.trigger, &records, &self.program.tables) {
            Ok(true) => {}
            Ok(false) => return Err(Outcome::Skipped(self.skip_reason(stage))),
            Err(error) => return Err(rejected(Phase::Trigger, vec![failure_reason(&error, None)])),
        }
        self.check_requirements(&records, stage)?;
        let mut record = Record::new(self.reader.layout(), self.record_width);
        let mut reasons = Vec::new();
        let mut clients = clients;
        let mut client = None;
        let mut branches = Vec::new();
        let client_position = self.program.client.as_ref().map(|c| c.position);
        for (index, write) in self.program.writes.iter().enumerate() {
            if client_position == Some(index) {
                client = self.match_client(&sources, &slots, &mut record, clients.take(), input)?;
            }
            let records = Records {
                sources: &sources,
                target: Target::Record(&record),
                slots: &slots,
                slot_of: self.reader.slot_of(),
            };
            match self.write_value(index, &write.kind, &records, &mut branches) {
                Ok(Some(value)) => {
                    record.write(index, &write.target, value);
                }
                Ok(None) => {}
                Err(reason) => reasons.push(reason),
            }
        }
        if !reasons.is_empty() {
            return Err(rejected(Phase::Map, reasons));
        }
        if client_position.is_some_and(|p| p >= self.program.writes.len()) {
            client = self.match_client(&sources, &slots, &mut record, clients, input)?;
        }
        let mut violations = self.target_violations(&record);
        let new_client = match &client {
            Some(ClientOutcome::New { name, .. }) => Some(name.clone()),
            _ => None,
        };
        if let (Some(name), Some(rule)) = (&new_client, &self.program.client) {
            let before = violations.len();
            violations.retain(|v| v.missing.as_ref() != Some(&rule.target));
            if violations.is_empty() && before > 0 && !self.allow_new_clients {
                return Err(rejected(
                    Phase::Client,
                    vec![Reason {
                        code: Code::M511,
                        message: format!(
                            "no existing client matches \"{name}\" and `{}` is required: create the client in the PSA first, or run with --envelope to receive records for new clients",
                            rule.display
                        ),
                        field: first_path(&rule.name).map(|p| p.display.clone()),
                        value: Some(Value::from(name.clone()).to_string()),
                        rule: Some(rule.origin.clone()),
                    }],
                ));
            }
        }
        if !violations.is_empty() {
            return Err(rejected(
                Phase::ValidateTarget,
                self.explain_violations(&violations, &branches),
            ));
        }
        let template = self
            .template_steps
            .as_ref()
            .and_then(|steps| record.get(steps).cloned());
        Ok(Outcome::Written {
            record,
            template,
            client,
            branches,
        })
    }

    /// The records of one deal: from a bundle, or the deal plus records joined from references.
    /// Also says which records came from reference files (by index; empty when none did).
    #[allow(clippy::type_complexity)]
    pub(super) fn assemble<'a>(
        &'a self,
        input: &'a Value,
    ) -> Result<(Vec<Option<&'a Value>>, Vec<bool>), Outcome> {
        let bundle = self.is_bundle(input);
        let mut sources: Vec<Option<&'a Value>> = Vec::with_capacity(self.program.sources.len());
        // Which records were joined from reference files; left empty (no allocation) when none.
        let mut from_refs = Vec::new();
        for (index, source) in self.program.sources.iter().enumerate() {
            let from_bundle = if bundle {
                input.get(&source.name).filter(|v| !v.is_null())
            } else if index == 0 {
                Some(input)
            } else {
                None
            };
            let joined = match (from_bundle, &self.refs[index], &source.join) {
                (Some(record), _, _) => Some(record),
                (None, Some(refs), Some(join)) => {
                    let records = Records::by_name(&sources, Target::Json(input));
                    match records.read(&join.equals) {
                        None => None,
                        Some(key) => match refs.find(key) {
                            [] => None,
                            [one] => Some(one),
                            many => {
                                return Err(rejected(
                                    Phase::Join,
                                    vec![Reason {
                                        code: Code::M506,
                                        message: format!(
                                            "{} `{}` records have the key {key}; mapctl will not guess which one belongs to this deal",
                                            many.len(),
                                            source.name
                                        ),
                                        field: Some(join.equals.display.clone()),
                                        value: Some(key.to_string()),
                                        rule: None,
                                    }],
                                ));
                            }
                        },
                    }
                }
                _ => None,
            };
            if from_bundle.is_none() && joined.is_some() {
                from_refs.resize(self.program.sources.len(), false);
                from_refs[index] = true;
            }
            sources.push(joined);
        }
        Ok((sources, from_refs))
    }

    fn validate_sources(
        &self,
        sources: &[Option<&Value>],
        from_refs: &[bool],
        validated: bool,
    ) -> Result<(), Outcome> {
        let mut reasons = Vec::new();
        for (index, (record, declared)) in sources.iter().zip(&self.program.sources).enumerate() {
            let Some(record) = record else { continue };
            let joined = from_refs.get(index).copied().unwrap_or(false);
            if validated && !joined {
                continue;
            }
            for violation in self.reader.source_violations(index, record) {
                let described = self.withhold_in_violation(
                    index,
                    record,
                    &violation.pointer,
                    violation.message,
                );
                reasons.push(Reason {
                    code: Code::M502,
                    message: format!(
                        "`{}{}` {described}",
                        declared.name,
                        dotted(&violation.pointer),
                    ),
                    field: Some(format!("{}{}", declared.name, dotted(&violation.pointer))),
                    value: None,
                    rule: None,
                });
            }
        }
        if reasons.is_empty() {
            Ok(())
        } else {
            Err(rejected(Phase::ValidateSource, reasons))
        }
    }

    fn skip_reason(&self, stage: Option<&Value>) -> Reason {
        let stages = self
            .program
            .trigger_stages
            .iter()
            .map(|s| format!("\"{s}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let at_trigger_stage = stage
            .and_then(Value::as_str)
            .is_some_and(|s| self.program.trigger_stages.iter().any(|t| t == s));
        let (field, message) = match (&self.program.stage_path, stage) {
            (Some(path), Some(value)) if at_trigger_stage => (
                Some(path.display.clone()),
                format!(
                    "the deal is at stage {value}, but the trigger's other conditions do not hold"
                ),
            ),
            (Some(path), Some(value)) => (
                Some(path.display.clone()),
                format!("the deal is at stage {value}; the handoff fires at {stages}"),
            ),
            (Some(path), None) => (
                Some(path.display.clone()),
                format!("the deal has no stage; the handoff fires at {stages}"),
            ),
            (None, _) => (None, "the trigger condition does not hold".to_string()),
        };
        Reason {
            code: Code::M503,
            message,
            field,
            value: stage.map(Value::to_string),
            rule: None,
        }
    }

    /// Evaluates every requirement of the deal's stage, collecting all that fail.
    fn check_requirements(
        &self,
        records: &Records<'_>,
        stage: Option<&Value>,
    ) -> Result<(), Outcome> {
        let stage = stage.and_then(Value::as_str);
        let mut reasons = Vec::new();
        for (index, requirement) in self.program.requirements.iter().enumerate() {
            if stage.is_some_and(|s| !requirement.stages.iter().any(|r| r == s)) {
                continue;
            }
            let (ok, detail) = match holds(&requirement.condition, records, &self.program.tables) {
                Ok(ok) => (ok, None),
                Err(error) => (false, Some(error.describe())),
            };
            if ok {
                continue;
            }
            mark(&self.coverage.requirements[index]);
            let value = requirement_paths(&requirement.condition)
                .first()
                .map(|path| {
                    records
                        .read(path)
                        .map_or("absent".to_string(), Value::to_string)
                });
            reasons.push(Reason {
                code: Code::M504,
                message: match detail {
                    Some(detail) => format!("{} ({detail})", requirement.message),
                    None => requirement.message.clone(),
                },
                field: (!requirement.fields.is_empty()).then(|| requirement.fields.join(", ")),
                value,
                rule: Some(requirement.origin.clone()),
            });
        }
        if reasons.is_empty() {
            Ok(())
        } else {
            Err(rejected(Phase::Require, reasons))
        }
    }
}

/// The paths a requirement condition reads.
fn requirement_paths(cond: &CCond) -> Vec<&CPath> {
    match cond {
        CCond::And(parts) | CCond::Or(parts) => parts.iter().flat_map(requirement_paths).collect(),
        CCond::Not(inner) => requirement_paths(inner),
        CCond::Present(e) | CCond::In(e, _) | CCond::Matches(e, _) => {
            first_path(e).into_iter().collect()
        }
        CCond::Compare(l, _, r) => first_path(l).into_iter().chain(first_path(r)).collect(),
    }
}
