// The mptcp-pm command without a kernel: word matching, number and token parsing, output formats,
// and every usage error, both as parsing and as a spawned process (ip's status: 255, or 1 for a bad address).

import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { exec, MAIN, type Result } from './helpers/cli.js';
import { formatToken, matches, parseToken, parseUint, pickWord, splitGlobals } from '../src/cli/args.js';
import { parseCommandLine, helpSection, runCommandLine } from '../src/cli/dispatch.js';
import { endpointLine, formatEndpoints, formatLimits } from '../src/cli/format.js';
import { eventJson, eventLine } from '../src/cli/monitor.js';
import { iproute2EventObject, jsonWriter } from '../src/cli/monitor-json.js';
import { report } from '../src/cli/report.js';
import { UsageError, usageLines, type Section } from '../src/cli/usage.js';
import { NetlinkError, ValidationError } from '../src/netlink/core/errors.js';
import type { Endpoint } from '../src/mptcp/pm/endpoint.js';
import type { MptcpEvent } from '../src/mptcp/events/events.js';

/** The package's bin: the same command bundled into one file by `npm run build`. */
const BUNDLE = fileURLToPath(new URL('../dist/cli/mptcp-pm.cjs', import.meta.url));

/** The command line run from `main`: the built CLI, or the bundle. */
const cli = (args: string[], main = MAIN): Promise<Result> => exec(process.execPath, [main, ...args]);

async function usageError(argv: string[]): Promise<UsageError> {
  try {
    await parseCommandLine(argv);
  } catch (e) {
    if (e instanceof UsageError) return e;
    throw e;
  }
  throw new Error(`no usage error for: ${argv.join(' ')}`);
}

describe('the CLI and the library', () => {
  /** Names a public entry exports (values and types). */
  function exported(file: string): Set<string> {
    const text = readFileSync(new URL(file, import.meta.url), 'utf8');
    const names = new Set<string>();
    for (const m of text.matchAll(/export\s+\*\s+as\s+(\w+)\s+from\s+'([^']+)'/g)) {
      names.add(m[1]); // the namespace, and what it holds
      for (const n of exported(new URL(m[2].replace(/\.js$/, '.ts'), new URL(file, import.meta.url)).href)) names.add(n);
    }
    for (const m of text.matchAll(/export\s+(?:type\s+)?\{([^}]*)\}/g)) {
      for (const part of m[1].split(',')) {
        const name = part.trim().replace(/^type\s+/, '').split(/\s+as\s+/).pop();
        if (name) names.add(name);
      }
    }
    return names;
  }

  it('uses only what src/index.ts (and mptcp-pm/exporter) export, whichever module it loads them from', () => {
    const publicNames = new Set([...exported('../src/index.ts'), ...exported('../src/exporter/index.ts')]);
    const dir = new URL('../src/cli/', import.meta.url);
    const used: string[] = [];
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const text = readFileSync(new URL(file, dir), 'utf8');
      // Static imports from outside src/cli.
      for (const m of text.matchAll(/import\s+(?:type\s+)?\{([^}]*)\}\s+from\s+'(\.\.\/[^']+)'/g)) {
        for (const part of m[1].split(',')) {
          const name = part.trim().replace(/^type\s+/, '').split(/\s+as\s+/)[0];
          if (name) used.push(`${file}: ${name} from ${m[2]}`);
        }
      }
      // Dynamic imports: the names destructured from them.
      for (const m of text.matchAll(/\{\s*([A-Za-z, ]+)\s*\}\)?\s*(?:=>|\]?\s*=\s*await)[^;]*?import\('(\.\.\/[^']+)'\)/g)) {
        for (const name of m[1].split(',').map((n) => n.trim()).filter(Boolean)) used.push(`${file}: ${name} from ${m[2]}`);
      }
      // The library's entry itself is imported for types only: loading it would load every module.
      expect(text, file).not.toMatch(/^import\s+\{[^}]*\}\s+from\s+'\.\.\/index\.js'/m);
    }
    expect(used.length).toBeGreaterThan(10);
    expect(used.filter((u) => !publicNames.has(u.split(': ')[1].split(' from ')[0]))).toEqual([]);
  });
});

