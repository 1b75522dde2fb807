#!/usr/bin/env node
/**
 * oob-sim: simulated Intel AMT PCs for demos, tests and benchmarks.
 *
 *   oob-sim --devices N --port P --user U --password W [--tls] [--latency MS] [--amt-version V]
 *           [--wol-port P] [--rmcp-port R [--rmcp-hosts FIRST]] [--pet HOST:PORT] [--scenarios S]
 *
 * Device i listens on P+i (P = 0: ephemeral ports). One JSON line per device on stdout, then one
 * per thing a PC's screen or firmware shows (`{"event":"consent","device",...,"code"}` when a PC
 * displays a user consent code, `{"event":"alarm",...}` when its alarm clock wakes it); runs until
 * SIGINT/SIGTERM, then closes every listener and exits 0.
 */
import { parseArgs } from 'node:util';
import type { AlarmEvent } from './alarm-clock';
import { PetTarget, playScenarios } from './alerts';
import type { ConsentEvent } from './consent';
import { FIRMWARE_PROFILES } from './firmware-profile';
import { describeDevice, Fleet, FleetOptions, startFleet } from './fleet';

/** What the command line asks for: the fleet, and alert scenarios to play on it. */
export interface CliOptions extends FleetOptions {
  pet?: PetTarget;
  scenarioEveryMs?: number;
}

export const USAGE = `Usage: oob-sim --devices N --port P [options]

Starts N simulated Intel AMT PCs (WS-Management over HTTP Digest) in one process.
Device i listens on port P+i; --port 0 picks free ports.

Options:
  --devices N        number of PCs (1..5000), required
  --port P           first port (0..65535), required
  --host H           address to listen on (default 127.0.0.1)
  --user U           Digest user (default admin)
  --password W       Digest password (default P@ssw0rd)
  --tls              serve HTTPS with a self-signed certificate per device
  --latency MS       delay before every answer (default 0)
  --auth-int         offer qop="auth-int, auth" like newer firmware
  --amt-version V    firmware generation: 11 (TLS 1.0/1.1 only), 12, 15 (default), 16 or 18
                     (16 and 18: TLS only, port 16992 closed; --tls implied)
  --nonce-ttl MS     Digest nonce lifetime (default 300000)
  --boot-time MS     time from power-on to a running OS (default 3000)
  --power on|off     initial power state (default on)
  --redir-port R     first redirection (IDE-R) port; device i listens on R+i (default 0: free ports)
  --wol-port P       listen for Wake-on-LAN magic packets on UDP port P (0: a free port); the
                     whole fleet shares it and each PC wakes on its own MAC
  --wol-host H       address of the WOL socket (default --host; 0.0.0.0 also receives broadcasts)
  --rmcp-port R      answer RMCP presence pings like AMT (also while off): device i on UDP R+i
                     (0: free ports)
  --rmcp-hosts A     with --rmcp-port R: device i answers on IPv4 address A+i, all on port R
                     (e.g. 127.1.0.1, for sweeping many loopback addresses)
  --control-mode M   admin (default) or client: client control mode refuses System Defense changes
                     and wants user consent for IDE-R and boots into BIOS setup (the code the PC
                     shows is printed as a JSON line: {"event":"consent",...,"code":"123456"})
  --boot-without-consent refuse|ignore
                     a boot into BIOS setup or IDE-R asked without consent: refused (default), or
                     answered with success and booted from disk, as some real firmware does
  --pet HOST:PORT    send the PCs' PET traps (SNMPv1, community public) to HOST:PORT
  --scenarios S      every S seconds a PC in turn plays an alert scenario (chassis opened, fan
                     failure, overheating, boot failure, OS watchdog, agent stopped): a PET trap
                     (with --pet), an event-log record and a WS-Eventing push to subscribers;
                     cleared S/2 seconds later
  -h, --help         show this text

Prints one JSON line per device: name, host, port, url, mac, uuid, realm, tls, fingerprint256,
redirectionPort, and wolHost/wolPort, rmcpHost/rmcpPort when asked for.`;

