// The tiers of the source tree, kept by a rule table over the imports: every folder belongs to one
// tier, a tier reads only the tiers listed for it (all below it), no file takes part in an import
// circle, and no source file grows past about 300 lines.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

interface Tier {
  /** Folder prefixes (or files) of the tier, relative to the repository root. */
  paths: string[];
  /** Tiers this one may import from; each must come earlier in {@link TIERS}. */
  reads: string[];
  /** Tiers this one may read only through the files listed (their public face), not their internals. */
  through?: Record<string, string[]>;
}

/** Lowest first. A tier may read only tiers listed before it. */
const TIERS: Record<string, Tier> = {
  os: { paths: ['src/os/', 'src/types/'], reads: [] },
  core: { paths: ['src/netlink/core/'], reads: ['os'] },
  generated: { paths: ['generated/'], reads: ['core'] },
  genl: { paths: ['src/netlink/genl/'], reads: ['os', 'core', 'generated'] },
  diag: { paths: ['src/netlink/diag/'], reads: ['os', 'core', 'generated'] },
  route: { paths: ['src/netlink/route/'], reads: ['os', 'core', 'generated'] },
  'mptcp/input': { paths: ['src/mptcp/input/'], reads: ['os', 'core', 'generated'] },
  'mptcp/proc': { paths: ['src/mptcp/proc/'], reads: ['os', 'core', 'mptcp/input'] },
  'mptcp/pm': { paths: ['src/mptcp/pm/'], reads: ['os', 'core', 'generated', 'genl', 'mptcp/input'] },
  'mptcp/events': { paths: ['src/mptcp/events/'], reads: ['os', 'core', 'generated', 'genl', 'mptcp/input', 'mptcp/pm'] },
  'mptcp/diag': { paths: ['src/mptcp/diag/'], reads: ['os', 'core', 'generated', 'diag', 'mptcp/input'] },
  'mptcp/tracker': { paths: ['src/mptcp/tracker/'], reads: ['os', 'core', 'mptcp/input', 'mptcp/events', 'mptcp/diag'] },
  // MPTCP sockets for Node (mptcp-pm/net): their subflows read through sock_diag.
  net: { paths: ['src/net/'], reads: ['os', 'core', 'generated', 'diag', 'mptcp/input', 'mptcp/diag'] },
  // Capabilities: built on the mptcp tier; which may read which is listed here.
  routing: { paths: ['src/routing/'], reads: ['os', 'core', 'route', 'mptcp/input', 'mptcp/pm'] },
  upm: {
    paths: ['src/upm/'],
    reads: ['os', 'core', 'generated', 'route', 'mptcp/input', 'mptcp/pm', 'mptcp/events', 'mptcp/diag', 'mptcp/tracker'],
  },
  exporter: {
    paths: ['src/exporter/'],
    reads: ['os', 'core', 'generated', 'mptcp/input', 'mptcp/proc', 'mptcp/pm', 'mptcp/events', 'mptcp/diag', 'mptcp/tracker'],
  },
  // doctor and explain judge routing by what routing/ exports (its index.ts), never by its internals.
  doctor: {
    paths: ['src/doctor/'],
    reads: ['os', 'core', 'generated', 'genl', 'route', 'mptcp/input', 'mptcp/proc', 'mptcp/pm', 'mptcp/events', 'mptcp/diag', 'routing'],
    through: { routing: ['src/routing/index.ts'] },
  },
  explain: {
    paths: ['src/explain/'],
    reads: ['os', 'core', 'generated', 'genl', 'route', 'mptcp/input', 'mptcp/proc', 'mptcp/pm', 'mptcp/events', 'mptcp/diag', 'routing', 'doctor'],
    through: { routing: ['src/routing/index.ts'] },
  },
  // The public entry point re-exports the library (never the command line).
  api: { paths: ['src/index.ts'], reads: ['*'] },
  cli: { paths: ['src/cli/'], reads: ['*'] },
};

/** Most lines a source file may have. */
const MAX_LINES = 300;

const ORDER = Object.keys(TIERS);

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(ROOT, dir))) {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) out.push(...sources(path));
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

