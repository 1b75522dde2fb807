#!/usr/bin/env node
// Type declarations for the public API only: lib/index.ts and the declarations it reaches. tsc
// emits one for every module the API's code imports, so those no declaration refers to are
// removed afterwards; earlier ones are removed first, so nothing stays from an older build.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.join(__dirname, '..');

function removeDeclarations(dir) {
  if (!fs.existsSync(dir)) return;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) removeDeclarations(p);
    else if (entry.name.endsWith('.d.ts')) fs.rmSync(p);
  }
}

/** Every declaration file reachable from `entry` through relative imports and re-exports. */
function reachable(entry) {
  const seen = new Set();
  const queue = [entry];
  while (queue.length) {
    const file = queue.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    for (const m of fs.readFileSync(file, 'utf8').matchAll(/(?:from\s+|import\()["'](\.{1,2}\/[^"']*)["']/g)) {
      const base = path.join(path.dirname(file), m[1]);
      const found = [`${base}.d.ts`, path.join(base, 'index.d.ts')].find((f) => fs.existsSync(f));
      if (found) queue.push(found);
    }
  }
  return seen;
}

function removeUnreached(dir, keep) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) removeUnreached(p, keep);
    else if (entry.name.endsWith('.d.ts') && !keep.has(p)) fs.rmSync(p);
  }
}

for (const dir of ['lib', 'nodes']) removeDeclarations(path.join(root, 'dist', dir));
const tsc = require.resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.types.json')], { stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);
removeUnreached(path.join(root, 'dist', 'lib'), reachable(path.join(root, 'dist', 'lib', 'index.d.ts')));
