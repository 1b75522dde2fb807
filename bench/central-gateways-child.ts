/**
 * Sites' gateways for the central benchmark, in a process of their own (the centre's RSS is
 * what the benchmark reports; one such process per core): one RemoteResponder per site, each
 * serving its PCs through their AMT drivers.
 *
 *   node central-gateways-child.js      (configuration as JSON on stdin; prints "ready" when all are online)
 */
import { fleetLimiter } from '../lib/wsman/client';
import { allowList, driverExecutor, parsePrivateKey, parsePublicKey, RemoteResponder } from '../lib/remote';
import type { ManagedDevice } from '../lib/device';

interface Config {
  url: string;
  base: string;
  centreKey: string;
  user: string;
  password: string;
  sites: Array<{ site: string; siteKey: string; ports: number[] }>;
  /** Each site keeps the WS-Man fleet limit (50 at once) of its own gateway, instead of all of them sharing one. */
  limitPerSite?: boolean;
}

async function main(): Promise<void> {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  const c = JSON.parse(text) as Config;
  const centreKey = parsePublicKey(c.centreKey);
  // One limit for all the sites in this process would be as if they all ran on one gateway.
  if (c.limitPerSite) fleetLimiter.setLimit(50 * c.sites.length);
  const responders = await Promise.all(
    c.sites.map((s) => {
      const devices = new Map<string, ManagedDevice>(
        s.ports.map((port, i) => [`pc-${i + 1}`, { name: `pc-${i + 1}`, host: '127.0.0.1', amt: { host: '127.0.0.1', port, tls: false, username: c.user, password: c.password, timeoutMs: 30_000 } }]),
      );
      const r = new RemoteResponder({
        url: c.url,
        client: { clientId: `bench-gw-${s.site}` },
        base: c.base,
        site: s.site,
        siteKey: parsePrivateKey(s.siteKey),
        centreKey,
        allow: allowList(['read', 'power']),
        devices: (slug) => devices.get(slug),
        execute: driverExecutor,
        maxRunning: 1000,
      });
      return new Promise<RemoteResponder>((resolve) => r.once('online', () => resolve(r)));
    }),
  );
  process.stdout.write('ready\n');
  process.on('SIGTERM', () => void Promise.all(responders.map((r) => r.close())).then(() => process.exit(0)));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
