/**
 * The package as Node-RED and npm see it (after `npm run build`): what package.json promises
 * exists, every node has its editor file, labels, help and an example, examples use only nodes
 * that exist, and the tarball holds what a user needs and nothing else.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.join(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const nodes = pkg['node-red'].nodes as Record<string, string>;
const examples = fs.readdirSync(path.join(root, 'examples')).filter((f) => f.endsWith('.json'));
/** Node-RED Dashboard 2's nodes (a dev dependency): the fleet dashboard example uses them. */
const dashboardTypes = new Set(Object.keys(JSON.parse(fs.readFileSync(require.resolve('@flowfuse/node-red-dashboard/package.json'), 'utf8'))['node-red'].nodes));
const coreTypes = new Set(['tab', 'comment', 'inject', 'debug', 'function', 'change', 'switch', 'template', 'catch', 'status', 'complete', 'link in', 'link out', 'link call', 'split', 'join', 'csv', 'file', 'file in', 'http in', 'http response', 'http request', 'delay', 'trigger', 'mqtt in', 'mqtt out', 'mqtt-broker', 'json', 'group', 'junction', 'rbe', 'filter', 'exec']);

describe('package.json', () => {
  it('points main and types at built files; the oob-sim command belongs to the simulator workspace', () => {
    expect(fs.existsSync(path.join(root, pkg.main))).toBe(true);
    expect(fs.existsSync(path.join(root, pkg.types))).toBe(true);
    expect(pkg.bin).toBeUndefined();
    const simDir = path.join(root, 'packages', 'sim');
    const sim = JSON.parse(fs.readFileSync(path.join(simDir, 'package.json'), 'utf8'));
    expect(pkg.workspaces).toEqual(['packages/sim']);
    expect(sim.private).toBe(true);
    expect(fs.readFileSync(path.join(simDir, sim.bin['oob-sim']), 'utf8').startsWith('#!/usr/bin/env node')).toBe(true);
    const api = require(path.join(root, pkg.main));
    for (const name of ['WsmanClient', 'readPowerStatus', 'requestPowerAction', 'wakeAndConfirm', 'bootFromMedia', 'readInventory']) expect(typeof api[name]).toBe('function');
    for (const area of ['ipmi', 'wol', 'asf', 'alerts', 'mqtt', 'defense']) expect(typeof api[area]).toBe('object');
  });

  it('says what Node-RED and its scorecard look for', () => {
    expect(pkg.keywords).toContain('node-red');
    expect(pkg['node-red'].version).toBe('>=3.1.0');
    expect(pkg.engines.node).toBe('>=18');
    expect(pkg.license).toBe('Apache-2.0');
    expect(pkg.repository.url).toMatch(/^https:\/\//);
    expect(Object.keys(pkg.dependencies).length).toBeLessThanOrEqual(6);
  });
});

describe.each(Object.entries(nodes))('node %s', (type, file) => {
  const dir = path.dirname(path.join(root, file));
  const catalog = path.join(dir, 'locales', 'en-US', `${type}.json`);

  it('is built with its editor file, icons, labels and help', () => {
    expect(fs.existsSync(path.join(root, file))).toBe(true);
    const html = fs.readFileSync(path.join(dir, `${type}.html`), 'utf8');
    expect(html).toContain(`RED.nodes.registerType('${type}',`);
    const labels = JSON.parse(fs.readFileSync(catalog, 'utf8'));
    expect(labels[type]).toBeDefined();
    const help = fs.readFileSync(path.join(dir, 'locales', 'en-US', `${type}.html`), 'utf8');
    expect(help).toContain(`data-help-name="${type}"`);
    // Every data-i18n key the editor template uses exists in the catalog.
    const missing = [...html.matchAll(/data-i18n="(?:\[[a-z]+\])?([\w.-]+)"/g)]
      .map((m) => m[1])
      .filter((key) => key.startsWith(`${type}.`) && key.split('.').reduce((o: any, k) => (o === undefined ? o : o[k]), labels) === undefined);
    expect(missing).toEqual([]);
    const icon = /icon:\s*'([^']+)'/.exec(html)?.[1];
    if (icon && !icon.startsWith('font-awesome/') && !icon.startsWith('node-red/')) expect(fs.existsSync(path.join(root, 'dist', 'nodes', 'oob-device', 'icons', icon))).toBe(true);
  });

  it('ships its texts in en-US and German, each with the texts every node shares', () => {
    for (const lang of ['en-US', 'de']) {
      const texts = JSON.parse(fs.readFileSync(path.join(dir, 'locales', lang, `${type}.json`), 'utf8'));
      expect(texts[type]).toBeDefined();
      expect(typeof texts.oobkit?.reason?.timeout).toBe('string');
      expect(fs.readFileSync(path.join(dir, 'locales', lang, `${type}.html`), 'utf8')).toContain(`data-help-name="${type}"`);
    }
  });

  it('carries all its editor code: no script to fetch, no placeholder left by the build', () => {
    // Node-RED registers a node only once a <script src> has loaded; a missing one stops the editor.
    const html = fs.readFileSync(path.join(dir, `${type}.html`), 'utf8');
    expect(html).not.toMatch(/<script[^>]*\ssrc=/);
    expect(html).not.toContain('<!-- oobkit:');
    if (html.includes('OOBKitAlertPolicy.')) expect(html).toContain('var OOBKitAlertPolicy = (() => {');
  });

  it('has the out-of-band palette label in its catalog when it is a palette node', () => {
    const html = fs.readFileSync(path.join(dir, `${type}.html`), 'utf8');
    if (/category:\s*'config'/.test(html)) return;
    expect(html).toMatch(/category:\s*'out-of-band'/);
    expect(JSON.parse(fs.readFileSync(catalog, 'utf8')).palette?.label?.out).toBe('out-of-band');
  });

  it('appears in an example flow', () => {
    const used = examples.some((f) => (JSON.parse(fs.readFileSync(path.join(root, 'examples', f), 'utf8')) as Array<{ type: string }>).some((n) => n.type === type));
    expect(used).toBe(true);
  });
});

