// The endpoint reconciler as a healer for the in-kernel path manager: the kernel opens subflows for an
// endpoint when the endpoint is added — also on connections that already exist — so when the second
// link's address is removed and added back, or the link goes down and up, the reconciler's re-added
// endpoint brings the subflow back on every live connection. Measured on 10 connections.

import { describe } from 'vitest';
import { EndpointReconciler } from '../src/index.js';
import { MptcpDiag } from '../src/mptcp/diag/diag.js';
import type { MptcpConnection } from '../src/mptcp/diag/model.js';
import { kernelIt, waitFor } from './helpers/netns.js';
import { testResources, type Topology } from './helpers/topology.js';

const it = kernelIt();
const { cleanup, topology } = testResources();
const PORT = 5200;
const N = 10;

async function setup(t: Topology): Promise<MptcpDiag> {
  for (const ns of [t.client, t.server]) await ns.ip('mptcp', 'limits', 'set', 'subflows', '2', 'add_addr_accepted', '2');
  const r = await EndpointReconciler.start({ netns: t.client.name, rules: [{ interface: 'path2', flags: ['subflow'] }], ipv6: false });
  cleanup.push(() => r.stop({ cleanup: true }));
  const srv = await t.peer(t.server, ['server', '--addr', '0.0.0.0', '--port', String(PORT), '--count', '0', '--quiet'], { timeoutS: 120 });
  await srv.waitLine(/^READY/);
  await t.peer(t.client, ['client', '--addr', t.paths[0].server, '--port', String(PORT), '--hold', '--send', '10', '--count', String(N), '--quiet'], { timeoutS: 120 });
  const d = await MptcpDiag.open({ netns: t.client.name });
  cleanup.push(() => d.close());
  return d;
}

const joined = (c: MptcpConnection, local: string): boolean => c.subflows.some((s) => s.local.address === local && s.state === 'established');

async function every(d: MptcpDiag, pred: (c: MptcpConnection) => boolean, what: string): Promise<void> {
  await waitFor(async () => {
    const cs = await d.connections();
    return cs.length === N && cs.every(pred);
  }, { timeoutMs: 15_000, what });
}

describe('auto heals the in-kernel path manager\'s subflows', () => {
  it('address removed and added back, three times: its endpoint is re-added and every existing connection gets its subflow again', async () => {
    const t = await topology('rha');
    const d = await setup(t);
    const p2 = t.paths[1];
    await every(d, (c) => joined(c, p2.client), 'every connection with its second subflow');
    for (let round = 1; round <= 3; round++) {
      await t.client.ip('addr', 'del', `${p2.client}/24`, 'dev', p2.ifname);
      await every(d, (c) => !joined(c, p2.client), `round ${round}: the subflows from the removed address to go with its endpoint`);
      await t.client.ip('addr', 'add', `${p2.client}/24`, 'dev', p2.ifname);
      await every(d, (c) => joined(c, p2.client), `round ${round}: every connection with its second subflow again`);
    }
  });

  it('link down and up: the same', async () => {
    const t = await topology('rhl');
    const d = await setup(t);
    const p2 = t.paths[1];
    await every(d, (c) => joined(c, p2.client), 'every connection with its second subflow');
    await t.client.ip('link', 'set', p2.ifname, 'down');
    await every(d, (c) => !joined(c, p2.client), 'the subflows over the link that went down to go');
    await t.client.ip('link', 'set', p2.ifname, 'up');
    await every(d, (c) => joined(c, p2.client), 'every connection with its second subflow again');
  });
});
