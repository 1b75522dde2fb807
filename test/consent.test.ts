/**
 * User consent against simulated PCs: the policy as client and admin control mode report it, the
 * code read off the PC's "screen" (the device's 'consent' event) the way a person reads it out,
 * wrong codes, too many tries, a code that expires, and boots into BIOS setup and from IDE-R that
 * need consent: refused without it (or, on firmware with the quirk, answered with success and
 * booted elsewhere), done with it, and every failure leaving the boot settings as they were.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { armBoot, readBootSupport } from '../lib/amt/boot';
import { bootFromMedia, CONSENT_PHASE, MediaBootOptions } from '../lib/amt/boot-media';
import { acquireAmt, closeAllAmt } from '../lib/amt/connect';
import { checkBiosSetupReached, eventLogMark } from '../lib/amt/boot-check';
import { cancelOptIn, obtainConsent, readOptInPolicy, sendOptInCode, startOptIn } from '../lib/amt/opt-in';
import { requestPowerAction } from '../lib/amt/power';
import { ConsentError } from '../lib/errors';
import { bootState, ConsentEvent, consentState, Fleet, lastBoot, redirectionState, SimDevice, startFleet } from '../packages/sim/src';
import { buildIso } from './helpers/iso';

const USER = 'admin';
const PASSWORD = 'Consent-P@ss1';
let fleet: Fleet;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'oob-consent-'));
  buildIso(dir, { volumeId: 'CONSENT_CD', payloadBytes: 256 * 1024 });
  fleet = await startFleet({
    devices: 10,
    port: 0,
    user: USER,
    password: PASSWORD,
    power: 'off',
    timings: { bootTimeMs: 20 },
    configure: (i, o) => ({
      ...o,
      controlMode: i === 9 ? 'admin' : 'client',
      consent: { timeoutMs: i === 5 ? 300 : 20_000, ...(i === 6 || i === 7 ? { bootWithoutConsent: 'ignore' as const } : {}) },
    }),
  });
});

afterAll(async () => {
  closeAllAmt();
  await fleet.stop();
  rmSync(dir, { recursive: true, force: true });
});

const clientOf = (d: SimDevice) => acquireAmt({ host: '127.0.0.1', port: d.port, username: USER, password: PASSWORD }).client;

/** The next code the PC shows, as a person in front of it reads it. */
const nextCode = (d: SimDevice) =>
  new Promise<string>((resolve) => {
    const on = (e: ConsentEvent) => {
      if (e.state !== 'displayed' || !e.code) return;
      d.off('consent', on);
      resolve(e.code);
    };
    d.on('consent', on);
  });

const wrong = (code: string) => (code === '123456' ? '654321' : '123456');

function pristine(d: SimDevice) {
  return { settings: { ...bootState(d).settings }, role: bootState(d).role, source: bootState(d).source, redirection: { ...redirectionState(d) } };
}

function mediaBoot(d: SimDevice, o: Partial<MediaBootOptions>) {
  const lease = acquireAmt({ host: '127.0.0.1', port: d.port, username: USER, password: PASSWORD });
  const boot = bootFromMedia(lease.client, '127.0.0.1', {
    target: 'bios',
    imageDirectory: dir,
    image: 'rescue.iso',
    redirection: { host: '127.0.0.1', port: d.redirectionPort, username: USER, password: PASSWORD },
    heartbeatMs: 200,
    timeoutMs: 10_000,
    stopAfterBoot: true,
    ...o,
  });
  void boot.final.finally(() => lease.release());
  return boot;
}

