// `npm run bench`: mptcp-pm against the raw C reference (../shared/bench/nlbench.c), pyroute2 and
// `ip -batch`, in scratch namespaces it removes afterwards; prints a table and writes bench/out/<date>.json.
//
// Options: --rounds N (default 5), --storm N connections per storm run (default 2000),
// --lag-seconds S (default 3), --no-profile, --quick (1 round, fewer operations),
// --diag N connections held for the connection-dump phase (default 2000), --diag-only (that phase alone),
// --upm N connections of the path-manager framework phase (default 1000; --no-upm skips it; bench/upm.ts runs it alone),
// --net-only (the socket phase alone: mptcp-pm/net against node:net TCP and mptcpize; needs npm run build), --no-net,
// --requests-only (the dump and GET_LIMITS rows against the C reference and `ip -batch`, no pyroute2),
// --cold-only (the command's cold start and the idle footprint alone, --runs N pairs; needs npm run build),
// --no-losses (skips the link-loss healing row; bench/losses.ts runs the whole losses experiment alone).

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release } from 'node:os';
import { join } from 'node:path';
import { MptcpPm } from '../src/mptcp/pm/pm.js';
import { OUT_DIR, buildRef, refDir, runRef } from './lib/cref.js';
import { cleanupAll, createNetns, deleteNetns } from './lib/netns.js';
import { checkPyroute2, runIpBatch, runPyroute2 } from './lib/peers.js';
import { runPm, type OpCounts } from './lib/pm-ops.js';
import { combineRounds, requestBars, type Row } from './lib/stats.js';
import { measureLag, type LagResult } from './lib/lag.js';
import { buildTopology, startServer, storm, type StormResult } from './lib/storm.js';
import { measureDecode, type DecodeResult } from './lib/decode.js';
import { profilePhase } from './lib/cpuprof.js';
import type { ProfileLine } from './lib/profile.js';
import { formatColdStart, measureColdStart, type ColdStartResult } from './lib/cold-start.js';
import { diagLines, measureDiag, type DiagResult } from './lib/diag.js';
import { upmLines, type UpmRun } from './lib/upm.js';
import { upmPhase, upmVsC } from './upm.js';
import { upmCLines, type UpmCRun } from './lib/upm-c.js';
import { measureNet, netBars, netLines, type NetResult } from './lib/net.js';
import { lossRow } from './losses.js';

const args = process.argv.slice(2);
const flag = (name: string): boolean => args.includes(name);
const opt = (name: string, dflt: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const quick = flag('--quick');
const requestsOnly = flag('--requests-only');
const ROUNDS = opt('--rounds', quick ? 1 : 5);
const STORM = opt('--storm', quick ? 500 : 2000);
const LAG_S = opt('--lag-seconds', quick ? 1 : 3);
const DIAG = opt('--diag', quick ? 500 : 2000);
const UPM = opt('--upm', quick ? 200 : 1000);
const N: OpCounts = quick ? { add: 160, dump: 500, limits: 5000 } : { add: 400, dump: 2000, limits: 20000 };
const PHASES = ['add', 'delete', 'dump', 'limits'] as const;
const BARS: Record<string, number> = { add: 1.3, delete: 1.3, dump: 3, limits: 3 };

function log(s: string): void {
  process.stderr.write(`${s}\n`);
}

function fmt(v: number | null | undefined, digits = 1): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  return v >= 100 ? v.toFixed(0) : v.toFixed(digits);
}

