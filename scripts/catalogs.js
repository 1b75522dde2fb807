// A node's message catalog as Node-RED reads it: the node's own texts plus the texts every node
// shares (nodes/shared/locales/<lang>/oobkit.json, under the key "oobkit"). Used by the build and
// by the tests that load the nodes from source.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const nodesDir = path.join(__dirname, '..', 'nodes');
const sharedDir = path.join(nodesDir, 'shared', 'locales');

/** Languages a node's catalog is written in. */
function catalogLanguages(type) {
  const dir = path.join(nodesDir, type, 'locales');
  return fs.readdirSync(dir).filter((lang) => fs.existsSync(path.join(dir, lang, `${type}.json`)));
}

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/** The node's catalog in `lang` with the shared texts merged in. */
function mergedCatalog(type, lang) {
  const own = readJson(path.join(nodesDir, type, 'locales', lang, `${type}.json`));
  const shared = path.join(sharedDir, lang, 'oobkit.json');
  return fs.existsSync(shared) ? { ...own, ...readJson(shared) } : own;
}

/** Writes every language's merged catalog of `type` (and its help .html files) under `outDir/<lang>/`. */
function writeCatalogs(type, outDir) {
  const src = path.join(nodesDir, type, 'locales');
  for (const lang of fs.readdirSync(src)) {
    const dir = path.join(outDir, lang);
    fs.mkdirSync(dir, { recursive: true });
    for (const f of fs.readdirSync(path.join(src, lang))) {
      if (f.endsWith('.html')) fs.copyFileSync(path.join(src, lang, f), path.join(dir, f));
    }
    if (fs.existsSync(path.join(src, lang, `${type}.json`))) {
      fs.writeFileSync(path.join(dir, `${type}.json`), JSON.stringify(mergedCatalog(type, lang), null, 2) + '\n');
    }
  }
}

module.exports = { catalogLanguages, mergedCatalog, writeCatalogs, nodesDir, sharedDir };
