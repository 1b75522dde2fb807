/**
 * Run inside a network namespace by test/wake-peers.test.ts: a simulated fleet whose WOL socket
 * listens on 0.0.0.0:9 (the real default port, so broadcasts reach it), then the wakes given as a
 * JSON list in argv[2], one after the other. Prints one JSON line per wake: which PCs woke and the
 * source address their packets came from.
 */
import { startFleet, WolEvent } from '../../packages/sim/src';
import { wake, WakeOptions } from '../../lib/wol/send';

async function main(): Promise<void> {
  const wakes = JSON.parse(process.argv[2]) as Array<Omit<WakeOptions, 'macs'> & { device: number }>;
  const fleet = await startFleet({ devices: 2, port: 0, power: 'off', wolPort: 9, wolHost: '0.0.0.0', udpAllowFrom: ['10.0.0.0/8', '127.0.0.0/8'] });
  const seen: WolEvent[] = [];
  fleet.wol!.on('wake', (e: WolEvent) => seen.push(e));
  process.stdout.write(`${JSON.stringify({ ready: true, macs: fleet.devices.map((d) => d.mac) })}\n`);
  for (const w of wakes) {
    seen.length = 0;
    const { device, ...options } = w;
    try {
      const sent = await wake({ ...options, macs: fleet.devices[device].mac, repeat: 1 });
      await new Promise((r) => setTimeout(r, 150));
      process.stdout.write(`${JSON.stringify({ sent, woke: fleet.devices.map((d) => d.powerState === 2), from: [...new Set(seen.map((e) => e.from))] })}\n`);
    } catch (e) {
      process.stdout.write(`${JSON.stringify({ error: (e as Error).message })}\n`);
    }
    for (const d of fleet.devices) d.powerOff('reset for next wake');
  }
  await fleet.stop();
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
