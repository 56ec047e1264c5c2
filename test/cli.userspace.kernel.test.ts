// The mptcp-pm command as the userspace path manager of a live connection between two namespaces,
// checked through `monitor -j` on both sides; monitor overruns with a stalled reader; monitor into a closed pipe.

import { spawn, type ChildProcess } from 'node:child_process';
import type { Writable } from 'node:stream';
import { readFileSync } from 'node:fs';
import { describe, expect } from 'vitest';
import { cli as run, MAIN, type Result } from './helpers/cli.js';
import { kernelIt, waitFor, type TestNetns } from './helpers/netns.js';
import { testResources } from './helpers/topology.js';

const it = kernelIt();

const { cleanup, topology } = testResources();

/** One `mptcp-pm -n NETNS …` run to its end (bounded). */
function cli(netns: string, ...args: string[]): Promise<Result> {
  return run(['-n', netns, ...args]);
}

/** Stdout of a run that must succeed: exit 0, nothing on stderr. */
async function ok(r: Promise<Result>): Promise<string> {
  const res = await r;
  expect(res.stderr).toBe('');
  expect(res.status).toBe(0);
  return res.stdout;
}

type Obj = Record<string, unknown>;

const alive = (p: ChildProcess): boolean => p.exitCode === null && p.signalCode === null;

/** A running `mptcp-pm monitor`: its stdout lines, its stderr, bounded waits on both. */
class Monitor {
  readonly lines: string[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private buf = '';

  constructor(readonly proc: ChildProcess) {
    proc.stdout?.setEncoding('utf8');
    proc.stdout?.on('data', (d: string) => {
      this.buf += d;
      const parts = this.buf.split('\n');
      this.buf = parts.pop() ?? '';
      this.lines.push(...parts);
    });
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (d: string) => void (this.stderr += d));
    this.exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  }

  get pid(): number {
    return this.proc.pid as number;
  }

  /** The NDJSON lines as objects. */
  objects(): Obj[] {
    return this.lines.map((l) => JSON.parse(l) as Obj);
  }

  waitObject(what: string, match: (o: Obj) => boolean, timeoutMs = 10_000): Promise<Obj> {
    return waitFor(() => this.objects().find(match), {
      timeoutMs, intervalMs: 20, what: `${what} (have: ${this.objects().map((o) => o.type).join(', ')}; stderr: ${this.stderr})`,
    }) as Promise<Obj>;
  }

  waitStderr(re: RegExp, what: string, timeoutMs = 10_000): Promise<RegExpMatchArray> {
    return waitFor(() => re.exec(this.stderr), { timeoutMs, intervalMs: 20, what: `${what} (stderr: ${this.stderr})` }) as Promise<RegExpMatchArray>;
  }

  signal(sig: NodeJS.Signals): void {
    if (alive(this.proc)) process.kill(this.pid, sig);
  }

  /** Signals this pid and waits (bounded) for it to exit. */
  async stop(sig: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.signal(sig);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`monitor pid ${this.pid} did not exit after ${sig}; stderr: ${this.stderr}`)), 5000);
    });
    try {
      return await Promise.race([this.exited, late]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Starts `mptcp-pm -n NETNS ARGS…`; a pid still running at the end of the test is continued and killed. */
function monitor(netns: string, args: string[], stdout: 'pipe' | Writable = 'pipe'): Monitor {
  const m = new Monitor(spawn(process.execPath, [MAIN, '-n', netns, ...args], { stdio: ['ignore', stdout, 'pipe'] }));
  cleanup.push(async () => {
    if (!alive(m.proc)) return;
    m.signal('SIGCONT');
    m.signal('SIGKILL');
    await m.exited;
  });
  return m;
}

/** Generic-netlink sockets of a namespace that joined a multicast group, from /proc/net/netlink. */
async function subscribers(ns: TestNetns): Promise<Array<{ drops: number }>> {
  const table = await ns.exec('cat', ['/proc/net/netlink']);
  return table.split('\n').slice(1).map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 10 && f[1] === '16' && /[1-9a-f]/.test(f[3]))
    .map((f) => ({ drops: Number(f[8]) }));
}

async function subscribed(ns: TestNetns, n: number): Promise<void> {
  await waitFor(async () => (await subscribers(ns)).length >= n, { timeoutMs: 10_000, intervalMs: 25, what: `${n} event subscribers in ${ns.name}` });
}

/** The scheduler state letter of a pid (`T` once stopped). */
function procState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
}