describe('words', () => {
  it('matches a non-empty prefix, as iproute2 does', () => {
    expect(matches('del', 'delete')).toBe(true);
    expect(matches('delete', 'delete')).toBe(true);
    expect(matches('deletes', 'delete')).toBe(false);
    expect(matches('', 'delete')).toBe(false);
    expect(matches(undefined, 'delete')).toBe(false);
  });

  it('takes the first keyword in order', () => {
    expect(pickWord('s', ['set', 'show'])).toBe('set');
    expect(pickWord('sh', ['set', 'show'])).toBe('show');
    expect(pickWord('x', ['set', 'show'])).toBeUndefined();
  });

  it('reads numbers as strtoul(…, 0) does', () => {
    expect(parseUint('12', 255)).toBe(12);
    expect(parseUint('0x1f', 255)).toBe(31);
    expect(parseUint('017', 255)).toBe(15);
    expect(parseUint('0', 255)).toBe(0);
    for (const bad of ['256', '-1', '+1', '1a', '', '08', '0x', ' 1', '1.0']) expect(parseUint(bad, 255)).toBeUndefined();
  });

  it('reads tokens in hex with or without 0x, and prints them as iproute2 does', () => {
    expect(parseToken('1a2b3c4d')).toBe(0x1a2b3c4d);
    expect(parseToken('0x1A2B3C4D')).toBe(0x1a2b3c4d);
    expect(parseToken('ff')).toBe(255);
    for (const bad of ['', '0x', '123456789', 'xyz', '-1', '0x-1']) expect(parseToken(bad)).toBeUndefined();
    expect(formatToken(0xff)).toBe('000000ff');
    expect(formatToken(0xdeadbeef)).toBe('deadbeef');
    expect(parseToken(formatToken(0x0000abcd))).toBe(0xabcd);
  });

  it('finds global options anywhere, in every spelling', () => {
    expect(splitGlobals(['-n', 'ns1', 'endpoint', '-j'])).toEqual({ globals: { netns: 'ns1', namespaces: ['ns1'], json: true, help: false }, words: ['endpoint'] });
    expect(splitGlobals(['exporter', '-n', 'a', '--netns=b']).globals).toEqual({ netns: 'b', namespaces: ['a', 'b'], json: false, help: false });
    expect(splitGlobals(['-b', 'f', '-force', '-V']).globals).toEqual({ json: false, help: false, batch: 'f', force: true, version: true });
    expect(splitGlobals(['--netns=ns2', 'limits', '--json'])).toEqual({ globals: { netns: 'ns2', namespaces: ['ns2'], json: true, help: false }, words: ['limits'] });
    expect(splitGlobals(['-netns', 'ns3', '-json', 'e', '--help']).globals).toEqual({ netns: 'ns3', namespaces: ['ns3'], json: true, help: true });
    expect(splitGlobals(['monitor', '--type', 'created', '--token=ab']).words).toEqual(['monitor', '--type', 'created', '--token', 'ab']);
  });

  it('takes every global option of ip 6.x, with ip\'s prefixes, and changes nothing for those that mean nothing here', () => {
    const inert = ['-s', '-stats', '-statistics', '-d', '-details', '-N', '-Numeric', '-o', '-oneline', '-t', '-timestamp', '-ts', '-tshort',
      '-r', '-resolve', '-4', '-6', '-0', '-M', '-B', '-human', '-human-readable', '-iec', '-br', '-brief', '-a', '-all', '-c', '-color',
      '-color=always', '-color=auto', '-color=never', '-col=never', '-echo', '--stats', '--details', '--oneline'];
    for (const opt of inert) expect(splitGlobals([opt, 'endpoint', 'show']), opt).toEqual({ globals: { json: false, help: false }, words: ['endpoint', 'show'] });
    for (const opts of [['-rc', '100'], ['-rcvbuf', '0x10'], ['-l', '3'], ['-loops', '1'], ['-f', 'inet6'], ['-family', 'link']]) {
      expect(splitGlobals([...opts, 'endpoint']), opts.join(' ')).toEqual({ globals: { json: false, help: false }, words: ['endpoint'] });
    }
    expect(splitGlobals(['-j', '-p', 'endpoint']).globals).toEqual({ json: true, pretty: true, help: false });
    expect(splitGlobals(['-json', '-pretty', 'endpoint']).globals).toEqual({ json: true, pretty: true, help: false });
    expect(splitGlobals(['-n', 'x', '-b', 'f', '-fo']).globals).toEqual({ netns: 'x', namespaces: ['x'], json: false, help: false, batch: 'f', force: true });
    // -h is ip's -human before the command; after it, or alone, it asks for help. -he/-help/--help always do.
    expect(splitGlobals(['-h', 'endpoint', 'show']).globals.help).toBe(false);
    expect(splitGlobals(['endpoint', 'show', '-h']).globals.help).toBe(true);
    expect(splitGlobals(['-h']).globals.help).toBe(true);
    expect(splitGlobals(['-he', 'endpoint']).globals.help).toBe(true);
    expect(splitGlobals(['-f', 'help', 'endpoint']).globals.help).toBe(true);
  });

  it('refuses what ip refuses, in one line as ip does', async () => {
    for (const [line, message] of [
      ['-e endpoint', 'Option "-e" is unknown, try "mptcp-pm --help".\n'],
      ['--bogus endpoint', 'Option "--bogus" is unknown, try "mptcp-pm --help".\n'],
      ['-color=bogus endpoint', 'Option "-color=bogus" is unknown, try "mptcp-pm --help".\n'],
      ['-rc x endpoint', "Invalid rcvbuf size 'x'.\n"],
      ['-f bogus endpoint', 'Error: argument "bogus" is wrong: invalid protocol family.\n'],
      ['-n', 'Error: -n needs a namespace name.\n'],
    ] as const) {
      expect(await cli(line.split(' ')), line).toEqual({ status: 255, stdout: '', stderr: message });
    }
  });
});

