// Userspace path-manager tests (tier 2) against the fake generic-netlink peer: exact command, flags
// and attribute bytes of every per-connection call, reply decoding, kernel refusals and input checks.

import { afterEach, describe, expect, it } from 'vitest';
import { MptcpPm } from '../src/mptcp/pm/pm.js';
import { NetlinkError, UnsupportedError, ValidationError } from '../src/netlink/core/errors.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectFeatures, pathManagerSysctl } from '../src/mptcp/pm/features.js';
import type { FamilyPolicy } from '../src/netlink/genl/policy.js';
import { FakeGenl, type FakeExtAck, type FakePolicy, type RecordedRequest } from './helpers/fake-genl.js';
import { cat, hex, ipv4, nest, nla, s32le, u16le, u32le, type Bytes } from './helpers/bytes.js';
import {
  ALL_OPS, DO, DO_REPLY, DUMP, FAMILY, POLICY_6_18, POLICY_6_8, POLICY_SHARED, expectRequest, rejection, addressReply,
  type FakeAddress,
} from './helpers/pm-fake.js';


const CMD = { getAddr: 3, setFlags: 7, announce: 8, remove: 9, subflowCreate: 10, subflowDestroy: 11 } as const;
const EINVAL = 22;
const ESRCH = 3;
const EADDRNOTAVAIL = 99;

// Attribute types: top level (`attr` set) and inside an address nest.
const A = { addr: 1, token: 4, locId: 5, addrRemote: 6 } as const;
const AD = { family: 1, id: 2, addr4: 3, addr6: 4, port: 5, flags: 6, ifIdx: 7 } as const;
const AF_INET = 2;
const AF_INET6 = 10;

const TOKEN = 0xdeadbeef; // high bit set: a u32, not an s32
const V6_1 = hex('20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01'); // 2001:db8::1
const V6_2 = hex('20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 02'); // 2001:db8::2
const V6_A = hex('20 01 0d b8 00 0a 00 00 00 00 00 00 00 00 00 0a'); // 2001:db8:a::a

/** One address nest in ascending attribute-type order; fields left out are not written. */
interface Addr {
  v4?: string;
  v6?: Uint8Array;
  id?: number;
  port?: number;
  flags?: number;
  ifIdx?: number;
}
function addrNest(type: number, a: Addr): Uint8Array {
  return nest(
    type,
    nla(AD.family, u16le(a.v4 !== undefined ? AF_INET : AF_INET6)),
    a.id !== undefined ? nla(AD.id, [a.id]) : [],
    a.v4 !== undefined ? nla(AD.addr4, ipv4(a.v4)) : [],
    a.v6 !== undefined ? nla(AD.addr6, a.v6) : [],
    a.port !== undefined ? nla(AD.port, u16le(a.port)) : [],
    a.flags !== undefined ? nla(AD.flags, u32le(a.flags)) : [],
    a.ifIdx !== undefined ? nla(AD.ifIdx, s32le(a.ifIdx)) : [],
  );
}
const local = (a: Addr): Uint8Array => addrNest(A.addr, a);
const remote = (a: Addr): Uint8Array => addrNest(A.addrRemote, a);
const token = (t = TOKEN): Uint8Array => nla(A.token, u32le(t));

/** Test-only TLV reader (type → payload), enough to find the id a GET_ADDR asks for. */
function tlvs(b: Bytes | undefined): Map<number, Uint8Array> {
  const bytes = Uint8Array.from(b ?? []);
  const out = new Map<number, Uint8Array>();
  for (let o = 0; o + 4 <= bytes.length; ) {
    const len = bytes[o] | (bytes[o + 1] << 8);
    if (len < 4) break;
    out.set((bytes[o + 2] | (bytes[o + 3] << 8)) & 0x3fff, bytes.subarray(o + 4, o + len));
    o += (len + 3) & ~3;
  }
  return out;
}

/** One userspace-PM connection behind the fake peer: acks the writes, answers GET_ADDR from `entries`. */
class FakeConnection {
  entries: FakeAddress[] = [];
  fail = new Map<number, { errno: number; extack?: FakeExtAck; inDump?: boolean }>();

  handle(req: RecordedRequest, peer: FakeGenl): void {
    const f = this.fail.get(req.cmd);
    const dump = (req.flags & 0x300) !== 0;
    if (f && f.inDump && dump) return peer.dump(req, [], 2, f.errno, f.extack ?? {});
    if (f) return peer.error(req, f.errno, f.extack ?? {});
    if (req.cmd !== CMD.getAddr) return peer.ack(req);
    if (dump) return peer.dump(req, this.entries.map(addressReply));
    const id = tlvs(tlvs(req.attrs).get(A.addr)).get(AD.id)?.[0];
    const e = this.entries.find((x) => x.id === id);
    if (!e) return peer.error(req, EINVAL, { message: 'address not found', offset: 20 });
    return peer.reply(req, addressReply(e));
  }
}

