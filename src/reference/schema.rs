//! Offline `jsonschema` validators for the reference interpreter, built from the schema
//! documents `check` loaded: each document is known under its `file://` URI, its `$id`, and the
//! URI each relative `$ref` to it resolves to; nothing else can be fetched. Formats are
//! asserted (a PSA that wants a date must not receive "14.03.2025"), patterns use the `regex`
//! crate, as everywhere in mapctl.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use jsonschema::{PatternOptions, Retrieve, Uri, Validator};
use serde_json::Value;

use crate::schema::SchemaSet;
use crate::schema::load::normalise;
use crate::schema::model::Doc;

/// The validator of the schema file at `path`, which `set` loaded.
pub fn validator(set: &SchemaSet, path: &Path) -> Result<Validator, String> {
    let doc = set
        .docs
        .iter()
        .find(|d| d.path == path)
        .ok_or_else(|| format!("schema `{}` was not loaded", path.display()))?;
    jsonschema::options()
        .with_base_uri(base_uri(doc))
        .with_retriever(Loaded(documents(set)))
        .with_pattern_options(PatternOptions::regex())
        .should_validate_formats(true)
        .build(&known_dialect(&doc.value))
        .map_err(|e| format!("schema `{}` cannot be compiled: {e}", path.display()))
}

fn base_uri(doc: &Doc) -> String {
    doc.id.clone().unwrap_or_else(|| file_uri(&doc.path))
}

fn file_uri(path: &Path) -> String {
    let text = path
        .to_string_lossy()
        .replace('\\', "/")
        .replace(' ', "%20");
    match text.strip_prefix('/') {
        Some(rest) => format!("file:///{rest}"),
        None => format!("file:///{text}"),
    }
}

/// The document without a `$schema` that `jsonschema` does not know (check warned, M606).
fn known_dialect(document: &Value) -> Value {
    let mut document = document.clone();
    if let Value::Object(map) = &mut document {
        let known = map.get("$schema").is_none_or(|dialect| {
            dialect.as_str().is_some_and(|uri| {
                jsonschema::Draft::from_schema_uri(uri) != jsonschema::Draft::Unknown
            })
        });
        if !known {
            map.remove("$schema");
        }
    }
    document
}

/// Every loaded document by every URI a reference may name it with.
fn documents(set: &SchemaSet) -> HashMap<String, Arc<Value>> {
    let mut by_uri = HashMap::new();
    for doc in &set.docs {
        by_uri.insert(file_uri(&doc.path), Arc::clone(&doc.value));
        if let Some(id) = &doc.id {
            by_uri.insert(id.clone(), Arc::clone(&doc.value));
        }
        let Ok(base) = jsonschema::uri::from_str(&base_uri(doc)) else {
            continue;
        };
        let dir = doc.path.parent().unwrap_or(Path::new(""));
        for file in relative_refs(&doc.value) {
            let path = normalise(&dir.join(&file));
            let target = set.docs.iter().find(|d| d.path == path);
            let resolved = jsonschema::uri::resolve_against(&base.borrow(), &file);
            if let (Some(target), Ok(uri)) = (target, resolved) {
                by_uri.insert(uri.as_str().to_string(), Arc::clone(&target.value));
            }
        }
    }
    by_uri
}

/// The file parts of the relative `$ref`s anywhere in `document`.
fn relative_refs(document: &Value) -> Vec<String> {
    let mut files: Vec<String> = Vec::new();
    let mut stack = vec![document];
    while let Some(value) = stack.pop() {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(reference)) = map.get("$ref") {
                    let file = reference.split('#').next().unwrap_or_default();
                    if !file.is_empty() && !file.contains(':') && !files.iter().any(|f| f == file) {
                        files.push(file.to_string());
                    }
                }
                stack.extend(map.values());
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    files
}

/// Serves the loaded documents and refuses every other URI.
struct Loaded(HashMap<String, Arc<Value>>);

impl Retrieve for Loaded {
    fn retrieve(
        &self,
        uri: &Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let key = uri.as_str().split('#').next().unwrap_or_default();
        match self.0.get(key) {
            Some(document) => Ok(known_dialect(document)),
            None => Err(format!("`{key}` is not a schema the mapping named").into()),
        }
    }
}
