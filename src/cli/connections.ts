// `mptcp-pm connections [token TOKEN]`: every MPTCP connection with its subflows beneath it (what
// `ss -iaM` and `ss -ti` show, grouped), or JSON with `-j`.

import type { MptcpConnection, MptcpListener, MptcpSubflow } from '../index.js';
import { Words, formatToken } from './args.js';
import type { Context } from './context.js';

export interface ConnectionsAction {
  cmd: 'connections';
  token?: number;
}

export function parseConnections(words: readonly string[]): ConnectionsAction {
  const w = new Words(words, 'connections');
  const a: ConnectionsAction = { cmd: 'connections' };
  while (!w.done) {
    const word = w.next() as string;
    if (word === 'token') a.token = w.token();
    else throw w.fail(`unknown argument "${word}"`);
  }
  return a;
}

const STATE_TEXT: Record<string, string> = {
  established: 'ESTAB', synSent: 'SYN-SENT', synRecv: 'SYN-RECV', finWait1: 'FIN-WAIT-1', finWait2: 'FIN-WAIT-2',
  timeWait: 'TIME-WAIT', close: 'UNCONN', closeWait: 'CLOSE-WAIT', lastAck: 'LAST-ACK', listen: 'LISTEN', closing: 'CLOSING',
};

function ep(a: { address: string; port: number }, dev?: string): string {
  const addr = a.address.includes(':') ? `[${a.address}]` : a.address;
  return `${addr}${dev ? `%${dev}` : ''}:${a.port}`;
}

/** The non-zero mptcp_info fields, `ss -M` style names. */
function infoWords(c: MptcpConnection): string[] {
  const i = c.info;
  const words: string[] = [];
  const add = (k: string, v: number | bigint | undefined): void => {
    if (v !== undefined && v !== 0 && v !== 0n) words.push(`${k}:${v}`);
  };
  add('subflows', i.subflows); add('add_addr_signal', i.addAddrSignal); add('add_addr_accepted', i.addAddrAccepted);
  add('subflows_max', i.subflowsMax); add('add_addr_signal_max', i.addAddrSignalMax); add('add_addr_accepted_max', i.addAddrAcceptedMax);
  if (i.fallback) words.push('fallback');
  if (i.remoteKeyReceived) words.push('remote_key');
  words.push(`write_seq:${i.writeSeq}`, `snd_una:${i.sndUna}`);
  add('rcv_nxt', i.rcvNxt); add('local_addr_used', i.localAddrUsed); add('local_addr_max', i.localAddrMax);
  if (i.csumEnabled) words.push('csum_enabled:1');
  add('retransmits', i.retransmits); add('bytes_retrans', i.bytesRetrans); add('bytes_sent', i.bytesSent);
  add('bytes_received', i.bytesReceived); add('bytes_acked', i.bytesAcked); add('subflows_total', i.subflowsTotal);
  add('last_data_sent', i.lastDataSent); add('last_data_recv', i.lastDataRecv); add('last_ack_recv', i.lastAckRecv);
  return words;
}

function subflowLine(s: MptcpSubflow, letters: (f: number) => string): string {
  const t = s.tcp;
  const parts = [`${STATE_TEXT[s.state] ?? s.state}`, `${ep(s.local)} -> ${ep(s.remote)}`];
  if (s.ifname) parts.push(`dev ${s.ifname}`);
  parts.push(`id ${s.localId}/${s.remoteId}`, `flags ${letters(s.flags) || '-'}`);
  if (s.backup.local || s.backup.remote) parts.push(`backup ${s.backup.local ? 'local' : ''}${s.backup.local && s.backup.remote ? '+' : ''}${s.backup.remote ? 'remote' : ''}`);
  if (t.rtt !== undefined) parts.push(`rtt ${(t.rtt / 1000).toFixed(3)}/${((t.rttvar ?? 0) / 1000).toFixed(3)}ms`);
  if (t.sndCwnd !== undefined) parts.push(`cwnd ${t.sndCwnd}`);
  if (t.bytesSent !== undefined) parts.push(`sent ${t.bytesSent}`);
  if (t.bytesAcked !== undefined) parts.push(`acked ${t.bytesAcked}`);
  if (t.bytesReceived !== undefined) parts.push(`received ${t.bytesReceived}`);
  if (t.totalRetrans) parts.push(`retrans ${t.totalRetrans}`);
  return `    ${parts.join('  ')}\n`;
}

/** Text: one block per connection, its subflows indented beneath; listeners last. */
export function formatConnections(conns: readonly MptcpConnection[], listeners: readonly MptcpListener[], letters: (f: number) => string): string {
  let out = '';
  for (const c of conns) {
    const state = STATE_TEXT[c.state] ?? c.state;
    out += `token ${formatToken(c.token)}  ${state}  ${ep(c.local)} -> ${ep(c.remote)}${c.ifname ? `  dev ${c.ifname}` : ''}  subflows ${c.subflows.length}${c.fallback ? '  fallback' : ''}\n`;
    out += `    ${infoWords(c).join(' ')}\n`;
    for (const s of c.subflows) out += subflowLine(s, letters);
  }
  for (const l of listeners) out += `listen  ${ep(l.local)}${l.ifname ? `  dev ${l.ifname}` : ''}  backlog ${l.backlog}  queued ${l.acceptQueue}\n`;
  return out;
}

/** JSON: bigints as decimal strings, tokens in hex as the other commands read them. */
export function connectionsJson(conns: readonly MptcpConnection[], listeners: readonly MptcpListener[]): string {
  return `${JSON.stringify({ connections: conns, listeners }, (k, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if ((k === 'token' || k === 'remoteToken') && typeof v === 'number') return formatToken(v);
    return v;
  })}\n`;
}

export async function runConnections(a: ConnectionsAction, ctx: Context): Promise<void> {
  const { MptcpDiag, subflowFlagLetters } = await import('../index.js');
  const diag = await MptcpDiag.open({ netns: ctx.netns });
  try {
    const conns = await diag.connections(a.token === undefined ? {} : { token: a.token });
    const listeners = a.token === undefined ? await diag.listeners() : [];
    ctx.out(ctx.json ? connectionsJson(conns, listeners) : formatConnections(conns, listeners, subflowFlagLetters));
  } finally {
    diag.close();
  }
}
