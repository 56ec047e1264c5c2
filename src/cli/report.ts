// Turns an error that ended a command into its stderr text and exit status, the statuses `ip`
// gives: 255 a wrong command line or namespace, 1 a bad address, 2 a refused request.

import { DecodeError, NetlinkError, TimeoutError, ClosedError, UnsupportedError, ValidationError } from '../netlink/core/errors.js';
import { UsageError, type Section } from './usage.js';

/** Hints for kernel messages that name an errno but not its meaning. */
const HINTS: Array<[RegExp, string]> = [
  [/duplicate one: -17$/, 'an endpoint with this address already exists'],
  [/duplicate one: -16$/, 'this id is already in use'],
  [/duplicate one: -34$/, 'a namespace holds at most 8 endpoints'],
  [/duplicate one: -22$/, 'the address is already an implicit endpoint (add it without an id) or no id is free'],
  [/create listen socket error: -98$/, 'an endpoint with this address and port already exists'],
  [/create listen socket error: -99$/, 'the address is not configured on an interface of this namespace'],
  [/^invalid token$/, 'no MPTCP connection has this token in this namespace'],
  [/^userspace PM not selected$/, 'the connection is run by the in-kernel path manager (set "path-manager userspace" before it is created)'],
  [/^address not found$/, 'no endpoint has this id'],
  [/^connect error: -99$/, 'the local address is not configured in this namespace'],
];

/** Expected failures of a request, from modules this one does not load (kept light for fast usage errors). */
const REFUSAL_NAMES = [
  'EndpointNotFoundError', 'SysctlPermissionError', 'SourceRoutingError', 'PathManagerModeError', 'InputTooLargeError', 'PolicyFileError',
];

/** Exit statuses, as iproute2's `ip` gives them. */
export const STATUS = { usage: 255, badAddress: 1, refused: 2, internal: 1 } as const;

export interface Report {
  status: number;
  stderr: string;
}

/** "Error: <text>." the way `ip` prints a refusal (no doubled full stop). */
function errorLine(text: string): string {
  return `Error: ${text}${/[.!?]$/.test(text) ? '' : '.'}\n`;
}

/** What to print for `e`, which ended the command of `section`. */
export function report(e: unknown, section: Section): Report {
  if (e instanceof UsageError) return { status: e.status, stderr: e.render() };
  if (e instanceof ValidationError) {
    // Refused by the library before sending: what the kernel would have refused under `ip`.
    return { status: STATUS.refused, stderr: errorLine(e.message) };
  }
  if (e instanceof NetlinkError) {
    const text = e.kernelMessage ?? e.message.replace(/^\S+ \S+: [A-Z0-9]+: /, '');
    const hint = HINTS.find(([re]) => re.test(text))?.[1];
    return { status: STATUS.refused, stderr: `${errorLine(text)}mptcp-pm: ${e.code}${hint ? `: ${hint}` : ''}\n` };
  }
  if ((e as Error)?.name === 'NetnsError') {
    // `ip -n NAME` exits 255 when NAME cannot be opened.
    return { status: STATUS.usage, stderr: `Cannot open ${(e as Error).message}\n` };
  }
  if ((e as Error)?.name === 'EndpointNotFoundError') {
    // The library names its method ("deleteEndpoint: …"); the command's words are the rest.
    return { status: STATUS.refused, stderr: errorLine((e as Error).message.replace(/^[a-z][A-Za-z]*: /, '')) };
  }
  if (
    e instanceof UnsupportedError || e instanceof TimeoutError || e instanceof ClosedError ||
    e instanceof DecodeError || REFUSAL_NAMES.includes((e as Error)?.name)
  ) {
    return { status: STATUS.refused, stderr: errorLine((e as Error).message) };
  }
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err.code === 'string' && typeof err.message === 'string' && !process.env.MPTCP_PM_DEBUG) {
    // System errors (EACCES on a sysctl, EPERM entering a namespace, …): the request failed, no stack.
    return { status: STATUS.refused, stderr: errorLine(err.message) };
  }
  const detail = process.env.MPTCP_PM_DEBUG && err instanceof Error ? err.stack : String(err?.message ?? err);
  void section;
  return { status: STATUS.internal, stderr: `mptcp-pm: unexpected error: ${detail}\n(set MPTCP_PM_DEBUG=1 for details)\n` };
}
