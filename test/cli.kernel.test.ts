// The mptcp-pm command against a real kernel and iproute2, in namespaces made here: the same text
// and JSON as `ip mptcp` for many states, kernel refusals (exit 2, as ip), and `monitor` on real connections.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { exec as run, MAIN, type Result } from './helpers/cli.js';
import { canRunKernelTests, kernelIt, makeNetns, waitFor, type TestNetns } from './helpers/netns.js';

const it = kernelIt();
const PEER = fileURLToPath(new URL('./helpers/mptcp_peer.py', import.meta.url));

const exec = (cmd: string, args: string[]): Promise<Result> => run(cmd, args, { timeoutMs: 60_000 });

let ns: TestNetns;
const mp = (...args: string[]): Promise<Result> => exec(process.execPath, [MAIN, '-n', ns.name, ...args]);
const ipm = (...args: string[]): Promise<Result> => {
  const json = args[0] === '-j';
  return exec('ip', ['-n', ns.name, ...(json ? ['-j'] : []), 'mptcp', ...(json ? args.slice(1) : args)]);
};

async function ok(r: Promise<Result>): Promise<string> {
  const res = await r;
  expect(res.stderr).toBe('');
  expect(res.status).toBe(0);
  return res.stdout;
}

/** Both tools print the same text and the same JSON, for the list and for every id in it. */
async function expectSameShow(): Promise<void> {
  const pair = (args: string[]): Promise<[string, string]> => Promise.all([ok(mp(...args)), ok(ipm(...args))]);
  const [json, ipJson] = await pair(['-j', 'endpoint', 'show']);
  expect(json).toBe(ipJson);
  const lines: string[][] = [['endpoint', 'show'], ['endpoint']];
  for (const ep of JSON.parse(json) as Array<{ id: number }>) {
    lines.push(['endpoint', 'show', 'id', String(ep.id)], ['-j', 'endpoint', 'show', 'id', String(ep.id)]);
  }
  // A few pairs at a time: a busy machine must not push a whole crowd of processes past the timeout.
  for (let i = 0; i < lines.length; i += 3) {
    for (const [mine, theirs] of await Promise.all(lines.slice(i, i + 3).map(pair))) expect(mine).toBe(theirs);
  }
}

const runnable = canRunKernelTests().ok;

