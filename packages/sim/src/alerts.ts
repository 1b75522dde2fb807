/**
 * Alerts from a simulated PC, the way real ones arrive:
 *  - PET traps (SNMPv1, or v2c) sent with net-snmp to a trap receiver;
 *  - WS-Eventing pushes of CIM_AlertIndication to every live subscription, with the
 *    subscription's Digest credentials, retried until acknowledged (PushWithAck) within a bound;
 *  - records in the platform event log (AMT_MessageLog);
 *  - PET heartbeats at an interval, and going silent (no heartbeats, no WS-Management answers).
 *
 * `runScenario(device, name)` plays one of the scripted incidents (chassis opened, fan failure,
 * overheating, boot failure, OS watchdog, agent stopped) on every channel that carries it, and
 * `clearScenario` its end. Agent presence: a device emitting 'agent-watchdog' { agent, state:
 * 'expired' | 'running' } (the system-defense simulator does, when a watchdog runs out) pushes
 * iAMT0005 / iAMT0004 like firmware, once `forwardWatchdogEvents(device)` is on.
 */
import * as http from 'node:http';
import { simResourceUri as resourceUri } from './wsman-uris';
import { addEventLogRecord } from './classes/logs';
import { pushAuthorization } from './digest-server';
import { encodeSimPet, SIM_PET_ENTERPRISE as PET_ENTERPRISE, SIM_PET_VARBIND as PET_VARBIND_OID, simSpecificTrap } from './pet-encoder';
import type { SimDevice, Subscription } from './device';
import { liveSubscriptions } from './eventing';
import { writeEvent } from './response-writer';
import { datetime } from './values';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const snmp = require('net-snmp');

export interface SensorEventSpec {
  sensorType: number;
  eventType: number;
  offset: number;
  /** PET severity byte. */
  severity: number;
  entity: number;
  sensorNumber?: number;
  eventData?: number[];
}

export interface Scenario {
  name: string;
  event?: SensorEventSpec;
  /** AMT message pushed over WS-Eventing. */
  wsevent?: { messageId: string; args: string[]; resolveMessageId?: string };
}

export const SCENARIOS: Readonly<Record<string, Scenario>> = {
  'chassis-opened': { name: 'chassis-opened', event: { sensorType: 0x05, eventType: 0x6f, offset: 0, severity: 0x10, entity: 0x17, sensorNumber: 0x01 } },
  'fan-failure': { name: 'fan-failure', event: { sensorType: 0x04, eventType: 0x01, offset: 2, severity: 0x10, entity: 0x1d, sensorNumber: 0x31, eventData: [0x52, 0x00, 0x10] } },
  overheating: { name: 'overheating', event: { sensorType: 0x01, eventType: 0x01, offset: 9, severity: 0x10, entity: 0x03, sensorNumber: 0x20, eventData: [0x59, 0x62, 0x5a] } },
  'boot-failure': { name: 'boot-failure', event: { sensorType: 0x1e, eventType: 0x6f, offset: 0, severity: 0x10, entity: 0x22 } },
  'os-watchdog': { name: 'os-watchdog', event: { sensorType: 0x23, eventType: 0x6f, offset: 1, severity: 0x10, entity: 0x23 } },
  'agent-stopped': { name: 'agent-stopped', wsevent: { messageId: 'iAMT0005', args: ['0'], resolveMessageId: 'iAMT0004' } },
};

export interface PetTarget {
  host: string;
  port: number;
  community?: string;
  /** 1 (default) or 2 for v2c. */
  version?: 1 | 2;
}

/** Per device: the PET sequence counter. */
function nextSequence(device: SimDevice): number {
  const st = device.classState<{ seq: number }>('sim-pet', () => ({ seq: 0 }));
  st.seq = (st.seq + 1) & 0xffff;
  return st.seq;
}

function guidBytes(device: SimDevice): Buffer {
  return Buffer.from(device.uuid.replace(/-/g, ''), 'hex');
}

/** The PET varbind bytes for an event on this device. */
export function petBytes(device: SimDevice, e: SensorEventSpec, o: { deassert?: boolean; time?: number } = {}): Buffer {
  return encodeSimPet({
    guid: guidBytes(device),
    sequence: nextSequence(device),
    unixTime: o.time ?? Math.floor(Date.now() / 1000),
    utcOffsetMinutes: 0,
    severity: o.deassert ? 0x04 : e.severity,
    sensorNumber: e.sensorNumber,
    entity: e.entity,
    // Event data 1 holds the offset in bits 3:0, as in every IPMI event (decoders read it there).
    eventData: e.eventData ? [(e.eventData[0] & 0xf0) | (e.offset & 0x0f), ...e.eventData.slice(1)] : [e.offset & 0x0f, 0xff, 0xff],
  });
}

