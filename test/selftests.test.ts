// The kernel selftest runner's own parts: reading the scripts' TAP lines, comparing the ip run with
// the mptcp-pm run, and the `ip` shim sending `ip mptcp …` (and only that) to mptcp-pm.

import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compare, count, parseTap } from '../scripts/selftests/tap.js';

const TAP = `
001 no JOIN
      join Rx                             [ OK ]
TAP version 13
1..6
ok 1 - mptcp_join: no JOIN # time=1727ms
not ok 2 - mptcp_join: remove invalid addresses # time=2202ms
ok 3 - mptcp_join: fastclose test # SKIP time=35ms
ok 4 - mptcp_join: flaky one # IGNORE Flaky time=3ms
ok 5 - pm_netlink:           (nobackup) # time=226ms
ok 6 - mptcp_join: no JOIN # time=12ms
`;

describe('TAP results', () => {
  it('reads pass, fail, skip, and counts an ignored flaky test as failed', () => {
    expect(parseTap(TAP)).toEqual([
      { name: 'mptcp_join: no JOIN', outcome: 'pass' },
      { name: 'mptcp_join: remove invalid addresses', outcome: 'fail' },
      { name: 'mptcp_join: fastclose test', outcome: 'skip' },
      { name: 'mptcp_join: flaky one', outcome: 'fail' },
      { name: 'pm_netlink:           (nobackup)', outcome: 'pass' },
      { name: 'mptcp_join: no JOIN (2)', outcome: 'pass' },
    ]);
    expect(count(parseTap(TAP))).toEqual({ passed: 3, failed: 2, skipped: 1 });
  });

  it('holds against the command only what passed with ip and not with it (missing counts as not passing)', () => {
    const ip = parseTap('ok 1 - t: a\nok 2 - t: b\nnot ok 3 - t: c\nok 4 - t: d\nok 5 - t: e # SKIP\n');
    const cmd = parseTap('ok 1 - t: a\nnot ok 2 - t: b\nok 3 - t: c\nok 5 - t: e\n');
    expect(compare(ip, cmd)).toEqual({ regressions: ['t: b', 't: d'], failedWithIp: ['t: c'], onlyCommand: ['t: c', 't: e'] });
  });
});

describe('the ip shim', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ip-shim-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // Stand-ins that print who ran and with which words.
  for (const name of ['real-ip', 'command']) {
    writeFileSync(join(dir, name), `#!/bin/sh\necho ${name} "$@"\n`);
    chmodSync(join(dir, name), 0o755);
  }
  const shim = resolve('scripts/selftests/ip');
  const ip = (...args: string[]): string =>
    execFileSync(shim, args, { encoding: 'utf8', env: { ...process.env, REAL_IP: join(dir, 'real-ip'), MPTCP_PM_BIN: join(dir, 'command') } }).trim();

  it('sends ip mptcp (any prefix of the word), with the global options before it, to the command', () => {
    expect(ip('-n', 'ns1-abc', 'mptcp', 'endpoint', 'show', 'id', '1')).toBe('command -n ns1-abc endpoint show id 1');
    expect(ip('mptcp', 'limits')).toBe('command limits');
    expect(ip('-j', '-p', '--netns', 'x', 'mp', 'endpoint')).toBe('command -j -p --netns x endpoint');
    expect(ip('-netns', 'mptcp', 'mptcp', 'limits')).toBe('command -netns mptcp limits');
  });

  it('sends everything else, untouched, to the real ip', () => {
    expect(ip('-Version')).toBe('real-ip -Version');
    expect(ip('-n', 'ns1', 'link', 'set', 'lo', 'up')).toBe('real-ip -n ns1 link set lo up');
    expect(ip('netns', 'exec', 'ns1', 'ip', 'mptcp', 'limits')).toBe('real-ip netns exec ns1 ip mptcp limits');
    expect(ip('monitor')).toBe('real-ip monitor');
    expect(ip('-n', 'mptcp', 'link')).toBe('real-ip -n mptcp link');
  });
});
