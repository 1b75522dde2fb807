/**
 * The asset inventory of simulated PCs read with lib/amt/inventory: every section from each of
 * the simulator's hardware models in 19 requests, the flat row, and the faults: older firmware
 * without some classes, a garbled answer, a device that stops answering halfway or at once,
 * wrong credentials.
 */
import { openAmt } from '../lib/amt/connect';
import { inventoryRow, readInventory, ROW_COLUMNS } from '../lib/amt/inventory';
import type { WsmanClient } from '../lib/wsman/client';
import { defaultClasses, Fleet, HARDWARE_MODELS, setActiveDefensePolicies, SimDevice, startFleet } from '../packages/sim/src';

const USER = 'admin';
const PASSWORD = 'Inv-P@ss1';
let fleet: Fleet;

beforeAll(async () => {
  fleet = await startFleet({ devices: HARDWARE_MODELS + 1, port: 0, user: USER, password: PASSWORD, seed: 'inventory-test', configure: (i, o) => (i === HARDWARE_MODELS ? { ...o, controlMode: 'client' } : o) });
});
afterAll(async () => {
  await fleet.stop();
});

const clients: WsmanClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  for (const d of fleet.devices) d.clearFaults();
});

function clientFor(d: SimDevice, o: { timeoutMs?: number; password?: string } = {}): WsmanClient {
  const c = openAmt({ host: '127.0.0.1', port: d.port, username: USER, password: o.password ?? PASSWORD, timeoutMs: o.timeoutMs ?? 3000 });
  clients.push(c);
  return c;
}

function countRequests(d: SimDevice): { count: number; stop: () => void } {
  const counter = { count: 0, stop: () => d.off('request', on) };
  const on = () => counter.count++;
  d.on('request', on);
  return counter;
}

describe('inventory of a simulated PC', () => {
  it.each(Array.from({ length: HARDWARE_MODELS }, (_, i) => [i]))('reads every section of hardware model %i in 19 requests', async (i) => {
    const d = fleet.devices[i];
    const hw = d.hardware;
    const counter = countRequests(d);
    const inv = await readInventory(clientFor(d));
    counter.stop();
    expect(counter.count).toBe(19);
    expect(inv.partial).toBe(false);
    expect(inv.missing).toEqual([]);
    expect(inv.platform).toMatchObject({ manufacturer: hw.manufacturer, model: hw.model, serial: hw.serial, uuid: d.uuid, board: { manufacturer: hw.board.manufacturer, model: hw.board.model, serial: hw.board.serial } });
    expect(inv.bios).toEqual({ vendor: hw.bios.vendor, version: hw.bios.version, releaseDate: hw.bios.releaseDate });
    expect(inv.processors).toEqual(hw.cpus.map((c, n) => ({ socket: `CPU ${n}`, model: c.model, manufacturer: c.manufacturer, maxSpeedMHz: c.maxMHz, currentSpeedMHz: c.currentMHz, externalClockMHz: c.busMHz, family: c.family, stepping: c.stepping, status: 'enabled' })));
    expect(inv.memory.length).toBeGreaterThanOrEqual(2);
    expect(inv.memory).toEqual(hw.memory.map((m) => expect.objectContaining({ slot: m.bank, sizeBytes: m.sizeBytes, speedMHz: m.mhz, type: 'DDR4', partNumber: m.partNumber.trim(), serial: m.serial })));
    expect(inv.memoryTotalBytes).toBe(hw.memory.reduce((t, m) => t + m.sizeBytes, 0));
    expect(inv.storage).toEqual(hw.disks.map((disk, n) => ({ id: `MEDIA DEV ${n}`, model: disk.model.trim(), serial: disk.serial.trim(), sizeBytes: disk.sizeKB * 1000 })));
    expect(inv.storage).toHaveLength(2);
    expect(inv.network[0]).toEqual({ port: 0, kind: 'wired', mac: d.mac, ipv4: expect.stringMatching(/^192\.0\.2\.\d+$/), dhcp: true, linkUp: true });
    if (hw.wirelessMac) expect(inv.network[1]).toEqual({ port: 1, kind: 'wireless', mac: hw.wirelessMac, dhcp: true, linkUp: false });
    else expect(inv.network).toHaveLength(1);
    expect(inv.amt).toEqual({ version: '15.0.23', build: '1706', sku: '16392', controlMode: 'admin', provisioningState: 'post' });
    expect(inv.features).toEqual({ kvm: hw.kvm ? 'enabled' : 'unsupported', sol: 'enabled', ider: 'enabled', systemDefense: 'disabled', redirection: 'enabled' });
  });

  it('reports client control mode and an active System Defense policy', async () => {
    const d = fleet.devices[HARDWARE_MODELS];
    setActiveDefensePolicies(d, ['Intel(r) AMT:Policy 1']);
    try {
      const inv = await readInventory(clientFor(d));
      expect(inv.amt.controlMode).toBe('client');
      expect(inv.features.systemDefense).toBe('enabled');
    } finally {
      setActiveDefensePolicies(d, []);
    }
  });

  it('flattens to one row with the documented columns in order', async () => {
    const d = fleet.devices[0];
    const inv = await readInventory(clientFor(d));
    const row = inventoryRow(inv, { name: d.name, host: '127.0.0.1', site: 'hq' });
    expect(Object.keys(row)).toEqual([...ROW_COLUMNS]);
    const hw = d.hardware;
    expect(row).toMatchObject({
      name: d.name,
      host: '127.0.0.1',
      site: 'hq',
      partial: false,
      missing: '',
      serial: hw.serial,
      cpuModel: hw.cpus[0].model,
      cpuCount: 1,
      memoryModules: hw.memory.length,
      memoryGB: hw.memory.reduce((t, m) => t + m.sizeBytes, 0) / 2 ** 30,
      diskCount: 2,
      macs: d.mac,
      amtVersion: '15.0.23',
      controlMode: 'admin',
    });
    expect(row.disks).toBe(hw.disks.map((x) => `${x.model.trim()} ${Math.round(x.sizeKB / 1e5) / 10} GB S/N ${x.serial.trim()}`).join('; '));
    for (const v of Object.values(row)) expect(['string', 'number', 'boolean']).toContain(typeof v);
  });
});

