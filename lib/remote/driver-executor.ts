/**
 * The gateway runs the centre's commands on its devices through their drivers (lib/drivers), so a
 * remote device can do what a local one can. An alert acknowledgement goes to the site's running
 * alert-in nodes (lib/alerts/acknowledge). A wake runs here too: the magic packets must leave on
 * the site's LAN. A boot from media stays registered until it ends, so the centre can stop it or
 * hand over the user consent code.
 */
import { acknowledgeAtSite, ackRequest } from '../alerts/acknowledge';
import type { ManagedDevice } from '../device';
import { withDriver } from '../drivers';
import type { RemoteBootProgress } from '../drivers/remote';
import type { BootJob, BootRequest, DeviceDriver, EventCursor } from '../drivers/types';
import { InputError, UnsupportedError } from '../errors';
import type { IpmiActionName } from '../ipmi/actions';
import { wakeAndConfirm } from '../wake';
import type { RemoteAction } from './actions';
import type { Executor } from './responder';

/** Boots under way, by device and the centre's job id; at most this many at once. */
const MAX_BOOTS = 32;
const boots = new Map<string, BootJob>();
const PROGRESS_INTERVAL_MS = 250;

const str = (v: unknown, what: string): string => {
  if (typeof v !== 'string' || !v) throw new InputError(`${what} is missing`);
  return v;
};
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** What a centre may set about a wake: the site's own device settings decide the rest. */
function wakeOptions(args: Record<string, unknown>) {
  return {
    confirm: typeof args.confirm === 'string' ? (args.confirm as 'auto') : undefined,
    timeoutMs: num(args.timeoutMs),
    pollMs: num(args.pollMs),
    fallback: typeof args.fallback === 'boolean' ? args.fallback : undefined,
    fallbackAfterMs: num(args.fallbackAfterMs),
    repeat: num(args.repeat),
  };
}

function bootJob(device: ManagedDevice, job: unknown): BootJob {
  const j = boots.get(`${device.host}/${String(job)}`);
  if (!j) throw new InputError(`no boot ${String(job)} is running for ${device.name ?? device.host}`);
  return j;
}

async function startBoot(d: DeviceDriver, device: ManagedDevice, args: Record<string, unknown>, progress: (e: RemoteBootProgress) => void) {
  const job = str(args.job, 'boot job id');
  if (boots.size >= MAX_BOOTS) throw new InputError(`${boots.size} boots are running at this site already`);
  const request = (args.request ?? {}) as BootRequest;
  // Transfer figures come many times a second; a few a second are enough across the broker.
  let lastTransfer = 0;
  const running = await d.startBoot(request, (e) => {
    if (e.type === 'progress') {
      const now = Date.now();
      if (now - lastTransfer < PROGRESS_INTERVAL_MS) return;
      lastTransfer = now;
    }
    progress({ boot: e });
  });
  const key = `${device.host}/${job}`;
  boots.set(key, running);
  try {
    progress({ outcome: await running.outcome });
    return await running.final;
  } finally {
    boots.delete(key);
  }
}

function run(d: DeviceDriver, device: ManagedDevice, action: RemoteAction, a: Record<string, unknown>, progress: (e: unknown) => void): Promise<unknown> {
  const need = <T>(v: T | undefined, what: string): T => {
    if (!v) throw new UnsupportedError(`${device.name ?? device.host} cannot ${what} here`);
    return v;
  };
  switch (action) {
    case 'readPower':
      return d.readPower({ osPowerSaving: a.osPowerSaving !== false });
    case 'changePower':
      return d.changePower(str(a.action, 'power action'));
    case 'requestPower':
      return d.requestPower(str(a.action, 'power action'));
    case 'powerOn':
      return d.powerOn();
    case 'probePower':
      return d.probePower();
    case 'startBoot':
      return startBoot(d, device, a, progress);
    case 'readNewEvents':
      return d.readNewEvents((a.cursor ?? undefined) as EventCursor | undefined, { initial: a.initial === 'all' ? 'all' : 'skip' });
    case 'identity':
      return need(d.identity, 'tell its identity').call(d);
    case 'readInventory':
      return need(d.readInventory, 'read its inventory').call(d);
    case 'readAuditLog':
      return need(d.readAuditLog, 'read its audit log').call(d, { mode: a.mode === 'all' ? 'all' : 'new', after: a.after as never });
    case 'identify':
      return need(d.identify, 'identify itself').call(d, num(a.seconds) ?? 15);
    case 'sensors':
      return need(d.sensors, 'read sensors').call(d);
    case 'readIsolation':
      return need(d.readIsolation, 'tell its isolation').call(d);
    case 'setIsolation':
      return need(d.setIsolation, 'be isolated').call(d, a.isolate === true, Array.isArray(a.managementHosts) ? a.managementHosts.map(String) : []);
    case 'consent.read':
      return need(d.consent, 'take user consent').read();
    case 'consent.request':
      return need(d.consent, 'take user consent').request();
    case 'consent.submit':
      if (a.job !== undefined) return bootJob(device, a.job).submitConsentCode(str(a.code, 'consent code'));
      return need(d.consent, 'take user consent').submit(str(a.code, 'consent code'));
    case 'consent.cancel':
      return need(d.consent, 'take user consent').cancel();
    case 'defense.status':
      return need(d.defense, 'use System Defense').status(a as never);
    case 'defense.apply':
      return need(d.defense, 'use System Defense').apply(str(a.template, 'template'), (a.params ?? {}) as Record<string, unknown>, { replace: a.replace === true });
    case 'defense.release':
      return need(d.defense, 'use System Defense').release();
    case 'defense.addWatchdog':
      return need(d.defense, 'use System Defense').addWatchdog((a.spec ?? {}) as Record<string, unknown>);
    case 'defense.removeWatchdog':
      return need(d.defense, 'use System Defense').removeWatchdog(a.agentId);
    default:
      if (action.startsWith('bmc.')) {
        const params = { ...((a.params ?? {}) as Record<string, unknown>), device: d.device };
        return need(d.bmc, 'run IPMI actions').run(action.slice(4) as IpmiActionName, params as never);
      }
      throw new UnsupportedError(`${action} cannot be run at this site`);
  }
}

export const driverExecutor: Executor = async (device, action, args, progress) => {
  switch (action) {
    case 'wake': {
      const outcome = await wakeAndConfirm({ device, ...wakeOptions(args), onStage: (stage, via) => progress({ stage, via }) });
      return outcome;
    }
    case 'stopBoot':
      return bootJob(device, args.job).stop();
    case 'acknowledgeAlert':
      // The site's own alert-in nodes hold the condition: no driver is involved.
      return acknowledgeAtSite(device, ackRequest(args));
    default:
      // A boot's driver must stay open until the boot ends: startBoot returns only then.
      return withDriver(device, (d) => run(d, device, action, args, progress));
  }
};
