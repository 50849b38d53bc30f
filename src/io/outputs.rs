//! Output files before a run writes them: no two outputs, and no output and an input, may be the
//! same file (M520), and the temporary files a killed run left beside its outputs are removed.
//!
//! Files are compared by identity, not by name: an existing file by device and inode (so a
//! symbolic or hard link to an input is the input), a file that does not exist yet by its folder's
//! canonical path and its name. Devices, pipes and other files that are not regular files are
//! written in place and never replaced (`--out /dev/null --rejects /dev/null` is fine), so they
//! are not compared.
//!
//! Temporary files are named `.NAME.mapctl-PID-SERIAL.tmp` (output files) and
//! `.NAME.mapctl-PID-SERIAL.spool` (run-log spools), a pattern only mapctl writes, and their
//! writer holds an exclusive advisory lock on them while it lives. A leftover is removed only when
//! its name has that pattern, it is a regular file (never a link), the process its name names is
//! not running (on Linux, `/proc/PID` is absent) and no process holds its lock: a concurrent run's
//! files are never touched.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The marker between a temporary file's target name and its owner's process id.
const MARKER: &str = ".mapctl-";

/// Distinguishes the temporary files of one process.
static SERIAL: AtomicUsize = AtomicUsize::new(0);

/// The kinds of temporary file mapctl writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TempKind {
    /// An output file being written (`*.tmp`).
    Output,
    /// A run log's spool (`*.spool`).
    Spool,
}

impl TempKind {
    fn suffix(self) -> &'static str {
        match self {
            TempKind::Output => ".tmp",
            TempKind::Spool => ".spool",
        }
    }
}

/// The temporary file beside `target` for this process: `.NAME.mapctl-PID-SERIAL.tmp`.
pub fn temp_path(target: &Path, kind: TempKind) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".to_string());
    let serial = SERIAL.fetch_add(1, Ordering::Relaxed);
    let pid = std::process::id();
    folder_of(target).join(format!(".{name}{MARKER}{pid}-{serial}{}", kind.suffix()))
}

/// Creates a temporary file and takes its exclusive lock, which it holds until it is closed, so
/// that [`remove_stale_temporaries`] in another run leaves it alone.
pub fn create_locked(path: &Path) -> std::io::Result<File> {
    let file = File::create(path)?;
    // A file system without advisory locks still gets the file; only the cleanup's second
    // safeguard is lost (the process-id check remains).
    let _ = file.try_lock();
    Ok(file)
}

/// The folder a file is in (`.` for a bare name).
pub fn folder_of(path: &Path) -> &Path {
    path.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// The process id in a mapctl temporary file's name, or `None` for any other name.
fn owner_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('.')?;
    let stem = rest
        .strip_suffix(TempKind::Output.suffix())
        .or_else(|| rest.strip_suffix(TempKind::Spool.suffix()))?;
    let at = stem.rfind(MARKER)?;
    let tail = &stem[at + MARKER.len()..];
    let (pid, serial) = tail.split_once('-').unwrap_or((tail, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (at > 0 && digits(pid) && digits(serial))
        .then(|| pid.parse().ok())
        .flatten()
}

/// True unless the process is known to have ended: on Linux, its `/proc` entry is absent.
fn may_be_running(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    let proc_fs = Path::new("/proc/self");
    proc_fs.exists() && Path::new("/proc").join(pid.to_string()).exists()
}

/// Removes the temporary files killed runs left in `folder` (see the module documentation for
/// when a file counts as left); returns how many were removed. Errors only lose the cleanup.
pub fn remove_stale_temporaries(folder: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(owner_pid) else {
            continue;
        };
        let path = entry.path();
        let is_file = std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_file());
        if !is_file || may_be_running(pid) || !unlocked(&path) {
            continue;
        }
        if std::fs::remove_file(&path).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// True when no process holds a lock on the file (taking it, then letting it go).
fn unlocked(path: &Path) -> bool {
    let Ok(file) = File::open(path) else {
        return false;
    };
    match file.try_lock() {
        Ok(()) => true,
        Err(std::fs::TryLockError::WouldBlock) => false,
        // No advisory locks here: the process-id check decided.
        Err(std::fs::TryLockError::Error(_)) => true,
    }
}

/// What makes two names the same file.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Identity {
    /// An existing file: device and inode.
    Inode(u64, u64),
    /// A file not created yet: its folder's canonical path and its name.
    Planned(PathBuf),
}

/// The identity of a file named as an output or an input; `None` for what is never replaced
/// (devices, pipes, folders) and for names whose folder does not exist (creating the file fails
/// later, with its own message).
fn identity(path: &Path) -> Option<Identity> {
    match std::fs::metadata(path) {
        Ok(found) if found.is_file() => Some(inode(&found)),
        Ok(_) => None,
        Err(_) => {
            let folder = std::fs::canonicalize(folder_of(path)).ok()?;
            Some(Identity::Planned(folder.join(path.file_name()?)))
        }
    }
}

#[cfg(unix)]
fn inode(found: &std::fs::Metadata) -> Identity {
    use std::os::unix::fs::MetadataExt;
    Identity::Inode(found.dev(), found.ino())
}

#[cfg(not(unix))]
fn inode(_found: &std::fs::Metadata) -> Identity {
    Identity::Inode(0, 0)
}

/// A file a run reads or writes, with the option that names it (`--out`, `input`, ...).
#[derive(Debug, Clone)]
pub struct NamedFile<'a> {
    /// The option or role, as the user wrote it (`--rejects`, `the input`).
    pub role: &'a str,
    /// The path given.
    pub path: &'a Path,
}

