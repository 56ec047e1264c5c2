// sock_diag codec: request bytes against hand-built ones and the protocol notes' wire example, reply
// decoding of replies captured from Linux 6.18.44 (checked against `ss -Mtnai` of the same moment),
// older/newer mptcp_info and tcp_info lengths, malformed replies, and a bounded mutation fuzz.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { inetDiagMsg, mptcpInfo, tcpInfo } from '../generated/sock_diag.js';
import { encodeDiagRequest } from '../src/netlink/diag/request.js';
import { decodeDiagMsg, decodeMptcpInfo, decodeTcpInfo } from '../src/netlink/diag/reply.js';
import { DecodeError, ValidationError } from '../src/netlink/core/errors.js';
import { decodeStruct } from '../src/netlink/core/struct.js';
import { isListener, joinSubflows, mptcpSocket, subflowFlagLetters, subflowSocket, type MptcpConnection } from '../src/mptcp/diag/model.js';
import { be16, cat, hex, nla, toHex, u16le, u32le, u64le, u8 } from './helpers/bytes.js';

interface Side { mptcp2: string[]; mptcp10: string[]; tcp2: string[]; tcp10: string[] }
const fx = JSON.parse(readFileSync(new URL('./fixtures/diag-6.18.json', import.meta.url), 'utf8')) as {
  client: Side; server: Side; clientSs: string[]; serverSs: string[];
};
const bytes = (h: string): Buffer => Buffer.from(h, 'hex');
const all = (side: Side): string[] => [...side.mptcp2, ...side.mptcp10, ...side.tcp2, ...side.tcp10];

/** `key:value` words of the `ss -Mtnai` detail line under the `mptcp` socket with this local port. */
function ssFields(lines: string[], netid: 'mptcp' | 'tcp', local: string): Map<string, string> {
  const at = lines.findIndex((l) => l.startsWith(netid) && l.split(/\s+/)[4] === local);
  if (at < 0) throw new Error(`no ${netid} ${local} in ss output`);
  const out = new Map<string, string>();
  for (const w of lines[at + 1].trim().split(/\s+/)) {
    const i = w.indexOf(':');
    out.set(i < 0 ? w : w.slice(0, i), i < 0 ? '' : w.slice(i + 1));
  }
  return out;
}

const noName = (): undefined => undefined;

describe('request', () => {
  it('MPTCP dump, AF_INET, ext INFO, all states: the bytes of the protocol notes (body after nlmsghdr)', () => {
    const expected = hex(`
      02 06 02 00  ff ff ff ff  00 00 00 00  ${'00 '.repeat(32)} 00 00 00 00  ff ff ff ff ff ff ff ff
      08 00 03 00  06 01 00 00`);
    expect(toHex(encodeDiagRequest({ family: 2, protocol: 262, ext: 0x02 }))).toBe(toHex(expected));
  });

  it('TCP dump in AF_INET6 with port filters and a state mask: no protocol attribute, ports big-endian', () => {
    const expected = cat(u8(10), u8(6), u8(0x82), u8(0), u32le(0x400), be16(5000), be16(0), new Array(32).fill(0), u32le(0), u32le(0xffffffff), u32le(0xffffffff));
    expect(toHex(encodeDiagRequest({ family: 10, protocol: 6, ext: 0x82, states: 0x400, sport: 5000 }))).toBe(toHex(expected));
  });

  it('exact lookup: the token in cookie[0], cookie[1] zero', () => {
    const b = encodeDiagRequest({ family: 2, protocol: 262, token: 0x84310579 });
    expect(toHex(b.subarray(48, 56))).toBe(toHex(cat(u32le(0x84310579), u32le(0))));
  });

  it('refuses a family other than 2/10 and out-of-range numbers before anything is sent', () => {
    expect(() => encodeDiagRequest({ family: 0, protocol: 262 })).toThrow(ValidationError);
    expect(() => encodeDiagRequest({ family: 2, protocol: 262, sport: 70000 })).toThrow(/sport/);
    expect(() => encodeDiagRequest({ family: 2, protocol: 262, ext: 256 })).toThrow(/ext/);
  });
});

