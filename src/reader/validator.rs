//! The validator of one record: the fast path's compiled shape when the schema allows one, the
//! `jsonschema` crate's otherwise; the same violations either way.

use std::path::Path;

use serde_json::Value;

use super::shape::{Failure, ShapeId, Shapes};
use crate::schema::SchemaSet;
use crate::schema::validate::{MAX_VIOLATIONS, SchemaValidator, Violation};

/// The validator of one record: the fast one when the schema allows, `jsonschema` otherwise.
pub enum RecordValidator {
    /// Compiled into [`Shapes`].
    Fast(ShapeId),
    /// The general validator.
    Full(Box<SchemaValidator>),
}

impl RecordValidator {
    /// Builds the validator of the schema file at `path` (which `set` loaded).
    pub fn build(
        set: &SchemaSet,
        path: &Path,
        shapes: &mut Shapes,
    ) -> Result<RecordValidator, String> {
        let root = set
            .docs
            .iter()
            .position(|d| d.path == path)
            .and_then(|index| set.node_id(crate::schema::model::DocId(index as u32), ""));
        if let Some(shape) = root.and_then(|node| shapes.compile(set, node)) {
            return Ok(RecordValidator::Fast(shape));
        }
        SchemaValidator::build(set, path).map(|v| RecordValidator::Full(Box::new(v)))
    }

    /// The fast shape, when there is one.
    pub fn shape(&self) -> Option<ShapeId> {
        match self {
            RecordValidator::Fast(shape) => Some(*shape),
            RecordValidator::Full(_) => None,
        }
    }

    /// The violations of `value` (at most ten).
    pub fn violations(&self, shapes: &Shapes, value: &Value) -> Vec<Violation> {
        match self {
            RecordValidator::Full(validator) => validator.violations(value),
            RecordValidator::Fast(shape) => {
                // Most records are valid: locate failures only when there are some.
                if shapes.is_valid_quick(*shape, value, MAX_VIOLATIONS) {
                    return Vec::new();
                }
                let mut failures = Vec::new();
                shapes.validate(
                    *shape,
                    value,
                    &mut String::new(),
                    &mut failures,
                    MAX_VIOLATIONS,
                );
                // The first ten in reading order (a check may add a few past the limit).
                failures.truncate(MAX_VIOLATIONS);
                failures.into_iter().map(Violation::from).collect()
            }
        }
    }
}

impl From<Failure> for Violation {
    fn from(failure: Failure) -> Violation {
        let missing = failure.missing.map(|name| {
            let mut fields = crate::schema::locate::pointer_segments(&failure.pointer);
            fields.push(name);
            fields
        });
        Violation {
            pointer: failure.pointer,
            message: failure.message,
            missing,
        }
    }
}
