// Client tests (tier 2) against the fake generic-netlink peer: for every call the exact command,
// nlmsg flags, genl version and attribute bytes (built with helpers/bytes.ts), kernel errors with
// extack, missing commands, and every input rule of issue 2 §5 refused with nothing sent.

import { afterEach, describe, expect, it, vi } from 'vitest';
import { MptcpPm, EndpointNotFoundError } from '../src/mptcp/pm/pm.js';
import { ClosedError, NetlinkError, UnsupportedError, ValidationError } from '../src/netlink/core/errors.js';
import { FakeGenl, type FakeExtAck, type RecordedRequest } from './helpers/fake-genl.js';
import { cat, hex, ipv4, nest, nla, s32le, toHex, u16le, u32le, type Bytes } from './helpers/bytes.js';
import { ALL_OPS, DO, DO_REPLY, DUMP, FAMILY, expectRequest, rejection, addressReply, type FakeAddress } from './helpers/pm-fake.js';

// The endpoint-flag gates come from the kernel release; pin it so the host kernel does not matter.
const kernelRelease = vi.hoisted(() => ({ value: '6.18.44' }));
vi.mock('node:os', async (importOriginal) => {
  const os = await importOriginal<typeof import('node:os')>();
  return { ...os, release: () => kernelRelease.value, default: { ...os, release: () => kernelRelease.value } };
});

const CMD = { addAddr: 1, delAddr: 2, getAddr: 3, flushAddrs: 4, setLimits: 5, getLimits: 6, setFlags: 7 } as const;
const EINVAL = 22;

const V6_1 = hex('20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01'); // 2001:db8::1
const V6_A = hex('20 01 0d b8 00 0a 00 00 00 00 00 00 00 00 00 0a'); // 2001:db8:a::a

