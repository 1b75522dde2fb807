/**
 * Agent Presence inside a simulated PC: the watchdog state machine, its timers, the actions linked
 * to its transitions, and `SimAgent`, the software agent (an antivirus, a firewall) that runs in
 * the simulated OS and asserts its presence.
 *
 * Modelled, not captured (test/fixtures/SOURCES.md), from Intel's class reference:
 *  - States: 1 NotStarted, 2 Stopped, 4 Running, 8 Expired, 16 Suspended (action masks OR them).
 *  - A new watchdog (and every watchdog after the OS starts) waits StartupInterval seconds for
 *    RegisterAgent, then expires. RegisterAgent -> Running and returns a random sequence number;
 *    each AssertPresence (sequence + 1) restarts the TimeoutInterval timer; silence expires it;
 *    AssertShutdown -> Stopped. A bad sequence number is ignored (ReturnValue 2, our choice).
 *    When the OS stops every watchdog goes back to NotStarted.
 *  - An action matches a transition when OldState has a bit of the old state and NewState a bit of
 *    the new one. EventOnTransition raises an event; ActionSd 0 activates, 1 deactivates the policy
 *    that AMT_AgentPresenceInterfacePolicy names for each interface.
 *
 * The device emits 'watchdog' { agentId, description, from, to, cause } for every transition and
 * 'agent-presence' { agentId, description, from, to, fromCode, toCode, policy?, cause, time } when
 * a matching action asks for an event: the alert a console would receive.
 */
import { randomInt } from 'node:crypto';
import type { SimDevice } from './device';
import { pushEvent } from './alerts';
import { defenseState, ports, refreshPolicies } from './defense';
import type { SimProps } from './values';
import type { OsEvent } from './power';

export const WATCHDOG_STATES: Readonly<Record<number, string>> = { 1: 'not-started', 2: 'stopped', 4: 'running', 8: 'expired', 16: 'suspended' };
export const WatchdogState = { notStarted: 1, stopped: 2, running: 4, expired: 8, suspended: 16 } as const;

export interface SimWatchdogAction {
  name: string;
  oldState: number;
  newState: number;
  event: boolean;
  actionSd?: number;
  actionEac?: boolean;
}

export interface SimWatchdog {
  /** DeviceID as on the wire: the agent's GUID, 16 bytes in base64. */
  deviceId: string;
  agentId: string;
  props: SimProps;
  state: number;
  sequence?: number;
  timer?: NodeJS.Timeout;
  actions: SimWatchdogAction[];
}

interface AgentPresenceState {
  watchdogs: Map<string, SimWatchdog>;
  nextAction: number;
  agents: Map<string, SimAgent>;
}

/**
 * GUID text <-> the 16 bytes AMT keys a watchdog by: the first three fields little-endian, as
 * Windows stores a GUID (modelled; the class reference only says "a GUID ... encoded as Base64").
 */
export function guidToDeviceId(guid: string): string | undefined {
  const h = guid.trim().replace(/^\{|\}$/g, '');
  if (!/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(h)) return undefined;
  const x = h.replace(/-/g, '');
  const b = Buffer.from(x, 'hex');
  b.subarray(0, 4).reverse();
  b.subarray(4, 6).reverse();
  b.subarray(6, 8).reverse();
  return b.toString('base64');
}

