import type { NodeAPI, NodeDef } from 'node-red';
import type { KeyObject } from 'node:crypto';
import { slug } from '../../lib/mqtt/topics';
import { parsePrivateKey, parsePublicKey, RemoteCentre } from '../../lib/remote';
import { inputError, translatedError } from '../shared/errors';
import { MqttBrokerConfigNode, remoteLinkOptions } from '../shared/remote-broker';
import { translator } from '../shared/texts';
import type { OobRemoteCentreNode } from '../shared/types';

interface CentreDef extends NodeDef {
  broker: string;
  base?: string;
  centre?: string;
  /** One site a line: "<site> <public key>". */
  sites?: string;
  /** Seconds to wait for a site's answer (or its next progress). */
  timeout?: string | number;
}

/** "site key" lines; a key may be PEM with its line breaks written as \n. */
function pinnedKeys(text: string | undefined): Map<string, KeyObject> {
  const out = new Map<string, KeyObject>();
  for (const line of (text ?? '').split(/\r?\n/)) {
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const [site, ...rest] = t.split(/\s+/);
    out.set(slug(site), parsePublicKey(rest.join(' ').replace(/\\n/g, '\n'), `public key of site "${site}"`));
  }
  return out;
}

export = function (RED: NodeAPI) {
  function OobRemoteCentre(this: OobRemoteCentreNode & { credentials?: { privateKey?: string } }, def: CentreDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const _ = translator(RED);
    node.timeoutMs = (Number(def.timeout) > 0 ? Number(def.timeout) : 30) * 1000;
    let centre: RemoteCentre | undefined;
    let failure: Error | undefined;

    // Connected on first use: a centre nobody uses opens no connection.
    node.requester = () => {
      if (failure) throw failure;
      if (centre) return centre;
      try {
        const link = remoteLinkOptions(RED.nodes.getNode(def.broker) as MqttBrokerConfigNode | null, 'centre');
        if (!link) throw inputError(_, 'oob-remote-centre.error.no-broker');
        if (!node.credentials?.privateKey) throw inputError(_, 'oob-remote-centre.error.no-key');
        const keys = pinnedKeys(def.sites);
        centre = new RemoteCentre({
          ...link,
          base: def.base || 'oobkit',
          centre: slug(def.centre || 'centre') || 'centre',
          centreKey: parsePrivateKey(node.credentials.privateKey, 'centre private key'),
          siteKeys: (s) => keys.get(s),
          timeoutMs: node.timeoutMs,
        });
        return centre;
      } catch (e) {
        failure = e as Error;
        node.error(translatedError(_, e));
        throw e;
      }
    };

    node.on('close', (_removed: boolean, done: () => void) => {
      if (!centre) return done();
      centre.close().then(done, done);
    });
  }

  RED.nodes.registerType('oob-remote-centre', OobRemoteCentre as never, {
    credentials: { privateKey: { type: 'password' } },
  });
};