describe('mptcp-pm userspace-PM commands and monitor on live connections', () => {
  it('opens, lists, announces, marks backup, destroys and removes on a live connection; both monitors see it', { timeout: 30_000 }, async () => {
    const t = await topology('cliu');
    const [p1, p2] = t.paths;
    const C = t.client.name;
    const S = t.server.name;
    const port = 5000;
    const announced = '203.0.113.1';
    await t.client.ip('addr', 'add', `${announced}/32`, 'dev', p2.ifname);

    await ok(cli(C, 'path-manager', 'userspace'));
    expect(await ok(cli(C, 'path-manager'))).toBe('userspace\n');
    expect(await ok(cli(S, 'path-manager'))).toBe('kernel\n');

    // The client-side monitor is also the events listener the userspace PM needs.
    const monC = monitor(C, ['-j', 'monitor', '--json-format', 'native']);
    const monS = monitor(S, ['-j', 'monitor', '--json-format', 'native']);
    await subscribed(t.client, 1);
    await subscribed(t.server, 1);

    const srv = await t.peer(t.server, ['server', '--addr', '0.0.0.0', '--port', String(port)]);
    await srv.waitLine(/^READY/);
    const peer = await t.peer(t.client, ['client', '--addr', p1.server, '--port', String(port), '--hold', '--send', '10']);
    const connected = await peer.waitLine(/^CONNECTED \S+ (\d+) token=(\d+)/);

    const est = await monC.waitObject('client established', (o) => o.type === 'established');
    const token = est.token as string;
    expect(token).toMatch(/^[0-9a-f]{8}$/);
    expect(parseInt(token, 16)).toBe(Number(connected[2]));
    expect(est).toMatchObject({
      family: 'inet', localAddress: p1.client, localPort: Number(connected[1]), remoteAddress: p1.server, remotePort: port,
      localId: 0, remoteId: 0, serverSide: false,
    });
    const serverToken = (await monS.waitObject('server established', (o) => o.type === 'established')).token as string;
    expect(serverToken).toMatch(/^[0-9a-f]{8}$/);

    // subflow create, over path 2.
    await ok(cli(C, 'subflow', 'create', 'token', token, 'local', p2.client, 'id', '5', 'remote', p2.server, 'port', String(port)));
    const subC = await monC.waitObject('client subEstablished', (o) => o.type === 'subEstablished');
    expect(subC).toMatchObject({
      token, family: 'inet', localAddress: p2.client, remoteAddress: p2.server, remotePort: port, localId: 5, backup: false,
    });
    const subPort = subC.localPort as number;
    expect(subPort).toBeGreaterThan(0);
    const subS = await monS.waitObject('server subEstablished', (o) => o.type === 'subEstablished');
    expect(subS).toMatchObject({
      token: serverToken, family: 'inet', localAddress: p2.server, localPort: port, remoteAddress: p2.client, remotePort: subPort,
      remoteId: 5, localId: subC.remoteId, backup: false,
    });

    // addresses, text and JSON, token with and without 0x.
    expect(await ok(cli(C, 'addresses', 'token', `0x${token}`))).toBe(`${p2.client} id 5 subflow \n`);
    expect(JSON.parse(await ok(cli(C, '-j', 'addresses', 'token', token)))).toEqual([{ address: p2.client, id: 5, subflow: true }]);

    // announce.
    await ok(cli(C, 'announce', announced, 'id', '9', 'token', token));
    expect(await monS.waitObject('server announced', (o) => o.type === 'announced')).toMatchObject({
      token: serverToken, family: 'inet', remoteAddress: announced, remoteId: 9,
    });
    expect(await ok(cli(C, 'addresses', 'token', token))).toBe(`${p2.client} id 5 subflow \n${announced} id 9 signal \n`);
    expect(JSON.parse(await ok(cli(C, '-j', 'addresses', 'token', `0X${token.toUpperCase()}`)))).toEqual([
      { address: p2.client, id: 5, subflow: true },
      { address: announced, id: 9, signal: true },
    ]);

    // subflow backup: MP_PRIO, seen by the server.
    await ok(cli(C, 'subflow', 'backup', 'token', `0x${token}`, 'local', p2.client, 'remote', p2.server));
    expect(await monS.waitObject('server subPriority', (o) => o.type === 'subPriority')).toMatchObject({
      token: serverToken, localAddress: p2.server, localPort: port, remoteAddress: p2.client, remotePort: subPort, backup: true,
    });

    // subflow destroy, with the ports the client monitor printed.
    await ok(cli(C, 'subflow', 'destroy', 'token', token, 'local', p2.client, 'port', String(subPort), 'remote', p2.server, 'port', String(subC.remotePort)));
    expect(await monC.waitObject('client subClosed', (o) => o.type === 'subClosed')).toMatchObject({
      token, localAddress: p2.client, localPort: subPort, remoteAddress: p2.server, remotePort: port, localId: 5,
    });
    expect(await monS.waitObject('server subClosed', (o) => o.type === 'subClosed')).toMatchObject({
      token: serverToken, localAddress: p2.server, localPort: port, remoteAddress: p2.client, remotePort: subPort,
    });

    // remove.
    await ok(cli(C, 'remove', 'id', '9', 'token', `0x${token}`));
    expect(await monS.waitObject('server removed', (o) => o.type === 'removed')).toEqual({ type: 'removed', token: serverToken, remoteId: 9 });
    expect(await ok(cli(C, 'addresses', 'token', token))).toBe('');

    peer.send('close');
    await monC.waitObject('client closed', (o) => o.type === 'closed');
    await monS.waitObject('server closed', (o) => o.type === 'closed');
    srv.send('close');
    await monS.waitObject('server listenerClosed', (o) => o.type === 'listenerClosed');

    expect(await monC.stop('SIGINT')).toEqual({ code: 0, signal: null });
    expect(await monS.stop('SIGINT')).toEqual({ code: 0, signal: null });
    expect(monC.stderr).toBe('');
    expect(monS.stderr).toBe('');
    expect(monC.objects().map((o) => o.type)).toEqual(['created', 'established', 'subEstablished', 'subClosed', 'closed']);
    expect(monS.objects().map((o) => o.type)).toEqual([
      'listenerCreated', 'created', 'established', 'subEstablished', 'announced', 'subPriority', 'subClosed', 'removed',
      'closed', 'listenerClosed',
    ]);
    for (const o of monC.objects()) expect(o.token).toBe(token);
    for (const o of monS.objects().filter((e) => !String(e.type).startsWith('listener'))) expect(o.token).toBe(serverToken);
  });

  it('reports events lost while its reader is stopped, then goes on printing', { timeout: 30_000 }, async () => {
    const t = await topology('clio');
    const [p1] = t.paths;
    const port = 5100;
    const mon = monitor(t.client.name, ['-j', 'monitor', '--json-format', 'native', '--rcvbuf', '4096']);
    await subscribed(t.client, 1);
    const srv = await t.peer(t.server, ['server', '--addr', '0.0.0.0', '--port', String(port), '--count', '0', '--quiet']);
    await srv.waitLine(/^READY/);

    mon.signal('SIGSTOP');
    try {
      await waitFor(() => procState(mon.pid) === 'T', { timeoutMs: 5000, intervalMs: 10, what: `pid ${mon.pid} stopped` });
      const burst = await t.peer(t.client, ['client', '--addr', p1.server, '--port', String(port), '--count', '40', '--quiet']);
      await burst.waitLine(/^DONE/, 15_000);
      await waitFor(async () => (await subscribers(t.client)).some((s) => s.drops > 0), {
        timeoutMs: 5000, intervalMs: 20, what: 'the kernel dropping events for the stopped monitor',
      });
    } finally {
      mon.signal('SIGCONT');
    }

    const lost = Number((await mon.waitStderr(/overrun: (\d+) events? lost/, 'an overrun line'))[1]);
    expect(lost).toBeGreaterThan(0);

    // Events after the overrun still arrive.
    const after = await t.peer(t.client, ['client', '--addr', p1.server, '--port', String(port)]);
    const localPort = Number((await after.waitLine(/^CONNECTED \S+ (\d+)/))[1]);
    await mon.waitObject('an event of the connection made after the overrun', (o) => o.localPort === localPort);

    // Every loss is reported, as counted by the kernel (the Drops column of the monitor's socket).
    const reported = (): number[] => [...mon.stderr.matchAll(/^mptcp-pm: overrun: (\d+) events? lost$/gm)].map((m) => Number(m[1]));
    const sum = (): number => reported().reduce((n, x) => n + x, 0);
    let drops = -1;
    await waitFor(async () => {
      drops = (await subscribers(t.client)).reduce((n, s) => n + s.drops, 0);
      return drops > 0 && sum() === drops;
    }, { timeoutMs: 5000, intervalMs: 20, what: `the reported losses to add up to the kernel's drop count (${reported().join('+')} vs ${drops})` });

    srv.send('close');
    expect(await mon.stop('SIGINT')).toEqual({ code: 0, signal: null });
    expect(mon.stderr.split('\n').filter((l) => l !== '')).toHaveLength(reported().length);
    for (const line of mon.lines) expect(JSON.parse(line)).toHaveProperty('type');
  });

  it('ends with status 0 and no stack trace when its reader goes away (monitor | head -n 1)', { timeout: 30_000 }, async () => {
    const t = await topology('clip');
    const [p1] = t.paths;
    const port = 5200;
    const head = spawn('head', ['-n', '1'], { stdio: ['pipe', 'pipe', 'pipe'] });
    cleanup.push(() => {
      if (alive(head)) process.kill(head.pid as number, 'SIGKILL');
    });
    let headOut = '';
    head.stdout.setEncoding('utf8');
    head.stdout.on('data', (d: string) => void (headOut += d));
    const headExited = new Promise<number | null>((resolve) => head.once('exit', (code) => resolve(code)));
    const mon = monitor(t.client.name, ['monitor'], head.stdin);
    head.stdin.destroy(); // the monitor holds the only write end, as in a shell pipeline
    await subscribed(t.client, 1);

    // In the client namespace: a listener (one line, which head prints before it exits), then a connection.
    const srv = await t.peer(t.client, ['server', '--addr', p1.client, '--port', String(port)]);
    await srv.waitLine(/^READY/);
    expect(await headExited).toBe(0);
    expect(headOut).toBe(`[LISTENER_CREATED] family=inet saddr4=${p1.client} sport=${port}\n`);

    const peer = await t.peer(t.client, ['client', '--addr', p1.client, '--port', String(port), '--hold']);
    await peer.waitLine(/^CONNECTED/);
    let timer: NodeJS.Timeout | undefined;
    const end = await Promise.race([
      mon.exited,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`monitor still running after its reader went away; stderr: ${mon.stderr}`)), 10_000);
      }),
    ]).finally(() => clearTimeout(timer));
    expect(end).toEqual({ code: 0, signal: null });
    expect(mon.stderr).toBe('');
  });
});
