//! The reference interpreter: the slow, obvious way to run a checked
//! [`Program`](crate::check::Program), which the fast engine (`eval`) is held against by
//! `tests/reference_law.rs`.
//!
//! A deal's text is parsed whole by `serde_json` (`parse.rs`, which also refuses duplicate keys
//! and integers beyond 64 bits), every record is validated by the `jsonschema` crate and its
//! violations said in mapctl's words (`schema::violations`, shared with the fast engine's
//! `jsonschema` fallback), and every rule is evaluated on
//! `serde_json::Value` trees (`exprs.rs`, `records.rs`) in the order of `phases.rs` (then
//! `target.rs`; `sync.rs` runs `sync back`); rejections
//! are kept free of never-transfer values by `withhold.rs`. There are no slots, layouts or
//! compiled shapes: each phase reads like its description in docs/language.md. The outcome
//! (`outcome.rs`) is plain data, the record as the text `serde_json` writes for it.

mod exprs;
mod outcome;
mod parse;
mod phases;
mod records;
mod schema;
mod sync;
mod target;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceMap;
    use crate::syntax::Limits;

    /// The reference benchmark's mapping (`bench/reference.map`) as a reference interpreter.
    fn benchmark() -> Interpreter {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/reference.map");
        let mut sources = SourceMap::new();
        let output = crate::check::check_file(&mut sources, &path, &Limits::default())
            .unwrap_or_else(|e| panic!("{}", e.0));
        let program = output.program.expect("the benchmark mapping checks");
        Interpreter::new(program, &output.schemas).expect("validators")
    }

    fn run(text: &str) -> (Option<String>, Outcome) {
        benchmark().run_text(text.as_bytes(), None, false)
    }

    fn messages(outcome: &Outcome) -> Vec<String> {
        match outcome {
            Outcome::Rejected { reasons, .. } => {
                reasons.iter().map(|r| r.message.clone()).collect()
            }
            Outcome::Skipped(reason) => vec![reason.message.clone()],
            Outcome::Written { record, .. } => vec![record.clone()],
        }
    }

    #[test]
    fn a_won_deal_is_written_as_serde_json_writes_its_tree() {
        let (id, outcome) = run(
            r#"{"id":"1","properties":{"amount":"5700.00","closedate":"2024-11-09T15:12:06.495Z","dealstage":"closedwon","dealtype":"retainer","hubspot_owner_id":"4","company_name":"Umbrella, Inc. ","dealname":"Umbrella","description":"x","internal_rate_card":"secret"}}"#,
        );
        assert_eq!(id.as_deref(), Some("1"));
        let Outcome::Written {
            record,
            template,
            branches,
            ..
        } = outcome
        else {
            panic!("not written: {outcome:?}");
        };
        assert_eq!(
            record,
            r#"{"client":{"name":"Umbrella"},"title":"Umbrella","budget":5700.00,"start_date":"2024-11-09","billing_type":"retainer","template":"retainer-standard","manager_email":null,"notes":"Sold as: retainer\nx","source":{"system":"hubspot","deal_id":"1"}}"#
        );
        assert_eq!(template, Some(Value::from("retainer-standard")));
        assert_eq!(branches, vec![(5, 0)]);
    }

    #[test]
    fn other_stages_are_skipped_and_failed_requirements_all_listed() {
        let (_, skipped) = run(r#"{"id":"3","properties":{"dealstage":"contractsent"}}"#);
        assert_eq!(
            messages(&skipped),
            ["the deal is at stage \"contractsent\"; the handoff fires at \"closedwon\""]
        );
        let (_, rejected) =
            run(r#"{"id":"4","properties":{"dealstage":"closedwon","amount":"0"}}"#);
        assert!(
            matches!(&rejected, Outcome::Rejected { phase: "require", reasons } if reasons.len() == 3)
        );
    }

    #[test]
    fn violations_are_said_in_mapctl_words_required_members_first() {
        let (_, outcome) =
            run(r#"{"properties":{"dealname":5,"dealstage":["closedwon"],"closedate":"x"}}"#);
        assert_eq!(
            messages(&outcome),
            [
                "`deal` \"id\" is a required property",
                "`deal.properties.dealname` 5 is not of type string or null",
                "`deal.properties.dealstage` [\"closedwon\"] is not of type string or null",
                "`deal.properties.closedate` \"x\" is not a valid date-time",
            ]
        );
    }

    #[test]
    fn rejections_withhold_never_transfer_values() {
        let (_, outcome) = run(
            r#"{"id":"5","properties":{"dealstage":"closedwon","amount":"0","closedate":"2025-01-01T00:00:00Z","hubspot_owner_id":"1","billing_preferences":"amount"}}"#,
        );
        assert_eq!(messages(&outcome), ["<withheld: never-transfer field>"]);
        let (_, outcome) = run(r#"{"id":"6","properties":{"internal_rate_card":12345678}}"#);
        assert_eq!(
            messages(&outcome),
            [
                "`deal.properties.internal_rate_card` <withheld: never-transfer field> is not of type string or null"
            ]
        );
    }

    #[test]
    fn text_that_is_not_one_object_is_refused_in_the_parse_phase() {
        for (text, code) in [
            ("[1]", Code::M509),
            ("{\"id\":\"1\",\"id\":\"2\"}", Code::M512),
            ("{", Code::M501),
        ] {
            let (id, outcome) = run(text);
            assert!(id.is_none(), "{text}");
            assert!(
                matches!(&outcome, Outcome::Rejected { phase: "parse", reasons } if reasons[0].code == code),
                "{text}: {outcome:?}"
            );
        }
        // A float with an exponent is a float, not an integer beyond 64 bits.
        let (_, outcome) =
            run(r#"{"id":"7","properties":{"dealstage":"contractsent"},"score":1e308}"#);
        assert!(matches!(outcome, Outcome::Skipped(_)), "{outcome:?}");
    }
}
