/**
 * System Defense classes of a simulated PC: AMT_SystemDefensePolicy (Create, Put, Delete,
 * UpdateStatistics), AMT_IPHeadersFilter and AMT_Hdr8021Filter (Create, Delete; AMT_NetworkFilter
 * lists both), the associations
 * AMT_FilterInSystemDefensePolicy, AMT_NetworkPortSystemDefensePolicy and
 * AMT_NetworkPortDefaultSystemDefensePolicy, AMT_ActiveFilterStatistics, CIM_EthernetPort and
 * AMT_GeneralSystemDefenseCapabilities.
 *
 * Modelled, not captured: no real answers for these classes exist in permissive sources (see
 * test/fixtures/SOURCES.md). Property names follow Intel's class reference. What MeshCommander
 * shows of real firmware is followed (docs/firmware-evidence.md): keys required in a Create,
 * filter InstanceIDs that are their handles, one policy link per port, the port named by
 * CreationClassName and DeviceID to delete a link. Other limits and faults are our choices, each
 * noted where it is made. Changes answer AccessDenied
 * unless the device is in admin control mode. Enforcement lives in packages/sim/src/defense.ts.
 */
import type { SimDevice } from '../device';
import {
  defenseState,
  filterRef,
  maxFilters,
  maxPolicies,
  policyByInstanceId,
  policyInstanceId,
  policyOfRef,
  policyRef,
  portDeviceId,
  portOfRef,
  PortIndex,
  portRef,
  ports,
  refreshPolicies,
  requireAdminControlMode,
  SimFilter,
  SimPolicy,
  statisticsRows,
  SYSTEM_KEYS,
  updateStatistics,
} from '../defense';
import { faults, SimFault } from '../sim-fault';
import { isRef, ref, SimProps, SimRef } from '../values';
import { SIM_NS as NS } from '../wsman-uris';
import type { InputObject } from '../request-envelope';
import { ClassHandler, inputInt, inputText } from './types';

/**
 * Every change (Put, Create, Delete, method) first checks the control mode; reads answer in any
 * mode, showing what is there (modelled: how client-control-mode firmware answers reads is not
 * documented, and OOBKit checks the control mode before it reads anyway).
 */
export function adminOnly(h: ClassHandler): ClassHandler {
  const wrapped: ClassHandler = { ...h };
  if (h.put) wrapped.put = (d, c, i) => (requireAdminControlMode(d), h.put!(d, c, i));
  if (h.create) wrapped.create = (d, i) => (requireAdminControlMode(d), h.create!(d, i));
  if (h.delete) wrapped.delete = (d, c, s) => (requireAdminControlMode(d), h.delete!(d, c, s));
  if (h.methods) {
    wrapped.methods = Object.fromEntries(
      Object.entries(h.methods).map(([name, fn]) => [
        name,
        (ctx: Parameters<typeof fn>[0]) => {
          requireAdminControlMode(ctx.device);
          return fn(ctx);
        },
      ]),
    );
  }
  return wrapped;
}

export const quotaLimit = (what: string) => new SimFault(NS.wsman, 'QuotaLimit', `The service cannot hold more ${what}.`);

const bad = (detail: string) => faults.invalidParameter(detail);

/**
 * A Create must carry the class's key properties, even though the device fills them in itself:
 * MeshCommander sends a placeholder (0) for every one of them in every Create, which only makes
 * sense if firmware refuses a Create without (docs/firmware-evidence.md).
 */
export function requireKeys(input: InputObject, className: string, keys: string[]): void {
  const missing = keys.filter((k) => input[k] === undefined);
  if (missing.length) throw bad(`${className} Create without its key properties ${missing.join(', ')}.`);
}

function bool(input: InputObject, name: string, required = true): boolean | undefined {
  const v = inputText(input, name)?.trim().toLowerCase();
  if (v === undefined || v === '') {
    if (required) throw bad(`${name} is required.`);
    return undefined;
  }
  if (v !== 'true' && v !== 'false') throw bad(`${name} must be true or false.`);
  return v === 'true';
}

