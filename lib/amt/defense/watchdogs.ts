/**
 * Agent Presence: AMT watches software agents in the OS (an antivirus, a firewall) that assert
 * their presence, and acts when one goes silent (expired) or stops: it raises an event and can
 * switch on a System Defense policy by itself, with no console involved.
 *
 * AMT_AgentPresenceWatchdog instances are keyed by DeviceID, the agent's GUID as 16 bytes in
 * base64; StartupInterval (our "grace") is how long after the OS starts the agent has to
 * register, TimeoutInterval how long it may stay silent. States: 1 not started, 2 stopped,
 * 4 running, 8 expired, 16 suspended. AddAction(OldState, NewState, EventOnTransition, ActionSd)
 * links a transition to an event and to ActionSd 0 (activate) or 1 (deactivate) the policy that
 * AMT_AgentPresenceInterfacePolicy names for an interface. Modelled on Intel's class reference;
 * no capture of a real device exists.
 */
import { InputError, OobError } from '../../errors';
import type { WsmanClient } from '../../wsman/client';
import { ensureDefenseAvailable } from './availability';
import { Journal } from './journal';
import { exclusive } from './lock';
import { KEY_PLACEHOLDER } from './policies';
import { bind, Binding, InterfaceName, listBindings, parseInterfaces, unbind } from './ports';
import { readSnapshot } from './state';

export const WATCHDOG_STATE_NAMES: Readonly<Record<number, string>> = { 1: 'not-started', 2: 'stopped', 4: 'running', 8: 'expired', 16: 'suspended' };
const BIT = { notStarted: 1, stopped: 2, running: 4, expired: 8 } as const;

/** Names of the states a mask covers: 10 -> ['stopped', 'expired']. */
export function stateNames(mask: number): string[] {
  return Object.entries(WATCHDOG_STATE_NAMES)
    .filter(([bit]) => (mask & Number(bit)) !== 0)
    .map(([, name]) => name);
}

const GUID_RE = /^\{?([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})\}?$/i;

/** An agent's GUID as the DeviceID AMT keys its watchdog by (first three fields little-endian). */
export function agentDeviceId(agentId: string): string {
  const m = GUID_RE.exec(agentId.trim());
  if (!m) throw new InputError(`agent id "${agentId}" is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)`);
  const le = (hex: string) => Buffer.from(hex, 'hex').reverse();
  return Buffer.concat([le(m[1]), le(m[2]), le(m[3]), Buffer.from(m[4] + m[5], 'hex')]).toString('base64');
}

export function agentIdOf(deviceId: string): string | undefined {
  const b = Buffer.from(deviceId, 'base64');
  if (b.length !== 16) return undefined;
  const hex = (from: number, to: number, reverse: boolean) => (reverse ? Buffer.from(b.subarray(from, to)).reverse() : b.subarray(from, to)).toString('hex');
  return `${hex(0, 4, true)}-${hex(4, 6, true)}-${hex(6, 8, true)}-${hex(8, 10, false)}-${hex(10, 16, false)}`;
}

export interface WatchdogReaction {
  /** Raise an AMT event (an alert a console receives). Default true. */
  event: boolean;
  /** Name of a System Defense policy AMT switches on by itself. */
  policy?: string;
}

export interface WatchdogSpec {
  agentId: string;
  description: string;
  /** Seconds the agent may stay silent (TimeoutInterval). */
  timeout: number;
  /** Seconds the agent has to register after the OS starts (StartupInterval). */
  grace: number;
  onExpire: WatchdogReaction;
  onStop: WatchdogReaction;
  interfaces?: InterfaceName[];
}

export interface WatchdogAction {
  from: string[];
  to: string[];
  event: boolean;
  policy?: 'activate' | 'deactivate';
}

export interface WatchdogInfo {
  agentId: string;
  description: string;
  state: string;
  timeout: number;
  grace: number;
  actions: WatchdogAction[];
}

export interface AgentPresenceState {
  watchdogs: WatchdogInfo[];
  /** Per interface: the policy agent-presence actions switch on, and whether it is on now. */
  policy: Partial<Record<InterfaceName, { name: string; enabled: boolean; active: boolean }>>;
}

