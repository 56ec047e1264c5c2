// Routing capability: how this library marks what it puts in the kernel, so that it can tell its own
// rules, routes and endpoints from everybody else's after a restart, without a state file.

/** rtm_protocol / FRA_PROTOCOL of every route and rule made here (`proto 77` in `ip rule`/`ip route`). */
export const ROUTE_PROTOCOL = 77;
/** Priority (`pref`) of the per-source rules: before `main` (32766), after `local` (0). */
export const RULE_PRIORITY = 10000;
/** Priority of the rules the endpoint reconciler keeps (its own set, apart from `mptcp-pm route add`). */
export const RECONCILER_RULE_PRIORITY = 10100;
/** Tables handed out when the caller names none. */
export const TABLE_RANGE = { min: 1000, max: 1999 } as const;
/** Endpoint ids the reconciler gives its endpoints; ids outside are someone else's. */
export const ENDPOINT_ID_RANGE = { min: 100, max: 199 } as const;
/** Table ids with a fixed meaning to the kernel: unspec, compat, default, main, local. */
export const RESERVED_TABLES: readonly number[] = [0, 252, 253, 254, 255];
