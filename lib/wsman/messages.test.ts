import { CIM } from '@device-management-toolkit/wsman-messages';
import { readEnvelope } from './envelope';
import { buildDelete, buildGet, buildInvoke, buildPut, buildSubscribe } from './messages';
import { applySchema } from './typing';
import { child, parseXml, toPlain } from './xml';
import { MANAGED_SYSTEM } from '../amt/power';

describe('request envelopes', () => {
  it('writes every selector, escaped, and a unique uuid MessageID', () => {
    const a = buildGet('CIM_Chassis', { Tag: 'a&b<c', N: 2 });
    const b = buildGet('CIM_Chassis');
    const env = readEnvelope(a.xml);
    expect(env.header.selectors).toEqual({ Tag: 'a&b<c', N: '2' });
    expect(env.header.messageId).toMatch(/^uuid:[0-9a-f-]{36}$/);
    expect(env.header.messageId).not.toBe(readEnvelope(b.xml).header.messageId);
    expect(env.header.resourceUri).toBe('http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_Chassis');
  });

  it('gives every request a MessageID of its own, in the form of a UUID', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => readEnvelope(buildGet(i % 2 ? 'AMT_GeneralSettings' : 'CIM_Chassis', i % 3 ? undefined : { N: i }).xml).header.messageId);
    for (const id of ids) expect(id).toMatch(/^uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('tells the byte length of a Get it built, in UTF-8, also for a name outside ASCII', () => {
    for (const name of ['CIM_Chassis', 'AMT_GeneralSettings', 'CIM_Kühlung', 'IPS_電源']) {
      const a = buildGet(name);
      const b = buildGet(name);
      expect(a.bytes).toBe(Buffer.byteLength(a.xml));
      expect(b.bytes).toBe(Buffer.byteLength(b.xml));
    }
  });

  it('writes an endpoint reference as a selector value (association keys), escaped', () => {
    const port = { address: 'http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous', resourceUri: 'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_EthernetPort', selectors: { DeviceID: 'Intel(r) AMT Ethernet Port 0' } };
    const policy = { ...port, resourceUri: 'http://intel.com/wbem/wscim/1/amt-schema/1/AMT_SystemDefensePolicy', selectors: { InstanceID: 'a<b&c' } };
    const env = readEnvelope(buildDelete('AMT_NetworkPortSystemDefensePolicy', { Antecedent: port, Dependent: policy }).xml);
    expect(JSON.parse(env.header.selectors.Antecedent)).toEqual(port);
    expect(JSON.parse(env.header.selectors.Dependent)).toEqual(policy);
  });

  it('builds the same RequestPowerStateChange body as Intel wsman-messages', () => {
    const ours = readEnvelope(buildInvoke('CIM_PowerManagementService', 'RequestPowerStateChange', { PowerState: 8, ManagedElement: MANAGED_SYSTEM }).xml);
    const intel = readEnvelope(new CIM.Messages().PowerManagementService.RequestPowerStateChange(8));
    expect(ours.header.action).toBe(intel.header.action);
    const o = toPlain(ours.payload!) as Record<string, any>;
    const i = toPlain(intel.payload!) as Record<string, any>;
    expect(o.PowerState).toBe(i.PowerState);
    expect(o.ManagedElement.selectors).toEqual(i.ManagedElement.selectors);
    expect(o.ManagedElement.resourceUri).toBe(i.ManagedElement.resourceUri);
  });

  it('escapes Put values so markup cannot be injected', () => {
    const env = readEnvelope(buildPut('AMT_GeneralSettings', { HostName: '</h:HostName><h:Evil>1' }).xml);
    expect(toPlain(env.payload!)).toEqual({ HostName: '</h:HostName><h:Evil>1' });
  });

  it('puts push credentials in the header and the listener in NotifyTo', () => {
    const env = readEnvelope(buildSubscribe('http://schemas.dmtf.org/wbem/wscim/1/*', { notifyTo: 'http://10.0.0.2:8080/x?a=1&b=2', reference: 'r1', pushAuth: { username: 'u', password: 'p' } }).xml);
    const notify = child(child(env.payload, 'Delivery'), 'NotifyTo');
    expect(child(notify, 'Address')?.text).toBe('http://10.0.0.2:8080/x?a=1&b=2');
    expect(parseXml(buildSubscribe('CIM_Chassis', { notifyTo: 'http://x' }).xml).name).toBe('Envelope');
  });
});

describe('typing by schema', () => {
  it('types only what the schema names and normalizes arrays', () => {
    const typed = applySchema(
      { PowerState: '8', AvailableRequestedPowerStates: '2', Flag: 'true', Other: '12', Empty: '', Odd: 'n/a' },
      { PowerState: 'int', AvailableRequestedPowerStates: 'int[]', Flag: 'bool', Empty: 'int[]', Odd: 'int', Missing: 'string[]' },
    );
    expect(typed).toEqual({ PowerState: 8, AvailableRequestedPowerStates: [2], Flag: true, Other: '12', Empty: [], Odd: 'n/a', Missing: [] });
  });
});
