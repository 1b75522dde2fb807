/**
 * MqttLink with coalesceWrites (the central console's links): what is published in one turn of
 * the event loop leaves in one socket write, arrives whole and in order at a real Mosquitto, and
 * nothing published before close() is lost to the forced end.
 */
import type { Socket } from 'node:net';
import { MqttLink } from '../lib/mqtt/link';
import { Consumer, startMosquitto, TestBroker } from './helpers/mqtt';

let broker: TestBroker;
let consumer: Consumer;

beforeAll(async () => {
  broker = await startMosquitto();
  consumer = await Consumer.connect(broker.url, ['coalesce/#']);
});

afterAll(async () => {
  await consumer?.client.endAsync();
  await broker?.stop();
});

async function connected(link: MqttLink): Promise<void> {
  if (link.connected) return;
  await new Promise<void>((resolve) => link.once('connect', () => resolve()));
}

/** Counts the socket's writes to the kernel (one per write or writev). */
function countWrites(link: MqttLink): { count: () => number } {
  const s = link.client.stream as Socket & { _write: Socket['_write']; _writev?: Socket['_writev'] };
  let n = 0;
  const write = s._write.bind(s);
  s._write = (...a: Parameters<Socket['_write']>) => {
    n++;
    return write(...a);
  };
  const writev = s._writev?.bind(s);
  if (writev) {
    s._writev = (...a: Parameters<NonNullable<Socket['_writev']>>) => {
      n++;
      return writev(...a);
    };
  }
  return { count: () => n };
}

/**
 * Publishes `n` messages, each from a callback of its own, all of them run in the same turn (as
 * answers from separate devices are). Immediates queued together run in one check phase; timers
 * would not do: under load, set across a millisecond boundary, they fall due in different turns.
 */
async function publishFromSeparateCallbacks(link: MqttLink, topic: string, n: number): Promise<void> {
  const sent: Array<Promise<boolean>> = [];
  await new Promise<void>((resolve) => {
    for (let i = 0; i < n; i++) setImmediate(() => sent.push(link.publish(topic, String(i), { qos: 0 })));
    setImmediate(resolve);
  });
  await Promise.all(sent);
}

const received = (topic: string) => consumer.messages.filter((m) => m.topic === topic).map((m) => m.payload);
const numbers = (n: number) => Array.from({ length: n }, (_x, i) => String(i));

test('publishes from separate callbacks of one turn leave in one socket write, complete and in order', async () => {
  const link = new MqttLink({ url: broker.url, will: { topic: 'coalesce/will', payload: 'gone' }, coalesceWrites: true });
  try {
    await connected(link);
    const writes = countWrites(link);
    await publishFromSeparateCallbacks(link, 'coalesce/burst', 200);
    await consumer.waitFor(() => received('coalesce/burst').length === 200, 10_000, '200 messages');
    expect(received('coalesce/burst')).toEqual(numbers(200));
    expect(writes.count()).toBe(1);
  } finally {
    await link.close();
  }
});

test('without the option each of those callbacks writes on its own', async () => {
  const link = new MqttLink({ url: broker.url, will: { topic: 'coalesce/will', payload: 'gone' } });
  try {
    await connected(link);
    const writes = countWrites(link);
    await publishFromSeparateCallbacks(link, 'coalesce/separate', 20);
    await consumer.waitFor(() => received('coalesce/separate').length === 20, 10_000, '20 messages');
    expect(received('coalesce/separate')).toEqual(numbers(20));
    expect(writes.count()).toBe(20);
  } finally {
    await link.close();
  }
});

test.each([true, false])('what was published just before close() still reaches the broker (coalesceWrites %s)', async (coalesceWrites) => {
  const topic = `coalesce/last-${coalesceWrites}`;
  const link = new MqttLink({ url: broker.url, will: { topic: 'coalesce/will', payload: 'gone' }, coalesceWrites });
  await connected(link);
  for (let i = 0; i < 5; i++) void link.publish(topic, String(i), { qos: 0 });
  await link.close();
  await consumer.waitFor(() => received(topic).length === 5, 10_000, 'the five messages sent before close');
  expect(received(topic)).toEqual(numbers(5));
});
