//! The layering ARCHITECTURE.md promises, enforced: every top-level module of `src/` is on one
//! layer of the table in ARCHITECTURE.md (between the `layers:` markers), and imports only from
//! modules on lower layers. An import sideways or upward fails, so no two modules can form a
//! cycle. Imports are read from the source text: `use crate::X`, inline `crate::X::` paths,
//! and `super::X` in a module's root file (which names the crate root's `X`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layer of each module, as ARCHITECTURE.md's table gives it (higher layers import lower).
fn layers() -> BTreeMap<String, usize> {
    let text = std::fs::read_to_string(root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let table = text
        .split("<!-- layers: begin -->")
        .nth(1)
        .and_then(|rest| rest.split("<!-- layers: end -->").next())
        .expect(
            "ARCHITECTURE.md has a table between <!-- layers: begin --> and <!-- layers: end -->",
        );
    let mut layers = BTreeMap::new();
    for line in table.lines().filter(|l| l.starts_with('|')) {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        let Ok(layer) = cells[0].parse::<usize>() else {
            continue;
        };
        for module in cells[1].split(',') {
            let name = module.trim().trim_matches('`').trim_end_matches('/');
            let name = name.trim_start_matches("src/").trim_end_matches(".rs");
            if !name.is_empty() {
                layers.insert(name.to_string(), layer);
            }
        }
    }
    layers
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable folder").flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to (`None` for the crate root files).
fn module_of(file: &Path) -> Option<String> {
    let relative = file.strip_prefix(root().join("src")).ok()?;
    let first = relative.components().next()?.as_os_str().to_string_lossy();
    let name = first.trim_end_matches(".rs").to_string();
    (name != "lib" && name != "main").then_some(name)
}

/// True when `file` is a module's root file (`src/x.rs` or `src/x/mod.rs`), whose `super` is
/// the crate root.
fn is_module_root(file: &Path) -> bool {
    let Ok(relative) = file.strip_prefix(root().join("src")) else {
        return false;
    };
    let depth = relative.components().count();
    depth == 1 || (depth == 2 && relative.ends_with("mod.rs"))
}

/// The crate modules `text` refers to, with the line of the first reference to each.
fn references(text: &str, module_root: bool) -> BTreeMap<String, usize> {
    let mut found = BTreeMap::new();
    for (number, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut prefixes = vec!["crate::"];
        if module_root {
            prefixes.push("super::");
        }
        for prefix in prefixes {
            for (at, _) in code.match_indices(prefix) {
                let before = code[..at].chars().last();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                let rest = &code[at + prefix.len()..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    found.entry(name).or_insert(number + 1);
                }
            }
        }
        // `use crate::{a, b::c}` names several modules at once.
        if let Some(group) = code.split("use crate::{").nth(1) {
            for part in group.split(',') {
                let name: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    found.entry(name).or_insert(number + 1);
                }
            }
        }
    }
    found
}

/// Every import of a module by another: (importer, imported, file, line).
fn imports(layers: &BTreeMap<String, usize>) -> Vec<(String, String, PathBuf, usize)> {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    files.sort();
    let mut found = Vec::new();
    for file in files {
        let Some(module) = module_of(&file) else {
            continue;
        };
        let text = std::fs::read_to_string(&file).expect("readable source");
        for (target, line) in references(&text, is_module_root(&file)) {
            if target != module && layers.contains_key(&target) {
                found.push((module.clone(), target, file.clone(), line));
            }
        }
    }
    found
}

#[test]
fn every_module_is_on_a_layer_of_the_table() {
    let layers = layers();
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let modules: BTreeSet<String> = files.iter().filter_map(|f| module_of(f)).collect();
    let missing: Vec<&String> = modules
        .iter()
        .filter(|m| !layers.contains_key(*m))
        .collect();
    assert!(
        missing.is_empty(),
        "modules missing from ARCHITECTURE.md's layer table: {missing:?}"
    );
    let stale: Vec<&String> = layers.keys().filter(|m| !modules.contains(*m)).collect();
    assert!(
        stale.is_empty(),
        "the layer table names modules that do not exist: {stale:?}"
    );
}

#[test]
fn modules_import_only_from_lower_layers() {
    let layers = layers();
    let wrong: Vec<String> = imports(&layers)
        .into_iter()
        .filter(|(from, to, _, _)| layers[to] >= layers[from])
        .map(|(from, to, file, line)| {
            let file = file
                .strip_prefix(root())
                .unwrap_or(&file)
                .display()
                .to_string();
            let how = if layers[&to] == layers[&from] {
                "sideways"
            } else {
                "upward"
            };
            format!(
                "{file}:{line}: `{from}` (layer {}) imports `{to}` (layer {}), {how}",
                layers[&from], layers[&to]
            )
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "imports that break the layering of ARCHITECTURE.md:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_reader_finds_imports_in_every_form() {
    let text = "use crate::check::Program;\nuse crate::{diag, io::files};\nlet x = crate::value::json_equal(a, b); // crate::cli in a comment\n";
    let found: Vec<String> = references(text, false).into_keys().collect();
    assert_eq!(found, ["check", "diag", "io", "value"]);
    let at_root = references("use super::reader::Plan;\n", true);
    assert_eq!(at_root.keys().collect::<Vec<_>>(), ["reader"]);
    assert!(references("use super::reader::Plan;\n", false).is_empty());
}
