// A stand-in for the `vscode` module, enough for the extension and vscode-languageclient 9 to run
// under plain Node: documents, configuration, diagnostics collections, commands, the status item
// and the output channel are real (recorded) objects; provider registrations are recorded and
// return disposables. Anything else the client touches is a harmless no-op object.
'use strict';

const path = require('path');

class Disposable {
  constructor(fn) { this.fn = fn; }
  static from(...items) { return new Disposable(() => items.forEach((i) => i && i.dispose && i.dispose())); }
  dispose() { if (this.fn) this.fn(); this.fn = undefined; }
}

class EventEmitter {
  constructor() {
    this.listeners = [];
    this.event = (listener, thisArg, disposables) => {
      const bound = thisArg ? listener.bind(thisArg) : listener;
      this.listeners.push(bound);
      const d = new Disposable(() => { this.listeners = this.listeners.filter((l) => l !== bound); });
      if (Array.isArray(disposables)) disposables.push(d);
      return d;
    };
  }
  fire(value) { for (const l of [...this.listeners]) l(value); }
  dispose() { this.listeners = []; }
}

class Uri {
  constructor(scheme, fsPath, raw) { this.scheme = scheme; this.fsPath = fsPath; this.path = fsPath; this.raw = raw; }
  static file(p) { return new Uri('file', p, 'file://' + encodeURI(p).replace(/#/g, '%23')); }
  static parse(text) {
    if (text.startsWith('file://')) return new Uri('file', decodeURIComponent(text.slice(7)), text);
    const scheme = text.split(':')[0];
    return new Uri(scheme, text.slice(scheme.length + 1), text);
  }
  static joinPath(base, ...parts) { return Uri.file(path.join(base.fsPath, ...parts)); }
  with() { return this; }
  toString() { return this.raw; }
  toJSON() { return this.raw; }
}

class Position {
  constructor(line, character) { this.line = line; this.character = character; }
  isBefore(o) { return this.line < o.line || (this.line === o.line && this.character < o.character); }
  isEqual(o) { return this.line === o.line && this.character === o.character; }
  translate() { return this; }
}

class Range {
  constructor(a, b, c, d) {
    if (typeof a === 'number') { this.start = new Position(a, b); this.end = new Position(c, d); }
    else { this.start = a; this.end = b; }
  }
  get isEmpty() { return this.start.isEqual(this.end); }
  contains() { return true; }
}

class Selection extends Range {}
class Location { constructor(uri, range) { this.uri = uri; this.range = range; } }
class Diagnostic { constructor(range, message, severity) { this.range = range; this.message = message; this.severity = severity; } }
class DiagnosticRelatedInformation { constructor(location, message) { this.location = location; this.message = message; } }
class TextEdit {
  constructor(range, newText) { this.range = range; this.newText = newText; }
  static replace(range, text) { return new TextEdit(range, text); }
  static insert(position, text) { return new TextEdit(new Range(position, position), text); }
}
class WorkspaceEdit {
  constructor() { this.edits = new Map(); }
  set(uri, edits) { this.edits.set(uri.toString(), edits); }
  replace(uri, range, text) { const key = uri.toString(); this.edits.set(key, [...(this.edits.get(key) || []), new TextEdit(range, text)]); }
  entries() { return [...this.edits.entries()].map(([k, v]) => [Uri.parse(k), v]); }
}
class CodeActionKind {
  constructor(value) { this.value = value; }
  append(part) { return new CodeActionKind(this.value ? `${this.value}.${part}` : part); }
  contains(other) { return other.value.startsWith(this.value); }
  intersects(other) { return this.contains(other) || other.contains(this); }
}
CodeActionKind.Empty = new CodeActionKind('');
CodeActionKind.QuickFix = new CodeActionKind('quickfix');
CodeActionKind.Refactor = new CodeActionKind('refactor');
CodeActionKind.Source = new CodeActionKind('source');
CodeActionKind.SourceOrganizeImports = new CodeActionKind('source.organizeImports');
CodeActionKind.SourceFixAll = new CodeActionKind('source.fixAll');
class CodeAction { constructor(title, kind) { this.title = title; this.kind = kind; } }
class MarkdownString { constructor(value) { this.value = value || ''; } appendMarkdown(v) { this.value += v; return this; } appendCodeblock(v) { this.value += v; return this; } }
class Hover { constructor(contents, range) { this.contents = Array.isArray(contents) ? contents : [contents]; this.range = range; } }
class DocumentSymbol {
  constructor(name, detail, kind, range, selectionRange) { Object.assign(this, { name, detail, kind, range, selectionRange, children: [] }); }
}
class SymbolInformation { constructor(name, kind, containerName, location) { Object.assign(this, { name, kind, containerName, location }); } }
class CancellationTokenSource {
  constructor() { this.token = { isCancellationRequested: false, onCancellationRequested: () => new Disposable() }; }
  cancel() { this.token.isCancellationRequested = true; }
  dispose() {}
}
class CancellationError extends Error {}
class RelativePattern { constructor(base, pattern) { this.base = base; this.pattern = pattern; } }

/** A class for anything else the client constructs: keeps its arguments. */
function anyClass(name) {
  return class { constructor(...args) { this.kindName = name; this.args = args; } };
}

const state = {
  settings: {},
  documents: [],
  collections: new Map(),
  commands: new Map(),
  registrations: [],
  messages: [],
  output: [],
  statusItems: [],
  setLanguage: [],
  onOpen: new EventEmitter(),
  onDiagnostics: new EventEmitter(),
};

/** A text document with `text` at `fsPath`. */
function textDocument(fsPath, languageId, text) {
  const lines = text.split('\n');
  return {
    uri: Uri.file(fsPath), fileName: fsPath, languageId, version: 1, isClosed: false, isDirty: false,
    isUntitled: false, lineCount: lines.length, eol: 1,
    getText: () => text,
    lineAt: (line) => ({ text: lines[typeof line === 'number' ? line : line.line] || '' }),
    positionAt: () => new Position(0, 0),
    offsetAt: () => 0,
    save: async () => true,
  };
}

function collection(name) {
  const entries = new Map();
  const c = {
    name,
    set(uri, diagnostics) {
      if (Array.isArray(uri)) { for (const [u, d] of uri) c.set(u, d); return; }
      entries.set(uri.toString(), diagnostics || []);
      state.onDiagnostics.fire({ uris: [uri] });
    },
    delete(uri) { entries.delete(uri.toString()); },
    clear() { entries.clear(); },
    get(uri) { return entries.get(uri.toString()); },
    has(uri) { return entries.has(uri.toString()); },
    forEach(fn) { for (const [k, v] of entries) fn(Uri.parse(k), v, c); },
    entries,
    dispose() { entries.clear(); },
  };
  state.collections.set(name, c);
  return c;
}

function matches(selector, document) {
  const list = Array.isArray(selector) ? selector : [selector];
  return list.some((s) => (typeof s === 'string' ? s === document.languageId
    : (!s.language || s.language === document.languageId) && (!s.scheme || s.scheme === document.uri.scheme))) ? 10 : 0;
}

const recorded = (kind) => (...args) => { state.registrations.push({ kind, args }); return new Disposable(); };
const listen = () => () => new Disposable();

const workspace = {
  get textDocuments() { return state.documents; },
  get workspaceFolders() { return state.folders; },
  isTrusted: true,
  getConfiguration(section) {
    return {
      get: (key, fallback) => {
        const full = section ? `${section}.${key}` : key;
        return full in state.settings ? state.settings[full] : fallback;
      },
      has: () => false,
      inspect: () => undefined,
      update: async () => {},
    };
  },
  onDidOpenTextDocument: state.onOpen.event,
  onDidCloseTextDocument: listen(), onDidChangeTextDocument: listen(), onDidSaveTextDocument: listen(),
  onWillSaveTextDocument: listen(), onDidChangeConfiguration: listen(), onDidChangeWorkspaceFolders: listen(),
  onDidCreateFiles: listen(), onDidDeleteFiles: listen(), onDidRenameFiles: listen(),
  onWillCreateFiles: listen(), onWillDeleteFiles: listen(), onWillRenameFiles: listen(),
  onDidOpenNotebookDocument: listen(), onDidCloseNotebookDocument: listen(), onDidChangeNotebookDocument: listen(),
  onDidSaveNotebookDocument: listen(),
  notebookDocuments: [],
  createFileSystemWatcher: (pattern) => {
    state.registrations.push({ kind: 'watcher', args: [pattern] });
    return { onDidCreate: listen(), onDidChange: listen(), onDidDelete: listen(), dispose() {} };
  },
  registerTextDocumentContentProvider: recorded('content'),
  applyEdit: async () => true,
  openTextDocument: async () => undefined,
  fs: {},
};

const window = {
  createOutputChannel(name) {
    return {
      name,
      append: (t) => state.output.push(t), appendLine: (t) => state.output.push(t + '\n'),
      replace: () => {}, clear: () => {}, show: () => { state.shownOutput = true; }, hide: () => {}, dispose: () => {},
    };
  },
  createStatusBarItem() {
    const item = { text: '', tooltip: '', show() { this.visible = true; }, hide() { this.visible = false; }, dispose() {} };
    state.statusItems.push(item);
    return item;
  },
  showErrorMessage: async (m) => { state.messages.push(['error', m]); return undefined; },
  showWarningMessage: async (m) => { state.messages.push(['warning', m]); return undefined; },
  showInformationMessage: async (m) => { state.messages.push(['info', m]); return undefined; },
  activeTextEditor: undefined,
  visibleTextEditors: [],
  tabGroups: { all: [] },
  onDidChangeActiveTextEditor: listen(), onDidChangeVisibleTextEditors: listen(),
  onDidChangeTextEditorSelection: listen(), onDidChangeWindowState: listen(),
  withProgress: async (_options, task) => task({ report() {} }, new CancellationTokenSource().token),
  createTextEditorDecorationType: () => ({ dispose() {} }),
};

const languages = {
  createDiagnosticCollection: collection,
  match: matches,
  getDiagnostics() {
    const all = [];
    for (const c of state.collections.values()) for (const [k, v] of c.entries) all.push([Uri.parse(k), v]);
    return all;
  },
  onDidChangeDiagnostics: state.onDiagnostics.event,
  setTextDocumentLanguage: async (document, languageId) => {
    state.setLanguage.push([document.fileName, languageId]);
    return { ...document, languageId };
  },
  setLanguageConfiguration: recorded('languageConfiguration'),
};
for (const name of ['Completion', 'Hover', 'Definition', 'Reference', 'DocumentSymbol', 'CodeActions', 'DocumentFormattingEdit',
  'DocumentRangeFormattingEdit', 'OnTypeFormattingEdit', 'Rename', 'SignatureHelp', 'FoldingRange',
  'DocumentSemanticTokens', 'DocumentRangeSemanticTokens', 'DocumentHighlight', 'DocumentLink', 'CodeLens',
  'Declaration', 'Implementation', 'TypeDefinition', 'Color', 'SelectionRange', 'CallHierarchy', 'TypeHierarchy',
  'LinkedEditingRange', 'InlayHints', 'InlineValues', 'WorkspaceSymbol', 'InlineCompletionItem', 'EvaluatableExpression']) {
  languages[`register${name}Provider`] = recorded(name);
}

const commands = {
  registerCommand(id, fn) { state.commands.set(id, fn); return new Disposable(() => state.commands.delete(id)); },
  executeCommand: async (id, ...args) => (state.commands.has(id) ? state.commands.get(id)(...args) : undefined),
  getCommands: async () => [...state.commands.keys()],
};

/** Namespaces answer any `register…` with a recorded registration and any `on…` with an event. */
function lenient(namespace) {
  return new Proxy(namespace, {
    get(target, name) {
      if (name in target || typeof name !== 'string') return target[name];
      if (name.startsWith('register')) return recorded(name.slice('register'.length));
      if (name.startsWith('on')) return listen();
      return undefined;
    },
  });
}

const api = {
  version: '1.90.0',
  env: { language: 'en', appName: 'fake', machineId: 'test', sessionId: 'test', uriScheme: 'vscode', openExternal: async () => true },
  extensions: { getExtension: () => undefined, all: [] },
  workspace: lenient(workspace), window: lenient(window), languages: lenient(languages), commands,
  Disposable, EventEmitter, Uri, Position, Range, Selection, Location, Diagnostic, DiagnosticRelatedInformation,
  TextEdit, WorkspaceEdit, CodeActionKind, CodeAction, MarkdownString, Hover, DocumentSymbol, SymbolInformation,
  CancellationTokenSource, CancellationError, RelativePattern,
  DiagnosticSeverity: { Error: 0, Warning: 1, Information: 2, Hint: 3 },
  DiagnosticTag: { Unnecessary: 1, Deprecated: 2 },
  StatusBarAlignment: { Left: 1, Right: 2 },
  ConfigurationTarget: { Global: 1, Workspace: 2, WorkspaceFolder: 3 },
  TextDocumentSaveReason: { Manual: 1, AfterDelay: 2, FocusOut: 3 },
  EndOfLine: { LF: 1, CRLF: 2 },
  FileType: { Unknown: 0, File: 1, Directory: 2, SymbolicLink: 64 },
  UIKind: { Desktop: 1, Web: 2 },
  __state: state,
  __textDocument: textDocument,
};

// Enumerations and classes not listed: harmless stand-ins.
module.exports = new Proxy(api, {
  get(target, name) {
    if (name in target) return target[name];
    if (typeof name !== 'string') return undefined;
    if (/Kind$|Tag$|Reason$|Status$|Mode$/.test(name)) return new Proxy({}, { get: (_t, k) => (typeof k === 'string' ? k : undefined) });
    return anyClass(name);
  },
});
