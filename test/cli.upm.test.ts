// `mptcp-pm userspace-pm` command-line parsing: policies, addresses with ids, backups, flags, refusals.

import { describe, expect, it } from 'vitest';
import { parseCommandLine } from '../src/cli/dispatch.js';
import { UsageError } from '../src/cli/usage.js';

const parse = async (line: string): Promise<unknown> => (await parseCommandLine(line.split(' '))).action;

describe('userspace-pm command line', () => {
  it('defaults to subflow-per-address on the namespace\'s addresses', async () => {
    expect(await parse('userspace-pm')).toEqual({ cmd: 'userspace-pm', policy: 'subflow-per-address', addresses: [], backup: [], switchPathManager: false });
  });

  it('takes a policy, addresses with ids, backups (several after one --backup), --switch and --rcvbuf', async () => {
    expect(await parse('-n blue userspace-pm --policy fullmesh --address 198.51.100.1 id 7 --address 2001:db8::1 --backup 198.51.100.1 203.0.113.1 --switch --rcvbuf 4096')).toEqual({
      cmd: 'userspace-pm', policy: 'fullmesh',
      addresses: [{ address: '198.51.100.1', id: 7 }, { address: '2001:db8::1' }],
      backup: ['198.51.100.1', '203.0.113.1'], switchPathManager: true, rcvbuf: 4096,
    });
    expect((await parseCommandLine(['userspace-pm', '--policy=announce-addresses', '-j'])).action).toMatchObject({ policy: 'announce-addresses' });
  });

  it('refuses an unknown policy, a bad address and a bad id, naming them', async () => {
    await expect(parse('userspace-pm --policy meshy')).rejects.toThrow(UsageError);
    await expect(parse('userspace-pm --policy meshy')).rejects.toThrow(/unknown policy "meshy" \(known: subflow-per-address, announce-addresses, fullmesh, kernel-compatible\)/);
    await expect(parse('userspace-pm --backup 300.1.1.1')).rejects.toThrow(/invalid --backup address "300.1.1.1"/);
    await expect(parse('userspace-pm --address 192.0.2.1 id 0')).rejects.toThrow(/invalid id "0"/);
  });
});
