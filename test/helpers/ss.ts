// Test-only reader of `ss -Mtnai` text (iproute2 6.1): one entry per socket with the key:value words
// of its detail line, the reference the diag tests compare against.

export interface SsSocket {
  netid: string;
  state: string;
  local: string;
  peer: string;
  /** `key:value` words (value '' for bare words such as `fallback`). */
  fields: Map<string, string>;
}

export function parseSs(text: string): SsSocket[] {
  const lines = text.split('\n');
  const out: SsSocket[] = [];
  for (let i = 0; i < lines.length; i++) {
    const head = lines[i].trim().split(/\s+/);
    if (head[0] !== 'mptcp' && head[0] !== 'tcp') continue;
    const fields = new Map<string, string>();
    const detail = lines[i + 1]?.startsWith('\t') || lines[i + 1]?.startsWith(' ') ? lines[i + 1].trim().split(/\s+/) : [];
    for (const w of detail) {
      const c = w.indexOf(':');
      fields.set(c < 0 ? w : w.slice(0, c), c < 0 ? '' : w.slice(c + 1));
    }
    out.push({ netid: head[0], state: head[1], local: head[4], peer: head[5], fields });
  }
  return out;
}

/** `addr:port` as ss prints it: IPv6 in brackets, `%dev` after a bound address. */
export function ssEndpoint(address: string, port: number, dev?: string): string {
  const a = address.includes(':') ? `[${address}]` : address;
  return `${a}${dev ? `%${dev}` : ''}:${port}`;
}
