// Interface-name globs as the shell writes them: `*` any run, `?` one character, `[…]` one of a set
// (`[0-9]`, `[ab]`, `[!0-9]` or `[^0-9]` for its complement; `]` first in the set is literal). Read
// once into tokens, so that matching a name and deciding whether two globs can meet share one reading.

/** One position of a glob: any run, or one character from a set. */
type Token = { star: true } | { star: false; test: (c: string) => boolean };

/** Why `glob` cannot be read, or undefined when it can. */
export function globProblem(glob: string): string | undefined {
  try {
    parseGlob(glob);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Reads a glob into tokens; throws an Error saying what is wrong (an unclosed `[`, an empty or reversed range). */
function parseGlob(glob: string): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (!out.at(-1)?.star) out.push({ star: true });
    } else if (c === '?') {
      out.push({ star: false, test: () => true });
    } else if (c === '[') {
      let j = i + 1;
      const negate = glob[j] === '!' || glob[j] === '^';
      if (negate) j++;
      const ranges: Array<[string, string]> = [];
      let first = true;
      for (; j < glob.length && (glob[j] !== ']' || first); j++, first = false) {
        if (glob[j + 1] === '-' && j + 2 < glob.length && glob[j + 2] !== ']') {
          if (glob[j] > glob[j + 2]) throw new Error(`the range ${glob[j]}-${glob[j + 2]} in "${glob}" is reversed`);
          ranges.push([glob[j], glob[j + 2]]);
          j += 2;
        } else {
          ranges.push([glob[j], glob[j]]);
        }
      }
      if (j >= glob.length) throw new Error(`"${glob}" has a [ without its ]`);
      const inSet = (ch: string): boolean => ranges.some(([lo, hi]) => ch >= lo && ch <= hi);
      out.push({ star: false, test: negate ? (ch) => !inSet(ch) : inSet });
      i = j;
    } else {
      out.push({ star: false, test: (ch) => ch === c });
    }
  }
  return out;
}

const cache = new Map<string, Token[]>();
function tokens(glob: string): Token[] {
  let t = cache.get(glob);
  if (!t) {
    t = parseGlob(glob);
    if (cache.size > 1000) cache.clear();
    cache.set(glob, t);
  }
  return t;
}

/** A recursive function of two positions, each pair computed once (globs and names are short). */
function memo2(step: (self: (i: number, j: number) => boolean, i: number, j: number) => boolean): (i: number, j: number) => boolean {
  const seen = new Map<number, boolean>();
  const self = (i: number, j: number): boolean => {
    const key = i * 4096 + j;
    let r = seen.get(key);
    if (r === undefined) seen.set(key, (r = step(self, i, j)));
    return r;
  };
  return self;
}

/** Whether interface `name` matches `glob`. @throws Error for a glob globProblem() refuses. */
export function globMatch(glob: string, name: string): boolean {
  const t = tokens(glob);
  return memo2((f, i, j) => {
    if (i === t.length) return j === name.length;
    const tok = t[i];
    return tok.star ? f(i + 1, j) || (j < name.length && f(i, j + 1)) : j < name.length && tok.test(name[j]) && f(i + 1, j + 1);
  })(0, 0);
}

/** The characters an interface name may hold (no `/`, `:` or white space), for set intersections. */
const NAME_CHARS = Array.from({ length: 256 }, (_, k) => String.fromCharCode(k)).filter((c) => !/[/:\s]/.test(c));

/** Whether some interface name matches both globs. */
export function globsMeet(p: string, q: string): boolean {
  const a = tokens(p);
  const b = tokens(q);
  return memo2((f, i, j) => {
    const x = a[i];
    const y = b[j];
    if (i === a.length && j === b.length) return true;
    if (x?.star && (f(i + 1, j) || (j < b.length && f(i, j + 1)))) return true;
    if (y?.star && (f(i, j + 1) || (i < a.length && f(i + 1, j)))) return true;
    return !!x && !!y && !x.star && !y.star && NAME_CHARS.some((c) => x.test(c) && y.test(c)) && f(i + 1, j + 1);
  })(0, 0);
}
