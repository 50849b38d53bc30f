//! The server loop. A reader thread frames messages from the editor into a queue; the loop takes
//! everything queued, acts on it in order (a change only updates the text), and then checks each
//! document that changed, once, on its newest text. So a burst of keystrokes costs one check,
//! not one per keystroke, and diagnostics are never published for a text that a queued change
//! already replaced: when a change arrives while a check runs, that check's result is dropped.
//! Requests are answered on the newest text (a stale document is checked first). Each check runs
//! the unchanged checker on the whole text, so diagnostics are always those of `mapctl check`.

use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};

use lsp_types::{
    DidChangeTextDocumentParams, DidCloseTextDocumentParams, DidOpenTextDocumentParams, Uri,
};
use serde_json::{Value, json};

use super::analysis::Analysis;
use super::documents::{Document, LANGUAGE_ID};
use super::transport::{ReadError, read_message, write_message};
use super::{features, watch};

/// What the reader thread hands the loop.
enum Incoming {
    Message(Value),
    Closed,
    Malformed(String),
}

impl Incoming {
    /// True for a change to the document `key` (which makes a check of its older text stale).
    fn changes(&self, key: &str) -> bool {
        matches!(self, Incoming::Message(m)
            if m["method"] == "textDocument/didChange" && m["params"]["textDocument"]["uri"] == key)
    }
}

/// The open documents, what the client can do, and the messages to send.
#[derive(Default)]
pub(super) struct Server {
    /// Open mappings by URI.
    pub(super) documents: BTreeMap<String, Document>,
    /// The client's capabilities, from `initialize`.
    pub(super) client: Value,
    /// True once `shutdown` was answered.
    pub(super) shut_down: bool,
    /// Messages to send, in order.
    pub(super) outgoing: Vec<Value>,
    /// The id of the next request the server sends.
    next_id: i64,
}

/// Serves one client over `reader`/`writer` until it exits; returns the process exit code (0
/// after a proper shutdown, 1 otherwise).
pub fn serve<R: BufRead + Send + 'static>(reader: R, mut writer: impl Write) -> u8 {
    let (sender, inbox) = mpsc::channel();
    std::thread::spawn(move || read_all(reader, &sender));
    let mut server = Server::default();
    let mut queue: VecDeque<Incoming> = VecDeque::new();
    loop {
        if queue.is_empty() {
            match wait(&inbox, server.polls()) {
                Some(incoming) => queue.push_back(incoming),
                None => server.notice_changed_files(),
            }
        }
        queue.extend(inbox.try_iter());
        while let Some(incoming) = queue.pop_front() {
            let exit = match incoming {
                Incoming::Message(message) => server.handle(message),
                Incoming::Closed => Some(u8::from(!server.shut_down)),
                Incoming::Malformed(reason) => {
                    server.outgoing.push(rpc_error(PARSE_ERROR, &reason));
                    None
                }
            };
            if !server.flush(&mut writer) {
                return 1;
            }
            if let Some(code) = exit {
                return code;
            }
        }
        let stale: Vec<String> = server.stale_documents();
        for key in stale {
            queue.extend(inbox.try_iter());
            if queue.iter().any(|m| m.changes(&key)) {
                continue;
            }
            let Some(analysis) = server.check(&key) else {
                continue;
            };
            queue.extend(inbox.try_iter());
            if queue.iter().any(|m| m.changes(&key)) {
                continue; // a newer text is queued: this check is stale
            }
            server.store(&key, analysis);
            if !server.flush(&mut writer) {
                return 1;
            }
        }
    }
}

/// JSON-RPC's code for bytes that are not a JSON message.
const PARSE_ERROR: i64 = -32700;
/// JSON-RPC's code for JSON that is not a request or notification.
const INVALID_REQUEST: i64 = -32600;

/// A JSON-RPC error answer to a message that had no usable id.
fn rpc_error(code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": null, "error": {"code": code, "message": message}})
}

