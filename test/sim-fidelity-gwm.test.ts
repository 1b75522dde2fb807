/**
 * The simulator against the responses recorded from real firmware (AMT 12) that Intel's
 * go-wsman-messages replays in its tests (test/fixtures/amt/gwm, see test/fixtures/SOURCES.md).
 * Class by class, each capture is compared with oob-sim's answer to the same request: element
 * names and order, namespace declarations and their letters, header, key properties and the kind
 * of every value (text, reference to which class with which selectors), and value formats of the
 * properties consoles parse (booleans, integers, MAC and GUID spellings).
 *
 * Every capture in the directory has a case here (a test says so), so adding a capture without
 * modelling its class fails.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { readEnumerationContext, readEnvelope, readInstance, readPullResponse, WsmanEnvelope } from '../lib/wsman/envelope';
import { AMT } from '@device-management-toolkit/wsman-messages';
import { buildDelete, buildEnumerate, buildGet, buildInvoke, buildInvokeWithBody, buildPull, buildPut, BuiltRequest } from '../lib/wsman/messages';
import { resourceUri } from '../lib/wsman/namespaces';
import type { PlainObject } from '../lib/wsman/xml';
import { Fleet, SimDevice, startFleet } from '../packages/sim/src';
import { wsmanCall } from './sim-helpers';
import { Kind, shape } from './helpers/wsman-shape';

const DIR = join(__dirname, 'fixtures', 'amt', 'gwm');

type Step = BuiltRequest | ((prev: WsmanEnvelope | undefined, dev: SimDevice) => BuiltRequest);

interface Case {
  file: string;
  /** Requests to send; the answer to the last one is compared. */
  steps: Step[];
  expect: Kind;
  status?: number;
  /**
   * Properties the capture has and the simulator leaves out on purpose, with the reason (state the
   * simulator does not have, or a value the publisher removed from the recording).
   */
  captureOnly?: { props: string[]; why: string };
  simExtra?: { props: string[]; why: string };
}

/** A certificate to add: the DER (base64) of a PEM, or of the capture's own root when the device has none. */
const derOf = (pem: string): string => pem.replace(/-----[^-]+-----|\s/g, '');
const ROOT_DER = readX509('amt/publickey/certificate/get.xml');
const ROOT_DER2 = Buffer.from('a second trusted root for the method answer').toString('base64');
function readX509(file: string): string {
  return String(readInstance(readEnvelope(readFileSync(join(DIR, file), 'utf8'))).props.X509Certificate);
}

/** Put `steps` before a case's own requests (state the capture's PC had). */
const after = (steps: Step[], c: Case): Case => ({ ...c, steps: [...steps, ...c.steps] });
const known = (c: Case, props: string[], why: string): Case => ({ ...c, captureOnly: { props, why } });
/** Properties the simulator writes that the capture lacks, with the reason. */
const simOnly = (c: Case, props: string[], why: string): Case => ({ ...c, simExtra: { props, why } });
const REDACTED_IP = "the publisher removed the wired port's own addresses from the recording (DHCP on, gateway and DNS kept); firmware reports them";
const md5b64 = (s: string): string => createHash('md5').update(s).digest('base64');
/** The account a console adds before it reads one back (handle 1 on a fresh device). */
const addUser: Step = (_prev, dev) =>
  buildInvoke('AMT_AuthorizationService', 'AddUserAclEntryEx', { DigestUsername: 'helpdesk', DigestPassword: md5b64(`helpdesk:${dev.realm}:Help-desk1`), AccessPermission: 2, Realms: [3, 5] } as never);

