/**
 * The centre's side of acknowledging an alert at a site: a signed `acknowledgeAlert` command for
 * the device the alert is about, which the site's gateway hands to its alert-in nodes
 * (lib/alerts/acknowledge). The outcome is the site's: who acknowledged, when, and whether
 * someone had already.
 */
import type { AckRequest } from '../alerts/acknowledge';
import type { AckOutcome } from '../alerts/engine';
import { deviceLabel, ManagedDevice } from '../device';
import { InputError } from '../errors';

export async function acknowledgeRemote(device: ManagedDevice, r: AckRequest): Promise<AckOutcome> {
  const remote = device.remote;
  if (!remote) throw new InputError(`${deviceLabel(device)} is not a device at another site`);
  const args: Record<string, unknown> = { key: r.key, by: r.by };
  if (r.note) args.note = r.note;
  return (await remote.via.request(remote.site, remote.device, 'acknowledgeAlert', args, { timeoutMs: remote.timeoutMs })) as AckOutcome;
}
