/**
 * The demo's editor in Debian's Chromium: the out-of-band palette category holds our nodes, the
 * edit dialog of every node opens without errors in the browser console, and a screenshot of
 * the demo flow is saved under test-output/.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser';
import { RunningDemo, startDemo } from '../helpers/demo';

const outDir = path.join(__dirname, '..', '..', 'test-output');
const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));
const ourTypes = Object.keys(pkg['node-red'].nodes) as string[];

let demo: RunningDemo;
let chromium: Awaited<ReturnType<typeof launchChromium>>;
let page: Page;
const consoleErrors: string[] = [];

beforeAll(async () => {
  fs.mkdirSync(outDir, { recursive: true });
  demo = await startDemo();
  chromium = await launchChromium();
  page = await chromium.context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
  await page.goto(demo.editorUrl);
  await page.waitForFunction(() => (window as any).RED?.nodes?.getType?.('oob-power-state') !== undefined && document.querySelector('.red-ui-palette-node'), null, { timeout: 60000 });
}, 120000);

afterAll(async () => {
  await chromium?.close();
  await demo?.stop();
});

describe('the editor in Chromium', () => {
  it('shows our flow nodes in the out-of-band palette category', async () => {
    const inPalette = await page.evaluate(() =>
      Array.from(document.querySelectorAll('.red-ui-palette-node')).map((el) => ({
        type: el.getAttribute('data-palette-type'),
        category: el.closest('.red-ui-palette-category')?.querySelector('.red-ui-palette-header span')?.textContent ?? '',
      })),
    );
    const flowTypes = await page.evaluate((types) => types.filter((t) => (window as any).RED.nodes.getType(t)?.category !== 'config'), ourTypes);
    expect(flowTypes.length).toBeGreaterThan(0);
    for (const t of flowTypes) {
      const entry = inPalette.find((p) => p.type === t);
      expect(entry).toBeDefined();
      expect(entry!.category).toBe('out-of-band');
    }
  });

  it('shows every OOBKit node of the demo flows as valid (no red triangle), config nodes included', async () => {
    const invalid = await page.evaluate((types) => {
      const RED = (window as any).RED;
      const out: Array<{ id: string; type: string; errors: unknown }> = [];
      const check = (n: any) => {
        if (!types.includes(n.type)) return;
        RED.editor.validateNode(n);
        if (!n.valid) out.push({ id: n.id, type: n.type, errors: n.validationErrors });
      };
      RED.nodes.eachConfig(check);
      RED.nodes.eachNode(check);
      return out;
    }, ourTypes);
    expect(invalid).toEqual([]);
  });

  it('has no unused configuration node of ours in the demo (Node-RED warns about them on deploy)', async () => {
    const unused = await page.evaluate((types) => {
      const RED = (window as any).RED;
      const out: string[] = [];
      RED.nodes.eachConfig((n: any) => {
        if (types.includes(n.type) && (!n.users || n.users.length === 0)) out.push(`${n.type} ${n.name ?? n.id}`);
      });
      return out;
    }, ourTypes);
    expect(unused).toEqual([]);
  });

  it.each(ourTypes)('opens the edit dialog of %s without console errors', async (type) => {
    const before = consoleErrors.length;
    const opened = await page.evaluate((t) => {
      const RED = (window as any).RED;
      const def = RED.nodes.getType(t);
      if (def.category === 'config') {
        const existing = RED.nodes.filterConfigNodes ? RED.nodes.filterConfigNodes({ type: t })[0] : undefined;
        RED.editor.editConfig('', t, existing ? existing.id : '_ADD_');
      } else {
        const node = RED.nodes.filterNodes({ type: t })[0];
        if (!node) return `no ${t} node in the demo flows`;
        RED.workspaces.show(node.z);
        RED.editor.edit(node);
      }
      return 'ok';
    }, type);
    expect(opened).toBe('ok');
    await page.waitForSelector('.red-ui-tray .red-ui-tray-body form, .red-ui-tray .red-ui-tray-body .form-row', { timeout: 10000 });
    await page.waitForTimeout(300);
    const labels = await page.evaluate(() => Array.from(document.querySelectorAll('.red-ui-tray .form-row label')).map((l) => l.textContent?.trim() ?? ''));
    // Every label is translated: a missing locale key shows up as the raw key.
    expect(labels.filter((l) => /^[a-z-]+\.(label|placeholder)\./.test(l))).toEqual([]);
    // Every choice of every drop-down reads whole in the dialog as it opens.
    const cut = await page.evaluate(() => {
      const ctx = document.createElement('canvas').getContext('2d')!;
      return Array.from(document.querySelectorAll<HTMLSelectElement>('.red-ui-tray select'))
        .filter((s) => s.offsetParent !== null && !s.multiple && /^node-(config-)?input-/.test(s.id))
        .flatMap((s) => {
          const cs = getComputedStyle(s);
          ctx.font = cs.font;
          // Room for text: the box less its padding, borders and the arrow.
          const room = s.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight) - 16;
          return Array.from(s.options)
            .filter((o) => ctx.measureText(o.text).width > room)
            .map((o) => `${s.id}: "${o.text}" needs ${Math.ceil(ctx.measureText(o.text).width)} px, has ${Math.floor(room)}`);
        });
    });
    expect(cut).toEqual([]);
    // No drop-down opens with nothing chosen, also for a node saved before its setting existed
    // (the demo's example nodes lack some): it shows the default the runtime uses.
    const unchosen = await page.evaluate(() =>
      Array.from(document.querySelectorAll<HTMLSelectElement>('.red-ui-tray select'))
        .filter((s) => s.offsetParent !== null && !s.multiple && /^node-(config-)?input-/.test(s.id) && s.selectedIndex === -1)
        .map((s) => s.id),
    );
    expect(unchosen).toEqual([]);
    await page.screenshot({ path: path.join(outDir, `edit-${type}.png`) });
    await page.evaluate(() => {
      const RED = (window as any).RED;
      while (document.querySelector('.red-ui-tray')) {
        RED.tray.close();
        break;
      }
    });
    await page.waitForTimeout(500);
    await page.evaluate(() => {
      const RED = (window as any).RED;
      if (document.querySelector('.red-ui-tray')) RED.tray.close();
    });
    await page.waitForTimeout(300);
    expect(consoleErrors.slice(before)).toEqual([]);
  });

  it.each([
    ['oob-device', 'old-local-pc', { type: 'oob-device', name: 'old-local-pc', host: '192.0.2.10', mac: '', site: '', amtPort: '', amtTls: false }, ['via']],
    ['oob-alert-in', 'old-alert-in', { type: 'oob-alert-in', name: 'old alerts', pet: true, petPort: 1162, communities: 'public', shape: 'alert', rules: '[]', maintenance: '[]', outputs: 1, wires: [[]] }, ['centre', 'policy']],
  ])('a %s saved before its optional config settings existed keeps them empty after Done (no centre or policy filled in)', async (type, id, props, keys) => {
    const centres = await page.evaluate(
      ({ id, node }) => {
        const RED = (window as any).RED;
        const z = RED.workspaces.active();
        RED.nodes.import([{ ...node, id, ...(node.type === 'oob-device' ? {} : { z }) }]);
        let n = 0;
        RED.nodes.eachConfig((c: any) => {
          if (c.type === 'oob-remote-centre' || c.type === 'oob-alert-policy') n++;
        });
        return n;
      },
      { id, node: props },
    );
    // The demo has centres and policies, so the editor could offer one.
    expect(centres).toBeGreaterThan(0);
    const ok = type === 'oob-device' ? '#node-config-dialog-ok' : '#node-dialog-ok';
    await page.evaluate(
      ({ id, type }) => {
        const RED = (window as any).RED;
        if (type === 'oob-device') RED.editor.editConfig('', type, id);
        else RED.editor.edit(RED.nodes.node(id));
      },
      { id, type },
    );
    await page.waitForSelector(ok, { state: 'visible', timeout: 10000 });
    await page.waitForTimeout(300);
    await page.click(ok);
    await page.waitForSelector(ok, { state: 'detached', timeout: 10000 });
    const values = await page.evaluate(
      ({ id, keys }) => {
        const RED = (window as any).RED;
        const n = RED.nodes.node(id);
        const out = keys.map((k: string) => n[k] ?? '');
        RED.nodes.remove(id);
        RED.view.redraw(true);
        return out;
      },
      { id, keys },
    );
    expect(values).toEqual(keys.map(() => ''));
  });

  it.each([
    ['oob-ha', false],
    ['oob-remote-gateway', true],
  ])('the device checklist of %s lists the devices it can serve, ticks those chosen and saves the new choice', async (type, localOnly) => {
    const setUp = await page.evaluate(
      ({ type, localOnly }) => {
        const RED = (window as any).RED;
        const node = RED.nodes.filterNodes({ type })[0];
        const offered: string[] = [];
        RED.nodes.eachConfig((c: any) => {
          if (c.type === 'oob-device' && !(localOnly && c.via)) offered.push(c.id);
        });
        let remote = 0;
        RED.nodes.eachConfig((c: any) => {
          if (c.type === 'oob-device' && c.via) remote++;
        });
        const original = node.devices;
        node.devices = [offered[0]];
        RED.workspaces.show(node.z);
        RED.editor.edit(node);
        return { id: node.id, offered, remote, original };
      },
      { type, localOnly },
    );
    expect(setUp.offered.length).toBeGreaterThan(1);
    // The demo has devices at other sites, so leaving them out is a real choice.
    if (localOnly) expect(setUp.remote).toBeGreaterThan(0);
    await page.waitForSelector('#node-dialog-ok', { state: 'visible', timeout: 10000 });
    await page.evaluate(() => $('#node-input-scope').val('list').trigger('change'));
    const boxes = await page.evaluate(() => Array.from(document.querySelectorAll<HTMLInputElement>('#node-input-devices-list input[type=checkbox]')).map((b) => ({ id: b.value, checked: b.checked, label: document.querySelector(`label[for="${b.id}"]`)?.textContent ?? '' })));
    expect(boxes.map((b) => b.id).sort()).toEqual([...setUp.offered].sort());
    expect(boxes.filter((b) => b.checked).map((b) => b.id)).toEqual([setUp.offered[0]]);
    expect(boxes.every((b) => b.label.length > 0)).toBe(true);
    await page.click(`#node-input-devices-list input[value="${setUp.offered[0]}"]`);
    await page.click(`#node-input-devices-list input[value="${setUp.offered[1]}"]`);
    await page.click('#node-dialog-ok');
    await page.waitForSelector('#node-dialog-ok', { state: 'detached', timeout: 10000 });
    const saved = await page.evaluate(
      ({ id, original }) => {
        const RED = (window as any).RED;
        const node = RED.nodes.node(id);
        const devices = node.devices;
        node.devices = original;
        return devices;
      },
      { id: setUp.id, original: setUp.original },
    );
    expect(saved).toEqual([setUp.offered[1]]);
  });

  it('saves a screenshot of the demo flow', async () => {
    await page.evaluate(() => {
      const RED = (window as any).RED;
      const n = RED.nodes.filterNodes({ type: 'oob-system-defense' })[0] ?? RED.nodes.filterNodes({ type: 'oob-power-state' })[0];
      RED.workspaces.show(n.z);
      // The whole flow: no sidebar. Fold every other palette category so ours shows whole.
      RED.menu.setSelected('menu-item-sidebar', false);
      for (const header of Array.from(document.querySelectorAll('.red-ui-palette-header'))) {
        if (header.id !== 'red-ui-palette-header-out' && header.querySelector('i.expanded')) (header as HTMLElement).click();
      }
    });
    await page.waitForTimeout(1000);
    const file = path.join(outDir, 'demo-flow.png');
    await page.screenshot({ path: file });
    expect(fs.statSync(file).size).toBeGreaterThan(10000);
    expect(consoleErrors).toEqual([]);
  });
});
