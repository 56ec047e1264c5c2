// Text helpers shared by the renderers: string quoting, TSDoc comments and width-aware inline lists.

export const MAX_WIDTH = 100;

export function quote(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n')}'`;
}

/** Object key: bare when it is an identifier, quoted otherwise. */
export function propKey(name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : quote(name);
}

export function stringArray(items: readonly string[]): string {
  return `[${items.map(quote).join(', ')}]`;
}

/**
 * `prefix` + `[a, b]` + `suffix` on one line when it fits, else one item per line.
 * `prefix` carries the indentation.
 */
export function listLines(prefix: string, items: readonly string[], suffix: string): string[] {
  const one = `${prefix}${stringArray(items)}${suffix}`;
  if (one.length <= MAX_WIDTH || items.length === 0) return [one];
  const indent = `${/^\s*/.exec(prefix)?.[0] ?? ''}  `;
  return [`${prefix}[`, ...items.map((item) => `${indent}${quote(item)},`), `${indent.slice(2)}]${suffix}`];
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

/** TSDoc block for `text`: one line when short, else wrapped; blank-line paragraphs are kept. */
export function docComment(indent: string, text: string | undefined): string[] {
  if (text === undefined || text.trim() === '') return [];
  const paras = text
    .replace(/\*\//g, '*\\/')
    .trim()
    .split(/\n\s*\n/)
    .map((p) => p.trim().split(/\s+/).join(' '));
  const single = `${indent}/** ${paras[0]} */`;
  if (paras.length === 1 && single.length <= MAX_WIDTH) return [single];
  const out = [`${indent}/**`];
  paras.forEach((p, i) => {
    if (i > 0) out.push(`${indent} *`);
    for (const line of wrap(p, MAX_WIDTH - indent.length - 3)) out.push(`${indent} * ${line}`);
  });
  out.push(`${indent} */`);
  return out;
}

/** Joins a doc string and a trailing note into one sentence list, skipping what is missing. */
export function joinDoc(...parts: (string | undefined)[]): string | undefined {
  const kept = parts.map((p) => p?.trim()).filter((p): p is string => p !== undefined && p !== '');
  return kept.length === 0 ? undefined : kept.join(' ');
}
