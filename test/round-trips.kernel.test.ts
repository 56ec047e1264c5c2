// Round trips counted at the kernel boundary: strace records every netlink socket a process opens
// and every request datagram it sends. Opening an MptcpPm is one socket and two requests (the
// family lookup, then nlctrl's policy dump, sent to nlctrl's fixed id 0x10); `mptcp-pm endpoint add`
// is two (the lookup and ADD_ADDR: nothing is printed, so nothing is read back).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect } from 'vitest';
import { kernelIt, makeNetns } from './helpers/netns.js';

const it = kernelIt();
const DIST = fileURLToPath(new URL('../dist/src/', import.meta.url));

interface Traffic {
  sockets: string[];
  /** nlmsg_type and the first payload byte (the generic-netlink command) of each request sent. */
  requests: { type: string; cmd: number }[];
}

/** Runs `argv` under strace and returns the netlink sockets it opened and the requests it sent. */
function trace(argv: string[]): Traffic {
  const dir = mkdtempSync(join(tmpdir(), 'mptcppm-rt-'));
  try {
    const out = join(dir, 'trace');
    execFileSync('strace', ['-f', '-qq', '-e', 'trace=socket,sendto,sendmsg,sendmmsg', '-o', out, ...argv], { timeout: 30_000 });
    const lines = readFileSync(out, 'utf8').split('\n');
    return {
      sockets: lines.filter((l) => l.includes('socket(AF_NETLINK')),
      requests: lines.filter((l) => /send(to|msg|mmsg)\(.*nlmsg_len/.test(l)).flatMap((l) =>
        [...l.matchAll(/nlmsg_type=(\S+).*?\}, "\\x([0-9a-f]{2})/g)].map((m) => ({ type: m[1], cmd: parseInt(m[2], 16) }))),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('round trips, counted by strace', () => {
  it('MptcpPm.open: one netlink socket, two requests (GETFAMILY mptcp_pm, GETPOLICY to nlctrl)', async () => {
    const ns = await makeNetns('rtopen');
    const dir = mkdtempSync(join(tmpdir(), 'mptcppm-rt-'));
    try {
      const script = join(dir, 'open.mjs');
      writeFileSync(script, `const { MptcpPm } = await import(${JSON.stringify(join(DIST, 'index.js'))});\n`
        + 'const pm = await MptcpPm.open({ netns: process.argv[2] });\nif (!pm.features.commands.addAddr) process.exit(3);\npm.close();\n');
      const t = trace(['node', script, ns.name]);
      expect(t.sockets).toHaveLength(1);
      // CTRL_CMD_GETFAMILY is 3, CTRL_CMD_GETPOLICY 10; both go to nlctrl's id 0x10.
      expect(t.requests.map((r) => r.cmd)).toEqual([3, 10]);
      expect(new Set(t.requests.map((r) => r.type)).size).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await ns.destroy();
    }
  }, 60_000);

  it('mptcp-pm endpoint add: one socket, two requests (GETFAMILY, ADD_ADDR), and the endpoint is there', async () => {
    const ns = await makeNetns('rtadd');
    try {
      const t = trace(['node', join(DIST, 'cli/main.js'), '-n', ns.name, 'endpoint', 'add', '192.0.2.1', 'id', '1', 'signal']);
      expect(t.sockets).toHaveLength(1);
      expect(t.requests).toHaveLength(2);
      expect(t.requests[0].cmd).toBe(3);
      expect(t.requests[1].cmd).toBe(1); // MPTCP_PM_CMD_ADD_ADDR
      expect(await ns.ip('mptcp', 'endpoint', 'show')).toMatch(/^192\.0\.2\.1 id 1 signal/);
    } finally {
      await ns.destroy();
    }
  }, 60_000);
});
