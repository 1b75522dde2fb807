/**
 * Network classes consoles read beside AMT_EthernetPortSettings: IPS_IPv6PortSettings (one per
 * port; IPv6 off, so every address is "::" as firmware reports it), the wireless port
 * (CIM_WiFiPort, on PCs with one; disabled until a profile is set) with its profile lists
 * (CIM_WiFiEndpointSettings, empty), and 802.1x (AMT_8021XProfile disabled, no
 * CIM_IEEE8021xSettings or IPS_IEEE8021xSettings). Shapes from the AMT 12 captures in test/fixtures/amt/gwm.
 */
import type { SimDevice } from '../device';
import type { SimProps } from '../values';
import { applyWritable, ClassHandler } from './types';

function ipv6Defaults(port: number): SimProps {
  return {
    CurrentDefaultRouter: '::',
    CurrentPrimaryDNS: '::',
    CurrentSecondaryDNS: '::',
    DefaultRouter: '::',
    ElementName: `Intel(r) IPS IPv6 Settings ${port}`,
    IPv6Address: '::',
    InstanceID: `Intel(r) IPS IPv6 Settings ${port}`,
    InterfaceIDType: 0,
    ManualInterfaceID: '0000000000000000',
    PrimaryDNS: '::',
    SecondaryDNS: '::',
  };
}

const IPV6_WRITABLE = ['DefaultRouter', 'IPv6Address', 'InterfaceIDType', 'ManualInterfaceID', 'PrimaryDNS', 'SecondaryDNS'];

export const ipv6PortSettings: ClassHandler = {
  className: 'IPS_IPv6PortSettings',
  instances: (d) => {
    const stored = d.classState<{ ports: Record<string, SimProps> }>('IPS_IPv6PortSettings')?.ports ?? {};
    const ports = d.hardware.wirelessMac ? [0, 1] : [0];
    return ports.map((p) => stored[String(p)] ?? ipv6Defaults(p));
  },
  put: (d, current, input) => {
    const s = d.classState<{ ports: Record<string, SimProps> }>('IPS_IPv6PortSettings', () => ({ ports: {} }));
    const next = applyWritable(current, input, IPV6_WRITABLE);
    s.ports[String(current.InstanceID).slice(-1)] = next;
    return next;
  },
};

function wifiState(d: SimDevice): { enabledState: number } {
  return d.classState('CIM_WiFiPort', () => ({ enabledState: 3 }));
}

export const wifiPort: ClassHandler = {
  className: 'CIM_WiFiPort',
  commonNs: true,
  keys: ['CreationClassName', 'DeviceID', 'SystemCreationClassName', 'SystemName'],
  instances: (d) =>
    d.hardware.wirelessMac
      ? [
          {
            CreationClassName: 'CIM_WiFiPort',
            DeviceID: 'WiFi Port 0',
            ElementName: 'WiFi Port 0',
            EnabledState: wifiState(d).enabledState,
            HealthState: 5,
            LinkTechnology: 11,
            PermanentAddress: d.hardware.wirelessMac.replace(/:/g, ''),
            PortType: 0,
            RequestedState: wifiState(d).enabledState,
            SystemCreationClassName: 'CIM_ComputerSystem',
            SystemName: 'Intel(r) AMT',
          },
        ]
      : [],
  methods: {
    /** 3 disabled, 32768 enabled in S0, 32769 enabled in S0 and Sx on AC. */
    RequestStateChange: ({ device, input }) => {
      const v = Number(input.RequestedState);
      if (!device.hardware.wirelessMac) return { returnValue: 1 };
      if (![3, 32768, 32769].includes(v)) return { returnValue: 5 };
      wifiState(device).enabledState = v;
      return { returnValue: 0 };
    },
  },
};

/** No wireless profiles are configured. */
export const wifiEndpointSettings: ClassHandler = {
  className: 'CIM_WiFiEndpointSettings',
  instances: () => [],
};

export const ieee8021xSettings: ClassHandler = {
  className: 'CIM_IEEE8021xSettings',
  instances: () => [],
};

/** Intel's 802.1x settings for the wired port: none configured. */
export const ipsIeee8021xSettings: ClassHandler = {
  className: 'IPS_IEEE8021xSettings',
  instances: () => [],
};

export const ieee8021xProfile: ClassHandler = {
  className: 'AMT_8021XProfile',
  instances: () => [
    {
      ActiveInS0: true,
      ElementName: 'Intel(r) AMT 802.1x Profile',
      Enabled: false,
      InstanceID: 'Intel(r) AMT 802.1x Profile 0',
      PxeTimeout: 0,
    },
  ],
};

export const networkClasses = [ipv6PortSettings, wifiPort, wifiEndpointSettings, ieee8021xSettings, ipsIeee8021xSettings, ieee8021xProfile];
