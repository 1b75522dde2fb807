/**
 * Alert benchmarks (issue 6).
 *  - PET traps per second through alert-in's path (net-snmp parse behind our checks, PET decode,
 *    Alert, a 20-rule policy with dedup and rate limits that let everything through) compared
 *    with a bare net-snmp receiver that only counts, both fed the same datagrams in the same
 *    process (no kernel UDP in between, so the ratio is the cost of our work), alternating short
 *    rounds, median ratio; goal >= 0.5. p99 latency from datagram to emitted alert.
 *  - Memory of the engine holding 10,000 open dedup keys.
 */
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { EventEmitter } from 'node:events';
import { makeAlert } from '../lib/alerts/alert';
import { AlertEngine } from '../lib/alerts/engine';
import { Policy, Rule } from '../lib/alerts/policy';
import { petToAlert, PET_ENTERPRISE, PET_VARBIND_OID, encodePet, specificTrapOf } from '../lib/asf/pet';
import { petFromTrap } from '../lib/asf/pet-trap';
import { TrapReceiver } from '../lib/asf/trap-receiver';
import type { Bench } from './types';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const snmp = require('net-snmp');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;

/** 20 rules a real policy might have; none drops the benchmark's traps. */
function twentyRules(): Rule[] {
  const rules: Rule[] = [];
  for (let i = 0; i < 17; i++) rules.push({ match: { kind: `kind-${i}-*`, site: `branch-${i}` }, action: i % 2 ? 'drop' : 'route', output: 1 });
  rules.push({ match: { kind: 'chassis-*, os-watchdog' }, action: 'severity', severity: 'critical' });
  rules.push({ match: { severity: '<=info', source: 'eventlog' }, action: 'drop' });
  rules.push({ match: { severity: '>=major' }, action: 'route', output: 2 });
  return rules;
}

/** Trap datagrams as net-snmp writes them, each a different sensor so dedup keys differ. */
function datagrams(n: number): Buffer[] {
  const out: Buffer[] = [];
  const fakeSocket = { send: (b: Buffer) => out.push(Buffer.from(b)) };
  for (let i = 0; i < n; i++) {
    const pdu = { specific: specificTrapOf({ sensorType: 0x05, eventType: 0x6f, offset: 0 }), varbind: encodePet({ sequence: i, sensorNumber: i & 0xff, entity: 0x17, severity: 0x10, time: 1_700_000_000 + i }) };
    const session = snmp.createSession('127.0.0.1', 'public', { version: snmp.Version1, trapPort: 9 });
    session.dgram.send = (buf: Buffer, _o: number, _l: number, _p: number, _h: string, cb: () => void) => {
      fakeSocket.send(buf);
      cb?.();
    };
    session.trap(`${PET_ENTERPRISE}.${pdu.specific}`, [{ oid: PET_VARBIND_OID, type: snmp.ObjectType.OctetString, value: pdu.varbind }], { agentAddr: '10.0.0.1' }, () => undefined);
    session.close();
  }
  return out;
}

function rinfo(i: number) {
  return { address: `10.0.${(i >> 8) & 0xff}.${i & 0xff}`, port: 40000, family: 'IPv4', size: 0 };
}

