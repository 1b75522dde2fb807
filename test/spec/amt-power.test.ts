/**
 * AMT power against its specification, not against our own tables: every action name and alias →
 * the PowerState the client puts on the wire (DSP1027 Power State Management Profile, the
 * CIM_PowerManagementService.RequestPowerStateChange PowerState ValueMap, as Intel's AMT SDK and
 * wsman-messages name them), and every ReturnValue → success or its error (the method's ValueMap).
 *
 * The real client talks to the simulated PC through a recording proxy written here: the request
 * bodies are read with fast-xml-parser (not our reader); for rows the simulated firmware does not
 * implement, the proxy lists every PowerState as available and answers the invoke with Intel's
 * captured RequestPowerStateChange reply, its ReturnValue set to the row's value.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { OFF_STATES, powerActionCode, powerStateName, readPowerStatus, requestPowerAction } from '../../lib/amt/power';
import { DeviceRefusedError, InputError, OobError } from '../../lib/errors';
import { amtSchemaFor } from '../../lib/amt/schema';
import { WsmanClient } from '../../lib/wsman/client';
import { Fleet, startFleet } from '../../packages/sim/src';

const USER = 'admin';
const PASSWORD = 'Spec-P0wer!';
const CAPTURED_REPLY = fs.readFileSync(path.join(__dirname, '../fixtures/amt/gwm/cim/power/managementservice/requestpowerstatechange.xml'), 'utf8');
const RPSC_ACTION = 'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_PowerManagementService/RequestPowerStateChange';

/**
 * DSP1027 / CIM_PowerManagementService PowerState values, by the names users type. Written from
 * the specification's value names: 2 Power On, 3 Sleep-Light, 4 Sleep-Deep, 5 Power Cycle (Off
 * Soft), 6 Power Off-Hard, 7 Hibernate, 8 Power Off-Soft (AMT's "power down"), 9 Power Cycle (Off
 * Hard), 10 Master Bus Reset, 11 Diagnostic Interrupt (NMI), 12 Power Off-Soft Graceful, 13 Power
 * Off-Hard Graceful, 14 Master Bus Reset Graceful, 15 Power Cycle (Off-Soft Graceful), 16 Power
 * Cycle (Off-Hard Graceful) (16 has no action name of ours: Intel's AMT does not offer it).
 */
const ACTION_TABLE: Array<[string, number]> = [
  ['on', 2],
  ['power-on', 2],
  ['sleep-light', 3],
  ['sleep', 4],
  ['cycle', 5],
  ['off-hard', 6],
  ['hibernate', 7],
  ['off', 8],
  ['power-off', 8],
  ['cycle-hard', 9],
  ['reset', 10],
  ['nmi', 11],
  ['soft-off', 12],
  ['graceful-off', 12],
  ['shutdown', 12],
  ['graceful-off-hard', 13],
  ['graceful-reset', 14],
  ['soft-reset', 14],
  ['restart', 14],
  ['graceful-cycle', 15],
  // Names are read case-blind and trimmed, the way a person types them.
  ['  Restart ', 14],
  ['SHUTDOWN', 12],
];

/** ReturnValue → null for success, else the words its error must carry (the ValueMap's meaning). */
const RETURN_TABLE: Array<[number, RegExp | null]> = [
  [0, null],
  [1, /not supported/],
  [2, /unknown or unspecified error/],
  [3, /timeout/],
  [4, /failed/],
  [5, /invalid parameter/],
  [6, /in use/],
  [7, /reserved/],
  [4095, /reserved/],
  [4096, null],
  [4097, /invalid state transition/],
  [4098, /timeout parameter not supported/],
  [4099, /busy/],
  [4100, /reserved/],
  [32767, /reserved/],
  [32768, /vendor specific/],
  [65535, /vendor specific/],
  // Past the uint16 range the ValueMap lists.
  [65536, /reserved/],
];

const xml = new XMLParser({ removeNSPrefix: true, ignoreAttributes: false, parseTagValue: false });

interface Sent {
  action: string;
  messageId: string;
  resourceUri: string;
  powerState?: string;
  managedElement?: Record<string, string>;
}

/** What the client sent, read from the body with fast-xml-parser. */
function readRequest(body: string): Sent {
  const env = xml.parse(body).Envelope;
  const action = String(env.Header.Action['#text'] ?? env.Header.Action);
  const messageId = String(env.Header.MessageID);
  const resourceUri = String(env.Header.ResourceURI['#text'] ?? env.Header.ResourceURI);
  const input = env.Body?.RequestPowerStateChange_INPUT;
  if (!input) return { action, messageId, resourceUri };
  const selectors: Record<string, string> = {};
  const set = input.ManagedElement?.ReferenceParameters?.SelectorSet?.Selector ?? [];
  for (const s of [].concat(set) as Array<Record<string, string>>) selectors[s['@_Name']] = s['#text'];
  return { action, messageId, resourceUri, powerState: String(input.PowerState), managedElement: selectors };
}