const opened: MptcpPm[] = [];
async function setup(policy: FakePolicy | null = POLICY_6_18): Promise<{ pm: MptcpPm; peer: FakeGenl; conn: FakeConnection }> {
  const peer = new FakeGenl(FAMILY);
  const conn = new FakeConnection();
  peer.handler = (req, p) => conn.handle(req, p);
  const pm = await MptcpPm.open({ transport: peer, ctrlTransport: FakeGenl.nlctrl(policy ?? undefined), timeoutMs: 2000 });
  opened.push(pm);
  return { pm, peer, conn };
}
afterEach(() => {
  for (const pm of opened.splice(0)) pm.close();
});


/** Runs `call` on a fresh client and asserts it sent exactly one request with these bytes. */
async function expectOnly(call: (pm: MptcpPm) => Promise<unknown>, cmd: number, flags: number, attrs: Bytes): Promise<void> {
  const { pm, peer } = await setup();
  await call(pm);
  expect(peer.familyRequests).toHaveLength(1);
  expectRequest(peer.familyRequests[0], cmd, flags, attrs);
}


describe('announce', () => {
  it('sends ANNOUNCE with the IPv4 address, id and SIGNAL, then the token (host order)', async () => {
    await expectOnly((pm) => pm.announce({ token: TOKEN, address: '192.0.2.10', id: 2 }), CMD.announce, DO,
      cat(local({ v4: '192.0.2.10', id: 2, flags: 0x1 }), token()));
  });

  it('writes the bytes of the wire format: ADDR4 network order, TOKEN and PORT host order', async () => {
    await expectOnly((pm) => pm.announce({ token: 0x01020304, address: '198.51.100.7', id: 255, port: 5000 }), CMD.announce, DO, hex(`
      2c 00 01 80
        06 00 01 00 02 00 00 00
        05 00 02 00 ff 00 00 00
        08 00 03 00 c6 33 64 07
        06 00 05 00 88 13 00 00
        08 00 06 00 01 00 00 00
      08 00 04 00 04 03 02 01`));
  });

  it('sends an IPv6 address as 16 bytes, with port and interface index', async () => {
    await expectOnly((pm) => pm.announce({ token: TOKEN, address: '2001:db8::1', id: 9, port: 8080, ifindex: 3 }), CMD.announce, DO,
      cat(local({ v6: V6_1, id: 9, port: 8080, flags: 0x1, ifIdx: 3 }), token()));
  });

  it('accepts the token bounds 0 and 0xffffffff', async () => {
    await expectOnly((pm) => pm.announce({ token: 0, address: '192.0.2.1', id: 1 }), CMD.announce, DO,
      cat(local({ v4: '192.0.2.1', id: 1, flags: 0x1 }), token(0)));
    await expectOnly((pm) => pm.announce({ token: 0xffffffff, address: '192.0.2.1', id: 1 }), CMD.announce, DO,
      cat(local({ v4: '192.0.2.1', id: 1, flags: 0x1 }), token(0xffffffff)));
  });
});

describe('removeAddress', () => {
  it('sends REMOVE with TOKEN u32 and LOC_ID u8', async () => {
    await expectOnly((pm) => pm.removeAddress({ token: TOKEN, id: 7 }), CMD.remove, DO, cat(token(), nla(A.locId, [7])));
  });

  it('sends id 0 (RM_ADDR for the initial subflow\'s address)', async () => {
    await expectOnly((pm) => pm.removeAddress({ token: TOKEN, id: 0 }), CMD.remove, DO, hex(`
      08 00 04 00 ef be ad de
      05 00 05 00 00 00 00 00`));
  });

  it('sends id 255', async () => {
    await expectOnly((pm) => pm.removeAddress({ token: TOKEN, id: 255 }), CMD.remove, DO, cat(token(), nla(A.locId, [255])));
  });
});