/** Tiny test-only TLV reader (type → payload), enough to let the fake kernel keep state. */
function tlvs(b: Bytes): Map<number, Uint8Array> {
  const bytes = Uint8Array.from(b);
  const out = new Map<number, Uint8Array>();
  for (let o = 0, n = 0; o + 4 <= bytes.length && n < 64; n++) {
    const len = bytes[o] | (bytes[o + 1] << 8);
    const type = (bytes[o + 2] | (bytes[o + 3] << 8)) & 0x3fff;
    if (len < 4) break;
    out.set(type, bytes.subarray(o + 4, o + len));
    o += (len + 3) & ~3;
  }
  return out;
}
const le32 = (b: Uint8Array | undefined): number | undefined => (b ? (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0 : undefined);

/** A scripted in-kernel path manager behind the fake peer. */
class FakeKernel {
  endpoints: FakeAddress[] = [];
  limits = { rcvAddAddrs: 0, subflows: 2 };
  /** Per command: answer with this error instead. */
  fail = new Map<number, { errno: number; extack?: FakeExtAck }>();
  /** What ADD_ADDR stores (the test decides, e.g. a kernel-assigned id). */
  onAdd: (() => void) | undefined;

  handle(req: RecordedRequest, peer: FakeGenl): void {
    const f = this.fail.get(req.cmd);
    if (f) return peer.error(req, f.errno, f.extack ?? {});
    const top = tlvs(req.attrs);
    const addr = top.has(1) ? tlvs(top.get(1)!) : new Map<number, Uint8Array>();
    const id = addr.get(2)?.[0];
    switch (req.cmd) {
      case CMD.addAddr:
        this.onAdd?.();
        return peer.ack(req);
      case CMD.delAddr:
        this.endpoints = this.endpoints.filter((e) => e.id !== id);
        return peer.ack(req);
      case CMD.getAddr: {
        if (req.flags & 0x300) return peer.dump(req, [...this.endpoints].sort((a, b) => a.id - b.id).map(addressReply));
        const e = this.endpoints.find((x) => x.id === id);
        if (!e) return peer.error(req, EINVAL, { message: 'address not found', offset: 20 });
        return peer.reply(req, addressReply(e));
      }
      case CMD.flushAddrs:
        this.endpoints = [];
        return peer.ack(req);
      case CMD.setLimits:
        this.limits.rcvAddAddrs = le32(top.get(2)) ?? this.limits.rcvAddAddrs;
        this.limits.subflows = le32(top.get(3)) ?? this.limits.subflows;
        return peer.ack(req);
      case CMD.getLimits:
        return peer.reply(req, cat(nla(2, u32le(this.limits.rcvAddAddrs)), nla(3, u32le(this.limits.subflows))));
      case CMD.setFlags: {
        const e = this.endpoints.find((x) => x.id === id);
        if (!e) return peer.error(req, EINVAL, { message: 'address not found' });
        const bits = le32(addr.get(6)) ?? 0; // the kernel takes backup AND fullmesh from every request
        e.flags = (e.flags & ~0x0c) | (bits & 0x0c);
        return peer.ack(req);
      }
      default:
        return peer.error(req, 95);
    }
  }
}

const opened: MptcpPm[] = [];
async function setup(ops = ALL_OPS): Promise<{ pm: MptcpPm; peer: FakeGenl; kernel: FakeKernel }> {
  const peer = new FakeGenl({ ...FAMILY, ops });
  const kernel = new FakeKernel();
  peer.handler = (req, p) => kernel.handle(req, p);
  const pm = await MptcpPm.open({ transport: peer, timeoutMs: 2000 });
  opened.push(pm);
  return { pm, peer, kernel };
}
afterEach(() => {
  for (const pm of opened.splice(0)) pm.close();
});



const EMPTY = new Uint8Array(0);
const byId = (id: number): Uint8Array => nest(1, nla(2, [id]));

describe('MptcpPm.open', () => {
  it('resolves the family and exposes the commands it lists as features', async () => {
    const { pm, peer } = await setup();
    expect(peer.requests).toHaveLength(1);
    expect(peer.familyRequests).toHaveLength(0);
    expect(pm.features.commands).toMatchObject({ addAddr: true, getAddr: true, setFlags: true, subflowDestroy: true });
    expect(pm.features.events).toBe(true);
    expect(pm.features.userspacePm).toBe(true);
  });

  it('reports a missing command as false and no events group as events: false', async () => {
    const peer = new FakeGenl({ ...FAMILY, groups: { mptcp_pm_cmds: 8 }, ops: ALL_OPS.slice(0, 6) });
    const pm = await MptcpPm.open({ transport: peer });
    opened.push(pm);
    expect(pm.features.commands.setFlags).toBe(false);
    expect(pm.features.commands.announce).toBe(false);
    expect(pm.features.userspacePm).toBe(false);
    expect(pm.features.events).toBe(false);
  });

  it('refuses unknown options and a bad timeout before opening anything', async () => {
    const peer = new FakeGenl(FAMILY);
    await expect(MptcpPm.open({ transport: peer, timeoutMs: 0 })).rejects.toMatchObject({ name: 'ValidationError', field: 'timeoutMs' });
    await expect(MptcpPm.open({ transport: peer, netnss: 'x' } as never)).rejects.toMatchObject({ field: 'options.netnss' });
    expect(peer.requests).toHaveLength(0);
  });
});

describe('addEndpoint', () => {
  it('sends ADD_ADDR with family, id, address and flags, then resolves with the stored endpoint from a dump', async () => {
    const { pm, peer, kernel } = await setup();
    kernel.onAdd = () => kernel.endpoints.push({ id: 5, v4: '192.0.2.2', flags: 0x06 });
    const ep = await pm.addEndpoint({ address: '192.0.2.2', id: 5, flags: ['subflow', 'backup'] });
    expect(ep).toEqual({ id: 5, address: '192.0.2.2', family: 'inet', flags: ['subflow', 'backup'], unknownFlags: 0 });
    const [add, list] = peer.familyRequests;
    expectRequest(add, CMD.addAddr, DO, nest(1, nla(1, u16le(2)), nla(2, [5]), nla(3, ipv4('192.0.2.2')), nla(6, u32le(0x06))));
    expectRequest(list, CMD.getAddr, DUMP, EMPTY);
    expect(peer.familyRequests).toHaveLength(2);
  });

  it('matches the protocol doc §9 wire example (192.0.2.1 for 10.0.0.1; no PORT attribute when none is given)', async () => {
    const { pm, peer, kernel } = await setup();
    kernel.onAdd = () => kernel.endpoints.push({ id: 5, v4: '192.0.2.1', flags: 3 });
    await pm.addEndpoint({ address: '192.0.2.1', id: 5, flags: ['signal', 'subflow'] });
    expect(toHex(peer.familyRequests[0].attrs)).toBe(toHex(hex(`
      24 00 01 80  06 00 01 00 02 00 00 00  05 00 02 00 05 00 00 00
      08 00 03 00 c0 00 02 01  08 00 06 00 03 00 00 00`)));
  });

  it('leaves the id out when none is given and returns the kernel-assigned one', async () => {
    const { pm, peer, kernel } = await setup();
    kernel.endpoints.push({ id: 1, v4: '198.51.100.9', flags: 2 });
    kernel.onAdd = () => kernel.endpoints.push({ id: 7, v4: '192.0.2.3', flags: 0 });
    const ep = await pm.addEndpoint({ address: '192.0.2.3' });
    expect(ep.id).toBe(7);
    expectRequest(peer.familyRequests[0], CMD.addAddr, DO, nest(1, nla(1, u16le(2)), nla(3, ipv4('192.0.2.3')), nla(6, u32le(0))));
  });

  it('sends the port in host order for a signal endpoint', async () => {
    const { pm, peer, kernel } = await setup();
    kernel.endpoints.push({ id: 1, v4: '192.0.2.4', flags: 1 }); // same IP without a port: must not be returned
    kernel.onAdd = () => kernel.endpoints.push({ id: 2, v4: '192.0.2.4', port: 8080, flags: 1 });
    const ep = await pm.addEndpoint({ address: '192.0.2.4', port: 8080, flags: ['signal'] });
    expect(ep).toMatchObject({ id: 2, port: 8080 });
    expectRequest(peer.familyRequests[0], CMD.addAddr, DO,
      nest(1, nla(1, u16le(2)), nla(3, ipv4('192.0.2.4')), nla(5, u16le(8080)), nla(6, u32le(1))));
  });

  it('sends an IPv6 address as 16 bytes and finds it back whatever the caller\'s spelling', async () => {
    const { pm, peer, kernel } = await setup();
    kernel.onAdd = () => kernel.endpoints.push({ id: 3, v6: V6_1, flags: 0x05 });
    const ep = await pm.addEndpoint({ address: '2001:DB8:0::1', id: 3, flags: ['signal', 'backup'] });
    expect(ep).toMatchObject({ id: 3, address: '2001:db8::1', family: 'inet6', flags: ['signal', 'backup'] });
    expectRequest(peer.familyRequests[0], CMD.addAddr, DO, nest(1, nla(1, u16le(10)), nla(2, [3]), nla(4, V6_1), nla(6, u32le(5))));
  });

  it('resolves ifname to IF_IDX (s32) and lists it back with the name', async () => {
    const { pm, peer, kernel } = await setup();
    kernel.onAdd = () => kernel.endpoints.push({ id: 4, v4: '192.0.2.5', flags: 0x0a, ifIdx: 1 });
    const ep = await pm.addEndpoint({ address: '192.0.2.5', flags: ['subflow', 'fullmesh'], ifname: 'lo' });
    expect(ep).toMatchObject({ id: 4, ifindex: 1, ifname: 'lo', flags: ['subflow', 'fullmesh'] });
    expectRequest(peer.familyRequests[0], CMD.addAddr, DO,
      nest(1, nla(1, u16le(2)), nla(3, ipv4('192.0.2.5')), nla(6, u32le(0x0a)), nla(7, s32le(1))));
  });

  it('sends an ifindex as given, and the laminar flag as 0x20', async () => {
    const { pm, peer, kernel } = await setup();
    kernel.onAdd = () => kernel.endpoints.push({ id: 9, v4: '203.0.113.1', flags: 0x20, ifIdx: 3 });
    await pm.addEndpoint({ address: '203.0.113.1', ifindex: 3, flags: ['laminar'] });
    expectRequest(peer.familyRequests[0], CMD.addAddr, DO,
      nest(1, nla(1, u16le(2)), nla(3, ipv4('203.0.113.1')), nla(6, u32le(0x20)), nla(7, s32le(3))));
  });
});

describe('endpoint flags this kernel lacks', () => {
  afterEach(() => {
    kernelRelease.value = '6.18.44';
  });

  it('laminar on a 6.12 kernel is UnsupportedError naming 6.18, and nothing is sent', async () => {
    kernelRelease.value = '6.12.117+deb12-amd64';
    const { pm, peer } = await setup();
    expect(pm.features.endpointFlags).toEqual(['signal', 'subflow', 'backup', 'fullmesh', 'implicit']);
    const err = await rejection(pm.addEndpoint({ address: '203.0.113.1', flags: ['subflow', 'laminar'] }));
    expect(err).toBeInstanceOf(UnsupportedError);
    expect(err).toMatchObject({ feature: 'endpoint flag "laminar"', sinceKernel: '6.18' });
    expect(err.message).toBe('endpoint flag "laminar" is not supported by this kernel (added in Linux 6.18)');
    expect(peer.familyRequests).toHaveLength(0);
  });

  it('fullmesh on a 5.14 kernel is UnsupportedError naming 5.15, for add and set-flags alike', async () => {
    kernelRelease.value = '5.14.21';
    const { pm, peer } = await setup();
    expect(await rejection(pm.addEndpoint({ address: '192.0.2.1', flags: ['subflow', 'fullmesh'] }))).toMatchObject({ name: 'UnsupportedError', sinceKernel: '5.15' });
    expect(await rejection(pm.setEndpointFlags(1, { fullmesh: true }))).toMatchObject({ name: 'UnsupportedError', sinceKernel: '5.15' });
    expect(peer.familyRequests).toHaveLength(0);
  });
});

describe('getEndpoint / listEndpoints', () => {
  it('getEndpoint sends GET_ADDR do with the id only and decodes the reply', async () => {
    const { pm, peer, kernel } = await setup();
    kernel.endpoints.push({ id: 200, v6: V6_A, port: 443, flags: 0x01 });
    const ep = await pm.getEndpoint(200);
    expect(ep).toEqual({ id: 200, address: '2001:db8:a::a', family: 'inet6', port: 443, flags: ['signal'], unknownFlags: 0 });
    expectRequest(peer.familyRequests[0], CMD.getAddr, DO_REPLY, byId(200));
  });

  it('keeps flag bits it has no name for', async () => {
    const { pm, kernel } = await setup();
    kernel.endpoints.push({ id: 1, v4: '192.0.2.1', flags: 0x82 });
    expect(await pm.getEndpoint(1)).toMatchObject({ flags: ['subflow'], unknownFlags: 0x80 });
  });

  it('listEndpoints sends a GET_ADDR dump with no attributes and returns every part in order', async () => {
    const { pm, peer, kernel } = await setup();
    kernel.endpoints.push(
      { id: 1, v4: '192.0.2.1', flags: 1 },
      { id: 2, v4: '192.0.2.1', port: 9000, flags: 1 },
      { id: 3, v6: V6_1, flags: 0x0e, ifIdx: 1 },
      { id: 4, v4: '198.51.100.4', flags: 0 },
      { id: 5, v4: '203.0.113.5', flags: 0x10 },
    );
    const eps = await pm.listEndpoints();
    expectRequest(peer.familyRequests[0], CMD.getAddr, DUMP, EMPTY);
    expect(eps).toEqual([
      { id: 1, address: '192.0.2.1', family: 'inet', flags: ['signal'], unknownFlags: 0 },
      { id: 2, address: '192.0.2.1', family: 'inet', port: 9000, flags: ['signal'], unknownFlags: 0 },
      { id: 3, address: '2001:db8::1', family: 'inet6', flags: ['subflow', 'backup', 'fullmesh'], unknownFlags: 0, ifindex: 1, ifname: 'lo' },
      { id: 4, address: '198.51.100.4', family: 'inet', flags: [], unknownFlags: 0 },
      { id: 5, address: '203.0.113.5', family: 'inet', flags: ['implicit'], unknownFlags: 0 },
    ]);
  });

  it('an empty namespace lists []', async () => {
    const { pm } = await setup();
    expect(await pm.listEndpoints()).toEqual([]);
  });
});

describe('deleteEndpoint', () => {
  it('by id sends DEL_ADDR with the id only, on the JS thread while sends are fast', async () => {
    const { pm, peer, kernel } = await setup();
    kernel.endpoints.push({ id: 9, v4: '192.0.2.9', flags: 1 }, { id: 10, v4: '192.0.2.10', flags: 1 });
    await pm.deleteEndpoint(9);
    await pm.deleteEndpoint(10);
    expect(peer.familyRequests).toHaveLength(2);
    expectRequest(peer.familyRequests[0], CMD.delAddr, DO, byId(9));
    expect(peer.familyRequests.map((r) => r.offThread)).toEqual([false, false]);
  });

  it('moves DEL_ADDR and FLUSH_ADDRS to a worker thread once a send blocked the JS thread', async () => {
    const { pm, peer, kernel } = await setup();
    kernel.endpoints.push({ id: 9, v4: '192.0.2.9', flags: 1 }, { id: 10, v4: '192.0.2.10', flags: 1 });
    peer.syncSendBlockMs = 3;
    await pm.deleteEndpoint(9);
    await pm.deleteEndpoint(10);
    await pm.flushEndpoints();
    await pm.getLimits();
    expect(peer.familyRequests.map((r) => [r.cmd, r.offThread])).toEqual([
      [CMD.delAddr, false], [CMD.delAddr, true], [CMD.flushAddrs, true], [CMD.getLimits, false],
    ]);
    expect(kernel.endpoints).toEqual([]);
  });

  it('by address resolves the id from a dump (any IPv6 spelling), then deletes by id', async () => {
    const { pm, peer, kernel } = await setup();
    kernel.endpoints.push({ id: 1, v4: '192.0.2.1', flags: 1 }, { id: 6, v6: V6_1, flags: 2 });
    await pm.deleteEndpoint({ address: '2001:0DB8::0:1' });
    const [list, del] = peer.familyRequests;
    expectRequest(list, CMD.getAddr, DUMP, EMPTY);
    expectRequest(del, CMD.delAddr, DO, byId(6));
    expect(kernel.endpoints.map((e) => e.id)).toEqual([1]);
  });

  it('by address picks the port the caller names, and the port-less one when none is named', async () => {
    const { pm, peer, kernel } = await setup();
    kernel.endpoints.push(
      { id: 1, v4: '192.0.2.1', flags: 1 },
      { id: 2, v4: '192.0.2.1', port: 8080, flags: 1 },
      { id: 3, v4: '192.0.2.1', port: 8081, flags: 1 },
    );
    await pm.deleteEndpoint({ address: '192.0.2.1', port: 8081 });
    expectRequest(peer.familyRequests[1], CMD.delAddr, DO, byId(3));
    await pm.deleteEndpoint({ address: '192.0.2.1' });
    expectRequest(peer.familyRequests[3], CMD.delAddr, DO, byId(1));
  });

  it('by address with several ports and none named asks which port, after reading only', async () => {
    const { pm, peer, kernel } = await setup();
    kernel.endpoints.push({ id: 2, v4: '192.0.2.1', port: 8080, flags: 1 }, { id: 3, v4: '192.0.2.1', port: 8081, flags: 1 });
    const err = await rejection(pm.deleteEndpoint({ address: '192.0.2.1' }));
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).field).toBe('endpoint.port');
    expect(err.message).toMatch(/8080, 8081/);
    expect(peer.familyRequests.map((r) => r.cmd)).toEqual([CMD.getAddr]);
  });

  it('an unknown address is EndpointNotFoundError and no DEL_ADDR is sent', async () => {
    const { pm, peer, kernel } = await setup();
    kernel.endpoints.push({ id: 1, v4: '192.0.2.1', flags: 1 });
    const err = await rejection(pm.deleteEndpoint({ address: '192.0.2.99' }));
    expect(err).toBeInstanceOf(EndpointNotFoundError);
    expect(err.message).toMatch(/192\.0\.2\.99/);
    expect(peer.familyRequests.map((r) => r.cmd)).toEqual([CMD.getAddr]);
  });
});

