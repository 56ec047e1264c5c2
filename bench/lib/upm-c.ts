// The path-manager framework against the C floor (../shared/bench/cupm.c), both as processes of their
// own in the client namespace, observed by a neutral event reader (../shared/bench/evobs.c): for each
// connection, established → second subflow established (evobs's receive clock), the CPU the path
// manager spent over the run, and its RSS before, after the connections are gone, and after a GC.
// Two loads: a burst (every connection started at once) and one by one.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { OUT_DIR, REPO, refDir } from './cref.js';
import { trackChild, untrackChild } from './netns.js';
import { cpuMs, rssMiB } from './proc.js';
import { quantile } from './stats.js';
import { runLoad, type Topology } from './storm.js';

const CHILD = join(REPO, 'bench', 'lib', 'upm-child.mjs');
const LOCAL = '198.51.100.1';
const EV_ESTABLISHED = 2;
const EV_SUB_ESTABLISHED = 10;

export type UpmTool = 'c (cupm)' | 'mptcp-pm framework' | 'mptcp-pm framework (baseline)';

/** MPTCP_PM_BENCH_BASELINE=DIR (another checkout, built) adds its framework as a third tool, for before/after in one run. */
const BASELINE = process.env.MPTCP_PM_BENCH_BASELINE;
export type UpmLoad = 'burst' | 'one by one';

export interface UpmCRun {
  tool: UpmTool;
  load: UpmLoad;
  connections: number;
  joined: number;
  p50Ms: number;
  p99Ms: number;
  cpuMs: number;
  rssStartMiB: number;
  rssEndMiB: number;
  rssAfterGcMiB: number;
  overruns: number;
}

/** Builds cupm and evobs (when stale) next to nlbench; returns their paths. */
export function buildUpmRefs(): { cupm: string; evobs: string } {
  const dir = refDir();
  const binDir = join(OUT_DIR, 'bin');
  mkdirSync(binDir, { recursive: true });
  const out: Record<string, string> = {};
  for (const name of ['cupm', 'evobs']) {
    const src = join(dir, `${name}.c`);
    const bin = join(binDir, name);
    if (!existsSync(bin) || statSync(bin).mtimeMs < statSync(src).mtimeMs) {
      execFileSync('cc', ['-O2', '-Wall', `-I${dir}`, '-o', bin, src], { stdio: ['ignore', 'pipe', 'pipe'] });
    }
    out[name] = bin;
  }
  return out as { cupm: string; evobs: string };
}

