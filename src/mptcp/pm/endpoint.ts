// Endpoint vocabulary of the API layer (flag names, Endpoint objects) and its mapping to and from
// the `address` attribute set, with the checks `ip mptcp endpoint add` users expect.

import { EndpointFlags, type Address } from '../../../generated/mptcp_pm.js';
import { DecodeError, ValidationError } from '../../netlink/core/errors.js';
import { canonicalAddress, fromWire, toWire } from '../../os/address.js';
import { checkId, checkIfname, checkInt, checkIpAddress, checkKeys, checkObject, checkPort, show } from '../input/validate.js';

/** Endpoint flags by name, with their bit values (`MPTCP_PM_ADDR_FLAG_*`), from the generated table. */
export const ENDPOINT_FLAGS = EndpointFlags;

export type EndpointFlag = EndpointFlags;
const FLAG_NAMES = Object.keys(ENDPOINT_FLAGS) as EndpointFlag[];
const KNOWN_FLAG_BITS = FLAG_NAMES.reduce((m, n) => m | ENDPOINT_FLAGS[n], 0);

/** An endpoint as the kernel stores it (or an address of a userspace-PM connection). */
export interface Endpoint {
  id: number;
  address: string;
  family: 'inet' | 'inet6';
  /** Only for signal endpoints that were given a port. */
  port?: number;
  flags: EndpointFlag[];
  /** Bits this library has no name for, kept as the kernel sent them (0 when none). */
  unknownFlags: number;
  ifindex?: number;
  ifname?: string;
}

/** What `addEndpoint` takes. */
export interface EndpointSpec {
  /**
   * An IPv4 or IPv6 address; a link-local IPv6 one may carry its interface as a zone id
   * (`fe80::1%eth0`). Wildcard, multicast and broadcast addresses are accepted as the kernel
   * accepts them (no packet uses them; `MptcpPm` says so through its `warning` event).
   */
  address: string;
  id?: number;
  port?: number;
  ifname?: string;
  ifindex?: number;
  flags?: EndpointFlag[];
}

/** Bit mask of flag names; an unknown name is refused with the list of known ones. */
export function flagsToBits(field: string, flags: unknown): number {
  if (flags === undefined) return 0;
  if (!Array.isArray(flags)) throw new ValidationError(field, `must be an array of flag names, got ${show(flags)}`);
  let bits = 0;
  flags.forEach((name, i) => {
    // Own keys only: `in` would also accept 'toString' or '__proto__' from the prototype chain.
    if (typeof name !== 'string' || !Object.hasOwn(ENDPOINT_FLAGS, name)) {
      throw new ValidationError(`${field}[${i}]`, `unknown flag ${show(name)} (known: ${FLAG_NAMES.join(', ')})`);
    }
    bits |= ENDPOINT_FLAGS[name as EndpointFlag];
  });
  return bits;
}

export function bitsToFlags(bits: number): EndpointFlag[] {
  return FLAG_NAMES.filter((n) => (bits & ENDPOINT_FLAGS[n]) !== 0);
}

/** Validated wire form of an `addEndpoint` request, plus the interface still to resolve in the namespace. */
export interface CheckedEndpointSpec {
  wire: Address;
  /** The address without zone id. */
  address: string;
  ifname?: string;
  ifindex?: number;
  /** The zone id of a link-local address (`eth0` of `fe80::1%eth0`). */
  zone?: string;
}

/**
 * Checks an endpoint spec the way the kernel would, but before sending: a valid address, id
 * 1–255, port 1–65535 only with `signal` and without `subflow`, no `signal` with `fullmesh`, no
 * `implicit`, known flag names, an interface given once, a zone id only on a link-local address.
 * Like the kernel and `ip`, it takes any address, wildcard, multicast and broadcast ones included.
 * Whether the interface exists is checked by the caller, which holds the namespace.
 */
export function checkEndpointSpec(input: unknown): CheckedEndpointSpec {
  const spec = checkObject('endpoint', input);
  checkKeys('endpoint', spec, ['address', 'id', 'port', 'ifname', 'ifindex', 'flags']);
  const { address, zone } = checkIpAddress('address', spec.address, { zone: true });
  const bits = flagsToBits('flags', spec.flags);
  const wire: Address = { ...toWire(address), flags: bits };
  if (spec.id !== undefined) wire.id = checkId('id', spec.id);
  if (bits & ENDPOINT_FLAGS.implicit) {
    throw new ValidationError('flags', '"implicit" endpoints are created by the kernel only and cannot be asked for');
  }
  if (bits & ENDPOINT_FLAGS.signal && bits & ENDPOINT_FLAGS.fullmesh) {
    throw new ValidationError('flags', '"signal" and "fullmesh" cannot be combined');
  }
  if (spec.port !== undefined) {
    wire.port = checkPort('port', spec.port);
    if (!(bits & ENDPOINT_FLAGS.signal) || bits & ENDPOINT_FLAGS.subflow) {
      throw new ValidationError('port', 'a port is allowed only on a "signal" endpoint without "subflow"');
    }
  }
  const out: CheckedEndpointSpec = { wire, address };
  if (zone !== undefined) out.zone = zone;
  if (spec.ifindex !== undefined) out.ifindex = checkInt('ifindex', spec.ifindex, 1, 0x7fffffff);
  if (spec.ifname !== undefined) {
    out.ifname = checkIfname('ifname', spec.ifname);
    if (spec.ifindex !== undefined) throw new ValidationError('ifname', 'give either ifname or ifindex, not both');
  }
  return out;
}

/** API object of a decoded `address` nest; `what` names the message for errors. */
export function endpointFromWire(a: Address | undefined, what: string): Endpoint {
  const address = a ? fromWire(a) : undefined;
  if (!a || address === undefined || a.id === undefined) {
    throw new DecodeError(what, 'reply lacks the address, id or family of the endpoint');
  }
  const flags = a.flags ?? 0;
  return {
    id: a.id,
    address,
    family: a.addr4 !== undefined ? 'inet' : 'inet6',
    ...(a.port ? { port: a.port } : {}),
    flags: bitsToFlags(flags),
    unknownFlags: flags & ~KNOWN_FLAG_BITS,
    ...(a.ifIdx ? { ifindex: a.ifIdx } : {}),
  };
}

/** No endpoint matched an address given by the caller. */
export class EndpointNotFoundError extends Error {
  override readonly name = 'EndpointNotFoundError';
  readonly code = 'ENOENT';
}

/**
 * The one endpoint of `all` with `address` (and `port`, when given). Without a port, like the
 * kernel's own lookup by address, the endpoint without one wins when the address has several.
 * @throws ValidationError when several match and no port tells them apart; EndpointNotFoundError.
 */
export function pickEndpoint(all: readonly Endpoint[], address: string, port: number | undefined, fn: string, where: string): Endpoint {
  const canonical = canonicalAddress(address);
  const hits = all.filter((e) => e.address === canonical && (port === undefined || e.port === port));
  if (hits.length === 1) return hits[0];
  const portless = port === undefined ? hits.filter((e) => e.port === undefined) : [];
  if (portless.length === 1) return portless[0];
  if (hits.length > 1) {
    throw new ValidationError('endpoint.port', `${address} has ${hits.length} endpoints (ports ${hits.map((h) => h.port ?? 'none').join(', ')}); say which port`);
  }
  throw new EndpointNotFoundError(`${fn}: no endpoint with address ${address}${port ? ` port ${port}` : ''} in ${where}`);
}
