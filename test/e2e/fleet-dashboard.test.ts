/**
 * The fleet dashboard of `npm start` (Node-RED Dashboard 2) in real Chromium: the demo's PCs of both
 * sites with the power the simulator has; the isolate button fences a PC off in the simulator (read
 * back over AMT) and the table says so, then release undoes it; reset resets a PC of another example
 * (its audit log says so); console opens the PC's console page
 * (served at the site); a PET trap at a site shows in the
 * alert feed and its acknowledge button acknowledges it at the site, which comes back over MQTT.
 */
import type { Page } from 'playwright-core';
import { closeAllAmt } from '../../lib/amt/connect';
import { encodePet, PET_ENTERPRISE, PET_VARBIND_OID, specificTrapOf } from '../../lib/asf/pet';
import { deviceFromObject } from '../../lib/device';
import { withDriver } from '../../lib/drivers';
import { launchChromium } from '../helpers/browser';
import { RunningDemo, startDemo } from '../helpers/demo';

const snmp = require('net-snmp');

jest.setTimeout(180_000);

const PASSWORD = 'Demo-P@ssw0rd';
let demo: RunningDemo;
let chromium: Awaited<ReturnType<typeof launchChromium>>;
let page: Page;
let flows: Array<Record<string, any>>;
const pageErrors: string[] = [];

/** Warnings and errors Node-RED logged, but for the one it always logs when projects are off. */
const problems = (log: string) => log.split('\n').filter((l) => /\[(warn|error)\]/.test(l) && !/Projects disabled/.test(l));

beforeAll(async () => {
  // No scenario alerts: this test's own trap is the only one.
  // The broker a fresh machine gets (no Mosquitto): the central console works over MQTT 3.1.1 too.
  demo = await startDemo({ DEMO_ALERT_SECONDS: '0', DEMO_BROKER: 'embedded' });
  const res = await fetch(new URL('flows', demo.editorUrl).href, { headers: { 'Node-RED-API-Version': 'v1' } });
  if (!res.ok) throw new Error(`the editor answered GET /flows with ${res.status}: ${await res.text()}`);
  flows = (await res.json()) as Array<Record<string, any>>;
  chromium = await launchChromium({ width: 1400, height: 1000 });
  page = await chromium.context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  // A missing icon (404) is the dashboard's business; a script error on the page is ours.
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) pageErrors.push(m.text());
  });
}, 120_000);

afterAll(async () => {
  closeAllAmt();
  await chromium?.close();
  if (demo) await demo.stop();
});

function dashboardUrl(): string {
  const m = /fleet dashboard:\s+(http:\/\/\S+)/.exec(demo.output());
  if (!m) throw new Error(`the demo printed no fleet dashboard address:\n${demo.output()}`);
  return m[1];
}

/** The simulated PC behind an example device, as the demo configured it (credentials are the demo's). */
function simulatedPc(name: string) {
  const n = flows.find((x) => x.type === 'oob-device' && x.name === name && !x.via);
  if (!n) throw new Error(`no oob-device ${name} in the demo`);
  return deviceFromObject({ name, host: n.host, port: n.amtPort, tls: n.amtTls, fingerprint: n.fingerprint, username: 'admin', password: PASSWORD });
}

const row = (site: string, pc: string) => page.locator(`section[data-site="${site}"] tr[data-pc="${pc}"]`);

async function cell(site: string, pc: string, column: string): Promise<string> {
  return (await row(site, pc).locator(`td.${column}`).innerText()).trim();
}

async function eventually(what: string, check: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  const shown = await page
    .locator('.oob-fleet')
    .innerText()
    .catch(() => '(no table)');
  throw new Error(`${what} within ${ms / 1000} s; the page shows:\n${shown}`);
}

/** A PET trap (power supply failure) from 127.0.0.1, where the site's PCs are, to a site's alert-in. */
function sendPowerSupplyTrap(port: number): Promise<void> {
  const specific = specificTrapOf({ sensorType: 0x08, eventType: 0x6f, offset: 1 });
  const bytes = encodePet({ sequence: 7, sensorNumber: 0x30, severity: 0x10, time: Math.floor(Date.now() / 1000) - 5, guid: Buffer.alloc(16, 0x24) });
  const session = snmp.createSession('127.0.0.1', 'public', { trapPort: port, version: snmp.Version1 });
  return new Promise((resolve, reject) =>
    session.trap(`${PET_ENTERPRISE}.${specific}`, [{ oid: PET_VARBIND_OID, type: snmp.ObjectType.OctetString, value: bytes }], { agentAddr: '127.0.0.1' }, (e?: Error) => {
      session.close();
      if (e) reject(e);
      else resolve();
    }),
  );
}