describe('IPS_OptInService', () => {
  it('reads client control mode as "consent for everything", and a code shown, wrongly and rightly answered', async () => {
    const d = fleet.devices[0];
    const c = clientOf(d);
    const policy = await readOptInPolicy(c);
    expect(policy).toMatchObject({ required: 'all', requiredValue: 4294967295, state: 0, stateName: 'not started', controlMode: 'client', canModifyPolicy: false, codeTimeoutSeconds: 120 });
    const shown = nextCode(d);
    await startOptIn(c);
    const code = await shown;
    expect(code).toMatch(/^\d{6}$/);
    expect((await readOptInPolicy(c)).stateName).toBe('displayed');
    await expect(startOptIn(c)).rejects.toMatchObject({ code: 'CONSENT', reason: 'busy' });
    await expect(sendOptInCode(c, wrong(code))).rejects.toMatchObject({ reason: 'wrong-code' });
    await expect(sendOptInCode(c, 'abc')).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await sendOptInCode(c, `${code.slice(0, 3)} ${code.slice(3)}`);
    expect((await readOptInPolicy(c)).stateName).toBe('received');
    expect(await cancelOptIn(c)).toBe(true);
    expect(await cancelOptIn(c)).toBe(false);
    expect(consentState(d).state).toBe(0);
  });

  it('ends the request after three wrong codes: the code leaves the screen', async () => {
    const d = fleet.devices[1];
    const c = clientOf(d);
    const shown = nextCode(d);
    const cleared = new Promise<ConsentEvent>((resolve) => d.on('consent', (e: ConsentEvent) => e.state === 'cleared' && resolve(e)));
    await startOptIn(c);
    const code = await shown;
    await expect(sendOptInCode(c, wrong(code))).rejects.toMatchObject({ reason: 'wrong-code' });
    await expect(sendOptInCode(c, wrong(code))).rejects.toMatchObject({ reason: 'wrong-code' });
    await expect(sendOptInCode(c, wrong(code))).rejects.toMatchObject({ reason: 'too-many-tries' });
    expect(await cleared).toMatchObject({ reason: 'too-many-tries' });
    await expect(sendOptInCode(c, code)).rejects.toMatchObject({ reason: 'expired' });
  });

  it('a code given after it expired is refused as expired', async () => {
    const d = fleet.devices[5];
    const c = clientOf(d);
    const expired = new Promise<void>((resolve) => d.on('consent', (e: ConsentEvent) => e.reason === 'expired' && resolve()));
    const shown = nextCode(d);
    await startOptIn(c);
    const code = await shown;
    await expired;
    await expect(sendOptInCode(c, code)).rejects.toMatchObject({ reason: 'expired' });
  });

  it('admin control mode asks for consent only as OptInRequired says', async () => {
    const d = fleet.devices[9];
    const c = clientOf(d);
    const none = await obtainConsent(c, { scope: 'boot' });
    expect(none).toMatchObject({ required: false, policy: { required: 'none', controlMode: 'admin', canModifyPolicy: true } });
    await c.put('IPS_OptInService', { OptInRequired: 1 });
    expect((await obtainConsent(c, { scope: 'boot' })).required).toBe(false);
    await expect(obtainConsent(c, { scope: 'kvm' })).rejects.toMatchObject({ reason: 'refused' });
    await c.put('IPS_OptInService', { OptInRequired: 4294967295 });
    const shown = nextCode(d);
    const r = await obtainConsent(c, { scope: 'boot', askCode: () => shown });
    expect(r).toMatchObject({ required: true, started: true });
    expect(consentState(d).state).toBe(3);
    await cancelOptIn(c);
  });
});

describe('firmware without user consent', () => {
  it('no IPS_OptInService at all: nothing to ask, the boot goes on', async () => {
    const d = fleet.devices[8];
    d.classes.delete('IPS_OptInService');
    const r = await obtainConsent(clientOf(d), { scope: 'boot' });
    expect(r).toMatchObject({ required: false, started: false });
  });
});