function tierOf(file: string): string | undefined {
  let best: string | undefined;
  let length = -1;
  for (const [name, tier] of Object.entries(TIERS)) {
    for (const p of tier.paths) {
      if ((file === p || (p.endsWith('/') && file.startsWith(p))) && p.length > length) {
        best = name;
        length = p.length;
      }
    }
  }
  return best;
}

/** Relative imports of a file (static, type-only, re-exports and dynamic), as repository paths. */
export function importsOf(file: string, text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm)) {
    out.push(normalize(join(dirname(file), m[1])).replace(/\.js$/, '.ts'));
  }
  return out;
}

const FILES = [...sources('src'), ...sources('generated')].sort();
const IMPORTS = new Map(FILES.map((f) => [f, importsOf(f, readFileSync(join(ROOT, f), 'utf8'))]));

/** Import circles among `files` (each as the list of files around it), found by depth-first search. */
function circles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (f: string): void => {
    state.set(f, 'open');
    path.push(f);
    for (const g of graph.get(f) ?? []) {
      if (!graph.has(g)) continue;
      if (state.get(g) === 'open') found.push([...path.slice(path.indexOf(g)), g]);
      else if (!state.has(g)) visit(g);
    }
    path.pop();
    state.set(f, 'done');
  };
  for (const f of graph.keys()) if (!state.has(f)) visit(f);
  return found;
}

describe('layers', () => {
  it('the rule table only ever reads downward', () => {
    const wrong: string[] = [];
    for (const [name, tier] of Object.entries(TIERS)) {
      for (const r of tier.reads) {
        if (r === '*') continue;
        if (!(r in TIERS)) wrong.push(`${name} reads unknown tier ${r}`);
        else if (ORDER.indexOf(r) >= ORDER.indexOf(name)) wrong.push(`${name} reads ${r}, which is not below it`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('every source file belongs to a tier', () => {
    expect(FILES.filter((f) => tierOf(f) === undefined)).toEqual([]);
  });

  it('every import reads the importer\'s own tier or one its rule lists', () => {
    const wrong: string[] = [];
    for (const [file, imports] of IMPORTS) {
      const from = tierOf(file);
      if (from === undefined) continue; // reported by the test above
      const reads = TIERS[from].reads;
      for (const target of imports) {
        const to = tierOf(target);
        if (to === undefined) {
          if (!target.startsWith('src/') && !target.startsWith('generated/')) wrong.push(`${file} imports ${target}, outside the library`);
          continue;
        }
        const face = TIERS[from].through?.[to];
        if (face && !face.includes(target)) {
          wrong.push(`${file} (${from}) imports ${target}, not ${to}'s public face (${face.join(', ')})`);
          continue;
        }
        if (to === from || reads.includes('*') ? to !== 'cli' || from === 'cli' : reads.includes(to)) continue;
        wrong.push(`${file} (${from}) imports ${target} (${to})`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('no import circle', () => {
    expect(circles(IMPORTS).map((c) => c.join(' → '))).toEqual([]);
  });

  it(`no source file over ${MAX_LINES} lines`, () => {
    const long = FILES.filter((f) => !f.startsWith('generated/'))
      .map((f) => ({ f, lines: readFileSync(join(ROOT, f), 'utf8').split('\n').length - 1 }))
      .filter(({ lines }) => lines > MAX_LINES)
      .map(({ f, lines }) => `${f}: ${lines} lines`);
    expect(long).toEqual([]);
  });

  it('finds a circle and an upward import when there is one (the checks can fail)', () => {
    const graph = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', []]]);
    expect(circles(graph).map((c) => c.join(' → '))).toEqual(['a → b → c → a']);
    expect(importsOf('src/netlink/core/x.ts', "import { y } from '../../mptcp/pm/pm.js';\nconst z = await import('./w.js');"))
      .toEqual(['src/mptcp/pm/pm.ts', 'src/netlink/core/w.ts']);
    expect(tierOf('src/mptcp/pm/pm.ts')).toBe('mptcp/pm');
    expect(TIERS.core.reads.includes('mptcp/pm')).toBe(false);
  });
});