function table(rows: Row[]): string {
  const head = ['phase', 'tool', 'ops', 'ops/s', 'mean µs', 'p50 µs', 'p99 µs', '×C mean', '×C p50'];
  const body = rows.map((r) => [r.phase, r.tool, String(r.ops), fmt(r.opsPerSec, 0), fmt(r.meanUs), fmt(r.p50Us), fmt(r.p99Us), r.ratio == null ? '1.00' : fmt(r.ratio, 2), r.ratioP50 == null ? (r.tool === 'c-raw' ? '1.00' : '—') : r.ratioP50.toFixed(2)]);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => (i < 2 ? c.padEnd(w[i]) : c.padStart(w[i]))).join(' | ')} |`;
  return [line(head), `|${w.map((x, i) => (i < 2 ? ` ${'-'.repeat(x)} ` : ` ${'-'.repeat(x - 1)}: `)).join('|')}|`, ...body.map(line)].join('\n');
}

async function opsRounds(bin: string): Promise<{ rows: Row[]; perRound: Row[][] }> {
  const ns = createNetns('ops');
  const perRound: Row[][] = [];
  for (let r = 1; r <= ROUNDS; r++) {
    log(`round ${r}/${ROUNDS}: c-raw, mptcp-pm, ${requestsOnly ? '' : 'pyroute2, '}ip -batch`);
    const rows: Row[] = [];
    rows.push(...runRef(bin, ns, { ...N, flush: 0 }));
    rows.push(...(await runPm(ns, N)));
    if (!requestsOnly) rows.push(...runPyroute2(ns, N));
    rows.push(...runIpBatch(ns, N));
    perRound.push(requestsOnly ? rows.filter((r) => r.phase === 'dump' || r.phase === 'limits') : rows);
  }
  deleteNetns(ns);
  const keys = [...new Set(perRound[0].map((r) => `${r.phase}\u0000${r.tool}`))];
  const combined = keys.map((k) => combineRounds(perRound.map((rows) => rows.find((r) => `${r.phase}\u0000${r.tool}` === k)!)));
  const order = (r: Row): number => PHASES.indexOf(r.phase as (typeof PHASES)[number]);
  combined.sort((a, b) => order(a) - order(b));
  for (const r of combined) {
    const c = combined.find((x) => x.phase === r.phase && x.tool === 'c-raw');
    if (!c || r.tool === 'c-raw') continue;
    r.ratio = r.meanUs / c.meanUs;
    r.ratioP50 = r.p50Us !== null && c.p50Us ? r.p50Us / c.p50Us : null;
  }
  return { rows: combined, perRound };
}

async function profiles(): Promise<Record<string, { functions: ProfileLine[]; files: ProfileLine[] }>> {
  const ns = createNetns('prof');
  const pm = await MptcpPm.open({ netns: ns });
  const out: Record<string, { functions: ProfileLine[]; files: ProfileLine[] }> = {};
  try {
    const w = (id: number): Record<string, number> => ({ family: 2, id, addr4: 0xc0000200 + id, flags: 1 });
    for (let i = 0; i < 3000; i++) await pm.getLimits();
    out.limits = await profilePhase(async () => { for (let i = 0; i < 20000; i++) await pm.getLimits(); }, 8);
    for (let id = 1; id <= 8; id++) await pm.run('addAddr', { addr: w(id) });
    out.dump = await profilePhase(async () => { for (let i = 0; i < 5000; i++) await pm.listEndpoints(); }, 8);
    await pm.flushEndpoints();
    const cycle = async (raw: boolean): Promise<void> => {
      for (let c = 0; c < 100; c++) {
        for (let id = 1; id <= 8; id++) {
          if (raw) await pm.run('addAddr', { addr: w(id) });
          else await pm.addEndpoint({ address: `192.0.2.${id}`, id, flags: ['signal'] });
        }
        await pm.flushEndpoints();
      }
    };
    out['add (raw run)'] = await profilePhase(() => cycle(true), 8);
    out['add (addEndpoint)'] = await profilePhase(() => cycle(false), 8);
    out.delete = await profilePhase(async () => {
      for (let c = 0; c < 100; c++) {
        for (let id = 1; id <= 8; id++) await pm.run('addAddr', { addr: w(id) });
        for (let id = 1; id <= 8; id++) await pm.deleteEndpoint(id);
      }
    }, 8);
  } finally {
    pm.close();
    deleteNetns(ns);
  }
  return out;
}

/** The connection-dump phase in its own topology (server on 5201, kernel PM joining over path 2). */
async function diagPhase(): Promise<DiagResult> {
  log(`connection dump: ${DIAG} MPTCP connections held open, MptcpDiag.connections() against ss -Mtni`);
  const topo = buildTopology();
  const stopServer = await startServer(topo.srv);
  try {
    return await measureDiag(topo, DIAG, quick ? 3 : 7);
  } finally {
    stopServer();
    deleteNetns(topo.cli);
    deleteNetns(topo.srv);
  }
}

function netPhase(): Promise<NetResult> {
  log('sockets: mptcp-pm/net against node:net TCP and mptcpize run node, one veth pair');
  return measureNet({ rounds: quick ? 1 : 3, bulkBytes: (quick ? 128 : 256) * 2 ** 20, conns: quick ? 1000 : 3000, concurrency: 32, log });
}

async function main(): Promise<void> {
  if (flag('--net-only')) {
    const n = await netPhase();
    const text = [...netLines(n), ...netBars(n).map(([ok, t]) => `  ${ok ? 'MET   ' : 'MISSED'} ${t}`)].join('\n');
    process.stdout.write(`${text}\n`);
    mkdirSync(OUT_DIR, { recursive: true });
    writeFileSync(join(OUT_DIR, `net-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify({ net: n, text }, null, 2));
    return;
  }
  if (flag('--cold-only')) {
    const ns = createNetns('cold');
    try {
      process.stdout.write(`load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n${formatColdStart(measureColdStart(ns, opt('--runs', 21)))}\n`);
    } finally {
      deleteNetns(ns);
    }
    return;
  }
  if (flag('--diag-only')) {
    const d = await diagPhase();
    const text = diagLines(d).join('\n');
    process.stdout.write(`${text}\n`);
    mkdirSync(OUT_DIR, { recursive: true });
    writeFileSync(join(OUT_DIR, `diag-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify({ diag: d, text }, null, 2));
    return;
  }
  const started = new Date();
  const t0 = performance.now();
  refDir();
  if (!requestsOnly) checkPyroute2();
  const bin = buildRef();
  log(`mptcp-pm bench: kernel ${release()}, ${cpus().length} CPUs, node ${process.version}; ${ROUNDS} round(s), ops per round ${JSON.stringify(N)}`);

  const ops = await opsRounds(bin);
  if (requestsOnly) {
    process.stdout.write(`load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n${table(ops.rows)}\n${requestBars(ops.rows).join('\n')}\n`);
    return;
  }
  if (flag('--ops-only')) {
    // The request/response table and the event-loop lag only (a minute instead of several).
    const lagNs = createNetns('lag');
    const lag: LagResult = await measureLag(lagNs, LAG_S);
    deleteNetns(lagNs);
    process.stdout.write(`${table(ops.rows)}\n\nevent-loop lag: ${JSON.stringify(lag)}\n`);
    return;
  }

  log(`event-loop lag: ${LAG_S} s idle, ${LAG_S} s deleting/re-adding endpoints, ${LAG_S} s idle`);
  const lagNs = createNetns('lag');
  const lag: LagResult = await measureLag(lagNs, LAG_S);
  deleteNetns(lagNs);

  log(`event storm: ${STORM} connections (each with an extra subflow), twice: consumer keeping up, then stalling 300 ms`);
  const topo = buildTopology();
  const stopServer = await startServer(topo.srv);
  const storms: StormResult[] = [];
  const captured: [number, Buffer][] = [];
  try {
    storms.push(await storm(topo, 'consumer keeps up', STORM, 16));
    storms.push(await storm(topo, 'consumer stalls 300 ms mid-storm', STORM, 16, 300, captured));
  } finally {
    stopServer();
    deleteNetns(topo.cli);
    deleteNetns(topo.srv);
  }
  const diag = await diagPhase();
  const upm: UpmRun[] = flag('--no-upm') ? [] : await upmPhase(UPM, 2 * UPM, log);
  const upmC: { medians: UpmCRun[]; runs: UpmCRun[] } | undefined = flag('--no-upm') ? undefined : await upmVsC(UPM, Math.max(1, Math.min(ROUNDS, 3)), log);
  const net: NetResult | undefined = flag('--no-net') ? undefined : await netPhase();
  const losses = flag('--no-losses') ? undefined : await lossRow(log, quick ? 20 : 100);
  log('codec: decoding the captured event bytes');
  const decode: DecodeResult = measureDecode(captured);

  log('cold start: mptcp-pm limits show against node -e 0, paired runs');
  const coldNs = createNetns('cold');
  let cold: ColdStartResult;
  try {
    cold = measureColdStart(coldNs, quick ? 7 : 21);
  } finally {
    deleteNetns(coldNs);
  }

  let profile: Awaited<ReturnType<typeof profiles>> | undefined;
  if (!flag('--no-profile')) {
    log('profiling the mptcp-pm phases (node:inspector, 25 µs sampling)');
    profile = await profiles();
  }

  // ------------------------------------------------------------------ report
  const rows = ops.rows;
  const out: string[] = [];
  out.push(`mptcp-pm benchmark — ${started.toISOString().slice(0, 10)}, Linux ${release()}, ${cpus().length} CPUs (${cpus()[0]?.model.trim()}), node ${process.version}`);
  out.push(`Request/response: median of ${ROUNDS} round(s); per round ${N.add} adds and ${N.add} deletes (cycles of 8), ${N.dump} full dumps of 8 endpoints, ${N.limits} GET_LIMITS.`);
  out.push('×C = time per operation / the C reference\'s in the same run (mean; and p50 where per-op latency exists).');
  out.push('');
  out.push(table(rows));
  out.push('');
  out.push(...diagLines(diag), '');
  if (upm.length > 0) out.push(...upmLines(upm), '');
  if (upmC) out.push(...upmCLines(upmC.medians, Math.max(1, Math.min(ROUNDS, 3))), '');
  if (net) out.push(...netLines(net), '');
  if (losses) out.push(...losses.lines, '');
  out.push('Event storm (client namespace, MptcpEvents with default settings):');
  out.push('| run | connections (with subflow) | events received | kernel counted | lost | overruns reported (lost) | socket drops | events/s |');
  out.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const s of storms) {
    const kc = s.kernelCounted.created + s.kernelCounted.established + s.kernelCounted.subEstablished + s.kernelCounted.closed;
    out.push(`| ${s.label} | ${s.connections} (${s.connectionsWithSubflow}) | ${s.receivedTotal} (${Object.entries(s.received).map(([k, v]) => `${k} ${v}`).join(', ')}) | ${kc} | ${s.lost} | ${s.overruns} (${s.overrunReported ?? 'no count'}) | ${s.socketDrops ?? '—'} | ${s.eventsPerSec.toFixed(0)} |`);
  }
  out.push('');
  out.push(`Event-loop lag (monitorEventLoopDelay, 1 ms resolution, ${LAG_S} s windows): idle p99 ${lag.idleP99Ms.toFixed(2)} ms (after: ${lag.idleP99AfterMs.toFixed(2)} ms); ` +
    `deleting + re-adding endpoints (${lag.cycles} cycles) p50 ${lag.busyP50Ms.toFixed(2)} ms, p99 ${lag.busyP99Ms.toFixed(2)} ms, max ${lag.busyMaxMs.toFixed(2)} ms; excess over idle p99 ${lag.excessMs.toFixed(2)} ms.`);
  out.push(formatColdStart(cold));
  out.push(`Codec on ${decode.captured} captured event datagrams (${decode.check}): decodeEvent ${decode.decodeEventPerSec.toFixed(0)} events/s, decodeAttrs alone ${decode.decodeAttrsPerSec.toFixed(0)} events/s.`);
  out.push('');
  out.push('Bars:');
  const bar = (ok: boolean, text: string): string => `  ${ok ? 'MET   ' : 'MISSED'} ${text}`;
  for (const phase of PHASES) {
    for (const r of rows.filter((x) => x.phase === phase && x.tool.startsWith('mptcp-pm'))) {
      out.push(bar((r.ratio ?? Infinity) <= BARS[phase], `${phase.padEnd(6)} ${r.tool}: ${r.ratio?.toFixed(2)}× C (bar ≤ ${BARS[phase]}×${phase === 'delete' ? ', "≈ 1×"' : ''}), p50 ${r.ratioP50?.toFixed(2)}×`));
    }
  }
  if (upmC) {
    for (const load of ['burst', 'one by one'] as const) {
      const c = upmC.medians.find((m) => m.load === load && m.tool === 'c (cupm)')!;
      const f = upmC.medians.find((m) => m.load === load && m.tool !== 'c (cupm)')!;
      out.push(bar(f.p50Ms <= 2 * c.p50Ms && f.p99Ms <= 2 * c.p99Ms, `userspace PM ${load}: p50 ${(f.p50Ms / c.p50Ms).toFixed(2)}×, p99 ${(f.p99Ms / c.p99Ms).toFixed(2)}× cupm (bar ≤ 2×)`));
      out.push(bar(f.cpuMs <= 3 * c.cpuMs, `userspace PM ${load}: CPU ${(f.cpuMs / c.cpuMs).toFixed(2)}× cupm (bar ≤ 3×)`));
      out.push(bar(f.rssEndMiB - f.rssStartMiB <= 5, `userspace PM ${load}: RSS ${f.rssStartMiB.toFixed(1)} → ${f.rssEndMiB.toFixed(1)} MiB once the connections are gone (${f.rssAfterGcMiB.toFixed(1)} after a full GC; bar +5 MiB)`));
    }
  }
  if (diag.scrape) {
    const s = diag.scrape;
    out.push(bar(s.mptcpPmMs <= s.nodeExporterMs && s.mptcpPmCpuMs <= s.nodeExporterCpuMs, `exporter scrape: latency ${(s.mptcpPmMs / s.nodeExporterMs).toFixed(2)}×, CPU ${(s.mptcpPmCpuMs / s.nodeExporterCpuMs).toFixed(2)}× node_exporter netstat+tcpstat (bar ≤ 1×)`));
  }
  out.push(bar(diag.ratio <= 1, `MptcpDiag.connections(): ${diag.ratio.toFixed(2)}× ss -Mtni including its start-up (bar ≤ 1×)`));
  if (!Number.isNaN(diag.cliMs)) out.push(bar(diag.cliMs <= 3 * diag.ssMs, `mptcp-pm connections -j: ${(diag.cliMs / diag.ssMs).toFixed(2)}× ss -Mtni, whole processes (bar ≤ 3×)`));
  for (const [ok, text] of [...(net ? netBars(net) : []), ...(losses?.bars ?? [])]) out.push(bar(ok, text));
  out.push(bar(cold.ratio <= 1.3, `cold start: mptcp-pm limits show ${cold.ratio.toFixed(2)}× node -e 0 (median of ${cold.runs} pairs, bar ≤ 1.3×)`));
  out.push(bar(storms[0].lost === 0, `storm, consumer keeping up: ${storms[0].lost} lost of ${storms[0].receivedTotal + storms[0].lost}`));
  const st = storms[1];
  out.push(bar(st.lost === 0 || (st.overrunReported !== null && st.overrunReported >= st.lost), `storm, consumer stalling 300 ms: ${st.lost} lost, ${st.overruns} overrun(s) reporting ${st.overrunReported ?? 'no count'}`));
  out.push(bar(lag.excessMs <= 0.5, `event-loop lag: busy p99 ${lag.busyP99Ms.toFixed(2)} ms vs idle p99 ${Math.max(lag.idleP99Ms, lag.idleP99AfterMs).toFixed(2)} ms (+${lag.excessMs.toFixed(2)} ms, bar +0.5 ms)`));
  if (profile) {
    out.push('');
    out.push('Where mptcp-pm spends its time (self time, node:inspector CPU profile of each phase):');
    for (const [phase, p] of Object.entries(profile)) {
      out.push(`  ${phase}: ${p.functions.slice(0, 6).map((f) => `${f.selfPct.toFixed(0)}% ${f.fn}${f.where.startsWith('(') ? '' : ` (${f.where})`}`).join('; ')}`);
    }
  }
  const elapsed = (performance.now() - t0) / 1000;
  out.push('');
  out.push(`Total bench time ${elapsed.toFixed(0)} s.`);
  const text = out.join('\n');
  process.stdout.write(`${text}\n`);

  mkdirSync(OUT_DIR, { recursive: true });
  rmSync(join(OUT_DIR, 'tmp'), { recursive: true, force: true });
  const file = join(OUT_DIR, `${started.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify({
    date: started.toISOString(), kernel: release(), cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version,
    rounds: ROUNDS, ops: N, table: rows, perRound: ops.perRound, storm: storms, diag, upm, upmC, net, losses: losses?.samples, lag, decode, coldStart: cold, profile, elapsedSeconds: elapsed, text,
  }, null, 2)}\n`);
  log(`wrote ${file}`);
}

main().then(
  () => cleanupAll(),
  (e: unknown) => {
    cleanupAll();
    process.stderr.write(`bench failed: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
