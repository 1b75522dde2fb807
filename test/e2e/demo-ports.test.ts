/**
 * DEMO_PORT_BASE: every socket the demo opens is in its documented block, so a demo can be kept
 * apart from other services; a bad base is refused with a message.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { RunningDemo, startDemo } from '../helpers/demo';
import { demoPorts } from '../../scripts/demo-ports';

let demo: RunningDemo;
// Below Linux's ephemeral range (32768 up), where other tests' sockets come and go.
const base = 20000 + Math.floor(Math.random() * 120) * 100;

beforeAll(async () => {
  demo = await startDemo({ DEMO_PORT_BASE: String(base), PORT: '', MQTT_PORT: '', DEMO_ALERT_SECONDS: '0' });
}, 90000);

afterAll(async () => {
  if (demo) await demo.stop();
});

/** Local ports the process and its children (the broker, when it is Mosquitto) listen on (TCP) or are bound to (UDP), from ss. */
function boundPorts(pid: number): number[] {
  const out = execFileSync('ss', ['-Hlnptu'], { encoding: 'utf8' });
  const children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).split(/\s+/).filter(Boolean);
  const pids = [String(pid), ...children];
  return out
    .split('\n')
    .filter((l) => pids.some((p) => l.includes(`pid=${p},`)))
    .map((l) => Number(/:(\d+)\s/.exec(l.split(/\s+/)[4] + ' ')?.[1]))
    .filter((p) => Number.isInteger(p));
}

describe('DEMO_PORT_BASE', () => {
  it('puts the editor, the broker and every simulated device in the documented block', async () => {
    expect(new URL(demo.editorUrl).port).toBe(String(base));
    expect(demo.output()).toContain(`mqtt://127.0.0.1:${base + 1}`);
    const pcPorts = [...demo.output().matchAll(/^\s+[a-z][\w-]*\s+127\.0\.0\.1:(\d+)\s+(?:[0-9a-f]{2}:){5}/gm)].map((m) => Number(m[1]));
    // One simulated PC per device the examples name (at least five), PC i on base + 100 + i.
    expect(pcPorts.length).toBeGreaterThanOrEqual(5);
    expect(pcPorts).toEqual(pcPorts.map((_, i) => base + 100 + i));
    // The flows' listeners open once the flows have started, a moment after the banner.
    let ports = boundPorts(demo.child.pid!);
    for (let i = 0; i < 40 && !ports.some((p) => p >= base + 10 && p < base + 100); i++) {
      await new Promise((r) => setTimeout(r, 250));
      ports = boundPorts(demo.child.pid!);
    }
    expect(ports).toEqual(expect.arrayContaining([base, base + 1, base + 2, base + 3, base + 4, base + 100, base + 104, base + 200, base + 300]));
    // Alert listeners: the example alert-in nodes that listen at all, two ports each from base + 10.
    expect(ports.some((p) => p >= base + 10 && p < base + 100)).toBe(true);
    expect(ports.filter((p) => p < base || p >= base + 400)).toEqual([]);
  });

  it('refuses a base that leaves no room, before opening anything', () => {
    expect(() => demoPorts('65300', 5)).toThrow(/DEMO_PORT_BASE must be a whole number from 1024/);
    expect(() => demoPorts('abc', 5)).toThrow(/got "abc"/);
    expect(() => demoPorts('30000', 101)).toThrow(/at most 100 simulated PCs/);
    const script = path.join(__dirname, '..', '..', 'dist', 'scripts', 'demo.js');
    const r = spawnSync(process.execPath, [script], { env: { ...process.env, DEMO_PORT_BASE: '80' }, encoding: 'utf8', timeout: 30000 });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('DEMO_PORT_BASE must be a whole number');
  });
});
