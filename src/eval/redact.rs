//! Keeping never-transfer values out of rejections. A rejection is written to a file and to the
//! terminal, both places a rate card or a billing note must not reach: every text form of each
//! protected value (as written, JSON-escaped, and cut short the way messages quote long strings)
//! is replaced by a marker before a rejection leaves the engine.

use std::borrow::Cow;

use serde_json::Value;

use super::outcome::Outcome;
use super::read::{Records, Target};
use super::run::Runner;
use crate::check::program::{PathStep, RecordRef};

/// What replaces a never-transfer value in a message.
pub const WITHHELD: &str = "<withheld: never-transfer field>";

impl Runner {
    /// `outcome` with never-transfer values of `input` removed from its rejection reasons
    /// (`owned`: the values the reader kept only by slot, empty for a deal parsed whole).
    pub(super) fn withhold_protected(
        &self,
        input: &Value,
        owned: &[Option<Value>],
        outcome: Outcome,
    ) -> Outcome {
        let Outcome::Rejected { phase, mut reasons } = outcome else {
            return outcome;
        };
        if !self.program.never_transfer.is_empty() {
            let leaves = self.protected_leaves(input, owned);
            let forms = secret_forms(&leaves);
            for reason in &mut reasons {
                scrub(&mut reason.message, &forms);
                if let Some(value) = &mut reason.value {
                    scrub(value, &forms);
                }
            }
        }
        Outcome::Rejected { phase, reasons }
    }

    /// The text values of the never-transfer fields of a deal, leaf by leaf (for leak checks in
    /// tests): strings of four characters or more, and numbers of four digits or more.
    pub fn protected_values(&self, input: &Value) -> Vec<String> {
        self.protected_leaves(input, &[])
    }

    /// [`Runner::protected_values`] of a deal the reader projected (`owned`: its slot values).
    fn protected_leaves(&self, input: &Value, owned: &[Option<Value>]) -> Vec<String> {
        if let Some(values) = self.protected_in_slots(owned) {
            return text_leaves(values);
        }
        let Ok((sources, _)) = self.assemble(input) else {
            return Vec::new();
        };
        let empty = Value::Null;
        let mut slots = Vec::new();
        let records = if owned.is_empty() {
            Records::by_name(&sources, Target::Json(&empty))
        } else {
            self.reader.resolve(&sources, owned, &mut slots);
            Records {
                sources: &sources,
                target: Target::Json(&empty),
                slots: &slots,
                slot_of: self.reader.slot_of(),
            }
        };
        text_leaves(
            self.program
                .never_transfer
                .iter()
                .filter_map(|path| records.read(path))
                .collect(),
        )
    }

    /// The never-transfer values of a projected deal when the reader kept every one of them
    /// by slot (the common case: no assembling of records, no walk of the kept tree); `None`
    /// when one is missing or held elsewhere.
    fn protected_in_slots<'v>(&self, owned: &'v [Option<Value>]) -> Option<Vec<&'v Value>> {
        if owned.is_empty() {
            return None;
        }
        let slot_of = self.reader.slot_of();
        self.program
            .never_transfer
            .iter()
            .map(|path| {
                let node = (*slot_of.get(path.id.index())?)? as usize;
                owned.get(node)?.as_ref()
            })
            .collect()
    }
}

/// The text leaves of `values` worth withholding: strings of four characters or more and
/// numbers of four digits or more.
fn text_leaves(mut stack: Vec<&Value>) -> Vec<String> {
    let mut leaves = Vec::new();
    while let Some(value) = stack.pop() {
        match value {
            Value::String(s) if at_least_4_chars(s.trim()) => leaves.push(s.clone()),
            Value::Number(n) => {
                let digits = n.to_string();
                if digits.len() >= 4 {
                    leaves.push(digits);
                }
            }
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => stack.extend(map.values()),
            _ => {}
        }
    }
    leaves
}

