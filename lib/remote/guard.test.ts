import { generateKeyPairSync } from 'node:crypto';
import { allowList } from './actions';
import { Answer, Command, newNonce, openAnswer, signAnswer, signCommand } from './envelope';
import { CommandGuard } from './guard';
import { generateKeyPairText, parsePrivateKey, parsePublicKey, publicKeyOf } from './keys';
import { NonceCache } from './nonce-cache';

const centre = generateKeyPairText();
const site = generateKeyPairText();
const centreKey = parsePrivateKey(centre.privateKey);
const centrePub = parsePublicKey(centre.publicKey);
const siteKey = parsePrivateKey(site.privateKey);
const sitePub = parsePublicKey(site.publicKey);

let clock = 1_700_000_000_000;
const now = () => clock;

function command(over: Partial<Command> = {}): Command {
  return { v: 1, site: 'acme', device: 'pc-01', action: 'readPower', args: {}, ts: clock, nonce: newNonce(), ...over };
}

function guard(allow = ['read', 'power']) {
  return new CommandGuard({ site: 'acme', centreKey: centrePub, allow: allowList(allow), windowMs: 60_000, now });
}

describe('keys', () => {
  it('reads raw base64 and PEM, and says what is wrong with anything else', () => {
    expect(publicKeyOf(centreKey)).toBe(centre.publicKey);
    const pem = centrePub.export({ format: 'pem', type: 'spki' }).toString();
    expect(parsePublicKey(pem).export({ format: 'der', type: 'spki' })).toEqual(centrePub.export({ format: 'der', type: 'spki' }));
    const privPem = centreKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    expect(publicKeyOf(parsePrivateKey(privPem))).toBe(centre.publicKey);
    expect(() => parsePublicKey('')).toThrow('public key is missing');
    expect(() => parsePublicKey('not a key!')).toThrow('neither PEM nor base64');
    expect(() => parsePublicKey(Buffer.alloc(31).toString('base64'))).toThrow('32-byte Ed25519 key (got 31 bytes)');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'pem', type: 'spki' }).toString();
    expect(() => parsePublicKey(rsa)).toThrow('not an Ed25519 key (rsa)');
  });
});

