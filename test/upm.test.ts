// The path-manager framework's bookkeeping without a kernel: hooks once per fact, adoption on resync,
// back-off, per-connection serialisation, ids, errors as events, stop — with a fake tracker, events and pm.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { EventEmitter } from 'eventemitter3';
import { NetlinkError } from '../src/netlink/core/errors.js';
import type { TrackedConnection, TrackedSubflow, TrackerEvents } from '../src/mptcp/tracker/tracker.js';
import type { MptcpEventListeners } from '../src/mptcp/events/events.js';
import { UserspacePathManager, type UpmParts } from '../src/upm/manager.js';
import type { PmLike } from '../src/upm/actions.js';
import { policies, type Policy, type UpmError } from '../src/index.js';

const C = { address: '192.0.2.1', port: 40000 };
const S = { address: '192.0.2.2', port: 5000 };
const J = { address: '198.51.100.1', port: 40001 };

function conn(token: number, over: Partial<TrackedConnection> = {}): TrackedConnection {
  return { token, local: { ...C, port: C.port + token }, remote: S, established: true, serverSide: false, subflows: [{ local: { ...C, port: C.port + token }, remote: S, localId: 0, remoteId: 0, backup: false }], ...over };
}
const join = (port = J.port): TrackedSubflow => ({ local: { ...J, port }, remote: S, localId: 2, remoteId: 0, backup: false });

class FakeTracker extends EventEmitter<TrackerEvents> {
  connections = new Map<number, TrackedConnection>();
  resync = vi.fn(async () => void this.emit('resync', { added: [], removed: [], changed: [], reason: 'request' }));
  close = vi.fn();
}

type Call = { op: string; spec: Record<string, unknown> };
class FakePm implements PmLike {
  calls: Call[] = [];
  /** Per call: undefined = succeed now; an Error = reject; a promise = wait for it. */
  script: (Error | Promise<void> | undefined)[] = [];
  close = vi.fn();
  private go(op: string, spec: object): Promise<void> {
    this.calls.push({ op, spec: spec as Record<string, unknown> });
    const step = this.script.shift();
    return step instanceof Error ? Promise.reject(step) : (step ?? Promise.resolve());
  }
  createSubflow = (s: object) => this.go('createSubflow', s);
  destroySubflow = (s: object) => this.go('destroySubflow', s);
  announce = (s: object) => this.go('announce', s);
  removeAddress = (s: object) => this.go('removeAddress', s);
  setSubflowBackup = (s: object) => this.go('setSubflowBackup', s);
}

function harness(policy: Policy, pre: TrackedConnection[] = [], o: Parameters<typeof UserspacePathManager.attach>[2] = {}) {
  const tracker = new FakeTracker();
  for (const c of pre) tracker.connections.set(c.token, c);
  const events = new EventEmitter<MptcpEventListeners>();
  const pm = new FakePm();
  const parts = { tracker, events: Object.assign(events, { close: vi.fn() }), pm, localAddresses: () => ['192.0.2.1', '198.51.100.1', '2001:db8::1'] } as unknown as UpmParts;
  const upm = UserspacePathManager.attach(parts, policy, o);
  const errors: UpmError[] = [];
  upm.on('error', (e) => errors.push(e));
  return { tracker, events, pm, upm, errors };
}

