// Choosing the path manager of a namespace through its sysctls: `net.mptcp.path_manager` (6.15+)
// or, on older kernels, `net.mptcp.pm_type` (5.19+). Read and written from inside the namespace.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { UnsupportedError, ValidationError } from '../netlink/errors.js';
import type { Netns } from '../os/netns.js';
import { show } from './validate.js';

export type PathManagerType = 'kernel' | 'userspace';

const DIR = '/proc/sys/net/mptcp';
const BY_NAME = `${DIR}/path_manager`;
const BY_NUMBER = `${DIR}/pm_type`;

function inside<T>(netns: Netns, fn: () => T): T {
  return netns.run(fn);
}

function noSysctl(): never {
  if (!existsSync(DIR)) throw new UnsupportedError('MPTCP (net.mptcp sysctls)', '5.6');
  throw new UnsupportedError('choosing the path manager (net.mptcp.pm_type)', '5.19');
}

/** The path manager new connections of `netns` get. Needs no privilege. */
export function getPathManager(netns: Netns): PathManagerType {
  return inside(netns, () => {
    if (existsSync(BY_NAME)) {
      const name = readFileSync(BY_NAME, 'utf8').trim();
      if (name === 'kernel' || name === 'userspace') return name;
      throw new ValidationError('net.mptcp.path_manager', `unexpected value ${show(name)}`);
    }
    if (existsSync(BY_NUMBER)) return readFileSync(BY_NUMBER, 'utf8').trim() === '1' ? 'userspace' : 'kernel';
    return noSysctl();
  });
}

/**
 * Sets the path manager of `netns` for connections created from now on (existing ones keep
 * theirs). Needs CAP_NET_ADMIN in the namespace (and CAP_SYS_ADMIN to enter another one).
 */
export function setPathManager(netns: Netns, type: PathManagerType): void {
  if (type !== 'kernel' && type !== 'userspace') {
    throw new ValidationError('pathManager', `must be "kernel" or "userspace", got ${show(type)}`);
  }
  inside(netns, () => {
    if (existsSync(BY_NAME)) writeFileSync(BY_NAME, type);
    else if (existsSync(BY_NUMBER)) writeFileSync(BY_NUMBER, type === 'userspace' ? '1' : '0');
    else noSysctl();
  });
}
