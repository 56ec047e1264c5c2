// Built-in policies: small helpers they share (each policy file stays a readable example).

import { isIP } from 'node:net';
import type { LocalAddress, UpmActions, UpmConnection } from '../types.js';

/** The local addresses a policy uses on `conn`: the configured ones, else the namespace's, of the connection's family. */
export function localsFor(conn: UpmConnection, act: UpmActions, configured?: readonly LocalAddress[], backup: readonly string[] = []): LocalAddress[] {
  const fam = isIP(conn.remote.address.replace(/^::ffff:(?=\d+\.)/, ''));
  const list: readonly LocalAddress[] = configured ?? act.localAddresses().map((address) => ({ address }));
  return list
    .filter((l) => isIP(l.address) === fam)
    .map((l) => ({ ...l, backup: l.backup === true || backup.includes(l.address) }));
}
