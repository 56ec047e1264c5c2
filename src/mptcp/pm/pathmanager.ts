// Choosing the path manager of a namespace through its sysctls: `net.mptcp.path_manager` (6.15+)
// or, on older kernels, `net.mptcp.pm_type` (5.19+). Read and written from inside the namespace.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { PmType } from '../../../generated/mptcp_pm.js';
import { UnsupportedError, ValidationError } from '../../netlink/core/errors.js';
import type { Netns } from '../../os/netns.js';
import { show } from '../input/validate.js';

/** A path manager by name (the keys of the generated PmType table). */
export type PathManagerType = PmType;

const NAMES = Object.keys(PmType) as PathManagerType[];
const DIR = '/proc/sys/net/mptcp';
const BY_NAME = { file: `${DIR}/path_manager`, sysctl: 'net.mptcp.path_manager' };
const BY_NUMBER = { file: `${DIR}/pm_type`, sysctl: 'net.mptcp.pm_type' };

/**
 * Writing a sysctl was refused (EACCES/EPERM). Says which sysctl and what privilege is missing:
 * CAP_NET_ADMIN in the user namespace that owns the network namespace (or being its root user).
 */
export class SysctlPermissionError extends Error {
  override readonly name = 'SysctlPermissionError';
  readonly sysctl: string;
  readonly code: string;
  readonly errno: number;
  constructor(sysctl: string, code: string, errno: number, where: string) {
    super(`${sysctl}: ${code}: writing it in ${where} needs CAP_NET_ADMIN in the user namespace that owns that network namespace (or to be that user namespace's root user)`);
    this.sysctl = sysctl;
    this.code = code;
    this.errno = errno;
  }
}

function noSysctl(): never {
  if (!existsSync(DIR)) throw new UnsupportedError('MPTCP (net.mptcp sysctls)', '5.6');
  throw new UnsupportedError('choosing the path manager (net.mptcp.pm_type)', '5.19');
}

/** `type` when it names a path manager, else a ValidationError naming `field`. */
export function checkPathManagerType(field: string, type: unknown): PathManagerType {
  if (typeof type !== 'string' || !Object.hasOwn(PmType, type)) {
    throw new ValidationError(field, `must be ${NAMES.map((n) => `"${n}"`).join(' or ')}, got ${show(type)}`);
  }
  return type as PathManagerType;
}

/** The path manager new connections of `netns` get. Needs no privilege in one's own namespace. */
export function getPathManager(netns: Netns): PathManagerType {
  return netns.run(() => {
    if (existsSync(BY_NAME.file)) {
      const name = readFileSync(BY_NAME.file, 'utf8').trim();
      if (Object.hasOwn(PmType, name)) return name as PathManagerType;
      throw new ValidationError(BY_NAME.sysctl, `unexpected value ${show(name)}`);
    }
    if (existsSync(BY_NUMBER.file)) {
      const value = Number(readFileSync(BY_NUMBER.file, 'utf8').trim());
      const name = NAMES.find((n) => PmType[n] === value);
      if (name !== undefined) return name;
      throw new ValidationError(BY_NUMBER.sysctl, `unexpected value ${value}`);
    }
    return noSysctl();
  });
}

/**
 * Sets the path manager of `netns` for connections created from now on (existing ones keep
 * theirs). Needs CAP_NET_ADMIN in the namespace's user namespace (and CAP_SYS_ADMIN to enter
 * another one). `label` names the namespace in errors.
 * @throws SysctlPermissionError when the write is refused; NetnsError when the namespace cannot be entered.
 */
export function setPathManager(netns: Netns, type: PathManagerType, label?: string): void {
  const where = label !== undefined ? `network namespace ${show(label)}` : 'this network namespace';
  netns.run(() => {
    const [target, text] = existsSync(BY_NAME.file) ? [BY_NAME, type]
      : existsSync(BY_NUMBER.file) ? [BY_NUMBER, String(PmType[type])]
      : noSysctl();
    try {
      writeFileSync(target.file, text);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'EACCES' || err.code === 'EPERM') {
        throw new SysctlPermissionError(target.sysctl, err.code, -(err.errno ?? 0), where);
      }
      throw e;
    }
  });
}