describe('replies captured from Linux 6.18.44', () => {
  it('the member offsets come from struct-fu: full decode equals struct-fu\'s own unpack', () => {
    for (const h of all(fx.client)) {
      const b = bytes(h);
      expect(decodeStruct(inetDiagMsg, b, 'm')).toEqual(inetDiagMsg.fu.valueFromBytes(b));
    }
    const info = decodeDiagMsg(bytes(fx.client.mptcp2[0])).attrs.info as Uint8Array;
    expect(info.length).toBe(mptcpInfo.size);
    expect(decodeMptcpInfo(info)).toEqual(mptcpInfo.fu.valueFromBytes(Buffer.from(info)));
    const tinfo = decodeDiagMsg(bytes(fx.client.tcp2[0])).attrs.info as Uint8Array;
    expect(tinfo.length).toBe(tcpInfo.size);
    expect(decodeTcpInfo(tinfo)).toEqual(tcpInfo.fu.valueFromBytes(Buffer.from(tinfo)));
  });

  it('every MPTCP connection agrees with ss: token, sequence numbers, limits, fallback', () => {
    for (const [side, ss] of [[fx.client, fx.clientSs], [fx.server, fx.serverSs]] as const) {
      for (const h of [...side.mptcp2, ...side.mptcp10]) {
        const c = mptcpSocket(decodeDiagMsg(bytes(h)), noName);
        if (isListener(c)) continue;
        const local = c.family === 6 ? `[${c.local.address}]:${c.local.port}` : `${c.local.address}:${c.local.port}`;
        const f = ssFields(ss, 'mptcp', local);
        expect(c.token.toString(16)).toBe(f.get('token'));
        expect(c.info.writeSeq.toString(16)).toBe(f.get('write_seq'));
        expect(c.info.sndUna.toString(16)).toBe(f.get('snd_una'));
        expect(c.info.rcvNxt === 0n ? undefined : c.info.rcvNxt.toString(16)).toBe(f.get('rcv_nxt'));
        expect(String(c.info.subflowsMax)).toBe(f.get('subflows_max'));
        expect(c.info.subflows === 0 ? undefined : String(c.info.subflows)).toBe(f.get('subflows'));
        expect(c.fallback).toBe(f.has('fallback'));
        expect(c.info.remoteKeyReceived).toBe(f.has('remote_key'));
      }
    }
  });

  it('subflows join their connection by token, with the ids, flags and tcp_info ss shows', () => {
    const conns = fx.client.mptcp2.concat(fx.client.mptcp10).map((h) => mptcpSocket(decodeDiagMsg(bytes(h)), noName)) as MptcpConnection[];
    const subs = fx.client.tcp2.concat(fx.client.tcp10).map((h) => subflowSocket(decodeDiagMsg(bytes(h)), noName));
    expect(subs.every((s) => s !== undefined)).toBe(true);
    joinSubflows(conns, subs.filter((s) => s !== undefined));
    expect(conns.map((c) => c.subflows.length)).toEqual([2, 1, 1]);
    for (const s of conns.flatMap((c) => c.subflows)) {
      const local = s.family === 6 ? `[${s.local.address}]:${s.local.port}` : `${s.local.address}${s.ifindex ? '%path2' : ''}:${s.local.port}`;
      const f = ssFields(fx.clientSs, 'tcp', local);
      expect(subflowFlagLetters(s.flags)).toBe(f.get('flags'));
      const tok = /^([0-9a-f]+)\(id:(\d+)\)\/([0-9a-f]+)\(id:(\d+)\)$/.exec(f.get('token') ?? '');
      expect(tok).not.toBeNull();
      expect([s.remoteToken, s.remoteId, s.token, s.localId]).toEqual([parseInt(tok![1], 16), Number(tok![2]), parseInt(tok![3], 16), Number(tok![4])]);
      expect(s.tcp.sndCwnd).toBe(Number(f.get('cwnd')));
      expect((s.tcp.rtt ?? 0) / 1000).toBeCloseTo(Number(f.get('rtt')?.split('/')[0]), 3);
      expect(String(s.tcp.bytesAcked)).toBe(f.get('bytes_acked'));
      expect(`${s.tcp.sndWscale},${s.tcp.rcvWscale}`).toBe(f.get('wscale'));
      expect(s.mapping?.ssnOffset?.toString(16)).toBe(f.get('ssnoff'));
    }
    const join = conns[0].subflows[1];
    expect([join.localId, join.ifindex, join.join.local, join.backup.local]).toEqual([2, 3, true, false]);
    expect(conns[1].fallback && conns[1].subflows[0].flags).toBe(0x82);
  });

  it('listeners in both families, with the backlog and v6only', () => {
    const ls = [...fx.server.mptcp2, ...fx.server.mptcp10].map((h) => mptcpSocket(decodeDiagMsg(bytes(h)), noName)).filter(isListener);
    expect(ls.map((l) => `${l.local.address}:${l.local.port}/${l.backlog}`)).toEqual(['0.0.0.0:5000/128', ':::5006/128']);
    expect(ls[1].v6only).toBe(false);
  });

  it('plain TCP sockets and TCP listeners are not subflows', () => {
    const subs = fx.server.tcp2.map((h) => subflowSocket(decodeDiagMsg(bytes(h)), noName));
    expect(subs.filter((s) => s !== undefined).length).toBe(2);
  });
});

