/** Fleets: deterministic identities, 1,000 devices in one process, clean failure on a busy port. */
import { buildGet } from '../lib/wsman/messages';
import { readEnvelope, readInstance } from '../lib/wsman/envelope';
import { deviceMac, deviceName, deviceUuid, describeDevice, startFleet } from '../packages/sim/src';
import { platformGuid } from '../packages/sim/src/classes/inventory';
import { wsmanCall } from './sim-helpers';

describe('fleet', () => {
  it('derives names, MACs and UUIDs from the index, the same every time', () => {
    expect(deviceName(0, 3)).toBe('pc-01');
    expect(deviceName(11, 12)).toBe('pc-12');
    expect(deviceName(0, 1000)).toBe('pc-0001');
    expect(deviceMac(0)).toBe('02:00:86:00:00:01');
    expect(deviceMac(999)).toBe('02:00:86:00:03:e8');
    expect(deviceUuid(5)).toBe(deviceUuid(5));
    expect(deviceUuid(5)).not.toBe(deviceUuid(6));
    expect(deviceUuid(5, 'other')).not.toBe(deviceUuid(5));
  });

  it('reports PlatformGUID in AMT byte order (first three fields swapped)', () => {
    expect(platformGuid('4c4c4544-004b-4210-8033-b6c04f504633')).toBe('44454C4C4B0010428033B6C04F504633');
  });

  it('runs 1,000 devices in one process, each with its own identity and port', async () => {
    const fleet = await startFleet({ devices: 1000, port: 0 });
    try {
      const ports = new Set(fleet.devices.map((d) => d.port));
      expect(ports.size).toBe(1000);
      expect(new Set(fleet.devices.map((d) => d.realm)).size).toBe(1000);
      const last = fleet.devices[999];
      expect(describeDevice(last)).toMatchObject({ name: 'pc-1000', mac: '02:00:86:00:03:e8', tls: false, fingerprint256: null });
      const r = await wsmanCall(last, buildGet('CIM_ComputerSystemPackage').xml);
      expect(readInstance(readEnvelope(r.body.toString())).props.PlatformGUID).toBe(platformGuid(last.uuid));
    } finally {
      await fleet.stop();
    }
  });

  it('fails cleanly when a port is taken, closing what it had started', async () => {
    const first = await startFleet({ devices: 1, port: 0 });
    try {
      await expect(startFleet({ devices: 2, port: first.devices[0].port })).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await first.stop();
    }
  });
});
