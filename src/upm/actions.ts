// Userspace path-manager framework: the actions a hook takes on its connection — userspace-PM commands
// with the connection's ids, serialised per connection, deduplicated per path, retried with back-off.

import type { SubflowBackupSpec, SubflowCreateSpec, SubflowDestroySpec, AnnounceSpec, RemoveSpec } from '../mptcp/pm/userspace.js';
import { NetlinkError, ValidationError } from '../netlink/core/errors.js';
import { pathKey, type Backoff, type KeyedSerial } from './bookkeeping.js';
import type { ConnState } from './connection.js';
import type { CreateOutcome, UpmAction, UpmActions, UpmError, UpmStats } from './types.js';

/** The userspace-PM commands the framework sends (MptcpPm has them). */
export interface PmLike {
  createSubflow(spec: SubflowCreateSpec): Promise<void>;
  destroySubflow(spec: SubflowDestroySpec): Promise<void>;
  announce(spec: AnnounceSpec): Promise<void>;
  removeAddress(spec: RemoveSpec): Promise<void>;
  setSubflowBackup(spec: SubflowBackupSpec): Promise<void>;
}

export interface ActionContext {
  pm: PmLike;
  serial: KeyedSerial<number>;
  backoff: Backoff;
  stats: UpmStats;
  stopped(): boolean;
  locals(): readonly string[];
  emit(kind: 'error' | 'action', x: UpmError | UpmAction): void;
}

type CreateSpec = Parameters<UpmActions['createSubflow']>[0];

/** The kernel will never accept this on this connection: retrying cannot help. */
function permanent(e: unknown): boolean {
  if (e instanceof ValidationError) return true;
  return e instanceof NetlinkError && /userspace PM not selected|invalid token|did not match address and id/.test(e.message);
}

export function createActions(st: ConnState, ctx: ActionContext): UpmActions {
  const { pm, serial, backoff, stats } = ctx;
  // Retries waiting for their time, by path: made on the first retry (most connections never need one).
  let scheduled: Map<string, ReturnType<typeof setTimeout>> | undefined;
  const serialised = <T>(fn: () => Promise<T>): Promise<T> => serial.run(st.token, fn);

  const schedule = (spec: CreateSpec, path: string, delay: number): CreateOutcome => {
    if (scheduled?.has(path) === true) return 'scheduled';
    const t = setTimeout(() => {
      st.timers.delete(t);
      scheduled?.delete(path);
      if (!st.open || ctx.stopped()) return;
      ctx.emit('action', { action: 'retry', token: st.token, detail: `${path} after ${backoff.failures(`${st.token}|${path}`)} failure(s)` });
      create(spec).catch((error: Error) => ctx.emit('error', { error, token: st.token, hook: 'createSubflow' }));
    }, delay);
    (scheduled ??= new Map()).set(path, t);
    st.timers.add(t);
    return 'scheduled';
  };

  const attempt = async (spec: CreateSpec, port: number, path: string, bkey: string): Promise<CreateOutcome> => {
    if (!st.open || st.foreign || ctx.stopped()) return 'gave-up';
    if (st.hasPath(spec.local.address, spec.remote.address, port)) return 'exists';
    const id = st.ids.idFor(spec.local.address, spec.local.id);
    const local = { address: spec.local.address, id, ...(spec.local.ifindex === undefined ? {} : { ifindex: spec.local.ifindex }) };
    const again = st.tried.has(path);
    st.tried.add(path);
    st.pending.set(path, performance.now());
    try {
      await pm.createSubflow({ token: st.token, local, remote: { address: spec.remote.address, port }, ...(spec.backup ? { backup: true } : {}) });
    } catch (e) {
      st.pending.delete(path);
      if (!st.open || ctx.stopped()) return 'gave-up';
      stats.failures++;
      const error = e instanceof Error ? e : new Error(String(e));
      if (permanent(e)) {
        if (/userspace PM not selected/.test(error.message)) st.foreign = true;
        ctx.emit('error', { error, token: st.token, hook: 'createSubflow' });
        return 'gave-up';
      }
      backoff.fail(bkey);
      if (backoff.exhausted(bkey)) {
        ctx.emit('error', { error: new Error(`giving up ${path} after ${backoff.failures(bkey)} failures in a row: ${error.message}`), token: st.token, hook: 'createSubflow' });
        return 'gave-up';
      }
      return schedule(spec, path, backoff.wait(bkey));
    }
    if (again) stats.subflowsReopened++;
    else stats.subflowsOpened++;
    ctx.emit('action', { action: 'createSubflow', token: st.token, detail: `${spec.local.address} id ${id} > ${spec.remote.address}:${port}${spec.backup ? ' backup' : ''}${again ? ' (re-open)' : ''}` });
    return 'created';
  };

  const create = async (spec: CreateSpec): Promise<CreateOutcome> => {
    const port = spec.remote.port ?? st.remote.port;
    const path = pathKey(spec.local.address, spec.remote.address, port);
    const bkey = `${st.token}|${path}`;
    if (!st.open || st.foreign || ctx.stopped()) return 'gave-up';
    if (scheduled?.has(path) === true) return 'scheduled';
    if (st.hasPath(spec.local.address, spec.remote.address, port)) return 'exists';
    if (backoff.exhausted(bkey)) return 'gave-up';
    const wait = backoff.wait(bkey);
    if (wait > 0) return schedule(spec, path, wait);
    return serialised(() => attempt(spec, port, path, bkey));
  };

  const ends = (sf: Parameters<UpmActions['destroySubflow']>[0]) => ({
    local: { address: sf.local.address, port: sf.local.port },
    remote: { address: sf.remote.address, port: sf.remote.port },
  });

  return {
    createSubflow: create,
    retrySubflow: (spec) => {
      const path = pathKey(spec.local.address, spec.remote.address, spec.remote.port ?? st.remote.port);
      const waiting = scheduled?.get(path);
      if (waiting !== undefined) {
        clearTimeout(waiting);
        st.timers.delete(waiting);
        scheduled?.delete(path);
      }
      backoff.succeed(`${st.token}|${path}`);
      return create(spec);
    },
    destroySubflow: (sf) => serialised(async () => {
      await pm.destroySubflow({ token: st.token, ...ends(sf) });
      ctx.emit('action', { action: 'destroySubflow', token: st.token, detail: `${sf.local.address}:${sf.local.port} > ${sf.remote.address}:${sf.remote.port}` });
    }),
    announce: (spec) => serialised(async () => {
      const id = st.ids.idFor(spec.address, spec.id);
      await pm.announce({ token: st.token, address: spec.address, id, ...(spec.port === undefined ? {} : { port: spec.port }) });
      stats.announcements++;
      ctx.emit('action', { action: 'announce', token: st.token, detail: `${spec.address} id ${id}${spec.port ? ` port ${spec.port}` : ''}` });
    }),
    removeAddress: (id) => serialised(async () => {
      await pm.removeAddress({ token: st.token, id });
      ctx.emit('action', { action: 'removeAddress', token: st.token, detail: `id ${id}` });
    }),
    setBackup: (sf, backup) => serialised(async () => {
      await pm.setSubflowBackup({ token: st.token, ...ends(sf), backup });
      st.setBackup(ends(sf), backup);
      ctx.emit('action', { action: 'setBackup', token: st.token, detail: `${sf.local.address} > ${sf.remote.address} ${backup ? 'backup' : 'nobackup'}` });
    }),
    idFor: (address) => st.ids.idFor(address),
    localAddresses: () => ctx.locals(),
  };
}
