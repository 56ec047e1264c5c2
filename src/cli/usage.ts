// The usage text of every command, by section, and the error a command line that cannot be run
// raises (printed with its section's usage on stderr, exit status 2).

const LINES = {
  'endpoint.add': 'mptcp-pm endpoint add ADDRESS [dev IFNAME] [id ID] [port PORT] [signal] [subflow] [backup] [fullmesh] [laminar]',
  'endpoint.delete': 'mptcp-pm endpoint delete { id ID | id 0 ADDRESS | ADDRESS [port PORT] }',
  'endpoint.change': 'mptcp-pm endpoint change { id ID | ADDRESS [port PORT] } backup|nobackup|fullmesh|nofullmesh',
  'endpoint.show': 'mptcp-pm endpoint show [id ID]',
  'endpoint.flush': 'mptcp-pm endpoint flush',
  'limits.set': 'mptcp-pm limits set [subflows N] [add_addr_accepted N]',
  'limits.show': 'mptcp-pm limits show',
  monitor: 'mptcp-pm monitor [--type TYPE]... [--token TOKEN] [--rcvbuf BYTES]',
  'path-manager': 'mptcp-pm path-manager [kernel|userspace]',
  announce: 'mptcp-pm announce ADDRESS id ID token TOKEN [port PORT] [dev IFNAME]',
  remove: 'mptcp-pm remove id ID token TOKEN',
  'subflow.create': 'mptcp-pm subflow create token TOKEN local ADDRESS id ID remote ADDRESS port PORT [backup] [dev IFNAME]',
  'subflow.destroy': 'mptcp-pm subflow destroy token TOKEN local ADDRESS port PORT remote ADDRESS port PORT',
  'subflow.backup': 'mptcp-pm subflow backup|nobackup token TOKEN local ADDRESS [port PORT] remote ADDRESS [port PORT]',
  addresses: 'mptcp-pm addresses token TOKEN',
  connections: 'mptcp-pm connections [token TOKEN]',
  stat: 'mptcp-pm stat [-z] [--watch SECONDS [--count N]]',
  'route.add': 'mptcp-pm route add SOURCE dev IFNAME [via GATEWAY] [table N]',
  'route.delete': 'mptcp-pm route delete SOURCE',
  'route.show': 'mptcp-pm route show',
  auto: 'mptcp-pm auto --config FILE [cleanup-on-exit]',
  doctor: 'mptcp-pm doctor',
  'userspace-pm': 'mptcp-pm userspace-pm [--policy subflow-per-address|announce-addresses|fullmesh] [--address ADDRESS [id ID]]... [--backup ADDRESS...] [--switch] [--rcvbuf BYTES]',
} as const;

export type Command = keyof typeof LINES;
export type Section = Command | 'top' | 'endpoint' | 'limits' | 'subflow' | 'route';

const GROUPS: Record<'endpoint' | 'limits' | 'subflow' | 'route', Command[]> = {
  route: ['route.add', 'route.delete', 'route.show'],
  endpoint: ['endpoint.add', 'endpoint.delete', 'endpoint.change', 'endpoint.show', 'endpoint.flush'],
  limits: ['limits.set', 'limits.show'],
  subflow: ['subflow.create', 'subflow.destroy', 'subflow.backup'],
};

const GLOBAL = 'Options (anywhere): -n|--netns NAME  -j|--json  -h|--help';

const NOTES: Partial<Record<Section, string>> = {
  top: 'TOKEN is a connection token in hex (as monitor prints it), with or without 0x.',
  monitor: 'TYPE: created established closed announced removed sub-established sub-closed sub-priority\n' +
    '      listener-created listener-closed (also the names monitor prints).\n' +
    'BYTES: receive buffer of the event socket (default 4 MiB); a smaller one overruns sooner.',
  'userspace-pm': 'Runs a userspace path manager until SIGINT/SIGTERM, printing what it does; --switch sets the namespace\'s\n' +
    '      path manager to userspace first. Default addresses: the namespace\'s global ones.',
  stat: 'MPTcpExt counters as nstat -az shows them; -z also prints zeros; --watch prints deltas until SIGINT.',
  auto: 'FILE: JSON or YAML, { "rules": [{ "interface": "eth*", "flags": ["subflow"] }], "sourceRouting": true }.\n' +
    'Runs until SIGINT/SIGTERM; its endpoints (ids 100-199) and rules (proto 77) stay unless cleanup-on-exit.',
  doctor: 'Exit status 0 when nothing is wrong; -j prints [{ severity, code, message, fix }].',
};

/** The usage lines of a section: one line for a command, all of them for a group or the top. */
export function usageLines(section: Section): string[] {
  if (section === 'top') return Object.values(LINES);
  if (section in GROUPS) return GROUPS[section as keyof typeof GROUPS].map((c) => LINES[c]);
  return [LINES[section as Command]];
}

/** Full help text of a section, for --help (stdout). */
export function helpText(section: Section): string {
  const lines = usageLines(section);
  const out = [`Usage: ${lines[0]}`, ...lines.slice(1).map((l) => `       ${l}`), GLOBAL];
  const note = NOTES[section];
  if (note) out.push(note);
  return `${out.join('\n')}\n`;
}

/** A command line that cannot be run: exit status 2, with the usage of `section`. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(readonly section: Section, message: string) {
    super(message);
  }

  /** What goes to stderr: the problem, then the usage of the section. */
  render(): string {
    const lines = usageLines(this.section);
    return `mptcp-pm: ${this.message}\nUsage: ${lines.join('\n       ')}\n`;
  }
}
