/**
 * Intel's @device-management-toolkit/wsman-messages (what RPS and the console build their
 * requests with) against oob-sim: 72 calls of the kinds a console makes (23 Gets, 15 Enumerate +
 * Pull, 19 method calls and Puts), each answered
 * with the instance, enumeration or method output the message asks for, and the effect on the
 * simulated PC where there is one. Sent with the Content-Type its clients use
 * (`application/soap+xml; charset=utf-8`), through a Digest client of our tests.
 */
import { createHash } from 'node:crypto';
import { AMT, CIM, IPS } from '@device-management-toolkit/wsman-messages';
import { readEnumerationContext, readEnvelope, readFault, readInstance, readMethodOutput, readPullResponse } from '../../lib/wsman/envelope';
import type { PlainObject } from '../../lib/wsman/xml';
import { Fleet, lastBoot, SimDevice, startFleet } from '../../packages/sim/src';
import { wsmanCall } from '../sim-helpers';

const amt = new AMT.Messages();
const cim = new CIM.Messages();
const ips = new IPS.Messages();
const CONTENT_TYPE = 'application/soap+xml; charset=utf-8';

let fleet: Fleet;
let dev: SimDevice;

beforeAll(async () => {
  // Device 1: a notebook with a wireless port and KVM.
  fleet = await startFleet({ devices: 2, port: 0, timings: { bootTimeMs: 50, offDwellMs: 20 } });
  dev = fleet.devices[1];
});
afterAll(async () => {
  await fleet.stop();
});

