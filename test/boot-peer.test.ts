/**
 * Independent checks of the boot code: Intel's wsman-messages boot sequence (sent with curl's
 * own Digest) leaves a simulated PC in the same boot state as ours, and our El Torito reading of
 * xorriso-made images agrees with what xorriso itself reports about them.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AMT, CIM } from '@device-management-toolkit/wsman-messages';
import { armBoot, BootTarget, httpsBootParameters, readBootSupport } from '../lib/amt/boot';
import { acquireAmt, closeAllAmt } from '../lib/amt/connect';
import { ISO_SECTOR } from '../lib/amt/redirection/el-torito';
import { checkBootable, ImageMedium } from '../lib/amt/redirection/medium';
import { bootState, Fleet, SimDevice, startFleet, writeDemoIso } from '../packages/sim/src';
import { buildIso, IsoOptions, xorrisoBootReport } from './helpers/iso';

const run = promisify(execFile);
const USER = 'admin';
const PASSWORD = 'Peer-P@ss1';
let dir: string;
let fleet: Fleet;
let n = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'oob-boot-peer-'));
  fleet = await startFleet({ devices: 2, port: 0, user: USER, password: PASSWORD, firmware: { version: '16.1.25' }, seed: 'boot-peer' });
});
afterAll(async () => {
  closeAllAmt();
  await fleet.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function curl(d: SimDevice, xml: string): Promise<string> {
  const file = join(dir, `req-${n++}.xml`);
  writeFileSync(file, xml);
  const { stdout } = await run('curl', ['-s', '--digest', '-u', `${USER}:${PASSWORD}`, '-H', 'Content-Type: application/soap+xml;charset=UTF-8', '--data-binary', `@${file}`, '--max-time', '10', d.url]);
  if (!stdout.includes('ReturnValue>0<') && !stdout.includes('AMT_BootSettingData>')) throw new Error(`device refused: ${stdout}`);
  return stdout;
}

const URL = 'https://boot.example/images/rescue.efi';

/** The boot settings Intel's console writes for each target (BIOSSetup, UseIDER, IDERBootDevice, UEFI parameters). */
function intelSettings(target: BootTarget): Record<string, unknown> {
  const base: Record<string, unknown> = {
    ElementName: 'Intel(r) AMT Boot Configuration Settings',
    InstanceID: 'Intel(r) AMT:BootSettingData 0',
    BIOSPause: false,
    BIOSSetup: target === 'bios',
    BootMediaIndex: 0,
    ConfigurationDataReset: false,
    FirmwareVerbosity: 0,
    ForcedProgressEvents: false,
    IDERBootDevice: target === 'ide-r-cd' ? 1 : 0,
    LockKeyboard: false,
    LockPowerButton: false,
    LockResetButton: false,
    LockSleepButton: false,
    ReflashBIOS: false,
    UseIDER: target === 'ide-r-cd' || target === 'ide-r-floppy',
    UseSOL: false,
    UseSafeMode: false,
    UserPasswordBypass: false,
    SecureErase: false,
  };
  if (target === 'https') {
    const p = httpsBootParameters({ url: URL });
    Object.assign(base, { UefiBootParametersArray: p.array, UefiBootNumberOfParams: p.count });
  }
  return base;
}

const SOURCES: Partial<Record<BootTarget, string>> = { pxe: 'Intel(r) AMT: Force PXE Boot', 'ide-r-cd': 'Intel(r) AMT: Force CD/DVD Boot', https: 'Intel(r) AMT: Force OCR UEFI HTTPS Boot' };

const stateOf = (d: SimDevice) => ({ settings: Object.fromEntries(Object.entries(bootState(d).settings).map(([k, v]) => [k, String(v)])), source: bootState(d).source, role: bootState(d).role });

describe("Intel's wsman-messages and ours arm the same boot", () => {
  it.each(['pxe', 'ide-r-cd', 'ide-r-floppy', 'https', 'bios', 'normal'] as BootTarget[])('%s', async (target) => {
    const [ours, intels] = fleet.devices;
    const lease = acquireAmt({ host: '127.0.0.1', port: ours.port, username: USER, password: PASSWORD });
    try {
      const support = await readBootSupport(lease.client);
      await armBoot(lease.client, target, support.settings, target === 'https' ? { url: URL } : undefined);
    } finally {
      lease.release();
    }
    const amt = new AMT.Messages();
    const cim = new CIM.Messages();
    await curl(intels, cim.BootConfigSetting.ChangeBootOrder());
    await curl(intels, amt.BootSettingData.Put(intelSettings(target) as never));
    await curl(intels, cim.BootService.SetBootConfigRole('Intel(r) AMT: Boot Configuration 0', 1));
    const source = SOURCES[target];
    if (source) await curl(intels, cim.BootConfigSetting.ChangeBootOrder(source as never));
    expect(stateOf(ours)).toEqual(stateOf(intels));
    expect(stateOf(ours).role).toBe(1);
  });
});

describe('El Torito, as xorriso sees it', () => {
  it('the demo image written without tools', async () => {
    const iso = join(dir, 'demo.iso');
    writeDemoIso(iso, 'DEMO_RESCUE', 1024 * 1024);
    const report = xorrisoBootReport(iso);
    const m = await ImageMedium.open(iso, 'cd');
    try {
      const b = await checkBootable(m);
      expect(b.label).toBe('DEMO_RESCUE');
      expect([b.iso?.entry.loadRba, b.iso?.entry.sectorCount]).toEqual([report.loadRba, report.loadSectors]);
    } finally {
      await m.close();
    }
  });

  it.each([
    ['a small boot file', { bootBytes: 2048 }],
    ['a 24 kB boot file and a payload', { bootBytes: 24 * 1024, payloadBytes: 1024 * 1024 }],
    ['an odd-sized boot file', { bootBytes: 10_001, volumeId: 'ODD_SIZE' }],
  ])('%s', async (_what, opts) => {
    const o: IsoOptions = opts;
    const iso = buildIso(dir, { ...o, name: `x-${n++}.iso` });
    const report = xorrisoBootReport(iso);
    const m = await ImageMedium.open(iso, 'cd');
    try {
      const b = await checkBootable(m);
      expect(b.label).toBe(o.volumeId ?? 'RESCUE');
      expect(b.iso?.entry.loadRba).toBe(report.loadRba);
      expect(b.iso?.entry.sectorCount).toBe(report.loadSectors);
      expect(b.iso?.infoTable).toMatchObject({ pvdLba: 16, fileLba: report.loadRba, fileLength: o.bootBytes });
      expect(b.iso!.volumeBlocks * ISO_SECTOR).toBeLessThanOrEqual(m.size);
    } finally {
      await m.close();
    }
  });
});
