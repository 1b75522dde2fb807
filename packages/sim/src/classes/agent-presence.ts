/**
 * Agent Presence classes of a simulated PC: AMT_AgentPresenceWatchdog (Create, Delete,
 * RegisterAgent, AssertPresence, AssertShutdown, AddAction, DeleteAllActions),
 * AMT_AgentPresenceWatchdogAction (Delete), AMT_AgentPresenceInterfacePolicy (Create, Put,
 * Delete), AMT_AgentPresenceService and AMT_AgentPresenceCapabilities.
 *
 * Modelled, not captured (test/fixtures/SOURCES.md). One simplification, said here: on real
 * firmware a watchdog action's state transition is held by a separate policy condition; the
 * simulator writes OldState and NewState into the AMT_AgentPresenceWatchdogAction instance itself.
 * Limits (16 agents, 64 actions) are our choices. The state machine is packages/sim/src/agent-presence.ts.
 */
import type { SimDevice } from '../device';
import {
  agentPresenceState,
  armStartup,
  assertPresence,
  assertShutdown,
  deviceIdToGuid,
  registerAgent,
  SimWatchdog,
  WatchdogState,
} from '../agent-presence';
import { defenseState, policyOfRef, policyRef, portDeviceId, portOfRef, PortIndex, portRef, ports, refreshPolicies, SYSTEM_KEYS } from '../defense';
import { faults } from '../sim-fault';
import { isRef, ref, SimProps } from '../values';
import { adminOnly, quotaLimit, requireKeys } from './defense';
import { ClassHandler, inputInt, inputText, MethodContext } from './types';

const MAX_AGENTS = 16;
const MAX_ACTIONS = 64;

const bad = (detail: string) => faults.invalidParameter(detail);

function watchdogProps(w: SimWatchdog): SimProps {
  return { ...w.props, CurrentState: w.state, DeviceID: w.deviceId };
}

function watchdogOf(ctx: MethodContext): SimWatchdog {
  const w = agentPresenceState(ctx.device).watchdogs.get(ctx.selectors.DeviceID ?? '');
  if (!w) throw faults.invalidSelectors('No AMT_AgentPresenceWatchdog has that DeviceID.');
  return w;
}

function seconds(input: Record<string, unknown>, name: string): number {
  const v = inputInt(input as never, name);
  if (v === undefined || v < 1 || v > 65535) throw bad(`${name} must be 1 to 65535 seconds.`);
  return v;
}

function stateMask(input: Record<string, unknown>, name: string): number {
  const v = inputInt(input as never, name);
  if (v === undefined || v < 1 || v > 31) throw bad(`${name} must combine the states 1, 2, 4, 8 and 16.`);
  return v;
}

function actionCount(d: SimDevice): number {
  return [...agentPresenceState(d).watchdogs.values()].reduce((n, w) => n + w.actions.length, 0);
}

