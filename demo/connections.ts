// The client's MPTCP connection and its subflows, read with the library's MptcpDiag (sock_diag, as
// `ss -Mtni` does): the listing shown after the subflows are up, and the per-subflow byte counts at the end.

import { MptcpDiag, subflowFlagLetters, type MptcpConnection } from '../src/index.js';
import type { DemoIo } from './narration.js';
import { NET, pathOf } from './settings.js';

/** The MPTCP connections of namespace `netns` to the demo's server port, with their subflows. */
async function serverConnections(netns: string): Promise<MptcpConnection[]> {
  const diag = await MptcpDiag.open({ netns });
  try {
    return (await diag.connections()).filter((c) => c.remote.port === NET.server.port);
  } finally {
    diag.close();
  }
}

const endpoint = (a: { address: string; port: number }, dev?: string): string => `${a.address}${dev ? `%${dev}` : ''}:${a.port}`;

/** Prints the client's MPTCP connection and its subflows, one line each. */
export async function showSubflows(io: DemoIo, netns: string): Promise<void> {
  io.say(`   MptcpDiag.connections() in ${netns}   (what ss -Mtni shows, subflows joined by token)`);
  for (const c of await serverConnections(netns)) {
    io.say(`     mptcp ${endpoint(c.local).padEnd(26)} ${endpoint(c.remote).padEnd(18)} the MPTCP connection, token ${c.token.toString(16)} (subflows:${c.info.subflows} counts those beyond the first)`);
    for (const s of c.subflows) {
      const flags = subflowFlagLetters(s.flags);
      io.say(`     tcp   ${endpoint(s.local, s.ifindex ? s.ifname : undefined).padEnd(26)} ${endpoint(s.remote).padEnd(18)} subflow over ${pathOf(s.local.address)}${flags ? `, flags:${flags}` : ''}`);
    }
  }
  io.say('   (flags: M/m MP_CAPABLE, J/j MP_JOIN, b backup asked by this side, B by the peer, e fully established)');
}

/** What sock_diag tells about the subflows at the end of the transfer. */
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
    for (const c of await serverConnections(netns)) {
      for (const s of c.subflows) {
        const local = `${s.local.address}:${s.local.port}`;
        result.bytes.set(local, Number(s.tcp.bytesReceived ?? 0n));
        if (s.backup.local && s.local.address === NET.wifi.address) result.backupFlag = true;
      }
    }
  } catch {
    // informational only
  }
  return result;
}