describe('endpoint and limits: the same output as ip mptcp', () => {
  beforeAll(async () => {
    if (!runnable) return;
    ns = await makeNetns('cli');
    await ns.ip('link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1');
    for (const dev of ['v0', 'v1']) await ns.ip('link', 'set', dev, 'up');
    for (const a of ['192.0.2.1/24', '198.51.100.1/24', '203.0.113.1/24']) await ns.ip('addr', 'add', a, 'dev', 'v0');
    await ns.ip('addr', 'add', '2001:db8::1/64', 'dev', 'v0', 'nodad');
  });
  afterAll(async () => {
    await ns?.destroy();
  });

  /** Endpoint states, each a list of `endpoint add` argument lists. */
  const STATES: Array<[string, string[][]]> = [
    ['no endpoint', []],
    ['v4, no flags', [['192.0.2.1']]],
    ['v4 subflow', [['192.0.2.1', 'subflow']]],
    ['v6 signal', [['2001:db8::1', 'signal']]],
    ['backup', [['192.0.2.1', 'subflow', 'backup']]],
    ['fullmesh', [['198.51.100.1', 'subflow', 'fullmesh']]],
    ['signal subflow backup', [['203.0.113.1', 'signal', 'subflow', 'backup']]],
    ['subflow backup fullmesh', [['203.0.113.1', 'subflow', 'backup', 'fullmesh']]],
    ['v4 signal with port', [['192.0.2.1', 'signal', 'port', '8080']]],
    ['v6 signal with port and backup', [['2001:db8::1', 'signal', 'backup', 'port', '8443']]],
    ['dev', [['192.0.2.1', 'subflow', 'dev', 'v0']]],
    ['explicit id', [['198.51.100.1', 'id', '42', 'signal']]],
    ['several', [
      ['192.0.2.1', 'id', '7', 'signal', 'subflow', 'backup', 'dev', 'v0'],
      ['2001:db8::1', 'signal', 'port', '8080'],
      ['198.51.100.1', 'subflow', 'fullmesh'],
      ['203.0.113.1', 'id', '255', 'signal'],
      ['192.0.2.1', 'signal', 'port', '9000'],
      ['2001:db8::2', 'id', '3', 'subflow', 'dev', 'v1'],
      ['192.0.2.99'],
      ['2001:db8::99', 'backup'],
    ]],
  ];

  it.each(STATES)('%s (added by mptcp-pm and by ip)', { timeout: 240_000 }, async (_name, adds) => {
    for (const addBy of ['mptcp-pm', 'ip'] as const) {
      await ok(mp('endpoint', 'flush'));
      for (const [i, args] of adds.entries()) {
        // Alternate the tool that adds, so each tool reads what the other wrote.
        const useMp = (addBy === 'mptcp-pm') === (i % 2 === 0);
        await ok(useMp ? mp('endpoint', 'add', ...args) : ipm('endpoint', 'add', ...args));
      }
      await expectSameShow();
    }
  });

  it('endpoints added by one tool are deleted by the other', async () => {
    await ok(mp('endpoint', 'flush'));
    await ok(mp('endpoint', 'add', '192.0.2.1', 'id', '5', 'subflow'));
    await ok(ipm('endpoint', 'add', '198.51.100.1', 'id', '6', 'signal'));
    await ok(ipm('endpoint', 'delete', 'id', '5'));
    expect(await ok(mp('endpoint', 'show'))).toBe('198.51.100.1 id 6 signal \n');
    await ok(mp('endpoint', 'del', 'id', '6'));
    expect(await ok(ipm('endpoint', 'show'))).toBe('');
    // By address, which iproute2 cannot do.
    await ok(ipm('endpoint', 'add', '2001:db8::1', 'subflow'));
    await ok(mp('endpoint', 'delete', '2001:db8::1'));
    expect(await ok(ipm('-j', 'endpoint', 'show'))).toBe('[]\n');
  });

  it('limits: the same text; the same keys in JSON', async () => {
    for (const [by, args] of [['mptcp-pm', ['subflows', '4', 'add_addr_accepted', '3']], ['ip', ['subflows', '0', 'add_addr_accepted', '8']], ['mptcp-pm', ['s', '2']], ['ip', ['add', '0']]] as const) {
      await ok(by === 'ip' ? ipm('limits', 'set', ...args) : mp('limits', 'set', ...args));
      const text = await ok(ipm('limits', 'show'));
      expect(await ok(mp('limits', 'show'))).toBe(text);
      expect(await ok(mp('limits'))).toBe(await ok(ipm('limits')));
      // iproute2 6.1 prints text for `-j mptcp limits`; later versions may print JSON. Compare values either way.
      const ipj = (await ok(ipm('-j', 'limits', 'show'))).trim();
      const ipValues = ipj.startsWith('{') ? JSON.parse(ipj) as object
        : Object.fromEntries([...ipj.matchAll(/(\w+) (\d+)/g)].map((m) => [m[1], Number(m[2])]));
      expect(JSON.parse(await ok(mp('-j', 'limits', 'show')))).toEqual(ipValues);
    }
  });

  it('endpoint change keeps the flag it was not given', async () => {
    await ok(mp('endpoint', 'flush'));
    await ok(mp('endpoint', 'add', '192.0.2.1', 'id', '9', 'subflow', 'backup', 'fullmesh'));
    await ok(mp('endpoint', 'change', 'id', '9', 'nobackup'));
    expect(await ok(ipm('endpoint', 'show'))).toBe('192.0.2.1 id 9 subflow fullmesh \n');
    await ok(mp('endpoint', 'change', '192.0.2.1', 'backup'));
    expect(await ok(ipm('endpoint', 'show'))).toBe('192.0.2.1 id 9 subflow backup fullmesh \n');
    await ok(mp('e', 'c', 'i', '9', 'nofullmesh'));
    expect(await ok(ipm('endpoint', 'show'))).toBe('192.0.2.1 id 9 subflow backup \n');
    await ok(mp('endpoint', 'change', 'id', '9', 'nobackup', 'fullmesh'));
    await expectSameShow();
    expect(await ok(mp('endpoint', 'show'))).toBe('192.0.2.1 id 9 subflow fullmesh \n');
  });

  /** A kernel refusal: exit 2, "Error: <kernel text>." first (as ip), no usage, no stack trace. */
  async function refused(r: Promise<Result>, kernelText: string): Promise<void> {
    const res = await r;
    expect(res.status).toBe(2);
    expect(res.stdout).toBe('');
    expect(res.stderr.startsWith(`Error: ${kernelText}.\n`)).toBe(true);
    expect(res.stderr).not.toContain('Usage:');
    expect(res.stderr).not.toMatch(/\n\s+at /);
  }

  it('kernel refusals of endpoint commands: exit 2 with the kernel message', async () => {
    await ok(mp('endpoint', 'flush'));
    await ok(mp('endpoint', 'add', '192.0.2.1', 'id', '1', 'subflow'));
    await refused(mp('endpoint', 'add', '192.0.2.1', 'signal'), 'too many addresses or duplicate one: -17');
    await refused(mp('endpoint', 'add', '198.51.100.1', 'id', '1'), 'too many addresses or duplicate one: -16');
    await refused(mp('endpoint', 'delete', 'id', '77'), 'address not found');
    await refused(mp('endpoint', 'show', 'id', '77'), 'address not found');
    await refused(mp('endpoint', 'change', 'id', '77', 'backup'), 'address not found');
    await refused(mp('endpoint', 'add', '192.0.2.50', 'signal', 'port', '80'), 'create listen socket error: -99');
    for (let i = 2; i <= 8; i++) await ok(mp('endpoint', 'add', `203.0.113.${i}`));
    await refused(mp('endpoint', 'add', '203.0.113.9'), 'too many addresses or duplicate one: -34');
    await ok(mp('endpoint', 'flush'));
  });

  it('input refused before sending: an unknown device is a command-line error (255), a limit above 8 a refusal (2)', async () => {
    const noDev = await mp('endpoint', 'add', '192.0.2.1', 'dev', 'nosuchdev0');
    expect(noDev.status).toBe(255);
    expect(noDev.stderr).toContain('nosuchdev0');
    expect(noDev.stderr).toContain('Usage: mptcp-pm endpoint add');
    const limit = await mp('limits', 'set', 'subflows', '9');
    expect(limit.status).toBe(2);
    expect(limit.stderr).toMatch(/^Error: .*8/);
  });

  it('userspace commands with an unknown token: exit 2, "invalid token"', async () => {
    const tok = 'deadbeef';
    await refused(mp('announce', '192.0.2.1', 'id', '2', 'token', tok), 'invalid token');
    await refused(mp('remove', 'id', '2', 'token', `0x${tok}`), 'invalid token');
    await refused(mp('subflow', 'create', 'token', tok, 'local', '192.0.2.1', 'id', '2', 'remote', '192.0.2.2', 'port', '80'), 'invalid token');
    await refused(mp('subflow', 'destroy', 'token', tok, 'local', '192.0.2.1', 'port', '1000', 'remote', '192.0.2.2', 'port', '80'), 'invalid token');
    await refused(mp('subflow', 'backup', 'token', tok, 'local', '192.0.2.1', 'remote', '192.0.2.2'), 'invalid token');
    await refused(mp('addresses', 'token', tok), 'invalid token');
  });

  it('path-manager shows and sets the namespace sysctl', async () => {
    expect(await ok(mp('path-manager'))).toBe('kernel\n');
    await ok(mp('path-manager', 'userspace'));
    expect(await ok(mp('-j', 'path-manager'))).toBe('{"path_manager":"userspace"}\n');
    expect((await ns.exec('cat', ['/proc/sys/net/mptcp/pm_type'])).trim()).toBe('1');
    await ok(mp('path-manager', 'kernel'));
    expect((await ns.exec('cat', ['/proc/sys/net/mptcp/pm_type'])).trim()).toBe('0');
  });
});

