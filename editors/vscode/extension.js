// mapctl VS Code extension: a thin language client for `mapctl lsp`.
//
// Plain CommonJS, no build step. Syntax highlighting comes from syntaxes/mapctl.tmLanguage.json;
// everything else (diagnostics, hover, completion, quick fixes, formatting) comes from the
// language server that `mapctl lsp` runs over stdio.
'use strict';

const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

/** @type {LanguageClient | undefined} */
let client;

/** Starts `<mapctl.path> lsp` for documents of language `mapctl`. */
async function activate(context) {
  // The binary: a command on PATH (the default, "mapctl") or an absolute path.
  const command = vscode.workspace.getConfiguration('mapctl').get('path') || 'mapctl';

  // The same command runs the server in normal and debug sessions.
  const serverOptions = {
    run: { command, args: ['lsp'], transport: TransportKind.stdio },
    debug: { command, args: ['lsp'], transport: TransportKind.stdio },
  };

  const outputChannel = vscode.window.createOutputChannel('mapctl');
  context.subscriptions.push(outputChannel);

  const clientOptions = {
    // Mapping files on disk and unsaved ones.
    documentSelector: [
      { scheme: 'file', language: 'mapctl' },
      { scheme: 'untitled', language: 'mapctl' },
    ],
    // Server logs and, with `mapctl.trace.server`, the LSP traffic go to the "mapctl" channel.
    outputChannel,
    traceOutputChannel: outputChannel,
  };

  // The id `mapctl` makes the client read the `mapctl.trace.server` setting.
  client = new LanguageClient('mapctl', 'mapctl', serverOptions, clientOptions);

  // Changing the binary needs a restart of the server; offer it.
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (!event.affectsConfiguration('mapctl.path')) return;
      const choice = await vscode.window.showInformationMessage(
        'mapctl.path changed: reload the window to restart `mapctl lsp`.',
        'Reload Window',
      );
      if (choice === 'Reload Window') {
        await vscode.commands.executeCommand('workbench.action.reloadWindow');
      }
    }),
  );

  try {
    await client.start();
  } catch (err) {
    // Most often: the binary is not on PATH. Highlighting keeps working without the server.
    client = undefined;
    const message = err instanceof Error ? err.message : String(err);
    outputChannel.appendLine(`could not start "${command} lsp": ${message}`);
    vscode.window.showErrorMessage(
      `mapctl: could not start "${command} lsp". Install mapctl or set "mapctl.path". (${message})`,
    );
  }
}

/** Stops the language server when the extension is deactivated. */
async function deactivate() {
  const running = client;
  client = undefined;
  // stop() throws on a client that never got running (e.g. still starting or failed to start).
  if (running && running.isRunning()) {
    await running.stop();
  }
}

module.exports = { activate, deactivate };