describe('CommandGuard', () => {
  it('accepts a command signed by the pinned centre key for this site', () => {
    const c = command();
    const r = guard().check(signCommand(c, centreKey));
    expect(r).toEqual({ ok: true, command: c });
  });

  it('refuses an unsigned command, and one signed by another key (forged)', () => {
    const g = guard();
    const c = command();
    const unsigned = Buffer.from(JSON.stringify({ body: JSON.stringify(c) }));
    expect(g.check(unsigned)).toMatchObject({ ok: false, reason: 'unsigned', nonce: c.nonce });
    expect(g.check(Buffer.from(JSON.stringify(c)))).toMatchObject({ ok: false, reason: 'unsigned' });
    const forger = parsePrivateKey(generateKeyPairText().privateKey);
    expect(g.check(signCommand(c, forger))).toMatchObject({ ok: false, reason: 'bad-signature', message: expect.stringContaining('pinned key') });
    // The site's own key is not the centre's either.
    expect(g.check(signCommand(c, siteKey))).toMatchObject({ ok: false, reason: 'bad-signature' });
    // The refusals did not use up the nonce: the genuine command still runs.
    expect(g.check(signCommand(c, centreKey)).ok).toBe(true);
  });

  it('refuses a body changed after signing (powered off instead of read)', () => {
    const wire = JSON.parse(signCommand(command(), centreKey).toString());
    wire.body = wire.body.replace('"readPower"', '"changePower"').replace('"args":{}', '"args":{"action":"off"}');
    expect(guard().check(Buffer.from(JSON.stringify(wire)))).toMatchObject({ ok: false, reason: 'bad-signature' });
  });

  it('refuses a command replayed within the window, and a signed answer passed off as a command', () => {
    const g = guard();
    const wire = signCommand(command(), centreKey);
    expect(g.check(wire).ok).toBe(true);
    clock += 5_000;
    expect(g.check(wire)).toMatchObject({ ok: false, reason: 'replayed' });
    const a: Answer = { v: 1, site: 'acme', device: 'pc-01', action: 'readPower', nonce: newNonce(), ts: clock, type: 'result', result: {} };
    // Even when the centre's own key signs an answer-shaped message, the context line differs.
    expect(g.check(signAnswer({ ...a, args: {} } as Answer, centreKey))).toMatchObject({ ok: false, reason: 'bad-signature' });
  });

  it('refuses stale and future commands (clock window), with both clocks named in the reason', () => {
    const g = guard();
    expect(g.check(signCommand(command({ ts: clock - 61_000 }), centreKey))).toMatchObject({ ok: false, reason: 'stale', message: expect.stringContaining('check both clocks') });
    expect(g.check(signCommand(command({ ts: clock + 61_000 }), centreKey))).toMatchObject({ ok: false, reason: 'stale' });
    expect(g.check(signCommand(command({ ts: clock - 59_000 }), centreKey)).ok).toBe(true);
  });

  it('refuses a command for another site even when the centre signed it', () => {
    const r = guard().check(signCommand(command({ site: 'globex' }), centreKey));
    expect(r).toMatchObject({ ok: false, reason: 'wrong-site', message: 'command is for site "globex", this is "acme"' });
  });

  it('refuses actions of a class this site does not allow, and unknown actions', () => {
    const readOnly = guard(['read']);
    expect(readOnly.check(signCommand(command(), centreKey)).ok).toBe(true);
    expect(readOnly.check(signCommand(command({ action: 'changePower', args: { action: 'off' } }), centreKey))).toMatchObject({
      ok: false,
      reason: 'not-allowed',
      message: 'this site does not allow "power" actions (changePower)',
    });
    expect(guard(['read', 'power']).check(signCommand(command({ action: 'startBoot' }), centreKey))).toMatchObject({ reason: 'not-allowed' });
    expect(guard(['read', 'power', 'boot', 'isolate']).check(signCommand(command({ action: 'setIsolation' }), centreKey)).ok).toBe(true);
    expect(readOnly.check(signCommand(command({ action: 'format-disk' }), centreKey))).toMatchObject({ reason: 'unknown-action' });
    expect(readOnly.check(signCommand(command({ action: 'toString' }), centreKey))).toMatchObject({ reason: 'unknown-action' });
  });

  it('refuses oversized, non-JSON and incomplete commands without reading them', () => {
    const g = guard();
    expect(g.check(Buffer.alloc(17 * 1024, 0x20))).toMatchObject({ reason: 'too-large' });
    expect(g.check(Buffer.from('{"body":'))).toMatchObject({ reason: 'malformed' });
    expect(g.check(signCommand({ ...command(), nonce: '' }, centreKey))).toMatchObject({ reason: 'malformed' });
    expect(g.check(signCommand({ ...command(), v: 2 }, centreKey))).toMatchObject({ reason: 'malformed' });
  });
});

describe('answers', () => {
  const a: Answer = { v: 1, site: 'acme', device: 'pc-01', action: 'readPower', nonce: 'n1', ts: clock, type: 'result', result: { state: 'on' } };

  it('verify with the site key and not with anything else; a tampered result is refused', () => {
    expect(openAnswer(signAnswer(a, siteKey), sitePub)).toEqual({ ok: true, value: a });
    const other = parsePublicKey(generateKeyPairText().publicKey);
    expect(openAnswer(signAnswer(a, siteKey), other)).toMatchObject({ ok: false, reason: 'bad-signature' });
    const wire = JSON.parse(signAnswer(a, siteKey).toString());
    wire.body = wire.body.replace('"on"', '"off"');
    expect(openAnswer(Buffer.from(JSON.stringify(wire)), sitePub)).toMatchObject({ ok: false, reason: 'bad-signature' });
    // A command signed by the centre cannot pass as an answer even under the centre's key.
    expect(openAnswer(signCommand(command(), centreKey), centrePub)).toMatchObject({ ok: false, reason: 'bad-signature' });
  });
});

describe('NonceCache', () => {
  it('stays within its size and never lets a forgotten nonce through again', () => {
    const cache = new NonceCache(3);
    expect(cache.add('a', 100, 0)).toBe(true);
    expect(cache.add('b', 101, 0)).toBe(true);
    expect(cache.add('c', 102, 0)).toBe(true);
    expect(cache.add('d', 103, 0)).toBe(true);
    expect(cache.size).toBe(3);
    // 'a' was forgotten, but its time is now the floor.
    expect(cache.add('a', 100, 0)).toBe(false);
    expect(cache.add('e', 100, 0)).toBe(false);
    expect(cache.add('b', 101, 0)).toBe(false);
    expect(cache.add('f', 104, 0)).toBe(true);
  });

  it('drops entries that left the window', () => {
    const cache = new NonceCache(100);
    for (let i = 0; i < 50; i++) cache.add(`n${i}`, i, 0);
    cache.add('late', 1000, 990);
    expect(cache.size).toBe(1);
  });
});