describe.each(examples)('example %s', (file) => {
  const flow = JSON.parse(fs.readFileSync(path.join(root, 'examples', file), 'utf8')) as Array<Record<string, unknown> & { id: string; type: string }>;

  it('uses only core nodes and ours, explains itself in a comment node, and carries no secrets', () => {
    for (const n of flow) expect(coreTypes.has(n.type) || dashboardTypes.has(n.type) || n.type in nodes).toBe(true);
    expect(flow.some((n) => n.type === 'comment')).toBe(true);
    expect(JSON.stringify(flow)).not.toMatch(/"(password|credentials|secureOn|ipmiPassword)"\s*:/);
  });

  it("is listed under Import → Examples by its tab's title (Node-RED lists file names)", () => {
    const tab = flow.find((n) => n.type === 'tab') as { label?: string } | undefined;
    expect(file).toBe(`${String(tab?.label).replace(/: /g, ' - ')}.json`);
  });
});

describe('the packed package (npm pack)', () => {
  let files: string[];
  const shipped = (p: string) => files.includes(p);

  beforeAll(() => {
    const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', timeout: 60000 });
    if (r.status !== 0) throw new Error(`npm pack failed: ${r.stderr}`);
    files = (JSON.parse(r.stdout) as Array<{ files: Array<{ path: string }> }>)[0].files.map((f) => f.path);
  });

  /** Relative module paths a built file refers to, resolved to package paths. */
  function references(file: string, pattern: RegExp, exts: string[]): Array<{ spec: string; found: string | undefined }> {
    const text = fs.readFileSync(path.join(root, file), 'utf8');
    return [...text.matchAll(pattern)].map((m) => {
      const spec = m[1] ?? m[2];
      const base = path.posix.join(path.posix.dirname(file), spec);
      return { spec, found: [base, ...exts.map((e) => base + e), ...exts.map((e) => `${base}/index${e}`)].find(shipped) };
    });
  }

  it('has no source maps and no test files', () => {
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(files.filter((f) => /(^|\/)(test|tests|__tests__)\/|\.test\.|\.spec\./.test(f))).toEqual([]);
  });

  it('does not contain the simulator, and every module a shipped file requires is shipped', () => {
    expect(files.filter((f) => f.startsWith('packages/') || f.startsWith('dist/packages/') || /(^|\/)sim(\/|$)/.test(f))).toEqual([]);
    const missing = files
      .filter((f) => f.endsWith('.js'))
      .flatMap((f) => references(f, /require\(["'](\.{1,2}\/[^"']*)["']\)/g, ['.js', '.json']).filter((r) => !r.found).map((r) => `${f} -> ${r.spec}`));
    expect(missing).toEqual([]);
  });

  it('has one icons folder, holding every icon a node uses', () => {
    const folders = [...new Set(files.filter((f) => /(^|\/)icons\//.test(f)).map((f) => f.slice(0, f.lastIndexOf('icons/') + 'icons'.length)))];
    expect(folders).toEqual(['dist/nodes/oob-device/icons']);
    for (const [type, file] of Object.entries(nodes)) {
      const icon = /icon:\s*'([^']+)'/.exec(fs.readFileSync(path.join(root, path.dirname(file), `${type}.html`), 'utf8'))?.[1];
      if (icon && !icon.startsWith('font-awesome/') && !icon.startsWith('node-red/')) expect(shipped(`${folders[0]}/${icon}`)).toBe(true);
    }
  });

  it('carries the type declarations of the public API (lib/index.ts and what it reaches) and no others', () => {
    expect(shipped(pkg.types)).toBe(true);
    const reached = new Set<string>();
    const dangling: string[] = [];
    const queue = [pkg.types as string];
    while (queue.length) {
      const file = queue.pop()!;
      if (reached.has(file)) continue;
      reached.add(file);
      for (const r of references(file, /(?:from\s+|import\()["'](\.{1,2}\/[^"']*)["']/g, ['.d.ts'])) {
        if (r.found) queue.push(r.found);
        else dangling.push(`${file} -> ${r.spec}`);
      }
    }
    expect(dangling).toEqual([]);
    expect(reached.size).toBeGreaterThan(10);
    expect(files.filter((f) => f.endsWith('.d.ts')).sort()).toEqual([...reached].sort());
  });
});