describe('other kernels\' lengths', () => {
  const full = decodeDiagMsg(bytes(fx.client.mptcp2[0])).attrs.info as Uint8Array;
  it.each([
    [40, 'rcvNxt', 'localAddrUsed'], [48, 'csumEnabled', 'retransmits'], [80, 'bytesAcked', 'subflowsTotal'],
    [88, 'subflowsTotal', 'endpLaminarMax'], [88, 'subflowsTotal', 'lastDataSent'], [96, 'lastAckRecv', undefined],
  ])('mptcp_info of %i bytes has the fields up to %s', (len, last, absent) => {
    const d = decodeMptcpInfo(full.subarray(0, len));
    expect(d[last as keyof typeof d]).toBeDefined();
    if (absent !== undefined) expect(absent in d).toBe(false);
  });

  it('a newer kernel\'s longer mptcp_info and tcp_info: known fields decoded, the rest ignored', () => {
    const longer = cat(full, new Array(24).fill(0xee));
    expect(decodeMptcpInfo(longer)).toEqual(decodeMptcpInfo(full));
    const t = decodeDiagMsg(bytes(fx.client.tcp2[0])).attrs.info as Uint8Array;
    expect(decodeTcpInfo(cat(t, [1, 2, 3, 4]))).toEqual(decodeTcpInfo(t));
    expect(Object.keys(decodeTcpInfo(t.subarray(0, 232)))).not.toContain('rcvWnd');
  });

  it('mptcp_info shorter than 5.9\'s 40 bytes is a DecodeError', () => {
    expect(() => decodeMptcpInfo(full.subarray(0, 39))).toThrow(DecodeError);
  });
});

describe('malformed replies', () => {
  const msg = bytes(fx.client.mptcp2[0]);
  const head = msg.subarray(0, 72);
  it.each([
    ['a truncated inet_diag_msg', msg.subarray(0, 71), /at least 72 bytes/],
    ['an attribute past the end', cat(head, u16le(200), u16le(15), u32le(0)), /length 200/],
    ['a short u32 attribute (mark)', cat(head, nla(15, [1, 0])), /mark: expected 4 bytes, got 2/],
    ['a truncated attribute header', cat(head, [8, 0]), /truncated/],
  ])('%s is a DecodeError', (_n, b, re) => {
    expect(() => decodeDiagMsg(b)).toThrow(DecodeError);
    expect(() => decodeDiagMsg(b)).toThrow(re);
  });

  it('keeps unknown attributes', () => {
    const d = decodeDiagMsg(cat(head, nla(99, u64le(7n)), nla(8, u8(1))));
    expect(d.attrs.unknown).toEqual([{ type: 99, data: Uint8Array.from(u64le(7n)) }]);
    expect(d.attrs.shutdown).toBe(1);
  });

  it('fuzz: 4000 random mutations of captured replies decode or raise DecodeError, nothing else', () => {
    let seed = 0x1234567;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const pool = [...all(fx.client), ...all(fx.server)].map(bytes);
    let decoded = 0;
    for (let i = 0; i < 4000; i++) {
      const b = Buffer.from(pool[rnd(pool.length)]);
      const kind = rnd(4);
      let m: Buffer = b;
      if (kind === 0) for (let k = 0; k <= rnd(6); k++) b[rnd(b.length)] = rnd(256);
      else if (kind === 1) m = b.subarray(0, rnd(b.length));
      else if (kind === 2) m = Buffer.concat([b, Buffer.from(Array.from({ length: rnd(40) }, () => rnd(256)))]);
      else { const at = 72 + rnd(b.length - 72); b.writeUInt16LE(rnd(0x10000), at - (at % 4)); }
      try {
        const s = decodeDiagMsg(m);
        mptcpSocket(s, noName);
        subflowSocket(s, noName);
        decoded++;
      } catch (e) {
        if (!(e instanceof DecodeError)) throw new Error(`mutation ${i} (kind ${kind}) raised ${String(e)}: ${m.toString('hex')}`);
      }
    }
    expect(decoded).toBeGreaterThan(100);
  });
  it('a reply is read in place: INFO is a view into it, and the header fields match a full struct decode', () => {
    const b = bytes(fx.client.tcp2[0]);
    const s = decodeDiagMsg(b);
    const h = decodeStruct(inetDiagMsg, b, 'm');
    expect([s.family, s.state, s.localPort, s.remotePort, s.ifindex, s.inode, s.uid]).toEqual([h.family, h.state, h.id.sport, h.id.dport, h.id.if, h.inode, h.uid]);
    expect(s.cookie).toBe(BigInt(h.id.cookie0) | (BigInt(h.id.cookie1) << 32n));
    const info = s.attrs.info as Uint8Array;
    expect(info.buffer).toBe(b.buffer);
    const sub = subflowSocket(s, noName)!;
    expect(sub.tcp.rtt).toBe(decodeTcpInfo(info).rtt);
  });
});
