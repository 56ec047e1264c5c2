// The run's part of the summary: traffic per path before, during and after ethernet was down,
// the transfer's outcome, the subflows and events seen, and the PASS/FAIL checks.

import { release } from 'node:os';
import { ZERO, type Sample } from './measure.js';
import type { ProcLine } from './proc.js';
import type { LinkCounters } from './sandbox.js';
import { FLOWING, NET } from './settings.js';
import type { SubflowBytes } from './connections.js';
import type { SubflowTracker } from './subflows.js';
import { mb, type Check, type DemoSummary, type PathStats } from './summary.js';
import type { PathManagerStats } from './userspace-pm.js';
import type { ExplainSeen } from './explain-step.js';
import type { HealSeen } from './heal.js';

/** The summary without the namespace part and the result (the caller adds those). */
export type ScenarioResult = Omit<DemoSummary, 'namespaces' | 'result' | 'exitCode' | 'durationMs'>;

/** What a run gathered, as the report needs it. */
export interface RunRecord {
  userspace: boolean;
  samples: readonly Sample[];
  /** When ethernet went down / came back up, when the run got that far. */
  tDown: number | undefined;
  tUp: number | undefined;
  failoverMs: number | null;
  recoveredMs: number | null;
  tracker: SubflowTracker;
  /** From `ss` at the end of the transfer, when the run got that far. */
  endOfTransfer: SubflowBytes | undefined;
  /** Bytes the transfer client reported so far (its last progress line). */
  clientProgress: number;
  /** The client's last `done` and `error` lines and the server's last `sent` line. */
  done: ProcLine | undefined;
  clientError: ProcLine | undefined;
  sent: ProcLine | undefined;
  pmStats: PathManagerStats;
  /** In-kernel mode: what explain said before and after the per-source routes. */
  explained: ExplainSeen | undefined;
  /** --userspace: the wi-fi subflow killed mid-transfer and opened again. */
  healed: HealSeen | undefined;
  /** Why the run stopped early, if it did. */
  error: string | undefined;
}

