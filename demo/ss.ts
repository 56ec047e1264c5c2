// The client's sockets as `ss -MtniH` shows them: parsing its output, the listing shown after the
// subflows are up, and the per-subflow byte counts read at the end of the transfer.

import type { DemoIo } from './narration.js';
import { run } from './sandbox.js';
import { NET, pathOf } from './settings.js';

/** One socket of `ss -MtniH`: its line and the info line under it. */
export interface SsSocket {
  netid: string;
  local: string;
  peer: string;
  info: string;
  flags?: string;
}

/** Sockets of `ss -MtniH` output, each with its info lines joined. */
export function parseSs(text: string): SsSocket[] {
  const out: SsSocket[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    if (/^\s/.test(line) && out.length) {
      const cur = out[out.length - 1];
      cur.info += ` ${line.trim()}`;
      cur.flags = /\bflags:(\S+)/.exec(cur.info)?.[1];
      continue;
    }
    const f = line.trim().split(/\s+/);
    if (f.length >= 6) out.push({ netid: f[0], local: f[4], peer: f[5], info: '' });
  }
  return out;
}

/** The MPTCP connection and TCP subflows of namespace `netns` to the demo's server port. */
async function serverSockets(netns: string): Promise<SsSocket[]> {
  const out = await run('ss', ['-N', netns, '-MtniH']);
  return parseSs(out).filter((x) => x.peer.endsWith(`:${NET.server.port}`));
}

/** Prints the client's MPTCP connection and its subflows, one line each. */
export async function showSubflows(io: DemoIo, netns: string): Promise<void> {
  io.say(`   $ ss -N ${netns} -Mtni   (-M: MPTCP sockets too)`);
  for (const x of await serverSockets(netns)) {
    const extraSubflows = /subflows:(\d+)/.exec(x.info)?.[1] ?? '0';
    const what = x.netid === 'mptcp' ? `the MPTCP connection (subflows:${extraSubflows} counts those beyond the first)`
      : `subflow over ${pathOf(x.local.replace(/%.*$|:\d+$/g, ''))}${x.flags ? `, flags:${x.flags}` : ''}`;
    io.say(`     ${x.netid.padEnd(5)} ${x.local.padEnd(26)} ${x.peer.padEnd(18)} ${what}`);
  }
  io.say('   (flags: M/m MP_CAPABLE, J/j MP_JOIN, b backup asked by this side, B by the peer, e fully established)');
}

/** What `ss` tells about the subflows at the end of the transfer. */
export interface SubflowBytes {
  /** `bytes_received` by local `address:port` of each TCP subflow. */
  bytes: Map<string, number>;
  /** A wi-fi subflow carried the `b` (backup) flag. */
  backupFlag: boolean;
}

/** Reads the subflows' byte counts; informational only, so a failure leaves what was read so far. */
export async function readSubflowBytes(netns: string): Promise<SubflowBytes> {
  const result: SubflowBytes = { bytes: new Map(), backupFlag: false };
  try {
    for (const x of await serverSockets(netns)) {
      if (x.netid !== 'tcp') continue;
      const m = /bytes_received:(\d+)/.exec(x.info);
      const local = x.local.replace(/%[^:]*/, '');
      result.bytes.set(local, m ? Number(m[1]) : 0);
      if (x.flags?.includes('b') && local.startsWith(`${NET.wifi.address}:`)) result.backupFlag = true;
    }
  } catch {
    // informational only
  }
  return result;
}
