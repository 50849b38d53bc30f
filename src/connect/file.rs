//! Files as sources and targets. A file source reads deal files (or stdin) in any layout apply
//! reads; a file target appends each record as one line of compact JSON, as `apply` writes
//! them, to a file (or stdout).
//!
//! The file target writes one line at a time and syncs the file before the ledger records the
//! lines as delivered (see [`Target::flush`]). It recognises a line it wrote by its exact bytes:
//! after a crash, an in-flight deal whose record is already a line of the file is taken as
//! delivered, and a record identical to another deal's line is told apart by the ledger (a line
//! belongs to one deal). Stdout cannot be asked anything, so a crash mid-write there may repeat a
//! line: stdout is at-least-once.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::{Created, Delivery, Guarantee, Source, SourceError, SourceItem, Target, TargetError};
use crate::io::envelope;
use crate::io::input::{self, InputItem, InputLimits, Payload, Position};

/// Deal files (or `-` for stdin) as a source.
pub struct FileSource {
    paths: Vec<PathBuf>,
    limits: InputLimits,
    /// The JSON pointer of the deals in each document, when the files are vendor pages.
    envelope: Option<String>,
}

impl FileSource {
    /// A source reading `paths` in order (`-` is stdin).
    pub fn new(paths: Vec<PathBuf>, limits: InputLimits) -> FileSource {
        FileSource {
            paths,
            limits,
            envelope: None,
        }
    }

    /// Reads each document as a vendor page with its deals at `pointer` (the mapping's
    /// `in "POINTER"`; see [`crate::io::envelope`]).
    pub fn with_envelope(mut self, pointer: Option<&str>) -> FileSource {
        self.envelope = pointer.map(str::to_string);
        self
    }
}

/// The name of a path in messages.
fn display(path: &Path) -> String {
    if path == Path::new("-") {
        "<stdin>".to_string()
    } else {
        path.display().to_string()
    }
}

impl Source for FileSource {
    fn describe(&self) -> String {
        let names: Vec<String> = self.paths.iter().map(|p| display(p)).collect();
        names.join(", ")
    }

