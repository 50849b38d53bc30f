// The extension's client code under Node: client.js's decisions as unit tests, and the extension
// itself activated against a stand-in `vscode` module (fake-vscode.js), starting the real
// `mapctl lsp` through vscode-languageclient: a mapping's diagnostics arrive, a source map is not
// taken for a mapping, the commands restart the server and check the workspace, and the status
// item follows. Needs the binary: $MAPCTL_BIN, else ../../target/debug/mapctl.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const fs = require('fs');
const os = require('os');
const path = require('path');
const Module = require('module');

const { serverCommand, checkCommand, looksLikeMapping, statusText } = require('../../client');

const repository = path.resolve(__dirname, '../../../..');
const binary = process.env.MAPCTL_BIN || path.join(repository, 'target/debug/mapctl');

test('the server command comes from the settings', () => {
  assert.deepStrictEqual(serverCommand({}, { HOME: '/h' }), { command: 'mapctl', args: ['lsp'], env: { HOME: '/h' } });
  const custom = serverCommand({ path: ' cargo ', args: ['run', '--', 'lsp'], env: { A: '1', B: 2 } }, {});
  assert.deepStrictEqual(custom, { command: 'cargo', args: ['run', '--', 'lsp'], env: { A: '1' } });
  assert.deepStrictEqual(serverCommand({ args: [1] }, {}).args, ['lsp'], 'bad arguments fall back');
  assert.deepStrictEqual(checkCommand(custom, '/w').args, ['run', '--', 'check', '--format', 'json', '/w']);
});

test('source maps are not mappings', () => {
  assert.ok(looksLikeMapping('/w/a.map', '# comment\n\nmapping a\n'));
  assert.ok(looksLikeMapping('/w/a.map', 'source deal = schema "d.json"'));
  assert.ok(!looksLikeMapping('/w/app.js.map', 'mapping a'));
  assert.ok(!looksLikeMapping('/w/bundle.map', '{"version":3,"sources":["a.js"],"mappings":"AAAA"}'));
  assert.ok(!looksLikeMapping('/w/a.txt', 'mapping a'));
  assert.ok(!looksLikeMapping('/w/linker.map', 'Archive member included to satisfy reference'));
});

test('the status item says what the server does', () => {
  assert.match(statusText('running', 2, 1).text, /error\) mapctl 2/);
  assert.match(statusText('running', 0, 1).text, /warning/);
  assert.match(statusText('running', 0, 0).text, /check/);
  assert.match(statusText('failed', 0, 0).text, /no server/);
});

/** Loads extension.js with `vscode` resolved to the stand-in. */
function loadExtension() {
  const fake = require('./fake-vscode');
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function (request, ...rest) {
    if (request === 'vscode') return require.resolve('./fake-vscode');
    return resolve.call(this, request, ...rest);
  };
  return { fake, extension: require('../../extension') };
}

async function until(predicate, what) {
  for (let i = 0; i < 600; i += 1) {
    if (predicate()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('the extension starts mapctl lsp through the language client', { skip: !fs.existsSync(binary) && `no binary at ${binary}` }, async () => {
  const { fake, extension } = loadExtension();
  const state = fake.__state;
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'mapctl-vscode-'));
  fs.cpSync(path.join(repository, 'mappings'), folder, { recursive: true });
  const mappingPath = path.join(folder, 'hubspot_to_accelo.map');
  const text = fs.readFileSync(mappingPath, 'utf8').replace('= deal.properties.dealname |', '= deal.properties.dealnme |');
  fs.writeFileSync(mappingPath, text);
  state.settings = { 'mapctl.path': binary, 'mapctl.server.args': ['lsp'], 'mapctl.server.env': { MAPCTL_CACHE_DIR: '' } };
  state.folders = [{ uri: fake.Uri.file(folder), name: 'w', index: 0 }];
  const plain = fake.__textDocument(mappingPath, 'plaintext', text);
  const sourceMap = fake.__textDocument(path.join(folder, 'app.js.map'), 'plaintext', '{"version":3}');
  state.documents.push(plain, sourceMap);
  const context = { subscriptions: [], extensionPath: path.resolve(__dirname, '../..'), asAbsolutePath: (p) => p };

  const api = await extension.activate(context);
  assert.deepStrictEqual(state.setLanguage, [[mappingPath, 'mapctl']], 'the mapping is sniffed, the source map is not');
  for (const id of ['mapctl.restartServer', 'mapctl.showOutput', 'mapctl.checkWorkspace']) {
    assert.ok(state.commands.has(id), `${id} registered`);
  }
  const client = api.client();
  assert.ok(client && client.isRunning(), `the client runs; output: ${state.output.join('')} messages: ${JSON.stringify(state.messages)}`);
  assert.ok(client.initializeResult.capabilities.renameProvider, 'the server announced rename');
  assert.ok(state.registrations.some((r) => r.kind === 'Rename'), 'the client registered rename');

  // The document becomes a mapctl document: the client opens it with the server.
  const mapping = fake.__textDocument(mappingPath, 'mapctl', text);
  state.documents.splice(0, 1, mapping);
  state.onOpen.fire(mapping);
  const published = () => [...state.collections.values()]
    .filter((c) => c.name !== 'mapctl check')
    .flatMap((c) => c.get(mapping.uri) || []);
  await until(() => published().length > 0, 'diagnostics from the server');
  assert.strictEqual(published()[0].code.value || published()[0].code, 'M201');
  await until(() => state.statusItems[0].text.includes('mapctl 1'), 'the status item to count the error');

  state.commands.get('mapctl.showOutput')();
  assert.ok(state.shownOutput);
  await state.commands.get('mapctl.restartServer')();
  const restarted = api.client();
  assert.ok(restarted && restarted !== client && restarted.isRunning(), 'a new server runs');

  const summary = await state.commands.get('mapctl.checkWorkspace')();
  assert.deepStrictEqual(summary, { errors: 1, warnings: 0, failures: 0 });
  assert.ok(state.messages.some(([, m]) => m === 'mapctl check: 1 errors, 0 warnings'), JSON.stringify(state.messages));

  await extension.deactivate();
  assert.ok(!api.client(), 'stopped');
  fs.rmSync(folder, { recursive: true, force: true });
});
