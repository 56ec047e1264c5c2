// Losses phase: long-lived MPTCP connections over a two-link client/server pair lose their second
// subflow in three ways (the second link's address removed and re-added, the link down for a while,
// the subflow killed with `ss -K`), under three path-manager setups: the in-kernel PM alone, the
// in-kernel PM with the endpoint reconciler (`auto`), and the userspace PM on `kernelCompatible`.
// A reader of its own (the MPTCP event stream, then a sock_diag dump) says which connections got
// their subflow back and how long after the path was usable again.

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { EndpointReconciler } from '../../src/routing/reconciler.js';
import { MptcpEvents } from '../../src/mptcp/events/events.js';
import { MptcpDiag } from '../../src/mptcp/diag/diag.js';
import type { MptcpConnection } from '../../src/mptcp/diag/model.js';
import { UserspacePathManager } from '../../src/upm/manager.js';
import { KERNEL_COMPATIBLE_BACKOFF, kernelCompatible } from '../../src/upm/policies/kernel-compatible.js';
import { Netns } from '../../src/os/netns.js';
import { RouteSocket } from '../../src/netlink/route/socket.js';
import { RouteGroup } from '../../src/netlink/route/messages.js';
import { linkFrom } from '../../src/netlink/route/ops.js';
import { REPO } from './cref.js';
import { createNetns, deleteNetns, ip, nsExec, trackChild, untrackChild } from './netns.js';
import { SYSTEM_PYTHON } from './peers.js';

const PEER = join(REPO, 'test', 'helpers', 'mptcp_peer.py');
const PORT = 5301;
const P1 = { client: '192.0.2.1', server: '192.0.2.2', dev: 'path1' };
const P2 = { client: '198.51.100.1', server: '198.51.100.2', dev: 'path2' };

export type Setup = 'kernel' | 'auto' | 'kernel-compatible';
/** `address-reset` / `link-reset`: as `address` / `link`, and the subflows are reset while the path is
 * away (what a TCP timeout or a middlebox does to a long outage), so they must be opened again. */
export type LossKind = 'address' | 'link' | 'kill' | 'address-reset' | 'link-reset';
export const SETUPS: Setup[] = ['kernel', 'auto', 'kernel-compatible'];
export const KINDS: LossKind[] = ['address', 'link', 'address-reset', 'link-reset', 'kill'];

/** One loss of one kind, as the reader saw it. */
export interface LossSample {
  setup: Setup;
  kind: LossKind;
  round: number;
  connections: number;
  /** Connections with a working second subflow just before the loss. */
  before: number;
  /** Connections whose second subflow closed during the loss (subClosed seen). */
  lost: number;
  /** Connections with a working subflow from the second address at the end of the wait. */
  restored: number;
  /** Per connection restored: ms from the path being usable again to its second subflow working (a new
   * one established, or the old one with no retransmission timeout outstanding). */
  restoreMs: number[];
  /** Link losses: ms from `ip link set up` returning to the link reported up with carrier (rtnetlink),
   * which is when the path is usable again and the restore time starts. */
  carrierMs?: number;
  /** Userspace PM only: the framework's error lines during the loss (a pair given up says so). */
  errors: string[];
}

export interface LossOptions {
  connections: number;
  rounds: number;
  kinds: LossKind[];
  setups: Setup[];
  /** How long the link or address stays away (ms). */
  downMs: number;
  /** Longest wait for every connection to get its subflow back (ms). */
  waitMs: number;
  log: (s: string) => void;
}

interface Running { stop(): Promise<void>; errors: string[] }

