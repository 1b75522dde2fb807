import type { ClassSchema } from '../../wsman/typing';

const bools = (names: string[]): ClassSchema => Object.fromEntries(names.map((n) => [n, 'bool' as const]));

export const BOOT_SCHEMAS: Record<string, ClassSchema> = {
  AMT_BootCapabilities: {
    ...bools([
      'AMTSecureBootControl', 'BIOSPause', 'BIOSReflash', 'BIOSSecureBoot', 'BIOSSetup', 'ConfigurationDataReset', 'ForceCDorDVDBoot',
      'ForceDiagnosticBoot', 'ForceHardDriveBoot', 'ForceHardDriveSafeModeBoot', 'ForcePXEBoot', 'ForceUEFIHTTPSBoot', 'ForceUEFILocalPBABoot',
      'ForceWinREBoot', 'ForcedProgressEvents', 'IDER', 'KeyboardLock', 'PowerButtonLock', 'ResetButtonLock', 'SOL', 'SecureErase',
      'SleepButtonLock', 'UEFIWiFiCoExistenceAndProfileShare', 'UserPasswordBypass', 'VerbosityQuiet', 'VerbosityScreenBlank', 'VerbosityVerbose',
    ]),
    PlatformErase: 'int',
  },
  AMT_BootSettingData: {
    ...bools([
      'BIOSPause', 'BIOSSetup', 'ConfigurationDataReset', 'EnforceSecureBoot', 'ForcedProgressEvents', 'LockKeyboard', 'LockPowerButton',
      'LockResetButton', 'LockSleepButton', 'OptionsCleared', 'PlatformErase', 'RPEEnabled', 'ReflashBIOS', 'SecureBootControlEnabled',
      'SecureErase', 'UEFIHTTPSBootEnabled', 'UEFILocalPBABootEnabled', 'UseIDER', 'UseSOL', 'UseSafeMode', 'UserPasswordBypass', 'WinREBootEnabled',
    ]),
    BIOSLastStatus: 'int[]',
    BootMediaIndex: 'int',
    BootguardStatus: 'int',
    FirmwareVerbosity: 'int',
    IDERBootDevice: 'int',
    UefiBootNumberOfParams: 'int',
  },
  AMT_RedirectionService: { EnabledState: 'int', RequestedState: 'int', ListenerEnabled: 'bool', AccessLog: 'string[]' },
  'CIM_BootConfigSetting.ChangeBootOrder': {},
  'CIM_BootService.SetBootConfigRole': { Job: 'ref' },
};
