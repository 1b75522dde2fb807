/**
 * The same answers however many traps came before, in whatever order: a trap flood repeats the
 * same GUIDs and the same events, and the decoder remembers recent GUID texts and readings of
 * events. Nothing remembered may ever give one device's GUID or one event's sentence to another.
 * Expected values come from the PET layout (the 16 GUID bytes in the order sent, as 8-4-4-4-12
 * hex) and from IPMI 2.0 table 42-3 (sensor type 05h physical security, 0Fh system firmware
 * progress with its event data 2 codes) and table 43-13 (entity IDs), not from the decoder.
 */
import { decodePet, formatGuid, petToAlert } from '../../lib/asf/pet';

const RECEIVED = Date.UTC(2026, 0, 1);

/** A whole varbind: the given GUID, severity "non-critical", no sensor, the entity and event data given. */
function varbind(guid: Buffer, entity = 0, instance = 0, eventData: number[] = []): Buffer {
  const b = Buffer.alloc(46);
  guid.copy(b, 0, 0, 16);
  b.writeUInt16BE(0xffff, 22);
  b[26] = 0x08;
  b[27] = 0xff;
  b[28] = 0xff;
  b[29] = entity;
  b[30] = instance;
  b.fill(0xff, 31, 39);
  eventData.forEach((x, i) => (b[31 + i] = x));
  b.writeUInt32BE(343, 40);
  return b;
}

/** 16 bytes as 8-4-4-4-12 hex, in the order they are. */
function guidText(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

describe('GUID texts of many devices', () => {
  // 10,000 devices whose GUIDs are made of four 32-bit words from ten values (zero and nine
  // arbitrary ones): many are alike in all but one word, or have one device's word where another
  // has a different one.
  const WORDS = [0x00000000, 0x20ea1b80, 0xb1225dfe, 0xf4fb6fac, 0x7c365c0a, 0x4db9da98, 0x953a2ed6, 0x53100844, 0x3b166262, 0x060d64b0];
  const pool: Buffer[] = [];
  for (const a of WORDS) for (const b of WORDS) for (const c of WORDS) for (const d of WORDS) {
    const g = Buffer.alloc(16);
    g.writeUInt32BE(a, 0);
    g.writeUInt32BE(b, 4);
    g.writeUInt32BE(c, 8);
    g.writeUInt32BE(d, 12);
    pool.push(g);
  }

  it('each trap shows its own GUID, first time or again, in any order of devices', () => {
    // The all-zero GUID first, then 100,000 traps in a fixed pseudo-random order (linear
    // congruential): each device about ten times, after different others.
    let seed = 12345;
    const wrong: string[] = [];
    for (let k = 0; k < 100_000 && wrong.length < 3; k++) {
      const g = k === 0 ? pool[0] : pool[(seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % pool.length];
      const shown = k % 8 === 0 ? decodePet(0x056f00, varbind(g), RECEIVED).guid : formatGuid(g);
      if (shown !== guidText(g)) wrong.push(`${guidText(g)} shown as ${shown}`);
    }
    expect(wrong).toEqual([]);
  });

  it('each device in turn, then backwards: the same texts', () => {
    const wrong: string[] = [];
    for (const g of [...pool, ...[...pool].reverse()]) if (formatGuid(g) !== guidText(g)) wrong.push(guidText(g));
    expect(wrong).toEqual([]);
  });
});

describe('readings of events that differ in one part', () => {
  type Row = [label: string, specificTrap: number, eventData: number[], entity: number, instance: number, bytes: number, summary: string, entityShown: string | undefined];
  // Specific trap: sensor type 23:16, event type 15:8, offset 3:0. Event data 2 of sensor type 0Fh
  // is the POST error (offset 0) or progress (offset 2) code; a varbind of 32 bytes carries event
  // data 1 only, a varbind of 29 bytes no entity at all.
  const rows: Row[] = [
    ['POST error 01h (no system memory installed)', 0x0f6f00, [0x00, 0x01], 0, 0, 46, 'BIOS POST error: no system memory installed', 'unspecified'],
    ['POST error 02h (no usable system memory)', 0x0f6f00, [0x00, 0x02], 0, 0, 46, 'BIOS POST error: no usable system memory', 'unspecified'],
    ['POST error without event data 2', 0x0f6f00, [0x00, 0x01], 0, 0, 32, 'BIOS POST error', 'unspecified'],
    ['firmware hang without event data 2', 0x0f6f01, [0x01], 0, 0, 32, 'System firmware hang during start-up', 'unspecified'],
    ['progress 01h (memory initialization)', 0x0f6f02, [0x02, 0x01], 0, 0, 46, 'System firmware progress: memory initialization', 'unspecified'],
    ['progress 13h, offset in event data 1, system board', 0x0f6f0f, [0x02, 0x13], 0x07, 0, 46, 'System firmware progress: starting operating system boot process [system board]', 'system board'],
    ['an OEM event type of sensor type 0Fh', 0x0f7001, [0x01, 0x01], 0, 0, 46, 'System firmware progress event (type 0x70, offset 1)', 'unspecified'],
    ['chassis intrusion, entity unspecified, instance 1', 0x056f00, [0x00], 0x00, 1, 46, 'Chassis opened (general chassis intrusion)', 'unspecified'],
    ['chassis intrusion without an entity', 0x056f00, [0x00], 0x00, 1, 29, 'Chassis opened (general chassis intrusion)', undefined],
    ['chassis intrusion, system chassis', 0x056f00, [0x00], 0x17, 0, 46, 'Chassis opened (general chassis intrusion) [system chassis]', 'system chassis'],
    ['drive bay intrusion, chassis back panel board', 0x056f01, [0x01], 0x16, 0, 46, 'Drive bay opened [chassis back panel board]', 'chassis back panel board'],
    ['drive bay intrusion, system chassis', 0x056f01, [0x01], 0x17, 0, 46, 'Drive bay opened [system chassis]', 'system chassis'],
    ['drive bay intrusion, system chassis 2', 0x056f01, [0x01], 0x17, 2, 46, 'Drive bay opened [system chassis 2]', 'system chassis'],
  ];
  const guid = Buffer.alloc(16, 0x11);
  const read = ([, trap, ed, entity, instance, bytes]: Row) => {
    const a = petToAlert(decodePet(trap, varbind(guid, entity, instance, ed).subarray(0, bytes), RECEIVED), { device: { host: '10.0.0.9' }, receivedAt: RECEIVED });
    return [a.summary, a.details.entity];
  };

  it('each gets its own sentence and entity, read in order, backwards and again', () => {
    for (const order of [rows, [...rows].reverse(), rows]) {
      for (const row of order) expect([row[0], ...read(row)]).toEqual([row[0], row[6], row[7]]);
    }
  });
});