function topology(): { cli: string; srv: string } {
  const cli = createNetns('losses-cli');
  const srv = createNetns('losses-srv');
  for (const p of [P1, P2]) {
    ip('-n', cli, 'link', 'add', p.dev, 'type', 'veth', 'peer', 'name', p.dev, 'netns', srv);
    ip('-n', cli, 'addr', 'add', `${p.client}/24`, 'dev', p.dev);
    ip('-n', srv, 'addr', 'add', `${p.server}/24`, 'dev', p.dev);
    ip('-n', cli, 'link', 'set', p.dev, 'up');
    ip('-n', srv, 'link', 'set', p.dev, 'up');
  }
  for (const ns of [cli, srv]) nsExec(ns, ['sysctl', '-qw', 'net.mptcp.enabled=1']);
  ip('-n', cli, 'mptcp', 'limits', 'set', 'subflows', '2', 'add_addr_accepted', '2');
  // Room on the server for subflows whose reset was lost with the path: they linger there, and at
  // the default limit of 2 the server would refuse the new join.
  ip('-n', srv, 'mptcp', 'limits', 'set', 'subflows', '8', 'add_addr_accepted', '2');
  return { cli, srv };
}

/** The python MPTCP peer in `ns`; resolves once it printed a line matching `ready` (or at once). */
function peer(ns: string, args: string[], ready: RegExp | undefined): Promise<{ kill(): void; send(s: string): void }> {
  const child = spawn('ip', ['netns', 'exec', ns, SYSTEM_PYTHON, PEER, ...args, '--timeout', '3600'], { stdio: ['pipe', 'pipe', 'inherit'] });
  trackChild(child.pid);
  child.stdin.on('error', () => undefined);
  const handle = {
    kill: () => {
      untrackChild(child.pid);
      if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    },
    send: (s: string) => void child.stdin.write(`${s}\n`),
  };
  if (!ready) return Promise.resolve(handle);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`peer ${args[0]} did not start`)), 15_000);
    child.stdout.on('data', (d: Buffer) => {
      if (ready.test(d.toString())) {
        clearTimeout(timer);
        resolve(handle);
      }
    });
    child.on('exit', (code) => reject(new Error(`peer ${args[0]} exited (${code})`)));
  });
}

