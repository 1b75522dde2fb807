/**
 * The inventory decoders read real captures and the simulator's answers into the same fields:
 * for every capture in test/fixtures/amt the inventory reads (CIM_Chassis, CIM_Card,
 * CIM_BIOSElement, CIM_ComputerSystemPackage, CIM_SoftwareIdentity,
 * AMT_SetupAndConfigurationService, AMT_EthernetPortSettings, AMT_RedirectionService,
 * AMT_AuditLog), the same request goes to a simulated PC (over our test helper's own Digest
 * client) and both answers give the same field names.
 *
 * The classes without a capture (CIM_PhysicalPackage, CIM_Chip, CIM_PhysicalMemory,
 * CIM_Processor, CIM_MediaAccessDevice, CIM_KVMRedirectionSAP) are asked for by Intel's
 * @device-management-toolkit/wsman-messages, sent by curl's own HTTP Digest, and what comes
 * back decodes into the simulated PC's hardware.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AMT, CIM } from '@device-management-toolkit/wsman-messages';
import { decodeAuditRecord } from '../lib/amt/audit-record';
import { amtFrom, biosFrom, featuresFrom, memoryFrom, networkFrom, packagesFrom, platformFrom, processorsFrom, storageFrom } from '../lib/amt/inventory/decode';
import { amtSchemaFor } from '../lib/amt/schema';
import type { TypedInstance } from '../lib/wsman/client';
import { readEnumerationContext, readEnvelope, readInstance, readMethodOutput, readPullResponse, WsmanEnvelope } from '../lib/wsman/envelope';
import { buildEnumerate, buildGet, buildInvoke, buildPull, buildPut } from '../lib/wsman/messages';
import { applySchema, TypedObject } from '../lib/wsman/typing';
import { Fleet, SimDevice, startFleet } from '../packages/sim/src';
import { wsmanCall } from './sim-helpers';

const DIR = join(__dirname, 'fixtures', 'amt');
const USER = 'admin';
const PASSWORD = 'Fid-P@ss1';
const run = promisify(execFile);

let fleet: Fleet;
let dir: string;

beforeAll(async () => {
  fleet = await startFleet({ devices: 3, port: 0, user: USER, password: PASSWORD, seed: 'inventory-fidelity' });
  dir = mkdtempSync(join(tmpdir(), 'oob-inv-fid-'));
});
afterAll(async () => {
  await fleet.stop();
  rmSync(dir, { recursive: true, force: true });
});

const typed = (className: string, props: Record<string, unknown>): TypedObject => applySchema(props as never, amtSchemaFor(className));
const capture = (file: string): WsmanEnvelope => readEnvelope(readFileSync(join(DIR, file), 'utf8'));
const instanceOf = (env: WsmanEnvelope): TypedObject => {
  const i = readInstance(env);
  return typed(i.className, i.props);
};
const itemsOf = (env: WsmanEnvelope): TypedInstance[] => readPullResponse(env).items.map((i) => ({ className: i.className, props: typed(i.className, i.props) }));
const methodOf = (env: WsmanEnvelope, cls: string, method: string): TypedObject => typed(`${cls}.${method}`, readMethodOutput(env, method));

async function ask(d: SimDevice, xml: string): Promise<WsmanEnvelope> {
  const r = await wsmanCall(d, xml, { user: USER, password: PASSWORD });
  expect(r.status).toBe(200);
  return readEnvelope(r.body.toString('utf8'));
}

async function askAll(d: SimDevice, className: string): Promise<WsmanEnvelope> {
  const ctx = readEnumerationContext(await ask(d, buildEnumerate(className).xml));
  return ask(d, buildPull(className, ctx, 100).xml);
}

/** Field names, nested ones as "board.model". */
function fields(o: object, prefix = ''): string[] {
  return Object.entries(o)
    .flatMap(([k, v]) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? fields(v, `${prefix}${k}.`) : [`${prefix}${k}`]))
    .sort();
}