export class UsageError extends Error {}

function int(name: string, v: string | undefined, min: number, max: number, dflt?: number): number {
  if (v === undefined) {
    if (dflt === undefined) throw new UsageError(`--${name} is required`);
    return dflt;
  }
  if (!/^\d+$/.test(v)) throw new UsageError(`--${name} must be a whole number, got "${v}"`);
  const n = Number(v);
  if (n < min || n > max) throw new UsageError(`--${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

/** Parse argv (without node and the script); throws UsageError with a clear message. */
export function parseCli(argv: string[]): CliOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        devices: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        user: { type: 'string' },
        password: { type: 'string' },
        tls: { type: 'boolean' },
        latency: { type: 'string' },
        'auth-int': { type: 'boolean' },
        'nonce-ttl': { type: 'string' },
        'boot-time': { type: 'string' },
        power: { type: 'string' },
        'redir-port': { type: 'string' },
        'wol-port': { type: 'string' },
        'wol-host': { type: 'string' },
        'rmcp-port': { type: 'string' },
        'rmcp-hosts': { type: 'string' },
        'control-mode': { type: 'string' },
        'boot-without-consent': { type: 'string' },
        'amt-version': { type: 'string' },
        pet: { type: 'string' },
        scenarios: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const v = parsed.values;
  if (v.help) return 'help';
  const devices = int('devices', v.devices, 1, 5000);
  const port = int('port', v.port, 0, 65535);
  if (port > 0 && port + devices - 1 > 65535) throw new UsageError(`--port ${port} with ${devices} devices runs past port 65535`);
  const redirectionPort = int('redir-port', v['redir-port'], 0, 65535, 0);
  if (redirectionPort > 0 && redirectionPort + devices - 1 > 65535) throw new UsageError(`--redir-port ${redirectionPort} with ${devices} devices runs past port 65535`);
  if (v.power !== undefined && v.power !== 'on' && v.power !== 'off') throw new UsageError(`--power must be on or off, got "${v.power}"`);
  if (v.user !== undefined && (v.user === '' || /[:"]/.test(v.user))) throw new UsageError('--user must be non-empty and contain no ":" or \'"\'');
  if (v.password !== undefined && v.password === '') throw new UsageError('--password must not be empty');
  const udp = parseUdpOptions(v, devices);
  const mode = v['control-mode'];
  if (mode !== undefined && mode !== 'admin' && mode !== 'client') throw new UsageError(`--control-mode must be admin or client, got "${mode}"`);
  const quirk = v['boot-without-consent'];
  if (quirk !== undefined && quirk !== 'refuse' && quirk !== 'ignore') throw new UsageError(`--boot-without-consent must be refuse or ignore, got "${quirk}"`);
  let pet: PetTarget | undefined;
  if (v.pet !== undefined) {
    const m = /^(.+):(\d+)$/.exec(v.pet);
    if (!m) throw new UsageError(`--pet must be HOST:PORT, got "${v.pet}"`);
    pet = { host: m[1].replace(/^\[|\]$/g, ''), port: int('pet', m[2], 1, 65535) };
  }
  const amtVersion = v['amt-version'];
  if (amtVersion !== undefined && !(amtVersion.split('.')[0] in FIRMWARE_PROFILES)) {
    throw new UsageError(`--amt-version must be one of ${Object.keys(FIRMWARE_PROFILES).join(', ')}, got "${amtVersion}"`);
  }
  const scenarioEveryMs = v.scenarios === undefined ? undefined : int('scenarios', v.scenarios, 1, 86_400) * 1000;
  if (pet && !scenarioEveryMs) throw new UsageError('--pet needs --scenarios (the PCs send traps when they play a scenario)');
  return {
    ...udp,
    ...(mode || quirk
      ? {
          configure: (_i: number, o: Parameters<NonNullable<FleetOptions['configure']>>[1]) => ({
            ...o,
            ...(mode ? { controlMode: mode } : {}),
            ...(quirk ? { consent: { ...o.consent, bootWithoutConsent: quirk } } : {}),
          }),
        }
      : {}),
    pet,
    scenarioEveryMs,
    ...(amtVersion !== undefined ? { amtVersion } : {}),
    devices,
    port,
    host: v.host ?? '127.0.0.1',
    user: v.user ?? 'admin',
    password: v.password ?? 'P@ssw0rd',
    tls: v.tls ?? false,
    latencyMs: int('latency', v.latency, 0, 600_000, 0),
    authInt: v['auth-int'] ?? false,
    nonceTtlMs: int('nonce-ttl', v['nonce-ttl'], 1, 86_400_000, 300_000),
    timings: { bootTimeMs: int('boot-time', v['boot-time'], 0, 600_000, 3000) },
    power: (v.power as 'on' | 'off' | undefined) ?? 'on',
    redirectionPort,
  };
}

/** --wol-port, --wol-host, --rmcp-port, --rmcp-hosts. */
function parseUdpOptions(v: Record<string, string | boolean | undefined>, devices: number): Partial<FleetOptions> {
  const str = (k: string) => (typeof v[k] === 'string' ? (v[k] as string) : undefined);
  const out: Partial<FleetOptions> = {};
  if (str('wol-port') !== undefined) out.wolPort = int('wol-port', str('wol-port'), 0, 65535);
  if (str('wol-host') !== undefined) {
    if (out.wolPort === undefined) throw new UsageError('--wol-host needs --wol-port');
    out.wolHost = str('wol-host');
  }
  if (str('rmcp-port') !== undefined) {
    out.rmcpPort = int('rmcp-port', str('rmcp-port'), 0, 65535);
    if (out.rmcpPort > 0 && str('rmcp-hosts') === undefined && out.rmcpPort + devices - 1 > 65535) {
      throw new UsageError(`--rmcp-port ${out.rmcpPort} with ${devices} devices runs past port 65535`);
    }
  }
  const hosts = str('rmcp-hosts');
  if (hosts !== undefined) {
    if (!out.rmcpPort) throw new UsageError('--rmcp-hosts needs a non-zero --rmcp-port');
    if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(hosts) || hosts.split('.').some((x) => Number(x) > 255)) throw new UsageError(`--rmcp-hosts must be an IPv4 address, got "${hosts}"`);
    out.rmcpHosts = hosts;
  }
  return out;
}

export async function main(argv: string[]): Promise<number> {
  let opts: CliOptions | 'help';
  try {
    opts = parseCli(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`oob-sim: ${e.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (opts === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let fleet: Fleet;
  try {
    fleet = await startFleet(opts);
  } catch (e) {
    process.stderr.write(`oob-sim: cannot start: ${(e as Error).message}\n`);
    return 1;
  }
  // Handlers first: whoever reads our lines may signal us at once, and a signal that arrives
  // before a handler exists kills the process outright.
  const stopped = new Promise<number>((resolve) => {
    let stopping = false;
    const stopScenarios = opts.scenarioEveryMs ? playScenarios(fleet.devices, { pet: opts.pet }, opts.scenarioEveryMs) : () => undefined;
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      stopScenarios();
      fleet.stop().then(
        () => resolve(0),
        () => resolve(1),
      );
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  for (const d of fleet.devices) process.stdout.write(`${JSON.stringify(describeDevice(d, fleet))}\n`);
  // What the PC's screen shows: the user consent code, as a person in front of it would read it out.
  for (const d of fleet.devices) {
    d.on('consent', (e: ConsentEvent) => process.stdout.write(`${JSON.stringify({ event: 'consent', device: d.name, ...e })}\n`));
    d.on('alarm', (e: AlarmEvent) => process.stdout.write(`${JSON.stringify({ event: 'alarm', device: d.name, ...e })}\n`));
  }
  return stopped;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`oob-sim: ${(e as Error).stack ?? String(e)}\n`);
      process.exit(1);
    },
  );
}
