/**
 * The IPMI driver against a BMC we did not write: OpenIPMI's ipmi_sim. Power read and change, the
 * wake's power-on, PXE through the boot override, and new SEL entries as alerts.
 */
import { lastOwnAction } from '../../lib/activity';
import type { ManagedDevice } from '../../lib/device';
import { withDriver } from '../../lib/drivers';
import { closeAllIpmi } from '../../lib/ipmi';
import { IpmiSim, SIM_USERS } from '../helpers/ipmi-sim';

let sim: IpmiSim;
const U = SIM_USERS.admin;

beforeAll(async () => {
  sim = await IpmiSim.start({ powerOn: true });
});
afterAll(async () => {
  await closeAllIpmi();
  await sim.stop();
});

const server = (): ManagedDevice => ({
  name: 'db-server',
  host: '127.0.0.1',
  ipmi: { host: '127.0.0.1', port: sim.port, username: U.name, password: U.password, cipherSuite: 3, privilege: 'admin', timeoutMs: 2000 },
});

describe('the IPMI driver against ipmi_sim', () => {
  it('powers the chassis off and on again, the BMC following', async () => {
    await withDriver(server(), async (d) => {
      expect(await d.readPower()).toMatchObject({ state: 'on', protocol: 'ipmi' });
      const change = await d.changePower('off');
      expect(change.before.state).toBe('on');
      expect(sim.chassis('power')).toBe('0');
      expect(lastOwnAction('127.0.0.1', 5000)).toMatchObject({ kind: 'power', action: 'off' });
      expect(await d.powerOn()).toEqual({ wasOn: false, method: 'ipmi-power-on' });
      expect(sim.chassis('power')).toBe('1');
      expect(await d.probePower()).toEqual({ on: true, state: 'on' });
    });
  });

  it('sets a one-time PXE boot and resets into it', async () => {
    await withDriver(server(), async (d) => {
      const job = await d.startBoot({ target: 'pxe' });
      expect(await job.outcome).toMatchObject({ target: 'pxe', result: 'requested', power: 'reset', protocol: 'ipmi' });
    });
    expect(sim.chassisSets().slice(-2)).toEqual(['boot pxe', 'reset 1']);
  });

  it('reads only the SEL entries added since the last read, as alerts', async () => {
    await withDriver(server(), async (d) => {
      const first = await d.readNewEvents(undefined, { initial: 'skip' });
      expect(first.alerts).toEqual([]);
      await sim.addSelEvent({ sensorType: 0x05, sensorNumber: 0x31, eventDirType: 0x6f, data: [0x00, 0xff, 0xff] });
      const next = await d.readNewEvents(JSON.parse(JSON.stringify(first.cursor)), {});
      expect(next.alerts).toHaveLength(1);
      expect(next.alerts[0]).toMatchObject({ source: 'eventlog', device: { name: 'db-server' } });
    });
  });
});