function int(input: InputObject, name: string, min: number, max: number, required = false): number | undefined {
  const text = inputText(input, name);
  if (text === undefined || text.trim() === '') {
    if (required) throw bad(`${name} is required.`);
    return undefined;
  }
  const v = inputInt(input, name);
  if (v === undefined || v < min || v > max) throw bad(`${name} must be a whole number from ${min} to ${max}.`);
  return v;
}

function ints(input: InputObject, name: string): number[] {
  const v = input[name];
  const list = v === undefined || v === '' ? [] : Array.isArray(v) ? v : [v];
  return list.map((x) => {
    if (typeof x !== 'string' || !/^\s*\d+\s*$/.test(x)) throw bad(`${name} must hold whole numbers.`);
    return Number(x);
  });
}

// --- filters -----------------------------------------------------------------------------------

const FILTER_NAME_MAX = 16; // MeshCommander's filter dialog limit; the firmware's own limit is not documented.

function commonFilterProps(d: SimDevice, className: SimFilter['className'], input: InputObject): SimProps {
  requireKeys(input, className, ['InstanceID', 'CreationClassName', 'SystemName', 'SystemCreationClassName']);
  const s = defenseState(d);
  if (s.filters.size >= maxFilters(d)) throw quotaLimit(`than ${maxFilters(d)} System Defense filters`);
  const name = inputText(input, 'Name')?.trim();
  if (!name) throw bad('Name is required.');
  if (name.length > FILTER_NAME_MAX) throw bad(`Name is longer than ${FILTER_NAME_MAX} characters.`);
  if ([...s.filters.values()].some((f) => f.props.Name === name)) throw faults.alreadyExists();
  const profile = int(input, 'FilterProfile', 0, 4, true) as number;
  const direction = int(input, 'FilterDirection', 0, 1, true) as number;
  const event = bool(input, 'ActionEventOnMatch') as boolean;
  const data = int(input, 'FilterProfileData', 0, 0xffffffff);
  if (profile === 2 && !data) throw bad('FilterProfileData (packets per second) is required for a rate limit filter.');
  const props: SimProps = {
    ActionEventOnMatch: event,
    CreationClassName: className,
    FilterDirection: direction,
    FilterProfile: profile,
    Name: name,
    ...SYSTEM_KEYS,
  };
  if (profile === 2) props.FilterProfileData = data;
  return props;
}

function hexAddress(input: InputObject, name: string, version: number | undefined): string | undefined {
  const v = inputText(input, name)?.trim();
  if (v === undefined || v === '') return undefined;
  if (version === undefined) throw bad(`${name} needs HdrIPVersion.`);
  const size = version === 4 ? 8 : 32;
  if (!/^[0-9A-Fa-f]+$/.test(v) || v.length !== size) throw bad(`${name} must be ${size / 2} bytes of hex for IPv${version}.`);
  return v.toUpperCase();
}

function addressSide(input: InputObject, side: 'Src' | 'Dest', version: number | undefined, props: SimProps): void {
  const address = hexAddress(input, `Hdr${side}Address`, version);
  const mask = hexAddress(input, `Hdr${side}Mask`, version);
  const end = hexAddress(input, `Hdr${side}AddressEndOfRange`, version);
  if ((mask || end) && !address) throw bad(`Hdr${side}Mask and Hdr${side}AddressEndOfRange need Hdr${side}Address.`);
  if (mask && end) throw bad(`Hdr${side}Mask and Hdr${side}AddressEndOfRange exclude each other.`);
  if (address && end && Buffer.compare(Buffer.from(address, 'hex'), Buffer.from(end, 'hex')) > 0) throw bad(`Hdr${side}AddressEndOfRange is below Hdr${side}Address.`);
  if (address) props[`Hdr${side}Address`] = address;
  if (mask) props[`Hdr${side}Mask`] = mask;
  if (end) props[`Hdr${side}AddressEndOfRange`] = end;
}

