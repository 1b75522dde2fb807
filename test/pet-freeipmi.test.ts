/**
 * PET meaning against an independent decoder: FreeIPMI's ipmi-pet (Debian freeipmi-tools) reads
 * the same traps we do. It insists on a BMC to talk to (for its SDR cache): OpenIPMI's ipmi_sim
 * serves. Over ~300 traps (every threshold, generic and sensor-specific offset we name, OEM event
 * types, offset 0Fh, all severity bytes, timestamps with and without a UTC offset, varied GUIDs)
 * both must agree on the sensor type, the event, its direction, the GUID, the time and the
 * sender's severity. Where they do not, it is listed below with what the specification says.
 * The simulator's traps are among them: ipmi-pet refuses a varbind without the C1h end marker.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { decodePet, encodePet, PET_END_MARKER, petToAlert, specificTrapOf } from '../lib/asf/pet';
import { severityRank } from '../lib/alerts/vocabulary';
import { PET_SEVERITIES, SENSOR_SPECIFIC_OFFSETS, SENSOR_TYPES, THRESHOLD_OFFSETS } from '../lib/events/ipmi-events';
import { petBytes, SCENARIOS, startFleet } from '../packages/sim/src';
import { IpmiSim, requirePeer, SIM_USERS } from './helpers/ipmi-sim';

const run = promisify(execFile);

/**
 * Sensor type names where FreeIPMI's words differ from ours, and why ours stand:
 *  - 06h: IPMI 2.0 table 42-3 calls it "Platform Security Violation Attempt"; ours is the short form.
 *  - 20h: "OS Critical Stop" is IPMI 1.5's name; IPMI 2.0 table 42-3 calls it "OS Stop / Shutdown".
 *  - 22h: table 42-3's "System ACPI Power State"; ours is the short form.
 */
const TYPE_NAMES: Record<number, string> = { 0x06: 'Platform Security Violation Attempt', 0x20: 'OS Critical Stop', 0x22: 'System ACPI Power State' };

/** PET 1.0's severity byte as ipmi-pet prints it. */
const SEVERITY_TEXT: Record<string, string> = {
  unspecified: 'N/A',
  monitor: 'Monitor',
  information: 'Information',
  OK: 'Ok',
  'non-critical': 'Non-critical condition',
  critical: 'Critical condition',
  'non-recoverable': 'Non-recoverable condition',
};

const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '');

/**
 * Where ipmi-pet names an event otherwise, by sensor type/offset, and why ours stands:
 *  - 06h/2: IPMI 2.0 table 42-3 reads "Pre-boot Password Violation attempt - setup password";
 *    FreeIPMI leaves out "attempt".
 *  - offset 0Fh: ipmi-pet prints N/A. The specific trap has four bits for the offset and 0Fh
 *    says "not given here"; event data 1 bits 3:0 carry the offset of every IPMI event (IPMI
 *    2.0 table 29-6), so we read it there.
 */
const EVENT_WORDING: Record<string, string> = { '6/2': 'Pre-boot Password Violation - setup password' };

/** The same event named: equal, or one the longer form of the other (FreeIPMI often shortens the specification's names). */
function sameEvent(ours: string, theirs: string): boolean {
  const a = norm(ours);
  const b = norm(theirs);
  return a.length > 0 && b.length > 0 && (a.includes(b) || b.includes(a));
}

interface Case {
  specific: number;
  bytes: Buffer;
  utcOffset?: number;
}

function cases(): Case[] {
  const out: Case[] = [];
  const add = (sensorType: number, eventType: number, offset: number, o: { deassert?: boolean; ed1?: number } = {}) => {
    const n = out.length;
    const utcOffset = n % 3 === 0 ? undefined : ((n % 7) - 3) * 60 + (n % 2) * 30;
    const bytes = encodePet({
      guid: Buffer.from(Array.from({ length: 16 }, (_, i) => (n * 37 + i * 11 + (n >> 3)) & 0xff)),
      sequence: n,
      // 1999 to 2025, on any second.
      time: 915_148_800 + ((n * 2_654_435_761) % 820_000_000),
      utcOffsetMinutes: utcOffset,
      severity: [0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x20][n % 7],
      sensorNumber: (n * 13) % 0xfe,
      entity: 0x17,
      entityInstance: n % 4,
      eventData: [o.ed1 ?? offset, 0xff, 0xff],
      oem: Buffer.from([PET_END_MARKER]),
    });
    out.push({ specific: specificTrapOf({ sensorType, eventType, offset, deassert: o.deassert }), bytes, utcOffset });
  };
  for (const st of [0x01, 0x02, 0x03, 0x04]) THRESHOLD_OFFSETS.forEach((_, off) => add(st, 0x01, off, { deassert: off % 3 === 1 }));
  const generic: Array<[number, number]> = [[0x02, 3], [0x03, 2], [0x04, 2], [0x05, 2], [0x06, 2], [0x07, 9], [0x08, 2], [0x09, 2], [0x0a, 9], [0x0b, 8], [0x0c, 4]];
  for (const [et, n] of generic) for (let off = 0; off < n; off++) add([0x08, 0x0b, 0x15, 0x29][off % 4], et, off, { deassert: off === n - 1 });
  for (const [st, names] of Object.entries(SENSOR_SPECIFIC_OFFSETS)) names.forEach((name, off) => name && add(Number(st), 0x6f, off, { deassert: off % 5 === 4 }));
  // Offset 0Fh: the offset is in event data 1.
  for (const [st, ed1] of [[0x05, 0x04], [0x0c, 0x01], [0x29, 0x02]]) add(st, 0x6f, 0x0f, { ed1 });
  // OEM event types: no meaning of ours, none of theirs.
  for (const et of [0x70, 0x75, 0x7f]) add(0x12, et, 1);
  return out;
}