describe('createSubflow', () => {
  it('IPv4: local family/id/address with FLAGS 0, the token, remote family/address/port', async () => {
    await expectOnly(
      (pm) => pm.createSubflow({ token: TOKEN, local: { address: '192.0.2.2', id: 3 }, remote: { address: '198.51.100.1', port: 5000 } }),
      CMD.subflowCreate, DO,
      cat(local({ v4: '192.0.2.2', id: 3, flags: 0 }), token(), remote({ v4: '198.51.100.1', port: 5000 })));
  });

  it('IPv4 backup: FLAGS BACKUP (0x4), and the interface index after it', async () => {
    await expectOnly(
      (pm) => pm.createSubflow({ token: TOKEN, local: { address: '192.0.2.2', id: 3, ifindex: 4 }, remote: { address: '198.51.100.1', port: 443 }, backup: true }),
      CMD.subflowCreate, DO,
      cat(local({ v4: '192.0.2.2', id: 3, flags: 0x4, ifIdx: 4 }), token(), remote({ v4: '198.51.100.1', port: 443 })));
  });

  it('IPv6 with backup: false sends FLAGS 0', async () => {
    await expectOnly(
      (pm) => pm.createSubflow({ token: TOKEN, local: { address: '2001:db8::2', id: 200 }, remote: { address: '2001:DB8:a::a', port: 65535 }, backup: false }),
      CMD.subflowCreate, DO,
      cat(local({ v6: V6_2, id: 200, flags: 0 }), token(), remote({ v6: V6_A, port: 65535 })));
  });

  it('IPv6 backup on the wire, byte by byte', async () => {
    await expectOnly(
      (pm) => pm.createSubflow({ token: 0x0a0b0c0d, local: { address: '2001:db8::1', id: 1 }, remote: { address: '2001:db8::2', port: 80 }, backup: true }),
      CMD.subflowCreate, DO, hex(`
      30 00 01 80
        06 00 01 00 0a 00 00 00
        05 00 02 00 01 00 00 00
        14 00 04 00 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01
        08 00 06 00 04 00 00 00
      08 00 04 00 0d 0c 0b 0a
      28 00 06 80
        06 00 01 00 0a 00 00 00
        14 00 04 00 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 02
        06 00 05 00 50 00 00 00`));
  });
});

describe('destroySubflow', () => {
  it('IPv4: both sides with family, address and port; no id, no flags', async () => {
    await expectOnly(
      (pm) => pm.destroySubflow({ token: TOKEN, local: { address: '192.0.2.2', port: 40000 }, remote: { address: '198.51.100.1', port: 5000 } }),
      CMD.subflowDestroy, DO,
      cat(local({ v4: '192.0.2.2', port: 40000 }), token(), remote({ v4: '198.51.100.1', port: 5000 })));
  });

  it('IPv6', async () => {
    await expectOnly(
      (pm) => pm.destroySubflow({ token: TOKEN, local: { address: '2001:db8::1', port: 1 }, remote: { address: '2001:db8:a::a', port: 65535 } }),
      CMD.subflowDestroy, DO,
      cat(local({ v6: V6_1, port: 1 }), token(), remote({ v6: V6_A, port: 65535 })));
  });
});

describe('setSubflowBackup', () => {
  it('IPv4 backup on: SET_FLAGS with local FLAGS 0x4, the token and the remote address; no ports given, none sent', async () => {
    await expectOnly(
      (pm) => pm.setSubflowBackup({ token: TOKEN, local: { address: '192.0.2.2' }, remote: { address: '198.51.100.1' }, backup: true }),
      CMD.setFlags, DO,
      cat(local({ v4: '192.0.2.2', flags: 0x4 }), token(), remote({ v4: '198.51.100.1' })));
  });

  it('IPv6 backup off with both ports: FLAGS 0 and the ports in host order', async () => {
    await expectOnly(
      (pm) => pm.setSubflowBackup({ token: TOKEN, local: { address: '2001:db8::1', port: 41000 }, remote: { address: '2001:db8::2', port: 5000 }, backup: false }),
      CMD.setFlags, DO,
      cat(local({ v6: V6_1, port: 41000, flags: 0 }), token(), remote({ v6: V6_2, port: 5000 })));
  });

  it('IPv4 with only the remote port', async () => {
    await expectOnly(
      (pm) => pm.setSubflowBackup({ token: TOKEN, local: { address: '192.0.2.2' }, remote: { address: '198.51.100.1', port: 5000 }, backup: true }),
      CMD.setFlags, DO,
      cat(local({ v4: '192.0.2.2', flags: 0x4 }), token(), remote({ v4: '198.51.100.1', port: 5000 })));
  });
});