export const petThroughput: Bench = {
  name: 'alerts-pet-throughput',
  description: 'PET traps/s through alert-in (net-snmp + checks + PET decode + 20-rule policy) vs a bare net-snmp receiver on the same datagrams; p99 latency',
  async run() {
    const perRound = 5000;
    const rounds = 7;
    const dgs = datagrams(perRound);

    // Bare: net-snmp's receiver with a socket we feed by hand; its callback only counts.
    let bareCount = 0;
    const bareSocket = new EventEmitter() as EventEmitter & Record<string, unknown>;
    Object.assign(bareSocket, { bind: () => undefined, close: (cb?: () => void) => cb?.(), address: () => ({ port: 0 }), unref: () => bareSocket, ref: () => bareSocket, send: () => undefined });
    const bare = snmp.createReceiver({ port: 1, disableAuthorization: false, dgramModule: { createSocket: () => bareSocket } }, (err: Error | null) => {
      if (!err) bareCount++;
    });
    bare.getAuthorizer().addCommunity('public');

    // Ours: the same path alert-in runs.
    let emitted = 0;
    const latencies: number[] = [];
    let t0 = 0n;
    const engine = new AlertEngine(new Policy({ outputs: ['chat', 'pager'], rules: twentyRules(), dedupSeconds: 300, rateLimitPerKey: { count: 5, seconds: 60 }, rateLimitGlobal: { count: 1e9, seconds: 60 } }), {
      emit: () => {
        emitted++;
        latencies.push(Number(process.hrtime.bigint() - t0) / 1000);
      },
      timer: false,
      maxKeys: 1e6,
    });
    const ours = new TrapReceiver({
      port: 0,
      address: '127.0.0.1',
      communities: ['public'],
      perSenderPerSecond: 1e9,
      globalPerSecond: 1e9,
      onTrap: (t) => {
        const ev = petFromTrap(t);
        if (ev) engine.process(petToAlert(ev, { device: { host: t.from, site: 'hq' }, from: t.from, receivedAt: t.receivedAt }));
      },
    });
    await ours.start();
    const real = (ours as unknown as { socket: { real: EventEmitter } }).socket.real;

    const feedBare = () => {
      bareCount = 0;
      const s = process.hrtime.bigint();
      for (let i = 0; i < dgs.length; i++) bareSocket.emit('message', dgs[i], rinfo(i));
      if (bareCount !== dgs.length) throw new Error(`bare receiver took ${bareCount} of ${dgs.length}`);
      return dgs.length / (Number(process.hrtime.bigint() - s) / 1e9);
    };
    let roundNo = 0;
    const feedOurs = () => {
      emitted = 0;
      roundNo++;
      const s = process.hrtime.bigint();
      for (let i = 0; i < dgs.length; i++) {
        t0 = process.hrtime.bigint();
        // A different sender per round and trap: every trap is a new condition, nothing deduplicated.
        real.emit('message', dgs[i], rinfo(i + roundNo * perRound));
      }
      if (emitted !== dgs.length) throw new Error(`alert-in emitted ${emitted} of ${dgs.length}`);
      return dgs.length / (Number(process.hrtime.bigint() - s) / 1e9);
    };
    try {
      feedBare();
      feedOurs();
      latencies.length = 0;
      const o: number[] = [];
      const b: number[] = [];
      const ratios: number[] = [];
      for (let r = 0; r < rounds; r++) {
        const x = feedOurs();
        const y = feedBare();
        o.push(x);
        b.push(y);
        ratios.push(x / y);
      }
      const sorted = [...latencies].sort((a, z) => a - z);
      return {
        rounds,
        trapsPerRound: perRound,
        rules: 20,
        oursPerSecond: Math.round(median(o)),
        bareNetSnmpPerSecond: Math.round(median(b)),
        ratio: round(median(ratios), 3),
        ratioRange: [round(Math.min(...ratios), 3), round(Math.max(...ratios), 3)],
        goal: '>= 0.5',
        latencyP50Us: round(sorted[Math.floor(sorted.length * 0.5)]),
        latencyP99Us: round(sorted[Math.floor(sorted.length * 0.99)]),
        note: 'datagrams handed to both receivers in-process (no kernel UDP); latency = datagram in to alert emitted',
      };
    } finally {
      engine.close();
      await ours.close();
    }
  },
};

function gc(): void {
  v8.setFlagsFromString('--expose_gc');
  (vm.runInNewContext('gc') as () => void)();
}

export const dedupMemory: Bench = {
  name: 'alerts-dedup-memory',
  description: 'heap held by the alert engine with 10,000 open dedup keys (distinct device/kind conditions)',
  async run() {
    const keys = 10_000;
    gc();
    const before = process.memoryUsage().heapUsed;
    const engine = new AlertEngine(new Policy({ rateLimitGlobal: undefined }), { emit: () => undefined, timer: false });
    for (let i = 0; i < keys; i++) {
      engine.process(
        makeAlert({
          device: { name: `pc-${i}`, host: `10.1.${i >> 8}.${i & 0xff}`, site: `site-${i % 50}` },
          source: 'pet',
          kind: 'fan-failure',
          severity: 'critical',
          summary: 'Fan failed (speed below critical threshold) [fan]',
          details: { sensorType: 4, eventType: 1, offset: 2, sensorNumber: 0x31, eventData: [0x52, 0, 0x10, 255, 255, 255, 255, 255], guid: '00112233-4455-6677-8899-aabbccddeeff' },
        }),
      );
    }
    gc();
    const after = process.memoryUsage().heapUsed;
    const open = engine.openKeys;
    const snapshotBytes = Buffer.byteLength(JSON.stringify(engine.snapshot()));
    engine.close();
    return {
      openKeys: open,
      heapMiB: round((after - before) / 2 ** 20, 2),
      bytesPerKey: Math.round((after - before) / open),
      stateFileMiB: round(snapshotBytes / 2 ** 20, 2),
      limit: 'maxKeys 50,000 by default (oldest forgotten first, counted)',
    };
  },
};
