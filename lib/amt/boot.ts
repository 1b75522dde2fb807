/**
 * One-time boot configuration over WS-Man: what the device can boot (AMT_BootCapabilities), and
 * the sequence that arms one boot:
 *
 *   1. CIM_BootConfigSetting.ChangeBootOrder with no source: drop a forced source left from before
 *      (AMT refuses UseIDER while one is in place)
 *   2. Put AMT_BootSettingData: every one-time option off, then the target's (UseIDER and
 *      IDERBootDevice, BIOSSetup, or the UEFI HTTPS boot parameters)
 *   3. CIM_BootService.SetBootConfigRole(Role 1, "is next")
 *   4. ChangeBootOrder with the target's CIM_BootSourceSetting: Force PXE Boot, Force CD/DVD Boot
 *      (IDE-R CD, as Intel's console does), Force OCR UEFI HTTPS Boot; none for the others
 *
 * and the IDE-R half of AMT_RedirectionService (EnabledState 32769/32771, ListenerEnabled), enabled
 * when needed and put back afterwards.
 */
import { DeviceRefusedError, InputError, UnsupportedError } from '../errors';
import type { WsmanClient } from '../wsman/client';
import type { InputObject } from '../wsman/messages';
import { ANONYMOUS, resourceUri } from '../wsman/namespaces';
import type { TypedObject } from '../wsman/typing';
import type { EndpointReference } from '../wsman/xml';

export const BOOT_TARGETS = ['pxe', 'ide-r-cd', 'ide-r-floppy', 'https', 'bios', 'normal'] as const;
export type BootTarget = (typeof BOOT_TARGETS)[number];

const TARGET_ALIASES: Record<string, BootTarget> = { cd: 'ide-r-cd', iso: 'ide-r-cd', floppy: 'ide-r-floppy', img: 'ide-r-floppy', 'bios-setup': 'bios', setup: 'bios', 'uefi-https': 'https', http: 'https', network: 'pxe', default: 'normal' };

export function canonicalBootTarget(value: unknown): BootTarget {
  const name = typeof value === 'string' ? value.trim().toLowerCase() : '';
  const t = (BOOT_TARGETS as readonly string[]).includes(name) ? (name as BootTarget) : TARGET_ALIASES[name];
  if (!t) throw new InputError(`unknown boot target "${String(value)}"; use one of: ${BOOT_TARGETS.join(', ')}`);
  return t;
}

export const isIderTarget = (t: BootTarget): t is 'ide-r-cd' | 'ide-r-floppy' => t === 'ide-r-cd' || t === 'ide-r-floppy';

/** The forced CIM_BootSourceSetting of each target, if any. */
export const BOOT_SOURCE: Readonly<Partial<Record<BootTarget, string>>> = {
  pxe: 'Intel(r) AMT: Force PXE Boot',
  'ide-r-cd': 'Intel(r) AMT: Force CD/DVD Boot',
  https: 'Intel(r) AMT: Force OCR UEFI HTTPS Boot',
};

export interface BootSupport {
  capabilities: TypedObject;
  settings: TypedObject;
}

export async function readBootSupport(client: WsmanClient): Promise<BootSupport> {
  const capabilities = (await client.get('AMT_BootCapabilities')).props;
  const settings = (await client.get('AMT_BootSettingData')).props;
  return { capabilities, settings };
}

/** Refuses, before anything changes, a target the device does not report it can boot. */
export function checkBootTarget(label: string, target: BootTarget, s: BootSupport): void {
  const has = (name: string) => s.capabilities[name] === true;
  const refuse = (what: string) => {
    throw new UnsupportedError(`${label} cannot ${what} (AMT_BootCapabilities)`);
  };
  switch (target) {
    case 'pxe':
      if (!has('ForcePXEBoot')) refuse('force a PXE boot');
      return;
    case 'ide-r-cd':
      if (!has('IDER')) refuse('boot from an IDE-R drive: it has no IDE redirection');
      if (!has('ForceCDorDVDBoot')) refuse('force a CD/DVD boot');
      return;
    case 'ide-r-floppy':
      if (!has('IDER')) refuse('boot from an IDE-R drive: it has no IDE redirection');
      return;
    case 'https':
      if (!has('ForceUEFIHTTPSBoot')) refuse('do a UEFI HTTPS boot (it needs AMT 16 or later and a BIOS that offers it)');
      if (s.settings.UEFIHTTPSBootEnabled === false) refuse('do a UEFI HTTPS boot: its BIOS has it disabled (UEFIHTTPSBootEnabled is false)');
      return;
    case 'bios':
      if (!has('BIOSSetup')) refuse('boot into BIOS setup');
      return;
    case 'normal':
      return;
  }
}

