//! Compiling schema documents into an arena of [`Node`]s, resolving `$ref`s.
//!
//! Each subschema at a (document, JSON pointer) becomes one node, created once and memoised, so
//! `$ref` cycles are just edges back to an existing node. Compilation runs off a work list rather
//! than by recursion, so neither deep nesting nor long `$ref` chains can exhaust the stack.
//! A `$ref` resolves against the base URI of the resource around it (`resources.rs`), to a
//! subschema of a loaded document by its `$id`, anchor or JSON pointer; failing that, a relative
//! reference names a file, read only when it stays inside the folder of the schema the mapping
//! named. Any other URL is refused (M604).

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use super::bounds;
use super::load::{self, span_at};
use super::locate::{escape_segment, value_at};
use super::resources::{self, Resources, file_uri};
use super::verdicts::MetaCheck;
use crate::diag::{Code, Diagnostic};
use crate::source::{FileId, SourceMap, Span};
use crate::value::{Kinds, member};

/// Index of a node in a [`SchemaSet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);

/// Index of a document in a [`SchemaSet`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DocId(pub u32);

/// One loaded schema document.
#[derive(Debug)]
pub struct Doc {
    /// The file it was read from.
    pub file: FileId,
    /// Its path.
    pub path: PathBuf,
    /// Its parsed content (shared, so that compiling a subschema borrows it while the set grows).
    pub value: Arc<Value>,
    /// The folder relative references must stay inside.
    pub root_dir: PathBuf,
    /// Its `$id`, if any.
    pub id: Option<String>,
    /// Its root and the subschemas with an `$id`, each under its URI, with their anchors.
    pub resources: Resources,
}

/// The keywords of one subschema that the checker uses.
#[derive(Debug, Clone, Default)]
pub struct Node {
    /// The document it is in.
    pub doc: Option<DocId>,
    /// Its JSON pointer in that document.
    pub pointer: String,
    /// `true`/`false` schemas.
    pub boolean: Option<bool>,
    /// From `type` (and `nullable`); `None` when unconstrained.
    pub kinds: Option<Kinds>,
    /// `enum`.
    pub enum_values: Option<Vec<Value>>,
    /// `const`.
    pub const_value: Option<Value>,
    /// `format`.
    pub format: Option<String>,
    /// `pattern`.
    pub pattern: Option<String>,
    /// `maxLength`.
    pub max_length: Option<u64>,
    /// `minLength`.
    pub min_length: Option<u64>,
    /// `minimum`.
    pub minimum: Option<f64>,
    /// `maximum`.
    pub maximum: Option<f64>,
    /// `exclusiveMinimum` (numeric form).
    pub exclusive_minimum: Option<f64>,
    /// `exclusiveMaximum` (numeric form).
    pub exclusive_maximum: Option<f64>,
    /// `properties`, in document order.
    pub properties: Vec<(String, NodeId)>,
    /// `required`.
    pub required: Vec<String>,
    /// `additionalProperties`.
    pub additional: Option<NodeId>,
    /// `patternProperties`: each pattern and its subschema, in document order.
    pub pattern_properties: Vec<(String, NodeId)>,
    /// `items` (single schema form).
    pub items: Option<NodeId>,
    /// `allOf`.
    pub all_of: Vec<NodeId>,
    /// `anyOf` and `oneOf`.
    pub any_of: Vec<NodeId>,
    /// `$ref`.
    pub reference: Option<NodeId>,
    /// The other subschemas applying to the same value: `not`, `if`, `then`, `else`,
    /// `dependentSchemas` (compiled so that validators and `bounds.rs` can find them; the
    /// checker's types ignore them).
    pub in_place: Vec<NodeId>,
    /// `title`.
    pub title: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// True when `default` is given.
    pub has_default: bool,
}

