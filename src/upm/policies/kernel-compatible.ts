// Built-in policy: what the in-kernel path manager does with the namespace's endpoint table and limits
// (subflow, signal, backup, fullmesh, laminar), plus healing: a closed subflow whose address and route
// remain is opened again (the framework spaces attempts out, 0.5 s doubling to 30 s, and gives a pair
// up after repeated failures, saying so once), and a pair is tried again when its link or address returns;
// a pair with no route is said once and tried when a route changes.

import type { Endpoint } from '../../mptcp/pm/endpoint.js';
import { pathKey } from '../bookkeeping.js';
import type { BackoffOptions } from '../bookkeeping.js';
import type { Policy, UpmActions, UpmConnection } from '../types.js';
import type { Netns } from '../../os/netns.js';
import { NamespaceView } from './namespace-view.js';
import { familyOf as familyOfText, unmapV4, type Family } from '../../os/address.js';

export interface KernelCompatibleOptions {
  /** The namespace whose endpoint table and limits are followed (the path manager's own): a name, a
   * path, or an open Netns handle (borrowed: used, never closed). */
  netns?: string | Netns;
  /** How often the endpoint table and limits are re-read (ms, default 1000); links and addresses follow rtnetlink. */
  refreshMs?: number;
}

/** The back-off this policy is meant to run with: 0.5 s doubling to 30 s, a pair given up after 8 failures
 * in a row (a subflow that closes within 0.5 s of coming up counts as one). */
export const KERNEL_COMPATIBLE_BACKOFF: Required<BackoffOptions> = { baseMs: 500, maxMs: 30_000, maxAttempts: 8, stableMs: 500 };

/** A policy that also owns sockets: `close` releases them once the path manager has stopped. */
export type ClosablePolicy = Policy & { close(): void };

interface Want {
  local: { address: string; id: number; ifindex?: number };
  remote: { address: string; port: number };
  backup: boolean;
}

const bare = unmapV4;
/** The family a connection or announced address uses on the wire: a v4-mapped address is IPv4. */
const familyOf = (a: string): Family => familyOfText(bare(a));
const has = (e: Endpoint, f: string): boolean => (e.flags as string[]).includes(f);

/**
 * The subflows the in-kernel path manager would open on `conn` (the side that connected): one from
 * each `subflow` endpoint to the peer's address, `fullmesh` endpoints also to each announced address,
 * and for each announced address within `add_addr_accepted` one from a `laminar` endpoint (or the
 * connection's own address); at most `subflows` in all.
 */
export function wantedSubflows(view: Pick<NamespaceView, 'endpoints' | 'limits'>, conn: UpmConnection): Want[] {
  const fam = familyOf(conn.remote.address);
  const local = bare(conn.local.address);
  const eps = view.endpoints.filter((e) => e.family === fam).sort((a, b) => a.id - b.id);
  const out: Want[] = [];
  const add = (ep: Endpoint | undefined, address: string, remote: { address: string; port: number }): void => {
    if (out.length >= view.limits.subflows) return;
    if (address === local && bare(remote.address) === bare(conn.remote.address)) return; // the initial subflow
    if (out.some((w) => w.local.address === address && w.remote.address === remote.address && w.remote.port === remote.port)) return;
    out.push({ local: { address, id: ep?.id ?? 0, ...(ep?.ifindex ? { ifindex: ep.ifindex } : {}) }, remote, backup: ep ? has(ep, 'backup') : false });
  };
  for (const ep of eps.filter((e) => has(e, 'subflow'))) add(ep, ep.address, conn.remote);
  const announced = conn.announced.filter((a) => familyOf(a.address) === fam).slice(0, view.limits.addAddrAccepted);
  const laminar = eps.filter((e) => has(e, 'laminar'));
  for (const [i, a] of announced.entries()) {
    const remote = { address: a.address, port: a.port ?? conn.remote.port };
    const mesh = eps.filter((e) => has(e, 'fullmesh'));
    if (mesh.length > 0) for (const ep of mesh) add(ep, ep.address, remote);
    else if (laminar.length > 0) add(laminar[i % laminar.length], laminar[i % laminar.length].address, remote);
    else add(undefined, local, remote);
  }
  return out;
}

/**
 * The in-kernel path manager's behaviour from userspace, with healing. Run it with
 * {@link KERNEL_COMPATIBLE_BACKOFF} (`mptcp-pm userspace-pm --policy kernel-compatible` does).
 * @example const policy = kernelCompatible({ netns: 'blue' });
 * const upm = await UserspacePathManager.start({ netns: 'blue', policy, backoff: KERNEL_COMPATIBLE_BACKOFF });
 */