describe('command lines', () => {
  const cases: Array<[string, object]> = [
    ['endpoint', { cmd: 'endpoint.show' }],
    ['e', { cmd: 'endpoint.show' }],
    ['endp sh', { cmd: 'endpoint.show' }],
    ['e s id 3', { cmd: 'endpoint.show', id: 3 }],
    ['e sh i 0x10', { cmd: 'endpoint.show', id: 16 }],
    ['e fl', { cmd: 'endpoint.flush' }],
    ['e f', { cmd: 'endpoint.flush' }],
    ['e a 192.0.2.1', { cmd: 'endpoint.add', spec: { address: '192.0.2.1', flags: [] } }],
    ['e a 192.0.2.1 id 0 signal', { cmd: 'endpoint.add', spec: { address: '192.0.2.1', flags: ['signal'] } }],
    ['e s id 0', { cmd: 'endpoint.show', id: 0 }],
    ['e s 192.0.2.1', { cmd: 'endpoint.show', id: 0, address: '192.0.2.1' }],
    ['e c id 3', { cmd: 'endpoint.change', id: 3, backup: false, fullmesh: false }],
    ['e flush now', { cmd: 'endpoint.flush' }],
    ['limits set', { cmd: 'limits.set' }],
    ['limits set subflows 9', { cmd: 'limits.set', subflows: 9 }],
    ['explain', { cmd: 'explain' }],
    ['explain token 0x1a2b window 2500', { cmd: 'explain', token: 0x1a2b, windowMs: 2500 }],
    ['explain w 0', { cmd: 'explain', windowMs: 0 }],
    ['endpoint add 2001:db8::1 dev eth0 id 7 signal backup', { cmd: 'endpoint.add', spec: { address: '2001:db8::1', flags: ['signal', 'backup'], id: 7, ifname: 'eth0' } }],
    ['e a 192.0.2.1 p 8080 signal', { cmd: 'endpoint.add', spec: { address: '192.0.2.1', flags: ['signal'], port: 8080 } }],
    ['e a 192.0.2.1 subflow fullmesh laminar', { cmd: 'endpoint.add', spec: { address: '192.0.2.1', flags: ['subflow', 'fullmesh', 'laminar'] } }],
    ['e d id 3', { cmd: 'endpoint.delete', id: 3 }],
    ['e del id 0 192.0.2.1', { cmd: 'endpoint.delete', id: 0, address: '192.0.2.1' }],
    ['e delete 192.0.2.1 port 80', { cmd: 'endpoint.delete', address: '192.0.2.1', port: 80 }],
    ['e c id 3 backup', { cmd: 'endpoint.change', id: 3, backup: true }],
    ['e change 192.0.2.1 nofullmesh nobackup', { cmd: 'endpoint.change', address: '192.0.2.1', fullmesh: false, backup: false }],
    ['limits', { cmd: 'limits.show' }],
    ['lim sh', { cmd: 'limits.show' }],
    ['l s subflows 3', { cmd: 'limits.set', subflows: 3 }],
    ['limits set s 1 a 0x2', { cmd: 'limits.set', subflows: 1, addAddrAccepted: 2 }],
    ['m', { cmd: 'monitor' }],
    ['monitor --type created --type sub-closed,SF_PRIO --token 0xAB', { cmd: 'monitor', types: ['created', 'subClosed', 'subPriority'], token: 0xab }],
    ['monitor type listener_created token 1', { cmd: 'monitor', types: ['listenerCreated'], token: 1 }],
    ['monitor --json-format native', { cmd: 'monitor', jsonFormat: 'native' }],
    ['path-manager', { cmd: 'path-manager' }],
    ['p u', { cmd: 'path-manager', set: 'userspace' }],
    ['path k', { cmd: 'path-manager', set: 'kernel' }],
    ['announce 192.0.2.1 id 2 token 1a2b3c4d', { cmd: 'announce', address: '192.0.2.1', id: 2, token: 0x1a2b3c4d }],
    ['an 2001:db8::2 t 0xff i 9 p 443 d eth1', { cmd: 'announce', address: '2001:db8::2', id: 9, token: 255, port: 443, dev: 'eth1' }],
    ['remove id 0 token ff', { cmd: 'remove', id: 0, token: 255 }],
    ['r t ff i 3', { cmd: 'remove', id: 3, token: 255 }],
    ['subflow create token ff local 192.0.2.1 id 2 remote 198.51.100.1 port 80 backup dev eth0',
      { cmd: 'subflow.create', token: 255, local: { address: '192.0.2.1', id: 2 }, remote: { address: '198.51.100.1', port: 80 }, backup: true, dev: 'eth0' }],
    ['s c t ff l 192.0.2.1 r 198.51.100.1 p 80 i 2',
      { cmd: 'subflow.create', token: 255, local: { address: '192.0.2.1', id: 2 }, remote: { address: '198.51.100.1', port: 80 }, backup: false }],
    ['subflow destroy token ff local 192.0.2.1 port 1000 remote 198.51.100.1 port 80',
      { cmd: 'subflow.destroy', token: 255, local: { address: '192.0.2.1', port: 1000 }, remote: { address: '198.51.100.1', port: 80 } }],
    ['subflow backup token ff local 192.0.2.1 remote 198.51.100.1',
      { cmd: 'subflow.backup', token: 255, local: { address: '192.0.2.1' }, remote: { address: '198.51.100.1' }, backup: true }],
    ['subflow nob token ff local 2001:db8::1 port 5 remote 2001:db8::2 port 6',
      { cmd: 'subflow.backup', token: 255, local: { address: '2001:db8::1', port: 5 }, remote: { address: '2001:db8::2', port: 6 }, backup: false }],
    ['addresses token 0x00000001', { cmd: 'addresses', token: 1 }],
    ['ad t 1', { cmd: 'addresses', token: 1 }],
    ['help', { cmd: 'help' }],
  ];
  it.each(cases)('%s', async (line, action) => {
    expect((await parseCommandLine(line.split(' '))).action).toEqual(action);
  });

  it('--help and --version run nothing else', async () => {
    expect((await parseCommandLine(['endpoint', 'add', '--help'])).action).toBeUndefined();
    expect((await parseCommandLine(['-V'])).action).toBeUndefined();
  });

  it('knows which help to show', () => {
    expect(helpSection(['m'])).toBe('monitor');
    expect(helpSection(['e', 'd'])).toBe('endpoint.delete');
    expect(helpSection(['subflow', 'nobackup'])).toBe('subflow.backup');
    expect(helpSection(['lim'])).toBe('limits');
    expect(helpSection([])).toBe('top');
  });
});

