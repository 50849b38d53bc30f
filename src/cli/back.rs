//! `apply --direction back`: each PSA record's sync-back patch, labelled with the CRM deal it
//! is for. The deal's id is read back from the project's key field (`ops::back`), becomes the
//! outcome's `deal_id` (so envelopes, rejects and the run log name the CRM deal, not the PSA
//! record) and the patch's `id` (so the patch says which deal to update, as the CRMs' batch
//! update inputs do: `{"id": ..., "properties": {...}}`).

use serde_json::Value;

use crate::engine::{Applied, Deal, Direction, Mapping, Outcome, Record};
use crate::io::input::{InputItem, Payload};
use crate::ops::back::DealIdField;

/// What a back run knows about reading deal ids from PSA records.
pub(super) struct BackRun {
    field: Option<DealIdField>,
    warned: bool,
}

impl BackRun {
    /// For `mapping`: where its projects hold their deal's id, if anywhere.
    pub(super) fn new(mapping: &Mapping) -> BackRun {
        BackRun {
            field: DealIdField::of(mapping.program()),
            warned: false,
        }
    }

    /// Runs the sync-back rules on one input item.
    pub(super) fn apply(&mut self, mapping: &Mapping, item: InputItem<'_>) -> Applied {
        let parsed;
        let project = match &item.value {
            Ok(Payload::Parsed(value)) => value,
            Ok(Payload::Text(text)) => match serde_json::from_slice::<Value>(text) {
                Ok(value) => {
                    parsed = value;
                    &parsed
                }
                Err(_) => return mapping.apply_item(item, None, Direction::Back),
            },
            Err(_) => return mapping.apply_item(item, None, Direction::Back),
        };
        let mut applied = mapping.sync_back(Deal::Value(project));
        let deal_id = self.field.as_ref().and_then(|f| f.read(project));
        if deal_id.is_none() && !self.warned {
            self.warned = true;
            errln!("{}", self.missing_note(mapping));
        }
        if let (Outcome::Written { record, .. }, Some(id)) = (&mut applied.outcome, &deal_id) {
            let mut patch = record.to_value();
            if let Value::Object(fields) = &mut patch {
                fields.shift_insert(0, "id".to_string(), Value::String(id.clone()));
                *record = Record::from(patch);
            }
        }
        applied.deal_id = deal_id;
        applied
    }

    fn missing_note(&self, mapping: &Mapping) -> String {
        match &self.field {
            Some(field) => format!(
                "note: a PSA record holds no deal id in `{}`: its patch names no CRM deal (`deal_id` null)",
                field.display()
            ),
            None => format!(
                "note: `{}` writes the deal's id into no PSA field as a plain copy or a template around it, so patches cannot name their CRM deal (`deal_id` null)",
                mapping.name()
            ),
        }
    }
}
