// Decoding bytes captured from a real kernel: the attribute payloads (after the genl header) of
// replies and events as Linux 6.18.44 sent them on 2026-11-25, in a scratch namespace set up with
//   ip link add eth1 type veth peer name eth1p            (eth1 got ifindex 3)
//   ip addr add 192.0.2.1/24 dev eth1; ip addr add 2001:db8::5/64 dev eth1 nodad
//   ip mptcp endpoint add 192.0.2.1 id 3 subflow backup dev eth1
//   ip mptcp endpoint add 2001:db8::5 port 8080 id 7 signal
//   ip mptcp limits set subflows 3 add_addr_accepted 2
// then one MPTCP connection 192.0.2.1:36502 → 192.0.2.1:5201 (test/helpers/mptcp_peer.py) watched
// by a socket joined to mptcp_pm_events. Expected values are read off the bytes by hand.

import { describe, expect, it } from 'vitest';
import { family, type Address } from '../generated/mptcp_pm.js';
import { decodeAttrs } from '../src/netlink/core/codec.js';
import { endpointFromWire } from '../src/mptcp/pm/endpoint.js';
import { decodeEvent } from '../src/mptcp/events/events.js';

const hex = (s: string) => Buffer.from(s, 'hex');

const DUMP_V4 = '340001800600010002000000060005000000000005000200030000000800060006000000080007000300000008000300c0000201';
const DUMP_V6 = '38000180060001000a00000006000500901f0000050002000700000008000600010000001400040020010db8000000000000000000000005';
const LIMITS = '08000200020000000800030003000000';

const LISTENER_CREATED = '0600020002000000060009001451000008000500c0000201';
const CREATED_CLIENT = '080001003cb3ef5a060002000200000008000500c000020108000700c0000201060009008e96000006000a001451000005000300000000000500040000000000';
const CREATED_SERVER = '080001007b0d987d050012000100000006000d0002000000060002000200000008000500c000020108000700c0000201060009001451000006000a008e96000005000300000000000500040000000000';
const SUB_PRIORITY_CLIENT = '080001003cb3ef5a060002000200000008000500c000020108000700c0000201060009008e96000006000a00145100000500030000000000050004000000000005000b0001000000';
const CLOSED_CLIENT = '080001003cb3ef5a';

describe('replies captured from Linux 6.18.44', () => {
  it('decodes a GET_ADDR dump part: family, port 0, id, flags, if-idx, addr4 in that order', () => {
    const a = decodeAttrs<{ addr?: Address }>(family, 'attr', hex(DUMP_V4));
    expect(a.addr).toEqual({ family: 2, port: 0, id: 3, flags: 0x06, ifIdx: 3, addr4: 0xc0000201 });
    expect(endpointFromWire(a.addr, 'dump')).toEqual({
      id: 3, address: '192.0.2.1', family: 'inet', flags: ['subflow', 'backup'], unknownFlags: 0, ifindex: 3,
    });
  });

  it('decodes a v6 signal endpoint with its port in host byte order (8080 = 90 1f)', () => {
    const a = decodeAttrs<{ addr?: Address }>(family, 'attr', hex(DUMP_V6));
    expect(endpointFromWire(a.addr, 'dump')).toEqual({
      id: 7, address: '2001:db8::5', family: 'inet6', port: 8080, flags: ['signal'], unknownFlags: 0,
    });
  });

  it('decodes GET_LIMITS', () => {
    expect(decodeAttrs(family, 'attr', hex(LIMITS))).toEqual({ rcvAddAddrs: 2, subflows: 3 });
  });
});

describe('events captured from Linux 6.18.44', () => {
  it('LISTENER_CREATED: family, big-endian port 5201 (14 51), address', () => {
    expect(decodeEvent(15, hex(LISTENER_CREATED))).toMatchObject({
      type: 'listenerCreated', family: 'inet', localAddress: '192.0.2.1', localPort: 5201,
    });
  });

  it('CREATED on the client: ids 0, no server-side attribute or flags', () => {
    expect(decodeEvent(1, hex(CREATED_CLIENT))).toMatchObject({
      type: 'created', token: 0x5aefb33c, family: 'inet',
      localAddress: '192.0.2.1', localPort: 36502, remoteAddress: '192.0.2.1', remotePort: 5201,
      localId: 0, remoteId: 0, serverSide: false, denyJoinId0: false,
    });
  });

  it('CREATED on the server: SERVER_SIDE=1 and FLAGS=0x2 both say server side', () => {
    expect(decodeEvent(1, hex(CREATED_SERVER))).toMatchObject({
      type: 'created', token: 0x7d980d7b, localPort: 5201, remotePort: 36502, serverSide: true, denyJoinId0: false,
    });
  });

  it('SUB_PRIORITY (MP_PRIO after the backup endpoint was used): backup=1', () => {
    expect(decodeEvent(13, hex(SUB_PRIORITY_CLIENT))).toMatchObject({
      type: 'subPriority', token: 0x5aefb33c, localPort: 36502, remotePort: 5201, backup: true,
    });
  });

  it('CLOSED carries the token only', () => {
    const e = decodeEvent(3, hex(CLOSED_CLIENT));
    expect(e).toMatchObject({ type: 'closed', token: 0x5aefb33c });
    expect(e).not.toHaveProperty('family');
  });
});