function seconds(value: unknown, what: string, dflt?: number): number {
  if ((value === undefined || value === '') && dflt !== undefined) return dflt;
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 65535) throw new InputError(`${what} must be 1 to 65535 seconds, got ${JSON.stringify(value)}`);
  return n;
}

function reaction(value: unknown, what: string): WatchdogReaction {
  if (value === undefined || value === null) return { event: true };
  if (value === false || value === 'none') return { event: false };
  if (typeof value === 'string') return { event: true, policy: value };
  if (typeof value !== 'object' || Array.isArray(value)) throw new InputError(`${what} must be { event?, policy? }, a policy name or "none"`);
  const o = value as Record<string, unknown>;
  if (o.event !== undefined && typeof o.event !== 'boolean') throw new InputError(`${what}.event must be true or false`);
  if (o.policy !== undefined && (typeof o.policy !== 'string' || !o.policy.trim())) throw new InputError(`${what}.policy must be the name of a System Defense policy`);
  const r: WatchdogReaction = { event: o.event !== false };
  if (typeof o.policy === 'string') r.policy = o.policy.trim();
  return r;
}

/** A watchdog from what a flow gave: { agentId, description?, timeout, grace?, onExpire?, onStop?, interfaces? }. */
export function parseWatchdog(raw: unknown): WatchdogSpec {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new InputError('watchdog must be an object with agentId and timeout');
  const o = raw as Record<string, unknown>;
  if (typeof o.agentId !== 'string') throw new InputError('watchdog.agentId must be the agent GUID');
  agentDeviceId(o.agentId);
  const description = o.description === undefined ? '' : String(o.description);
  if (description.length > 64) throw new InputError('watchdog.description is longer than 64 characters');
  const spec: WatchdogSpec = {
    agentId: o.agentId.trim().replace(/^\{|\}$/g, '').toLowerCase(),
    description,
    timeout: seconds(o.timeout, 'watchdog.timeout'),
    grace: seconds(o.grace, 'watchdog.grace', 120),
    onExpire: reaction(o.onExpire, 'watchdog.onExpire'),
    onStop: reaction(o.onStop, 'watchdog.onStop'),
  };
  const interfaces = parseInterfaces(o.interfaces);
  if (interfaces) spec.interfaces = interfaces;
  if (spec.onExpire.policy && spec.onStop.policy && spec.onExpire.policy !== spec.onStop.policy) {
    throw new InputError('watchdog.onExpire and onStop name different policies; agent presence switches one policy per interface');
  }
  return spec;
}

/** The AddAction calls that make a spec, in order. */
export function actionsFor(spec: WatchdogSpec): Array<{ OldState: number; NewState: number; EventOnTransition: boolean; ActionSd?: number }> {
  const out: Array<{ OldState: number; NewState: number; EventOnTransition: boolean; ActionSd?: number }> = [];
  const add = (OldState: number, NewState: number, r: WatchdogReaction) => {
    if (!r.event && !r.policy) return;
    const a: { OldState: number; NewState: number; EventOnTransition: boolean; ActionSd?: number } = { OldState, NewState, EventOnTransition: r.event };
    if (r.policy) a.ActionSd = 0;
    out.push(a);
  };
  add(BIT.notStarted | BIT.running, BIT.expired, spec.onExpire);
  add(BIT.running, BIT.stopped, spec.onStop);
  if (spec.onExpire.policy || spec.onStop.policy) {
    // Back to running: switch the policy off again and say so; after a reboot, quietly.
    out.push({ OldState: BIT.stopped | BIT.expired, NewState: BIT.running, EventOnTransition: spec.onExpire.event || spec.onStop.event, ActionSd: 1 });
    out.push({ OldState: BIT.notStarted, NewState: BIT.running, EventOnTransition: false, ActionSd: 1 });
  }
  return out;
}

function num(v: unknown): number {
  return typeof v === 'number' ? v : 0;
}

/** Whether the watchdogs' states mean an activate action is the last word on the policy. */
export function agentPolicyActive(watchdogs: Array<{ stateBits: number; actions: Array<{ newState: number; actionSd?: number }> }>): boolean {
  return watchdogs.some((w) => {
    const activated = w.actions.some((a) => a.actionSd === 0 && (a.newState & w.stateBits) !== 0);
    const deactivated = w.actions.some((a) => a.actionSd === 1 && (a.newState & w.stateBits) !== 0);
    return activated && !deactivated;
  });
}

