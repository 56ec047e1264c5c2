// Test-only two-host MPTCP topology: a client and a server namespace joined by two veth pairs (two
// paths), plus the python3 MPTCP peer run inside them as child processes that tests drive line by line.

import { afterEach } from 'vitest';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { makeNetns, scaled, type TestNetns } from './netns.js';
import { MptcpEvents, type EstablishedEvent, type MptcpEvent, type StreamItem, type SubEstablishedEvent } from '../../src/mptcp/events/events.js';
import { MptcpPm } from '../../src/mptcp/pm/pm.js';
import type { Endpoint } from '../../src/mptcp/pm/endpoint.js';

/** One path: the addresses at each end and the interface names in each namespace. */
export interface Path {
  client: string;
  server: string;
  client6: string;
  server6: string;
  /** Interface name (the same in both namespaces). */
  ifname: string;
}

/** Two namespaces, two paths; see {@link makeTopology}. */
export interface Topology {
  client: TestNetns;
  server: TestNetns;
  /** Path 1: 192.0.2.0/24 (2001:db8:1::/64); path 2: 198.51.100.0/24 (2001:db8:2::/64). */
  paths: [Path, Path];
  /** Kills the peers started through this topology and removes both namespaces. Idempotent. */
  destroy(): Promise<void>;
  /** Starts the python3 MPTCP peer in a namespace; killed by {@link destroy}. */
  peer(ns: TestNetns, args: string[], opts?: { timeoutS?: number }): Promise<Peer>;
}

export const PATHS: [Path, Path] = [
  { client: '192.0.2.1', server: '192.0.2.2', client6: '2001:db8:1::1', server6: '2001:db8:1::2', ifname: 'path1' },
  { client: '198.51.100.1', server: '198.51.100.2', client6: '2001:db8:2::1', server6: '2001:db8:2::2', ifname: 'path2' },
];

/**
 * Creates `client` and `server` namespaces (unique names, removed at the end of the test file even
 * when a test fails) joined by veth pairs `path1` and `path2`, addresses up and MPTCP enabled.
 * Both namespaces start on the in-kernel path manager with its default limits.
 */
export async function makeTopology(tag: string): Promise<Topology> {
  const client = await makeNetns(`${tag}c`);
  const server = await makeNetns(`${tag}s`).catch(async (e: unknown) => {
    await client.destroy();
    throw e;
  });
  const peers = new Set<Peer>();
  const destroy = async (): Promise<void> => {
    for (const p of peers) p.kill();
    await Promise.all([...peers].map((p) => p.exited));
    peers.clear();
    await client.destroy();
    await server.destroy();
  };
  try {
    for (const p of PATHS) {
      await client.ip('link', 'add', p.ifname, 'type', 'veth', 'peer', 'name', p.ifname, 'netns', server.name);
      await client.ip('addr', 'add', `${p.client}/24`, 'dev', p.ifname);
      await server.ip('addr', 'add', `${p.server}/24`, 'dev', p.ifname);
      await client.ip('-6', 'addr', 'add', `${p.client6}/64`, 'dev', p.ifname, 'nodad');
      await server.ip('-6', 'addr', 'add', `${p.server6}/64`, 'dev', p.ifname, 'nodad');
      await client.ip('link', 'set', p.ifname, 'up');
      await server.ip('link', 'set', p.ifname, 'up');
    }
    for (const ns of [client, server]) await ns.exec('sysctl', ['-qw', 'net.mptcp.enabled=1']);
  } catch (e) {
    await destroy();
    throw e;
  }
  return {
    client,
    server,
    paths: PATHS,
    destroy,
    peer: async (ns, args, opts = {}) => {
      const p = startPeer(ns, args, scaled(opts.timeoutS ?? 20));
      peers.add(p);
      void p.exited.then(() => peers.delete(p));
      return p;
    },
  };
}

const PEER_SCRIPT = fileURLToPath(new URL('./mptcp_peer.py', import.meta.url));