let sim: IpmiSim;
let cacheDir: string;

beforeAll(async () => {
  requirePeer('ipmi-pet', 'freeipmi-tools');
  sim = await IpmiSim.start({ powerOn: true });
  cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'oob-ipmipet-'));
}, 30_000);
afterAll(async () => {
  await sim?.stop();
  if (cacheDir) fs.rmSync(cacheDir, { recursive: true, force: true });
});

/** ipmi-pet's reading of each trap: one CSV row each (TZ=UTC: it prints the time it computes as is). */
async function ipmiPet(all: Case[]): Promise<string[][]> {
  const file = path.join(cacheDir, 'traps.txt');
  fs.writeFileSync(file, all.map((c) => `${c.specific} ${[...c.bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ')}`).join('\n') + '\n');
  const u = SIM_USERS.admin;
  const { stdout } = await run(
    'ipmi-pet',
    ['-h', `${sim.host}:${sim.port}`, '-u', u.name, '-p', u.password, '-D', 'LAN_2_0', '-W', 'opensesspriv', '--sdr-cache-directory', cacheDir, '--sdr-cache-recreate', '--quiet-cache',
      '--output-event-severity', '-v', '-v', '--comma-separated-output', '--no-header-output', '--file', file],
    { timeout: 60_000, env: { ...process.env, TZ: 'UTC' } },
  );
  // Date,Time,Name,Type,GUID,Manufacturer ID,System ID,Severity,Event Direction,Event (the event may hold commas).
  return stdout.trim().split('\n').map((line) => {
    const f = line.split(',');
    return [...f.slice(0, 9), f.slice(9).join(',')];
  });
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function shownMs(date: string, time: string): number {
  const [mon, day, year] = date.split('-');
  const [h, m, s] = time.split(':').map(Number);
  return Date.UTC(Number(year), MONTHS.indexOf(mon), Number(day), h, m, s);
}

describe('PET meaning against FreeIPMI ipmi-pet', () => {
  it('agrees on sensor type, event, direction, GUID, time and the sender\'s severity over ~300 traps', async () => {
    const fleet = await startFleet({ devices: 1, port: 0, seed: 'pet-freeipmi' });
    const simulated: Case[] = [];
    try {
      for (const sc of Object.values(SCENARIOS)) {
        if (!sc.event) continue;
        for (const deassert of [false, true]) simulated.push({ specific: specificTrapOf({ ...sc.event, deassert }), bytes: petBytes(fleet.devices[0], sc.event, { deassert }), utcOffset: 0 });
      }
    } finally {
      await fleet.stop();
    }
    expect(simulated.every((c) => c.bytes.at(-1) === PET_END_MARKER)).toBe(true);
    const all = [...cases(), ...simulated];
    expect(all.length).toBeGreaterThanOrEqual(100);
    const rows = await ipmiPet(all);
    expect(rows).toHaveLength(all.length);
    const disagreements: string[] = [];
    all.forEach((c, i) => {
      const [date, time, , type, guid, , , severity, direction, event] = rows[i];
      const ev = decodePet(c.specific, c.bytes, Date.UTC(2030, 0, 1));
      const a = petToAlert(ev, { device: { host: 'h' } });
      const where = `trap ${i} (${ev.sensorType.toString(16)}h/${ev.eventType.toString(16)}h/${ev.offset})`;
      const ourType = TYPE_NAMES[ev.sensorType] ?? SENSOR_TYPES[ev.sensorType];
      if (norm(ourType) !== norm(type)) disagreements.push(`${where}: type ${ourType} / ${type}`);
      if ((direction === 'Deassertion Event') !== ev.deassert) disagreements.push(`${where}: direction ${ev.deassert} / ${direction}`);
      if (ev.guid !== guid.toLowerCase()) disagreements.push(`${where}: GUID ${ev.guid} / ${guid}`);
      // PET 1.0 calls the timestamp local time and the offset the minutes from UTC to local time,
      // so UTC = timestamp - offset (ours); ipmi-pet shows timestamp + offset. Both must come
      // from the same timestamp.
      const offsetMs = (c.utcOffset ?? 0) * 60_000;
      if (Date.parse(a.time) + offsetMs !== shownMs(date, time) - offsetMs) disagreements.push(`${where}: time ${a.time} (offset ${c.utcOffset}) / ${date} ${time}`);
      const ours = a.details.ipmiEvent as string | undefined;
      const theirs = (c.specific & 0x0f) === 0x0f ? (event === 'N/A' ? ours : `${event} (expected N/A)`) : (EVENT_WORDING[`${ev.sensorType}/${ev.offset}`] === event ? ours : event);
      if (ours === undefined ? !/Event Offset = [0-9A-F]{2}h/.test(event) : !sameEvent(ours, theirs ?? '')) disagreements.push(`${where}: event ${ours} / ${event}`);
      const sent = PET_SEVERITIES[ev.severityCode!];
      if (SEVERITY_TEXT[sent.name] !== severity) disagreements.push(`${where}: severity byte ${sent.name} / ${severity}`);
      // Ours is never less severe than what the sender said, on an assertion.
      if (!ev.deassert && sent.severity && severityRank(a.severity) > severityRank(sent.severity)) disagreements.push(`${where}: our ${a.severity} is below the sender's ${sent.name}`);
    });
    expect(disagreements).toEqual([]);
  }, 90_000);
});