export function kernelCompatible(o: KernelCompatibleOptions = {}): ClosablePolicy {
  let opening: Promise<NamespaceView> | undefined;
  let closed = false;
  const conns = new Map<number, { conn: UpmConnection; act: UpmActions }>();
  const key = (token: number, w: Want): string => `${token}|${pathKey(w.local.address, w.remote.address, w.remote.port)}`;
  /** Pairs whose address, link or route was not usable when last tried: they wait for it to come back. */
  const waiting = new Set<string>();
  /** Of those, the ones that had no route (said once, until they get one). */
  const noRoute = new Set<string>();

  // A link or address came back (or changed): its pairs — given up, waiting, or in back-off — are tried
  // at once. A route that changed wakes only the pairs that were waiting for one.
  const heal = async (view: NamespaceView, touched: ReadonlySet<string>): Promise<void> => {
    for (const [token, { conn, act }] of conns) {
      if (!conn.open) continue;
      for (const w of wantedSubflows(view, conn)) {
        const k = key(token, w);
        const ifindex = view.ifindexOf(w.local.address);
        if (ifindex === undefined || !view.usable(w.local.address)) continue;
        const own = touched.has(`addr:${w.local.address}`) || touched.has(`link:${ifindex}`);
        // Other changes leave a given-up pair alone.
        if (!own && !(touched.has('route') && noRoute.has(k) && await view.routable(w.local.address, w.remote.address))) continue;
        waiting.delete(k);
        noRoute.delete(k);
        await act.retrySubflow(w);
      }
    }
  };
  const view = (): Promise<NamespaceView> => {
    opening ??= NamespaceView.open(o.netns, o.refreshMs).then((v) => {
      if (closed) v.close();
      v.on('change', (touched) => void heal(v, touched).catch(() => undefined));
      return v;
    });
    return opening;
  };

  // A pair whose address is usable but has no route is said once (an `error` event naming it) and waits.
  const open = async (conn: UpmConnection, act: UpmActions, wants: Want[]): Promise<void> => {
    const v = await view();
    const unroutable: string[] = [];
    for (const w of wants) {
      const k = key(conn.token, w);
      const ok = async (): Promise<boolean> => v.usable(w.local.address) && await v.routable(w.local.address, w.remote.address);
      let go = await ok();
      // The view can lag behind an address that just went (no route from it either): read it again first.
      if (!go && v.usable(w.local.address)) go = await v.read().then(ok);
      if (go) {
        await act.createSubflow(w);
        continue;
      }
      waiting.add(k);
      if (v.usable(w.local.address) && !noRoute.has(k)) {
        noRoute.add(k);
        unroutable.push(`${w.local.address} > ${w.remote.address}:${w.remote.port}`);
      }
    }
    if (unroutable.length > 0) throw new Error(`no route for ${unroutable.join(', ')}: waiting until a route, the address or its link changes`);
  };

  return {
    name: 'kernel-compatible',
    async established(conn, act) {
      const v = await view();
      conns.set(conn.token, { conn, act });
      const fam = familyOf(conn.remote.address);
      for (const ep of v.endpoints.filter((e) => has(e, 'signal') && e.family === fam && e.address !== bare(conn.local.address) && v.usable(e.address))) {
        await act.announce({ address: ep.address, id: ep.id, ...(ep.port ? { port: ep.port } : {}) });
      }
      if (conn.serverSide === true) return;
      await open(conn, act, wantedSubflows(v, conn));
    },
    async announced(addr, conn, act) {
      if (conn.serverSide === true) return;
      const v = await view();
      await open(conn, act, wantedSubflows(v, conn).filter((w) => w.remote.address === addr.address));
    },
    async subflowClosed(sf, conn, act) {
      if (conn.serverSide === true) return;
      const v = await view();
      const w = wantedSubflows(v, conn).find((x) => x.local.address === bare(sf.local.address) && x.remote.address === bare(sf.remote.address)
        && x.remote.port === sf.remote.port);
      // Only while its address and a route remain; otherwise the pair waits for them to come back.
      if (w) await open(conn, act, [w]);
    },
    closed(conn) {
      conns.delete(conn.token);
      for (const set of [waiting, noRoute]) for (const k of set) if (k.startsWith(`${conn.token}|`)) set.delete(k);
    },
    close() {
      closed = true;
      void opening?.then((v) => v.close(), () => undefined);
    },
  };
}
