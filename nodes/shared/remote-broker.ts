/**
 * Connection settings for the remote-command links (gateway and centre) from Node-RED's own
 * `mqtt-broker` config node: URL, credentials (Node-RED's credential store) and TLS. Our links
 * speak MQTT 5 whatever the broker node says (response topics and correlation data need it).
 */
import { randomBytes } from 'node:crypto';
import type { Node } from 'node-red';
import type { IClientOptions } from 'mqtt';

export interface MqttBrokerConfigNode extends Node {
  brokerurl?: string;
  options?: IClientOptions & Record<string, unknown>;
}

const COPIED = ['username', 'password', 'keepalive', 'ca', 'cert', 'key', 'passphrase', 'rejectUnauthorized', 'servername', 'ALPNProtocols', 'wsOptions'] as const;

/** URL and client options, or undefined when the broker node is missing or has no URL. */
export function remoteLinkOptions(broker: MqttBrokerConfigNode | null | undefined, who: string): { url: string; client: IClientOptions } | undefined {
  if (!broker?.brokerurl || !broker.options) return undefined;
  const client: Record<string, unknown> = {};
  for (const k of COPIED) if (broker.options[k] !== undefined) client[k] = broker.options[k];
  client.clientId = `oobkit-${who}-${randomBytes(4).toString('hex')}`.slice(0, 64);
  return { url: broker.brokerurl, client: client as IClientOptions };
}
