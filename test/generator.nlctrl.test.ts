// The genetlink-legacy constructs nlctrl needs, generator and codec: indexed arrays of nests, nests
// keyed by ids (nest-type-value), commands with request and reply numbered apart (enum-model
// directional); generated/nlctrl.ts kept current and equal to linux/genetlink.h; and the family a
// real kernel describes decoded as `genl ctrl get` prints it.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, renderSpec } from '../scripts/generator/index.js';
import { Op, nlctrlFamily, type CtrlAttrs, type McastGroupAttrs } from '../generated/nlctrl.js';
import { decodeAttrs, encodeAttrs } from '../src/netlink/core/codec.js';
import { DecodeError } from '../src/netlink/core/errors.js';
import { decodeFamily, getFamilyRequest } from '../src/netlink/genl/ctrl.js';
import { GenlSocket } from '../src/netlink/genl/socket.js';
import { Netns } from '../src/os/netns.js';
import { cat, cstr, nest, nla, toHex, u16le, u32le } from './helpers/bytes.js';
import { kernelIt, makeNetns, type TestNetns } from './helpers/netns.js';

const SPEC = `name: demo
protocol: genetlink-legacy
attribute-sets:
  - name: top
    attributes:
      - { name: id, type: u16, value: 1 }
      - { name: items, type: indexed-array, sub-type: nest, nested-attributes: item }
      - { name: table, type: nest-type-value, type-value: [ row, col ], nested-attributes: item }
  - name: item
    attributes:
      - { name: name, type: string, value: 1 }
      - { name: size, type: u32 }
operations:
  enum-model: directional
  list:
    - name: get
      attribute-set: top
      do:
        request: { value: 3, attributes: [ id ] }
        reply: { value: 1, attributes: [ id, items, table ] }
`;

describe('genetlink-legacy constructs in the generator', () => {
  const out = renderSpec(SPEC, 'test/inline.yaml');

  it('types an indexed array as an array and a nest-type-value as objects keyed by id, one level per type-value', () => {
    expect(out).toContain('  items?: Item[];');
    expect(out).toContain('  table?: Record<number, Record<number, Item>>;');
    expect(out).toContain("{ name: 'table', field: 'table', type: 3, kind: 'nest-type-value', nested: 'item', typeValue: ['row', 'col'] }");
  });

  it('numbers a directional command by its request and keeps the reply number', () => {
    expect(out).toMatch(/export const Op = \{\n {2}get: 3,\n\} as const;/);
    expect(out).toContain("        request: { value: 3, attributes: ['id'] },\n        reply: { value: 1, attributes: ['id', 'items', 'table'] },");
  });

  it.each([
    ['an indexed array of scalars', SPEC.replace('sub-type: nest', 'sub-type: u32'), /unsupported sub-type 'u32'/],
    ['a nest-type-value without its levels', SPEC.replace('type-value: [ row, col ], ', ''), /needs 'type-value'/],
    ['a directional request without its value', SPEC.replace('request: { value: 3, attributes', 'request: { attributes'), /needs its value/],
    ['a command value beside directional values', SPEC.replace('    - name: get\n', '    - name: get\n      value: 7\n'), /values go on 'request' and 'reply'/],
  ])('fails loudly on %s', (_what, text, re) => {
    expect(() => renderSpec(text, 'x.yaml')).toThrow(re);
  });
});

describe('indexed arrays and nest-type-values in the codec', () => {
  const group = (i: number, name: string, id: number): Uint8Array => nest(i, nla(1, cstr(name)), nla(2, u32le(id)));

  it('decodes an indexed array in wire order, whatever the indexes', () => {
    const bytes = nest(7, group(1, 'mptcp_pm_cmds', 8), group(5, 'mptcp_pm_events', 9));
    const r = decodeAttrs<CtrlAttrs>(nlctrlFamily, 'ctrl-attrs', bytes, 'ctrl');
    expect(r.mcastGroups).toEqual([{ name: 'mptcp_pm_cmds', id: 8 }, { name: 'mptcp_pm_events', id: 9 }] satisfies McastGroupAttrs[]);
  });

  it('encodes an indexed array numbered from 1, as the kernel numbers it', () => {
    const w = encodeAttrs(nlctrlFamily, 'ctrl-attrs', { mcastGroups: [{ name: 'a', id: 1 }, { name: 'b', id: 2 }] });
    expect(toHex(w.finish())).toBe(toHex(nest(7, group(1, 'a', 1), group(2, 'b', 2))));
  });

  it('decodes a two-level nest-type-value into objects keyed by policy index and attribute type', () => {
    const bytes = nest(8, nest(3, nest(1, nla(1, u32le(13)), nla(8, u32le(1))), nest(4, nla(1, u32le(4)))));
    const r = decodeAttrs<CtrlAttrs>(nlctrlFamily, 'ctrl-attrs', bytes, 'ctrl');
    expect(r.policy).toEqual({ 3: { 1: { type: 13, policyIdx: 1 }, 4: { type: 4 } } });
  });

  it('names the place of a malformed entry: index within the array, ids within the nest', () => {
    expect(() => decodeAttrs(nlctrlFamily, 'ctrl-attrs', nest(6, nest(1, nla(1, u32le(1))), nest(2, nla(2, u16le(1)))), 'ctrl')).toThrow(/^ctrl\.ops\[1\]\.flags: expected 4 bytes, got 2$/);
    const bad = nest(9, nest(6, nla(2, [1, 2])));
    expect(() => decodeAttrs(nlctrlFamily, 'ctrl-attrs', bad, 'ctrl')).toThrow(DecodeError);
    expect(() => decodeAttrs(nlctrlFamily, 'ctrl-attrs', bad, 'ctrl')).toThrow(/^ctrl\.op-policy\.6\.dump: /);
  });
});

