#!/usr/bin/env node
// Fills the editor option lists that come from lib's tables (nodes/shared/option-lists.ts: a
// <!-- oobkit:options <list> <i18n prefix> --> marker becomes one <option> per value), then bundles
// the editor code several dialogs share (nodes/shared/editor/<name>.ts: the alert policy editor,
// with the policy checks of lib/alerts it reuses, the device checklist, and the defaults of
// drop-downs a saved node lacks) and puts each, inline,
// where a built editor file (dist/nodes/<type>/<type>.html) says <!-- oobkit:<name> -->. Inline rather than
// <script src>: Node-RED registers a node only after such a script has loaded (a missing one
// would stop the editor loading), and the palette would fill in two steps.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

const root = path.join(__dirname, '..');

/** Editor code more than one node's dialog uses, each put inline where a built editor file asks for it. */
const BUNDLES = [
  { entry: 'alert-policy-editor.ts', globalName: 'OOBKitAlertPolicy', what: 'the alert policy editor' },
  { entry: 'device-picker.ts', globalName: 'OOBKitDevicePicker', what: 'the device checklist' },
  { entry: 'saved-defaults.ts', globalName: 'OOBKitSavedDefaults', what: 'the defaults of drop-downs a saved node lacks' },
];

function bundle({ entry, globalName, what }) {
  const { outputFiles } = esbuild.buildSync({
    entryPoints: [path.join(root, 'nodes', 'shared', 'editor', entry)],
    write: false,
    bundle: true,
    format: 'iife',
    globalName,
    platform: 'browser',
    target: ['es2020'],
    legalComments: 'none',
    // Several editor files carry it: the first one the editor runs is the one they all use.
    banner: { js: `/* OOBKit: ${what}, built from nodes/shared/editor by scripts/build-editor.js */\nif (!window.${globalName}) {` },
    footer: { js: '}' },
    logLevel: 'warning',
  });
  const code = outputFiles[0].text;
  if (code.includes('</script')) throw new Error(`the ${entry} bundle contains "</script": it cannot be inlined`);
  return code;
}

const nodesOut = path.join(root, 'dist', 'nodes');

const { fillOptionLists } = require(path.join(nodesOut, 'shared', 'option-lists.js'));
for (const type of fs.readdirSync(nodesOut)) {
  const file = path.join(nodesOut, type, `${type}.html`);
  if (!fs.existsSync(file)) continue;
  const html = fs.readFileSync(file, 'utf8');
  const filled = fillOptionLists(html);
  if (filled !== html) fs.writeFileSync(file, filled);
}

for (const b of BUNDLES) {
  const marker = `<!-- oobkit:${b.entry.replace(/\.ts$/, '')} -->`;
  const code = bundle(b);
  let used = 0;
  for (const type of fs.readdirSync(nodesOut)) {
    const file = path.join(nodesOut, type, `${type}.html`);
    if (!fs.existsSync(file)) continue;
    const html = fs.readFileSync(file, 'utf8');
    if (!html.includes(marker)) continue;
    fs.writeFileSync(file, html.replace(marker, () => `<script type="text/javascript">\n${code}</script>`));
    used++;
  }
  if (used === 0) throw new Error(`no editor file asks for ${b.what} (${marker})`);
}
