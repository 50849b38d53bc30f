//! The phases of one deal, in the order the handoff needs: assemble the records (a bundle, or
//! the deal and records joined from reference files) -> validate them -> trigger -> required
//! facts (every failure) -> writes in file order (maps, selects, the client match where it is
//! written) -> validate the target record (each violation pointed back to the rule that wrote
//! the field) -> the record. A rejection never quotes a never-transfer value.

use serde_json::{Map, Value};

use super::exprs::{Failure, Trees, eval, holds, same, tested_paths};
use super::outcome::{Outcome, Reason};
use super::records::{inside, put, strip};
use super::{Interpreter, withhold};
use crate::check::program::{CExpr, Coercion, Origin, RecordRef, Write, WriteKind};
use crate::diag::Code;
use crate::eval::ClientDirectory;
use crate::schema::violations::violations;
use crate::value::Val;

/// A phase's result: go on with `T`, or the deal's outcome.
pub(super) type Phase<T> = Result<T, Outcome>;

impl Interpreter {
    /// Runs the mapping forward on one deal.
    pub(super) fn forward(&self, input: &Value, clients: Option<&mut ClientDirectory>) -> Outcome {
        let outcome = self.phases(input, clients).unwrap_or_else(|ended| ended);
        let Outcome::Rejected { phase, reasons } = outcome else {
            return outcome;
        };
        if self.program.never_transfer.is_empty() {
            return Outcome::rejected(phase, reasons);
        }
        let sources = self.assemble(input).unwrap_or_default();
        let empty = Value::Null;
        let trees = Trees {
            sources: &sources,
            target: &empty,
        };
        let forms = withhold::forms(&withhold::protected_texts(
            &self.program.never_transfer,
            &trees,
        ));
        let reasons = reasons
            .into_iter()
            .map(|reason| Reason {
                message: withhold::scrub(&reason.message, &forms),
                value: reason.value.map(|v| withhold::scrub(&v, &forms)),
                ..reason
            })
            .collect();
        Outcome::rejected(phase, reasons)
    }

    fn phases(&self, input: &Value, clients: Option<&mut ClientDirectory>) -> Phase<Outcome> {
        if !input.is_object() {
            let message = format!("the input is {}, not a JSON object", kind_name(input));
            return Err(Outcome::rejected(
                "parse",
                vec![Reason::new(Code::M509, message)],
            ));
        }
        let sources = self.assemble(input)?;
        self.validate_sources(&sources)?;
        let empty = Value::Object(Map::new());
        let trees = Trees {
            sources: &sources,
            target: &empty,
        };
        let stage = self.program.stage_path.as_ref().and_then(|p| trees.read(p));
        match holds(&self.program.trigger, &trees, &self.program.tables) {
            Ok(true) => {}
            Ok(false) => return Err(Outcome::Skipped(self.skip_reason(stage))),
            Err(failure) => {
                return Err(Outcome::rejected(
                    "trigger",
                    vec![failure_reason(&failure, None)],
                ));
            }
        }
        self.check_requirements(&trees, stage)?;
        let mut record = Value::Object(Map::new());
        let mut clients = clients;
        let mut client = None;
        let mut branches = Vec::new();
        let mut failures = Vec::new();
        let client_at = self.program.client.as_ref().map(|rule| rule.position);
        for (index, write) in self.program.writes.iter().enumerate() {
            if client_at == Some(index) {
                client = self.match_client(&sources, &mut record, clients.take(), input)?;
            }
            let trees = Trees {
                sources: &sources,
                target: &record,
            };
            match self.value_of(index, write, &trees, &mut branches) {
                Ok(Some(value)) => put(&mut record, &write.target, value),
                Ok(None) => {}
                Err(reason) => failures.push(reason),
            }
        }
        if !failures.is_empty() {
            return Err(Outcome::rejected("map", failures));
        }
        if client_at.is_some_and(|at| at >= self.program.writes.len()) {
            client = self.match_client(&sources, &mut record, clients, input)?;
        }
        self.validate_target(&record, client.as_ref(), &branches)?;
        let template = self.program.template_field.as_ref().and_then(|fields| {
            fields
                .iter()
                .try_fold(&record, |here, field| here.as_object()?.get(field))
                .cloned()
        });
        Ok(Outcome::Written {
            record: serde_json::to_string(&record).unwrap_or_default(),
            template,
            client,
            branches,
        })
    }

