//! Output files written atomically: into a temporary file beside the target, renamed over it
//! only when complete. An interrupted or failed run leaves the previous file (or none), never a
//! partial one; the temporary file is removed when the writer is dropped without committing.
//!
//! A target that names a device or an open file (`/dev/stdout`, `/dev/null`, `/proc/self/fd/1`), or
//! is not a regular file (a pipe), is written directly, appending: renaming over its name would
//! put a file in place of the device, or cut the output off from a shell redirection. A symbolic
//! link to a file is followed, so the file is replaced and the link kept.
//!
//! The temporary file is named and locked as [`super::outputs`] says, so that a later run can
//! tell it from a live one's and remove it if a killed run left it.
//!
//! The file is synced to disk before it is renamed, so a crash cannot leave an empty file under
//! the target's name. Once the temporary file is large, a background thread syncs what has been
//! written so far every few hundred milliseconds, so the disk works while the run does and the
//! sync on commit has little left to wait for (on the reference job it was a fifth of the wall
//! time). Small outputs, such as a single deal's, never start the thread.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Bytes written before the background sync starts.
const EARLY_SYNC_AFTER: u64 = 8 << 20;
/// How often the background sync runs.
const EARLY_SYNC_EVERY: Duration = Duration::from_millis(250);

/// A file being written that appears under its name only on [`AtomicFile::commit`].
pub struct AtomicFile {
    target: PathBuf,
    /// The temporary file; `None` when the target is written directly (not a regular file).
    temp: Option<PathBuf>,
    writer: Option<BufWriter<File>>,
    /// Bytes written so far.
    written: u64,
    /// Bytes after which the background sync starts.
    early_sync_after: u64,
    early_sync: Option<EarlySync>,
}

impl AtomicFile {
    /// Starts writing `target` (through a temporary file in the same folder).
    pub fn create(target: &Path) -> std::io::Result<AtomicFile> {
        if writes_in_place(target) {
            let file = std::fs::OpenOptions::new().append(true).open(target)?;
            return Ok(AtomicFile {
                target: target.to_path_buf(),
                temp: None,
                writer: Some(BufWriter::with_capacity(1 << 16, file)),
                written: 0,
                early_sync_after: u64::MAX,
                early_sync: None,
            });
        }
        let is_link = std::fs::symlink_metadata(target).is_ok_and(|m| m.file_type().is_symlink());
        let target = if is_link {
            std::fs::canonicalize(target)?
        } else {
            target.to_path_buf()
        };
        let temp = super::outputs::temp_path(&target, super::outputs::TempKind::Output);
        let file = super::outputs::create_locked(&temp)?;
        Ok(AtomicFile {
            target,
            temp: Some(temp),
            writer: Some(BufWriter::with_capacity(1 << 16, file)),
            written: 0,
            early_sync_after: EARLY_SYNC_AFTER,
            early_sync: None,
        })
    }

    /// Flushes, syncs and renames the file into place (a target written directly is flushed).
    pub fn commit(mut self) -> std::io::Result<()> {
        if let Some(writer) = self.writer.take() {
            let file = writer.into_inner().map_err(|e| e.into_error())?;
            if let Some(early) = self.early_sync.take() {
                early.finish()?;
            }
            if let Some(temp) = &self.temp {
                file.sync_all()?;
                std::fs::rename(temp, &self.target)?;
            }
        }
        Ok(())
    }

    /// The path written to: the temporary file (removed on drop unless committed), or the
    /// target itself when it is written directly.
    pub fn temp_path(&self) -> &Path {
        self.temp.as_deref().unwrap_or(&self.target)
    }
}

/// True for targets that name a device or an open file (`/dev/stdout`, `/proc/self/fd/1`), and
/// for anything else that is not a regular file: those are written in place, appending.
fn writes_in_place(target: &Path) -> bool {
    target.starts_with("/dev")
        || target.starts_with("/proc")
        || std::fs::metadata(target).is_ok_and(|found| !found.is_file())
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let Some(writer) = &mut self.writer else {
            return Err(std::io::Error::other("file already committed"));
        };
        let count = writer.write(buf)?;
        self.written += count as u64;
        if self.written >= self.early_sync_after && self.early_sync.is_none() {
            // A file that cannot be shared with a thread is synced on commit only.
            self.early_sync = writer.get_ref().try_clone().ok().map(EarlySync::start);
        }
        Ok(count)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.writer {
            Some(writer) => writer.flush(),
            None => Ok(()),
        }
    }
}

