/**
 * Reading a PC's asset inventory over AMT in as few requests as the firmware allows: one
 * enumeration where one gives several facts (CIM_PhysicalPackage returns the chassis, the base
 * board and the disks' packages; CIM_Chip returns the processor chips and the memory modules),
 * a Get for single instances, nothing read twice. 19 requests on current firmware.
 *
 * Faults never lose what was read: a class the firmware lacks leaves its fields out (and is a
 * feature's "unsupported" where that is the answer), anything else that fails is listed in
 * `missing` with the reason and the result is marked `partial`. When the device stops answering
 * (timeout, connection lost) nothing more is sent; when it never answered at all, or refused the
 * credentials, the error is thrown instead.
 */
import { OobError, WsmanFaultError } from '../../errors';
import type { TypedInstance, WsmanClient } from '../../wsman/client';
import type { TypedObject } from '../../wsman/typing';
import {
  amtFrom,
  biosFrom,
  featuresFrom,
  memoryFrom,
  networkFrom,
  packagesFrom,
  platformFrom,
  processorsFrom,
  storageFrom,
  UNSUPPORTED,
} from './decode';
import type { Inventory, MissingPart } from './types';

type Fetched<T> = { ok: true; value: T } | { ok: false; unsupported: boolean; reason: string };

/** Fault subcodes that mean "this firmware has no such class". */
const NOT_THERE = new Set(['DestinationUnreachable', 'ActionNotSupported', 'InvalidResourceURI', 'EndpointUnavailable']);
const GONE = new Set(['TIMEOUT', 'UNREACHABLE', 'CLOSED']);

/** The requests of one inventory read: cached by class, and stopped once the device is gone. */
class ReadSession {
  private readonly cache = new Map<string, Promise<Fetched<unknown>>>();
  private gone?: OobError;
  answered = 0;

  constructor(private readonly client: WsmanClient) {}

  get lostDevice(): OobError | undefined {
    return this.gone;
  }

  get(className: string): Promise<Fetched<TypedObject>> {
    return this.once(`get ${className}`, className, async () => (await this.client.get(className)).props);
  }

  enumerate(className: string): Promise<Fetched<TypedInstance[]>> {
    return this.once(`enum ${className}`, className, () => this.client.enumerate(className, { maxElements: 100 }));
  }

  private once<T>(key: string, className: string, fn: () => Promise<T>): Promise<Fetched<T>> {
    let p = this.cache.get(key) as Promise<Fetched<T>> | undefined;
    if (!p) {
      p = this.run(className, fn);
      this.cache.set(key, p);
    }
    return p;
  }

  private async run<T>(className: string, fn: () => Promise<T>): Promise<Fetched<T>> {
    if (this.gone) return { ok: false, unsupported: false, reason: `not read: the device stopped answering earlier (${this.gone.message})` };
    try {
      const value = await fn();
      this.answered++;
      return { ok: true, value };
    } catch (e) {
      if (e instanceof WsmanFaultError) {
        this.answered++;
        const unsupported = NOT_THERE.has(e.subcode);
        return { ok: false, unsupported, reason: unsupported ? `${className} is not available on this firmware (${e.subcode})` : `${className}: ${e.message}` };
      }
      if (e instanceof OobError && GONE.has(e.code)) {
        this.gone = e;
        return { ok: false, unsupported: false, reason: e.message };
      }
      if (e instanceof OobError && (e.code === 'BAD_XML' || e.code === 'HTTP_STATUS')) {
        return { ok: false, unsupported: false, reason: `${className}: ${e.message}` };
      }
      // Credentials, certificate pinning, closed client, bugs: the whole read fails.
      throw e;
    }
  }
}

