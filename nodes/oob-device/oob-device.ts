import type { NodeAPI, NodeDef } from 'node-red';
import { amtFromObject, checkHost, checkPort, ipmiFromObject, ManagedDevice } from '../../lib/device';
import { fetchFingerprint } from '../../lib/wsman/transport';
import { registerConsoleRoutes } from '../oob-console/console-routes';
import { translator } from '../shared/texts';
import { slug } from '../../lib/mqtt/topics';
import { inputError } from '../shared/errors';
import type { OobDeviceNode, OobRemoteCentreNode } from '../shared/types';
import { WAKE_CREDENTIALS, WakeCredentials, WakeDef, wakeSettingsFromConfig } from './wake-settings';

interface DeviceDef extends NodeDef, WakeDef {
  host: string;
  mac?: string;
  site?: string;
  /** Where the device stands: Home Assistant's suggested area. */
  area?: string;
  amtPort?: string | number;
  amtTls?: boolean;
  fingerprint?: string;
  tofu?: boolean;
  /** Speak the TLS of AMT 11 and older (1.0/1.1, no secure renegotiation); the pin still applies. */
  legacyTls?: boolean;
  /** Seconds to wait for an answer. */
  timeout?: string | number;
  /** Redirection (IDE-R) port, when not AMT's 16994/16995 (boot from media). */
  redirPort?: string | number;
  /** BMC address when it differs from the host (a dedicated management port). */
  ipmiHost?: string;
  ipmiPort?: string | number;
  /** 'auto', '3' or '17'. */
  ipmiCipher?: string;
  ipmiPrivilege?: string;
  /** An oob-remote-centre: the device is at another site, reached through that site's gateway. */
  via?: string;
  remoteSite?: string;
  remoteDevice?: string;
}

interface DeviceCredentials extends WakeCredentials {
  username?: string;
  password?: string;
  ipmiUsername?: string;
  ipmiPassword?: string;
  ipmiKg?: string;
}

const LEARNED_KEY = 'learnedFingerprint';

/** How the editor labels the fields, for error messages. */
const AMT_FIELDS: Record<string, string> = { port: 'AMT port', redirectionPort: 'IDE-R port', username: 'username', password: 'password' };
const IPMI_FIELDS: Record<string, string> = { cipherSuite: 'cipher suite', kg: 'BMC key (Kg)' };

export = function (RED: NodeAPI) {
  registerConsoleRoutes(RED); // the "Console" button of the dialog opens its page
  function OobDevice(this: OobDeviceNode & { credentials: DeviceCredentials }, def: DeviceDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const name = def.name || undefined;
    const _ = translator(RED);

    // A fingerprint recorded by trust-on-first-use survives restarts in the node's context
    // (persistent when a file context store is configured).
    const context = node.context();
    let learned = def.tofu ? (context.get(LEARNED_KEY) as string | undefined) : undefined;

    node.device = (): ManagedDevice => {
      if (def.via) return remoteDevice();
      const host = checkHost(def.host, `device "${name ?? node.id}" host`);
      const d: ManagedDevice = { host, name, mac: def.mac || undefined, site: def.site || undefined, area: def.area || undefined };
      const wake = wakeSettingsFromConfig(def, node.credentials, name ?? host);
      if (wake) d.wake = wake;
      const creds = node.credentials ?? {};
      const amt = amtFromObject(
        {
          username: creds.username || undefined,
          password: creds.password || undefined,
          port: def.amtPort,
          tls: def.amtTls === true,
          fingerprint: def.fingerprint?.trim() || learned,
          trustOnFirstUse: def.tofu === true,
          legacyTls: def.legacyTls === true,
          timeout: def.timeout,
          redirectionPort: def.redirPort,
        },
        host,
        (f) => `device "${name ?? host}" ${AMT_FIELDS[f] ?? f}`,
      );
      if (amt) {
        d.amt = {
          ...amt,
          onFingerprintTrusted: (fp) => {
            learned = fp;
            context.set(LEARNED_KEY, fp);
            node.warn(_('oob-device.warn.trusted-on-first-use', { host, fingerprint: fp }));
          },
        };
      }
      // IPMI: the server's BMC, when IPMI credentials are set
      if (creds.ipmiUsername) {
        d.ipmi = ipmiFromObject(
          {
            host: def.ipmiHost?.trim() || undefined,
            port: def.ipmiPort,
            username: creds.ipmiUsername,
            password: creds.ipmiPassword ?? '',
            kg: creds.ipmiKg || undefined,
            cipherSuite: def.ipmiCipher,
            privilege: def.ipmiPrivilege,
            timeout: def.timeout,
          },
          host,
          (f) => `device "${name ?? host}" IPMI ${IPMI_FIELDS[f] ?? f}`,
        );
      }
      return d;
    };

    /** Device D at site S, through the centre's broker: no host or credentials of its own here. */
    function remoteDevice(): ManagedDevice {
      const centre = RED.nodes.getNode(def.via!) as OobRemoteCentreNode | null;
      if (!centre) throw inputError(_, 'oob-device.error.no-centre', { name: name ?? node.id });
      const site = slug(def.remoteSite ?? '');
      const device = slug(def.remoteDevice || name || '');
      if (!site || !device) throw inputError(_, 'oob-device.error.no-remote-site', { name: name ?? node.id });
      return { name, host: `${device}@${site}`, site, remote: { site, device, via: centre.requester(), timeoutMs: centre.timeoutMs } };
    }
  }

  RED.nodes.registerType('oob-device', OobDevice as never, {
    credentials: {
      username: { type: 'text' },
      password: { type: 'password' },
      ...WAKE_CREDENTIALS,
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