function portSide(input: InputObject, side: 'Src' | 'Dest', protocol: number | undefined, props: SimProps): void {
  const start = int(input, `Hdr${side}PortStart`, 0, 65535);
  const end = int(input, `Hdr${side}PortEnd`, 0, 65535);
  if (start === undefined && end === undefined) return;
  if (protocol !== 6 && protocol !== 17) throw bad(`Hdr${side}PortStart/End need HdrProtocolID 6 (TCP) or 17 (UDP).`);
  if (start !== undefined && end !== undefined && end < start) throw bad(`Hdr${side}PortEnd is below Hdr${side}PortStart.`);
  if (start !== undefined) props[`Hdr${side}PortStart`] = start;
  if (end !== undefined) props[`Hdr${side}PortEnd`] = end;
}

function addFilter(d: SimDevice, className: SimFilter['className'], props: SimProps): SimRef {
  const s = defenseState(d);
  const handle = s.nextHandle++;
  // The filter's handle itself: MeshCommander lists filter InstanceIDs as a policy's FilterCreationHandles.
  props.InstanceID = String(handle);
  const f: SimFilter = { className, handle, props };
  s.filters.set(handle, f);
  return filterRef(f);
}

function deleteFilter(d: SimDevice, current: SimProps): void {
  const s = defenseState(d);
  const f = [...s.filters.values()].find((x) => x.props.InstanceID === current.InstanceID);
  if (!f) throw faults.invalidSelectors('No instance matches the selectors.');
  // Modelled: a filter a policy still uses is refused rather than silently taken out of it.
  const user = [...s.policies.values()].find((p) => p.filterHandles.includes(f.handle));
  if (user) throw bad(`Filter ${f.props.Name} is used by policy ${user.props.PolicyName ?? user.props.InstanceID}.`);
  s.filters.delete(f.handle);
}

const FILTER_KEYS = ['CreationClassName', 'InstanceID', 'Name', 'SystemCreationClassName', 'SystemName'];

function filtersOf(d: SimDevice, className: SimFilter['className']): SimProps[] {
  return [...defenseState(d).filters.values()].filter((f) => f.className === className).map((f) => f.props);
}

export const ipHeadersFilter: ClassHandler = adminOnly({
  className: 'AMT_IPHeadersFilter',
  keys: FILTER_KEYS,
  instances: (d) => filtersOf(d, 'AMT_IPHeadersFilter'),
  create: (d, input) => {
    const props = commonFilterProps(d, 'AMT_IPHeadersFilter', input);
    const version = int(input, 'HdrIPVersion', 4, 6);
    if (version !== undefined && version !== 4 && version !== 6) throw bad('HdrIPVersion must be 4 or 6.');
    if (version !== undefined) props.HdrIPVersion = version;
    const protocol = int(input, 'HdrProtocolID', 0, 255);
    if (protocol !== undefined) props.HdrProtocolID = protocol;
    addressSide(input, 'Src', version, props);
    addressSide(input, 'Dest', version, props);
    portSide(input, 'Src', protocol, props);
    portSide(input, 'Dest', protocol, props);
    return addFilter(d, 'AMT_IPHeadersFilter', props);
  },
  delete: deleteFilter,
});

export const hdr8021Filter: ClassHandler = adminOnly({
  className: 'AMT_Hdr8021Filter',
  keys: FILTER_KEYS,
  instances: (d) => filtersOf(d, 'AMT_Hdr8021Filter'),
  create: (d, input) => {
    const props = commonFilterProps(d, 'AMT_Hdr8021Filter', input);
    props.HdrProtocolID8021 = int(input, 'HdrProtocolID8021', 0, 65535, true) as number;
    return addFilter(d, 'AMT_Hdr8021Filter', props);
  },
  delete: deleteFilter,
});

/**
 * The filters' base class, enumerated as a whole: MeshCommander reads it last in its System
 * Defense batch, which fails unless it answers. Modelled: every filter of both kinds.
 */
export const networkFilter: ClassHandler = adminOnly({
  className: 'AMT_NetworkFilter',
  keys: FILTER_KEYS,
  instances: (d) => [...defenseState(d).filters.values()].map((f) => f.props),
});

// --- policies ----------------------------------------------------------------------------------

const POLICY_FLAGS = ['TxDefaultDrop', 'TxDefaultMatchEvent', 'TxDefaultCount', 'RxDefaultDrop', 'RxDefaultMatchEvent', 'RxDefaultCount'];

