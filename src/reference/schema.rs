//! Offline `jsonschema` validators for the reference interpreter: `schema::validate` builds them
//! from the documents `check` loaded (each known under its `file://` URI, its `$id`, and the URI
//! each relative `$ref` to it resolves to; nothing else can be fetched; formats asserted,
//! patterns by the `regex` crate). The reference only words their errors its own way.

use std::path::Path;

use jsonschema::Validator;

use crate::schema::SchemaSet;
use crate::schema::validate::SchemaValidator;

/// The validator of the schema file at `path`, which `set` loaded.
pub fn validator(set: &SchemaSet, path: &Path) -> Result<Validator, String> {
    SchemaValidator::build(set, path).map(SchemaValidator::into_inner)
}