export interface HttpsBootOptions {
  url: string;
  /** SHA-256 of the HTTPS server's certificate, to pin it (hex, colons optional). */
  serverCertSha256?: string;
}

/** OCR TLV parameter types (Intel's boot option parameters) used here. */
const OCR = { networkDevicePath: 1, syncRootCa: 20, serverCertHashSha256: 23 } as const;

function tlv(type: number, value: Buffer): Buffer {
  const b = Buffer.alloc(8 + value.length);
  b.writeUInt16LE(0x8086, 0);
  b.writeUInt16LE(type, 2);
  b.writeUInt32LE(value.length, 4);
  value.copy(b, 8);
  return b;
}

/** UefiBootParametersArray (base64 of vendor/type/length/value records) and their count. */
export function httpsBootParameters(o: HttpsBootOptions): { array: string; count: number } {
  let url: URL;
  try {
    url = new URL(o.url);
  } catch {
    throw new InputError(`HTTPS boot URL "${o.url}" is not a URL`);
  }
  if (url.protocol !== 'https:') throw new InputError(`HTTPS boot URL must start with https://, not ${url.protocol}//`);
  if (url.username || url.password) throw new InputError('HTTPS boot URL must not carry a user name or password');
  const bytes = Buffer.from(o.url, 'utf8');
  if (bytes.length > 300) throw new InputError(`HTTPS boot URL is ${bytes.length} bytes; AMT takes at most 300`);
  const params = [tlv(OCR.networkDevicePath, bytes), tlv(OCR.syncRootCa, Buffer.from([1]))];
  if (o.serverCertSha256) {
    const hex = o.serverCertSha256.replace(/[:\s]/g, '');
    if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new InputError('HTTPS server certificate hash must be a SHA-256 (64 hex digits)');
    params.push(tlv(OCR.serverCertHashSha256, Buffer.from(hex, 'hex')));
  }
  return { array: Buffer.concat(params).toString('base64'), count: params.length };
}

/** The AMT_BootSettingData properties a Put may carry (identity and writable one-time options). */
const PUT_PROPERTIES = [
  'BIOSPause', 'BIOSSetup', 'BootMediaIndex', 'ConfigurationDataReset', 'ElementName', 'EnforceSecureBoot', 'FirmwareVerbosity',
  'ForcedProgressEvents', 'IDERBootDevice', 'InstanceID', 'LockKeyboard', 'LockPowerButton', 'LockResetButton', 'LockSleepButton',
  'OwningEntity', 'ReflashBIOS', 'SecureErase', 'UefiBootNumberOfParams', 'UefiBootParametersArray', 'UseIDER', 'UseSOL', 'UseSafeMode',
  'UserPasswordBypass',
];

const ONE_TIME_OFF: InputObject = {
  BIOSPause: false,
  BIOSSetup: false,
  BootMediaIndex: 0,
  ConfigurationDataReset: false,
  FirmwareVerbosity: 0,
  ForcedProgressEvents: false,
  IDERBootDevice: 0,
  LockKeyboard: false,
  LockPowerButton: false,
  LockResetButton: false,
  LockSleepButton: false,
  ReflashBIOS: false,
  SecureErase: false,
  UseIDER: false,
  UseSOL: false,
  UseSafeMode: false,
  UserPasswordBypass: false,
};

