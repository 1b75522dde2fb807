/**
 * Opening WS-Man clients to AMT devices, and sharing them: every node that talks to the same
 * device with the same credentials uses one client, so the Digest nonce stays warm and the
 * per-device queue really is per device.
 */
import { createHash } from 'node:crypto';
import { deviceLabel, type ManagedDevice } from '../device';
import { UnsupportedError } from '../errors';
import { WsmanClient } from '../wsman/client';
import type { TlsPinOptions } from '../wsman/transport';
import { amtSchemaFor } from './schema';

export interface AmtEndpoint {
  host: string;
  /** Default 16993 with TLS, 16992 without. */
  port?: number;
  tls?: boolean;
  username: string;
  password: string;
  /** Pinned SHA-256 fingerprint of the device's TLS certificate. */
  fingerprint?: string;
  trustOnFirstUse?: boolean;
  /** Old firmware's TLS (AMT 11 and older: TLS 1.0/1.1 without secure renegotiation), pin unchanged. */
  legacyTls?: boolean;
  onFingerprintTrusted?: (fingerprint: string) => void;
  timeoutMs?: number;
  /** Redirection (IDE-R) port; default 16995 with TLS, 16994 without. */
  redirectionPort?: number;
}

export function openAmt(e: AmtEndpoint): WsmanClient {
  const pin: TlsPinOptions = { fingerprint: e.fingerprint || undefined, trustOnFirstUse: e.trustOnFirstUse, onTrusted: e.onFingerprintTrusted, legacyTls: e.legacyTls };
  return new WsmanClient({
    host: e.host,
    port: e.port,
    tls: e.tls,
    username: e.username,
    password: e.password,
    pin,
    timeoutMs: e.timeoutMs,
    schemaFor: amtSchemaFor,
  });
}

interface PoolEntry {
  client: WsmanClient;
  users: number;
  idleTimer?: NodeJS.Timeout;
}

/** How long an unused shared client stays open, keeping its socket and nonce warm. */
const IDLE_CLOSE_MS = 60_000;

const pool = new Map<string, PoolEntry>();

function keyOf(e: AmtEndpoint): string {
  const secret = createHash('sha256').update(`${e.username}\0${e.password}`).digest('hex');
  return [e.host, e.port ?? '', e.tls ? 'tls' : 'plain', e.fingerprint ?? '', e.trustOnFirstUse ? 'tofu' : '', e.legacyTls ? 'legacy' : '', e.timeoutMs ?? '', secret].join('|');
}

/** A shared client for this endpoint; call the returned release() when done with it. */
export function acquireAmt(e: AmtEndpoint): { client: WsmanClient; release: () => void } {
  const key = keyOf(e);
  let entry = pool.get(key);
  if (!entry) {
    entry = { client: openAmt(e), users: 0 };
    pool.set(key, entry);
  }
  entry.users++;
  clearTimeout(entry.idleTimer);
  const held = entry;
  let released = false;
  return {
    client: held.client,
    release: () => {
      if (released) return;
      released = true;
      held.users--;
      if (held.users === 0 && pool.get(key) === held) {
        held.idleTimer = setTimeout(() => {
          if (held.users === 0 && pool.get(key) === held) {
            pool.delete(key);
            held.client.close();
          }
        }, IDLE_CLOSE_MS);
        held.idleTimer.unref();
      }
    },
  };
}

/** Close every shared client now (tests, shutdown). */
export function closeAllAmt(): void {
  for (const [key, entry] of pool) {
    clearTimeout(entry.idleTimer);
    entry.client.close();
    pool.delete(key);
  }
}

/** Run `fn` with the shared client of a device's AMT; an UnsupportedError when it has no AMT. */
export async function withAmt<T>(device: ManagedDevice, fn: (c: WsmanClient) => Promise<T>): Promise<T> {
  if (!device.amt) throw new UnsupportedError(`${deviceLabel(device)} has no AMT credentials`);
  const lease = acquireAmt(device.amt);
  try {
    return await fn(lease.client);
  } finally {
    lease.release();
  }
}