/** Every usage error: the command line, the section whose usage goes with it, and ip's exit status. */
const USAGE_ERRORS: Array<[string, Section, number]> = [
  ['', 'top', 255],
  ['frobnicate', 'top', 255],
  ['endpoint frob', 'endpoint', 255],
  ['explain window', 'explain', 255],
  ['explain window soon', 'explain', 255],
  ['explain bogus', 'explain', 255],
  ['endpoint add', 'endpoint.add', 255],
  ['endpoint add 192.0.2.1 bogus', 'endpoint.add', 1],
  ['endpoint add 192.0.2.1 id 256', 'endpoint.add', 255],
  ['endpoint add 192.0.2.1 id', 'endpoint.add', 255],
  ['endpoint add 192.0.2.1 port 70000 signal', 'endpoint.add', 255],
  ['endpoint add 192.0.2.1 port 80', 'endpoint.add', 255],
  ['endpoint add 192.0.2.1 signal fullmesh', 'endpoint.add', 255],
  ['endpoint add 192.0.2.1 implicit', 'endpoint.add', 1],
  ['endpoint add 192.0.2.1 dev', 'endpoint.add', 255],
  ['endpoint add 192.0.2.1 dev a/b', 'endpoint.add', 255],
  ['endpoint add 300.1.1.1', 'endpoint.add', 1],
  ['endpoint delete', 'endpoint.delete', 255],
  ['endpoint delete id 3 192.0.2.1', 'endpoint.delete', 255],
  ['endpoint delete id 0', 'endpoint.delete', 255],
  ['endpoint delete id x', 'endpoint.delete', 255],
  ['endpoint delete dev eth0', 'endpoint.delete', 255],
  ['endpoint change backup', 'endpoint.change', 255],
  ['endpoint change id 3 signal', 'endpoint.change', 255],
  ['endpoint change id 3 port 80 backup', 'endpoint.change', 255],
  ['endpoint change id 3 bogus', 'endpoint.change', 1],
  ['endpoint show id', 'endpoint.show', 255],
  ['limits frob', 'limits', 255],
  ['limits set add_addr_accepted -1', 'limits.set', 255],
  ['limits set subflows', 'limits.set', 255],
  ['limits set bogus 1', 'limits.set', 255],
  ['limits show extra', 'limits.show', 255],
  ['monitor bogus', 'monitor', 255],
  ['monitor --type', 'monitor', 255],
  ['monitor --type nosuch', 'monitor', 255],
  ['monitor --token xyz', 'monitor', 255],
  ['monitor --token 123456789', 'monitor', 255],
  ['path-manager fancy', 'path-manager', 255],
  ['path-manager kernel extra', 'path-manager', 255],
  ['announce', 'announce', 255],
  ['announce 192.0.2.1 token ff', 'announce', 255],
  ['announce 192.0.2.1 id 2', 'announce', 255],
  ['announce id 2 token ff', 'announce', 255],
  ['announce 192.0.2.1 id 0 token ff', 'announce', 255],
  ['announce 192.0.2.1 id 2 token zz', 'announce', 255],
  ['announce 192.0.2.1 id 2 token ff bogus', 'announce', 255],
  ['remove id 1', 'remove', 255],
  ['remove token ff', 'remove', 255],
  ['remove id 256 token ff', 'remove', 255],
  ['remove id 1 token ff x', 'remove', 255],
  ['subflow', 'subflow', 255],
  ['subflow frob', 'subflow', 255],
  ['subflow create local 192.0.2.1 id 2 remote 198.51.100.1 port 80', 'subflow.create', 255],
  ['subflow create token ff remote 198.51.100.1 port 80', 'subflow.create', 255],
  ['subflow create token ff local 192.0.2.1 id 2 port 80', 'subflow.create', 255],
  ['subflow create token ff local 192.0.2.1 port 5 remote 198.51.100.1 port 80', 'subflow.create', 255],
  ['subflow create token ff local 192.0.2.1 remote 198.51.100.1 port 80', 'subflow.create', 255],
  ['subflow create token ff local 192.0.2.1 id 2 remote 198.51.100.1', 'subflow.create', 255],
  ['subflow create token ff local 192.0.2.1 id 2 remote 2001:db8::1 port 80', 'subflow.create', 255],
  ['subflow create token ff local nothere id 2 remote 198.51.100.1 port 80', 'subflow.create', 255],
  ['subflow create token ff port 80', 'subflow.create', 255],
  ['subflow destroy token ff local 192.0.2.1 remote 198.51.100.1 port 80', 'subflow.destroy', 255],
  ['subflow destroy token ff local 192.0.2.1 port 1 remote 198.51.100.1', 'subflow.destroy', 255],
  ['subflow destroy token ff local 192.0.2.1 port 1 remote 198.51.100.1 port 2 id 3', 'subflow.destroy', 255],
  ['subflow backup token ff local 192.0.2.1', 'subflow.backup', 255],
  ['subflow nobackup local 192.0.2.1 remote 198.51.100.1', 'subflow.backup', 255],
  ['addresses', 'addresses', 255],
  ['addresses token', 'addresses', 255],
  ['addresses token ff extra', 'addresses', 255],
];