/** Sends one PET trap; resolves when the datagram is out. */
export function sendPetTrap(device: SimDevice, target: PetTarget, e: SensorEventSpec, o: { deassert?: boolean; bytes?: Buffer } = {}): Promise<void> {
  const specific = simSpecificTrap(e.sensorType, e.eventType, e.offset, o.deassert === true);
  const bytes = o.bytes ?? petBytes(device, e, o);
  const session = snmp.createSession(target.host, target.community ?? 'public', {
    trapPort: target.port,
    version: target.version === 2 ? snmp.Version2c : snmp.Version1,
  });
  const varbinds = [{ oid: PET_VARBIND_OID, type: snmp.ObjectType.OctetString, value: bytes }];
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      session.close();
      if (err) reject(err);
      else resolve();
    };
    session.on('error', done);
    if (target.version === 2) session.trap(`${PET_ENTERPRISE}.0.${specific}`, varbinds, done);
    else session.trap(`${PET_ENTERPRISE}.${specific}`, varbinds, { agentAddr: device.host === '0.0.0.0' ? '127.0.0.1' : device.host }, done);
  });
}

/** The CIM_AlertIndication envelope AMT pushes for a message. */
export function alertIndicationXml(device: SimDevice, sub: Subscription | undefined, messageId: string, args: string[]): string {
  const props = {
    AlertType: 8,
    AlertingElementFormat: 2,
    AlertingManagedElement: 'Interop:CIM_ComputerSystem.CreationClassName="CIM_ComputerSystem",Name="Intel(r) AMT"',
    IndicationFilterName: 'Intel(r) AMT:AllEvents',
    IndicationIdentifier: `Intel(r):${Math.floor(Math.random() * 4e9)}`,
    IndicationTime: datetime(new Date()),
    Message: '',
    MessageArguments: [...args, 'Interop:CIM_ComputerSystem.CreationClassName=CIM_ComputerSystem,Name=Intel(r) AMT'],
    MessageID: messageId,
    OtherAlertingElementFormat: '',
    OtherSeverity: '',
    OwningEntity: 'Intel(r) AMT',
    PerceivedSeverity: 2,
    ProbableCause: 0,
    SystemName: 'Intel(r) AMT',
  };
  return writeEvent({
    messageId: device.nextMessageId(),
    className: 'CIM_AlertIndication',
    classUri: resourceUri('CIM_AlertIndication'),
    props,
    ackRequested: sub ? sub.deliveryMode.endsWith('PushWithAck') : true,
    referenceParams: sub?.referenceParametersXml,
  });
}

export interface PushResult {
  notifyTo: string;
  status: number;
  attempts: number;
  acknowledged: boolean;
}

function post(url: URL, body: string, auth?: string): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method: 'POST',
        agent: false,
        headers: { 'Content-Type': 'application/soap+xml; charset=UTF-8', 'Content-Length': Buffer.byteLength(body), ...(auth ? { Authorization: auth } : {}) },
        timeout: 5000,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

/** One push with Digest: the first POST gets the challenge, the second carries the answer. */
async function pushOnce(sub: Subscription, body: string): Promise<number> {
  const url = new URL(sub.notifyTo);
  const path = url.pathname + url.search;
  const first = await post(url, body);
  if (first.status !== 401 || !sub.pushAuth) return first.status;
  const auth = pushAuthorization(first.headers['www-authenticate'], sub.pushAuth.username, sub.pushAuth.password, 'POST', path);
  if (!auth) return first.status;
  return (await post(url, body, auth)).status;
}

/**
 * Pushes a message to every live subscription. With PushWithAck it retries (up to `attempts`,
 * `retryMs` apart) until the subscriber answers 200, as firmware does.
 */
