// Userspace path manager on the real kernel: the test drives a live MPTCP connection between two
// namespaces (subflow, announce, backup, remove, destroy), checks both sides' events, and the errors.

import { existsSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { describe, expect } from 'vitest';
import { MptcpPm } from '../src/mptcp/pm/pm.js';
import { MptcpEvents } from '../src/mptcp/events/events.js';
import { NetlinkError } from '../src/netlink/core/errors.js';
import { GenlSocket } from '../src/netlink/genl/socket.js';
import { withNetns } from '../src/os/netns.js';
import { kernelIt, waitFor, type TestNetns } from './helpers/netns.js';
import { expectUnsupported, kernelFeatures } from './helpers/features.js';
import { ANNOUNCED, EventLog, SUBFLOW_ID, runUserspaceScenario, testResources, type Peer, type Topology } from './helpers/topology.js';

const it = kernelIt();

const { cleanup, topology } = testResources();

async function events(netns: string): Promise<EventLog> {
  const ev = await MptcpEvents.open({ netns });
  cleanup.push(() => ev.close());
  return new EventLog(ev);
}

async function pmIn(netns: string): Promise<MptcpPm> {
  const pm = await MptcpPm.open({ netns });
  cleanup.push(() => pm.close());
  return pm;
}

/** Starts a server on path 1 port 5000 and a held client connection; resolves once both report it. */
async function connect(t: Topology, port = 5000): Promise<Peer> {
  const srv = await t.peer(t.server, ['server', '--addr', '0.0.0.0', '--port', String(port)]);
  await srv.waitLine(/^READY/);
  const cli = await t.peer(t.client, ['client', '--addr', t.paths[0].server, '--port', String(port), '--hold', '--send', '10']);
  await cli.waitLine(/^CONNECTED/);
  return cli;
}

/** Id of the mptcp_pm_events group (dynamic), read from the family description. */
async function eventsGroupId(netns: string): Promise<number> {
  const s = await GenlSocket.open('mptcp_pm', { netns });
  try {
    return s.groups.get('mptcp_pm_events') ?? -1;
  } finally {
    s.close();
  }
}

/**
 * Sockets subscribed to group `groupId` in every namespace reachable here (those of running
 * processes and those under /run/netns), from the Groups column of /proc/net/netlink.
 */
async function eventListeners(groupId: number): Promise<number> {
  if (groupId < 1 || groupId > 32) return 0; // the column shows the first 32 groups only
  const tables: string[] = [];
  const seen = new Set<string>();
  const add = (key: string, read: () => string): void => {
    if (seen.has(key)) return;
    seen.add(key);
    try {
      tables.push(read());
    } catch {
      // the process or namespace went away meanwhile
    }
  };
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let ino: string;
    try {
      ino = readlinkSync(`/proc/${pid}/ns/net`);
    } catch {
      continue;
    }
    add(ino, () => readFileSync(`/proc/${pid}/net/netlink`, 'utf8'));
  }
  for (const name of existsSync('/run/netns') ? readdirSync('/run/netns') : []) {
    let ino: string;
    try {
      ino = `net:[${statSync(`/run/netns/${name}`).ino}]`;
    } catch {
      continue;
    }
    add(ino, () => withNetns(name, () => readFileSync('/proc/thread-self/net/netlink', 'utf8')));
  }
  const sockets = new Set<string>();
  for (const table of tables) {
    for (const line of table.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || f[1] !== '16') continue;
      if ((parseInt(f[3], 16) >>> (groupId - 1)) & 1) sockets.add(f[9]);
    }
  }
  return sockets.size;
}

/** An MPTcpExt counter of /proc/net/netstat inside `ns`. */
async function mib(ns: TestNetns, name: string): Promise<number> {
  const lines = (await ns.exec('cat', ['/proc/net/netstat'])).split('\n').filter((l) => l.startsWith('MPTcpExt:'));
  const keys = lines[0]?.split(/\s+/) ?? [];
  const values = lines[1]?.split(/\s+/) ?? [];
  const i = keys.indexOf(name);
  return i < 0 ? 0 : Number(values[i]);
}

/** The MPTcpExt counters of /proc/net/netstat inside `ns` that are not 0, for failure messages. */
async function nonzero(ns: TestNetns): Promise<string> {
  const lines = (await ns.exec('cat', ['/proc/net/netstat'])).split('\n').filter((l) => l.startsWith('MPTcpExt:'));
  const keys = lines[0]?.split(/\s+/) ?? [];
  const values = lines[1]?.split(/\s+/) ?? [];
  return keys.map((k, i) => `${k}=${values[i]}`).filter((kv, i) => i > 0 && !kv.endsWith('=0')).join(' ');
}

