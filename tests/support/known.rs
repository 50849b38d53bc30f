//! The fast engine's known differences from the reference interpreter: each a defect (or an
//! inconsistency) of the fast engine that the law found, with a minimal deal and a repair that
//! rewrites the fast outcome as the fixed engine would give it.

use mapctl::diag::Code;
use mapctl::reference::{Outcome, Reason};

use super::Said;

/// A fast-engine defect the law has found: how to undo it in an outcome, and a minimal deal
/// that shows it.
pub struct Known {
    pub name: &'static str,
    /// Why the fast engine is wrong (or inconsistent) here.
    pub why: &'static str,
    /// The mapping and a minimal deal (JSON text, or bytes) whose outcomes differ this way.
    pub mapping: &'static str,
    pub deal: &'static [u8],
    pub back: bool,
    /// Rewrites the fast outcome as it would be without the defect (the reference's outcome
    /// shows what the fixed engine would say); true when it changed something.
    pub repair: fn(fast: &mut Said, reference: &Said) -> bool,
}

pub const KNOWN: &[Known] = &[
    Known {
        name: "two texts for one duplicate key",
        why: "the streaming reader says `the key \"id\" appears twice in one object; ...` where the strict parser \
              (single documents, arrays, the first line of an input, sync back) says `..., with the same value; ...`: \
              the same deal gets two M512 messages depending on where it sits in the input",
        mapping: "bench/reference.map",
        deal: br#"{"id":"1","id":"1"}"#,
        back: false,
        repair: |fast, reference| {
            let (Some(f), Some(r)) = (
                parse_message(fast, Code::M512),
                parse_message(reference, Code::M512),
            ) else {
                return false;
            };
            let shortened = r
                .replace(", with the same value;", ";")
                .replace(", with different values;", ";");
            (f != r && f == shortened)
                .then(|| *fast = reference.clone())
                .is_some()
        },
    },
    Known {
        name: "not UTF-8 reported as the syntax error after it",
        why: "text that is not UTF-8 is checked by skipping it as JSON: when a syntax error follows the bad bytes, M501 \
              names that error and its column instead of the invalid code point that comes first",
        mapping: "bench/reference.map",
        deal: b"{\"id\":\"\xff\"x\"}",
        back: false,
        repair: |fast, reference| {
            let (Some(f), Some(r)) = (
                parse_message(fast, Code::M501),
                parse_message(reference, Code::M501),
            ) else {
                return false;
            };
            (r.contains("invalid unicode code point") && f != r)
                .then(|| *fast = reference.clone())
                .is_some()
        },
    },
    Known {
        name: "streaming reader words a wrong array or object differently",
        why: "when the mapping has no never-transfer fields, source violations come from the streaming reader, which \
              says `an array is not allowed here: expected string or null` (or `an array is not one of ...`) where \
              the validator of parsed deals (and every other mapping) says `[1,2] is not of type string or null` \
              (`[] is not one of ...`)",
        mapping: "tests/apply/target_schema_violation/mapping.map",
        deal: br#"{"id":"a1","stage":"won","name":[1,2]}"#,
        back: false,
        repair: |fast, reference| {
            let (Some(fast), Some(reference)) =
                (source_reasons(fast), source_reasons_of(reference))
            else {
                return false;
            };
            let mut changed = false;
            for reason in fast.iter_mut() {
                let Some((subject, expected)) = container_wording(&reason.message) else {
                    continue;
                };
                let reworded = reference.iter().find(|r| {
                    r.field == reason.field
                        && r.message.starts_with(&format!("{subject} "))
                        && (r.message.ends_with(&format!(" is not of type {expected}"))
                            || r.message.ends_with(&format!(" is not one of {expected}")))
                });
                if let Some(reworded) = reworded {
                    reason.message = reworded.message.clone();
                    changed = true;
                }
            }
            changed
        },
    },
    Known {
        name: "streaming reader lists missing required members last",
        why: "when the mapping has no never-transfer fields, the streaming reader reports a missing required member \
              after the problems of the object's members (at the object's end); the validator of parsed deals reports \
              it first",
        mapping: "tests/apply/target_schema_violation/mapping.map",
        deal: br#"{"id":1}"#,
        back: false,
        repair: |fast, reference| {
            let (Some(fast), Some(reference)) =
                (source_reasons(fast), source_reasons_of(reference))
            else {
                return false;
            };
            // The same reasons, in the same order but for where missing members are listed.
            let required = |r: &&Reason| r.message.ends_with(" is a required property");
            let others = |reasons: &[Reason]| {
                reasons
                    .iter()
                    .filter(|r| !required(r))
                    .cloned()
                    .collect::<Vec<_>>()
            };
            let sorted = |reasons: &[Reason]| {
                let mut texts: Vec<String> = reasons.iter().map(|r| format!("{r:?}")).collect();
                texts.sort();
                texts
            };
            let moved = fast != reference
                && sorted(fast) == sorted(reference)
                && others(fast) == others(reference);
            if moved {
                *fast = reference.clone();
            }
            moved
        },
    },
    Known {
        name: "jsonschema's words when a schema has a keyword the fast validator lacks",
        why: "a schema with a keyword the fast validator does not compile (here `minProperties`) is validated by \
              `jsonschema`, whose messages are passed on as they are: `1 is not of type \"string\"`, `[\"x\"] is \
              not of types \"null\", \"string\"`, where every other schema gets `1 is not of type string`; one \
              unrelated keyword changes how every violation of the record is worded, counted (a value of the wrong type \
              is also said to be outside its enum) and ordered",
        mapping: "tests/support/unsupported/mapping.map",
        deal: br#"{"id":1,"stage":"won","name":["x"]}"#,
        back: false,
        repair: |fast, reference| {
            let (
                Outcome::Rejected { phase, reasons },
                Outcome::Rejected {
                    phase: expected,
                    reasons: worded,
                },
            ) = (&mut fast.1, &reference.1)
            else {
                return false;
            };
            // The same fields, said (and counted, and ordered) as `jsonschema` says them.
            let fields = |reasons: &[Reason]| {
                let mut fields: Vec<Option<String>> =
                    reasons.iter().map(|r| r.field.clone()).collect();
                fields.sort();
                fields.dedup();
                fields
            };
            let in_its_words = reasons.iter().any(|r| in_jsonschema_words(&r.message));
            if phase != expected || !in_its_words || fields(reasons) != fields(worded) {
                return false;
            }
            *reasons = worded.clone();
            true
        },
    },
];

