/**
 * Child of the hostile-LAN benchmark: an AMT event listener (ours, or with BARE=1 a plain Node
 * HTTP server with default settings, the peer) on loopback. Answers "measure" on stdin with its
 * open file descriptors and resident set size; prints its port first.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as readline from 'node:readline';
import { EventListener, newRegistration } from '../lib/amt/event-listener';

async function main(): Promise<void> {
  let port: number;
  if (process.env.BARE === '1') {
    const server = http.createServer((_req, res) => res.end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as AddressInfo).port;
  } else {
    const listener = new EventListener({ port: 0, address: '127.0.0.1', onAlert: () => undefined });
    // A device known by name: no address can be refused at connect, only capped.
    listener.register(newRegistration({ name: 'pc-by-name', host: 'pc-by-name.lan' }));
    port = await listener.start();
  }
  process.stdout.write(`${JSON.stringify({ port })}\n`);
  readline.createInterface({ input: process.stdin }).on('line', () => {
    process.stdout.write(`${JSON.stringify({ fds: fs.readdirSync('/proc/self/fd').length, rssKiB: Math.round(process.memoryUsage().rss / 1024) })}\n`);
  });
}

void main();