/// All schema documents of one mapping and their compiled nodes.
#[derive(Debug, Default)]
pub struct SchemaSet {
    /// Loaded documents.
    pub docs: Vec<Doc>,
    /// Compiled nodes.
    pub nodes: Vec<Node>,
    memo: HashMap<(u32, String), NodeId>,
    queue: VecDeque<NodeId>,
    /// Set when the nodes or bytes outgrew `bounds::MAX_SCHEMA_*` (reported once, M610).
    over_budget: Option<String>,
    /// How documents are held against their meta-schema when loaded.
    pub meta: MetaCheck,
}

/// What compiling needs from the outside: files and somewhere to put diagnostics.
pub struct LoadContext<'a> {
    /// The run's files.
    pub sources: &'a mut SourceMap,
    /// Problems found.
    pub diagnostics: &'a mut Vec<Diagnostic>,
}

impl SchemaSet {
    /// An empty set.
    pub fn new() -> SchemaSet {
        SchemaSet::default()
    }

    /// The node with this id.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.0 as usize]
    }

    /// The document with this id.
    pub fn doc(&self, id: DocId) -> &Doc {
        &self.docs[id.0 as usize]
    }

    /// The node compiled for (doc, pointer), if any.
    pub fn node_id(&self, doc: DocId, pointer: &str) -> Option<NodeId> {
        self.memo.get(&(doc.0, pointer.to_string())).copied()
    }

    /// Where a node is written, when known.
    pub fn span_of(&self, sources: &SourceMap, id: NodeId) -> Option<Span> {
        let node = self.node(id);
        let doc = self.doc(node.doc?);
        load::try_span_at(sources, doc.file, &node.pointer)
    }

    /// The span of a keyword of a node (e.g. its `required` list entry).
    pub fn span_of_keyword(&self, sources: &SourceMap, id: NodeId, suffix: &str) -> Option<Span> {
        let node = self.node(id);
        let doc = self.doc(node.doc?);
        load::try_span_at(sources, doc.file, &format!("{}{suffix}", node.pointer))
    }

    /// Loads the schema file a mapping names (`relative` to `base_dir`) and compiles it.
    pub fn load_root(
        &mut self,
        ctx: &mut LoadContext<'_>,
        base_dir: &Path,
        relative: &str,
        named_at: Span,
    ) -> Option<NodeId> {
        let repository = load::repository_root(base_dir);
        let files_root = repository.clone().unwrap_or_else(|| base_dir.to_path_buf());
        let path = match load::resolve_path(base_dir, relative, &files_root, named_at) {
            Ok(path) => path,
            Err(diagnostic) => {
                ctx.diagnostics.push(diagnostic);
                return None;
            }
        };
        let root_dir =
            repository.unwrap_or_else(|| path.parent().map(Path::to_path_buf).unwrap_or_default());
        let doc = self.load_doc(ctx, &path, root_dir, named_at)?;
        let root = self.node_at(doc, "");
        self.drain(ctx);
        if let Some(what) = self.over_budget.take() {
            ctx.diagnostics.push(bounds::too_large(what, named_at));
            return None;
        }
        let problems = bounds::check(self, ctx.sources, root, named_at);
        let refused = !problems.is_empty();
        ctx.diagnostics.extend(problems);
        (!refused).then_some(root)
    }

    fn load_doc(
        &mut self,
        ctx: &mut LoadContext<'_>,
        path: &Path,
        root_dir: PathBuf,
        named_at: Span,
    ) -> Option<DocId> {
        if let Some(index) = self.docs.iter().position(|d| d.path == path) {
            return Some(DocId(index as u32));
        }
        let loaded = load::read_text(ctx.sources, path, named_at, "schema file")
            .and_then(|file| Ok((file, load::parse_document(ctx.sources, file, named_at)?)));
        let (file, value) = match loaded {
            Ok(found) => found,
            Err(diagnostic) => {
                ctx.diagnostics.push(diagnostic);
                return None;
            }
        };
        let loaded: usize = self
            .docs
            .iter()
            .map(|d| ctx.sources.get(d.file).text.len())
            .sum();
        if loaded + ctx.sources.get(file).text.len() > bounds::MAX_SCHEMA_BYTES {
            self.over_budget.get_or_insert_with(|| {
                format!(
                    "the schemas `$ref`s reach hold more than {} MiB of text",
                    bounds::MAX_SCHEMA_BYTES / (1024 * 1024)
                )
            });
            return None;
        }
        let problems = self.meta.problems(ctx.sources, file, &value, named_at);
        let invalid = problems.iter().any(Diagnostic::is_error);
        ctx.diagnostics.extend(problems);
        if invalid {
            return None;
        }
        let id = value.get("$id").and_then(Value::as_str).map(strip_fragment);
        let resources = Resources::index(&value, &file_uri(path));
        self.docs.push(Doc {
            file,
            path: path.to_path_buf(),
            value: Arc::new(value),
            root_dir,
            id,
            resources,
        });
        Some(DocId((self.docs.len() - 1) as u32))
    }

    /// The node for (doc, pointer), created (and queued for compilation) on first use.
    fn node_at(&mut self, doc: DocId, pointer: &str) -> NodeId {
        if let Some(id) = self.memo.get(&(doc.0, pointer.to_string())) {
            return *id;
        }
        let id = NodeId(self.nodes.len() as u32);
        if self.nodes.len() >= bounds::MAX_SCHEMA_NODES {
            self.over_budget.get_or_insert_with(|| {
                format!(
                    "the schemas hold more than {} subschemas",
                    bounds::MAX_SCHEMA_NODES
                )
            });
            // Left unconstrained and never compiled: the root is refused anyway.
            self.nodes.push(Node::default());
            return id;
        }
        self.nodes.push(Node {
            doc: Some(doc),
            pointer: pointer.to_string(),
            ..Node::default()
        });
        self.memo.insert((doc.0, pointer.to_string()), id);
        self.queue.push_back(id);
        id
    }

    fn drain(&mut self, ctx: &mut LoadContext<'_>) {
        while let Some(id) = self.queue.pop_front() {
            self.compile(ctx, id);
        }
    }

    /// Fills in the keywords of a queued node.
    fn compile(&mut self, ctx: &mut LoadContext<'_>, id: NodeId) {
        let (doc, pointer) = {
            let node = self.node(id);
            (node.doc.unwrap_or(DocId(0)), node.pointer.clone())
        };
        let document = Arc::clone(&self.doc(doc).value);
        let Some(value) = value_at(&document, &pointer) else {
            return;
        };
        let mut node = keywords_of(value);
        node.doc = Some(doc);
        node.pointer = pointer.clone();
        if let Value::Object(map) = value {
            if let Some(Value::Object(properties)) = member(map, "properties") {
                for name in properties.keys() {
                    let child = format!("{pointer}/properties/{}", escape_segment(name));
                    node.properties
                        .push((name.clone(), self.node_at(doc, &child)));
                }
            }
            if let Some(Value::Object(patterns)) = member(map, "patternProperties") {
                for (pattern, subschema) in patterns {
                    if is_schema(subschema) {
                        let child =
                            format!("{pointer}/patternProperties/{}", escape_segment(pattern));
                        node.pattern_properties
                            .push((pattern.clone(), self.node_at(doc, &child)));
                    }
                }
            }
            if member(map, "additionalProperties").is_some_and(is_schema) {
                node.additional =
                    Some(self.node_at(doc, &format!("{pointer}/additionalProperties")));
            }
            if member(map, "items").is_some_and(is_schema) {
                node.items = Some(self.node_at(doc, &format!("{pointer}/items")));
            }
            node.all_of = self.children(doc, &pointer, map, "allOf");
            node.any_of = self.children(doc, &pointer, map, "anyOf");
            node.any_of
                .extend(self.children(doc, &pointer, map, "oneOf"));
            for keyword in ["not", "if", "then", "else"] {
                if member(map, keyword).is_some_and(is_schema) {
                    let child = self.node_at(doc, &format!("{pointer}/{keyword}"));
                    node.in_place.push(child);
                }
            }
            if let Some(Value::Object(dependent)) = member(map, "dependentSchemas") {
                for (name, schema) in dependent {
                    if is_schema(schema) {
                        let child = format!("{pointer}/dependentSchemas/{}", escape_segment(name));
                        node.in_place.push(self.node_at(doc, &child));
                    }
                }
            }
            if let Some(Value::String(reference)) = member(map, "$ref") {
                node.reference = self.resolve_ref(ctx, doc, &pointer, reference);
            }
        }
        self.nodes[id.0 as usize] = node;
    }

    fn children(
        &mut self,
        doc: DocId,
        pointer: &str,
        map: &serde_json::Map<String, Value>,
        keyword: &str,
    ) -> Vec<NodeId> {
        let count = map
            .get(keyword)
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        (0..count)
            .map(|i| self.node_at(doc, &format!("{pointer}/{keyword}/{i}")))
            .collect()
    }

    /// Resolves a `$ref` written in `doc` at `pointer` (span `at`): against the base URI of the
    /// resource around it, to a resource of a loaded document; failing that, a relative
    /// reference names a file beside `doc`.
    fn resolve_ref(
        &mut self,
        ctx: &mut LoadContext<'_>,
        doc: DocId,
        pointer: &str,
        reference: &str,
    ) -> Option<NodeId> {
        // Found in the text only when needed: locating a pointer reads the file from its start,
        // and doing it for every `$ref` would make long chains quadratic.
        let file = self.doc(doc).file;
        let at = |sources: &SourceMap| span_at(sources, file, &format!("{pointer}/$ref"));
        let (resource, fragment) = match reference.split_once('#') {
            Some((resource, fragment)) => (resource, fragment),
            None => (reference, ""),
        };
        let fragment = percent_decode(fragment);
        let around = self.doc(doc).resources.around(pointer);
        let found = if resource.is_empty() {
            Some((doc, around.pointer.clone()))
        } else {
            resources::resolve(&around.uri, resource)
                .and_then(|uri| self.find_resource(&uri, has_scheme(resource)))
        };
        let (target_doc, resource_pointer) = match found {
            Some(found) => found,
            None if has_scheme(resource) => {
                let at = at(ctx.sources);
                ctx.diagnostics.push(remote_ref(reference, at));
                return None;
            }
            None => {
                let at = at(ctx.sources);
                let file = self.file_under_base(doc, &around.uri, resource);
                (self.load_referenced(ctx, doc, &file, at)?, String::new())
            }
        };
        let target = self.doc(target_doc);
        let pointer = if fragment.is_empty() || fragment.starts_with('/') {
            Some(format!("{resource_pointer}{fragment}"))
        } else {
            target
                .resources
                .around(&resource_pointer)
                .anchor(&fragment)
                .map(str::to_string)
        };
        match pointer.filter(|p| value_at(&target.value, p).is_some()) {
            Some(pointer) => Some(self.node_at(target_doc, &pointer)),
            None => {
                let at = at(ctx.sources);
                ctx.diagnostics.push(
                    Diagnostic::new(
                        Code::M605,
                        at,
                        format!("`$ref` \"{reference}\" does not resolve"),
                        "nothing at this reference",
                    )
                    .with_help("check the JSON pointer after `#` (e.g. \"#/$defs/lookup\") and the file name before it"),
                );
                None
            }
        }
    }

    /// The loaded resource named `uri`: its document and pointer. An absolute reference
    /// (`absolute`) only names resources an `$id` declares, never a file by its `file://` URI.
    fn find_resource(&self, uri: &str, absolute: bool) -> Option<(DocId, String)> {
        self.docs.iter().enumerate().find_map(|(index, doc)| {
            let resource = doc.resources.find(uri)?;
            (resource.declared || !absolute)
                .then(|| (DocId(index as u32), resource.pointer.clone()))
        })
    }

    /// The file a relative reference names, relative to `doc`'s folder: resolved against the
    /// base URI around it (an `$id` such as `"sub/"` moves it), when that base is a file in
    /// `doc`'s folder tree; else as written. The path policy is applied to the result either way.
    fn file_under_base(&self, doc: DocId, base: &str, resource: &str) -> String {
        let own = file_uri(&self.doc(doc).path);
        let Some(folder) = resources::resolve(&own, ".") else {
            return resource.to_string();
        };
        match resources::resolve(base, resource) {
            Some(resolved) if resolved.starts_with(&folder) && resolved.len() > folder.len() => {
                percent_decode(&resolved[folder.len()..])
            }
            _ => resource.to_string(),
        }
    }

    /// Loads the file a relative reference in `doc` names, under the path policy.
    fn load_referenced(
        &mut self,
        ctx: &mut LoadContext<'_>,
        doc: DocId,
        resource: &str,
        at: Span,
    ) -> Option<DocId> {
        let (base_dir, root_dir) = {
            let current = self.doc(doc);
            let base = current
                .path
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            (base, current.root_dir.clone())
        };
        match load::resolve_path(&base_dir, resource, &root_dir, at) {
            Ok(path) => self.load_doc(ctx, &path, root_dir, at),
            Err(diagnostic) => {
                ctx.diagnostics.push(diagnostic);
                None
            }
        }
    }
}

