//! The server loop: read a message, act, answer; one thread, no background work. Each change to
//! a document re-runs the checker on the whole text (a few milliseconds for real mappings), so
//! diagnostics are always exactly those of `mapctl check`.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

use lsp_types::{
    CodeActionParams, CompletionParams, DidChangeTextDocumentParams, DidCloseTextDocumentParams,
    DidOpenTextDocumentParams, DocumentFormattingParams, GotoDefinitionParams, HoverParams, Uri,
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::analysis::Analysis;
use super::transport::{ReadError, read_message, write_message};
use super::{actions, complete, features, hover};

/// JSON-RPC error codes.
const METHOD_NOT_FOUND: i64 = -32601;
const INVALID_PARAMS: i64 = -32602;
const INTERNAL_ERROR: i64 = -32603;
const INVALID_REQUEST: i64 = -32600;

/// The open documents and what was published for them.
#[derive(Default)]
struct Server {
    documents: HashMap<String, (Uri, Analysis)>,
    /// For each document, the URIs its last diagnostics went to (the mapping and schema files).
    published: HashMap<String, Vec<Uri>>,
    shut_down: bool,
}

/// Serves one client over `reader`/`writer` until it exits; returns the process exit code (0
/// after a proper shutdown, 1 otherwise).
pub fn serve(mut reader: impl BufRead, mut writer: impl Write) -> u8 {
    let mut server = Server::default();
    loop {
        let message = match read_message(&mut reader) {
            Ok(message) => message,
            Err(ReadError::Closed) => return u8::from(!server.shut_down),
            Err(ReadError::Malformed(reason)) => {
                eprintln!("mapctl lsp: {reason}; stopping");
                return 1;
            }
        };
        let method = message["method"].as_str().unwrap_or_default().to_string();
        let params = message.get("params").cloned().unwrap_or(Value::Null);
        let outgoing = match message.get("id").cloned() {
            Some(id) if !method.is_empty() => vec![server.request(id, &method, params)],
            Some(_) => Vec::new(),
            None if method == "exit" => return u8::from(!server.shut_down),
            None => server.notification(&method, params),
        };
        for message in outgoing {
            if write_message(&mut writer, &message).is_err() {
                return 1;
            }
        }
    }
}

impl Server {
    /// Answers a request (a panic in a handler becomes an error answer, not a dead server).
    fn request(&mut self, id: Value, method: &str, params: Value) -> Value {
        if self.shut_down && method != "shutdown" {
            return error(id, INVALID_REQUEST, "the server is shut down");
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| self.answer(method, params)));
        match outcome {
            Ok(Ok(result)) => json!({"jsonrpc": "2.0", "id": id, "result": result}),
            Ok(Err((code, message))) => error(id, code, &message),
            Err(_) => error(id, INTERNAL_ERROR, &format!("mapctl failed on {method}")),
        }
    }

    fn answer(&mut self, method: &str, params: Value) -> Result<Value, (i64, String)> {
        match method {
            "initialize" => Ok(capabilities()),
            "shutdown" => {
                self.shut_down = true;
                Ok(Value::Null)
            }
            "textDocument/hover" => {
                let p: HoverParams = parse(params)?;
                let doc = &p.text_document_position_params;
                let result = self
                    .analysis(&doc.text_document.uri)
                    .and_then(|a| hover::hover(a, doc.position));
                to_json(result)
            }
            "textDocument/completion" => {
                let p: CompletionParams = parse(params)?;
                let doc = &p.text_document_position;
                let items = self
                    .analysis(&doc.text_document.uri)
                    .map(|a| complete::completion(a, doc.position))
                    .unwrap_or_default();
                to_json(items)
            }
            "textDocument/definition" => {
                let p: GotoDefinitionParams = parse(params)?;
                let doc = &p.text_document_position_params;
                let uri = &doc.text_document.uri;
                let result = self
                    .analysis(uri)
                    .and_then(|a| hover::definition(a, doc.position, uri));
                to_json(result)
            }
            "textDocument/codeAction" => {
                let p: CodeActionParams = parse(params)?;
                let uri = &p.text_document.uri;
                let actions = self
                    .analysis(uri)
                    .map(|a| actions::code_actions(a, uri, p.range, &p.context.diagnostics))
                    .unwrap_or_default();
                to_json(actions)
            }
            "textDocument/formatting" => {
                let p: DocumentFormattingParams = parse(params)?;
                let edits = self
                    .analysis(&p.text_document.uri)
                    .and_then(features::formatting);
                to_json(edits)
            }
            _ => Err((
                METHOD_NOT_FOUND,
                format!("mapctl lsp does not handle {method}"),
            )),
        }
    }

    /// Acts on a notification; returns the messages to send (published diagnostics).
    fn notification(&mut self, method: &str, params: Value) -> Vec<Value> {
        let outcome = catch_unwind(AssertUnwindSafe(|| self.notify(method, params)));
        outcome.unwrap_or_else(|_| {
            vec![json!({"jsonrpc": "2.0", "method": "window/logMessage",
                "params": {"type": 1, "message": format!("mapctl failed on {method}")}})]
        })
    }

    fn notify(&mut self, method: &str, params: Value) -> Vec<Value> {
        match method {
            "textDocument/didOpen" => {
                match serde_json::from_value::<DidOpenTextDocumentParams>(params) {
                    Ok(p) => self.update(p.text_document.uri, p.text_document.text),
                    Err(_) => Vec::new(),
                }
            }
            "textDocument/didChange" => {
                match serde_json::from_value::<DidChangeTextDocumentParams>(params) {
                    Ok(mut p) => match p.content_changes.pop() {
                        Some(change) if change.range.is_none() => {
                            self.update(p.text_document.uri, change.text)
                        }
                        _ => Vec::new(),
                    },
                    Err(_) => Vec::new(),
                }
            }
            "textDocument/didSave" | "workspace/didChangeWatchedFiles" => self.recheck_all(),
            "textDocument/didClose" => {
                match serde_json::from_value::<DidCloseTextDocumentParams>(params) {
                    Ok(p) => self.close(&p.text_document.uri),
                    Err(_) => Vec::new(),
                }
            }
            _ => Vec::new(),
        }
    }

    fn analysis(&self, uri: &Uri) -> Option<&Analysis> {
        self.documents.get(uri.as_str()).map(|(_, a)| a)
    }

    /// Re-checks a document with new text and publishes its diagnostics.
    fn update(&mut self, uri: Uri, text: String) -> Vec<Value> {
        let path = features::document_path(&uri).unwrap_or_else(|| untitled_path(&uri));
        let analysis = Analysis::new(&path, text);
        let key = uri.as_str().to_string();
        let groups = features::diagnostics(&analysis);
        let mut messages = Vec::new();
        let mut targets = Vec::new();
        for (target, diagnostics) in groups {
            let target = if target.as_str() == path_uri_str(&path) {
                uri.clone()
            } else {
                target
            };
            messages.push(publish(&target, &diagnostics));
            targets.push(target);
        }
        for stale in self.published.remove(&key).unwrap_or_default() {
            if !targets.iter().any(|t| t == &stale) {
                messages.push(publish(&stale, &[]));
            }
        }
        self.published.insert(key.clone(), targets);
        self.documents.insert(key, (uri, analysis));
        messages
    }

    fn recheck_all(&mut self) -> Vec<Value> {
        let open: Vec<(Uri, String)> = self
            .documents
            .values()
            .map(|(uri, analysis)| (uri.clone(), analysis.text.clone()))
            .collect();
        open.into_iter()
            .flat_map(|(uri, text)| self.update(uri, text))
            .collect()
    }

    fn close(&mut self, uri: &Uri) -> Vec<Value> {
        self.documents.remove(uri.as_str());
        self.published
            .remove(uri.as_str())
            .unwrap_or_default()
            .iter()
            .map(|target| publish(target, &[]))
            .collect()
    }
}

