/** Network and general settings: AMT_GeneralSettings, AMT_EthernetPortSettings, AMT_EnvironmentDetectionSettingData. */
import type { SimDevice } from '../device';
import { SimProps } from '../values';
import { applyWritable, ClassHandler } from './types';

function generalDefaults(d: SimDevice): SimProps {
  return {
    AMTNetworkEnabled: 1,
    DDNSPeriodicUpdateInterval: 1440,
    DDNSTTL: 900,
    DDNSUpdateByDHCPServerEnabled: true,
    DDNSUpdateEnabled: false,
    DHCPv6ConfigurationTimeout: 0,
    DigestRealm: d.realm,
    DomainName: '',
    ElementName: 'Intel(r) AMT: General Settings',
    HostName: d.name,
    HostOSFQDN: '',
    IdleWakeTimeout: 1,
    InstanceID: 'Intel(r) AMT: General Settings',
    NetworkInterfaceEnabled: true,
    PingResponseEnabled: true,
    PowerSource: 0,
    PreferredAddressFamily: 0,
    PresenceNotificationInterval: 0,
    PrivacyLevel: 0,
    RmcpPingResponseEnabled: true,
    SharedFQDN: true,
    ...(d.profile.generalSettings.thunderboltDock ? { ThunderboltDockEnabled: 0 } : {}),
    WsmanOnlyMode: false,
  };
}

const GENERAL_WRITABLE = [
  'AMTNetworkEnabled',
  'DDNSPeriodicUpdateInterval',
  'DDNSTTL',
  'DDNSUpdateByDHCPServerEnabled',
  'DDNSUpdateEnabled',
  'DHCPv6ConfigurationTimeout',
  'DomainName',
  'HostName',
  'HostOSFQDN',
  'IdleWakeTimeout',
  'PingResponseEnabled',
  'PreferredAddressFamily',
  'PresenceNotificationInterval',
  'RmcpPingResponseEnabled',
  'SharedFQDN',
  'ThunderboltDockEnabled',
  'WsmanOnlyMode',
] as const;

/** The stored instance of a singleton settings class (defaults until the first Put). */
function stored(d: SimDevice, className: string, defaults: (d: SimDevice) => SimProps): { props: SimProps } {
  return d.classState(className, () => ({ props: defaults(d) }));
}

export const generalSettings: ClassHandler = {
  className: 'AMT_GeneralSettings',
  instances: (d) => [d.classState<{ props: SimProps }>('AMT_GeneralSettings')?.props ?? generalDefaults(d)],
  put: (d, current, input) => {
    const s = stored(d, 'AMT_GeneralSettings', generalDefaults);
    s.props = applyWritable(current, input, GENERAL_WRITABLE);
    return s.props;
  },
};

/** Documentation-range address (RFC 5737) derived from the MAC, so every device differs. */
function ipOf(d: SimDevice): string {
  const last = parseInt(d.mac.slice(-2), 16);
  return `192.0.2.${(last % 250) + 2}`;
}

function ethernetDefaults(d: SimDevice): SimProps {
  return {
    DHCPEnabled: true,
    DefaultGateway: '192.0.2.1',
    ElementName: 'Intel(r) AMT Ethernet Port Settings',
    IPAddress: ipOf(d),
    InstanceID: 'Intel(r) AMT Ethernet Port Settings 0',
    IpSyncEnabled: true,
    LinkIsUp: true,
    LinkPolicy: [1, 14],
    MACAddress: d.mac.replace(/:/g, '-'),
    PhysicalConnectionType: 0,
    PrimaryDNS: '192.0.2.53',
    SecondaryDNS: '192.0.2.54',
    SharedDynamicIP: true,
    SharedMAC: true,
    SharedStaticIp: false,
    SubnetMask: '255.255.255.0',
  };
}

/**
 * The wireless LAN port AMT manages on notebooks, as AMT 12 reports it (second instance of
 * test/fixtures/amt/gwm/amt/ethernetport/pull.xml): not associated, so no link and no address;
 * LinkControl/LinkPreference 2 (the ME owns the link only when the host OS does not).
 */
function wirelessDefaults(mac: string): SimProps {
  return {
    ConsoleTcpMaxRetransmissions: 5,
    DHCPEnabled: true,
    ElementName: 'Intel(r) AMT Ethernet Port Settings',
    InstanceID: 'Intel(r) AMT Ethernet Port Settings 1',
    LinkControl: 2,
    LinkIsUp: false,
    LinkPreference: 2,
    MACAddress: mac.replace(/:/g, '-'),
    PhysicalConnectionType: 3,
    SharedMAC: true,
    WLANLinkProtectionLevel: 1,
  };
}

const ETHERNET_WRITABLE = ['DHCPEnabled', 'DefaultGateway', 'IPAddress', 'IpSyncEnabled', 'LinkPolicy', 'PrimaryDNS', 'SecondaryDNS', 'SharedStaticIp', 'SubnetMask'];

/** Port 0 (wired) always; port 1 (wireless) on PCs whose hardware has one. Each stored apart once Put. */
function ethernetPorts(d: SimDevice): SimProps[] {
  const stored = d.classState<{ ports: Record<string, SimProps> }>('AMT_EthernetPortSettings')?.ports ?? {};
  const ports = [ethernetDefaults(d)];
  if (d.hardware.wirelessMac) ports.push(wirelessDefaults(d.hardware.wirelessMac));
  return ports.map((p) => stored[String(p.InstanceID)] ?? p);
}

export const ethernetPortSettings: ClassHandler = {
  className: 'AMT_EthernetPortSettings',
  instances: ethernetPorts,
  put: (d, current, input) => {
    const s = d.classState<{ ports: Record<string, SimProps> }>('AMT_EthernetPortSettings', () => ({ ports: {} }));
    const next = applyWritable(current, input, ETHERNET_WRITABLE);
    s.ports[String(current.InstanceID)] = next;
    return next;
  },
};

function environmentDefaults(): SimProps {
  return {
    DetectionAlgorithm: 0,
    ElementName: 'Intel(r) AMT Environment Detection Settings',
    InstanceID: 'Intel(r) AMT Environment Detection Settings',
  };
}

export const environmentDetectionSettingData: ClassHandler = {
  className: 'AMT_EnvironmentDetectionSettingData',
  instances: (d) => [d.classState<{ props: SimProps }>('AMT_EnvironmentDetectionSettingData')?.props ?? environmentDefaults()],
  put: (d, current, input) => {
    const s = stored(d, 'AMT_EnvironmentDetectionSettingData', environmentDefaults);
    s.props = applyWritable(current, input, ['DetectionAlgorithm', 'DetectionStrings', 'DetectionIPv6LocalPrefixes']);
    return s.props;
  },
};

export const settingsClasses = [generalSettings, ethernetPortSettings, environmentDetectionSettingData];
