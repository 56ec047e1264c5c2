// Cold start of the command: `mptcp-pm -n NS limits show` against a bare `node -e 0` (and `ip`),
// run as pairs in alternating order; the ratio is the median of the per-pair ratios.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The package's bin (the bundled command `npm run build` writes), as an installed `mptcp-pm` runs. */
const MAIN = fileURLToPath(new URL(`../../${(JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { bin: Record<string, string> }).bin['mptcp-pm']}`, import.meta.url));

export interface ColdStartResult {
  runs: number;
  /** Idle footprint: median RSS (MiB) of a process holding one MptcpPm and one MptcpEvents, and of a bare node. */
  idleRssMiB: number;
  nodeRssMiB: number;
  /** Medians of wall-clock time. */
  nodeMs: number;
  cliMs: number;
  ipMs: number;
  /** Median over pairs of cli / node, wall clock (the bar). */
  ratio: number;
  /** The same for CPU time (user + system), steadier on a busy machine. */
  cpuRatio: number;
  nodeCpuMs: number;
  cliCpuMs: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runs the command under python3's os.wait4: wall-clock ms and the child's CPU ms (user + system). */
const TIMER = [
  'import os, sys, time',
  't = time.perf_counter()',
  'pid = os.posix_spawnp(sys.argv[1], sys.argv[1:], os.environ, file_actions=[(os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0)])',
  '_, status, ru = os.wait4(pid, 0)',
  'print((time.perf_counter() - t) * 1000, (ru.ru_utime + ru.ru_stime) * 1000, os.waitstatus_to_exitcode(status))',
].join('\n');

function timeMs(cmd: string, args: string[]): { wall: number; cpu: number } {
  const r = spawnSync('python3', ['-c', TIMER, cmd, ...args], { encoding: 'utf8', timeout: 30_000 });
  const [wall, cpu, status] = r.stdout.trim().split(' ').map(Number);
  if (r.status !== 0 || status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${status}): ${r.stderr}`);
  return { wall, cpu };
}

const INDEX = fileURLToPath(new URL('../../dist/src/index.js', import.meta.url));

/**
 * RSS (MiB) of a node process after 300 ms idle: bare, or holding one MptcpPm and one MptcpEvents
 * in `ns` (both opened, nothing happening). VmRSS from /proc, printed by the process itself.
 */
function idleRss(ns: string, withPm: boolean): number {
  const body = withPm
    ? `const m = await import(${JSON.stringify(INDEX)}); const pm = await m.MptcpPm.open({ netns: ${JSON.stringify(ns)} }); const ev = await m.MptcpEvents.open({ netns: ${JSON.stringify(ns)} });`
    : 'const pm = undefined, ev = undefined;';
  const code = `${body} await new Promise((r) => setTimeout(r, 300));
    process.stdout.write(String(/VmRSS:\\s+(\\d+)/.exec((await import('node:fs')).readFileSync('/proc/self/status', 'utf8'))[1]));
    pm?.close(); ev?.close();`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`idle RSS probe failed: ${r.stderr}`);
  return Number(r.stdout) / 1024;
}

/** `runs` pairs (after 2 warm-up pairs), in namespace `ns`. */
export function measureColdStart(ns: string, runs: number): ColdStartResult {
  const node = (): { wall: number; cpu: number } => timeMs(process.execPath, ['-e', '0']);
  const cli = (): { wall: number; cpu: number } => timeMs(process.execPath, [MAIN, '-n', ns, 'limits', 'show']);
  for (let i = 0; i < 2; i++) {
    node();
    cli();
  }
  const n: { wall: number; cpu: number }[] = [];
  const c: { wall: number; cpu: number }[] = [];
  for (let i = 0; i < runs; i++) {
    // Alternate which one goes first, so that neither always meets a warmer or busier machine.
    if (i % 2) {
      c.push(cli());
      n.push(node());
    } else {
      n.push(node());
      c.push(cli());
    }
  }
  const ip: number[] = [];
  for (let i = 0; i < Math.min(runs, 10); i++) ip.push(timeMs('ip', ['-n', ns, 'mptcp', 'limits', 'show']).wall);
  const rss: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < Math.min(runs, 7); i++) {
    rss.push(idleRss(ns, true));
    bare.push(idleRss(ns, false));
  }
  return {
    idleRssMiB: median(rss), nodeRssMiB: median(bare),
    runs, nodeMs: median(n.map((x) => x.wall)), cliMs: median(c.map((x) => x.wall)), ipMs: median(ip),
    ratio: median(c.map((x, i) => x.wall / n[i].wall)), cpuRatio: median(c.map((x, i) => x.cpu / n[i].cpu)),
    nodeCpuMs: median(n.map((x) => x.cpu)), cliCpuMs: median(c.map((x) => x.cpu)),
  };
}

/** One line for the report. */
export function formatColdStart(r: ColdStartResult): string {
  return `cold start, median of ${r.runs} pairs: node -e 0 ${r.nodeMs.toFixed(1)} ms (CPU ${r.nodeCpuMs.toFixed(0)} ms), ` +
    `mptcp-pm -n NS limits show ${r.cliMs.toFixed(1)} ms (CPU ${r.cliCpuMs.toFixed(0)} ms): ${r.ratio.toFixed(2)}× node wall clock ` +
    `(bar ≤ 1.3×), ${r.cpuRatio.toFixed(2)}× CPU; ip -n NS mptcp limits show ${r.ipMs.toFixed(1)} ms\n` +
    `idle footprint: one MptcpPm + one MptcpEvents ${r.idleRssMiB.toFixed(1)} MiB RSS, bare node ${r.nodeRssMiB.toFixed(1)} MiB: ` +
    `${(r.idleRssMiB / r.nodeRssMiB).toFixed(2)}× (bar ≤ 1.15×)`;
}