/** A running python3 MPTCP peer: its status lines, a way to wait for one, stdin commands. */
export interface Peer {
  readonly pid: number;
  readonly lines: string[];
  /** Resolves with the first status line (old or new) matching `re`; rejects after `timeoutMs` (scaled). */
  waitLine(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Writes one command line to the peer's stdin. */
  send(command: string): void;
  /** SIGKILL to this pid (only this process). */
  kill(): void;
  /** Resolves with the exit code once the process is gone. */
  readonly exited: Promise<number | null>;
}

function startPeer(ns: TestNetns, args: string[], timeoutS: number): Peer {
  const child: ChildProcessWithoutNullStreams = spawn('ip', ['netns', 'exec', ns.name, 'python3', PEER_SCRIPT, ...args, '--timeout', String(timeoutS)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  let buf = '';
  let done = false;
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      lines.push(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
    }
    for (const w of [...waiters]) w();
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c: string) => (stderr += c));
  child.stdin.on('error', () => undefined); // the peer may exit before reading
  const exited = new Promise<number | null>((resolve) => {
    child.on('close', (code) => {
      done = true;
      for (const w of [...waiters]) w();
      resolve(code);
    });
  });
  return {
    pid: child.pid ?? -1,
    lines,
    exited,
    send: (command) => {
      if (!done) child.stdin.write(`${command}\n`);
    },
    kill: () => {
      if (!done && child.pid !== undefined) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    },
    waitLine: (re, wait = 10_000) =>
      new Promise((resolve, reject) => {
        const timeoutMs = scaled(wait);
        let from = 0;
        const check = (): void => {
          for (; from < lines.length; from++) {
            const m = re.exec(lines[from]);
            if (m) {
              finish();
              resolve(m);
              return;
            }
          }
          if (done) {
            finish();
            reject(new Error(`peer ${args.join(' ')} exited without printing ${re}; output: ${lines.join(' | ')} ${stderr}`));
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`timed out after ${timeoutMs} ms waiting for peer line ${re}; output: ${lines.join(' | ')} ${stderr}`));
        }, timeoutMs);
        const finish = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      }),
  };
}

/** Every event one MptcpEvents delivered, with a bounded wait for the next one that matches. */
export class EventLog {
  readonly items: (StreamItem & { at: number })[] = [];
  private readonly waiters = new Set<() => void>();

  constructor(readonly events: MptcpEvents) {
    events.on('event', (e) => this.add(e));
    events.on('overrun', (o) => this.add(o));
  }

  /** Events only (overruns left out). */
  get list(): (MptcpEvent & { at: number })[] {
    return this.items.filter((i): i is MptcpEvent & { at: number } => i.type !== 'overrun');
  }