describe('setEndpointFlags', () => {
  const cases: { name: string; stored: number; change: { backup?: boolean; fullmesh?: boolean }; sent: number }[] = [
    { name: 'backup on keeps fullmesh on', stored: 0x0a, change: { backup: true }, sent: 0x0e },
    { name: 'backup off keeps fullmesh on', stored: 0x0e, change: { backup: false }, sent: 0x0a },
    { name: 'fullmesh off keeps backup on', stored: 0x0e, change: { fullmesh: false }, sent: 0x06 },
    { name: 'fullmesh on keeps backup on', stored: 0x06, change: { fullmesh: true }, sent: 0x0e },
    { name: 'fullmesh on keeps backup off', stored: 0x02, change: { fullmesh: true }, sent: 0x0a },
    { name: 'both at once', stored: 0x0a, change: { backup: true, fullmesh: false }, sent: 0x06 },
  ];
  for (const c of cases) {
    it(`reads first, then sends both bits: ${c.name}`, async () => {
      const { pm, peer, kernel } = await setup();
      kernel.endpoints.push({ id: 4, v4: '192.0.2.4', flags: c.stored });
      const ep = await pm.setEndpointFlags(4, c.change);
      const [get, set, after] = peer.familyRequests;
      expectRequest(get, CMD.getAddr, DO_REPLY, byId(4));
      expectRequest(set, CMD.setFlags, DO, nest(1, nla(2, [4]), nla(6, u32le(c.sent))));
      expectRequest(after, CMD.getAddr, DO_REPLY, byId(4));
      expect(peer.familyRequests).toHaveLength(3);
      expect(ep.flags).toEqual(['signal', 'subflow', 'backup', 'fullmesh'].filter((_, i) => c.sent & (1 << i)));
    });
  }

  it('by address resolves the endpoint from a dump and sets by id', async () => {
    const { pm, peer, kernel } = await setup();
    kernel.endpoints.push({ id: 1, v4: '192.0.2.1', flags: 1 }, { id: 8, v6: V6_A, flags: 0x0a });
    const ep = await pm.setEndpointFlags({ address: '2001:db8:a::a' }, { backup: true });
    expect(ep).toMatchObject({ id: 8, flags: ['subflow', 'backup', 'fullmesh'] });
    const [list, set] = peer.familyRequests;
    expectRequest(list, CMD.getAddr, DUMP, EMPTY);
    expectRequest(set, CMD.setFlags, DO, nest(1, nla(2, [8]), nla(6, u32le(0x0e))));
  });

  it('a kernel refusal (fullmesh on a signal endpoint) is a NetlinkError of set-flags', async () => {
    const { pm, kernel } = await setup();
    kernel.endpoints.push({ id: 1, v4: '192.0.2.1', flags: 1 });
    kernel.fail.set(CMD.setFlags, { errno: EINVAL, extack: { message: 'invalid addr flags' } });
    const err = await rejection(pm.setEndpointFlags(1, { fullmesh: true }));
    expect(err).toBeInstanceOf(NetlinkError);
    expect(err.message).toBe('mptcp_pm set-flags: EINVAL: invalid addr flags');
  });
});

