/**
 * Names for the numbers AMT puts in its hardware classes. AMT copies SMBIOS values into
 * CIM_PhysicalMemory (a NUC's SO-DIMMs read FormFactor 13, DDR4 reads MemoryType 26), so those two
 * follow SMBIOS (DSP0134), not the CIM enumerations of the same names.
 */

/** SMBIOS memory device type (DSP0134 7.18.2). */
export const MEMORY_TYPES: Readonly<Record<number, string>> = {
  1: 'other',
  2: 'unknown',
  3: 'DRAM',
  4: 'EDRAM',
  5: 'VRAM',
  6: 'SRAM',
  7: 'RAM',
  8: 'ROM',
  9: 'Flash',
  10: 'EEPROM',
  11: 'FEPROM',
  12: 'EPROM',
  13: 'CDRAM',
  14: '3DRAM',
  15: 'SDRAM',
  16: 'SGRAM',
  17: 'RDRAM',
  18: 'DDR',
  19: 'DDR2',
  20: 'DDR2 FB-DIMM',
  24: 'DDR3',
  25: 'FBD2',
  26: 'DDR4',
  27: 'LPDDR',
  28: 'LPDDR2',
  29: 'LPDDR3',
  30: 'LPDDR4',
  31: 'logical non-volatile',
  32: 'HBM',
  33: 'HBM2',
  34: 'DDR5',
  35: 'LPDDR5',
};

/** SMBIOS memory device form factor (DSP0134 7.18.1). */
export const MEMORY_FORM_FACTORS: Readonly<Record<number, string>> = {
  1: 'other',
  2: 'unknown',
  3: 'SIMM',
  4: 'SIP',
  5: 'chip',
  6: 'DIP',
  7: 'ZIP',
  8: 'proprietary card',
  9: 'DIMM',
  10: 'TSOP',
  11: 'row of chips',
  12: 'RIMM',
  13: 'SODIMM',
  14: 'SRIMM',
  15: 'FB-DIMM',
  16: 'die',
};

/** CIM_Processor.CPUStatus. */
export const CPU_STATUS: Readonly<Record<number, string>> = {
  0: 'unknown',
  1: 'enabled',
  2: 'disabled-by-user',
  3: 'disabled-by-bios',
  4: 'idle',
  7: 'other',
};

/** CIM_Chassis.ChassisPackageType (0, unknown, is what most AMT firmware reports). */
export const CHASSIS_TYPES: Readonly<Record<number, string>> = {
  1: 'other',
  3: 'desktop',
  4: 'low-profile desktop',
  5: 'pizza box',
  6: 'mini tower',
  7: 'tower',
  8: 'portable',
  9: 'laptop',
  10: 'notebook',
  11: 'hand held',
  12: 'docking station',
  13: 'all in one',
  14: 'sub notebook',
  15: 'space-saving',
  16: 'lunch box',
  17: 'main system chassis',
  18: 'expansion chassis',
  19: 'sub chassis',
  20: 'bus expansion chassis',
  21: 'peripheral chassis',
  22: 'storage chassis',
  24: 'sealed-case PC',
};

/** AMT_SetupAndConfigurationService.ProvisioningMode. */
export const CONTROL_MODES: Readonly<Record<number, string>> = { 1: 'admin', 4: 'client' };

/** AMT_SetupAndConfigurationService.ProvisioningState. */
export const PROVISIONING_STATES: Readonly<Record<number, string>> = { 0: 'pre', 1: 'in', 2: 'post' };

/** AMT_EthernetPortSettings.PhysicalConnectionType: 3 is wireless LAN. */
export const WIRELESS_CONNECTION = 3;
