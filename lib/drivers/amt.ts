/**
 * The DeviceDriver of a PC with Intel AMT, over lib/amt: one shared WS-Man client for the driver's
 * life (acquireAmt), released by close().
 */
import { recordOwnAction } from '../activity';
import type { AlertDevice } from '../alerts/alert';
import { readAuditLog } from '../amt/audit-log';
import { BOOT_TARGETS, canonicalBootTarget, isIderTarget } from '../amt/boot';
import { bootFromMedia, MediaBoot } from '../amt/boot-media';
import { acquireAmt } from '../amt/connect';
import { ConsentCodes } from '../amt/consent-codes';
import { cancelOptIn, ConsentPrompt, readOptInPolicy, sendOptInCode, startOptIn } from '../amt/opt-in';
import { addWatchdog, applyTemplate, readStatus, releaseTemplate, removeWatchdog } from '../amt/defense';
import { eventRecordToAlert, EventLogPosition, newSince, readEventLog } from '../amt/event-log';
import { readIdentity } from '../amt/identity';
import { readInventory } from '../amt/inventory';
import { PowerStatus, readPowerStatus, requestPowerAction } from '../amt/power';
import type { IderProgress } from '../amt/redirection/ider-session';
import { deviceInfo, deviceLabel, ManagedDevice } from '../device';
import { InputError, OobError } from '../errors';
import { errorData } from './error-data';
import type { WsmanClient } from '../wsman/client';
import type { BootEvent, BootJob, BootRequest, ConsentState, DeviceDriver, DevicePowerStatus, EventCursor, PowerProbe } from './types';

/** A status just read is the caller's alone: marked as AMT's in place rather than copied. */
function asAmtStatus(s: PowerStatus): DevicePowerStatus {
  const out = s as DevicePowerStatus;
  out.protocol = 'amt';
  return out;
}

/** One boot from media per PC at a time, across everything in this process. */
const runningBoots = new Map<string, MediaBoot>();

/** Codes that waiting does not cure: a wake confirmation reports them rather than retrying. */
const LASTING = new Set(['AUTH_FAILED', 'TLS_PIN_MISMATCH', 'TLS_UNPINNED', 'BAD_INPUT']);

