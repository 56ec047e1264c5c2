// Input checks run before anything is sent: each failure is a ValidationError naming the field
// and the rule, so a request the kernel would refuse (or misread) never leaves the process.

import { PM_MAX_ADDR_ID } from '../../../generated/mptcp_pm.js';
import { ValidationError } from '../../netlink/core/errors.js';
import { Netns } from '../../os/netns.js';
import { addressKind, isAddress, isLinkLocal, splitZone } from '../../os/address.js';

/** An integer in [min, max], or a ValidationError naming `field`. */
export function checkInt(field: string, value: unknown, min: number, max: number, what = 'an integer'): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ValidationError(field, `must be ${what} from ${min} to ${max}, got ${show(value)}`);
  }
  return value;
}

/** An endpoint or address id: 1–255 (0 has a special meaning to the kernel and is never sent). */
export function checkId(field: string, value: unknown): number {
  return checkInt(field, value, 1, PM_MAX_ADDR_ID);
}

/** A TCP port: 1–65535. */
export function checkPort(field: string, value: unknown): number {
  return checkInt(field, value, 1, 65535);
}

/** A connection token: the u32 carried by events. */
export function checkToken(field: string, value: unknown): number {
  return checkInt(field, value, 0, 0xffffffff, 'a u32 connection token');
}

/** An address checked by {@link checkIpAddress}: the text without zone, and the zone if allowed and given. */
export interface CheckedAddress {
  address: string;
  zone?: string;
}

/**
 * An IPv4 or IPv6 address in text form. With `unicast`, refuses what no endpoint or subflow can
 * use: unspecified (0.0.0.0, ::), multicast (224.0.0.0/4, ff00::/8) and broadcast
 * (255.255.255.255). A zone id (`fe80::1%eth0`) is refused unless `zone` is set, and then allowed on
 * link-local addresses only; it is returned apart, for the caller to resolve to an interface.
 */
export function checkIpAddress(field: string, value: unknown, opts: { unicast?: boolean; zone?: boolean } = {}): CheckedAddress {
  if (!isAddress(value)) {
    throw new ValidationError(field, `must be an IPv4 or IPv6 address such as 192.0.2.1 or 2001:db8::1, got ${show(value)}`);
  }
  const { address, zone } = splitZone(value);
  if (zone !== undefined) {
    if (!opts.zone) {
      throw new ValidationError(field, `a zone id (%…) cannot be given here: nothing in this request carries an interface, got ${show(value)}`);
    }
    if (!isLinkLocal(address)) {
      throw new ValidationError(field, `a zone id is allowed only on a link-local address (fe80::/10), got ${show(value)}`);
    }
  }
  if (opts.unicast) {
    const kind = addressKind(address);
    if (kind !== 'unicast') {
      throw new ValidationError(field, `must be a unicast address, got ${show(value)} (${kind === 'unspecified' ? 'the unspecified (wildcard) address' : `a ${kind} address`})`);
    }
  }
  return zone === undefined ? { address } : { address, zone };
}

/** An IPv4 or IPv6 address in text form, without zone id (see {@link checkIpAddress}). */
export function checkAddress(field: string, value: unknown, opts: { unicast?: boolean } = {}): string {
  return checkIpAddress(field, value, { unicast: opts.unicast }).address;
}

/** A plain object, so a missing argument is reported by name rather than as a TypeError. */
export function checkObject(field: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError(field, `must be an object, got ${show(value)}`);
  }
  return value as Record<string, unknown>;
}

export function checkBoolean(field: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new ValidationError(field, `must be true or false, got ${show(value)}`);
  return value;
}

/** Refuses keys the caller did not mean (a typo such as `flag` for `flags` would otherwise be ignored). */
export function checkKeys(field: string, value: Record<string, unknown>, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (value[key] !== undefined && !allowed.includes(key)) {
      const name = key.length <= SHOW_MAX ? key : `${key.slice(0, SHOW_MAX)}…`;
      throw new ValidationError(`${field}.${name}`, `is not a known option (known: ${allowed.join(', ')})`);
    }
  }
}

