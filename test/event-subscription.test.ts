/**
 * Keeping a PC subscribed to its AMT events, against the simulated PC: a close while the first
 * Subscribe is still on its way (a redeploy right after a start) leaves nothing on the device.
 */
import { openAmt } from '../lib/amt/connect';
import { DeviceSubscription, SubscriptionRecord } from '../lib/amt/event-subscription';
import { Fleet, startFleet } from '../packages/sim/src';

const USER = 'admin';
const PASSWORD = 'P@ssw0rd-sub';
let fleet: Fleet;

beforeAll(async () => {
  // Each request takes a while, so a close can land while the Subscribe is in flight.
  fleet = await startFleet({ devices: 1, port: 0, user: USER, password: PASSWORD, latencyMs: 150 });
});

afterAll(async () => {
  await fleet.stop();
});

function subscription(records: Array<SubscriptionRecord | undefined>, errors: Error[]) {
  const d = fleet.devices[0];
  const client = openAmt({ host: '127.0.0.1', port: d.port, username: USER, password: PASSWORD });
  const sub = new DeviceSubscription({
    client,
    notifyBase: 'http://127.0.0.1:9',
    reg: { path: '/events/path-1', username: 'push-user', password: 'push-secret', device: { name: 'pc' } } as never,
    onRecord: (r) => records.push(r),
    onError: (e) => errors.push(e),
  });
  return { sub, client };
}

describe('AMT event subscription', () => {
  it('subscribes, and removes its subscription on close', async () => {
    const records: Array<SubscriptionRecord | undefined> = [];
    const errors: Error[] = [];
    const { sub, client } = subscription(records, errors);
    try {
      await sub.start();
      expect(errors).toEqual([]);
      expect(fleet.devices[0].subscriptions.size).toBe(1);
      await sub.stop();
      expect(fleet.devices[0].subscriptions.size).toBe(0);
      expect(records.at(-1)).toBeUndefined();
    } finally {
      client.close();
    }
  });

  it('a close during the first Subscribe waits for it and removes what it made', async () => {
    const records: Array<SubscriptionRecord | undefined> = [];
    const errors: Error[] = [];
    const { sub, client } = subscription(records, errors);
    try {
      void sub.start();
      await new Promise((r) => setTimeout(r, 20));
      await sub.stop();
      expect(errors).toEqual([]);
      expect(fleet.devices[0].subscriptions.size).toBe(0);
      expect(records.at(-1)).toBeUndefined();
    } finally {
      client.close();
    }
  });
});
