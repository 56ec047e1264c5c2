// The namespace the doctor tests start from: one that doctor has nothing to report on, so each test
// breaks one thing and looks for the finding (and its fix).

import { makeNetns, type TestNetns } from './netns.js';

/** Links by name and /24 network: the namespace holds .1, the gateway behind the link is .254. */
const LINKS = [['eth1', '192.0.2'], ['eth2', '198.51.100'], ['eth3', '203.0.113']] as const;

/**
 * A fresh namespace (named after `prefix`) with veth links eth1 (192.0.2.1/24) and eth2
 * (198.51.100.1/24), default routes via .254 on each (metric 100 and 200), MPTCP enabled, limits
 * subflows 2 and add_addr_accepted 2, endpoint 1 (subflow, eth1) and 2 (signal, eth2). With `eth3`,
 * also eth3 (203.0.113.1/24), whose gateway is known only from a route to 203.0.113.128/25 behind
 * it, and endpoint 3 (signal, eth3).
 */
export async function soundNamespace(prefix: string, opts: { eth3?: boolean } = {}): Promise<TestNetns> {
  const ns = await makeNetns(prefix);
  for (const [dev, net] of LINKS.slice(0, opts.eth3 ? 3 : 2)) {
    await ns.ip('link', 'add', dev, 'type', 'veth', 'peer', 'name', `p${dev}`);
    await ns.ip('addr', 'add', `${net}.1/24`, 'dev', dev);
    await ns.ip('link', 'set', dev, 'up');
    await ns.ip('link', 'set', `p${dev}`, 'up');
  }
  await ns.ip('route', 'add', 'default', 'via', '192.0.2.254', 'dev', 'eth1', 'metric', '100');
  await ns.ip('route', 'add', 'default', 'via', '198.51.100.254', 'dev', 'eth2', 'metric', '200');
  if (opts.eth3) await ns.ip('route', 'add', '203.0.113.128/25', 'via', '203.0.113.254', 'dev', 'eth3');
  await ns.exec('sysctl', ['-qw', 'net.mptcp.enabled=1']);
  await ns.ip('mptcp', 'limits', 'set', 'subflows', '2', 'add_addr_accepted', '2');
  await ns.ip('mptcp', 'endpoint', 'add', '192.0.2.1', 'id', '1', 'dev', 'eth1', 'subflow');
  await ns.ip('mptcp', 'endpoint', 'add', '198.51.100.1', 'id', '2', 'dev', 'eth2', 'signal');
  if (opts.eth3) await ns.ip('mptcp', 'endpoint', 'add', '203.0.113.1', 'id', '3', 'dev', 'eth3', 'signal');
  return ns;
}
