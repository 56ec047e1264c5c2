// The command line as a whole: global options, the top-level word (matched by prefix in iproute2's
// order, then this tool's own words), the command's module (loaded only when that word is used),
// and running it to an exit status.

import { pickWord, splitGlobals, type GlobalOptions } from './args.js';
import { helpText, UsageError, type Section } from './usage.js';
import type { Context } from './context.js';

/** What a parsed command line runs: `cmd` names its usage section ("endpoint.add"). */
export interface Action {
  cmd: string;
  [key: string]: unknown;
}

/** A command's code: a pure parser (throws UsageError) and a runner (resolves with the exit status, or 0). */
export interface CommandModule {
  parse(words: readonly string[]): Action;
  run(action: Action, ctx: Context): Promise<number | void>;
}

/** One top-level word. `subcommands` (in iproute2's order) only serve to find the help section. */
export interface CommandEntry {
  word: string;
  subcommands?: readonly string[];
  load(): Promise<CommandModule>;
}

const as = (m: unknown): CommandModule => m as CommandModule;

/** One of the userspace-PM commands, which share a module: its parser by name, the shared runner. */
async function userspace(parser: 'parsePathManager' | 'parseAnnounce' | 'parseRemove' | 'parseSubflow' | 'parseAddresses'): Promise<CommandModule> {
  const m = await import('./userspace.js');
  return as({ parse: m[parser], run: m.run });
}

/**
 * The top-level words: iproute2's first, in its order (so `m` is monitor), then this tool's.
 * A new command is one row here (its module exports parse/run) and its lines in usage.ts.
 */
export const COMMANDS: readonly CommandEntry[] = [
  // `help` prints every usage line on stderr and exits 255, as `ip mptcp help` does (--help is the friendly one).
  { word: 'help', load: async () => ({ parse: () => ({ cmd: 'help' }), run: async (_a, ctx) => { ctx.err(helpText('top')); return 255; } }) },
  { word: 'endpoint', subcommands: ['add', 'change', 'delete', 'show', 'flush'], load: async () => as(await import('./endpoint.js')) },
  { word: 'limits', subcommands: ['set', 'show'], load: async () => as(await import('./limits.js')) },
  { word: 'monitor', load: async () => as(await import('./monitor.js')) },
  { word: 'path-manager', load: () => userspace('parsePathManager') },
  { word: 'announce', load: () => userspace('parseAnnounce') },
  { word: 'remove', load: () => userspace('parseRemove') },
  { word: 'subflow', subcommands: ['create', 'destroy', 'backup', 'nobackup'], load: () => userspace('parseSubflow') },
  { word: 'addresses', load: () => userspace('parseAddresses') },
  { word: 'connections', load: async () => { const m = await import('./connections.js'); return as({ parse: m.parseConnections, run: m.runConnections }); } },
  { word: 'stat', load: async () => { const m = await import('./stat.js'); return as({ parse: m.parseStat, run: m.runStat }); } },
  { word: 'exporter', load: async () => as(await import('./exporter.js')) },
  { word: 'explain', load: async () => { const m = await import('./explain.js'); return as({ parse: m.parseExplain, run: m.runExplain }); } },
  { word: 'route', subcommands: ['add', 'delete', 'show'], load: async () => { const m = await import('./route.js'); return as({ parse: m.parseRoute, run: m.runRoute }); } },
  { word: 'auto', load: async () => { const m = await import('./auto.js'); return as({ parse: m.parseAuto, run: m.runAuto }); } },
  { word: 'doctor', load: async () => { const m = await import('./doctor.js'); return as({ parse: m.parseDoctor, run: m.runDoctorCommand }); } },
  { word: 'userspace-pm', load: async () => { const m = await import('./upm.js'); return as({ parse: m.parseUserspacePm, run: m.runUserspacePm }); } },
];

export interface ParsedCommandLine {
  globals: GlobalOptions;
  /** undefined for --help / --version, which print and run nothing else. */
  action?: Action;
  command?: CommandModule;
}

function entryOf(word: string | undefined): CommandEntry | undefined {
  const words = COMMANDS.map((c) => c.word);
  const w = pickWord(word, words);
  return COMMANDS.find((c) => c.word === w);
}

/** Parses argv (without node and the script). Throws UsageError for a line that cannot run. */
export async function parseCommandLine(argv: readonly string[]): Promise<ParsedCommandLine> {
  const { globals, words } = splitGlobals(argv);
  return parseWords(globals, words);
}

/** Parses the words of one command (after the global options were taken out). */
export async function parseWords(globals: GlobalOptions, words: readonly string[]): Promise<ParsedCommandLine> {
  if (globals.help || globals.version) return { globals };
  if (words.length === 0) throw new UsageError('top', 'no command given');
  const entry = entryOf(words[0]);
  if (!entry) throw new UsageError('top', `command "${words[0]}" is unknown`);
  const command = await entry.load();
  return { globals, action: command.parse(words.slice(1)), command };
}

/** The section whose help `words` ask for: as deep as the words name one. */
export function helpSection(words: readonly string[]): Section {
  const entry = entryOf(words[0]);
  if (!entry || entry.word === 'help') return 'top';
  const sub = pickWord(words[1], entry.subcommands ?? []);
  if (!sub) return entry.word;
  return entry.word === 'subflow' && sub === 'nobackup' ? 'subflow.backup' : `${entry.word}.${sub}`;
}

/** The version of the package, read from its package.json. */
async function version(): Promise<string> {
  const { readFileSync } = await import('node:fs');
  for (const rel of ['../../../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'mptcp-pm' && pkg.version) return pkg.version;
    } catch {
      // try the next place (dist/src/cli → package root, or src/cli when run from source)
    }
  }
  return 'unknown';
}

/**
 * Runs one command (its words, the global options already split off) and resolves with the exit
 * status; expected failures are printed on `ctx.err` (never with a stack trace).
 */
export async function runWords(globals: GlobalOptions, words: readonly string[], ctx: Context): Promise<number> {
  let section: Section = 'top';
  try {
    if (globals.version) {
      ctx.out(`mptcp-pm ${await version()}\n`);
      return 0;
    }
    if (globals.help) {
      ctx.out(helpText(helpSection(words)));
      return 0;
    }
    const parsed = await parseWords(globals, words);
    section = parsed.action?.cmd ?? 'top';
    return (await parsed.command?.run(parsed.action as Action, ctx)) ?? 0;
  } catch (e) {
    const { report } = await import('./report.js');
    const r = report(e, e instanceof UsageError ? e.section : section);
    ctx.err(r.stderr);
    return r.status;
  }
}

/**
 * Runs a whole command line (one command, or a batch file with -b) and resolves with the exit status.
 * `makeContext` is called once, with the global options.
 */
export async function runCommandLine(argv: readonly string[], makeContext: (g: GlobalOptions) => Context): Promise<number> {
  let split: { globals: GlobalOptions; words: string[] };
  try {
    split = splitGlobals(argv);
  } catch (e) {
    const { report } = await import('./report.js');
    const r = report(e, 'top');
    makeContext({ json: false, help: false }).err(r.stderr);
    return r.status;
  }
  const ctx = makeContext(split.globals);
  if (split.globals.batch !== undefined && !split.globals.help && !split.globals.version) {
    const { runBatch } = await import('./batch.js');
    return runBatch(split.globals, split.words, ctx, runWords);
  }
  return runWords(split.globals, split.words, ctx);
}