async function send(xml: string): Promise<{ status: number; body: string }> {
  const r = await wsmanCall(dev, xml, {}, { contentType: CONTENT_TYPE });
  const body = r.body.toString('utf8');
  if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${readFault(readEnvelope(body), r.status)?.reason ?? body.slice(0, 200)}`);
  return { status: r.status, body };
}

async function get(xml: string): Promise<{ className: string; props: PlainObject }> {
  return readInstance(readEnvelope((await send(xml)).body));
}

async function enumPull(o: { Enumerate: () => string; Pull: (ctx: string) => string }): Promise<Array<{ className: string; props: PlainObject }>> {
  const ctx = readEnumerationContext(readEnvelope((await send(o.Enumerate())).body));
  return readPullResponse(readEnvelope((await send(o.Pull(ctx))).body)).items;
}

async function invoke(xml: string, method: string): Promise<PlainObject> {
  return readMethodOutput(readEnvelope((await send(xml)).body), method);
}

describe("Intel's wsman-messages against oob-sim", () => {
  it.each([
    ['AMT_GeneralSettings', () => amt.GeneralSettings.Get(), (p: PlainObject) => expect(p.DigestRealm).toBe(dev.realm)],
    ['AMT_SetupAndConfigurationService', () => amt.SetupAndConfigurationService.Get(), (p: PlainObject) => expect(p.ProvisioningState).toBe('2')],
    ['AMT_RedirectionService', () => amt.RedirectionService.Get(), (p: PlainObject) => expect(p.ListenerEnabled).toBeDefined()],
    ['AMT_BootCapabilities', () => amt.BootCapabilities.Get(), (p: PlainObject) => expect(p.IDER).toBe('true')],
    ['AMT_BootSettingData', () => amt.BootSettingData.Get(), (p: PlainObject) => expect(p.InstanceID).toBe('Intel(r) AMT:BootSettingData 0')],
    ['AMT_EnvironmentDetectionSettingData', () => amt.EnvironmentDetectionSettingData.Get(), (p: PlainObject) => expect(p.DetectionAlgorithm).toBe('0')],
    ['AMT_TimeSynchronizationService', () => amt.TimeSynchronizationService.Get(), (p: PlainObject) => expect(p.Name).toBe('Intel(r) AMT Time Synchronization Service')],
    ['AMT_AuthorizationService', () => amt.AuthorizationService.Get(), (p: PlainObject) => expect(p.AllowHttpQopAuthOnly).toBe('1')],
    ['AMT_UserInitiatedConnectionService', () => amt.UserInitiatedConnectionService.Get(), (p: PlainObject) => expect(p.EnabledState).toBeDefined()],
    ['AMT_RemoteAccessService', () => amt.RemoteAccessService.Get(), (p: PlainObject) => expect(p.IsRemoteTunnelConnected).toBe('false')],
    ['AMT_8021XProfile', () => amt.IEEE8021xProfile.Get(), (p: PlainObject) => expect(p.Enabled).toBe('false')],
    ['CIM_BIOSElement', () => cim.BIOSElement.Get(), (p: PlainObject) => expect(p.Manufacturer).toBe(dev.hardware.bios.vendor)],
    ['CIM_Chassis', () => cim.Chassis.Get(), (p: PlainObject) => expect(p.SerialNumber).toBe(dev.hardware.serial)],
    ['CIM_Card', () => cim.Card.Get(), (p: PlainObject) => expect(p.Model).toBe(dev.hardware.board.model)],
    ['CIM_ComputerSystemPackage', () => cim.ComputerSystemPackage.Get(), (p: PlainObject) => expect(p.PlatformGUID).toMatch(/^[0-9A-F]{32}$/)],
    ['CIM_PowerManagementService', () => cim.PowerManagementService.Get(), (p: PlainObject) => expect(p.Name).toBe('Intel(r) AMT Power Management Service')],
    ['CIM_BootService', () => cim.BootService.Get(), (p: PlainObject) => expect(p.Name).toBe('Intel(r) AMT Boot Service')],
    ['CIM_BootConfigSetting', () => cim.BootConfigSetting.Get(), (p: PlainObject) => expect(p.InstanceID).toBe('Intel(r) AMT: Boot Configuration 0')],
    ['CIM_KVMRedirectionSAP', () => cim.KVMRedirectionSAP.Get(), (p: PlainObject) => expect(p.KVMProtocol).toBe('4')],
    ['CIM_WiFiPort', () => cim.WiFiPort.Get(), (p: PlainObject) => expect(p.PermanentAddress).toBe(dev.hardware.wirelessMac?.replace(/:/g, ''))],
    ['IPS_HostBasedSetupService', () => ips.HostBasedSetupService.Get(), (p: PlainObject) => expect(p.CurrentControlMode).toBe('2')],
    ['IPS_OptInService', () => ips.OptInService.Get(), (p: PlainObject) => expect(p.OptInRequired).toBeDefined()],
    ['IPS_PowerManagementService', () => ips.PowerManagementService.Get(), (p: PlainObject) => expect(p.OSPowerSavingState).toBe('2')],
  ] as const)('Get %s', async (cls, build, check) => {
    const i = await get(build());
    expect(i.className).toBe(cls);
    check(i.props);
  });

  it.each([
    ['AMT_EthernetPortSettings', amt.EthernetPortSettings, 2],
    ['CIM_SoftwareIdentity', cim.SoftwareIdentity, 11],
    ['CIM_Processor', cim.Processor, 1],
    ['CIM_PhysicalMemory', cim.PhysicalMemory, 2],
    ['CIM_MediaAccessDevice', cim.MediaAccessDevice, 2],
    ['CIM_BootSourceSetting', cim.BootSourceSetting, 4],
    ['CIM_ServiceAvailableToElement', cim.ServiceAvailableToElement, 1],
    ['CIM_SystemPackaging', cim.SystemPackaging, 1],
    ['CIM_PhysicalPackage', cim.PhysicalPackage, 4],
    ['CIM_WiFiEndpointSettings', cim.WiFiEndpointSettings, 0],
    ['CIM_IEEE8021xSettings', cim.IEEE8021xSettings, 0],
    ['IPS_IEEE8021xSettings', ips.IEEE8021xSettings, 0],
    ['IPS_KVMRedirectionSettingData', ips.KVMRedirectionSettingData, 1],
    ['AMT_MessageLog', amt.MessageLog, 1],
    ['AMT_AuditLog', amt.AuditLog, 1],
  ] as const)('Enumerate and Pull %s', async (_cls, o, atLeast) => {
    const items = await enumPull(o);
    expect(items.length).toBeGreaterThanOrEqual(atLeast);
    if (atLeast === 0) expect(items).toEqual([]);
  });

  it('reads the logs and the clock', async () => {
    expect((await invoke(amt.AuditLog.ReadRecords(1), 'ReadRecords')).TotalRecordCount).toBe('6');
    const first = await invoke(amt.MessageLog.PositionToFirstRecord(), 'PositionToFirstRecord');
    const records = await invoke(amt.MessageLog.GetRecords(Number(first.IterationIdentifier)), 'GetRecords');
    expect(records.NoMoreRecords).toBe('true');
    expect(Math.abs(Number((await invoke(amt.TimeSynchronizationService.GetLowAccuracyTimeSynch(), 'GetLowAccuracyTimeSynch')).Ta0) - Date.now() / 1000)).toBeLessThan(60);
  });

  it('manages a user account that can then log in', async () => {
    expect((await invoke(amt.AuthorizationService.GetAdminAclEntry(), 'GetAdminAclEntry')).Username).toBe('admin');
    const ha1 = createHash('md5').update(`operator:${dev.realm}:Op-P@ss1`).digest('base64');
    const added = await invoke(amt.AuthorizationService.AddUserAclEntryEx(2, [3, 5] as never, 'operator', ha1), 'AddUserAclEntryEx');
    expect(added.ReturnValue).toBe('0');
    const handles = await invoke(amt.AuthorizationService.EnumerateUserAclEntries(1), 'EnumerateUserAclEntries');
    expect(handles.TotalCount).toBe('1');
    const entry = await invoke(amt.AuthorizationService.GetUserAclEntryEx(Number(added.Handle)), 'GetUserAclEntryEx');
    expect(entry).toMatchObject({ DigestUsername: 'operator', AccessPermission: '2', Realms: ['3', '5'] });
    const asOperator = await wsmanCall(dev, amt.GeneralSettings.Get(), { user: 'operator', password: 'Op-P@ss1' }, { contentType: CONTENT_TYPE });
    expect(asOperator.status).toBe(200);
    expect((await invoke(amt.AuthorizationService.RemoveUserAclEntry(Number(added.Handle)), 'RemoveUserAclEntry')).ReturnValue).toBe('0');
    expect((await invoke(amt.AuthorizationService.GetUserAclEntryEx(Number(added.Handle)), 'GetUserAclEntryEx')).ReturnValue).toBe('2053');
  });

  it('sets a PXE boot and resets the PC, which then boots from the network', async () => {
    const bsd = await get(amt.BootSettingData.Get());
    const put = await get(amt.BootSettingData.Put({ ...(bsd.props as object), BIOSSetup: false, BIOSPause: false, UseIDER: false, UseSOL: false } as never));
    expect(put.props.BIOSSetup).toBe('false');
    expect((await invoke(cim.BootConfigSetting.ChangeBootOrder('Intel(r) AMT: Force PXE Boot' as never), 'ChangeBootOrder')).ReturnValue).toBe('0');
    expect((await invoke(cim.BootService.SetBootConfigRole('Intel(r) AMT: Boot Configuration 0', 1 as never), 'SetBootConfigRole')).ReturnValue).toBe('0');
    expect((await invoke(cim.PowerManagementService.RequestPowerStateChange(10 as never), 'RequestPowerStateChange')).ReturnValue).toBe('0');
    const deadline = Date.now() + 20_000;
    while (lastBoot(dev)?.target !== 'pxe' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(lastBoot(dev)?.target).toBe('pxe');
  });

  it('enables SOL and IDE-R listeners', async () => {
    expect((await invoke(amt.RedirectionService.RequestStateChange(32771 as never), 'RequestStateChange')).ReturnValue).toBe('0');
  });
});