/** Read everything the inventory reports. Throws only when the device could not be read at all. */
export async function readInventory(client: WsmanClient, now: () => Date = () => new Date()): Promise<Inventory> {
  const s = new ReadSession(client);
  const missing: MissingPart[] = [];
  const need = <T>(section: string, className: string, f: Fetched<T>): T | undefined => {
    if (f.ok) return f.value;
    missing.push({ section, class: className, reason: f.reason });
    return undefined;
  };
  /** A class whose absence is itself the answer (a feature the PC does not have). */
  const optional = <T>(section: string, className: string, f: Fetched<T>): T | typeof UNSUPPORTED | undefined => {
    if (f.ok) return f.value;
    if (f.unsupported) return UNSUPPORTED;
    missing.push({ section, class: className, reason: f.reason });
    return undefined;
  };

  // platform: system UUID, then chassis, base board and the disks' packages in one enumeration.
  const systemPackage = need('platform', 'CIM_ComputerSystemPackage', await s.get('CIM_ComputerSystemPackage'));
  const pp = await s.enumerate('CIM_PhysicalPackage');
  const packages = pp.ok ? packagesFrom(pp.value) : { media: [] };
  // Older firmware fails the enumeration, and some leave the chassis (or the board) out of it:
  // read what is not there one by one, so it is either reported or listed in `missing`.
  if (!packages.chassis) packages.chassis = need('platform', 'CIM_Chassis', await s.get('CIM_Chassis'));
  if (!packages.card) packages.card = need('platform', 'CIM_Card', await s.get('CIM_Card'));
  const platform = platformFrom({ systemPackage, chassis: packages.chassis, card: packages.card });

  const bios = biosFrom(need('bios', 'CIM_BIOSElement', await s.get('CIM_BIOSElement')));

  const procs = await s.enumerate('CIM_Processor');
  const chips = await s.enumerate('CIM_Chip');
  if (!procs.ok) need('processors', 'CIM_Processor', procs);
  if (!chips.ok) need('processors', 'CIM_Chip', chips);
  const processors = processorsFrom(procs.ok ? procs.value : [], chips.ok ? chips.value : []);

  let memory = chips.ok ? memoryFrom(chips.value) : [];
  if (memory.length === 0) {
    // Firmware that lists memory modules only under their own class.
    const mem = await s.enumerate('CIM_PhysicalMemory');
    memory = memoryFrom(need('memory', 'CIM_PhysicalMemory', mem) ?? []);
  }
  const memoryTotalBytes = memory.reduce((t, m) => t + (m.sizeBytes ?? 0), 0);

  const media = need('storage', 'CIM_MediaAccessDevice', await s.enumerate('CIM_MediaAccessDevice'));
  if (media && media.length > 0 && !pp.ok) missing.push({ section: 'storage', class: 'CIM_PhysicalPackage', reason: `disk models and serial numbers unknown: ${pp.reason}` });
  const storage = storageFrom(media ?? [], pp.ok ? pp.value : []);

  const network = networkFrom(need('network', 'AMT_EthernetPortSettings', await s.enumerate('AMT_EthernetPortSettings')) ?? []);

  const amt = amtFrom(
    need('amt', 'CIM_SoftwareIdentity', await s.enumerate('CIM_SoftwareIdentity')),
    need('amt', 'AMT_SetupAndConfigurationService', await s.get('AMT_SetupAndConfigurationService')),
  );

  const features = featuresFrom({
    redirection: optional('features', 'AMT_RedirectionService', await s.get('AMT_RedirectionService')),
    kvm: optional('features', 'CIM_KVMRedirectionSAP', await s.get('CIM_KVMRedirectionSAP')),
    defensePolicies: optional('features', 'AMT_NetworkPortSystemDefensePolicy', await s.enumerate('AMT_NetworkPortSystemDefensePolicy')),
  });

  const lost = s.lostDevice;
  if (lost && s.answered === 0) throw lost;
  return {
    readAt: now().toISOString(),
    platform,
    bios,
    processors,
    memory,
    memoryTotalBytes,
    storage,
    network,
    amt,
    features,
    partial: missing.length > 0,
    missing,
  };
}