/** What a Put sends: the writable properties of `current` with `changes` over them, in AMT's byte order. */
export function bootSettingsBody(current: TypedObject, changes: InputObject): InputObject {
  const merged: InputObject = {};
  for (const k of PUT_PROPERTIES) {
    const v = k in changes ? changes[k] : current[k];
    if (v === undefined || v === null || (typeof v === 'object' && !Array.isArray(v))) continue;
    merged[k] = v as InputObject[string];
  }
  return Object.fromEntries(Object.entries(merged).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export function targetSettings(target: BootTarget, https?: HttpsBootOptions): InputObject {
  switch (target) {
    case 'ide-r-cd':
      return { ...ONE_TIME_OFF, UseIDER: true, IDERBootDevice: 1 };
    case 'ide-r-floppy':
      return { ...ONE_TIME_OFF, UseIDER: true, IDERBootDevice: 0 };
    case 'bios':
      return { ...ONE_TIME_OFF, BIOSSetup: true };
    case 'https': {
      if (!https) throw new InputError('an HTTPS boot needs a URL (set it in the node or in msg.url)');
      const p = httpsBootParameters(https);
      return { ...ONE_TIME_OFF, UefiBootParametersArray: p.array, UefiBootNumberOfParams: p.count };
    }
    default:
      return { ...ONE_TIME_OFF };
  }
}

const BOOT_CONFIG: EndpointReference = {
  address: ANONYMOUS,
  resourceUri: resourceUri('CIM_BootConfigSetting'),
  selectors: { InstanceID: 'Intel(r) AMT: Boot Configuration 0' },
};

const sourceRef = (instanceId: string): EndpointReference => ({ address: ANONYMOUS, resourceUri: resourceUri('CIM_BootSourceSetting'), selectors: { InstanceID: instanceId } });

async function changeBootOrder(client: WsmanClient, source?: string): Promise<void> {
  const out = await client.invoke('CIM_BootConfigSetting', 'ChangeBootOrder', source ? { Source: sourceRef(source) } : {});
  const rv = Number(out.ReturnValue);
  if (rv !== 0) throw new DeviceRefusedError(source ? `ChangeBootOrder to "${source}"` : 'clearing the boot order', rv, rv === 2 ? 'unknown boot source' : 'see the AMT SDK');
}

async function setBootConfigRole(client: WsmanClient, role: 1 | 32768): Promise<void> {
  const out = await client.invoke('CIM_BootService', 'SetBootConfigRole', { BootConfigSetting: BOOT_CONFIG, Role: role });
  const rv = Number(out.ReturnValue);
  if (rv !== 0) throw new DeviceRefusedError('SetBootConfigRole', rv, 'see the AMT SDK');
}

/** Arms the next boot for `target`. `current` is AMT_BootSettingData as read before. */
export async function armBoot(client: WsmanClient, target: BootTarget, current: TypedObject, https?: HttpsBootOptions): Promise<void> {
  const body = bootSettingsBody(current, targetSettings(target, https));
  await changeBootOrder(client);
  await client.put('AMT_BootSettingData', body);
  await setBootConfigRole(client, 1);
  const source = BOOT_SOURCE[target];
  if (source) await changeBootOrder(client, source);
}

/** Puts the boot settings read before back, with no forced source and no pending one-time boot. */
/** No one-time boot waiting for the next power-on (after a boot that was interrupted before it ran). */
export async function clearArmedBoot(client: WsmanClient): Promise<void> {
  await changeBootOrder(client);
  await setBootConfigRole(client, 32768);
}

export async function restoreBoot(client: WsmanClient, saved: TypedObject): Promise<void> {
  await changeBootOrder(client);
  await client.put('AMT_BootSettingData', bootSettingsBody(saved, {}));
  await setBootConfigRole(client, 32768);
}

export interface RedirectionState {
  enabledState: number;
  listenerEnabled: boolean;
}

/** 32768 nothing, 32769 IDE-R, 32770 SOL, 32771 both. */
const withIder = (state: number): number => (state === 32770 || state === 32771 ? 32771 : 32769);

export async function readRedirection(client: WsmanClient): Promise<RedirectionState> {
  const p = (await client.get('AMT_RedirectionService')).props;
  return { enabledState: Number(p.EnabledState), listenerEnabled: p.ListenerEnabled === true };
}

export async function requestRedirectionState(client: WsmanClient, state: number): Promise<void> {
  const out = await client.invoke('AMT_RedirectionService', 'RequestStateChange', { RequestedState: state });
  const rv = Number(out.ReturnValue);
  if (rv !== 0) throw new DeviceRefusedError(`AMT_RedirectionService.RequestStateChange(${state})`, rv, rv === 5 ? 'invalid parameter' : 'see the AMT SDK');
}

export async function putListener(client: WsmanClient, enabled: boolean): Promise<void> {
  const p = (await client.get('AMT_RedirectionService')).props;
  const body: InputObject = {};
  for (const k of ['CreationClassName', 'ElementName', 'EnabledState', 'ListenerEnabled', 'Name', 'SystemCreationClassName', 'SystemName']) {
    const v = k === 'ListenerEnabled' ? enabled : p[k];
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') body[k] = v;
  }
  await client.put('AMT_RedirectionService', body);
}

/** Turns on IDE-R and the redirection listener; returns the state before when it changed anything. */
export async function enableIder(client: WsmanClient, before?: RedirectionState): Promise<RedirectionState | undefined> {
  before ??= await readRedirection(client);
  const ider = before.enabledState === 32769 || before.enabledState === 32771;
  if (ider && before.listenerEnabled) return undefined;
  if (!ider) await requestRedirectionState(client, withIder(before.enabledState));
  if (!before.listenerEnabled) await putListener(client, true);
  return before;
}

export async function restoreRedirection(client: WsmanClient, before: RedirectionState): Promise<void> {
  const now = await readRedirection(client);
  if (now.enabledState !== before.enabledState) await requestRedirectionState(client, before.enabledState);
  if (now.listenerEnabled !== before.listenerEnabled) await putListener(client, before.listenerEnabled);
}