describe('flushEndpoints, getLimits, setLimits', () => {
  it('flushEndpoints sends FLUSH_ADDRS with no attributes', async () => {
    const { pm, peer, kernel } = await setup();
    kernel.endpoints.push({ id: 1, v4: '192.0.2.1', flags: 1 });
    await pm.flushEndpoints();
    expectRequest(peer.familyRequests[0], CMD.flushAddrs, DO, EMPTY);
    expect(peer.familyRequests).toHaveLength(1);
  });

  it('getLimits sends GET_LIMITS with no attributes and maps rcv-add-addrs to addAddrAccepted', async () => {
    const { pm, peer, kernel } = await setup();
    kernel.limits = { rcvAddAddrs: 3, subflows: 7 };
    expect(await pm.getLimits()).toEqual({ subflows: 7, addAddrAccepted: 3 });
    expectRequest(peer.familyRequests[0], CMD.getLimits, DO_REPLY, EMPTY);
  });

  it('setLimits sends both as u32 (rcv-add-addrs 2, subflows 3) in one SET_LIMITS and nothing else', async () => {
    const { pm, peer, kernel } = await setup();
    expect(await pm.setLimits({ subflows: 4, addAddrAccepted: 8 })).toBeUndefined();
    expect(peer.familyRequests).toHaveLength(1);
    expectRequest(peer.familyRequests[0], CMD.setLimits, DO, cat(nla(2, u32le(8)), nla(3, u32le(4))));
    expect(kernel.limits).toEqual({ rcvAddAddrs: 8, subflows: 4 });
  });

  it('setLimits sends only the limit given (0 included), one request each, so the kernel keeps the other', async () => {
    const { pm, peer, kernel } = await setup();
    kernel.limits = { rcvAddAddrs: 5, subflows: 2 };
    await pm.setLimits({ subflows: 0 });
    expect(peer.familyRequests).toHaveLength(1);
    expectRequest(peer.familyRequests[0], CMD.setLimits, DO, nla(3, u32le(0)));
    await pm.setLimits({ addAddrAccepted: 1 });
    expect(peer.familyRequests).toHaveLength(2);
    expectRequest(peer.familyRequests[1], CMD.setLimits, DO, nla(2, u32le(1)));
    expect(await pm.getLimits()).toEqual({ subflows: 0, addAddrAccepted: 1 });
  });
});

