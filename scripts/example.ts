// A short tour of the in-kernel path manager API in a scratch network namespace: endpoints and
// limits are set through mptcp-pm, printed, cross-read with `ip mptcp`, and the namespace removed.
// Run as root: npm run example

import { execFileSync } from 'node:child_process';
import { MptcpPm, NetlinkError } from '../src/index.js';

const ns = `mptcppm-example-${process.pid}`;

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8' });
}

async function main(): Promise<void> {
  ip('netns', 'add', ns);
  try {
    ip('-n', ns, 'link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'eth1-peer');
    ip('-n', ns, 'link', 'set', 'eth1', 'up');
    ip('-n', ns, 'addr', 'add', '192.0.2.10/24', 'dev', 'eth1');

    const pm = await MptcpPm.open({ netns: ns });
    try {
      console.log(`namespace ${ns}: limits at start`, await pm.getLimits());
      await pm.setLimits({ subflows: 4, addAddrAccepted: 4 });
      console.log('set limits  ', await pm.getLimits());
      console.log('add         ', await pm.addEndpoint({ address: '192.0.2.10', ifname: 'eth1', flags: ['subflow'] }));
      console.log('add         ', await pm.addEndpoint({ address: '198.51.100.10', id: 7, flags: ['subflow', 'backup'] }));
      console.log('add         ', await pm.addEndpoint({ address: '192.0.2.10', port: 8080, flags: ['signal'] }));
      console.log('set flags   ', await pm.setEndpointFlags(7, { fullmesh: true }));
      try {
        await pm.addEndpoint({ address: '198.51.100.10', flags: ['subflow'] });
      } catch (e) {
        if (!(e instanceof NetlinkError)) throw e;
        console.log('kernel says ', e.message);
      }
      console.log('endpoints   ', await pm.listEndpoints());
      console.log('\n$ ip mptcp endpoint show\n' + ip('-n', ns, 'mptcp', 'endpoint', 'show'));
      await pm.deleteEndpoint({ address: '198.51.100.10' });
      await pm.flushEndpoints();
      console.log('after flush ', await pm.listEndpoints(), await pm.getLimits());
    } finally {
      pm.close();
    }
  } finally {
    ip('netns', 'del', ns);
    console.log(`namespace ${ns} removed`);
  }
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exitCode = 1;
});
