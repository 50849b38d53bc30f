//! Running a checked program on one deal, in the order the handoff needs:
//! assemble records -> validate sources -> trigger -> required facts -> writes (maps, selects,
//! client match) -> never-transfer strip -> validate target -> emit.
//!
//! Every deal ends in exactly one [`Outcome`]. A rejection lists every reason found in its phase,
//! each with its code, the field and value concerned, and the mapping rule responsible.

use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::Value;

use super::clients::{ClientDirectory, ClientOutcome};
use super::expr::{EvalError, eval, first_path, holds};
use super::read::{Records, Target, remove_at, write_at_steps};
use super::record::{Held, Record};
use super::refs::RefIndex;
use crate::check::program::{CExpr, Coercion, Origin, Program, RecordRef, WriteKind};
use crate::diag::Code;
use crate::reader::Reader;
use crate::schema::SchemaSet;
use crate::schema::validate::Violation;
use crate::transforms::table::mark;
use crate::value::Val;

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

/// What the deals run so far have exercised: requirements that failed, select branches taken.
/// Atomic flags, so an engine stays shareable between threads.
#[derive(Debug)]
struct Coverage {
    requirements: Vec<AtomicBool>,
    branches: Vec<Vec<AtomicBool>>,
}

impl Coverage {
    fn new(program: &Program) -> Coverage {
        let flags = |n: usize| (0..n).map(|_| AtomicBool::new(false)).collect::<Vec<_>>();
        Coverage {
            requirements: flags(program.requirements.len()),
            branches: program
                .writes
                .iter()
                .map(|w| match &w.kind {
                    WriteKind::Select { arms, otherwise } => {
                        flags(arms.len() + usize::from(otherwise.is_some()))
                    }
                    WriteKind::Map(_) => Vec::new(),
                })
                .collect(),
        }
    }
}