describe('captures and simulator answers give the same inventory fields', () => {
  it('CIM_Chassis: manufacturer, model, serial, version', async () => {
    const real = platformFrom({ chassis: instanceOf(capture('CIM_Chassis-Get.xml')) });
    expect(real).toEqual({ manufacturer: 'Intel(R) Client Systems', model: 'NUC9V7QNX', serial: 'JRQN0243007J', version: 'K47174-402', board: {} });
    // The NUC profile reports a chassis version like the capture does.
    const sim = platformFrom({ chassis: instanceOf(await ask(fleet.devices[2], buildGet('CIM_Chassis').xml)) });
    expect(fields(sim)).toEqual(fields(real));
  });

  it('CIM_Card: the base board', async () => {
    const real = platformFrom({ card: instanceOf(capture('CIM_Card-Get.xml')) }).board;
    expect(real).toEqual({ manufacturer: 'Dell Inc.', model: '0MVDNX', serial: '/6KB3PF3/CNPEC0017500BC/', version: 'A00' });
    const sim = platformFrom({ card: instanceOf(await ask(fleet.devices[0], buildGet('CIM_Card').xml)) }).board;
    expect(fields(sim)).toEqual(fields(real));
    expect(sim.serial).toBe(fleet.devices[0].hardware.board.serial);
  });

  it('CIM_BIOSElement: vendor, version, release date', async () => {
    const real = biosFrom(instanceOf(capture('CIM_BIOSElement-Get.xml')));
    expect(real).toEqual({ vendor: 'Intel Corp.', version: 'QNCFLX70.0054.2020.0810.2227', releaseDate: '2020-08-10' });
    const sim = biosFrom(instanceOf(await ask(fleet.devices[1], buildGet('CIM_BIOSElement').xml)));
    expect(fields(sim)).toEqual(fields(real));
  });

  it('CIM_ComputerSystemPackage: the system UUID', async () => {
    const real = platformFrom({ systemPackage: instanceOf(capture('CIM_ComputerSystemPackage-Get.xml')) });
    expect(real.uuid).toBe('4c4c4544-004b-4210-8033-b6c04f504633');
    const d = fleet.devices[0];
    const sim = platformFrom({ systemPackage: instanceOf(await ask(d, buildGet('CIM_ComputerSystemPackage').xml)) });
    expect(fields(sim)).toEqual(fields(real));
    expect(sim.uuid).toBe(d.uuid);
  });

  it('CIM_SoftwareIdentity and AMT_SetupAndConfigurationService: AMT version, build, SKU, control mode', async () => {
    const real = amtFrom(itemsOf(capture('CIM_SoftwareIdentity-Pull.xml')), instanceOf(capture('AMT_SetupAndConfigurationService-Get.xml')));
    expect(real).toEqual({ version: '12.0.67', build: '1579', sku: '16392', controlMode: 'admin', provisioningState: 'post' });
    const d = fleet.devices[0];
    const sim = amtFrom(itemsOf(await askAll(d, 'CIM_SoftwareIdentity')), instanceOf(await ask(d, buildGet('AMT_SetupAndConfigurationService').xml)));
    expect(fields(sim)).toEqual(fields(real));
  });

  it('AMT_EthernetPortSettings: MAC, address, DHCP, link', async () => {
    const real = networkFrom([{ className: 'AMT_EthernetPortSettings', props: instanceOf(capture('AMT_EthernetPortSettings-Put.xml')) }]);
    expect(real).toEqual([{ port: 0, kind: 'wired', mac: 'a4:bb:6d:89:52:e4', ipv4: '192.168.1.53', dhcp: true, linkUp: true }]);
    const d = fleet.devices[0];
    const put = buildPut('AMT_EthernetPortSettings', { InstanceID: 'Intel(r) AMT Ethernet Port Settings 0', DHCPEnabled: true, SharedStaticIp: false }, { InstanceID: 'Intel(r) AMT Ethernet Port Settings 0' });
    const sim = networkFrom([{ className: 'AMT_EthernetPortSettings', props: instanceOf(await ask(d, put.xml)) }]);
    expect(sim.map((p) => fields(p))).toEqual(real.map((p) => fields(p)));
    expect(sim[0].mac).toBe(d.mac);
  });

  it('AMT_RedirectionService: SOL, IDE-R and the redirection port', async () => {
    const real = featuresFrom({ redirection: instanceOf(capture('AMT_RedirectionService-Get.xml')) });
    const sim = featuresFrom({ redirection: instanceOf(await ask(fleet.devices[0], buildGet('AMT_RedirectionService').xml)) });
    for (const f of ['sol', 'ider', 'redirection'] as const) {
      expect(real[f]).toMatch(/^(enabled|disabled)$/);
      expect(sim[f]).toMatch(/^(enabled|disabled)$/);
    }
  });

  it('AMT_AuditLog.ReadRecords: who, what, when, from where', async () => {
    const realOut = methodOf(capture('AMT_AuditLog-ReadRecords.xml'), 'AMT_AuditLog', 'ReadRecords');
    const real = (realOut.EventRecords as string[]).map((r) => decodeAuditRecord(r));
    const simOut = methodOf(await ask(fleet.devices[0], buildInvoke('AMT_AuditLog', 'ReadRecords', { StartIndex: 1 }).xml), 'AMT_AuditLog', 'ReadRecords');
    expect(simOut.TotalRecordCount).toBe((simOut.EventRecords as string[]).length);
    const sim = (simOut.EventRecords as string[]).map((r) => decodeAuditRecord(r));
    // The simulated log holds the captured firmware-update record (time moved).
    const update = sim.find((r) => r.action === real[0].action) as (typeof sim)[number];
    expect(fields(update)).toEqual(fields(real[0]));
    expect(update.details).toEqual(real[0].details);
  });
});

