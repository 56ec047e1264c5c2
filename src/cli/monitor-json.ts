// `monitor -j` output shapes: upstream iproute2's (`ip -j mptcp monitor`, iproute2 ≥ 6.19: field
// names event/token/remid/…, tokens and flag words as "0x…" strings) or the library's own objects.

import type { MptcpEvent } from '../index.js';
import { formatToken } from './args.js';

/** How `-j monitor` prints: upstream's objects one per line (default), upstream's array framing, or native. */
export type JsonFormat = 'iproute2' | 'iproute2-array' | 'native';
export const JSON_FORMATS: readonly JsonFormat[] = ['iproute2', 'iproute2-array', 'native'];

/** Upstream's event words (the text monitor's bracketed names). */
export const EVENT_WORDS: Record<string, string> = {
  created: 'CREATED', established: 'ESTABLISHED', closed: 'CLOSED', announced: 'ANNOUNCED',
  removed: 'REMOVED', subEstablished: 'SF_ESTABLISHED', subClosed: 'SF_CLOSED', subPriority: 'SF_PRIO',
  listenerCreated: 'LISTENER_CREATED', listenerClosed: 'LISTENER_CLOSED', unknown: 'UNKNOWN', invalid: 'INVALID',
};

/** C's "%#x": 0x-prefixed lower-case hex, and plain "0" for zero. */
function hex0x(n: number): string {
  return n === 0 ? '0' : `0x${(n >>> 0).toString(16)}`;
}

/**
 * The object upstream `ip -j mptcp monitor` prints for an event, keys in its order. `ifname`
 * resolves an interface index in the monitored namespace (upstream adds `dev` when it can).
 */
export function iproute2EventObject(e: MptcpEvent, ifname: (index: number) => string | undefined = () => undefined): Record<string, unknown> {
  if (e.type === 'unknown') return { event: `UNKNOWN ${e.eventType}` };
  if (e.type === 'invalid') return { event: `UNKNOWN ${e.eventType}` };
  const o: Record<string, unknown> = { event: EVENT_WORDS[e.type] };
  const set = (k: string, v: unknown): void => {
    if (v !== undefined) o[k] = v;
  };
  set('token', e.token === undefined ? undefined : hex0x(e.token));
  set('remid', e.remoteId);
  set('locid', e.localId);
  const v6 = (a: string | undefined): boolean => a !== undefined && a.includes(':');
  if (!v6(e.localAddress)) set('saddr4', e.localAddress);
  if (!v6(e.remoteAddress)) set('daddr4', e.remoteAddress);
  if (v6(e.localAddress)) set('saddr6', e.localAddress);
  if (v6(e.remoteAddress)) set('daddr6', e.remoteAddress);
  set('sport', e.localPort);
  set('dport', e.remotePort);
  set('backup', e.backup === undefined ? undefined : Number(e.backup));
  set('error', e.error?.errno);
  set('timeout', e.timeout);
  if (e.ifindex !== undefined) {
    o.ifindex = e.ifindex;
    set('dev', e.ifindex ? ifname(e.ifindex) : undefined);
  }
  set('reset_reason', e.resetReason?.value);
  set('reset_flags', e.resetFlags === undefined ? undefined : hex0x(e.resetFlags.value));
  if (e.serverSide) o.server_side = true;
  if (e.denyJoinId0) o.deny_join_id0 = true;
  if (e.unknownFlags) o.flags = hex0x(e.unknownFlags);
  return o;
}

/** The library's event object as JSON: tokens as 8 hex digits (as the commands read them), bytes in hex. */
export function nativeEventJson(e: MptcpEvent): string {
  return JSON.stringify(e, (k, value: unknown) => {
    if (k === 'token' && typeof value === 'number') return formatToken(value);
    if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
    return value;
  });
}

/**
 * A writer for one monitor run: `line(e)` gives the text to print for an event, `end()` what to
 * print when the monitor stops (the closing bracket of the array form).
 */
export function jsonWriter(format: JsonFormat, ifname: (index: number) => string | undefined): { line(e: MptcpEvent): string; end(): string } {
  let first = true;
  return {
    line: (e) => {
      if (format === 'native') return `${nativeEventJson(e)}\n`;
      const text = JSON.stringify(iproute2EventObject(e, ifname));
      if (format === 'iproute2') return `${text}\n`;
      const out = `${first ? '[' : ','}${text}`;
      first = false;
      return out;
    },
    end: () => (format === 'iproute2-array' ? `${first ? '[' : ''}]\n` : ''),
  };
}