async function optional<T>(p: Promise<T[]>): Promise<T[]> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof OobError && e.code === 'WSMAN_FAULT') return [];
    throw e;
  }
}

export async function readAgentPresence(client: WsmanClient): Promise<AgentPresenceState> {
  const dogs = await optional(client.enumerate('AMT_AgentPresenceWatchdog'));
  const actions = await optional(client.enumerate('AMT_AgentPresenceWatchdogAction'));
  const raw = dogs.map((d) => {
    const deviceId = String(d.props.DeviceID ?? '');
    const mine = actions.filter((a) => a.props.DeviceID === deviceId);
    return {
      deviceId,
      stateBits: num(d.props.CurrentState),
      actions: mine.map((a) => ({ oldState: num(a.props.OldState), newState: num(a.props.NewState), event: a.props.EventOnTransition === true, actionSd: typeof a.props.ActionSd === 'number' ? a.props.ActionSd : undefined })),
      info: d.props,
    };
  });
  const watchdogs: WatchdogInfo[] = raw.map((w) => ({
    agentId: agentIdOf(w.deviceId) ?? w.deviceId,
    description: String(w.info.MonitoredEntityDescription ?? ''),
    state: stateNames(w.stateBits).join('|') || 'unknown',
    timeout: num(w.info.TimeoutInterval),
    grace: num(w.info.StartupInterval),
    actions: w.actions.map((a) => {
      const x: WatchdogAction = { from: stateNames(a.oldState), to: stateNames(a.newState), event: a.event };
      if (a.actionSd === 0) x.policy = 'activate';
      if (a.actionSd === 1) x.policy = 'deactivate';
      return x;
    }),
  }));
  const active = agentPolicyActive(raw);
  const bindings: Binding[] = await optional(listBindings(client, 'AMT_AgentPresenceInterfacePolicy'));
  const policy: AgentPresenceState['policy'] = {};
  if (bindings.length) {
    const names = new Map((await client.enumerate('AMT_SystemDefensePolicy')).map((p) => [String(p.props.InstanceID), String(p.props.PolicyName ?? '')]));
    for (const b of bindings) policy[b.interface] = { name: names.get(b.policyInstanceId) ?? b.policyInstanceId, enabled: b.enabled !== false, active: active && b.enabled !== false };
  }
  return { watchdogs, policy };
}

export interface WatchdogChange {
  action: 'watchdog-add' | 'watchdog-remove';
  changed: boolean;
  agentId: string;
  steps: string[];
  warnings: string[];
}

function sameWatchdog(info: WatchdogInfo, spec: WatchdogSpec): boolean {
  return info.timeout === spec.timeout && info.grace === spec.grace && info.description === spec.description && info.actions.length === actionsFor(spec).length;
}

export async function addWatchdog(client: WsmanClient, raw: unknown): Promise<WatchdogChange> {
  const spec = parseWatchdog(raw);
  return exclusive(client, () => add(client, spec));
}

