/**
 * A cross-check of the simulated System Defense and Agent Presence classes with messages built by
 * Intel's @device-management-toolkit/wsman-messages and sent by curl's own HTTP Digest. The library
 * has no builders specific to these classes, so its generic ones are used (Base: Enumerate, Pull,
 * Get, Create, Put, Delete; createBody for methods), with its own SystemDefensePolicy model type.
 * What they set up is then read back with OOBKit's client, and the other way round.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { AMT } from '@device-management-toolkit/wsman-messages';
import { Base, WSManMessageCreator } from '@device-management-toolkit/wsman-messages/WSMan';
import { openAmt } from '../lib/amt/connect';
import { agentDeviceId, applyTemplate, disablePolicy, readAgentPresence, readSnapshot, readStatus, releaseTemplate } from '../lib/amt/defense';
import { readCreated, readEnumerationContext, readEnvelope, readInstance, readMethodOutput, readPullResponse } from '../lib/wsman/envelope';
import { Fleet, SimDevice, startFleet } from '../packages/sim/src';

const run = promisify(execFile);
const USER = 'admin';
const PASS = 'Sim-P@ss1';
const AMT_BASE = 'http://intel.com/wbem/wscim/1/amt-schema/1/';
const CIM_BASE = 'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/';
const ANON = 'http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous';

let dir: string;
let n = 0;
let fleet: Fleet;
let dev: SimDevice;

async function curl(xml: string): Promise<{ status: number; body: string }> {
  const file = join(dir, `req-${n++}.xml`);
  writeFileSync(file, xml);
  const { stdout } = await run('curl', ['-s', '--digest', '-u', `${USER}:${PASS}`, '-H', 'Content-Type: application/soap+xml;charset=UTF-8', '--data-binary', `@${file}`, '-w', '\n%{http_code}', '--max-time', '10', dev.url]);
  const i = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(i + 1)), body: stdout.slice(0, i) };
}

/** Intel's generic class messages for a class the library has no builder for. */
class IntelClass extends Base {
  constructor(className: string, family: 'AMT' | 'CIM' = 'AMT') {
    super(new WSManMessageCreator(family === 'AMT' ? AMT_BASE : CIM_BASE));
    this.className = className as never;
  }
  Create = (data: unknown): string => this.protectedCreate(data);
  Delete = (selector: unknown): string => this.protectedDelete(selector as never);
  Put = (data: unknown): string => this.protectedPut(data, true);
  /** A method call with one header selector, as the library writes them. */
  Invoke = (method: string, input: unknown, selector?: { name: string; value: string }): string => {
    const m = this.wsmanMessageCreator;
    return m.createXml(m.createHeader(`${AMT_BASE}${this.className}/${method}`, this.className, selector ?? null), m.createBody(`${method}_INPUT`, this.className, input));
  };
}

/**
 * An endpoint reference in the shape the library takes: Selector is a list in a body, and a
 * single object in a header selector (createSelector handles only that form).
 */
function epr(resourceUri: string, name: string, value: string, where: 'body' | 'header' = 'body') {
  const selector = { $: { Name: name }, _: value };
  return { Address: ANON, ReferenceParameters: { ResourceURI: resourceUri, SelectorSet: { Selector: where === 'body' ? [selector] : selector } } };
}

