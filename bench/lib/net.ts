// The socket benchmark: bulk throughput and connections per second of mptcp-pm/net against plain
// node:net TCP and against node:net under `mptcpize run`, over one veth pair between two scratch
// namespaces, each variant as a server and a client process, rounds interleaved.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNetns, deleteNetns, ip, nsExec, startReady } from './netns.js';

const CHILD = join(fileURLToPath(new URL('.', import.meta.url)), 'net-child.mjs');
const SERVER = '192.0.2.2';
const PORT = 5301;

export type NetVariant = 'node:net TCP' | 'mptcp-pm/net' | 'mptcpize run node';
const VARIANTS: NetVariant[] = ['node:net TCP', 'mptcp-pm/net', 'mptcpize run node'];

export interface NetRow {
  variant: NetVariant;
  /** Median over rounds. */
  bulkMBps: number;
  connsPerSec: number;
  /** Ratios to node:net TCP of the same run. */
  bulkRatio: number;
  connsRatio: number;
  /** isMptcp() of the bulk connection (mptcp-pm/net only). */
  mptcp?: boolean;
}

export interface NetResult { rows: NetRow[]; rounds: number; bulkBytes: number; conns: number; concurrency: number }

function command(v: NetVariant, args: string[]): string[] {
  const impl = v === 'mptcp-pm/net' ? 'mptcp-pm' : 'tcp';
  const node = [process.execPath, CHILD, args[0], impl, ...args.slice(1)];
  return v === 'mptcpize run node' ? ['mptcpize', 'run', ...node] : node;
}

function startServer(ns: string, v: NetVariant): Promise<() => void> {
  return startReady(ns, command(v, ['serve', SERVER, String(PORT)]), `${v} server`, 15_000);
}

function runClient(ns: string, v: NetVariant, args: string[]): Record<string, number | boolean> {
  const r = spawnSync('ip', ['netns', 'exec', ns, ...command(v, args)], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`${v} ${args[0]} client failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Record<string, number | boolean>;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Runs `rounds` rounds; in each, every variant serves and is measured (bulk, then connections),
 * in a rotating order so that no variant always goes first.
 */
export async function measureNet(opts: { rounds: number; bulkBytes: number; conns: number; concurrency: number; log: (s: string) => void }): Promise<NetResult> {
  const cli = createNetns('ncli');
  const srv = createNetns('nsrv');
  const samples = new Map<NetVariant, { bulk: number[]; conns: number[]; mptcp?: boolean }>(VARIANTS.map((v) => [v, { bulk: [], conns: [] }]));
  try {
    ip('-n', cli, 'link', 'add', 'n0', 'type', 'veth', 'peer', 'name', 'n1', 'netns', srv);
    ip('-n', cli, 'addr', 'add', '192.0.2.1/24', 'dev', 'n0');
    ip('-n', srv, 'addr', 'add', `${SERVER}/24`, 'dev', 'n1');
    for (const [ns, dev] of [[cli, 'n0'], [srv, 'n1']]) {
      ip('-n', ns, 'link', 'set', dev, 'up');
      nsExec(ns, ['sysctl', '-qw', 'net.mptcp.enabled=1', 'net.ipv4.tcp_tw_reuse=1', 'net.ipv4.ip_local_port_range=10000 60999']);
    }
    for (let r = 0; r < opts.rounds; r++) {
      const order = VARIANTS.map((_, i) => VARIANTS[(i + r) % VARIANTS.length]);
      opts.log(`sockets round ${r + 1}/${opts.rounds}: ${order.join(', ')}`);
      for (const v of order) {
        const stop = await startServer(srv, v);
        try {
          const b = runClient(cli, v, ['bulk', SERVER, String(PORT), String(opts.bulkBytes)]);
          const c = runClient(cli, v, ['conns', SERVER, String(PORT), String(opts.conns), String(opts.concurrency)]);
          const s = samples.get(v)!;
          s.bulk.push(opts.bulkBytes / (b.seconds as number) / 1e6);
          s.conns.push(opts.conns / (c.seconds as number));
          if (typeof b.mptcp === 'boolean') s.mptcp = b.mptcp;
        } finally {
          stop();
        }
      }
    }
  } finally {
    deleteNetns(cli);
    deleteNetns(srv);
  }
  const base = samples.get('node:net TCP')!;
  const rows = VARIANTS.map((v): NetRow => {
    const s = samples.get(v)!;
    const row: NetRow = {
      variant: v, bulkMBps: median(s.bulk), connsPerSec: median(s.conns),
      bulkRatio: median(s.bulk) / median(base.bulk), connsRatio: median(s.conns) / median(base.conns),
    };
    if (s.mptcp !== undefined) row.mptcp = s.mptcp;
    return row;
  });
  return { rows, rounds: opts.rounds, bulkBytes: opts.bulkBytes, conns: opts.conns, concurrency: opts.concurrency };
}

/** The report lines: a table and the bars (≥ 0.95 of plain TCP for mptcp-pm/net). */
export function netLines(n: NetResult): string[] {
  const out = [
    `Sockets (one veth pair; median of ${n.rounds} rounds; bulk: one connection sending ${n.bulkBytes / 2 ** 20} MiB to a sink; ` +
      `connections: ${n.conns} connect / 1 byte each way / close, ${n.concurrency} at a time; ratios to node:net TCP of the same run):`,
    '| variant | bulk MB/s | × TCP | connections/s | × TCP |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...n.rows.map((r) => `| ${r.variant}${r.mptcp === false ? ' (NOT MPTCP)' : ''} | ${r.bulkMBps.toFixed(0)} | ${r.bulkRatio.toFixed(2)} | ${r.connsPerSec.toFixed(0)} | ${r.connsRatio.toFixed(2)} |`),
  ];
  const lib = n.rows.find((r) => r.variant === 'mptcp-pm/net');
  const shim = n.rows.find((r) => r.variant === 'mptcpize run node');
  if (lib && shim) {
    out.push(`mptcp-pm/net against mptcpize run node: bulk ${(lib.bulkMBps / shim.bulkMBps).toFixed(2)}×, connections/s ${(lib.connsPerSec / shim.connsPerSec).toFixed(2)}×`);
  }
  return out;
}

/** The bar lines for mptcp-pm/net (≥ 0.95 × plain TCP for both measures). */
export function netBars(n: NetResult): [boolean, string][] {
  const lib = n.rows.find((r) => r.variant === 'mptcp-pm/net');
  if (!lib) return [];
  return [
    [lib.bulkRatio >= 0.95, `sockets bulk: mptcp-pm/net ${lib.bulkRatio.toFixed(2)}× node:net TCP (bar ≥ 0.95×)`],
    [lib.connsRatio >= 0.95, `sockets connections/s: mptcp-pm/net ${lib.connsRatio.toFixed(2)}× node:net TCP (bar ≥ 0.95×)`],
  ];
}