fn remote_ref(reference: &str, at: Span) -> Diagnostic {
    Diagnostic::new(
        Code::M604,
        at,
        format!("remote reference \"{reference}\" refused"),
        "mapctl never fetches schemas",
    )
    .with_help(
        "download the referenced schema next to this one and reference it by a relative path",
    )
}

fn is_schema(value: &Value) -> bool {
    matches!(value, Value::Object(_) | Value::Bool(_))
}

fn has_scheme(text: &str) -> bool {
    match text.split_once(':') {
        Some((scheme, _)) => {
            !scheme.is_empty()
                && scheme
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        }
        None => false,
    }
}

fn strip_fragment(uri: &str) -> String {
    uri.split('#').next().unwrap_or(uri).to_string()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(byte) = text
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The scalar keywords of a subschema.
fn keywords_of(value: &Value) -> Node {
    let mut node = Node::default();
    let map = match value {
        Value::Bool(b) => {
            node.boolean = Some(*b);
            return node;
        }
        Value::Object(map) => map,
        _ => return node,
    };
    node.kinds = match member(map, "type") {
        Some(Value::String(name)) => Kinds::from_type_name(name),
        Some(Value::Array(names)) => Some(
            names
                .iter()
                .filter_map(|n| n.as_str().and_then(Kinds::from_type_name))
                .fold(Kinds::NONE, Kinds::or),
        ),
        _ => None,
    };
    if member(map, "nullable") == Some(&Value::Bool(true)) {
        node.kinds = node.kinds.map(|k| k.or(Kinds::NULL));
    }
    node.enum_values = member(map, "enum").and_then(Value::as_array).cloned();
    node.const_value = member(map, "const").cloned();
    node.format = text(map, "format");
    node.pattern = text(map, "pattern");
    node.title = text(map, "title");
    node.description = text(map, "description");
    node.max_length = member(map, "maxLength").and_then(Value::as_u64);
    node.min_length = member(map, "minLength").and_then(Value::as_u64);
    node.minimum = member(map, "minimum").and_then(Value::as_f64);
    node.maximum = member(map, "maximum").and_then(Value::as_f64);
    node.exclusive_minimum = member(map, "exclusiveMinimum").and_then(Value::as_f64);
    node.exclusive_maximum = member(map, "exclusiveMaximum").and_then(Value::as_f64);
    node.has_default = member(map, "default").is_some();
    node.required = map
        .get("required")
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    node
}

fn text(map: &serde_json::Map<String, Value>, key: &str) -> Option<String> {
    member(map, key).and_then(Value::as_str).map(str::to_string)
}
