/**
 * `npm start` shows the Home Assistant integration: the demo's embedded broker carries discovery
 * for every simulated PC, and a command on a command topic reaches the simulated PC.
 */
import { Consumer } from '../helpers/mqtt';
import { RunningDemo, startDemo } from '../helpers/demo';

let demo: RunningDemo;

beforeAll(async () => {
  demo = await startDemo();
}, 90000);

afterAll(async () => {
  if (demo) await demo.stop();
});

describe('npm start with Home Assistant', () => {
  it("carries discovery and states for the simulated fleet on the demo's broker, and takes commands", async () => {
    const url = /MQTT broker:\s+(mqtt:\/\/\S+)/.exec(demo.output())![1];
    const fleet = [...demo.output().matchAll(/^\s+([a-z][\w-]*)\s+127\.0\.0\.1:\d+\s+((?:[0-9a-f]{2}:){5}[0-9a-f]{2})\s+(on|off)$/gm)].map((m) => ({ name: m[1], mac: m[2], state: m[3] }));
    expect(fleet.length).toBeGreaterThanOrEqual(5);
    const c = await Consumer.connect(url, ['homeassistant/#', 'oobkit/#']);
    try {
      const configs = () => [...c.latest.entries()].filter(([t, m]) => t.startsWith('homeassistant/') && t.endsWith('/config') && m.payload).map(([, m]) => JSON.parse(m.payload));
      // Every simulated PC is a device with a power switch, named by its MAC in the unique_id.
      const switches = await c.waitFor(() => {
        const s = configs().filter((p) => p.command_topic?.endsWith('/cmd/power'));
        return fleet.every((pc) => s.some((p) => p.unique_id === `oobkit_head-office_M${pc.mac.replace(/:/g, '').toUpperCase()}_power`)) ? s : undefined;
      }, 30000, 'a power switch per simulated PC');
      for (const s of switches) expect(s.device.via_device).toBe('oobkit_head_office_gateway');
      // Their states follow the simulated PCs.
      const target = fleet.find((pc) => pc.state === 'off')!;
      const sw = switches.find((p) => p.unique_id === `oobkit_head-office_M${target.mac.replace(/:/g, '').toUpperCase()}_power`);
      await c.waitForJson(sw.state_topic, (s) => s.power === 'off', 30000);
      await c.publish(sw.command_topic, 'ON');
      await c.waitForJson(sw.state_topic, (s) => s.power === 'on', 30000);
    } finally {
      await c.end();
    }
  });
});
