/**
 * What a simulated PC is made of: the hardware its AMT firmware reports (chassis, board, BIOS,
 * processors, memory modules, disks, a wireless port on notebooks, KVM on vPro Enterprise).
 * A few models of the kind an MSP finds on desks, each with several memory modules and two
 * disks; serial numbers and the like are derived from the device's UUID, so every simulated PC
 * differs and the same fleet looks the same on every run. Values are shaped like the firmware
 * reports them (padded part numbers, SMBIOS codes, sizes in kB of 1000 bytes).
 */
import { createHash } from 'node:crypto';

export interface SimCpu {
  model: string;
  manufacturer: string;
  /** SMBIOS processor family: 198 Core i7, 205 Core i5. */
  family: number;
  stepping: string;
  maxMHz: number;
  currentMHz: number;
  busMHz: number;
}

export interface SimDimm {
  bank: string;
  sizeBytes: number;
  /** SMBIOS memory type: 26 DDR4, 34 DDR5. */
  type: number;
  /** SMBIOS form factor: 9 DIMM, 13 SODIMM. */
  formFactor: number;
  mhz: number;
  /** JEDEC manufacturer id as AMT shows it ("80AD" is SK hynix). */
  manufacturer: string;
  partNumber: string;
  serial: string;
}

export interface SimDisk {
  model: string;
  serial: string;
  /** Capacity in kB of 1000 bytes, as CIM_MediaAccessDevice.MaxMediaSize. */
  sizeKB: number;
}

export interface HardwareProfile {
  kind: 'desktop' | 'notebook';
  manufacturer: string;
  model: string;
  version: string;
  serial: string;
  board: { manufacturer: string; model: string; version: string; serial: string };
  bios: { vendor: string; version: string; releaseDate: string };
  cpus: SimCpu[];
  memory: SimDimm[];
  disks: SimDisk[];
  /** MAC of the wireless LAN port AMT also manages (notebooks). */
  wirelessMac?: string;
  /** KVM redirection (vPro Enterprise) present. */
  kvm: boolean;
}

type Template = (id: (prefix: string, length: number) => string) => Omit<HardwareProfile, 'wirelessMac'> & { wireless: boolean };

const GiB = 2 ** 30;

