/**
 * A simulated BMC in its own process, as a real BMC is another machine: prints its UDP port, runs
 * until SIGTERM. Used by bench/ipmi.ts.
 */
import { SimBmc } from '../packages/sim/src/ipmi';

async function main(): Promise<void> {
  const bmc = await SimBmc.start({ users: [{ name: process.env.BMC_USER ?? 'admin', password: process.env.BMC_PASSWORD ?? 'Bench-P@ss1' }], maxPacketsPerSecond: 1_000_000, maxSessions: 64 });
  process.on('SIGTERM', () => void bmc.stop().then(() => process.exit(0)));
  process.stdout.write(`${bmc.port}\n`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
