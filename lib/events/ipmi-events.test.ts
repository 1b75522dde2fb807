import { decodeOemFields, decodePet, encodePet, petToAlert, PET_END_MARKER, specificTrapOf } from '../asf/pet';
import { genericOffsetText, interpret, severityOf } from './ipmi-events';

const alertOf = (sensorType: number, eventType: number, offset: number, o: Parameters<typeof encodePet>[0] = {}, deassert = false) =>
  petToAlert(decodePet(specificTrapOf({ sensorType, eventType, offset, deassert }), encodePet({ entity: 0x17, ...o })), { device: { host: 'h' } });

describe('IPMI/PET event meaning', () => {
  it('reads offset 0Fh ("unspecified" in the specific trap) from event data 1', () => {
    const ev = decodePet(specificTrapOf({ sensorType: 0x05, eventType: 0x6f, offset: 0x0f }), encodePet({ eventData: [0xa4, 0xff, 0xff] }));
    expect(ev.offset).toBe(4);
    expect(petToAlert(ev, { device: { host: 'h' } }).kind).toBe('lan-leash-lost');
    // Two traps that differ only in event data 1 are two events, also when read a second time.
    const other = decodePet(specificTrapOf({ sensorType: 0x05, eventType: 0x6f, offset: 0x0f }), encodePet({ eventData: [0xa0, 0xff, 0xff] }));
    expect(petToAlert(other, { device: { host: 'h' } }).kind).toBe('chassis-intrusion');
  });

  it.each([
    [0x07, 2, 'transition to critical from less severe', 'critical'],
    [0x07, 5, 'transition to critical from non-recoverable', 'critical'],
    [0x0b, 1, 'redundancy lost', 'critical'],
    [0x0b, 2, 'redundancy degraded', 'warning'],
    [0x04, 1, 'predictive failure asserted', 'warning'],
    [0x08, 1, 'device inserted / device present', 'info'],
    [0x0c, 3, 'D3 power state', 'info'],
  ] as const)('generic event type %i offset %i reads "%s" and is %s', (eventType, offset, text, severity) => {
    expect(genericOffsetText(eventType, offset)).toBe(text);
    const a = alertOf(0x08, eventType, offset, { severity: 0 });
    expect(a.summary).toBe(`Power supply: ${text} [system chassis]`);
    expect(a.severity).toBe(severity);
  });

  it('watchdog 1 offset 0 is the BIOS watchdog, offset 1 the OS watchdog', () => {
    expect(alertOf(0x11, 0x6f, 0).summary).toMatch(/^BIOS watchdog reset the system/);
    expect(alertOf(0x11, 0x6f, 1).summary).toMatch(/^OS watchdog reset the system/);
  });

  it.each([
    [0x21, 0, 'slot-fault', 'Slot/connector fault'],
    [0x25, 1, 'entity-absent', 'Entity absent'],
    [0x2a, 2, 'security-violation', 'Invalid user name or password'],
    [0x2b, 3, 'version-incompatible', 'Firmware or software incompatibility detected'],
    [0x2c, 7, 'fru-state', 'FRU communication lost'],
  ])('sensor type %i offset %i is %s', (sensorType, offset, kind, text) => {
    const a = alertOf(sensorType, 0x6f, offset);
    expect(a.kind).toBe(kind);
    expect(a.summary.startsWith(text)).toBe(true);
  });

  it('names entities 29h-42h and device-relative instances', () => {
    expect(alertOf(0x01, 0x01, 9, { entity: 0x37, entityInstance: 1 }).summary).toBe('Overheating: temperature above critical threshold [air inlet 1]');
    expect(alertOf(0x01, 0x01, 9, { entity: 0x41, entityInstance: 0x62 }).summary).toBe('Overheating: temperature above critical threshold [processor 2 (device-relative)]');
    expect(alertOf(0x04, 0x01, 2, { entity: 0x29 }).summary).toMatch(/\[processing blade\]$/);
  });

  it('on an assertion, takes the more severe of the sender\'s severity byte and ours; a deassertion is ok', () => {
    // A correctable ECC error is a warning to us: "information" from the sender does not lower it, "critical" raises it.
    expect(alertOf(0x0c, 0x6f, 0, { severity: 0x02 }).severity).toBe('warning');
    expect(alertOf(0x0c, 0x6f, 0, { severity: 0x10 }).severity).toBe('critical');
    expect(alertOf(0x0c, 0x6f, 0, { severity: 0x10 }, true).severity).toBe('ok');
    const i = interpret({ sensorType: 0x0c, eventType: 0x6f, offset: 0, deassert: false });
    expect(severityOf({ sensorType: 0x0c, eventType: 0x6f, offset: 0, deassert: false, severityCode: 0 }, i)).toBe('warning');
  });

  it('decodes OEM custom fields (type/length bytes up to C1h) into the details', () => {
    const oem = Buffer.from([0xc5, ...Buffer.from('Bay 3'), 0x02, 0xbe, 0xef, PET_END_MARKER, 0xaa]);
    const a = alertOf(0x0d, 0x6f, 1, { oem });
    expect(a.details.oemFields).toEqual([
      { type: 'text', value: 'Bay 3' },
      { type: 'binary', value: 'beef' },
    ]);
    expect(decodeOemFields(Buffer.from([PET_END_MARKER]))).toEqual([]);
    // Cut short: what is there is kept.
    expect(decodeOemFields(Buffer.from([0xc8, 0x41, 0x42]))).toEqual([{ type: 'text', value: 'AB' }]);
  });
});