describe('the fleet dashboard of npm start, in Chromium', () => {
  it('runs on the embedded broker, MQTT 3.1.1 only, as on a machine without Mosquitto', () => {
    expect(demo.output()).toMatch(/MQTT broker:\s+mqtt:\/\/\S+ \(embedded, MQTT 3\.1\.1\)/);
  });

  it("shows both sites' PCs with the power the simulator has, their management connection and isolation", async () => {
    await page.goto(dashboardUrl());
    // The example's PCs, and the demo's other PCs at head-office (other examples' devices of that site).
    const sites = { 'head-office': ['reception-pc', 'lobby-pc', 'finance-pc', 'office-pc'], workshop: ['workshop-pc', 'cnc-pc'] };
    for (const [site, pcs] of Object.entries(sites)) {
      for (const pc of pcs) {
        // As the simulated PC has it now, asked over AMT (another example's flow may have powered it since the start).
        const power = async () => (await withDriver(simulatedPc(pc), (d) => d.readPower())).state;
        await eventually(`${pc} @ ${site} shown with its power`, async () => (await cell(site, pc, 'oob-power')) === (await power()));
        await eventually(`${pc} @ ${site} shown with AMT answering and its isolation`, async () => (await cell(site, pc, 'oob-connected')) === 'AMT answers' && (await cell(site, pc, 'oob-isolation')) !== '?');
      }
      await eventually(`site ${site}'s gateway shown online`, async () => (await page.locator(`section[data-site="${site}"] h3`).innerText()).includes('gateway online'));
    }
    // The server of head-office is there too (IPMI).
    expect(await row('head-office', 'db-server').count()).toBe(1);
  });

  it('isolate fences lobby-pc off in the simulator and the table says so; release undoes both', async () => {
    const pc = simulatedPc('lobby-pc');
    expect(await withDriver(pc, (d) => d.readIsolation!())).toBe(false);
    await row('head-office', 'lobby-pc').getByRole('button', { name: 'isolate' }).click();
    await eventually('lobby-pc isolated in the table', async () => (await cell('head-office', 'lobby-pc', 'oob-isolation')) === 'isolated');
    expect(await withDriver(pc, (d) => d.readIsolation!())).toBe(true);
    expect(await page.locator('.oob-note').innerText()).toBe('isolate lobby-pc @ head-office: done');

    await row('head-office', 'lobby-pc').getByRole('button', { name: 'release' }).click();
    await eventually('lobby-pc back on the network in the table', async () => (await cell('head-office', 'lobby-pc', 'oob-isolation')) === 'on the network');
    expect(await withDriver(pc, (d) => d.readIsolation!())).toBe(false);
  });

  it("reset resets finance-pc (another example's PC at head-office): its AMT audit log records the remote reset", async () => {
    const pc = simulatedPc('finance-pc');
    // A PC that is off offers no reset (the page would say so): this one is on.
    expect(await cell('head-office', 'finance-pc', 'oob-power')).toBe('on');
    const resets = async () =>
      ((await withDriver(pc, (d) => d.readAuditLog!({ mode: 'all' }))).records as Array<{ app?: string; action?: string }>).filter((r) => r.app === 'Remote Control' && r.action === 'reset').length;
    const before = await resets();
    await row('head-office', 'finance-pc').getByRole('button', { name: 'reset' }).click();
    const note = () => page.locator('.oob-note').innerText();
    await eventually('the reset done', async () => (await note()) === 'reset finance-pc @ head-office: done');
    expect(await resets()).toBe(before + 1);
  });

  it("console opens the site's console page of that PC in a new tab", async () => {
    const id = flows.find((n) => n.type === 'oob-device' && n.name === 'lobby-pc' && !n.via)!.id as string;
    const popup = page.waitForEvent('popup', { timeout: 30_000 });
    await row('head-office', 'lobby-pc').getByRole('button', { name: 'console' }).click();
    const tab = await popup;
    expect(new URL(tab.url()).pathname).toBe(`/oob-console/${id}`);
    await tab.close();
    // The link stays on the page, for a browser that blocked the new tab.
    expect(await page.locator('.oob-console-link a').getAttribute('href')).toBe(`/oob-console/${id}`);
  });

  it("a site's alert appears in the feed and in its PC's open alerts; acknowledge acknowledges it at the site", async () => {
    const alertIn = flows.find((n) => n.id === 'ex-fleet-alerts-workshop');
    expect(alertIn?.petPort).toBeGreaterThan(0);
    await sendPowerSupplyTrap(Number(alertIn!.petPort));
    const item = page.locator('.oob-alert[data-state="trigger"]', { hasText: '@ workshop' });
    await eventually('the alert in the feed', async () => (await item.count()) === 1);
    const key = await item.getAttribute('data-key');
    const pc = key!.split('/')[0];
    await eventually(`${pc}'s open alerts counted`, async () => (await cell('workshop', pc, 'oob-open-alerts')) === '1');

    await item.getByRole('button', { name: 'acknowledge' }).click();
    const acked = page.locator(`.oob-alert[data-key="${key}"]`);
    await eventually('the alert shown acknowledged', async () => (await acked.getAttribute('data-state')) === 'acknowledge');
    expect(await acked.innerText()).toContain('acknowledged by fleet dashboard');
    // Still open at the site (acknowledged is not resolved), and no button to acknowledge it again.
    expect(await cell('workshop', pc, 'oob-open-alerts')).toBe('1');
    expect(await acked.getByRole('button', { name: 'acknowledge' }).count()).toBe(0);
  });

  it('logged no warning or error, and the page had no script error', () => {
    expect(problems(demo.output())).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