const ctxOf = (env: WsmanEnvelope | undefined): string => readEnumerationContext(env as WsmanEnvelope);
/** An alarm-clock wake-up an hour from now, the AddAlarm body as Intel's wsman-messages writes it. */
const addAlarm: Step = () => {
  const xml = new AMT.Messages().AlarmClockService.AddAlarm({ InstanceID: 'fidelity-alarm', StartTime: new Date(Date.now() + 3600_000), Interval: 1440, DeleteOnCompletion: false } as never);
  return buildInvokeWithBody('AMT_AlarmClockService', 'AddAlarm', xml.slice(xml.indexOf('<Body>'), xml.lastIndexOf('</Body>') + 7));
};
const eprOf = (className: string, selectors: Record<string, string>) => ({ address: 'http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous', resourceUri: resourceUri(className), selectors });

const get = (file: string, className: string, selectors?: Record<string, string>): Case => ({ file, steps: [buildGet(className, selectors)], expect: { kind: 'instance' } });
const enumerate = (file: string, className: string): Case => ({ file, steps: [buildEnumerate(className)], expect: { kind: 'enumerate' } });
/** A capture recorded one page of a longer enumeration is compared with a page of the same size. */
function pageSize(file: string): number {
  const page = readPullResponse(readEnvelope(readFileSync(join(DIR, file), 'utf8')));
  return page.context !== undefined ? page.items.length : 999;
}
const pull = (file: string, className: string): Case => ({ file, steps: [buildEnumerate(className), (prev) => buildPull(className, ctxOf(prev), pageSize(file))], expect: { kind: 'pull' } });
const invoke = (file: string, className: string, method: string, input: Record<string, unknown> = {}, selectors?: Record<string, string>): Case => ({
  file,
  steps: [buildInvoke(className, method, input as never, selectors)],
  expect: { kind: 'method', method },
});
/** Get, Enumerate and Pull of one class. */
const getEnumPull = (dir: string, className: string, selectors?: Record<string, string>): Case[] => [
  get(`${dir}/get.xml`, className, selectors),
  enumerate(`${dir}/enumerate.xml`, className),
  pull(`${dir}/pull.xml`, className),
];

