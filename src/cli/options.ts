// The global options: every one `ip` 6.x takes, in the order ip tests them (so a prefix means what
// it means to ip: `-s` is -stats, `-r` -resolve, `-rc` -rcvbuf, `-b` -batch, `-br` -brief), and what
// each does here. --help and the man page print this table; splitGlobals (args.ts) reads argv with it.

/** Options that apply to every command. */
export interface GlobalOptions {
  netns?: string;
  /** Every -n/--netns value in order, when more than one may count (the exporter's). */
  namespaces?: string[];
  json: boolean;
  /** -p/-pretty: JSON indented as `ip -j -p` indents it. */
  pretty?: boolean;
  help: boolean;
  version?: boolean;
  /** -b/-batch FILE: read commands from FILE ("-" for stdin), one per line. */
  batch?: string;
  /** -force: in a batch, go on after a command fails. */
  force?: boolean;
}

/** One global option of `ip`, as this command reads it. */
export interface GlobalOptionSpec {
  /** ip's spellings: `opt` matches when it is a prefix of one of them (exact when `exact`). */
  readonly keywords: readonly string[];
  readonly exact?: boolean;
  /** How --help and the man page show it: `-s, -stats`. */
  readonly display: string;
  /** The value it takes, shown as a placeholder; undefined for a flag. */
  readonly value?: string;
  /** What it does here (or that it is accepted and changes nothing). */
  readonly meaning: string;
  /** Checks the value (a usage error message when wrong) and records the option. */
  readonly apply?: (g: GlobalOptions, value: string) => string | void;
}

/** The start of the meaning of an option accepted for ip's sake that changes nothing here. */
export const IGNORED = 'Accepted as ip accepts it; changes nothing here.';
const ignored = IGNORED;

/** ip's read_family(): the names `-f` takes. */
const FAMILIES = ['inet', 'inet6', 'link', 'mpls', 'bridge'];

/** The global options in ip's order of tests (ip.c's main loop); the first that matches wins. */
export const GLOBAL_OPTIONS: readonly GlobalOptionSpec[] = [
  { keywords: ['-loops'], display: '-l, -loops', value: 'COUNT', meaning: ignored },
  {
    keywords: ['-family'], display: '-f, -family', value: 'FAMILY', meaning: `${ignored} FAMILY: ${FAMILIES.join(', ')}.`,
    apply: (g, v) => {
      if (v === 'help') g.help = true;
      else if (!FAMILIES.includes(v)) return `Error: argument "${v}" is wrong: invalid protocol family`;
    },
  },
  { keywords: ['-4'], exact: true, display: '-4', meaning: ignored },
  { keywords: ['-6'], exact: true, display: '-6', meaning: ignored },
  { keywords: ['-0'], exact: true, display: '-0', meaning: ignored },
  { keywords: ['-M'], exact: true, display: '-M', meaning: ignored },
  { keywords: ['-B'], exact: true, display: '-B', meaning: ignored },
  { keywords: ['-human', '-human-readable'], display: '-h, -human', meaning: `${ignored} Alone, or after the command's words, -h is --help.` },
  { keywords: ['-iec'], display: '-iec', meaning: ignored },
  { keywords: ['-stats', '-statistics'], display: '-s, -stats', meaning: ignored },
  { keywords: ['-details'], display: '-d, -details', meaning: ignored },
  { keywords: ['-resolve'], display: '-r, -resolve', meaning: ignored },
  { keywords: ['-oneline'], display: '-o, -oneline', meaning: `${ignored} Every record is one line already.` },
  { keywords: ['-timestamp'], display: '-t, -timestamp', meaning: ignored },
  { keywords: ['-tshort'], display: '-ts, -tshort', meaning: ignored },
  { keywords: ['-Version', '-version'], display: '-V, --version', meaning: 'Print the version and exit.', apply: (g) => void (g.version = true) },
  { keywords: ['-force'], display: '-force', meaning: 'With -batch: go on after a refused command (the exit status is still 1).', apply: (g) => void (g.force = true) },
  {
    keywords: ['-batch'], display: '-b, -batch', value: 'FILE',
    meaning: 'Read commands from FILE ("-" for standard input), one per line, as `ip -batch` takes them (`mptcp endpoint show`); all run in one process.',
    apply: (g, v) => {
      if (v === '') return 'Error: -batch needs a file name ("-" for stdin)';
      g.batch = v;
    },
  },
  { keywords: ['-brief'], display: '-br, -brief', meaning: ignored },
  { keywords: ['-json'], display: '-j, --json', meaning: 'Print JSON: the objects `ip -j mptcp` prints; one object per line for monitor.', apply: (g) => void (g.json = true) },
  { keywords: ['-pretty'], display: '-p, -pretty', meaning: 'With -j: indent the JSON as `ip -j -p` does.', apply: (g) => void (g.pretty = true) },
  {
    keywords: ['-rcvbuf'], display: '-rc, -rcvbuf', value: 'SIZE', meaning: `${ignored} monitor's --rcvbuf sets its socket's buffer.`,
    apply: (_g, v) => (/^(0[xX][0-9a-fA-F]+|[0-9]+)$/.test(v) && Number(v) <= 0xffffffff ? undefined : `Invalid rcvbuf size '${v}'`),
  },
  { keywords: ['-color'], display: '-c, -color[=always|auto|never]', meaning: `${ignored} Output is never coloured.` },
  { keywords: ['-help'], display: '--help', meaning: 'Print the usage of the command named so far and what its words mean.', apply: (g) => void (g.help = true) },
  {
    keywords: ['-netns'], display: '-n, --netns', value: 'NAME',
    meaning: 'Run in network namespace NAME (under /run/netns, or a path such as /proc/PID/ns/net). The exporter takes it several times.',
    apply: (g, v) => {
      if (v === '') return 'Error: -netns needs a namespace name';
      g.netns = v;
      (g.namespaces ??= []).push(v);
    },
  },
  { keywords: ['-Numeric'], display: '-N, -Numeric', meaning: ignored },
  { keywords: ['-all'], display: '-a, -all', meaning: ignored },
  { keywords: ['-echo'], exact: true, display: '-echo', meaning: ignored },
];

/** `-color`, `-c=never`…: ip's matches_color(). */
function isColor(opt: string): boolean {
  const [name, value] = opt.includes('=') ? [opt.slice(0, opt.indexOf('=')), opt.slice(opt.indexOf('=') + 1)] : [opt, undefined];
  return name.length > 1 && '-color'.startsWith(name) && (value === undefined || ['', 'always', 'auto', 'never'].includes(value));
}

/**
 * The global option `arg` names (a leading `--` counts as `-`, as in ip), or undefined when ip would
 * call it unknown. `=VALUE` is split off for the options that take a value.
 */
export function findGlobalOption(arg: string): { spec: GlobalOptionSpec; inline?: string } | undefined {
  const opt = arg.startsWith('--') ? arg.slice(1) : arg;
  const eq = opt.indexOf('=');
  for (const spec of GLOBAL_OPTIONS) {
    if (spec.keywords[0] === '-color') {
      if (isColor(opt)) return { spec };
      continue;
    }
    const name = spec.value !== undefined && eq > 0 ? opt.slice(0, eq) : opt;
    const hit = spec.exact ? spec.keywords.includes(name) : name.length > 1 && spec.keywords.some((k) => k.startsWith(name));
    if (hit) return spec.value !== undefined && eq > 0 ? { spec, inline: opt.slice(eq + 1) } : { spec };
  }
  return undefined;
}
