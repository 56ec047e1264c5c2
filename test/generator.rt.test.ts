// Tests of the netlink-raw operations of scripts/generate.ts (rtnetlink's directional message types,
// fixed headers, numbered multicast groups) on a tiny inline spec, loud failures, and the generated
// rt_* modules kept current and equal to the numbers of linux/rtnetlink.h and linux/fib_rules.h.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, renderSpec } from '../scripts/generator/index.js';
import * as addr from '../generated/rt_addr.js';
import * as link from '../generated/rt_link.js';
import * as route from '../generated/rt_route.js';
import * as rule from '../generated/rt_rule.js';

const BASE = `name: demo-rt
protocol: netlink-raw
protonum: 0
definitions:
  - type: struct
    name: hdr
    members:
      - { name: family, type: u8 }
      - { name: pad, type: pad, len: 3 }
      - { name: index, type: u32 }
attribute-sets:
  - name: things
    name-prefix: thing-
    attributes:
      - { name: name, type: string, value: 1 }
      - { name: weight, type: u32 }
`;

const OPS = `operations:
  enum-model: directional
  name-prefix: dmsg-
  fixed-header: hdr
  list:
    - name: getthing
      doc: Every thing.
      attribute-set: things
      do:
        request: { value: 42, attributes: [ family, name ] }
        reply: { value: 40, attributes: [ name, weight ] }
      dump:
        request: { value: 42 }
        reply: { value: 40, attributes: [ name, weight ] }
mcast-groups:
  list:
    - { name: dgrp-things, value: 3 }
`;

describe('netlink-raw operations', () => {
  const out = renderSpec(BASE + OPS, 'test/inline.yaml');

  it('renders an operation table with request and reply message types and the fixed header', () => {
    expect(out).toContain(`export const ops = {
  /** Every thing. C: DMSG_GETTHING. */
  getthing: {
    name: 'getthing',
    attributeSet: 'things',
    header: hdr,
    do: { request: 42, reply: 40 },
    dump: { request: 42, reply: 40 },
  },
} as const;`);
  });

  it('renders numbered multicast groups', () => {
    expect(out).toContain(`export const McastGroup = {
  /** C: DGRP_THINGS. */
  dgrpThings: 3,
} as const;`);
  });

  it('types each message as header plus the attributes it lists; header members are typed by the header', () => {
    expect(out).toContain(`export interface GetthingRequest {
  header: StructInput<Hdr>;
  attrs: {
    name?: string;
  };
}`);
    expect(out).toContain(`export interface GetthingDumpReply {
  header: Hdr;
  attrs: {
    name?: string;
    weight?: number;
    unknown?: UnknownAttr[];
  };
}`);
    expect(out).toContain('export interface GetthingDumpRequest {\n  header: StructInput<Hdr>;\n  attrs: {};\n}');
    expect(out).toContain("import { member, struct, type StructDesc, type StructInput } from '../src/netlink/core/struct.js';");
  });

  it('renders the same text twice', () => {
    expect(renderSpec(BASE + OPS, 'test/inline.yaml')).toBe(out);
  });

  it.each([
    ['a unified enum model', OPS.replace('directional', 'unified'), /enum-model 'directional'/],
    ['no fixed header', OPS.replace('  fixed-header: hdr\n', ''), /needs a 'fixed-header'/],
    ['a fixed header that is not a struct', OPS.replace('fixed-header: hdr', 'fixed-header: nope'), /'nope' is not a struct/],
    ['a message type of the netlink control range', OPS.replace('value: 42, attributes', 'value: 3, attributes'), /message type 16\.\.65535/],
    ['an attribute of no set and no header', OPS.replace('[ family, name ]', '[ family, colour ]'), /'colour' is neither an attribute of things nor a member of hdr/],
    ['an unknown attribute set', OPS.replace('attribute-set: things', 'attribute-set: others'), /unknown set 'others'/],
    ['an operation with neither do nor dump', OPS.replace(/ {6}do:[\s\S]*?(?=mcast-groups)/, ''), /needs 'do' or 'dump'/],
    ['a group without its number', OPS.replace('{ name: dgrp-things, value: 3 }', '{ name: dgrp-things }'), /needs its number/],
    ['two groups with one number', OPS.replace('value: 3 }', 'value: 3 }\n    - { name: dgrp-more, value: 3 }'), /group number 3 already used/],
  ])('fails loudly on %s', (_what, ops, re) => {
    expect(() => renderSpec(BASE + ops, 'x.yaml')).toThrow(re);
  });
});

