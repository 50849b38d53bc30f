//! Reading schema and table files: path policy, size limit, JSON/YAML parsing, dialect and
//! meta-schema validation. Every failure is a diagnostic; nothing here fetches from a network.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use super::locate;
use crate::diag::{Code, Diagnostic};
use crate::io::depth::{MAX_DEPTH, json_too_deep, yaml_too_deep};
use crate::io::files::{display_name, normalise, read_utf8_file};
use crate::source::{FileId, SourceMap, Span};

/// Largest schema or table file read, in bytes.
pub const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

/// The text formats a data file can be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocFormat {
    /// JSON.
    Json,
    /// YAML.
    Yaml,
}

impl DocFormat {
    /// The format a file name suggests (YAML for `.yaml`/`.yml`, JSON otherwise).
    pub fn of(path: &Path) -> DocFormat {
        match path.extension().and_then(|e| e.to_str()) {
            Some("yaml" | "yml") => DocFormat::Yaml,
            _ => DocFormat::Json,
        }
    }
}

/// Joins `relative` onto `base_dir` and checks it stays inside `root` (the repository's root, see
/// [`files_root`]; outside a repository the mapping's folder for files a mapping names and the
/// first schema's folder for `$ref`s). Absolute paths, `..` that climbs
/// out and symbolic links that lead out are refused before anything is read. `named_at` is where
/// the path is written, for the diagnostic.
pub fn resolve_path(
    base_dir: &Path,
    relative: &str,
    root: &Path,
    named_at: Span,
) -> Result<PathBuf, Diagnostic> {
    let candidate = Path::new(relative);
    if candidate.is_absolute() || relative.starts_with('\\') || relative.contains(':') {
        return Err(Diagnostic::new(
            Code::M607,
            named_at,
            format!("`{relative}` is not a relative path"),
            "absolute path refused",
        )
        .with_help("name files relative to the mapping file, e.g. \"schemas/deal.schema.json\""));
    }
    let joined = normalise(&base_dir.join(candidate));
    let outside = |how: &str| {
        Diagnostic::new(
            Code::M607,
            named_at,
            format!("`{relative}` {how} outside {}", root_name(root)),
            "path leaves the allowed folder",
        )
        .with_help(
            "keep schema and table files inside the git repository that holds the mapping \
             (outside a repository: in the folder tree of the mapping, or, for `$ref`, of the \
             schema, that names them); copy or move the file there",
        )
    };
    if !absolute(&joined).starts_with(absolute(root)) {
        return Err(outside("points"));
    }
    if let Ok(real) = std::fs::canonicalize(&joined) {
        let real_root = std::fs::canonicalize(root).unwrap_or_else(|_| absolute(root));
        if !real.starts_with(real_root) {
            return Err(outside("leads through a symbolic link"));
        }
    }
    Ok(joined)
}

/// The root of the git repository holding `folder`: the nearest folder, `folder` itself or one
/// above it, with a `.git` entry (a folder, or the file of a worktree). Files a mapping names and
/// its schemas' `$ref`s may be anywhere inside it, so that several mappings share one schema
/// folder (`../common/deal.schema.json`); never outside it.
pub fn repository_root(folder: &Path) -> Option<PathBuf> {
    absolute(folder)
        .ancestors()
        .find(|dir| is_repository_root(dir))
        .map(Path::to_path_buf)
}

/// True when `dir` has a `.git` entry (a folder, or the file of a worktree).
fn is_repository_root(dir: &Path) -> bool {
    std::fs::symlink_metadata(dir.join(".git")).is_ok()
}

/// The folder the files a mapping in `folder` names must stay in: its repository's root, or,
/// outside a git repository, `folder` itself.
pub fn files_root(folder: &Path) -> PathBuf {
    repository_root(folder).unwrap_or_else(|| folder.to_path_buf())
}

/// How a message names the folder files must stay in: "the repository at `.`" or "`schemas`".
fn root_name(root: &Path) -> String {
    if is_repository_root(root) {
        format!("the repository at `{}`", display_name(root))
    } else {
        format!("`{}`", display_name(root))
    }
}

