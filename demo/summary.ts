// The demo's summary: what `--json` prints (DemoSummary) and the human-readable version of it,
// plus the small number formats the demo's progress lines share.

import type { ExplainSeen } from './explain-step.js';
import type { HealSeen } from './heal.js';

/** Traffic of one client link, from the interface counters in the client namespace. */
export interface PathStats {
  /** Interface in the client namespace (`eth0`, `wlan0`). */
  interface: string;
  address: string;
  /** tbf rate of the link, as given to tc. */
  rate: string;
  /** Bytes received plus sent on the link during the transfer. */
  bytes: number;
  rxBytes: number;
  txBytes: number;
  /** Bytes received before the ethernet link went down / while it was down / after it came back. */
  rxBeforeDown: number;
  rxWhileDown: number;
  rxAfterUp: number;
}

/** A subflow seen during the run, from the events (and `ss -M`). */
export interface SubflowSeen {
  path: 'ethernet' | 'wi-fi' | 'other';
  localAddress: string;
  localPort: number | undefined;
  remoteAddress: string;
  remotePort: number | undefined;
  /** The initial subflow (MP_CAPABLE); the others joined (MP_JOIN). */
  initial: boolean;
  backup: boolean;
  /** Milliseconds from the start of the transfer. */
  establishedAtMs: number;
  closedAtMs?: number;
  /** Bytes this subflow received, from `ss` at the end of the transfer (when it was still open). */
  bytesReceived?: number;
}

/** One PASS/FAIL condition. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** Everything `mptcp-pm demo --json` prints, as one JSON object. */
export interface DemoSummary {
  mode: 'kernel' | 'userspace';
  result: 'PASS' | 'FAIL';
  exitCode: number;
  kernelRelease: string;
  durationMs: number;
  paths: { ethernet: PathStats; wifi: PathStats };
  transfer: {
    /** Bytes the client received and checked against the server's byte pattern. */
    bytes: number;
    verified: boolean;
    serverSentBytes: number | undefined;
    /** The one connection kept delivering data while ethernet was down and ended cleanly. */
    survivedLinkDown: boolean;
    error?: string;
  };
  subflows: SubflowSeen[];
  backupSeenOnWifi: boolean;
  /** From ethernet going down to the wi-fi subflow carrying the data; null when it never did. */
  failoverMs: number | null;
  /** From ethernet coming back to data flowing over it again; null when it did not within the wait. */
  recoveredMs: number | null;
  /** Only with --userspace: what the demo's path manager did. */
  pathManager?: { opened: number; reopened: number; failures: string[] };
  /** In-kernel mode: the causes `explain` named for a first connection before the per-source routes, and after. */
  explain?: ExplainSeen;
  /** --userspace: the wi-fi subflow killed with `ss -K` mid-transfer, and how the path manager healed it. */
  heal?: HealSeen;
  /** Events received in the client namespace, by type. */
  events: Record<string, number>;
  checks: Check[];
  namespaces: { names: string[]; removed: boolean; left: string[]; staleRemoved: string[] };
  error?: string;
}

/** `12.3 MB` (decimal units, as link rates are). */
export function mb(bytes: number): string {
  if (bytes < 100_000) return `${(bytes / 1000).toFixed(1)} kB`;
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** `40 Mbit/s` from a tc rate such as `40mbit`. */
export function rateText(rate: string): string {
  return rate.replace(/mbit$/, ' Mbit/s');
}

function ms(v: number | null): string {
  return v === null ? 'never' : `${v} ms`;
}

/** The summary as lines of text. */
export function formatSummary(s: DemoSummary): string {
  const pm = s.mode === 'userspace' ? 'userspace path manager' : 'in-kernel path manager';
  const { ethernet: e, wifi: w } = s.paths;
  const sub = (f: SubflowSeen): string =>
    `${f.localAddress}:${f.localPort ?? '?'} (${f.path}${f.initial ? ', initial' : ''}${f.backup ? ', backup' : ''}${f.closedAtMs !== undefined ? ', closed' : ''})`;
  const lines = [
    `Summary (${pm}, Linux ${s.kernelRelease}, ${(s.durationMs / 1000).toFixed(1)} s)`,
    `  ethernet  ${e.interface.padEnd(5)} ${e.address.padEnd(13)} ${rateText(e.rate).padStart(10)}  ${mb(e.bytes).padStart(8)}   received before down ${mb(e.rxBeforeDown)}, after it came back ${mb(e.rxAfterUp)}`,
    `  wi-fi     ${w.interface.padEnd(5)} ${w.address.padEnd(13)} ${rateText(w.rate).padStart(10)}  ${mb(w.bytes).padStart(8)}   received while ethernet was down ${mb(w.rxWhileDown)}`,
    `  subflows seen: ${s.subflows.length}${s.subflows.length ? ` — ${s.subflows.map(sub).join(', ')}` : ''}`,
    `  failover: ${ms(s.failoverMs)} after ethernet went down; back on ethernet ${ms(s.recoveredMs)} after it came up`,
    `  transfer: ${mb(s.transfer.bytes)} received${s.transfer.verified ? ' and verified' : ', NOT verified'}` +
      `${s.transfer.serverSentBytes !== undefined ? ` (server sent ${mb(s.transfer.serverSentBytes)})` : ''}` +
      `${s.transfer.error ? `; error: ${s.transfer.error}` : ''}`,
  ];
  if (s.pathManager) {
    lines.push(`  path manager: ${s.pathManager.opened} subflow(s) opened, ${s.pathManager.reopened} re-open(s) after a close`);
  }
  lines.push(`  events: ${Object.entries(s.events).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`);
  for (const c of s.checks) lines.push(`  ${c.ok ? 'ok  ' : 'FAIL'}  ${c.name}: ${c.detail}`);
  if (s.error) lines.push(`  error: ${s.error}`);
  lines.push(`${s.result} (exit status ${s.exitCode})`);
  return `${lines.join('\n')}\n`;
}
