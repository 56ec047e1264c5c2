// MptcpEvents on the real kernel over IPv6: one in-kernel-PM connection between two namespaces, its
// ADD_ADDR and its path-2 join, checked field by field on both sides, with the v6 endpoints behind it.

import { describe, expect } from 'vitest';
import { MptcpEvents, type MptcpEvent } from '../src/mptcp/events/events.js';
import { MptcpPm } from '../src/mptcp/pm/pm.js';
import { kernelIt, scaled } from './helpers/netns.js';
import { kernelFeatures } from './helpers/features.js';
import { EventLog, testResources } from './helpers/topology.js';

const it = kernelIt();
const { cleanup, topology } = testResources();

const PORT = 20480;
/** Endpoint ids: the client's `subflow` endpoint and the server's `signal` endpoint (both on path 2). */
const CLIENT_ID = 3;
const SERVER_ID = 7;
const WAIT_MS = 5000;

/** The events of a log without the arrival time. */
function events(log: EventLog): MptcpEvent[] {
  return log.list.map(({ at: _at, ...e }) => e as MptcpEvent);
}

describe('MptcpEvents on the kernel, IPv6', () => {
  it('reports an in-kernel-PM IPv6 connection with its announce and path-2 join on both sides', async () => {
    const t = await topology('v6');
    const [p1, p2] = t.paths;
    const pmC = await MptcpPm.open({ netns: t.client.name });
    cleanup.push(() => pmC.close());
    const pmS = await MptcpPm.open({ netns: t.server.name });
    cleanup.push(() => pmS.close());

    // The server sets the MP_CAPABLE C flag: the client PM then never joins towards the initial
    // address, so the only extra subflow is the one the ADD_ADDR leads to, whatever the timing.
    await t.server.exec('sysctl', ['-qw', 'net.mptcp.allow_join_initial_addr_port=0']);
    // An ADD_ADDR whose echo does not come back is sent again after add_addr_timeout (120 s by
    // default, longer than any wait here); on a loaded, emulated guest one can go missing, so 2 s.
    // The client then reports each copy it receives: repeats of the same announcement are folded below.
    await t.server.exec('sysctl', ['-qw', 'net.mptcp.add_addr_timeout=2']);
    await pmS.setLimits({ subflows: 1, addAddrAccepted: 0 });
    await pmC.setLimits({ subflows: 1, addAddrAccepted: 1 });
    expect(await pmS.getLimits()).toEqual({ subflows: 1, addAddrAccepted: 0 });
    expect(await pmC.getLimits()).toEqual({ subflows: 1, addAddrAccepted: 1 });
    const serverEndpoint = { id: SERVER_ID, address: p2.server6, family: 'inet6', flags: ['signal'], unknownFlags: 0 };
    const clientEndpoint = { id: CLIENT_ID, address: p2.client6, family: 'inet6', flags: ['subflow'], unknownFlags: 0 };
    expect(await pmS.addEndpoint({ address: p2.server6, id: SERVER_ID, flags: ['signal'] })).toEqual(serverEndpoint);
    expect(await pmC.addEndpoint({ address: p2.client6, id: CLIENT_ID, flags: ['subflow'] })).toEqual(clientEndpoint);
    expect(await pmS.listEndpoints()).toEqual([serverEndpoint]);
    expect(await pmC.listEndpoints()).toEqual([clientEndpoint]);

    const evC = await MptcpEvents.open({ netns: t.client.name });
    cleanup.push(() => evC.close());
    const evS = await MptcpEvents.open({ netns: t.server.name });
    cleanup.push(() => evS.close());
    const client = new EventLog(evC);
    const server = new EventLog(evS);

    const srv = await t.peer(t.server, ['server', '--addr', '::', '--port', String(PORT)]);
    await srv.waitLine(/^READY/, WAIT_MS);
    const cli = await t.peer(t.client, ['client', '--addr', p1.server6, '--port', String(PORT), '--hold', '--send', '10']);
    const [, localAddress, localPortText, tokenText] = await cli.waitLine(/^CONNECTED (\S+) (\d+) token=(\d+)/, WAIT_MS);
    const clientPort = Number(localPortText);
    expect(localAddress).toBe(p1.client6);

    const clientSub = await client.waitFor('client subEstablished', (e) => e.type === 'subEstablished', WAIT_MS);
    await server.waitFor('server subEstablished', (e) => e.type === 'subEstablished', WAIT_MS);
    const joinPort = clientSub.type === 'subEstablished' ? clientSub.localPort : undefined;
    expect(joinPort).toEqual(expect.any(Number));
    cli.send('info');
    expect((await cli.waitLine(/^INFO .*$/, WAIT_MS))[0]).toBe(`INFO token=${tokenText} subflows=1`);

    cli.send('close');
    await client.waitFor('client closed', (e) => e.type === 'closed', WAIT_MS);
    await server.waitFor('server closed', (e) => e.type === 'closed', WAIT_MS);
    srv.send('close');
    const { listenerEvents } = await kernelFeatures();
    if (listenerEvents) await server.waitFor('server listenerClosed', (e) => e.type === 'listenerClosed', WAIT_MS);
    expect(await cli.exited).toBe(0);
    expect(await srv.exited).toBe(0);

    const clientToken = Number(tokenText);
    const seen = new Set<string>();
    const c = events(client).filter((e) => {
      if (e.type !== 'announced') return true;
      const key = JSON.stringify(e);
      return !seen.has(key) && Boolean(seen.add(key));
    });
    const cConn = {
      token: clientToken, family: 'inet6',
      localAddress: p1.client6, localPort: clientPort, remoteAddress: p1.server6, remotePort: PORT,
      localId: 0, remoteId: 0, serverSide: false, denyJoinId0: true,
    };
    expect(c).toEqual([
      { type: 'created', ...cConn },
      { type: 'established', ...cConn },
      // No FAMILY attribute on the wire: the family comes from the address form. No port in the
      // ADD_ADDR either: the kernel reports the connection's remote port.
      { type: 'announced', token: clientToken, family: 'inet6', remoteAddress: p2.server6, remotePort: PORT, remoteId: SERVER_ID },
      {
        type: 'subEstablished', token: clientToken, family: 'inet6',
        localAddress: p2.client6, localPort: joinPort, remoteAddress: p2.server6, remotePort: PORT,
        localId: CLIENT_ID, remoteId: SERVER_ID, backup: false,
      },
      { type: 'closed', token: clientToken },
    ]);

    const s = events(server);
    const first = listenerEvents ? 1 : 0;
    const serverToken = s[first].type === 'created' ? s[first].token : undefined;
    expect(serverToken).toEqual(expect.any(Number));
    expect(serverToken).not.toBe(clientToken);
    const sConn = {
      token: serverToken, family: 'inet6',
      localAddress: p1.server6, localPort: PORT, remoteAddress: p1.client6, remotePort: clientPort,
      localId: 0, remoteId: 0, serverSide: true, denyJoinId0: false,
    };
    const listener = { family: 'inet6', localAddress: '::', localPort: PORT };
    // The listener's events where the kernel has them (6.2+).
    expect(s).toEqual([
      ...(listenerEvents ? [{ type: 'listenerCreated', ...listener }] : []),
      { type: 'created', ...sConn },
      { type: 'established', ...sConn },
      {
        type: 'subEstablished', token: serverToken, family: 'inet6',
        localAddress: p2.server6, localPort: PORT, remoteAddress: p2.client6, remotePort: joinPort,
        localId: SERVER_ID, remoteId: CLIENT_ID, backup: false,
      },
      { type: 'closed', token: serverToken },
      ...(listenerEvents ? [{ type: 'listenerClosed', ...listener }] : []),
    ]);
    expect(client.items.concat(server.items).filter((i) => i.type === 'overrun')).toEqual([]);

    // The join used the client's endpoint (no implicit endpoint was added) and nothing else changed.
    expect(await pmC.listEndpoints()).toEqual([clientEndpoint]);
    expect(await pmS.listEndpoints()).toEqual([serverEndpoint]);
  }, scaled(15_000));
});
