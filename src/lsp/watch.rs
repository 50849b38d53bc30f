//! Files the open mappings read: the editor is asked to watch schema, table and test files
//! (`workspace/didChangeWatchedFiles`, registered dynamically when the client can), and a client
//! that cannot is served by the server itself, which looks at the files' modification times
//! while it waits for messages. Either way a schema edited on disk re-checks the mappings that
//! read it, without the mapping being touched.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

use super::analysis::Analysis;

/// How often the server looks at the files itself, when the client does not watch them.
pub const POLL_EVERY: Duration = Duration::from_millis(500);

/// The globs registered with the client: schemas (JSON, YAML), tables (YAML, CSV) and test files.
pub const GLOBS: [&str; 4] = [
    "**/*.json",
    "**/*.{yaml,yml}",
    "**/*.csv",
    "**/*.tests.yaml",
];

/// True when the client's capabilities say it watches files for a server that registers
/// `workspace/didChangeWatchedFiles` dynamically.
pub fn client_watches(capabilities: &Value) -> bool {
    capabilities["workspace"]["didChangeWatchedFiles"]["dynamicRegistration"] == json!(true)
}

/// The `client/registerCapability` request asking the client to watch [`GLOBS`].
pub fn registration(id: i64) -> Value {
    let watchers: Vec<Value> = GLOBS.iter().map(|g| json!({"globPattern": g})).collect();
    json!({
        "jsonrpc": "2.0",
        "id": format!("mapctl-{id}"),
        "method": "client/registerCapability",
        "params": {"registrations": [{
            "id": "mapctl-watched-files",
            "method": "workspace/didChangeWatchedFiles",
            "registerOptions": {"watchers": watchers},
        }]},
    })
}

/// The paths of the `file://` URIs a `workspace/didChangeWatchedFiles` notification names.
pub fn changed_paths(params: &Value) -> Vec<PathBuf> {
    params["changes"]
        .as_array()
        .map(|changes| {
            changes
                .iter()
                .filter_map(|change| change["uri"].as_str())
                .filter_map(|uri| uri.parse::<lsp_types::Uri>().ok())
                .filter_map(|uri| super::uri::uri_to_path(&uri))
                .collect()
        })
        .unwrap_or_default()
}

/// True when a change to `path` may change what `analysis` reports: a file it read, one it
/// could not find, or its own test file (`NAME.tests.yaml` beside `NAME.map`).
pub fn affects(analysis: &Analysis, path: &Path) -> bool {
    analysis.depends_on(path) || is_tests_file_of(&analysis.path, path)
}

/// True when a file the analysis read changed on disk since.
pub fn files_changed(analysis: &Analysis) -> bool {
    analysis.stamps.iter().any(|s| s.changed())
}

fn is_tests_file_of(mapping: &Path, path: &Path) -> bool {
    mapping.with_extension("tests.yaml") == path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watching_is_registered_only_with_clients_that_can() {
        assert!(client_watches(
            &json!({"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}})
        ));
        assert!(!client_watches(&json!({})));
        assert!(!client_watches(&json!({"workspace": 3})));
        let request = registration(7);
        assert_eq!(request["method"], "client/registerCapability");
        let watchers = &request["params"]["registrations"][0]["registerOptions"]["watchers"];
        assert_eq!(watchers.as_array().map(Vec::len), Some(GLOBS.len()));
    }

    #[test]
    fn changed_uris_become_paths_and_junk_is_ignored() {
        let params = json!({"changes": [
            {"uri": "file:///w/s%20a.json", "type": 2},
            {"uri": 5, "type": 1},
            {"uri": "untitled:x", "type": 1},
        ]});
        assert_eq!(changed_paths(&params), [PathBuf::from("/w/s a.json")]);
        assert!(changed_paths(&json!(null)).is_empty());
        assert!(is_tests_file_of(
            Path::new("/m/a.map"),
            Path::new("/m/a.tests.yaml")
        ));
    }
}