function filterHandlesFrom(d: SimDevice, input: InputObject): number[] {
  const handles = ints(input, 'FilterCreationHandles');
  const s = defenseState(d);
  for (const h of handles) if (!s.filters.has(h)) throw bad(`FilterCreationHandles: no filter has handle ${h}.`);
  if (new Set(handles).size !== handles.length) throw bad('FilterCreationHandles lists a filter twice.');
  return handles;
}

function policyProps(p: SimPolicy): SimProps {
  return { ...p.props, FilterCreationHandles: p.filterHandles.length ? p.filterHandles : undefined };
}

function checkPolicyName(d: SimDevice, name: string | undefined, self?: SimPolicy): void {
  if (name === undefined) return;
  if (name.length > 32) throw bad('PolicyName is longer than 32 characters.'); // modelled limit
  if ([...defenseState(d).policies.values()].some((p) => p !== self && p.props.PolicyName === name)) throw faults.alreadyExists();
}

function policyFromSelectors(d: SimDevice, selectors: Record<string, string>): SimPolicy {
  const p = policyByInstanceId(d, selectors.InstanceID);
  if (!p) throw faults.invalidSelectors('No AMT_SystemDefensePolicy has that InstanceID.');
  return p;
}

export const systemDefensePolicy: ClassHandler = adminOnly({
  className: 'AMT_SystemDefensePolicy',
  keys: ['InstanceID'],
  instances: (d) => [...defenseState(d).policies.values()].map(policyProps),
  create: (d, input) => {
    requireKeys(input, 'AMT_SystemDefensePolicy', ['InstanceID']);
    const s = defenseState(d);
    if (s.policies.size >= maxPolicies(d)) throw quotaLimit(`than ${maxPolicies(d)} System Defense policies`);
    const name = inputText(input, 'PolicyName')?.trim() || undefined;
    checkPolicyName(d, name);
    const props: SimProps = { ElementName: 'Intel(r) AMT System Defense Policy', PolicyPrecedence: int(input, 'PolicyPrecedence', 0, 0xffffffff, true) };
    if (name) props.PolicyName = name;
    const anti = int(input, 'AntiSpoofingSupport', 0, 4);
    if (anti !== undefined) props.AntiSpoofingSupport = anti;
    for (const f of POLICY_FLAGS) props[f] = bool(input, f);
    const filterHandles = filterHandlesFrom(d, input);
    const handle = s.nextPolicy++;
    props.InstanceID = policyInstanceId(handle);
    const p: SimPolicy = { handle, props, filterHandles };
    s.policies.set(handle, p);
    return policyRef(p);
  },
  put: (d, current, input) => {
    const p = policyByInstanceId(d, String(current.InstanceID));
    if (!p) throw faults.invalidSelectors('No instance matches the selectors.');
    const name = inputText(input, 'PolicyName')?.trim();
    if (name !== undefined && name !== '') {
      checkPolicyName(d, name, p);
      p.props.PolicyName = name;
    }
    const precedence = int(input, 'PolicyPrecedence', 0, 0xffffffff);
    if (precedence !== undefined) p.props.PolicyPrecedence = precedence;
    for (const f of POLICY_FLAGS) {
      const v = bool(input, f, false);
      if (v !== undefined) p.props[f] = v;
    }
    if ('FilterCreationHandles' in input) p.filterHandles = filterHandlesFrom(d, input);
    refreshPolicies(d, 'policy-put');
    return policyProps(p);
  },
  delete: (d, current) => {
    const s = defenseState(d);
    const p = policyByInstanceId(d, String(current.InstanceID));
    if (!p) throw faults.invalidSelectors('No instance matches the selectors.');
    // The firmware drops a deleted policy's interface bindings with it.
    s.policies.delete(p.handle);
    for (const set of s.enabled.values()) set.delete(p.handle);
    for (const [port, h] of s.defaults) if (h === p.handle) s.defaults.delete(port);
    for (const [port, ap] of s.agentPolicy) if (ap.handle === p.handle) s.agentPolicy.delete(port);
    refreshPolicies(d, 'policy-deleted');
  },
  methods: {
    /** NetworkInterface: the CIM_EthernetPort; ResetOnRead: reset the live counters after the copy. */
    UpdateStatistics: ({ device, input, selectors }) => {
      policyFromSelectors(device, selectors);
      const port = portOfRef(device, input.NetworkInterface);
      if (port === undefined) throw bad('NetworkInterface must reference a CIM_EthernetPort of this device.');
      updateStatistics(device, port, bool(input, 'ResetOnRead', false) === true);
      return { returnValue: 0 };
    },
  },
});

