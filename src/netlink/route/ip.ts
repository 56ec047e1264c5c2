// rtnetlink layer: IP addresses as the route messages carry them (4 or 16 raw bytes) and as the
// API shows them (RFC 5952 text), plus the prefix arithmetic the routing code needs.

import { formatIPv6 } from '../core/inet.js';
import { isIPv4, isIPv6 } from 'node:net';

export const AF_INET = 2;
export const AF_INET6 = 10;

/** Address family of a text address: AF_INET, AF_INET6, or 0 when it is not an address. */
export function familyOf(text: string): number {
  if (isIPv4(text)) return AF_INET;
  if (isIPv6(text)) return AF_INET6;
  return 0;
}

/** Raw bytes of a text address (4 for IPv4, 16 for IPv6). The caller has checked it with familyOf. */
export function ipToBytes(text: string): Buffer {
  if (isIPv4(text)) return Buffer.from(text.split('.').map(Number));
  const body = text.split('%')[0];
  const [head, tail] = body.includes('::') ? body.split('::') : [body, undefined];
  const words = (s: string | undefined): number[] => {
    if (!s) return [];
    const out: number[] = [];
    for (const piece of s.split(':')) {
      if (piece.includes('.')) {
        const b = piece.split('.').map(Number);
        out.push((b[0] << 8) | b[1], (b[2] << 8) | b[3]);
      } else out.push(parseInt(piece, 16));
    }
    return out;
  };
  const h = words(head);
  const t = words(tail);
  const all = [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  const buf = Buffer.alloc(16);
  all.forEach((w, i) => buf.writeUInt16BE(w, i * 2));
  return buf;
}

/** Text form of 4 or 16 raw bytes; IPv6 in the RFC 5952 shape `ip` prints (longest zero run as ::). */
export function bytesToIp(buf: Uint8Array): string {
  if (buf.length === 4) return Array.from(buf).join('.');
  if (buf.length !== 16) throw new RangeError(`an IP address has 4 or 16 bytes, got ${buf.length}`);
  return formatIPv6(buf);
}

/** Canonical text of an address (`2001:DB8:0::1` → `2001:db8::1`). */
export function canonicalIp(text: string): string {
  return bytesToIp(ipToBytes(text));
}

/** The network of `address/prefixlen` as raw bytes (host bits cleared). */
export function networkBytes(address: string, prefixlen: number): Buffer {
  const b = ipToBytes(address);
  for (let i = 0; i < b.length; i++) {
    const keep = Math.max(0, Math.min(8, prefixlen - i * 8));
    b[i] &= keep === 0 ? 0 : (0xff << (8 - keep)) & 0xff;
  }
  return b;
}

/** Whether `address` is link-local (169.254.0.0/16, fe80::/10). */
export function isLinkLocal(address: string): boolean {
  const b = ipToBytes(address);
  if (b.length === 4) return b[0] === 169 && b[1] === 254;
  return b[0] === 0xfe && (b[1] & 0xc0) === 0x80;
}

/** Whether `address` is a loopback address (127.0.0.0/8, ::1). */
export function isLoopback(address: string): boolean {
  const b = ipToBytes(address);
  if (b.length === 4) return b[0] === 127;
  return b.subarray(0, 15).every((x) => x === 0) && b[15] === 1;
}
