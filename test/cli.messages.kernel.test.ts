// What the command says when it refuses: its own words (its flags, its words for things, the kernel's
// limits), never the library's method or option names.

import { afterAll, beforeAll, describe, expect } from 'vitest';
import { cli } from './helpers/cli.js';
import { canRunKernelTests, kernelIt, makeNetns, type TestNetns } from './helpers/netns.js';

const it = kernelIt();

let ns: TestNetns;

describe('refusals in the command\'s words', () => {
  beforeAll(async () => {
    if (canRunKernelTests().ok) ns = await makeNetns('msg');
  });
  afterAll(async () => {
    await ns?.destroy();
  });

  it('an endpoint named by an address it does not have: no library method in the message', async () => {
    for (const words of [['endpoint', 'delete', '192.0.2.99'], ['endpoint', 'change', '192.0.2.99', 'backup']]) {
      const r = await cli(['-n', ns.name, ...words]);
      expect(r).toEqual({ status: 2, stdout: '', stderr: `Error: no endpoint with address 192.0.2.99 in network namespace "${ns.name}".\n` });
    }
  });

  it('userspace-pm under the in-kernel path manager names the --switch flag', async () => {
    const r = await cli(['-n', ns.name, 'userspace-pm']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`Error: namespace ${ns.name} uses the kernel path manager (net.mptcp.path_manager): run "mptcp-pm -n ${ns.name} path-manager userspace" first, or add --switch.\n`);
    expect(await ns.exec('sysctl', ['-n', 'net.mptcp.path_manager'])).toBe('kernel\n');
  });

  it('a limit that is not a number is told the kernel\'s range (0–8), and 9 is refused as above the maximum', async () => {
    const bad = await cli(['-n', ns.name, 'limits', 'set', 'subflows', 'x']);
    expect(bad.status).toBe(255);
    expect(bad.stderr.split('\n')[0]).toBe('Error: invalid subflows "x" (expected 0–8).');
    const nine = await cli(['-n', ns.name, 'limits', 'set', 'add_addr_accepted', '9']);
    expect(nine.status).toBe(2);
    expect(nine.stderr).toMatch(/8/);
  });
});
