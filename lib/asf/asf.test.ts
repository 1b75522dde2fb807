import * as dgram from 'node:dgram';
import fc from 'fast-check';
import { discover, expandTargets } from './discover';
import { Pinger, presencePing } from './ping';
import { amtOemWord, buildPresencePing, buildPresencePong, buildRmcpAck, INTEL_IANA, readPresencePing, readPresencePong, readRmcp } from './rmcp';

describe('RMCP bytes', () => {
  it('builds the presence ping of the ASF specification', () => {
    expect(buildPresencePing(0x2a).toString('hex')).toBe('0600ff06000011be802a0000');
    expect(readPresencePing(buildPresencePing(7))).toEqual({ tag: 7, seq: 0xff });
  });

  it('reads the pong OpenIPMI ipmi_sim sends (IPMI, ASF 1.0, no OEM data)', () => {
    const pong = readPresencePong(Buffer.from('0600ff06000011be40050010000011be000000008100000000000000', 'hex'));
    expect(pong).toMatchObject({ tag: 5, iana: 4542, oem: 0, ipmi: true, asfVersion: '1.0', securityExtensions: false, dash: false });
    expect(pong?.amt).toBeUndefined();
  });

  it('reads the AMT facts of an Intel pong', () => {
    const b = buildPresencePong(9, { iana: INTEL_IANA, oem: amtOemWord({ port: 16993, major: 11, minor: 8, provisioning: 2, bothPorts: true }), dash: true });
    expect(b.length).toBe(28);
    expect(readPresencePong(b)).toMatchObject({
      tag: 9,
      iana: 343,
      dash: true,
      ipmi: false,
      amt: { port: 16993, tls: true, version: '11.8', provisioning: 'post', bothPorts: true },
    });
    const pre = buildPresencePong(1, { iana: INTEL_IANA, oem: amtOemWord({ port: 16992, major: 6, minor: 2, provisioning: 0 }) });
    expect(readPresencePong(pre)?.amt).toEqual({ port: 16992, tls: false, version: '6.2', provisioning: 'pre', bothPorts: false });
  });

  it('tells ACKs, other classes and garbage apart without throwing', () => {
    expect(readRmcp(buildRmcpAck(3))).toEqual({ kind: 'ack', seq: 3, cls: 6 });
    expect(readRmcp(Buffer.from('0600ff07', 'hex'))).toMatchObject({ kind: 'other', cls: 7 });
    expect(readPresencePong(buildPresencePing(1))).toBeUndefined();
    expect(readPresencePong(buildPresencePong(1).subarray(0, 20))).toBeUndefined();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (a) => {
        readRmcp(Buffer.from(a));
        readPresencePong(Buffer.from(a));
        readPresencePing(Buffer.from(a));
      }),
    );
  });
});

describe('sweep targets', () => {
  const list = (t: string | string[], max?: number) => [...expandTargets(t, max).items()].map((x) => (x.port ? `${x.host}:${x.port}` : x.host));

  it('expands blocks, ranges, names and ports', () => {
    expect(list('10.0.0.0/30')).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(list('10.0.0.7/31')).toEqual(['10.0.0.6', '10.0.0.7']);
    expect(list('10.0.0.9/32')).toEqual(['10.0.0.9']);
    expect(list('10.0.0.254-10.0.1.1')).toEqual(['10.0.0.254', '10.0.0.255', '10.0.1.0', '10.0.1.1']);
    expect(list('10.0.0.5-7, pc.example, 127.0.0.1:1623 [::1]:623')).toEqual(['10.0.0.5', '10.0.0.6', '10.0.0.7', 'pc.example', '127.0.0.1:1623', '::1:623']);
    expect(expandTargets('10.0.0.0/16').count).toBe(65534);
  });

  it.each([
    ['10.0.0.0/8', /covers 16777214 addresses, more than the limit of 65536/],
    ['300.0.0.0/24', /300.0.0.0 is not an IPv4 address/],
    ['10.0.0.0/33', /prefix length must be 0-32/],
    ['10.0.0.9-10.0.0.1', /ends before it starts/],
    ['10.0.0.9-300', /10.0.0.300 is not an IPv4 address/],
    ['1.2.3', /"1.2.3" is not an IPv4 address/],
    ['10.0.0.1:0', /port in "10.0.0.1:0"/],
    [' , ', /nothing to discover/],
  ])('refuses %s', (t, message) => {
    expect(() => expandTargets(t)).toThrow(message);
  });
});

/** A presence responder on its own loopback address, with knobs for the tests. */
async function responder(host: string, o: { delayMs?: number; dropFirst?: number; port?: number } = {}) {
  const s = dgram.createSocket('udp4');
  const seen: number[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let dropped = 0;
  s.on('message', (m, r) => {
    const ping = readPresencePing(m);
    if (!ping) return;
    seen.push(performance.now());
    if (dropped < (o.dropFirst ?? 0)) {
      dropped++;
      return;
    }
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    setTimeout(() => {
      inFlight--;
      s.send(buildPresencePong(ping.tag, { ipmi: true }), r.port, r.address);
    }, o.delayMs ?? 0);
  });
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(o.port ?? 0, host, () => resolve());
  });
  return { socket: s, port: s.address().port, seen, get maxInFlight() { return maxInFlight; }, close: () => s.close() };
}