/// A thread that syncs a file's data to disk every [`EARLY_SYNC_EVERY`] until told to stop.
struct EarlySync {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: JoinHandle<std::io::Result<()>>,
}

impl EarlySync {
    fn start(file: File) -> EarlySync {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let signal = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let (stopped, wake) = &*signal;
            let mut done = stopped
                .lock()
                .map_err(|_| std::io::Error::other("sync lock"))?;
            while !*done {
                let (guard, _) = wake
                    .wait_timeout(done, EARLY_SYNC_EVERY)
                    .map_err(|_| std::io::Error::other("sync lock"))?;
                done = guard;
                if !*done {
                    drop(done);
                    file.sync_data()?;
                    done = stopped
                        .lock()
                        .map_err(|_| std::io::Error::other("sync lock"))?;
                }
            }
            Ok(())
        });
        EarlySync { stop, thread }
    }

    /// Stops the thread and returns the first error a sync met.
    fn finish(self) -> std::io::Result<()> {
        let (stopped, wake) = &*self.stop;
        if let Ok(mut done) = stopped.lock() {
            *done = true;
        }
        wake.notify_all();
        self.thread
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("the background sync stopped")))
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if let Some(early) = self.early_sync.take() {
            let _ = early.finish();
        }
        if self.writer.take().is_some()
            && let Some(temp) = &self.temp
        {
            let _ = std::fs::remove_file(temp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_appears_until_commit_and_drop_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.ndjson");
        std::fs::write(&target, "previous\n").unwrap();
        {
            let mut file = AtomicFile::create(&target).unwrap();
            writeln!(file, "partial").unwrap();
        }
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "previous\n");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "temporary file left behind"
        );
        let mut file = AtomicFile::create(&target).unwrap();
        writeln!(file, "complete").unwrap();
        file.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "complete\n");
    }

    #[test]
    fn large_files_are_synced_while_written_and_still_appear_only_on_commit() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("big.ndjson");
        let line = "x".repeat(1023) + "\n";
        for commit in [false, true] {
            let mut file = AtomicFile::create(&target).unwrap();
            file.early_sync_after = 64 << 10;
            for _ in 0..256 {
                file.write_all(line.as_bytes()).unwrap();
            }
            assert!(
                file.early_sync.is_some(),
                "no background sync on a large file"
            );
            std::thread::sleep(EARLY_SYNC_EVERY * 2);
            for _ in 0..256 {
                file.write_all(line.as_bytes()).unwrap();
            }
            if commit {
                file.commit().unwrap();
            } else {
                drop(file);
                assert!(!target.exists(), "an uncommitted file appeared");
                assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
            }
        }
        let text = std::fs::read_to_string(&target).unwrap();
        assert_eq!(text.len(), 512 * 1024);
        assert!(text.lines().all(|l| l.len() == 1023));
        let mut small = AtomicFile::create(&dir.path().join("small.ndjson")).unwrap();
        writeln!(small, "one deal").unwrap();
        assert!(small.early_sync.is_none(), "a thread for a small file");
        small.commit().unwrap();
    }

    #[test]
    fn devices_are_written_directly_and_links_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut null = AtomicFile::create(Path::new("/dev/null")).unwrap();
        writeln!(null, "discarded").unwrap();
        null.commit().unwrap();
        assert!(!std::fs::metadata("/dev/null").unwrap().is_file());
        let real = dir.path().join("real.ndjson");
        std::fs::write(&real, "previous\n").unwrap();
        #[cfg(unix)]
        {
            let link = dir.path().join("link.ndjson");
            std::os::unix::fs::symlink(&real, &link).unwrap();
            let mut file = AtomicFile::create(&link).unwrap();
            writeln!(file, "complete").unwrap();
            file.commit().unwrap();
            assert!(
                std::fs::symlink_metadata(&link)
                    .unwrap()
                    .file_type()
                    .is_symlink()
            );
            assert_eq!(std::fs::read_to_string(&real).unwrap(), "complete\n");
        }
    }
}
