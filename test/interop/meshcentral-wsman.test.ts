/**
 * MeshCentral's own Intel AMT stack (the `meshcentral` npm package's amt/ files, unmodified, wired
 * as MeshCentral's amtmanager.js wires them) against oob-sim, making the calls MeshCommander makes
 * when a PC is opened: the initial contact, firmware version, system status, user accounts, event
 * and audit logs, hardware, network, power policy, then a power action with a PXE boot order.
 * Every call is answered, and the answers carry what MeshCommander shows. Run once per firmware
 * generation: AMT 12 over HTTP (16992) and AMT 16.1 over TLS (16993 only).
 *
 * MeshCentral's comm layer sends no Content-Type, which oob-sim used to refuse with HTTP 415.
 */
import { createHash } from 'node:crypto';
import { Fleet, lastBoot, SimDevice, startFleet } from '../../packages/sim/src';
import { batchEnum, call, createMeshAmtStack, MeshAmtStack } from '../helpers/meshcentral';

const md5b64 = (s: string): string => createHash('md5').update(s).digest('base64');

/** What MeshCommander's PullSystemStatus asks for (amtversion > 15 adds CIM_BootService). */
function systemStatusClasses(major: number): string[] {
  const c = ['CIM_ServiceAvailableToElement', '*AMT_GeneralSettings', 'AMT_EthernetPortSettings', '*AMT_RedirectionService', 'CIM_ElementSettingData', '*AMT_BootCapabilities'];
  c.push('IPS_IPv6PortSettings', '*CIM_KVMRedirectionSAP', '*IPS_OptInService', '*IPS_KVMRedirectionSettingData');
  c.push('*IPS_ScreenConfigurationService', '*IPS_PowerManagementService');
  if (major > 15) c.push('*CIM_BootService');
  c.push('*AMT_8021XProfile');
  return c;
}

/** Classes MeshCommander asks for and tolerates a fault on (it checks for 400 itself); not modelled. */
const TOLERATED = new Set(['CIM_ElementSettingData', 'IPS_ScreenConfigurationService']);

const HARDWARE = ['*CIM_ComputerSystemPackage', 'CIM_SystemPackaging', '*CIM_Chassis', 'CIM_Chip', '*CIM_Card', '*CIM_BIOSElement', 'CIM_Processor', 'CIM_PhysicalMemory', 'CIM_MediaAccessDevice', 'CIM_PhysicalPackage'];

const PXE_SOURCE =
  '<Address xmlns="http://schemas.xmlsoap.org/ws/2004/08/addressing">http://schemas.xmlsoap.org/ws/2004/08/addressing</Address><ReferenceParameters xmlns="http://schemas.xmlsoap.org/ws/2004/08/addressing"><ResourceURI xmlns="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd">http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_BootSourceSetting</ResourceURI><SelectorSet xmlns="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><Selector Name="InstanceID">Intel(r) AMT: Force PXE Boot</Selector></SelectorSet></ReferenceParameters>';

const name = (n: string): string => n.replace(/^\*/, '');