/** An interface name as Linux accepts it: 1–15 bytes, no '/', ':' or whitespace. */
export function checkIfname(field: string, value: unknown): string {
  if (typeof value !== 'string' || !/^[^/:\s]{1,15}$/.test(value) || value === '.' || value === '..') {
    throw new ValidationError(field, `must be an interface name of 1 to 15 characters, got ${show(value)}`);
  }
  return value;
}

/** Most characters of a bad value quoted in an error message. */
export const SHOW_MAX = 100;

/**
 * A bad value as error messages quote it: JSON for strings and objects, at most about
 * {@link SHOW_MAX} characters (a longer one is cut, with its full length said).
 */
export function show(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') {
    if (value.length <= SHOW_MAX) return JSON.stringify(value);
    return `${JSON.stringify(value.slice(0, SHOW_MAX))}… (${value.length} characters)`;
  }
  if (typeof value === 'bigint') return cut(`${value}n`);
  if (value === undefined) return 'nothing';
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return cut(text);
}

function cut(text: string): string {
  return text.length <= SHOW_MAX ? text : `${text.slice(0, SHOW_MAX)}… (${text.length} characters)`;
}

/**
 * A namespace name under /run/netns, a path (/proc/PID/ns/net) or an open {@link Netns} handle;
 * undefined is the caller's own.
 */
export function checkNetns(value: unknown, field = 'netns'): string | Netns | undefined {
  if (value === undefined || value instanceof Netns) return value;
  if (typeof value !== 'string' || value.length === 0 || value.includes('\0')) {
    throw new ValidationError(field, `must be a namespace name (as in ip netns list), a path such as /proc/PID/ns/net or a Netns handle, got ${show(value)}`);
  }
  return value;
}

/** How one key of an options object is checked: called with the field name and the value given. */
export type OptionCheck = (field: string, value: unknown) => unknown;

/**
 * The one check of an entry point's options object: `undefined` is `{}`; anything else must be a
 * plain object; a key not in `checks` is refused by name (a typo such as `netNs` for `netns` would
 * otherwise be silently ignored); each key given is checked by its function. All before anything is
 * opened or sent. Returns the object, typed as the caller's options.
 * @throws ValidationError naming the field (`options`, `options.netNs`, `timeoutMs`, …) and the rule.
 */
export function checkOptions<T extends object>(value: T | undefined, checks: Readonly<Record<string, OptionCheck>>, field = 'options'): T {
  if (value === undefined) return {} as T;
  const o = checkObject(field, value);
  checkKeys(field, o, Object.keys(checks));
  for (const [key, check] of Object.entries(checks)) {
    if (o[key] !== undefined) check(key, o[key]);
  }
  return value;
}

/** An array whose every item passes `each` (called with `field[i]`), or a ValidationError naming `field`. */
export function checkArray(field: string, value: unknown, each: (field: string, item: unknown) => unknown): unknown[] {
  if (!Array.isArray(value)) throw new ValidationError(field, `must be an array, got ${show(value)}`);
  value.forEach((item, i) => each(`${field}[${i}]`, item));
  return value;
}

/** Checkers for {@link checkOptions} that many entry points share. */
export const OPTION = {
  netns: (field: string, v: unknown) => checkNetns(v, field),
  timeoutMs: (field: string, v: unknown) => checkInt(field, v, 1, 3_600_000, 'a whole number of milliseconds'),
  receiveBufferBytes: (field: string, v: unknown) => checkInt(field, v, 1, 0x3fffffff),
  boolean: (field: string, v: unknown) => checkBoolean(field, v),
  /** Taken as given (checked where it is used, e.g. a transport or an open handle). */
  any: () => undefined,
} as const satisfies Record<string, OptionCheck>;
