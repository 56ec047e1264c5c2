// Routing capability: the reconciler's policy (which interfaces get endpoints with which flags),
// checked in full before anything is sent, and the matching of interface names and addresses.

import { ValidationError } from '../netlink/core/errors.js';
import { familyOf, isAddress, networkBytes, ipToBytes } from '../os/address.js';
import { ENDPOINT_FLAGS, flagsToBits, bitsToFlags, type EndpointFlag } from '../mptcp/pm/endpoint.js';
import { checkBoolean, checkInt, checkKeys, checkNetns, checkObject, show } from '../mptcp/input/validate.js';
import type { Netns } from '../os/netns.js';
import { ENDPOINT_ID_RANGE, RESERVED_TABLES, TABLE_RANGE } from './marks.js';
import { globMatch, globProblem, globsMeet } from './glob.js';

export { globMatch, globsMeet } from './glob.js';

/** One line of policy: interfaces whose name matches `interface` get endpoints with `flags`. */
export interface PolicyRule {
  /** Interface name or glob (`*` any run of characters, `?` one character, `[0-9]` one of a set): `eth*`, `wlan0`, `eth[0-9]`. */
  interface: string;
  /** Endpoint flags: `subflow`, `signal`, `backup`, `fullmesh` (not `signal` with `fullmesh`). */
  flags: EndpointFlag[];
  /** Only addresses inside these prefixes (`192.0.2.0/24`, `2001:db8::/32`); default: all. */
  subnets?: string[];
}

/** What {@link EndpointReconciler.start} takes (also the `mptcp-pm auto` config file). */
export interface ReconcilerOptions {
  /** A namespace: a name under /run/netns, a path such as /proc/PID/ns/net, or an open Netns handle (borrowed: used, never closed). Default: the caller's. */
  netns?: string | Netns;
  rules: PolicyRule[];
  /** Also keep a per-source rule and table for each endpoint address (default false). */
  sourceRouting?: boolean;
  /** Address families to manage (default both). */
  ipv4?: boolean;
  ipv6?: boolean;
  /** Wait after a notification before the kernel state is compared (default 50 ms); notifications meanwhile join the same pass. */
  debounceMs?: number;
  /** A full comparison also runs this often, catching changes rtnetlink does not announce (endpoints edited by hand); 0 turns it off (default 30000 ms). */
  resyncIntervalMs?: number;
  /** Ids for the endpoints made here (default 100–199); endpoints with other ids are left alone. */
  endpointIds?: { min: number; max: number };
  /** Tables for per-source routing (default 1000–1999). */
  tables?: { min: number; max: number };
  /** Receive buffer of the notification socket (default 4 MiB); a smaller one overruns sooner. */
  receiveBufferBytes?: number;
}

/** A policy rule after the checks: flags as bits, subnets as byte prefixes. */
export interface CheckedRule {
  interface: string;
  flags: EndpointFlag[];
  subnets?: { bytes: Buffer; len: number }[];
}

export interface CheckedPolicy {
  netns?: string | Netns;
  rules: CheckedRule[];
  sourceRouting: boolean;
  ipv4: boolean;
  ipv6: boolean;
  debounceMs: number;
  resyncIntervalMs: number;
  endpointIds: { min: number; max: number };
  tables: { min: number; max: number };
  receiveBufferBytes: number;
}

const KEYS = ['netns', 'rules', 'sourceRouting', 'ipv4', 'ipv6', 'debounceMs', 'resyncIntervalMs', 'endpointIds', 'tables', 'receiveBufferBytes'];

/** Checks reconciler options; every failure is a ValidationError naming the field (`rules[1].flags[0]`). */
export function checkPolicy(input: unknown): CheckedPolicy {
  const o = checkObject('options', input);
  checkKeys('options', o, KEYS);
  if (!Array.isArray(o.rules) || o.rules.length === 0) throw new ValidationError('rules', `must be a non-empty array of { interface, flags }, got ${show(o.rules)}`);
  const rules = o.rules.map((r, i) => checkRule(`rules[${i}]`, r));
  rules.forEach((a, i) => rules.slice(0, i).forEach((b, j) => {
    if (globsMeet(a.interface, b.interface)) {
      throw new ValidationError(`rules[${i}].interface`, `${show(a.interface)} overlaps rules[${j}].interface ${show(b.interface)}: an interface name could match both`);
    }
  }));
  const bool = (k: string, d: boolean): boolean => (o[k] === undefined ? d : checkBoolean(k, o[k]));
  const ipv4 = bool('ipv4', true);
  const ipv6 = bool('ipv6', true);
  if (!ipv4 && !ipv6) throw new ValidationError('ipv6', 'ipv4 and ipv6 cannot both be false');
  const endpointIds = checkRange('endpointIds', o.endpointIds, ENDPOINT_ID_RANGE, 1, 255);
  const tables = checkTableRange('tables', o.tables);
  return {
    netns: checkNetns(o.netns),
    rules,
    sourceRouting: bool('sourceRouting', false),
    ipv4,
    ipv6,
    debounceMs: o.debounceMs === undefined ? 50 : checkInt('debounceMs', o.debounceMs, 0, 60_000),
    resyncIntervalMs: o.resyncIntervalMs === undefined ? 30_000 : checkInt('resyncIntervalMs', o.resyncIntervalMs, 0, 86_400_000),
    endpointIds,
    tables,
    receiveBufferBytes: o.receiveBufferBytes === undefined ? 4 << 20 : checkInt('receiveBufferBytes', o.receiveBufferBytes, 4096, 1 << 30),
  };
}