interface Proxy {
  port: number;
  sent: Sent[];
  /** When set: may replace what the device answered to a request. */
  rewrite?: (sent: Sent, status: number, body: string) => { status: number; body: string } | undefined;
  /** When set: every PowerState 2-16 listed as available, and the invoke answered with this ReturnValue. */
  answer?: number;
  close(): Promise<void>;
}

async function startProxy(target: number): Promise<Proxy> {
  const p = { sent: [] as Sent[], answer: undefined as number | undefined } as Proxy;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const sent = body ? readRequest(body) : undefined;
      const fwd = http.request({ host: '127.0.0.1', port: target, method: req.method, path: req.url, headers: req.headers }, (up) => {
        const parts: Buffer[] = [];
        up.on('data', (c: Buffer) => parts.push(c));
        up.on('end', () => {
          let out = Buffer.concat(parts).toString('utf8');
          let status = up.statusCode ?? 500;
          if (sent && status !== 401) p.sent.push(sent);
          const replaced = sent && status !== 401 && p.rewrite ? p.rewrite(sent, status, out) : undefined;
          if (replaced) ({ status, body: out } = replaced);
          if (p.answer !== undefined && sent && status !== 401) {
            if (sent.action === RPSC_ACTION) {
              status = 200;
              out = CAPTURED_REPLY.replace('<g:ReturnValue>0</g:ReturnValue>', `<g:ReturnValue>${p.answer}</g:ReturnValue>`).replace(
                '<b:RelatesTo>0</b:RelatesTo>',
                `<b:RelatesTo>${sent.messageId}</b:RelatesTo>`,
              );
            } else if (/AvailableRequestedPowerStates/.test(out)) {
              const all = Array.from({ length: 15 }, (_, i) => i + 2);
              out = out.replace(/(<(\w+:)?AvailableRequestedPowerStates>\d+<\/(\w+:)?AvailableRequestedPowerStates>)+/, (m) => {
                const prefix = /^<(\w+:)?/.exec(m)![1] ?? '';
                return all.map((n) => `<${prefix}AvailableRequestedPowerStates>${n}</${prefix}AvailableRequestedPowerStates>`).join('');
              });
            }
          }
          const headers = { ...up.headers };
          delete headers['transfer-encoding'];
          headers['content-length'] = String(Buffer.byteLength(out));
          res.writeHead(status, headers);
          res.end(out);
        });
      });
      fwd.on('error', () => res.destroy());
      fwd.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  p.port = (server.address() as AddressInfo).port;
  p.close = () => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  };
  return p;
}

let fleet: Fleet;
let proxy: Proxy;
let client: WsmanClient;

beforeAll(async () => {
  fleet = await startFleet({ devices: 1, port: 0, user: USER, password: PASSWORD, seed: 'spec-power' });
  proxy = await startProxy(fleet.devices[0].port!);
  client = new WsmanClient({ host: '127.0.0.1', port: proxy.port, username: USER, password: PASSWORD, schemaFor: amtSchemaFor });
});
afterAll(async () => {
  client.close();
  await proxy.close();
  await fleet.stop();
});

beforeEach(() => {
  proxy.sent.length = 0;
  proxy.answer = undefined;
  proxy.rewrite = undefined;
});

/** The PowerStates the client asked for, as they went over the wire. */
const requested = () => proxy.sent.filter((s) => s.action === RPSC_ACTION).map((s) => s.powerState);

describe('every action name and alias sends the PowerState DSP1027 gives it', () => {
  it.each(ACTION_TABLE)('%s -> PowerState %i', async (action, code) => {
    proxy.answer = 0;
    await requestPowerAction(client, action);
    expect(requested()).toEqual([String(code)]);
    expect(powerActionCode(action)).toBe(code);
    // Acting reads the power state first, and nothing else (no OS power-saving state).
    expect(proxy.sent.map((s) => s.action.split('/').pop())).toEqual(['Get', 'RequestPowerStateChange']);
    const sent = proxy.sent.find((s) => s.action === RPSC_ACTION)!;
    // DSP1027: the ManagedElement is the host's CIM_ComputerSystem (AMT names it ManagedSystem).
    expect(sent.managedElement).toEqual({ CreationClassName: 'CIM_ComputerSystem', Name: 'ManagedSystem' });
  });

  it('a name that is not an action is refused before anything is sent', async () => {
    proxy.answer = 0;
    for (const bad of ['', 'reboot-now', 'power', '12', 'off hard']) {
      await expect(requestPowerAction(client, bad)).rejects.toBeInstanceOf(InputError);
    }
    await expect(requestPowerAction(client, 'reboot-now')).rejects.toThrow(/unknown power action "reboot-now"; use one of: .*\bon\b.*graceful-reset/);
    expect(proxy.sent).toEqual([]);
  });
});

