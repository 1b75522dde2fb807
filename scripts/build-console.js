#!/usr/bin/env node
// Bundles the console page (nodes/oob-console/page) with noVNC and xterm.js into
// dist/nodes/oob-console/assets/console.js and .css, so the browser libraries are part of the
// build and not runtime dependencies of the package.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

const root = path.join(__dirname, '..');
const page = path.join(root, 'nodes', 'oob-console', 'page');
const out = path.join(root, 'dist', 'nodes', 'oob-console', 'assets');
fs.mkdirSync(out, { recursive: true });

esbuild.buildSync({
  entryPoints: [path.join(page, 'console-page.js')],
  outfile: path.join(out, 'console.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022'],
  minify: true,
  legalComments: 'eof',
  banner: { js: '/* OOBKit console page with noVNC (MPL-2.0) and xterm.js (MIT); built by scripts/build-console.js */' },
  logLevel: 'warning',
});
const xtermCss = fs.readFileSync(require.resolve('@xterm/xterm/css/xterm.css'), 'utf8');
fs.writeFileSync(path.join(out, 'console.css'), `${xtermCss}\n${fs.readFileSync(path.join(page, 'console.css'), 'utf8')}`);
