/**
 * IPMI benchmark: power-status reads per second with OOBKit's client, which keeps one
 * RMCP+ session open, against FreeIPMI's `ipmipower --stat`, which a script would run once per
 * read (a process, a session handshake, the read, the close), over the same number of calls in
 * the same run, alternating short rounds. Both use cipher suite 17 against the same simulated BMC
 * running in its own process.
 */
import { ChildProcess, execFile, spawn } from 'node:child_process';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { promisify } from 'node:util';
import { IpmiClient } from '../lib/ipmi/client';
import { ipmiPowerStatus } from '../lib/ipmi/power';
import type { Bench } from './types';
import { round } from './wsman';

const run = promisify(execFile);
const USER = 'admin';
const PASSWORD = 'Bench-P@ss1';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function startBmcProcess(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [path.join(__dirname, 'ipmi-bmc-process.js')], { env: { ...process.env, BMC_USER: USER, BMC_PASSWORD: PASSWORD }, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).once('line', (l) => resolve(Number(l)));
    child.once('exit', (code) => reject(new Error(`simulated BMC exited with ${code}`)));
  });
  return { child, port };
}

export const ipmiPowerStatusReads: Bench = {
  name: 'ipmi-power-status',
  description: 'power-status reads/s over IPMI (cipher suite 17) with session reuse vs `ipmipower --stat` per read, same number of calls, same simulated BMC',
  async run() {
    const rounds = 5;
    const calls = 30;
    const bmc = await startBmcProcess();
    const client = new IpmiClient({ host: '127.0.0.1', port: bmc.port, username: USER, password: PASSWORD, cipherSuite: 17 });
    const peer = () => run('ipmipower', ['-D', 'LAN_2_0', '-I', '17', '-h', `127.0.0.1:${bmc.port}`, '-u', USER, '-p', PASSWORD, '--stat']);
    try {
      // Cold: our first read pays the session handshake, as every ipmipower run does.
      let t0 = process.hrtime.bigint();
      await ipmiPowerStatus(client);
      const coldMs = Number(process.hrtime.bigint() - t0) / 1e6;
      const { stdout } = await peer();
      if (!/: on/.test(stdout)) throw new Error(`ipmipower did not read the power state: ${stdout}`);
      const ours: number[] = [];
      const theirs: number[] = [];
      const ratios: number[] = [];
      for (let r = 0; r < rounds; r++) {
        t0 = process.hrtime.bigint();
        for (let i = 0; i < calls; i++) if ((await ipmiPowerStatus(client)).state !== 'on') throw new Error('read a wrong state');
        const o = calls / (Number(process.hrtime.bigint() - t0) / 1e9);
        t0 = process.hrtime.bigint();
        for (let i = 0; i < calls; i++) await peer();
        const p = calls / (Number(process.hrtime.bigint() - t0) / 1e9);
        ours.push(o);
        theirs.push(p);
        ratios.push(o / p);
      }
      return {
        rounds,
        callsPerRound: calls,
        cipherSuite: 17,
        oursPerSecond: round(median(ours)),
        ipmipowerPerSecond: round(median(theirs)),
        ratio: round(median(ratios), 1),
        ratioRange: [round(Math.min(...ratios), 1), round(Math.max(...ratios), 1)],
        oursColdFirstReadMs: round(coldMs, 2),
        goal: '>= 10 (one round trip per read instead of a process and a handshake)',
      };
    } finally {
      client.destroy();
      bmc.child.kill('SIGTERM');
    }
  },
};
