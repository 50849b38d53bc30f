//! `mapctl lsp` against a hostile client (issue 23 item 7), through the real binary: malformed
//! frames are answered with JSON-RPC errors and the server goes on; a check reads only files
//! under the workspace folders the client named (or beside a mapping saved on disk), never a
//! system file named by a made-up document, never a hard link to a file outside.

use std::io::{BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use mapctl::lsp::transport::{read_message, write_message};
use serde_json::{Value, json};

struct Client {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next_id: i64,
}

impl Client {
    fn start() -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mapctl"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("mapctl lsp starts");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        Client {
            child,
            stdin,
            stdout,
            next_id: 0,
        }
    }

    fn raw(&mut self, bytes: &[u8]) {
        self.stdin.write_all(bytes).expect("write");
        self.stdin.flush().expect("flush");
    }

    fn send(&mut self, message: &Value) {
        write_message(&mut self.stdin, message).expect("write");
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and returns its answer (result or error), skipping notifications.
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let message = read_message(&mut self.stdout).expect("an answer");
            if message["id"] == json!(id) {
                return message;
            }
        }
    }

    /// The next message from the server.
    fn next(&mut self) -> Value {
        read_message(&mut self.stdout).expect("a message")
    }

    /// The next diagnostics published for `uri`.
    fn diagnostics_for(&mut self, uri: &str) -> Vec<Value> {
        loop {
            let message = self.next();
            if message["method"] == "textDocument/publishDiagnostics"
                && message["params"]["uri"] == uri
            {
                return message["params"]["diagnostics"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
            }
        }
    }

    fn open(&mut self, uri: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "mapctl", "version": 1, "text": text}}),
        );
    }

    /// Shuts the server down properly; returns its exit code.
    fn finish(mut self) -> Option<i32> {
        let answer = self.request("shutdown", Value::Null);
        assert!(answer.get("error").is_none(), "{answer}");
        self.notify("exit", Value::Null);
        self.child.wait().expect("exits").code()
    }
}

fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

fn file_uri(path: &Path) -> String {
    mapctl::lsp::uri::path_to_uri(path)
        .expect("a file URI")
        .as_str()
        .to_string()
}

#[test]
fn malformed_frames_are_answered_with_errors_and_the_server_goes_on() {
    let mut client = Client::start();
    let bad: Vec<Vec<u8>> = vec![
        b"Content-Length: 12abc\r\n\r\n".to_vec(),
        b"Content-Length: -5\r\n\r\n".to_vec(),
        b"X-Nothing: here\r\n\r\n".to_vec(),
        frame(b"\xff\xfe\xfd not UTF-8"),
        frame(br#"{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"s": "\ud800"}}"#),
        frame(b"{\"unterminated\": "),
    ];
    for bytes in &bad {
        client.raw(bytes);
        let answer = client.next();
        assert_eq!(answer["error"]["code"], -32700, "{answer}");
        assert_eq!(answer["id"], Value::Null);
    }
    for body in [
        &b"5"[..],
        b"[]",
        br#"{"jsonrpc": "2.0", "id": 9, "method": 42}"#,
    ] {
        client.raw(&frame(body));
        let answer = client.next();
        assert_eq!(answer["error"]["code"], -32600, "{answer}");
    }
    // Binary garbage without any line break, then a well-formed request.
    client.raw(&vec![0xC3; 200_000]);
    client.raw(b"\r\n\r\n");
    let answer = client.next();
    assert_eq!(answer["error"]["code"], -32700, "{answer}");
    // Wrong parameter types are InvalidParams, not a dead server.
    let init = client.request("initialize", json!({"capabilities": {}}));
    assert!(init["result"]["capabilities"].is_object(), "{init}");
    let hover = client.request("textDocument/hover", json!({"textDocument": 5}));
    assert_eq!(hover["error"]["code"], -32602, "{hover}");
    client.notify("textDocument/didOpen", json!({"textDocument": [1, 2]}));
    client.notify("textDocument/didChange", json!("nothing"));
    assert_eq!(client.finish(), Some(0));
}

#[test]
fn a_made_up_document_in_a_system_folder_reads_no_system_file() {
    let mut client = Client::start();
    let init = client.request("initialize", json!({"rootUri": null, "capabilities": {}}));
    assert!(init.get("error").is_none());
    let uri = "file:///etc/x.map";
    client.open(
        uri,
        "mapping x\nsource deal = schema \"passwd\"\ntarget project = schema \"hostname\"\n",
    );
    let diagnostics = client.diagnostics_for(uri);
    let text = serde_json::to_string(&diagnostics).expect("json");
    assert!(!text.contains("root:"), "a system file was read: {text}");
    assert!(
        text.contains("reads files only under the editor's workspace folders"),
        "{text}"
    );
    assert_eq!(client.finish(), Some(0));
}

#[test]
fn files_outside_the_workspace_and_hard_links_to_them_are_not_read() {
    let outside = tempfile::tempdir().expect("outside");
    let workspace = tempfile::tempdir().expect("workspace");
    let secret = outside.path().join("secret.json");
    std::fs::write(&secret, "{\"SECRET-LINE\": [}").expect("secret");
    let folder = workspace.path().join("maps");
    std::fs::create_dir(&folder).expect("folder");
    std::fs::hard_link(&secret, folder.join("deal.schema.json")).expect("hard link");
    std::fs::write(folder.join("ok.schema.json"), "{\"type\": \"object\"}").expect("own file");
    let mapping = folder.join("m.map");
    let text = "mapping m\nsource deal = schema \"deal.schema.json\"\ntarget project = schema \"ok.schema.json\"\n";
    std::fs::write(&mapping, text).expect("mapping");
    let elsewhere = outside.path().join("m.map");
    std::fs::write(
        &elsewhere,
        "mapping m\nsource deal = schema \"secret.json\"\n",
    )
    .expect("map");

    let mut client = Client::start();
    let init = client.request(
        "initialize",
        json!({"workspaceFolders": [{"uri": file_uri(workspace.path()), "name": "w"}], "capabilities": {}}),
    );
    assert!(init.get("error").is_none());
    let uri = file_uri(&mapping);
    client.open(&uri, text);
    let diagnostics = client.diagnostics_for(&uri);
    let shown = serde_json::to_string(&diagnostics).expect("json");
    assert!(
        !shown.contains("SECRET-LINE"),
        "a hard link out was read: {shown}"
    );
    assert!(shown.contains("hard links"), "{shown}");
    // The workspace's own files are read: only the hard link is refused.
    assert!(!shown.contains("ok.schema.json"), "{shown}");
    // A mapping outside the workspace reads nothing, even beside it.
    let other = file_uri(&elsewhere);
    client.open(&other, "mapping m\nsource deal = schema \"secret.json\"\n");
    let diagnostics = client.diagnostics_for(&other);
    let shown = serde_json::to_string(&diagnostics).expect("json");
    assert!(!shown.contains("SECRET-LINE"), "{shown}");
    assert!(shown.contains("outside the workspace folders"), "{shown}");
    assert_eq!(client.finish(), Some(0));
}