describe.each([
  ['12', false],
  ['16', true],
] as const)('MeshCentral AMT stack against oob-sim playing AMT %s', (amtVersion, tls) => {
  let fleet: Fleet;
  let dev: SimDevice;
  let amt: MeshAmtStack;
  let major: number;

  beforeAll(async () => {
    fleet = await startFleet({ devices: 1, port: 0, amtVersion });
    dev = fleet.devices[0];
    amt = createMeshAmtStack({ host: '127.0.0.1', port: dev.port, user: 'admin', pass: 'P@ssw0rd', tls });
  });

  afterAll(async () => {
    amt?.CancelAllQueries?.(999);
    await fleet.stop();
  });

  it('initial contact: general settings and setup service, realm and version from the answers', async () => {
    const r = await batchEnum(amt, ['*AMT_GeneralSettings', '*IPS_HostBasedSetupService'], false);
    expect(r.status).toBe(200);
    const gs = r.responses.AMT_GeneralSettings.response as Record<string, unknown>;
    // amtmanager.js accepts the PC only when the Digest realm equals DigestRealm
    expect(gs.DigestRealm).toBe(amt.wsman.comm.digestRealm);
    expect((r.responses.IPS_HostBasedSetupService.response as Record<string, unknown>).CurrentControlMode).toBe(2);
    expect(amt.wsman.comm.amtVersion).toBe(`${dev.firmware.version}.${dev.firmware.build}`);
    major = Number(String(amt.wsman.comm.amtVersion).split('.')[0]);
    expect(major).toBe(Number(amtVersion));
  });

  it('firmware version and provisioning state', async () => {
    const r = await batchEnum(amt, ['CIM_SoftwareIdentity', '*AMT_SetupAndConfigurationService'], false);
    expect(r.status).toBe(200);
    const ids = r.responses.CIM_SoftwareIdentity.responses as Array<Record<string, unknown>>;
    expect(ids.find((i) => i.InstanceID === 'AMT')?.VersionString).toBe(dev.firmware.version);
    expect((r.responses.AMT_SetupAndConfigurationService.response as Record<string, unknown>).ProvisioningState).toBe(2);
  });

  it("system status: the ME's clock and every class of the status page", async () => {
    const t = await call(amt.AMT_TimeSynchronizationService_GetLowAccuracyTimeSynch);
    expect(t.status).toBe(200);
    expect(Math.abs(Number(t.response?.Body?.Ta0) - Date.now() / 1000)).toBeLessThan(60);
    const classes = systemStatusClasses(major);
    const r = await batchEnum(amt, classes);
    for (const c of classes.map(name)) {
      const got = r.responses[c];
      expect({ c, status: TOLERATED.has(c) && got.status === 400 ? 200 : got.status }).toEqual({ c, status: 200 });
    }
    const power = r.responses.CIM_ServiceAvailableToElement.responses as Array<Record<string, unknown>>;
    expect(power[0].PowerState).toBe(2);
    const ports = r.responses.AMT_EthernetPortSettings.responses as Array<Record<string, unknown>>;
    expect(ports[0].MACAddress).toBe(dev.mac.replace(/:/g, '-'));
    expect((r.responses.IPS_IPv6PortSettings.responses as Array<Record<string, unknown>>)[0].IPv6Address).toBe('::');
    expect((r.responses.IPS_KVMRedirectionSettingData.response as Record<string, unknown>).SessionTimeout).toBe(3);
  });

  it('user accounts: list, add a user who can then log in, read it back, remove it', async () => {
    const admin = await call(amt.AMT_AuthorizationService_GetAdminAclEntry);
    expect(admin.response?.Body?.Username).toBe('admin');
    const before = await call(amt.AMT_AuthorizationService_EnumerateUserAclEntries, 1);
    expect(before.response?.Body?.ReturnValue).toBe(0);
    const add = await call(amt.AMT_AuthorizationService_AddUserAclEntryEx, 'helpdesk', md5b64(`helpdesk:${dev.realm}:Help-desk1`), null, 2, [3, 5, 7]);
    expect(add.response?.Body?.ReturnValue).toBe(0);
    const handle = add.response?.Body?.Handle;
    const list = await call(amt.AMT_AuthorizationService_EnumerateUserAclEntries, 1);
    expect(list.response?.Body?.Handles).toBe(handle); // one handle: MeshCentral's parser gives a scalar
    const entry = await call(amt.AMT_AuthorizationService_GetUserAclEntryEx, handle);
    expect(entry.response?.Body).toMatchObject({ DigestUsername: 'helpdesk', AccessPermission: 2, Realms: [3, 5, 7] });
    const dup = await call(amt.AMT_AuthorizationService_AddUserAclEntryEx, 'helpdesk', md5b64(`helpdesk:${dev.realm}:x`), null, 2, [3]);
    expect(dup.response?.Body?.ReturnValueStr).toBe('DUPLICATE');
    // The new account logs in with MeshCentral's stack.
    const asHelpdesk = createMeshAmtStack({ host: '127.0.0.1', port: dev.port, user: 'helpdesk', pass: 'Help-desk1', tls });
    expect((await batchEnum(asHelpdesk, ['*AMT_GeneralSettings'])).status).toBe(200);
    const rm = await call(amt.AMT_AuthorizationService_RemoveUserAclEntry, handle);
    expect(rm.response?.Body?.ReturnValue).toBe(0);
    const again = createMeshAmtStack({ host: '127.0.0.1', port: dev.port, user: 'helpdesk', pass: 'Help-desk1', tls });
    expect((await batchEnum(again, ['*AMT_GeneralSettings'])).status).toBe(401);
  });

  it('event log: the log description and the decoded records', async () => {
    const d = await new Promise<{ items: Array<Record<string, unknown>>; status: number }>((resolve) => amt.Enum('AMT_MessageLog', (_s: unknown, _n: unknown, items: never, status: number) => resolve({ items, status })));
    expect(d.status).toBe(200);
    expect(d.items[0]).toMatchObject({ Name: 'Intel(r) AMT:MessageLog 1', OverwritePolicy: 2, IsFrozen: false });
    const events = await new Promise<Array<Record<string, unknown>>>((resolve) => amt.GetMessageLog((_s: unknown, m: never) => resolve(m)));
    expect(events.length).toBe(d.items[0].CurrentNumberOfRecords);
    expect(events[0]).toMatchObject({ EventSensorType: 15, EntityStr: 'BIOS' });
    // newest first: the boot-progress records of the last start, decoded by MeshCentral's tables
    expect(events.map((e) => e.Desc)).toEqual(['PCI resource configuration', 'Memory initialization.']);
  });

  it('audit log: state, then every record decoded with its initiator', async () => {
    const d = await new Promise<{ items: Array<Record<string, unknown>>; status: number }>((resolve) => amt.Enum('AMT_AuditLog', (_s: unknown, _n: unknown, items: never, status: number) => resolve({ items, status })));
    expect(d.status).toBe(200);
    expect(d.items[0]).toMatchObject({ AuditState: 16, OverwritePolicy: 2 });
    const records = await new Promise<Array<Record<string, unknown>>>((resolve) => amt.GetAuditLog((_s: unknown, r: never) => resolve(r)));
    expect(records.length).toBe(d.items[0].CurrentNumberOfRecords);
    expect(records.map((r) => r.Initiator)).toContain('admin');
  });

  it('hardware: system package, chassis, board, BIOS, processors, memory and disks', async () => {
    const r = await batchEnum(amt, HARDWARE);
    for (const c of HARDWARE.map(name)) expect({ c, status: r.responses[c].status }).toEqual({ c, status: 200 });
    expect((r.responses.CIM_Chassis.response as Record<string, unknown>).Manufacturer).toBe(dev.hardware.manufacturer);
    const packaging = r.responses.CIM_SystemPackaging.responses as Array<Record<string, unknown>>;
    expect(String(packaging[0].PlatformGUID)).toMatch(/^[0-9A-F]{32}$/);
    expect((r.responses.CIM_PhysicalMemory.responses as unknown[]).length).toBe(dev.hardware.memory.length);
    expect((r.responses.CIM_MediaAccessDevice.responses as unknown[]).length).toBe(dev.hardware.disks.length);
  });

  it('power policy', async () => {
    const schemes = await new Promise<Array<Record<string, unknown>>>((resolve) => amt.Enum('AMT_SystemPowerScheme', (_s: unknown, _n: unknown, items: never) => resolve(items)));
    expect(schemes.map((s) => s.InstanceID)).toEqual(['SCHEME 0', 'SCHEME 1']);
  });

  it('power action with a PXE boot order, as MeshCommander sequences it; the PC boots from the network', async () => {
    const optIn = await new Promise<{ status: number }>((resolve) => amt.Get('IPS_OptInService', (_s: unknown, _n: unknown, _r: unknown, status: number) => resolve({ status })));
    expect(optIn.status).toBe(200);
    const bsd = await new Promise<{ response: { Body: Record<string, unknown> }; status: number }>((resolve) =>
      amt.Get('AMT_BootSettingData', (_s: unknown, _n: unknown, response: never, status: number) => resolve({ response, status })),
    );
    expect(bsd.status).toBe(200);
    const clear = await call(amt.CIM_BootConfigSetting_ChangeBootOrder, null);
    expect(clear.response?.Body?.ReturnValue).toBe(0);
    const settings = { ...bsd.response.Body, BIOSPause: false, BIOSSetup: false, UseSOL: false, UseSafeMode: false, UseIDER: false };
    const put = await new Promise<number>((resolve) => amt.Put('AMT_BootSettingData', settings, (_s: unknown, _n: unknown, _r: unknown, status: number) => resolve(status), 0, 1));
    expect(put).toBe(200);
    const role = await call(amt.SetBootConfigRole, 1);
    expect(role.response?.Body?.ReturnValue).toBe(0);
    const order = await call(amt.CIM_BootConfigSetting_ChangeBootOrder, PXE_SOURCE);
    expect(order.response?.Body?.ReturnValue).toBe(0);
    const power = await call(amt.RequestPowerStateChange, 10);
    expect(power.response?.Body?.ReturnValue).toBe(0);
    const deadline = Date.now() + 20_000;
    while (lastBoot(dev)?.target !== 'pxe' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(lastBoot(dev)?.target).toBe('pxe');
  });
});
