/**
 * The DeviceDriver of a server without AMT, through its BMC over lib/ipmi: one shared IPMI session
 * for the driver's life (acquireIpmi), released by close().
 */
import { recordOwnAction } from '../activity';
import type { AlertDevice } from '../alerts/alert';
import type { BootTarget } from '../amt/boot';
import { deviceInfo, deviceLabel, ManagedDevice } from '../device';
import { InputError } from '../errors';
import { errorData } from './error-data';
import { runIpmiAction } from '../ipmi/actions';
import { selRecordToAlert } from '../ipmi/alert';
import { IPMI_BOOT_TARGETS, ipmiBootTarget } from '../ipmi/boot';
import { chassisIdentify } from '../ipmi/chassis';
import { acquireIpmi } from '../ipmi/connect';
import { ipmiPowerAction, ipmiPowerOn, ipmiPowerStatus } from '../ipmi/power';
import { readNewSel, SelCursor, selCursorAtEnd } from '../ipmi/sel';
import { readSensors, sensorRecords } from '../ipmi/sensors';
import type { BootEvent, BootJob, BootRequest, DeviceDriver, DevicePowerStatus, EventCursor, PowerProbe } from './types';

/** Codes that waiting does not cure (a wrong password, a cipher suite the BMC refuses). */
const LASTING = new Set(['AUTH_FAILED', 'UNSUPPORTED', 'BAD_INPUT']);

export function ipmiDriver(device: ManagedDevice): DeviceDriver {
  if (!device.ipmi) throw new InputError(`${deviceLabel(device)} has no IPMI credentials`);
  const lease = acquireIpmi(device.ipmi);
  const c = lease.client;
  const info = deviceInfo(device);
  const alertDevice: AlertDevice = { name: info.name, host: info.host, mac: info.mac, site: info.site };
  const status = async (): Promise<DevicePowerStatus> => ({ ...(await ipmiPowerStatus(c)), protocol: 'ipmi' });

  const requestPower = async (action: string): Promise<DevicePowerStatus> => {
    const before = await ipmiPowerAction(c, action);
    recordOwnAction(device.host, 'power', action);
    return { ...before, protocol: 'ipmi' };
  };

  return {
    kind: 'ipmi',
    protocol: 'ipmi',
    device: info,
    bootTargets: IPMI_BOOT_TARGETS as readonly BootTarget[],

    readPower: status,
    wakeBy: 'power-on',

    requestPower,

    async changePower(action) {
      const before = await requestPower(action);
      return { before, after: await status() };
    },

    async powerOn() {
      const r = await ipmiPowerOn(c);
      if (!r.wasOn) recordOwnAction(device.host, 'wake', 'ipmi-power-on');
      return { wasOn: r.wasOn, method: 'ipmi-power-on' };
    },

    async probePower(): Promise<PowerProbe> {
      try {
        const s = await ipmiPowerStatus(c);
        return { on: s.state === 'on', state: s.state };
      } catch (e) {
        if (LASTING.has((e as { code?: string }).code ?? '')) throw e;
        return { on: false, state: 'unreachable' };
      }
    },

    async startBoot(request: BootRequest, onEvent?: (e: BootEvent) => void): Promise<BootJob> {
      const outcome = ipmiBootTarget(c, String(request.target), { power: request.power === 'none' ? 'none' : 'auto', host: device.host }).then((o) => ({ ...o, protocol: 'ipmi' as const }));
      onEvent?.({ type: 'phase', text: 'boot override' });
      const final = outcome.then(
        (o) => ({ bytesServed: 0, seconds: o.seconds, end: 'none' as const }),
        (e: Error) => ({ bytesServed: 0, seconds: 0, end: 'none' as const, error: errorData(e) }),
      );
      outcome.catch(() => undefined);
      return {
        outcome,
        final,
        stop: () => final,
        submitConsentCode: () => Promise.reject(new InputError(`${deviceLabel(device)} is a BMC: it asks for no user consent`)),
      };
    },

    async readNewEvents(cursor: EventCursor | undefined, o) {
      if (!cursor && (o.initial ?? 'skip') === 'skip') {
        // The first look only marks where the log stands: old entries are not news.
        return { alerts: [], cursor: (await selCursorAtEnd(c)) as EventCursor };
      }
      const { records, cursor: next } = await readNewSel(c, (cursor ?? {}) as SelCursor);
      if (records.length === 0) return { alerts: [], cursor: next as EventCursor };
      let sensors: Map<number, Awaited<ReturnType<typeof sensorRecords>>[number]> | undefined;
      try {
        sensors = new Map((await sensorRecords(c)).map((s) => [s.number, s]));
      } catch {
        sensors = undefined; // names are a nicety; the alerts go out without them
      }
      const readAt = new Date();
      return { alerts: records.map((r) => selRecordToAlert(r, { device: alertDevice, sensors, readAt })), cursor: next as EventCursor };
    },

    identify: (seconds) => chassisIdentify(c, { seconds }),
    sensors: () => readSensors(c),

    bmc: { run: (action, params) => runIpmiAction(c, action, params) },

    close: () => lease.release(),
  };
}
