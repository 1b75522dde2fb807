/**
 * Platform, firmware and hardware: CIM_SoftwareIdentity, CIM_ComputerSystemPackage, CIM_Chassis,
 * CIM_Card, CIM_BIOSElement, CIM_PhysicalPackage, CIM_Chip, CIM_PhysicalMemory, CIM_Processor,
 * CIM_MediaAccessDevice and CIM_KVMRedirectionSAP, from the device's HardwareProfile
 * (packages/sim/src/hardware.ts). Property names, order and value shapes follow real firmware: the
 * captures in test/fixtures/amt and the hardware answers published with Intel's MPS.
 */
import type { SimDevice } from '../device';
import type { HardwareProfile } from '../hardware';
import { faults } from '../sim-fault';
import { datetime, managedSystemRef, ref, SimProps } from '../values';
import { applyWritable, ClassHandler, inputInt } from './types';

/** SMBIOS-style GUID as AMT reports it: the first three UUID fields byte-swapped, uppercase, no dashes. */
export function platformGuid(uuid: string): string {
  const hex = uuid.replace(/-/g, '').toUpperCase();
  const swap = (s: string): string => (s.match(/../g) ?? []).reverse().join('');
  return swap(hex.slice(0, 8)) + swap(hex.slice(8, 12)) + swap(hex.slice(12, 16)) + hex.slice(16);
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

function systemPackages(d: SimDevice): SimProps[] {
  return [
    {
      Antecedent: ref('CIM_Chassis', { CreationClassName: 'CIM_Chassis', Tag: 'CIM_Chassis' }),
      Dependent: managedSystemRef(),
      PlatformGUID: platformGuid(d.uuid),
    },
  ];
}

export const computerSystemPackage: ClassHandler = {
  className: 'CIM_ComputerSystemPackage',
  keys: ['Antecedent', 'Dependent'],
  instances: systemPackages,
};

/** The parent association: firmware answers with the CIM_ComputerSystemPackage instance. */
export const systemPackaging: ClassHandler = {
  className: 'CIM_SystemPackaging',
  keys: ['Antecedent', 'Dependent'],
  itemClassName: () => 'CIM_ComputerSystemPackage',
  instances: systemPackages,
};

function chassisOf(h: HardwareProfile): SimProps {
  return {
    ChassisPackageType: 0,
    CreationClassName: 'CIM_Chassis',
    ElementName: 'Managed System Chassis',
    Manufacturer: h.manufacturer,
    Model: h.model,
    OperationalStatus: 0,
    PackageType: 3,
    SerialNumber: h.serial,
    Tag: 'CIM_Chassis',
    Version: h.version,
  };
}

function cardOf(h: HardwareProfile): SimProps {
  return {
    CanBeFRUed: true,
    CreationClassName: 'CIM_Card',
    ElementName: 'Managed System Base Board',
    Manufacturer: h.board.manufacturer,
    Model: h.board.model,
    OperationalStatus: 0,
    PackageType: 9,
    SerialNumber: h.board.serial,
    Tag: 'CIM_Card',
    Version: h.board.version,
  };
}

/** Disks as physical packages: model and serial number, padded as the drive reports them. */
function mediaPackagesOf(h: HardwareProfile): SimProps[] {
  return h.disks.map((d, i) => ({
    CreationClassName: 'CIM_PhysicalPackage',
    ElementName: 'Managed System Storage Media Package',
    Model: d.model,
    OperationalStatus: 0,
    PackageType: 15,
    SerialNumber: d.serial,
    Tag: `Storage Media Package ${i}`,
  }));
}

const PACKAGE_KEYS = ['CreationClassName', 'Tag'];
const DEVICE_KEYS = ['CreationClassName', 'DeviceID', 'SystemCreationClassName', 'SystemName'];
const HOST = { SystemCreationClassName: 'CIM_ComputerSystem', SystemName: 'ManagedSystem' };

export const chassis: ClassHandler = {
  className: 'CIM_Chassis',
  commonNs: true,
  keys: PACKAGE_KEYS,
  instances: (d) => [chassisOf(d.hardware)],
};

export const card: ClassHandler = {
  className: 'CIM_Card',
  commonNs: true,
  keys: PACKAGE_KEYS,
  instances: (d) => [cardOf(d.hardware)],
};

/** The base board, the disks' packages and the chassis, in that order (as firmware lists them). */
export const physicalPackage: ClassHandler = {
  className: 'CIM_PhysicalPackage',
  commonNs: true,
  keys: PACKAGE_KEYS,
  itemClassName: (i) => String(i.CreationClassName),
  instances: (d) => [cardOf(d.hardware), ...mediaPackagesOf(d.hardware), chassisOf(d.hardware)],
};

export const biosElement: ClassHandler = {
  className: 'CIM_BIOSElement',
  commonNs: true,
  keys: ['Name', 'SoftwareElementID', 'SoftwareElementState', 'TargetOperatingSystem', 'Version'],
  instances: (d) => [
    {
      ElementName: 'Primary BIOS',
      Manufacturer: d.hardware.bios.vendor,
      Name: 'Primary BIOS',
      OperationalStatus: 0,
      PrimaryBIOS: true,
      ReleaseDate: datetime(`${d.hardware.bios.releaseDate}T00:00:00Z`),
      SoftwareElementID: d.hardware.bios.version,
      SoftwareElementState: 2,
      TargetOperatingSystem: 66,
      Version: d.hardware.bios.version,
    },
  ],
};

function processorChipsOf(h: HardwareProfile): SimProps[] {
  return h.cpus.map((c, i) => ({
    CanBeFRUed: true,
    CreationClassName: 'CIM_Chip',
    ElementName: 'Managed System Processor Chip',
    Manufacturer: c.manufacturer,
    OperationalStatus: 0,
    Tag: `CPU ${i}`,
    Version: c.model,
  }));
}

/** Memory modules. AMT reports Speed 0 and the clock in ConfiguredMemoryClockSpeed; Tags as firmware numbers them. */
function memoryOf(h: HardwareProfile): SimProps[] {
  return h.memory.map((m, i) => ({
    BankLabel: m.bank,
    Capacity: m.sizeBytes,
    ConfiguredMemoryClockSpeed: m.mhz,
    CreationClassName: 'CIM_PhysicalMemory',
    ElementName: 'Managed System Memory Chip',
    FormFactor: m.formFactor,
    IsSpeedInMhz: true,
    Manufacturer: m.manufacturer,
    MaxMemorySpeed: m.mhz,
    MemoryType: m.type,
    PartNumber: m.partNumber,
    SerialNumber: m.serial,
    Speed: 0,
    Tag: i === 0 ? '9876543210' : `9876543210 (#${i})`,
  }));
}

/** Processor chips first, then the memory modules (CIM_PhysicalMemory is a CIM_Chip). */
export const chip: ClassHandler = {
  className: 'CIM_Chip',
  commonNs: true,
  keys: PACKAGE_KEYS,
  itemClassName: (i) => String(i.CreationClassName),
  instances: (d) => [...processorChipsOf(d.hardware), ...memoryOf(d.hardware)],
};

export const physicalMemory: ClassHandler = {
  className: 'CIM_PhysicalMemory',
  commonNs: true,
  keys: PACKAGE_KEYS,
  instances: (d) => memoryOf(d.hardware),
};

export const processor: ClassHandler = {
  className: 'CIM_Processor',
  commonNs: true,
  keys: DEVICE_KEYS,
  instances: (d) =>
    d.hardware.cpus.map((c, i) => ({
      CPUStatus: 1,
      CreationClassName: 'CIM_Processor',
      CurrentClockSpeed: c.currentMHz,
      DeviceID: `CPU ${i}`,
      ElementName: 'Managed System CPU',
      EnabledState: 2,
      ExternalBusClockSpeed: c.busMHz,
      Family: c.family,
      HealthState: 0,
      MaxClockSpeed: c.maxMHz,
      OperationalStatus: 0,
      OtherFamilyDescription: '',
      RequestedState: 12,
      Role: 'Central',
      Stepping: c.stepping,
      ...HOST,
      UpgradeMethod: 2,
    })),
};

export const mediaAccessDevice: ClassHandler = {
  className: 'CIM_MediaAccessDevice',
  commonNs: true,
  keys: DEVICE_KEYS,
  instances: (d) =>
    d.hardware.disks.map((disk, i) => ({
      Capabilities: [4, 10],
      CreationClassName: 'CIM_MediaAccessDevice',
      DeviceID: `MEDIA DEV ${i}`,
      ElementName: 'Managed System Media Access Device',
      EnabledDefault: 2,
      EnabledState: 0,
      MaxMediaSize: disk.sizeKB,
      OperationalStatus: 0,
      RequestedState: 12,
      Security: 2,
      ...HOST,
    })),
};

/** KVM state: 6 enabled (no session), 2 enabled with a session, 3 disabled. */
export function kvmState(d: SimDevice): { enabledState: number } {
  return d.classState('CIM_KVMRedirectionSAP', () => ({ enabledState: 6 }));
}

/** Present only on PCs with KVM (vPro Enterprise); others answer DestinationUnreachable like real firmware. */
export const kvmRedirectionSAP: ClassHandler = {
  className: 'CIM_KVMRedirectionSAP',
  commonNs: true,
  keys: ['CreationClassName', 'Name', 'SystemCreationClassName', 'SystemName'],
  instances: (d) => {
    if (!d.hardware.kvm) throw faults.destinationUnreachable();
    return [
      {
        CreationClassName: 'CIM_KVMRedirectionSAP',
        ElementName: 'KVM Redirection Service Access Point',
        EnabledState: kvmState(d).enabledState,
        KVMProtocol: 4,
        Name: 'KVM Redirection Service Access Point',
        RequestedState: 2,
        ...HOST,
      },
    ];
  },
  methods: {
    /** 2 enable, 3 disable; ReturnValue 5 for anything else. */
    RequestStateChange: ({ device, input }) => {
      if (!device.hardware.kvm) throw faults.destinationUnreachable();
      const v = inputInt(input, 'RequestedState');
      if (v !== 2 && v !== 3) return { returnValue: 5 };
      kvmState(device).enabledState = v === 2 ? 6 : 3;
      return { returnValue: 0 };
    },
  },
};

function kvmSettingsDefaults(): SimProps {
  return {
    BackToBackFbMode: false,
    DefaultScreen: 0,
    ElementName: 'Intel(r) KVM Redirection Settings',
    EnabledByMEBx: true,
    InstanceID: 'Intel(r) KVM Redirection Settings',
    Is5900PortEnabled: false,
    OptInPolicy: true,
    OptInPolicyTimeout: 300,
    RFBPassword: '',
    SessionTimeout: 3,
  };
}

/**
 * KVM settings (PCs with KVM only). RFBPassword is write-only: firmware always reads it back empty.
 * OptInPolicy here is KVM's own consent switch; the consent rules live with IPS_OptInService.
 */
export const kvmRedirectionSettingData: ClassHandler = {
  className: 'IPS_KVMRedirectionSettingData',
  instances: (d) => {
    if (!d.hardware.kvm) throw faults.destinationUnreachable();
    return [d.classState<{ props: SimProps }>('IPS_KVMRedirectionSettingData')?.props ?? kvmSettingsDefaults()];
  },
  put: (d, current, input) => {
    const s = d.classState<{ props: SimProps }>('IPS_KVMRedirectionSettingData', () => ({ props: kvmSettingsDefaults() }));
    s.props = { ...applyWritable(current, input, ['DefaultScreen', 'Is5900PortEnabled', 'OptInPolicy', 'OptInPolicyTimeout', 'SessionTimeout']), RFBPassword: '' };
    return s.props;
  },
};

// Which System Defense policies are bound to a port now lives with the System Defense simulation
// (packages/sim/src/defense.ts), which serves AMT_NetworkPortSystemDefensePolicy itself.
export { setActiveDefensePolicies } from '../defense';

export const inventoryClasses = [
  softwareIdentity,
  computerSystemPackage,
  systemPackaging,
  chassis,
  card,
  biosElement,
  physicalPackage,
  chip,
  physicalMemory,
  processor,
  mediaAccessDevice,
  kvmRedirectionSAP,
  kvmRedirectionSettingData,
];
