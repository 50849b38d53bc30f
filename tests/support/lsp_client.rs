//! A scripted LSP client for tests: starts `mapctl lsp`, speaks JSON-RPC to it over its stdio,
//! keeps the notifications it sends, answers its requests, and applies text edits the way an
//! editor does. Reads time out (a hung server fails the test instead of hanging it).

#![allow(dead_code)]

use std::io::{BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use mapctl::lsp::position::{to_offset, to_position};
use mapctl::lsp::transport::{read_message, write_message};
use serde_json::{Value, json};

/// How long a test waits for one message before failing.
const PATIENCE: Duration = Duration::from_secs(60);

/// A running `mapctl lsp` and what it sent.
pub struct Client {
    child: Child,
    stdin: ChildStdin,
    inbox: Receiver<Value>,
    next_id: i64,
    /// Notifications and server requests received and not taken yet.
    pub pending: Vec<Value>,
}

impl Client {
    /// Starts the server and initializes it with `capabilities`.
    pub fn start(capabilities: Value) -> (Client, Value) {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mapctl"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("mapctl lsp starts");
        let stdin = child.stdin.take().expect("stdin");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let (sender, inbox) = channel();
        std::thread::spawn(move || {
            while let Ok(message) = read_message(&mut stdout) {
                if sender.send(message).is_err() {
                    return;
                }
            }
        });
        let mut client = Client {
            child,
            stdin,
            inbox,
            next_id: 0,
            pending: Vec::new(),
        };
        let result = client.request(
            "initialize",
            json!({"processId": null, "rootUri": null, "capabilities": capabilities}),
        );
        client.notify("initialized", json!({}));
        (client, result)
    }

    /// Sends a raw message.
    pub fn send(&mut self, message: &Value) {
        write_message(&mut self.stdin, message).expect("the server reads");
        self.stdin.flush().expect("flush");
    }

    /// Sends a notification.
    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and returns its whole answer (result or error).
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let message = self.receive();
            if message["id"] == json!(id) && message.get("method").is_none() {
                return message;
            }
            self.pending.push(message);
        }
    }

    /// Sends a request and returns its result (failing the test on an error answer).
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let answer = self.call(method, params);
        assert!(answer.get("error").is_none(), "{method} failed: {answer}");
        answer["result"].clone()
    }

    /// The next message from the server.
    pub fn receive(&mut self) -> Value {
        self.inbox
            .recv_timeout(PATIENCE)
            .expect("the server answers in time")
    }

    /// The first pending or next message that `wanted` accepts (the others are kept).
    pub fn wait_for(&mut self, wanted: impl Fn(&Value) -> bool) -> Value {
        if let Some(index) = self.pending.iter().position(&wanted) {
            return self.pending.remove(index);
        }
        loop {
            let message = self.receive();
            if wanted(&message) {
                return message;
            }
            self.pending.push(message);
        }
    }

    /// The next diagnostics published for `uri`: (version, diagnostics).
    pub fn diagnostics(&mut self, uri: &str) -> (Value, Vec<Value>) {
        let message = self.wait_for(|m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
        });
        let params = &message["params"];
        let list = params["diagnostics"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        (params["version"].clone(), list)
    }

    /// Opens a mapping document.
    pub fn open(&mut self, uri: &str, text: &str) {
        self.open_as(uri, "mapctl", text);
    }

    /// Opens a document of any language.
    pub fn open_as(&mut self, uri: &str, language: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": language, "version": 1, "text": text}}),
        );
    }

    /// Replaces a document's whole text.
    pub fn replace(&mut self, uri: &str, version: i64, text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}),
        );
    }

    /// Sends `edits` as one `didChange` of incremental changes, applied one after the other (each
    /// on the text the previous one made, as LSP says), and returns the text they make.
    pub fn edit(&mut self, uri: &str, version: i64, text: &str, edits: &[Value]) -> String {
        let changes: Vec<Value> = edits
            .iter()
            .map(|e| json!({"range": e["range"], "text": e["newText"]}))
            .collect();
        let mut changed = text.to_string();
        for e in edits {
            changed = apply_edits(&changed, std::slice::from_ref(e));
        }
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": changes}),
        );
        changed
    }

    /// Shuts the server down properly and checks it exits with 0.
    pub fn finish(mut self) {
        assert_eq!(self.request("shutdown", Value::Null), Value::Null);
        self.notify("exit", Value::Null);
        let status = self.child.wait().expect("the server exits");
        assert_eq!(status.code(), Some(0));
    }
}

/// `text` with LSP text edits applied (non-overlapping, any order), as an editor applies them.
pub fn apply_edits(text: &str, edits: &[Value]) -> String {
    let mut spans: Vec<(usize, usize, String)> = edits
        .iter()
        .map(|e| {
            let at = |p: &Value| {
                to_offset(
                    text,
                    lsp_types::Position::new(
                        p["line"].as_u64().unwrap() as u32,
                        p["character"].as_u64().unwrap() as u32,
                    ),
                )
            };
            (
                at(&e["range"]["start"]),
                at(&e["range"]["end"]),
                e["newText"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    spans.sort_by_key(|s| std::cmp::Reverse(s.0));
    let mut out = text.to_string();
    for (start, end, new) in spans {
        out.replace_range(start..end, &new);
    }
    out
}

/// The `file://` URI of a path.
pub fn uri_of(path: &Path) -> String {
    let path = std::fs::canonicalize(path).expect("an existing path");
    mapctl::lsp::uri::path_to_uri(&path)
        .expect("a file URI")
        .as_str()
        .to_string()
}

/// The LSP position of `needle` in `text` plus `shift` bytes.
pub fn position_of(text: &str, needle: &str, shift: usize) -> Value {
    let offset = text
        .find(needle)
        .unwrap_or_else(|| panic!("`{needle}` in the text"))
        + shift;
    let position = to_position(text, offset);
    json!({"line": position.line, "character": position.character})
}

/// A copy of `mappings/` (schemas, tables, shipped mappings) in a temporary folder, so that a
/// test may edit schema files.
pub fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary folder");
    copy_tree(Path::new("mappings"), dir.path());
    dir
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("readable").flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().expect("a type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}