describe('userspace path manager on the kernel', () => {
  it('sets and reads the path manager inside a namespace only (path_manager, or pm_type before 6.15)', async () => {
    const byName = (await kernelFeatures()).pathManagerSysctl === 'path_manager';
    // Kernels before 6.15 have only the numeric pm_type; 6.15+ keep it in step with path_manager.
    const host = (): string[] => ['pm_type', ...(byName ? ['path_manager'] : [])].map((n) => readFileSync(`/proc/sys/net/mptcp/${n}`, 'utf8'));
    const hostBefore = host();
    expect(existsSync('/proc/sys/net/mptcp/path_manager')).toBe(byName);
    const t = await topology('pmsel');
    const pm = await pmIn(t.client.name);
    expect(await pm.getPathManager()).toBe('kernel');
    expect(await pm.setPathManager('userspace')).toBe('userspace');
    if (byName) expect((await t.client.exec('sysctl', ['-n', 'net.mptcp.path_manager'])).trim()).toBe('userspace');
    expect((await t.client.exec('sysctl', ['-n', 'net.mptcp.pm_type'])).trim()).toBe('1');
    expect((await t.server.exec('sysctl', ['-n', 'net.mptcp.pm_type'])).trim()).toBe('0');
    if (byName) expect((await t.server.exec('sysctl', ['-n', 'net.mptcp.path_manager'])).trim()).toBe('kernel');
    expect(host()).toEqual(hostBefore);
    expect(await pm.setPathManager('kernel')).toBe('kernel');
    await expect(pm.setPathManager('bogus' as never)).rejects.toMatchObject({ name: 'ValidationError', field: 'pathManager' });
  });

  it('is the path manager of a live connection: subflow, announce, backup, remove, destroy, close', async () => {
    const t = await topology('uspm');
    const [p1, p2] = t.paths;
    const r = await runUserspaceScenario(t);
    const c = r.client.list;
    const s = r.server.list;

    // Client (userspace PM): the connection, the subflow the test opened, its destruction, the close.
    expect(c.map((e) => e.type)).toEqual(['created', 'established', 'subEstablished', 'subClosed', 'closed']);
    expect(c[1]).toMatchObject({
      token: r.clientToken, family: 'inet', localAddress: p1.client, remoteAddress: p1.server, remotePort: r.port,
      localId: 0, remoteId: 0, serverSide: false,
    });
    expect(r.subflow).toMatchObject({
      token: r.clientToken, family: 'inet', localAddress: p2.client, remoteAddress: p2.server, remotePort: r.port,
      localId: SUBFLOW_ID, backup: false,
    });
    expect(r.subflow.localPort).toBeGreaterThan(0);
    expect(c[3]).toMatchObject({ localAddress: p2.client, localPort: r.subflow.localPort, remotePort: r.port, localId: SUBFLOW_ID });

    // Server (kernel PM): sees the join, the announce, MP_PRIO, RM_ADDR, the subflow going, the close;
    // and the listener opening and closing where the kernel reports listeners (6.2+).
    const features = await kernelFeatures();
    const listener = s.filter((e) => e.type === 'listenerCreated' || e.type === 'listenerClosed');
    expect(listener.map((e) => e.type)).toEqual(features.listenerEvents ? ['listenerCreated', 'listenerClosed'] : []);
    if (features.listenerEvents) {
      expect(s[0]).toMatchObject({ type: 'listenerCreated', family: 'inet', localAddress: '0.0.0.0', localPort: r.port });
      expect(s[s.length - 1].type).toBe('listenerClosed');
    }
    const conn = s.filter((e) => e.type !== 'listenerCreated' && e.type !== 'listenerClosed');
    expect(conn.map((e) => e.type)).toEqual([
      'created', 'established', 'subEstablished', 'announced', 'subPriority', 'removed', 'subClosed', 'closed',
    ]);
    expect(conn[1]).toMatchObject({ token: r.serverToken, localAddress: p1.server, localPort: r.port, remoteAddress: p1.client, serverSide: true });
    expect(conn[2]).toMatchObject({
      token: r.serverToken, localAddress: p2.server, localPort: r.port, remoteAddress: p2.client,
      remotePort: r.subflow.localPort, remoteId: SUBFLOW_ID, localId: r.subflow.remoteId, backup: false,
    });
    expect(conn[3]).toMatchObject({ type: 'announced', token: r.serverToken, family: 'inet', remoteAddress: ANNOUNCED.address, remoteId: ANNOUNCED.id });
    // No port was announced: the kernel reports the subflow's remote port.
    expect(conn[3]).toMatchObject({ remotePort: (c[1] as { localPort?: number }).localPort });
    expect(conn[4]).toMatchObject({ type: 'subPriority', localAddress: p2.server, remoteAddress: p2.client, remotePort: r.subflow.localPort, backup: true });
    expect(conn[5]).toEqual({ type: 'removed', token: r.serverToken, remoteId: ANNOUNCED.id, at: conn[5].at });
    expect(conn[6]).toMatchObject({ remoteAddress: p2.client, remotePort: r.subflow.localPort });
    expect(conn[7]).toMatchObject({ type: 'closed', token: r.serverToken });

    // The connection's local addresses while the subflow and the announce were both live; kernels
    // before 6.9 ignore the token of GET_ADDR, so the library refuses to ask them.
    if (features.addressesByToken) {
      expect(r.addresses?.map((a) => [a.id, a.address, a.flags])).toEqual([
        [SUBFLOW_ID, p2.client, ['subflow']],
        [ANNOUNCED.id, ANNOUNCED.address, ['signal']],
      ]);
      expect(r.announcedAddress).toMatchObject({ id: ANNOUNCED.id, address: ANNOUNCED.address, family: 'inet', flags: ['signal'] });
    } else {
      expect([r.addresses, r.announcedAddress]).toEqual([undefined, undefined]);
      const pm = await pmIn(t.client.name);
      await expectUnsupported(pm.listAddresses(r.clientToken), '6.9');
      await expectUnsupported(pm.getAddress(r.clientToken, ANNOUNCED.id), '6.9');
    }
  });

  it('refuses joins on a userspace-PM connection while no events socket is open, accepts them once one is', async () => {
    const t = await topology('nolisten');
    const [, p2] = t.paths;
    const pmC = await pmIn(t.client.name);
    const pmS = await pmIn(t.server.name);
    await pmC.setPathManager('userspace');
    await pmS.setPathManager('userspace');
    const groupId = await eventsGroupId(t.client.name);
    // The kernel's "is anyone listening" check looks at the group's members in every namespace, so
    // a listener of another program anywhere on the host makes the joins pass.
    const foreign = await waitFor(async () => ((await eventListeners(groupId)) === 0 ? 'none' : undefined), {
      timeoutMs: 10_000, intervalMs: 100, what: 'no mptcp_pm_events listener on the host',
    }).catch(() => 'some');
    const cli = await connect(t);
    const token = Number((await cli.waitLine(/^CONNECTED \S+ \d+ token=(\d+)/))[1]);

    // No events socket may be open here, so nothing says when the connection is fully established
    // (the server's first data ACK): until then the kernel answers ENOTCONN, and the request is made again.
    await waitFor(async () => {
      try {
        await pmC.createSubflow({ token, local: { address: p2.client, id: 3 }, remote: { address: p2.server, port: 5000 } });
        return true;
      } catch (e) {
        if (e instanceof NetlinkError && e.code === 'ENOTCONN') return undefined;
        throw e;
      }
    }, { timeoutMs: 5000, intervalMs: 20, what: 'the connection fully established (subflow-create no longer ENOTCONN)' });
    await waitFor(async () => (await mib(t.server, 'MPJoinSynRx')) >= 1, { timeoutMs: 5000, intervalMs: 20, what: 'the MP_JOIN SYN at the server' });
    // The server answers a refused join without MP_JOIN and the client resets it (MPRstTx at the
    // client on 6.1, 6.12 and 6.18; 6.18 also counts MPJoinRejected at the server); an accepted join
    // completes (MPJoinAckRx at the server).
    const verdict = await waitFor(async () => {
      const [rejected, acked] = [await mib(t.client, 'MPRstTx'), await mib(t.server, 'MPJoinAckRx')];
      return rejected + acked > 0 ? { rejected, acked } : undefined;
    }, { timeoutMs: 5000, intervalMs: 20, what: 'the server to accept or reject the join' }).catch(async (e: unknown) => {
      throw new Error(`${(e as Error).message}; client counters ${await nonzero(t.client)}; server counters ${await nonzero(t.server)}`);
    });
    // A listener that appeared while the join was in flight (another program) also lets it pass.
    const stillNone = foreign === 'none' && (await eventListeners(groupId)) === 0;
    if (stillNone) {
      expect(verdict).toEqual({ rejected: 1, acked: 0 });
      cli.send('info');
      expect((await cli.waitLine(/^INFO token=\d+ subflows=(\d+)/))[1]).toBe('0');
    } else {
      console.warn('another mptcp_pm_events listener is open on this host: the refusal cannot be shown, only the acceptance');
    }

    // With an events socket open (here in the server namespace) the same join is accepted.
    const server = await events(t.server.name);
    await pmC.createSubflow({ token, local: { address: p2.client, id: 3 }, remote: { address: p2.server, port: 5000 } });
    const joined = await server.waitFor('server subEstablished', (e) => e.type === 'subEstablished', 5000);
    expect(joined).toMatchObject({ localAddress: p2.server, remoteAddress: p2.client, remoteId: 3 });
    cli.send('info');
    // One subflow: the second join (or, when another program listened all along, both).
    await cli.waitLine(stillNone ? /^INFO token=\d+ subflows=1$/ : /^INFO token=\d+ subflows=[12]$/);
  });

  it('keeps the kernel refusals: invalid token, userspace PM not selected, subflow not found', async () => {
    const t = await topology('uerr');
    const [p1, p2] = t.paths;
    const pmC = await pmIn(t.client.name);
    const pmS = await pmIn(t.server.name);
    await pmC.setPathManager('userspace');
    const client = await events(t.client.name);
    const server = await events(t.server.name);
    await connect(t);
    const c = await client.waitFor('client established', (e) => e.type === 'established');
    const s = await server.waitFor('server established', (e) => e.type === 'established');
    const clientToken = c.type === 'established' ? c.token : -1;
    const serverToken = s.type === 'established' ? s.token : -1;
    const unknownToken = (clientToken ^ 0x5a5a5a5a) >>> 0;

    const refusal = async (p: Promise<unknown>): Promise<NetlinkError> => {
      const e = await p.then(() => undefined, (x: unknown) => x);
      expect(e).toBeInstanceOf(NetlinkError);
      return e as NetlinkError;
    };
    const bad = await refusal(pmC.announce({ token: unknownToken, address: p2.client, id: 2 }));
    expect(bad).toMatchObject({ errno: 22, code: 'EINVAL', op: 'announce' });
    expect(bad.extack.message).toBe('invalid token');
    const { addressesByToken } = await kernelFeatures();
    if (addressesByToken) expect((await refusal(pmC.listAddresses(unknownToken))).extack.message).toBe('invalid token');
    else await expectUnsupported(pmC.listAddresses(unknownToken), '6.9');

    // The server's connection is run by the kernel PM (6.12 words it "invalid request; userspace PM not selected").
    const notSelected = ['userspace PM not selected', 'invalid request; userspace PM not selected'];
    const kernelRun = await refusal(pmS.announce({ token: serverToken, address: p2.server, id: 2 }));
    expect(notSelected).toContain(kernelRun.extack.message);
    expect(notSelected).toContain((await refusal(pmS.removeAddress({ token: serverToken, id: 1 }))).extack.message);

    const gone = await refusal(pmC.destroySubflow({ token: clientToken, local: { address: p2.client, port: 1234 }, remote: { address: p2.server, port: 5000 } }));
    // 6.1 refuses both without a text.
    expect(gone).toMatchObject({ code: 'ESRCH' });
    expect(['subflow not found', undefined]).toContain(gone.extack.message);
    const noPrio = await refusal(pmC.setSubflowBackup({ token: clientToken, local: { address: p2.client }, remote: { address: p2.server }, backup: true }));
    expect(noPrio).toMatchObject({ code: 'EINVAL' });
    expect(['subflow not found', undefined]).toContain(noPrio.extack.message);
    if (addressesByToken) expect((await refusal(pmC.getAddress(clientToken, 77))).extack.message).toBe('address not found');
    else await expectUnsupported(pmC.getAddress(clientToken, 77), '6.9');

    // Input the kernel would misread is refused before sending, naming the field.
    const v = (f: () => Promise<unknown>): Promise<unknown> => f().then(() => undefined, (x: unknown) => x);
    expect(await v(() => pmC.destroySubflow({ token: clientToken, local: { address: p1.client }, remote: { address: p1.server, port: 5000 } } as never)))
      .toMatchObject({ name: 'ValidationError', field: 'local.port' });
    expect(await v(() => pmC.destroySubflow({ token: clientToken, local: { address: p1.client, port: 1 }, remote: { address: p1.server } } as never)))
      .toMatchObject({ name: 'ValidationError', field: 'remote.port' });
    expect(await v(() => pmC.createSubflow({ token: clientToken, local: { address: p2.client, id: 4 }, remote: { address: p2.server } } as never)))
      .toMatchObject({ name: 'ValidationError', field: 'remote.port' });
    expect(await v(() => pmC.createSubflow({ token: clientToken, local: { address: p2.client }, remote: { address: p2.server, port: 5000 } } as never)))
      .toMatchObject({ name: 'ValidationError', field: 'local.id' });
    expect(await v(() => pmC.announce({ token: clientToken, address: p2.client, id: 0 }))).toMatchObject({ name: 'ValidationError', field: 'id' });
    expect(await v(() => pmC.createSubflow({ token: clientToken, local: { address: p2.client, id: 4 }, remote: { address: '2001:db8:2::2', port: 5000 } })))
      .toMatchObject({ name: 'ValidationError', field: 'remote.address' });
    expect(await v(() => pmC.announce({ token: -1, address: p2.client, id: 2 }))).toMatchObject({ name: 'ValidationError', field: 'token' });
    // None of those reached the kernel: the connection still has no subflow event.
    expect(client.list.filter((e) => e.type === 'subEstablished' || e.type === 'subClosed')).toEqual([]);
  });
});
