// Codec throughput on event bytes captured during the storm: decodeEvent (the full typed event)
// and decodeAttrs alone (the table-driven codec), in events per second.

import { family } from '../../generated/mptcp_pm.js';
import { decodeEvent } from '../../src/mptcp/events/events.js';
import { decodeAttrs } from '../../src/netlink/core/codec.js';

export interface DecodeResult { captured: number; decodeEventPerSec: number; decodeAttrsPerSec: number; check: string }

function rate(events: [number, Buffer][], fn: (cmd: number, b: Buffer) => unknown, ms: number): number {
  for (let i = 0; i < 3 && i * events.length < 20_000; i++) for (const [c, b] of events) fn(c, b); // warm-up
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    for (const [c, b] of events) fn(c, b);
    n += events.length;
  }
  return n / ((performance.now() - t0) / 1000);
}

export function measureDecode(events: [number, Buffer][], ms = 1500): DecodeResult {
  if (events.length === 0) throw new Error('no captured events to decode');
  const types = new Map<string, number>();
  for (const [c, b] of events) {
    const t = decodeEvent(c, b).type;
    types.set(t, (types.get(t) ?? 0) + 1);
  }
  return {
    captured: events.length,
    decodeEventPerSec: rate(events, decodeEvent, ms),
    decodeAttrsPerSec: rate(events, (_c, b) => decodeAttrs(family, 'event-attr', b), ms),
    check: [...types].map(([t, n]) => `${t}=${n}`).join(' '),
  };
}
