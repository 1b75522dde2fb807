/**
 * MeshCommander's System Defense and Agent Presence editor (commander.htm from the `meshcentral`
 * package: its own functions, cut from the page unmodified) over MeshCentral's own WS-Man stack
 * (amt-wsman-comm.js, amt-wsman.js, amt.js) against oob-sim: it creates filters and policies with
 * every key a placeholder, links a policy to the wired port, switches it to another (delete the
 * link, create the new one), reads the statistics, unlinks it; the simulated PC's traffic follows
 * each step. OOBKit's own apply and release then work over MeshCommander's policy.
 */
import { openAmt } from '../../lib/amt/connect';
import { applyTemplate, readAgentPresence, readStatus, releaseTemplate } from '../../lib/amt/defense';
import { Fleet, SimDevice, startFleet } from '../../packages/sim/src';
import { CommanderPage, loadCommanderPage, meshCommanderAmtStack } from '../helpers/meshcommander';

const USER = 'admin';
const PASS = 'Mesh-P@ss1';
let fleet: Fleet;
let sim: SimDevice;
let page: CommanderPage;

beforeAll(async () => {
  fleet = await startFleet({ devices: 1, port: 0, user: USER, password: PASS, seed: 'meshcommander-defense' });
  sim = fleet.devices[0];
  page = loadCommanderPage(meshCommanderAmtStack({ host: '127.0.0.1', port: sim.port, user: USER, pass: PASS }));
});

afterAll(() => fleet.stop());

const SSH_FROM_TEST_NET = { direction: 'in' as const, remote: '203.0.113.9', localPort: 22 };
const SSH_FROM_ELSEWHERE = { direction: 'in' as const, remote: '198.51.100.9', localPort: 22 };
const WEB_OUT = { direction: 'out' as const, remote: '198.51.100.80', remotePort: 80 };

/** The page's own dialog handler, with its fields filled in as a user would. */
async function dialog(fields: CommanderPage['fields'], run: () => void): Promise<void> {
  Object.assign(page.fields, fields);
  run();
  await page.settle();
  expect(page.messages).toEqual([]);
}

const policies = (): Array<{ InstanceID: string; PolicyName: string }> => page.g.xxSystemDefense.AMT_SystemDefensePolicy.responses;
const linkedOnWired = (): string | undefined => page.g.xxSystemDefenceLinkedPolicy[0]?.PolicyName;

