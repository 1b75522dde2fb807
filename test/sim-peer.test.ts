/**
 * Independent peers against the simulator: requests built by Intel's
 * @device-management-toolkit/wsman-messages, sent by curl's own HTTP Digest implementation
 * (`curl --digest`), over HTTP and over TLS (curl -k), and the TLS certificate checked with Node's
 * TLS client against the fingerprint the fleet reports.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { promisify } from 'node:util';
import { AMT, CIM } from '@device-management-toolkit/wsman-messages';
import { readEnvelope, readEnumerationContext, readInstance, readMethodOutput, readPullResponse } from '../lib/wsman/envelope';
import { BootEvent, Fleet, PowerEvent, SimDevice, startFleet } from '../packages/sim/src';

const run = promisify(execFile);
const USER = 'admin';
const PASS = 'Sim-P@ss1';

let dir: string;
let n = 0;

interface CurlReply {
  status: number;
  body: string;
}

async function curl(device: SimDevice, xml: string, o: { password?: string; insecure?: boolean } = {}): Promise<CurlReply> {
  const file = join(dir, `req-${n++}.xml`);
  writeFileSync(file, xml);
  const args = [
    '-s',
    '--digest',
    '-u',
    `${USER}:${o.password ?? PASS}`,
    '-H',
    'Content-Type: application/soap+xml;charset=UTF-8',
    '--data-binary',
    `@${file}`,
    '-w',
    '\n%{http_code}',
    '--max-time',
    '10',
  ];
  if (o.insecure) args.push('-k');
  const { stdout } = await run('curl', [...args, device.url]);
  const i = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(i + 1)), body: stdout.slice(0, i) };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'oob-sim-peer-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('Intel wsman-messages over curl --digest (HTTP)', () => {
  let fleet: Fleet;
  let dev: SimDevice;

  beforeAll(async () => {
    fleet = await startFleet({ devices: 2, port: 0, user: USER, password: PASS, power: 'off', timings: { bootTimeMs: 0 } });
    dev = fleet.devices[0];
  });

  afterAll(async () => {
    await fleet.stop();
  });

  it('RequestPowerStateChange(2) turns the PC on', async () => {
    const events: PowerEvent[] = [];
    dev.on('power', (e: PowerEvent) => events.push(e));
    expect(dev.powerState).toBe(8);
    const r = await curl(dev, new CIM.Messages().PowerManagementService.RequestPowerStateChange(2));
    expect(r.status).toBe(200);
    expect(readMethodOutput(readEnvelope(r.body), 'RequestPowerStateChange').ReturnValue).toBe('0');
    expect(dev.powerState).toBe(2);
    expect(dev.osState).toBe('running');
    expect(events).toEqual([{ from: 8, to: 2, cause: 'amt-on' }]);
    // The other device was not touched.
    expect(fleet.devices[1].powerState).toBe(8);
  });

  it('RequestPowerStateChange(2) on a running PC answers ReturnValue 2, state unchanged', async () => {
    const r = await curl(dev, new CIM.Messages().PowerManagementService.RequestPowerStateChange(2));
    expect(r.status).toBe(200);
    expect(r.body).toMatch(/<g:ReturnValue>2<\/g:ReturnValue>/);
    expect(dev.powerState).toBe(2);
  });

  it('a wrong password gets 401', async () => {
    const r = await curl(dev, new AMT.Messages().GeneralSettings.Get(), { password: 'wrong' });
    expect(r.status).toBe(401);
  });

  it('GeneralSettings.Get answers the device realm', async () => {
    const r = await curl(dev, new AMT.Messages().GeneralSettings.Get());
    expect(r.status).toBe(200);
    const inst = readInstance(readEnvelope(r.body));
    expect(inst.className).toBe('AMT_GeneralSettings');
    expect(inst.props.DigestRealm).toBe(dev.realm);
    expect(inst.props.HostName).toBe(dev.name);
  });

  it('SoftwareIdentity Enumerate then Pull lists the firmware versions', async () => {
    const cim = new CIM.Messages();
    const e = await curl(dev, cim.SoftwareIdentity.Enumerate());
    expect(e.status).toBe(200);
    const ctx = readEnumerationContext(readEnvelope(e.body));
    const p = await curl(dev, cim.SoftwareIdentity.Pull(ctx));
    expect(p.status).toBe(200);
    const page = readPullResponse(readEnvelope(p.body));
    expect(page.end).toBe(true);
    const amt = page.items.find((i) => i.props.InstanceID === 'AMT');
    expect(amt?.props.VersionString).toBe('15.0.23');
    expect(page.items).toHaveLength(11);
  });

  it('boot to PXE: BootSettingData.Put, ChangeBootOrder, SetBootConfigRole, then reset boots from PXE once', async () => {
    const amt = new AMT.Messages();
    const cim = new CIM.Messages();
    const boots: BootEvent[] = [];
    dev.on('boot', (b: BootEvent) => boots.push(b));
    const put = await curl(
      dev,
      amt.BootSettingData.Put({
        ElementName: 'Intel(r) AMT Boot Configuration Settings',
        InstanceID: 'Intel(r) AMT:BootSettingData 0',
        BIOSSetup: false,
        UseIDER: false,
        UseSOL: false,
        UseSafeMode: false,
        UserPasswordBypass: false,
        ForcedProgressEvents: true,
      } as never),
    );
    expect(put.status).toBe(200);
    expect(readInstance(readEnvelope(put.body)).props.ForcedProgressEvents).toBe('true');
    const order = await curl(dev, cim.BootConfigSetting.ChangeBootOrder('Intel(r) AMT: Force PXE Boot' as never));
    expect(readMethodOutput(readEnvelope(order.body), 'ChangeBootOrder').ReturnValue).toBe('0');
    const role = await curl(dev, cim.BootService.SetBootConfigRole('Intel(r) AMT: Boot Configuration 0', 1));
    expect(readMethodOutput(readEnvelope(role.body), 'SetBootConfigRole').ReturnValue).toBe('0');
    const reset = await curl(dev, cim.PowerManagementService.RequestPowerStateChange(10));
    expect(reset.status).toBe(200);
    expect(boots).toHaveLength(1);
    expect(boots[0].source).toBe('Intel(r) AMT: Force PXE Boot');
    expect(boots[0].settings).toEqual({ ForcedProgressEvents: 'true' });
    // One-time: the next reset boots normally.
    await curl(dev, cim.PowerManagementService.RequestPowerStateChange(10));
    expect(boots).toHaveLength(2);
    expect(boots[1].source).toBeUndefined();
  });

  it('RedirectionService.RequestStateChange, MessageLog and AuditLog calls are accepted', async () => {
    const amt = new AMT.Messages();
    const rs = await curl(dev, amt.RedirectionService.RequestStateChange(32770 as never));
    expect(readMethodOutput(readEnvelope(rs.body), 'RequestStateChange').ReturnValue).toBe('0');
    const get = await curl(dev, amt.RedirectionService.Get());
    expect(readInstance(readEnvelope(get.body)).props.EnabledState).toBe('32770');
    const pos = await curl(dev, amt.MessageLog.PositionToFirstRecord());
    const id = readMethodOutput(readEnvelope(pos.body), 'PositionToFirstRecord').IterationIdentifier as string;
    const recs = await curl(dev, amt.MessageLog.GetRecords(Number(id)));
    const out = readMethodOutput(readEnvelope(recs.body), 'GetRecords');
    const records = ([] as unknown[]).concat(out.RecordArray) as string[];
    expect(records.length).toBeGreaterThan(0);
    expect(records.every((r) => Buffer.from(r, 'base64').length === 21)).toBe(true);
    const audit = await curl(dev, amt.AuditLog.ReadRecords(1));
    expect(readMethodOutput(readEnvelope(audit.body), 'ReadRecords').ReturnValue).toBe('0');
  });
});

describe('TLS', () => {
  let fleet: Fleet;

  beforeAll(async () => {
    fleet = await startFleet({ devices: 2, port: 0, user: USER, password: PASS, tls: true });
  });

  afterAll(async () => {
    await fleet.stop();
  });

  it('curl -k talks to the device over HTTPS', async () => {
    const dev = fleet.devices[1];
    expect(dev.url).toMatch(/^https:/);
    const r = await curl(dev, new AMT.Messages().GeneralSettings.Get(), { insecure: true });
    expect(r.status).toBe(200);
    expect(readInstance(readEnvelope(r.body)).props.HostName).toBe('pc-02');
  });

  it('the certificate the server presents has the fingerprint the fleet reports, one per device', async () => {
    const seen: string[] = [];
    for (const dev of fleet.devices) {
      const fp = await new Promise<string>((resolve, reject) => {
        const s = connect({ port: dev.port, host: '127.0.0.1', rejectUnauthorized: false }, () => {
          const cert = s.getPeerCertificate();
          s.end();
          resolve(cert.fingerprint256);
        });
        s.on('error', reject);
      });
      expect(fp).toBe(dev.tls?.fingerprint256);
      seen.push(fp);
    }
    expect(new Set(seen).size).toBe(2);
  });

  it('openssl sees a self-signed certificate named after the device', async () => {
    const dev = fleet.devices[0];
    const { stdout } = await run('sh', ['-c', `echo | openssl s_client -connect 127.0.0.1:${dev.port} 2>/dev/null | openssl x509 -noout -subject -issuer -fingerprint -sha256`]);
    expect(stdout).toMatch(/subject=.*CN ?= ?pc-01/);
    expect(stdout).toMatch(/issuer=.*CN ?= ?pc-01/);
    expect(stdout.toUpperCase()).toContain(dev.tls?.fingerprint256);
  });
});
