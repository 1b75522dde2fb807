/**
 * The simulator's WS-Management and HTTP edges: fault injection, malformed and oversized
 * requests, unknown classes/methods/selectors, Pull paging, EnumerateEPR, Release, Subscribe,
 * latency, keep-alive.
 */
import { readEnvelope, readFault, readInstance, readMethodOutput, readPullResponse, readEnumerationContext, readSubscribeResponse } from '../lib/wsman/envelope';
import { buildEnumerate, buildGet, buildInvoke, buildPull, buildPut, buildRelease, buildSubscribe, buildUnsubscribe, BuiltRequest } from '../lib/wsman/messages';
import { dispatch, Fleet, optInState, SimDevice, startFleet } from '../packages/sim/src';
import { chunkedBody, chunkedText } from '../packages/sim/src/wsman-server';
import { authorization, parseChallenge, postText, rawExchange, wsmanCall } from './sim-helpers';

function call(d: SimDevice, r: BuiltRequest | string) {
  const a = dispatch(d, typeof r === 'string' ? r : r.xml);
  return { status: a.status, xml: a.xml, env: readEnvelope(a.xml) };
}

function faultOf(d: SimDevice, r: BuiltRequest | string) {
  const c = call(d, r);
  expect(c.status).toBe(400);
  return readFault(c.env, c.status);
}

