// The usage line of every command and what its words mean, by section ("endpoint.add"; a group is
// every section under it), and the error a command line that cannot be run raises. --help and the
// man page (man.ts) are both printed from these tables.

import { GLOBAL_OPTIONS, IGNORED, type GlobalOptionSpec } from './options.js';

/**
 * One usage line per command. A new command adds its lines here (and a row in dispatch.ts's table);
 * the group of a section is its part before the dot.
 */
export const LINES: Readonly<Record<string, string>> = {
  'endpoint.add': 'mptcp-pm endpoint add ADDRESS [dev IFNAME] [id ID] [port PORT] [signal] [subflow] [backup] [fullmesh] [laminar]',
  'endpoint.delete': 'mptcp-pm endpoint delete { id ID | id 0 ADDRESS | ADDRESS [port PORT] }',
  'endpoint.change': 'mptcp-pm endpoint change { id ID | ADDRESS [port PORT] } backup|nobackup|fullmesh|nofullmesh',
  'endpoint.show': 'mptcp-pm endpoint show [id ID]',
  'endpoint.flush': 'mptcp-pm endpoint flush',
  'limits.set': 'mptcp-pm limits set [subflows N] [add_addr_accepted N]',
  'limits.show': 'mptcp-pm limits show',
  monitor: 'mptcp-pm monitor [--type TYPE]... [--token TOKEN] [--rcvbuf BYTES] [--json-format iproute2|iproute2-array|native]',
  'path-manager': 'mptcp-pm path-manager [kernel|userspace]',
  announce: 'mptcp-pm announce ADDRESS id ID token TOKEN [port PORT] [dev IFNAME]',
  remove: 'mptcp-pm remove id ID token TOKEN',
  'subflow.create': 'mptcp-pm subflow create token TOKEN local ADDRESS id ID remote ADDRESS port PORT [backup] [dev IFNAME]',
  'subflow.destroy': 'mptcp-pm subflow destroy token TOKEN local ADDRESS port PORT remote ADDRESS port PORT',
  'subflow.backup': 'mptcp-pm subflow backup|nobackup token TOKEN local ADDRESS [port PORT] remote ADDRESS [port PORT]',
  addresses: 'mptcp-pm addresses token TOKEN',
  connections: 'mptcp-pm connections [token TOKEN]',
  stat: 'mptcp-pm stat [-z] [--watch SECONDS [--count N]]',
  exporter: 'mptcp-pm exporter --listen HOST:PORT [--netns NAME]... [--timeout MS]',
  'route.add': 'mptcp-pm route add SOURCE dev IFNAME [via GATEWAY] [table N]',
  'route.delete': 'mptcp-pm route delete SOURCE',
  'route.show': 'mptcp-pm route show',
  auto: 'mptcp-pm auto --config FILE [cleanup-on-exit]',
  doctor: 'mptcp-pm doctor [window MS]',
  explain: 'mptcp-pm explain [token TOKEN] [window MS]',
  'userspace-pm': 'mptcp-pm userspace-pm [--policy subflow-per-address|announce-addresses|fullmesh|kernel-compatible] [--address ADDRESS [id ID]]... [--backup ADDRESS...] [--switch] [--rcvbuf BYTES]',
};

/** A usage section: a command ("endpoint.add"), a group ("endpoint") or "top". */
export type Section = string;


/** The global options for --help: those that do something, then those accepted as ip accepts them. */
function globalLines(): string[] {
  const show = (o: GlobalOptionSpec): string => (o.value ? `${o.display} ${o.value}` : o.display);
  const wrap = (head: string, items: string[]): string[] => {
    const out = [`${head} ${items[0]}`];
    for (const item of items.slice(1)) {
      if (out[out.length - 1].length + item.length > 100) out.push(`${' '.repeat(head.length)} ${item}`);
      else out[out.length - 1] += `  ${item}`;
    }
    return out;
  };
  const inert = (o: GlobalOptionSpec): boolean => o.meaning.startsWith(IGNORED);
  return [
    ...wrap('Options (anywhere):', GLOBAL_OPTIONS.filter((o) => !inert(o)).map(show)),
    ...wrap('Also accepted, as ip accepts them:', GLOBAL_OPTIONS.filter(inert).map(show)),
  ];
}

