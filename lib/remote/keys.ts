/**
 * Ed25519 keys for signed remote commands, as people paste them into Node-RED's credential store:
 * PEM (SPKI public, PKCS#8 private) or the raw 32-byte key in base64. node:crypto only.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, KeyObject } from 'node:crypto';
import { InputError } from '../errors';

// DER prefixes that wrap a raw 32-byte Ed25519 key (RFC 8410): SubjectPublicKeyInfo and PKCS#8.
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export interface KeyPairText {
  /** Raw 32-byte public key, base64 (what the other side pins). */
  publicKey: string;
  /** Raw 32-byte private key (seed), base64 (what goes into the credential store). */
  privateKey: string;
}

/** A new Ed25519 key pair as raw base64 texts. */
export function generateKeyPairText(): KeyPairText {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return { publicKey: rawPublicKey(publicKey), privateKey: rawPrivateKey(privateKey) };
}

/** The raw 32-byte public key of a key object, base64. */
export function rawPublicKey(key: KeyObject): string {
  const der = key.export({ format: 'der', type: 'spki' });
  return der.subarray(der.length - 32).toString('base64');
}

function rawPrivateKey(key: KeyObject): string {
  const der = key.export({ format: 'der', type: 'pkcs8' });
  return der.subarray(der.length - 32).toString('base64');
}

function rawBytes(text: string, what: string): Buffer {
  const t = text.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(t)) throw new InputError(`${what} is neither PEM nor base64`);
  const b = Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (b.length !== 32) throw new InputError(`${what} must be a 32-byte Ed25519 key (got ${b.length} bytes)`);
  return b;
}

/** An Ed25519 public key from PEM or raw base64; an InputError for anything else. */
export function parsePublicKey(text: unknown, what = 'public key'): KeyObject {
  if (typeof text !== 'string' || !text.trim()) throw new InputError(`${what} is missing`);
  let key: KeyObject;
  try {
    key = text.includes('-----BEGIN')
      ? createPublicKey(text)
      : createPublicKey({ key: Buffer.concat([SPKI_PREFIX, rawBytes(text, what)]), format: 'der', type: 'spki' });
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${what} cannot be read as an Ed25519 key`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new InputError(`${what} is not an Ed25519 key (${key.asymmetricKeyType})`);
  return key;
}

/** An Ed25519 private key from PEM or raw base64 (the 32-byte seed). */
export function parsePrivateKey(text: unknown, what = 'private key'): KeyObject {
  if (typeof text !== 'string' || !text.trim()) throw new InputError(`${what} is missing`);
  let key: KeyObject;
  try {
    key = text.includes('-----BEGIN')
      ? createPrivateKey(text)
      : createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, rawBytes(text, what)]), format: 'der', type: 'pkcs8' });
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`${what} cannot be read as an Ed25519 key`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new InputError(`${what} is not an Ed25519 key (${key.asymmetricKeyType})`);
  return key;
}

/** The public key that belongs to a private key, raw base64 (shown in the editor to copy to the other side). */
export function publicKeyOf(privateKey: KeyObject): string {
  return rawPublicKey(createPublicKey(privateKey));
}
