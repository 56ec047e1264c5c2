// Domain layer: whether MPTCP is on in a namespace and how it is set up, from the net.mptcp sysctls
// (every one is per namespace; a new namespace starts at the kernel defaults).

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { Netns } from '../../os/netns.js';

const DIR = '/proc/sys/net/mptcp';

export interface MptcpStatus {
  /** `net.mptcp.enabled`: when false, no new MPTCP socket can be created in the namespace. */
  enabled: boolean;
  /** `net.mptcp.path_manager` (6.15+), else derived from `pm_type` (5.19+); `kernel` before that. */
  pathManager: string;
  /** `available_path_managers` (6.15+). */
  availablePathManagers?: string[];
  /** `scheduler` (6.6+) and `available_schedulers` (6.10+). */
  scheduler?: string;
  availableSchedulers?: string[];
  checksumEnabled?: boolean;
  allowJoinInitialAddrPort?: boolean;
  /** Seconds. */
  addAddrTimeout?: number;
  closeTimeout?: number;
  blackholeTimeout?: number;
  staleLossCnt?: number;
  synRetransBeforeTcpFallback?: number;
  /** Every sysctl under net.mptcp as text, including ones newer than this library. */
  sysctls: Record<string, string>;
}

export interface StatusOptions {
  /** A namespace: a name under /run/netns, a path such as /proc/PID/ns/net, or an open Netns handle (borrowed: used, never closed). Default: the caller's. */
  netns?: string | Netns;
}

function num(v: string | undefined): number | undefined {
  return v === undefined || !/^-?\d+$/.test(v) ? undefined : Number(v);
}

/** Builds the status from the sysctl texts (name → trimmed value). */
export function statusFromSysctls(s: Record<string, string>): MptcpStatus {
  const words = (v: string | undefined): string[] | undefined => (v === undefined ? undefined : v.split(/\s+/).filter((w) => w !== ''));
  const bool = (v: string | undefined): boolean | undefined => (v === undefined ? undefined : v !== '0');
  const pm = s['path_manager'] ?? (s['pm_type'] === '1' ? 'userspace' : 'kernel');
  const out: MptcpStatus = { enabled: s['enabled'] !== undefined && s['enabled'] !== '0', pathManager: pm, sysctls: s };
  const opt: Partial<MptcpStatus> = {
    availablePathManagers: words(s['available_path_managers']),
    scheduler: s['scheduler'],
    availableSchedulers: words(s['available_schedulers']),
    checksumEnabled: bool(s['checksum_enabled']),
    allowJoinInitialAddrPort: bool(s['allow_join_initial_addr_port']),
    addAddrTimeout: num(s['add_addr_timeout']),
    closeTimeout: num(s['close_timeout']),
    blackholeTimeout: num(s['blackhole_timeout']),
    staleLossCnt: num(s['stale_loss_cnt']),
    synRetransBeforeTcpFallback: num(s['syn_retrans_before_tcp_fallback']),
  };
  for (const [k, v] of Object.entries(opt)) if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  return out;
}

/**
 * MPTCP's state in a namespace: `enabled` (net.mptcp.enabled), the path manager new connections
 * get, the scheduler and the other net.mptcp sysctls. Reads procfs inside the namespace; needs no
 * privilege for the caller's namespace, CAP_SYS_ADMIN to enter another. A kernel without MPTCP
 * gives `enabled: false` and no sysctls.
 * @throws NetnsError for a namespace that cannot be opened or entered.
 */
export async function readMptcpStatus(opts: StatusOptions = {}): Promise<MptcpStatus> {
  const ns = Netns.open(opts.netns);
  try {
    const sysctls = ns.run(() => {
      const out: Record<string, string> = {};
      if (!existsSync(DIR)) return out;
      for (const name of readdirSync(DIR).sort()) {
        try {
          out[name] = readFileSync(`${DIR}/${name}`, 'utf8').trim();
        } catch {
          // write-only or vanished entry: not part of the status
        }
      }
      return out;
    });
    return statusFromSysctls(sysctls);
  } finally {
    ns.close();
  }
}
