// Event decoding: one event message (genl cmd + attribute bytes) → the API object of types.ts.
// Pure; the table-driven codec does the wire work, this file maps attributes to user fields.

import { family, EventFlags, EventType, ResetFlags, ResetReason, type EventAttr } from '../../../generated/mptcp_pm.js';
import { decodeAttrs } from '../../netlink/core/codec.js';
import { readAttrs } from '../../netlink/core/attr.js';
import { familyName, formatV4, formatV6, type Family } from '../../os/address.js';
import { errnoName } from '../../netlink/core/errors.js';
import type { UnknownAttr } from '../../netlink/core/spec-types.js';
import type { EventFields, MptcpEvent, MptcpEventName } from './types.js';

const KNOWN_EVENT_FLAGS = EventFlags.denyJoinId0 | EventFlags.serverSide;

/** Event name by genl command number. */
const NAME_BY_CMD: ReadonlyMap<number, MptcpEventName> = new Map(
  Object.entries(EventType).map(([name, value]) => [value, name as MptcpEventName]),
);
const RESET_NAME: ReadonlyMap<number, ResetReason> = new Map(
  Object.entries(ResetReason).map(([name, value]) => [value, name as ResetReason]),
);

/** The name of event command `cmd`, or undefined for a number this library does not know. */
export function eventName(cmd: number): MptcpEventName | undefined {
  return NAME_BY_CMD.get(cmd);
}

/**
 * Decodes one `mptcp_pm` event: `cmd` is the genl command (the event type), `attrs` the bytes after
 * the genl header. Never throws on kernel input: an unknown `cmd` gives `{ type: 'unknown' }` with
 * every attribute raw, malformed bytes of a known event give `{ type: 'invalid', reason }`.
 *
 * Ports come out in host order, addresses as text, `error` as `{ errno, code }`, `resetReason` as
 * `{ value, name }`; `serverSide` is taken from the FLAGS attribute (6.18+) or from the older
 * SERVER_SIDE attribute; attributes the spec does not describe are kept in `unknownAttributes`.
 *
 * @example decodeEvent(10, bytes) // → { type: 'subEstablished', token: 0x1234abcd, localPort: 40000, … }
 */
export function decodeEvent(cmd: number, attrs: Uint8Array): MptcpEvent {
  const name = NAME_BY_CMD.get(cmd);
  if (name === undefined) return decodeUnknown(cmd, attrs);
  let wire: EventAttr;
  try {
    wire = decodeAttrs<EventAttr>(family, 'event-attr', attrs, `event ${name}`);
  } catch (e) {
    return invalid(cmd, attrs, (e as Error).message);
  }
  const fields = toFields(wire);
  if (name === 'listenerCreated' || name === 'listenerClosed') return { type: name, ...fields };
  if (fields.token === undefined) return invalid(cmd, attrs, `event ${name}: no token attribute`);
  const token = fields.token;
  switch (name) {
    case 'created':
    case 'established':
      return { type: name, ...fields, token, serverSide: fields.serverSide ?? false, denyJoinId0: fields.denyJoinId0 ?? false };
    default:
      return { type: name, ...fields, token } as MptcpEvent;
  }
}

function decodeUnknown(cmd: number, attrs: Uint8Array): MptcpEvent {
  let attributes: UnknownAttr[];
  try {
    attributes = readAttrs(attrs, `event ${cmd}`).map((a) => ({ type: a.type, data: Uint8Array.from(a.data) }));
  } catch (e) {
    return invalid(cmd, attrs, (e as Error).message);
  }
  let fields: EventFields = {};
  try {
    // A future event may reuse attribute numbers with other sizes; then only the raw form is given.
    fields = toFields(decodeAttrs<EventAttr>(family, 'event-attr', attrs, `event ${cmd}`));
  } catch {
    fields = {};
  }
  return { type: 'unknown', eventType: cmd, ...fields, attributes };
}

function invalid(cmd: number, attrs: Uint8Array, reason: string): MptcpEvent {
  return { type: 'invalid', eventType: cmd, reason, data: Uint8Array.from(attrs) };
}

/** Maps decoded event attributes to the user-facing fields; absent attributes stay absent. */
function toFields(w: EventAttr): EventFields {
  const f: EventFields = {};
  if (w.token !== undefined) f.token = w.token;
  const fam = familyOf(w);
  if (fam !== undefined) f.family = fam;
  if (w.saddr4 !== undefined) f.localAddress = formatV4(w.saddr4);
  else if (w.saddr6 !== undefined) f.localAddress = formatV6(w.saddr6);
  if (w.sport !== undefined) f.localPort = w.sport;
  if (w.daddr4 !== undefined) f.remoteAddress = formatV4(w.daddr4);
  else if (w.daddr6 !== undefined) f.remoteAddress = formatV6(w.daddr6);
  if (w.dport !== undefined) f.remotePort = w.dport;
  if (w.locId !== undefined) f.localId = w.locId;
  if (w.remId !== undefined) f.remoteId = w.remId;
  if (w.backup !== undefined) f.backup = w.backup !== 0;
  if (w.error !== undefined) f.error = { errno: w.error, code: errnoName(w.error) };
  if (w.ifIdx !== undefined) f.ifindex = w.ifIdx;
  if (w.resetReason !== undefined) f.resetReason = { value: w.resetReason, name: RESET_NAME.get(w.resetReason) ?? 'unknown' };
  if (w.resetFlags !== undefined) f.resetFlags = { value: w.resetFlags, transient: (w.resetFlags & ResetFlags.transient) !== 0 };
  if (w.flags !== undefined || w.serverSide !== undefined) {
    const flags = w.flags ?? 0;
    f.serverSide = (flags & EventFlags.serverSide) !== 0 || (w.serverSide ?? 0) !== 0;
    f.denyJoinId0 = (flags & EventFlags.denyJoinId0) !== 0;
    if (flags & ~KNOWN_EVENT_FLAGS) f.unknownFlags = flags & ~KNOWN_EVENT_FLAGS;
  }
  if (w.timeout !== undefined) f.timeout = w.timeout;
  if (w.unknown !== undefined) f.unknownAttributes = w.unknown;
  return f;
}

/**
 * The family of an event: from its FAMILY attribute, else (ANNOUNCED sends none) from which form
 * of address it carries.
 */
function familyOf(w: EventAttr): Family | undefined {
  const named = familyName(w.family);
  if (named !== undefined) return named;
  if (w.saddr4 !== undefined || w.daddr4 !== undefined) return 'inet';
  if (w.saddr6 !== undefined || w.daddr6 !== undefined) return 'inet6';
  return undefined;
}