/// Refuses outputs that are the same file as another output or as an input (M520), before
/// anything is written: `--out F --rejects F` would tear both, `--out deals.json` would replace
/// the deals being read. `-` as an input is standard input (compared through `/dev/stdin`).
pub fn check_distinct(outputs: &[NamedFile<'_>], inputs: &[NamedFile<'_>]) -> Result<(), String> {
    let outputs: Vec<(Identity, &NamedFile<'_>)> = outputs
        .iter()
        .filter_map(|file| Some((identity_of(file)?, file)))
        .collect();
    for (at, (id, output)) in outputs.iter().enumerate() {
        if let Some((_, earlier)) = outputs[..at].iter().find(|(other, _)| other == id) {
            return Err(format!(
                "`{} {}` names the same file as `{} {}`: each output needs a file of its own, or the two would tear each other's lines (nothing was written)",
                output.role,
                output.path.display(),
                earlier.role,
                earlier.path.display()
            ));
        }
        if matches!(id, Identity::Planned(_)) {
            continue;
        }
        if let Some(input) = inputs
            .iter()
            .find(|input| identity_of(input).as_ref() == Some(id))
        {
            return Err(format!(
                "`{} {}` names {} `{}`: writing it would replace what this run reads (nothing was written)",
                output.role,
                output.path.display(),
                input.role,
                input.path.display()
            ));
        }
    }
    Ok(())
}

/// The identity of a named file; `-` is standard input, compared through `/dev/stdin`.
fn identity_of(file: &NamedFile<'_>) -> Option<Identity> {
    if file.path == Path::new("-") {
        identity(Path::new("/dev/stdin"))
    } else {
        identity(file.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_mapctl_temporary_names_have_an_owner() {
        assert_eq!(owner_pid(".out.ndjson.mapctl-123-4.tmp"), Some(123));
        assert_eq!(owner_pid(".runs.log.mapctl-77-0.spool"), Some(77));
        assert_eq!(owner_pid(".out.ndjson.mapctl-123.tmp"), Some(123));
        for other in [
            "out.ndjson.mapctl-123-4.tmp",
            ".out.ndjson.mapctl-12a-4.tmp",
            ".out.ndjson.mapctl--4.tmp",
            ".mapctl-1-1.tmp",
            ".out.ndjson.mapctl-1-1.tmpx",
            ".notes.tmp",
            ".out.tmp",
        ] {
            assert_eq!(owner_pid(other), None, "{other}");
        }
    }

    #[test]
    fn stale_files_go_and_live_ones_stay() {
        let dir = tempfile::tempdir().unwrap();
        // Process ids above the kernel's maximum (4,194,304) never run.
        let dead = dir.path().join(".out.ndjson.mapctl-999999999-0.tmp");
        let spool = dir.path().join(".runs.log.mapctl-999999998-3.spool");
        let mine = temp_path(&dir.path().join("out.ndjson"), TempKind::Output);
        let locked = dir.path().join(".rejects.mapctl-999999997-0.tmp");
        let foreign = dir.path().join(".out.ndjson.tmp");
        for path in [&dead, &spool, &mine, &locked, &foreign] {
            std::fs::write(path, "x").unwrap();
        }
        let held = create_locked(&locked).unwrap();
        assert_eq!(remove_stale_temporaries(dir.path()), 2);
        assert!(!dead.exists() && !spool.exists());
        assert!(mine.exists() && locked.exists() && foreign.exists());
        drop(held);
        assert_eq!(remove_stale_temporaries(dir.path()), 1);
        assert!(!locked.exists());
    }

    #[test]
    fn outputs_are_compared_by_identity() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("deals.json");
        std::fs::write(&input, "{}").unwrap();
        let link = dir.path().join("link.json");
        std::fs::hard_link(&input, &link).unwrap();
        let fresh = dir.path().join("out.ndjson");
        let again = dir.path().join(".").join("out.ndjson");
        let named = |role, path| NamedFile { role, path };
        let inputs = [named("the input", input.as_path())];
        assert!(check_distinct(&[named("--out", &fresh)], &inputs).is_ok());
        let same = check_distinct(&[named("--out", &fresh), named("--rejects", &again)], &[]);
        assert!(same.unwrap_err().contains("same file as `--out"));
        let read = check_distinct(&[named("--out", &link)], &inputs);
        assert!(read.unwrap_err().contains("names the input"));
        let null = Path::new("/dev/null");
        assert!(check_distinct(&[named("--out", null), named("--rejects", null)], &[]).is_ok());
    }
}
