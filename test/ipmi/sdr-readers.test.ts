/**
 * Two tools reading one BMC's sensor repository at once (two gateways' bridges polling the same
 * server): each reservation cancels the other's, as IPMI says it may; both reads still end with every
 * record, many times over.
 */
import { IpmiClient } from '../../lib/ipmi/client';
import { readSdrRepository } from '../../lib/ipmi/sdr';
import { SimBmc } from '../../packages/sim/src/ipmi';

let bmc: SimBmc;
beforeAll(async () => {
  bmc = await SimBmc.start({ port: 0, users: [{ name: 'admin', password: 'Sdr-P@ss1' }], power: 'on' });
});
afterAll(() => bmc.stop());

it('two readers taking the reservation from each other both read the whole repository', async () => {
  const clients = [0, 1].map(() => new IpmiClient({ host: '127.0.0.1', port: bmc.port, username: 'admin', password: 'Sdr-P@ss1', cipherSuite: 17 }));
  try {
    const alone = await readSdrRepository(clients[0]);
    expect(alone.length).toBeGreaterThan(2);
    for (let round = 0; round < 10; round++) {
      const both = await Promise.all(clients.map((c) => readSdrRepository(c)));
      for (const records of both) expect(records.map((r) => r.toString('hex'))).toEqual(alone.map((r) => r.toString('hex')));
    }
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
});