describe('generated/nlctrl.ts', () => {
  it('equals a fresh render of scripts/spec/nlctrl.yaml', () => {
    const spec = 'scripts/spec/nlctrl.yaml';
    expect(readFileSync(resolve(REPO_ROOT, 'generated/nlctrl.ts'), 'utf8')).toBe(renderSpec(readFileSync(resolve(REPO_ROOT, spec)), spec));
  });

  it('has the numbers of linux/genetlink.h', () => {
    // CTRL_CMD_GETFAMILY 3, CTRL_CMD_GETPOLICY 10; CTRL_ATTR_FAMILY_NAME 2, _OPS 6, _MCAST_GROUPS 7, _POLICY 8, _OP_POLICY 9, _OP 10.
    expect([Op.getfamily, Op.getpolicy]).toEqual([3, 10]);
    const types = Object.fromEntries(nlctrlFamily.attributeSets['ctrl-attrs'].attrs.map((a) => [a.name, a.type]));
    expect([types['family-name'], types['ops'], types['mcast-groups'], types['policy'], types['op-policy'], types['op']]).toEqual([2, 6, 7, 8, 9, 10]);
    expect(toHex(getFamilyRequest('mptcp_pm'))).toBe(toHex(nla(2, cstr('mptcp_pm'))));
  });

  it("decodes a GETFAMILY reply built from the header's numbers", () => {
    const reply = cat(nla(1, u16le(0x1c)), nla(2, cstr('mptcp_pm')), nla(3, u32le(1)), nla(4, u32le(0)), nla(5, u32le(0)),
      nest(6, nest(1, nla(1, u32le(1)), nla(2, u32le(0x1b))), nest(2, nla(1, u32le(2)), nla(2, u32le(0x0b)))),
      nest(7, nest(1, nla(2, u32le(8)), nla(1, cstr('mptcp_pm_cmds')))));
    const f = decodeFamily(reply);
    expect([f.name, f.id, f.version]).toEqual(['mptcp_pm', 0x1c, 1]);
    expect([...f.ops]).toEqual([[1, 0x1b], [2, 0x0b]]);
    expect([...f.groups]).toEqual([['mptcp_pm_cmds', 8]]);
  });
});

describe("a real kernel's GETFAMILY reply", () => {
  const kit = kernelIt();
  kit('decodes to what `genl ctrl get name mptcp_pm` prints', async () => {
    let ns: TestNetns | undefined;
    let handle: Netns | undefined;
    let sock: GenlSocket | undefined;
    try {
      ns = await makeNetns('nlctrl');
      const text = await ns.exec('genl', ['ctrl', 'get', 'name', 'mptcp_pm']);
      const head = /ID: (0x[0-9a-f]+)\s+Version: (0x[0-9a-f]+)/.exec(text);
      const cmds = [...text.matchAll(/#\d+:\s+ID-(0x[0-9a-f]+)\s*$/gm)].map((m) => Number(m[1]));
      const groups = [...text.matchAll(/ID-(0x[0-9a-f]+)\s+name: (\S+)/g)].map((m) => [m[2], Number(m[1])]);
      expect(head).not.toBeNull();
      handle = Netns.open(ns.name);
      sock = await GenlSocket.open('mptcp_pm', { netns: handle });
      expect([sock.familyId, sock.version]).toEqual([Number(head?.[1]), Number(head?.[2])]);
      expect([...sock.ops.keys()].sort((a, b) => a - b)).toEqual(cmds.sort((a, b) => a - b));
      expect([...sock.groups].sort()).toEqual(groups.sort());
    } finally {
      sock?.close();
      handle?.close();
      await ns?.destroy();
    }
  }, 60_000);
});
