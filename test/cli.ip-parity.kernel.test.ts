// mptcp-pm as a drop-in for `ip mptcp`: the same exit status (and the same first stderr line for
// kernel refusals) on a table of command lines run in twin namespaces, and -batch like `ip -batch`.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { exec, MAIN, type Result } from './helpers/cli.js';
import { canRunKernelTests, kernelIt, makeNetns, type TestNetns } from './helpers/netns.js';

const it = kernelIt();

/**
 * Command lines (the words after `ip mptcp`), in order: each runs in both namespaces, which start
 * alike and so stay alike. Valid lines, usage errors, bad addresses and kernel refusals.
 */
const LINES: string[] = [
  'limits show', 'limits', 'l s', 'limits set', 'limits set subflows 3', 'limits set add 2',
  'limits set subflows 0x2 add_addr_accepted 1', 'limits set subflows 9', 'limits set bogus 1',
  'limits set subflows', 'limits set subflows abc', 'limits set subflows -1', 'limits show extra', 'limits foo',
  'endpoint add', 'endpoint add 192.0.2.1 id 0', 'endpoint add 192.0.2.1 id 0', 'endpoint show', 'endpoint',
  'endpoint add 198.51.100.1 id 0x10 signal', 'endpoint add 198.51.100.1 id 16 signal',
  'endpoint add 203.0.113.1 id 5 subflow backup', 'endpoint add 203.0.113.1 id 6 subflow',
  'endpoint add 192.0.2.9 id 7 signal fullmesh', 'endpoint add 192.0.2.9 port 80',
  'endpoint add 192.0.2.9 port 70000 signal', 'endpoint add 192.0.2.9 id 300', 'endpoint add 192.0.2.9 bogus',
  'endpoint add 300.1.1.1', 'endpoint add 192.0.2.9 id 3 implicit', 'endpoint add 192.0.2.9 dev nosuchdev0',
  'endpoint add 192.0.2.9 dev', 'endpoint add 192.0.2.2 nobackup', 'endpoint add 192.0.2.50 port 80 signal subflow',
  'endpoint show id 16', 'endpoint show id 77', 'endpoint show id 0', 'endpoint show 192.0.2.1', 'endpoint show id',
  'endpoint show bogus', 'endpoint change id 5 nobackup', 'endpoint change id 5 backup fullmesh',
  'endpoint change 203.0.113.1 nofullmesh', 'endpoint change id 77 backup', 'endpoint change id 0 backup',
  'endpoint change id 5 signal', 'endpoint change id 16 port 4 backup', 'endpoint change id 5',
  'endpoint delete', 'endpoint delete id 77', 'endpoint del id 0', 'endpoint delete id 0 192.0.2.1',
  'endpoint delete id 16 192.0.2.1', 'endpoint delete id 5 port 80', 'endpoint delete bogus', 'endpoint delete id 16',
  'endpoint bogus', 'endpoint help', 'endpoint flush extra', 'endpoint show', 'endpoint flush', 'bogus', 'help',
  'monitor bogus', '',
];

/** Refused by the library before sending (exit 2, as the kernel's refusal under ip), in its own words. */
const LIBRARY_REFUSALS = ['limits set subflows 9', 'endpoint add 192.0.2.50 port 80 signal subflow', 'endpoint change id 0 backup'];

