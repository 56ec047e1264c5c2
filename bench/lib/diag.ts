// Diag phase: N MPTCP connections held open with one extra subflow each (bench/load/mptcp_load.py
// hold), then MptcpDiag.connections() against `ss -Mtni` on the same sockets in the same run.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MptcpDiag } from '../../src/mptcp/diag/diag.js';
import { REPO } from './cref.js';
import { trackChild, untrackChild } from './netns.js';
import { SYSTEM_PYTHON } from './peers.js';
import type { Topology } from './storm.js';
import { haveNodeExporter, measureScrape, scrapeLines, type ScrapeResult } from './scrape.js';

const LOAD = join(REPO, 'bench', 'load', 'mptcp_load.py');

export interface DiagResult {
  connections: number;
  subflows: number;
  rounds: number;
  /** Median wall time of one full read, ms. */
  libraryMs: number;
  /** `ip netns exec NS ss -Mtni`, output discarded; and `ip netns exec NS true` alone (process start cost). */
  ssMs: number;
  netnsExecMs: number;
  /** `ip netns exec NS node dist/src/cli/main.js connections -j`, output discarded (the command as a whole process); NaN without a build. */
  cliMs: number;
  /** library / ss, and library / (ss − the `ip netns exec true` cost). */
  ratio: number;
  ratioWithoutExec: number;
  /** Bytes of JS heap the result holds (after GC), and the peak heap growth during one read. */
  resultHeapBytes: number;
  peakHeapBytes: number;
  /** Max RSS of one `ss -Mtni` run, bytes (getrusage of the child). */
  ssMaxRssBytes: number;
  /** ss lines for MPTCP sockets, to show it saw the same sockets. */
  ssMptcpSockets: number;
  /** The exporter against node_exporter on the same connections (absent without node_exporter). */
  scrape?: ScrapeResult;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function gcFn(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

function timeSync(cmd: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(cmd[0], cmd.slice(1), { stdio: ['ignore', 'ignore', 'inherit'], maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} exited with ${r.status}`);
  return performance.now() - t0;
}

/** Holds `count` connections from the client namespace; resolves with a release function. */
async function hold(t: Topology, count: number): Promise<{ release: () => Promise<void>; joined: number }> {
  const child = spawn('ip', ['netns', 'exec', t.cli, SYSTEM_PYTHON, LOAD, 'hold', '192.0.2.2', '5201', String(count)], { stdio: ['pipe', 'pipe', 'inherit'] });
  trackChild(child.pid);
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  const release = async (): Promise<void> => {
    child.stdin.end();
    const timer = setTimeout(() => child.pid !== undefined && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
    untrackChild(child.pid);
  };
  const joined = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('hold client did not report within 120 s')), 120_000);
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /held (\d+) (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[2]));
      }
    });
    child.on('exit', (code) => reject(new Error(`hold client exited (${code})`)));
  });
  return { release, joined };
}

export async function measureDiag(t: Topology, count: number, rounds: number): Promise<DiagResult> {
  const held = await hold(t, count);
  const gc = gcFn();
  const diag = await MptcpDiag.open({ netns: t.cli });
  try {
    const first = await diag.connections();
    const lib: number[] = [];
    const ss: number[] = [];
    const exec: number[] = [];
    const cli: number[] = [];
    const main = join(REPO, 'dist', 'src', 'cli', 'main.js');
    let peak = 0;
    for (let i = 0; i < rounds; i++) {
      gc();
      const h0 = process.memoryUsage().heapUsed;
      const t0 = performance.now();
      const r = await diag.connections();
      lib.push(performance.now() - t0);
      peak = Math.max(peak, process.memoryUsage().heapUsed - h0);
      if (r.length !== first.length) throw new Error(`connections changed during the bench: ${first.length} then ${r.length}`);
      ss.push(timeSync(['ip', 'netns', 'exec', t.cli, 'ss', '-Mtni']));
      exec.push(timeSync(['ip', 'netns', 'exec', t.cli, 'true']));
      if (existsSync(main)) cli.push(timeSync(['ip', 'netns', 'exec', t.cli, process.execPath, main, 'connections', '-j']));
    }
    gc();
    const h0 = process.memoryUsage().heapUsed;
    let kept: unknown = await diag.connections();
    gc();
    const resultHeapBytes = process.memoryUsage().heapUsed - h0;
    kept = undefined;
    void kept;
    const rss = spawnSync('ip', ['netns', 'exec', t.cli, SYSTEM_PYTHON, '-c',
      'import resource,subprocess;subprocess.run(["ss","-Mtni"],stdout=subprocess.DEVNULL);print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)'], { encoding: 'utf8' });
    const ssText = spawnSync('ip', ['netns', 'exec', t.cli, 'ss', '-Mtni'], { encoding: 'utf8', maxBuffer: 1 << 30 }).stdout;
    const scrape = haveNodeExporter() ? measureScrape(t.cli, rounds * 3) : undefined;
    const libraryMs = median(lib);
    const ssMs = median(ss);
    const netnsExecMs = median(exec);
    return {
      connections: first.length,
      subflows: first.reduce((n, c) => n + c.subflows.length, 0),
      rounds, libraryMs, ssMs, netnsExecMs, cliMs: cli.length ? median(cli) : NaN,
      ratio: libraryMs / ssMs,
      ratioWithoutExec: libraryMs / Math.max(0.001, ssMs - netnsExecMs),
      resultHeapBytes, peakHeapBytes: peak,
      ssMaxRssBytes: Number(rss.stdout.trim()) * 1024,
      ssMptcpSockets: ssText.split('\n').filter((l) => l.startsWith('mptcp')).length,
      ...(scrape ? { scrape } : {}),
    };
  } finally {
    diag.close();
    await held.release();
  }
}

/** Report lines for the diag phase. */
export function diagLines(d: DiagResult): string[] {
  const mib = (b: number): string => `${(b / 1048576).toFixed(1)} MiB`;
  return [
    `Connection dump (client namespace): ${d.connections} MPTCP connections, ${d.subflows} subflows (ss saw ${d.ssMptcpSockets} MPTCP sockets); median of ${d.rounds}:`,
    `  MptcpDiag.connections(): ${d.libraryMs.toFixed(1)} ms   ss -Mtni: ${d.ssMs.toFixed(1)} ms (of which ${d.netnsExecMs.toFixed(1)} ms is starting \`ip netns exec\`)`,
    `  ratio library/ss: ${d.ratio.toFixed(2)}×, ${d.ratioWithoutExec.toFixed(2)}× against ss without the exec start-up`,
    ...(Number.isNaN(d.cliMs) ? [] : [`  mptcp-pm connections -j (whole process, output discarded): ${d.cliMs.toFixed(1)} ms, ${(d.cliMs / d.ssMs).toFixed(2)}× ss -Mtni (bar ≤ 3×)`]),
    `  memory: the result holds ${mib(d.resultHeapBytes)} of JS heap, heap grew ${mib(d.peakHeapBytes)} during a read; ss -Mtni max RSS ${mib(d.ssMaxRssBytes)}`,
    ...(d.scrape ? scrapeLines(d.scrape, d.connections) : ['  exporter scrape: node_exporter (Debian prometheus-node-exporter) not installed, not compared']),
  ];
}