async function add(client: WsmanClient, spec: WatchdogSpec): Promise<WatchdogChange> {
  await ensureDefenseAvailable(client, 'Agent Presence');
  const deviceId = agentDeviceId(spec.agentId);
  const change: WatchdogChange = { action: 'watchdog-add', changed: false, agentId: spec.agentId, steps: [], warnings: [] };
  const current = await readAgentPresence(client);
  const existing = current.watchdogs.find((w) => w.agentId === spec.agentId);
  if (existing) {
    if (sameWatchdog(existing, spec)) return change;
    throw new InputError(`a watchdog for agent ${spec.agentId} exists already on ${client.label} (timeout ${existing.timeout} s, grace ${existing.grace} s); remove it first`);
  }
  const policyName = spec.onExpire.policy ?? spec.onStop.policy;
  const toBind: InterfaceName[] = [];
  let policyId: string | undefined;
  if (policyName) {
    const snap = await readSnapshot(client);
    const p = snap.policies.find((x) => x.name === policyName);
    if (!p) throw new InputError(`there is no System Defense policy named "${policyName}" on ${client.label}; create it first`);
    policyId = p.instanceId;
    for (const iface of spec.interfaces ?? snap.interfaces) {
      if (!snap.interfaces.includes(iface)) throw new InputError(`${client.label} has no ${iface} interface`);
      const b = snap.agentPresence.find((x) => x.interface === iface);
      if (b && b.policyInstanceId !== p.instanceId) {
        const other = snap.policies.find((x) => x.instanceId === b.policyInstanceId)?.name ?? b.policyInstanceId;
        throw new InputError(`agent presence on ${client.label} already switches on policy "${other}" on the ${iface} interface; one policy per interface`);
      }
      if (!b) toBind.push(iface);
    }
  }
  const actions = actionsFor(spec);
  const journal = new Journal(`adding the watchdog for agent ${spec.agentId} on ${client.label}`, toBind.length + 1 + actions.length);
  for (const iface of toBind) {
    const id = policyId as string;
    await journal.run(
      `let agent presence switch ${policyName} on ${iface}`,
      () => bind(client, 'AMT_AgentPresenceInterfacePolicy', iface, id, { Enabled: true }),
      () => unbind(client, 'AMT_AgentPresenceInterfacePolicy', iface, id),
    );
  }
  await journal.run(
    `create watchdog ${spec.agentId}`,
    () =>
      client.create('AMT_AgentPresenceWatchdog', {
        // Key placeholders, as MeshCommander sends them (docs/firmware-evidence.md); the device fills them in.
        CreationClassName: KEY_PLACEHOLDER,
        DeviceID: deviceId,
        StartupInterval: spec.grace,
        SystemCreationClassName: KEY_PLACEHOLDER,
        SystemName: KEY_PLACEHOLDER,
        TimeoutInterval: spec.timeout,
        MonitoredEntityDescription: spec.description || undefined,
      }),
    () => client.delete('AMT_AgentPresenceWatchdog', { DeviceID: deviceId }),
  );
  for (const a of actions) {
    await journal.run(`add action ${stateNames(a.OldState).join('|')} -> ${stateNames(a.NewState).join('|')}`, async () => {
      const out = await client.invoke('AMT_AgentPresenceWatchdog', 'AddAction', a, { DeviceID: deviceId });
      if (out.ReturnValue !== 0) throw new OobError('DEVICE_REFUSED', `AddAction refused by the device: ReturnValue ${String(out.ReturnValue)}`);
    });
  }
  change.steps = journal.steps;
  change.changed = true;
  return change;
}

export async function removeWatchdog(client: WsmanClient, agentIdValue: unknown): Promise<WatchdogChange> {
  if (typeof agentIdValue !== 'string') throw new InputError('the agent id of the watchdog to remove must be its GUID');
  const deviceId = agentDeviceId(agentIdValue);
  return exclusive(client, () => remove(client, deviceId));
}

async function remove(client: WsmanClient, deviceId: string): Promise<WatchdogChange> {
  const agentId = agentIdOf(deviceId) as string;
  await ensureDefenseAvailable(client, 'Agent Presence');
  const change: WatchdogChange = { action: 'watchdog-remove', changed: false, agentId, steps: [], warnings: [] };
  const current = await readAgentPresence(client);
  if (!current.watchdogs.some((w) => w.agentId === agentId)) return change;
  await client.delete('AMT_AgentPresenceWatchdog', { DeviceID: deviceId });
  change.steps.push(`delete watchdog ${agentId}`);
  change.changed = true;
  // With no watchdog left that switches policies, the interface links have nothing to do.
  const left = current.watchdogs.filter((w) => w.agentId !== agentId);
  if (!left.some((w) => w.actions.some((a) => a.policy))) {
    try {
      const snap = await readSnapshot(client);
      for (const b of snap.agentPresence) {
        await unbind(client, 'AMT_AgentPresenceInterfacePolicy', b.interface, b.policyInstanceId);
        change.steps.push(`stop agent presence switching policies on ${b.interface}`);
      }
    } catch (e) {
      change.warnings.push(`could not remove the agent presence policy links: ${(e as Error).message}`);
    }
  }
  return change;
}
