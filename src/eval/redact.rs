//! Keeping never-transfer values out of rejections. A rejection is written to a file and to the
//! terminal, both places a rate card or a billing note must not reach: every text form of each
//! protected value (as written, JSON-escaped, and cut short the way messages quote long strings)
//! is replaced by a marker before a rejection leaves the engine.

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
            let forms = secret_forms(&self.protected_leaves(input, owned));
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
fn secret_forms(values: &[String]) -> Vec<String> {
    let mut forms = Vec::new();
    let mut quoted = Vec::new();
    for value in values {
        quoted.clear();
        crate::io::compact::write_str(value, &mut quoted);
        let escaped = String::from_utf8_lossy(&quoted[1..quoted.len() - 1]).into_owned();
        // Long strings are quoted as their first 55 characters followed by `..."`.
        let cut = escaped
            .char_indices()
            .nth(55)
            .map(|(end, _)| escaped[..end].to_string());
        forms.push(value.clone());
        forms.extend(cut.filter(|c| c.chars().count() >= 4));
        forms.push(escaped);
    }
    forms.sort_by_key(|form| std::cmp::Reverse(form.len()));
    forms.dedup();
    forms
}

fn scrub(text: &mut String, forms: &[String]) {
    for form in forms {
        if text.contains(form.as_str()) {
            *text = text.replace(form.as_str(), WITHHELD);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_of_a_secret_is_replaced() {
        let secret = "Principal 260/h; \"Senior\" 174/h; floor margin 50%; do not share externally";
        let forms = secret_forms(&[secret.to_string(), "987654321".to_string()]);
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
