/**
 * The message catalogs against the code: every key the nodes use (runtime code, editor pages,
 * the alert policy dialog) is in the en-US catalog and in every other language; every catalog
 * key is used; every language has the same keys and the same placeholders as en-US, and help.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { catalogLanguages, mergedCatalog, nodesDir } from '../../scripts/catalogs';
import { fillOptionLists } from './option-lists';

const NODE_TYPES: string[] = fs.readdirSync(nodesDir).filter((t: string) => fs.existsSync(path.join(nodesDir, t, `${t}.html`)));
/** Dotted names that look like keys but are not: Node-RED permissions. */
/** Admin permissions given by name (not inside needsPermission(...)), not catalog keys. */
const NOT_KEYS = new Set(['oob-device.write', 'oob-device.read', 'oob-console.write']);
/** Keys Node-RED itself reads from every node's catalog. */
const READ_BY_NODE_RED = ['palette.label.out'];

function flatten(o: Record<string, unknown>, prefix = '', out = new Map<string, string>()): Map<string, string> {
  for (const [k, v] of Object.entries(o)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object') flatten(v as Record<string, unknown>, key, out);
    else out.set(key, String(v));
  }
  return out;
}

/** A plural form (`key_one`, `key_other`) counts as its key. */
const baseKey = (k: string) => k.replace(/_(zero|one|two|few|many|other)$/, '');

function filesUnder(dir: string, keep: (f: string) => boolean): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const f = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'locales' ? [] : filesUnder(f, keep);
    return keep(f) ? [f] : [];
  });
}

interface Use {
  file: string;
  /** A literal key, or a pattern for a key made at run time. */
  key: string | RegExp;
}

