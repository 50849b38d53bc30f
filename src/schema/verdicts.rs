//! Remembered meta-schema verdicts: how `mapctl check` skips re-validating a schema file it has
//! already found valid.
//!
//! Validating a schema file against the JSON Schema meta-schema first compiles the meta-schema,
//! which is the larger part of a cold `mapctl check` process (4 M instructions of about 10 M).
//! Schema files rarely change between two checks, so the command line remembers, in the user's
//! cache folder, the SHA-256 of every schema text it found valid. A file whose exact bytes were
//! found valid before by this version of mapctl is not validated again. Only "valid" is
//! remembered: an invalid file is validated, and reported, every time, and any change to a file
//! changes its hash. Nothing but hashes is written; a folder that cannot be read or written
//! costs nothing but the saving.

use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::load;
use crate::diag::Diagnostic;
use crate::source::{FileId, SourceMap, Span};

/// Environment variable naming the cache folder; set to an empty value to remember nothing.
pub const CACHE_DIR_VARIABLE: &str = "MAPCTL_CACHE_DIR";

/// How schema files are held against their meta-schema when they are loaded.
#[derive(Debug, Default, Clone)]
pub enum MetaCheck {
    /// Validate every schema file (library callers, the language server, `mapctl test`).
    #[default]
    Always,
    /// Validate unless this exact text was found valid before (`mapctl check`).
    Remembered(Verdicts),
    /// Do not validate: `apply`, whose validators refuse schemas they cannot compile.
    Skip,
}

impl MetaCheck {
    /// The meta-schema problems of a loaded schema document, as this policy finds them.
    pub fn problems(
        &self,
        sources: &SourceMap,
        file: FileId,
        value: &Value,
        named_at: Span,
    ) -> Vec<Diagnostic> {
        match self {
            MetaCheck::Always => load::validate_schema_document(sources, file, value, named_at),
            MetaCheck::Remembered(verdicts) => verdicts.validate(sources, file, value, named_at),
            MetaCheck::Skip => Vec::new(),
        }
    }
}

/// A folder of remembered "valid" verdicts, one empty file per schema text (named by hash).
#[derive(Debug, Clone)]
pub struct Verdicts {
    dir: PathBuf,
}

impl Verdicts {
    /// Verdicts kept in `dir` (created when the first verdict is written).
    pub fn in_dir(dir: impl Into<PathBuf>) -> Verdicts {
        Verdicts { dir: dir.into() }
    }

    /// The user's verdict folder: `$MAPCTL_CACHE_DIR`, else `$XDG_CACHE_HOME/mapctl`, else
    /// `$HOME/.cache/mapctl`, each with `schema-verdicts` appended. `None` when
    /// `MAPCTL_CACHE_DIR` is set but empty, or no folder is known.
    pub fn from_env() -> Option<Verdicts> {
        let non_empty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        let base = match std::env::var_os(CACHE_DIR_VARIABLE) {
            Some(dir) if dir.is_empty() => return None,
            Some(dir) => PathBuf::from(dir),
            None => match non_empty("XDG_CACHE_HOME") {
                Some(cache) => PathBuf::from(cache).join("mapctl"),
                None => PathBuf::from(non_empty("HOME")?)
                    .join(".cache")
                    .join("mapctl"),
            },
        };
        Some(Verdicts::in_dir(base.join("schema-verdicts")))
    }

    /// The folder the verdicts are kept in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Validates a schema document against its meta-schema unless its text was found valid
    /// before; remembers the text when it is valid now.
    pub fn validate(
        &self,
        sources: &SourceMap,
        file: FileId,
        value: &Value,
        named_at: Span,
    ) -> Vec<Diagnostic> {
        let source = sources.get(file);
        let entry = self.entry(load::DocFormat::of(&source.path), &source.text);
        if entry.is_file() {
            return Vec::new();
        }
        let problems = load::validate_schema_document(sources, file, value, named_at);
        if problems.is_empty() {
            remember(&entry);
        }
        problems
    }

