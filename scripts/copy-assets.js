#!/usr/bin/env node
// Copies what tsc does not emit next to each built node: its editor .html, its locales (with the
// shared texts merged in) and the palette icons (Node-RED looks for icons/ beside the node's .js file).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { writeCatalogs } = require('./catalogs');

const root = path.join(__dirname, '..');
const nodesSrc = path.join(root, 'nodes');
const nodesOut = path.join(root, 'dist', 'nodes');

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
  copyTree(path.join(root, 'icons'), path.join(out, 'icons'), (f) => f.endsWith('.svg') || f.endsWith('.png'));
}