describe('kernel errors', () => {
  it('become NetlinkError with op, positive errno, code and the kernel message first', async () => {
    const { pm, kernel } = await setup();
    kernel.fail.set(CMD.addAddr, { errno: 16, extack: { message: 'too many addresses or duplicate one: -16', offset: 20 } });
    const err = await rejection(pm.addEndpoint({ address: '192.0.2.1', id: 1, flags: ['signal'] }));
    expect(err).toBeInstanceOf(NetlinkError);
    const ne = err as NetlinkError;
    // Offset 20 is the first attribute after nlmsghdr + genlmsghdr: the addr nest.
    expect(ne.message).toBe('mptcp_pm add-addr: EBUSY: too many addresses or duplicate one: -16 [attribute addr]');
    expect(ne.attribute).toBe('addr');
    expect(ne).toMatchObject({ op: 'add-addr', errno: 16, code: 'EBUSY', kernelMessage: 'too many addresses or duplicate one: -16' });
    expect(ne.extack).toEqual({ message: 'too many addresses or duplicate one: -16', offset: 20 });
  });

  it('EPERM without extack explains CAP_NET_ADMIN in the namespace\'s user namespace', async () => {
    const { pm, kernel } = await setup();
    kernel.fail.set(CMD.addAddr, { errno: 1 });
    const err = (await rejection(pm.addEndpoint({ address: '192.0.2.1' }))) as NetlinkError;
    expect(err).toBeInstanceOf(NetlinkError);
    expect(err).toMatchObject({ op: 'add-addr', errno: 1, code: 'EPERM' });
    expect(err.message).toMatch(/^mptcp_pm add-addr: EPERM: /);
    expect(err.message).toMatch(/CAP_NET_ADMIN/);
    expect(err.message).toMatch(/user namespace/);
  });

  it('an unknown id on get-addr carries "address not found"', async () => {
    const { pm } = await setup();
    const err = await rejection(pm.getEndpoint(42));
    expect(err.message).toBe('mptcp_pm get-addr: EINVAL: address not found [attribute addr]');
  });

  it('a missing attribute (MISS_TYPE only) is named', async () => {
    const { pm, kernel } = await setup();
    kernel.fail.set(CMD.delAddr, { errno: EINVAL, extack: { missingType: 1 } });
    const err = (await rejection(pm.deleteEndpoint(3))) as NetlinkError;
    expect(err.extack.missingType).toBe(1);
    // Type 1 of the request's attribute set (`attr`) is the addr nest.
    expect(err.message).toBe('mptcp_pm del-addr: EINVAL: required attribute addr missing');
    expect(err.attribute).toBe('addr');
  });

  it('an error ending a dump rejects listEndpoints', async () => {
    const { pm, peer } = await setup();
    peer.handler = (req, p) => p.dump(req, [addressReply({ id: 1, v4: '192.0.2.1', flags: 1 })], 1, 90, { message: 'not enough space in Netlink message' });
    const err = await rejection(pm.listEndpoints());
    expect(err).toMatchObject({ name: 'NetlinkError', code: 'EMSGSIZE', op: 'get-addr' });
  });
});