/** A child process whose stdout is collected line by line. */
class Child {
  readonly lines: string[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;
  private buf = '';
  constructor(readonly proc: ChildProcessWithoutNullStreams) {
    proc.stdout.setEncoding('utf8');
    proc.stderr.setEncoding('utf8');
    proc.stdout.on('data', (d: string) => {
      this.buf += d;
      const parts = this.buf.split('\n');
      this.buf = parts.pop() ?? '';
      this.lines.push(...parts);
    });
    proc.stderr.on('data', (d: string) => void (this.stderr += d));
    proc.stdin.on('error', () => undefined); // a peer that already finished has closed its stdin
    this.exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
  }

  async waitLine(re: RegExp, what: string, timeoutMs = 10_000): Promise<string> {
    try {
      return await waitFor(() => this.lines.find((l) => re.test(l)) ?? '', { timeoutMs, what, intervalMs: 20 });
    } catch (e) {
      // Say what the process had printed by the end of the wait, stderr included.
      throw new Error(`${(e as Error).message}; stdout: ${this.lines.join(' | ') || '(nothing)'}; stderr: ${this.stderr || '(nothing)'}`);
    }
  }

  send(text: string): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.stdin.write(`${text}\n`);
  }

  /** Signals the process (by its pid) and waits for it to exit. */
  async stop(signal: NodeJS.Signals): Promise<number | null> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) process.kill(this.proc.pid as number, signal);
    return Promise.race([this.exited, new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`pid ${this.proc.pid} did not exit after ${signal}`)), 5000))]);
  }
}