    fn changed(
        &mut self,
        _cursor: Option<&str>,
        each: &mut dyn FnMut(SourceItem<'_>) -> ControlFlow<()>,
    ) -> Result<Option<String>, SourceError> {
        for path in &self.paths {
            let name = display(path);
            let reader: Box<dyn BufRead> = if path == Path::new("-") {
                Box::new(BufReader::with_capacity(1 << 16, std::io::stdin()))
            } else {
                let file = File::open(path)
                    .map_err(|e| SourceError::Failed(format!("cannot read `{name}`: {e}")))?;
                Box::new(BufReader::with_capacity(1 << 16, file))
            };
            let ndjson = path
                .extension()
                .is_some_and(|e| e == "ndjson" || e == "jsonl");
            let limits = InputLimits {
                ndjson,
                ..self.limits
            };
            let mut stopped = false;
            let mut index = 0;
            let envelope = self.envelope.as_deref();
            input::for_each_item(reader, limits, |_, item| {
                envelope::each_deal(envelope, &mut index, item, &mut |item| {
                    let origin = match item.position {
                        Position::Line(line) => format!("{name}:{line}"),
                        Position::Index(index) => format!("{name}[{index}]"),
                    };
                    let version = content_version(&item);
                    let flow = each(SourceItem {
                        item,
                        origin,
                        version,
                    });
                    stopped = flow.is_break();
                    flow
                })
            })
            .map_err(|e| SourceError::Failed(format!("reading `{name}` failed: {e}")))?;
            if stopped {
                break;
            }
        }
        Ok(None)
    }
}

/// A file's version of a deal: the SHA-256 of its text (of its compact JSON when the reader
/// parsed it), so the ledger can tell that an export changed. `None` for unreadable items.
fn content_version(item: &InputItem<'_>) -> Option<String> {
    use sha2::{Digest, Sha256};
    let digest = match &item.value {
        Ok(Payload::Text(text)) => Sha256::digest(text),
        Ok(Payload::Parsed(value)) => Sha256::digest(value.to_string().as_bytes()),
        Err(_) => return None,
    };
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    Some(format!("sha256:{hex}"))
}

/// A file (or stdout) that records are appended to, one line each.
pub struct FileTarget {
    path: Option<PathBuf>,
    state: Mutex<Written>,
}

struct Written {
    out: Box<dyn Write + Send>,
    file: Option<File>,
    /// Lines in the file.
    lines: u64,
    /// Line numbers by content, built on the first lookup.
    index: Option<HashMap<Vec<u8>, Vec<u64>>>,
}

impl FileTarget {
    /// Opens `path` for appending (`-` is stdout).
    pub fn open(path: &Path) -> Result<FileTarget, String> {
        if path == Path::new("-") {
            return Ok(FileTarget {
                path: None,
                state: Mutex::new(Written {
                    out: Box::new(std::io::stdout()),
                    file: None,
                    lines: 0,
                    index: None,
                }),
            });
        }
        let name = path.display();
        let file = File::options()
            .create(true)
            .append(true)
            .read(true)
            .open(path)
            .map_err(|e| format!("cannot open `{name}` for appending: {e}"))?;
        let (lines, torn) = count_lines(path).map_err(|e| format!("cannot read `{name}`: {e}"))?;
        let mut writer = file
            .try_clone()
            .map_err(|e| format!("cannot open `{name}` for appending: {e}"))?;
        if torn {
            // End a line a crashed writer left unfinished, so the next record has its own.
            writer
                .write_all(b"\n")
                .map_err(|e| format!("cannot write to `{name}`: {e}"))?;
        }
        Ok(FileTarget {
            path: Some(path.to_path_buf()),
            state: Mutex::new(Written {
                out: Box::new(writer),
                file: Some(file),
                lines,
                index: None,
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Written> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn id(&self, line: u64) -> String {
        match &self.path {
            Some(path) => format!("{}:{line}", path.display()),
            None => format!("<stdout>:{line}"),
        }
    }
}

/// Lines in a file, counting an unfinished last line, and whether it ends mid-line.
fn count_lines(path: &Path) -> std::io::Result<(u64, bool)> {
    let mut reader = BufReader::with_capacity(1 << 16, File::open(path)?);
    let mut lines = 0u64;
    let mut last = b'\n';
    loop {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            break;
        }
        lines += memchr::memchr_iter(b'\n', buffer).count() as u64;
        last = buffer[buffer.len() - 1];
        let length = buffer.len();
        reader.consume(length);
    }
    let torn = last != b'\n';
    Ok((lines + u64::from(torn), torn))
}

fn write_failed(message: String) -> TargetError {
    TargetError::Retryable {
        status: None,
        message,
        after: None,
        maybe_written: true,
        throttled: false,
    }
}

impl Target for FileTarget {
    fn describe(&self) -> String {
        match &self.path {
            Some(path) => format!("file `{}`", path.display()),
            None => "stdout".to_string(),
        }
    }

    fn guarantee(&self) -> Guarantee {
        if self.path.is_some() {
            Guarantee::ExactlyOnce
        } else {
            Guarantee::AtLeastOnce
        }
    }

    fn max_concurrency(&self) -> Option<usize> {
        Some(1)
    }

    fn create(&self, delivery: &Delivery<'_>) -> Result<Created, TargetError> {
        let mut state = self.lock();
        let mut line = Vec::with_capacity(delivery.record.len() + 1);
        line.extend_from_slice(delivery.record);
        line.push(b'\n');
        state
            .out
            .write_all(&line)
            .map_err(|e| write_failed(format!("cannot write to {}: {e}", self.describe())))?;
        state.lines += 1;
        let number = state.lines;
        if let Some(index) = &mut state.index {
            index
                .entry(delivery.record.to_vec())
                .or_default()
                .push(number);
        }
        Ok(Created {
            project_id: Some(self.id(number)),
            ..Created::default()
        })
    }

    fn find(&self, delivery: &Delivery<'_>) -> Result<Vec<String>, TargetError> {
        let Some(path) = &self.path else {
            return Ok(Vec::new());
        };
        let mut state = self.lock();
        if state.index.is_none() {
            let _ = state.out.flush();
            let index = index_lines(path)
                .map_err(|e| write_failed(format!("cannot read {}: {e}", self.describe())))?;
            state.index = Some(index);
        }
        let lines = state
            .index
            .as_ref()
            .and_then(|index| index.get(delivery.record))
            .cloned()
            .unwrap_or_default();
        Ok(lines.into_iter().map(|n| self.id(n)).collect())
    }

    fn flush(&self) -> Result<(), TargetError> {
        let mut state = self.lock();
        let describe = self.describe();
        state
            .out
            .flush()
            .map_err(|e| write_failed(format!("cannot write to {describe}: {e}")))?;
        if let Some(file) = &state.file {
            file.sync_data()
                .map_err(|e| write_failed(format!("cannot sync {describe}: {e}")))?;
        }
        Ok(())
    }
}

/// Every line of a file by content, with its 1-based numbers.
fn index_lines(path: &Path) -> std::io::Result<HashMap<Vec<u8>, Vec<u64>>> {
    let mut reader = BufReader::with_capacity(1 << 16, File::open(path)?);
    let mut index: HashMap<Vec<u8>, Vec<u64>> = HashMap::new();
    let mut line = Vec::new();
    let mut number = 0u64;
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            return Ok(index);
        }
        number += 1;
        if line.last() == Some(&b'\n') {
            line.pop();
        }
        index.entry(line.clone()).or_default().push(number);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery<'a>(deal: &'a str, record: &'a [u8]) -> Delivery<'a> {
        Delivery {
            deal_id: deal,
            idempotency_key: "k",
            record,
            client: None,
        }
    }

    #[test]
    fn lines_are_appended_numbered_and_found_again_by_their_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.ndjson");
        std::fs::write(&path, "{\"old\":1}\n{\"torn\":").unwrap();
        let target = FileTarget::open(&path).unwrap();
        let created = target.create(&delivery("1", b"{\"a\":1}")).unwrap();
        target.flush().unwrap();
        let name = path.display();
        assert_eq!(created.project_id, Some(format!("{name}:3")));
        let reopened = FileTarget::open(&path).unwrap();
        assert_eq!(
            reopened.find(&delivery("1", b"{\"a\":1}")).unwrap(),
            [format!("{name}:3")]
        );
        assert!(
            reopened
                .find(&delivery("2", b"{\"a\":2}"))
                .unwrap()
                .is_empty()
        );
    }
}
