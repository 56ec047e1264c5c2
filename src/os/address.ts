// IP addresses for every layer: text (RFC 5952, as `ip` prints it) ⇄ raw network-order bytes, the
// family of an address, the one rule for IPv4-mapped IPv6, and the `{ family, addr4 | addr6 }` split
// the MPTCP attribute sets carry. Nothing here knows a protocol.

/**
 * node:net, loaded on first use: it pulls in the stream machinery, a start-up cost for a command
 * that never parses an address text.
 */
let net: typeof import('node:net') | undefined;
function isIPv4(text: string): boolean {
  return (net ??= process.getBuiltinModule('node:net')).isIPv4(text);
}
function isIPv6(text: string): boolean {
  return (net ??= process.getBuiltinModule('node:net')).isIPv6(text);
}

export const AF_INET = 2;
export const AF_INET6 = 10;

/** An address family by name, as the API shows it. */
export type Family = 'inet' | 'inet6';

/** True when `text` is an IPv4 or IPv6 address in text form (an IPv6 one may carry a `%zone`). */
export function isAddress(text: unknown): text is string {
  return typeof text === 'string' && (isIPv4(text) || isIPv6(text));
}

/** The family of a valid text address: `inet` for IPv4, `inet6` for IPv6 (mapped ones included). */
export function familyOf(text: string): Family {
  return isIPv4(text) ? 'inet' : 'inet6';
}

/** The name of an address family number (AF_INET, AF_INET6), or undefined for any other. */
export function familyName(af: number | undefined): Family | undefined {
  return af === AF_INET ? 'inet' : af === AF_INET6 ? 'inet6' : undefined;
}

/** The number of a family name (AF_INET or AF_INET6). */
export function familyNumber(family: Family): number {
  return family === 'inet6' ? AF_INET6 : AF_INET;
}

/** One rule for IPv4-mapped IPv6 (`::ffff:192.0.2.1`): the IPv4 address it maps; any other address unchanged. */
export function unmapV4(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** Splits `fe80::1%eth0` into the address and the zone id (undefined when there is none). */
export function splitZone(text: string): { address: string; zone?: string } {
  const at = text.indexOf('%');
  return at < 0 ? { address: text } : { address: text.slice(0, at), zone: text.slice(at + 1) };
}

/** Raw bytes of a valid text address: 4 for IPv4, 16 for IPv6 (`::`, a trailing dotted quad, a zone ignored). */
export function ipToBytes(text: string): Buffer {
  if (isIPv4(text)) return Buffer.from(text.split('.').map(Number));
  const [head, tail] = splitZone(text).address.split('::');
  const words = (s: string | undefined): number[] => {
    const out: number[] = [];
    for (const piece of s ? s.split(':') : []) {
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

/** Dotted text of an IPv4 address held as a 32-bit value (read in network order). */
export function formatV4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 0xff}.${(value >>> 8) & 0xff}.${value & 0xff}`;
}

/**
 * RFC 5952 text of an IPv6 address (16 bytes, network order), as `ip` and `ss` print it: lower
 * case, the longest run of two or more zero words as `::`, a v4-mapped address in dotted form.
 */
export function formatV6(b: Uint8Array): string {
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((b[i] << 8) | b[i + 1]);
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestAt < 0) return hex.join(':');
  return `${hex.slice(0, bestAt).join(':')}::${hex.slice(bestAt + bestLen).join(':')}`;
}

/** Text form of 4 or 16 raw bytes. */
export function bytesToIp(buf: Uint8Array): string {
  // A template, not an array joined: this runs for every address of every event and dump reply.
  if (buf.length === 4) return `${buf[0]}.${buf[1]}.${buf[2]}.${buf[3]}`;
  if (buf.length !== 16) throw new RangeError(`an IP address has 4 or 16 bytes, got ${buf.length}`);
  return formatV6(buf);
}

/** The text the kernel's dumps use for an address: "2001:DB8::1" → "2001:db8::1" (valid input assumed). */
export function canonicalAddress(text: string): string {
  return bytesToIp(ipToBytes(text));
}

/** An address as the MPTCP attribute sets carry it: a family and one of the two forms. */
export interface WireAddress {
  family: number;
  addr4?: number;
  addr6?: Uint8Array;
}

/** Wire form of a valid text address. */
export function toWire(text: string): WireAddress {
  const b = ipToBytes(text);
  return b.length === 4 ? { family: AF_INET, addr4: b.readUInt32BE(0) } : { family: AF_INET6, addr6: new Uint8Array(b) };
}

/** Text of a wire address, or undefined when it carries neither form. */
export function fromWire(w: { addr4?: number; addr6?: Uint8Array }): string | undefined {
  if (w.addr4 !== undefined) return formatV4(w.addr4);
  if (w.addr6 !== undefined) return formatV6(w.addr6);
  return undefined;
}

/** What kind of address `text` is, as far as an endpoint or subflow cares. */
export type AddressKind = 'unicast' | 'unspecified' | 'multicast' | 'broadcast';

/**
 * Classifies a valid address (zone id ignored): 0.0.0.0 and :: are unspecified, 224.0.0.0/4 and
 * ff00::/8 multicast, 255.255.255.255 broadcast; an IPv4-mapped IPv6 address by its IPv4 part.
 */
export function addressKind(text: string): AddressKind {
  let b = ipToBytes(text);
  if (b.length === 16) {
    if (b[0] === 0xff) return 'multicast';
    const mapped = b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
    if (!mapped) return b.every((x) => x === 0) ? 'unspecified' : 'unicast';
    b = b.subarray(12);
  }
  const v = b.readUInt32BE(0);
  if (v === 0) return 'unspecified';
  if (v === 0xffffffff) return 'broadcast';
  if (v >>> 28 === 0xe) return 'multicast';
  return 'unicast';
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

/** Whether `address` is link-local (169.254.0.0/16, fe80::/10; only the latter may carry a zone id). */
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
