/**
 * Connection settings from Node-RED's own `mqtt-broker` config node: its URL, credentials (from
 * Node-RED's credential store), TLS settings (its tls-config node) and protocol version. We open
 * a connection of our own with them, because ours carries the gateway's last will and backs off
 * its reconnects; the broker node's own connection (if other MQTT nodes use it) is left alone.
 */
import { randomBytes } from 'node:crypto';
import type { Node } from 'node-red';
import type { IClientOptions } from 'mqtt';
import type { LinkOptions } from '../../lib/mqtt';
import { inputError } from '../shared/errors';
import type { Translate } from '../shared/texts';

export interface MqttBrokerNode extends Node {
  brokerurl?: string;
  options?: IClientOptions & Record<string, unknown>;
}

/** Options of the broker node we take over; anything about its own session we leave. */
const COPIED = ['username', 'password', 'protocolId', 'protocolVersion', 'keepalive', 'ca', 'cert', 'key', 'passphrase', 'rejectUnauthorized', 'servername', 'ALPNProtocols', 'wsOptions'] as const;

export function linkOptionsFrom(_: Translate, broker: MqttBrokerNode | null | undefined, site: string): Omit<LinkOptions, 'will'> {
  if (!broker) throw inputError(_, 'oob-ha.error.no-broker');
  if (!broker.brokerurl || !broker.options) throw inputError(_, 'oob-ha.error.no-broker-url', { broker: broker.name || broker.id });
  const client: Record<string, unknown> = {};
  for (const k of COPIED) if (broker.options[k] !== undefined) client[k] = broker.options[k];
  // Our own client id: a second connection with the broker node's id would push that one off.
  client.clientId = `oobkit-${randomBytes(4).toString("hex")}-${site}`.slice(0, 23);
  return { url: broker.brokerurl, client: client as IClientOptions };
}
