// Built-in policy (client side): a subflow from every local address to every address the peer has
// (its initial one and each it announced), re-opened after a close while both ends remain.

import type { LocalAddress, Policy, UpmActions, UpmConnection } from '../types.js';
import { checkPolicyOptions, localsFor } from './common.js';

export interface FullmeshOptions {
  /** Local addresses. Default: the namespace's global addresses. */
  addresses?: LocalAddress[];
  backup?: string[];
}

export function fullmesh(options?: FullmeshOptions): Policy {
  const o = checkPolicyOptions(options, ['addresses', 'backup']);
  const open = async (conn: UpmConnection, act: UpmActions, remote: { address: string; port: number }, only?: string): Promise<void> => {
    for (const l of localsFor(conn, act, o.addresses, o.backup)) {
      if (only !== undefined && l.address !== only) continue;
      if (l.address === conn.local.address && remote.address === conn.remote.address) continue; // the initial subflow
      await act.createSubflow({ local: { address: l.address, id: l.id }, remote, backup: l.backup });
    }
  };
  const remotes = (conn: UpmConnection) => [conn.remote, ...conn.announced.map((a) => ({ address: a.address, port: a.port ?? conn.remote.port }))];
  return {
    name: 'fullmesh',
    async established(conn, act) {
      if (conn.serverSide === true) return;
      for (const r of remotes(conn)) await open(conn, act, r);
    },
    async announced(addr, conn, act) {
      if (conn.serverSide === true) return;
      await open(conn, act, { address: addr.address, port: addr.port ?? conn.remote.port });
    },
    async subflowClosed(sf, conn, act) {
      if (conn.serverSide === true) return;
      const r = remotes(conn).find((x) => x.address === sf.remote.address && x.port === sf.remote.port);
      if (r) await open(conn, act, r, sf.local.address);
    },
  };
}