describe('commands this kernel lacks', () => {
  const without = (cmd: number): [number, number][] => ALL_OPS.filter(([c]) => c !== cmd);

  it('setEndpointFlags → UnsupportedError naming set-flags and Linux 5.12; nothing sent, not even the read', async () => {
    const { pm, peer, kernel } = await setup(without(CMD.setFlags));
    kernel.endpoints.push({ id: 1, v4: '192.0.2.1', flags: 2 });
    for (const ref of [1, { address: '192.0.2.1' }]) {
      const err = await rejection(pm.setEndpointFlags(ref, { backup: true }));
      expect(err).toBeInstanceOf(UnsupportedError);
      expect(err.message).toMatch(/set-flags/);
      expect(err.message).toMatch(/Linux 5\.12/);
      expect((err as UnsupportedError).sinceKernel).toBe('5.12');
    }
    expect(peer.familyRequests).toHaveLength(0);
  });

  const calls: [string, number, (pm: MptcpPm) => Promise<unknown>][] = [
    ['addEndpoint', CMD.addAddr, (pm) => pm.addEndpoint({ address: '192.0.2.1' })],
    ['deleteEndpoint(id)', CMD.delAddr, (pm) => pm.deleteEndpoint(1)],
    ['deleteEndpoint(address)', CMD.delAddr, (pm) => pm.deleteEndpoint({ address: '192.0.2.1' })],
    ['getEndpoint', CMD.getAddr, (pm) => pm.getEndpoint(1)],
    ['listEndpoints', CMD.getAddr, (pm) => pm.listEndpoints()],
    ['flushEndpoints', CMD.flushAddrs, (pm) => pm.flushEndpoints()],
    ['setLimits', CMD.setLimits, (pm) => pm.setLimits({ subflows: 1 })],
    ['getLimits', CMD.getLimits, (pm) => pm.getLimits()],
  ];
  for (const [name, cmd, call] of calls) {
    it(`${name} without command ${cmd} → UnsupportedError, nothing sent`, async () => {
      const { pm, peer } = await setup(without(cmd));
      const err = await rejection(call(pm));
      expect(err).toBeInstanceOf(UnsupportedError);
      expect(err.message).toMatch(/not supported by this kernel \(added in Linux 5\.7\)/);
      expect(peer.familyRequests).toHaveLength(0);
    });
  }
});

