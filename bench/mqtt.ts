/**
 * MQTT / Home Assistant benchmarks, against a real Mosquitto in its own process:
 *  - discovery for 1,000 PCs: time for the bridge to publish every config, availability and state
 *    and have the broker acknowledge them, vs a bare mqtt.js client publishing the very same
 *    messages (topics and payloads captured from the bridge) in the same run;
 *  - steady state: state updates for 1,000 PCs per second through the bridge (poll result ->
 *    JSON -> publish -> acknowledgement) vs the bare client publishing the same updates;
 *  - end-to-end command latency: command topic -> simulated AMT PC changes state -> the new
 *    state on the state topic, p50/p99.
 */
import mqtt from 'mqtt';
import { closeAllAmt } from '../lib/amt/connect';
import type { ManagedDevice } from '../lib/device';
import { DeviceControl, HaBridge } from '../lib/mqtt';
import { startFleet } from '../packages/sim/src';
import { Consumer, startMosquitto } from '../test/helpers/mqtt';
import type { Bench } from './types';

const DEVICES = 1000;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))];
const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;

function fakeFleet(n: number): ManagedDevice[] {
  return Array.from({ length: n }, (_, i) => ({ name: `pc-${String(i + 1).padStart(4, '0')}`, host: `10.0.${i >> 8}.${i & 255}`, mac: `02:00:86:00:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}` }));
}

/** A control whose power flips on every poll: every poll is a state change to publish. */
function flippingControl(): DeviceControl {
  let on = true;
  return {
    hasAmt: true,
    poll: async () => {
      on = !on;
      return { power: on ? 'on' : 'off' };
    },
    identity: async () => ({ amtVersion: '16.1.25', manufacturer: 'Bench', model: 'B-1' }),
    setPower: async () => ({ action: 'none' }),
    reset: async () => ({ action: 'reset' }),
    wake: async () => ({ action: 'wake' }),
    close: () => undefined,
  };
}

async function bareClient(url: string): Promise<mqtt.MqttClient> {
  const c = mqtt.connect(url, { reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => {
    c.once('connect', () => resolve());
    c.once('error', reject);
  });
  return c;
}

function publishAll(c: mqtt.MqttClient, messages: Array<{ topic: string; payload: string; retain: boolean }>): Promise<void> {
  return Promise.all(messages.map((m) => new Promise<void>((resolve, reject) => c.publish(m.topic, m.payload, { qos: 1, retain: m.retain }, (e) => (e ? reject(e) : resolve()))))).then(() => undefined);
}

async function connected(b: HaBridge): Promise<void> {
  while (!b.discoveryReady) await new Promise((r) => setTimeout(r, 10));
}

export const mqttDiscovery: Bench = {
  name: 'mqtt-discovery-1000',
  description: 'discovery + states of 1,000 PCs through the HA bridge to Mosquitto (acknowledged), and steady-state updates/s, vs a bare mqtt.js client sending the same messages',
  async run() {
    const broker = await startMosquitto();
    const rounds = 5;
    try {
      const b = new HaBridge({ broker: { url: broker.url }, site: 'bench', origin: { name: 'bench' }, pollSeconds: 0, makeControl: flippingControl, scanMs: 50 });
      await connected(b);
      b.setDevices(fakeFleet(DEVICES));
      await b.refresh(); // identity read, states known
      // Capture what the bridge sends, to give the bare client the same bytes.
      const captured: Array<{ topic: string; payload: string; retain: boolean }> = [];
      const origPublish = b.link.publish.bind(b.link);
      let capturing = false;
      b.link.publish = (topic, payload, o = {}, t) => {
        if (capturing) captured.push({ topic, payload: String(payload), retain: o.retain === true });
        return origPublish(topic, payload, o, t);
      };
      const bare = await bareClient(broker.url);
      const ours: number[] = [];
      const peer: number[] = [];
      const stateOurs: number[] = [];
      const statePeer: number[] = [];
      let stateMessages: typeof captured = [];
      for (let r = 0; r < rounds; r++) {
        capturing = r === 0;
        let t0 = performance.now();
        await b.publishAll();
        ours.push(performance.now() - t0);
        const discoveryMessages = r === 0 ? captured.splice(0) : discoveryCache;
        if (r === 0) discoveryCache = discoveryMessages;
        t0 = performance.now();
        await publishAll(bare, discoveryMessages);
        peer.push(performance.now() - t0);

        capturing = r === 0;
        t0 = performance.now();
        await b.refresh();
        stateOurs.push((DEVICES / (performance.now() - t0)) * 1000);
        if (r === 0) stateMessages = captured.splice(0);
        capturing = false;
        t0 = performance.now();
        await publishAll(bare, stateMessages);
        statePeer.push((stateMessages.length / (performance.now() - t0)) * 1000);
      }
      bare.end(true);
      await b.close();
      return {
        devices: DEVICES,
        discoveryMessages: discoveryCache.length,
        discoveryMs: round(median(ours)),
        bareClientSameMessagesMs: round(median(peer)),
        discoveryRatio: round(median(ours) / median(peer), 2),
        stateUpdatesPerSecond: round(median(stateOurs)),
        bareClientStateMessagesPerSecond: round(median(statePeer)),
        stateRatio: round(median(stateOurs) / median(statePeer), 2),
        messagesPerStateUpdate: stateMessages.length / DEVICES,
        goal: 'discovery within 2x and state updates at >= 0.5x of the bare client',
      };
    } finally {
      await broker.stop();
    }
  },
};
let discoveryCache: Array<{ topic: string; payload: string; retain: boolean }> = [];

export const mqttCommandLatency: Bench = {
  name: 'mqtt-command-latency',
  description: 'command topic -> simulated AMT PC changes power -> new state on the state topic, p50/p99 over 200 commands (Mosquitto, AMT over loopback)',
  async run() {
    const broker = await startMosquitto();
    const fleet = await startFleet({ devices: 1, port: 0, user: 'admin', password: 'Bench-P@ss1', seed: 'bench-latency' });
    const d = fleet.devices[0];
    const b = new HaBridge({
      broker: { url: broker.url },
      site: 'bench',
      origin: { name: 'bench' },
      pollSeconds: 0,
      control: { offAction: 'off' },
    });
    try {
      b.setDevices([{ name: 'pc', host: '127.0.0.1', mac: d.mac, amt: { host: '127.0.0.1', port: d.port, username: 'admin', password: 'Bench-P@ss1' } }]);
      const c = await Consumer.connect(broker.url, ['oobkit/bench/pc/state']);
      await c.waitForJson('oobkit/bench/pc/state', (s) => s.power === 'on');
      const latencies: number[] = [];
      for (let i = 0; i < 200; i++) {
        const want = i % 2 === 0 ? 'off' : 'on';
        const t0 = performance.now();
        await c.publish('oobkit/bench/pc/cmd/power', want === 'on' ? 'ON' : 'OFF');
        await c.waitForJson('oobkit/bench/pc/state', (s) => s.power === want, 10000);
        latencies.push(performance.now() - t0);
      }
      await c.end();
      return { commands: latencies.length, p50Ms: round(pct(latencies, 50), 2), p99Ms: round(pct(latencies, 99), 2), maxMs: round(Math.max(...latencies), 2), note: 'each command: 1 MQTT publish, 3 AMT round trips (read, act, read back), 1 state publish' };
    } finally {
      await b.close();
      closeAllAmt();
      await fleet.stop();
      await broker.stop();
    }
  },
};

