/** Platform and firmware identity: CIM_SoftwareIdentity, CIM_ComputerSystemPackage, CIM_Chassis, CIM_Card, CIM_BIOSElement. */
import type { SimDevice } from '../device';
import { datetime, managedSystemRef, ref, SimProps } from '../values';
import { ClassHandler } from './types';

/** SMBIOS-style GUID as AMT reports it: the first three UUID fields byte-swapped, uppercase, no dashes. */
export function platformGuid(uuid: string): string {
  const hex = uuid.replace(/-/g, '').toUpperCase();
  const swap = (s: string): string => (s.match(/../g) ?? []).reverse().join('');
  return swap(hex.slice(0, 8)) + swap(hex.slice(8, 12)) + swap(hex.slice(12, 16)) + hex.slice(16);
}

function serial(d: SimDevice): string {
  return `SIM${d.uuid.replace(/-/g, '').slice(-9).toUpperCase()}`;
}

function softwareIdentities(d: SimDevice): SimProps[] {
  const v = d.firmware.version;
  const entries: Array<[string, string]> = [
    ['Flash', v],
    ['Netstack', v],
    ['AMTApps', v],
    ['AMT', v],
    ['Sku', d.firmware.sku ?? '16392'],
    ['VendorID', '8086'],
    ['Build Number', d.firmware.build],
    ['Recovery Version', v],
    ['Recovery Build Num', d.firmware.build],
    ['Legacy Mode', 'False'],
    ['AMT FW Core Version', v],
  ];
  return entries.map(([id, version]) => ({ InstanceID: id, IsEntity: true, VersionString: version }));
}

export const softwareIdentity: ClassHandler = {
  className: 'CIM_SoftwareIdentity',
  commonNs: true,
  instances: softwareIdentities,
};

export const computerSystemPackage: ClassHandler = {
  className: 'CIM_ComputerSystemPackage',
  keys: ['Antecedent', 'Dependent'],
  instances: (d) => [
    {
      Antecedent: ref('CIM_Chassis', { CreationClassName: 'CIM_Chassis', Tag: 'CIM_Chassis' }),
      Dependent: managedSystemRef(),
      PlatformGUID: platformGuid(d.uuid),
    },
  ],
};

export const chassis: ClassHandler = {
  className: 'CIM_Chassis',
  commonNs: true,
  keys: ['CreationClassName', 'Tag'],
  instances: (d) => [
    {
      ChassisPackageType: 0,
      CreationClassName: 'CIM_Chassis',
      ElementName: 'Managed System Chassis',
      Manufacturer: 'OOBKit Simulated Systems',
      Model: 'SIM-PC-1',
      OperationalStatus: 0,
      PackageType: 3,
      SerialNumber: serial(d),
      Tag: 'CIM_Chassis',
      Version: '1.0',
    },
  ],
};

export const card: ClassHandler = {
  className: 'CIM_Card',
  commonNs: true,
  keys: ['CreationClassName', 'Tag'],
  instances: (d) => [
    {
      CanBeFRUed: true,
      CreationClassName: 'CIM_Card',
      ElementName: 'Managed System Base Board',
      Manufacturer: 'OOBKit Simulated Systems',
      Model: 'SIMBOARD',
      OperationalStatus: 0,
      PackageType: 9,
      SerialNumber: `/${serial(d)}/`,
      Tag: 'CIM_Card',
      Version: 'A00',
    },
  ],
};

export const biosElement: ClassHandler = {
  className: 'CIM_BIOSElement',
  commonNs: true,
  keys: ['Name', 'SoftwareElementID', 'SoftwareElementState', 'TargetOperatingSystem', 'Version'],
  instances: () => [
    {
      ElementName: 'Primary BIOS',
      Manufacturer: 'OOBKit',
      Name: 'Primary BIOS',
      OperationalStatus: 0,
      PrimaryBIOS: true,
      ReleaseDate: datetime('2024-03-15T00:00:00Z'),
      SoftwareElementID: 'SIMBIOS.0100.2024.0315.1200',
      SoftwareElementState: 2,
      TargetOperatingSystem: 66,
      Version: 'SIMBIOS.0100.2024.0315.1200',
    },
  ],
};

export const inventoryClasses = [softwareIdentity, computerSystemPackage, chassis, card, biosElement];
