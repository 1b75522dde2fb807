import type { ClassSchema } from '../../wsman/typing';

/**
 * Typing of the classes the asset inventory and the audit log read. CIM_Chassis, CIM_Card,
 * CIM_SoftwareIdentity and AMT_SetupAndConfigurationService are typed in identity.ts.
 */
export const INVENTORY_SCHEMAS: Record<string, ClassSchema> = {
  CIM_BIOSElement: { PrimaryBIOS: 'bool', ReleaseDate: 'datetime', SoftwareElementState: 'int', TargetOperatingSystem: 'int', OperationalStatus: 'int[]' },
  CIM_PhysicalPackage: { PackageType: 'int', OperationalStatus: 'int[]', CanBeFRUed: 'bool' },
  CIM_Chip: { OperationalStatus: 'int[]', CanBeFRUed: 'bool' },
  CIM_PhysicalMemory: {
    Capacity: 'int',
    Speed: 'int',
    MemoryType: 'int',
    FormFactor: 'int',
    ConfiguredMemoryClockSpeed: 'int',
    MaxMemorySpeed: 'int',
    IsSpeedInMhz: 'bool',
    OperationalStatus: 'int[]',
    CanBeFRUed: 'bool',
  },
  CIM_Processor: {
    CPUStatus: 'int',
    CurrentClockSpeed: 'int',
    MaxClockSpeed: 'int',
    ExternalBusClockSpeed: 'int',
    Family: 'int',
    UpgradeMethod: 'int',
    EnabledState: 'int',
    RequestedState: 'int',
    HealthState: 'int',
    OperationalStatus: 'int[]',
  },
  CIM_MediaAccessDevice: {
    Capabilities: 'int[]',
    MaxMediaSize: 'int',
    Security: 'int',
    EnabledState: 'int',
    EnabledDefault: 'int',
    RequestedState: 'int',
    OperationalStatus: 'int[]',
  },
  AMT_EthernetPortSettings: {
    DHCPEnabled: 'bool',
    LinkIsUp: 'bool',
    LinkPolicy: 'int[]',
    PhysicalConnectionType: 'int',
    SharedMAC: 'bool',
    SharedDynamicIP: 'bool',
    SharedStaticIp: 'bool',
    IpSyncEnabled: 'bool',
  },
  AMT_RedirectionService: { EnabledState: 'int', RequestedState: 'int', ListenerEnabled: 'bool' },
  CIM_KVMRedirectionSAP: { EnabledState: 'int', RequestedState: 'int', KVMProtocol: 'int' },
  AMT_NetworkPortSystemDefensePolicy: { Antecedent: 'ref', Dependent: 'ref' },
  'AMT_AuditLog.ReadRecords': { TotalRecordCount: 'int', RecordsReturned: 'int', EventRecords: 'string[]' },
};
