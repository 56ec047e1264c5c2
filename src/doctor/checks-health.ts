// Doctor capability: what the kernel counts while doctor watches (fallbacks, refused joins, MP_FAIL,
// resets) — signs of trouble happening now. Totals since the namespace was made judge the past, so
// only the growth over the observation window counts.

import { setTimeout as sleep } from 'node:timers/promises';
import { countersIn } from '../mptcp/proc/counters.js';
import type { Check, DoctorContext, Finding } from './types.js';

interface Group {
  code: string;
  counters: string[];
  meaning: string;
  fix: (ctx: DoctorContext) => string;
}

const GROUPS: Group[] = [
  {
    code: 'counters-fallback',
    counters: ['MPCapableFallbackACK', 'MPCapableFallbackSYNACK', 'MPCapableSYNTXDrop', 'MPCapableSYNTXDisabled', 'Blackhole',
      'MPCapableDataFallback', 'DssFallback', 'DSSCorruptionFallback', 'MD5SigFallback', 'SimultConnectFallback', 'FallbackFailed'],
    meaning: 'connections fell back to plain TCP: the peer does not speak MPTCP, or something on the path strips or drops its options',
    fix: (ctx) => `${ctx.exec}ss -Mti   # shows which connections fall back; check that their peer speaks MPTCP and that nothing on the path strips TCP options`,
  },
  {
    code: 'counters-join-rejected',
    counters: ['MPJoinRejected', 'MPJoinNoTokenFound', 'MPJoinSynAckHMacFailure', 'MPJoinAckHMacFailure', 'MPJoinSynTxCreatSkErr',
      'MPJoinSynTxBindErr', 'MPJoinSynTxConnectErr', 'MismatchPortSynRx', 'MismatchPortAckRx', 'AddAddrDrop'],
    meaning: 'additional subflows were refused or could not be opened: limits too low on the side that refused, no userspace path manager listening, or a source address that cannot reach the peer',
    fix: (ctx) => `${ctx.self} explain   # names the cause per connection; compare limits on both ends (${ctx.ip} mptcp limits show)`,
  },
  {
    code: 'counters-mp-fail',
    counters: ['MPFailTx', 'MPFailRx', 'DataCsumErr', 'DSSCorruptionReset', 'InfiniteMapTx', 'InfiniteMapRx'],
    meaning: 'MP_FAIL or data checksum errors: a middlebox rewrote the payload of a subflow',
    fix: (ctx) => `${ctx.exec}sysctl net.mptcp.checksum_enabled   # then find the path that rewrites data (a proxy or NAT helper)`,
  },
  {
    code: 'counters-reset',
    counters: ['MPRstTx', 'MPRstRx'],
    meaning: 'subflows were reset with MP_RST',
    fix: (ctx) => `${ctx.self} monitor   # prints the reset reasons by name as they happen`,
  },
];

export const counters: Check = {
  name: 'counters',
  async run(ctx) {
    const before = ctx.baseline;
    if (before === undefined) return [];
    const left = ctx.startedAt + ctx.windowMs - performance.now();
    if (left > 0) await sleep(left);
    const now = countersIn(ctx.ns);
    const seconds = ((performance.now() - ctx.startedAt) / 1000).toFixed(1);
    const delta = (n: string): number => (now[n] ?? 0) - (before[n] ?? 0);
    const out: Finding[] = [];
    for (const g of GROUPS) {
      const hit = g.counters.filter((n) => delta(n) > 0);
      if (hit.length === 0) continue;
      out.push({
        severity: 'warning',
        code: g.code,
        message: `${hit.map((n) => `${n} +${delta(n)}`).join(', ')} in the last ${seconds} s: ${g.meaning}`,
        fix: g.fix(ctx),
      });
    }
    return out;
  },
};
