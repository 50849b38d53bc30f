// mapctl VS Code extension: a language client for `mapctl lsp`, with commands (restart the
// server, show its output, check the workspace), a status item, and content sniffing so that
// `.map` files that are mappings get the `mapctl` language while source maps do not.
//
// Plain CommonJS, no build step. Syntax highlighting comes from syntaxes/mapctl.tmLanguage.json;
// diagnostics, hover, completion, quick fixes, rename, the outline and formatting come from the
// language server. What needs no editor lives in client.js (tested under Node).
'use strict';

const childProcess = require('child_process');
const vscode = require('vscode');
const { LanguageClient, State } = require('vscode-languageclient/node');
const { serverCommand, checkCommand, looksLikeMapping, statusText } = require('./client');

/** @type {LanguageClient | undefined} */
let client;
/** @type {vscode.OutputChannel} */
let output;
/** @type {vscode.StatusBarItem} */
let status;
let serverState = 'stopped';
/** @type {vscode.DiagnosticCollection} */
let checked;

/** The server command from the settings. */
function currentServer() {
  const config = vscode.workspace.getConfiguration('mapctl');
  return serverCommand(
    { path: config.get('path'), args: config.get('server.args'), env: config.get('server.env') },
    process.env,
  );
}

/** Shows the server's state and the number of mapctl problems. */
function updateStatus() {
  let errors = 0;
  let warnings = 0;
  for (const [, diagnostics] of vscode.languages.getDiagnostics()) {
    for (const d of diagnostics) {
      if (d.source !== 'mapctl') continue;
      if (d.severity === vscode.DiagnosticSeverity.Error) errors += 1;
      else if (d.severity === vscode.DiagnosticSeverity.Warning) warnings += 1;
    }
  }
  const shown = statusText(serverState, errors, warnings);
  status.text = shown.text;
  status.tooltip = shown.tooltip;
  status.show();
}

/** Gives a `.map` document that is a mapping the `mapctl` language. */
async function sniff(document) {
  if (document.languageId === 'mapctl' || document.uri.scheme !== 'file') return;
  if (looksLikeMapping(document.fileName, document.getText())) {
    await vscode.languages.setTextDocumentLanguage(document, 'mapctl');
  }
}

/** Starts `mapctl lsp` as the settings say. */
async function startClient() {
  const server = currentServer();
  // No `transport`: with `TransportKind.stdio` the client would append `--stdio` to the
  // arguments, which `mapctl lsp` refuses; without it, stdio is used as is.
  const run = { command: server.command, args: server.args, options: { env: server.env } };
  const clientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'mapctl' },
      { scheme: 'untitled', language: 'mapctl' },
    ],
    outputChannel: output,
    traceOutputChannel: output,
  };
  // The id `mapctl` makes the client read the `mapctl.trace.server` setting.
  const started = new LanguageClient('mapctl', 'mapctl', { run, debug: run }, clientOptions);
  started.onDidChangeState((event) => {
    serverState = event.newState === State.Running ? 'running' : event.newState === State.Starting ? 'starting' : 'stopped';
    updateStatus();
  });
  client = started;
  serverState = 'starting';
  updateStatus();
  try {
    await started.start();
    serverState = 'running';
  } catch (err) {
    // Most often: the binary is not on PATH. Highlighting keeps working without the server.
    client = undefined;
    serverState = 'failed';
    const message = err instanceof Error ? err.message : String(err);
    output.appendLine(`could not start "${server.command} ${server.args.join(' ')}": ${message}`);
    vscode.window.showErrorMessage(
      `mapctl: could not start "${server.command} ${server.args.join(' ')}". Install mapctl or set "mapctl.path". (${message})`,
    );
  }
  updateStatus();
}

/** Stops the server if it runs. */
async function stopClient() {
  const running = client;
  client = undefined;
  // stop() throws on a client that never got running.
  if (running && running.isRunning()) await running.stop();
  serverState = 'stopped';
  updateStatus();
}

/** `mapctl check` on every workspace folder: the problems of files not open, and a summary. */
async function checkWorkspace() {
  const folders = vscode.workspace.workspaceFolders || [];
  checked.clear();
  let errors = 0;
  let warnings = 0;
  let failures = 0;
  for (const folder of folders) {
    const check = checkCommand(currentServer(), folder.uri.fsPath);
    const stdout = await new Promise((resolve) => {
      childProcess.execFile(check.command, check.args, { cwd: folder.uri.fsPath, env: check.env, maxBuffer: 64 << 20 },
        (_error, out, err) => {
          if (err) output.append(err);
          resolve(out);
        });
    });
    let report;
    try {
      report = JSON.parse(stdout);
    } catch (err) {
      output.appendLine(`mapctl check in ${folder.uri.fsPath} printed no report`);
      failures += 1;
      continue;
    }
    errors += report.summary.errors;
    warnings += report.summary.warnings;
    failures += (report.failures || []).length;
    for (const failure of report.failures || []) output.appendLine(`mapctl check: ${failure.message}`);
    const byFile = new Map();
    for (const d of report.diagnostics) {
      const range = new vscode.Range(d.line - 1, d.column - 1, d.end_line - 1, d.end_column - 1);
      const severity = d.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning;
      const diagnostic = new vscode.Diagnostic(range, d.help ? `${d.message}\nhelp: ${d.help}` : d.message, severity);
      diagnostic.code = d.code;
      diagnostic.source = 'mapctl check';
      const file = vscode.Uri.joinPath(folder.uri, d.file).toString();
      if (!byFile.has(file)) byFile.set(file, []);
      byFile.get(file).push(diagnostic);
    }
    const open = new Set(vscode.workspace.textDocuments.map((doc) => doc.uri.toString()));
    for (const [file, diagnostics] of byFile) {
      // Open mappings have the language server's diagnostics already.
      if (!open.has(file)) checked.set(vscode.Uri.parse(file), diagnostics);
    }
  }
  const summary = `mapctl check: ${errors} errors, ${warnings} warnings` + (failures ? `, ${failures} files not checked` : '');
  output.appendLine(summary);
  vscode.window.showInformationMessage(summary);
  return { errors, warnings, failures };
}

/** Activates the extension: status item, commands, sniffing, and the server. */
async function activate(context) {
  output = vscode.window.createOutputChannel('mapctl');
  status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 0);
  status.command = 'mapctl.showOutput';
  checked = vscode.languages.createDiagnosticCollection('mapctl check');
  context.subscriptions.push(output, status, checked);
  context.subscriptions.push(
    vscode.commands.registerCommand('mapctl.restartServer', async () => {
      await stopClient();
      await startClient();
    }),
    vscode.commands.registerCommand('mapctl.showOutput', () => output.show(true)),
    vscode.commands.registerCommand('mapctl.checkWorkspace', checkWorkspace),
    vscode.languages.onDidChangeDiagnostics(updateStatus),
    vscode.workspace.onDidOpenTextDocument(sniff),
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (!event.affectsConfiguration('mapctl.path') && !event.affectsConfiguration('mapctl.server')) return;
      const choice = await vscode.window.showInformationMessage(
        'The mapctl server settings changed: restart `mapctl lsp`?', 'Restart');
      if (choice === 'Restart') await vscode.commands.executeCommand('mapctl.restartServer');
    }),
  );
  for (const document of vscode.workspace.textDocuments) await sniff(document);
  await startClient();
  return { client: () => client, checkWorkspace };
}

/** Stops the language server when the extension is deactivated. */
async function deactivate() {
  await stopClient();
}

module.exports = { activate, deactivate };
