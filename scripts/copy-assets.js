#!/usr/bin/env node
// Copies what tsc does not emit next to each built node: its editor .html and its locales (with
// the shared texts merged in). The palette icons go into ONE folder, beside the oob-device config
// node: Node-RED looks for icons/ beside each node's .js file but serves every icon it finds
// there to all nodes of the package.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { writeCatalogs } = require('./catalogs');

const root = path.join(__dirname, '..');
const nodesSrc = path.join(root, 'nodes');
const nodesOut = path.join(root, 'dist', 'nodes');
const ICONS_BESIDE = 'oob-device';

function copyTree(from, to, filter) {
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, entry.name);
    const dst = path.join(to, entry.name);
    if (entry.isDirectory()) copyTree(src, dst, filter);
    else if (filter(src)) {
      fs.mkdirSync(to, { recursive: true });
      fs.copyFileSync(src, dst);
    }
  }
}

for (const type of fs.readdirSync(nodesSrc)) {
  const dir = path.join(nodesSrc, type);
  if (!fs.existsSync(path.join(dir, `${type}.html`))) continue;
  const out = path.join(nodesOut, type);
  copyTree(dir, out, (f) => f.endsWith('.html') && !f.includes(`${path.sep}locales${path.sep}`));
  writeCatalogs(type, path.join(out, 'locales'));
  fs.rmSync(path.join(out, 'icons'), { recursive: true, force: true });
}
copyTree(path.join(root, 'icons'), path.join(nodesOut, ICONS_BESIDE, 'icons'), (f) => f.endsWith('.svg') || f.endsWith('.png'));