describe('boots that need consent', () => {
  it('without a way to ask for the code, a BIOS-setup boot is refused before anything changes', async () => {
    const d = fleet.devices[2];
    const before = pristine(d);
    const shown = jest.fn();
    d.on('consent', shown);
    await expect(mediaBoot(d, { target: 'bios' }).outcome).rejects.toMatchObject({ code: 'CONSENT', reason: 'refused' });
    expect(shown).not.toHaveBeenCalled();
    expect(pristine(d)).toEqual(before);
  });

  it('firmware refuses the power action of a BIOS-setup boot armed without consent', async () => {
    const d = fleet.devices[2];
    const c = clientOf(d);
    const support = await readBootSupport(c);
    await armBoot(c, 'bios', support.settings);
    await expect(requestPowerAction(c, 'on')).rejects.toMatchObject({ code: 'DEVICE_REFUSED', returnValue: 0x0821 });
    expect(d.powerState).toBe(8);
  });

  it('the quirk: answered with success and booted from disk; our boot-from-media gets consent first and lands in BIOS setup', async () => {
    const d = fleet.devices[6];
    const c = clientOf(d);
    await armBoot(c, 'bios', (await readBootSupport(c)).settings);
    const firmware = new Promise<string>((resolve) => d.once('firmware', (r: { status: string }) => resolve(r.status)));
    const before = await eventLogMark(c);
    await requestPowerAction(c, 'on');
    expect(await firmware).toBe('booted from disk');
    // The 200 proved nothing; the BIOS's own progress report in the event log tells.
    await expect(checkBiosSetupReached(c, before, { timeoutMs: 5000, pollMs: 100 })).rejects.toThrow(/its BIOS reported starting the operating system instead: the one-time boot was ignored/);

    const phases: string[] = [];
    // Asked for the code once the PC shows it: read off the screen as it is then.
    const boot = mediaBoot(d, { target: 'bios', consent: { askCode: () => nextCodeOrNow(d) } });
    boot.on('phase', (p: string) => phases.push(p));
    const outcome = await boot.outcome;
    expect(outcome).toMatchObject({ target: 'bios', result: 'requested', power: 'reset', verified: true });
    expect(phases).toEqual(expect.arrayContaining([CONSENT_PHASE, 'user consent given', 'resetting', 'checking what the PC booted']));
    expect(phases.indexOf(CONSENT_PHASE)).toBeLessThan(phases.indexOf('arming'));
    await new Promise((r) => setTimeout(r, 100));
    expect(lastBoot(d)?.status).toBe('BIOS setup');
  });

  it('a PC that reports no BIOS progress: the boot is not called verified, and the output says why', async () => {
    const d = fleet.devices[8];
    const c = clientOf(d);
    const before = await eventLogMark(c);
    expect(await checkBiosSetupReached(c, before, { timeoutMs: 300, pollMs: 100 })).toEqual({ verified: false, note: expect.stringMatching(/reported no BIOS progress within 0.3 s: whether it entered BIOS setup is not known/) });
    // A stop ends the watch at once, long before its limit.
    const stop = new AbortController();
    const watching = checkBiosSetupReached(c, before, { timeoutMs: 600_000, pollMs: 60_000, signal: stop.signal });
    stop.abort();
    expect(await watching).toEqual({ verified: false, note: 'stopped before the PC reported where it booted' });
  });

  it('IDE-R from a client-control-mode PC: the code read off the screen, the CD boots, consent ends with the session', async () => {
    const d = fleet.devices[3];
    const codes = nextCode(d);
    const prompts: unknown[] = [];
    const boot = mediaBoot(d, { target: 'ide-r-cd', consent: { askCode: (p) => (prompts.push(p), codes) } });
    const outcome = await boot.outcome;
    expect(outcome).toMatchObject({ result: 'booted', label: 'CONSENT_CD' });
    expect(prompts).toEqual([expect.objectContaining({ attempt: 1, codeTimeoutSeconds: 120 })]);
    await boot.final;
    for (let i = 0; i < 50 && consentState(d).state !== 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(consentState(d).state).toBe(0);
  });

  it('a wrong code ends in a clear error, the code cancelled and the settings as they were', async () => {
    const d = fleet.devices[4];
    const before = pristine(d);
    const boot = mediaBoot(d, { target: 'ide-r-cd', consent: { askCode: async () => wrong(await nextCodeOrNow(d)) } });
    const err = (await boot.outcome.catch((e: unknown) => e)) as ConsentError;
    expect(err).toBeInstanceOf(ConsentError);
    expect(err.reason).toBe('wrong-code');
    expect(err.message).toMatch(/not the one on the PC's screen/);
    expect(consentState(d).state).toBe(0);
    expect(pristine(d)).toEqual(before);
  });

  it('no code in time: a clear error, the request cancelled, the settings as they were', async () => {
    const d = fleet.devices[7];
    const before = pristine(d);
    const cleared = new Promise<ConsentEvent>((resolve) => d.on('consent', (e: ConsentEvent) => e.state === 'cleared' && resolve(e)));
    const boot = mediaBoot(d, { target: 'bios', consent: { askCode: () => new Promise(() => undefined), timeoutMs: 200 } });
    await expect(boot.outcome).rejects.toMatchObject({ reason: 'no-code', message: expect.stringMatching(/no user consent code .* within 0.2 s/) });
    expect(await cleared).toMatchObject({ reason: 'cancelled' });
    expect(pristine(d)).toEqual(before);
  });
});

/** The code on the screen now, or the next one shown. */
function nextCodeOrNow(d: SimDevice): Promise<string> {
  const now = consentState(d).code;
  return now ? Promise.resolve(now) : nextCode(d);
}
