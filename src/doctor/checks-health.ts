// Doctor capability: what the kernel counted since the namespace was made (fallbacks, refused joins,
// MP_FAIL, resets) — signs of trouble on the path or in the configuration.

import { readMptcpCounters } from '../mptcp/proc/counters.js';
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
    fix: (ctx) => `check the peer, then watch which connections fall back: ${ctx.exec}ss -Mti; ${ctx.exec}nstat -az 'MPTcpExtMPCapable*'`,
  },
  {
    code: 'counters-join-rejected',
    counters: ['MPJoinRejected', 'MPJoinNoTokenFound', 'MPJoinSynAckHMacFailure', 'MPJoinAckHMacFailure', 'MPJoinSynTxCreatSkErr',
      'MPJoinSynTxBindErr', 'MPJoinSynTxConnectErr', 'MismatchPortSynRx', 'MismatchPortAckRx', 'AddAddrDrop'],
    meaning: 'additional subflows were refused or could not be opened: limits too low on the side that refused, no userspace path manager listening, or a source address that cannot reach the peer',
    fix: (ctx) => `compare limits on both ends (${ctx.ip} mptcp limits show), and routing from each endpoint address (${ctx.ip} route get PEER from ADDRESS)`,
  },
  {
    code: 'counters-mp-fail',
    counters: ['MPFailTx', 'MPFailRx', 'DataCsumErr', 'DSSCorruptionReset', 'InfiniteMapTx', 'InfiniteMapRx'],
    meaning: 'MP_FAIL or data checksum errors: a middlebox rewrote the payload of a subflow',
    fix: (ctx) => `find the path that rewrites data (a proxy or NAT helper); ${ctx.exec}sysctl net.mptcp.checksum_enabled shows whether checksums are on`,
  },
  {
    code: 'counters-reset',
    counters: ['MPRstTx', 'MPRstRx'],
    meaning: 'subflows were reset with MP_RST',
    fix: (ctx) => `${ctx.ip} mptcp monitor shows the reset reasons as they happen (mptcp-pm monitor prints them by name)`,
  },
];

export const counters: Check = {
  name: 'counters',
  async run(ctx) {
    const c = await readMptcpCounters({ netns: ctx.netns });
    const out: Finding[] = [];
    for (const g of GROUPS) {
      const hit = g.counters.filter((n) => (c[n] ?? 0) > 0);
      if (hit.length === 0) continue;
      out.push({
        severity: 'warning',
        code: g.code,
        message: `${hit.map((n) => `${n} ${c[n]}`).join(', ')} since the namespace was made: ${g.meaning}`,
        fix: g.fix(ctx),
      });
    }
    return out;
  },
};