const CASES: Case[] = [
  // What a console reads when it opens a PC.
  known(
    get('amt/general/get.xml', 'AMT_GeneralSettings'),
    ['DHCPSyncRequiresHostname', 'ThunderboltDockEnabled'],
    'the Get and the Pull captures of this class disagree; the Pull, which has neither, is taken as what AMT 12 answers (AMT 15 adds ThunderboltDockEnabled, test/fixtures/amt)',
  ),
  enumerate('amt/general/enumerate.xml', 'AMT_GeneralSettings'),
  pull('amt/general/pull.xml', 'AMT_GeneralSettings'),
  ...getEnumPull('amt/setupandconfiguration', 'AMT_SetupAndConfigurationService'),
  ...getEnumPull('ips/hostbasedsetup', 'IPS_HostBasedSetupService'),
  ...getEnumPull('amt/redirectionservice', 'AMT_RedirectionService'),
  invoke('amt/redirectionservice/requeststatechange.xml', 'AMT_RedirectionService', 'RequestStateChange', { RequestedState: 32771 }),
  ...getEnumPull('amt/boot/capabilities', 'AMT_BootCapabilities'),
  ...getEnumPull('amt/boot/settingdata', 'AMT_BootSettingData'),
  ...getEnumPull('amt/environmentdetection', 'AMT_EnvironmentDetectionSettingData').map((c) =>
    after([buildPut('AMT_EnvironmentDetectionSettingData', { InstanceID: 'Intel(r) AMT Environment Detection Settings', DetectionAlgorithm: 0, DetectionStrings: ['corp.example.com', 'example.net'] } as never)], c),
  ),
  get('amt/userinitiatedconnection/get.xml', 'AMT_UserInitiatedConnectionService'),
  enumerate('amt/userinitiatedconnection/enumerate.xml', 'AMT_UserInitiatedConnectionService'),
  known(pull('amt/userinitiatedconnection/pull.xml', 'AMT_UserInitiatedConnectionService'), ['LastConnectionReason'], 'set after a CIRA connection; the simulator has no CIRA tunnel (the Get capture has none either)'),
  ...getEnumPull('amt/timesynchronization', 'AMT_TimeSynchronizationService'),
  invoke('amt/timesynchronization/getlowaccuracytimesynch.xml', 'AMT_TimeSynchronizationService', 'GetLowAccuracyTimeSynch'),
  ...getEnumPull('amt/systempowerscheme', 'AMT_SystemPowerScheme', { InstanceID: 'SCHEME 0' }),
  // Network.
  simOnly(get('amt/ethernetport/get.xml', 'AMT_EthernetPortSettings', { InstanceID: 'Intel(r) AMT Ethernet Port Settings 0' }), ['IPAddress'], REDACTED_IP),
  enumerate('amt/ethernetport/enumerate.xml', 'AMT_EthernetPortSettings'),
  simOnly(pull('amt/ethernetport/pull.xml', 'AMT_EthernetPortSettings'), ['IPAddress', 'SecondaryDNS'], REDACTED_IP),
  get('cim/ethernetport/get.xml', 'CIM_EthernetPort', { CreationClassName: 'CIM_EthernetPort', DeviceID: 'Intel(r) AMT Ethernet Port 0', SystemCreationClassName: 'CIM_ComputerSystem', SystemName: 'Intel(r) AMT' }),
  enumerate('cim/ethernetport/enumerate.xml', 'CIM_EthernetPort'),
  ...getEnumPull('ips/ipv6portsettings', 'IPS_IPv6PortSettings', { InstanceID: 'Intel(r) IPS IPv6 Settings 0' }),
  get('cim/wifi/port/get.xml', 'CIM_WiFiPort'),
  enumerate('cim/wifi/port/enumerate.xml', 'CIM_WiFiPort'),
  pull('cim/wifi/port/pull.xml', 'CIM_WiFiPort'),
  ...getEnumPull('amt/ieee8021x/profile', 'AMT_8021XProfile'),
  enumerate('cim/ieee8021x/settings/enumerate.xml', 'CIM_IEEE8021xSettings'),
  // Accounts.
  ...getEnumPull('amt/authorization', 'AMT_AuthorizationService'),
  invoke('amt/authorization/getadminaclentry.xml', 'AMT_AuthorizationService', 'GetAdminAclEntry'),
  invoke('amt/authorization/getadminaclentrystatus.xml', 'AMT_AuthorizationService', 'GetAdminAclEntryStatus'),
  invoke('amt/authorization/getadminnetaclentrystatus.xml', 'AMT_AuthorizationService', 'GetAdminNetAclEntryStatus'),
  after([addUser], invoke('amt/authorization/getaclenabledstate.xml', 'AMT_AuthorizationService', 'GetAclEnabledState', { Handle: 1 })),
  invoke('amt/authorization/setaclenabledstate.xml', 'AMT_AuthorizationService', 'SetAclEnabledState', { Handle: 1, Enabled: true }),
  invoke('amt/authorization/removeuseraclentry.xml', 'AMT_AuthorizationService', 'RemoveUserAclEntry', { Handle: 1 }),
  {
    file: 'amt/authorization/setadminaclentryex.xml',
    // the same name and password again, so the requests after it still log in
    steps: [(_prev, dev) => buildInvoke('AMT_AuthorizationService', 'SetAdminAclEntryEx', { Username: 'admin', DigestPassword: md5b64(`admin:${dev.realm}:P@ssw0rd`) } as never)],
    expect: { kind: 'method', method: 'SetAdminAclEntryEx' },
  },
  // Logs.
  enumerate('amt/messagelog/enumerate.xml', 'AMT_MessageLog'),
  pull('amt/messagelog/pull.xml', 'AMT_MessageLog'),
  invoke('amt/messagelog/positiontofirstrecord.xml', 'AMT_MessageLog', 'PositionToFirstRecord'),
  invoke('amt/messagelog/getrecords.xml', 'AMT_MessageLog', 'GetRecords', { IterationIdentifier: 1, MaxReadRecords: 390 }),
  enumerate('amt/auditlog/enumerate.xml', 'AMT_AuditLog'),
  pull('amt/auditlog/pull.xml', 'AMT_AuditLog'),
  invoke('amt/auditlog/readrecords.xml', 'AMT_AuditLog', 'ReadRecords', { StartIndex: 1 }),
  // Power.
  ...getEnumPull('cim/power/managementservice', 'CIM_PowerManagementService'),
  invoke('cim/power/managementservice/requestpowerstatechange.xml', 'CIM_PowerManagementService', 'RequestPowerStateChange', {
    PowerState: 10,
    ManagedElement: eprOf('CIM_ComputerSystem', { CreationClassName: 'CIM_ComputerSystem', Name: 'ManagedSystem' }),
  }),
  ...getEnumPull('ips/power/managementservice', 'IPS_PowerManagementService'),
  ...getEnumPull('cim/associatedpower/managementservice', 'CIM_AssociatedPowerManagementService'),
  enumerate('cim/service/availabletoelement/enumerate.xml', 'CIM_ServiceAvailableToElement'),
  // Boot.
  ...getEnumPull('cim/boot/configsetting', 'CIM_BootConfigSetting'),
  invoke('cim/boot/configsetting/changebootorder.xml', 'CIM_BootConfigSetting', 'ChangeBootOrder', {
    Source: eprOf('CIM_BootSourceSetting', { InstanceID: 'Intel(r) AMT: Force PXE Boot' }),
  }),
  ...getEnumPull('cim/boot/service', 'CIM_BootService'),
  get('cim/boot/sourcesetting/get.xml', 'CIM_BootSourceSetting', { InstanceID: 'Intel(r) AMT: Force Hard-drive Boot' }),
  enumerate('cim/boot/sourcesetting/enumerate.xml', 'CIM_BootSourceSetting'),
  pull('cim/boot/sourcesetting/pull.xml', 'CIM_BootSourceSetting'),
  // Hardware.
  ...getEnumPull('cim/software/identity', 'CIM_SoftwareIdentity', { InstanceID: 'AMT FW Core Version' }),
  ...getEnumPull('cim/computer/systempackage', 'CIM_ComputerSystemPackage'),
  enumerate('cim/system/packaging/enumerate.xml', 'CIM_SystemPackaging'),
  pull('cim/system/packaging/pull.xml', 'CIM_SystemPackaging'),
  ...getEnumPull('cim/chassis', 'CIM_Chassis'),
  ...getEnumPull('cim/card', 'CIM_Card'),
  ...getEnumPull('cim/bios/element', 'CIM_BIOSElement'),
  enumerate('cim/physical/package/enumerate.xml', 'CIM_PhysicalPackage'),
  enumerate('cim/chip/enumerate.xml', 'CIM_Chip'),
  pull('cim/chip/pull.xml', 'CIM_Chip'),
  enumerate('cim/physical/memory/enumerate.xml', 'CIM_PhysicalMemory'),
  pull('cim/physical/memory/pull.xml', 'CIM_PhysicalMemory'),
  ...getEnumPull('cim/physical/processor', 'CIM_Processor', { CreationClassName: 'CIM_Processor', DeviceID: 'CPU 0', SystemCreationClassName: 'CIM_ComputerSystem', SystemName: 'ManagedSystem' }),
  enumerate('cim/mediaaccess/enumerate.xml', 'CIM_MediaAccessDevice'),
  pull('cim/mediaaccess/pull.xml', 'CIM_MediaAccessDevice'),
  ...getEnumPull('cim/kvm', 'CIM_KVMRedirectionSAP'),
  enumerate('ips/kvmredirection/settings/enumerate.xml', 'IPS_KVMRedirectionSettingData'),
  pull('ips/kvmredirection/settings/pull.xml', 'IPS_KVMRedirectionSettingData'),
  // Certificates.
  after(
    [(_prev, dev) => buildInvoke('AMT_PublicKeyManagementService', 'AddTrustedRootCertificate', { CertificateBlob: dev.tls?.cert ? derOf(dev.tls.cert) : ROOT_DER } as never)],
    get('amt/publickey/certificate/get.xml', 'AMT_PublicKeyCertificate', { InstanceID: 'Intel(r) AMT Certificate: Handle: 0' }),
  ),
  enumerate('amt/publickey/certificate/enumerate.xml', 'AMT_PublicKeyCertificate'),
  pull('amt/publickey/certificate/pull.xml', 'AMT_PublicKeyCertificate'),
  ...getEnumPull('amt/publickey/management', 'AMT_PublicKeyManagementService'),
  invoke('amt/publickey/management/addtrustedrootcertificate.xml', 'AMT_PublicKeyManagementService', 'AddTrustedRootCertificate', { CertificateBlob: ROOT_DER2 }),
  // Remote access (CIRA).
  ...getEnumPull('amt/remoteaccess/service', 'AMT_RemoteAccessService'),
  ...getEnumPull('amt/managementpresence', 'AMT_ManagementPresenceRemoteSAP', {
    CreationClassName: 'AMT_ManagementPresenceRemoteSAP',
    Name: 'Intel(r) AMT:Management Presence Server 0',
    SystemCreationClassName: 'CIM_ComputerSystem',
    SystemName: 'Intel(r) AMT',
  }).map((c, i) =>
    i === 0
      ? after([buildInvoke('AMT_RemoteAccessService', 'AddMpServer', { AccessInfo: '192.0.2.208', InfoFormat: 3, Port: 4433, AuthMethod: 2, Username: 'mpsuser', Password: 'mpspass', CN: '192.0.2.208' } as never)], c)
      : c,
  ),
  after(
    [buildInvoke('AMT_RemoteAccessService', 'AddRemoteAccessPolicyRule', { Trigger: 2, TunnelLifeTime: 0, ExtendedData: 'AAAAAAAAABk=' } as never)],
    get('amt/remoteaccess/policyrule/get.xml', 'AMT_RemoteAccessPolicyRule', { CreationClassName: 'AMT_RemoteAccessPolicyRule', PolicyRuleName: 'Periodic', SystemCreationClassName: 'CIM_ComputerSystem', SystemName: 'Intel(r) AMT' }),
  ),
  enumerate('amt/remoteaccess/policyrule/enumerate.xml', 'AMT_RemoteAccessPolicyRule'),
  pull('amt/remoteaccess/policyrule/pull.xml', 'AMT_RemoteAccessPolicyRule'),
  // User consent and the alarm clock.
  ...getEnumPull('ips/optin', 'IPS_OptInService'),
  invoke('ips/optin/startoptin.xml', 'IPS_OptInService', 'StartOptIn'),
  invoke('ips/optin/canceloptin.xml', 'IPS_OptInService', 'CancelOptIn'),
  ...getEnumPull('amt/alarmclock', 'AMT_AlarmClockService'),
  { file: 'amt/alarmclock/addalarm.xml', steps: [addAlarm], expect: { kind: 'method', method: 'AddAlarm' } },
  enumerate('ips/alarmclock/enumerate.xml', 'IPS_AlarmClockOccurrence'),
  {
    file: 'ips/alarmclock/delete.xml',
    steps: [buildDelete('IPS_AlarmClockOccurrence', { InstanceID: 'fidelity-alarm' })],
    expect: { kind: 'empty' },
  },
  {
    file: 'amt/remoteaccess/policyrule/delete.xml',
    steps: [buildDelete('AMT_RemoteAccessPolicyRule', { CreationClassName: 'AMT_RemoteAccessPolicyRule', PolicyRuleName: 'Periodic', SystemCreationClassName: 'CIM_ComputerSystem', SystemName: 'Intel(r) AMT' })],
    expect: { kind: 'empty' },
  },
];

