/**
 * User consent and the alarm clock driven by Intel's @device-management-toolkit/wsman-messages
 * (its IPS_OptInService, AMT_AlarmClockService and IPS_AlarmClockOccurrence builders, unmodified)
 * against a simulated client-control-mode PC, with the answers compared with AMT 12 captures
 * (test/fixtures/amt/gwm, see SOURCES.md): same body element, same property names.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AMT, IPS } from '@device-management-toolkit/wsman-messages';
import { readEnumerationContext, readEnvelope, readInstance, readMethodOutput, readPullResponse, WsmanEnvelope } from '../lib/wsman/envelope';
import { ConsentEvent, consentState, Fleet, SimDevice, startFleet } from '../packages/sim/src';
import { wsmanCall } from './sim-helpers';

const USER = 'admin';
const PASSWORD = 'Peer-P@ss1';
const GWM = join(__dirname, 'fixtures', 'amt', 'gwm');
let fleet: Fleet;
let pc: SimDevice;

beforeAll(async () => {
  fleet = await startFleet({ devices: 1, port: 0, user: USER, password: PASSWORD, power: 'off', configure: (_i, o) => ({ ...o, controlMode: 'client' }) });
  pc = fleet.devices[0];
});
afterAll(() => fleet.stop());

async function send(xml: string): Promise<WsmanEnvelope> {
  const r = await wsmanCall(pc, xml, { user: USER, password: PASSWORD });
  expect(r.status).toBe(200);
  return readEnvelope(r.body.toString());
}

const capture = (path: string) => readEnvelope(readFileSync(join(GWM, path), 'utf8'));
const names = (o: object) => Object.keys(o).sort();

const optIn = new IPS.Messages().OptInService;

describe("Intel's wsman-messages against the simulated PC", () => {
  it('IPS_OptInService: Get as captured, StartOptIn shows a code, a wrong and the right SendOptInCode, CancelOptIn', async () => {
    const got = readInstance(await send(optIn.Get()));
    const real = readInstance(capture('ips/optin/get.xml'));
    expect(got.className).toBe(real.className);
    expect(Object.keys(got.props)).toEqual(Object.keys(real.props));
    expect(got.props).toMatchObject({ OptInRequired: '4294967295', OptInState: '0', CanModifyOptInPolicy: '0' });

    const shown = new Promise<string>((resolve) => pc.once('consent', (e: ConsentEvent) => resolve(e.code ?? '')));
    const start = await send(optIn.StartOptIn());
    expect(start.payload?.name).toBe(capture('ips/optin/startoptin.xml').payload?.name);
    expect(readMethodOutput(start, 'StartOptIn').ReturnValue).toBe('0');
    expect(readMethodOutput(await send(optIn.StartOptIn()), 'StartOptIn').ReturnValue).toBe('2');
    const code = await shown;
    const wrong = Number(code) === 1 ? 2 : 1;
    expect(readMethodOutput(await send(optIn.SendOptInCode(wrong)), 'SendOptInCode').ReturnValue).toBe(String(0x0812));
    // The library writes the code as a number: a code with leading zeros arrives without them.
    expect(readMethodOutput(await send(optIn.SendOptInCode(Number(code))), 'SendOptInCode').ReturnValue).toBe('0');
    expect(readInstance(await send(optIn.Get())).props.OptInState).toBe('3');
    const cancel = await send(optIn.CancelOptIn());
    expect(cancel.payload?.name).toBe(capture('ips/optin/canceloptin.xml').payload?.name);
    expect(readMethodOutput(cancel, 'CancelOptIn').ReturnValue).toBe('0');
    expect(readMethodOutput(await send(optIn.CancelOptIn()), 'CancelOptIn').ReturnValue).toBe('2');
    expect(consentState(pc).state).toBe(0);
  });

  it('alarm clock: the service as captured, AddAlarm, the occurrence listed with the captured names, Delete', async () => {
    const svc = new AMT.Messages().AlarmClockService;
    const raw = await wsmanCall(pc, svc.Get(), { user: USER, password: PASSWORD });
    const got = readInstance(readEnvelope(raw.body.toString()));
    const real = readInstance(capture('amt/alarmclock/get.xml'));
    expect(got).toEqual(real);
    // Like the capture, the answer declares the CIM common namespace.
    expect(raw.body.toString()).toContain('xmlns:h="http://schemas.dmtf.org/wbem/wscim/1/common"');

    const start = new Date(Date.now() + 3600_000);
    const added = await send(svc.AddAlarm({ InstanceID: 'peer-nightly', ElementName: 'peer-nightly', StartTime: start, Interval: 1440, DeleteOnCompletion: false } as never));
    const out = readMethodOutput(added, 'AddAlarm');
    expect(names(out)).toEqual(names(readMethodOutput(capture('amt/alarmclock/addalarm.xml'), 'AddAlarm')));
    expect(out.ReturnValue).toBe('0');

    const occ = new IPS.Messages().AlarmClockOccurrence;
    const ctx = readEnumerationContext(await send(occ.Enumerate()));
    const page = readPullResponse(await send(occ.Pull(ctx)));
    expect(page.items).toHaveLength(1);
    const item = page.items[0];
    // As go-wsman-messages' ips/alarmclock/get.xml lists them, in that order (a capture whose values
    // and namespace declarations the publisher edited, so it is not among the fixtures).
    expect(item.className).toBe('IPS_AlarmClockOccurrence');
    expect(Object.keys(item.props)).toEqual(['ElementName', 'InstanceID', 'StartTime', 'Interval', 'DeleteOnCompletion']);
    expect(item.props).toMatchObject({ InstanceID: 'peer-nightly', StartTime: start.toISOString().replace(/\.\d{3}Z$/, 'Z'), Interval: 'P1DT0H0M', DeleteOnCompletion: 'false' });

    const deleted = await send(occ.Delete({ name: 'InstanceID', value: 'peer-nightly' }));
    expect(deleted.body.children).toHaveLength(capture('ips/alarmclock/delete.xml').body.children.length);
    expect(readPullResponse(await send(occ.Pull(readEnumerationContext(await send(occ.Enumerate()))))).items).toHaveLength(0);
  });
});
