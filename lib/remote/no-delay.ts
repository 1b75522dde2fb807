/**
 * Request/response over MQTT writes small packets back to back (an acknowledgement, then the
 * answer): with Nagle's algorithm on, the second waits for the peer's delayed ACK (40 ms on Linux)
 * and every command costs that much more. Our links send each packet at once.
 */
import type { Socket } from 'node:net';
import type { MqttLink } from '../mqtt/link';

export function noDelay(link: MqttLink): void {
  link.client.on('connect', () => (link.client.stream as Partial<Socket> | undefined)?.setNoDelay?.(true));
}