/// Reads messages until the stream ends; a malformed frame is handed on (and answered), never
/// the end of the stream.
fn read_all(mut reader: impl BufRead, sender: &Sender<Incoming>) {
    loop {
        let incoming = match read_message(&mut reader) {
            Ok(message) => Incoming::Message(message),
            Err(ReadError::Closed) => Incoming::Closed,
            Err(ReadError::Malformed(reason)) => Incoming::Malformed(reason),
        };
        let last = matches!(incoming, Incoming::Closed);
        if sender.send(incoming).is_err() || last {
            return;
        }
    }
}

/// The next message; `None` when `poll` is set and nothing came for a while (time to look at
/// the files), or the reader is gone (which it reports before going).
fn wait(inbox: &Receiver<Incoming>, poll: bool) -> Option<Incoming> {
    if !poll {
        return Some(inbox.recv().unwrap_or(Incoming::Closed));
    }
    match inbox.recv_timeout(watch::POLL_EVERY) {
        Ok(incoming) => Some(incoming),
        Err(RecvTimeoutError::Timeout) => None,
        Err(RecvTimeoutError::Disconnected) => Some(Incoming::Closed),
    }
}

impl Server {
    /// Acts on one message; returns the exit code when the client said `exit`.
    fn handle(&mut self, message: Value) -> Option<u8> {
        if !message.is_object() {
            self.outgoing.push(rpc_error(
                INVALID_REQUEST,
                "a message must be a JSON object (batches are not supported)",
            ));
            return None;
        }
        if message.get("method").is_some_and(|m| !m.is_string()) {
            let id = message.get("id").cloned().unwrap_or(Value::Null);
            let mut answer = rpc_error(INVALID_REQUEST, "`method` must be a string");
            answer["id"] = id;
            self.outgoing.push(answer);
            return None;
        }
        let method = message["method"].as_str().unwrap_or_default().to_string();
        let params = message.get("params").cloned().unwrap_or(Value::Null);
        match message.get("id").cloned() {
            Some(id) if !method.is_empty() => {
                let answer = self.request(id, &method, params);
                self.outgoing.push(answer);
            }
            Some(_) => {} // the client's answer to a request of ours
            None if method == "exit" => return Some(u8::from(!self.shut_down)),
            None => self.notification(&method, params),
        }
        None
    }

    /// Writes the queued messages; false when the client is gone.
    fn flush(&mut self, writer: &mut impl Write) -> bool {
        self.outgoing
            .drain(..)
            .all(|message| write_message(writer, &message).is_ok())
    }

    /// True when the server looks at files itself (the client does not watch them for it).
    fn polls(&self) -> bool {
        !self.documents.is_empty() && !watch::client_watches(&self.client["capabilities"])
    }

    /// Acts on a notification (a failure inside is logged to the client, not fatal).
    fn notification(&mut self, method: &str, params: Value) {
        let outcome = catch_unwind(AssertUnwindSafe(|| self.notify(method, params)));
        if outcome.is_err() {
            self.outgoing
                .push(json!({"jsonrpc": "2.0", "method": "window/logMessage",
                "params": {"type": 1, "message": format!("mapctl failed on {method}")}}));
        }
    }

    fn notify(&mut self, method: &str, params: Value) {
        match method {
            "initialized" if watch::client_watches(&self.client["capabilities"]) => {
                self.next_id += 1;
                self.outgoing.push(watch::registration(self.next_id));
            }
            "textDocument/didOpen" => {
                if let Ok(p) = serde_json::from_value::<DidOpenTextDocumentParams>(params) {
                    let doc = p.text_document;
                    if doc.language_id == LANGUAGE_ID {
                        let opened = Document::open(doc.uri, doc.version, doc.text);
                        self.documents
                            .insert(opened.uri.as_str().to_string(), opened);
                    }
                }
            }
            "textDocument/didChange" => {
                if let Ok(p) = serde_json::from_value::<DidChangeTextDocumentParams>(params)
                    && let Some(doc) = self.documents.get_mut(p.text_document.uri.as_str())
                {
                    doc.change(p.text_document.version, p.content_changes);
                }
            }
            "textDocument/didSave" => self.notice_changed_files(),
            "workspace/didChangeWatchedFiles" => {
                let paths = watch::changed_paths(&params);
                for doc in self.documents.values_mut() {
                    let affected = doc
                        .analysis
                        .as_ref()
                        .is_some_and(|a| paths.iter().any(|p| watch::affects(a, p)));
                    doc.stale |= affected;
                }
            }
            "textDocument/didClose" => {
                if let Ok(p) = serde_json::from_value::<DidCloseTextDocumentParams>(params) {
                    self.close(&p.text_document.uri);
                }
            }
            _ => {}
        }
    }

