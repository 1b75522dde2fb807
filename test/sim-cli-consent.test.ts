/**
 * oob-sim as a person runs it beside a console: a PC in client control mode shows its user consent
 * code as a JSON line on oob-sim's output, and the code read from that line is accepted.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { readEnvelope, readInstance, readMethodOutput } from '../lib/wsman/envelope';
import { buildGet, buildInvoke } from '../lib/wsman/messages';
import type { SimDevice } from '../packages/sim/src';
import { wsmanCall } from './sim-helpers';

const ROOT = join(__dirname, '..');
const CLI = join(ROOT, 'packages', 'sim', 'src', 'cli.ts');

/** Every JSON line oob-sim prints, as it prints them. */
function output(p: ChildProcess): { next(test: (l: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> } {
  let buf = '';
  const seen: Record<string, unknown>[] = [];
  const waiting: Array<{ test: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }> = [];
  p.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (!line) continue;
      const l = JSON.parse(line) as Record<string, unknown>;
      seen.push(l);
      for (const w of [...waiting]) {
        if (!w.test(l)) continue;
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve(l);
      }
    }
  });
  return {
    next: (test) =>
      new Promise((resolve, reject) => {
        const found = seen.find(test);
        if (found) return resolve(found);
        const timer = setTimeout(() => reject(new Error('oob-sim printed no such line within 15 s')), 15_000);
        waiting.push({ test, resolve: (l) => (clearTimeout(timer), resolve(l)) });
      }),
  };
}

const remote = (port: number) => ({ port, tls: undefined }) as unknown as SimDevice;

it('a client-control-mode PC prints its consent code; that code gives consent', async () => {
  const p = spawn(process.execPath, ['--import', 'tsx', CLI, '--devices', '1', '--port', '0', '--user', 'ops', '--password', 'S3cret!', '--control-mode', 'client'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => p.on('exit', (code) => resolve(code)));
  try {
    const out = output(p);
    const dev = await out.next((l) => typeof l.port === 'number');
    const call = async (xml: string) => readEnvelope((await wsmanCall(remote(dev.port as number), xml, { user: 'ops', password: 'S3cret!' })).body.toString());
    expect(readMethodOutput(await call(buildInvoke('IPS_OptInService', 'StartOptIn', {}).xml), 'StartOptIn').ReturnValue).toBe('0');
    const line = await out.next((l) => l.event === 'consent' && l.state === 'displayed');
    expect(line).toMatchObject({ event: 'consent', device: 'pc-01', state: 'displayed', code: expect.stringMatching(/^\d{6}$/), expiresAt: expect.any(String) });
    expect(readMethodOutput(await call(buildInvoke('IPS_OptInService', 'SendOptInCode', { OptInCode: Number(line.code) }).xml), 'SendOptInCode').ReturnValue).toBe('0');
    expect(readInstance(await call(buildGet('IPS_OptInService').xml)).props.OptInState).toBe('3');
    expect(await out.next((l) => l.event === 'consent' && l.state === 'received')).toMatchObject({ device: 'pc-01' });
  } finally {
    p.kill('SIGTERM');
    expect(await exited).toBe(0);
  }
});

it('--boot-without-consent sets the firmware quirk on every PC; a bad value is a usage error', async () => {
  const { parseCli, UsageError } = await import('../packages/sim/src/cli');
  const o = parseCli(['--devices', '2', '--port', '0', '--control-mode', 'client', '--boot-without-consent', 'ignore']);
  if (o === 'help' || !o.configure) throw new Error('no device options');
  const base = { name: 'pc-01', uuid: '00000000-0000-4000-8000-000000000001', mac: '02:00:86:00:00:01', user: 'admin', password: 'x' };
  expect(o.configure(0, base)).toMatchObject({ controlMode: 'client', consent: { bootWithoutConsent: 'ignore' } });
  expect(() => parseCli(['--devices', '1', '--port', '0', '--boot-without-consent', 'maybe'])).toThrow(UsageError);
});
