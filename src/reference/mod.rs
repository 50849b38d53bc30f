//! The reference interpreter: the slow, obvious way to run a checked
//! [`Program`](crate::check::Program), which the fast engine (`eval`) is held against by
//! `tests/reference_law.rs`.
//!
//! A deal's text is parsed whole by `serde_json` (`parse.rs`, which also refuses duplicate keys
//! and integers beyond 64 bits), every record is validated by the `jsonschema` crate and its
//! violations said in mapctl's words (`violations.rs`), and every rule is evaluated on
//! `serde_json::Value` trees (`exprs.rs`, `records.rs`) in the order of `phases.rs`; rejections
//! are kept free of never-transfer values by `withhold.rs`. There are no slots, layouts or
//! compiled shapes: each phase reads like its description in docs/language.md. The outcome
//! (`outcome.rs`) is plain data, the record as the text `serde_json` writes for it.

mod exprs;
mod outcome;
mod parse;
mod phases;
mod records;
mod schema;
mod violations;
mod withhold;

use jsonschema::Validator;
use serde_json::Value;

pub use outcome::{Outcome, Reason, from_fast};
pub use parse::{Refusal, parse};

use crate::check::program::Program;
use crate::diag::Code;
use crate::eval::ClientDirectory;
use crate::schema::SchemaSet;

/// A checked program with a validator for each of its records.
pub struct Interpreter {
    program: Program,
    sources: Vec<Validator>,
    target: Validator,
    /// The records of each source's reference file (empty when none was given).
    references: Vec<Vec<Value>>,
    /// True when records for new clients may go out without the client's id (the caller
    /// creates the client, as `apply --envelope` does).
    pub allow_new_clients: bool,
}

impl Interpreter {
    /// Builds validators for the records of `program`, whose schemas `schemas` holds.
    pub fn new(program: Program, schemas: &SchemaSet) -> Result<Interpreter, String> {
        let sources = program
            .sources
            .iter()
            .map(|source| schema::validator(schemas, &source.schema_path))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Interpreter {
            target: schema::validator(schemas, &program.target_schema_path)?,
            references: program.sources.iter().map(|_| Vec::new()).collect(),
            sources,
            program,
            allow_new_clients: false,
        })
    }

    /// Gives source `name` (which must have a `join on`) the records of its reference file.
    pub fn set_reference(&mut self, name: &str, records: Vec<Value>) -> Result<(), String> {
        let index = self
            .program
            .sources
            .iter()
            .position(|s| s.name == name)
            .ok_or_else(|| format!("the mapping has no source record `{name}`"))?;
        if self.program.sources[index].join.is_none() {
            return Err(format!("source `{name}` has no `join on` clause"));
        }
        self.references[index] = records;
        Ok(())
    }

    /// Runs one deal (or, `back`, one PSA record) given as JSON text; returns the deal's id
    /// with the outcome.
    pub fn run_text(
        &self,
        text: &[u8],
        clients: Option<&mut ClientDirectory>,
        back: bool,
    ) -> (Option<String>, Outcome) {
        let refused = |code, message: String| {
            let reason = Reason::new(code, message);
            (None, Outcome::rejected("parse", vec![reason]))
        };
        match parse(text) {
            Ok(value) => self.run_value(&value, clients, back),
            Err(Refusal::Invalid(error)) => {
                refused(Code::M501, format!("not valid JSON ({error})"))
            }
            Err(Refusal::Ambiguous(reason)) => {
                refused(Code::M512, format!("ambiguous JSON: {reason}"))
            }
        }
    }

    /// Runs one parsed deal (or, `back`, one PSA record).
    pub fn run_value(
        &self,
        value: &Value,
        clients: Option<&mut ClientDirectory>,
        back: bool,
    ) -> (Option<String>, Outcome) {
        let outcome = match back {
            true => self.back(value),
            false => self.forward(value, clients),
        };
        (self.deal_id(value), outcome)
    }

    /// The deal's id: the primary record's `id`, text or number.
    fn deal_id(&self, input: &Value) -> Option<String> {
        let primary = match self.is_bundle(input) {
            true => input.get(&self.program.sources[0].name)?,
            false => input,
        };
        match primary.get("id")? {
            Value::String(id) => Some(id.clone()),
            Value::Number(id) => Some(id.to_string()),
            _ => None,
        }
    }

    /// True when `input` is an object keyed by source record names, the primary among them.
    fn is_bundle(&self, input: &Value) -> bool {
        let sources = &self.program.sources;
        input.as_object().is_some_and(|map| {
            map.contains_key(&sources[0].name)
                && map.keys().all(|k| sources.iter().any(|s| &s.name == k))
        })
    }
}
