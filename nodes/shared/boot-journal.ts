import * as os from 'node:os';
import * as path from 'node:path';
import type { Node, NodeAPI } from 'node-red';
import { recoverInterruptedBoots, useBootJournal } from '../../lib/amt/boot-journal';
import type { ManagedDevice } from '../../lib/device';
import type { Translate } from './texts';

/**
 * The boot journal in Node-RED's user directory (lib/amt/boot-journal), and the recovery of these
 * devices at start: each PC put back after a boot this runtime did not finish is said once, as a
 * warning, and so is one that cannot be put back now (tried again at the next start).
 */
export function recoverBoots(RED: NodeAPI, node: Node, _: Translate, devices: Iterable<ManagedDevice>): void {
  const userDir = (RED.settings as unknown as { userDir?: string }).userDir ?? path.join(os.homedir(), '.node-red');
  useBootJournal(path.join(userDir, 'oobkit'));
  void recoverInterruptedBoots(devices).then((done) => {
    for (const r of done) {
      if (r.error) node.warn(_('oobkit.warn.boot-not-recovered', { device: r.device, reason: r.error }));
      else node.warn(_('oobkit.warn.boot-recovered', { device: r.device, what: r.restored.join(', ') }));
    }
  });
}
