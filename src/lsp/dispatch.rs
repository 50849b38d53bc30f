//! Requests: each method's parameters parsed, the document's analysis of its newest text taken
//! (checked first when stale), and the feature's answer returned. A handler that fails is an
//! error answer, never a dead server; bad parameters are `InvalidParams`.

use std::panic::{AssertUnwindSafe, catch_unwind};

use lsp_types::{
    CodeActionParams, CompletionParams, DocumentFormattingParams, DocumentSymbolParams,
    FoldingRangeParams, GotoDefinitionParams, HoverParams, ReferenceParams, RenameParams,
    SemanticTokensParams, SignatureHelpParams, TextDocumentPositionParams,
};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::server::Server;
use super::{actions, complete, features, hover, rename, signature, symbols, tokens};

/// JSON-RPC error codes.
const METHOD_NOT_FOUND: i64 = -32601;
const INVALID_PARAMS: i64 = -32602;
const INTERNAL_ERROR: i64 = -32603;
const INVALID_REQUEST: i64 = -32600;

type Answer = Result<Value, (i64, String)>;

impl Server {
    /// Answers a request (a panic in a handler becomes an error answer, not a dead server).
    pub(super) fn request(&mut self, id: Value, method: &str, params: Value) -> Value {
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

    fn answer(&mut self, method: &str, params: Value) -> Answer {
        match method {
            "initialize" => {
                super::analysis::set_workspace(&params);
                self.client = params;
                Ok(capabilities())
            }
            "shutdown" => {
                self.shut_down = true;
                Ok(Value::Null)
            }
            "textDocument/hover" => {
                let p: HoverParams = parse(params)?;
                self.at_position(&p.text_document_position_params, hover::hover)
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
            "textDocument/signatureHelp" => {
                let p: SignatureHelpParams = parse(params)?;
                self.at_position(&p.text_document_position_params, signature::signature_help)
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
            "textDocument/references" => {
                let p: ReferenceParams = parse(params)?;
                let doc = &p.text_document_position;
                let uri = &doc.text_document.uri;
                let declaration = p.context.include_declaration;
                let result = self
                    .analysis(uri)
                    .and_then(|a| rename::references(a, uri, doc.position, declaration));
                to_json(result)
            }
            "textDocument/prepareRename" => {
                let p: TextDocumentPositionParams = parse(params)?;
                self.at_position(&p, rename::prepare)
            }
            "textDocument/rename" => {
                let p: RenameParams = parse(params)?;
                let doc = &p.text_document_position;
                let uri = &doc.text_document.uri;
                match self.analysis(uri) {
                    Some(a) => rename::rename(a, uri, doc.position, &p.new_name)
                        .map_err(|message| (INVALID_PARAMS, message))
                        .and_then(to_json),
                    None => Ok(Value::Null),
                }
            }
            "textDocument/documentSymbol" => {
                let p: DocumentSymbolParams = parse(params)?;
                let result = self.analysis(&p.text_document.uri).map(symbols::outline);
                to_json(result)
            }
            "textDocument/foldingRange" => {
                let p: FoldingRangeParams = parse(params)?;
                let result = self.analysis(&p.text_document.uri).map(symbols::folding);
                to_json(result)
            }
            "textDocument/semanticTokens/full" => {
                let p: SemanticTokensParams = parse(params)?;
                let result = self.analysis(&p.text_document.uri).map(tokens::tokens);
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

    /// Answers a position request with `feature` on the document's analysis (null when the
    /// document is not open).
    fn at_position<T: serde::Serialize>(
        &mut self,
        at: &TextDocumentPositionParams,
        feature: impl FnOnce(&super::analysis::Analysis, lsp_types::Position) -> Option<T>,
    ) -> Answer {
        let result = self
            .analysis(&at.text_document.uri)
            .and_then(|a| feature(a, at.position));
        to_json(result)
    }
}

/// What the server can do.
fn capabilities() -> Value {
    json!({
        "capabilities": {
            "positionEncoding": "utf-16",
            "textDocumentSync": {"openClose": true, "change": 2, "save": {"includeText": false}},
            "hoverProvider": true,
            "completionProvider": {"triggerCharacters": [".", "|", "\"", "("]},
            "signatureHelpProvider": {"triggerCharacters": ["(", ","], "retriggerCharacters": [","]},
            "definitionProvider": true,
            "referencesProvider": true,
            "renameProvider": {"prepareProvider": true},
            "documentSymbolProvider": true,
            "foldingRangeProvider": true,
            "semanticTokensProvider": {"legend": tokens::legend(), "full": true},
            "codeActionProvider": {"codeActionKinds": ["quickfix"]},
            "documentFormattingProvider": true,
        },
        "serverInfo": {"name": "mapctl", "version": env!("CARGO_PKG_VERSION")},
    })
}

fn parse<T: DeserializeOwned>(params: Value) -> Result<T, (i64, String)> {
    serde_json::from_value(params).map_err(|e| (INVALID_PARAMS, format!("invalid params: {e}")))
}

fn to_json<T: serde::Serialize>(value: T) -> Answer {
    serde_json::to_value(value).map_err(|e| (INTERNAL_ERROR, e.to_string()))
}

fn error(id: Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}