function start(ns: string, cmd: string[], ready: string): Promise<{ child: ChildProcess; out: () => string }> {
  const child = spawn('ip', ['netns', 'exec', ns, ...cmd], { stdio: ['ignore', 'pipe', 'inherit'] });
  trackChild(child.pid);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd[0]} did not start`)), 15_000);
    const check = (): void => {
      if (out.includes(ready)) {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        resolve({ child, out: () => out });
      }
    };
    child.stdout!.on('data', check);
    child.on('exit', (code) => reject(new Error(`${cmd[0]} exited (${code}) before ${ready}`)));
  });
}

function stopChild(c: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    const kill = setTimeout(() => c.kill('SIGKILL'), 5000);
    c.on('exit', () => {
      clearTimeout(kill);
      untrackChild(c.pid);
      resolve();
    });
    if (c.exitCode !== null) resolve();
    else c.kill('SIGTERM');
  });
}



const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function runUpmLoad(cli: string, load: UpmLoad, count: number): Promise<{ ok: number; joined: number }> {
  const args = load === 'burst' ? ['burst', '192.0.2.2', '5201', String(count)] : ['client', '192.0.2.2', '5201', String(count), '1'];
  return runLoad(cli, args, `load (${load})`);
}

/** established → first sub-established per token, ms, from evobs's file. */
function latencies(file: string): { lat: number[]; overruns: number } {
  const est = new Map<string, number>();
  const lat: number[] = [];
  const text = readFileSync(file, 'utf8');
  const overruns = Number(/# overruns (\d+)/.exec(text)?.[1] ?? 0);
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    const [ts, cmd, token] = line.split(' ');
    if (Number(cmd) === EV_ESTABLISHED) est.set(token, Number(ts));
    else if (Number(cmd) === EV_SUB_ESTABLISHED) {
      const e = est.get(token);
      if (e !== undefined) {
        lat.push((Number(ts) - e) / 1e6);
        est.delete(token);
      }
    }
  }
  return { lat, overruns };
}

/** One run of `tool` under `load`. */
export async function upmCRun(t: Topology, bins: { cupm: string; evobs: string }, tool: UpmTool, load: UpmLoad, count: number, log?: (s: string) => void): Promise<UpmCRun> {
  const file = join(OUT_DIR, 'tmp', `evobs-${process.pid}.txt`);
  mkdirSync(join(OUT_DIR, 'tmp'), { recursive: true });
  rmSync(file, { force: true });
  const obs = await start(t.cli, [bins.evobs, file, '300'], 'ready');
  const child = tool === 'mptcp-pm framework (baseline)' ? join(BASELINE!, 'bench', 'lib', 'upm-child.mjs') : CHILD;
  const cmd = tool === 'c (cupm)' ? [bins.cupm, LOCAL, '300'] : [...(process.env.UPM_CHILD_PREFIX?.split(' ').filter(Boolean) ?? []), process.execPath, '--expose-gc', ...(process.env.UPM_CHILD_NODE_FLAGS?.split(' ').filter(Boolean) ?? []), child, LOCAL, '300'];
  const pm = await start(t.cli, cmd, 'ready');
  const pid = pm.child.pid!;
  try {
    await sleep(300);
    const rssStartMiB = rssMiB(pid);
    const cpu0 = cpuMs(pid);
    const r = await runUpmLoad(t.cli, load, count);
    await sleep(1000); // closes and their events settle
    const cpu = cpuMs(pid) - cpu0;
    const rssEndMiB = rssMiB(pid);
    let rssAfterGcMiB = rssEndMiB;
    if (tool !== 'c (cupm)') {
      pm.child.kill('SIGUSR2');
      const until = performance.now() + 5000;
      while (!pm.out().includes('gc') && performance.now() < until) await sleep(20);
      await sleep(100);
      rssAfterGcMiB = rssMiB(pid);
    }
    await stopChild(pm.child);
    await stopChild(obs.child);
    const statsLine = pm.out().split('\n').find((l) => l.startsWith('{'));
    if (statsLine) log?.(`  framework: ${statsLine} ${pm.out().split('\n').find((l) => l.startsWith('gc')) ?? ''}`);
    const { lat, overruns } = latencies(file);
    const s = Float64Array.from(lat).sort();
    return {
      tool, load, connections: r.ok, joined: s.length,
      p50Ms: s.length ? quantile(s, 0.5) : NaN, p99Ms: s.length ? quantile(s, 0.99) : NaN,
      cpuMs: cpu, rssStartMiB, rssEndMiB, rssAfterGcMiB, overruns,
    };
  } finally {
    await stopChild(pm.child);
    await stopChild(obs.child);
    if (process.env.UPM_KEEP_EVOBS) execFileSync('cp', [file, `${process.env.UPM_KEEP_EVOBS}-${tool}-${load}`.replace(/ /g, '_')]);
    rmSync(file, { force: true });
  }
}

/** Alternated rounds of both tools under both loads; medians per (tool, load). */
export async function upmCPhase(t: Topology, count: number, rounds: number, log: (s: string) => void): Promise<{ runs: UpmCRun[]; medians: UpmCRun[] }> {
  const bins = buildUpmRefs();
  const runs: UpmCRun[] = [];
  const tools: UpmTool[] = ['c (cupm)', 'mptcp-pm framework', ...(BASELINE ? ['mptcp-pm framework (baseline)' as const] : [])];
  for (let r = 0; r < rounds; r++) {
    const order = tools.map((_, i) => tools[(i + r) % tools.length]);
    for (const load of ['burst', 'one by one'] as const) {
      for (const tool of order) {
        log(`userspace PM vs C, round ${r + 1}/${rounds}: ${tool}, ${count} connections ${load}`);
        runs.push(await upmCRun(t, bins, tool, load, count, log));
      }
    }
  }
  const med = (xs: number[]): number => {
    const s = [...xs].sort((a, b) => a - b);
    return s[(s.length - 1) >> 1];
  };
  const medians: UpmCRun[] = [];
  for (const load of ['burst', 'one by one'] as const) {
    for (const tool of tools) {
      const rs = runs.filter((x) => x.tool === tool && x.load === load);
      medians.push({
        tool, load, connections: med(rs.map((x) => x.connections)), joined: med(rs.map((x) => x.joined)),
        p50Ms: med(rs.map((x) => x.p50Ms)), p99Ms: med(rs.map((x) => x.p99Ms)), cpuMs: med(rs.map((x) => x.cpuMs)),
        rssStartMiB: med(rs.map((x) => x.rssStartMiB)), rssEndMiB: med(rs.map((x) => x.rssEndMiB)),
        rssAfterGcMiB: med(rs.map((x) => x.rssAfterGcMiB)), overruns: Math.max(...rs.map((x) => x.overruns)),
      });
    }
  }
  return { runs, medians };
}

export function upmCLines(medians: UpmCRun[], rounds: number): string[] {
  const out = [`Userspace path manager against the C floor (cupm.c), observed by evobs.c: established → second subflow established (median of ${rounds} alternated round(s)):`];
  out.push('| load | tool | connections (joined) | p50 ms | p99 ms | CPU ms | RSS start → end → after GC MiB | ×C p50 | ×C p99 | ×C CPU |');
  out.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const m of medians) {
    const c = medians.find((x) => x.load === m.load && x.tool === 'c (cupm)')!;
    const x = (a: number, b: number): string => (m === c ? '1.00' : (a / b).toFixed(2));
    out.push(`| ${m.load} | ${m.tool} | ${m.connections} (${m.joined}) | ${m.p50Ms.toFixed(2)} | ${m.p99Ms.toFixed(2)} | ${m.cpuMs.toFixed(0)} | ${m.rssStartMiB.toFixed(1)} → ${m.rssEndMiB.toFixed(1)} → ${m.rssAfterGcMiB.toFixed(1)} | ${x(m.p50Ms, c.p50Ms)} | ${x(m.p99Ms, c.p99Ms)} | ${x(m.cpuMs, c.cpuMs)} |`);
  }
  return out;
}
