/**
 * The alert policy editor in Chromium, against the demo's Node-RED: rules and maintenance
 * windows built, reordered and checked in the dialog are stored in the format the runtime reads
 * (lib/alerts/policy.ts accepts them as they are), a deployed alert-in routes real PET traps
 * (sent by Debian's snmptrap) by them, flows saved before the editor existed open with their
 * rules in the lists and are not changed by opening them, and the editor refuses what the
 * runtime would refuse, in the runtime's words.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { compileWindow } from '../../lib/alerts/maintenance';
import { checkRule, Policy } from '../../lib/alerts/policy';
import { policyFromDef } from '../../nodes/shared/policy-def';
import { launchChromium } from '../helpers/browser';
import { RunningDemo, startDemo, watchComms } from '../helpers/demo';
import { freeUdpPort, requirePeer, run } from '../helpers/peers';

const snmptrap = requirePeer('snmptrap', 'snmp');
const fixture = (name: string) => fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'pet', name), 'utf8').trim().split(/\s+/).join('');
const example = (file: string, id: string) =>
  (JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'examples', file), 'utf8')) as Array<Record<string, any>>).find((n) => n.id === id)!;

let demo: RunningDemo;
let chromium: Awaited<ReturnType<typeof launchChromium>>;
let page: Page;
let comms: Awaited<ReturnType<typeof watchComms>>;
const consoleErrors: string[] = [];

beforeAll(async () => {
  // No scenarios of its own: the only traps are the ones this test sends.
  demo = await startDemo({ DEMO_ALERT_SECONDS: '0' });
  comms = await watchComms(demo.editorUrl);
  chromium = await launchChromium();
  page = await chromium.context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
  await page.goto(demo.editorUrl);
  await page.waitForFunction(() => (window as any).RED?.nodes?.node?.('ex-alert-chat-in') && document.querySelector('.red-ui-palette-node'), null, { timeout: 60000 });
}, 120000);

afterAll(async () => {
  comms?.close();
  await chromium?.close();
  await demo?.stop();
});

afterEach(() => {
  expect(consoleErrors).toEqual([]);
});

// --- driving the dialog -------------------------------------------------------------------------

async function openNode(id: string): Promise<Locator> {
  await page.evaluate((nodeId) => {
    const RED = (window as any).RED;
    const n = RED.nodes.node(nodeId);
    RED.workspaces.show(n.z);
    RED.editor.edit(n);
  }, id);
  // The list itself has no height while it is empty: wait for its buttons.
  await page.locator('#node-input-rule-add').waitFor();
  return page.locator('.red-ui-tray').last();
}

async function openConfig(id: string): Promise<Locator> {
  await page.evaluate((nodeId) => (window as any).RED.editor.editConfig('', 'oob-alert-policy', nodeId), id);
  await page.locator('#node-config-input-rule-add').waitFor();
  return page.locator('.red-ui-tray').last();
}

async function closeTray(button: '#node-dialog-ok' | '#node-dialog-cancel' | '#node-config-dialog-ok' | '#node-config-dialog-cancel'): Promise<void> {
  const before = await page.locator('.red-ui-tray').count();
  await page.click(button);
  await page.waitForFunction((n) => document.querySelectorAll('.red-ui-tray').length < n, before);
  await page.waitForTimeout(400);
}

const rules = (tray: Locator) => tray.locator('.oob-rule');
const windows = (tray: Locator) => tray.locator('.oob-window');

/** Picks a type of a typed input (the source or severity field) and, for a choice, its values. */
async function typed(row: Locator, cls: string, type: string, values: string[] = []): Promise<void> {
  const box = row.locator(`.${cls} + .red-ui-typedInput-container`);
  await box.locator('.red-ui-typedInput-type-select').click();
  await page.locator(`.red-ui-typedInput-options:visible a[value="${type}"]`).click();
  if (!values.length) return;
  await box.locator('.red-ui-typedInput-option-trigger').click();
  for (const v of values) await page.locator(`.red-ui-typedInput-options:visible a[value="${v}"]`).click();
  // A choice of several closes when the mouse goes down elsewhere.
  const multiple = await page.locator('.red-ui-typedInput-options:visible input[type="checkbox"]').count();
  if (multiple) await row.locator('.oob-pol-index').click();
}