describe('monitor on real MPTCP connections', () => {
  let mns: TestNetns;
  const children: Child[] = [];
  const start = (cmd: string, args: string[]): Child => {
    const c = new Child(spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] }));
    children.push(c);
    return c;
  };
  const monitor = (...args: string[]): Child => start(process.execPath, [MAIN, '-n', mns.name, ...args]);
  const peer = (...args: string[]): Child => start('ip', ['netns', 'exec', mns.name, 'python3', PEER, ...args, '--timeout', '20']);

  /** Waits until `n` generic-netlink sockets of the namespace have joined a multicast group. */
  async function subscribed(n: number): Promise<void> {
    await waitFor(async () => {
      const table = await mns.exec('cat', ['/proc/net/netlink']);
      return table.split('\n').slice(1).filter((l) => {
        const f = l.trim().split(/\s+/);
        return f[1] === '16' && f[3] !== undefined && /[1-9a-f]/.test(f[3]);
      }).length >= n;
    }, { timeoutMs: 10_000, what: `${n} event subscribers`, intervalMs: 25 });
  }

  beforeAll(async () => {
    if (!runnable) return;
    mns = await makeNetns('climon');
    await mns.ip('addr', 'add', '192.0.2.1/32', 'dev', 'lo');
    await mns.ip('addr', 'add', '192.0.2.2/32', 'dev', 'lo');
    await mns.ip('mptcp', 'limits', 'set', 'subflows', '2', 'add_addr_accepted', '2');
    await mns.ip('mptcp', 'endpoint', 'add', '192.0.2.2', 'subflow');
  });
  afterAll(async () => {
    for (const c of children) {
      if (c.proc.exitCode === null && c.proc.signalCode === null) process.kill(c.proc.pid as number, 'SIGKILL');
    }
    await mns?.destroy();
  });

  it('prints every event as a line and as NDJSON, filters by type and token, exits 0 on SIGINT/SIGTERM', { timeout: 60_000 }, async () => {
    const text = monitor('monitor');
    const json = monitor('-j', 'monitor', '--json-format', 'native');
    const upstream = monitor('-j', 'monitor');
    const typed = monitor('monitor', '--type', 'established', '--type', 'sf_established');
    await subscribed(4);

    const server = peer('server', '--addr', '192.0.2.1', '--port', '5201', '--count', '1');
    await server.waitLine(/^READY/, 'server ready');
    const client = peer('client', '--addr', '192.0.2.1', '--port', '5201', '--hold', '--send', '100');
    await client.waitLine(/^CONNECTED/, 'client connected');

    const est = await text.waitLine(/^\[     ESTABLISHED\] .*server_side=0/, 'client ESTABLISHED line');
    await text.waitLine(/^\[     ESTABLISHED\] .*server_side=1/, 'server ESTABLISHED line');
    const token = /token=([0-9a-f]{8})/.exec(est)?.[1] as string;
    expect(token).toBeDefined();

    // A connection of the in-kernel PM refuses userspace commands.
    const us = await exec(process.execPath, [MAIN, '-n', mns.name, 'announce', '192.0.2.2', 'id', '5', 'token', token]);
    expect(us.status).toBe(2);
    expect(us.stderr).toContain('userspace PM not selected');

    const byToken = monitor('monitor', '--token', `0x${token}`);
    await subscribed(5);
    client.send('close');
    await client.waitLine(/^DONE/, 'client done');
    await server.waitLine(/^DONE/, 'server done'); // it stops by itself after its one connection
    await text.waitLine(/^\[ LISTENER_CLOSED\] /, 'LISTENER_CLOSED line');
    // The client's msk is destroyed (CLOSED) once its DATA_FIN is acknowledged: allow for a slow machine.
    const closedLine = new RegExp(`^\\[          CLOSED\\] token=${token}`);
    await text.waitLine(closedLine, 'CLOSED of the client connection', 30_000);
    await byToken.waitLine(closedLine, 'CLOSED seen by the token monitor', 5_000);
    await json.waitLine(/"type":"listenerClosed"/, 'listenerClosed object');

    expect(await text.stop('SIGINT')).toBe(0);
    expect(await json.stop('SIGINT')).toBe(0);
    await upstream.waitLine(/"event":"LISTENER_CLOSED"/, 'LISTENER_CLOSED object (upstream shape)');
    expect(await upstream.stop('SIGTERM')).toBe(0);
    expect(await typed.stop('SIGTERM')).toBe(0);
    expect(await byToken.stop('SIGINT')).toBe(0);
    for (const c of [text, json, upstream, typed, byToken]) expect(c.stderr).toBe('');

    // Text: one bracketed name and key=value pairs per line, with every kind of event seen.
    for (const line of text.lines) expect(line).toMatch(/^\[[ A-Z_0-9]{16}\]( [a-z_0-9]+=\S+)*$/);
    const names = text.lines.map((l) => l.slice(1, 17).trim());
    for (const n of ['LISTENER_CREATED', 'CREATED', 'ESTABLISHED', 'SF_ESTABLISHED', 'CLOSED', 'LISTENER_CLOSED']) expect(names).toContain(n);
    expect(text.lines).toContain('[LISTENER_CREATED] family=inet saddr4=192.0.2.1 sport=5201');
    expect(est).toMatch(new RegExp(`^\\[     ESTABLISHED\\] token=${token} family=inet remid=0 locid=0 saddr4=192\\.0\\.2\\.1 daddr4=192\\.0\\.2\\.1 sport=\\d+ dport=5201 server_side=0 deny_join_id0=0$`));
    expect(text.lines.some((l) => /^\[  SF_ESTABLISHED\] .*locid=1 saddr4=192\.0\.2\.2 daddr4=192\.0\.2\.1 .*dport=5201 backup=0/.test(l))).toBe(true);

    // NDJSON: the same events, one object per line, tokens in hex.
    const objects = json.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(objects.map((o) => o.type)).toEqual(expect.arrayContaining(['listenerCreated', 'created', 'established', 'subEstablished', 'closed', 'listenerClosed']));
    expect(objects.length).toBe(text.lines.length);
    const estObj = objects.find((o) => o.type === 'established' && o.serverSide === false);
    expect(estObj).toMatchObject({ token, family: 'inet', localAddress: '192.0.2.1', remoteAddress: '192.0.2.1', remotePort: 5201, localId: 0, remoteId: 0, denyJoinId0: false });
    expect(objects.find((o) => o.type === 'listenerCreated')).toEqual({ type: 'listenerCreated', family: 'inet', localAddress: '192.0.2.1', localPort: 5201 });

    // -j default: the objects of upstream `ip -j mptcp monitor` (iproute2 >= 6.19), one per line.
    const up = upstream.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(up.length).toBe(text.lines.length);
    expect(up.find((o) => o.event === 'ESTABLISHED' && o.server_side === undefined)).toEqual({
      event: 'ESTABLISHED', token: `0x${token.replace(/^0+/, '')}`, remid: 0, locid: 0, saddr4: '192.0.2.1', daddr4: '192.0.2.1',
      sport: estObj?.localPort, dport: 5201,
    });
    expect(up.find((o) => o.event === 'ESTABLISHED' && o.server_side === true)).toBeDefined();
    expect(up.find((o) => o.event === 'LISTENER_CREATED')).toEqual({ event: 'LISTENER_CREATED', saddr4: '192.0.2.1', sport: 5201 });

    // Filters.
    expect(typed.lines.length).toBeGreaterThan(0);
    for (const l of typed.lines) expect(l).toMatch(/^\[( {5}ESTABLISHED|  SF_ESTABLISHED)\] /);
    expect(byToken.lines.length).toBeGreaterThan(0);
    for (const l of byToken.lines) expect(l).toContain(`token=${token}`);
  });
});
