// OS layer: what procfs tells about this process's sockets (the fd of a netlink socket, found
// through /proc/thread-self/net/netlink and /proc/self/fd).

import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/**
 * Finds the file descriptor of this process's netlink socket bound to `portId` for `protocol`.
 * Reads /proc/thread-self/net/netlink, which lists the sockets of the calling thread's current
 * namespace, so call it while inside the namespace the socket was created in.
 */
export function findNetlinkFd(protocol: number, portId: number): number {
  const inode = netlinkInode(protocol, portId);
  const want = `socket:[${inode}]`;
  for (const name of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${name}`);
    } catch {
      continue; // closed meanwhile (e.g. the directory's own fd)
    }
    if (target === want) return Number(name);
  }
  throw new Error(`netlink socket inode ${inode} (port ${portId}) not found under /proc/self/fd`);
}

function netlinkInode(protocol: number, portId: number): string {
  const lines = readFileSync('/proc/thread-self/net/netlink', 'utf8').split('\n');
  const cols = lines[0].trim().split(/\s+/);
  const eth = cols.indexOf('Eth');
  const pid = cols.indexOf('Pid');
  const ino = cols.indexOf('Inode');
  if (eth < 0 || pid < 0 || ino < 0) throw new Error(`unexpected /proc/net/netlink header: ${lines[0]}`);
  for (const line of lines.slice(1)) {
    const f = line.trim().split(/\s+/);
    if (Number(f[eth]) === protocol && Number(f[pid]) === portId) return f[ino];
  }
  throw new Error(`netlink socket with port ${portId} not listed in /proc/thread-self/net/netlink`);
}
