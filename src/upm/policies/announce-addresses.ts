// Built-in policy (server side): announce the local addresses to every connection, so the peer's
// path manager can join them.

import type { LocalAddress, Policy } from '../types.js';
import { checkPolicyOptions, localsFor } from './common.js';

export interface AnnounceAddressesOptions {
  /** Addresses to announce. Default: the namespace's global addresses. */
  addresses?: LocalAddress[];
  /** Announce on connections this host opened too (default: only accepted ones, or unknown ones). */
  clientSide?: boolean;
}

export function announceAddresses(options?: AnnounceAddressesOptions): Policy {
  const o = checkPolicyOptions(options, ['addresses', 'clientSide']);
  return {
    name: 'announce-addresses',
    async established(conn, act) {
      if (conn.serverSide === false && o.clientSide !== true) return;
      for (const l of localsFor(conn, act, o.addresses)) {
        if (l.address !== conn.local.address) await act.announce({ address: l.address, id: l.id });
      }
    },
  };
}
