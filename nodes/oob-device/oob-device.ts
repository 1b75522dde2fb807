import type { NodeAPI, NodeDef } from 'node-red';
import { checkCipherSuite, checkHost, checkPort, checkPrivilege, ManagedDevice } from '../../lib/device';
import { InputError } from '../../lib/errors';
import { fetchFingerprint, normalizeFingerprint } from '../../lib/wsman/transport';
import type { OobDeviceNode } from '../shared/types';
import { WAKE_CREDENTIALS, WakeCredentials, WakeDef, wakeSettingsFromConfig } from './wake-settings';

interface DeviceDef extends NodeDef, WakeDef {
  host: string;
  mac?: string;
  site?: string;
  amtPort?: string | number;
  amtTls?: boolean;
  fingerprint?: string;
  tofu?: boolean;
  /** Seconds to wait for an answer. */
  timeout?: string | number;
  /** Redirection (IDE-R) port, when not AMT's 16994/16995 (boot from media). */
  redirPort?: string | number;
  // --- IPMI (issue 8) ---
  /** BMC address when it differs from the host (a dedicated management port). */
  ipmiHost?: string;
  ipmiPort?: string | number;
  /** 'auto', '3' or '17'. */
  ipmiCipher?: string;
  ipmiPrivilege?: string;
}

interface DeviceCredentials extends WakeCredentials {
  username?: string;
  password?: string;
  // --- IPMI (issue 8) ---
  ipmiUsername?: string;
  ipmiPassword?: string;
  ipmiKg?: string;
}

const LEARNED_KEY = 'learnedFingerprint';

export = function (RED: NodeAPI) {
  function OobDevice(this: OobDeviceNode & { credentials: DeviceCredentials }, def: DeviceDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const name = def.name || undefined;

    // A fingerprint recorded by trust-on-first-use survives restarts in the node's context
    // (persistent when a file context store is configured).
    const context = node.context();
    let learned = def.tofu ? (context.get(LEARNED_KEY) as string | undefined) : undefined;

    node.device = (): ManagedDevice => {
      const host = checkHost(def.host, `device "${name ?? node.id}" host`);
      const d: ManagedDevice = { host, name, mac: def.mac || undefined, site: def.site || undefined };
      const wake = wakeSettingsFromConfig(def, node.credentials, name ?? host); // Wake-on-LAN (issue 3)
      if (wake) d.wake = wake;
      const { username, password } = node.credentials ?? {};
      if (username && password) {
        const tls = def.amtTls === true;
        let fingerprint = def.fingerprint?.trim() || learned;
        if (fingerprint) {
          try {
            fingerprint = normalizeFingerprint(fingerprint);
          } catch (e) {
            throw new InputError(`device "${name ?? host}": ${(e as Error).message}`);
          }
        }
        d.amt = {
          host,
          port: def.amtPort === undefined || def.amtPort === '' ? undefined : checkPort(def.amtPort, 'AMT port'),
          tls,
          username,
          password,
          fingerprint,
          trustOnFirstUse: def.tofu === true,
          timeoutMs: Number(def.timeout) > 0 ? Number(def.timeout) * 1000 : undefined,
          redirectionPort: def.redirPort === undefined || def.redirPort === '' ? undefined : checkPort(def.redirPort, 'IDE-R port'),
          onFingerprintTrusted: (fp) => {
            learned = fp;
            context.set(LEARNED_KEY, fp);
            node.warn(`trusted the TLS certificate of ${host} on first use: SHA-256 ${fp}; pin it in the device settings`);
          },
        };
      }
      // --- IPMI (issue 8): the server's BMC, when IPMI credentials are set ---
      const { ipmiUsername, ipmiPassword, ipmiKg } = node.credentials ?? {};
      if (ipmiUsername) {
        d.ipmi = {
          host: def.ipmiHost?.trim() ? checkHost(def.ipmiHost, `device "${name ?? host}" IPMI host`) : host,
          port: def.ipmiPort === undefined || def.ipmiPort === '' ? undefined : checkPort(def.ipmiPort, 'IPMI port'),
          username: ipmiUsername,
          password: ipmiPassword ?? '',
          kg: ipmiKg || undefined,
          cipherSuite: checkCipherSuite(def.ipmiCipher, 'IPMI cipher suite'),
          privilege: checkPrivilege(def.ipmiPrivilege, 'IPMI privilege'),
          timeoutMs: Number(def.timeout) > 0 ? Number(def.timeout) * 1000 : undefined,
        };
      }
      return d;
    };
  }

  RED.nodes.registerType('oob-device', OobDevice as never, {
    credentials: {
      username: { type: 'text' },
      password: { type: 'password' },
      ...WAKE_CREDENTIALS,
      // --- IPMI (issue 8) ---
      ipmiUsername: { type: 'text' },
      ipmiPassword: { type: 'password' },
      ipmiKg: { type: 'password' },
    },
  });

  // The editor's "read from device" button: the SHA-256 fingerprint the device presents now.
  RED.httpAdmin.post('/oobkit/fingerprint', RED.auth.needsPermission('oob-device.write'), async (req, res) => {
    try {
      const body = (req.body ?? {}) as { host?: unknown; port?: unknown };
      const host = checkHost(body.host);
      const port = body.port === undefined || body.port === '' ? 16993 : checkPort(body.port);
      res.json({ fingerprint: await fetchFingerprint(host, port, 5000) });
    } catch (e) {
      res.status(400).json({ error: (e as Error).message });
    }
  });
};
