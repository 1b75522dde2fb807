/**
 * Remote access (CIRA) and certificates: AMT_RemoteAccessService (AddMpServer,
 * AddRemoteAccessPolicyRule), AMT_ManagementPresenceRemoteSAP, AMT_RemoteAccessPolicyRule (Delete),
 * AMT_PublicKeyManagementService (AddTrustedRootCertificate, AddCertificate), AMT_PublicKeyCertificate.
 * Stored per device only once used; a fresh device has none of them.
 */
import { X509Certificate } from 'node:crypto';
import type { SimDevice } from '../device';
import { faults } from '../sim-fault';
import { ref, serviceSelectors, SimProps } from '../values';
import { ClassHandler, inputInt, inputText } from './types';

const SYSTEM = { SystemCreationClassName: 'CIM_ComputerSystem', SystemName: 'Intel(r) AMT' };

interface RemoteAccessState {
  servers: SimProps[];
  rules: SimProps[];
  nextServer: number;
}

function raState(d: SimDevice): RemoteAccessState {
  return d.classState<RemoteAccessState>('AMT_RemoteAccessService', () => ({ servers: [], rules: [], nextServer: 0 }));
}

const TRIGGER_NAMES: Record<number, string> = { 0: 'User Initiated', 1: 'Alert', 2: 'Periodic' };

export const remoteAccessService: ClassHandler = {
  className: 'AMT_RemoteAccessService',
  commonNs: true,
  instances: () => [
    {
      CreationClassName: 'AMT_RemoteAccessService',
      ElementName: 'Intel(r) AMT Remote Access Service',
      // The simulator has no CIRA tunnel; 4294967295: no keep-alive timeout set.
      IsRemoteTunnelConnected: false,
      Name: 'Intel(r) AMT Remote Access Service',
      RemoteTunnelKeepAliveTimeout: 4294967295,
      ...SYSTEM,
    },
  ],
  methods: {
    /** Adds a management presence server; the same AccessInfo twice is AlreadyExists. */
    AddMpServer: ({ device, input }) => {
      const access = inputText(input, 'AccessInfo');
      if (!access) throw faults.invalidParameter('AccessInfo is required.');
      const s = raState(device);
      if (s.servers.some((x) => x.AccessInfo === access)) throw faults.alreadyExists();
      const name = `Intel(r) AMT:Management Presence Server ${s.nextServer++}`;
      s.servers.push({
        AccessInfo: access,
        CN: inputText(input, 'CN') ?? '',
        CreationClassName: 'AMT_ManagementPresenceRemoteSAP',
        ElementName: 'Intel(r) AMT:Management Presence Server',
        InfoFormat: inputInt(input, 'InfoFormat') ?? 201,
        Name: name,
        Port: inputInt(input, 'Port') ?? 4433,
        ...SYSTEM,
      });
      return { out: { MpServer: ref('AMT_ManagementPresenceRemoteSAP', serviceSelectors('AMT_ManagementPresenceRemoteSAP', name)) }, returnValue: 0 };
    },
    /** Trigger 0 user initiated, 1 alert, 2 periodic; one rule per trigger (AlreadyExists otherwise). */
    AddRemoteAccessPolicyRule: ({ device, input }) => {
      const trigger = inputInt(input, 'Trigger');
      if (trigger === undefined || !(trigger in TRIGGER_NAMES)) throw faults.invalidParameter('Trigger must be 0, 1 or 2.');
      const s = raState(device);
      const name = TRIGGER_NAMES[trigger];
      if (s.rules.some((r) => r.PolicyRuleName === name)) throw faults.alreadyExists();
      s.rules.push({
        CreationClassName: 'AMT_RemoteAccessPolicyRule',
        ElementName: name,
        ExtendedData: inputText(input, 'ExtendedData') ?? 'AAAAAAAAABk=',
        PolicyRuleName: name,
        ...SYSTEM,
        Trigger: trigger,
        TunnelLifeTime: inputInt(input, 'TunnelLifeTime') ?? 0,
      });
      return {
        out: {
          PolicyRule: ref('AMT_RemoteAccessPolicyRule', { CreationClassName: 'AMT_RemoteAccessPolicyRule', PolicyRuleName: name, ...SYSTEM }),
        },
        returnValue: 0,
      };
    },
  },
};

