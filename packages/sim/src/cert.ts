/**
 * Self-signed TLS certificates for simulated devices, built with node-forge like AMT's own
 * self-signed ones (RSA 2048, SHA-256). The key pair comes from node:crypto (fast, native);
 * forge builds the X.509 structure and the signature is made with node:crypto over forge's
 * TBSCertificate bytes, so a certificate costs about a millisecond.
 *
 * RSA key generation costs ~200 ms, so a fleet shares one key pair by default and gives each
 * device its own certificate (own serial and subject, hence its own SHA-256 fingerprint);
 * `keyPerDevice` generates one key pair per device instead.
 */
import { createHash, generateKeyPairSync, KeyObject, sign } from 'node:crypto';
import forge from 'node-forge';
import type { TlsMaterial } from './device';

export interface SimKeyPair {
  privateKey: KeyObject;
  privatePem: string;
  publicPem: string;
}

export function generateKeyPair(): SimKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKey,
    privatePem: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** SHA-256 of DER bytes as Node's fingerprint256 writes it: uppercase hex pairs joined by ':'. */
export function fingerprint256(der: Buffer): string {
  return (createHash('sha256').update(der).digest('hex').toUpperCase().match(/../g) ?? []).join(':');
}

/** A forge message digest that also keeps the raw bytes, so node:crypto can sign them. */
function recordingSha256(): forge.md.MessageDigest & { raw: string[] } {
  const md = forge.md.sha256.create() as forge.md.MessageDigest & { raw: string[] };
  md.raw = [];
  const update = md.update.bind(md);
  md.update = (msg: string, encoding?: 'raw' | 'utf8') => {
    md.raw.push(encoding === 'utf8' ? forge.util.encodeUtf8(msg) : msg);
    return update(msg, encoding);
  };
  return md;
}

export interface CertOptions {
  /** Common name, e.g. the device name. */
  commonName: string;
  /** Distinct per device (e.g. the device index + 1). */
  serial: number;
  keyPair: SimKeyPair;
  notBefore?: Date;
  years?: number;
}

export function makeCertificate(o: CertOptions): TlsMaterial {
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(o.keyPair.publicPem);
  cert.serialNumber = (0x10000000 + o.serial).toString(16);
  const from = o.notBefore ?? new Date(Date.UTC(2024, 0, 1));
  cert.validity.notBefore = from;
  cert.validity.notAfter = new Date(Date.UTC(from.getUTCFullYear() + (o.years ?? 20), 0, 1));
  const subject = [
    { name: 'commonName', value: o.commonName },
    { name: 'organizationName', value: 'Intel(R) Client Technologies' },
    { name: 'organizationalUnitName', value: 'Intel(R) AMT simulated by OOBKit' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [{ type: 2, value: o.commonName }, { type: 7, ip: '127.0.0.1' }] },
  ]);
  const md = recordingSha256();
  const signer = {
    sign: () => sign('sha256', Buffer.from(md.raw.join(''), 'binary'), o.keyPair.privateKey).toString('binary'),
  };
  cert.sign(signer as unknown as forge.pki.rsa.PrivateKey, md);
  const der = Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary');
  return { key: o.keyPair.privatePem, cert: forge.pki.certificateToPem(cert), fingerprint256: fingerprint256(der) };
}