    /// The deal's records: from a bundle, or the deal itself and records joined by key.
    pub(super) fn assemble<'a>(&'a self, input: &'a Value) -> Phase<Vec<Option<&'a Value>>> {
        let bundle = self.is_bundle(input);
        let mut sources: Vec<Option<&Value>> = Vec::new();
        for (index, source) in self.program.sources.iter().enumerate() {
            let given = match (bundle, index) {
                (true, _) => input.get(&source.name).filter(|v| !v.is_null()),
                (false, 0) => Some(input),
                (false, _) => None,
            };
            let record = match (given, &source.join) {
                (Some(record), _) => Some(record),
                (None, Some(join)) => {
                    let trees = Trees {
                        sources: &sources,
                        target: input,
                    };
                    let key = trees.read(&join.equals);
                    let matches: Vec<&Value> = key
                        .map(|key| {
                            self.references[index]
                                .iter()
                                .filter(|r| {
                                    super::exprs::follow(r, &join.key.steps)
                                        .is_some_and(|k| same_key(k, key))
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    if let (Some(key), [_, _, ..]) = (key, matches.as_slice()) {
                        let reason = Reason {
                            code: Code::M506,
                            message: format!(
                                "{} `{}` records have the key {key}; mapctl will not guess which one belongs to this deal",
                                matches.len(),
                                source.name
                            ),
                            field: Some(join.equals.display.clone()),
                            value: Some(key.to_string()),
                            rule: None,
                        };
                        return Err(Outcome::rejected("join", vec![reason]));
                    }
                    matches.first().copied()
                }
                (None, None) => None,
            };
            sources.push(record);
        }
        Ok(sources)
    }

    fn validate_sources(&self, sources: &[Option<&Value>]) -> Phase<()> {
        let mut reasons = Vec::new();
        for (index, (record, validator)) in sources.iter().zip(&self.sources).enumerate() {
            let Some(record) = record else { continue };
            let name = &self.program.sources[index].name;
            for violation in violations(validator, record) {
                let field = format!("{name}{}", dotted(&violation.pointer));
                let message = withhold::in_violation(
                    &self.program.never_transfer,
                    index,
                    record,
                    &violation.pointer,
                    violation.message,
                );
                reasons.push(Reason {
                    message: format!("`{field}` {message}"),
                    field: Some(field),
                    ..Reason::new(Code::M502, "")
                });
            }
        }
        match reasons.is_empty() {
            true => Ok(()),
            false => Err(Outcome::rejected("validate-source", reasons)),
        }
    }

    fn skip_reason(&self, stage: Option<&Value>) -> Reason {
        let stages: Vec<String> = self
            .program
            .trigger_stages
            .iter()
            .map(|s| format!("\"{s}\""))
            .collect();
        let stages = stages.join(", ");
        let path = self.program.stage_path.as_ref();
        let at_trigger_stage = stage
            .and_then(Value::as_str)
            .is_some_and(|s| self.program.trigger_stages.iter().any(|t| t == s));
        let message = match (path, stage) {
            (Some(_), Some(value)) if at_trigger_stage => {
                format!(
                    "the deal is at stage {value}, but the trigger's other conditions do not hold"
                )
            }
            (Some(_), Some(value)) => {
                format!("the deal is at stage {value}; the handoff fires at {stages}")
            }
            (Some(_), None) => format!("the deal has no stage; the handoff fires at {stages}"),
            (None, _) => "the trigger condition does not hold".to_string(),
        };
        Reason {
            field: path.map(|p| p.display.clone()),
            value: stage.map(Value::to_string),
            ..Reason::new(Code::M503, message)
        }
    }

    /// Every requirement of the deal's stage (all of them when the stage is not text).
    fn check_requirements(&self, trees: &Trees<'_>, stage: Option<&Value>) -> Phase<()> {
        let stage = stage.and_then(Value::as_str);
        let mut reasons = Vec::new();
        for requirement in &self.program.requirements {
            if stage.is_some_and(|s| !requirement.stages.iter().any(|r| r == s)) {
                continue;
            }
            let message = match holds(&requirement.condition, trees, &self.program.tables) {
                Ok(true) => continue,
                Ok(false) => requirement.message.clone(),
                Err(failure) => format!("{} ({})", requirement.message, failure.describe()),
            };
            let value = tested_paths(&requirement.condition).first().map(|path| {
                trees
                    .read(path)
                    .map_or("absent".to_string(), Value::to_string)
            });
            reasons.push(Reason {
                code: Code::M504,
                message,
                field: (!requirement.fields.is_empty()).then(|| requirement.fields.join(", ")),
                value,
                rule: Some(requirement.origin.clone()),
            });
        }
        match reasons.is_empty() {
            true => Ok(()),
            false => Err(Outcome::rejected("require", reasons)),
        }
    }

    /// The value one write stores, if any: coerced, with never-transfer members stripped.
    fn value_of(
        &self,
        index: usize,
        write: &Write,
        trees: &Trees<'_>,
        branches: &mut Vec<(usize, usize)>,
    ) -> Result<Option<Value>, Reason> {
        let tables = &self.program.tables;
        let (expr, origin) = match &write.kind {
            WriteKind::Map(expr) => (expr, &write.origin),
            WriteKind::Select { arms, otherwise } => {
                let mut chosen = None;
                for (arm, (condition, value, origin)) in arms.iter().enumerate() {
                    if holds(condition, trees, tables)
                        .map_err(|f| failure_reason(&f, Some(origin)))?
                    {
                        chosen = Some((arm, value, origin));
                        break;
                    }
                }
                let otherwise = otherwise
                    .as_ref()
                    .map(|(value, origin)| (arms.len(), value, origin));
                let Some((arm, value, origin)) = chosen.or(otherwise) else {
                    return Ok(None);
                };
                branches.push((index, arm));
                (value, origin)
            }
        };
        let value = eval(expr, trees, tables).map_err(|f| failure_reason(&f, Some(origin)))?;
        if value.is_absent() {
            return Ok(None);
        }
        let mut json = coerce(value, write.coerce).into_json();
        if let WriteKind::Map(CExpr::Path(copied)) = &write.kind
            && copied.record != RecordRef::Target
        {
            for protected in self
                .program
                .never_transfer
                .iter()
                .filter(|p| p.record == copied.record)
            {
                if let Some(rest) = inside(&copied.steps, &protected.steps) {
                    strip(&mut json, &rest);
                }
            }
        }
        Ok(Some(json))
    }
}

/// Join keys are equal as numbers, exactly, when both read as numbers (`"42"` joins `42`),
/// else as non-empty text.
fn same_key(a: &Value, b: &Value) -> bool {
    let number = |v: &Value| match v {
        Value::Number(n) => Some(n.clone()),
        Value::String(s) => crate::value::number::parse_loose(s),
        _ => None,
    };
    match (number(a), number(b)) {
        (Some(x), Some(y)) => crate::value::number::same(&x, &y),
        (None, None) => a.as_str().is_some_and(|s| !s.is_empty()) && same(a, b),
        _ => false,
    }
}

pub(super) fn failure_reason(failure: &Failure, origin: Option<&Origin>) -> Reason {
    Reason {
        code: Code::M505,
        message: failure.describe(),
        field: failure.field.clone(),
        value: Some(failure.value.clone()),
        rule: origin.cloned(),
    }
}

/// `/properties/amount` as `.properties.amount`, array indexes as `[0]`.
pub(super) fn dotted(pointer: &str) -> String {
    crate::schema::locate::pointer_segments(pointer)
        .iter()
        .map(
            |s| match !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
                true => format!("[{s}]"),
                false => format!(".{s}"),
            },
        )
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

/// The conversion the target field's schema asks for.
fn coerce(value: Val<'_>, coercion: Coercion) -> Val<'_> {
    match (coercion, value) {
        (Coercion::WholeToInteger, Val::Num(d)) => match crate::value::number::whole_i64(d) {
            Some(whole) => Val::Int(whole),
            None => Val::Num(d),
        },
        (Coercion::DateOnly, Val::DateTime(t)) => Val::Date(t.date_naive()),
        (Coercion::DateTimeText, Val::Date(d)) => match d.and_hms_opt(0, 0, 0) {
            Some(midnight) => Val::DateTime(midnight.and_utc().fixed_offset()),
            None => Val::Date(d),
        },
        (_, value) => value,
    }
}
