//! Reading files: text with a size limit, errors in words, paths as users see them.

use std::cell::RefCell;
use std::path::{Component, Path, PathBuf};

thread_local! {
    /// The folders [`read_utf8_file`] may read under on this thread, when confined.
    static CONFINED: RefCell<Option<Vec<PathBuf>>> = const { RefCell::new(None) };
}

/// Runs `work` with [`read_utf8_file`] confined, on this thread, to regular files under the
/// `roots` (canonical folders) that have no other hard link: a symbolic link is followed to its
/// target, which must be inside too, and a file with a second name could be a link to a file
/// outside. The language server checks every document this way, since its documents and their
/// paths come from the client.
pub fn confine_reads<R>(roots: Vec<PathBuf>, work: impl FnOnce() -> R) -> R {
    /// Restores the previous confinement, also when `work` panics.
    struct Restore(Option<Vec<PathBuf>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            CONFINED.with(|c| *c.borrow_mut() = previous);
        }
    }
    let _restore = Restore(CONFINED.with(|c| c.replace(Some(roots))));
    work()
}

/// Why the confinement ([`confine_reads`]) refuses `path`, if it does.
fn refused_by_confinement(path: &Path) -> Option<String> {
    CONFINED.with(|confined| {
        let confined = confined.borrow();
        let roots = confined.as_ref()?;
        let real = std::fs::canonicalize(path).ok()?;
        if !roots.iter().any(|root| real.starts_with(root)) {
            return Some(if roots.is_empty() {
                "the language server reads files only under the editor's workspace folders, or beside a mapping saved on disk".to_string()
            } else {
                "it is outside the workspace folders the editor named".to_string()
            });
        }
        let links = hard_links(&real);
        (links > 1).then(|| {
            format!("it has {links} hard links, and another name of it may be outside the workspace")
        })
    })
}

#[cfg(unix)]
fn hard_links(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).map_or(1, |m| m.nlink())
}

#[cfg(not(unix))]
fn hard_links(_path: &Path) -> u64 {
    1
}

/// Reads a UTF-8 text file of at most `max_bytes` (a leading byte-order mark is dropped), or says
/// why it cannot be read, in words for a message.
pub fn read_utf8_file(path: &Path, max_bytes: u64) -> Result<String, String> {
    if let Some(reason) = refused_by_confinement(path) {
        return Err(reason);
    }
    let metadata = std::fs::metadata(path).map_err(|e| io_reason(&e))?;
    if !metadata.is_file() {
        return Err("not a regular file".into());
    }
    if metadata.len() > max_bytes {
        return Err(format!(
            "it is {} bytes, more than the limit of {max_bytes}",
            metadata.len()
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| io_reason(&e))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        format!(
            "it is not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    })
}

/// A short description of an I/O error.
pub fn io_reason(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => error.to_string(),
    }
}

/// A path as shown to users: relative to the working folder when it is inside it.
pub fn display_name(path: &Path) -> String {
    let shown = std::env::current_dir()
        .ok()
        .and_then(|cwd| {
            path.strip_prefix(normalise(&cwd))
                .ok()
                .map(Path::to_path_buf)
        })
        .unwrap_or_else(|| path.to_path_buf());
    let shown = shown.display().to_string();
    if shown.is_empty() {
        ".".to_string()
    } else {
        shown
    }
}

/// Removes `.` and resolves `..` lexically (without touching the file system).
pub fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Opens a file, or stdin for `-`, buffered.
pub fn open_input(path: &Path) -> Result<Box<dyn std::io::BufRead>, String> {
    if path == Path::new("-") {
        return Ok(Box::new(std::io::BufReader::with_capacity(
            1 << 16,
            std::io::stdin(),
        )));
    }
    let file = std::fs::File::open(path)
        .map_err(|e| format!("cannot read `{}`: {}", path.display(), io_reason(&e)))?;
    Ok(Box::new(std::io::BufReader::with_capacity(1 << 16, file)))
}

/// True for file names that promise NDJSON (`*.ndjson`, `*.jsonl`).
pub fn is_ndjson_name(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e == "ndjson" || e == "jsonl")
}

/// Reads every record of a JSON array, single document or NDJSON file (or `-`).
pub fn read_records(path: &Path) -> Result<Vec<serde_json::Value>, String> {
    let reader = open_input(path)?;
    let limits = super::input::InputLimits {
        ndjson: is_ndjson_name(path),
        ..super::input::InputLimits::default()
    };
    super::input::read_all(reader, limits).map_err(|e| format!("`{}`: {e}", path.display()))
}
