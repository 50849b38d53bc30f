//! Sync back's other half: which CRM deal a PSA record belongs to. A project carries its deal's
//! id in the key field (`project.source.deal_id = deal.id`, or a template such as
//! `job.crm_deal_id = "HS-{deal.id}"`); reading it back (and taking the template's literal text
//! off) gives the id the CRM patch is for.

use serde_json::Value;

use super::compare::{self, KeyField};
use crate::check::program::{CExpr, CPart, PathStep, Program, RecordRef, WriteKind};

/// How a project's key field holds its deal's id.
#[derive(Debug, Clone)]
pub struct DealIdField {
    key: KeyField,
    prefix: String,
    suffix: String,
}

impl DealIdField {
    /// The key field of `program` when it holds the deal's id whole: a plain copy of `id`, or a
    /// template whose only interpolation is the id. `None` otherwise (the id cannot be read back).
    pub fn of(program: &Program) -> Option<DealIdField> {
        let key = compare::key_field(program, None).ok()?;
        let write = program.writes.iter().find(|w| w.target == key.target)?;
        let WriteKind::Map(expr) = &write.kind else {
            return None;
        };
        let (prefix, suffix) = match expr {
            CExpr::Path(path) if is_deal_id(path.record, &path.steps) => {
                (String::new(), String::new())
            }
            CExpr::Template(parts) => template_around_id(parts)?,
            _ => return None,
        };
        Some(DealIdField {
            key,
            prefix,
            suffix,
        })
    }

    /// The deal id a PSA record holds, when it holds one in the expected form.
    pub fn read(&self, project: &Value) -> Option<String> {
        let text = compare::key_of(project, &self.key)?;
        let id = text
            .strip_prefix(&self.prefix)?
            .strip_suffix(&self.suffix)?;
        (!id.is_empty()).then(|| id.to_string())
    }

    /// The key field, as the mapping writes it.
    pub fn display(&self) -> &str {
        &self.key.display
    }
}

fn is_deal_id(record: RecordRef, steps: &[PathStep]) -> bool {
    record == RecordRef::Source(0) && steps == [PathStep::Field("id".into())]
}

/// `(prefix, suffix)` of a template `"PREFIX{deal.id}SUFFIX"`; `None` for any other template.
fn template_around_id(parts: &[CPart]) -> Option<(String, String)> {
    let at = parts.iter().position(|part| {
        matches!(part, CPart::Expr(CExpr::Path(path)) if is_deal_id(path.record, &path.steps))
    })?;
    let text = |slice: &[CPart]| -> Option<String> {
        slice
            .iter()
            .map(|part| match part {
                CPart::Text(text) => Some(text.as_str()),
                CPart::Expr(_) => None,
            })
            .collect()
    };
    Some((text(&parts[..at])?, text(&parts[at + 1..])?))
}
