/**
 * The device side of the IDE-R benchmark, in its own process as a real PC would be (and, for the
 * 1 Gbit/s run, in its own network namespace): one simulated PC whose BIOS reads the whole medium
 * after booting (a live system loading itself), a raw TCP sink that swallows a byte stream (the
 * link limit), and a bare request/answer loop (the limit of a one-command-at-a-time requester).
 * Listens on BENCH_HOST (default 127.0.0.1). Prints one JSON line when ready and one per finished
 * boot, sink stream or loop.
 */
import * as net from 'node:net';
import { firmwareState, startFleet } from '../packages/sim/src';

async function main(): Promise<void> {
  const host = process.env.BENCH_HOST ?? '127.0.0.1';
  const fleet = await startFleet({ devices: 1, port: 0, host, user: process.env.BENCH_USER, password: process.env.BENCH_PASSWORD, power: 'off', timings: { bootTimeMs: 0 } });
  const d = fleet.devices[0];
  Object.assign(firmwareState(d).options, { loadWholeMedium: true, readBlocks: Number(process.env.BENCH_READ_BLOCKS ?? 64) });
  d.on('firmware', (r: { status: string; bytesRead?: number }) => process.stdout.write(`${JSON.stringify({ event: 'boot', status: r.status, bytes: r.bytesRead, stats: d.iderSession?.stats })}\n`));
  const sink = net.createServer((s) => {
    let bytes = 0;
    s.on('data', (c: Buffer) => {
      bytes += c.length;
    });
    s.on('end', () => {
      process.stdout.write(`${JSON.stringify({ event: 'sink', bytes })}\n`);
      s.end();
    });
  });
  await new Promise<void>((r) => sink.listen(0, host, r));
  // The protocol's floor: a bare request/answer loop, a 28-byte request then `size` bytes back, `count` times.
  const pingpong = net.createServer((s) => {
    s.setNoDelay(true);
    s.once('data', (hello: Buffer) => {
      const [size, count] = JSON.parse(hello.toString()) as [number, number];
      let got = 0;
      let done = 0;
      const ask = () => s.write(Buffer.alloc(28));
      s.on('data', (c: Buffer) => {
        got += c.length;
        while (got >= size) {
          got -= size;
          done++;
          if (done === count) {
            process.stdout.write(`${JSON.stringify({ event: 'pingpong', count })}\n`);
            s.end();
            return;
          }
          ask();
        }
      });
      ask();
    });
  });
  await new Promise<void>((r) => pingpong.listen(0, host, r));
  process.stdout.write(`${JSON.stringify({ event: 'ready', port: d.port, redirectionPort: d.redirectionPort, sinkPort: (sink.address() as net.AddressInfo).port, pingpongPort: (pingpong.address() as net.AddressInfo).port })}\n`);
  process.on('SIGTERM', () => {
    sink.close();
    pingpong.close();
    void fleet.stop().then(() => process.exit(0));
  });
}

void main();
