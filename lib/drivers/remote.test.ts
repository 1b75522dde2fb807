/**
 * The remote driver against the remote action table: every call it makes is an action a gateway
 * knows (anything else would be refused as unknown), and every action in the table is one a
 * driver call (or a remote wake, or an acknowledgement) makes, so the table has no row nobody sends.
 */
import { capabilitiesOf } from './types';
import { driverFor } from './index';
import { isRemoteAction, REMOTE_ACTIONS } from '../remote/actions';
import type { RemoteRequester } from '../remote/endpoint';
import { wakeRemote } from '../remote/wake';
import { acknowledgeRemote } from '../remote/acknowledge';
import { IPMI_ACTIONS } from '../ipmi/actions';

function recorder() {
  const calls: Array<{ site: string; device: string; action: string; args: Record<string, unknown> }> = [];
  const via: RemoteRequester = {
    request: async (site, device, action, args = {}, o) => {
      calls.push({ site, device, action, args });
      if (action === 'startBoot') {
        o?.onProgress?.({ boot: { type: 'phase', text: 'arming' } });
        o?.onProgress?.({ outcome: { target: 'pxe', result: 'requested', power: 'reset', bytesServed: 0, seconds: 0 } });
        return { bytesServed: 0, seconds: 0, end: 'none' };
      }
      return {};
    },
    siteAvailability: () => 'online',
  };
  return { calls, via };
}

describe('remote driver', () => {
  it('offers every capability, and each call is a known action addressed to its site and device', async () => {
    const { calls, via } = recorder();
    const pc = { name: 'pc', host: 'pc@s', remote: { site: 's', device: 'pc', via } };
    const d = driverFor(pc);
    expect(d.kind).toBe('remote');
    expect(capabilitiesOf(d).sort()).toEqual(['audit-log', 'bmc', 'consent', 'defense', 'identify', 'identity', 'inventory', 'isolation', 'sensors']);
    await d.readPower();
    await d.changePower('off');
    await d.requestPower('reset');
    await d.powerOn();
    await d.probePower();
    const phases: string[] = [];
    const job = await d.startBoot({ target: 'pxe' }, (e) => phases.push(e.type));
    await expect(job.outcome).resolves.toMatchObject({ target: 'pxe', result: 'requested' });
    await expect(job.final).resolves.toMatchObject({ end: 'none' });
    expect(phases).toEqual(['phase']);
    await job.stop();
    await job.submitConsentCode(123456);
    await d.readNewEvents(undefined, { initial: 'all' });
    await d.identity!();
    await d.readInventory!();
    await d.readAuditLog!({ mode: 'all' });
    await d.identify!(5);
    await d.sensors!();
    await d.readIsolation!();
    await d.setIsolation!(true, ['10.0.0.5']);
    for (const m of ['read', 'request', 'cancel'] as const) await d.consent![m]();
    await d.consent!.submit('123456');
    await d.defense!.status();
    await d.defense!.apply('isolate', { hosts: '10.0.0.5' });
    await d.defense!.release();
    await d.defense!.addWatchdog({ agent: 'x' });
    await d.defense!.removeWatchdog('x');
    for (const a of IPMI_ACTIONS) await d.bmc!.run(a, { device: d.device });
    await wakeRemote({ site: 's', device: 'pc', via }, { confirm: 'auto', timeoutMs: 1000 });
    await acknowledgeRemote(pc, { key: 'k', by: 'tech' });

    expect(calls.every((c) => c.site === 's' && c.device === 'pc')).toBe(true);
    expect(calls.filter((c) => !isRemoteAction(c.action)).map((c) => c.action)).toEqual([]);
    expect(Object.keys(REMOTE_ACTIONS).filter((a) => !calls.some((c) => c.action === a))).toEqual([]);
    // A BMC action's parameters go without the centre's idea of the device (the site knows its own).
    expect(calls.find((c) => c.action === 'bmc.status')!.args).toEqual({ params: { device: undefined } });
    expect(calls.find((c) => c.action === 'changePower')!.args).toEqual({ action: 'off' });
    expect(calls.find((c) => c.action === 'wake')!.args).toEqual({ confirm: 'auto', timeoutMs: 1000 });
    expect(calls.find((c) => c.action === 'acknowledgeAlert')!.args).toEqual({ key: 'k', by: 'tech' });
  });

  it('a boot that ends without an outcome fails its outcome; its end is an error as data (nobody need catch it)', async () => {
    const via: RemoteRequester = { request: async () => Promise.reject(new Error('site went away')), siteAvailability: () => 'offline' };
    const d = driverFor({ host: 'pc@s', remote: { site: 's', device: 'pc', via } });
    const job = await d.startBoot({ target: 'pxe' });
    await expect(job.outcome).rejects.toThrow('site went away');
    await expect(job.final).resolves.toMatchObject({ end: 'error', error: { message: 'site went away' } });
  });
});