export const agentPresenceWatchdog: ClassHandler = adminOnly({
  className: 'AMT_AgentPresenceWatchdog',
  keys: ['DeviceID'],
  instances: (d) => [...agentPresenceState(d).watchdogs.values()].map(watchdogProps),
  create: (d, input) => {
    requireKeys(input, 'AMT_AgentPresenceWatchdog', ['CreationClassName', 'DeviceID', 'SystemCreationClassName', 'SystemName']);
    const s = agentPresenceState(d);
    const deviceId = inputText(input, 'DeviceID')?.trim() ?? '';
    const agentId = deviceIdToGuid(deviceId);
    if (!agentId) throw bad('DeviceID must be a GUID (16 bytes) in base64.');
    if (s.watchdogs.has(deviceId)) throw faults.alreadyExists();
    if (s.watchdogs.size >= MAX_AGENTS) throw quotaLimit(`than ${MAX_AGENTS} agent watchdogs`);
    const props: SimProps = {
      CreationClassName: 'AMT_AgentPresenceWatchdog',
      ElementName: 'Intel(r) AMT Agent Presence Watchdog',
      MonitoredEntityDescription: inputText(input, 'MonitoredEntityDescription') ?? '',
      StartupInterval: seconds(input, 'StartupInterval'),
      TimeoutInterval: seconds(input, 'TimeoutInterval'),
      ...SYSTEM_KEYS,
    };
    const w: SimWatchdog = { deviceId, agentId, props, state: WatchdogState.notStarted, actions: [] };
    s.watchdogs.set(deviceId, w);
    armStartup(d, w);
    return ref('AMT_AgentPresenceWatchdog', { DeviceID: deviceId });
  },
  delete: (d, current) => {
    const s = agentPresenceState(d);
    const w = s.watchdogs.get(String(current.DeviceID));
    if (!w) throw faults.invalidSelectors('No instance matches the selectors.');
    clearTimeout(w.timer);
    s.watchdogs.delete(w.deviceId);
  },
  methods: {
    RegisterAgent: (ctx) => {
      const r = registerAgent(ctx.device, watchdogOf(ctx));
      return { out: { SessionSequenceNumber: r.sequence, TimeoutInterval: r.timeout }, returnValue: 0 };
    },
    AssertPresence: (ctx) => ({ returnValue: assertPresence(ctx.device, watchdogOf(ctx), inputInt(ctx.input, 'SequenceNumber') ?? -1) }),
    AssertShutdown: (ctx) => ({ returnValue: assertShutdown(ctx.device, watchdogOf(ctx), inputInt(ctx.input, 'SequenceNumber') ?? -1) }),
    AddAction: (ctx) => {
      const w = watchdogOf(ctx);
      const s = agentPresenceState(ctx.device);
      if (actionCount(ctx.device) >= MAX_ACTIONS) throw quotaLimit(`than ${MAX_ACTIONS} agent presence actions`);
      const oldState = stateMask(ctx.input, 'OldState');
      const newState = stateMask(ctx.input, 'NewState');
      const event = inputText(ctx.input, 'EventOnTransition')?.trim();
      if (event !== 'true' && event !== 'false') throw bad('EventOnTransition must be true or false.');
      const sdText = inputText(ctx.input, 'ActionSd');
      const actionSd = sdText === undefined ? undefined : inputInt(ctx.input, 'ActionSd');
      if (sdText !== undefined && actionSd !== 0 && actionSd !== 1) throw bad('ActionSd must be 0 (activate policy) or 1 (deactivate policy).');
      if (w.actions.some((a) => a.oldState === oldState && a.newState === newState)) throw faults.alreadyExists();
      const eac = inputText(ctx.input, 'ActionEac');
      w.actions.push({
        name: `Intel(r) AMT Agent Presence Action ${s.nextAction++}`,
        oldState,
        newState,
        event: event === 'true',
        actionSd,
        actionEac: eac === undefined ? undefined : eac.trim() === 'true',
      });
      return { returnValue: 0 };
    },
    DeleteAllActions: (ctx) => {
      watchdogOf(ctx).actions = [];
      return { returnValue: 0 };
    },
  },
});

export const agentPresenceWatchdogAction: ClassHandler = adminOnly({
  className: 'AMT_AgentPresenceWatchdogAction',
  keys: ['CreationClassName', 'Name', 'SystemCreationClassName', 'SystemName'],
  instances: (d) =>
    [...agentPresenceState(d).watchdogs.values()].flatMap((w) =>
      w.actions.map((a) => ({
        ActionEac: a.actionEac,
        ActionSd: a.actionSd,
        CreationClassName: 'AMT_AgentPresenceWatchdogAction',
        DeviceID: w.deviceId,
        EventOnTransition: a.event,
        Name: a.name,
        NewState: a.newState,
        OldState: a.oldState,
        ...SYSTEM_KEYS,
      })),
    ),
  delete: (d, current) => {
    for (const w of agentPresenceState(d).watchdogs.values()) w.actions = w.actions.filter((a) => a.name !== current.Name);
  },
});