describe('fault injection', () => {
  let fleet: Fleet;
  let dev: SimDevice;
  const xml = buildGet('AMT_GeneralSettings').xml;

  beforeAll(async () => {
    fleet = await startFleet({ devices: 1, port: 0 });
    dev = fleet.devices[0];
  });

  afterAll(async () => {
    await fleet.stop();
  });

  afterEach(() => dev.clearFaults());

  it('drop: the connection closes without an answer', async () => {
    dev.injectFault({ kind: 'drop' });
    await expect(wsmanCall(dev, xml)).rejects.toThrow(/closed before a complete response/);
    expect((await wsmanCall(dev, xml)).status).toBe(200);
  });

  it('hang: no answer at all, until the device stops', async () => {
    const other = await startFleet({ devices: 1, port: 0 });
    const d = other.devices[0];
    d.injectFault({ kind: 'hang' });
    const first = await rawExchange(d.port, postText(d.port, xml));
    first.socket.destroy();
    const ch = parseChallenge(first.headers['www-authenticate']);
    const auth = authorization(ch, { user: 'admin', password: 'P@ssw0rd' }, 'POST', '/wsman', Buffer.from(xml), 1);
    let settled = false;
    const pending = rawExchange(d.port, postText(d.port, xml, [`Authorization: ${auth}`]), { timeoutMs: 5000 }).finally(() => (settled = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(settled).toBe(false);
    await other.stop();
    await expect(pending).rejects.toThrow(/closed before a complete response/);
  });

  it('http500: a 500 with an HTML body, then normal again', async () => {
    dev.injectFault({ kind: 'http500' });
    const r = await wsmanCall(dev, xml);
    expect(r.status).toBe(500);
    expect(r.headers['content-type']).toBe('text/html');
    expect((await wsmanCall(dev, xml)).status).toBe(200);
  });

  it('garble: a 200 whose XML does not parse', async () => {
    dev.injectFault({ kind: 'garble' });
    const r = await wsmanCall(dev, xml);
    expect(r.status).toBe(200);
    expect(() => readEnvelope(r.body.toString('utf8'))).toThrow();
  });

  it('count applies to that many requests; the 401 round trip does not consume it', async () => {
    dev.injectFault({ kind: 'http500', count: 2 });
    expect((await wsmanCall(dev, xml)).status).toBe(500);
    expect((await wsmanCall(dev, xml)).status).toBe(500);
    expect((await wsmanCall(dev, xml)).status).toBe(200);
  });
});

describe('HTTP edges', () => {
  let fleet: Fleet;
  let dev: SimDevice;

  beforeAll(async () => {
    fleet = await startFleet({ devices: 2, port: 0, configure: (i, o) => (i === 1 ? { ...o, latencyMs: 120 } : o) });
    dev = fleet.devices[0];
  });

  afterAll(async () => {
    await fleet.stop();
  });

  it('applies latency to each answer', async () => {
    const t = Date.now();
    const r = await wsmanCall(fleet.devices[1], buildGet('CIM_Chassis').xml);
    expect(r.status).toBe(200);
    expect(Date.now() - t).toBeGreaterThanOrEqual(110);
  });

  it('refuses bodies over 1 MiB with 413', async () => {
    const big = `<x>${'a'.repeat(1024 * 1024 + 10)}</x>`;
    const r = await rawExchange(dev.port, postText(dev.port, big));
    expect(r.status).toBe(413);
    r.socket.destroy();
  });

  it('answers 404 off /wsman, 415 for another content type', async () => {
    const r = await rawExchange(dev.port, `GET /index.htm HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(r.status).toBe(404);
    r.socket.destroy();
    const t = await wsmanCall(dev, buildGet('CIM_Chassis').xml, {}, { contentType: 'text/plain' });
    expect(t.status).toBe(415);
  });

  it.each([
    ['no Content-Type (MeshCentral)', { contentType: null }],
    ['application/soap+xml without parameters', { contentType: 'application/soap+xml' }],
    ['application/soap+xml; charset=utf-8 (wsman-messages)', { contentType: 'application/soap+xml; charset=utf-8' }],
    ['a chunked request body', { chunked: true }],
    ['chunked and no Content-Type', { contentType: null, chunked: true }],
  ] as const)('accepts %s as firmware does', async (_name, o) => {
    const r = await wsmanCall(dev, buildGet('CIM_Chassis').xml, {}, o);
    expect(r.status).toBe(200);
    expect(r.body.toString()).toContain('<g:CIM_Chassis>');
  });

  it('frames an ASCII answer as text exactly as it frames bytes: 544, then 762 each, four upper-case hex digits, a bare 0', () => {
    for (let n = 0; n <= 3100; n++) {
      const body = 'abcdefghijklmnopqrstuvwxyz<>/:="'.repeat(100).slice(0, n);
      expect(chunkedText(body)).toBe(chunkedBody(body).toString('latin1'));
    }
    expect(chunkedText('x'.repeat(1306))).toBe(`0220\r\n${'x'.repeat(544)}\r\n02FA\r\n${'x'.repeat(762)}\r\n0\r\n\r\n`);
  });

  it('frames answers in bytes: chunk sizes count UTF-8 bytes, and a Put shows in the next Get over HTTP', async () => {
    const get = async () => {
      const r = await wsmanCall(dev, buildGet('AMT_GeneralSettings').xml);
      expect(r.status).toBe(200);
      expect(r.chunkSizes.reduce((a, b) => a + b, 0)).toBe(r.body.length);
      expect(r.chunkSizes[0]).toBe(544);
      return { r, name: readInstance(readEnvelope(r.body.toString('utf8'))).props.HostName };
    };
    const before = await get();
    expect(before.r.body.length).toBe(before.r.body.toString('utf8').length);
    for (const name of ['Küche-PC-ñ-€', `pc-${'é'.repeat(400)}`, 'plain-again']) {
      expect((await wsmanCall(dev, buildPut('AMT_GeneralSettings', { HostName: name }).xml)).status).toBe(200);
      const after = await get();
      expect(after.name).toBe(name);
      expect(after.r.body.length).toBe(Buffer.byteLength(after.r.body.toString('utf8')));
    }
  });

  it('malformed XML and DOCTYPE are faults, never a crash', async () => {
    const bad = await wsmanCall(dev, '<a:Envelope xmlns:a="http://www.w3.org/2003/05/soap-envelope"><a:Body>');
    expect(bad.status).toBe(400);
    expect(readFault(readEnvelope(bad.body.toString()), 400)?.subcode).toBe('InvalidMessage');
    const dtd = await wsmanCall(dev, '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><x>&e;</x>');
    expect(dtd.status).toBe(400);
    const notSoap = await wsmanCall(dev, '<x/>');
    expect(notSoap.status).toBe(400);
    // Still serving.
    expect((await wsmanCall(dev, buildGet('CIM_Chassis').xml)).status).toBe(200);
  });
});

describe('WS-Management dispatch', () => {
  const dev = new SimDevice({ name: 'pc-01', uuid: '12345678-1234-4234-8234-123456789abc', mac: '02:00:86:00:00:01', user: 'admin', password: 'pw' });

  it('unknown class: DestinationUnreachable (addressing fault action)', () => {
    const c = call(dev, buildGet('CIM_NoSuchThing'));
    expect(c.status).toBe(400);
    expect(readFault(c.env, 400)?.subcode).toBe('DestinationUnreachable');
    expect(c.env.header.action).toBe('http://schemas.xmlsoap.org/ws/2004/08/addressing/fault');
    expect(c.env.header.resourceUri).toBeUndefined();
  });

  it('unknown method or action: ActionNotSupported', () => {
    expect(faultOf(dev, buildInvoke('CIM_PowerManagementService', 'Explode', {}))?.subcode).toBe('ActionNotSupported');
    const put = call(dev, buildInvoke('CIM_Chassis', 'RequestStateChange', { RequestedState: 2 }));
    expect(readFault(put.env, put.status)?.subcode).toBe('ActionNotSupported');
  });

  it('bad or missing selectors: InvalidSelectors (wsman fault action)', () => {
    const bad = call(dev, buildGet('AMT_GeneralSettings', { Nope: 'x' }));
    expect(readFault(bad.env, 400)?.subcode).toBe('InvalidSelectors');
    expect(bad.env.header.action).toBe('http://schemas.dmtf.org/wbem/wsman/1/wsman/fault');
    expect(faultOf(dev, buildGet('CIM_BootSourceSetting'))?.subcode).toBe('InvalidSelectors');
    expect(faultOf(dev, buildGet('CIM_BootSourceSetting', { InstanceID: 'Intel(r) AMT: Force Floppy Boot' }))?.subcode).toBe('InvalidSelectors');
    const ok = call(dev, buildGet('CIM_BootSourceSetting', { InstanceID: 'Intel(r) AMT: Force PXE Boot' }));
    expect(readInstance(ok.env).props.StructuredBootString).toBe('CIM:Network:1');
  });

  it('missing MessageID is a fault with an empty RelatesTo', () => {
    const xml = buildGet('CIM_Chassis').xml.replace(/<a:MessageID>[^<]*<\/a:MessageID>/, '');
    const f = call(dev, xml);
    expect(readFault(f.env, 400)?.subcode).toBe('MessageInformationHeaderRequired');
  });

  it('escapes text in answers', () => {
    call(dev, `${buildInvoke('AMT_RemoteAccessService', 'AddMpServer', { AccessInfo: 'a<b>&"c"', Port: 1 }).xml}`);
    const e = call(dev, buildEnumerate('AMT_ManagementPresenceRemoteSAP'));
    const p = call(dev, buildPull('AMT_ManagementPresenceRemoteSAP', readEnumerationContext(e.env), 10));
    expect(p.xml).toContain('a&lt;b&gt;&amp;&quot;c&quot;');
    expect(readPullResponse(p.env).items[0].props.AccessInfo).toBe('a<b>&"c"');
  });

  it('pages a Pull by MaxElements, context before Items, then EndOfSequence; the context is gone after', () => {
    const ctx = readEnumerationContext(call(dev, buildEnumerate('CIM_SoftwareIdentity')).env);
    expect(ctx).toMatch(/^[0-9A-F]{8}-0000-0000-0000-000000000000$/);
    const sizes: number[] = [];
    let end = false;
    let context = ctx;
    while (!end) {
      const p = call(dev, buildPull('CIM_SoftwareIdentity', context, 4));
      const page = readPullResponse(p.env);
      if (!page.end) expect(p.xml).toMatch(/<g:PullResponse><g:EnumerationContext>[^<]+<\/g:EnumerationContext><g:Items>/);
      sizes.push(page.items.length);
      end = page.end;
      context = page.context ?? '';
    }
    expect(sizes).toEqual([4, 4, 3]);
    expect(faultOf(dev, buildPull('CIM_SoftwareIdentity', ctx, 4))?.subcode).toBe('InvalidEnumerationContext');
  });

  it('Release ends an enumeration', () => {
    const ctx = readEnumerationContext(call(dev, buildEnumerate('CIM_BootSourceSetting')).env);
    const r = call(dev, buildRelease('CIM_BootSourceSetting', ctx));
    expect(r.status).toBe(200);
    expect(r.env.payload).toBeUndefined();
    expect(faultOf(dev, buildPull('CIM_BootSourceSetting', ctx, 1))?.subcode).toBe('InvalidEnumerationContext');
  });

  it('EnumerateEPR returns endpoint references with the class keys', () => {
    const ctx = readEnumerationContext(call(dev, buildEnumerate('CIM_BootSourceSetting', { eprs: true })).env);
    const page = readPullResponse(call(dev, buildPull('CIM_BootSourceSetting', ctx, 10)).env);
    expect(page.items).toHaveLength(4);
    expect(page.items[0].className).toBe('EndpointReference');
    expect(page.items[0].props.selectors).toEqual({ InstanceID: 'Intel(r) AMT: Force Hard-drive Boot' });
  });

  it('Subscribe stores the subscription (NotifyTo, reference, mode, push credentials); Unsubscribe removes it', () => {
    const sub = call(
      dev,
      buildSubscribe('http://schemas.dmtf.org/wbem/wscim/1/*', { notifyTo: 'http://192.0.2.5:8080/events', reference: 'route-7', pushAuth: { username: 'ev', password: 'pw<1>' } }),
    );
    expect(sub.status).toBe(200);
    const handle = readSubscribeResponse(sub.env);
    expect(handle.identifier).toMatch(/^uuid:/);
    const s = dev.subscriptions.get(handle.identifier as string);
    expect(s?.notifyTo).toBe('http://192.0.2.5:8080/events');
    expect(s?.deliveryMode).toBe('http://schemas.dmtf.org/wbem/wsman/1/wsman/PushWithAck');
    expect(s?.pushAuth).toEqual({ username: 'ev', password: 'pw<1>' });
    expect(s?.referenceParametersXml).toContain('route-7');
    // Same subscriber again: AlreadyExists.
    expect(faultOf(dev, buildSubscribe('http://schemas.dmtf.org/wbem/wscim/1/*', { notifyTo: 'http://192.0.2.5:8080/events' }))?.subcode).toBe('AlreadyExists');
    const un = call(dev, buildUnsubscribe('http://schemas.dmtf.org/wbem/wscim/1/*', handle.identifier));
    expect(un.status).toBe(200);
    expect(dev.subscriptions.size).toBe(0);
    expect(faultOf(dev, buildUnsubscribe('http://schemas.dmtf.org/wbem/wscim/1/*', handle.identifier))?.subcode).toBe('DestinationUnreachable');
  });

  it('Put changes what a later Get answers; read-only properties stay', () => {
    const r = call(dev, buildPut('AMT_GeneralSettings', { HostName: 'renamed', DigestRealm: 'Digest:hacked' }));
    expect(readInstance(r.env).props.HostName).toBe('renamed');
    const g = readInstance(call(dev, buildGet('AMT_GeneralSettings')).env).props;
    expect(g.HostName).toBe('renamed');
    expect(g.DigestRealm).toBe(dev.realm);
  });

  it('user consent: StartOptIn shows a code; SendOptInCode checks it', () => {
    expect(readMethodOutput(call(dev, buildInvoke('IPS_OptInService', 'StartOptIn', {})).env, 'StartOptIn').ReturnValue).toBe('0');
    expect(readMethodOutput(call(dev, buildInvoke('IPS_OptInService', 'StartOptIn', {})).env, 'StartOptIn').ReturnValue).toBe('2');
    const code = optInState(dev).code as string;
    const wrong = code === '000000' ? '000001' : '000000';
    expect(readMethodOutput(call(dev, buildInvoke('IPS_OptInService', 'SendOptInCode', { OptInCode: wrong })).env, 'SendOptInCode').ReturnValue).toBe('2066');
    expect(readMethodOutput(call(dev, buildInvoke('IPS_OptInService', 'SendOptInCode', { OptInCode: code })).env, 'SendOptInCode').ReturnValue).toBe('0');
    expect(readInstance(call(dev, buildGet('IPS_OptInService')).env).props.OptInState).toBe('3');
  });
});