export function deviceIdToGuid(deviceId: string): string | undefined {
  const b = Buffer.from(deviceId, 'base64');
  if (b.length !== 16 || b.toString('base64') !== deviceId.trim()) return undefined;
  b.subarray(0, 4).reverse();
  b.subarray(4, 6).reverse();
  b.subarray(6, 8).reverse();
  const x = b.toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

export function agentPresenceState(d: SimDevice): AgentPresenceState {
  return d.classState<AgentPresenceState>('AgentPresence', () => {
    const s: AgentPresenceState = { watchdogs: new Map(), nextAction: 1, agents: new Map() };
    d.on('os', (e: OsEvent) => onOs(d, e));
    d.onClose(() => {
      for (const w of s.watchdogs.values()) clearTimeout(w.timer);
      for (const a of s.agents.values()) a.pause();
    });
    return s;
  });
}

function secondMs(d: SimDevice): number {
  return d.defenseOptions.secondMs ?? 1000;
}

function arm(d: SimDevice, w: SimWatchdog, seconds: number, cause: string): void {
  clearTimeout(w.timer);
  w.timer = setTimeout(() => {
    w.timer = undefined;
    transition(d, w, WatchdogState.expired, cause);
  }, seconds * secondMs(d));
  w.timer.unref();
}

function seconds(w: SimWatchdog, name: 'StartupInterval' | 'TimeoutInterval'): number {
  return Number(w.props[name]) || 0;
}

/** A new watchdog, or every watchdog once the OS runs: expire unless the agent registers in time. */
export function armStartup(d: SimDevice, w: SimWatchdog): void {
  if (d.osState === 'running' && w.state === WatchdogState.notStarted) arm(d, w, seconds(w, 'StartupInterval'), 'startup-interval');
}

function onOs(d: SimDevice, e: OsEvent): void {
  const s = agentPresenceState(d);
  if (e.to === 'running') {
    for (const w of s.watchdogs.values()) armStartup(d, w);
    for (const a of s.agents.values()) a.osStarted();
  } else if (e.from === 'running') {
    for (const a of s.agents.values()) a.pause();
    for (const w of s.watchdogs.values()) {
      clearTimeout(w.timer);
      w.timer = undefined;
      transition(d, w, WatchdogState.notStarted, `os-${e.to}`);
    }
  }
}

export function transition(d: SimDevice, w: SimWatchdog, to: number, cause: string): void {
  const from = w.state;
  if (from === to) return;
  w.state = to;
  const base = { agentId: w.agentId, description: String(w.props.MonitoredEntityDescription ?? ''), from: WATCHDOG_STATES[from], to: WATCHDOG_STATES[to], cause };
  d.emit('watchdog', base);
  const matching = w.actions.filter((a) => (a.oldState & from) !== 0 && (a.newState & to) !== 0);
  let policy: 'activated' | 'deactivated' | undefined;
  const ds = defenseState(d);
  for (const a of matching) {
    if (a.actionSd === 0 || a.actionSd === 1) {
      for (const port of ports(d)) {
        if (!ds.agentPolicy.has(port)) continue;
        if (a.actionSd === 0) ds.agentActive.add(port);
        else ds.agentActive.delete(port);
      }
      policy = a.actionSd === 0 ? 'activated' : 'deactivated';
    }
  }
  if (policy) refreshPolicies(d, `agent-presence:${w.agentId}`);
  if (matching.some((a) => a.event)) {
    d.emit('agent-presence', { ...base, fromCode: from, toCode: to, policy, time: new Date().toISOString() });
    // Like the firmware: the event also goes to every WS-Eventing subscriber (iAMT0005 agent
    // stopped or expired, iAMT0004 agent running again).
    const messageId = base.to === 'expired' || base.to === 'stopped' ? 'iAMT0005' : base.to === 'running' ? 'iAMT0004' : undefined;
    if (messageId) void pushEvent(d, messageId, [String(w.agentId)]).catch(() => undefined);
  }
}

export function registerAgent(d: SimDevice, w: SimWatchdog): { sequence: number; timeout: number } {
  w.sequence = randomInt(0, 0xffffffff);
  transition(d, w, WatchdogState.running, 'register-agent');
  arm(d, w, seconds(w, 'TimeoutInterval'), 'timeout-interval');
  return { sequence: w.sequence, timeout: seconds(w, 'TimeoutInterval') };
}

function nextSequence(w: SimWatchdog): number {
  return ((w.sequence ?? 0) + 1) >>> 0;
}

/** 0: accepted; 2: ignored (not running, or not the next sequence number). */
export function assertPresence(d: SimDevice, w: SimWatchdog, sequence: number): number {
  if (w.state !== WatchdogState.running || w.sequence === undefined || sequence !== nextSequence(w)) return 2;
  w.sequence = sequence;
  arm(d, w, seconds(w, 'TimeoutInterval'), 'timeout-interval');
  return 0;
}

export function assertShutdown(d: SimDevice, w: SimWatchdog, sequence: number): number {
  if (w.state !== WatchdogState.running || w.sequence === undefined || sequence !== nextSequence(w)) return 2;
  clearTimeout(w.timer);
  w.timer = undefined;
  w.sequence = undefined;
  transition(d, w, WatchdogState.stopped, 'assert-shutdown');
  return 0;
}

export function watchdogByAgent(d: SimDevice, agentId: string): SimWatchdog | undefined {
  const id = guidToDeviceId(agentId);
  return id === undefined ? undefined : agentPresenceState(d).watchdogs.get(id);
}

/**
 * The agent software in the simulated OS. `start()` registers and keeps asserting presence while
 * the OS runs (and registers again after every boot, like a service); `crash()` stops asserting
 * without a word (the watchdog expires); `stop()` shuts down cleanly (the watchdog stops).
 */
export class SimAgent {
  private loop?: NodeJS.Timeout;
  private wanted = false;
  private sequence?: number;

  constructor(
    private readonly device: SimDevice,
    readonly agentId: string,
  ) {}

  private watchdog(): SimWatchdog | undefined {
    return watchdogByAgent(this.device, this.agentId);
  }

  /** RegisterAgent now; false when the OS is not running or no watchdog watches this agent. */
  register(): boolean {
    const w = this.watchdog();
    if (!w || this.device.osState !== 'running') return false;
    this.sequence = registerAgent(this.device, w).sequence;
    return true;
  }

  /** One AssertPresence; false when the device ignored it. */
  heartbeat(): boolean {
    const w = this.watchdog();
    if (!w || this.sequence === undefined || this.device.osState !== 'running') return false;
    const next = (this.sequence + 1) >>> 0;
    if (assertPresence(this.device, w, next) !== 0) return false;
    this.sequence = next;
    return true;
  }

  /** Keep the watchdog fed every `everyMs` (default a third of its timeout) while the OS runs. */
  start(everyMs?: number): void {
    this.wanted = true;
    this.interval = everyMs;
    this.osStarted();
  }

  private interval?: number;

  /** The OS came up: a started agent registers again and resumes its heartbeats. */
  osStarted(): void {
    if (!this.wanted || this.loop || this.device.osState !== 'running') return;
    if (!this.register()) return;
    const w = this.watchdog() as SimWatchdog;
    const every = this.interval ?? Math.max(1, (seconds(w, 'TimeoutInterval') * secondMs(this.device)) / 3);
    this.loop = setInterval(() => {
      if (!this.heartbeat()) this.register();
    }, every);
    this.loop.unref();
  }

  /** Stop asserting presence without telling the device: the watchdog will expire. */
  crash(): void {
    this.wanted = false;
    this.pause();
  }

  /** Shut down cleanly: AssertShutdown, the watchdog goes to Stopped. */
  stop(): boolean {
    this.wanted = false;
    this.pause();
    const w = this.watchdog();
    if (!w || this.sequence === undefined) return false;
    const ok = assertShutdown(this.device, w, (this.sequence + 1) >>> 0) === 0;
    this.sequence = undefined;
    return ok;
  }

  /** Heartbeats stop (the OS went away); `start()`ed agents resume on the next boot. */
  pause(): void {
    clearInterval(this.loop);
    this.loop = undefined;
  }

  get running(): boolean {
    return this.loop !== undefined;
  }
}

export function simAgent(d: SimDevice, agentId: string): SimAgent {
  const s = agentPresenceState(d);
  let a = s.agents.get(agentId.toLowerCase());
  if (!a) {
    a = new SimAgent(d, agentId);
    s.agents.set(agentId.toLowerCase(), a);
  }
  return a;
}
