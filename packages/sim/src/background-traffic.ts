/**
 * A trickle of made-up traffic from and to simulated PCs, so System Defense counters move in a
 * demo: each tick every PC that is on sends a packet to the example flows' management host
 * (192.168.1.10), one to a documentation address on the "internet", and receives one. Nothing
 * leaves the process: packets only go through the simulated PC's policy (defense.ts).
 */
import type { SimDevice } from './device';
import type { PacketSpec } from './defense';

const PACKETS: PacketSpec[] = [
  { direction: 'out', remote: '192.168.1.10', remotePort: 443 },
  { direction: 'in', remote: '192.168.1.10', remotePort: 443 },
  { direction: 'out', remote: '203.0.113.80', remotePort: 443 },
  { direction: 'in', remote: '198.51.100.23', localPort: 3389 },
  { direction: 'out', kind: 'arp' },
];

export function startBackgroundTraffic(devices: SimDevice[], everyMs = 2000): { stop(): void } {
  const timer = setInterval(() => {
    for (const d of devices) {
      if (d.powerState !== 2) continue;
      for (const p of PACKETS) d.sendPacket(p);
    }
  }, everyMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
