// Doctor capability: live connections read through sock_diag — those that fell back to TCP, and
// those with fewer subflows than the endpoints and limits allow (a join failed or was refused).

import { MptcpDiag } from '../mptcp/diag/diag.js';
import type { MptcpConnection } from '../mptcp/diag/model.js';
import type { Check, DoctorContext, Finding } from './types.js';
import { unmapV4 as plain } from '../os/address.js';
import { formatToken } from '../mptcp/input/token.js';

const hex = (c: MptcpConnection): string => formatToken(c.token);
const show = (c: MptcpConnection): string => {
  const ep = (a: { address: string; port: number }): string => (a.address.includes(':') ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`);
  return `${ep(c.local)} -> ${ep(c.remote)} (token ${hex(c)})`;
};

/**
 * Additional subflows the in-kernel path manager should have opened for `c`: one per subflow
 * endpoint other than the connection's own address (same family), within the subflows limit the
 * connection was created with.
 */
export function expectedExtraSubflows(ctx: DoctorContext, c: MptcpConnection): number {
  const local = plain(c.local.address);
  const family = local.includes(':') ? 'inet6' : 'inet';
  const sources = ctx.endpoints.filter((e) => e.flags.includes('subflow') && e.address !== local && e.family === family
    && ctx.addresses.some((a) => a.address === e.address));
  return Math.min(c.info.subflowsMax, sources.length);
}

export const connections: Check = {
  name: 'connections',
  async run(ctx) {
    const diag = await MptcpDiag.open({ netns: ctx.ns });
    let conns: MptcpConnection[];
    try {
      conns = await diag.connections();
    } finally {
      diag.close();
    }
    const out: Finding[] = [];
    for (const c of conns.filter((x) => x.state === 'established')) {
      if (c.fallback) {
        out.push({
          severity: 'warning',
          code: 'connection-fallback',
          message: `connection ${show(c)} fell back to plain TCP: it uses one path only`,
          fix: `${ctx.self} explain token ${hex(c)}   # says on which side it fell back; the peer may not speak MPTCP, or something on the path strips TCP options`,
        });
        continue;
      }
      if (ctx.pathManager !== 'kernel') continue;
      const want = expectedExtraSubflows(ctx, c);
      if (c.info.subflows >= want) continue;
      out.push({
        severity: 'warning',
        code: 'connection-few-subflows',
        message: `connection ${show(c)} has ${c.info.subflows} additional subflow(s) where its endpoints and limits allow ${want}: a join failed or the peer refused it`,
        fix: `${ctx.self} explain token ${hex(c)}   # names the cause of each missing subflow, with its fix`,
      });
    }
    return out;
  },
};
