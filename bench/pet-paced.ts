/**
 * For profiling (not a benchmark of its own; the numbers are in bench/NOTES.md): CPU per trap over
 * real UDP at a rate both receivers keep up with, so that nothing is dropped and both do the same
 * work: alert-in's hub as the benchmarks run it against a bare net-snmp receiver, one sender
 * process, every trap a new condition, rounds alternating.
 *
 *   node dist/bench/pet-paced.js [perSecond] [trapsPerRound] [rounds] [ours]
 *
 * CPU is this whole process's (all threads, user + system) over a round and the 300 ms after it,
 * per trap received. With `ours`, only alert-in's rounds run: attach `perf record -g -p <pid>`
 * (Debian's linux-perf; start node with --perf-basic-prof) to see the native part of the receive
 * path, which V8's own profiler files under "(idle)".
 */
import { alertIn, bareReceiver, devicesFor, startSender, Tally } from './alerts';
import { senderAddresses } from './pet-traps';

async function main(): Promise<void> {
  const [rateArg, countArg, roundsArg, only] = process.argv.slice(2);
  const perSecond = Number(rateArg) || 30_000;
  const perRound = Number(countArg) || 150_000;
  const rounds = Number(roundsArg) || 3;
  const addresses = senderAddresses(128);
  const bareTally = new Tally();
  const oursTally = new Tally();
  const bare = await bareReceiver(bareTally);
  const ours = await alertIn(devicesFor(addresses), oursTally);
  const sender = startSender();
  try {
    await sender.ask({ cmd: 'setup', addresses, ports: [bare.port, ours.port] });
    const round = async (port: number, tally: Tally, start: number) => {
      tally.reset(false);
      const c0 = process.cpuUsage();
      await sender.ask({ cmd: 'paced', port, start, count: perRound, perSecond });
      await new Promise((r) => setTimeout(r, 300));
      const c = process.cpuUsage(c0);
      return { received: tally.count, cpuUsPerTrap: Math.round(((c.user + c.system) / Math.max(1, tally.count)) * 100) / 100 };
    };
    // A first round each, not counted: the JIT, and alert-in's first 50,000 open keys.
    await round(ours.port, oursTally, 0);
    if (only !== 'ours') await round(bare.port, bareTally, 0);
    for (let r = 1; r <= rounds; r++) {
      const o = await round(ours.port, oursTally, r * perRound);
      const b = only === 'ours' ? undefined : await round(bare.port, bareTally, r * perRound);
      process.stdout.write(`${JSON.stringify({ perSecond, ours: o, bare: b, cpuRatio: b ? Math.round((b.cpuUsPerTrap / o.cpuUsPerTrap) * 1000) / 1000 : undefined })}\n`);
    }
  } finally {
    sender.child.kill();
    bare.close();
    await ours.close();
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`${(e as Error).stack}\n`);
    process.exit(1);
  },
);
