// Domain layer, interim: a NETLINK_SOCK_DIAG link for MptcpDiag (one dump at a time, gathered to
// NLMSG_DONE), until the generic netlink core provides sockets for any protocol.

import { RawNetlinkSocket } from 'netlink';
import { NetlinkError, TimeoutError } from '../netlink/errors.js';
import type { Netns } from '../os/netns.js';
import type { DiagLink } from './diag.js';

const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const NLM_F_REQUEST = 0x1;
const NLM_F_MULTI = 0x2;
const NLM_F_DUMP = 0x300;

interface Pending {
  seq: number;
  op: string;
  parts: Buffer[];
  resolve: (parts: Buffer[]) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** Opens the socket inside `ns`. Requests queue and go one at a time. */
export function openDiagLink(protocol: number, ns: Netns, timeoutMs = 5000): DiagLink {
  const sock = ns.run(() => new RawNetlinkSocket(protocol, { msgBufferSize: 1 << 16, recvBufferSize: 1 << 20, sendBufferSize: 1 << 16 }));
  let seq = 1;
  let pending: Pending | undefined;
  let chain: Promise<unknown> = Promise.resolve();
  let closed = false;
  sock.unref();
  const finish = (err: Error | undefined): void => {
    const p = pending;
    if (p === undefined) return;
    pending = undefined;
    clearTimeout(p.timer);
    sock.unref();
    if (err) p.reject(err);
    else p.resolve(p.parts);
  };
  sock.on('message', (data: Buffer) => {
    let at = 0;
    while (at + 16 <= data.length && pending !== undefined) {
      const len = data.readUInt32LE(at);
      const type = data.readUInt16LE(at + 4);
      const flags = data.readUInt16LE(at + 6);
      const mseq = data.readUInt32LE(at + 8);
      if (len < 16 || at + len > data.length) return finish(new Error(`${pending.op}: malformed netlink message`));
      const payload = data.subarray(at + 16, at + len);
      at += (len + 3) & ~3;
      if (mseq !== pending.seq) continue;
      if (type === NLMSG_ERROR || type === NLMSG_DONE) {
        const errno = payload.length >= 4 ? -payload.readInt32LE(0) : 0;
        finish(errno > 0 ? new NetlinkError('sock_diag', pending.op, errno) : undefined);
        continue;
      }
      pending.parts.push(Buffer.from(payload));
      if ((flags & NLM_F_MULTI) === 0) finish(undefined);
    }
  });
  sock.on('error', (e) => finish(new NetlinkError('sock_diag', pending?.op ?? 'receive', Math.abs(e.errno ?? 5))));
  const one = (type: number, payload: Uint8Array, opts: { op: string; dump?: boolean }): Promise<Buffer[]> =>
    new Promise((resolve, reject) => {
      if (closed) return reject(new Error('sock_diag socket is closed'));
      const s = seq++;
      const head = Buffer.alloc(16);
      head.writeUInt32LE(16 + payload.length, 0);
      head.writeUInt16LE(type, 4);
      head.writeUInt16LE(NLM_F_REQUEST | (opts.dump ? NLM_F_DUMP : 0), 6);
      head.writeUInt32LE(s, 8);
      const timer = setTimeout(() => finish(new TimeoutError(`sock_diag ${opts.op}`, timeoutMs)), timeoutMs);
      pending = { seq: s, op: opts.op, parts: [], resolve, reject, timer };
      sock.ref();
      sock.send(Buffer.concat([head, payload]), {}, (err) => {
        if (err) finish(new NetlinkError('sock_diag', opts.op, Math.abs(err.errno ?? 5)));
      });
    });
  return {
    request(type, payload, opts) {
      const run = chain.then(() => one(type, payload, opts));
      chain = run.catch(() => undefined);
      return run;
    },
    close() {
      if (closed) return;
      closed = true;
      finish(new Error('sock_diag socket is closed'));
      sock.close();
    },
  };
}