/// Where an unsaved document (`untitled:`) is checked from: the current folder.
fn untitled_path(uri: &Uri) -> PathBuf {
    let name = uri.as_str().rsplit(['/', ':']).next().unwrap_or("untitled");
    std::env::current_dir()
        .unwrap_or_default()
        .join(format!("{name}.map"))
}

fn path_uri_str(path: &std::path::Path) -> String {
    super::uri::path_to_uri(path)
        .map(|u| u.as_str().to_string())
        .unwrap_or_default()
}

fn publish(uri: &Uri, diagnostics: &[lsp_types::Diagnostic]) -> Value {
    json!({
        "jsonrpc": "2.0",
        "method": "textDocument/publishDiagnostics",
        "params": {"uri": uri.as_str(), "diagnostics": diagnostics},
    })
}

fn capabilities() -> Value {
    json!({
        "capabilities": {
            "positionEncoding": "utf-16",
            "textDocumentSync": {"openClose": true, "change": 1, "save": {"includeText": false}},
            "hoverProvider": true,
            "completionProvider": {"triggerCharacters": [".", "|", "\"", "("]},
            "definitionProvider": true,
            "codeActionProvider": {"codeActionKinds": ["quickfix"]},
            "documentFormattingProvider": true,
        },
        "serverInfo": {"name": "mapctl", "version": env!("CARGO_PKG_VERSION")},
    })
}

fn parse<T: DeserializeOwned>(params: Value) -> Result<T, (i64, String)> {
    serde_json::from_value(params).map_err(|e| (INVALID_PARAMS, format!("invalid params: {e}")))
}

fn to_json<T: serde::Serialize>(value: T) -> Result<Value, (i64, String)> {
    serde_json::to_value(value).map_err(|e| (INTERNAL_ERROR, e.to_string()))
}

fn error(id: Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}
