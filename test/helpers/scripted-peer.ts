// A fake netlink peer for socket-level tests of any protocol: it splits each datagram into its
// requests and hands every one to `answer`, whose replies it delivers, in order, after the send.

import type { RawTransport, TransportHandlers } from '../../src/netlink/core/socket.js';

/** One request as the peer saw it. */
export interface ScriptedRequest {
  type: number;
  flags: number;
  seq: number;
  /** The 16-byte netlink header, as sent (an ACK echoes it). */
  header: Buffer;
  payload: Uint8Array;
}

export abstract class ScriptedPeer implements RawTransport {
  abstract readonly portId: number;
  private handlers: TransportHandlers | undefined;

  /** The datagrams that answer `req`. */
  protected abstract answer(req: ScriptedRequest): Buffer[];

  listen(h: TransportHandlers): void {
    this.handlers = h;
  }
  send(d: Buffer): number {
    const out: Buffer[] = [];
    for (let at = 0; at + 16 <= d.length;) {
      const len = d.readUInt32LE(at);
      out.push(...this.answer({
        type: d.readUInt16LE(at + 4), flags: d.readUInt16LE(at + 6), seq: d.readUInt32LE(at + 8),
        header: Buffer.from(d.subarray(at, at + 16)), payload: Uint8Array.from(d.subarray(at + 16, at + len)),
      }));
      at += (len + 3) & ~3;
    }
    for (const m of out) queueMicrotask(() => this.handlers?.message(m));
    return 0;
  }
  sendOffThread(d: Buffer, done: (errno: number) => void): void {
    done(this.send(d));
  }
  addMembership(): void {}
  setReceiveBuffer(bytes: number): number {
    return bytes;
  }
  readDrops(): number {
    return 0;
  }
  setRef(): void {}
  close(): void {}
}