function usesIn(file: string): Use[] {
  // Editor files as the build ships them: option lists generated from lib's tables filled in.
  const source = fs.readFileSync(file, 'utf8');
  // Admin permissions (RED.auth.needsPermission('oob-x.read')) look like keys and are not.
  const text = (file.endsWith('.html') ? fillOptionLists(source) : source).replace(/needsPermission\((['"])[\w.-]+\1\)/g, 'needsPermission()');
  const uses: Use[] = [];
  for (const m of text.matchAll(/(?<![\w/.-])((?:oobkit|oob-[a-z]+(?:-[a-z]+)*)\.[A-Za-z][\w-]*(?:\.[\w-]+)*)(?![\w-]|\.\$\{|\.\*)/g)) {
    if (!NOT_KEYS.has(m[1]) && !/\.(svg|png)$/.test(m[1])) uses.push({ file, key: m[1] });
  }
  if (path.basename(file) === 'alert-policy-editor.ts') {
    // The dialog's t('x') looks up oob-alert-policy.editor.x, and its helpers take such keys
    // ('rule.kind'); `${...}` parts are filled at run time.
    const given = [...text.matchAll(/\bt\((['`])([^'`]+)\1/g), ...text.matchAll(/(['`])([a-z][\w-]*(?:\.(?:[\w-]+|\$\{[^}]*\}))+|\$\{[^}]*\}\.[\w.-]+)\1/g)];
    for (const m of given.filter((g) => !g[2].startsWith('oob-'))) {
      const parts = m[2].split(/\$\{[^}]*\}/);
      const key = `oob-alert-policy.editor.${m[2]}`;
      uses.push({ file, key: parts.length === 1 ? key : new RegExp(`^oob-alert-policy\\.editor\\.${parts.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[\\w-]+')}$`) });
    }
  }
  return uses;
}

const codeFiles = filesUnder(nodesDir, (f) => (f.endsWith('.ts') && !f.endsWith('.test.ts')) || f.endsWith('.html'));
const uses = codeFiles.flatMap(usesIn);

/** The node whose catalog a file's keys come from; undefined for shared code (oobkit.* keys only). */
function ownerOf(file: string): string | undefined {
  const rel = path.relative(nodesDir, file).split(path.sep);
  return rel[0] === 'shared' ? (rel[1] === 'editor' ? 'oob-alert-policy' : undefined) : rel[0];
}

const catalogs = new Map<string, Map<string, Map<string, string>>>(
  NODE_TYPES.map((t) => [t, new Map(catalogLanguages(t).map((lang: string) => [lang, flatten(mergedCatalog(t, lang))]))]),
);

function has(keys: Map<string, string>, key: string | RegExp): boolean {
  if (typeof key === 'string') return keys.has(key) || [...keys.keys()].some((k) => baseKey(k) === key);
  return [...keys.keys()].some((k) => key.test(baseKey(k)));
}

describe('message catalogs', () => {
  it('finds the keys the code uses (the check itself sees them)', () => {
    expect(uses.some((u) => u.key === 'oobkit.status.reading')).toBe(true);
    expect(uses.some((u) => u.key === 'oob-power-state.label.device')).toBe(true);
    expect(uses.some((u) => u.key instanceof RegExp && u.key.test('oob-alert-policy.editor.severity.major'))).toBe(true);
  });

  it('has every node in en-US and de', () => {
    for (const t of NODE_TYPES) expect([t, [...catalogs.get(t)!.keys()].sort()]).toEqual([t, ['de', 'en-US']]);
  });

  it.each(['en-US', 'de'])('has every key the code uses in %s, in the catalog the code reads', (lang) => {
    const missing: string[] = [];
    for (const u of uses) {
      const owner = ownerOf(u.file);
      const key = String(u.key);
      if (!owner) {
        if (!key.startsWith('oobkit.')) missing.push(`${path.relative(nodesDir, u.file)}: ${key} (shared code reads only oobkit.*)`);
        else if (!NODE_TYPES.every((t) => has(catalogs.get(t)!.get(lang)!, u.key))) missing.push(`${path.relative(nodesDir, u.file)}: ${key}`);
        continue;
      }
      if (!key.startsWith(`${owner}.`) && !key.startsWith('oobkit.') && !/^\/\^oob-alert-policy/.test(key)) {
        missing.push(`${path.relative(nodesDir, u.file)}: ${key} (not in ${owner}'s catalog)`);
        continue;
      }
      if (!has(catalogs.get(owner)!.get(lang)!, u.key)) missing.push(`${path.relative(nodesDir, u.file)}: ${key}`);
    }
    expect(missing).toEqual([]);
  });

  it('uses every en-US key', () => {
    const unused: string[] = [];
    for (const t of NODE_TYPES) {
      for (const k of catalogs.get(t)!.get('en-US')!.keys()) {
        const key = baseKey(k);
        if (READ_BY_NODE_RED.includes(key)) continue;
        if (!uses.some((u) => (typeof u.key === 'string' ? u.key === key : u.key.test(key)))) unused.push(`${t}: ${k}`);
      }
    }
    expect([...new Set(unused)]).toEqual([]);
  });

  it('has in de exactly the keys of en-US, with the same placeholders, and help for every node', () => {
    const placeholders = (s: string) => [...s.matchAll(/__(\w+)__/g)].map((m) => m[1]).sort();
    const problems: string[] = [];
    for (const t of NODE_TYPES) {
      const en = catalogs.get(t)!.get('en-US')!;
      const de = catalogs.get(t)!.get('de')!;
      const enBase = new Set([...en.keys()].map(baseKey));
      const deBase = new Set([...de.keys()].map(baseKey));
      for (const k of enBase) if (!deBase.has(k)) problems.push(`${t}: de lacks ${k}`);
      for (const k of deBase) if (!enBase.has(k)) problems.push(`${t}: de has ${k}, en-US does not`);
      for (const [k, text] of de) {
        const enText = en.get(k) ?? en.get(baseKey(k)) ?? en.get(`${baseKey(k)}_other`);
        if (enText !== undefined && placeholders(enText).join() !== placeholders(text).join()) problems.push(`${t}: ${k} placeholders differ`);
      }
      if (!fs.existsSync(path.join(nodesDir, t, 'locales', 'de', `${t}.html`))) problems.push(`${t}: no German help`);
    }
    expect(problems).toEqual([]);
  });
});
