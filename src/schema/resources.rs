//! Where a `$ref` points: the *resources* of a schema document, each under its absolute URI.
//!
//! In JSON Schema 2020-12 a document's root and every subschema with an `$id` is a resource: its
//! `$id`, resolved against the base URI of the resource around it, names it, and references
//! written inside it are resolved against that URI. Anchors (`$anchor`, and `$dynamicAnchor`,
//! which a plain `$ref` treats the same way) belong to the innermost resource around them, so two
//! resources may declare the same anchor. [`Resources::index`] walks only keywords whose values
//! are schemas: an `$id` or `$anchor` inside an `enum`, a `const` or an unknown keyword is data.
//! The walk uses a work list, so deep documents cannot exhaust the stack.

use std::path::Path;

use serde_json::{Map, Value};

use super::locate::escape_segment;

/// One resource: a subschema with its own URI.
#[derive(Debug, Clone)]
pub struct Resource {
    /// Its absolute URI, without a fragment.
    pub uri: String,
    /// Its JSON pointer in the document.
    pub pointer: String,
    /// True when an `$id` names it (not only the file it was read from).
    pub declared: bool,
    /// Its anchors: name and JSON pointer.
    anchors: Vec<(String, String)>,
}

impl Resource {
    /// The JSON pointer of the subschema with anchor `name` in this resource.
    pub fn anchor(&self, name: &str) -> Option<&str> {
        self.anchors
            .iter()
            .find(|(anchor, _)| anchor == name)
            .map(|(_, pointer)| pointer.as_str())
    }
}

/// The resources of one document; the first is its root.
#[derive(Debug, Clone, Default)]
pub struct Resources(Vec<Resource>);

/// Keywords whose value is one schema.
const ONE_SCHEMA: &[&str] = &[
    "additionalProperties",
    "additionalItems",
    "contains",
    "contentSchema",
    "else",
    "if",
    "items",
    "not",
    "propertyNames",
    "then",
    "unevaluatedItems",
    "unevaluatedProperties",
];
/// Keywords whose value is a map of schemas.
const SCHEMA_MAPS: &[&str] = &[
    "$defs",
    "definitions",
    "dependencies",
    "dependentSchemas",
    "patternProperties",
    "properties",
];
/// Keywords whose value is a list of schemas.
const SCHEMA_LISTS: &[&str] = &["allOf", "anyOf", "oneOf", "prefixItems", "items"];

impl Resources {
    /// The resources of the document `root`, read from the file whose URI is `file_uri`.
    pub fn index(root: &Value, file_uri: &str) -> Resources {
        let mut resources = Resources(vec![Resource {
            uri: file_uri.to_string(),
            pointer: String::new(),
            declared: false,
            anchors: Vec::new(),
        }]);
        if let Some(Value::String(id)) = root.get("$id")
            && !id.starts_with('#')
            && let Some(uri) = resolve(file_uri, id)
        {
            resources.0[0].uri = uri;
            resources.0[0].declared = true;
        }
        if !declares_below_root(root) {
            // The common case (CRM and PSA schemas): one resource, no anchors; no pointers built.
            return resources;
        }
        let mut pending = vec![(root, String::new(), 0usize)];
        while let Some((value, pointer, around)) = pending.pop() {
            let Value::Object(map) = value else {
                continue;
            };
            let inside = resources.enter(map, &pointer, around);
            for (keyword, child) in map {
                let at = format!("{pointer}/{}", escape_segment(keyword));
                for (sub, sub_pointer) in schema_children(keyword, child, &at) {
                    pending.push((sub, sub_pointer, inside));
                }
            }
        }
        resources
    }

    /// Registers what the schema `map` at `pointer` declares (inside resource `around`):
    /// a new resource for its `$id`, its anchors. Returns the resource its children are in.
    fn enter(&mut self, map: &Map<String, Value>, pointer: &str, around: usize) -> usize {
        let mut inside = around;
        if let Some(Value::String(id)) = map.get("$id") {
            match id.strip_prefix('#') {
                // Drafts 6 and 7 declare anchors as `"$id": "#name"`.
                Some(anchor) => self.0[inside]
                    .anchors
                    .push((anchor.to_string(), pointer.to_string())),
                // The root's `$id` names the root resource (see `index`).
                None if pointer.is_empty() => {}
                None => {
                    if let Some(uri) = resolve(&self.0[around].uri, id) {
                        self.0.push(Resource {
                            uri,
                            pointer: pointer.to_string(),
                            declared: true,
                            anchors: Vec::new(),
                        });
                        inside = self.0.len() - 1;
                    }
                }
            }
        }
        for keyword in ["$anchor", "$dynamicAnchor"] {
            if let Some(Value::String(name)) = map.get(keyword) {
                self.0[inside]
                    .anchors
                    .push((name.clone(), pointer.to_string()));
            }
        }
        inside
    }

    /// The document's root resource.
    pub fn root(&self) -> &Resource {
        &self.0[0]
    }