impl Runner {
    /// A schema violation's message with the quoted value withheld when the violation is at or
    /// around a never-transfer field of source record `record` (a `properties` that is an array
    /// holds the protected values without any of them being at its path).
    pub(super) fn withhold_in_violation(
        &self,
        record: usize,
        record_value: &Value,
        pointer: &str,
        message: String,
    ) -> String {
        if !self.touches_never_transfer(record, pointer) {
            return message;
        }
        let Some(value) = record_value.pointer(pointer) else {
            return message;
        };
        let mut message = message;
        let whole = value.to_string();
        let shown = crate::reader::shape::short(value);
        let forms = [whole, shown];
        for form in forms.iter().filter(|f| f.len() >= 4) {
            message = message.replace(form.as_str(), WITHHELD);
        }
        message
    }

    /// True when the value at `pointer` in source record `record` is a never-transfer field,
    /// lies inside one, or contains one.
    fn touches_never_transfer(&self, record: usize, pointer: &str) -> bool {
        let segments = crate::schema::locate::pointer_segments(pointer);
        self.program
            .never_transfer
            .iter()
            .filter(|path| path.record == RecordRef::Source(record))
            .any(|path| {
                path.steps
                    .iter()
                    .zip(&segments)
                    .all(|(step, segment)| match step {
                        PathStep::Field(name) => name == segment,
                        PathStep::Index(_) | PathStep::Search { .. } => true,
                    })
            })
    }
}

/// Every way a protected value can appear in a message, longest first (so a long form is
/// replaced whole before a shorter form inside it).
fn secret_forms(values: &[String]) -> Vec<Cow<'_, str>> {
    let mut forms: Vec<Cow<'_, str>> = Vec::with_capacity(values.len());
    for value in values {
        forms.push(Cow::Borrowed(value));
        let escaped = json_escaped(value);
        // Long strings are quoted as their first 55 characters followed by `..."`.
        if let Some(end) = end_of_55_chars(&escaped) {
            forms.push(Cow::Owned(escaped[..end].to_string()));
        }
        if let Cow::Owned(escaped) = escaped {
            forms.push(Cow::Owned(escaped));
        }
    }
    forms.sort_by_key(|form| std::cmp::Reverse(form.len()));
    forms.dedup();
    forms
}

/// True when `text` has four characters or more (sixteen bytes always hold four: no count).
fn at_least_4_chars(text: &str) -> bool {
    text.len() >= 16 || text.chars().count() >= 4
}

/// `value` as it appears between the quotes of a JSON string (borrowed when nothing in it is
/// escaped, the common case).
fn json_escaped(value: &str) -> Cow<'_, str> {
    if crate::io::compact::clean_prefix_len(value.as_bytes()) == value.len() {
        return Cow::Borrowed(value);
    }
    let mut quoted = Vec::with_capacity(value.len() + 8);
    crate::io::compact::write_str(value, &mut quoted);
    Cow::Owned(String::from_utf8_lossy(&quoted[1..quoted.len() - 1]).into_owned())
}

/// Where the 56th character of `text` starts, `None` when it has 55 characters or fewer (an
/// ASCII prefix, the common case, is cut without counting characters one by one).
fn end_of_55_chars(text: &str) -> Option<usize> {
    const CUT: usize = 55;
    if text.len() <= CUT {
        return None;
    }
    if text.as_bytes()[..CUT].is_ascii() {
        return Some(CUT);
    }
    text.char_indices().nth(CUT).map(|(end, _)| end)
}

/// `text` with every form replaced by [`WITHHELD`] (a form longer than the text is skipped
/// before a substring search is set up for it: most messages are much shorter than a secret).
fn scrub(text: &mut String, forms: &[Cow<'_, str>]) {
    for form in forms {
        if form.len() <= text.len() && text.contains(form.as_ref()) {
            *text = text.replace(form.as_ref(), WITHHELD);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_of_a_secret_is_replaced() {
        let secret = "Principal 260/h; \"Senior\" 174/h; floor margin 50%; do not share externally";
        let secrets = [secret.to_string(), "987654321".to_string()];
        let forms = secret_forms(&secrets);
        let quoted = Value::String(secret.to_string()).to_string();
        let short = format!("{}...\"", quoted.chars().take(56).collect::<String>());
        for message in [
            format!("{quoted} is too long"),
            format!("{short} is longer than 40 characters"),
            "987654321 is not of type string".to_string(),
        ] {
            let mut text = message.clone();
            scrub(&mut text, &forms);
            assert!(text.contains(WITHHELD), "{text}");
            assert!(
                !text.contains("174/h") && !text.contains("987654321"),
                "{text}"
            );
        }
    }
}
