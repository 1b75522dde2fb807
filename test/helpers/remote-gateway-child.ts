/**
 * A site's gateway responder in a process of its own, so a test can kill it mid-operation:
 *
 *   node --import tsx remote-gateway-child.ts      (configuration as JSON in GATEWAY_CONFIG)
 *
 * Prints one JSON line per event: {"event":"online"}, {"event":"accepted",...}, {"event":"refused",...}.
 */
import { ManagedDevice } from '../../lib/device';
import { allowList, parsePrivateKey, parsePublicKey, driverExecutor, RemoteResponder } from '../../lib/remote';

interface ChildConfig {
  url: string;
  username: string;
  password: string;
  /** The broker's certificate (TLS). */
  ca?: string;
  base: string;
  site: string;
  siteKey: string;
  centreKey: string;
  allow: string[];
  devices: Record<string, ManagedDevice>;
}

const config = JSON.parse(process.env.GATEWAY_CONFIG ?? '{}') as ChildConfig;
const responder = new RemoteResponder({
  url: config.url,
  client: { username: config.username, password: config.password, ca: config.ca, clientId: `gw-${config.site}-${process.pid}` },
  base: config.base,
  site: config.site,
  siteKey: parsePrivateKey(config.siteKey),
  centreKey: parsePublicKey(config.centreKey),
  allow: allowList(config.allow),
  devices: (slug) => config.devices[slug],
  execute: driverExecutor,
});
const say = (event: string, data: object = {}) => process.stdout.write(JSON.stringify({ event, ...data }) + '\n');
responder.on('online', () => say('online'));
responder.on('accepted', (a) => say('accepted', a));
responder.on('refused', (r) => say('refused', r));
responder.on('ran', (r) => say('ran', r));
process.on('SIGTERM', () => void responder.close().then(() => process.exit(0)));
