// A storm of listener events into a tiny receive buffer while the JS thread is stalled, with a
// stream whose queue is full: the kernel's losses reach the stream with their exact count, so the
// stream accounts for every event just as the listener API does.

import { execFileSync } from 'node:child_process';
import { describe, expect } from 'vitest';
import { MptcpEvents, type StreamItem } from '../src/mptcp/events/events.js';
import { kernelIt, makeNetns, scaled, waitFor } from './helpers/netns.js';

const it = kernelIt();
const LISTENERS = 2000;

/** Opens and closes `n` MPTCP listening sockets as fast as Python can: two events each. */
const STORM = `import socket
for _ in range(${LISTENERS}):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 262)
    s.bind(('127.0.0.1', 0))
    s.listen(1)
    s.close()
`;

describe('a kernel overrun reaching a full stream queue', () => {
  it(`${LISTENERS} listeners opened and closed with the JS thread stalled: the stream's losses equal the listener API's`, async () => {
    const ns = await makeNetns('storm');
    const ev = await MptcpEvents.open({ netns: ns.name, receiveBufferBytes: 32_768 });
    try {
      let events = 0;
      let kernelLost = 0;
      let unknown = 0;
      ev.on('event', () => events++);
      ev.on('overrun', (o) => {
        if (o.lost === undefined) unknown++;
        else kernelLost += o.lost;
      });
      const stream = ev.stream({ maxQueued: 8 });
      // execFileSync holds the JS thread: nothing is read while the kernel fills the tiny buffer.
      execFileSync('ip', ['netns', 'exec', ns.name, 'python3', '-c', STORM], { timeout: scaled(120_000) });
      const expected = 2 * LISTENERS;
      await waitFor(() => events + kernelLost >= expected, { timeoutMs: 20_000, what: `${expected} events seen or counted lost` });
      expect(unknown).toBe(0);
      expect(events + kernelLost).toBe(expected);
      expect(kernelLost).toBeGreaterThan(0);

      ev.close();
      const items: StreamItem[] = [];
      for (let i = 0; i < expected + 100; i++) {
        const r = await stream.next();
        if (r.done) break;
        items.push(r.value);
      }
      const sum = (source: 'kernel' | 'queue'): number => items.reduce((n, x) => n + (x.type === 'overrun' && x.source === source ? (x.lost ?? 0) : 0), 0);
      const streamed = items.filter((x) => x.type !== 'overrun').length;
      expect(sum('queue')).toBeGreaterThan(0);
      expect(sum('kernel')).toBe(kernelLost);
      expect(streamed + sum('queue')).toBe(events);
    } finally {
      ev.close();
      await ns.destroy();
    }
  }, 180_000);
});
