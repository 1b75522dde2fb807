/**
 * Loaded with `node --expose-gc -r` into a Node-RED process a benchmark watches: on SIGUSR2 it
 * prints what V8 has committed per heap space, collects garbage and prints the JS heap still in
 * use ("LIVE_HEAP <bytes>"). RSS alone mostly measures when V8 last chose to collect; the live
 * heap is what the process actually keeps.
 */
import * as v8 from 'node:v8';

process.on('SIGUSR2', () => {
  const spaces = v8.getHeapSpaceStatistics().map((s) => `${s.space_name}=${Math.round(s.physical_space_size / 1024)}/${Math.round(s.space_used_size / 1024)}`);
  process.stdout.write(`HEAP_SPACES_KIB ${spaces.join(' ')}\n`);
  (globalThis as { gc?: () => void }).gc?.();
  process.stdout.write(`LIVE_HEAP ${process.memoryUsage().heapUsed}\n`);
});
