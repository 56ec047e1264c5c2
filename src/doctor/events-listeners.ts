// Doctor capability: who subscribes to the `mptcp_pm_events` multicast group, in every network
// namespace of the host (the kernel's "is anyone listening" test for the userspace PM is host-wide).

import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { Netns, listNetns } from '../os/netns.js';

const NETLINK_GENERIC = 16;

/** Where subscribers of generic-netlink group `groupId` are, by namespace inode. */
export interface GroupSubscribers {
  /** Subscriber count per namespace inode. */
  byNamespace: Map<number, number>;
  /** Groups above 31 are not shown by /proc/net/netlink: the answer is then unknown. */
  known: boolean;
}

/** Counts sockets joined to `groupId` in /proc/PID/net/netlink of every namespace found. */
export function findSubscribers(groupId: number): GroupSubscribers {
  const byNamespace = new Map<number, number>();
  if (groupId < 1 || groupId > 32) return { byNamespace, known: false };
  const bit = 1 << (groupId - 1);
  const seen = new Set<number>();
  const count = (ino: number, text: string): void => {
    if (seen.has(ino)) return;
    seen.add(ino);
    let n = 0;
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 3 && Number(f[1]) === NETLINK_GENERIC && (parseInt(f[3], 16) & bit) !== 0) n++;
    }
    if (n > 0) byNamespace.set(ino, n);
  };
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const ino = Number(/\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/ns/net`))?.[1]);
      if (!seen.has(ino)) count(ino, readFileSync(`/proc/${pid}/net/netlink`, 'utf8'));
    } catch {
      // the process exited meanwhile, or is not ours to read
    }
  }
  for (const name of listNetns()) {
    try {
      const ns = Netns.open(name);
      try {
        if (!seen.has(ns.id)) count(ns.id, ns.run(() => readFileSync('/proc/thread-self/net/netlink', 'utf8')));
      } finally {
        ns.close();
      }
    } catch {
      // removed meanwhile
    }
  }
  return { byNamespace, known: true };
}
