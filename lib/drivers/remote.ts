/**
 * The DeviceDriver of a device at another site: every call becomes a signed command to that
 * site's gateway over the MSP's broker (lib/remote), which runs it on the device through its own
 * driver and answers. What the far device cannot do, or the site does not allow, comes back as an
 * error that says so (UNSUPPORTED, REMOTE_REFUSED); a site that is gone is SITE_OFFLINE.
 */
import { randomBytes } from 'node:crypto';
import { BOOT_TARGETS } from '../amt/boot';
import { deviceInfo, deviceLabel, ManagedDevice } from '../device';
import { InputError, OobError } from '../errors';
import type { RemoteAction } from '../remote/actions';
import type { RemoteEndpoint } from '../remote/endpoint';
import type { BootEvent, BootFinal, BootJob, BootOutcome, BootRequest, DeviceDriver } from './types';

/** Progress of a remote boot as the site sends it: the driver's own events, then the outcome. */
export type RemoteBootProgress = { boot: BootEvent } | { outcome: BootOutcome };

/** How long past the boot's own limit the centre waits for its outcome or next progress. */
const BOOT_MARGIN_MS = 60_000;

export function remoteDriver(device: ManagedDevice): DeviceDriver {
  const r: RemoteEndpoint | undefined = device.remote;
  if (!r) throw new InputError(`${deviceLabel(device)} is not a device at another site`);
  const call = <T>(action: RemoteAction, args: Record<string, unknown> = {}, onProgress?: (e: unknown) => void, timeoutMs = r.timeoutMs): Promise<T> =>
    r.via.request(r.site, r.device, action, args, { timeoutMs, onProgress }) as Promise<T>;

  return {
    kind: 'remote',
    // What the far side speaks is its business; AMT is what most sites' PCs have.
    protocol: 'amt',
    device: deviceInfo(device),
    bootTargets: BOOT_TARGETS,
    wakeBy: 'wol',

    readPower: (o) => call('readPower', o?.osPowerSaving === false ? { osPowerSaving: false } : {}),
    changePower: (action) => call('changePower', { action }),
    requestPower: (action) => call('requestPower', { action }),
    powerOn: () => call('powerOn'),
    probePower: () => call('probePower'),

    async startBoot(request: BootRequest, onEvent?: (e: BootEvent) => void): Promise<BootJob> {
      const job = randomBytes(8).toString('hex');
      let gotOutcome: (o: BootOutcome) => void;
      let outcomeFailed: (e: Error) => void;
      const outcome = new Promise<BootOutcome>((resolve, reject) => {
        gotOutcome = resolve;
        outcomeFailed = reject;
      });
      const onProgress = (p: unknown) => {
        const e = p as RemoteBootProgress;
        if (e && typeof e === 'object' && 'outcome' in e) gotOutcome(e.outcome);
        else if (e && typeof e === 'object' && 'boot' in e) onEvent?.(e.boot);
      };
      const ended = call<BootFinal>('startBoot', { request, job }, onProgress, (request.timeoutMs ?? r.timeoutMs ?? 30_000) + BOOT_MARGIN_MS);
      // The outcome is never later than the end: a boot that failed before its outcome fails with
      // that error (site offline...). The end itself, as for a local boot, is data, never a rejection.
      ended.then(
        () => outcomeFailed(new InputError('the site ended the boot without an outcome')),
        (e: Error) => outcomeFailed(e),
      );
      const final = ended.catch((e: Error): BootFinal => ({ bytesServed: 0, seconds: 0, end: 'error', error: { code: e instanceof OobError ? e.code : undefined, message: e.message } }));
      outcome.catch(() => undefined);
      return {
        outcome,
        final,
        stop: () => call<BootFinal>('stopBoot', { job }),
        submitConsentCode: (code) => call<void>('consent.submit', { job, code: String(code) }),
      };
    },

    readNewEvents: (cursor, o) => call('readNewEvents', { cursor: cursor ?? null, initial: o.initial ?? 'skip' }),
    identity: () => call('identity'),
    readInventory: () => call('readInventory'),
    readAuditLog: (o) => call('readAuditLog', { ...o }),
    identify: (seconds) => call('identify', { seconds }),
    sensors: () => call('sensors'),
    readIsolation: () => call('readIsolation'),
    setIsolation: (isolate, managementHosts) => call('setIsolation', { isolate, managementHosts }),
    consent: {
      read: () => call('consent.read'),
      request: () => call('consent.request'),
      submit: (code) => call('consent.submit', { code: String(code) }),
      cancel: () => call('consent.cancel'),
    },
    defense: {
      status: (o) => call('defense.status', { ...o }),
      apply: (template, params, o) => call('defense.apply', { template, params, ...o }),
      release: () => call('defense.release'),
      addWatchdog: (spec) => call('defense.addWatchdog', { spec }),
      removeWatchdog: (agentId) => call('defense.removeWatchdog', { agentId }),
    },
    bmc: {
      run: (action, params) => call(`bmc.${action}` as RemoteAction, { params: { ...params, device: undefined } }),
    },
    close: () => undefined,
  };
}