async function curl(d: SimDevice, xml: string): Promise<WsmanEnvelope> {
  const file = join(dir, `req-${Math.random().toString(36).slice(2)}.xml`);
  writeFileSync(file, xml);
  const { stdout } = await run('curl', ['-s', '--digest', '-u', `${USER}:${PASSWORD}`, '-H', 'Content-Type: application/soap+xml;charset=UTF-8', '--data-binary', `@${file}`, '-w', '\n%{http_code}', '--max-time', '10', d.url]);
  const i = stdout.lastIndexOf('\n');
  expect(stdout.slice(i + 1)).toBe('200');
  return readEnvelope(stdout.slice(0, i));
}

async function curlAll(d: SimDevice, cls: { Enumerate: () => string; Pull: (ctx: string) => string }): Promise<TypedInstance[]> {
  const ctx = readEnumerationContext(await curl(d, cls.Enumerate()));
  return itemsOf(await curl(d, cls.Pull(ctx)));
}

describe("Intel's wsman-messages over curl --digest: the hardware classes decode into the simulated PC", () => {
  it('processors, memory, disks and packages', async () => {
    const cim = new CIM.Messages();
    for (const d of fleet.devices) {
      const hw = d.hardware;
      const chips = await curlAll(d, cim.Chip);
      // One enumeration: the processor chip, then every memory module as CIM_PhysicalMemory.
      expect(chips.map((c) => c.className)).toEqual(['CIM_Chip', ...hw.memory.map(() => 'CIM_PhysicalMemory')]);
      const processors = processorsFrom(await curlAll(d, cim.Processor), chips);
      expect(processors).toEqual([expect.objectContaining({ socket: 'CPU 0', model: hw.cpus[0].model, maxSpeedMHz: hw.cpus[0].maxMHz, status: 'enabled' })]);
      expect(memoryFrom(chips)).toEqual(memoryFrom(await curlAll(d, cim.PhysicalMemory)));
      expect(memoryFrom(chips).map((m) => [m.slot, m.sizeBytes, m.speedMHz])).toEqual(hw.memory.map((m) => [m.bank, m.sizeBytes, m.mhz]));
      const packages = await curlAll(d, cim.PhysicalPackage);
      expect(packages.map((p) => p.className)).toEqual(['CIM_Card', 'CIM_PhysicalPackage', 'CIM_PhysicalPackage', 'CIM_Chassis']);
      const { chassis, card } = packagesFrom(packages);
      expect(platformFrom({ chassis, card })).toMatchObject({ serial: hw.serial, board: { serial: hw.board.serial } });
      const disks = storageFrom(await curlAll(d, cim.MediaAccessDevice), packages);
      expect(disks).toEqual(hw.disks.map((x, i) => ({ id: `MEDIA DEV ${i}`, model: x.model.trim(), serial: x.serial.trim(), sizeBytes: x.sizeKB * 1000 })));
      expect(biosFrom(instanceOf(await curl(d, cim.BIOSElement.Get())))).toEqual({ vendor: hw.bios.vendor, version: hw.bios.version, releaseDate: hw.bios.releaseDate });
    }
  });

  it('features and network ports', async () => {
    const amt = new AMT.Messages();
    const cim = new CIM.Messages();
    for (const d of fleet.devices) {
      const kvm = d.hardware.kvm ? instanceOf(await curl(d, cim.KVMRedirectionSAP.Get())) : 'unsupported';
      const f = featuresFrom({ redirection: instanceOf(await curl(d, amt.RedirectionService.Get())), kvm });
      expect(f).toMatchObject({ kvm: d.hardware.kvm ? 'enabled' : 'unsupported', sol: 'enabled', ider: 'enabled', redirection: 'enabled' });
      const ports = networkFrom(await curlAll(d, amt.EthernetPortSettings));
      expect(ports.map((p) => [p.kind, p.mac])).toEqual([['wired', d.mac], ...(d.hardware.wirelessMac ? [['wireless', d.hardware.wirelessMac]] : [])]);
      const audit = methodOf(await curl(d, amt.AuditLog.ReadRecords(1)), 'AMT_AuditLog', 'ReadRecords');
      expect((audit.EventRecords as string[]).map((r) => decodeAuditRecord(r).action)).toContain('user-added');
    }
  });
});