async function startSetup(setup: Setup, cli: string): Promise<Running> {
  const errors: string[] = [];
  if (setup === 'auto') {
    const r = await EndpointReconciler.start({ netns: cli, rules: [{ interface: P2.dev, flags: ['subflow'] }], ipv6: false });
    r.on('error', (e) => errors.push(e.message));
    return { errors, stop: () => r.stop({ cleanup: true }) };
  }
  ip('-n', cli, 'mptcp', 'endpoint', 'add', P2.client, 'dev', P2.dev, 'subflow');
  if (setup === 'kernel') return { errors, stop: async () => undefined };
  nsExec(cli, ['sysctl', '-qw', 'net.mptcp.path_manager=userspace']);
  const policy = kernelCompatible({ netns: cli });
  const upm = await UserspacePathManager.start({ netns: cli, policy, backoff: KERNEL_COMPATIBLE_BACKOFF });
  upm.on('error', (e) => errors.push(e.error.message));
  return { errors, stop: async () => { await upm.stop(); policy.close(); } };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A subflow from the second address that carries data: established, no retransmission timeout outstanding. */
function working(c: MptcpConnection): boolean {
  return c.subflows.some((s) => s.local.address === P2.client && s.state === 'established' && !s.tcp.retransmits && !s.tcp.backoff);
}

/**
 * Polls sock_diag (every 25 ms, at most `ms`) until `n` connections all have a working second subflow;
 * `seen` gets, per token, the first time it was seen working. Resolves with the last picture.
 */
async function waitAll(d: MptcpDiag, n: number, ms: number, seen?: Map<number, number>): Promise<{ all: number; with: Set<number> }> {
  const until = performance.now() + ms;
  for (;;) {
    const cs = await d.connections();
    const at = performance.now();
    const ok = cs.filter(working);
    for (const c of ok) if (seen && !seen.has(c.token)) seen.set(c.token, at);
    if ((cs.length === n && ok.length === n) || at >= until) return { all: cs.length, with: new Set(ok.map((c) => c.token)) };
    await sleep(25);
  }
}

/** When the second link was last reported up with carrier (rtnetlink): a link is usable from then. */
function linkWatch(cli: string): { runningSince(): number | undefined; close(): void } {
  const ns = Netns.open(cli);
  const sock = RouteSocket.open({ netns: ns, groups: [RouteGroup.link] });
  let since: number | undefined;
  sock.onNotification((msgs) => {
    for (const m of msgs) {
      if (m.kind !== 'link') continue;
      const l = linkFrom(m);
      if (l.name === P2.dev) since = l.up && l.running ? since ?? performance.now() : undefined;
    }
  });
  return { runningSince: () => since, close: () => { sock.close(); ns.close(); } };
}

/** Takes the path away in the way `kind` says; resolves with the time it was usable again. */
async function lose(kind: LossKind, cli: string, downMs: number, link: ReturnType<typeof linkWatch>): Promise<{ usable: number; carrierMs?: number }> {
  if (kind === 'kill') {
    const t = performance.now();
    nsExec(cli, ['ss', '-K', '-t', 'src', P2.client]);
    return { usable: t };
  }
  const address = kind.startsWith('address');
  if (address) ip('-n', cli, 'addr', 'del', `${P2.client}/24`, 'dev', P2.dev);
  else ip('-n', cli, 'link', 'set', P2.dev, 'down');
  if (kind.endsWith('-reset')) {
    await sleep(Math.min(300, downMs / 2));
    nsExec(cli, ['ss', '-K', '-t', 'src', P2.client]);
    await sleep(downMs - Math.min(300, downMs / 2));
  } else {
    await sleep(downMs);
  }
  if (address) {
    ip('-n', cli, 'addr', 'add', `${P2.client}/24`, 'dev', P2.dev);
    return { usable: performance.now() };
  }
  ip('-n', cli, 'link', 'set', P2.dev, 'up');
  const cmd = performance.now();
  // The carrier comes up a little later (the kernel's link watch), and with it the path.
  for (let i = 0; i < 400 && link.runningSince() === undefined; i++) await sleep(5);
  const usable = link.runningSince() ?? performance.now();
  return { usable, carrierMs: usable - cmd };
}

/** One setup in fresh namespaces: `connections` long-lived connections through every loss kind, `rounds` times each. */
export async function lossSetup(setup: Setup, o: LossOptions): Promise<LossSample[]> {
  const { cli, srv } = topology();
  const out: LossSample[] = [];
  let running: Running | undefined;
  const peers: { kill(): void }[] = [];
  let events: MptcpEvents | undefined;
  let diag: MptcpDiag | undefined;
  let link: ReturnType<typeof linkWatch> | undefined;
  try {
    link = linkWatch(cli);
    running = await startSetup(setup, cli);
    peers.push(await peer(srv, ['server', '--addr', '0.0.0.0', '--port', String(PORT), '--count', '0', '--quiet'], /READY/));
    events = await MptcpEvents.open({ netns: cli, types: ['subEstablished', 'subClosed'] });
    diag = await MptcpDiag.open({ netns: cli });
    const ups = new Map<number, number>();
    const downs = new Set<number>();
    events.on('event', (e) => {
      if (e.type !== 'subEstablished' && e.type !== 'subClosed') return;
      if (e.localAddress !== P2.client || e.token === undefined) return;
      if (e.type === 'subClosed') downs.add(e.token);
      else if (!ups.has(e.token)) ups.set(e.token, performance.now());
    });
    const client = await peer(cli, ['client', '--addr', P1.server, '--port', String(PORT), '--hold', '--send', '10', '--count', String(o.connections), '--quiet'], undefined);
    peers.push(client);
    const first = await waitAll(diag, o.connections, 30_000);
    o.log(`  ${setup}: ${first.all} connections, ${first.with.size} with their second subflow`);
    for (const kind of o.kinds) {
      // The in-kernel PM alone never opens a lost subflow again; so that each kind starts from every
      // subflow there, its endpoint is added anew (the kernel then opens it on every connection).
      if (setup === 'kernel' && (await waitAll(diag, o.connections, 0)).with.size < o.connections) {
        ip('-n', cli, 'mptcp', 'endpoint', 'flush');
        ip('-n', cli, 'mptcp', 'endpoint', 'add', P2.client, 'dev', P2.dev, 'subflow');
      }
      for (let round = 1; round <= o.rounds; round++) {
        const start = await waitAll(diag, o.connections, setup === 'kernel' ? 1000 : 5000); // settle (the kernel alone may never)
        await sleep(1000); // losses a second apart: a subflow that stayed up 0.5 s has its failures cleared
        ups.clear();
        downs.clear();
        const seen = new Map<number, number>();
        const errorsBefore = running.errors.length;
        // Data keeps flowing through the loss and the wait, as on a connection in use.
        const traffic = setInterval(() => client.send('send 2000'), 200);
        let usable: number;
        let carrierMs: number | undefined;
        let end: Awaited<ReturnType<typeof waitAll>>;
        try {
          ({ usable, carrierMs } = await lose(kind, cli, o.downMs, link));
          end = await waitAll(diag, o.connections, o.waitMs, seen);
        } finally {
          clearInterval(traffic);
        }
        // A new subflow: when the event said it was established; one that survived: when sock_diag saw it working.
        const restoreMs = [...end.with].map((t) => Math.max(0, (downs.has(t) ? ups.get(t) ?? seen.get(t)! : seen.get(t)!) - usable));
        out.push({ setup, kind, round, connections: end.all, before: start.with.size, lost: downs.size, restored: end.with.size, restoreMs, ...(carrierMs === undefined ? {} : { carrierMs }), errors: running.errors.slice(errorsBefore) });
        o.log(`  ${setup} ${kind} #${round}: had ${start.with.size}, lost ${downs.size}, restored ${end.with.size}/${end.all}`);
      }
    }
  } finally {
    for (const p of peers) p.kill();
    events?.close();
    link?.close();
    diag?.close();
    await running?.stop().catch(() => undefined);
    deleteNetns(cli);
    deleteNetns(srv);
  }
  return out;
}

/** Every setup, one after the other (each in namespaces of its own). */
export async function lossExperiment(o: LossOptions): Promise<LossSample[]> {
  const all: LossSample[] = [];
  for (const setup of o.setups) all.push(...await lossSetup(setup, o));
  return all;
}

function quantile(xs: number[], p: number): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
}

