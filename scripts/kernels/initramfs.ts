// Kernel test tier, host side: the guest's initramfs, a newc cpio archive written here (the host has
// no cpio): busybox, init.sh as /init, the guest settings, and the modules the guest needs, in order.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Modules the guest loads when the kernel has them as modules: the virtio PCI transport and 9p for
 * the shared file systems, veth for the test topologies, and sock_diag for `ss` and the diag tests
 * (the guest cannot load modules on demand: its modprobe would look for the host's kernel).
 */
export const GUEST_MODULES = ['virtio_pci', '9pnet_virtio', '9p', 'veth', 'inet_diag', 'tcp_diag', 'udp_diag', 'mptcp_diag'];

/** Where busybox-static puts its binary. */
export const BUSYBOX = '/bin/busybox';

interface Entry {
  name: string;
  mode: number;
  data?: Buffer;
  rdev?: [number, number];
}

/** Module name as the kernel spells it (dashes and underscores are the same). */
function modName(path: string): string {
  return path.replace(/^.*\//, '').replace(/\.ko(\.xz|\.zst|\.gz)?$/, '').replace(/-/g, '_');
}

/**
 * The module files (relative to `modulesDir`) to load for `wanted`, dependencies first, from the
 * modules.dep that depmod wrote. A wanted module built into the kernel (or absent) is left out.
 */
export function moduleLoadOrder(modulesDir: string, wanted: readonly string[]): string[] {
  const deps = new Map<string, { file: string; deps: string[] }>();
  for (const line of readFileSync(join(modulesDir, 'modules.dep'), 'utf8').split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const file = line.slice(0, colon);
    deps.set(modName(file), { file, deps: line.slice(colon + 1).trim().split(/\s+/).filter(Boolean) });
  }
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string, depth: number): void => {
    const m = deps.get(name);
    if (!m || seen.has(name) || depth > 64) return;
    seen.add(name);
    for (const d of m.deps) visit(modName(d), depth + 1);
    order.push(m.file);
  };
  for (const w of wanted) visit(w.replace(/-/g, '_'), 0);
  return order;
}

/** A module file's bytes, decompressed (busybox insmod takes plain .ko files). */
function moduleBytes(path: string): Buffer {
  if (path.endsWith('.ko')) return readFileSync(path);
  const tool = path.endsWith('.xz') ? 'xz' : path.endsWith('.zst') ? 'zstd' : 'gzip';
  return execFileSync(tool, ['-dc', path], { maxBuffer: 256 * 1024 * 1024 });
}

/** One newc header + name + data, each padded to 4 bytes. */
function cpioEntry(e: Entry, ino: number): Buffer {
  const data = e.data ?? Buffer.alloc(0);
  const name = Buffer.from(`${e.name}\0`);
  const hex = (n: number): string => n.toString(16).padStart(8, '0');
  const header = '070701' + [
    ino, e.mode, 0, 0, 1, 0, data.length, 0, 0, e.rdev?.[0] ?? 0, e.rdev?.[1] ?? 0, name.length, 0,
  ].map(hex).join('');
  const pad = (n: number): Buffer => Buffer.alloc((4 - (n % 4)) % 4);
  const head = Buffer.concat([Buffer.from(header, 'ascii'), name]);
  return Buffer.concat([head, pad(head.length), data, pad(data.length)]);
}

/** Options of {@link buildInitramfs}. */
export interface InitramfsOptions {
  /** lib/modules/<release> of the unpacked kernel. */
  modulesDir: string;
  /** The guest's /init script. */
  init: string;
  /** Written to /etc/guest.env (sourced by init). */
  env: Record<string, string>;
}

/** The initramfs as one uncompressed newc cpio archive. */
export function buildInitramfs(opts: InitramfsOptions): Buffer {
  const DIR = 0o040755;
  const FILE = 0o100644;
  const EXEC = 0o100755;
  const files = moduleLoadOrder(opts.modulesDir, GUEST_MODULES);
  const env = Object.entries(opts.env).map(([k, v]) => `${k}='${v.replace(/'/g, `'\\''`)}'\n`).join('');
  const entries: Entry[] = [
    { name: 'bin', mode: DIR },
    { name: 'dev', mode: DIR },
    { name: 'dev/console', mode: 0o020600, rdev: [5, 1] },
    { name: 'etc', mode: DIR },
    { name: 'modules', mode: DIR },
    { name: 'bin/busybox', mode: EXEC, data: readFileSync(BUSYBOX) },
    { name: 'bin/sh', mode: 0o120777, data: Buffer.from('busybox') },
    { name: 'init', mode: EXEC, data: readFileSync(opts.init) },
    { name: 'etc/guest.env', mode: FILE, data: Buffer.from(env) },
    { name: 'modules/order', mode: FILE, data: Buffer.from(files.map((f) => `${modName(f)}.ko\n`).join('')) },
    ...files.map((f) => ({ name: `modules/${modName(f)}.ko`, mode: FILE, data: moduleBytes(join(opts.modulesDir, f)) })),
    { name: 'TRAILER!!!', mode: 0 },
  ];
  return Buffer.concat(entries.map((e, i) => cpioEntry(e, i + 1)));
}
