/**
 * Serial-over-LAN through lib's SOL session against the simulated PC: the PC's text arrives (POST,
 * boot messages, the login prompt with its name), keys typed move through BIOS setup and change it,
 * power changes show at once, nothing while off; a wrong password, SOL disabled and a PC that drops
 * the session end with clear errors and leave nothing open.
 */
/* eslint-disable no-control-regex -- the PC's text is ANSI: the tests look for its escape sequences */
import { openSol, SolSession } from '../lib/amt/redirection/sol-session';
import { bootState, redirectionState, SimDevice, simScreen } from '../packages/sim/src';

const USER = 'admin';
const PASSWORD = 'Sol-P@ss1';
const devices: SimDevice[] = [];
const sessions: SolSession[] = [];

async function device(o: Partial<ConstructorParameters<typeof SimDevice>[0]> = {}): Promise<SimDevice> {
  const d = new SimDevice({ name: `sol-pc-${devices.length}`, uuid: `4c4c4544-0000-1000-8000-00000000000${devices.length}`, mac: `00:16:3e:00:00:0${devices.length}`, user: USER, password: PASSWORD, ...o });
  await d.listen(0);
  await d.listenRedirection(0);
  devices.push(d);
  return d;
}

afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.close()));
  await Promise.all(devices.splice(0).map((d) => d.close()));
});

/** Text from the PC, with a wait for something to appear in it. */
function collect(s: SolSession) {
  let text = '';
  let wake: (() => void) | undefined;
  s.on('data', (b: Buffer) => {
    text += b.toString('latin1');
    wake?.();
  });
  return {
    get text() {
      return text;
    },
    clear() {
      text = '';
    },
    async until(re: RegExp, ms = 5000): Promise<string> {
      const deadline = Date.now() + ms;
      while (!re.test(text)) {
        if (Date.now() > deadline) throw new Error(`no ${re} in SOL text: ${JSON.stringify(text.slice(-400))}`);
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 50);
        });
      }
      return text;
    },
  };
}

async function open(d: SimDevice, password = PASSWORD) {
  const s = await openSol({ host: '127.0.0.1', port: d.redirectionPort, username: USER, password, timeoutMs: 5000 }, { keepAliveMs: 100, heartbeatMs: 100 });
  sessions.push(s);
  return s;
}

/** Boots the PC into BIOS setup, as AMT's "boot to BIOS setup" does. */
function bootIntoSetup(d: SimDevice) {
  bootState(d).settings.BIOSSetup = true;
  bootState(d).role = 1;
  d.reset('test');
}

test('the login prompt with the host name arrives, and typed text echoes back', async () => {
  const d = await device();
  const s = await open(d);
  const t = collect(s);
  await t.until(/sol-pc-0 login:/);
  s.write('root\r');
  await t.until(/sol-pc-0 login: root\r\nsol-pc-0 login:/);
});

test('BIOS setup: arrow keys move the cursor, Enter changes a value, Save and Exit boots the OS', async () => {
  const d = await device();
  const s = await open(d);
  const t = collect(s);
  await t.until(/login:/);
  t.clear();
  bootIntoSetup(d);
  await t.until(/BIOS Setup Utility[\s\S]*\x1b\[7m> Boot Order/);
  t.clear();
  s.write('\x1b[B\x1b[B');
  await t.until(/\x1b\[7m> Virtualization\s+\[Enabled\]/);
  s.write('\r');
  await t.until(/\x1b\[7m> Virtualization\s+\[Disabled\]/);
  expect(simScreen(d).setupValue('Virtualization')).toBe('Disabled');
  t.clear();
  s.write('\x1b[B\x1b[B\x1b[B\r');
  await t.until(/sol-pc-0 login:/);
  expect(d.power.os).toBe('running');
});

test('nothing is sent while the PC is off; powering on shows POST and the login at once', async () => {
  const d = await device({ power: 'off' });
  const s = await open(d);
  const t = collect(s);
  await new Promise((r) => setTimeout(r, 300));
  expect(t.text).toBe('');
  d.powerOn('test');
  await t.until(/Memory test: 16384 MB OK[\s\S]*login:/);
  t.clear();
  d.powerOff('test');
  await new Promise((r) => setTimeout(r, 200));
  expect(t.text).toBe('');
});

test('a wrong password is refused clearly and leaves no session', async () => {
  const d = await device();
  await expect(open(d, 'wrong')).rejects.toMatchObject({ code: 'AUTH_FAILED' });
});

test('SOL disabled in AMT_RedirectionService is refused clearly', async () => {
  const d = await device();
  redirectionState(d).enabledState = 32769;
  await expect(open(d)).rejects.toMatchObject({ code: 'DEVICE_REFUSED', message: expect.stringMatching(/refused a SOL redirection session/) });
});

test('a PC that drops the connection ends the session with an error', async () => {
  const d = await device();
  const s = await open(d);
  await collect(s).until(/login:/);
  const closed = new Promise<Error | undefined>((r) => s.once('close', r));
  await d.close();
  expect(await closed).toMatchObject({ code: 'UNREACHABLE', message: expect.stringMatching(/ended the SOL session/) });
  expect(s.closed).toBe(true);
});

test('a clean close ends SOL and the redirection session', async () => {
  const d = await device();
  const s = await open(d);
  await collect(s).until(/login:/);
  await s.close();
  expect(s.closed).toBe(true);
});