    /// The file that stands for "this text, read as `format`, is valid", for this version of
    /// mapctl (the same bytes could read differently as JSON and as YAML).
    fn entry(&self, format: load::DocFormat, text: &str) -> PathBuf {
        let mut hasher = Sha256::new();
        hasher.update(b"mapctl meta-schema verdict 1\0");
        hasher.update(env!("CARGO_PKG_VERSION").as_bytes());
        hasher.update(match format {
            load::DocFormat::Json => b"\0json\0",
            load::DocFormat::Yaml => b"\0yaml\0",
        });
        hasher.update(text.as_bytes());
        let name: String = hasher
            .finalize()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        self.dir.join(name)
    }
}

/// Writes a verdict file. Failing to (a read-only home, a full disk) only loses the saving.
fn remember(entry: &Path) {
    if let Some(dir) = entry.parent()
        && std::fs::create_dir_all(dir).is_ok()
    {
        let _ = std::fs::write(entry, b"");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Code;
    use load::DocFormat;
    use std::sync::Arc;

    fn schema(sources: &mut SourceMap, text: &str) -> (FileId, Value) {
        let file = sources.add(Path::new("/s.json"), "s.json".into(), Arc::from(text));
        (file, serde_json::from_str(text).expect("test JSON"))
    }

    fn entries(dir: &Path) -> usize {
        std::fs::read_dir(dir).map_or(0, |listing| listing.count())
    }

    #[test]
    fn a_valid_text_is_remembered_and_a_changed_one_is_validated_again() {
        let folder = tempfile::tempdir().expect("temp dir");
        let verdicts = Verdicts::in_dir(folder.path().join("v"));
        let mut sources = SourceMap::new();
        let (file, value) = schema(&mut sources, r#"{"type": "object"}"#);
        let at = Span::new(file, 0, 1);
        assert!(verdicts.validate(&sources, file, &value, at).is_empty());
        assert_eq!(entries(verdicts.dir()), 1);
        assert!(
            verdicts
                .entry(DocFormat::Json, r#"{"type": "object"}"#)
                .is_file()
        );
        assert!(
            !verdicts
                .entry(DocFormat::Yaml, r#"{"type": "object"}"#)
                .is_file()
        );
        assert!(
            !verdicts
                .entry(DocFormat::Json, r#"{"type":  "object"}"#)
                .is_file()
        );
        let (broken, value) = schema(&mut sources, r#"{"type": "objec"}"#);
        let found = verdicts.validate(&sources, broken, &value, Span::new(broken, 0, 1));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, Code::M603);
    }

    #[test]
    fn an_invalid_text_is_never_remembered() {
        let folder = tempfile::tempdir().expect("temp dir");
        let verdicts = Verdicts::in_dir(folder.path());
        let mut sources = SourceMap::new();
        let (file, value) = schema(&mut sources, r#"{"required": "name"}"#);
        for _ in 0..2 {
            let found = verdicts.validate(&sources, file, &value, Span::new(file, 0, 1));
            assert_eq!(found.len(), 1, "{found:?}");
            assert_eq!(found[0].code, Code::M603);
        }
        assert_eq!(entries(folder.path()), 0);
    }

    #[test]
    fn a_folder_that_cannot_be_written_costs_only_the_saving() {
        let folder = tempfile::tempdir().expect("temp dir");
        let blocker = folder.path().join("file");
        std::fs::write(&blocker, b"not a folder").expect("write");
        let verdicts = Verdicts::in_dir(blocker.join("v"));
        let mut sources = SourceMap::new();
        let (file, value) = schema(&mut sources, r#"{"type": "string"}"#);
        for _ in 0..2 {
            assert!(
                verdicts
                    .validate(&sources, file, &value, Span::new(file, 0, 1))
                    .is_empty()
            );
        }
    }

    #[test]
    fn the_hash_covers_the_version_and_the_whole_text() {
        let verdicts = Verdicts::in_dir("/v");
        let name = verdicts.entry(DocFormat::Json, "{}");
        let name = name.file_name().and_then(|n| n.to_str()).unwrap_or("");
        assert_eq!(name.len(), 64);
        assert!(name.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(
            verdicts.entry(DocFormat::Json, "{}"),
            verdicts.entry(DocFormat::Json, "{} ")
        );
    }
}
