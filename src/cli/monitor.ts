// `mptcp-pm monitor`: streams the namespace's MPTCP events, one line each (iproute2's layout, every
// attribute, listener events named) or JSON with `-j` (see monitor-json.ts); overruns on stderr;
// SIGINT/SIGTERM end it.

import type { MptcpEvent, MptcpEventFilterName } from '../index.js';
import { Words, formatToken } from './args.js';
import { JSON_FORMATS, jsonWriter, nativeEventJson, type JsonFormat } from './monitor-json.js';
import type { Context } from './context.js';

export interface MonitorAction {
  cmd: 'monitor';
  types?: MptcpEventFilterName[];
  token?: number;
  /** Receive buffer of the event socket in bytes (MptcpEvents' receiveBufferBytes). */
  rcvbuf?: number;
  /** Shape of `-j` output (default iproute2). */
  jsonFormat?: JsonFormat;
}

/** Text names, as `ip mptcp monitor` prints them (it has none for the listener events before 6.2). */
const TEXT_NAMES: Record<string, string> = {
  created: 'CREATED', established: 'ESTABLISHED', closed: 'CLOSED', announced: 'ANNOUNCED',
  removed: 'REMOVED', subEstablished: 'SF_ESTABLISHED', subClosed: 'SF_CLOSED', subPriority: 'SF_PRIO',
  listenerCreated: 'LISTENER_CREATED', listenerClosed: 'LISTENER_CLOSED', unknown: 'UNKNOWN', invalid: 'INVALID',
};

/** Every spelling `--type` takes for a type: camelCase, kebab-case, snake_case, the printed name. */
const TYPE_BY_SPELLING: ReadonlyMap<string, MptcpEventFilterName> = new Map(
  Object.entries(TEXT_NAMES).flatMap(([name, text]) => {
    const kebab = name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    return [name.toLowerCase(), kebab, kebab.replace(/-/g, '_'), text.toLowerCase()].map(
      (s) => [s, name as MptcpEventFilterName] as const,
    );
  }),
);

export function parseMonitor(words: readonly string[]): MonitorAction {
  const w = new Words(words, 'monitor');
  const a: MonitorAction = { cmd: 'monitor' };
  while (!w.done) {
    const word = w.next() as string;
    if (word === '--type' || word === 'type') {
      const text = w.value('--type');
      const types = text.split(',').map((t) => {
        const type = TYPE_BY_SPELLING.get(t.toLowerCase());
        if (!type) throw w.fail(`unknown event type "${t}"`);
        return type;
      });
      a.types = [...new Set([...(a.types ?? []), ...types])];
    } else if (word === '--token' || word === 'token') {
      a.token = w.token();
    } else if (word === '--rcvbuf' || word === 'rcvbuf') {
      a.rcvbuf = w.number('--rcvbuf', 1, 0x3fffffff);
    } else if (word === '--json-format') {
      const f = w.value('--json-format');
      if (!JSON_FORMATS.includes(f as JsonFormat)) throw w.fail(`unknown --json-format "${f}" (${JSON_FORMATS.join(', ')})`);
      a.jsonFormat = f as JsonFormat;
    } else {
      throw w.fail(`command "${word}" is unknown`);
    }
  }
  return a;
}

function hex(data: Uint8Array): string {
  return Buffer.from(data).toString('hex');
}

/** One text line: `[     ESTABLISHED] token=1a2b3c4d remid=0 locid=0 saddr4=… sport=… …`. */
export function eventLine(e: MptcpEvent): string {
  const name = e.type === 'unknown' ? `UNKNOWN ${e.eventType}` : TEXT_NAMES[e.type];
  const parts = [`[${name.padStart(16)}]`];
  if (e.type === 'invalid') {
    parts.push(`event=${e.eventType}`, `reason=${JSON.stringify(e.reason)}`, `data=${hex(e.data)}`);
    return `${parts.join(' ')}\n`;
  }
  const add = (k: string, v: unknown): void => void (v !== undefined && parts.push(`${k}=${v}`));
  add('token', e.token === undefined ? undefined : formatToken(e.token));
  add('family', e.family);
  add('remid', e.remoteId);
  add('locid', e.localId);
  const v = e.family === 'inet6' || (e.localAddress ?? e.remoteAddress ?? '').includes(':') ? '6' : '4';
  add(`saddr${v}`, e.localAddress);
  add(`daddr${v}`, e.remoteAddress);
  add('sport', e.localPort);
  add('dport', e.remotePort);
  add('backup', e.backup === undefined ? undefined : Number(e.backup));
  add('error', e.error && `${e.error.errno}(${e.error.code})`);
  add('server_side', e.serverSide === undefined ? undefined : Number(e.serverSide));
  add('deny_join_id0', e.denyJoinId0 === undefined ? undefined : Number(e.denyJoinId0));
  add('flags', e.unknownFlags === undefined ? undefined : `0x${e.unknownFlags.toString(16)}`);
  add('timeout', e.timeout);
  add('ifindex', e.ifindex);
  add('reset_reason', e.resetReason && `${e.resetReason.value}(${e.resetReason.name})`);
  add('reset_flags', e.resetFlags && `0x${e.resetFlags.value.toString(16)}`);
  const raw = e.type === 'unknown' ? e.attributes : e.unknownAttributes;
  for (const attr of raw ?? []) add(`attr${attr.type}`, hex(attr.data));
  return `${parts.join(' ')}\n`;
}

/** One NDJSON line of the native format: the event object, the token in hex, bytes in hex. */
export function eventJson(e: MptcpEvent): string {
  return `${nativeEventJson(e)}\n`;
}

/** Runs until SIGINT or SIGTERM (exit 0), or until the event socket fails (exit 1). */
export async function runMonitor(a: MonitorAction, ctx: Context): Promise<number> {
  const [{ MptcpEvents }, { Netns }] = await Promise.all([import('../mptcp/events/events.js'), import('../os/netns.js')]);
  // Opened once: the events and the interface names of their ifindex come from the same namespace.
  const ns = Netns.open(ctx.netns);
  const events = await MptcpEvents.open({
    netns: ns,
    ...(a.types && { types: a.types }),
    ...(a.token !== undefined && { token: a.token }),
    ...(a.rcvbuf !== undefined && { receiveBufferBytes: a.rcvbuf }),
  }).catch((e: unknown) => {
    ns.close();
    throw e;
  });
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let failure: Error | undefined;
  events.on('error', (err) => {
    failure = err;
  });
  const names = new Map<number, string | undefined>();
  const ifname = (index: number): string | undefined => {
    if (!names.has(index)) {
      try {
        names.set(index, ns.interfaceName(index));
      } catch {
        names.set(index, undefined);
      }
    }
    return names.get(index);
  };
  const json = jsonWriter(a.jsonFormat ?? 'iproute2', ifname);
  try {
    for await (const item of events.stream({ signal: stop.signal })) {
      if (item.type === 'overrun') {
        const lost = item.lost === undefined ? 'an unknown number of' : String(item.lost);
        ctx.err(`mptcp-pm: overrun: ${lost} event${item.lost === 1 ? '' : 's'} lost\n`);
        if (failure) ctx.err(`mptcp-pm: ${failure.message}\n`);
        failure = undefined;
        continue;
      }
      ctx.out(ctx.json ? json.line(item) : eventLine(item));
    }
  } finally {
    if (ctx.json) ctx.out(json.end());
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    events.close();
    ns.close();
  }
  return 0;
}

export const parse = parseMonitor;
export const run = runMonitor;