export async function pushEvent(device: SimDevice, messageId: string, args: string[], o: { attempts?: number; retryMs?: number } = {}): Promise<PushResult[]> {
  const results: PushResult[] = [];
  for (const sub of liveSubscriptions(device)) {
    const body = alertIndicationXml(device, sub, messageId, args);
    const withAck = sub.deliveryMode.endsWith('PushWithAck');
    const max = withAck ? (o.attempts ?? 5) : 1;
    let status = 0;
    let attempts = 0;
    while (attempts < max) {
      attempts++;
      try {
        status = await pushOnce(sub, body);
      } catch {
        status = 0;
      }
      if (status === 200 || !withAck) break;
      await new Promise((r) => setTimeout(r, o.retryMs ?? 500));
    }
    results.push({ notifyTo: sub.notifyTo, status, attempts, acknowledged: status === 200 });
    device.emit('push', { messageId, notifyTo: sub.notifyTo, status, attempts });
  }
  return results;
}

export interface ScenarioTargets {
  pet?: PetTarget;
  /** Also write the event to the platform event log (default true). */
  eventLog?: boolean;
  /** Push WS-Eventing messages where the scenario has one (default true). */
  wsevent?: boolean;
}

/** Plays a scenario on every channel that carries it. */
export async function runScenario(device: SimDevice, name: string, t: ScenarioTargets = {}, deassert = false): Promise<void> {
  const s = SCENARIOS[name];
  if (!s) throw new Error(`unknown scenario "${name}"; known: ${Object.keys(SCENARIOS).join(', ')}`);
  if (s.event) {
    if (t.eventLog !== false) {
      addEventLogRecord(device, {
        time: Math.floor(Date.now() / 1000),
        sensorType: s.event.sensorType,
        eventType: s.event.eventType | (deassert ? 0x80 : 0),
        eventOffset: s.event.offset,
        severity: deassert ? 0x04 : s.event.severity,
        sensorNumber: s.event.sensorNumber,
        entity: s.event.entity,
        eventData: s.event.eventData,
      });
    }
    if (t.pet) await sendPetTrap(device, t.pet, s.event, { deassert });
  }
  if (s.wsevent && t.wsevent !== false) {
    const id = deassert ? s.wsevent.resolveMessageId : s.wsevent.messageId;
    if (id) await pushEvent(device, id, s.wsevent.args);
  }
  device.emit('scenario', { name, deassert });
}

export function clearScenario(device: SimDevice, name: string, t: ScenarioTargets = {}): Promise<void> {
  return runScenario(device, name, t, true);
}

/** LAN heartbeat PET (sensor type 0x27, offset 1) every `intervalMs`; returns a stop function. */
export function startHeartbeats(device: SimDevice, target: PetTarget, intervalMs: number): () => void {
  const beat = () => {
    if (device.classState<{ silent: boolean }>('sim-silence', () => ({ silent: false })).silent) return;
    sendPetTrap(device, target, { sensorType: 0x27, eventType: 0x6f, offset: 1, severity: 0x02, entity: 0x26 }).catch(() => undefined);
  };
  beat();
  const timer = setInterval(beat, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** The PC goes silent: no heartbeats and no WS-Management answers, until `comeBack`. */
export async function goSilent(device: SimDevice): Promise<void> {
  const st = device.classState<{ silent: boolean; port: number }>('sim-silence', () => ({ silent: false, port: 0 }));
  if (st.silent) return;
  st.silent = true;
  st.port = device.port;
  await device.close();
}

export async function comeBack(device: SimDevice): Promise<void> {
  const st = device.classState<{ silent: boolean; port: number }>('sim-silence', () => ({ silent: false, port: 0 }));
  if (!st.silent) return;
  await device.listen(st.port, device.host);
  st.silent = false;
}

/**
 * Every `everyMs`, the next PC in turn plays the next scenario (to the PET target when given, and
 * as event-log records and WS-Eventing pushes to subscribers), and clears it half a period later,
 * so a flow sees alerts and their resolves. Returns a stop function.
 */
export function playScenarios(devices: SimDevice[], targets: ScenarioTargets, everyMs: number): () => void {
  const names = Object.keys(SCENARIOS);
  let turn = 0;
  const timers = new Set<NodeJS.Timeout>();
  const tick = setInterval(() => {
    const device = devices[turn % devices.length];
    const name = names[turn % names.length];
    turn++;
    runScenario(device, name, targets).catch(() => undefined);
    const clear = setTimeout(() => {
      timers.delete(clear);
      clearScenario(device, name, targets).catch(() => undefined);
    }, everyMs / 2);
    timers.add(clear);
  }, everyMs);
  return () => {
    clearInterval(tick);
    for (const t of timers) clearTimeout(t);
  };
}

