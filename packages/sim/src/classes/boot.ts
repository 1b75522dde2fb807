/**
 * Boot control: AMT_BootCapabilities, AMT_BootSettingData (Get/Put), CIM_BootConfigSetting
 * (ChangeBootOrder), CIM_BootSourceSetting (Enumerate), CIM_BootService (SetBootConfigRole).
 *
 * As on AMT, the settings are one-time: they apply to the next firmware boot only when
 * SetBootConfigRole made the configuration "next" (Role 1), and that boot consumes them
 * (`takeBootRequest`, called by the device as the firmware starts; the 'boot' event carries them).
 * No capture of a BootSettingData Put answer exists: it answers the instance, like other Puts.
 */
import type { SimDevice } from '../device';
import type { BootDetails } from '../power';
import { faults } from '../sim-fault';
import { SimProps } from '../values';
import { auditAction } from './logs';
import { applyWritable, ClassHandler, inputInt } from './types';

const BOOT_CONFIG_ID = 'Intel(r) AMT: Boot Configuration 0';

export const BOOT_SOURCES: Array<[string, string]> = [
  ['Intel(r) AMT: Force Hard-drive Boot', 'CIM:Hard-Disk:1'],
  ['Intel(r) AMT: Force PXE Boot', 'CIM:Network:1'],
  ['Intel(r) AMT: Force OCR UEFI HTTPS Boot', 'CIM:Network:2'],
  ['Intel(r) AMT: Force CD/DVD Boot', 'CIM:CD/DVD:1'],
];

function settingDefaults(): SimProps {
  return {
    BIOSLastStatus: [2, 0],
    BIOSPause: false,
    BIOSSetup: false,
    BootMediaIndex: 0,
    BootguardStatus: 127,
    ConfigurationDataReset: false,
    ElementName: 'Intel(r) AMT Boot Configuration Settings',
    EnforceSecureBoot: false,
    FirmwareVerbosity: 0,
    ForcedProgressEvents: false,
    IDERBootDevice: 0,
    InstanceID: 'Intel(r) AMT:BootSettingData 0',
    LockKeyboard: false,
    LockPowerButton: false,
    LockResetButton: false,
    LockSleepButton: false,
    OptionsCleared: true,
    OwningEntity: 'Intel(r) AMT',
    PlatformErase: false,
    RPEEnabled: true,
    RSEPassword: '',
    ReflashBIOS: false,
    SecureBootControlEnabled: true,
    SecureErase: false,
    UEFIHTTPSBootEnabled: true,
    UEFILocalPBABootEnabled: true,
    UefiBootNumberOfParams: 0,
    UseIDER: false,
    UseSOL: false,
    UseSafeMode: false,
    UserPasswordBypass: false,
    WinREBootEnabled: true,
  };
}

/** Writable one-time options; a Put with other values leaves them as they were. */
const SETTING_WRITABLE = [
  'BIOSPause',
  'BIOSSetup',
  'BootMediaIndex',
  'ConfigurationDataReset',
  'EnforceSecureBoot',
  'FirmwareVerbosity',
  'ForcedProgressEvents',
  'IDERBootDevice',
  'LockKeyboard',
  'LockPowerButton',
  'LockResetButton',
  'LockSleepButton',
  'PlatformErase',
  'ReflashBIOS',
  'SecureErase',
  'UefiBootNumberOfParams',
  'UefiBootParametersArray',
  'UseIDER',
  'UseSOL',
  'UseSafeMode',
  'UserPasswordBypass',
];

export interface BootState {
  settings: SimProps;
  /** InstanceID of the CIM_BootSourceSetting set by ChangeBootOrder, if any. */
  source?: string;
  /** CIM_BootService.SetBootConfigRole: 1 = IsNext, 32768 = IsNotNext. */
  role: number;
}

export function bootState(d: SimDevice): BootState {
  return d.classState<BootState>('AMT_BootSettingData', () => ({ settings: settingDefaults(), role: 32768 }));
}

/** The one-time boot request for the boot that starts now; clears it (the firmware consumes it). */
export function takeBootRequest(d: SimDevice): BootDetails {
  const s = d.classState<BootState>('AMT_BootSettingData');
  if (!s || s.role !== 1) return { settings: {} };
  const defaults = settingDefaults();
  const settings: Record<string, string> = {};
  for (const k of SETTING_WRITABLE) {
    const v = s.settings[k];
    if (v !== undefined && String(v) !== String(defaults[k])) settings[k] = String(v);
  }
  const out: BootDetails = { source: s.source, settings };
  s.settings = defaults;
  s.source = undefined;
  s.role = 32768;
  return out;
}

/** Capabilities AMT 16 added (UEFI HTTPS, PBA and WinRE boot...); absent on older firmware. */
const AMT16_CAPABILITIES: SimProps = {
  AMTSecureBootControl: true,
  ForceUEFIHTTPSBoot: true,
  ForceUEFILocalPBABoot: true,
  ForceWinREBoot: true,
  PlatformErase: 0,
  UEFIWiFiCoExistenceAndProfileShare: false,
};