async function typedValue(row: Locator, cls: string): Promise<{ type: string; value: string }> {
  return row.locator(`.${cls}`).evaluate((el) => {
    const $ = (window as any).$;
    return { type: $(el).typedInput('type'), value: $(el).typedInput('value') };
  });
}

/** Drags a list item by its handle until it sits above another. */
async function dragAbove(item: Locator, target: Locator): Promise<void> {
  const handle = item.locator('xpath=ancestor::li[1]').locator('.red-ui-editableList-item-handle');
  const from = (await handle.boundingBox())!;
  const to = (await target.boundingBox())!;
  await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
  await page.mouse.down();
  for (let i = 1; i <= 12; i++) await page.mouse.move(from.x + from.width / 2, from.y + (to.y + 5 - from.y) * (i / 12), { steps: 2 });
  await page.waitForTimeout(200);
  await page.mouse.up();
  await page.waitForTimeout(300);
}

const nodeProps = (id: string) =>
  page.evaluate((nodeId) => {
    const RED = (window as any).RED;
    const n = RED.nodes.node(nodeId);
    RED.editor.validateNode(n);
    const out: Record<string, unknown> = { valid: n.valid, changed: Boolean(n.changed), validationErrors: n.validationErrors ?? [] };
    for (const k of Object.keys(n._def.defaults)) out[k] = n[k];
    return out as Record<string, any>;
  }, id);

/** An alert-in node as the palette makes one (every property the example has), with changes. */
function alertIn(props: Record<string, unknown>): Record<string, unknown> {
  const base = { ...example('Alerts - PET to chat.json', 'ex-alert-chat-in') };
  delete base.wires;
  return { ...base, ...props };
}

async function importFlow(nodes: Array<Record<string, unknown>>): Promise<void> {
  await page.evaluate((flow) => (window as any).RED.view.importNodes(flow, { generateIds: false }), nodes);
  await page.waitForTimeout(300);
}

async function deploy(): Promise<void> {
  // An invalid node would stop the deploy at a confirmation: say which instead.
  const invalid = await page.evaluate(() => {
    const RED = (window as any).RED;
    const out: string[] = [];
    RED.nodes.eachNode((n: any) => {
      RED.editor.validateNode(n);
      if (!n.valid) out.push(`${n.id}: ${JSON.stringify(n.validationErrors)}`);
    });
    return out;
  });
  expect(invalid).toEqual([]);
  await page.click('#red-ui-header-button-deploy');
  await page.waitForFunction(() => !(window as any).RED.nodes.dirty(), null, { timeout: 20000 });
}

const deployedNode = async (id: string) => {
  const res = await fetch(new URL('flows', demo.editorUrl), { headers: { 'Node-RED-API-Version': 'v1' } });
  return ((await res.json()) as Array<Record<string, any>>).find((n) => n.id === id)!;
};

/** The element's text, once it is what is expected (the dialog checks as one types). */
async function expectText(el: Locator, expected: string | RegExp): Promise<void> {
  let text = '';
  for (let i = 0; i < 50; i++) {
    text = (await el.textContent()) ?? '';
    if (typeof expected === 'string' ? text === expected : expected.test(text)) return;
    await page.waitForTimeout(100);
  }
  expect(text).toEqual(expected);
}

async function waitFor<T>(what: string, get: () => T | undefined, ms = 15000): Promise<T> {
  for (const until = Date.now() + ms; Date.now() < until; await new Promise((r) => setTimeout(r, 100))) {
    const v = get();
    if (v !== undefined) return v;
  }
  throw new Error(`timed out waiting for ${what}`);
}

