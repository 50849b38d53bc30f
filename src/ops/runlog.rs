//! The run log: one NDJSON line per deal outcome, appended by every `mapctl apply --log FILE` run
//! to one shared file that `mapctl monitor` reads.
//!
//! A run writes its lines to a spool file beside the log while it works and appends them only
//! once its outputs are committed, so the log never claims a record that an interrupted run did
//! not deliver. The append holds an exclusive lock on the log and writes whole lines to a file
//! opened in append mode: two runs sharing a log never interleave or tear each other's lines.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::io::outputs;

/// One line of the run log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogLine {
    /// When the deal was processed (RFC 3339, UTC).
    pub ts: String,
    /// The mapping's name (`mapping NAME`).
    pub mapping: String,
    /// SHA-256 of the mapping file's text, in hex.
    pub mapping_sha256: String,
    /// Identifies the apply run (process id and start time).
    pub run: String,
    /// The deal's id, when it has one.
    pub deal_id: Option<String>,
    /// `written`, `skipped` or `rejected`.
    pub outcome: String,
    /// `back` for `--direction back` runs (sync back patches, not projects); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<String>,
    /// The template (the first select's value), for written records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<Value>,
    /// The codes of the reasons, for skipped and rejected deals.
    #[serde(default)]
    pub codes: Vec<String>,
    /// The input file.
    pub file: String,
    /// The input line (NDJSON, or a single document).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// The array element index, for JSON array inputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
}

/// The hex SHA-256 of a mapping's text.
pub fn content_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The current time as RFC 3339 UTC with milliseconds.
pub fn now_rfc3339() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    chrono::DateTime::from_timestamp(secs, now.subsec_nanos())
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Lines of one run, spooled until the run's outputs are committed.
pub struct RunLog {
    target: PathBuf,
    spool_path: PathBuf,
    spool: Option<BufWriter<File>>,
    /// The mapping's name.
    pub mapping: String,
    /// The mapping text's SHA-256.
    pub mapping_sha256: String,
    /// This run's id.
    pub run: String,
    lines: usize,
}

impl RunLog {
    /// Starts a run's log for `target`, which must be appendable (checked now, so a run does not
    /// do its work only to fail at the end).
    pub fn open(target: &Path, mapping: &str, mapping_text: &str) -> std::io::Result<RunLog> {
        OpenOptions::new().append(true).create(true).open(target)?;
        let spool_path = outputs::temp_path(target, outputs::TempKind::Spool);
        let spool = BufWriter::with_capacity(1 << 16, outputs::create_locked(&spool_path)?);
        let pid = std::process::id();
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis();
        Ok(RunLog {
            target: target.to_path_buf(),
            spool_path,
            spool: Some(spool),
            mapping: mapping.to_string(),
            mapping_sha256: content_hash(mapping_text),
            run: format!("{pid}-{started}"),
            lines: 0,
        })
    }

    /// Spools one line.
    pub fn record(&mut self, line: &LogLine) -> std::io::Result<()> {
        let Some(spool) = &mut self.spool else {
            return Err(std::io::Error::other("run log already committed"));
        };
        serde_json::to_writer(&mut *spool, line).map_err(std::io::Error::other)?;
        spool.write_all(b"\n")?;
        self.lines += 1;
        Ok(())
    }

    /// Appends the spooled lines to the log under an exclusive lock; returns how many.
    pub fn commit(mut self) -> std::io::Result<usize> {
        let Some(spool) = self.spool.take() else {
            return Ok(0);
        };
        let mut spool = spool.into_inner().map_err(|e| e.into_error())?;
        spool.flush()?;
        drop(spool);
        let result = self.append_spool();
        let _ = std::fs::remove_file(&self.spool_path);
        result.map(|()| self.lines)
    }

    fn append_spool(&self) -> std::io::Result<()> {
        let mut log = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&self.target)?;
        log.lock()?;
        let result = self.append_locked(&mut log);
        let synced = log.sync_data();
        let unlocked = log.unlock();
        result.and(synced).and(unlocked)
    }

    /// Copies the spool to the end of the locked log in large writes of whole lines, after
    /// ending a line a crashed writer may have left unfinished.
    fn append_locked(&self, log: &mut File) -> std::io::Result<()> {
        if ends_mid_line(log)? {
            log.write_all(b"\n")?;
        }
        let mut reader = BufReader::with_capacity(1 << 20, File::open(&self.spool_path)?);
        let mut chunk = Vec::with_capacity(1 << 20);
        loop {
            let read = reader.read_until(b'\n', &mut chunk)?;
            if read == 0 || chunk.len() >= 1 << 20 {
                log.write_all(&chunk)?;
                chunk.clear();
            }
            if read == 0 {
                return Ok(());
            }
        }
    }
}

/// True when the file is not empty and its last byte is not a line break.
fn ends_mid_line(file: &mut File) -> std::io::Result<bool> {
    let length = file.seek(SeekFrom::End(0))?;
    if length == 0 {
        return Ok(false);
    }
    file.seek(SeekFrom::End(-1))?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last)?;
    Ok(last[0] != b'\n')
}

impl Drop for RunLog {
    fn drop(&mut self) {
        if self.spool.take().is_some() {
            let _ = std::fs::remove_file(&self.spool_path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(deal: &str) -> LogLine {
        LogLine {
            ts: "2026-11-26T04:00:00.000Z".into(),
            mapping: "m".into(),
            mapping_sha256: content_hash("mapping m"),
            run: "1-1".into(),
            deal_id: Some(deal.into()),
            outcome: "written".into(),
            direction: None,
            template: None,
            codes: Vec::new(),
            file: "deals.ndjson".into(),
            line: Some(1),
            index: None,
        }
    }

    #[test]
    fn lines_appear_only_on_commit_and_a_torn_last_line_is_ended() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("runs.log");
        std::fs::write(&target, "{\"torn\":").unwrap();
        let mut log = RunLog::open(&target, "m", "mapping m").unwrap();
        log.record(&line("1")).unwrap();
        log.record(&line("2")).unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "{\"torn\":");
        assert_eq!(log.commit().unwrap(), 2);
        let text = std::fs::read_to_string(&target).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0], "{\"torn\":");
        let parsed: LogLine = serde_json::from_str(lines[2]).unwrap();
        assert_eq!(parsed, line("2"));
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "spool left behind"
        );
    }

    #[test]
    fn a_dropped_run_logs_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("runs.log");
        {
            let mut log = RunLog::open(&target, "m", "mapping m").unwrap();
            log.record(&line("1")).unwrap();
        }
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn the_hash_is_sha256() {
        assert_eq!(
            content_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
