// ConnectionTracker's bookkeeping without a kernel: events applied idempotently over a snapshot, in
// the orders the snapshot/event race can produce, and the resync diff.

import { describe, expect, it } from 'vitest';
import { applyEvent, diffPictures, type TrackedConnection } from '../src/mptcp/tracker/tracker.js';
import type { MptcpEvent } from '../src/mptcp/events/types.js';

const A = { localAddress: '192.0.2.1', localPort: 40000, remoteAddress: '192.0.2.2', remotePort: 5000 };
const J = { localAddress: '198.51.100.1', localPort: 40001, remoteAddress: '192.0.2.2', remotePort: 5000, localId: 2, remoteId: 0 };
const ev = (e: Record<string, unknown>): MptcpEvent => e as unknown as MptcpEvent;
const created = ev({ type: 'created', token: 7, serverSide: false, denyJoinId0: false, ...A });
const established = ev({ type: 'established', token: 7, serverSide: false, denyJoinId0: false, ...A });
const subEst = ev({ type: 'subEstablished', token: 7, backup: false, ...J });
const subPrio = ev({ type: 'subPriority', token: 7, backup: true, ...J });
const subClosed = ev({ type: 'subClosed', token: 7, ...J });
const closed = ev({ type: 'closed', token: 7 });

/** What a sock_diag snapshot taken after `established` and the join holds. */
function snapshot(): Map<number, TrackedConnection> {
  const sub = (l: string, lp: number, id: number) => ({ local: { address: l, port: lp }, remote: { address: '192.0.2.2', port: 5000 }, localId: id, remoteId: 0, backup: false });
  return new Map([[7, { token: 7, local: { address: '192.0.2.1', port: 40000 }, remote: { address: '192.0.2.2', port: 5000 }, established: true, subflows: [sub('192.0.2.1', 40000, 0), sub('198.51.100.1', 40001, 2)] }]]);
}

function apply(map: Map<number, TrackedConnection>, events: MptcpEvent[]): string[] {
  return events.map((e) => applyEvent(map, e)?.kind ?? '-');
}

describe('applyEvent', () => {
  it('builds a connection from events alone', () => {
    const m = new Map<number, TrackedConnection>();
    expect(apply(m, [created, established, subEst, subPrio, subClosed, closed])).toEqual(['connection', 'updated', 'subflow', 'updated', 'subflowClosed', 'closed']);
    expect(m.size).toBe(0);
  });

  it('events the snapshot already reflects change nothing (buffered before the snapshot was taken)', () => {
    const m = snapshot();
    expect(apply(m, [created, established, subEst])).toEqual(['-', '-', '-']);
    expect(m.get(7)?.subflows).toHaveLength(2);
  });

  it('events after the snapshot still apply: a backup change, a subflow closing, the close', () => {
    const m = snapshot();
    expect(apply(m, [subEst, subPrio, subClosed, closed])).toEqual(['-', 'updated', 'subflowClosed', 'closed']);
    expect(m.has(7)).toBe(false);
  });

  it('a connection opened and closed before the snapshot leaves nothing behind', () => {
    const m = new Map<number, TrackedConnection>();
    apply(m, [created, subEst, closed]);
    expect(m.size).toBe(0);
    expect(apply(m, [subClosed, closed])).toEqual(['-', '-']);
  });

  it('an established event after the close (the kernel sends that order) does not revive the connection', () => {
    const m = new Map<number, TrackedConnection>();
    expect(apply(m, [created, closed, established, subEst])).toEqual(['connection', 'closed', '-', '-']);
    expect(m.size).toBe(0);
  });

  it('matches v4-mapped and plain IPv4 spellings of one subflow', () => {
    const m = snapshot();
    expect(applyEvent(m, ev({ type: 'subClosed', token: 7, ...J, localAddress: '::ffff:198.51.100.1', remoteAddress: '::ffff:192.0.2.2' }))?.kind).toBe('subflowClosed');
  });

  it('ignores listener, unknown and invalid events', () => {
    const m = snapshot();
    expect(apply(m, [ev({ type: 'listenerCreated', ...A }), ev({ type: 'unknown', eventType: 99, attributes: [] }), ev({ type: 'invalid', eventType: 1, reason: 'x', data: new Uint8Array() })])).toEqual(['-', '-', '-']);
  });
});

describe('diffPictures', () => {
  it('reports added, removed and changed connections by token', () => {
    const before = snapshot();
    before.set(9, { ...snapshot().get(7)!, token: 9 });
    const after = snapshot();
    after.get(7)!.subflows.pop();
    after.set(11, { ...snapshot().get(7)!, token: 11 });
    const d = diffPictures(before, after);
    expect([d.added.map((c) => c.token), d.removed.map((c) => c.token), d.changed.map((c) => c.token)]).toEqual([[11], [9], [7]]);
    expect(diffPictures(snapshot(), snapshot())).toEqual({ added: [], removed: [], changed: [] });
  });
});
