// Guards around a selftest run: a snapshot of the host namespace's MPTCP and netfilter state
// (which must come out of the run unchanged), and the namespaces a run leaves behind.

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

function output(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  } catch (e) {
    return `(${cmd} ${args.join(' ')} failed: ${(e as Error).message.split('\n')[0]})`;
  }
}

/** The real ip, never the shim (which is only ever put on the PATH of the scripts). */
export const REAL_IP = '/usr/bin/ip';

/**
 * What the scripts could change in the host's own namespace if one of their commands escaped
 * `ip netns exec` / `ip -n`: MPTCP endpoints and limits, net.mptcp sysctls, iptables rules.
 */
export function hostSnapshot(): Record<string, string> {
  const sysctls = readdirSync('/proc/sys/net/mptcp')
    .sort()
    .map((f) => {
      try {
        return `${f} = ${readFileSync(join('/proc/sys/net/mptcp', f), 'utf8').trim()}`;
      } catch {
        return `${f} (unreadable)`;
      }
    })
    .join('\n');
  return {
    endpoints: output(REAL_IP, ['mptcp', 'endpoint', 'show']),
    limits: output(REAL_IP, ['mptcp', 'limits', 'show']),
    sysctls,
    iptables: output('iptables-save', []).replace(/^#.*\n/gm, '').replace(/\[\d+:\d+\]/g, ''),
    ip6tables: output('ip6tables-save', []).replace(/^#.*\n/gm, '').replace(/\[\d+:\d+\]/g, ''),
  };
}

/** The parts of the host snapshot that differ (empty when the host namespace is as it was). */
export function hostChanges(before: Record<string, string>, after: Record<string, string>): string[] {
  return Object.keys(before).filter((k) => before[k] !== after[k]);
}

/** The network namespaces that exist now. */
export function namespaces(): Set<string> {
  return new Set(output(REAL_IP, ['netns', 'list']).split('\n').map((l) => l.split(' ')[0]).filter(Boolean));
}

/** The selftests name their namespaces `ns1-XXXXXX` (setup_ns in net/lib.sh). */
const SELFTEST_NS = /^ns\d+-[A-Za-z0-9]{6}$/;

/**
 * Deletes the selftest namespaces that appeared since `before` and are still there: only for a
 * script killed at its time bound (which may not have cleaned up), as another selftest running at
 * the same time names its namespaces the same way. Returns their names.
 */
export function removeLeftovers(before: Set<string>): string[] {
  const left = [...namespaces()].filter((n) => !before.has(n) && SELFTEST_NS.test(n));
  for (const ns of left) output(REAL_IP, ['netns', 'delete', ns]);
  return left;
}
