// Exporter scrape against node_exporter (Debian's prometheus-node-exporter, netstat + tcpstat
// collectors only) on the same held connections: both serve on loopback in the client namespace and
// a python client there scrapes them in alternation; latency per scrape (median) and the server's CPU
// over all its scrapes (schedstat of every thread).

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { trackChild, untrackChild } from './netns.js';
import { cpuMs } from './proc.js';
import { SYSTEM_PYTHON } from './peers.js';

const MAIN = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));
const NODE_EXPORTER = '/usr/bin/prometheus-node-exporter';

export interface ScrapeResult {
  scrapes: number;
  mptcpPmMs: number;
  mptcpPmCpuMs: number;
  mptcpPmBytes: number;
  nodeExporterMs: number;
  nodeExporterCpuMs: number;
  nodeExporterBytes: number;
}


/** Scrapes URL1 and URL2 in alternation N times each; prints per-scrape ms lists and body sizes as JSON. */
const SCRAPER = `
import json, sys, time, urllib.request
urls = sys.argv[1:3]; n = int(sys.argv[3])
def get(u):
    t = time.perf_counter(); b = urllib.request.urlopen(u, timeout=30).read(); return (time.perf_counter() - t) * 1000, len(b)
for u in urls:
    for _ in range(30):
        try: get(u); break
        except OSError: time.sleep(0.2)
mode = sys.argv[4]
out = {u: [] for u in urls}; size = {}
if mode == 'warm':
    for u in urls: get(u)
    print(json.dumps({})); sys.exit(0)
for i in range(n):
    for u in (urls if i % 2 == 0 else urls[::-1]):
        ms, sz = get(u); out[u].append(ms); size[u] = sz
print(json.dumps({'ms': out, 'size': size}))
`;

function start(ns: string, cmd: string[]): ChildProcess {
  const child = spawn('ip', ['netns', 'exec', ns, ...cmd], { stdio: ['ignore', 'ignore', 'ignore'] });
  trackChild(child.pid);
  return child;
}

function stop(c: ChildProcess): void {
  untrackChild(c.pid);
  if (c.exitCode === null) c.kill('SIGKILL');
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Whether node_exporter is installed (Debian package prometheus-node-exporter). */
export function haveNodeExporter(): boolean {
  return spawnSync(NODE_EXPORTER, ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Both exporters in namespace `ns`, `n` scrapes each in alternation. */
export function measureScrape(ns: string, n: number): ScrapeResult {
  const ours = start(ns, [process.execPath, MAIN, 'exporter', '--listen', '127.0.0.1:19101']);
  const theirs = start(ns, [NODE_EXPORTER, '--web.listen-address=127.0.0.1:19100', '--collector.disable-defaults', '--collector.netstat', '--collector.tcpstat']);
  const urls = ['http://127.0.0.1:19101/metrics', 'http://127.0.0.1:19100/metrics'];
  const run = (mode: string): { ms: Record<string, number[]>; size: Record<string, number> } => {
    const r = spawnSync('ip', ['netns', 'exec', ns, SYSTEM_PYTHON, '-c', SCRAPER, ...urls, String(n), mode], { encoding: 'utf8', timeout: 300_000 });
    if (r.status !== 0) throw new Error(`scraper failed: ${r.stderr}`);
    return JSON.parse(r.stdout);
  };
  try {
    run('warm');
    const c0 = [cpuMs(ours.pid!), cpuMs(theirs.pid!)];
    const r = run('measure');
    const c1 = [cpuMs(ours.pid!), cpuMs(theirs.pid!)];
    return {
      scrapes: n,
      mptcpPmMs: median(r.ms[urls[0]]), mptcpPmCpuMs: (c1[0] - c0[0]) / n, mptcpPmBytes: r.size[urls[0]],
      nodeExporterMs: median(r.ms[urls[1]]), nodeExporterCpuMs: (c1[1] - c0[1]) / n, nodeExporterBytes: r.size[urls[1]],
    };
  } finally {
    stop(ours);
    stop(theirs);
  }
}

export function scrapeLines(s: ScrapeResult, connections: number): string[] {
  return [
    `Exporter scrape, ${connections} connections held (median of ${s.scrapes} alternated scrapes over HTTP on loopback; CPU = the server's, per scrape):`,
    `  mptcp-pm exporter: ${s.mptcpPmMs.toFixed(1)} ms, ${s.mptcpPmCpuMs.toFixed(1)} ms CPU (${s.mptcpPmBytes} bytes)   node_exporter netstat+tcpstat: ${s.nodeExporterMs.toFixed(1)} ms, ${s.nodeExporterCpuMs.toFixed(1)} ms CPU (${s.nodeExporterBytes} bytes)`,
    `  ratio mptcp-pm / node_exporter: latency ${(s.mptcpPmMs / s.nodeExporterMs).toFixed(2)}×, CPU ${(s.mptcpPmCpuMs / s.nodeExporterCpuMs).toFixed(2)}×`,
  ];
}
