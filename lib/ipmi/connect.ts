/**
 * Sharing IPMI clients: every node that talks to the same BMC with the same credentials uses one
 * client and one RMCP+ session, so a status read costs one round trip instead of a session setup.
 */
import { createHash } from 'node:crypto';
import { IpmiClient, IpmiEndpoint } from './client';

interface PoolEntry {
  client: IpmiClient;
  users: number;
  idleTimer?: NodeJS.Timeout;
}

/** How long an unused session stays open; below the 60 s most BMCs keep an idle session. */
const IDLE_CLOSE_MS = 20_000;

const pool = new Map<string, PoolEntry>();

function keyOf(e: IpmiEndpoint): string {
  const secret = createHash('sha256').update(`${e.username}\0${e.password}\0${e.kg ?? ''}`).digest('hex');
  return [e.host, e.port ?? '', e.cipherSuite ?? 'auto', e.privilege ?? 'admin', e.timeoutMs ?? '', e.retransmitMs ?? '', secret].join('|');
}

/** A shared client for this BMC; call the returned release() when done with it. */
export function acquireIpmi(e: IpmiEndpoint): { client: IpmiClient; release: () => void } {
  const key = keyOf(e);
  let entry = pool.get(key);
  if (!entry) {
    entry = { client: new IpmiClient(e), users: 0 };
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
            void held.client.close();
          }
        }, IDLE_CLOSE_MS);
        held.idleTimer.unref();
      }
    },
  };
}

/** Runs fn with a shared client for the endpoint. */
export async function withIpmi<T>(e: IpmiEndpoint, fn: (c: IpmiClient) => Promise<T>): Promise<T> {
  const lease = acquireIpmi(e);
  try {
    return await fn(lease.client);
  } finally {
    lease.release();
  }
}

/** Closes every shared session, telling each BMC (shutdown). */
export async function closeAllIpmi(): Promise<void> {
  const entries = [...pool.values()];
  pool.clear();
  await Promise.all(
    entries.map((entry) => {
      clearTimeout(entry.idleTimer);
      return entry.client.close();
    }),
  );
}
