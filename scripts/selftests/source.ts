// The kernel's MPTCP selftests, host side: Debian's linux-source package fetched with `apt-get
// download`, only the MPTCP selftests (and the shared files they source) taken out of its tarball,
// and their helper programs built with cc. Everything lives in a cache; nothing is installed.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The Debian source package the selftests come from. */
export const SOURCE_PACKAGE = 'linux-source-6.12';

/** Paths inside the source tree that the two scripts need (after the tree's top directory). */
const MEMBERS = [
  'tools/testing/selftests/net/mptcp/*',
  'tools/testing/selftests/net/lib.sh',
  'tools/testing/selftests/net/net_helper.sh',
  'include/uapi/linux/mptcp.h',
  'include/uapi/linux/mptcp_pm.h',
];

/** An unpacked and built copy of the selftests. */
export interface Selftests {
  /** Debian version of the source package. */
  version: string;
  /** tools/testing/selftests/net/mptcp in the cache: the scripts and the built helpers. */
  dir: string;
  /** The helper programs built there. */
  helpers: string[];
}

function run(cmd: string, args: string[], cwd?: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 });
}

/** The version apt would download, or undefined when apt does not know the package. */
function candidate(pkg: string): string | undefined {
  try {
    return /Candidate: (\S+)/.exec(run('apt-cache', ['policy', pkg]))?.[1]?.replace(/^\(none\)$/, '') || undefined;
  } catch {
    return undefined;
  }
}

/** A cached copy, newest first by directory name. */
function cachedVersions(cacheDir: string): string[] {
  if (!existsSync(cacheDir)) return [];
  return readdirSync(cacheDir)
    .filter((d) => existsSync(join(cacheDir, d, '.ready')))
    .sort()
    .reverse();
}

/**
 * Builds every C helper of the selftests directory with cc (pm_nl_ctl, mptcp_connect, …), against
 * the source's own MPTCP uapi headers so the helpers know the attributes of the source's kernel.
 */
function buildHelpers(dir: string, include: string): string[] {
  const built: string[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.c')).sort()) {
    const name = file.slice(0, -2);
    run('cc', ['-O2', '-Wall', '-I', include, '-o', name, file], dir);
    built.push(name);
  }
  return built;
}

/**
 * The selftests of `SOURCE_PACKAGE`, from `cacheDir` when already there, else downloaded, unpacked
 * and built. A half-done copy is never taken for a finished one.
 * @throws Error when apt has no such package and nothing is cached.
 */
export function selftests(cacheDir: string): Selftests {
  const wanted = candidate(SOURCE_PACKAGE);
  const cached = cachedVersions(cacheDir);
  const version = wanted ?? cached[0];
  if (!version) throw new Error(`apt knows no ${SOURCE_PACKAGE} and none is cached in ${cacheDir} (apt-get update?)`);
  const root = join(cacheDir, version);
  const dir = join(root, 'tools/testing/selftests/net/mptcp');
  if (existsSync(join(root, '.ready'))) {
    return { version, dir, helpers: readFileSync(join(root, '.ready'), 'utf8').split('\n').filter(Boolean) };
  }

  const work = join(cacheDir, `.${version}.partial`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  run('apt-get', ['download', '-q', '-o', 'APT::Sandbox::User=root', `${SOURCE_PACKAGE}=${version}`], work);
  const deb = readdirSync(work).find((f) => f.endsWith('.deb'));
  if (!deb) throw new Error(`apt-get download ${SOURCE_PACKAGE} left no .deb in ${work}`);
  // The package holds one tarball of the whole tree: take it out, then only our members out of it.
  const tarball = `./usr/src/${SOURCE_PACKAGE}.tar.xz`;
  execFileSync('bash', ['-c', 'dpkg-deb --fsys-tarfile "$1" | tar -x "$2"', 'extract', deb, tarball], { cwd: work, stdio: 'pipe', timeout: 600_000 });
  const tree = join(work, 'tree');
  mkdirSync(tree);
  run('tar', ['-xJf', join(work, tarball), '-C', tree, '--strip-components=1', '--wildcards',
    ...MEMBERS.map((m) => `${SOURCE_PACKAGE}/${m}`)]);
  const include = join(tree, 'include-uapi');
  mkdirSync(include);
  renameSync(join(tree, 'include/uapi/linux'), join(include, 'linux'));
  rmSync(join(tree, 'include'), { recursive: true, force: true });
  const helpers = buildHelpers(join(tree, 'tools/testing/selftests/net/mptcp'), include);

  rmSync(root, { recursive: true, force: true });
  renameSync(tree, root);
  rmSync(work, { recursive: true, force: true });
  writeFileSync(join(root, '.ready'), helpers.join('\n') + '\n');
  return { version, dir, helpers };
}