  /** Resolves with the first item (already logged or to come) that `match` accepts; rejects after `timeoutMs` (scaled). */
  waitFor<T extends StreamItem>(what: string, match: (e: StreamItem) => e is T, timeoutMs?: number): Promise<T>;
  waitFor(what: string, match: (e: StreamItem) => boolean, timeoutMs?: number): Promise<StreamItem>;
  waitFor(what: string, match: (e: StreamItem) => boolean, wait = 10_000): Promise<StreamItem> {
    const timeoutMs = scaled(wait);
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const hit = this.items.find(match);
        if (!hit) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(hit);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; have: ${this.items.map((i) => i.type).join(', ')}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** Resolves once `count(items)` reaches `n`; rejects after `timeoutMs` (scaled) saying how far it got. */
  waitCount(what: string, count: (items: StreamItem[]) => number, n: number, wait = 10_000): Promise<void> {
    const timeoutMs = scaled(wait);
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (count(this.items) < n) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${n} ${what}; got ${count(this.items)}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  private add(item: StreamItem): void {
    this.items.push({ ...item, at: performance.now() });
    for (const w of [...this.waiters]) w();
  }
}

/** What {@link runUserspaceScenario} saw and did. */
export interface ScenarioResult {
  /** Events of the client and the server namespace, from before the server listened to the end. */
  client: EventLog;
  server: EventLog;
  clientToken: number;
  serverToken: number;
  /** The subflow the test opened over path 2, as the client saw it established. */
  subflow: SubEstablishedEvent;
  /** listAddresses(clientToken) after the announce (kernels with features.addressesByToken). */
  addresses?: Endpoint[];
  /** getAddress(clientToken, 9) after the announce (kernels with features.addressesByToken). */
  announcedAddress?: Endpoint;
  /** Port the server listened on. */
  port: number;
}

/** The address the scenario announces (on the client's path-2 interface) and its id. */
export const ANNOUNCED = { address: '203.0.113.1', id: 9 } as const;
/** Local id the scenario gives its path-2 subflow. */
export const SUBFLOW_ID = 5;

/**
 * The userspace-PM scenario, with the test as the path manager of the client namespace: the
 * server listens on port 5000, the client connects over path 1; on `established` the test opens a
 * subflow over path 2, announces 203.0.113.1 id 9, marks the subflow backup, removes id 9,
 * destroys the subflow, closes the connection and the listener. Each step waits (bounded) for the
 * event that proves it before the next one (the listener's close: where the kernel reports it).
 */
export async function runUserspaceScenario(t: Topology, waitMs = 10_000): Promise<ScenarioResult> {
  const [p1, p2] = t.paths;
  const port = 5000;
  await t.client.ip('addr', 'add', `${ANNOUNCED.address}/32`, 'dev', p2.ifname);
  const pm = await MptcpPm.open({ netns: t.client.name });
  const evC = await MptcpEvents.open({ netns: t.client.name });
  const evS = await MptcpEvents.open({ netns: t.server.name });
  try {
    await pm.setPathManager('userspace');
    const client = new EventLog(evC);
    const server = new EventLog(evS);
    // The test is the path manager: it opens the path-2 subflow when the connection is established.
    const opened = new Promise<void>((resolve, reject) => {
      evC.once('established', (e) => {
        pm.createSubflow({ token: e.token, local: { address: p2.client, id: SUBFLOW_ID }, remote: { address: p2.server, port: e.remotePort ?? port } })
          .then(resolve, reject);
      });
    });
    const srv = await t.peer(t.server, ['server', '--addr', '0.0.0.0', '--port', String(port)]);
    await srv.waitLine(/^READY/, waitMs);
    const cli = await t.peer(t.client, ['client', '--addr', p1.server, '--port', String(port), '--hold', '--send', '10']);
    await cli.waitLine(/^CONNECTED/, waitMs);
    await opened;
    const isSub = (e: StreamItem): e is SubEstablishedEvent => e.type === 'subEstablished';
    const subflow = await client.waitFor('client subEstablished', isSub, waitMs);
    await server.waitFor('server subEstablished', isSub, waitMs);
    const clientToken = subflow.token;
    const serverToken = (await server.waitFor('server established', (e): e is EstablishedEvent => e.type === 'established', waitMs)).token;

    await pm.announce({ token: clientToken, address: ANNOUNCED.address, id: ANNOUNCED.id });
    await server.waitFor('server announced', (e) => e.type === 'announced', waitMs);
    const byToken = pm.features.addressesByToken;
    const addresses = byToken ? await pm.listAddresses(clientToken) : undefined;
    const announcedAddress = byToken ? await pm.getAddress(clientToken, ANNOUNCED.id) : undefined;

    await pm.setSubflowBackup({ token: clientToken, local: { address: p2.client }, remote: { address: p2.server }, backup: true });
    await server.waitFor('server subPriority', (e) => e.type === 'subPriority', waitMs);

    await pm.removeAddress({ token: clientToken, id: ANNOUNCED.id });
    await server.waitFor('server removed', (e) => e.type === 'removed', waitMs);

    await pm.destroySubflow({
      token: clientToken,
      local: { address: p2.client, port: subflow.localPort ?? 0 },
      remote: { address: p2.server, port: subflow.remotePort ?? 0 },
    });
    await client.waitFor('client subClosed', (e) => e.type === 'subClosed', waitMs);
    await server.waitFor('server subClosed', (e) => e.type === 'subClosed', waitMs);

    cli.send('close');
    await client.waitFor('client closed', (e) => e.type === 'closed', waitMs);
    await server.waitFor('server closed', (e) => e.type === 'closed', waitMs);
    srv.send('close');
    if (pm.features.listenerEvents) await server.waitFor('server listenerClosed', (e) => e.type === 'listenerClosed', waitMs);
    await Promise.all([cli.exited, srv.exited]);
    return { client, server, clientToken, serverToken, subflow, addresses, announcedAddress, port };
  } finally {
    evC.close();
    evS.close();
    pm.close();
  }
}

/**
 * Per-test resources for kernel test files: `cleanup` runs in reverse order after each test (also
 * when it failed), and `topology(tag)` builds a topology whose removal is registered there.
 */
export function testResources(): { cleanup: (() => unknown)[]; topology: (tag: string) => Promise<Topology> } {
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f();
  });
  return {
    cleanup,
    topology: async (tag) => {
      const t = await makeTopology(tag);
      cleanup.push(() => t.destroy());
      return t;
    },
  };
}