export function amtDriver(device: ManagedDevice): DeviceDriver {
  const amt = device.amt;
  if (!amt) throw new InputError(`${deviceLabel(device)} has no AMT credentials`);
  const lease = acquireAmt(amt);
  const client: WsmanClient = lease.client;
  const info = deviceInfo(device);
  const alertDevice: AlertDevice = { name: info.name, host: info.host, mac: info.mac, site: info.site };
  const consentState = async (): Promise<ConsentState> => {
    const p = await readOptInPolicy(client);
    return { required: p.required, state: p.stateName, codeTimeoutSeconds: p.codeTimeoutSeconds, ...(p.controlMode ? { controlMode: p.controlMode } : {}) };
  };
  const status = (o?: { osPowerSaving?: boolean }): Promise<DevicePowerStatus> => readPowerStatus(client, o).then(asAmtStatus);

  const requestPower = async (action: string): Promise<DevicePowerStatus> => {
    const before = await requestPowerAction(client, action);
    recordOwnAction(device.host, 'power', action);
    return { ...before, protocol: 'amt' };
  };

  return {
    kind: 'amt',
    protocol: 'amt',
    device: info,
    bootTargets: BOOT_TARGETS,

    readPower: status,
    wakeBy: 'wol',

    requestPower,

    async changePower(action) {
      const before = await requestPower(action);
      return { before, after: await status() };
    },

    async powerOn() {
      const s = await readPowerStatus(client, { osPowerSaving: false });
      if (s.state === 'on') return { wasOn: true, method: 'amt-power-on' };
      await requestPowerAction(client, 'on');
      recordOwnAction(device.host, 'wake', 'amt-power-on');
      return { wasOn: false, method: 'amt-power-on' };
    },

    async probePower(): Promise<PowerProbe> {
      try {
        const s = await readPowerStatus(client, { osPowerSaving: false });
        return { on: s.state === 'on', state: s.state };
      } catch (e) {
        if (LASTING.has((e as { code?: string }).code ?? '')) throw e;
        return { on: false, state: 'unreachable' };
      }
    },

    async startBoot(request: BootRequest, onEvent?: (e: BootEvent) => void): Promise<BootJob> {
      const target = canonicalBootTarget(request.target);
      const key = device.host.toLowerCase();
      if (runningBoots.has(key)) throw new InputError(`a boot from media is already running for ${deviceLabel(device)}; send "stop" first`);
      // The boot keeps its own lease: it may outlive this driver (IDE-R serves until the PC is done).
      const own = acquireAmt(amt);
      // The consent code the caller hands over (submitConsentCode) for the prompt the boot raised.
      const codes = new ConsentCodes();
      const boot = bootFromMedia(own.client, device.host, {
        target,
        imageDirectory: request.imageDirectory,
        image: request.image,
        https: target === 'https' ? { url: request.https?.url ?? '', serverCertSha256: request.https?.serverCertSha256 || undefined } : undefined,
        power: request.power === 'none' ? 'none' : 'auto',
        timeoutMs: request.timeoutMs,
        stopAfterBoot: request.stopAfterBoot === true,
        redirection: isIderTarget(target)
          ? {
              host: amt.host,
              port: amt.redirectionPort,
              tls: amt.tls,
              username: amt.username,
              password: amt.password,
              fingerprint: amt.fingerprint,
              trustOnFirstUse: amt.trustOnFirstUse,
              legacyTls: amt.legacyTls,
              onFingerprintTrusted: amt.onFingerprintTrusted,
              timeoutMs: amt.timeoutMs,
            }
          : undefined,
        consent: request.consent && {
          timeoutMs: request.consent.timeoutMs,
          attempts: request.consent.attempts,
          askCode: (prompt: ConsentPrompt) => {
            const code = codes.wait(key);
            onEvent?.({ type: 'consent', codeTimeoutSeconds: prompt.codeTimeoutSeconds, attempt: prompt.attempt });
            return code;
          },
        },
      });
      runningBoots.set(key, boot);
      if (onEvent) {
        boot.on('phase', (text: string) => onEvent({ type: 'phase', text }));
        boot.on('progress', (p: IderProgress) => onEvent({ type: 'progress', bytesServed: p.bytesServed, fraction: p.fraction, rate: p.rate, commands: p.commands }));
      }
      const final = boot.final.then((f) => {
        codes.forget(key);
        runningBoots.delete(key);
        own.release();
        return { bytesServed: f.bytesServed, seconds: f.seconds, end: f.end, ...(f.error ? { error: errorData(f.error) } : {}) };
      });
      return {
        outcome: boot.outcome,
        final,
        stop: () => boot.stop().then(() => final),
        submitConsentCode: async (code) => void codes.give(key, code),
      };
    },

    async readNewEvents(cursor: EventCursor | undefined, o) {
      const before = cursor as EventLogPosition | undefined;
      const { records } = await readEventLog(client, before?.newest ?? 0);
      const { records: fresh, position } = newSince(records, before, o.initial ?? 'skip');
      return { alerts: fresh.map((r) => eventRecordToAlert(r, alertDevice)), cursor: position as unknown as EventCursor };
    },

    identity: () => readIdentity(client),
    readInventory: () => readInventory(client),
    readAuditLog: (o) => readAuditLog(client, o),

    async readIsolation() {
      try {
        return (await readStatus(client)).state === 'isolated';
      } catch (e) {
        if (e instanceof OobError && (e.code === 'WSMAN_FAULT' || e.code === 'UNSUPPORTED')) return null;
        throw e;
      }
    },

    async setIsolation(isolate, managementHosts) {
      const change = isolate ? await applyTemplate(client, 'isolate', { managementHosts }, { replace: true }) : await releaseTemplate(client);
      if (change.changed) recordOwnAction(device.host, 'defense', isolate ? 'isolate' : 'release');
      return { changed: change.changed, isolated: isolate };
    },

    consent: {
      read: consentState,
      async request() {
        await startOptIn(client);
        return consentState();
      },
      async submit(code) {
        await sendOptInCode(client, code);
        return consentState();
      },
      async cancel() {
        await cancelOptIn(client);
        return consentState();
      },
    },

    defense: {
      status: (o) => readStatus(client, o),
      async apply(template, params, o) {
        const change = await applyTemplate(client, template, params, o);
        if (change.changed) recordOwnAction(device.host, 'defense', template);
        return change;
      },
      async release() {
        const change = await releaseTemplate(client);
        if (change.changed) recordOwnAction(device.host, 'defense', 'release');
        return change;
      },
      async addWatchdog(spec) {
        const change = await addWatchdog(client, spec);
        if (change.changed) recordOwnAction(device.host, 'defense', 'watchdog-add');
        return change;
      },
      async removeWatchdog(agentId) {
        const change = await removeWatchdog(client, agentId);
        if (change.changed) recordOwnAction(device.host, 'defense', 'watchdog-remove');
        return change;
      },
    },

    close: () => lease.release(),
  };
}