describe('presence ping', () => {
  it('returns what the controller said, and tries again after a lost ping', async () => {
    const r = await responder('127.0.0.1', { dropFirst: 1 });
    try {
      const result = await presencePing('127.0.0.1', { port: r.port, timeoutMs: 400, retries: 2 });
      expect(result).toMatchObject({ answered: true, attempts: 2, pong: { vendor: 'asf', supports: ['asf', 'ipmi'], ipmi: true, iana: 4542 } });
    } finally {
      r.close();
    }
  });

  it('gives up after the retries when nothing answers', async () => {
    const r = await responder('127.0.0.1', { dropFirst: 100 });
    try {
      const t0 = performance.now();
      const result = await presencePing('127.0.0.1', { port: r.port, timeoutMs: 80, retries: 2 });
      expect(result).toMatchObject({ answered: false, attempts: 3 });
      expect(r.seen).toHaveLength(3);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(230);
    } finally {
      r.close();
    }
  });

  it('refuses bad options before sending', async () => {
    await expect(presencePing('127.0.0.1', { timeoutMs: 0 })).rejects.toThrow(/ping timeout 0 ms/);
    await expect(presencePing('127.0.0.1', { retries: -1 })).rejects.toThrow(/ping retries -1/);
    await expect(presencePing('no host!', {})).rejects.toThrow(/host "no host!" is not a host name/);
  });

  it('counts and drops a flood of garbage on its socket, and still matches its pongs', async () => {
    const r = await responder('127.0.0.1', { delayMs: 150 });
    const pinger = new Pinger();
    const flooder = dgram.createSocket('udp4');
    try {
      const ourPort = await pinger.localPort();
      const pinging = pinger.ping('127.0.0.1', { port: r.port, timeoutMs: 1000, retries: 0 });
      const junk = [Buffer.alloc(0), Buffer.alloc(2000, 1), Buffer.from('0600ff06', 'hex'), buildPresencePing(1), buildRmcpAck(1)];
      // In batches, so the kernel's receive buffer (not our code) does not drop most of them.
      for (let i = 0; i < 2000; i++) {
        flooder.send(junk[i % junk.length], ourPort, '127.0.0.1');
        if (i % 50 === 49) await new Promise((res) => setTimeout(res, 2));
      }
      // A valid pong for a tag nobody waits for.
      flooder.send(buildPresencePong(200), ourPort, '127.0.0.1');
      const result = await pinging;
      expect(result.answered).toBe(true);
      await new Promise((res) => setTimeout(res, 100));
      expect(pinger.stats.garbage + pinger.stats.acks).toBeGreaterThanOrEqual(1500);
      expect(pinger.stats.acks).toBeGreaterThan(0);
      expect(pinger.stats.unexpected).toBe(1);
    } finally {
      flooder.close();
      pinger.close();
      r.close();
    }
  });
});

describe('discovery sweep', () => {
  // Each run uses its own 127.x.y.0/24 so parallel runs do not share addresses.
  const net = `127.${100 + (process.pid % 100)}.${Math.floor(Math.random() * 250)}`;

  it('finds the answering hosts of a block, in order, paced', async () => {
    const hosts = [1, 2, 5].map((i) => `${net}.${i}`);
    const first = await responder(hosts[0], { delayMs: 40 });
    const others = await Promise.all(hosts.slice(1).map((h) => responder(h, { delayMs: 40, port: first.port })));
    const all = [first, ...others];
    try {
      const found: string[] = [];
      const t0 = performance.now();
      const r = await discover({ targets: `${net}.0/29`, port: first.port, concurrency: 3, packetsPerSecond: 100, timeoutMs: 500, retries: 1, onFound: (x) => found.push(x.address) });
      const took = performance.now() - t0;
      expect(r.scanned).toBe(6);
      expect(r.found.map((x) => x.address)).toEqual(hosts);
      expect(found.sort()).toEqual([...hosts].sort());
      expect(r.found[0].pong).toMatchObject({ ipmi: true, supports: ['asf', 'ipmi'] });
      for (const x of all) expect(x.seen.length).toBeGreaterThanOrEqual(1);
      // The three silent addresses get a retry each: at least 9 pings, which at 100/s take 80 ms or more.
      expect(r.pingsSent).toBeGreaterThanOrEqual(9);
      expect(took).toBeGreaterThanOrEqual(((r.pingsSent - 1) / 100) * 1000 - 5);
    } finally {
      all.forEach((x) => x.close());
    }
  });

  it('never has more pings outstanding than its concurrency', async () => {
    const r = await responder('127.0.0.1', { delayMs: 60 });
    try {
      const targets = Array.from({ length: 12 }, () => `127.0.0.1:${r.port}`);
      await discover({ targets, concurrency: 4, packetsPerSecond: 0, timeoutMs: 500, retries: 0 });
      expect(r.seen).toHaveLength(12);
      expect(r.maxInFlight).toBe(4);
    } finally {
      r.close();
    }
  });

  it('lists host names that do not resolve, and goes on', async () => {
    const r = await responder('127.0.0.1');
    try {
      const res = await discover({ targets: [`127.0.0.1:${r.port}`, 'no-such-host.invalid'], timeoutMs: 300, retries: 0 });
      expect(res.found.map((f) => f.host)).toEqual([`127.0.0.1:${r.port}`]);
      expect(res.unresolved).toEqual(['no-such-host.invalid']);
    } finally {
      r.close();
    }
  });

  it('refuses bad sweeps before sending', async () => {
    await expect(discover({ targets: '10.0.0.0/8' })).rejects.toThrow(/more than the limit/);
    await expect(discover({ targets: '127.0.0.1', concurrency: 0 })).rejects.toThrow(/concurrency 0/);
    await expect(discover({ targets: '127.0.0.1', concurrency: 1000 })).rejects.toThrow(/concurrency 1000 must be a whole number 1-255/);
    await expect(discover({ targets: '127.0.0.1', packetsPerSecond: -1 })).rejects.toThrow(/packets per second -1/);
  });
});