export const managementPresenceRemoteSAP: ClassHandler = {
  className: 'AMT_ManagementPresenceRemoteSAP',
  commonNs: true,
  instances: (d) => d.classState<RemoteAccessState>('AMT_RemoteAccessService')?.servers ?? [],
  delete: (d, current) => {
    const s = raState(d);
    s.servers = s.servers.filter((x) => x !== current && x.Name !== current.Name);
  },
};

export const remoteAccessPolicyRule: ClassHandler = {
  className: 'AMT_RemoteAccessPolicyRule',
  keys: ['CreationClassName', 'PolicyRuleName', 'SystemCreationClassName', 'SystemName'],
  instances: (d) => d.classState<RemoteAccessState>('AMT_RemoteAccessService')?.rules ?? [],
  delete: (d, current) => {
    const s = raState(d);
    s.rules = s.rules.filter((r) => r.PolicyRuleName !== current.PolicyRuleName);
  },
};

interface CertState {
  certs: SimProps[];
  next: number;
}

function certState(d: SimDevice): CertState {
  return d.classState<CertState>('AMT_PublicKeyCertificate', () => ({ certs: [], next: 0 }));
}

/** Issuer and subject as firmware writes them ("C=unknown,O=unknown,CN=MPSRoot-0af1d5"); CN=Unknown when not a certificate. */
function distinguishedNames(base64: string): { issuer: string; subject: string } {
  try {
    const x = new X509Certificate(Buffer.from(base64, 'base64'));
    const dn = (s: string) => s.split('\n').filter(Boolean).join(',');
    return { issuer: dn(x.issuer), subject: dn(x.subject) };
  } catch {
    return { issuer: 'CN=Unknown', subject: 'CN=Unknown' };
  }
}

function addCert(d: SimDevice, blob: string | undefined, trustedRoot: boolean): SimProps {
  const clean = (blob ?? '').replace(/\s+/g, '');
  if (!clean || !/^[A-Za-z0-9+/]+=*$/.test(clean)) throw faults.invalidParameter('CertificateBlob must be a base64 DER certificate.');
  const s = certState(d);
  if (s.certs.some((c) => c.X509Certificate === clean)) throw faults.alreadyExists();
  const id = `Intel(r) AMT Certificate: Handle: ${s.next++}`;
  const names = distinguishedNames(clean);
  // Firmware spells it TrustedRootCertficate (sic): the AMT 12 capture in test/fixtures/amt/gwm, and
  // what MeshCommander reads.
  const cert: SimProps = {
    ElementName: 'Intel(r) AMT Certificate',
    InstanceID: id,
    Issuer: names.issuer,
    Subject: names.subject,
    TrustedRootCertficate: trustedRoot,
    X509Certificate: clean,
  };
  s.certs.push(cert);
  return cert;
}

export const publicKeyCertificate: ClassHandler = {
  className: 'AMT_PublicKeyCertificate',
  commonNs: true,
  keys: ['InstanceID'],
  instances: (d) => d.classState<CertState>('AMT_PublicKeyCertificate')?.certs ?? [],
  delete: (d, current) => {
    const s = certState(d);
    s.certs = s.certs.filter((c) => c.InstanceID !== current.InstanceID);
  },
};

export const publicKeyManagementService: ClassHandler = {
  className: 'AMT_PublicKeyManagementService',
  commonNs: true,
  instances: () => [
    {
      CreationClassName: 'AMT_PublicKeyManagementService',
      ElementName: 'Intel(r) AMT Public Key Management Service',
      EnabledDefault: 5,
      EnabledState: 5,
      Name: 'Intel(r) AMT Public Key Management Service',
      RequestedState: 12,
      ...SYSTEM,
    },
  ],
  methods: {
    AddTrustedRootCertificate: ({ device, input }) => {
      const c = addCert(device, inputText(input, 'CertificateBlob'), true);
      return { out: { CreatedCertificate: ref('AMT_PublicKeyCertificate', { InstanceID: String(c.InstanceID) }) }, returnValue: 0 };
    },
    AddCertificate: ({ device, input }) => {
      const c = addCert(device, inputText(input, 'CertificateBlob'), false);
      return { out: { CreatedCertificate: ref('AMT_PublicKeyCertificate', { InstanceID: String(c.InstanceID) }) }, returnValue: 0 };
    },
  },
};

export const remoteAccessClasses = [
  remoteAccessService,
  managementPresenceRemoteSAP,
  remoteAccessPolicyRule,
  publicKeyCertificate,
  publicKeyManagementService,
];
