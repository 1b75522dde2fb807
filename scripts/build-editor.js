#!/usr/bin/env node
// Fills the editor option lists that come from lib's tables (nodes/shared/option-lists.ts: a
// <!-- oobkit:options <list> <i18n prefix> --> marker becomes one <option> per value), then bundles
// the editor code the alert nodes share (nodes/shared/editor/alert-policy-editor.ts, with
// the policy checks of lib/alerts it reuses) and puts it, inline, where a built editor file
// (dist/nodes/<type>/<type>.html) says <!-- oobkit:alert-policy-editor -->. Inline rather than
// <script src>: Node-RED registers a node only after such a script has loaded (a missing one
// would stop the editor loading), and the palette would fill in two steps.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

const root = path.join(__dirname, '..');
const MARKER = '<!-- oobkit:alert-policy-editor -->';

const { outputFiles } = esbuild.buildSync({
  entryPoints: [path.join(root, 'nodes', 'shared', 'editor', 'alert-policy-editor.ts')],
  write: false,
  bundle: true,
  format: 'iife',
  globalName: 'OOBKitAlertPolicy',
  platform: 'browser',
  target: ['es2020'],
  legalComments: 'none',
  // Two editor files carry it: the first one the editor runs is the one both use.
  banner: { js: '/* OOBKit: the alert policy editor, built from nodes/shared/editor by scripts/build-editor.js */\nif (!window.OOBKitAlertPolicy) {' },
  footer: { js: '}' },
  logLevel: 'warning',
});
const bundle = outputFiles[0].text;
if (bundle.includes('</script')) throw new Error('the editor bundle contains "</script": it cannot be inlined');

const nodesOut = path.join(root, 'dist', 'nodes');

const { fillOptionLists } = require(path.join(nodesOut, 'shared', 'option-lists.js'));
for (const type of fs.readdirSync(nodesOut)) {
  const file = path.join(nodesOut, type, `${type}.html`);
  if (!fs.existsSync(file)) continue;
  const html = fs.readFileSync(file, 'utf8');
  const filled = fillOptionLists(html);
  if (filled !== html) fs.writeFileSync(file, filled);
}

let used = 0;
for (const type of fs.readdirSync(nodesOut)) {
  const file = path.join(nodesOut, type, `${type}.html`);
  if (!fs.existsSync(file)) continue;
  const html = fs.readFileSync(file, 'utf8');
  if (!html.includes(MARKER)) continue;
  fs.writeFileSync(file, html.replace(MARKER, () => `<script type="text/javascript">\n${bundle}</script>`));
  used++;
}
if (used === 0) throw new Error(`no editor file asks for the alert policy editor (${MARKER})`);