describe('listAddresses / getAddress', () => {
  it('listAddresses sends a GET_ADDR dump with the token only and decodes every address in the kernel\'s order', async () => {
    const { pm, peer, conn } = await setup();
    conn.entries.push(
      { id: 5, v4: '192.0.2.5', flags: 0x1 },
      { id: 2, v6: V6_1, port: 8080, flags: 0x1 },
      { id: 3, v4: '192.0.2.3', flags: 0x6, ifIdx: 4 },
      { id: 4, v4: '192.0.2.4', flags: 0x82 },
    );
    const list = await pm.listAddresses(TOKEN);
    expect(peer.familyRequests).toHaveLength(1);
    expectRequest(peer.familyRequests[0], CMD.getAddr, DUMP, token());
    expect(list).toEqual([
      { id: 5, address: '192.0.2.5', family: 'inet', flags: ['signal'], unknownFlags: 0 },
      { id: 2, address: '2001:db8::1', family: 'inet6', port: 8080, flags: ['signal'], unknownFlags: 0 },
      { id: 3, address: '192.0.2.3', family: 'inet', flags: ['subflow', 'backup'], unknownFlags: 0, ifindex: 4 },
      { id: 4, address: '192.0.2.4', family: 'inet', flags: ['subflow'], unknownFlags: 0x80 },
    ]);
  });

  it('listAddresses of a connection without addresses is []', async () => {
    const { pm, peer } = await setup();
    expect(await pm.listAddresses(TOKEN)).toEqual([]);
    expectRequest(peer.familyRequests[0], CMD.getAddr, DUMP, token());
  });

  it('getAddress sends GET_ADDR (request only, no ACK) with the id nest and the token, and decodes the reply', async () => {
    const { pm, peer, conn } = await setup();
    conn.entries.push({ id: 1, v4: '192.0.2.1', flags: 0x2 }, { id: 7, v6: V6_A, port: 443, flags: 0x5 });
    const ep = await pm.getAddress(TOKEN, 7);
    expect(ep).toEqual({ id: 7, address: '2001:db8:a::a', family: 'inet6', port: 443, flags: ['signal', 'backup'], unknownFlags: 0 });
    expect(peer.familyRequests).toHaveLength(1);
    expectRequest(peer.familyRequests[0], CMD.getAddr, DO_REPLY, cat(nest(A.addr, nla(AD.id, [7])), token()));
  });

  it('getAddress omits the port when the kernel sends 0', async () => {
    const { pm, conn } = await setup();
    conn.entries.push({ id: 1, v4: '192.0.2.1', flags: 0x2 });
    const ep = await pm.getAddress(TOKEN, 1);
    expect(ep).toEqual({ id: 1, address: '192.0.2.1', family: 'inet', flags: ['subflow'], unknownFlags: 0 });
    expect('port' in ep).toBe(false);
  });

  it('getAddress of an unknown id rejects with the kernel\'s "address not found"', async () => {
    const { pm } = await setup();
    const err = await rejection(pm.getAddress(TOKEN, 42));
    expect(err).toBeInstanceOf(NetlinkError);
    expect(err).toMatchObject({ op: 'get-addr', errno: EINVAL, code: 'EINVAL', kernelMessage: 'address not found' });
    expect(err.message).toBe('mptcp_pm get-addr: EINVAL: address not found [attribute addr]');
  });
});

/** The fixture as the decoder would give it (built here, without the decoder). */
function asPolicy(p: FakePolicy): FamilyPolicy {
  return {
    ops: new Map(p.ops.map(([cmd, d, u]) => [cmd, { ...(d !== undefined && { do: d }), ...(u !== undefined && { dump: u }) }])),
    policies: new Map(Object.entries(p.policies).map(([i, rows]) => [Number(i), new Map(rows.map(([t, k]) => [t, { type: k, kind: String(k) }]))])),
  };
}

