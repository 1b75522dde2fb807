import type { Node } from 'node-red';
import type { Policy } from '../../lib/alerts/policy';
import type { ManagedDevice } from '../../lib/device';
import type { RemoteRequester } from '../../lib/remote/endpoint';

/** The runtime side of an oob-device config node, as other nodes use it. */
export interface OobDeviceNode extends Node {
  /** The device with its credentials; throws an InputError when the config is incomplete. */
  device(): ManagedDevice;
}

/** A message as our nodes read it. */
export interface OobMessage {
  payload?: unknown;
  action?: unknown;
  device?: unknown;
  topic?: string;
  [key: string]: unknown;
}

/** The runtime side of an oob-alert-policy config node. */
export interface OobAlertPolicyNode extends Node {
  /** The checked policy; throws an InputError naming what is wrong. */
  policy(): Policy;
}

/** The runtime side of an oob-remote-centre config node: the centre's connection, opened on first use. */
export interface OobRemoteCentreNode extends Node {
  requester(): RemoteRequester;
  timeoutMs: number;
}
