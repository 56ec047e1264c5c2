// Turns an error that ended a command into its stderr text and exit status: usage errors 2 (with
// the usage), kernel refusals 1 (the kernel's words plus a hint), other expected failures 1.

import { DecodeError, NetlinkError, TimeoutError, ClosedError, UnsupportedError, ValidationError } from '../index.js';
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

/** Expected failures from modules this one does not load (kept light for fast usage errors). */
const EXPECTED_NAMES = ['NetnsError', 'EndpointNotFoundError', 'SysctlPermissionError', 'SourceRoutingError', 'PathManagerModeError'];

export interface Report {
  status: number;
  stderr: string;
}

/** What to print for `e`, which ended the command of `section`. */
export function report(e: unknown, section: Section): Report {
  if (e instanceof UsageError) return { status: 2, stderr: e.render() };
  if (e instanceof ValidationError) return { status: 2, stderr: new UsageError(section, e.message).render() };
  if (e instanceof NetlinkError) {
    const text = e.kernelMessage ?? e.message.replace(/^\S+ \S+: [A-Z0-9]+: /, '');
    const hint = HINTS.find(([re]) => re.test(text))?.[1];
    return { status: 1, stderr: `Error: ${text} (${e.code}${hint ? `: ${hint}` : ''}).\n` };
  }
  if (
    e instanceof UnsupportedError || e instanceof TimeoutError || e instanceof ClosedError ||
    e instanceof DecodeError || EXPECTED_NAMES.includes((e as Error)?.name)
  ) {
    return { status: 1, stderr: `mptcp-pm: ${(e as Error).message}\n` };
  }
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err.code === 'string' && typeof err.message === 'string' && !process.env.MPTCP_PM_DEBUG) {
    // System errors (EACCES on a sysctl, EPERM entering a namespace, …): expected, no stack.
    return { status: 1, stderr: `mptcp-pm: ${err.message}\n` };
  }
  const detail = process.env.MPTCP_PM_DEBUG && err instanceof Error ? err.stack : String(err?.message ?? err);
  return { status: 1, stderr: `mptcp-pm: unexpected error: ${detail}\n(set MPTCP_PM_DEBUG=1 for details)\n` };
}