/** Make a device report (and act on) other boot capabilities, e.g. `{ IDER: false }`. */
export function setBootCapabilities(d: SimDevice, overrides: SimProps): void {
  Object.assign(d.classState<SimProps>('AMT_BootCapabilities', () => ({})), overrides);
}

function capabilities(d: SimDevice): SimProps {
  const major = Number(d.firmware.version.split('.')[0]);
  const all: SimProps = { ...baseCapabilities(), ...(major >= 16 ? AMT16_CAPABILITIES : {}), ...d.classState<SimProps>('AMT_BootCapabilities') };
  // AMT writes properties in byte order of their names.
  return Object.fromEntries(Object.entries(all).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** One capability as the device reports it now. */
export function bootCapabilityValue(d: SimDevice, name: string): SimProps[string] {
  return capabilities(d)[name];
}

export const bootCapabilities: ClassHandler = {
  className: 'AMT_BootCapabilities',
  instances: (d) => [capabilities(d)],
};

function baseCapabilities(): SimProps {
  return {
      BIOSPause: false,
      BIOSReflash: true,
      BIOSSecureBoot: true,
      BIOSSetup: true,
      ConfigurationDataReset: false,
      ElementName: 'Intel(r) AMT: Boot Capabilities',
      ForceCDorDVDBoot: true,
      ForceDiagnosticBoot: false,
      ForceHardDriveBoot: true,
      ForceHardDriveSafeModeBoot: false,
      ForcePXEBoot: true,
      ForcedProgressEvents: true,
      IDER: true,
      InstanceID: 'Intel(r) AMT:BootCapabilities 0',
      KeyboardLock: true,
      PowerButtonLock: false,
      ResetButtonLock: false,
      SOL: true,
      SecureErase: false,
      SleepButtonLock: false,
      UserPasswordBypass: true,
      VerbosityQuiet: false,
      VerbosityScreenBlank: false,
      VerbosityVerbose: false,
  };
}

export const bootSettingData: ClassHandler = {
  className: 'AMT_BootSettingData',
  instances: (d) => [d.classState<BootState>('AMT_BootSettingData')?.settings ?? settingDefaults()],
  put: (d, current, input) => {
    const s = bootState(d);
    s.settings = { ...applyWritable(current, input, SETTING_WRITABLE), OptionsCleared: false };
    return s.settings;
  },
};

export const bootConfigSetting: ClassHandler = {
  className: 'CIM_BootConfigSetting',
  instances: () => [{ ElementName: 'Intel(r) AMT: Boot Configuration', InstanceID: BOOT_CONFIG_ID }],
  methods: {
    /** Source: a CIM_BootSourceSetting reference; none clears the order. ReturnValue 2 for an unknown source. */
    ChangeBootOrder: ({ device, input }) => {
      const src = input.Source;
      if (src === undefined || src === '') {
        bootState(device).source = undefined;
        return { returnValue: 0 };
      }
      if (typeof src !== 'object' || src === null || !('selectors' in src)) throw faults.invalidParameter('Source must be a CIM_BootSourceSetting reference.');
      const id = (src as { selectors: Record<string, string> }).selectors.InstanceID;
      if (!BOOT_SOURCES.some(([i]) => i === id)) return { returnValue: 2 };
      bootState(device).source = id;
      return { returnValue: 0 };
    },
  },
};

export const bootSourceSetting: ClassHandler = {
  className: 'CIM_BootSourceSetting',
  keys: ['InstanceID'],
  instances: () =>
    BOOT_SOURCES.map(([id, structured]) => ({
      ElementName: 'Intel(r) AMT: Boot Source',
      FailThroughSupported: 2,
      InstanceID: id,
      StructuredBootString: structured,
    })),
};

export const bootService: ClassHandler = {
  className: 'CIM_BootService',
  commonNs: true,
  instances: () => [
    {
      CreationClassName: 'CIM_BootService',
      ElementName: 'Intel(r) AMT Boot Service',
      EnabledState: 2,
      Name: 'Intel(r) AMT Boot Service',
      OperationalStatus: 0,
      RequestedState: 12,
      SystemCreationClassName: 'CIM_ComputerSystem',
      SystemName: 'Intel(r) AMT',
    },
  ],
  methods: {
    /** Role 1 (IsNext) or 32768 (IsNotNext) for the one CIM_BootConfigSetting. */
    SetBootConfigRole: ({ device, input, peer }) => {
      const role = inputInt(input, 'Role');
      const cfg = input.BootConfigSetting;
      const id = typeof cfg === 'object' && cfg !== null && 'selectors' in cfg ? (cfg as { selectors: Record<string, string> }).selectors.InstanceID : undefined;
      if (id !== BOOT_CONFIG_ID) throw faults.invalidParameter('BootConfigSetting must reference the CIM_BootConfigSetting instance.');
      if (role !== 1 && role !== 32768) throw faults.invalidParameter('Role must be 1 or 32768.');
      bootState(device).role = role;
      if (role === 1) auditAction(device, 'boot-options-set', peer);
      return { returnValue: 0 };
    },
  },
};

export const bootClasses = [bootCapabilities, bootSettingData, bootConfigSetting, bootSourceSetting, bootService];
