// Test-only byte builder for netlink attributes. Written independently of src/netlink/core/attr.ts (plain
// arrays and arithmetic, no Buffer methods) so tests check the real writer against a second opinion.

/** Bytes as the helpers pass them around. */
export type Bytes = readonly number[] | Uint8Array;

/** Concatenates byte sequences into one Uint8Array. */
export function cat(...parts: Bytes[]): Uint8Array {
  const out: number[] = [];
  for (const p of parts) for (const x of p) out.push(x);
  return Uint8Array.from(out);
}

/** Parses hex text such as `"2c 00 01 80"` (whitespace and line breaks ignored). */
export function hex(text: string): Uint8Array {
  const digits = text.replace(/\s+/g, '');
  if (digits.length % 2 !== 0 || /[^0-9a-f]/i.test(digits)) throw new Error(`bad hex: ${text}`);
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Formats bytes as lowercase space-separated hex, for readable assertion failures. */
export function toHex(b: Bytes): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');
}

function le(v: number | bigint, n: number): number[] {
  let x = BigInt.asUintN(n * 8, BigInt(v));
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    out.push(Number(x & 0xffn));
    x >>= 8n;
  }
  return out;
}

function be(v: number | bigint, n: number): number[] {
  return le(v, n).reverse();
}

export const u8 = (v: number): number[] => le(v, 1);
export const u16le = (v: number): number[] => le(v, 2);
export const u16be = (v: number): number[] => be(v, 2);
export const u32le = (v: number): number[] => le(v, 4);
export const u32be = (v: number): number[] => be(v, 4);
export const u64le = (v: bigint): number[] => le(v, 8);
export const u64be = (v: bigint): number[] => be(v, 8);
/** Signed values: two's complement of the given width (negative numbers welcome). */
export const s8 = u8;
export const s16le = u16le;
export const s16be = u16be;
export const s32le = u32le;
export const s32be = u32be;
export const s64le = u64le;
export const s64be = u64be;
/** Alias for readability next to protocol tables that say "BE". */
export const be16 = u16be;
export const be32 = u32be;

/** Dotted IPv4 text → its 4 bytes in network order. */
export function ipv4(text: string): number[] {
  const parts = text.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !(p >= 0 && p <= 255))) throw new Error(`bad IPv4: ${text}`);
  return parts;
}

/** ASCII text plus a terminating NUL. */
export function cstr(text: string): number[] {
  return [...Array.from(text, (c) => c.charCodeAt(0)), 0];
}

/**
 * One attribute: 2-byte little-endian length (header + payload), 2-byte little-endian type, the
 * payload, then zero bytes up to a multiple of 4. `type` is written as given (flag bits included).
 */
export function nla(type: number, payload: Bytes = []): Uint8Array {
  const length = 4 + payload.length;
  const padding = (4 - (length % 4)) % 4;
  return cat(u16le(length), u16le(type), payload, new Array<number>(padding).fill(0));
}

/** A nested attribute: NLA_F_NESTED (0x8000) added to `type`, payload = the children back to back. */
export function nest(type: number, ...children: Bytes[]): Uint8Array {
  return nla(type | 0x8000, cat(...children));
}