describe('usage errors (parsing)', () => {
  it.each(USAGE_ERRORS)('"%s" → usage of %s, status %d', async (line, section, status) => {
    const e = await usageError(line === '' ? [] : line.split(' '));
    expect(e.section).toBe(section);
    expect(e.status).toBe(status);
    const text = e.render();
    expect(text).toMatch(/^Error: .+\nUsage: /);
    for (const l of usageLines(section)) expect(text).toContain(l);
  });
});

/** Runs a command line in this process, as main.ts does, capturing what it writes. */
async function runInProcess(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const status = await runCommandLine(args, (g) => ({
    netns: g.netns, namespaces: g.namespaces ?? [], json: g.json,
    out: (t) => void (stdout += t),
    err: (t) => void (stderr += t),
    pm: () => Promise.reject(new Error('a usage error must not reach the kernel')),
  }));
  return { status, stdout, stderr };
}

describe('usage errors (whole command line: the status of ip, usage on stderr, nothing on stdout)', () => {
  it.each(USAGE_ERRORS)('"%s"', async (line, section, status) => {
    const r = await runInProcess(line === '' ? [] : line.split(' '));
    expect(r.status).toBe(status);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`Usage: ${usageLines(section)[0]}`);
  });
});

/** One usage error per section, run as a real process. */
const SPAWNED = USAGE_ERRORS.filter(([, section], i) => USAGE_ERRORS.findIndex(([, s]) => s === section) === i);

