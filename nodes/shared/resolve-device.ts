import type { NodeAPI } from 'node-red';
import { deviceFromObject, ManagedDevice, withoutSecrets } from '../../lib/device';
import { inputError } from './errors';
import { centreNode, remoteDeviceAt } from './remote-device';
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

/** Inline devices as they came, with their secrets, for the messages whose copy was cleaned. */
const given = new WeakMap<object, { original: unknown; cleaned: unknown }>();

/** msg.device as it came, when the message still holds the cleaned copy we put there. */
function originalDevice(msg: OobMessage): unknown {
  const g = given.get(msg);
  return g && g.cleaned === msg.device ? g.original : msg.device;
}

/**
 * First thing on input (onInput calls it): an inline `msg.device` loses its secrets (passwords,
 * SecureOn, Kg) in the message itself, so neither the message sent on nor one caught with an
 * error carries them; resolveDevice still reads the original.
 */
export function hideDeviceSecrets(msg: object): void {
  const m = msg as OobMessage;
  if (typeof m.device !== 'object' || m.device === null || given.get(msg)?.cleaned === m.device) return;
  const cleaned = withoutSecrets(m.device);
  given.set(msg, { original: m.device, cleaned });
  m.device = cleaned as OobMessage['device'];
}

/**
 * The device a message is about: `msg.device` (a device name, or an inline object with host and
 * credentials) wins over the node's configured device.
 */
export function resolveDevice(RED: NodeAPI, configured: OobDeviceNode | undefined, msg: OobMessage): ManagedDevice {
  const original = originalDevice(msg);
  hideDeviceSecrets(msg);
  if (original !== undefined && original !== null && original !== '') {
    if (typeof original === 'string') {
      const node = deviceByName(RED, original);
      if (!node) throw inputError(translator(RED), 'oobkit.error.no-device-named', { name: original });
      return node.device();
    }
    const via = (original as { via?: unknown }).via;
    if (typeof via === 'string' && via) {
      // { via: <oob-remote-centre>, site, name }: a device at another site, through that centre.
      const centre = centreNode(RED, via);
      if (!centre) throw inputError(translator(RED), 'oobkit.error.no-centre-named', { name: via });
      const o = original as { site?: unknown; name?: unknown; device?: unknown };
      return remoteDeviceAt(translator(RED), centre, o.site, o.device ?? o.name);
    }
    return deviceFromObject(original);
  }
  if (!configured) throw inputError(translator(RED), 'oobkit.error.no-device');
  return configured.device();
}
