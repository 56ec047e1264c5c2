// The generated rtnetlink codecs against iproute2: the requests the route layer sends carry the bytes
// `ip` sends for the same question (captured with `strace -e sendto,sendmsg -xx ip -n NS …`, iproute2
// 6.1 on a 6.12 kernel), and the replies of a real kernel decode to what `ip -j` reports.

import { describe, expect, it } from 'vitest';
import { hex, toHex } from './helpers/bytes.js';
import { kernelIt, makeNetns, type TestNetns } from './helpers/netns.js';
import { ScriptedPeer, type ScriptedRequest } from './helpers/scripted-peer.js';
import { addRoute, addRule, listAddresses, listLinks, listRoutes, listRules } from '../src/netlink/route/ops.js';
import { RouteSocket } from '../src/netlink/route/socket.js';
import { Netns } from '../src/os/netns.js';

const NLM_F_REQUEST = 0x1;
const NLM_F_ACK = 0x4;
const NLM_F_DUMP = 0x300;
const NLM_F_EXCL = 0x200;
const NLM_F_CREATE = 0x400;

interface Sent { type: number; flags: number; payload: Uint8Array }

/** Records each request and answers it as the kernel would when there is nothing to report. */
class Recorder extends ScriptedPeer {
  readonly portId = 0x5151;
  readonly sent: Sent[] = [];
  protected answer(req: ScriptedRequest): Buffer[] {
    this.sent.push({ type: req.type, flags: req.flags, payload: req.payload });
    const dump = (req.flags & NLM_F_DUMP) === NLM_F_DUMP;
    const reply = Buffer.alloc(dump ? 20 : 36);
    reply.writeUInt32LE(reply.length, 0);
    reply.writeUInt16LE(dump ? 3 : 2, 4); // NLMSG_DONE, or NLMSG_ERROR 0 (an ACK)
    reply.writeUInt16LE(dump ? 2 : 0x100, 6);
    reply.writeUInt32LE(req.seq, 8);
    if (!dump) req.header.copy(reply, 20);
    return [reply];
  }
}

async function capture(fn: (s: RouteSocket) => Promise<unknown>): Promise<Sent> {
  const rec = new Recorder();
  const sock = RouteSocket.open({ transport: rec, timeoutMs: 2000 });
  try {
    await fn(sock);
  } finally {
    sock.close();
  }
  expect(rec.sent).toHaveLength(1);
  return rec.sent[0];
}

/** The attributes after a fixed header of `headerLen` bytes, each as hex, ordered by type. */
function attrsByType(payload: Uint8Array, headerLen: number): string[] {
  const out: [number, string][] = [];
  for (let at = headerLen; at + 4 <= payload.length;) {
    const len = payload[at] | (payload[at + 1] << 8);
    out.push([payload[at + 2] | (payload[at + 3] << 8), toHex(payload.subarray(at, at + len))]);
    at += (len + 3) & ~3;
  }
  return out.sort((a, b) => a[0] - b[0]).map(([, h]) => h);
}

describe('rtnetlink requests are the ones ip sends', () => {
  it('`ip -4 rule show`: RTM_GETRULE dump, fib_rule_hdr with AF_INET', async () => {
    const s = await capture((sock) => listRules(sock, 'inet'));
    expect([s.type, s.flags & ~NLM_F_ACK]).toEqual([0x22, NLM_F_REQUEST | NLM_F_DUMP]); // the core also asks for an ACK
    expect(toHex(s.payload)).toBe(toHex(hex('02 00 00 00 00 00 00 00 00 00 00 00')));
  });

  it('`ip -4 route show table all`: RTM_GETROUTE dump, rtmsg with AF_INET', async () => {
    const s = await capture((sock) => listRoutes(sock, 'inet'));
    expect([s.type, s.flags & ~NLM_F_ACK]).toEqual([0x1a, NLM_F_REQUEST | NLM_F_DUMP]); // the core also asks for an ACK
    expect(toHex(s.payload)).toBe(toHex(hex('02 00 00 00 00 00 00 00 00 00 00 00')));
  });

  it('`ip addr show`: RTM_GETADDR dump, an empty ifaddrmsg', async () => {
    const s = await capture((sock) => listAddresses(sock));
    expect([s.type, s.flags & ~NLM_F_ACK]).toEqual([0x16, NLM_F_REQUEST | NLM_F_DUMP]); // the core also asks for an ACK
    expect(toHex(s.payload)).toBe(toHex(hex('00 00 00 00 00 00 00 00')));
  });

  it('`ip rule add from 198.51.100.1 lookup 1000 pref 10000 proto 77`: same header, same attributes', async () => {
    const s = await capture((sock) => addRule(sock, { family: 'inet', priority: 10000, table: 1000, protocol: 77, src: '198.51.100.1', srcLen: 32 }));
    const ip = hex('02 00 20 00 00 00 00 01 00 00 00 00 08 00 02 00 c6 33 64 01 08 00 0f 00 e8 03 00 00 08 00 06 00 10 27 00 00 05 00 15 00 4d 00 00 00');
    expect([s.type, s.flags]).toEqual([0x20, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL]);
    expect(toHex(s.payload.subarray(0, 12))).toBe(toHex(ip.subarray(0, 12)));
    // ip writes them in the order of its command line, the codec in attribute order; the kernel reads either.
    expect(attrsByType(s.payload, 12)).toEqual(attrsByType(ip, 12));
    expect(s.payload.length).toBe(ip.length);
  });

  it('`ip route add default via 198.51.100.254 dev IF table 1000 proto 77`: same attributes; the table byte says "see RTA_TABLE"', async () => {
    const s = await capture((sock) => addRoute(sock, { family: 'inet', table: 1000, protocol: 77, scope: 0, dstLen: 0, gateway: '198.51.100.254', oif: 3 }));
    const ip = hex('02 00 00 00 00 4d 00 01 00 00 00 00 08 00 05 00 c6 33 64 fe 08 00 0f 00 e8 03 00 00 08 00 04 00 03 00 00 00');
    expect([s.type, s.flags]).toEqual([0x18, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL]);
    // rtm_table: ip writes RT_TABLE_UNSPEC (0), this library RT_TABLE_COMPAT (252); for both the kernel takes RTA_TABLE.
    expect([s.payload[4], ip[4]]).toEqual([252, 0]);
    const withoutTable = (b: Uint8Array): string => toHex([...b.subarray(0, 4), ...b.subarray(5, 12)]);
    expect(withoutTable(s.payload)).toBe(withoutTable(ip));
    expect(attrsByType(s.payload, 12)).toEqual(attrsByType(ip, 12));
  });
});

