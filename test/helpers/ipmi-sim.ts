/**
 * OpenIPMI's ipmi_sim as a real BMC for tests: a temporary lan.conf and command file, UDP on
 * 127.0.0.1 with a port the kernel picks (found through `ss`), a chassis-control script that keeps
 * power and boot state in files (so tests see what the BMC was told), sensors with SDR records,
 * and ipmi_sim's own command prompt on stdin to add SEL entries or move sensor values at run time.
 * Also runs FreeIPMI's and ipmitool's clients against it.
 */
import { ChildProcess, execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const SIM_USERS = {
  admin: { id: 2, name: 'admin', password: 'Adm1n-Secret', priv: 'admin' },
  operator: { id: 3, name: 'oper', password: 'Op3r-Secret', priv: 'operator' },
  viewer: { id: 4, name: 'viewer', password: 'V1ew-Secret', priv: 'user' },
} as const;

export const SIM_GUID = 'a123456789abcdefa123456789abcdef';

/**
 * ipmi_sim answers an Open Session that asks for "the highest privilege" with a maximum privilege
 * of 0, which FreeIPMI refuses; with this workaround FreeIPMI asks for its privilege by name.
 */
const OPENSESSPRIV = ['-W', 'opensesspriv'];

/** FreeIPMI's ipmipower over IPMI v2.0 (RMCP+; without -D it would speak IPMI v1.5). */
export async function ipmipower(host: string, port: number, user: string, password: string, cipher: number, args: string[]): Promise<string> {
  requirePeer('ipmipower', 'freeipmi-tools');
  const { stdout } = await run('ipmipower', ['-D', 'LAN_2_0', '-h', `${host}:${port}`, '-u', user, '-p', password, '-I', String(cipher), ...args], { timeout: 30_000 });
  return stdout;
}

/** ipmitool over lanplus (RMCP+); resolves what it printed (stdout and stderr). */
export async function ipmitool(host: string, port: number, user: string, password: string, args: string[], o: { cipher?: number; kg?: string } = {}): Promise<string> {
  requirePeer('ipmitool', 'ipmitool');
  const cipher = o.cipher === undefined ? [] : ['-C', String(o.cipher)];
  const kg = o.kg === undefined ? [] : ['-k', o.kg];
  const { stdout, stderr } = await run('ipmitool', ['-I', 'lanplus', '-H', host, '-p', String(port), '-U', user, '-P', password, ...cipher, ...kg, '-N', '2', '-R', '2', ...args], { timeout: 30_000 });
  return stdout + stderr;
}

export function requirePeer(cmd: string, pkg: string): void {
  const dirs = (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin', '/usr/bin']);
  const found = dirs.some((d) => {
    try {
      fs.accessSync(path.join(d, cmd), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  if (!found) throw new Error(`${cmd} is not installed: run "npm run ensure-peers" (Debian package ${pkg})`);
}

interface FullSensor {
  number: number;
  name: string;
  sensorType: number;
  entity: number;
  unit: number;
  m: number;
  rExp: number;
  /** Raw thresholds, UNR UC UNC LNR LC LNC; undefined = not readable. */
  thresholds: Array<number | undefined>;
  value: number;
}

/** The sensors of the simulated server. Values are raw; see the conversion factors. */
export const SIM_SENSORS: FullSensor[] = [
  { number: 1, name: 'CPU Temp', sensorType: 0x01, entity: 0x03, unit: 1, m: 1, rExp: 0, thresholds: [95, 85, 75, undefined, undefined, undefined], value: 45 },
  { number: 2, name: 'FAN1', sensorType: 0x04, entity: 0x1d, unit: 18, m: 50, rExp: 0, thresholds: [undefined, undefined, undefined, undefined, 10, 20], value: 60 },
  { number: 3, name: '12V', sensorType: 0x02, entity: 0x07, unit: 4, m: 6, rExp: -2, thresholds: [undefined, 220, undefined, undefined, 180, undefined], value: 200 },
];

const hex = (bytes: number[]) => bytes.map((b) => `0x${(b & 0xff).toString(16).padStart(2, '0')}`).join(' ');

/** A full sensor record (SDR type 01h) as ipmi_sim's main_sdr_add wants it. */
function fullSensorRecord(s: FullSensor): number[] {
  const name = [...Buffer.from(s.name, 'latin1')];
  // readable-threshold bits: 0 LNC, 1 LC, 2 LNR, 3 UNC, 4 UC, 5 UNR
  const [unr, uc, unc, lnr, lc, lnc] = s.thresholds;
  const present = [lnc, lc, lnr, unc, uc, unr].map((v, i) => (v === undefined ? 0 : 1 << i)).reduce((a, b) => a | b, 0);
  const body = [
    0x20, 0x00, s.number, s.entity, 0x01,
    0x7f, // initialization: scanning, events, thresholds, hysteresis, type, enabled
    0x48, // capabilities: auto re-arm, thresholds readable and settable
    s.sensorType, 0x01, // threshold sensor
    0x00, 0x00, 0x00, 0x00, // assertion and deassertion event masks
    present, present, // readable and settable threshold masks
    0x00, s.unit, 0x00, 0x00, // unsigned, base unit, no modifier, linear
    s.m & 0xff, (s.m >> 2) & 0xc0, 0x00, 0x00, 0x00,
    ((s.rExp & 0x0f) << 4) | 0x00,
    0x00, 0x00, 0x00, 0x00, 0xff, 0x00, // flags, nominal, normal max/min, sensor max/min
    unr ?? 0, uc ?? 0, unc ?? 0, lnr ?? 0, lc ?? 0, lnc ?? 0,
    0x00, 0x00, 0x00, 0x00, 0x00, // hysteresis, reserved, OEM
    0xc0 | name.length, ...name,
  ];
  return [0x00, 0x00, 0x51, 0x01, body.length, ...body];
}

/** A compact record (SDR type 02h) for the chassis intrusion sensor (sensor-specific, type 05h). */
function intrusionRecord(): number[] {
  const name = [...Buffer.from('Intrusion', 'latin1')];
  const body = [
    0x20, 0x00, 0x04, 0x17, 0x01, 0x7f, 0x40, 0x05, 0x6f,
    0x01, 0x00, 0x01, 0x00, 0x01, 0x00,
    0xc0, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xc0 | name.length, ...name,
  ];
  return [0x00, 0x00, 0x51, 0x02, body.length, ...body];
}

const CHASSIS_SCRIPT = `#!/bin/sh
# ipmi_sim chassis control: <device> get <parm>... | set <parm> <value>...
dir="$(dirname "$0")/chassis"
mkdir -p "$dir"
echo "$*" >> "$(dirname "$0")/chassis.log"
shift
op=$1; shift
case $op in
get)
  for p in "$@"; do
    v=$(cat "$dir/$p" 2>/dev/null)
    [ -z "$v" ] && { [ "$p" = boot ] && v=default || v=0; }
    echo "$p:$v"
  done ;;
set)
  while [ $# -gt 1 ]; do
    case $1 in
      shutdown) echo 0 > "$dir/power" ;;   # the OS shuts down at once
      reset) : ;;
      *) echo "$2" > "$dir/$1" ;;
    esac
    shift 2
  done ;;
*) exit 1 ;;
esac
`;

export interface IpmiSimOptions {
  /** Power state at start. */
  powerOn?: boolean;
  /** Extra ipmi_sim commands run at start. */
  commands?: string[];
  /** Run on this UDP port instead of one the kernel picks (for restarting on the same port). */
  port?: number;
}

export class IpmiSim {
  readonly dir: string;
  port = 0;
  readonly host = '127.0.0.1';
  private child?: ChildProcess;
  private output = '';

  private constructor(dir: string) {
    this.dir = dir;
  }

  static async start(o: IpmiSimOptions = {}): Promise<IpmiSim> {
    requirePeer('ipmi_sim', 'openipmi');
    requirePeer('ss', 'iproute2');
    const sim = new IpmiSim(fs.mkdtempSync(path.join(os.tmpdir(), 'oob-ipmisim-')));
    await sim.launch(o);
    return sim;
  }

  private async launch(o: IpmiSimOptions): Promise<void> {
    const d = this.dir;
    // A fresh state directory: a restarted BMC keeps nothing but its power state.
    fs.rmSync(path.join(d, 'state'), { recursive: true, force: true });
    fs.mkdirSync(path.join(d, 'state'), { recursive: true });
    fs.mkdirSync(path.join(d, 'chassis'), { recursive: true });
    fs.writeFileSync(path.join(d, 'chassis', 'power'), o.powerOn ? '1\n' : '0\n');
    fs.writeFileSync(path.join(d, 'chassis.sh'), CHASSIS_SCRIPT, { mode: 0o755 });
    const users = Object.values(SIM_USERS).map((u) => `user ${u.id} true "${u.name}" "${u.password}" ${u.priv} 10 md5`);
    fs.writeFileSync(
      path.join(d, 'lan.conf'),
      [
        `name "oobtest"`,
        'set_working_mc 0x20',
        'startlan 1',
        `  addr 127.0.0.1 ${o.port ?? 0}`,
        '  priv_limit admin',
        '  allowed_auths_callback none',
        '  allowed_auths_user md5',
        '  allowed_auths_operator md5',
        '  allowed_auths_admin md5',
        `  guid ${SIM_GUID}`,
        'endlan',
        ...users,
        `chassis_control "${path.join(d, 'chassis.sh')} 0x20"`,
        '',
      ].join('\n'),
    );
    const sensorCommands = SIM_SENSORS.flatMap((s) => [
      `main_sdr_add 0x20 ${hex(fullSensorRecord(s))}`,
      `sensor_add 0x20 0 ${s.number} ${s.sensorType} 0x01`,
      `sensor_set_threshold 0x20 0 ${s.number} settable ${s.thresholds.map((v) => (v === undefined ? '0' : '1')).join('')} ${s.thresholds.map((v) => v ?? 0).join(' ')}`,
      `sensor_set_value 0x20 0 ${s.number} ${s.value} 0`,
    ]);
    fs.writeFileSync(
      path.join(d, 'sim.emu'),
      [
        'mc_setbmc 0x20',
        'mc_add 0x20 0 has-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02',
        'sel_enable 0x20 1000 0x0a',
        ...sensorCommands,
        `main_sdr_add 0x20 ${hex(intrusionRecord())}`,
        'sensor_add 0x20 0 4 0x05 0x6f',
        ...(o.commands ?? []),
        'mc_enable 0x20',
        '',
      ].join('\n'),
    );
    const child = spawn('ipmi_sim', ['-c', path.join(d, 'lan.conf'), '-f', path.join(d, 'sim.emu'), '-s', path.join(d, 'state')], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout!.on('data', (b: Buffer) => (this.output = (this.output + b.toString()).slice(-20000)));
    child.stderr!.on('data', (b: Buffer) => (this.output = (this.output + b.toString()).slice(-20000)));
    const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`ipmi_sim exited with ${code}: ${this.output}`))));
    this.port = await Promise.race([this.findPort(child.pid!), exited]);
  }

  private async findPort(pid: number): Promise<number> {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const { stdout } = await run('ss', ['-ulpnH']);
      for (const line of stdout.split('\n')) {
        if (!line.includes(`pid=${pid},`)) continue;
        const m = /127\.0\.0\.1:(\d+)/.exec(line);
        if (m) return Number(m[1]);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`ipmi_sim (pid ${pid}) did not open its UDP port: ${this.output}`);
  }

  /** Runs an ipmi_sim command (sel_add, sensor_set_value...) on its prompt. */
  async command(line: string): Promise<void> {
    this.child!.stdin!.write(`${line}\n`);
    await new Promise((r) => setTimeout(r, 150));
  }

  /** Adds a system event record to the SEL. */
  addSelEvent(e: { sensorType: number; sensorNumber: number; eventDirType: number; data: [number, number, number] }): Promise<void> {
    return this.command(`sel_add 0x20 0x02 0 0 0 0 0x20 0x00 0x04 ${hex([e.sensorType, e.sensorNumber, e.eventDirType, ...e.data])}`);
  }

  /** Power, boot... as the chassis script last set it. */
  chassis(param: 'power' | 'boot' | 'identify'): string | undefined {
    try {
      return fs.readFileSync(path.join(this.dir, 'chassis', param), 'utf8').trim();
    } catch {
      return undefined;
    }
  }

  setPower(on: boolean): void {
    fs.writeFileSync(path.join(this.dir, 'chassis', 'power'), on ? '1\n' : '0\n');
  }

  /** Every "set" the BMC passed to the chassis script, oldest first. */
  chassisSets(): string[] {
    try {
      return fs
        .readFileSync(path.join(this.dir, 'chassis.log'), 'utf8')
        .split('\n')
        .filter((l) => / set /.test(l))
        .map((l) => l.replace(/^\S+ set /, ''));
    } catch {
      return [];
    }
  }

  /** Freezes the BMC (it stops answering) until resume(). */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  /** Stops ipmi_sim and starts it again on the same port, forgetting every session. */
  async restart(): Promise<void> {
    const port = this.port;
    await this.kill();
    const power = this.chassis('power') === '1';
    await this.launch({ port, powerOn: power });
  }

  private async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.removeAllListeners('exit');
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await gone;
  }

  async stop(): Promise<void> {
    await this.kill();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** ipmitool lanplus against this BMC as the admin user; resolves what it printed (stdout and stderr). */
  async ipmitool(args: string[], o: { cipher?: number; user?: keyof typeof SIM_USERS } = {}): Promise<string> {
    const u = SIM_USERS[o.user ?? 'admin'];
    return ipmitool(this.host, this.port, u.name, u.password, args, { cipher: o.cipher ?? 3 });
  }

  /** FreeIPMI's ipmipower against this BMC, over IPMI v2.0 (RMCP+). */
  async ipmipower(args: string[], o: { cipher?: number } = {}): Promise<string> {
    const u = SIM_USERS.admin;
    return ipmipower(this.host, this.port, u.name, u.password, o.cipher ?? 3, [...OPENSESSPRIV, ...args]);
  }

  /** A FreeIPMI tool (ipmi-sensors, ipmi-sel...) against this BMC, with a private SDR cache. */
  async freeipmi(tool: string, args: string[]): Promise<string> {
    requirePeer(tool, 'freeipmi-tools');
    const u = SIM_USERS.admin;
    fs.mkdirSync(path.join(this.dir, 'sdr-cache'), { recursive: true, mode: 0o700 });
    const { stdout } = await run(
      tool,
      ['-D', 'LAN_2_0', ...OPENSESSPRIV, '-h', `${this.host}:${this.port}`, '-u', u.name, '-p', u.password, '-l', 'admin', '-I', '3', '--sdr-cache-directory', path.join(this.dir, 'sdr-cache'), ...args],
      { timeout: 30_000 },
    );
    return stdout;
  }
}
