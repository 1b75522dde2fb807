/**
 * How a device at another site is reached: the centre that carries requests there, the site, and
 * the device's name at that site. A ManagedDevice with `remote` is driven through its site's
 * gateway (lib/drivers/remote.ts) instead of over the local network.
 */
import type { RemoteAction } from './actions';
import type { RequestOptions, SiteAvailability } from './centre';

export interface RemoteRequester {
  request(site: string, device: string, action: RemoteAction, args?: Record<string, unknown>, o?: RequestOptions): Promise<unknown>;
  siteAvailability(site: string): SiteAvailability;
}

export interface RemoteEndpoint {
  /** The site's name (topic segment). */
  site: string;
  /** The device's name at that site (topic segment). */
  device: string;
  via: RemoteRequester;
  /** Wait for each answer (or progress) this long; the centre's default otherwise. */
  timeoutMs?: number;
}