    /// The innermost resource around the subschema at `pointer`.
    pub fn around(&self, pointer: &str) -> &Resource {
        self.0
            .iter()
            .filter(|r| contains(&r.pointer, pointer))
            .max_by_key(|r| r.pointer.len())
            .unwrap_or(&self.0[0])
    }

    /// The resource named `uri` (absolute, without a fragment).
    pub fn find(&self, uri: &str) -> Option<&Resource> {
        self.0.iter().find(|r| r.uri == uri)
    }
}

/// True when some object in `root` has an `$id` (at the root: an anchor, `"#name"`), `$anchor`
/// or `$dynamicAnchor` member (data included: this only decides whether to look closer).
fn declares_below_root(root: &Value) -> bool {
    let mut pending = vec![(root, true)];
    while let Some((value, is_root)) = pending.pop() {
        match value {
            Value::Object(map) => {
                let anchor_id = |id: &Value| id.as_str().is_some_and(|t| t.starts_with('#'));
                let declares = map.get("$id").is_some_and(|id| !is_root || anchor_id(id))
                    || map.contains_key("$anchor")
                    || map.contains_key("$dynamicAnchor");
                if declares {
                    return true;
                }
                pending.extend(map.values().map(|v| (v, false)));
            }
            Value::Array(items) => pending.extend(items.iter().map(|v| (v, false))),
            _ => {}
        }
    }
    false
}

/// True when the subschema at `inner` is at or below `outer`.
fn contains(outer: &str, inner: &str) -> bool {
    inner
        .strip_prefix(outer)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The subschemas a keyword's value holds, with their pointers (`at` is the keyword's).
fn schema_children<'v>(keyword: &str, value: &'v Value, at: &str) -> Vec<(&'v Value, String)> {
    let mut out = Vec::new();
    if ONE_SCHEMA.contains(&keyword) && matches!(value, Value::Object(_)) {
        out.push((value, at.to_string()));
    }
    if SCHEMA_LISTS.contains(&keyword)
        && let Value::Array(items) = value
    {
        for (index, item) in items.iter().enumerate() {
            out.push((item, format!("{at}/{index}")));
        }
    }
    if SCHEMA_MAPS.contains(&keyword)
        && let Value::Object(members) = value
    {
        for (name, member) in members {
            out.push((member, format!("{at}/{}", escape_segment(name))));
        }
    }
    out
}

/// `reference` resolved against the absolute URI `base`, without its fragment; `None` when
/// either is not a URI.
pub fn resolve(base: &str, reference: &str) -> Option<String> {
    let base = jsonschema::uri::from_str(base).ok()?;
    let resolved = jsonschema::uri::resolve_against(&base.borrow(), reference).ok()?;
    let text = resolved.as_str();
    Some(text.split('#').next().unwrap_or(text).to_string())
}

/// The `file://` URI of a schema file (the base URI of a document without an `$id`).
pub fn file_uri(path: &Path) -> String {
    let mut text = String::new();
    for byte in path.to_string_lossy().replace('\\', "/").bytes() {
        if byte.is_ascii_graphic() && !b"%#?[]\"<>^`{|}".contains(&byte) {
            text.push(char::from(byte));
        } else {
            text.push_str(&format!("%{byte:02X}"));
        }
    }
    if text.starts_with('/') {
        format!("file://{text}")
    } else {
        format!("file:///{text}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_and_anchors_belong_to_the_innermost_resource() {
        let doc = json!({
            "$id": "http://example.com/root",
            "$defs": {
                "A": {"$id": "child1", "allOf": [
                    {"$id": "child2", "$anchor": "my_anchor"},
                    {"$anchor": "my_anchor"}
                ]},
                "data": {"enum": [{"$id": "http://example.com/not-an-id"}]}
            }
        });
        let resources = Resources::index(&doc, "file:///x/doc.json");
        assert_eq!(resources.root().uri, "http://example.com/root");
        let child1 = resources.find("http://example.com/child1").expect("child1");
        assert_eq!(child1.anchor("my_anchor"), Some("/$defs/A/allOf/1"));
        let child2 = resources.find("http://example.com/child2").expect("child2");
        assert_eq!(child2.anchor("my_anchor"), Some("/$defs/A/allOf/0"));
        assert!(resources.find("http://example.com/not-an-id").is_none());
        assert_eq!(
            resources.around("/$defs/A/allOf/0/type").uri,
            "http://example.com/child2"
        );
        assert_eq!(resources.around("/$defs/Ab").uri, "http://example.com/root");
    }

    #[test]
    fn a_document_without_ids_below_its_root_is_one_resource() {
        let doc = json!({"$id": "deal.json", "properties": {"a": {"$ref": "#/$defs/x"}}});
        let resources = Resources::index(&doc, "file:///crm/schemas/root.json");
        assert_eq!(resources.root().uri, "file:///crm/schemas/deal.json");
        assert_eq!(resources.around("/properties/a").pointer, "");
        assert!(resources.find("file:///crm/schemas/deal.json").is_some());
    }
}