/// `path` made absolute against the working folder and normalised, for containment checks.
fn absolute(path: &Path) -> PathBuf {
    match std::env::current_dir() {
        Ok(cwd) if !path.is_absolute() => normalise(&cwd.join(path)),
        _ => normalise(path),
    }
}

/// Reads a file into the source map, or explains why it cannot be read.
pub fn read_text(
    sources: &mut SourceMap,
    path: &Path,
    named_at: Span,
    what: &str,
) -> Result<FileId, Diagnostic> {
    if let Some(id) = sources.find(path) {
        return Ok(id);
    }
    let cannot_read = |reason: String| {
        Diagnostic::new(
            Code::M601,
            named_at,
            format!("cannot read {what} `{}`: {reason}", display_name(path)),
            "named here",
        )
        .with_help("check the path: it is relative to the file that names it")
    };
    let text = read_utf8_file(path, MAX_FILE_BYTES).map_err(cannot_read)?;
    Ok(sources.add(path, display_name(path), Arc::from(text)))
}

/// The M609 for a JSON or YAML file nesting deeper than `io::depth::MAX_DEPTH` at byte `at`,
/// found before any parser ran (schemas, tables).
pub fn too_deep(sources: &SourceMap, file: FileId, at: usize, named_at: Span) -> Diagnostic {
    let source = sources.get(file);
    let at = at.min(source.text.len());
    Diagnostic::new(
        Code::M609,
        Span::new(file, at, (at + 1).min(source.text.len())),
        format!("`{}` nests deeper than {MAX_DEPTH} levels", source.name),
        format!("level {} starts here", MAX_DEPTH + 1),
    )
    .with_label(named_at, "the file is named here")
    .with_help(format!(
        "no schema, table or tests file needs more than {MAX_DEPTH} levels of nesting: flatten \
         the document (a `$ref` to a `$defs` entry instead of nesting the schema inline)"
    ))
}

/// Where a text in `format` first nests too deeply, if it does (checked before parsing).
pub fn nesting_too_deep(text: &str, format: DocFormat) -> Option<usize> {
    match format {
        DocFormat::Json => json_too_deep(text),
        DocFormat::Yaml => yaml_too_deep(text),
    }
}

/// Parses a JSON or YAML document held in `file`.
pub fn parse_document(
    sources: &SourceMap,
    file: FileId,
    named_at: Span,
) -> Result<Value, Diagnostic> {
    let source = sources.get(file);
    let text: &str = &source.text;
    let format = DocFormat::of(&source.path);
    if let Some(at) = nesting_too_deep(text, format) {
        return Err(too_deep(sources, file, at, named_at));
    }
    let parsed = match format {
        DocFormat::Json => serde_json::from_str::<Value>(text).map_err(|e| {
            let at = source.offset_of(e.line(), e.column());
            (at, e.to_string())
        }),
        DocFormat::Yaml => serde_yaml::from_str::<Value>(text)
            .map(|mut value| {
                crate::value::number::tidy_floats(&mut value);
                value
            })
            .map_err(|e| {
                let at = e.location().map_or(0, |l| l.index());
                (at, e.to_string())
            }),
    };
    if let (Ok(_), DocFormat::Json) = (&parsed, format)
        && let Err(crate::io::strict::StrictError::Ambiguous(reason)) =
            crate::io::strict::parse(text.as_bytes())
        && reason.contains("appears twice")
    {
        return Err(duplicate_key(sources, file, &reason, named_at));
    }
    parsed.map_err(|(at, reason)| {
        let kind = if format == DocFormat::Json { "JSON" } else { "YAML" };
        let at = at.min(text.len());
        Diagnostic::new(
            Code::M602,
            Span::new(file, at, (at + 1).min(text.len())),
            format!("`{}` is not valid {kind}: {reason}", source.name),
            format!("invalid {kind} here"),
        )
        .with_label(named_at, "the file is named here")
        .with_help(if format == DocFormat::Json {
            "fix the JSON syntax at the marked position (a trailing comma or a missing quote is the usual cause)".to_string()
        } else {
            "fix the YAML syntax at the marked position (indentation and unquoted `:` are the usual causes)".to_string()
        })
    })
}