/// A program ready to run, with its reader, reference files and client directory.
pub struct Runner {
    /// The checked program.
    pub program: Program,
    /// The fast path: plan, shapes, validators, record layout.
    pub(super) reader: Reader,
    /// The steps to the template field (the first select's target), read from each record.
    template_steps: Option<Vec<crate::check::program::PathStep>>,
    refs: Vec<Option<RefIndex>>,
    /// Never-transfer remainders to strip from each write that copies a source object.
    strips: Vec<Vec<Vec<Option<String>>>>,
    /// How many top-level fields the mapping writes: the record's map is made that large at once.
    record_width: usize,
    /// Which requirements have failed and which select branches have been taken (for `mapctl test`).
    coverage: Coverage,
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
                    .map(|name| crate::check::program::PathStep::Field(name.clone()))
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
            Ok(outcome) | Err(outcome) => self.withhold_protected(input, outcome),
        }
    }

    /// Runs the forward mapping on a deal whose input records were already validated (while
    /// they were read); records joined from reference files are still validated here.
    /// `owned` holds the values the reader kept only by slot.
    pub(super) fn run_validated(
        &self,
        input: &Value,
        owned: &[Option<Value>],
        clients: Option<&mut ClientDirectory>,
    ) -> Outcome {
        match self.run_phases(input, owned, clients, true) {
            Ok(outcome) | Err(outcome) => self.withhold_protected(input, outcome),
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
                self.explain_violations(&violations),
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
    fn assemble<'a>(
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
        let (field, message) = match (&self.program.stage_path, stage) {
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
            if stage.is_some_and(|s| s != requirement.stage) {
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

    /// The value a write produces (after coercion and never-transfer stripping).
    fn write_value(
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

    fn match_client(
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
    fn target_violations(&self, record: &Record) -> Vec<Violation> {
        match record.held() {
            Held::Tree(tree) => self.reader.target_violations(tree),
            Held::Fields(fields) => self.reader.field_violations(fields),
        }
    }

    /// Target violations, each pointed back to the rule that wrote the field.
    fn explain_violations(&self, violations: &[Violation]) -> Vec<Reason> {
        violations
            .iter()
            .map(|violation| {
                let fields: Vec<String> =
                    crate::schema::locate::pointer_segments(&violation.pointer);
                let rule = self
                    .program
                    .writes
                    .iter()
                    .map(|w| (&w.target, &w.origin))
                    .chain(self.program.client.iter().map(|c| (&c.target, &c.origin)))
                    .find(|(target, _)| !target.is_empty() && fields.starts_with(target))
                    .map(|(_, origin)| origin.clone());
                let field = format!("{}{}", self.program.target_name, dotted(&violation.pointer));
                Reason {
                    code: Code::M507,
                    message: format!("`{field}` {}", violation.message),
                    field: Some(field),
                    value: None,
                    rule,
                }
            })
            .collect()
    }

    /// The text values of the never-transfer fields of a deal, leaf by leaf (for leak checks in
    /// tests): strings of four characters or more, and numbers of four digits or more.
    pub fn protected_values(&self, input: &Value) -> Vec<String> {
        let Ok((sources, _)) = self.assemble(input) else {
            return Vec::new();
        };
        let empty = Value::Null;
        let records = Records::by_name(&sources, Target::Json(&empty));
        let mut leaves = Vec::new();
        let mut stack: Vec<&Value> = self
            .program
            .never_transfer
            .iter()
            .filter_map(|path| records.read(path))
            .collect();
        while let Some(value) = stack.pop() {
            match value {
                Value::String(s) if s.trim().chars().count() >= 4 => leaves.push(s.clone()),
                Value::Number(n) if n.to_string().len() >= 4 => leaves.push(n.to_string()),
                Value::Array(items) => stack.extend(items),
                Value::Object(map) => stack.extend(map.values()),
                _ => {}
            }
        }
        leaves
    }

    /// What no deal run so far has exercised: requirements that never failed, select branches
    /// never taken, table rows never looked up. One line each, in mapping order.
    pub fn unexercised(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for (requirement, failed) in self
            .program
            .requirements
            .iter()
            .zip(&self.coverage.requirements)
        {
            if !failed.load(Ordering::Relaxed) {
                lines.push(format!(
                    "line {}: require rule never failed: {}",
                    requirement.origin.line, requirement.origin.text
                ));
            }
        }
        for (write, taken) in self.program.writes.iter().zip(&self.coverage.branches) {
            let WriteKind::Select { arms, otherwise } = &write.kind else {
                continue;
            };
            let origins = arms
                .iter()
                .map(|(_, _, o)| o)
                .chain(otherwise.iter().map(|(_, o)| o));
            for (origin, flag) in origins.zip(taken) {
                if !flag.load(Ordering::Relaxed) {
                    lines.push(format!(
                        "line {}: select branch never taken: {}",
                        origin.line, origin.text
                    ));
                }
            }
        }
        for table in &self.program.tables {
            for key in table.unused_rows() {
                lines.push(format!("table `{}`: row {key} never used", table.name));
            }
        }
        lines
    }

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

/// The number of distinct top-level fields the writes of `program` target.
fn top_level_targets(program: &Program) -> usize {
    let mut names: Vec<&str> = program
        .writes
        .iter()
        .filter_map(|w| w.target.first().map(String::as_str))
        .collect();
    names.sort_unstable();
    names.dedup();
    names.len()
}

fn rejected(phase: Phase, reasons: Vec<Reason>) -> Outcome {
    Outcome::Rejected { phase, reasons }
}

fn failure_reason(error: &EvalError, origin: Option<&Origin>) -> Reason {
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

fn kind_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn coerce(value: Val<'_>, coercion: Coercion) -> Val<'_> {
    match (coercion, value) {
        (Coercion::RoundToInteger, Val::Num(f)) if f.abs() < 9.0e15 => Val::Int(f.round() as i64),
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

/// The paths a requirement condition reads.
fn requirement_paths(cond: &crate::check::program::CCond) -> Vec<&crate::check::program::CPath> {
    use crate::check::program::CCond;
    match cond {
        CCond::And(parts) | CCond::Or(parts) => parts.iter().flat_map(requirement_paths).collect(),
        CCond::Not(inner) => requirement_paths(inner),
        CCond::Present(e) | CCond::In(e, _) | CCond::Matches(e, _) => {
            first_path(e).into_iter().collect()
        }
        CCond::Compare(l, _, r) => first_path(l).into_iter().chain(first_path(r)).collect(),
    }
}

/// For a write that copies a source object, the never-transfer paths inside it (relative).
fn never_transfer_inside(program: &Program, kind: &WriteKind) -> Vec<Vec<Option<String>>> {
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

fn step_names(steps: &[crate::check::program::PathStep]) -> Vec<Option<String>> {
    steps
        .iter()
        .map(|s| match s {
            crate::check::program::PathStep::Field(name) => Some(name.clone()),
            _ => None,
        })
        .collect()
}