describe.concurrent('usage errors (spawned process: the status of ip, usage on stderr, no stack trace)', () => {
  it.each(SPAWNED)('"%s"', async (line, section, status) => {
    const r = await cli(line === '' ? [] : line.split(' '));
    expect(r.status).toBe(status);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`Usage: ${usageLines(section)[0]}`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('--help prints the section usage on stdout and exits 0, wherever it is', async () => {
    for (const args of [['--help'], ['-h'], ['endpoint', 'add', '--help'], ['lim', 'set', '-h'], ['subflow', 'create', '-help']]) {
      const r = await cli(args);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/^Usage: mptcp-pm /);
      expect(r.stderr).toBe('');
    }
    const add = (await cli(['endpoint', 'add', '--help'])).stdout;
    expect(add).toContain(usageLines('endpoint.add')[0]);
    expect(add).toMatch(/signal.*ADD_ADDR/);
  });

  it('the word "help" prints every usage line on stderr and exits 255, as `ip mptcp help` does', async () => {
    const r = await cli(['help']);
    expect(r.status).toBe(255);
    expect(r.stdout).toBe('');
    for (const l of usageLines('top')) expect(r.stderr).toContain(l);
  });

  it('--version / -V print the version of package.json', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = await cli([flag]);
      expect(r).toEqual({ status: 0, stdout: `mptcp-pm ${version}\n`, stderr: '' });
    }
  });

  it('the bundled bin answers exactly as the module entry does', async () => {
    const { bin } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { bin: Record<string, string> };
    expect(fileURLToPath(new URL(`../${bin['mptcp-pm']}`, import.meta.url))).toBe(BUNDLE);
    const cases = [['--version'], ['limits', '--help'], ['help'], ['endpoint', 'add', '192.0.2.300'], ['limits', 'set', 'subflows', '9'],
      ['-n', 'mptcppm-no-such-netns-for-sure', 'limits', 'show'], ['frobnicate']];
    for (const args of cases) {
      const [a, b] = await Promise.all([cli(args), cli(args, BUNDLE)]);
      expect(b, args.join(' ')).toEqual(a);
    }
    // Not every case succeeds: the comparison covers the error paths too.
    expect((await cli(['frobnicate'], BUNDLE)).status).not.toBe(0);
  });

  it('a missing namespace exits 255 as `ip -n` does, without a stack trace', async () => {
    const r = await cli(['-n', 'mptcppm-no-such-netns-for-sure', 'endpoint', 'show']);
    expect(r.status).toBe(255);
    expect(r.stderr).toContain('mptcppm-no-such-netns-for-sure');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('errors while running', () => {
  it('kernel refusals: exit 2, "Error: <kernel text>." first (as ip prints it), then a hint', () => {
    const e = new NetlinkError('mptcp_pm', 'add-addr', 16, { message: 'too many addresses or duplicate one: -16' });
    expect(report(e, 'endpoint.add')).toEqual({
      status: 2, stderr: 'Error: too many addresses or duplicate one: -16.\nmptcp-pm: EBUSY: this id is already in use\n',
    });
    const plain = new NetlinkError('mptcp_pm', 'del-addr', 1);
    expect(report(plain, 'endpoint.delete').stderr).toMatch(/^Error: operation not permitted.*CAP_NET_ADMIN.*\.\nmptcp-pm: EPERM\n$/);
  });

  it('input refused by the library before sending: exit 2, like the kernel refusal it stands for', () => {
    const r = report(new ValidationError('limits.subflows', 'must be at most 8'), 'limits.set');
    expect(r).toEqual({ status: 2, stderr: 'Error: limits.subflows: must be at most 8.\n' });
  });

  it('anything else: exit 1 and no stack trace', () => {
    const r = report(new Error('boom'), 'endpoint.show');
    expect(r.status).toBe(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('output formats', () => {
  const ep = (e: Partial<Endpoint>): Endpoint => ({ id: 1, address: '192.0.2.1', family: 'inet', flags: [], unknownFlags: 0, ...e });

  it('prints endpoints as iproute2 does', () => {
    expect(endpointLine(ep({ id: 3, flags: ['signal', 'subflow', 'backup'], ifindex: 2, ifname: 'v0' }))).toBe('192.0.2.1 id 3 signal subflow backup dev v0 \n');
    expect(endpointLine(ep({ address: '2001:db8::1', family: 'inet6', port: 8080, id: 4, flags: ['signal'] }))).toBe('2001:db8::1 port 8080 id 4 signal \n');
    expect(endpointLine(ep({ flags: ['subflow', 'implicit', 'laminar'], unknownFlags: 0x40 }))).toBe('192.0.2.1 id 1 subflow implicit laminar rawflags 40 \n');
    expect(endpointLine(ep({ ifindex: 9 }))).toBe('192.0.2.1 id 1 \n');
    expect(formatEndpoints([], false)).toBe('');
    expect(formatEndpoints([], true)).toBe('[]\n');
    expect(formatEndpoints([ep({ port: 80, flags: ['signal', 'backup'], ifname: 'v0' }), ep({ id: 2, unknownFlags: 0x100 })], true)).toBe(
      '[{"address":"192.0.2.1","port":80,"id":1,"signal":true,"backup":true,"dev":"v0"},{"address":"192.0.2.1","id":2,"rawflags":"100"}]\n',
    );
  });

  it('prints limits as iproute2 does, and as JSON with its keys', () => {
    expect(formatLimits({ subflows: 2, addAddrAccepted: 0 }, false)).toBe('add_addr_accepted 0 subflows 2 \n');
    expect(formatLimits({ subflows: 8, addAddrAccepted: 1 }, true)).toBe('{"add_addr_accepted":1,"subflows":8}\n');
  });

  it('prints events with every attribute, listener events by name', () => {
    const sub: MptcpEvent = {
      type: 'subClosed', token: 0xab, family: 'inet6', localAddress: '2001:db8::1', localPort: 1000,
      remoteAddress: '2001:db8::2', remotePort: 80, localId: 1, remoteId: 2, backup: true,
      error: { errno: 111, code: 'ECONNREFUSED' }, ifindex: 3, resetReason: { value: 1, name: 'emptcp' },
      resetFlags: { value: 1, transient: true },
    };
    expect(eventLine(sub)).toBe('[       SF_CLOSED] token=000000ab family=inet6 remid=2 locid=1 saddr6=2001:db8::1 daddr6=2001:db8::2 sport=1000 dport=80 backup=1 error=111(ECONNREFUSED) ifindex=3 reset_reason=1(emptcp) reset_flags=0x1\n');
    expect(eventLine({ type: 'listenerCreated', family: 'inet', localAddress: '192.0.2.1', localPort: 80 })).toBe('[LISTENER_CREATED] family=inet saddr4=192.0.2.1 sport=80\n');
    expect(eventLine({ type: 'established', token: 1, serverSide: true, denyJoinId0: false })).toBe('[     ESTABLISHED] token=00000001 server_side=1 deny_join_id0=0\n');
    expect(eventLine({ type: 'unknown', eventType: 42, token: 5, attributes: [{ type: 99, data: Uint8Array.of(1, 2) }] })).toBe('[      UNKNOWN 42] token=00000005 attr99=0102\n');
    expect(eventLine({ type: 'invalid', eventType: 2, reason: 'bad', data: Uint8Array.of(0xff) })).toBe('[         INVALID] event=2 reason="bad" data=ff\n');
  });

  it('prints upstream iproute2 JSON monitor objects (and its array framing) by default with -j', () => {
    const sub: MptcpEvent = {
      type: 'subClosed', token: 0xab, family: 'inet6', localAddress: '2001:db8::1', localPort: 1000,
      remoteAddress: '2001:db8::2', remotePort: 80, localId: 1, remoteId: 2, backup: true,
      error: { errno: 111, code: 'ECONNREFUSED' }, ifindex: 3, resetReason: { value: 1, name: 'emptcp' },
      resetFlags: { value: 1, transient: true }, serverSide: true, unknownFlags: 0x10,
    };
    expect(JSON.stringify(iproute2EventObject(sub, (i) => (i === 3 ? 'eth0' : undefined)))).toBe(
      '{"event":"SF_CLOSED","token":"0xab","remid":2,"locid":1,"saddr6":"2001:db8::1","daddr6":"2001:db8::2","sport":1000,"dport":80,' +
      '"backup":1,"error":111,"ifindex":3,"dev":"eth0","reset_reason":1,"reset_flags":"0x1","server_side":true,"flags":"0x10"}',
    );
    expect(iproute2EventObject({ type: 'unknown', eventType: 42, attributes: [] })).toEqual({ event: 'UNKNOWN 42' });
    const w = jsonWriter('iproute2-array', () => undefined);
    const lines = [w.line({ type: 'closed', token: 1 }), w.line({ type: 'closed', token: 2 }), w.end()].join('');
    expect(JSON.parse(lines)).toEqual([{ event: 'CLOSED', token: '0x1' }, { event: 'CLOSED', token: '0x2' }]);
    expect(jsonWriter('iproute2-array', () => undefined).end()).toBe('[]\n');
    expect(jsonWriter('iproute2', () => undefined).line({ type: 'established', token: 0, serverSide: false, denyJoinId0: false })).toBe('{"event":"ESTABLISHED","token":"0"}\n');
  });

  it('prints NDJSON: one object per line, tokens in hex, bytes in hex', () => {
    expect(eventJson({ type: 'closed', token: 0xdeadbeef })).toBe('{"type":"closed","token":"deadbeef"}\n');
    expect(eventJson({ type: 'invalid', eventType: 2, reason: 'bad', data: Uint8Array.of(1) })).toBe('{"type":"invalid","eventType":2,"reason":"bad","data":"01"}\n');
  });
});
