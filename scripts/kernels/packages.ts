// Kernel test tier, host side: Debian kernel packages fetched with `apt-get download` and unpacked
// with `dpkg-deb -x` into a cache (never installed on the host), with modules.dep made by depmod.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The kernels run when none is named: Debian 12's default kernel and its 6.12 series. */
export const DEFAULT_VERSIONS = ['6.1', '6.12'];

/** Meta-packages that depend on the newest image of a series. */
const META: Record<string, string> = {
  '6.1': 'linux-image-amd64',
  '6.12': 'linux-image-6.12-amd64',
};

/** An unpacked kernel package. */
export interface UnpackedKernel {
  /** Kernel release, as `uname -r` prints it (e.g. 6.1.0-57-amd64). */
  release: string;
  /** Directory the package was unpacked into. */
  root: string;
  vmlinuz: string;
  /** root/lib/modules/<release>, with modules.dep. */
  modules: string;
}

function run(cmd: string, args: string[], cwd?: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 });
}

let updated = false;

/** `apt-cache depends` of a meta-package → the image package it pulls in; undefined if apt has no such package. */
function imageOf(meta: string): string | undefined {
  try {
    const m = /Depends: (linux-image-\S+)/.exec(run('apt-cache', ['depends', meta]));
    return m?.[1];
  } catch {
    return undefined;
  }
}

function known(pkg: string): boolean {
  try {
    return /Candidate: (?!\(none\))/.test(run('apt-cache', ['policy', pkg]));
  } catch {
    return false;
  }
}

/**
 * The image package for `version`: a series (`6.1`, `6.12`: the newest image Debian offers for it)
 * or an exact release (`6.1.0-57-amd64`, `6.12.117+deb12-amd64`). Runs `apt-get update` once when
 * apt does not know the package yet.
 * @throws Error naming the version when Debian offers no such kernel.
 */
export function resolvePackage(version: string): string {
  const lookup = (): string | undefined => {
    const meta = META[version];
    if (meta) return imageOf(meta);
    const pkg = `linux-image-${version}`;
    return known(pkg) ? pkg : undefined;
  };
  let pkg = lookup();
  if (!pkg && !updated) {
    updated = true;
    run('apt-get', ['update', '-qq']);
    pkg = lookup();
  }
  if (!pkg) {
    throw new Error(`no Debian kernel package for "${version}" (give 6.1, 6.12 or a release such as 6.1.0-57-amd64; see apt-cache search linux-image-)`);
  }
  return pkg;
}

/**
 * Downloads and unpacks `pkg` under `cacheDir` unless already there, and runs depmod on it.
 * The .deb is removed once unpacked; a half-done unpack is never taken for a finished one.
 */
export function unpackKernel(pkg: string, cacheDir: string): UnpackedKernel {
  const release = pkg.replace(/^linux-image-/, '');
  const root = join(cacheDir, release);
  const done = join(root, '.unpacked');
  const result = (): UnpackedKernel => ({
    release,
    root,
    vmlinuz: join(root, 'boot', `vmlinuz-${release}`),
    modules: join(root, 'lib', 'modules', release),
  });
  if (existsSync(done)) return result();
  const work = join(cacheDir, `.${release}.partial`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  run('apt-get', ['download', '-q', '-o', 'APT::Sandbox::User=root', pkg], work);
  const deb = readdirSync(work).find((f) => f.endsWith('.deb'));
  if (!deb) throw new Error(`apt-get download ${pkg} left no .deb in ${work}`);
  const tree = join(work, 'tree');
  run('dpkg-deb', ['-x', join(work, deb), tree]);
  run('depmod', ['-b', tree, release]);
  rmSync(root, { recursive: true, force: true });
  renameSync(tree, root);
  rmSync(work, { recursive: true, force: true });
  writeFileSync(done, `${pkg}\n`);
  return result();
}
