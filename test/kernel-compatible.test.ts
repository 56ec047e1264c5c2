// The kernelCompatible policy's reading of the endpoint table: which subflows the in-kernel path
// manager would open for a connection (subflow, backup, fullmesh, laminar, the two limits).

import { describe, expect, it } from 'vitest';
import { wantedSubflows } from '../src/upm/policies/kernel-compatible.js';
import type { Endpoint } from '../src/mptcp/pm/endpoint.js';
import type { UpmConnection } from '../src/upm/types.js';

const ep = (id: number, address: string, flags: string[]): Endpoint =>
  ({ id, address, family: address.includes(':') ? 'inet6' : 'inet', flags, unknownFlags: 0 }) as Endpoint;
const conn = (announced: { id: number; address: string; port?: number }[] = []): UpmConnection => ({
  token: 1, local: { address: '192.0.2.1', port: 40000 }, remote: { address: '192.0.2.2', port: 80 },
  serverSide: false, open: true, subflows: [], announced,
});
const pairs = (w: ReturnType<typeof wantedSubflows>): string[] => w.map((x) => `${x.local.address}#${x.local.id}>${x.remote.address}:${x.remote.port}${x.backup ? ' backup' : ''}`);

describe('wantedSubflows', () => {
  it('one subflow per subflow endpoint of the family, backups marked, the initial address and signal-only ones left out', () => {
    const endpoints = [ep(1, '192.0.2.1', ['subflow']), ep(2, '198.51.100.1', ['subflow', 'backup']), ep(3, '203.0.113.1', ['signal']), ep(4, '2001:db8::1', ['subflow'])];
    expect(pairs(wantedSubflows({ endpoints, limits: { subflows: 8, addAddrAccepted: 0 } }, conn()))).toEqual(['198.51.100.1#2>192.0.2.2:80 backup']);
  });

  it('stops at the subflows limit, in endpoint id order', () => {
    const endpoints = [ep(5, '203.0.113.1', ['subflow']), ep(2, '198.51.100.1', ['subflow'])];
    expect(pairs(wantedSubflows({ endpoints, limits: { subflows: 1, addAddrAccepted: 0 } }, conn()))).toEqual(['198.51.100.1#2>192.0.2.2:80']);
    expect(wantedSubflows({ endpoints, limits: { subflows: 0, addAddrAccepted: 0 } }, conn())).toEqual([]);
  });

  it('announced addresses within add_addr_accepted: from fullmesh endpoints, else laminar ones, else the connection\'s own address', () => {
    const announced = [{ id: 1, address: '198.51.100.2' }, { id: 2, address: '203.0.113.2', port: 8080 }];
    expect(pairs(wantedSubflows({ endpoints: [], limits: { subflows: 8, addAddrAccepted: 1 } }, conn(announced)))).toEqual(['192.0.2.1#0>198.51.100.2:80']);
    const mesh = [ep(2, '198.51.100.1', ['subflow', 'fullmesh'])];
    expect(pairs(wantedSubflows({ endpoints: mesh, limits: { subflows: 8, addAddrAccepted: 2 } }, conn(announced)))).toEqual([
      '198.51.100.1#2>192.0.2.2:80', '198.51.100.1#2>198.51.100.2:80', '198.51.100.1#2>203.0.113.2:8080',
    ]);
    const laminar = [ep(3, '198.51.100.1', ['laminar']), ep(4, '203.0.113.1', ['laminar'])];
    expect(pairs(wantedSubflows({ endpoints: laminar, limits: { subflows: 8, addAddrAccepted: 2 } }, conn(announced)))).toEqual([
      '198.51.100.1#3>198.51.100.2:80', '203.0.113.1#4>203.0.113.2:8080',
    ]);
  });
});
