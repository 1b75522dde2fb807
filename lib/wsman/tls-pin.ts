/**
 * TLS to AMT, pinned. AMT certificates are self-signed, so a CA chain says nothing about them:
 * instead of the chain we check the SHA-256 fingerprint of the certificate against the pin (or
 * record it on first use when the user allows that), on the raw socket, before anyone writes to
 * it. Everything that opens TLS to a device (WS-Man, the redirection port) goes through here.
 */
import { constants } from 'node:crypto';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { ConnectionError, TimeoutError, TlsPinError, TlsUnpinnedError } from '../errors';

/** "ab:CD:..." or "abcd..." -> "AB:CD:..." (the form Node reports as fingerprint256). */
export function normalizeFingerprint(fp: string): string {
  const hex = fp.replace(/[^0-9a-fA-F]/g, '').toUpperCase();
  if (hex.length !== 64 || fp.replace(/[\s:0-9a-fA-F-]/g, '') !== '') {
    throw new Error(`"${fp}" is not a SHA-256 fingerprint (64 hex digits)`);
  }
  return hex.match(/../g)!.join(':');
}

export interface PinnedTarget {
  host: string;
  port: number;
  /** The pinned fingerprint, any form normalizeFingerprint takes; undefined when none is known yet. */
  fingerprint?: string;
  trustOnFirstUse?: boolean;
  /** Lowest TLS version to offer; AMT before 11 speaks only TLS 1.0/1.1. */
  minVersion?: tls.SecureVersion;
  /**
   * Allow what AMT 11 and older need and Node refuses by default: TLS 1.0/1.1, their ciphers
   * (OpenSSL security level 0) and servers without secure renegotiation (RFC 5746). An explicit
   * per-device choice; the certificate is pinned exactly as otherwise.
   */
  legacyTls?: boolean;
  /** Connect and handshake must be done within this; the socket is destroyed otherwise. */
  timeoutMs?: number;
  /** Told of the socket as soon as it exists (to destroy it on close while still handshaking). */
  onSocket?: (socket: tls.TLSSocket) => void;
}

/** What the TLS client offers: current defaults, or what old AMT firmware can speak. */
function protocolOptions(minVersion: tls.SecureVersion, legacy: boolean): tls.ConnectionOptions {
  if (!legacy) return { minVersion };
  return { minVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0', secureOptions: constants.SSL_OP_LEGACY_SERVER_CONNECT };
}

/** A TLS socket whose certificate has not been checked yet: only the functions below use it. */
function openUnverified(host: string, port: number, protocol: tls.ConnectionOptions, timeout?: number): tls.TLSSocket {
  return tls.connect({
    host,
    port,
    servername: net.isIP(host) ? undefined : host,
    // The chain check is replaced by the fingerprint check in connectPinned, before anything is
    // written; fetchFingerprint only reads the certificate and closes.
    rejectUnauthorized: false,
    ...protocol,
    timeout,
  });
}

/** OpenSSL's refusals that mean "this is old AMT firmware" (TLS 1.0/1.1 only, no RFC 5746). */
const LEGACY_REFUSALS = new Set([
  'ERR_SSL_UNSAFE_LEGACY_RENEGOTIATION_DISABLED',
  'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
  'ERR_SSL_UNSUPPORTED_PROTOCOL',
  'ERR_SSL_NO_PROTOCOLS_AVAILABLE',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

/** The connection error for a failed handshake, saying why when it is old firmware's TLS. */
export function handshakeError(e: NodeJS.ErrnoException, label: string, legacy: boolean): Error {
  if (!e.code) return e;
  if (!legacy && LEGACY_REFUSALS.has(e.code)) {
    const why =
      e.code === 'ERR_SSL_UNSAFE_LEGACY_RENEGOTIATION_DISABLED'
        ? 'its TLS lacks secure renegotiation (RFC 5746)'
        : 'it offers only TLS 1.0/1.1, which Node refuses by default';
    return new ConnectionError(
      `TLS to ${label} refused (${e.code}): ${why}, as Intel AMT 11 and older do. Turn on "legacy TLS" for this device (legacyTls) to connect; the certificate pin still applies`,
      e,
    );
  }
  return new ConnectionError(`cannot reach ${label} (${e.code})`, e);
}

/**
 * Connects and resolves with the socket once its certificate is the pinned one, or, with no pin
 * and trust-on-first-use, with the socket and the fingerprint it learned. Nothing has been
 * written to the socket when it resolves; on any mismatch it is destroyed.
 */
export function connectPinned(t: PinnedTarget): Promise<{ socket: tls.TLSSocket; fingerprint: string; learned: boolean }> {
  const label = `${t.host}:${t.port}`;
  const pinned = t.fingerprint ? normalizeFingerprint(t.fingerprint) : undefined;
  return new Promise((resolve, reject) => {
    const socket = openUnverified(t.host, t.port, protocolOptions(t.minVersion ?? 'TLSv1.2', t.legacyTls === true));
    t.onSocket?.(socket);
    const timer = t.timeoutMs ? setTimeout(() => fail(new TimeoutError(`${label} did not complete a TLS handshake within ${t.timeoutMs} ms`)), t.timeoutMs) : undefined;
    const fail = (e: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(e);
    };
    const onError = (e: NodeJS.ErrnoException) => fail(handshakeError(e, label, t.legacyTls === true));
    socket.once('error', onError);
    // Destroyed from outside (the caller closed) before the handshake ended.
    const onClose = () => fail(new ConnectionError(`${label} closed before the TLS handshake ended`));
    socket.once('close', onClose);
    socket.once('secureConnect', () => {
      socket.off('close', onClose);
      socket.off('error', onError);
      clearTimeout(timer);
      const actual = socket.getPeerCertificate()?.fingerprint256?.toUpperCase() ?? '';
      if (!actual) return fail(new ConnectionError(`${label} presented no TLS certificate`));
      if (pinned) {
        if (actual !== pinned) return fail(new TlsPinError(pinned, actual, label));
        return resolve({ socket, fingerprint: actual, learned: false });
      }
      if (!t.trustOnFirstUse) return fail(new TlsUnpinnedError(actual, label));
      resolve({ socket, fingerprint: actual, learned: true });
    });
  });
}

/**
 * The SHA-256 fingerprint a TLS server presents, read during the handshake; nothing is sent.
 * For showing a user what to pin, never for deciding trust by itself.
 */
export function fetchFingerprint(host: string, port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = openUnverified(host, port, protocolOptions('TLSv1', true));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new TimeoutError(`${host}:${port} did not complete a TLS handshake within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const fp = socket.getPeerCertificate()?.fingerprint256;
      socket.destroy();
      if (fp) resolve(fp.toUpperCase());
      else reject(new ConnectionError(`${host}:${port} presented no certificate`));
    });
    socket.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new ConnectionError(`cannot read the certificate of ${host}:${port}: ${e.code ?? e.message}`, e));
    });
  });
}