// --- associations ------------------------------------------------------------------------------

function selectorMap(r: SimRef): Record<string, string> {
  return Object.fromEntries(r.selectors.filter((e): e is [string, string] => typeof e[1] === 'string'));
}

/** Port and policy of a stored association instance (its Antecedent and Dependent references). */
function portAndPolicy(d: SimDevice, current: SimProps): [PortIndex, SimPolicy] {
  const a = current.Antecedent;
  const b = current.Dependent;
  if (!isRef(a) || !isRef(b)) throw faults.invalidSelectors('Antecedent and Dependent are required.');
  const port = ports(d).find((p) => portDeviceId(p) === selectorMap(a).DeviceID);
  const policy = policyByInstanceId(d, selectorMap(b).InstanceID);
  if (port === undefined || !policy) throw faults.invalidSelectors('No instance matches the selectors.');
  return [port, policy];
}

/** The Antecedent selector must name the port by CreationClassName and DeviceID. */
function requirePortSelectors(selectors: Record<string, string>): void {
  let port: { selectors?: Record<string, unknown> } | undefined;
  try {
    port = JSON.parse(selectors.Antecedent ?? '') as typeof port;
  } catch {
    port = undefined;
  }
  const s = port?.selectors ?? {};
  if (s.CreationClassName !== 'CIM_EthernetPort' || typeof s.DeviceID !== 'string') {
    throw faults.invalidSelectors('The Antecedent must name the CIM_EthernetPort by CreationClassName and DeviceID.');
  }
}

function bindingInput(d: SimDevice, input: InputObject): [PortIndex, SimPolicy] {
  const port = portOfRef(d, input.Antecedent);
  if (port === undefined) throw bad('Antecedent must reference a CIM_EthernetPort of this device.');
  const policy = policyOfRef(d, input.Dependent);
  if (!policy) throw bad('Dependent must reference an existing AMT_SystemDefensePolicy.');
  return [port, policy];
}

function bindingRef(className: string, port: PortIndex, p: SimPolicy): SimRef {
  return ref(className, { Antecedent: portRef(port), Dependent: policyRef(p) });
}

/**
 * Links a policy to an interface: one link per interface, as MeshCommander treats it (to change
 * the policy it deletes the link, then creates the new one); a second link is refused. Deleting a
 * link needs the port named by CreationClassName and DeviceID, as MeshCommander's Delete does.
 */
export const networkPortSystemDefensePolicy: ClassHandler = adminOnly({
  className: 'AMT_NetworkPortSystemDefensePolicy',
  keys: ['Antecedent', 'Dependent'],
  instances: (d) => {
    const s = defenseState(d);
    return ports(d).flatMap((port) =>
      [...(s.enabled.get(port) ?? [])]
        .sort((a, b) => a - b)
        .map((h) => s.policies.get(h))
        .filter((p): p is SimPolicy => p !== undefined)
        .map((p) => ({ Antecedent: portRef(port), Dependent: policyRef(p) })),
    );
  },
  create: (d, input) => {
    const [port, policy] = bindingInput(d, input);
    const s = defenseState(d);
    const set = s.enabled.get(port) ?? new Set<number>();
    if (set.has(policy.handle)) throw faults.alreadyExists();
    if (set.size > 0) throw bad(`${portDeviceId(port)} has a System Defense policy linked already; delete that link first.`);
    set.add(policy.handle);
    s.enabled.set(port, set);
    refreshPolicies(d, 'policy-enabled');
    return bindingRef('AMT_NetworkPortSystemDefensePolicy', port, policy);
  },
  delete: (d, current, selectors) => {
    requirePortSelectors(selectors);
    const [port, policy] = portAndPolicy(d, current);
    defenseState(d).enabled.get(port)?.delete(policy.handle);
    refreshPolicies(d, 'policy-disabled');
  },
});