describe('the simulated firmware acts on what the client sends', () => {
  it('shutdown (12) with the OS running: the PC goes off through the OS', async () => {
    const d = fleet.devices[0];
    d.powerOn();
    d.setOsRunning(true);
    await requestPowerAction(client, 'shutdown');
    expect(requested()).toEqual(['12']);
    await new Promise((r) => setTimeout(r, 50));
    expect(d.powerState).toBe(8);
    await requestPowerAction(client, 'power-on');
    expect(requested()).toEqual(['12', '2']);
    expect(d.powerState).toBe(2);
  });

  it('an action the firmware does not list now is refused without an invoke', async () => {
    const d = fleet.devices[0];
    d.powerOff();
    await expect(requestPowerAction(client, 'reset')).rejects.toThrow(/does not offer "reset" while off \(it offers: on\)$/);
    expect(requested()).toEqual([]);
    d.powerOn();
    d.setOsRunning(true);
    await requestPowerAction(client, 'sleep');
    await expect(requestPowerAction(client, 'reset')).rejects.toThrow(/does not offer "reset" while sleep \(it offers: on, off\)$/);
    await requestPowerAction(client, 'on');
  });
});

describe('every ReturnValue of RequestPowerStateChange', () => {
  it.each(RETURN_TABLE)('ReturnValue %i', async (rv, error) => {
    proxy.answer = rv;
    const result = requestPowerAction(client, 'reset');
    if (error === null) {
      await expect(result).resolves.toMatchObject({ state: expect.any(String) });
    } else {
      const e = await result.then(
        () => undefined,
        (x: unknown) => x,
      );
      if (!(e instanceof DeviceRefusedError)) throw e;
      expect((e as DeviceRefusedError).returnValue).toBe(rv);
      expect((e as Error).message).toMatch(error);
      expect((e as Error).message).toContain(`ReturnValue ${rv}`);
      expect((e as Error).message).toMatch(/^power action "reset" refused/);
      // Advice on what to do is for ReturnValue 2 alone (AMT's answer to a state change it cannot make now); the others end with the words of their meaning.
      if (rv !== 2) expect((e as Error).message).toMatch(new RegExp(`${error.source}\\)$`));
    }
    expect(requested()).toEqual(['10']);
  });
});

const FAULT = fs.readFileSync(path.join(__dirname, '../fixtures/amt/Fault-DestinationUnreachable.xml'), 'utf8');
const isGet = (s: Sent, cls: string) => s.action.endsWith('/transfer/Get') && s.resourceUri.endsWith(`/${cls}`);