/** The command lines of the last column of docs/cli.md's global options table; `(status)`: compare the status only. */
function globalOptionLines(): Array<{ line: string; statusOnly: boolean }> {
  const doc = readFileSync(fileURLToPath(new URL('../docs/cli.md', import.meta.url)), 'utf8');
  const table = doc.slice(doc.indexOf('## Global options'), doc.indexOf('\n## ', doc.indexOf('## Global options') + 1));
  const out: Array<{ line: string; statusOnly: boolean }> = [];
  for (const row of table.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| option'))) {
    const cell = row.split(' | ').pop()?.replace(/ \|$/, '') ?? '';
    if (!cell.startsWith('`')) continue;
    for (const m of cell.matchAll(/`([^`]+)`( \(status\))?/g)) out.push({ line: m[1], statusOnly: m[2] !== undefined });
  }
  return out;
}

let mine: TestNetns;
let theirs: TestNetns;
const runnable = canRunKernelTests().ok;

async function twin(tag: string): Promise<TestNetns> {
  const ns = await makeNetns(tag);
  for (const a of ['192.0.2.1/24', '198.51.100.1/24', '203.0.113.1/24']) await ns.ip('addr', 'add', a, 'dev', 'lo');
  return ns;
}

describe('exit statuses: the same as ip mptcp for the same command line', () => {
  beforeAll(async () => {
    if (!runnable) return;
    [mine, theirs] = await Promise.all([twin('parity-a'), twin('parity-b')]);
  });
  afterAll(async () => {
    await Promise.all([mine?.destroy(), theirs?.destroy()]);
  });

  it('every line of the table: status, stdout, and the first stderr line of a kernel refusal', { timeout: 120_000 }, async () => {
    const table: string[] = [];
    const mismatches: string[] = [];
    for (const line of LINES) {
      const words = line === '' ? [] : line.split(' ');
      const [a, b] = await Promise.all([
        exec(process.execPath, [MAIN, '-n', mine.name, ...words]),
        exec('ip', ['-n', theirs.name, 'mptcp', ...words]),
      ]);
      table.push(`${String(b.status).padStart(3)} ${String(a.status).padStart(3)}  ${line}`);
      if (a.status !== b.status) mismatches.push(`"${line}": mptcp-pm ${a.status}, ip ${b.status} (${b.stderr.trim()})`);
      if (b.status === 0 && a.stdout !== b.stdout) mismatches.push(`"${line}": stdout ${JSON.stringify(a.stdout)} vs ${JSON.stringify(b.stdout)}`);
      const first = (r: Result): string => r.stderr.split('\n')[0];
      if (b.status === 2 && !LIBRARY_REFUSALS.includes(line) && first(a) !== first(b)) {
        mismatches.push(`"${line}": stderr ${JSON.stringify(a.stderr)} vs ${JSON.stringify(b.stderr)}`);
      }
      if (b.status === 2) expect(first(a)).toMatch(/^Error: /);
    }
    process.stdout.write(`ip  mptcp-pm  command line\n${table.join('\n')}\n`);
    expect(mismatches).toEqual([]);
    // Both namespaces ended in the same state.
    const [x, y] = await Promise.all([mine.ip('mptcp', 'endpoint', 'show'), theirs.ip('mptcp', 'endpoint', 'show')]);
    expect(x).toBe(y);
  });

  it('every line of docs/cli.md\'s global options table: the status of ip, and its output when it succeeds', { timeout: 120_000 }, async () => {
    for (const ns of [mine, theirs]) {
      await ns.ip('mptcp', 'endpoint', 'flush');
      await ns.ip('mptcp', 'endpoint', 'add', '192.0.2.1', 'id', '1', 'subflow', 'dev', 'lo');
      await ns.ip('mptcp', 'endpoint', 'add', '2001:db8::1', 'id', '2', 'signal', 'backup');
      await ns.ip('mptcp', 'limits', 'set', 'subflows', '2', 'add_addr_accepted', '1');
    }
    const lines = globalOptionLines();
    expect(lines.length).toBeGreaterThan(30);
    const mismatches: string[] = [];
    for (const { line, statusOnly } of lines) {
      const words = line.split(' ');
      const first = words.findIndex((w, i) => !w.startsWith('-') && !['-n', '-f', '-family', '-l', '-rc', '-rcvbuf'].includes(words[i - 1]));
      const options = first < 0 ? words : words.slice(0, first);
      const command = words.slice(options.length);
      const withNs = (ns: string): string[] => (options.includes('NS') ? options.map((w) => (w === 'NS' ? ns : w)) : ['-n', ns, ...options]);
      const [a, b] = await Promise.all([
        exec(process.execPath, [MAIN, ...withNs(mine.name), ...command]),
        exec('ip', [...withNs(theirs.name), 'mptcp', ...command]),
      ]);
      if (a.status !== b.status) mismatches.push(`"${line}": mptcp-pm ${a.status} (${a.stderr.trim()}), ip ${b.status} (${b.stderr.trim()})`);
      else if (b.status === 0 && !statusOnly && a.stdout !== b.stdout) mismatches.push(`"${line}": stdout ${JSON.stringify(a.stdout)} vs ${JSON.stringify(b.stdout)}`);
      else if (b.status === 0 && !statusOnly && b.stdout === '') mismatches.push(`"${line}": no output to compare`);
    }
    expect(mismatches).toEqual([]);
  });

  it('-batch FILE and -force: the same output, failure lines and status as ip -batch', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mptcppm-batch-'));
    try {
      const files: Record<string, string> = {
        refused: '# set up\nmptcp limits set subflows 3\n\nmptcp endpoint add 192.0.2.1 id 5 signal\n' +
          'mptcp endpoint show\nmptcp endpoint delete id 77\nmptcp limits show\nmptcp "endpoint" flush\n',
        usage: 'mptcp limits show\nmptcp limits set bogus 1\nmptcp limits show\n',
        address: 'mptcp endpoint add bogus\nmptcp limits show\n',
        object: 'limits show\nmptcp limits show\n',
        ok: 'mptcp endpoint flush\nmptcp endpoint add 192.0.2.1 id 3 subflow\nmptcp limits show\nmptcp endpoint show\nmptcp endpoint flush\n',
      };
      for (const [name, text] of Object.entries(files)) {
        const file = join(dir, name);
        writeFileSync(file, text);
        for (const force of [[], ['-force']]) {
          const [a, b] = await Promise.all([
            exec(process.execPath, [MAIN, '-n', mine.name, ...force, '-batch', file]),
            exec('ip', ['-n', theirs.name, ...force, '-batch', file]),
          ]);
          expect({ name, force, status: a.status, stdout: a.stdout }).toEqual({ name, force, status: b.status, stdout: b.stdout });
          const failed = (r: Result): string[] => r.stderr.split('\n').filter((l) => l.startsWith('Command failed'));
          expect(failed(a)).toEqual(failed(b));
        }
      }
      const missing = await exec(process.execPath, [MAIN, '-batch', join(dir, 'nope')]);
      expect(missing.status).toBe((await exec('ip', ['-batch', join(dir, 'nope')])).status);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
