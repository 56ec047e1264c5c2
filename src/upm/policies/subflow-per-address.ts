// Built-in policy (client side): one subflow from each other local address of a connection, backups
// marked, re-opened after a close or a failure (the framework spaces the attempts out).

import type { LocalAddress, Policy } from '../types.js';
import { checkPolicyOptions, localsFor } from './common.js';

export interface SubflowPerAddressOptions {
  /** Local addresses to open subflows from. Default: the namespace's global addresses. */
  addresses?: LocalAddress[];
  /** Addresses whose subflows are backups (besides those marked in `addresses`). */
  backup?: string[];
}

export function subflowPerAddress(options?: SubflowPerAddressOptions): Policy {
  const o = checkPolicyOptions(options, ['addresses', 'backup']);
  return {
    name: 'subflow-per-address',
    async established(conn, act) {
      if (conn.serverSide === true) return;
      for (const l of localsFor(conn, act, o.addresses, o.backup)) {
        if (l.address === conn.local.address) continue;
        await act.createSubflow({ local: { address: l.address, id: l.id }, remote: conn.remote, backup: l.backup });
      }
    },
    async subflowClosed(sf, conn, act) {
      if (conn.serverSide === true || sf.local.address === conn.local.address) return;
      const l = localsFor(conn, act, o.addresses, o.backup).find((x) => x.address === sf.local.address);
      if (l) await act.createSubflow({ local: { address: l.address, id: l.id }, remote: conn.remote, backup: l.backup });
    },
  };
}