describe('reading the power state', () => {
  /** PowerState values and their meaning in DSP1027, in the words we show. */
  const STATES: Array<[number, string]> = [
    [1, 'other'],
    [2, 'on'],
    [3, 'sleep-light'],
    [4, 'sleep'],
    [5, 'cycle'],
    [6, 'off-hard'],
    [7, 'hibernate'],
    [8, 'off'],
    [9, 'cycle-hard'],
    [10, 'reset'],
    [11, 'nmi'],
    [12, 'soft-off'],
    [13, 'graceful-off-hard'],
    [14, 'graceful-reset'],
    [15, 'graceful-cycle'],
    [16, 'graceful-cycle-hard'],
    [17, 'init'],
    [0, 'state-0'],
    [18, 'state-18'],
  ];
  it.each(STATES)('PowerState %i reads as "%s"', async (code, name) => {
    expect(powerStateName(code)).toBe(name);
    proxy.rewrite = (sent, status, body) =>
      isGet(sent, 'CIM_AssociatedPowerManagementService') ? { status, body: body.replace(/(<(\w+:)?PowerState>)\d+</, `$1${code}<`) } : undefined;
    expect((await readPowerStatus(client, { osPowerSaving: false })).code).toBe(code);
    expect((await readPowerStatus(client, { osPowerSaving: false })).state).toBe(name);
  });

  it('off, for a user, is Off-Soft (8), Off-Hard (6) and Hibernate (7): no OS runs', () => {
    const off = Array.from({ length: 20 }, (_, code) => code).filter((code) => OFF_STATES.has(powerStateName(code)));
    expect(off).toEqual([6, 7, 8]);
  });

  it('no AvailableRequestedPowerStates: nothing offered, nothing sent, and the error says so', async () => {
    proxy.rewrite = (sent, status, body) =>
      isGet(sent, 'CIM_AssociatedPowerManagementService') ? { status, body: body.replace(/<(\w+:)?AvailableRequestedPowerStates>\d+<\/(\w+:)?AvailableRequestedPowerStates>/g, '') } : undefined;
    expect((await readPowerStatus(client, { osPowerSaving: false })).available).toEqual([]);
    await expect(requestPowerAction(client, 'reset')).rejects.toThrow(/does not offer "reset" while on \(it offers no power action now\)$/);
    expect(requested()).toEqual([]);
  });

  it('an OS power-saving reply without the value: not known', async () => {
    fleet.devices[0].powerOn();
    proxy.rewrite = (sent, status, body) =>
      isGet(sent, 'IPS_PowerManagementService') ? { status, body: body.replace(/<(\w+:)?OSPowerSavingState>\d+<\/(\w+:)?OSPowerSavingState>/, '') } : undefined;
    const status = await readPowerStatus(client);
    expect(status.state).toBe('on');
    expect(status.osPowerSaving).toBeUndefined();
  });

  it('a reply without PowerState is a clear error', async () => {
    proxy.rewrite = (sent, status, body) => (isGet(sent, 'CIM_AssociatedPowerManagementService') ? { status, body: body.replace(/<(\w+:)?PowerState>\d+<\/(\w+:)?PowerState>/, '') } : undefined);
    const e = await readPowerStatus(client).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OobError);
    expect(e).toMatchObject({ code: 'BAD_XML' });
    expect((e as Error).message).toMatch(/reported no PowerState/);
  });

  it('the actions offered are those of AvailableRequestedPowerStates we have names for', async () => {
    const d = fleet.devices[0];
    d.powerOn();
    d.setOsRunning(true);
    const on = await readPowerStatus(client, { osPowerSaving: false });
    // In PowerState order, whatever order the firmware lists them in.
    expect(on.available).toEqual(['sleep', 'cycle', 'hibernate', 'off', 'reset', 'nmi', 'soft-off', 'graceful-reset']);
    d.powerOff();
    expect((await readPowerStatus(client)).available).toEqual(['on']);
    d.powerOn();
  });

  /** IPS_PowerManagementService.OSPowerSavingState (Intel AMT SDK): 0 unknown, 1 unsupported, 2 full power, 3 OS power saving. */
  it.each([
    [0, 'unknown'],
    [1, 'unsupported'],
    [2, 'full-power'],
    [3, 'power-saving'],
    [9, 'state-9'],
  ])('OSPowerSavingState %i reads as "%s", while on', async (value, name) => {
    fleet.devices[0].powerOn();
    proxy.rewrite = (sent, status, body) =>
      isGet(sent, 'IPS_PowerManagementService') ? { status, body: body.replace(/(<(\w+:)?OSPowerSavingState>)\d+</, `$1${value}<`) } : undefined;
    expect((await readPowerStatus(client)).osPowerSaving).toBe(name);
  });

  it('the OS power-saving state is asked only while on, and only when wanted', async () => {
    const d = fleet.devices[0];
    d.powerOn();
    await readPowerStatus(client, { osPowerSaving: false });
    d.powerOff();
    await readPowerStatus(client);
    d.powerOn();
    expect(proxy.sent.filter((s) => isGet(s, 'IPS_PowerManagementService'))).toEqual([]);
    await readPowerStatus(client);
    expect(proxy.sent.filter((s) => isGet(s, 'IPS_PowerManagementService'))).toHaveLength(1);
  });

  it('firmware without IPS_PowerManagementService (a WS-Man fault): no OS power-saving state, no error', async () => {
    fleet.devices[0].powerOn();
    proxy.rewrite = (sent) =>
      isGet(sent, 'IPS_PowerManagementService') ? { status: 400, body: FAULT.replace('<b:RelatesTo>2</b:RelatesTo>', `<b:RelatesTo>${sent.messageId}</b:RelatesTo>`) } : undefined;
    const status = await readPowerStatus(client);
    expect(status.state).toBe('on');
    expect(status.osPowerSaving).toBeUndefined();
    expect('osPowerSaving' in status).toBe(false);
  });

  it('any other failure reading it is not swallowed', async () => {
    fleet.devices[0].powerOn();
    proxy.rewrite = (sent) => (isGet(sent, 'IPS_PowerManagementService') ? { status: 500, body: '<html>busy</html>' } : undefined);
    await expect(readPowerStatus(client)).rejects.toThrow(/500/);
  });
});