describe('rtnetlink replies of a real kernel decode to what ip -j reports', () => {
  const kit = kernelIt();
  kit('links, addresses, routes and rules of a scratch namespace', async () => {
    let ns: TestNetns | undefined;
    let handle: Netns | undefined;
    let sock: RouteSocket | undefined;
    try {
      ns = await makeNetns('rtcodec');
      await ns.ip('link', 'add', 'rtc0', 'type', 'veth', 'peer', 'name', 'rtc1');
      await ns.ip('link', 'set', 'rtc0', 'up');
      await ns.ip('addr', 'add', '198.51.100.7/24', 'dev', 'rtc0');
      await ns.ip('-6', 'addr', 'add', '2001:db8::7/64', 'dev', 'rtc0', 'nodad');
      await ns.ip('route', 'add', 'default', 'via', '198.51.100.254', 'dev', 'rtc0', 'table', '1000', 'proto', '77', 'metric', '5');
      await ns.ip('rule', 'add', 'from', '198.51.100.7', 'lookup', '1000', 'pref', '10000', 'proto', '77');
      await ns.ip('rule', 'add', 'fwmark', '7', 'lookup', '1001', 'pref', '10001');
      handle = Netns.open(ns.name);
      sock = RouteSocket.open({ netns: handle });

      const ipLinks = JSON.parse(await ns.ip('-j', 'link', 'show')) as { ifindex: number; ifname: string; flags: string[] }[];
      const links = await listLinks(sock);
      expect(links.map((l) => [l.index, l.name, l.up, l.loopback]).sort()).toEqual(
        ipLinks.map((l) => [l.ifindex, l.ifname, l.flags.includes('UP'), l.flags.includes('LOOPBACK')]).sort(),
      );

      const ipAddrs = JSON.parse(await ns.ip('-j', 'addr', 'show')) as { ifindex: number; addr_info: { family: string; local: string; prefixlen: number; scope: string }[] }[];
      const want = ipAddrs.flatMap((l) => l.addr_info.map((a) => [l.ifindex, a.family, a.local, a.prefixlen]));
      const addrs = await listAddresses(sock);
      expect(addrs.map((a) => [a.ifindex, a.family, a.address, a.prefixlen]).sort()).toEqual(want.sort());
      expect(addrs.find((a) => a.address === '198.51.100.7')?.scope).toBe(0);

      const routes = (await listRoutes(sock, 'inet')).filter((r) => r.table === 1000);
      const rtc0 = links.find((l) => l.name === 'rtc0')?.index;
      expect(routes).toEqual([{ family: 'inet', table: 1000, protocol: 77, scope: 0, type: 1, dstLen: 0, gateway: '198.51.100.254', oif: rtc0, priority: 5 }]);

      const rules = await listRules(sock, 'inet');
      expect(rules.find((r) => r.priority === 10000)).toEqual({ family: 'inet', priority: 10000, table: 1000, protocol: 77, action: 1, src: '198.51.100.7', srcLen: 32, selectors: false });
      expect(rules.find((r) => r.priority === 10001)?.selectors).toBe(true);
      const ipRules = JSON.parse(await ns.ip('-j', '-4', 'rule', 'show')) as { priority: number }[];
      expect(rules.map((r) => r.priority).sort((a, b) => a - b)).toEqual(ipRules.map((r) => r.priority).sort((a, b) => a - b));
    } finally {
      sock?.close();
      handle?.close();
      await ns?.destroy();
    }
  }, 60_000);
});
