// `npm run bench:upm`: the path-manager framework phase of the benchmark alone (also run by bench/run.ts):
// latency from `established` to the join's SUBFLOW_CREATE, and the event rate it keeps up with.
//
// Options: --connections N (default 1000), --rate N connections of the rate run (default 2000),
// --c-rounds N alternated rounds against the C floor (default 3), --c-only (that comparison alone).

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OUT_DIR } from './lib/cref.js';
import { cleanupAll, deleteNetns } from './lib/netns.js';
import { buildTopology, startServer } from './lib/storm.js';
import { upmLines, upmRun, type UpmRun } from './lib/upm.js';
import { upmCLines, upmCPhase, type UpmCRun } from './lib/upm-c.js';
import { nsExec } from './lib/netns.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};

/** The framework and the C floor as processes of their own, burst and one by one, observed by evobs. */
export async function upmVsC(connections: number, rounds: number, log: (s: string) => void): Promise<{ runs: UpmCRun[]; medians: UpmCRun[] }> {
  const topo = buildTopology();
  const stopServer = await startServer(topo.srv);
  try {
    nsExec(topo.cli, ['sysctl', '-qw', 'net.mptcp.path_manager=userspace']);
    return await upmCPhase(topo, connections, rounds, log);
  } finally {
    stopServer();
    deleteNetns(topo.cli);
    deleteNetns(topo.srv);
  }
}

/** Latency runs (4 workers) for both tools, then a rate run (16 workers) for each. */
export async function upmPhase(connections: number, rate: number, log: (s: string) => void): Promise<UpmRun[]> {
  const topo = buildTopology();
  const stopServer = await startServer(topo.srv);
  const runs: UpmRun[] = [];
  try {
    for (const tool of ['hand-wired', 'framework'] as const) {
      log(`path manager (${tool}): ${connections} connections, 4 at a time`);
      runs.push(await upmRun(topo, tool, `latency, ${connections} connections`, connections, 4));
    }
    for (const tool of ['hand-wired', 'framework'] as const) {
      log(`path manager (${tool}): ${rate} connections, 16 at a time`);
      runs.push(await upmRun(topo, tool, `rate, ${rate} connections`, rate, 16));
    }
  } finally {
    stopServer();
    deleteNetns(topo.cli);
    deleteNetns(topo.srv);
  }
  return runs;
}

async function main(): Promise<void> {
  const log = (s: string): void => void process.stderr.write(`${s}\n`);
  const cRounds = opt('--c-rounds', 3);
  const vsC = await upmVsC(opt('--connections', 1000), cRounds, log);
  const cText = upmCLines(vsC.medians, cRounds).join('\n');
  process.stdout.write(`${cText}\n`);
  if (args.includes('--c-only')) {
    mkdirSync(OUT_DIR, { recursive: true });
    writeFileSync(join(OUT_DIR, `upm-c-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify({ ...vsC, text: cText }, null, 2));
    return;
  }
  const runs = await upmPhase(opt('--connections', 1000), opt('--rate', 2000), (s) => process.stderr.write(`${s}\n`));
  const text = upmLines(runs).join('\n');
  process.stdout.write(`${text}\n`);
  mkdirSync(OUT_DIR, { recursive: true });
  writeFileSync(join(OUT_DIR, `upm-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify({ runs, text }, null, 2));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(() => cleanupAll(), (e: unknown) => {
    cleanupAll();
    process.stderr.write(`bench failed: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  });
}