// --- the tests ----------------------------------------------------------------------------------

describe('the alert policy editor in Chromium', () => {
  it('opens the example flows (rules stored as JSON text) with their rules in the list, and Done changes nothing', async () => {
    const chat = example('Alerts - PET to chat.json', 'ex-alert-chat-in');
    let tray = await openNode('ex-alert-chat-in');
    expect(await rules(tray).count()).toBe(1);
    const row = rules(tray).first();
    expect(await row.locator('.oob-rule-kind').inputValue()).toBe('firmware-progress, os-boot, system-restart');
    expect(await row.locator('.oob-rule-action').inputValue()).toBe('drop');
    expect(await typedValue(row, 'oob-rule-source')).toEqual({ type: 'any', value: '' });
    expect(await row.locator('.oob-rule-output').isVisible()).toBe(false);
    expect(await tray.locator('#node-input-defaultOutput').inputValue()).toBe('1');
    expect(await tray.locator('#node-input-defaultOutput option:checked').textContent()).toBe('1: chat');
    expect(await windows(tray).count()).toBe(0);
    // Saved before the setting existed: its default shows.
    expect(await tray.locator('#node-input-durability').inputValue()).toBe('process-crash');
    await closeTray('#node-dialog-ok');
    let props = await nodeProps('ex-alert-chat-in');
    expect(props).toMatchObject({ changed: false, valid: true, rules: chat.rules, maintenance: chat.maintenance, outputs: 1 });

    const hb = example('Alerts - heartbeat to ticket.json', 'ex-alert-hb-policy');
    tray = await openConfig('ex-alert-hb-policy');
    const escalations = rules(tray).first();
    expect(await escalations.locator('.oob-rule-escalated').inputValue()).toBe('only');
    expect(await escalations.locator('.oob-rule-action').inputValue()).toBe('route');
    expect(await escalations.locator('.oob-rule-output option:checked').textContent()).toBe('2: escalations');
    await closeTray('#node-config-dialog-ok');
    props = await nodeProps('ex-alert-hb-policy');
    expect(props).toMatchObject({ changed: false, valid: true, rules: hb.rules });
  });

  it('open conditions: empty shows the default, and a value out of bounds is marked before a deploy', async () => {
    const tray = await openNode('ex-alert-chat-in');
    const field = tray.locator('#node-input-maxOpen');
    expect(await tray.locator('label[for="node-input-maxOpen"]').textContent()).toContain('Open conditions');
    expect(await field.inputValue()).toBe('');
    expect(await field.getAttribute('placeholder')).toBe('50000');
    const marked = () => field.evaluate((el) => el.classList.contains('input-error'));
    for (const [value, wrong] of [['50', true], ['10000', false], ['2000000', true], ['', false]] as const) {
      await field.fill(value);
      await field.dispatchEvent('change');
      expect(await marked()).toBe(wrong);
    }
    await closeTray('#node-dialog-cancel');
  });

  it('shows an older policy (rules as an array, patterns, both kinds of window) field by field and keeps it as the runtime reads it', async () => {
    const oldRules = [
      { name: 'no info', match: { severity: '<=info' }, action: 'drop' },
      { match: { source: 'pet, wsevent', severity: '!ok', site: 'branch-*' }, action: 'severity', severity: 'major' },
      { match: { kind: 'heartbeat-*', state: 'resolve', escalated: false }, action: 'route', output: 2 },
    ];
    const oldWindows = JSON.stringify([
      { name: 'patch night', site: 'head-office', cron: '0 22 * * 6', minutes: 180 },
      { device: 'pc-07', from: '2025-05-01T08:00:00Z', until: '2025-05-01T12:00:00Z' },
    ]);
    await importFlow([{ id: 'test-old-policy', type: 'oob-alert-policy', name: 'old', outputNames: 'chat, pager', rules: oldRules, defaultOutput: 1, maintenance: oldWindows }]);
    const tray = await openConfig('test-old-policy');
    const [r1, r2, r3] = [0, 1, 2].map((i) => rules(tray).nth(i));
    expect(await rules(tray).count()).toBe(3);
    expect(await r1.locator('.oob-rule-name').inputValue()).toBe('no info');
    expect(await typedValue(r1, 'oob-rule-severity')).toEqual({ type: 'max', value: 'info' });
    expect(await typedValue(r2, 'oob-rule-source')).toEqual({ type: 'list', value: 'pet,wsevent' });
    expect(await typedValue(r2, 'oob-rule-severity')).toEqual({ type: 'pattern', value: '!ok' });
    expect(await r2.locator('.oob-rule-site').inputValue()).toBe('branch-*');
    expect(await r2.locator('.oob-rule-new-severity').inputValue()).toBe('major');
    expect(await r3.locator('.oob-rule-state').inputValue()).toBe('resolve');
    expect(await r3.locator('.oob-rule-escalated').inputValue()).toBe('never');
    expect(await r3.locator('.oob-rule-output option:checked').textContent()).toBe('2: pager');
    expect(await tray.locator('.oob-rule .oob-pol-error:visible').count()).toBe(0);

    const [w1, w2] = [0, 1].map((i) => windows(tray).nth(i));
    expect(await w1.locator('.oob-win-when').inputValue()).toBe('cron');
    expect(await w1.locator('.oob-win-cron').inputValue()).toBe('0 22 * * 6');
    expect(await w1.locator('.oob-win-minutes').inputValue()).toBe('180');
    expect(await w1.locator('.oob-pol-preview').textContent()).toMatch(/^Opens next: .+ · .+ · .+/);
    expect(await w2.locator('.oob-win-when').inputValue()).toBe('once');
    expect(await w2.locator('.oob-win-cron').isVisible()).toBe(false);
    const from = await w2.locator('.oob-win-from').inputValue();
    expect(new Date(from).toISOString()).toBe('2025-05-01T08:00:00.000Z');
    expect(await w2.locator('.oob-pol-preview').textContent()).toBe('This window is over.');
    await closeTray('#node-config-dialog-ok');

    const props = await nodeProps('test-old-policy');
    expect(props.valid).toBe(true);
    // The array is now JSON text (what the editor always stored), with the same rules in it.
    expect(JSON.parse(props.rules)).toEqual(oldRules);
    expect(props.maintenance).toBe(oldWindows);
  });

  it('refuses what the runtime refuses, in its words: a route to an output that is gone, a bad cron', async () => {
    let tray = await openConfig('ex-alert-hb-policy');
    await tray.locator('#node-config-input-outputNames').fill('ticket');
    const row = rules(tray).first();
    const goneOutput = ruleMessage({ match: { escalated: true }, action: 'route', output: 2 }, 0, 1);
    expect(goneOutput).toBe('rule 1: output 2 does not exist (1-1)');
    await expectText(row.locator('.oob-pol-error'), goneOutput);
    expect(await row.locator('.oob-rule-output option:checked').textContent()).toBe('2 (not available)');

    await tray.locator('#node-config-input-window-add').click();
    const w = windows(tray).first();
    await w.locator('.oob-win-name').fill('patch night');
    await w.locator('.oob-win-cron').fill('61 22 * * 6');
    await w.locator('.oob-win-minutes').fill('180');
    const badCron = windowMessage({ name: 'patch night', cron: '61 22 * * 6', minutes: 180 });
    expect(badCron).toBe('maintenance window patch night: cron minute "61" is outside 0-59');
    await expectText(w.locator('.oob-pol-error'), badCron);
    expect(await w.locator('.oob-win-cron').evaluate((el) => el.classList.contains('input-error'))).toBe(true);
    await closeTray('#node-config-dialog-ok');

    let props = await nodeProps('ex-alert-hb-policy');
    expect(props.valid).toBe(false);
    expect(props.validationErrors).toEqual(expect.arrayContaining([goneOutput, badCron]));
    // The deployed runtime would have said the same, first thing.
    expect(() => new Policy(policyFromDef(props))).toThrow(goneOutput);

    tray = await openConfig('ex-alert-hb-policy');
    await tray.locator('#node-config-input-outputNames').fill('ticket, escalations');
    expect(await rules(tray).first().locator('.oob-rule-output option:checked').textContent()).toBe('2: escalations');
    await windows(tray).first().locator('xpath=ancestor::li[1]').locator('.red-ui-editableList-item-remove').click();
    await page.waitForTimeout(600);
    expect(await windows(tray).count()).toBe(0);
    await closeTray('#node-config-dialog-ok');
    props = await nodeProps('ex-alert-hb-policy');
    expect(props.valid).toBe(true);
    expect(props.rules).toBe(example('Alerts - heartbeat to ticket.json', 'ex-alert-hb-policy').rules);
    expect(props.maintenance).toBe('[]');
  });

  it('keeps a stored list it cannot read until it is fixed with the JSON button', async () => {
    const broken = '[{"match":{"kind":"os-boot"},"action":"drop"}';
    const fixed = '[{"match":{"kind":"os-boot"},"action":"drop"}]';
    const tab = 'test-broken-tab';
    await importFlow([
      { id: tab, type: 'tab', label: 'Broken rules' },
      alertIn({ id: 'test-broken', z: tab, name: 'broken', pet: false, outputNames: 'chat', rules: broken, maintenance: '[]', outputs: 1, x: 200, y: 100, wires: [[]] }),
    ]);
    let props = await nodeProps('test-broken');
    const runtimeSays = (() => {
      try {
        new Policy(policyFromDef(props));
        return '';
      } catch (e) {
        return (e as Error).message;
      }
    })();
    expect(runtimeSays).toMatch(/^rules is not valid JSON: /);
    // The browser's JSON.parse may add where it stopped ("... (line 1 column 46)").
    expect(props).toMatchObject({ valid: false, validationErrors: [expect.stringContaining(runtimeSays)] });

    let tray = await openNode('test-broken');
    expect(await tray.locator('#node-input-rule-notice').isVisible()).toBe(true);
    expect(await tray.locator('#node-input-rule-notice').textContent()).toContain(runtimeSays);
    expect(await tray.locator('#node-input-rule-notice').textContent()).toMatch(/fix it with the JSON button/);
    expect(await rules(tray).count()).toBe(0);
    await closeTray('#node-dialog-ok');
    props = await nodeProps('test-broken');
    expect(props).toMatchObject({ rules: broken, valid: false });

    tray = await openNode('test-broken');
    await tray.locator('#node-input-rule-json').click();
    const jsonTray = page.locator('.red-ui-tray').last();
    await jsonTray.locator('.red-ui-editor-type-json-tab-content, .node-text-editor').first().waitFor();
    await page.waitForFunction((text) => (window as any).monaco?.editor.getModels().some((m: any) => m.getValue() === text), broken);
    await page.evaluate(
      ([from, to]) => (window as any).monaco.editor.getModels().find((m: any) => m.getValue() === from).setValue(to),
      [broken, fixed],
    );
    // Node-RED's JSON editor enables Done once it has checked the text (it was invalid at first).
    await jsonTray.locator('#node-dialog-ok:not(.disabled)').click();
    await page.locator('.red-ui-tray-titlebar', { hasText: 'JSON' }).waitFor({ state: 'detached' });
    expect(await rules(tray).count()).toBe(1);
    expect(await rules(tray).first().locator('.oob-rule-kind').inputValue()).toBe('os-boot');
    expect(await tray.locator('#node-input-rule-notice').isVisible()).toBe(false);
    await closeTray('#node-dialog-ok');
    props = await nodeProps('test-broken');
    expect(props).toMatchObject({ rules: fixed, valid: true });
  });

  it('builds rules and a maintenance window in the dialog, stores what the runtime accepts, and the deployed node routes traps by them', async () => {
    const petPort = await freeUdpPort();
    const tab = 'test-policy-tab';
    await importFlow([
      { id: tab, type: 'tab', label: 'Policy editor test' },
      alertIn({
        id: 'test-alert-in',
        z: tab,
        name: 'traps by rule',
        pet: true,
        petPort,
        petAddress: '127.0.0.1',
        communities: 'public',
        shape: 'chat',
        outputNames: 'chat, urgent',
        rules: '[{"name":"quiet boots","match":{"kind":"firmware-progress, os-boot, system-restart"},"action":"drop"}]',
        maintenance: '[]',
        outputs: 2,
        x: 200,
        y: 100,
        wires: [['test-chat'], ['test-urgent']],
      }),
      { id: 'test-chat', type: 'debug', z: tab, name: 'chat', active: true, tosidebar: true, console: false, complete: 'payload', targetType: 'msg', x: 450, y: 80, wires: [] },
      { id: 'test-urgent', type: 'debug', z: tab, name: 'urgent', active: true, tosidebar: true, console: false, complete: 'payload', targetType: 'msg', x: 450, y: 140, wires: [] },
    ]);

    const tray = await openNode('test-alert-in');
    const addRule = tray.locator('#node-input-rule-add');
    // Rule 2: every PET trap is dropped.
    await addRule.click();
    const dropPet = rules(tray).nth(1);
    await typed(dropPet, 'oob-rule-source', 'list', ['pet']);
    await dropPet.locator('.oob-rule-name').fill('no other traps');
    await dropPet.locator('.oob-rule-action').selectOption('drop');
    // Rule 3: a chassis intrusion of major or worse goes to "urgent".
    await addRule.click();
    const intrusion = rules(tray).nth(2);
    await intrusion.locator('.oob-rule-kind').fill('chassis-intrusion');
    await typed(intrusion, 'oob-rule-severity', 'min', ['major']);
    await intrusion.locator('.oob-rule-action').selectOption('route');
    await intrusion.locator('.oob-rule-output').selectOption('2');
    expect(await intrusion.locator('.oob-pol-index').textContent()).toBe('3');
    // As rule 3 it would never fire (rule 2 drops every trap first): move it up.
    await dragAbove(intrusion, dropPet);
    expect(await rules(tray).nth(1).locator('.oob-rule-kind').inputValue()).toBe('chassis-intrusion');
    expect(await rules(tray).nth(1).locator('.oob-pol-index').textContent()).toBe('2');
    expect(await rules(tray).nth(2).locator('.oob-pol-index').textContent()).toBe('3');

    await tray.locator('#node-input-window-add').click();
    const w = windows(tray).first();
    await w.locator('.oob-win-name').fill('branch patch night');
    await w.locator('.oob-win-site').fill('branch-*');
    await w.locator('.oob-win-cron').fill('0 22 * * 6');
    await w.locator('.oob-win-minutes').fill('180');
    await expectText(w.locator('.oob-pol-preview'), /^Opens next: /);
    expect(await tray.locator('.oob-pol-error:visible').count()).toBe(0);
    await tray.locator('#node-input-defaultOutput').selectOption('1');
    await closeTray('#node-dialog-ok');

    const props = await nodeProps('test-alert-in');
    const saved = JSON.parse(props.rules);
    expect(saved).toEqual([
      { name: 'quiet boots', match: { kind: 'firmware-progress, os-boot, system-restart' }, action: 'drop' },
      { match: { kind: 'chassis-intrusion', severity: '>=major' }, action: 'route', output: 2 },
      { name: 'no other traps', match: { source: 'pet' }, action: 'drop' },
    ]);
    expect(JSON.parse(props.maintenance)).toEqual([{ name: 'branch patch night', site: 'branch-*', cron: '0 22 * * 6', minutes: 180 }]);
    expect(props).toMatchObject({ valid: true, outputs: 2 });
    // What lib/alerts/policy.ts makes of it, unchanged.
    const policy = new Policy(policyFromDef(props));
    expect(policy.config.rules).toEqual(saved);
    expect(policy.outputCount).toBe(2);

    await deploy();
    const deployed = await deployedNode('test-alert-in');
    expect(deployed.rules).toBe(props.rules);
    expect(deployed.maintenance).toBe(props.maintenance);
    await waitFor('alert-in running', () => comms.messages.find((m) => m.topic === 'status/test-alert-in' && m.data?.fill === 'green'));

    const debugFrom = (id: string) => comms.messages.filter((m) => m.topic === 'debug' && m.data?.id === id);
    // A chassis intrusion (critical) from Debian's snmptrap: rule 2 sends it to "urgent".
    run(snmptrap, ['-v', '1', '-c', 'public', '-m', '', `127.0.0.1:${petPort}`, '1.3.6.1.4.1.3183.1.1', '127.0.0.1', '6', '356096', '', '1.3.6.1.4.1.3183.1.1.1', 'x', fixture('dell-chassis-intrusion-356096.hex')]);
    const urgent = await waitFor('the chassis intrusion on "urgent"', () => debugFrom('test-urgent')[0]);
    expect(String(urgent.data.msg)).toMatch(/CRITICAL .*Chassis opened/);
    // A fan trap: rule 3 drops it; nothing reaches either output, and the node counts it held.
    run(snmptrap, ['-v', '2c', '-c', 'public', '-m', '', `127.0.0.1:${petPort}`, '', '1.3.6.1.4.1.3183.1.1.0.262402', '1.3.6.1.4.1.3183.1.1.1', 'x', fixture('supermicro-test-0.hex')]);
    await waitFor('the fan trap held back', () => comms.messages.find((m) => m.topic === 'status/test-alert-in' && /^rx 2 · tx 1 · held 1/.test(m.data?.text ?? '')));
    expect(debugFrom('test-urgent')).toHaveLength(1);
    expect(debugFrom('test-chat')).toHaveLength(0);
  });

  it('makes a new policy with the runtime defaults, escalation off (0) shown and valid without typing it', async () => {
    const policies = () =>
      page.evaluate(() => {
        const ids: string[] = [];
        (window as any).RED.nodes.eachConfig((n: any) => {
          if (n.type === 'oob-alert-policy') ids.push(n.id);
        });
        return ids;
      });
    const before = await policies();
    await page.evaluate(() => (window as any).RED.editor.editConfig('', 'oob-alert-policy', '_ADD_'));
    await page.locator('#node-config-input-rule-add').waitFor();
    expect(await page.locator('#node-config-input-escalateMinutes').inputValue()).toBe('0');
    expect(await page.locator('#node-config-input-dedupSeconds').inputValue()).toBe('300');
    await page.locator('#node-config-input-name').fill('fresh policy');
    await closeTray('#node-config-dialog-ok');
    const added = (await policies()).filter((id) => !before.includes(id));
    expect(added).toHaveLength(1);
    const props = await nodeProps(added[0]);
    expect(props).toMatchObject({ valid: true, validationErrors: [], name: 'fresh policy' });
    expect(Number(props.escalateMinutes)).toBe(0);
    expect(new Policy(policyFromDef(props)).config).toMatchObject({ escalateMinutes: 0, dedupSeconds: 300 });
    await page.evaluate((id) => (window as any).RED.nodes.remove(id), added[0]);
  });
});

function ruleMessage(rule: Record<string, unknown>, index: number, outputs: number): string {
  try {
    checkRule(rule as never, index, outputs);
    return '';
  } catch (e) {
    return (e as Error).message;
  }
}

function windowMessage(w: Record<string, unknown>): string {
  try {
    compileWindow(w as never, 0);
    return '';
  } catch (e) {
    return (e as Error).message;
  }
}