/** Lets queued hooks and actions run. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

afterEach(() => void vi.useRealTimers());

describe('UserspacePathManager bookkeeping', () => {
  it('runs established once per connection, however often the fact is reported', async () => {
    const seen: number[] = [];
    const { tracker } = harness({ established: (c) => void seen.push(c.token) }, [conn(1)]);
    const c2 = conn(2, { established: false });
    tracker.connections.set(2, c2);
    tracker.emit('connection', c2);
    c2.established = true;
    tracker.emit('updated', c2);
    tracker.emit('updated', c2);
    await tracker.resync();
    await tracker.resync();
    await settle();
    expect(seen.sort()).toEqual([1, 2]);
  });

  it('runs subflowClosed once per subflow when the tracker and the raw event both report it; a failed join carries its error', async () => {
    const closed: string[] = [];
    const c = conn(1);
    const { tracker, events, upm } = harness({ subflowClosed: (sf) => void closed.push(`${sf.local.port} ${sf.established} ${sf.error?.code ?? '-'}`) }, [c]);
    c.subflows.push(join());
    tracker.emit('subflow', c, join());
    c.subflows.pop();
    tracker.emit('subflowClosed', c, join());
    events.emit('event', { type: 'subClosed', token: 1, localAddress: J.address, localPort: J.port, remoteAddress: S.address, remotePort: S.port });
    events.emit('event', { type: 'subClosed', token: 1, localAddress: J.address, localPort: 40009, remoteAddress: S.address, remotePort: S.port, error: { errno: 111, code: 'ECONNREFUSED' } });
    events.emit('event', { type: 'subClosed', token: 1, localAddress: J.address, localPort: 40009, remoteAddress: S.address, remotePort: S.port, error: { errno: 111, code: 'ECONNREFUSED' } });
    tracker.emit('subflow', c, join(40009)); // a late establish of the failed one is not a new subflow
    await tracker.resync();
    await settle();
    expect(closed).toEqual(['40001 true -', '40009 false ECONNREFUSED']);
    expect(upm.stats).toMatchObject({ subflowsClosed: 2, failures: 1 });
  });

  it('knows the initial subflow of a live connection: its close is a close, not a failed join', async () => {
    const closed: string[] = [];
    const { tracker, events } = harness({ subflowClosed: (sf) => void closed.push(`${sf.local.port} ${sf.established}`) });
    const c = conn(4);
    tracker.connections.set(4, c);
    tracker.emit('connection', c);
    events.emit('event', { type: 'subClosed', token: 4, localAddress: C.address, localPort: C.port + 4, remoteAddress: S.address, remotePort: S.port });
    await settle();
    expect(closed).toEqual([`${C.port + 4} true`]);
  });

  it('after a resync, adopts new connections and reports subflows that vanished unseen', async () => {
    const log: string[] = [];
    const c1 = conn(1);
    c1.subflows.push(join());
    const { tracker, upm } = harness({
      established: (c) => void log.push(`established ${c.token}`),
      subflowClosed: (sf, c) => void log.push(`closed ${c.token} ${sf.local.address}`),
      closed: (c) => void log.push(`gone ${c.token}`),
    }, [c1]);
    await settle();
    c1.subflows.pop();
    tracker.connections.set(3, conn(3));
    await tracker.resync();
    tracker.connections.delete(1);
    await tracker.resync();
    await settle();
    // Hooks of one connection in order; different connections interleave.
    expect(log.filter((l) => / 1( |$)/.test(l))).toEqual(['established 1', `closed 1 ${J.address}`, 'gone 1']);
    expect(log.filter((l) => / 3( |$)/.test(l))).toEqual(['established 3']);
    expect(upm.stats).toMatchObject({ connections: 2, adopted: 2, resyncs: 2 });
  });

  it('retries a refused SUBFLOW_CREATE with doubling back-off, then gives up with an error event', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const enotconn = () => new NetlinkError('mptcp_pm', 'subflow-create', 107, { message: 'connect error: -107' });
    const { pm, errors, upm } = harness(policies.subflowPerAddress({ addresses: [{ address: J.address, id: 2 }] }), [conn(1)], { backoff: { baseMs: 100, maxAttempts: 3 } });
    pm.script = [enotconn(), enotconn(), enotconn()];
    await vi.advanceTimersByTimeAsync(0);
    expect(pm.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(99);
    expect(pm.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(pm.calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(199);
    expect(pm.calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(pm.calls).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(pm.calls).toHaveLength(3);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ token: 1, hook: 'createSubflow' });
    expect(errors[0].error.message).toMatch(/giving up .* 3 failures/);
    expect(upm.stats.failures).toBe(3);
  });

  it('waits the back-off before re-opening a path that just closed, and starts again once a subflow has stayed up', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const c = conn(1);
    const { tracker, pm, upm } = harness(policies.subflowPerAddress({ addresses: [{ address: J.address, id: 2 }] }), [c], { backoff: { baseMs: 100 } });
    await vi.advanceTimersByTimeAsync(0);
    expect(pm.calls).toHaveLength(1);
    tracker.emit('subflow', c, join());
    tracker.emit('subflowClosed', c, join());
    await vi.advanceTimersByTimeAsync(50);
    expect(pm.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(50);
    expect(pm.calls).toHaveLength(2);
    expect(upm.stats).toMatchObject({ subflowsOpened: 1, subflowsReopened: 1 });
    expect(upm.backoff.failures(`1|${J.address}>${S.address}:${S.port}`)).toBe(1);
    // Up for longer than stableMs (0.5 s by default), then closed: its count starts again at 1.
    tracker.emit('subflow', c, join(40002));
    await vi.advanceTimersByTimeAsync(1000);
    tracker.emit('subflowClosed', c, join(40002));
    expect(upm.backoff.failures(`1|${J.address}>${S.address}:${S.port}`)).toBe(1);
  });

  it('counts a join the peer takes and resets at once as a failure, and gives the path up after maxAttempts', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const c = conn(1);
    const { tracker, pm, errors } = harness(policies.subflowPerAddress({ addresses: [{ address: J.address, id: 2 }] }), [c], { backoff: { baseMs: 100, maxAttempts: 3 } });
    await vi.advanceTimersByTimeAsync(0);
    for (let i = 1; i <= 3; i++) {
      expect(pm.calls).toHaveLength(i);
      tracker.emit('subflow', c, join(40000 + i));
      await vi.advanceTimersByTimeAsync(5);
      tracker.emit('subflowClosed', c, join(40000 + i));
      await vi.advanceTimersByTimeAsync(100 * 2 ** (i - 1));
    }
    await vi.advanceTimersByTimeAsync(60_000);
    expect(pm.calls).toHaveLength(3);
    expect(errors.map((e) => e.error.message)).toEqual([expect.stringMatching(/giving up .* 3 failures/)]);
  });

  it('serialises the actions of one connection and runs different connections concurrently', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const policy: Policy = {
      async established(c, act) {
        await Promise.all([
          act.createSubflow({ local: { address: J.address }, remote: c.remote }),
          act.announce({ address: J.address }),
        ]);
      },
    };
    const { pm } = harness(policy, [conn(1), conn(2)]);
    pm.script = [gate];
    await settle();
    // Connection 1's announce waits behind its pending createSubflow; connection 2 went ahead.
    expect(pm.calls.map((x) => `${x.op} ${x.spec.token}`)).toEqual(['createSubflow 1', 'createSubflow 2', 'announce 2']);
    release();
    await settle();
    expect(pm.calls.map((x) => `${x.op} ${x.spec.token}`)).toEqual(['createSubflow 1', 'createSubflow 2', 'announce 2', 'announce 1']);
    // One id per address on a connection, the same across connections.
    expect(new Set(pm.calls.map((x) => (x.op === 'announce' ? x.spec.id : (x.spec.local as { id: number }).id)))).toEqual(new Set([1]));
  });

  it('does not open a path twice: a live or pending subflow makes createSubflow answer "exists"', async () => {
    const outcomes: string[] = [];
    const c = conn(1);
    c.subflows.push(join());
    const policy: Policy = {
      async established(cn, act) {
        outcomes.push(await act.createSubflow({ local: { address: J.address }, remote: cn.remote }));
        outcomes.push(await act.createSubflow({ local: { address: '192.0.2.1' }, remote: { address: '198.51.100.2' } }));
        outcomes.push(await act.createSubflow({ local: { address: '192.0.2.1' }, remote: { address: '198.51.100.2' } }));
      },
    };
    const { pm } = harness(policy, [c]);
    await settle();
    expect(outcomes).toEqual(['exists', 'created', 'exists']);
    expect(pm.calls).toHaveLength(1);
    expect(pm.calls[0].spec).toMatchObject({ token: 1, local: { address: '192.0.2.1', id: 1 }, remote: { address: '198.51.100.2', port: 5000 } });
  });

  it('reports a hook that throws as an error event with its connection and keeps running later hooks', async () => {
    const after: number[] = [];
    const { tracker, errors } = harness({
      established(c) {
        if (c.token === 1) throw new Error('policy bug');
        after.push(c.token);
      },
    }, [conn(1)]);
    tracker.connections.set(2, conn(2));
    tracker.emit('connection', conn(2));
    await settle();
    expect(errors.map((e) => [e.token, e.hook, e.error.message])).toEqual([[1, 'established', 'policy bug']]);
    expect(after).toEqual([2]);
  });

  it('stops retrying on "userspace PM not selected" and after stop() runs nothing and closes its sockets', async () => {
    const { tracker, pm, upm, errors } = harness(policies.subflowPerAddress(), [conn(1)]);
    pm.script = [new NetlinkError('mptcp_pm', 'subflow-create', 22, { message: 'userspace PM not selected' })];
    await settle();
    expect(pm.calls).toHaveLength(1);
    expect(errors[0].error.message).toMatch(/userspace PM not selected/);
    await upm.stop();
    tracker.connections.set(2, conn(2));
    tracker.emit('connection', conn(2));
    await settle();
    expect(pm.calls).toHaveLength(1);
    expect(tracker.close).toHaveBeenCalled();
    expect(pm.close).toHaveBeenCalled();
  });

  it('refuses a policy whose hooks are not functions', () => {
    expect(() => harness({ established: 3 } as unknown as Policy)).toThrow(/policy.established: must be a function/);
  });
});

describe('attempts whose outcome was lost', () => {
  it('an attempt with no subflow seen after pendingTimeoutMs is reported closed at a resync, each time', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const closed: string[] = [];
    const policy: Policy = {
      async established(c, act) {
        await act.createSubflow({ local: { address: J.address, id: 2 }, remote: c.remote });
      },
      async subflowClosed(sf, c, act) {
        closed.push(`${sf.local.address}:${sf.local.port} ${sf.established}`);
        await act.createSubflow({ local: { address: J.address, id: 2 }, remote: c.remote });
      },
    };
    const { tracker, pm } = harness(policy, [conn(1)], { pendingTimeoutMs: 1000, backoff: { baseMs: 10 } });
    await vi.advanceTimersByTimeAsync(0);
    expect(pm.calls).toHaveLength(1);
    await tracker.resync();
    expect(closed).toEqual([]); // still young
    await vi.advanceTimersByTimeAsync(1000);
    await tracker.resync();
    await vi.advanceTimersByTimeAsync(20);
    expect(closed).toEqual([`${J.address}:0 false`]);
    expect(pm.calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1000);
    await tracker.resync();
    await vi.advanceTimersByTimeAsync(50);
    expect(closed).toHaveLength(2);
    expect(pm.calls).toHaveLength(3);
  });
});
