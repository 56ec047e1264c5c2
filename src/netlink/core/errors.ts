// Error types of every layer: kernel refusals (NetlinkError), malformed bytes (DecodeError), input
// refused before sending (ValidationError), and a command this kernel does not have (UnsupportedError).

import { constants as osConstants } from 'node:os';

const errnoNames: Map<number, string> = new Map(
  Object.entries(osConstants.errno).map(([name, value]) => [value, name] as [number, string]),
);

/** Symbolic name of a positive errno (`17` → `EEXIST`); `E<number>` when unknown. */
export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `E${errno}`;
}

/** Positive errno for a symbolic name (`EEXIST` → 17), or undefined. */
export function errnoValue(code: string): number | undefined {
  return (osConstants.errno as Record<string, number>)[code];
}

/** Extended-ACK details the kernel attached to an error or ACK (NETLINK_EXT_ACK). */
export interface ExtAck {
  /** NLMSGERR_ATTR_MSG: the kernel's own text. */
  message?: string;
  /** NLMSGERR_ATTR_OFFS: byte offset, in the request, of the attribute concerned. */
  offset?: number;
  /** NLMSGERR_ATTR_MISS_TYPE: type of a required attribute that was missing. */
  missingType?: number;
  /** NLMSGERR_ATTR_MISS_NEST: offset of the nest that lacked it. */
  missingNest?: number;
}

/**
 * The kernel refused a request. `errno` is positive, `code` its name, `message` leads with the
 * kernel's own words: `mptcp_pm add-addr: EBUSY: too many addresses or duplicate one: -16`.
 */
export class NetlinkError extends Error {
  override readonly name = 'NetlinkError';
  readonly op: string;
  readonly errno: number;
  readonly code: string;
  readonly extack: ExtAck;
  /**
   * The request attribute the extended ACK points at (its offset, or a missing attribute), named
   * from the protocol's tables: `addr.id`, `token`. Undefined when the kernel named none.
   */
  readonly attribute?: string;

  constructor(family: string, op: string, errno: number, extack: ExtAck = {}, hint?: string, attribute?: string) {
    const code = errnoName(errno);
    let text = extack.message ?? defaultText(errno, extack, attribute);
    if (attribute !== undefined && (extack.message !== undefined || extack.missingType === undefined)) text = `${text} [attribute ${attribute}]`;
    if (hint) text = `${text} (${hint})`;
    super(`${family} ${op}: ${code}: ${text}`);
    this.op = op;
    this.errno = errno;
    this.code = code;
    this.extack = extack;
    if (attribute !== undefined) this.attribute = attribute;
  }

  /** The kernel's extack message, if it sent one. */
  get kernelMessage(): string | undefined {
    return this.extack.message;
  }
}

function defaultText(errno: number, extack: ExtAck, attribute?: string): string {
  if (errno === osConstants.errno.EPERM) {
    return 'operation not permitted: CAP_NET_ADMIN in the user namespace that owns the network namespace is needed';
  }
  if (extack.missingType !== undefined) return `required attribute ${attribute ?? `type ${extack.missingType}`} missing`;
  return describeErrno(errno);
}

const errnoText: Record<string, string> = {
  EINVAL: 'invalid argument',
  EEXIST: 'already exists',
  ENOENT: 'not found',
  EBUSY: 'busy',
  ERANGE: 'out of range',
  EOPNOTSUPP: 'operation not supported',
  ESRCH: 'no such subflow or connection',
  ENOBUFS: 'no buffer space',
  ETIMEDOUT: 'timed out',
  EADDRINUSE: 'address in use',
  EADDRNOTAVAIL: 'address not available',
  EMSGSIZE: 'message too long',
};

function describeErrno(errno: number): string {
  return errnoText[errnoName(errno)] ?? 'kernel error';
}

/** Bytes that do not follow the wire format. `path` names the attribute, e.g. `event-attr.sport`. */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
  readonly path: string;
  constructor(path: string, detail: string) {
    super(`${path}: ${detail}`);
    this.path = path;
  }
}

/**
 * Input refused before anything was sent. `field` names the offending field (e.g. `id`,
 * `flags[1]`, `limits.subflows`); the message says the rule.
 */
export class ValidationError extends Error {
  override readonly name = 'ValidationError';
  readonly field: string;
  constructor(field: string, rule: string) {
    super(`${field}: ${rule}`);
    this.field = field;
  }
}

/** The running kernel lacks a command or feature; says which kernel added it. */
export class UnsupportedError extends Error {
  override readonly name = 'UnsupportedError';
  readonly feature: string;
  readonly sinceKernel: string;
  constructor(feature: string, sinceKernel: string, detail?: string) {
    super(`${feature} is not supported by this kernel (added in Linux ${sinceKernel})${detail ? `: ${detail}` : ''}`);
    this.feature = feature;
    this.sinceKernel = sinceKernel;
  }
}

/** A request got no answer in time, or the socket closed while it was pending. */
export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
  readonly op: string;
  constructor(op: string, ms: number) {
    super(`${op}: no answer from the kernel within ${ms} ms`);
    this.op = op;
  }
}

export class ClosedError extends Error {
  override readonly name = 'ClosedError';
  constructor(what = 'socket') {
    super(`${what} is closed`);
  }
}
