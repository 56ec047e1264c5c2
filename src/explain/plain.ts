// Explain capability: the accepting side's commonest fallback, a client that did not ask for MPTCP.
// What an MPTCP listener accepts from such a client is a plain TCP socket (no MPTCP socket, no
// token): sock_diag's MPTCP dump never shows it, /proc/net/tcp does.

import type { MptcpConnection, MptcpListener } from '../mptcp/diag/model.js';
import { readTcpTable, type TcpEnds } from '../doctor/context.js';
import type { DoctorContext } from '../doctor/types.js';
import type { ConnectionExplanation } from './types.js';
import { plain } from './causes.js';

/** Established TCP sockets of the namespace, plain TCP and MPTCP subflows alike. */
export function establishedTcp(ctx: DoctorContext): TcpEnds[] {
  return ctx.ns.run(() => [...readTcpTable('tcp', '01'), ...readTcpTable('tcp6', '01')]);
}

const key = (e: { address: string; port: number; remoteAddress: string; remotePort: number }): string =>
  `${plain(e.address)}:${e.port}|${plain(e.remoteAddress)}:${e.remotePort}`;
const wildcard = (a: string): boolean => a === '0.0.0.0' || a === '::';

/**
 * Plain TCP connections accepted on an MPTCP listener. `before` and `after` are the established
 * sockets read on each side of the sock_diag dump that gave `conns`: only a socket in both was
 * there during the dump, so a connection made or gone meanwhile is not taken for a plain one.
 */
export function plainAccepted(ctx: DoctorContext, listeners: MptcpListener[], conns: MptcpConnection[],
  before: TcpEnds[], after: TcpEnds[]): ConnectionExplanation[] {
  const subflows = new Set(conns.flatMap((c) => c.subflows.map((s) => key({
    address: s.local.address, port: s.local.port, remoteAddress: s.remote.address, remotePort: s.remote.port,
  }))));
  const stayed = new Set(before.map(key));
  const out: ConnectionExplanation[] = [];
  for (const t of after) {
    const k = key(t);
    if (!stayed.has(k) || subflows.has(k)) continue;
    const local = plain(t.address);
    const l = listeners.find((x) => x.local.port === t.port && (wildcard(x.local.address) || plain(x.local.address) === local));
    if (!l) continue;
    const remote = plain(t.remoteAddress);
    const at = `${plain(l.local.address)}:${l.local.port}`;
    out.push({
      token: '', local, remote, side: 'server', pathManager: ctx.pathManager,
      have: [{ local, remote, localPort: t.port, remotePort: t.remotePort, state: 'established', backup: false }],
      expected: [],
      missing: [{
        local, remote, cause: 'fallback',
        evidence: `accepted on the MPTCP listener ${at}, yet a plain TCP connection with no MPTCP socket: the client's SYN did not ask for MPTCP (a plain TCP socket), or the path stripped TCP option 30 from its handshake`,
        fix: '# the client must connect with an MPTCP socket (IPPROTO_MPTCP or mptcpize run), and nothing on the path may strip TCP option 30; new connections then keep MPTCP; this one stays plain TCP',
      }],
    });
  }
  return out;
}
