// Built-in policies: small helpers they share (each policy file stays a readable example).

import {
  checkAddress, checkArray, checkBoolean, checkId, checkKeys, checkObject, checkOptions, type OptionCheck,
} from '../../mptcp/input/validate.js';
import type { LocalAddress, UpmActions, UpmConnection } from '../types.js';
import { familyOf, unmapV4 } from '../../os/address.js';

/** The keys the built-in policies take, each with its check (addresses are unicast, ids 1–255). */
const POLICY_OPTIONS: Record<string, OptionCheck> = {
  addresses: (f, v) => checkArray(f, v, (g, item) => {
    const a = checkObject(g, item);
    checkKeys(g, a, ['address', 'id', 'backup']);
    checkAddress(`${g}.address`, a.address, { unicast: true });
    if (a.id !== undefined) checkId(`${g}.id`, a.id);
    if (a.backup !== undefined) checkBoolean(`${g}.backup`, a.backup);
  }),
  backup: (f, v) => checkArray(f, v, (g, item) => checkAddress(g, item, { unicast: true })),
  clientSide: (f, v) => checkBoolean(f, v),
};

/**
 * Checks a built-in policy's options when the policy is made: only `keys` are known, addresses must
 * be unicast (an address a subflow or ADD_ADDR can use), ids 1–255.
 * @throws ValidationError naming the field (`addresses[0].id`, `options.adresses` for an unknown key, …).
 */
export function checkPolicyOptions<T extends object>(o: T | undefined, keys: readonly string[]): T {
  return checkOptions(o, Object.fromEntries(keys.map((k) => [k, POLICY_OPTIONS[k]])));
}

/** The local addresses a policy uses on `conn`: the configured ones, else the namespace's, of the connection's family. */
export function localsFor(conn: UpmConnection, act: UpmActions, configured?: readonly LocalAddress[], backup: readonly string[] = []): LocalAddress[] {
  const fam = familyOf(unmapV4(conn.remote.address));
  const list: readonly LocalAddress[] = configured ?? act.localAddresses().map((address) => ({ address }));
  return list
    .filter((l) => familyOf(l.address) === fam)
    .map((l) => ({ ...l, backup: l.backup === true || backup.includes(l.address) }));
}
