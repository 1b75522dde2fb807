/**
 * tshark dissects our RMCP+ traffic (captured on loopback) without a malformed packet or an expert
 * warning, sees the session setup and signed, encrypted commands we mean to send, and frames the
 * handshake exactly as it frames ipmitool's against the same BMC.
 */
import { ChildProcess, execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { getChassisStatus, IpmiClient, ipmiPowerAction, readSensors } from '../../lib/ipmi';
import { SimBmc } from '../../packages/sim/src/ipmi';
import { IpmiSim, ipmitool, requirePeer, SIM_USERS } from '../helpers/ipmi-sim';

const run = promisify(execFile);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oob-ipmi-tshark-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Captures UDP to/from `port` on loopback while fn runs. */
async function capture(port: number, name: string, fn: () => Promise<void>): Promise<string> {
  requirePeer('tshark', 'tshark');
  const file = path.join(dir, `${name}.pcapng`);
  const ts: ChildProcess = spawn('tshark', ['-i', 'lo', '-f', `udp port ${port}`, '-w', file, '-q'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tshark did not start capturing: ${log}`)), 15_000);
    ts.stderr!.on('data', (d: Buffer) => {
      log += d.toString();
      if (/Capture started/.test(log)) {
        clearTimeout(timer);
        setTimeout(resolve, 300);
      }
    });
    ts.once('exit', (code) => reject(new Error(`tshark exited with ${code}: ${log}`)));
  });
  try {
    await fn();
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    ts.removeAllListeners('exit');
    const gone = new Promise((r) => ts.once('exit', r));
    ts.kill('SIGINT');
    await gone;
  }
  return file;
}

interface Frame {
  length: number;
  authType: number;
  payloadType: number;
  encrypted: boolean;
  authenticated: boolean;
  sessionId: number;
  sequence: number;
  fromBmc: boolean;
}

async function dissect(file: string, bmcPort: number): Promise<{ frames: Frame[]; verbose: string; expert: string }> {
  // Every port as RMCP: UDP looks up the lower port first, and a client's ephemeral port can be
  // another protocol's (34962-34964 is PROFINET RT). The capture holds only this BMC's traffic.
  const decode = ['-r', file, '-d', 'udp.port==1-65535,rmcp'];
  const fields = ['frame.len', 'udp.srcport', 'ipmi_session.authtype', 'ipmi_session.payloadtype', 'ipmi_session.payloadtype.enc', 'ipmi_session.payloadtype.auth', 'ipmi_session.id', 'ipmi_session.sequence'];
  const { stdout } = await run('tshark', [...decode, '-T', 'fields', '-E', 'separator=|', ...fields.flatMap((f) => ['-e', f])]);
  const frames = stdout
    .trim()
    .split('\n')
    .map((l) => l.split('|'))
    .map(([len, src, auth, ptype, enc, au, id, seq]) => ({
      length: Number(len),
      fromBmc: Number(src) === bmcPort,
      authType: Number(auth),
      payloadType: ptype ? Number(ptype) : -1,
      encrypted: enc === '1' || enc === 'True',
      authenticated: au === '1' || au === 'True',
      sessionId: Number(id),
      sequence: Number(seq),
    }));
  const verbose = (await run('tshark', [...decode, '-V'], { maxBuffer: 32 * 1024 * 1024 })).stdout;
  const expert = (await run('tshark', [...decode, '-q', '-z', 'expert'])).stdout;
  return { frames, verbose, expert };
}

function expectClean(d: { verbose: string; expert: string }): void {
  expect(d.verbose).not.toMatch(/Malformed|Exception occurred|\[Expert Info \((Error|Warning)/);
  expect(d.expert).not.toMatch(/Errors|Warnings/);
}

const SETUP = [0x10, 0x11, 0x12, 0x13, 0x14, 0x15];

function expectSessionShape(frames: Frame[]): void {
  // Get Channel Authentication Capabilities in an IPMI v1.5 wrapper, then the RMCP+ handshake
  expect(frames[0]).toMatchObject({ authType: 0, fromBmc: false });
  expect(frames[1]).toMatchObject({ authType: 0, fromBmc: true });
  expect(frames.slice(2, 8).map((f) => [f.authType, f.payloadType, f.encrypted, f.authenticated, f.sessionId])).toEqual(SETUP.map((t) => [6, t, false, false, 0]));
  const commands = frames.slice(8);
  expect(commands.length).toBeGreaterThan(4);
  for (const f of commands) expect(f).toMatchObject({ authType: 6, payloadType: 0, encrypted: true, authenticated: true });
  // Requests carry the BMC's session ID with sequence numbers 1, 2, 3...; answers the console's.
  const requests = commands.filter((f) => !f.fromBmc);
  const answers = commands.filter((f) => f.fromBmc);
  expect(new Set(requests.map((f) => f.sessionId)).size).toBe(1);
  expect(new Set(answers.map((f) => f.sessionId)).size).toBe(1);
  expect(requests[0].sessionId).not.toBe(answers[0].sessionId);
  expect(requests.map((f) => f.sequence)).toEqual(requests.map((_, i) => i + 1));
}

describe('tshark reads our RMCP+ packets', () => {
  it('cipher suite 17 against the simulated BMC, framed like ipmitool', async () => {
    const bmc = await SimBmc.start({ users: [{ name: 'admin', password: 'Shark-Pw1' }] });
    try {
      const ours = await capture(bmc.port, 'ours-17', async () => {
        const c = new IpmiClient({ host: bmc.host, port: bmc.port, username: 'admin', password: 'Shark-Pw1', cipherSuite: 17 });
        await getChassisStatus(c);
        await readSensors(c);
        await ipmiPowerAction(c, 'off');
        await c.close();
      });
      const d = await dissect(ours, bmc.port);
      expectClean(d);
      expectSessionShape(d.frames);
      expect(d.verbose).toMatch(/Authentication Type: RMCP\+ \(0x06\)/);
      expect(d.verbose).toMatch(/RAKP Message 4/);

      const theirs = await capture(bmc.port, 'ipmitool-17', async () => {
        await ipmitool(bmc.host, bmc.port, 'admin', 'Shark-Pw1', ['chassis', 'power', 'status'], { cipher: 17 });
      });
      const t = await dissect(theirs, bmc.port);
      expectClean(t);
      const setup = (fs: Frame[]) => fs.slice(0, 8).map((f) => [f.length, f.authType, f.payloadType]);
      expect(setup(d.frames)).toEqual(setup(t.frames));
    } finally {
      await bmc.stop();
    }
  });

  it('cipher suite 3 against OpenIPMI ipmi_sim', async () => {
    const sim = await IpmiSim.start();
    try {
      const u = SIM_USERS.admin;
      const file = await capture(sim.port, 'ours-3', async () => {
        const c = new IpmiClient({ host: sim.host, port: sim.port, username: u.name, password: u.password, cipherSuite: 3 });
        await getChassisStatus(c);
        await readSensors(c);
        await c.close();
      });
      const d = await dissect(file, sim.port);
      expectClean(d);
      expectSessionShape(d.frames);
    } finally {
      await sim.stop();
    }
  });
});