describe('generated rt_* modules', () => {
  it.each(['rt_link', 'rt_addr', 'rt_route', 'rt_rule'])('generated/%s.ts equals a fresh render of its spec', (name) => {
    const spec = `scripts/spec/${name}.yaml`;
    expect(readFileSync(resolve(REPO_ROOT, `generated/${name}.ts`), 'utf8')).toBe(renderSpec(readFileSync(resolve(REPO_ROOT, spec)), spec));
  });

  it('message types and groups are those of linux/rtnetlink.h', () => {
    // RTM_NEWLINK 16 … RTM_GETRULE 34; RTNLGRP_LINK 1, _IPV4_IFADDR 5, _IPV4_ROUTE 7, _IPV4_RULE 8,
    // _IPV6_IFADDR 9, _IPV6_ROUTE 11, _IPV6_RULE 19.
    expect([link.ops.newlink.do.request, link.ops.dellink.do.request, link.ops.getlink.dump.request, link.ops.getlink.dump.reply]).toEqual([16, 17, 18, 16]);
    expect([addr.ops.newaddr.do.request, addr.ops.deladdr.do.request, addr.ops.getaddr.dump.request]).toEqual([20, 21, 22]);
    expect([route.ops.newroute.do.request, route.ops.delroute.do.request, route.ops.getroute.do.request, route.ops.getroute.do.reply]).toEqual([24, 25, 26, 24]);
    expect([rule.ops.newrule.do.request, rule.ops.delrule.do.request, rule.ops.getrule.dump.request]).toEqual([32, 33, 34]);
    expect([link.McastGroup.rtnlgrpLink, addr.McastGroup.rtnlgrpIpv4Ifaddr, route.McastGroup.rtnlgrpIpv4Route, rule.McastGroup.rtnlgrpIpv4Rule]).toEqual([1, 5, 7, 8]);
    expect([addr.McastGroup.rtnlgrpIpv6Ifaddr, route.McastGroup.rtnlgrpIpv6Route, rule.McastGroup.rtnlgrpIpv6Rule]).toEqual([9, 11, 19]);
  });

  it('fixed headers have the C sizes and attribute numbers are the uapi ones', () => {
    expect([link.ifinfomsg.size, addr.ifaddrmsg.size, route.rtmsg.size, rule.fibRuleHdr.size]).toEqual([16, 8, 12, 12]);
    const typeOf = (f: { attributeSets: Record<string, { attrs: readonly { name: string; type: number }[] }> }, set: string, name: string): number | undefined =>
      f.attributeSets[set].attrs.find((a) => a.name === name)?.type;
    expect(typeOf(link.family, 'link-attrs', 'ifname')).toBe(3); // IFLA_IFNAME
    expect([typeOf(addr.family, 'addr-attrs', 'local'), typeOf(addr.family, 'addr-attrs', 'flags')]).toEqual([2, 8]); // IFA_LOCAL, IFA_FLAGS
    expect([typeOf(route.family, 'route-attrs', 'gateway'), typeOf(route.family, 'route-attrs', 'table'), typeOf(route.family, 'route-attrs', 'uid')]).toEqual([5, 15, 25]);
    expect([typeOf(rule.family, 'rule-attrs', 'priority'), typeOf(rule.family, 'rule-attrs', 'table'), typeOf(rule.family, 'rule-attrs', 'protocol'), typeOf(rule.family, 'rule-attrs', 'dport-range')]).toEqual([6, 15, 21, 24]);
    expect([link.IfinfoFlags.up, link.IfinfoFlags.loopback, link.IfinfoFlags.running, addr.IfaFlags.tentative, rule.FrAct.toTbl]).toEqual([0x1, 0x8, 0x40, 0x40, 1]);
  });
});