    /// Marks the documents whose files changed on disk as stale.
    fn notice_changed_files(&mut self) {
        for doc in self.documents.values_mut() {
            if doc.analysis.as_ref().is_some_and(watch::files_changed) {
                doc.stale = true;
            }
        }
    }

    fn stale_documents(&self) -> Vec<String> {
        self.documents
            .iter()
            .filter(|(_, d)| d.stale || d.analysis.is_none())
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Checks document `key`'s current text (without storing the result).
    fn check(&self, key: &str) -> Option<Analysis> {
        let doc = self.documents.get(key)?;
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            Analysis::new(&doc.path, doc.text.clone())
        }));
        outcome.ok()
    }

    /// Keeps `analysis` as document `key`'s and publishes its diagnostics.
    fn store(&mut self, key: &str, analysis: Analysis) {
        let Some(doc) = self.documents.get_mut(key) else {
            return;
        };
        doc.analysis = Some(analysis);
        doc.stale = false;
        self.publish(key);
    }

    /// The analysis of document `uri`'s current text (checked and published first if stale).
    pub(super) fn analysis(&mut self, uri: &Uri) -> Option<&Analysis> {
        let key = uri.as_str();
        let stale = self.documents.get(key)?.stale;
        if stale || self.documents.get(key)?.analysis.is_none() {
            let analysis = self.check(key)?;
            self.store(key, analysis);
        }
        self.documents.get(key)?.analysis.as_ref()
    }

    /// Publishes document `key`'s diagnostics (with its version) and clears the files that had
    /// diagnostics before and have none now.
    fn publish(&mut self, key: &str) {
        let Some(doc) = self.documents.get_mut(key) else {
            return;
        };
        let Some(analysis) = &doc.analysis else {
            return;
        };
        let own = super::uri::path_to_uri(&doc.path);
        let mut targets = Vec::new();
        for (target, diagnostics) in features::diagnostics(analysis) {
            let is_own = own.as_ref() == Some(&target) || target == doc.uri;
            let target = if is_own { doc.uri.clone() } else { target };
            let version = is_own.then_some(doc.version);
            self.outgoing.push(publish(&target, &diagnostics, version));
            targets.push(target);
        }
        if !targets.contains(&doc.uri) {
            self.outgoing
                .push(publish(&doc.uri, &[], Some(doc.version)));
            targets.push(doc.uri.clone());
        }
        for stale in std::mem::replace(&mut doc.published, targets.clone()) {
            if !targets.contains(&stale) {
                self.outgoing.push(publish(&stale, &[], None));
            }
        }
    }

    fn close(&mut self, uri: &Uri) {
        if let Some(doc) = self.documents.remove(uri.as_str()) {
            for target in &doc.published {
                self.outgoing.push(publish(target, &[], None));
            }
        }
    }
}

fn publish(uri: &Uri, diagnostics: &[lsp_types::Diagnostic], version: Option<i32>) -> Value {
    let mut params = json!({"uri": uri.as_str(), "diagnostics": diagnostics});
    if let Some(version) = version {
        params["version"] = json!(version);
    }
    json!({"jsonrpc": "2.0", "method": "textDocument/publishDiagnostics", "params": params})
}
