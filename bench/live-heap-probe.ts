/**
 * Loaded with `node --expose-gc -r` into a Node-RED process a benchmark watches: on SIGUSR2 it
 * collects garbage and prints the JS heap still in use ("LIVE_HEAP <bytes>"). RSS alone mostly
 * measures when V8 last chose to collect; the live heap is what the process actually keeps.
 */
process.on('SIGUSR2', () => {
  (globalThis as { gc?: () => void }).gc?.();
  process.stdout.write(`LIVE_HEAP ${process.memoryUsage().heapUsed}\n`);
});
