// MptcpEvents on the real kernel: listener events, the userspace-PM scenario compared event by event
// with `ip mptcp monitor`, and loss under a stalled consumer (overrun count checked exactly).

import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect } from 'vitest';
import { MptcpEvents, type MptcpEvent, type StreamItem } from '../src/mptcp/events/events.js';
import { kernelIt, scaled, waitFor, type TestNetns } from './helpers/netns.js';
import { expectUnsupported, kernelFeatures } from './helpers/features.js';
import { GenlSocket } from '../src/netlink/genl/socket.js';
import { EventLog, runUserspaceScenario, testResources, type Topology } from './helpers/topology.js';

const it = kernelIt();
const PEER = fileURLToPath(new URL('./helpers/mptcp_peer.py', import.meta.url));

const { cleanup, topology } = testResources();

async function open(opts: Parameters<typeof MptcpEvents.open>[0]): Promise<MptcpEvents> {
  const ev = await MptcpEvents.open(opts);
  cleanup.push(() => ev.close());
  return ev;
}

/** One line of `ip mptcp monitor` (iproute2 6.1), parsed. */
interface MonitorLine {
  name: string;
  attrs: Record<string, string>;
}

/** `ip -n NS mptcp monitor` as a child process: its parsed lines and a bounded wait for a count. */
function monitor(ns: TestNetns): { pid: number; lines: MonitorLine[]; waitCount(n: number, timeoutMs?: number): Promise<void> } {
  const child = spawn('ip', ['-n', ns.name, 'mptcp', 'monitor'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let exited = false;
  const gone = new Promise<void>((resolve) => child.on('close', () => ((exited = true), resolve())));
  cleanup.push(async () => {
    if (!exited && child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
    await gone;
  });
  const lines: MonitorLine[] = [];
  const waiters = new Set<() => void>();
  let buf = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buf += chunk;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const m = /^\[\s*([^\]]+?)\s*\]\s*(.*)$/.exec(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      if (!m) continue;
      const attrs: Record<string, string> = {};
      for (const kv of m[2].split(/\s+/).filter(Boolean)) {
        const eq = kv.indexOf('=');
        if (eq > 0) attrs[kv.slice(0, eq)] = kv.slice(eq + 1);
      }
      lines.push({ name: m[1], attrs });
    }
    for (const w of [...waiters]) w();
  });
  return {
    pid: child.pid ?? -1,
    lines,
    waitCount: (n, wait = 10_000) =>
      new Promise((resolve, reject) => {
        const timeoutMs = scaled(wait);
        const check = (): void => {
          if (lines.length < n) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`ip mptcp monitor in ${ns.name}: ${lines.length} of ${n} lines after ${timeoutMs} ms: ${JSON.stringify(lines)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
  };
}

/** Id of the mptcp_pm_events group (dynamic), read from the family description. */
async function eventsGroup(netns: string): Promise<number> {
  const s = await GenlSocket.open('mptcp_pm', { netns });
  s.close();
  const id = s.groups.get('mptcp_pm_events');
  if (id === undefined || id < 1 || id > 32) throw new Error(`mptcp_pm_events group id ${id}: /proc/net/netlink shows groups 1-32 only`);
  return id;
}

/**
 * Whether process `pid` holds a generic-netlink socket joined to group `group`: its socket inodes
 * (/proc/PID/fd) looked up in the netlink table of its namespace (/proc/PID/net/netlink, whose
 * Groups column is the bitmap of groups 1-32).
 */
function subscribed(pid: number, group: number): boolean {
  const inodes = new Set(readdirSync(`/proc/${pid}/fd`).map((fd) => /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1]));
  return readFileSync(`/proc/${pid}/net/netlink`, 'utf8').split('\n').slice(1).some((line) => {
    const f = line.trim().split(/\s+/);
    return f[1] === '16' && inodes.has(f[9]) && ((parseInt(f[3], 16) >>> (group - 1)) & 1) === 1;
  });
}

/** iproute2 6.1 names (listener events unknown to it: printed as "UNKNOWN 15" / "UNKNOWN 16"). */
const MONITOR_NAME: Record<string, string> = {
  CREATED: 'created', ESTABLISHED: 'established', CLOSED: 'closed', ANNOUNCED: 'announced', REMOVED: 'removed',
  SF_ESTABLISHED: 'subEstablished', SF_CLOSED: 'subClosed', SF_PRIO: 'subPriority',
  'UNKNOWN 15': 'listenerCreated', 'UNKNOWN 16': 'listenerClosed', LISTENER_CREATED: 'listenerCreated', LISTENER_CLOSED: 'listenerClosed',
};

/** The library's event in the monitor's terms, limited to what the monitor printed. */
function asMonitor(e: MptcpEvent, printed: Record<string, string>): Record<string, string> {
  const f = e as MptcpEvent & Record<string, unknown>;
  const all: Record<string, string | undefined> = {
    token: typeof f.token === 'number' ? f.token.toString(16).padStart(8, '0') : undefined,
    remid: f.remoteId?.toString(), locid: f.localId?.toString(),
    saddr4: f.family === 'inet' ? (f.localAddress as string | undefined) : undefined,
    daddr4: f.family === 'inet' ? (f.remoteAddress as string | undefined) : undefined,
    saddr6: f.family === 'inet6' ? (f.localAddress as string | undefined) : undefined,
    daddr6: f.family === 'inet6' ? (f.remoteAddress as string | undefined) : undefined,
    sport: f.localPort?.toString(), dport: f.remotePort?.toString(),
    backup: f.backup === undefined ? undefined : f.backup ? '1' : '0',
  };
  const out: Record<string, string> = {};
  for (const key of Object.keys(printed)) if (all[key] !== undefined) out[key] = all[key] as string;
  return out;
}

/** The compared fields of a monitor line (type, token, addresses, ports, ids, backup). */
function compared(l: MonitorLine): Record<string, string> {
  const keep = ['token', 'remid', 'locid', 'saddr4', 'daddr4', 'saddr6', 'daddr6', 'sport', 'dport', 'backup'];
  return Object.fromEntries(Object.entries(l.attrs).filter(([k]) => keep.includes(k)));
}

describe('MptcpEvents on the kernel', () => {
  it('reports listening sockets: listenerCreated / listenerClosed for IPv4 and IPv6 (UnsupportedError before 6.2)', async () => {
    const t = await topology('lsn');
    const { listenerEvents } = await kernelFeatures();
    if (listenerEvents === false) {
      await expectUnsupported(MptcpEvents.open({ netns: t.server.name, types: ['listenerCreated'] }), '6.2');
      await expectUnsupported(MptcpEvents.open({ netns: t.server.name, types: ['closed', 'listenerClosed'] }), '6.2');
      return;
    }
    if (listenerEvents === undefined) {
      // 6.1–6.6 show nothing either way: asking is allowed, the stream opens (events may never come).
      const ev = await open({ netns: t.server.name, types: ['listenerCreated', 'listenerClosed'] });
      expect(ev.closed).toBe(false);
      return;
    }
    const log = new EventLog(await open({ netns: t.server.name, types: ['listenerCreated', 'listenerClosed'] }));
    const v4 = await t.peer(t.server, ['server', '--addr', t.paths[0].server, '--port', '6000']);
    const v6 = await t.peer(t.server, ['server', '--addr', t.paths[1].server6, '--port', '6001']);
    await v4.waitLine(/^READY/);
    await v6.waitLine(/^READY/);
    v4.send('close');
    v6.send('close');
    await log.waitCount('listener events', (i) => i.length, 4);
    const seen = log.list.map(({ at: _at, ...e }) => e);
    const created = seen.filter((e) => e.type === 'listenerCreated');
    const closed = seen.filter((e) => e.type === 'listenerClosed');
    expect(created).toEqual(expect.arrayContaining([
      { type: 'listenerCreated', family: 'inet', localAddress: '192.0.2.2', localPort: 6000 },
      { type: 'listenerCreated', family: 'inet6', localAddress: '2001:db8:2::2', localPort: 6001 },
    ]));
    expect(closed).toEqual(expect.arrayContaining([
      { type: 'listenerClosed', family: 'inet', localAddress: '192.0.2.2', localPort: 6000 },
      { type: 'listenerClosed', family: 'inet6', localAddress: '2001:db8:2::2', localPort: 6001 },
    ]));
  });

  it('reports the same events as `ip mptcp monitor` for the userspace-PM scenario, on both sides', async () => {
    const t = await topology('diff');
    const monC = monitor(t.client);
    const monS = monitor(t.server);
    const group = await eventsGroup(t.client.name);
    for (const mon of [monC, monS]) {
      await waitFor(() => subscribed(mon.pid, group), { timeoutMs: 5000, intervalMs: 20, what: `ip mptcp monitor (pid ${mon.pid}) to join the events group` });
    }
    const r = await runUserspaceScenario(t);
    for (const [side, log, mon] of [['client', r.client, monC], ['server', r.server, monS]] as const) {
      const mine = log.list;
      await mon.waitCount(mine.length);
      const theirs = mon.lines;
      expect(theirs.length, `${side}: event count`).toBe(mine.length);
      for (let i = 0; i < mine.length; i++) {
        const m = theirs[i];
        expect(MONITOR_NAME[m.name] ?? m.name, `${side} event ${i}`).toBe(mine[i].type);
        expect(asMonitor(mine[i], compared(m)), `${side} event ${i} (${mine[i].type})`).toEqual(compared(m));
      }
    }
    // The comparison covered tokens, addresses, ports and ids, not just names.
    expect(monS.lines.some((l) => l.name === 'SF_PRIO' && l.attrs.backup === '1' && l.attrs.dport)).toBe(true);
    expect(monS.lines.some((l) => l.name === 'ANNOUNCED' && l.attrs.daddr4 === '203.0.113.1' && l.attrs.remid === '9')).toBe(true);
  });

  it('reports loss under a stalled consumer with the exact count, and keeps delivering', async () => {
    const t = await topology('loss');
    const server = t.server;
    // A reference socket with the default (forced, large) buffer and a tiny one, both in the server namespace.
    const ref = new EventLog(await open({ netns: server.name }));
    const tinyEvents = await open({ netns: server.name, receiveBufferBytes: 1 });
    const tiny = new EventLog(tinyEvents);
    const streamed: StreamItem[] = [];
    const consumer = (async () => {
      for await (const item of tinyEvents.stream()) streamed.push(item);
    })();
    const srv = await t.peer(server, ['server', '--addr', '0.0.0.0', '--port', '5000', '--count', '0', '--quiet'], { timeoutS: 60 });
    await srv.waitLine(/^READY/);
    if ((await kernelFeatures()).listenerEvents === true) await ref.waitFor('listenerCreated', (e) => e.type === 'listenerCreated');

    // 1. Unstalled burst: how many events per second reach the reference socket, with no loss.
    const N = 300;
    const burst = await t.peer(t.client, ['client', '--addr', t.paths[0].server, '--port', '5000', '--count', String(N), '--send', '1', '--quiet'], { timeoutS: 60 });
    await burst.exited;
    const closedCount = (items: StreamItem[]): number => items.filter((e) => e.type === 'closed').length;
    await ref.waitCount('closed events of burst 1', closedCount, N, 20_000);
    const burst1 = ref.list.filter((e) => e.type !== 'listenerCreated');
    expect(burst1.length).toBe(3 * N); // created, established, closed per connection
    const rate = burst1.length / ((burst1[burst1.length - 1].at - burst1[0].at) / 1000);

    // 2. Stalled consumer: the JS thread is blocked while the burst runs, so nothing is read.
    const before = ref.list.length;
    const t0 = performance.now();
    execFileSync('ip', ['netns', 'exec', t.client.name, 'python3', PEER, 'client', '--addr', t.paths[0].server, '--port', '5000',
      '--count', String(N), '--send', '1', '--quiet', '--timeout', String(scaled(60))], { stdio: 'ignore', timeout: scaled(60_000) });
    const stalledMs = performance.now() - t0;
    await ref.waitCount('closed events of both bursts', closedCount, 2 * N, 20_000);
    const stalledEvents = ref.list.length - before;
    const expected = ref.list.length;
    const lostOf = (items: StreamItem[]): number => items.reduce((n, i) => n + (i.type === 'overrun' ? (i.lost ?? 0) : 0), 0);
    // Every event the reference socket got either reached the tiny socket or is counted as lost.
    await tiny.waitCount('tiny: received + lost = all events', (items) => tiny.list.length + lostOf(items), expected, 10_000);
    const lost = lostOf(tiny.items);
    expect(lost).toBeGreaterThan(0);
    expect(tiny.list.length + lost).toBe(expected);
    expect(tiny.items.every((i) => i.type !== 'overrun' || i.lost !== undefined)).toBe(true);
    const drops = tinyEvents.readDrops();
    expect(lost).toBe(drops);
    expect(ref.items.filter((i) => i.type === 'overrun')).toEqual([]);
    expect(ref.events.readDrops()).toBe(0);

    // 3. The stream carries on: a later connection's events arrive after the overrun, in order.
    const last = await t.peer(t.client, ['client', '--addr', t.paths[0].server, '--port', '5000', '--hold', '--send', '1']);
    const clientPort = Number((await last.waitLine(/^CONNECTED \S+ (\d+)/))[1]);
    const isLater = (i: StreamItem): boolean => i.type === 'established' && i.remotePort === clientPort;
    await tiny.waitFor('the later connection on the tiny socket', isLater);
    const firstOverrun = streamed.findIndex((i) => i.type === 'overrun');
    const laterAt = streamed.findIndex(isLater);
    expect(firstOverrun).toBeGreaterThanOrEqual(0);
    expect(laterAt).toBeGreaterThan(firstOverrun);
    expect(lostOf(streamed)).toBe(lost);
    last.send('close');
    await last.exited;
    tinyEvents.close();
    await consumer;

    console.log(
      `[events burst] ${burst1.length} events from ${N} connections at ${Math.round(rate)} events/s, default buffer ` +
      `(${ref.events.receiveBufferBytes} B) lost 0; JS thread stalled ${Math.round(stalledMs)} ms over ${stalledEvents} more events: ` +
      `reference socket lost 0, tiny buffer (${tinyEvents.receiveBufferBytes} B) got ${expected - lost} of ${expected}, lost ${lost} ` +
      `(drop counter ${drops})`,
    );
  }, scaled(90_000));
});