/** The policy in force on an interface when no other is (one per interface). */
export const networkPortDefaultSystemDefensePolicy: ClassHandler = adminOnly({
  className: 'AMT_NetworkPortDefaultSystemDefensePolicy',
  keys: ['Antecedent', 'Dependent'],
  instances: (d) => {
    const s = defenseState(d);
    return ports(d).flatMap((port) => {
      const p = s.policies.get(s.defaults.get(port) ?? -1);
      return p ? [{ Antecedent: portRef(port), Dependent: policyRef(p) }] : [];
    });
  },
  create: (d, input) => {
    const [port, policy] = bindingInput(d, input);
    const s = defenseState(d);
    if (s.defaults.has(port)) throw faults.alreadyExists();
    s.defaults.set(port, policy.handle);
    refreshPolicies(d, 'default-policy-set');
    return bindingRef('AMT_NetworkPortDefaultSystemDefensePolicy', port, policy);
  },
  delete: (d, current) => {
    const [port] = portAndPolicy(d, current);
    defenseState(d).defaults.delete(port);
    refreshPolicies(d, 'default-policy-removed');
  },
});

export const filterInSystemDefensePolicy: ClassHandler = adminOnly({
  className: 'AMT_FilterInSystemDefensePolicy',
  keys: ['Antecedent', 'Dependent'],
  instances: (d) => {
    const s = defenseState(d);
    return [...s.policies.values()].flatMap((p) =>
      p.filterHandles
        .map((h) => s.filters.get(h))
        .filter((f): f is SimFilter => f !== undefined)
        .map((f) => ({ Antecedent: policyRef(p), Dependent: filterRef(f) })),
    );
  },
});

export const activeFilterStatistics: ClassHandler = adminOnly({
  className: 'AMT_ActiveFilterStatistics',
  keys: ['Antecedent', 'Dependent'],
  commonNs: true,
  instances: (d) => statisticsRows(d),
});

/**
 * The ports as AMT 12 reports them (test/fixtures/amt/gwm/cim/ethernetport/get.xml): the MAC in
 * NetworkAddresses as 12 lower-case hex digits, PortType 53 (1000BaseT) on the wired port. The
 * wireless port's Description and PortType (0, unknown, as CIM_WiFiPort says) are not from a capture.
 */
export const ethernetPort: ClassHandler = adminOnly({
  className: 'CIM_EthernetPort',
  commonNs: true,
  keys: ['CreationClassName', 'DeviceID', 'SystemCreationClassName', 'SystemName'],
  instances: (d) =>
    ports(d).map((p) => ({
      CreationClassName: 'CIM_EthernetPort',
      Description: p === 0 ? 'Wired0' : 'Wireless1',
      DeviceID: portDeviceId(p),
      ElementName: 'Intel(r) AMT Ethernet Port',
      EnabledDefault: 5,
      EnabledState: 2,
      LinkTechnology: p === 0 ? 2 : 11,
      MaxSpeed: 1000000000,
      NetworkAddresses: (p === 0 ? d.mac : (d.hardware.wirelessMac ?? d.mac)).replace(/:/g, '').toLowerCase(),
      OperationalStatus: 0,
      PortType: p === 0 ? 53 : 0,
      RequestedState: 12,
      Speed: 1000000000,
      ...SYSTEM_KEYS,
    })),
});

export const generalSystemDefenseCapabilities: ClassHandler = adminOnly({
  className: 'AMT_GeneralSystemDefenseCapabilities',
  instances: (d) => [
    {
      ElementName: 'Intel(r) AMT General System Defense Capabilities',
      GlobalMaxSupportedFilters: maxFilters(d),
      GlobalMaxSupportedPolicies: maxPolicies(d),
      InstanceID: 'Intel(r) AMT: General System Defense Capabilities',
    },
  ],
});

export const defenseClasses = [
  systemDefensePolicy,
  ipHeadersFilter,
  hdr8021Filter,
  networkFilter,
  filterInSystemDefensePolicy,
  networkPortSystemDefensePolicy,
  networkPortDefaultSystemDefensePolicy,
  activeFilterStatistics,
  ethernetPort,
  generalSystemDefenseCapabilities,
];