/** Pull captures were often recorded a page at a time: compare the items, not whether more follow. */
function comparable(xml: string, c: Case, status: number, drop: string[] = []): unknown {
  const s = shape(xml, c.expect, status, drop) as { body: unknown };
  if (c.expect.kind === 'pull') s.body = (s.body as { items: unknown }).items;
  return s;
}

/** Values whose spelling consoles parse: booleans, integers, upper-case hex. */
function formatOf(v: unknown): string {
  if (Array.isArray(v)) return formatOf(v[0]);
  if (typeof v !== 'string') return typeof v;
  if (v === 'true' || v === 'false') return 'boolean';
  if (/^[0-9a-f]{12}$/i.test(v)) return 'hex12'; // a MAC without separators may be all digits
  if (/^-?\d+$/.test(v)) return 'integer';
  return 'text';
}

function formats(props: PlainObject, drop: string[] = []): Record<string, string> {
  return Object.fromEntries(Object.entries(props).filter(([k]) => !drop.includes(k)).map(([k, v]) => [k, formatOf(v)]));
}

function itemsOf(xml: string, k: Kind): PlainObject[] {
  const env = readEnvelope(xml);
  if (k.kind === 'instance') return [readInstance(env).props];
  if (k.kind === 'pull') return readPullResponse(env).items.map((i) => i.props);
  return [];
}