describe('GET_ADDR with a token on kernels before 6.9', () => {
  const ops = new Map(ALL_OPS);
  const groups = new Map([['mptcp_pm_events', 9]]);

  it('detectFeatures reads addressesByToken from the policy of GET_ADDR', () => {
    expect(detectFeatures(ops, groups, asPolicy(POLICY_6_18)).addressesByToken).toBe(true);
    // 6.7/6.8: per-op policies, GET_ADDR's without TOKEN.
    expect(detectFeatures(ops, groups, asPolicy(POLICY_6_8)).addressesByToken).toBe(false);
    // Before 6.7 one policy served every op: it lists TOKEN, but GET_ADDR ignored it.
    expect(detectFeatures(ops, groups, asPolicy(POLICY_SHARED)).addressesByToken).toBe(false);
    // No policy dump at all (before 5.10).
    expect(detectFeatures(ops, groups, undefined).addressesByToken).toBe(false);
  });

  it('detectFeatures derives listenerEvents from per-op policies and UNS_ADMIN_PERM, undefined when the kernel gives no sign', () => {
    expect(detectFeatures(ops, groups, asPolicy(POLICY_6_18)).listenerEvents).toBe(true);
    expect(detectFeatures(ops, groups, asPolicy(POLICY_SHARED)).listenerEvents).toBeUndefined();
    const oldOps = new Map(ALL_OPS.map(([cmd, flags]) => [cmd, flags & ~0x10 | (flags & 0x10 ? 0x1 : 0)]));
    expect(detectFeatures(oldOps, groups, asPolicy(POLICY_SHARED)).listenerEvents).toBe(false);
    expect(detectFeatures(ops, new Map(), asPolicy(POLICY_6_18)).listenerEvents).toBe(false);
  });

  it('detectFeatures: endpoint flags from the release (laminar from 6.18, fullmesh from 5.15), the path-manager sysctl as given', () => {
    expect(detectFeatures(ops, groups, undefined, '6.18.0').endpointFlags).toEqual(['signal', 'subflow', 'backup', 'fullmesh', 'implicit', 'laminar']);
    expect(detectFeatures(ops, groups, undefined, '6.1.0-57-amd64').endpointFlags).toEqual(['signal', 'subflow', 'backup', 'fullmesh', 'implicit']);
    expect(detectFeatures(ops, groups, undefined, '5.14.21').endpointFlags).toEqual(['signal', 'subflow', 'backup']);
    expect(detectFeatures(ops, groups, undefined, '6.1.0', 'pm_type').pathManagerSysctl).toBe('pm_type');
  });

  it('pathManagerSysctl: path_manager before pm_type, null with neither', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mptcppm-sysctl-'));
    try {
      expect(pathManagerSysctl(dir)).toBeNull();
      writeFileSync(join(dir, 'pm_type'), '0\n');
      expect(pathManagerSysctl(dir)).toBe('pm_type');
      writeFileSync(join(dir, 'path_manager'), 'kernel\n');
      expect(pathManagerSysctl(dir)).toBe('path_manager');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('open asks nlctrl for the policies of mptcp_pm (one GETPOLICY dump)', async () => {
    const peer = new FakeGenl(FAMILY);
    const ctrl = FakeGenl.nlctrl(POLICY_6_18);
    const pm = await MptcpPm.open({ transport: peer, ctrlTransport: ctrl, timeoutMs: 2000 });
    opened.push(pm);
    const policyRequests = ctrl.requests.filter((r) => r.type === 0x10 && r.cmd === 10);
    expect(policyRequests).toHaveLength(1);
    expect(policyRequests[0].flags).toBe(DUMP);
    expect(policyRequests[0].attrs.subarray(4, 12).toString()).toBe('mptcp_pm');
    expect(ctrl.closed).toBe(true);
    expect(pm.features).toMatchObject({ addressesByToken: true, listenerEvents: true, policyDump: true });
  });

  for (const [name, call] of [
    ['listAddresses', (pm: MptcpPm) => pm.listAddresses(TOKEN)],
    ['getAddress', (pm: MptcpPm) => pm.getAddress(TOKEN, 1)],
  ] as const) {
    for (const [kernel, policy] of [['6.8', POLICY_6_8], ['6.6', POLICY_SHARED], ['5.9', null]] as const) {
      it(`${name} on a ${kernel}-like kernel → UnsupportedError naming Linux 6.9, nothing sent`, async () => {
        const { pm, peer } = await setup(policy);
        expect(pm.features.addressesByToken).toBe(false);
        expect(pm.features.policyDump).toBe(policy !== null);
        const err = await rejection(call(pm));
        expect(err).toBeInstanceOf(UnsupportedError);
        expect((err as UnsupportedError).sinceKernel).toBe('6.9');
        expect(err.message).toMatch(new RegExp(`^${name} \\(GET_ADDR with a token\\) is not supported by this kernel \\(added in Linux 6\\.9\\)`));
        expect(peer.familyRequests).toHaveLength(0);
      });
    }
  }
});

describe('kernel refusals', () => {
  type Call = (pm: MptcpPm) => Promise<unknown>;
  const v4Sub = { local: { address: '192.0.2.2', id: 3 }, remote: { address: '198.51.100.1', port: 5000 } };
  const v4Tuple = { local: { address: '192.0.2.2', port: 40000 }, remote: { address: '198.51.100.1', port: 5000 } };
  const cases: { name: string; cmd: number; call: Call; errno: number; extack: FakeExtAck; message: string }[] = [
    {
      name: 'announce on an unknown token', cmd: CMD.announce, errno: EINVAL, extack: { message: 'invalid token', offset: 56 },
      call: (pm) => pm.announce({ token: TOKEN, address: '192.0.2.1', id: 1 }),
      // 56 = 16 (nlmsghdr) + 4 (genlmsghdr) + 36 (the addr nest: family, id, addr4, flags): the token.
      message: 'mptcp_pm announce: EINVAL: invalid token [attribute token]',
    },
    {
      name: 'createSubflow on a kernel-PM connection', cmd: CMD.subflowCreate, errno: EINVAL, extack: { message: 'userspace PM not selected' },
      call: (pm) => pm.createSubflow({ token: TOKEN, ...v4Sub }),
      message: 'mptcp_pm subflow-create: EINVAL: userspace PM not selected',
    },
    {
      name: 'createSubflow from an address not configured', cmd: CMD.subflowCreate, errno: EADDRNOTAVAIL, extack: { message: 'connect error: -99' },
      call: (pm) => pm.createSubflow({ token: TOKEN, ...v4Sub }),
      message: 'mptcp_pm subflow-create: EADDRNOTAVAIL: connect error: -99',
    },
    {
      name: 'destroySubflow of no such subflow', cmd: CMD.subflowDestroy, errno: ESRCH, extack: { message: 'subflow not found' },
      call: (pm) => pm.destroySubflow({ token: TOKEN, ...v4Tuple }),
      message: 'mptcp_pm subflow-destroy: ESRCH: subflow not found',
    },
    {
      name: 'setSubflowBackup of no such subflow', cmd: CMD.setFlags, errno: EINVAL, extack: { message: 'subflow not found' },
      call: (pm) => pm.setSubflowBackup({ token: TOKEN, local: { address: '192.0.2.2' }, remote: { address: '198.51.100.1' }, backup: true }),
      message: 'mptcp_pm set-flags: EINVAL: subflow not found',
    },
    {
      name: 'removeAddress of an unknown id', cmd: CMD.remove, errno: EINVAL, extack: { message: 'address with id 9 not found' },
      call: (pm) => pm.removeAddress({ token: TOKEN, id: 9 }),
      message: 'mptcp_pm remove: EINVAL: address with id 9 not found',
    },
    {
      name: 'removeAddress on a kernel-PM connection', cmd: CMD.remove, errno: EINVAL, extack: { message: 'userspace PM not selected' },
      call: (pm) => pm.removeAddress({ token: TOKEN, id: 1 }),
      message: 'mptcp_pm remove: EINVAL: userspace PM not selected',
    },
    {
      name: 'announce reusing an id for another address', cmd: CMD.announce, errno: EINVAL, extack: { message: 'did not match address and id' },
      call: (pm) => pm.announce({ token: TOKEN, address: '192.0.2.1', id: 1 }),
      message: 'mptcp_pm announce: EINVAL: did not match address and id',
    },
  ];
  for (const c of cases) {
    it(`${c.name} → NetlinkError with the kernel's words`, async () => {
      const { pm, peer, conn } = await setup();
      conn.fail.set(c.cmd, { errno: c.errno, extack: c.extack });
      const err = await rejection(c.call(pm));
      expect(err).toBeInstanceOf(NetlinkError);
      expect(err.message).toBe(c.message);
      expect(err).toMatchObject({ errno: c.errno, kernelMessage: c.extack.message });
      expect((err as NetlinkError).extack).toEqual(c.extack);
      expect(peer.familyRequests.map((r) => r.cmd)).toEqual([c.cmd]);
    });
  }

  it('an "invalid token" ending the dump rejects listAddresses', async () => {
    const { pm, conn } = await setup();
    conn.fail.set(CMD.getAddr, { errno: EINVAL, extack: { message: 'invalid token' }, inDump: true });
    const err = await rejection(pm.listAddresses(TOKEN));
    expect(err).toBeInstanceOf(NetlinkError);
    expect(err).toMatchObject({ op: 'get-addr', code: 'EINVAL', kernelMessage: 'invalid token' });
    expect(err.message).toBe('mptcp_pm get-addr: EINVAL: invalid token');
  });

  it('a missing token reported by MISS_TYPE is named', async () => {
    const { pm, conn } = await setup();
    conn.fail.set(CMD.remove, { errno: EINVAL, extack: { missingType: A.token } });
    const err = (await rejection(pm.removeAddress({ token: TOKEN, id: 1 }))) as NetlinkError;
    expect(err).toBeInstanceOf(NetlinkError);
    expect(err.extack.missingType).toBe(A.token);
    expect(err.message).toBe('mptcp_pm remove: EINVAL: required attribute token missing');
  });
});

describe('input refused before sending', () => {
  type Call = (pm: MptcpPm) => Promise<unknown>;
  const T = TOKEN;
  const sub = { local: { address: '192.0.2.2', id: 3 }, remote: { address: '198.51.100.1', port: 5000 } };
  const tuple = { local: { address: '192.0.2.2', port: 40000 }, remote: { address: '198.51.100.1', port: 5000 } };
  const pair = { local: { address: '192.0.2.2' }, remote: { address: '198.51.100.1' }, backup: true };

  const badTokens: [string, unknown][] = [
    ['negative', -1], ['above 0xffffffff', 0x100000000], ['non-integer', 1.5], ['a string', '3735928559'], ['missing', undefined],
  ];
  const tokenCalls: [string, (t: number) => Call][] = [
    ['announce', (t) => (pm) => pm.announce({ token: t, address: '192.0.2.1', id: 1 })],
    ['removeAddress', (t) => (pm) => pm.removeAddress({ token: t, id: 1 })],
    ['createSubflow', (t) => (pm) => pm.createSubflow({ token: t, ...sub })],
    ['destroySubflow', (t) => (pm) => pm.destroySubflow({ token: t, ...tuple })],
    ['setSubflowBackup', (t) => (pm) => pm.setSubflowBackup({ token: t, ...pair })],
    ['listAddresses', (t) => (pm) => pm.listAddresses(t)],
    ['getAddress', (t) => (pm) => pm.getAddress(t, 1)],
  ];

  const cases: [string, Call, string][] = [
    ...tokenCalls.flatMap(([fn, make]) =>
      badTokens.map(([what, t]): [string, Call, string] => [`${fn} token ${what}`, make(t as number), 'token'])),

    ['announce id 0', (pm) => pm.announce({ token: T, address: '192.0.2.1', id: 0 }), 'id'],
    ['announce id 256', (pm) => pm.announce({ token: T, address: '192.0.2.1', id: 256 }), 'id'],
    ['announce id missing', (pm) => pm.announce({ token: T, address: '192.0.2.1' } as never), 'id'],
    ['announce id 1.5', (pm) => pm.announce({ token: T, address: '192.0.2.1', id: 1.5 }), 'id'],
    ['announce bad address', (pm) => pm.announce({ token: T, address: '192.0.2.256', id: 1 }), 'address'],
    ['announce address missing', (pm) => pm.announce({ token: T, id: 1 } as never), 'address'],
    ['announce port 0', (pm) => pm.announce({ token: T, address: '192.0.2.1', id: 1, port: 0 }), 'port'],
    ['announce port 65536', (pm) => pm.announce({ token: T, address: '192.0.2.1', id: 1, port: 65536 }), 'port'],
    ['announce ifindex 0', (pm) => pm.announce({ token: T, address: '192.0.2.1', id: 1, ifindex: 0 }), 'ifindex'],
    ['announce unknown option', (pm) => pm.announce({ token: T, address: '192.0.2.1', id: 1, flags: ['signal'] } as never), 'announce.flags'],
    ['announce without a spec', (pm) => pm.announce(undefined as never), 'announce'],

    ['removeAddress id 256', (pm) => pm.removeAddress({ token: T, id: 256 }), 'id'],
    ['removeAddress id -1', (pm) => pm.removeAddress({ token: T, id: -1 }), 'id'],
    ['removeAddress id missing', (pm) => pm.removeAddress({ token: T } as never), 'id'],
    ['removeAddress unknown option', (pm) => pm.removeAddress({ token: T, id: 1, locId: 1 } as never), 'removeAddress.locId'],

    ['createSubflow without local id', (pm) => pm.createSubflow({ token: T, ...sub, local: { address: '192.0.2.2' } } as never), 'local.id'],
    ['createSubflow local id 0', (pm) => pm.createSubflow({ token: T, ...sub, local: { address: '192.0.2.2', id: 0 } }), 'local.id'],
    ['createSubflow local id 256', (pm) => pm.createSubflow({ token: T, ...sub, local: { address: '192.0.2.2', id: 256 } }), 'local.id'],
    ['createSubflow without remote port', (pm) => pm.createSubflow({ token: T, ...sub, remote: { address: '198.51.100.1' } } as never), 'remote.port'],
    ['createSubflow remote port 0', (pm) => pm.createSubflow({ token: T, ...sub, remote: { address: '198.51.100.1', port: 0 } }), 'remote.port'],
    ['createSubflow remote port 65536', (pm) => pm.createSubflow({ token: T, ...sub, remote: { address: '198.51.100.1', port: 65536 } }), 'remote.port'],
    ['createSubflow bad remote address', (pm) => pm.createSubflow({ token: T, ...sub, remote: { address: 'example.org', port: 1 } }), 'remote.address'],
    ['createSubflow bad local address', (pm) => pm.createSubflow({ token: T, ...sub, local: { address: '2001:db8:::1', id: 1 } }), 'local.address'],
    ['createSubflow IPv4 to IPv6', (pm) => pm.createSubflow({ token: T, ...sub, remote: { address: '2001:db8::2', port: 80 } }), 'remote.address'],
    ['createSubflow IPv6 to IPv4', (pm) => pm.createSubflow({ token: T, local: { address: '2001:db8::1', id: 1 }, remote: { address: '198.51.100.1', port: 80 } }), 'remote.address'],
    ['createSubflow local port (not an option)', (pm) => pm.createSubflow({ token: T, ...sub, local: { address: '192.0.2.2', id: 3, port: 1 } } as never), 'local.port'],
    ['createSubflow remote id (not an option)', (pm) => pm.createSubflow({ token: T, ...sub, remote: { address: '198.51.100.1', port: 1, id: 1 } } as never), 'remote.id'],
    ['createSubflow local ifindex 0', (pm) => pm.createSubflow({ token: T, ...sub, local: { address: '192.0.2.2', id: 3, ifindex: 0 } }), 'local.ifindex'],
    ['createSubflow without local', (pm) => pm.createSubflow({ token: T, remote: sub.remote } as never), 'local'],
    ['createSubflow backup "yes"', (pm) => pm.createSubflow({ token: T, ...sub, backup: 'yes' as never }), 'backup'],
    ['createSubflow backup 1', (pm) => pm.createSubflow({ token: T, ...sub, backup: 1 as never }), 'backup'],
    ['createSubflow unknown option', (pm) => pm.createSubflow({ token: T, ...sub, flags: 4 } as never), 'createSubflow.flags'],

    ['destroySubflow without local port', (pm) => pm.destroySubflow({ token: T, ...tuple, local: { address: '192.0.2.2' } } as never), 'local.port'],
    ['destroySubflow without remote port', (pm) => pm.destroySubflow({ token: T, ...tuple, remote: { address: '198.51.100.1' } } as never), 'remote.port'],
    ['destroySubflow local port 0', (pm) => pm.destroySubflow({ token: T, ...tuple, local: { address: '192.0.2.2', port: 0 } }), 'local.port'],
    ['destroySubflow mixed families', (pm) => pm.destroySubflow({ token: T, ...tuple, remote: { address: '2001:db8::2', port: 80 } }), 'remote.address'],
    ['destroySubflow local id (not an option)', (pm) => pm.destroySubflow({ token: T, ...tuple, local: { address: '192.0.2.2', port: 1, id: 1 } } as never), 'local.id'],
    ['destroySubflow unknown option', (pm) => pm.destroySubflow({ token: T, ...tuple, backup: true } as never), 'destroySubflow.backup'],

    ['setSubflowBackup backup missing', (pm) => pm.setSubflowBackup({ token: T, local: pair.local, remote: pair.remote } as never), 'backup'],
    ['setSubflowBackup backup "true"', (pm) => pm.setSubflowBackup({ token: T, ...pair, backup: 'true' as never }), 'backup'],
    ['setSubflowBackup mixed families', (pm) => pm.setSubflowBackup({ token: T, ...pair, local: { address: '2001:db8::1' } }), 'remote.address'],
    ['setSubflowBackup remote port 70000', (pm) => pm.setSubflowBackup({ token: T, ...pair, remote: { address: '198.51.100.1', port: 70000 } }), 'remote.port'],
    ['setSubflowBackup local id (not an option)', (pm) => pm.setSubflowBackup({ token: T, ...pair, local: { address: '192.0.2.2', id: 1 } } as never), 'local.id'],
    ['setSubflowBackup unknown option', (pm) => pm.setSubflowBackup({ token: T, ...pair, fullmesh: true } as never), 'setSubflowBackup.fullmesh'],

    ['getAddress id 0', (pm) => pm.getAddress(T, 0), 'id'],
    ['getAddress id 256', (pm) => pm.getAddress(T, 256), 'id'],
  ];
  for (const [name, call, field] of cases) {
    it(`${name} → ValidationError naming "${field}", nothing sent`, async () => {
      const { pm, peer } = await setup();
      const err = await rejection(call(pm));
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).field).toBe(field);
      expect(err.message.startsWith(`${field}: `)).toBe(true);
      expect(peer.familyRequests).toHaveLength(0);
    });
  }
});