describe('input refused before sending (issue 2 §5)', () => {
  type Call = (pm: MptcpPm) => Promise<unknown>;
  const cases: [string, Call, string][] = [
    ['invalid IPv4', (pm) => pm.addEndpoint({ address: '192.0.2.256' }), 'address'],
    ['not an address', (pm) => pm.addEndpoint({ address: 'example.org' }), 'address'],
    ['invalid IPv6', (pm) => pm.addEndpoint({ address: '2001:db8:::1' }), 'address'],
    ['address with a prefix', (pm) => pm.addEndpoint({ address: '192.0.2.0/24' }), 'address'],
    ['missing address', (pm) => pm.addEndpoint({} as never), 'address'],
    ['id 0', (pm) => pm.addEndpoint({ address: '192.0.2.1', id: 0 }), 'id'],
    ['id 256', (pm) => pm.addEndpoint({ address: '192.0.2.1', id: 256 }), 'id'],
    ['id -1', (pm) => pm.addEndpoint({ address: '192.0.2.1', id: -1 }), 'id'],
    ['id 1.5', (pm) => pm.addEndpoint({ address: '192.0.2.1', id: 1.5 }), 'id'],
    ['port 0', (pm) => pm.addEndpoint({ address: '192.0.2.1', port: 0, flags: ['signal'] }), 'port'],
    ['port 65536', (pm) => pm.addEndpoint({ address: '192.0.2.1', port: 65536, flags: ['signal'] }), 'port'],
    ['port without signal (no flags)', (pm) => pm.addEndpoint({ address: '192.0.2.1', port: 8080 }), 'port'],
    ['port without signal (subflow)', (pm) => pm.addEndpoint({ address: '192.0.2.1', port: 8080, flags: ['subflow'] }), 'port'],
    ['port with signal and subflow', (pm) => pm.addEndpoint({ address: '192.0.2.1', port: 8080, flags: ['signal', 'subflow'] }), 'port'],
    ['signal with fullmesh', (pm) => pm.addEndpoint({ address: '192.0.2.1', flags: ['signal', 'fullmesh'] }), 'flags'],
    ['implicit', (pm) => pm.addEndpoint({ address: '192.0.2.1', flags: ['implicit'] }), 'flags'],
    ['implicit with subflow', (pm) => pm.addEndpoint({ address: '192.0.2.1', flags: ['subflow', 'implicit'] }), 'flags'],
    ['unknown flag name', (pm) => pm.addEndpoint({ address: '192.0.2.1', flags: ['signal', 'bogus' as never] }), 'flags[1]'],
    ['flags not an array', (pm) => pm.addEndpoint({ address: '192.0.2.1', flags: 'signal' as never }), 'flags'],
    ['unknown interface name', (pm) => pm.addEndpoint({ address: '192.0.2.1', flags: ['subflow'], ifname: 'nosuchif0' }), 'ifname'],
    ['malformed interface name', (pm) => pm.addEndpoint({ address: '192.0.2.1', ifname: 'a/b' }), 'ifname'],
    ['ifname and ifindex both', (pm) => pm.addEndpoint({ address: '192.0.2.1', ifname: 'lo', ifindex: 1 }), 'ifname'],
    ['ifindex 0', (pm) => pm.addEndpoint({ address: '192.0.2.1', ifindex: 0 }), 'ifindex'],
    ['unknown option (typo)', (pm) => pm.addEndpoint({ address: '192.0.2.1', flag: ['signal'] } as never), 'endpoint.flag'],
    ['limits.subflows 9', (pm) => pm.setLimits({ subflows: 9 }), 'limits.subflows'],
    ['limits.subflows -1', (pm) => pm.setLimits({ subflows: -1 }), 'limits.subflows'],
    ['limits.addAddrAccepted 9', (pm) => pm.setLimits({ addAddrAccepted: 9 }), 'limits.addAddrAccepted'],
    ['limits.addAddrAccepted 2.5', (pm) => pm.setLimits({ addAddrAccepted: 2.5 }), 'limits.addAddrAccepted'],
    ['limits: one good, one bad', (pm) => pm.setLimits({ subflows: 2, addAddrAccepted: 100 }), 'limits.addAddrAccepted'],
    ['limits unknown key', (pm) => pm.setLimits({ subflow: 2 } as never), 'limits.subflow'],
    ['getEndpoint id 0', (pm) => pm.getEndpoint(0), 'id'],
    ['getEndpoint id 256', (pm) => pm.getEndpoint(256), 'id'],
    ['deleteEndpoint id 0', (pm) => pm.deleteEndpoint(0), 'id'],
    ['deleteEndpoint id 300', (pm) => pm.deleteEndpoint(300), 'id'],
    ['deleteEndpoint bad address', (pm) => pm.deleteEndpoint({ address: '192.0.2' }), 'endpoint.address'],
    ['deleteEndpoint port 0', (pm) => pm.deleteEndpoint({ address: '192.0.2.1', port: 0 }), 'endpoint.port'],
    ['setEndpointFlags id 0', (pm) => pm.setEndpointFlags(0, { backup: true }), 'id'],
    ['setEndpointFlags id 256', (pm) => pm.setEndpointFlags(256, { backup: true }), 'id'],
    ['setEndpointFlags nothing to change', (pm) => pm.setEndpointFlags(1, {}), 'change'],
    ['setEndpointFlags non-boolean', (pm) => pm.setEndpointFlags(1, { backup: 'yes' as never }), 'change.backup'],
    ['setEndpointFlags other flag', (pm) => pm.setEndpointFlags(1, { signal: true } as never), 'change.signal'],
    ['setEndpointFlags bad address', (pm) => pm.setEndpointFlags({ address: '::g' }, { backup: true }), 'endpoint.address'],
    ['setEndpointFlags port 70000', (pm) => pm.setEndpointFlags({ address: '192.0.2.1', port: 70000 }, { backup: true }), 'endpoint.port'],
  ];
  for (const [name, call, field] of cases) {
    it(`${name} → ValidationError naming "${field}", nothing sent`, async () => {
      const { pm, peer, kernel } = await setup();
      kernel.endpoints.push({ id: 1, v4: '192.0.2.1', flags: 2 });
      const err = await rejection(call(pm));
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).field).toBe(field);
      expect(err.message.startsWith(`${field}: `)).toBe(true);
      expect(peer.familyRequests).toHaveLength(0);
    });
  }

  it('the unknown interface error names the interface and where it was looked up', async () => {
    const { pm } = await setup();
    const err = await rejection(pm.addEndpoint({ address: '192.0.2.1', ifname: 'nosuchif0' }));
    expect(err.message).toMatch(/nosuchif0/);
    expect(err.message).toMatch(/this network namespace/);
  });

  it('a closed client refuses calls with ClosedError, nothing sent', async () => {
    const { pm, peer } = await setup();
    pm.close();
    pm.close();
    await expect(pm.listEndpoints()).rejects.toBeInstanceOf(ClosedError);
    await expect(pm.setEndpointFlags(1, { backup: true })).rejects.toBeInstanceOf(ClosedError);
    expect(peer.familyRequests).toHaveLength(0);
    expect(peer.closed).toBe(true);
  });
});