function apInstances(d: SimDevice): SimProps[] {
  const s = defenseState(d);
  return ports(d).flatMap((port) => {
    const ap = s.agentPolicy.get(port);
    const p = ap ? s.policies.get(ap.handle) : undefined;
    return ap && p ? [{ Antecedent: portRef(port), Dependent: policyRef(p), Enabled: ap.enabled }] : [];
  });
}

function apPort(d: SimDevice, current: SimProps): PortIndex {
  const a = current.Antecedent;
  const id = isRef(a) ? a.selectors.find(([k]) => k === 'DeviceID')?.[1] : undefined;
  const port = ports(d).find((p) => portDeviceId(p) === id);
  if (port === undefined) throw faults.invalidSelectors('No instance matches the selectors.');
  return port;
}

/** The policy agent-presence actions activate on an interface (one per interface). */
export const agentPresenceInterfacePolicy: ClassHandler = adminOnly({
  className: 'AMT_AgentPresenceInterfacePolicy',
  keys: ['Antecedent', 'Dependent'],
  instances: apInstances,
  create: (d, input) => {
    const port = portOfRef(d, input.Antecedent);
    if (port === undefined) throw bad('Antecedent must reference a CIM_EthernetPort of this device.');
    const policy = policyOfRef(d, input.Dependent);
    if (!policy) throw bad('Dependent must reference an existing AMT_SystemDefensePolicy.');
    const s = defenseState(d);
    if (s.agentPolicy.has(port)) throw faults.alreadyExists();
    const enabled = inputText(input, 'Enabled')?.trim() !== 'false';
    s.agentPolicy.set(port, { handle: policy.handle, enabled });
    refreshPolicies(d, 'agent-presence-policy-set');
    return ref('AMT_AgentPresenceInterfacePolicy', { Antecedent: portRef(port), Dependent: policyRef(policy) });
  },
  put: (d, current, input) => {
    const port = apPort(d, current);
    const ap = defenseState(d).agentPolicy.get(port);
    const enabled = inputText(input, 'Enabled')?.trim();
    if (ap && (enabled === 'true' || enabled === 'false')) ap.enabled = enabled === 'true';
    refreshPolicies(d, 'agent-presence-policy-changed');
    return apInstances(d).find((x) => apPort(d, x) === port) ?? current;
  },
  delete: (d, current) => {
    const port = apPort(d, current);
    const s = defenseState(d);
    s.agentPolicy.delete(port);
    s.agentActive.delete(port);
    refreshPolicies(d, 'agent-presence-policy-removed');
  },
});

export const agentPresenceService: ClassHandler = adminOnly({
  className: 'AMT_AgentPresenceService',
  commonNs: true,
  instances: () => [
    {
      CreationClassName: 'AMT_AgentPresenceService',
      ElementName: 'Intel(r) AMT Agent Presence Service',
      EnabledState: 5,
      Name: 'Intel(r) AMT Agent Presence Service',
      RequestedState: 12,
      ...SYSTEM_KEYS,
    },
  ],
});

export const agentPresenceCapabilities: ClassHandler = adminOnly({
  className: 'AMT_AgentPresenceCapabilities',
  instances: () => [
    {
      ElementName: 'Intel(r) AMT Agent Presence Capabilities',
      InstanceID: 'Intel(r) AMT Agent Presence Capabilities',
      MaxEacAgents: 0,
      MaxTotalActions: MAX_ACTIONS,
      MaxTotalAgents: MAX_AGENTS,
      MinGuaranteedActionListSize: 4,
    },
  ],
});

export const agentPresenceClasses = [agentPresenceWatchdog, agentPresenceWatchdogAction, agentPresenceInterfacePolicy, agentPresenceService, agentPresenceCapabilities];