/** What the words mean, shown by --help (stdout) after the usage lines. */
export const MEANING: Readonly<Record<string, string>> = {
  route:
    'Per-source routing for a second path: a rule "from SOURCE lookup TABLE" and, in that table, the\n' +
    'source\'s subnet on IFNAME and a default route via GATEWAY (or the device\'s default found in main).\n' +
    'Only what mptcp-pm made (routes and rules of protocol 77) is shown or deleted.',
  'userspace-pm':
    'Runs a userspace path manager until SIGINT/SIGTERM, printing what it does; --switch sets the namespace\'s\n' +
    'path manager to userspace first. Default addresses: the namespace\'s global ones. kernel-compatible does\n' +
    'what the in-kernel path manager does with the endpoint table and limits (ip mptcp endpoint/limits),\n' +
    'and heals: closed subflows are opened again (0.5 s doubling to 30 s), pairs that keep failing are\n' +
    'given up (said once) and tried again when their link or address comes back.',
  auto:
    'FILE: JSON or YAML, { "rules": [{ "interface": "eth*", "flags": ["subflow"] }], "sourceRouting": true }.\n' +
    'Keeps endpoints (and per-source routing) equal to the addresses the machine has, until SIGINT/SIGTERM;\n' +
    'its endpoints (ids 100-199) and rules (protocol 77) stay unless cleanup-on-exit.',
  doctor:
    'Checks what makes MPTCP fail to use a second path (disabled, path manager, limits, endpoints,\n' +
    'addresses, source routing, rp_filter, counters, connections), each finding with its fix: the\n' +
    'fixes, pasted in the order printed, leave nothing to report. Counters are judged by what they\n' +
    'count while doctor watches (window MS, default 1000), never by their totals.\n' +
    'Exit status 0 when nothing is wrong; -j prints [{ severity, code, message, fix }].',
  explain:
    'Per established connection: the subflows it has, those its path manager should have made (endpoints\n' +
    'and their flags, limits, the addresses the machine has), and for each missing one a single cause\n' +
    '(limits-subflows, limits-add-addr-accepted, no-endpoint, link-down, address-gone, no-source-route,\n' +
    'join-refused, join-in-progress, fallback, blackhole, userspace-pm-unmanaged) with its evidence and fix.\n' +
    'It watches first (window MS, default 1000): what the counters count and the events seen meanwhile\n' +
    '(subflows closed with the peer\'s reset reason, addresses the peer announced) are evidence, never totals.\n' +
    'Exit status 0 when nothing is missing; -j prints [{ token, local, remote, side, have, expected, missing }].',
  top:
    'Configures and watches Multipath TCP in the kernel, the way `ip mptcp` does (same words, same\n' +
    'prefixes, same output, same exit statuses), plus the userspace path manager and a Prometheus exporter.\n' +
    'Every command acts in the current network namespace, or in NAME with -n.\n' +
    'TOKEN is a connection token in hex (as monitor prints it), with or without 0x.\n' +
    'Exit status: 0 done; 1 invalid address; 2 refused by the kernel; 255 the command line is wrong.',
  endpoint:
    'An endpoint is a local address the in-kernel path manager may use for extra subflows (flag\n' +
    'subflow: open subflows from it), announce to the peer (signal: send ADD_ADDR; with port, also\n' +
    'listen there), prefer less (backup: used only when no other subflow works), or use towards\n' +
    'every announced peer address (fullmesh). laminar: open subflows from it towards the addresses\n' +
    'the peer announces (Linux 6.18+). ID (1-255) names the endpoint; the kernel picks one if not given\n' +
    '(id 0 means the same). dev IFNAME binds its subflows to that interface.',
  'endpoint.add': 'Adds an endpoint. At most 8 per namespace.',
  'endpoint.delete':
    'Removes an endpoint by its id, or by ADDRESS [port PORT]. "id 0 ADDRESS" closes the subflows\n' +
    'whose local address is ADDRESS on connections that started from it (the initial subflow\'s address).',
  'endpoint.change': 'Turns the backup or fullmesh flag of an existing endpoint on or off.',
  'endpoint.show': 'Lists the endpoints (or one, by id): address, port, id, flags, device.',
  'endpoint.flush': 'Removes every endpoint of the namespace.',
  limits:
    'subflows: how many extra subflows a connection may have (0-8). add_addr_accepted: how many\n' +
    'addresses announced by the peer a connection will use (0-8).',
  'limits.set': 'Sets the limits given; the others keep their value.',
  'limits.show': 'Prints the namespace\'s limits.',
  monitor:
    'Prints each MPTCP event of the namespace as it happens, until interrupted: connections created,\n' +
    'established, closed; addresses announced and removed; subflows established, closed, changed\n' +
    'priority; listeners created and closed. Lost events (socket overrun) are reported on stderr.\n' +
    'TYPE: created established closed announced removed sub-established sub-closed sub-priority\n' +
    '      listener-created listener-closed (also the names monitor prints); several with commas.\n' +
    'TOKEN: only events of that connection. BYTES: receive buffer of the event socket (default 4 MiB).\n' +
    'With -j: one JSON object per line; --json-format iproute2 (default) uses the field names of\n' +
    '`ip -j mptcp monitor`, iproute2-array also its framing (one array, closed at exit), native the\n' +
    'library\'s MptcpEvent objects.',
  'path-manager':
    'Prints or sets which path manager new connections of the namespace get (net.mptcp.path_manager):\n' +
    'kernel (driven by endpoints and limits) or userspace (a program decides, with the commands below).',
  announce: 'Userspace path manager: announces ADDRESS (with id ID) to the peer of connection TOKEN (ADD_ADDR).',
  remove: 'Userspace path manager: withdraws address id ID from connection TOKEN (RM_ADDR); id 0 is the initial one.',
  subflow:
    'Userspace path manager: opens (create), closes (destroy) or marks backup / not backup one subflow\n' +
    'of connection TOKEN, named by its local and remote address (and ports).',
  addresses: 'Userspace path manager: lists the local addresses connection TOKEN announced.',
  connections:
    'Lists the MPTCP connections of the namespace (sock_diag, as ss -M) with their subflows beneath:\n' +
    'addresses, device, address ids, flags, rtt, cwnd, bytes. TOKEN: only that connection.',
  stat: 'MPTcpExt counters as nstat -az shows them; -z also prints zeros; --watch prints deltas until SIGINT.',
  exporter:
    'Serves the MPTCP state of one or more namespaces as Prometheus metrics on http://HOST:PORT/metrics:\n' +
    'MPTcpExt counters, connections and subflows, endpoints, limits, events and lost events.\n' +
    '--netns NAME (repeatable) watches that namespace; without it, the current one. MS bounds how long a\n' +
    'scrape waits for the kernel (default 2000); a slow source reports its last values and an error count.',
};