describe('inventory faults', () => {
  it('reads older firmware without some classes: fallbacks where they exist, the rest marked missing with the reason', async () => {
    const gone = new Set(['CIM_PhysicalPackage', 'CIM_Chip', 'CIM_KVMRedirectionSAP', 'AMT_NetworkPortSystemDefensePolicy']);
    const old = await startFleet({ devices: 1, port: 0, user: USER, password: PASSWORD, seed: 'old-firmware', configure: (_i, o) => ({ ...o, classes: defaultClasses.filter((c) => !gone.has(c.className)) }) });
    try {
      const d = old.devices[0];
      const inv = await readInventory(clientFor(d));
      // Chassis and board one by one, memory from its own class.
      expect(inv.platform).toMatchObject({ manufacturer: d.hardware.manufacturer, serial: d.hardware.serial, board: { model: d.hardware.board.model } });
      expect(inv.memory).toHaveLength(d.hardware.memory.length);
      // Speeds without a model name; disks without model and serial.
      expect(inv.processors).toEqual([expect.objectContaining({ socket: 'CPU 0', maxSpeedMHz: d.hardware.cpus[0].maxMHz })]);
      expect(inv.processors[0].model).toBeUndefined();
      expect(inv.storage.map((s) => s.model)).toEqual([undefined, undefined]);
      expect(inv.features).toMatchObject({ kvm: 'unsupported', systemDefense: 'unsupported', sol: 'enabled' });
      expect(inv.partial).toBe(true);
      expect(inv.missing).toEqual([
        { section: 'processors', class: 'CIM_Chip', reason: 'CIM_Chip is not available on this firmware (DestinationUnreachable)' },
        { section: 'storage', class: 'CIM_PhysicalPackage', reason: 'disk models and serial numbers unknown: CIM_PhysicalPackage is not available on this firmware (DestinationUnreachable)' },
      ]);
    } finally {
      await old.stop();
    }
  });

  it('reads the chassis and board with a Get when the package enumeration leaves them out (as real firmware does)', async () => {
    const packages = defaultClasses.find((c) => c.className === 'CIM_PhysicalPackage');
    if (!packages) throw new Error('no CIM_PhysicalPackage in the simulator');
    const withoutChassis = { ...packages, instances: (dev: SimDevice) => packages.instances(dev).filter((i) => i.CreationClassName !== 'CIM_Chassis') };
    const f = await startFleet({
      devices: 1,
      port: 0,
      user: USER,
      password: PASSWORD,
      seed: 'chassis-apart',
      configure: (_i, o) => ({ ...o, classes: defaultClasses.map((c) => (c === packages ? withoutChassis : c)) }),
    });
    try {
      const d = f.devices[0];
      const asked: string[] = [];
      d.on('request', (r: { action?: string; resourceUri?: string }) => asked.push(`${String(r.action).split('/').pop()} ${String(r.resourceUri).split('/').pop()}`));
      const inv = await readInventory(clientFor(d));
      expect(inv.platform).toMatchObject({ manufacturer: d.hardware.manufacturer, model: d.hardware.model, serial: d.hardware.serial, board: { model: d.hardware.board.model } });
      expect(asked).toContain('Get CIM_Chassis');
      expect(asked).not.toContain('Get CIM_Card'); // the board was in the enumeration
      expect(inv.missing).toEqual([]);
      // and when the chassis cannot be read either, the inventory says so instead of dropping it
      d.classes.delete('CIM_Chassis');
      const again = await readInventory(clientFor(d));
      expect(again.partial).toBe(true);
      expect(again.missing).toEqual([{ section: 'platform', class: 'CIM_Chassis', reason: 'CIM_Chassis is not available on this firmware (DestinationUnreachable)' }]);
    } finally {
      await f.stop();
    }
  });

  it('keeps what it read when the device stops answering halfway, and asks nothing more', async () => {
    const d = fleet.devices[1];
    const c = clientFor(d, { timeoutMs: 400 });
    await c.get('AMT_GeneralSettings'); // warm: the fault hits inventory requests, not the Digest challenge
    let answered = 0;
    const onRequest = () => {
      if (++answered === 6) d.injectFault({ kind: 'hang', count: 1000 });
    };
    d.on('request', onRequest);
    let asked = 0;
    const origin = c.call.bind(c);
    c.call = (req) => {
      asked++;
      return origin(req);
    };
    try {
      const inv = await readInventory(c);
      expect(inv.partial).toBe(true);
      // Platform (3 requests), BIOS (1), processors (2 of 4) answered.
      expect(inv.platform.serial).toBe(d.hardware.serial);
      expect(inv.bios.version).toBe(d.hardware.bios.version);
      expect(asked).toBe(7);
      expect(inv.missing[0]).toEqual({ section: 'processors', class: 'CIM_Chip', reason: expect.stringMatching(/did not answer within 400 ms/) });
      expect(inv.missing.slice(1).every((m) => /^not read: the device stopped answering earlier/.test(m.reason))).toBe(true);
      expect(inv.missing.map((m) => m.section)).toEqual(expect.arrayContaining(['memory', 'storage', 'network', 'amt', 'features']));
      expect(inv.features).toEqual({ kvm: 'unknown', sol: 'unknown', ider: 'unknown', systemDefense: 'unknown', redirection: 'unknown' });
    } finally {
      d.off('request', onRequest);
    }
  });

  it('marks a garbled answer as missing and reads the rest', async () => {
    const d = fleet.devices[2];
    const c = clientFor(d);
    await c.get('AMT_GeneralSettings');
    let n = 0;
    const onRequest = () => {
      if (++n === 1) d.injectFault({ kind: 'garble' });
    };
    d.on('request', onRequest);
    try {
      const inv = await readInventory(c);
      expect(inv.partial).toBe(true);
      // The platform is complete (chassis and board from their own classes): only the disks lack a part.
      expect(inv.missing).toEqual([
        { section: 'storage', class: 'CIM_PhysicalPackage', reason: expect.stringMatching(/^disk models and serial numbers unknown: .*unreadable reply/) },
      ]);
      // The chassis came from the fallback Get; disks without their packages; everything else is there.
      expect(inv.platform.serial).toBe(d.hardware.serial);
      expect(inv.storage.map((x) => x.sizeBytes)).toEqual(d.hardware.disks.map((x) => x.sizeKB * 1000));
      expect(inv.amt.version).toBe('15.0.23');
    } finally {
      d.off('request', onRequest);
    }
  });

  it('fails when the device does not answer at all', async () => {
    const d = fleet.devices[3];
    d.injectFault({ kind: 'hang', count: 100 });
    await expect(readInventory(clientFor(d, { timeoutMs: 300 }))).rejects.toThrow(/did not answer within 300 ms/);
  });

  it('fails on a wrong password', async () => {
    await expect(readInventory(clientFor(fleet.devices[0], { password: 'wrong' }))).rejects.toThrow(/rejected the username or password/);
  });
});