/** A range of table ids (default 1000–1999) that holds no table reserved by the kernel. */
export function checkTableRange(field: string, v: unknown): { min: number; max: number } {
  const tables = checkRange(field, v, TABLE_RANGE, 1, 0xffffffff);
  const reserved = RESERVED_TABLES.find((t) => t >= tables.min && t <= tables.max);
  if (reserved !== undefined) throw new ValidationError(field, `the range contains table ${reserved}, reserved by the kernel (252-255)`);
  return tables;
}

function checkRange(field: string, v: unknown, d: { min: number; max: number }, lo: number, hi: number): { min: number; max: number } {
  if (v === undefined) return { ...d };
  const r = checkObject(field, v);
  checkKeys(field, r, ['min', 'max']);
  const min = checkInt(`${field}.min`, r.min, lo, hi);
  const max = checkInt(`${field}.max`, r.max, min, hi);
  return { min, max };
}

function checkRule(field: string, input: unknown): CheckedRule {
  const r = checkObject(field, input);
  checkKeys(field, r, ['interface', 'flags', 'subnets']);
  if (typeof r.interface !== 'string' || !/^[^/:\s]{1,15}$/.test(r.interface)) {
    throw new ValidationError(`${field}.interface`, `must be an interface name or glob (*, ?, [0-9]) of 1 to 15 characters, got ${show(r.interface)}`);
  }
  const problem = globProblem(r.interface);
  if (problem) throw new ValidationError(`${field}.interface`, `must be an interface name or glob (*, ?, [0-9]): ${problem}`);
  if (!Array.isArray(r.flags) || r.flags.length === 0) throw new ValidationError(`${field}.flags`, `must be a non-empty array of flag names, got ${show(r.flags)}`);
  const bits = flagsToBits(`${field}.flags`, r.flags);
  if (bits & ENDPOINT_FLAGS.implicit) throw new ValidationError(`${field}.flags`, '"implicit" endpoints are made by the kernel only');
  if (bits & ENDPOINT_FLAGS.signal && bits & ENDPOINT_FLAGS.fullmesh) throw new ValidationError(`${field}.flags`, '"signal" and "fullmesh" cannot be combined');
  if (!(bits & (ENDPOINT_FLAGS.signal | ENDPOINT_FLAGS.subflow))) {
    throw new ValidationError(`${field}.flags`, 'needs "subflow" or "signal" (an endpoint with neither is never used)');
  }
  const out: CheckedRule = { interface: r.interface, flags: bitsToFlags(bits) };
  if (r.subnets !== undefined) {
    if (!Array.isArray(r.subnets)) throw new ValidationError(`${field}.subnets`, `must be an array of prefixes, got ${show(r.subnets)}`);
    out.subnets = r.subnets.map((s, i) => checkPrefix(`${field}.subnets[${i}]`, s));
  }
  return out;
}

function checkPrefix(field: string, v: unknown): { bytes: Buffer; len: number } {
  const m = typeof v === 'string' ? /^([^/]+)\/(\d{1,3})$/.exec(v) : null;
  const len = m ? Number(m[2]) : -1;
  if (!m || !isAddress(m[1]) || len > (familyOf(m[1]) === 'inet' ? 32 : 128)) throw new ValidationError(field, `must be a prefix such as 192.0.2.0/24 or 2001:db8::/32, got ${show(v)}`);
  return { bytes: networkBytes(m[1], len), len };
}

/** The rule for an address on interface `ifname`, or undefined when the policy leaves it out. */
export function ruleFor(policy: CheckedPolicy, ifname: string, address: string): CheckedRule | undefined {
  const rule = policy.rules.find((r) => globMatch(r.interface, ifname));
  if (!rule?.subnets) return rule;
  const a = ipToBytes(address);
  return rule.subnets.some((s) => s.bytes.length === a.length && networkBytes(address, s.len).equals(s.bytes)) ? rule : undefined;
}
