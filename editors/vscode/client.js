// What the extension decides without VS Code: the server command from the settings, whether a
// `.map` file is a mapping (JavaScript and CSS source maps are not), and the status item's text.
// Plain functions, so tests run them under Node without an editor.
'use strict';

/** Words that start a top-level item of a mapping (grammar/mapping.pest). */
const ITEM_WORDS = [
  'mapping', 'source', 'target', 'trigger', 'require', 'never', 'table', 'map', 'select',
  'sync', 'checklist', 'match',
];

/**
 * The command that runs the language server: `mapctl.path` (default `mapctl`), the arguments
 * `mapctl.server.args` (default `["lsp"]`) and extra environment `mapctl.server.env` (strings
 * only) on top of the extension host's.
 */
function serverCommand(settings, baseEnv) {
  const command = typeof settings.path === 'string' && settings.path.trim() ? settings.path.trim() : 'mapctl';
  const args = Array.isArray(settings.args) && settings.args.every((a) => typeof a === 'string')
    ? settings.args
    : ['lsp'];
  const env = { ...baseEnv };
  for (const [name, value] of Object.entries(settings.env || {})) {
    if (typeof value === 'string') env[name] = value;
  }
  return { command, args, env };
}

/** The command that runs `mapctl check --format json FOLDER`, from the server command. */
function checkCommand(server, folder) {
  const prefix = server.args.length && server.args[server.args.length - 1] === 'lsp'
    ? server.args.slice(0, -1)
    : [];
  return { command: server.command, args: [...prefix, 'check', '--format', 'json', folder], env: server.env };
}

/**
 * True when a file named `fileName` with text `text` is a mapping: a `.map` file that is not a
 * source map (`x.js.map`, `x.css.map`...) and whose first line that is not blank or a comment
 * starts with an item's keyword. A JSON source map starts with `{`.
 */
function looksLikeMapping(fileName, text) {
  if (!/\.map$/i.test(fileName) || /\.(m?js|cjs|ts|css|scss|less)\.map$/i.test(fileName)) return false;
  for (const line of text.split('\n', 200)) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const word = /^[a-z_]+/.exec(trimmed);
    return word !== null && ITEM_WORDS.includes(word[0]);
  }
  return false;
}

/** The status item's text and tooltip for a server state and the mapctl diagnostics shown. */
function statusText(state, errors, warnings) {
  switch (state) {
    case 'starting':
      return { text: '$(sync~spin) mapctl', tooltip: 'mapctl lsp is starting' };
    case 'stopped':
      return { text: '$(debug-disconnect) mapctl', tooltip: 'mapctl lsp is not running: click for its output' };
    case 'failed':
      return { text: '$(error) mapctl: no server', tooltip: 'mapctl lsp could not start: click for its output' };
    default:
      if (errors > 0) {
        return { text: `$(error) mapctl ${errors}`, tooltip: `${errors} errors, ${warnings} warnings in mappings` };
      }
      if (warnings > 0) {
        return { text: `$(warning) mapctl ${warnings}`, tooltip: `${warnings} warnings in mappings` };
      }
      return { text: '$(check) mapctl', tooltip: 'mapctl lsp is running; no problems in open mappings' };
  }
}

module.exports = { ITEM_WORDS, serverCommand, checkCommand, looksLikeMapping, statusText };
