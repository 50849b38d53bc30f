//! Reading files: text with a size limit, errors in words, paths as users see them.

use std::path::{Component, Path, PathBuf};

/// Reads a UTF-8 text file of at most `max_bytes` (a leading byte-order mark is dropped), or says
/// why it cannot be read, in words for a message.
pub fn read_utf8_file(path: &Path, max_bytes: u64) -> Result<String, String> {
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
