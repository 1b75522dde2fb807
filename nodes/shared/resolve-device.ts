import type { NodeAPI } from 'node-red';
import { deviceFromObject, ManagedDevice } from '../../lib/device';
import { inputError } from './errors';
import { translator } from './texts';
import type { OobDeviceNode, OobMessage } from './types';

/** The oob-device config node whose name is `name`, if exactly one exists. */
function deviceByName(RED: NodeAPI, name: string): OobDeviceNode | undefined {
  const ids: string[] = [];
  RED.nodes.eachNode((n: { id: string; type: string; name?: string }) => {
    if (n.type === 'oob-device' && n.name === name) ids.push(n.id);
  });
  if (ids.length > 1) throw inputError(translator(RED), 'oobkit.error.device-name-twice', { count: ids.length, name });
  return ids.length ? (RED.nodes.getNode(ids[0]) as OobDeviceNode | null) ?? undefined : undefined;
}

/**
 * The device a message is about: `msg.device` (a device name, or an inline object with host and
 * credentials) wins over the node's configured device.
 */
export function resolveDevice(RED: NodeAPI, configured: OobDeviceNode | undefined, msg: OobMessage): ManagedDevice {
  const given = msg.device;
  if (given !== undefined && given !== null && given !== '') {
    if (typeof given === 'string') {
      const node = deviceByName(RED, given);
      if (!node) throw inputError(translator(RED), 'oobkit.error.no-device-named', { name: given });
      return node.device();
    }
    return deviceFromObject(given);
  }
  if (!configured) throw inputError(translator(RED), 'oobkit.error.no-device');
  return configured.device();
}