/// True for a violation as `jsonschema` words it (mapctl's words differ).
fn in_jsonschema_words(message: &str) -> bool {
    [
        " is not of type \"",
        " is not of types \"",
        " is not a \"",
        "Additional properties are not allowed",
        " has less than ",
        " has more than ",
        "or equal to the m",
        " was expected",
        " is not one of [",
        " is not valid under any of the schemas",
        "False schema does not allow",
        "\" or \"",
    ]
    .iter()
    .any(|marker| message.contains(marker))
}

/// The message of a one-reason parse rejection with `code`.
fn parse_message(said: &Said, code: Code) -> Option<&str> {
    match &said.1 {
        Outcome::Rejected {
            phase: "parse",
            reasons,
        } if reasons.len() == 1 && reasons[0].code == code => Some(&reasons[0].message),
        _ => None,
    }
}

/// The reasons of a source validation rejection, to change.
fn source_reasons(said: &mut Said) -> Option<&mut Vec<Reason>> {
    match &mut said.1 {
        Outcome::Rejected {
            phase: "validate-source",
            reasons,
        } => Some(reasons),
        _ => None,
    }
}

fn source_reasons_of(said: &Said) -> Option<&Vec<Reason>> {
    match &said.1 {
        Outcome::Rejected {
            phase: "validate-source",
            reasons,
        } => Some(reasons),
        _ => None,
    }
}

/// "`deal.name` an array is not allowed here: expected string or null" as its subject and the
/// kinds expected.
fn container_wording(message: &str) -> Option<(&str, &str)> {
    let (subject, rest) = message
        .split_once(" an array is not allowed here: expected ")
        .or_else(|| message.split_once(" an object is not allowed here: expected "))
        .or_else(|| message.split_once(" an array is not one of "))
        .or_else(|| message.split_once(" an object is not one of "))?;
    Some((subject, rest))
}
