/**
 * `npm start` as a user runs it: the editor answers, our nodes are loaded, the fleet's states
 * reach the flow, credentials stay out of the flow JSON, and Ctrl-C stops everything cleanly.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RunningDemo, startDemo, watchComms } from '../helpers/demo';

const PASSWORD = 'Demo-P@ssw0rd';
let demo: RunningDemo;

beforeAll(async () => {
  demo = await startDemo({ DEMO_ALERT_SECONDS: '2' });
}, 90000);

afterAll(async () => {
  if (demo) await demo.stop();
});

async function get(url: string, accept = 'application/json'): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { headers: { Accept: accept, 'Node-RED-API-Version': 'v2' } });
  return { status: res.status, text: await res.text() };
}

/** Warnings and errors Node-RED logged, but for the one it always logs when projects are off. */
function problems(log: string): string[] {
  return log.split('\n').filter((l) => /\[(warn|error)\]/.test(l) && !/Projects disabled/.test(l));
}

describe('npm start', () => {
  it('serves the Node-RED editor', async () => {
    const res = await get(demo.editorUrl, 'text/html');
    expect(res.status).toBe(200);
    expect(res.text).toContain('Node-RED');
  });

  it('loads our nodes into the out-of-band category', async () => {
    const res = await get(new URL('nodes', demo.editorUrl).href);
    const sets = JSON.parse(res.text) as Array<{ module: string; types: string[]; enabled: boolean; err?: string }>;
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '../../package.json'), 'utf8'));
    const ours = sets.filter((s) => s.module === pkg.name);
    expect(ours.flatMap((s) => s.types).sort()).toEqual(Object.keys(pkg['node-red'].nodes).sort());
    for (const s of ours) expect(s.err).toBeUndefined();
  });

  it("reports the simulated fleet's power states through the flow", async () => {
    const printed = [...demo.output().matchAll(/^\s+([a-z][\w-]*)\s+127\.0\.0\.1:\d+\s+(?:[0-9a-f]{2}:){5}[0-9a-f]{2}\s+(on|off)$/gm)].map((m) => [m[1], m[2]]);
    expect(printed.length).toBeGreaterThanOrEqual(5);
    let fleet: Record<string, { state: string }> = {};
    for (let i = 0; i < 40 && Object.keys(fleet).length < printed.length; i++) {
      await new Promise((r) => setTimeout(r, 500));
      fleet = JSON.parse((await get(new URL('api/fleet', demo.editorUrl).href)).text);
    }
    for (const [name, state] of printed) expect(fleet[name]?.state).toBe(state);
  });

  it('keeps AMT passwords out of the flow JSON and out of the flow file', async () => {
    const flows = await get(new URL('flows', demo.editorUrl).href);
    expect(flows.status).toBe(200);
    expect(flows.text).toContain('"type":"oob-device"');
    expect(flows.text).not.toContain(PASSWORD);
    const files = fs.readdirSync(demo.userDir).filter((f) => f.startsWith('flows'));
    expect(files).toEqual(expect.arrayContaining(['flows.json', 'flows_cred.json']));
    for (const f of files) expect(fs.readFileSync(path.join(demo.userDir, f), 'utf8')).not.toContain(PASSWORD);
  });

  it('shows alerts from the simulated fleet in the PET example, as a chat line', async () => {
    const comms = await watchComms(demo.editorUrl);
    try {
      let line: { topic: string; data: any } | undefined;
      for (let i = 0; i < 40 && !line; i++) {
        await new Promise((r) => setTimeout(r, 250));
        line = comms.messages.find((m) => m.topic === 'debug' && m.data?.name === 'chat line');
      }
      expect(line).toBeDefined();
      expect(String(line!.data.msg)).toMatch(/-pc\b|pc-\d/);
    } finally {
      comms.close();
    }
  });

  it('starts without a warning or an error, and a deploy of the flows unchanged shows no error in the debug sidebar', async () => {
    const startup = demo.output();
    expect(problems(startup)).toEqual([]);
    const comms = await watchComms(demo.editorUrl);
    try {
      const flows = await get(new URL('flows', demo.editorUrl).href);
      const res = await fetch(new URL('flows', demo.editorUrl).href, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Node-RED-API-Version': 'v2', 'Node-RED-Deployment-Type': 'full' },
        body: JSON.stringify({ flows: JSON.parse(flows.text).flows, rev: JSON.parse(flows.text).rev }),
      });
      expect(res.status).toBe(200);
      // Long enough for every poll, watcher and the Home Assistant bridge to have run once.
      await new Promise((r) => setTimeout(r, 8000));
      const errors = comms.messages.filter((m) => m.topic === 'debug' && m.data?.level === 20);
      expect(errors.map((m) => `${m.data.name || m.data.id}: ${m.data.msg}`)).toEqual([]);
      expect(problems(demo.output().slice(startup.length))).toEqual([]);
    } finally {
      comms.close();
    }
  });

  it('boot-consent example: the PC\'s consent code shows in the sidebar, the chat asks for it, the code sent back boots it', async () => {
    const comms = await watchComms(demo.editorUrl);
    const inject = (id: string, body: unknown = {}) =>
      fetch(new URL(`inject/${id}`, demo.editorUrl).href, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Node-RED-API-Version': 'v2' }, body: JSON.stringify(body) });
    const debug = async (test: (d: any) => boolean) => {
      for (let i = 0; i < 60; i++) {
        const m = comms.messages.find((x) => x.topic === 'debug' && test(x.data));
        if (m) return m.data;
        await new Promise((r) => setTimeout(r, 250));
      }
      throw new Error('no such debug message within 15 s');
    };
    try {
      expect((await inject('ex-consent-go')).status).toBe(200);
      const screen = await debug((d) => d.name === 'PC screen (simulated)');
      const code = /user consent code (\d{3}) (\d{3})/.exec(String(screen.msg));
      expect(code).not.toBeNull();
      expect(String((await debug((d) => d.name === 'chat' && /wants its user's consent/.test(String(d.msg)))).msg)).toMatch(/^:key: accounts-pc wants/);
      expect((await inject('ex-consent-code', { __user_inject_props__: [{ p: 'consentCode', v: `${code![1]}${code![2]}`, vt: 'str' }] })).status).toBe(200);
      const result = await debug((d) => d.name === 'boot result');
      expect(String(result.msg)).toMatch(/"result":"requested"/);
    } finally {
      comms.close();
    }
  });

  it('stops cleanly on Ctrl-C', async () => {
    const code = await demo.stop('SIGINT');
    expect(code).toBe(0);
    expect(demo.output()).toContain('SIGINT: stopping');
  });
});