/// The M603 for a JSON schema giving one key twice in an object (serde would keep the last one
/// silently), at the second time the key is written.
fn duplicate_key(sources: &SourceMap, file: FileId, reason: &str, named_at: Span) -> Diagnostic {
    let source = sources.get(file);
    let text: &str = &source.text;
    let key = reason
        .split('"')
        .nth(1)
        .map(|k| format!("\"{k}\""))
        .unwrap_or_default();
    let at = text.match_indices(&key).nth(1).map_or(0, |(at, _)| at);
    Diagnostic::new(
        Code::M603,
        Span::new(file, at, (at + key.len().max(1)).min(text.len())),
        format!("`{}` is ambiguous: {reason}", source.name),
        "given again here",
    )
    .with_label(named_at, "schema named here")
    .with_help("write each keyword and each property once per object; merge the two entries")
}

/// Checks `$schema` and validates the document against its meta-schema.
pub fn validate_schema_document(
    sources: &SourceMap,
    file: FileId,
    value: &Value,
    named_at: Span,
) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let mut to_validate = std::borrow::Cow::Borrowed(value);
    if let Some(dialect) = value.get("$schema") {
        let known = dialect.as_str().is_some_and(|uri| {
            jsonschema::Draft::from_schema_uri(uri) != jsonschema::Draft::Unknown
        });
        if !known {
            diagnostics.push(
                Diagnostic::new(
                    Code::M606,
                    span_at(sources, file, "/$schema"),
                    format!("unknown JSON Schema dialect {dialect}"),
                    "not a dialect mapctl knows",
                )
                .with_label(named_at, "schema named here")
                .with_help("use \"https://json-schema.org/draft/2020-12/schema\" or \"http://json-schema.org/draft-07/schema#\"; mapctl reads this file as 2020-12"),
            );
            if let Value::Object(map) = value {
                let mut copy = map.clone();
                copy.remove("$schema");
                to_validate = std::borrow::Cow::Owned(Value::Object(copy));
            }
        }
    }
    if !matches!(to_validate.as_ref(), Value::Object(_) | Value::Bool(_)) {
        diagnostics.push(
            Diagnostic::new(
                Code::M603,
                Span::new(file, 0, 1),
                "a JSON Schema must be an object or a boolean",
                "not a schema",
            )
            .with_label(named_at, "schema named here")
            .with_help("the file should start with `{` and describe the record with \"type\" and \"properties\""),
        );
        return diagnostics;
    }
    let Ok(validator) = jsonschema::meta::validator_for(&to_validate) else {
        return diagnostics;
    };
    for error in validator.iter_errors(&to_validate).take(10) {
        let pointer = error.instance_path().as_str().to_string();
        let message = if pointer.ends_with("/type") || pointer == "type" {
            format!(
                "invalid JSON Schema: `type` must be \"string\", \"number\", \"integer\", \"boolean\", \"object\", \"array\", \"null\" or a list of them, not {}",
                error.instance()
            )
        } else {
            format!(
                "invalid JSON Schema at `{}`: {error}",
                if pointer.is_empty() { "/" } else { &pointer }
            )
        };
        diagnostics.push(
            Diagnostic::new(
                Code::M603,
                span_at(sources, file, &pointer),
                message,
                "breaks the JSON Schema meta-schema",
            )
            .with_label(named_at, "schema named here")
            .with_help("fix this keyword so that the file is a valid JSON Schema"),
        );
    }
    diagnostics
}

/// The span of the JSON pointer in a file, or the file's first byte when it cannot be found.
pub fn span_at(sources: &SourceMap, file: FileId, pointer: &str) -> Span {
    try_span_at(sources, file, pointer)
        .unwrap_or_else(|| Span::new(file, 0, sources.get(file).text.len().min(1)))
}

/// The span of the JSON pointer in a file, when it can be found.
pub fn try_span_at(sources: &SourceMap, file: FileId, pointer: &str) -> Option<Span> {
    let source = sources.get(file);
    let found = match DocFormat::of(&source.path) {
        DocFormat::Json => locate::json(&source.text, pointer),
        DocFormat::Yaml => locate::yaml(&source.text, pointer),
    };
    found.map(|(start, end)| Span::new(file, start, end))
}
