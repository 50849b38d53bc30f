//! The coverage record `mapctl test` leaves beside each mapping it ran, for `mapctl doc`:
//! `.mapctl/coverage/NAME.json` in the mapping's folder (the folder the ledger uses, ignored by
//! git), one small JSON document, replaced atomically by each run:
//!
//! ```json
//! {"version": 1, "mapping": "hubspot_to_accelo.map", "mapping_sha256": "b98d...",
//!  "tests_file": "hubspot_to_accelo.tests.yaml", "recorded_at": "2026-12-07T01:20:00.000Z",
//!  "passed": 9, "failed": 0, "unexercised": ["table `owners`: row \"99\" never used"]}
//! ```
//!
//! `mapping_sha256` says whether the record still describes the mapping's current text.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::SuiteResult;

/// The record's format version.
const VERSION: u32 = 1;

/// What one `mapctl test` run of a tests file found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoverageRecord {
    /// The format version (1).
    pub version: u32,
    /// The mapping file's name.
    pub mapping: String,
    /// SHA-256 of the mapping's text when it was tested.
    pub mapping_sha256: String,
    /// The tests file's name.
    pub tests_file: String,
    /// When the run ended (RFC 3339, UTC).
    pub recorded_at: String,
    /// Cases that passed.
    pub passed: usize,
    /// Cases that failed.
    pub failed: usize,
    /// What no case exercised, one line each.
    pub unexercised: Vec<String>,
}

/// Where the record of the mapping at `mapping` is kept.
pub fn path_for(mapping: &Path) -> PathBuf {
    let stem = mapping
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "mapping".to_string());
    mapping
        .parent()
        .unwrap_or(Path::new(""))
        .join(".mapctl")
        .join("coverage")
        .join(format!("{stem}.json"))
}

/// The record of one suite run.
pub fn of(result: &SuiteResult) -> CoverageRecord {
    let name = |path: &Path| {
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let failed = result
        .cases
        .iter()
        .filter(|c| !c.failures.is_empty())
        .count();
    CoverageRecord {
        version: VERSION,
        mapping: name(&result.mapping),
        mapping_sha256: result.mapping_sha256.clone(),
        tests_file: name(&result.file),
        recorded_at: now_rfc3339(),
        passed: result.cases.len() - failed,
        failed,
        unexercised: result.unexercised.clone(),
    }
}

/// Writes the record beside its mapping (atomically); the error says which file.
pub fn write(result: &SuiteResult) -> Result<PathBuf, String> {
    use std::io::Write as _;
    let path = path_for(&result.mapping);
    let fail = |e: std::io::Error| format!("cannot record coverage in `{}`: {e}", path.display());
    if let Some(folder) = path.parent() {
        std::fs::create_dir_all(folder).map_err(fail)?;
    }
    let text = serde_json::to_string_pretty(&of(result)).map_err(|e| e.to_string())?;
    let mut file = crate::io::atomic::AtomicFile::create(&path).map_err(fail)?;
    file.write_all(text.as_bytes()).map_err(fail)?;
    file.write_all(b"\n").map_err(fail)?;
    file.commit().map_err(fail)?;
    Ok(path)
}

/// Reads the record of the mapping at `mapping`: `Ok(None)` when there is none.
pub fn read(mapping: &Path) -> Result<Option<CoverageRecord>, String> {
    let path = path_for(mapping);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read `{}`: {e}", path.display())),
    };
    let record: CoverageRecord = serde_json::from_str(&text).map_err(|e| {
        format!(
            "`{}` is not a coverage record ({e}); delete it and run `mapctl test` again",
            path.display()
        )
    })?;
    if record.version != VERSION {
        return Err(format!(
            "`{}` is a version {} coverage record; this mapctl reads version {VERSION}",
            path.display(),
            record.version
        ));
    }
    Ok(Some(record))
}

/// SHA-256 of `bytes`, in lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn now_rfc3339() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    chrono::DateTime::from_timestamp(secs, now.subsec_nanos())
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
