import type { Node } from 'node-red';
import type { ManagedDevice } from '../../lib/device';

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
