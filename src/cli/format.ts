// Output of `endpoint show`, `addresses` and `limits show`, byte for byte what `ip mptcp` prints
// for the same state: one line per endpoint with a trailing space, or one line of JSON (`-j`).

import type { Endpoint, EndpointFlag, Limits } from '../index.js';
import { ENDPOINT_FLAGS } from '../mptcp/pm/endpoint.js';

/** Flag names in the order iproute2 prints them: by bit, as the generated table lists them. */
const FLAG_ORDER = (Object.keys(ENDPOINT_FLAGS) as EndpointFlag[]).sort((a, b) => ENDPOINT_FLAGS[a] - ENDPOINT_FLAGS[b]);

function flagBits(ep: Endpoint): number {
  return ep.flags.reduce((m, f) => m | ENDPOINT_FLAGS[f], 0) | ep.unknownFlags;
}

/** The JSON object iproute2 prints for one endpoint (key order kept: address, port, id, flags…, rawflags, dev). */
export function endpointJson(ep: Endpoint): Record<string, string | number | boolean> {
  const o: Record<string, string | number | boolean> = { address: ep.address };
  if (ep.port) o.port = ep.port;
  o.id = ep.id;
  let bits = flagBits(ep);
  for (const name of FLAG_ORDER) {
    if (bits & ENDPOINT_FLAGS[name]) o[name] = true;
    bits &= ~ENDPOINT_FLAGS[name];
  }
  if (bits) o.rawflags = bits.toString(16).padStart(2, '0');
  if (ep.ifname) o.dev = ep.ifname;
  return o;
}

/** One text line for an endpoint: `192.0.2.1 port 8080 id 3 signal backup dev eth0 \n`. */
export function endpointLine(ep: Endpoint): string {
  const o = endpointJson(ep);
  const parts: string[] = [String(o.address)];
  for (const [k, v] of Object.entries(o)) {
    if (k === 'address') continue;
    parts.push(v === true ? k : `${k} ${v}`);
  }
  return `${parts.join(' ')} \n`;
}

/**
 * `value` as JSON and a newline: compact, or with `pretty` laid out as iproute2's json_writer lays
 * it out (`[ {`, four spaces a level, `},{` between elements, `} ]`).
 */
export function jsonText(value: unknown, pretty = false): string {
  if (!pretty) return `${JSON.stringify(value)}\n`;
  const indent = (depth: number): string => `\n${'    '.repeat(depth)}`;
  const write = (v: unknown, depth: number): string => {
    if (Array.isArray(v)) return v.length ? `[ ${v.map((x) => write(x, depth + 1)).join(',')} ]` : '[ ]';
    if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v).filter(([, x]) => x !== undefined);
      if (!entries.length) return '{}';
      return `{${entries.map(([k, x]) => `${indent(depth + 1)}${JSON.stringify(k)}: ${write(x, depth + 1)}`).join(',')}${indent(depth)}}`;
    }
    return JSON.stringify(v);
  };
  return `${write(value, 0)}\n`;
}

/** What `endpoint show` prints for a list: text lines, or one JSON array and a newline. */
export function formatEndpoints(eps: readonly Endpoint[], json: boolean, pretty = false): string {
  if (json) return jsonText(eps.map(endpointJson), pretty);
  return eps.map(endpointLine).join('');
}

/** What `limits show` prints: `add_addr_accepted 0 subflows 2 \n`, or the same as a JSON object. */
export function formatLimits(l: Limits, json: boolean, pretty = false): string {
  if (json) return jsonText({ add_addr_accepted: l.addAddrAccepted, subflows: l.subflows }, pretty);
  return `add_addr_accepted ${l.addAddrAccepted} subflows ${l.subflows} \n`;
}