describe("MeshCommander's System Defense editor against oob-sim", () => {
  it('creates filters and policies, links one to the port, switches it, reads statistics and unlinks it; traffic follows', async () => {
    page.g.PullSystemDefense();
    await page.settle();
    expect(policies()).toEqual([]);

    // "Add Filter...": IPv4, drop and count inbound SSH from 203.0.113.0/24.
    await dialog(
      { filtername: 'no-ssh', filtertype: 2, filterdir: 1, filterprofile: 1, filteraction: 'false', ipfilter: 'SrcAddress=203.0.113.0,SrcMask=255.255.255.0,ProtocolID=6,DestPortStart=22,DestPortEnd=22' },
      () => page.g.AddDefenseFilterOk(),
    );
    // "Add Filter...": Ethernet IP packets, drop and count outbound.
    await dialog({ filtername: 'no-ip-out', filtertype: 0, filterdir: 0, filterprofile: 1, filteraction: 'false' }, () => page.g.AddDefenseFilterOk());
    const ipFilters = page.g.xxSystemDefense.AMT_IPHeadersFilter.responses;
    const ethFilters = page.g.xxSystemDefense.AMT_Hdr8021Filter.responses;
    expect(ipFilters.map((f: { Name: string }) => f.Name)).toEqual(['no-ssh']);
    expect(ethFilters.map((f: { Name: string }) => f.Name)).toEqual(['no-ip-out']);

    // "Add Policy...": the page lists the filters' InstanceIDs as FilterCreationHandles.
    page.g.xxAddDefensePolicyFilters = [ipFilters[0].InstanceID];
    await dialog({ policyname: 'ssh-guard:3', policytx: 0, policyrx: 0 }, () => page.g.AddDefensePolicyOk());
    page.g.xxAddDefensePolicyFilters = [ethFilters[0].InstanceID];
    await dialog({ policyname: 'web-guard:4', policytx: 0, policyrx: 0 }, () => page.g.AddDefensePolicyOk());
    expect(policies().map((p) => p.PolicyName)).toEqual(['ssh-guard', 'web-guard']);
    expect(sim.sendPacket(SSH_FROM_TEST_NET).verdict).toBe('passed');

    // "Default Wired Policy": ssh-guard.
    const index = (name: string) => policies().findIndex((p) => p.PolicyName === name);
    await dialog({ policySelection: index('ssh-guard') }, () => page.g.changeDefaultPolicyOk(null, 0));
    expect(linkedOnWired()).toBe('ssh-guard');
    expect(sim.sendPacket(SSH_FROM_TEST_NET)).toMatchObject({ verdict: 'dropped', policy: 'ssh-guard', filter: 'no-ssh' });
    expect(sim.sendPacket(SSH_FROM_ELSEWHERE).verdict).toBe('passed');
    expect(sim.sendPacket(WEB_OUT).verdict).toBe('passed');

    // Statistics, as the page reads them: UpdateStatistics on the linked policy, then AMT_ActiveFilterStatistics.
    sim.sendPacket(SSH_FROM_TEST_NET);
    page.g.UpdateDefenseStats(0);
    await page.settle();
    expect(page.g.xxFilterStatistics[0]).toEqual({ 'no-ssh': 2 });

    // Switched to web-guard: the page deletes the link (naming the port by CreationClassName and DeviceID), then creates the new one.
    await dialog({ policySelection: index('web-guard') }, () => page.g.changeDefaultPolicyOk(null, 0));
    page.g.PullSystemDefense();
    await page.settle();
    expect(linkedOnWired()).toBe('web-guard');
    expect(page.g.xxSystemDefense.AMT_NetworkPortSystemDefensePolicy.responses).toHaveLength(1);
    expect(sim.sendPacket(SSH_FROM_TEST_NET).verdict).toBe('passed');
    expect(sim.sendPacket(WEB_OUT)).toMatchObject({ verdict: 'dropped', policy: 'web-guard', filter: 'no-ip-out' });

    // OOBKit isolates over MeshCommander's policy and gives it back on release.
    const c = openAmt({ host: '127.0.0.1', port: sim.port, username: USER, password: PASS });
    try {
      await applyTemplate(c, 'isolate', { managementHosts: '192.0.2.1' });
      expect((await readStatus(c)).state).toBe('isolated');
      expect(sim.sendPacket({ direction: 'out', remote: '192.0.2.1', remotePort: 443 }).verdict).toBe('passed');
      expect(sim.sendPacket({ direction: 'out', remote: '203.0.113.99', remotePort: 443 }).verdict).toBe('dropped');
      await releaseTemplate(c);
      expect((await readStatus(c)).label).toBe('policy: web-guard');
    } finally {
      c.close();
    }
    page.g.PullSystemDefense();
    await page.settle();
    expect(linkedOnWired()).toBe('web-guard');
    expect(policies().map((p) => p.PolicyName)).toEqual(['ssh-guard', 'web-guard']);

    // "None": the link is deleted; all traffic passes.
    await dialog({ policySelection: -1 }, () => page.g.changeDefaultPolicyOk(null, 0));
    expect(linkedOnWired()).toBeUndefined();
    expect(sim.sendPacket(WEB_OUT).verdict).toBe('passed');
    expect(sim.sendPacket(SSH_FROM_TEST_NET).verdict).toBe('passed');

    // The policy and filter dialogs' Delete.
    for (const p of [...policies()]) await dialog({}, () => page.g.showPolicyDetailsOk(2, p));
    await dialog({}, () => page.g.showFilterDetailsOk(2, ['AMT_IPHeadersFilter', ipFilters[0]]));
    await dialog({}, () => page.g.showFilterDetailsOk(2, ['AMT_Hdr8021Filter', ethFilters[0]]));
    expect(policies()).toEqual([]);
    expect(page.g.xxSystemDefense.AMT_IPHeadersFilter.responses).toEqual([]);
  });

  it("adds an agent presence watchdog with the page's own Create, which OOBKit then reads", async () => {
    const agentId = '3b241101-e2bb-4255-8caf-4136c566a962';
    // The page reports a failed Create in a message box; none may show.
    await dialog({ wgname: 'antivirus', wgguid: agentId, wgtimeout: 25, wgstart: 60 }, () => page.g.AddWatchdogOk());
    const c = openAmt({ host: '127.0.0.1', port: sim.port, username: USER, password: PASS });
    try {
      expect((await readAgentPresence(c)).watchdogs).toMatchObject([{ agentId, description: 'antivirus', timeout: 25, grace: 60 }]);
    } finally {
      c.close();
    }
  });
});
