// The command line as a whole: global options, the top-level word (matched by prefix in iproute2's
// order, then this tool's own words), the parsed action, and running it to an exit status.

import { pickWord, splitGlobals, type GlobalOptions } from './args.js';
import { helpText, UsageError, type Section } from './usage.js';
import { parseEndpoint, runEndpoint, type EndpointAction } from './endpoint.js';
import { parseLimits, runLimits, type LimitsAction } from './limits.js';
import {
  parseAddresses, parseAnnounce, parsePathManager, parseRemove, parseSubflow, runUserspace, type UserspaceAction,
} from './userspace.js';
import { parseMonitor, runMonitor, type MonitorAction } from './monitor.js';
import { parseConnections, runConnections, type ConnectionsAction } from './connections.js';
import { parseStat, runStat, type StatAction } from './stat.js';
import { parseRoute, runRoute, type RouteAction } from './route.js';
import { parseAuto, runAuto, type AutoAction } from './auto.js';
import { parseDoctor, runDoctorCommand, type DoctorAction } from './doctor.js';
import { parseUserspacePm, runUserspacePm, type UpmCliAction } from './upm.js';
import { report } from './report.js';
import type { Context } from './context.js';

export type Action =
  | EndpointAction | LimitsAction | UserspaceAction | MonitorAction | ConnectionsAction | StatAction | UpmCliAction
  | RouteAction | AutoAction | DoctorAction
  | { cmd: 'help'; section: Section };

/** Top-level words: iproute2's first, in its order (so `m` is monitor), then this tool's. */
const TOP = [
  'help', 'endpoint', 'limits', 'monitor',
  'path-manager', 'announce', 'remove', 'subflow', 'addresses', 'connections', 'stat', 'route', 'auto', 'doctor', 'userspace-pm',
] as const;

export interface ParsedCommandLine {
  globals: GlobalOptions;
  action: Action;
}

/** Parses argv (without node and the script). Pure: throws UsageError for a line that cannot run. */
export function parseCommandLine(argv: readonly string[]): ParsedCommandLine {
  const { globals, words } = splitGlobals(argv);
  if (globals.help) return { globals, action: { cmd: 'help', section: helpSection(words) } };
  if (words.length === 0) throw new UsageError('top', 'no command given');
  const top = pickWord(words[0], TOP);
  const rest = words.slice(1);
  switch (top) {
    case 'help': return { globals, action: { cmd: 'help', section: helpSection(rest) } };
    case 'endpoint': return { globals, action: parseEndpoint(rest) };
    case 'limits': return { globals, action: parseLimits(rest) };
    case 'monitor': return { globals, action: parseMonitor(rest) };
    case 'path-manager': return { globals, action: parsePathManager(rest) };
    case 'announce': return { globals, action: parseAnnounce(rest) };
    case 'remove': return { globals, action: parseRemove(rest) };
    case 'subflow': return { globals, action: parseSubflow(rest) };
    case 'addresses': return { globals, action: parseAddresses(rest) };
    case 'connections': return { globals, action: parseConnections(rest) };
    case 'stat': return { globals, action: parseStat(rest) };
    case 'route': return { globals, action: parseRoute(rest) };
    case 'auto': return { globals, action: parseAuto(rest) };
    case 'doctor': return { globals, action: parseDoctor(rest) };
    case 'userspace-pm': return { globals, action: parseUserspacePm(rest) };
    default: throw new UsageError('top', `unknown command "${words[0]}"`);
  }
}

/** The section whose help `words` ask for: as deep as the words name one. */
export function helpSection(words: readonly string[]): Section {
  const top = pickWord(words[0], TOP);
  const sub = words[1];
  switch (top) {
    case 'endpoint': {
      const s = pickWord(sub, ['add', 'change', 'delete', 'show', 'flush'] as const);
      return s ? `endpoint.${s}` : 'endpoint';
    }
    case 'limits': {
      const s = pickWord(sub, ['set', 'show'] as const);
      return s ? `limits.${s}` : 'limits';
    }
    case 'subflow': {
      const s = pickWord(sub, ['create', 'destroy', 'backup', 'nobackup'] as const);
      return s === 'create' || s === 'destroy' ? `subflow.${s}` : s ? 'subflow.backup' : 'subflow';
    }
    case 'route': {
      const s = pickWord(sub, ['add', 'delete', 'show'] as const);
      return s ? `route.${s}` : 'route';
    }
    case 'monitor': case 'path-manager': case 'announce': case 'remove': case 'addresses': case 'connections': case 'stat': case 'auto': case 'doctor': case 'userspace-pm':
      return top;
    default:
      return 'top';
  }
}

/** The usage section of an action, for errors raised while it runs. */
function sectionOf(a: Action): Section {
  if (a.cmd === 'help') return a.section;
  return a.cmd;
}

async function run(action: Action, ctx: Context): Promise<number> {
  switch (action.cmd) {
    case 'help':
      ctx.out(helpText(action.section));
      return 0;
    case 'monitor':
      return runMonitor(action, ctx);
    case 'connections':
      await runConnections(action, ctx);
      return 0;
    case 'stat':
      return runStat(action, ctx);
    case 'route.add': case 'route.delete': case 'route.show':
      await runRoute(action, ctx);
      return 0;
    case 'auto':
      return runAuto(action, ctx);
    case 'doctor':
      return runDoctorCommand(action, ctx);
    case 'userspace-pm':
      return runUserspacePm(action, ctx);
    case 'endpoint.add': case 'endpoint.delete': case 'endpoint.change': case 'endpoint.show': case 'endpoint.flush':
      await runEndpoint(action, ctx);
      return 0;
    case 'limits.set': case 'limits.show':
      await runLimits(action, ctx);
      return 0;
    default:
      await runUserspace(action, ctx);
      return 0;
  }
}

/**
 * Runs a whole command line and resolves with the exit status; expected failures are printed on
 * `ctx.err` (never with a stack trace).
 */
export async function runCommandLine(argv: readonly string[], makeContext: (g: GlobalOptions) => Context): Promise<number> {
  let parsed: ParsedCommandLine;
  try {
    parsed = parseCommandLine(argv);
  } catch (e) {
    const r = report(e, 'top');
    makeContext({ json: false, help: false }).err(r.stderr);
    return r.status;
  }
  const ctx = makeContext(parsed.globals);
  try {
    return await run(parsed.action, ctx);
  } catch (e) {
    const r = report(e, sectionOf(parsed.action));
    ctx.err(r.stderr);
    return r.status;
  }
}