/** The sections (keys of the usage lines) of a top-level word: `endpoint` → endpoint.add, …; `stat` → stat. */
export function sectionsOf(word: string): string[] {
  return Object.keys(LINES).filter((k) => k === word || k.startsWith(`${word}.`));
}

/** The sections of a group ("endpoint" → endpoint.add, …), a command alone, or every command for "top". */
export function usageLines(section: Section): string[] {
  if (section === 'top') return Object.values(LINES);
  if (LINES[section]) return [LINES[section]];
  const group = Object.keys(LINES).filter((k) => k.startsWith(`${section}.`));
  return group.length ? group.map((k) => LINES[k]) : Object.values(LINES);
}

/** Full help text of a section, for --help (stdout): usage, options, what the words mean. */
export function helpText(section: Section): string {
  const lines = usageLines(section);
  const out = [`Usage: ${lines[0]}`, ...lines.slice(1).map((l) => `       ${l}`), ...globalLines()];
  const group = section.split('.')[0];
  for (const key of new Set([group, section])) {
    if (MEANING[key]) out.push('', MEANING[key]);
  }
  return `${out.join('\n')}\n`;
}

/**
 * A command line that cannot be run, with the exit status `ip` gives the same line: 255 for a wrong
 * or incomplete line, 1 for a word that should be an address and is not.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(readonly section: Section, message: string, readonly status = 255, readonly withUsage = true) {
    super(message);
  }

  /** What goes to stderr: the problem, then the usage of the section (or the problem alone, as ip says it). */
  render(): string {
    if (!this.withUsage) return `${this.message}.\n`;
    const lines = usageLines(this.section);
    return `Error: ${this.message}.\nUsage: ${lines.join('\n       ')}\n`;
  }
}