const TEMPLATES: Template[] = [
  (id) => ({
    kind: 'desktop',
    manufacturer: 'Dell Inc.',
    model: 'OptiPlex 7090',
    version: '',
    serial: id('', 7),
    board: { manufacturer: 'Dell Inc.', model: '0K4WF7', version: 'A00', serial: `/${id('', 7)}/CNFCW00${id('', 7)}/` },
    bios: { vendor: 'Dell Inc.', version: '1.14.0', releaseDate: '2022-11-08' },
    cpus: [{ model: '11th Gen Intel(R) Core(TM) i7-11700 @ 2.50GHz', manufacturer: 'Intel(R) Corporation', family: 198, stepping: '1', maxMHz: 4900, currentMHz: 2500, busMHz: 100 }],
    memory: ['DIMM1', 'DIMM2', 'DIMM3', 'DIMM4'].map((bank) => ({
      bank,
      sizeBytes: 8 * GiB,
      type: 26,
      formFactor: 9,
      mhz: 3200,
      manufacturer: '80AD',
      partNumber: 'HMA81GU6DJR8N-XN    ',
      serial: id('', 8),
    })),
    disks: [
      { model: 'PC SN730 NVMe WDC 512GB                 ', serial: `${id('', 12)}     `, sizeKB: 512110190 },
      { model: 'ST2000DM008-2FR102                      ', serial: `ZFL${id('', 5)}            `, sizeKB: 2000398934 },
    ],
    wireless: false,
    kvm: true,
  }),
  (id) => ({
    kind: 'notebook',
    manufacturer: 'HP',
    model: 'HP EliteBook 840 G8 Notebook PC',
    version: '',
    serial: `5CG${id('', 7)}`,
    board: { manufacturer: 'HP', model: '880D', version: 'KBC Version 34.23.00', serial: `PKBVX${id('', 9)}` },
    bios: { vendor: 'HP', version: 'T37 Ver. 01.10.00', releaseDate: '2022-05-31' },
    cpus: [{ model: '11th Gen Intel(R) Core(TM) i7-1185G7 @ 3.00GHz', manufacturer: 'Intel(R) Corporation', family: 198, stepping: '1', maxMHz: 4800, currentMHz: 3000, busMHz: 100 }],
    memory: ['Bottom-Slot 1(left)', 'Bottom-Slot 2(right)'].map((bank) => ({
      bank,
      sizeBytes: 16 * GiB,
      type: 26,
      formFactor: 13,
      mhz: 3200,
      manufacturer: '80AD',
      partNumber: 'HMAA2GS6CJR8N-XN    ',
      serial: id('', 8),
    })),
    disks: [
      { model: 'KXG60ZNV512G KIOXIA                     ', serial: `${id('', 12)}        `, sizeKB: 512110190 },
      { model: 'Samsung SSD 970 EVO Plus 1TB            ', serial: `S4EWNX0${id('', 7)}      `, sizeKB: 1000204886 },
    ],
    wireless: true,
    kvm: true,
  }),
  (id) => ({
    kind: 'desktop',
    manufacturer: 'Intel(R) Client Systems',
    model: 'NUC11TNHv5',
    version: 'M11904-403',
    serial: `BTTN${id('', 8)}`,
    board: { manufacturer: 'Intel Corporation', model: 'NUC11TNBv5', version: 'M11906-403', serial: `BTTN${id('', 8)}` },
    bios: { vendor: 'Intel Corp.', version: 'TNTGLV57.0068.2022.0707.1513', releaseDate: '2022-07-07' },
    cpus: [{ model: '11th Gen Intel(R) Core(TM) i5-1145G7 @ 2.60GHz', manufacturer: 'Intel(R) Corporation', family: 205, stepping: '1', maxMHz: 4400, currentMHz: 2600, busMHz: 100 }],
    memory: ['CHANNEL A SLOT 0', 'CHANNEL B SLOT 0'].map((bank) => ({
      bank,
      sizeBytes: 16 * GiB,
      type: 26,
      formFactor: 13,
      mhz: 3200,
      manufacturer: '859B',
      partNumber: 'CT16G4SFRA32A.M16FRS',
      serial: id('E', 7),
    })),
    disks: [
      { model: 'Samsung SSD 980 PRO 500GB               ', serial: `S5GYNX0${id('', 7)}      `, sizeKB: 500107862 },
      { model: 'CT1000MX500SSD1                         ', serial: `2150E${id('', 7)}        `, sizeKB: 1000204886 },
    ],
    wireless: true,
    kvm: true,
  }),
  (id) => ({
    kind: 'desktop',
    manufacturer: 'LENOVO',
    model: '11MQ0013US',
    version: 'ThinkCentre M90q Gen 2',
    serial: `MJ0${id('', 5)}`,
    board: { manufacturer: 'LENOVO', model: '3139', version: 'SDK0T76463 WIN', serial: `L1HF${id('', 9)}` },
    bios: { vendor: 'LENOVO', version: 'M3AKT4AA', releaseDate: '2022-03-24' },
    cpus: [{ model: 'Intel(R) Core(TM) i5-10500T CPU @ 2.30GHz', manufacturer: 'Intel(R) Corporation', family: 205, stepping: '3', maxMHz: 3800, currentMHz: 2300, busMHz: 100 }],
    memory: ['ChannelA-DIMM0', 'ChannelB-DIMM0'].map((bank) => ({
      bank,
      sizeBytes: 8 * GiB,
      type: 26,
      formFactor: 13,
      mhz: 2666,
      manufacturer: '80CE',
      partNumber: 'M471A1K43DB1-CWE    ',
      serial: id('', 8),
    })),
    disks: [
      { model: 'SAMSUNG MZVLB256HBHQ-000L7              ', serial: `S4ELNX1${id('', 7)}      `, sizeKB: 256060514 },
      { model: 'WDC WD10SPZX-08Z10                      ', serial: `WD-WX${id('', 7)}        `, sizeKB: 1000204886 },
    ],
    wireless: false,
    // vPro Essentials: no KVM.
    kvm: false,
  }),
];

/** The hardware of the simulated PC with this index and UUID (deterministic). */
export function hardwareFor(index: number, uuid: string): HardwareProfile {
  let n = 0;
  const id = (prefix: string, length: number): string => {
    const h = createHash('sha256').update(`${uuid}:${n++}`).digest();
    const alphabet = '0123456789ABCDEFGHJKLMNPQRSTUVWXYZ';
    let s = '';
    for (let i = 0; s.length < length; i++) s += alphabet[h[i % h.length] % alphabet.length];
    return prefix + s;
  };
  const t = TEMPLATES[((index % TEMPLATES.length) + TEMPLATES.length) % TEMPLATES.length](id);
  const { wireless, ...profile } = t;
  if (!wireless) return profile;
  const h = createHash('sha256').update(`wlan:${uuid}`).digest();
  // Locally administered, so it never collides with the wired 02:00:86:... of the fleet.
  const mac = ['06', '00', '86', ...[0, 1, 2].map((i) => h[i].toString(16).padStart(2, '0'))].join(':');
  return { ...profile, wirelessMac: mac };
}

export const HARDWARE_MODELS = TEMPLATES.length;