async function enumerate(cls: IntelClass): Promise<Array<Record<string, unknown>>> {
  const e = await curl(cls.Enumerate());
  expect(e.status).toBe(200);
  const p = await curl(cls.Pull(readEnumerationContext(readEnvelope(e.body))));
  expect(p.status).toBe(200);
  return readPullResponse(readEnvelope(p.body)).items.map((i) => i.props as Record<string, unknown>);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'oob-defense-peer-'));
  fleet = await startFleet({ devices: 1, port: 0, user: USER, password: PASS, configure: (_i, o) => ({ ...o, defense: { secondMs: 20 } }) });
  dev = fleet.devices[0];
});
afterAll(async () => {
  await fleet.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('Intel wsman-messages against the simulated System Defense classes (curl --digest)', () => {
  const filter = new IntelClass('AMT_IPHeadersFilter');
  const policy = new IntelClass('AMT_SystemDefensePolicy');
  const binding = new IntelClass('AMT_NetworkPortSystemDefensePolicy');
  let policyId = '';

  it('creates a filter and a policy with the library, enables it, and the PC drops what it says', async () => {
    const made = await curl(
      // Every key with a placeholder, as MeshCommander sends them: the device refuses a Create without.
      filter.Create({ InstanceID: 0, Name: 'no-ssh', CreationClassName: 0, SystemName: 0, SystemCreationClassName: 0, FilterDirection: 1, FilterProfile: 1, ActionEventOnMatch: false, HdrIPVersion: 4, HdrSrcAddress: 'CB007100', HdrSrcMask: 'FFFFFF00', HdrProtocolID: 6, HdrDestPortStart: 22, HdrDestPortEnd: 22 }),
    );
    expect([made.status, made.body]).toEqual([200, expect.stringContaining('ResourceCreated')]);
    const filterId = readCreated(readEnvelope(made.body))?.selectors.InstanceID;
    expect(filterId).toMatch(/^\d+$/);
    const handle = Number(filterId);

    const model: AMT.Models.SystemDefensePolicy & { InstanceID: number } = {
      InstanceID: 0,
      PolicyName: 'intel-made',
      PolicyPrecedence: 7,
      FilterCreationHandles: [handle],
      TxDefaultDrop: false,
      TxDefaultMatchEvent: false,
      TxDefaultCount: false,
      RxDefaultDrop: false,
      RxDefaultMatchEvent: false,
      RxDefaultCount: false,
    };
    const p = await curl(policy.Create(model));
    expect(p.status).toBe(200);
    policyId = readCreated(readEnvelope(p.body))!.selectors.InstanceID;
    const enabled = await curl(
      binding.Create({ Antecedent: epr(`${CIM_BASE}CIM_EthernetPort`, 'DeviceID', 'Intel(r) AMT Ethernet Port 0'), Dependent: epr(`${AMT_BASE}AMT_SystemDefensePolicy`, 'InstanceID', policyId) }),
    );
    expect(enabled.status).toBe(200);

    expect(dev.sendPacket({ direction: 'in', remote: '203.0.113.9', localPort: 22 })).toMatchObject({ verdict: 'dropped', policy: 'intel-made', filter: 'no-ssh' });
    expect(dev.sendPacket({ direction: 'in', remote: '198.51.100.9', localPort: 22 }).verdict).toBe('passed');

    // OOBKit's client reads back what the library wrote.
    const c = openAmt({ host: '127.0.0.1', port: dev.port, username: USER, password: PASS });
    try {
      const status = await readStatus(c);
      expect(status).toMatchObject({ state: 'policy', label: 'policy: intel-made', policy: { precedence: 7, filters: [{ name: 'no-ssh', rule: 'in drop tcp from 203.0.113.0/24 to port 22 (counted)' }] } });
    } finally {
      c.close();
    }
  });

  it('every new class answers the library Enumerate and Pull', async () => {
    const classes: Array<[string, 'AMT' | 'CIM', number]> = [
      ['AMT_SystemDefensePolicy', 'AMT', 1],
      ['AMT_IPHeadersFilter', 'AMT', 1],
      ['AMT_Hdr8021Filter', 'AMT', 0],
      ['AMT_FilterInSystemDefensePolicy', 'AMT', 1],
      ['AMT_NetworkPortSystemDefensePolicy', 'AMT', 1],
      ['AMT_NetworkPortDefaultSystemDefensePolicy', 'AMT', 0],
      ['AMT_GeneralSystemDefenseCapabilities', 'AMT', 1],
      ['CIM_EthernetPort', 'CIM', 1],
      ['AMT_AgentPresenceService', 'AMT', 1],
      ['AMT_AgentPresenceCapabilities', 'AMT', 1],
      ['AMT_AgentPresenceWatchdog', 'AMT', 0],
    ];
    for (const [name, family, count] of classes) expect([name, (await enumerate(new IntelClass(name, family))).length]).toEqual([name, count]);
    const [port] = await enumerate(new IntelClass('CIM_EthernetPort', 'CIM'));
    expect(port.DeviceID).toBe('Intel(r) AMT Ethernet Port 0');
  });

  it('UpdateStatistics from the library, then the counters in AMT_ActiveFilterStatistics', async () => {
    dev.sendPacket({ direction: 'in', remote: '203.0.113.10', localPort: 22 });
    const r = await curl(policy.Invoke('UpdateStatistics', { NetworkInterface: epr(`${CIM_BASE}CIM_EthernetPort`, 'DeviceID', 'Intel(r) AMT Ethernet Port 0'), ResetOnRead: true }, { name: 'InstanceID', value: policyId }));
    expect(r.status).toBe(200);
    expect(readMethodOutput(readEnvelope(r.body), 'UpdateStatistics').ReturnValue).toBe('0');
    const [row] = await enumerate(new IntelClass('AMT_ActiveFilterStatistics'));
    expect(row).toMatchObject({ ReadCount: '2', FilterMatched: 'true' });
    expect(JSON.parse((row.Dependent as { selectors: Record<string, string> }).selectors.Dependent).selectors.Name).toBe('no-ssh');
  });

  it('OOBKit isolates above the library-made policy, and releasing brings it back', async () => {
    const c = openAmt({ host: '127.0.0.1', port: dev.port, username: USER, password: PASS });
    try {
      await applyTemplate(c, 'isolate', { managementHosts: '192.0.2.1' });
      expect(dev.sendPacket({ direction: 'in', remote: '198.51.100.9', localPort: 22 }).verdict).toBe('dropped');
      const own = (await enumerate(policy)).find((p) => String(p.PolicyName).startsWith('oobkit-'));
      expect(Number(own?.PolicyPrecedence)).toBeGreaterThan(7);
      await releaseTemplate(c);
      expect((await readStatus(c)).label).toBe('policy: intel-made');
    } finally {
      c.close();
    }
  });

  it('deletes the binding only with the port named by CreationClassName and DeviceID', async () => {
    // The library writes one selector per reference in a header: the port by DeviceID alone, refused.
    const byDeviceId = await curl(
      binding.Delete({ Antecedent: epr(`${CIM_BASE}CIM_EthernetPort`, 'DeviceID', 'Intel(r) AMT Ethernet Port 0', 'header'), Dependent: epr(`${AMT_BASE}AMT_SystemDefensePolicy`, 'InstanceID', policyId, 'header') }),
    );
    expect(byDeviceId.status).toBe(400);
    expect(byDeviceId.body).toContain('InvalidSelectors');
    expect(dev.sendPacket({ direction: 'in', remote: '203.0.113.9', localPort: 22 }).verdict).toBe('dropped');
    const c = openAmt({ host: '127.0.0.1', port: dev.port, username: USER, password: PASS });
    try {
      await disablePolicy(c, 'wired', policyId);
    } finally {
      c.close();
    }
    expect(dev.sendPacket({ direction: 'in', remote: '203.0.113.9', localPort: 22 }).verdict).toBe('passed');
    const wrong = await curl(binding.Delete({ Antecedent: epr(`${CIM_BASE}CIM_EthernetPort`, 'DeviceID', 'Intel(r) AMT Ethernet Port 0', 'header'), Dependent: epr(`${AMT_BASE}AMT_SystemDefensePolicy`, 'InstanceID', policyId, 'header') }));
    expect(wrong.status).toBe(400);
    expect(wrong.body).toContain('InvalidSelectors');
  });

  it('a watchdog made and fed through library messages expires, and OOBKit reads its state', async () => {
    const agentId = '3b241101-e2bb-4255-8caf-4136c566a962';
    const deviceId = agentDeviceId(agentId);
    const wd = new IntelClass('AMT_AgentPresenceWatchdog');
    expect((await curl(wd.Create({ CreationClassName: 0, DeviceID: deviceId, SystemCreationClassName: 0, SystemName: 0, MonitoredEntityDescription: 'firewall', StartupInterval: 60, TimeoutInterval: 25 }))).status).toBe(200);
    const add = await curl(wd.Invoke('AddAction', { OldState: 4, NewState: 8, EventOnTransition: true }, { name: 'DeviceID', value: deviceId }));
    expect(readMethodOutput(readEnvelope(add.body), 'AddAction').ReturnValue).toBe('0');
    const reg = await curl(wd.Invoke('RegisterAgent', {}, { name: 'DeviceID', value: deviceId }));
    const seq = Number(readMethodOutput(readEnvelope(reg.body), 'RegisterAgent').SessionSequenceNumber);
    const ok = await curl(wd.Invoke('AssertPresence', { SequenceNumber: (seq + 1) >>> 0 }, { name: 'DeviceID', value: deviceId }));
    expect(readMethodOutput(readEnvelope(ok.body), 'AssertPresence').ReturnValue).toBe('0');
    const got = await curl(wd.Get({ name: 'DeviceID', value: deviceId }));
    expect(readInstance(readEnvelope(got.body)).props).toMatchObject({ CurrentState: '4', MonitoredEntityDescription: 'firewall' });

    const alert = new Promise<{ to: string }>((resolve) => dev.once('agent-presence', resolve));
    expect((await alert).to).toBe('expired');
    const c = openAmt({ host: '127.0.0.1', port: dev.port, username: USER, password: PASS });
    try {
      expect((await readAgentPresence(c)).watchdogs).toEqual([
        { agentId, description: 'firewall', state: 'expired', timeout: 25, grace: 60, actions: [{ from: ['running'], to: ['expired'], event: true }] },
      ]);
    } finally {
      c.close();
    }
    expect((await curl(wd.Delete({ name: 'DeviceID', value: deviceId }))).status).toBe(200);
  });
});

it('after the library and OOBKit took turns, OOBKit reads only the library policy, no longer enabled', async () => {
  const c = openAmt({ host: '127.0.0.1', port: dev.port, username: USER, password: PASS });
  try {
    const s = await readSnapshot(c);
    expect(s.policies.map((p) => p.name)).toEqual(['intel-made']);
    expect(s.enabled).toEqual([]);
  } finally {
    c.close();
  }
});