/** Builds the run's summary; fills in `bytesReceived` of the tracker's subflows from `ss`. */
export function buildReport(r: RunRecord): ScenarioResult {
  const { samples, tracker } = r;
  const first = samples[0];
  const last = samples[samples.length - 1];
  const at = (t: number | undefined): Sample | undefined =>
    t === undefined ? undefined : samples.find((s) => s.t >= t) ?? last;
  const down = at(r.tDown);
  const up = at(r.tUp);
  const path = (l: typeof NET.ethernet | typeof NET.wifi, pick: (s: Sample) => LinkCounters): PathStats => {
    const a = first ? pick(first) : ZERO;
    const b = last ? pick(last) : ZERO;
    const d = down ? pick(down) : undefined;
    const u = up ? pick(up) : undefined;
    return {
      interface: l.ifname,
      address: l.address,
      rate: l.rate,
      bytes: b.rxBytes - a.rxBytes + b.txBytes - a.txBytes,
      rxBytes: b.rxBytes - a.rxBytes,
      txBytes: b.txBytes - a.txBytes,
      rxBeforeDown: d ? d.rxBytes - a.rxBytes : b.rxBytes - a.rxBytes,
      rxWhileDown: d && u ? u.rxBytes - d.rxBytes : 0,
      rxAfterUp: u ? b.rxBytes - u.rxBytes : 0,
    };
  };
  const ethernet = path(NET.ethernet, (s) => s.eth);
  const wifi = path(NET.wifi, (s) => s.wifi);
  for (const f of tracker.subflows) {
    const b = r.endOfTransfer?.bytes.get(`${f.localAddress}:${f.localPort}`);
    if (b !== undefined) f.bytesReceived = b;
  }
  const { done, sent } = r;
  const transferError = r.clientError ? String(r.clientError.message) : undefined;
  const appDown = down?.app ?? 0;
  const appUp = up?.app ?? 0;
  const verified = done?.verified === true;
  const bytes = done ? Number(done.bytes) : r.clientProgress;
  const survived = verified && r.failoverMs !== null && appUp - appDown >= FLOWING && !transferError &&
    (sent === undefined || Number(sent.bytes) === bytes);
  const wifiSubflows = tracker.subflows.filter((f) => f.path === 'wi-fi');
  const backupFlagInSs = r.endOfTransfer?.backupFlag === true;
  const checks: Check[] = [
    { name: 'ethernet carried data', ok: ethernet.rxBeforeDown >= 1e6, detail: `${mb(ethernet.rxBeforeDown)} received over ${NET.ethernet.ifname} before it went down` },
    { name: 'wi-fi carried data', ok: wifi.rxWhileDown >= 256 * 1024, detail: `${mb(wifi.rxWhileDown)} received over ${NET.wifi.ifname} while ethernet was down` },
    {
      name: 'backup flag on the wi-fi subflow', ok: tracker.backupSeen,
      detail: tracker.backupSeen ? `seen in the ${[...tracker.backupSeenBy].join(' and ')} events${backupFlagInSs ? ' and in sock_diag (flag b)' : ''}`
        : `no event for ${NET.wifi.address} had backup set (${wifiSubflows.length} wi-fi subflow(s) seen)`,
    },
    {
      name: 'transfer survived ethernet going down', ok: survived,
      detail: survived ? `one connection, ${mb(appUp - appDown)} delivered while ethernet was down, every byte verified`
        : `failover ${r.failoverMs === null ? 'never happened' : `${r.failoverMs} ms`}, ${mb(appUp - appDown)} delivered while down, ` +
          `${verified ? 'verified' : 'not verified'}${transferError ? `, ${transferError}` : ''}`,
    },
  ];
  if (r.userspace) {
    const ok = r.pmStats.opened >= 2 && r.pmStats.reopened >= 1;
    checks.push({ name: 'path manager opened and re-opened the wi-fi subflow', ok, detail: `${r.pmStats.opened} opened, ${r.pmStats.reopened} re-opened` });
    const h = r.healed;
    const healed = h !== undefined && h.reopenedAfterMs !== null && h.bytesMeanwhile > 0;
    checks.push({
      name: 'killed wi-fi subflow healed during the transfer', ok: healed,
      detail: h ? `${h.killed}: opened again ${h.reopenedAfterMs} ms later, ${mb(h.bytesMeanwhile)} delivered meanwhile` : 'the kill step did not run',
    });
  } else {
    const e = r.explained;
    const named = e?.before.some((m) => m.cause === 'no-source-route' && m.local === NET.wifi.address) === true;
    checks.push({
      name: 'explain named the missing per-source route, then nothing missing', ok: named && e?.after.length === 0,
      detail: e ? `before the routes: ${e.before.map((m) => `${m.local} -> ${m.remote} ${m.cause}`).join(', ') || 'nothing missing'}; after: ${e.after.map((m) => m.cause).join(', ') || 'nothing missing'}`
        : 'the explain step did not run',
    });
  }
  return {
    mode: r.userspace ? 'userspace' : 'kernel',
    kernelRelease: release(),
    paths: { ethernet, wifi },
    transfer: {
      bytes,
      verified,
      serverSentBytes: sent ? Number(sent.bytes) : undefined,
      survivedLinkDown: survived,
      ...(transferError ? { error: transferError } : {}),
    },
    subflows: tracker.subflows,
    backupSeenOnWifi: tracker.backupSeen,
    failoverMs: r.failoverMs,
    recoveredMs: r.recoveredMs,
    ...(r.userspace ? { pathManager: { ...r.pmStats, failures: r.pmStats.failures.slice(0, 20) } } : {}),
    ...(r.explained ? { explain: r.explained } : {}),
    ...(r.healed ? { heal: r.healed } : {}),
    events: tracker.eventCounts,
    checks,
    ...(r.error ? { error: r.error } : {}),
  };
}