function listCaptures(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return listCaptures(p);
    return n.endsWith('.xml') ? [relative(DIR, p)] : [];
  });
}

describe('oob-sim answers like the AMT 12 captures of go-wsman-messages, class by class', () => {
  let fleet: Fleet;
  let dev: SimDevice;
  // The captures are of AMT 12: the simulator plays that generation.
  const replies = new Map<string, { xml: string; status: number }>();

  beforeAll(async () => {
    // Device 1: a notebook with a wireless port and KVM, as the NUC of the captures has.
    fleet = await startFleet({ devices: 2, port: 0, amtVersion: '12' });
    dev = fleet.devices[1];
    for (const c of CASES) {
      let prev: WsmanEnvelope | undefined;
      let last = { xml: '', status: 0 };
      for (const s of c.steps) {
        if (last.status >= 300) break; // a failed Enumerate: the case shows that answer
        const req = typeof s === 'function' ? s(prev, dev) : s;
        const reply = await wsmanCall(dev, req.xml);
        last = { xml: reply.body.toString('utf8'), status: reply.status };
        prev = reply.status === 200 ? readEnvelope(last.xml) : undefined;
      }
      replies.set(c.file, last);
    }
  });

  afterAll(async () => {
    await fleet.stop();
  });

  it('has a case for every capture', () => {
    const files = listCaptures(DIR).sort();
    expect(files.filter((f) => !CASES.some((c) => c.file === f))).toEqual([]);
    expect(CASES.map((c) => c.file).filter((f) => !files.includes(f))).toEqual([]);
  });

  it.each(CASES.map((c) => [c.file, c] as const))('%s', (_name, c) => {
    const capture = readFileSync(join(DIR, c.file), 'utf8');
    const reply = replies.get(c.file) as { xml: string; status: number };
    expect({ status: reply.status, fault: reply.status === 200 ? '' : reply.xml.replace(/.*<a:Text[^>]*>|<\/a:Text>.*/g, '') }).toEqual({ status: c.status ?? 200, fault: '' });
    expect(comparable(reply.xml, c, reply.status, c.simExtra?.props)).toEqual(comparable(capture, c, c.status ?? 200, c.captureOnly?.props));
    const want = itemsOf(capture, c.expect).map((p) => formats(p, c.captureOnly?.props));
    const got = itemsOf(reply.xml, c.expect).map((p) => formats(p, c.simExtra?.props));
    if (want.length > 0) expect(got[0]).toEqual(want[0]);
  });
});
