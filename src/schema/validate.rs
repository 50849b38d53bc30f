//! JSON Schema validation of deals and records with the `jsonschema` crate, offline.
//!
//! Every schema document the checker loaded is handed to the validator up front, under its
//! `$id` and its `file://` URI and under every URI a relative `$ref` resolves to; the retriever
//! serves only those and refuses everything else, so validation never touches the network or a
//! file the checker did not already read. `format` is validated too (`date`, `date-time`,
//! `email` ...): a PSA that wants a date must not receive "14.03.2025". Violations are said in
//! mapctl's words, as the reader's shapes say them (`violations.rs`).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use jsonschema::{PatternOptions, Retrieve, Uri, Validator};
use serde_json::Value;

use super::SchemaSet;
use super::resources::file_uri;
use crate::io::files::normalise;

/// A compiled validator for one record's schema.
pub struct SchemaValidator {
    inner: Validator,
}

/// One validation failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// JSON pointer into the validated value (`/budget`).
    pub pointer: String,
    /// What is wrong, in mapctl's words (the reader's shapes and `violations.rs` agree).
    pub message: String,
    /// For a missing required property: its path from the root (field names).
    pub missing: Option<Vec<String>>,
}

/// Most violations reported per record.
pub const MAX_VIOLATIONS: usize = 10;

impl SchemaValidator {
    /// Builds the validator for the schema file at `path`, which `set` has loaded.
    pub fn build(set: &SchemaSet, path: &Path) -> Result<SchemaValidator, String> {
        let root = set
            .docs
            .iter()
            .find(|d| d.path == path)
            .ok_or_else(|| format!("schema `{}` was not loaded", path.display()))?;
        let mut root_value = Value::clone(&root.value);
        strip_unknown_dialect(&mut root_value);
        let inner = jsonschema::options()
            .with_base_uri(base_uri(root))
            .with_retriever(LoadedOnly(resources(set)))
            .with_pattern_options(PatternOptions::regex())
            .should_validate_formats(true)
            .build(&root_value)
            .map_err(|e| {
                format!(
                    "schema `{}` cannot be compiled for validation: {e}",
                    path.display()
                )
            })?;
        Ok(SchemaValidator { inner })
    }

    /// The compiled `jsonschema` validator, for callers that word its errors themselves (the
    /// reference interpreter).
    pub fn into_inner(self) -> Validator {
        self.inner
    }

    /// True when `value` is valid.
    pub fn is_valid(&self, value: &Value) -> bool {
        self.inner.is_valid(value)
    }

    /// The violations of `value` (at most ten, in reading order, in mapctl's words: see
    /// `violations.rs`), empty when valid.
    pub fn violations(&self, value: &Value) -> Vec<Violation> {
        if self.inner.is_valid(value) {
            return Vec::new();
        }
        super::violations::violations(&self.inner, value)
    }
}

fn base_uri(doc: &super::model::Doc) -> String {
    doc.id.clone().unwrap_or_else(|| file_uri(&doc.path))
}

/// Removes a `$schema` the validator would not know (check already warned with M606).
fn strip_unknown_dialect(value: &mut Value) {
    if let Value::Object(map) = value {
        let unknown = map.get("$schema").is_some_and(|d| {
            d.as_str().is_none_or(|uri| {
                jsonschema::Draft::from_schema_uri(uri) == jsonschema::Draft::Unknown
            })
        });
        if unknown {
            map.remove("$schema");
        }
    }
}

/// Every loaded document under every URI a reference may name it by (shared, not copied: a
/// document is copied only when the validator asks for it).
fn resources(set: &SchemaSet) -> HashMap<String, Arc<Value>> {
    let mut map = HashMap::new();
    for doc in &set.docs {
        map.insert(file_uri(&doc.path), Arc::clone(&doc.value));
        if let Some(id) = &doc.id {
            map.insert(id.clone(), Arc::clone(&doc.value));
        }
        let dir = doc.path.parent().map(Path::to_path_buf).unwrap_or_default();
        let base = base_uri(doc);
        for reference in file_references(&doc.value) {
            let target_path = normalise(&dir.join(&reference));
            let Some(target) = set.docs.iter().find(|d| d.path == target_path) else {
                continue;
            };
            let Ok(base) = jsonschema::uri::from_str(&base) else {
                continue;
            };
            if let Ok(resolved) = jsonschema::uri::resolve_against(&base.borrow(), &reference) {
                map.insert(resolved.as_str().to_string(), Arc::clone(&target.value));
            }
        }
    }
    map
}

/// The file parts of relative `$ref`s in a document (searched without recursion).
fn file_references(root: &Value) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![root];
    while let Some(value) = stack.pop() {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(reference)) = map.get("$ref") {
                    let file = reference.split('#').next().unwrap_or("");
                    if !file.is_empty() && !file.contains(':') && !found.iter().any(|f| f == file) {
                        found.push(file.to_string());
                    }
                }
                stack.extend(map.values());
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    found
}

/// A retriever that serves the documents the checker loaded, and nothing else.
struct LoadedOnly(HashMap<String, Arc<Value>>);

impl Retrieve for LoadedOnly {
    fn retrieve(
        &self,
        uri: &Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let key = uri.as_str().split('#').next().unwrap_or("");
        let document = self.0.get(key).ok_or_else(|| {
            format!("mapctl does not fetch `{key}`: only schemas named by the mapping are used")
        })?;
        let mut value = Value::clone(document);
        strip_unknown_dialect(&mut value);
        Ok(value)
    }
}