const ms = (v: number | undefined): string => (v === undefined ? '—' : v.toFixed(0));

/** The table: setup × loss kind → connections restored, how many had lost the subflow, restore time p50/p99. */
export function lossLines(samples: LossSample[]): string[] {
  const out = ['| setup | loss | second subflow working: before → after | subflow closed | path usable → subflow working p50 / p99 ms | reported |', '| --- | --- | ---: | ---: | ---: | --- |'];
  for (const setup of SETUPS) {
    for (const kind of KINDS) {
      const s = samples.filter((x) => x.setup === setup && x.kind === kind);
      if (s.length === 0) continue;
      const total = s.reduce((a, x) => a + x.connections, 0);
      const restored = s.reduce((a, x) => a + x.restored, 0);
      const lost = s.reduce((a, x) => a + x.lost, 0);
      const before = s.reduce((a, x) => a + x.before, 0);
      const times = s.flatMap((x) => x.restoreMs);
      const errs = s.flatMap((x) => x.errors);
      const carrier = quantile(s.flatMap((x) => (x.carrierMs === undefined ? [] : [x.carrierMs])), 0.5);
      const label = carrier === undefined ? kind : `${kind} (carrier ${ms(carrier)} ms after up)`;
      out.push(`| ${setup} | ${label} | ${before} → ${restored}/${total} (${((100 * restored) / Math.max(1, total)).toFixed(0)}%) | ${lost} | ${ms(quantile(times, 0.5))} / ${ms(quantile(times, 0.99))} | ${errs.length === 0 ? '—' : errs.slice(0, 2).join('; ')} |`);
    }
  }
  return out;
}
