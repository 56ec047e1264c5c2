// Tests of scripts/generate.ts: each spec construct rendered from a tiny inline spec against
// hand-written output, loud failures on unsupported constructs, and our mptcp_pm spec vs. the protocol.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSpec, renderSpec, REPO_ROOT, sourceName } from '../scripts/generator/index.js';
import {
  EndpointFlags,
  EventFlags,
  EventType,
  Op,
  ResetReason,
  mptcpPmFamily,
  type AnnouncedEvent,
} from '../generated/mptcp_pm.js';

const SPEC_PATH = resolve(REPO_ROOT, 'scripts/spec/mptcp_pm.yaml');
const OUT_PATH = resolve(REPO_ROOT, 'generated/mptcp_pm.ts');

/** Removes the indentation common to all non-blank lines, so specs can be written inline. */
function dedent(text: string): string {
  const lines = text.replace(/^\n/, '').split('\n');
  const widths = lines.filter((l) => l.trim() !== '').map((l) => /^ */.exec(l)?.[0].length ?? 0);
  const cut = Math.min(...widths);
  return lines.map((l) => l.slice(cut)).join('\n');
}

const SMALL_SET = `
attribute-sets:
  - name: s
    attributes:
      - name: a
        type: u8
`;
const NO_OPS = `
operations:
  list: []
`;

/** A spec of family `demo`; the parts left out get a one-attribute set and an empty op list. */
function spec(body: string, opts: { sets?: boolean; ops?: boolean } = {}): string {
  return [
    'name: demo\nprotocol: genetlink-legacy\ndoc: Demo family.',
    dedent(body),
    opts.sets === false ? '' : dedent(SMALL_SET),
    opts.ops === false ? '' : dedent(NO_OPS),
  ].join('\n');
}

function render(text: string): string {
  return renderSpec(text, 'test/inline.yaml');
}

/** Expects `snippet` in `output`, shifted right as a block by any whole number of indent levels. */
function expectSnippet(output: string, snippet: string): void {
  const lines = dedent(snippet).trimEnd().split('\n');
  const shifted = (pad: string): string => lines.map((l) => (l === '' ? '' : pad + l)).join('\n');
  const pad = ['', '  ', '    ', '      ', '        '].find((p) => output.includes(shifted(p)));
  expect(output).toContain(shifted(pad ?? ''));
}

describe('definitions', () => {
  it('renders a sparse enum with value-start and explicit values', () => {
    const out = render(spec(`
      definitions:
        - type: enum
          name: colour-kind
          value-start: 1
          entries:
            - red
            - green
            - name: blue
              value: 5
            - cyan
    `));
    expectSnippet(out, `
      /** C: DEMO_COLOUR_KIND_*. */
      export const ColourKind = {
        red: 1,
        green: 2,
        blue: 5,
        cyan: 6,
      } as const;
      export type ColourKind = keyof typeof ColourKind;
    `);
    expectSnippet(out, `
        'colour-kind': {
          name: 'colour-kind',
          kind: 'enum',
          entries: [
            { name: 'red', value: 1 },
            { name: 'green', value: 2 },
            { name: 'blue', value: 5 },
            { name: 'cyan', value: 6 },
          ],
        },
    `);
  });

  it('numbers an enum from 0 when value-start is absent', () => {
    const out = render(spec(`
      definitions:
        - type: enum
          name: mode
          entries: [off, on]
    `));
    expectSnippet(out, `
      export const Mode = {
        off: 0,
        on: 1,
      } as const;
    `);
  });

  it('renders flags as bit masks, with value-start and explicit bit numbers', () => {
    const out = render(spec(`
      definitions:
        - type: flags
          name: feature-bits
          value-start: 2
          doc: Optional features.
          entries:
            - fast
            - name: safe
              doc: Checked mode.
            - name: loud
              value: 7
            - quiet
    `));
    expectSnippet(out, `
      /** Optional features. C: DEMO_FEATURE_BITS_*. Values are bit masks. */
      export const FeatureBits = {
        fast: 0x4,
        /** Checked mode. */
        safe: 0x8,
        loud: 0x80,
        quiet: 0x100,
      } as const;
      export type FeatureBits = keyof typeof FeatureBits;
    `);
    expectSnippet(out, `
          kind: 'flags',
          entries: [
            { name: 'fast', value: 4 },
            { name: 'safe', value: 8 },
            { name: 'loud', value: 128 },
            { name: 'quiet', value: 256 },
          ],
    `);
  });

  it('renders constants in SCREAMING_SNAKE case', () => {
    const out = render(spec(`
      definitions:
        - type: const
          name: max-things
          value: 8
          doc: Upper bound.
        - type: const
          name: default-label
          value: none
    `));
    expectSnippet(out, `
      /** Upper bound. */
      export const MAX_THINGS = 8;
      export const DEFAULT_LABEL = 'none';
    `);
  });

  it('writes the family name and version', () => {
    const out = render(spec('version: 3'));
    expectSnippet(out, `
      export const FAMILY_NAME = 'demo';
      /** Version carried in the genl header. */
      export const FAMILY_VERSION = 3;
    `);
    expectSnippet(out, `
      export const demoFamily: FamilyDesc = {
        name: 'demo',
        version: 3,
    `);
    expect(out).toContain('export const family: FamilyDesc = demoFamily;');
    expect(out).toContain("import type { FamilyDesc, UnknownAttr } from '../src/netlink/core/spec-types.js';");
  });
});

describe('attribute sets', () => {
  it('maps every scalar kind, with byte order, to a table row and a field type', () => {
    const out = render(spec(`
      attribute-sets:
        - name: scalars
          attributes:
            - { name: unspec, type: unused, value: 0 }
            - { name: small, type: u8 }
            - { name: port, type: u16, byte-order: big-endian }
            - { name: addr, type: u32, byte-order: big-endian }
            - { name: big, type: u64, byte-order: big-endian }
            - { name: tiny, type: s8 }
            - { name: short, type: s16 }
            - { name: index, type: s32 }
            - { name: huge, type: s64 }
            - { name: blob, type: binary }
            - { name: label, type: string }
            - { name: enabled, type: flag }
            - { name: pad, type: pad }
            - { name: host-port, type: u16 }
    `, { sets: false }));
    expectSnippet(out, `
      /** C: DEMO_A_SCALARS_*. */
      export interface Scalars {
        /** DEMO_A_SCALARS_SMALL: u8. */
        small?: number;
        /** DEMO_A_SCALARS_PORT: u16 big-endian. */
        port?: number;
        /** DEMO_A_SCALARS_ADDR: u32 big-endian. */
        addr?: number;
        /** DEMO_A_SCALARS_BIG: u64 big-endian. */
        big?: bigint;
        /** DEMO_A_SCALARS_TINY: s8. */
        tiny?: number;
        /** DEMO_A_SCALARS_SHORT: s16. */
        short?: number;
        /** DEMO_A_SCALARS_INDEX: s32. */
        index?: number;
        /** DEMO_A_SCALARS_HUGE: s64. */
        huge?: bigint;
        /** DEMO_A_SCALARS_BLOB: binary. */
        blob?: Uint8Array;
        /** DEMO_A_SCALARS_LABEL: string. */
        label?: string;
        /** DEMO_A_SCALARS_ENABLED: flag. */
        enabled?: boolean;
        /** DEMO_A_SCALARS_HOST_PORT: u16. */
        hostPort?: number;
        /** Attributes the spec does not describe, kept as received. */
        unknown?: UnknownAttr[];
      }
    `);
    expectSnippet(out, `
          attrs: [
            { name: 'unspec', field: 'unspec', type: 0, kind: 'unused' },
            { name: 'small', field: 'small', type: 1, kind: 'u8' },
            { name: 'port', field: 'port', type: 2, kind: 'u16', byteOrder: 'big-endian' },
            { name: 'addr', field: 'addr', type: 3, kind: 'u32', byteOrder: 'big-endian' },
            { name: 'big', field: 'big', type: 4, kind: 'u64', byteOrder: 'big-endian' },
            { name: 'tiny', field: 'tiny', type: 5, kind: 's8' },
            { name: 'short', field: 'short', type: 6, kind: 's16' },
            { name: 'index', field: 'index', type: 7, kind: 's32' },
            { name: 'huge', field: 'huge', type: 8, kind: 's64' },
            { name: 'blob', field: 'blob', type: 9, kind: 'binary' },
            { name: 'label', field: 'label', type: 10, kind: 'string' },
            { name: 'enabled', field: 'enabled', type: 11, kind: 'flag' },
            { name: 'pad', field: 'pad', type: 12, kind: 'pad' },
            { name: 'host-port', field: 'hostPort', type: 13, kind: 'u16' },
          ],
    `);
  });

  it('restarts implicit numbering after an explicit value', () => {
    const model = parseSpec(spec(`
      attribute-sets:
        - name: s
          attributes:
            - { name: a, type: u8 }
            - { name: b, type: u8, value: 10 }
            - { name: c, type: u8 }
    `, { sets: false }));
    expect(model.attrSets[0]?.attrs.map((a) => a.type)).toEqual([1, 10, 11]);
  });

  it('renders length checks, including one given by a constant', () => {
    const out = render(spec(`
      definitions:
        - { type: const, name: max-blob, value: 64 }
      attribute-sets:
        - name: c
          attributes:
            - { name: addr6, type: binary, checks: { exact-len: 16 } }
            - { name: blob, type: binary, checks: { min-len: 4, max-len: max-blob } }
            - { name: ifname, type: string, checks: { max-len: 15 } }
    `, { sets: false }));
    expectSnippet(out, `
        /** DEMO_A_C_ADDR6: binary, 16 bytes. */
        addr6?: Uint8Array;
        /** DEMO_A_C_BLOB: binary, at least 4 bytes, at most 64 bytes. */
        blob?: Uint8Array;
        /** DEMO_A_C_IFNAME: string, at most 15 bytes. */
        ifname?: string;
    `);
    expectSnippet(out, `
            { name: 'addr6', field: 'addr6', type: 1, kind: 'binary', exactLen: 16 },
            { name: 'blob', field: 'blob', type: 2, kind: 'binary', minLen: 4, maxLen: 64 },
            { name: 'ifname', field: 'ifname', type: 3, kind: 'string', maxLen: 15 },
    `);
  });

  it('links enums and flags to attributes', () => {
    const out = render(spec(`
      definitions:
        - { type: enum, name: state, entries: [idle, busy] }
        - { type: flags, name: opts, entries: [x, y] }
      attribute-sets:
        - name: s
          attributes:
            - { name: state, type: u8, enum: state }
            - { name: opts, type: u32, enum: opts }
            - { name: state-mask, type: u32, enum: state, enum-as-flags: true }
    `, { sets: false }));
    expectSnippet(out, `
            { name: 'state', field: 'state', type: 1, kind: 'u8', enumName: 'state' },
            { name: 'opts', field: 'opts', type: 2, kind: 'u32', enumName: 'opts', asFlags: true },
            { name: 'state-mask', field: 'stateMask', type: 3, kind: 'u32', enumName: 'state', asFlags: true },
    `);
    expectSnippet(out, `
        /** DEMO_A_S_STATE: u8, State value. */
        state?: number;
        /** DEMO_A_S_OPTS: u32, Opts bits. */
        opts?: number;
    `);
  });

  it('types a nest with the nested set and records it in the table', () => {
    const out = render(spec(`
      attribute-sets:
        - name: inner
          attributes:
            - { name: x, type: u8 }
        - name: outer
          attributes:
            - { name: child, type: nest, nested-attributes: inner }
    `, { sets: false }));
    expectSnippet(out, `
      export interface Outer {
        /** DEMO_A_OUTER_CHILD: nest of Inner. */
        child?: Inner;
    `);
    expect(out).toContain("{ name: 'child', field: 'child', type: 1, kind: 'nest', nested: 'inner' },");
  });

  it('renders subset-of with the parent numbering and naming', () => {
    const out = render(spec(`
      attribute-sets:
        - name: all
          attributes:
            - { name: a, type: u8 }
            - { name: b, type: u32, value: 5 }
        - name: some
          subset-of: all
          attributes:
            - name: b
    `, { sets: false }));
    expectSnippet(out, `
      /** Subset of All. C: DEMO_A_ALL_*. */
      export interface Some {
        /** DEMO_A_ALL_B: u32. */
        b?: number;
        /** Attributes the spec does not describe, kept as received. */
        unknown?: UnknownAttr[];
      }
    `);
    expectSnippet(out, `
          some: {
            name: 'some',
            subsetOf: 'all',
            attrs: [
              { name: 'b', field: 'b', type: 5, kind: 'u32' },
            ],
          },
    `);
  });

  it('uses name-prefix for C names without changing TypeScript names', () => {
    const out = render(spec(`
      definitions:
        - type: enum
          name: colour
          enum-name: dm-colour
          name-prefix: dm-col-
          entries: [red-ish]
      attribute-sets:
        - name: things
          name-prefix: dm-thing-attr-
          attributes:
            - { name: if-idx, type: s32 }
      operations:
        name-prefix: dm-cmd-
        list:
          - name: get
            attribute-set: things
            do: { request: { attributes: [if-idx] } }
    `, { sets: false, ops: false }));
    expectSnippet(out, `
      /** C: DM_COL_* (enum dm_colour). */
      export const Colour = {
        redIsh: 0,
      } as const;
    `);
    expectSnippet(out, `
      /** C: DM_THING_ATTR_*. */
      export interface Things {
        /** DM_THING_ATTR_IF_IDX: s32. */
        ifIdx?: number;
    `);
    expect(out).toContain('/** Command numbers (genl cmd). C: DM_CMD_*. */');
  });

  it('ts-name renames only the TypeScript type of a set; C names and references follow the set name', () => {
    const out = render(spec(`
      attribute-sets:
        - name: inner
          attributes:
            - { name: x, type: u8 }
        - name: endpoint
          ts-name: endpoint-attrs
          attributes:
            - { name: addr, type: nest, nested-attributes: inner }
    `, { sets: false }));
    expectSnippet(out, `
      /** C: DEMO_A_ENDPOINT_*. */
      export interface EndpointAttrs {
        /** DEMO_A_ENDPOINT_ADDR: nest of Inner. */
        addr?: Inner;
    `);
    expect(out).not.toMatch(/export interface Endpoint\b/);
  });
});

describe('operations, events and groups', () => {
  const OPS = `
    attribute-sets:
      - name: s
        attributes:
          - { name: id, type: u32 }
          - { name: label, type: string }
    operations:
      list:
        - name: get-thing
          value: 3
          attribute-set: s
          flags: [ admin-perm ]
          do:
            request: { attributes: [ id ] }
            reply: { attributes: [ id, label ] }
          dump:
            reply: { attributes: [ id, label ] }
        - name: del-thing
          attribute-set: s
          flags: [ uns-admin-perm ]
          dont-validate: [ strict ]
          do:
            request: { attributes: [ id ] }
  `;

  it('renders the op table, message types and op descriptors for do and dump', () => {
    const out = render(spec(OPS, { sets: false, ops: false }));
    expectSnippet(out, `
      /** Command numbers (genl cmd). C: DEMO_CMD_*. */
      export const Op = {
        getThing: 3,
        delThing: 4,
      } as const;
      export type Op = keyof typeof Op;
    `);
    expectSnippet(out, `
      /** Request of \`get-thing\` (do). */
      export interface GetThingRequest {
        id?: number;
      }

      /** Reply of \`get-thing\` (do). */
      export interface GetThingReply {
        id?: number;
        label?: string;
        unknown?: UnknownAttr[];
      }

      /** Reply of \`get-thing\` (dump). */
      export interface GetThingDumpReply {
        id?: number;
        label?: string;
        unknown?: UnknownAttr[];
      }

      /** Request of \`del-thing\` (do). */
      export interface DelThingRequest {
        id?: number;
      }
    `);
    expect(out).not.toContain('GetThingDumpRequest');
    expectSnippet(out, `
        operations: [
          {
            name: 'get-thing',
            field: 'getThing',
            value: 3,
            attributeSet: 's',
            flags: ['admin-perm'],
            do: { request: { attributes: ['id'] }, reply: { attributes: ['id', 'label'] } },
            dump: { reply: { attributes: ['id', 'label'] } },
          },
          {
            name: 'del-thing',
            field: 'delThing',
            value: 4,
            attributeSet: 's',
            flags: ['uns-admin-perm'],
            do: { request: { attributes: ['id'] } },
          },
        ],
    `);
  });

  const EVENTS = `
    definitions:
      - type: enum
        name: ev-type
        enum-name: demo-ev-type
        entries:
          - { name: started, value: 1 }
          - { name: stopped, value: 4 }
    attribute-sets:
      - name: ev
        attributes:
          - { name: token, type: u32 }
          - { name: port, type: u16, byte-order: big-endian }
    operations:
      async-enum: demo-ev-type
      list:
        - name: get-info
          value: 1
          attribute-set: ev
          do:
            request: { attributes: [ token ] }
            reply: { attributes: [ token, port ] }
        - name: started
          value: 1
          attribute-set: ev
          mcgrp: demo_events
          event: { attributes: [ token, port ] }
        - name: stopped
          value: STOPPED_VALUE
          notify: get-info
          mcgrp: demo_events
    mcast-groups:
      list:
        - name: demo_cmds
          c-define-name: demo-mcgrp-cmds
        - name: demo_events
  `;

  it('renders events from `event` and `notify`, their types and the event map', () => {
    const out = render(spec(EVENTS.replace('STOPPED_VALUE', '4'), { sets: false, ops: false }));
    expectSnippet(out, `
      export const Op = {
        getInfo: 1,
      } as const;
    `);
    expectSnippet(out, `
      /** Event \`started\` (cmd 1, group demo_events). */
      export interface StartedEvent {
        token?: number;
        port?: number;
        unknown?: UnknownAttr[];
      }

      /** Event \`stopped\` (cmd 4, group demo_events). */
      export interface StoppedEvent {
        token?: number;
        port?: number;
        unknown?: UnknownAttr[];
      }

      /** Payload type of each event, keyed by its camelCase name. */
      export interface EventMap {
        started: StartedEvent;
        stopped: StoppedEvent;
      }
    `);
    expectSnippet(out, `
        events: [
          {
            name: 'started',
            field: 'started',
            value: 1,
            attributeSet: 'ev',
            attributes: ['token', 'port'],
            mcastGroup: 'demo_events',
          },
          {
            name: 'stopped',
            field: 'stopped',
            value: 4,
            attributeSet: 'ev',
            attributes: ['token', 'port'],
            mcastGroup: 'demo_events',
          },
        ],
        mcastGroups: ['demo_cmds', 'demo_events'],
      };
    `);
  });

  it('renders the group names as an object keyed without the family prefix', () => {
    const out = render(spec(EVENTS.replace('STOPPED_VALUE', '4'), { sets: false, ops: false }));
    expectSnippet(out, `
      /** Multicast group names (their ids are resolved at run time). */
      export const McastGroup = {
        cmds: 'demo_cmds',
        events: 'demo_events',
      } as const;
      export type McastGroup = keyof typeof McastGroup;
    `);
  });

  it('refuses two groups that give the same key', () => {
    const text = spec('mcast-groups:\n  list:\n    - { name: demo_events }\n    - { name: events }');
    expect(() => render(text)).toThrow(/groups 'demo_events' and 'events' give the same key 'events'/);
  });

  it('refuses an event whose value differs from the async-enum entry', () => {
    expect(() => render(spec(EVENTS.replace('STOPPED_VALUE', '2'), { sets: false, ops: false }))).toThrow(
      /stopped.*value 2 differs from 4/,
    );
  });

  it('writes empty lists when there are no operations, events or groups', () => {
    const out = render(spec(''));
    expectSnippet(out, `
        operations: [],
        events: [],
        mcastGroups: [],
      };
    `);
    expect(out).not.toContain('EventMap');
    expect(out).not.toContain('McastGroup');
  });
});

describe('unsupported constructs fail loudly', () => {
  const attr = (extra: string): string => spec(`
    attribute-sets:
      - name: s
        attributes:
          - { name: a, ${extra} }
  `, { sets: false });
  const cases: [string, string, RegExp][] = [
    ['unknown top-level key', spec('family-flavour: x'), /unsupported key 'family-flavour'/],
    ['a genetlink spec relabelled netlink-raw (no protonum)', spec('').replace('genetlink-legacy', 'netlink-raw'), /needs protonum/],
    ['struct definition', spec('definitions:\n  - { type: struct, name: hdr, members: [] }'), /unsupported definition type 'struct'/],
    ['unknown definition key', spec('definitions:\n  - { type: enum, name: e, entries: [a], colour: red }'), /unsupported key 'colour'/],
    ['bitfield32 attribute', attr('type: bitfield32'), /unsupported attribute type 'bitfield32'/],
    ['multi-attr', attr('type: u32, multi-attr: true'), /unsupported key 'multi-attr'/],
    ['sub-type', attr('type: binary, sub-type: u32'), /unsupported key 'sub-type'/],
    ['struct attribute', attr('type: binary, struct: hdr'), /unsupported key 'struct'/],
    ['little-endian byte order', attr('type: u32, byte-order: little-endian'), /byte-order 'little-endian'/],
    ['byte order on binary', attr('type: binary, byte-order: big-endian'), /unsupported key 'byte-order'/],
    ['value checks', attr('type: u32, checks: { max: 8 }'), /unsupported key 'checks'/],
    ['min check on binary', attr('type: binary, checks: { min: 1 }'), /unsupported key 'min'/],
    ['nested-attributes on a scalar', attr('type: u32, nested-attributes: s'), /unsupported key 'nested-attributes'/],
    ['unknown nested set', attr('type: nest, nested-attributes: nowhere'), /unknown set 'nowhere'/],
    ['unknown enum', attr('type: u32, enum: nowhere'), /unknown enum 'nowhere'/],
    ['attribute named unknown', attr('type: u32').replace('name: a,', 'name: unknown,'), /'unknown'/],
    ['operations fixed-header', spec('operations:\n  fixed-header: hdr\n  list: []', { ops: false }), /unsupported key 'fixed-header'/],
    [
      'op fixed-header',
      spec('operations:\n  list:\n    - { name: x, attribute-set: s, fixed-header: hdr, do: {} }', { ops: false }),
      /unsupported key 'fixed-header'/,
    ],
    ['unknown enum model', spec('operations:\n  enum-model: split\n  list: []', { ops: false }), /unsupported enum-model 'split'/],
    [
      'request value',
      spec('operations:\n  list:\n    - { name: x, attribute-set: s, do: { request: { value: 4, attributes: [a] } } }', { ops: false }),
      /unsupported key 'value'/,
    ],
    [
      'unknown op flag',
      spec('operations:\n  list:\n    - { name: x, attribute-set: s, flags: [root-perm], do: {} }', { ops: false }),
      /unsupported flag 'root-perm'/,
    ],
    [
      'attribute outside the set',
      spec('operations:\n  list:\n    - { name: x, attribute-set: s, do: { request: { attributes: [zz] } } }', { ops: false }),
      /'zz' is not an attribute of set 's'/,
    ],
    [
      'event without group',
      spec('operations:\n  list:\n    - { name: x, attribute-set: s, event: { attributes: [a] } }', { ops: false }),
      /missing 'mcgrp'/,
    ],
    [
      'mcgrp without event',
      spec('operations:\n  list:\n    - { name: x, attribute-set: s, mcgrp: g, do: {} }', { ops: false }),
      /'mcgrp'/,
    ],
    ['group flags', spec('mcast-groups:\n  list:\n    - { name: g, flags: [admin-perm] }'), /unsupported key 'flags'/],
    [
      'name-prefix on a subset',
      spec('attribute-sets:\n  - { name: p, attributes: [{ name: a, type: u8 }] }\n  - { name: q, subset-of: p, name-prefix: x-, attributes: [{ name: a }] }', { sets: false }),
      /unsupported key 'name-prefix'/,
    ],
    [
      'subset attribute missing from parent',
      spec('attribute-sets:\n  - { name: p, attributes: [{ name: a, type: u8 }] }\n  - { name: q, subset-of: p, attributes: [{ name: b }] }', { sets: false }),
      /'b' is not an attribute of 'p'/,
    ],
    ['colliding generated names', spec('definitions:\n  - { type: enum, name: s, entries: [a] }'), /generated name 'S'/],
  ];
  it.each(cases)('%s', (_label, text, message) => {
    expect(() => render(text)).toThrow(message);
  });
});

describe('output file', () => {
  it('is deterministic', () => {
    const text = readFileSync(SPEC_PATH);
    expect(renderSpec(text, 'x.yaml')).toBe(renderSpec(text, 'x.yaml'));
  });

  it('names the spec and its sha256 in the header', () => {
    const text = spec('version: 2');
    const sha = createHash('sha256').update(Buffer.from(text, 'utf8')).digest('hex');
    const [first, second] = render(text).split('\n');
    expect(first).toBe(`// Code generated by scripts/generate.ts from test/inline.yaml (sha256 ${sha}). DO NOT EDIT.`);
    expect(second).toMatch(/^\/\/ .*`demo`/);
  });

  it('on disk equals a fresh render of scripts/spec/mptcp_pm.yaml', () => {
    const bytes = readFileSync(SPEC_PATH);
    const sha = createHash('sha256').update(bytes).digest('hex');
    const onDisk = readFileSync(OUT_PATH, 'utf8');
    expect(onDisk.split('\n')[0]).toBe(
      `// Code generated by scripts/generate.ts from scripts/spec/mptcp_pm.yaml (sha256 ${sha}). DO NOT EDIT.`,
    );
    expect(onDisk).toBe(renderSpec(bytes, 'scripts/spec/mptcp_pm.yaml'));
  });

  it('runs as a command with spec and output paths', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gen-test-'));
    try {
      const specFile = join(dir, 'demo.yaml');
      const outFile = join(dir, 'out', 'demo.ts');
      writeFileSync(specFile, spec(''));
      const tsx = resolve(REPO_ROOT, 'node_modules/tsx/dist/cli.mjs');
      const ok = spawnSync(process.execPath, [tsx, 'scripts/generate.ts', specFile, outFile], { cwd: REPO_ROOT, encoding: 'utf8' });
      expect(ok.status, ok.stderr).toBe(0);
      expect(readFileSync(outFile, 'utf8')).toBe(renderSpec(readFileSync(specFile), sourceName(specFile)));
      writeFileSync(specFile, spec('bogus-key: 1'));
      const bad = spawnSync(process.execPath, [tsx, 'scripts/generate.ts', specFile, outFile], { cwd: REPO_ROOT, encoding: 'utf8' });
      expect(bad.status).toBe(1);
      expect(bad.stderr).toContain("unsupported key 'bogus-key'");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('our mptcp_pm spec agrees with the protocol notes', () => {
  const sets = mptcpPmFamily.attributeSets;
  const attrOf = (set: string, name: string) => sets[set]?.attrs.find((a) => a.name === name);
  const eventOf = (name: string) => mptcpPmFamily.events.find((e) => e.name === name);

  it('address set: types, numbers and byte orders (port is host order)', () => {
    expect(sets['address']?.attrs.map((a) => [a.name, a.type, a.kind, a.byteOrder ?? 'host'])).toEqual([
      ['family', 1, 'u16', 'host'],
      ['id', 2, 'u8', 'host'],
      ['addr4', 3, 'u32', 'big-endian'],
      ['addr6', 4, 'binary', 'host'],
      ['port', 5, 'u16', 'host'],
      ['flags', 6, 'u32', 'host'],
      ['if-idx', 7, 's32', 'host'],
    ]);
    expect(attrOf('address', 'addr6')?.exactLen).toBe(16);
    expect(attrOf('address', 'flags')).toMatchObject({ enumName: 'endpoint-flags', asFlags: true });
  });

  it('endpoint and attr sets', () => {
    expect(sets['endpoint']?.attrs.map((a) => [a.name, a.type, a.nested])).toEqual([['addr', 1, 'address']]);
    expect(sets['attr']?.attrs.map((a) => [a.name, a.type, a.kind])).toEqual([
      ['addr', 1, 'nest'],
      ['rcv-add-addrs', 2, 'u32'],
      ['subflows', 3, 'u32'],
      ['token', 4, 'u32'],
      ['loc-id', 5, 'u8'],
      ['addr-remote', 6, 'nest'],
    ]);
  });

  it('event-attr set: ports and IPv4 addresses big-endian, the rest host order', () => {
    expect(sets['event-attr']?.attrs.map((a) => [a.name, a.type, a.kind, a.byteOrder ?? 'host'])).toEqual([
      ['token', 1, 'u32', 'host'],
      ['family', 2, 'u16', 'host'],
      ['loc-id', 3, 'u8', 'host'],
      ['rem-id', 4, 'u8', 'host'],
      ['saddr4', 5, 'u32', 'big-endian'],
      ['saddr6', 6, 'binary', 'host'],
      ['daddr4', 7, 'u32', 'big-endian'],
      ['daddr6', 8, 'binary', 'host'],
      ['sport', 9, 'u16', 'big-endian'],
      ['dport', 10, 'u16', 'big-endian'],
      ['backup', 11, 'u8', 'host'],
      ['error', 12, 'u8', 'host'],
      ['flags', 13, 'u16', 'host'],
      ['timeout', 14, 'u32', 'host'],
      ['if-idx', 15, 's32', 'host'],
      ['reset-reason', 16, 'u32', 'host'],
      ['reset-flags', 17, 'u32', 'host'],
      ['server-side', 18, 'u8', 'host'],
    ]);
    expect(attrOf('event-attr', 'saddr6')?.exactLen).toBe(16);
    expect(attrOf('event-attr', 'daddr6')?.exactLen).toBe(16);
    expect(attrOf('event-attr', 'reset-reason')?.enumName).toBe('reset-reason');
  });

  it('enums and flags', () => {
    expect(EventType).toEqual({
      created: 1, established: 2, closed: 3, announced: 6, removed: 7,
      subEstablished: 10, subClosed: 11, subPriority: 13, listenerCreated: 15, listenerClosed: 16,
    });
    expect(EndpointFlags).toEqual({ signal: 1, subflow: 2, backup: 4, fullmesh: 8, implicit: 16, laminar: 32 });
    expect(EventFlags).toEqual({ denyJoinId0: 1, serverSide: 2 });
    expect(ResetReason).toEqual({
      eunspec: 0, emptcp: 1, eresource: 2, eprohibit: 3, ewq2big: 4, ebadperf: 5, emiddlebox: 6,
    });
  });

  it('commands: numbers, privileges and do/dump', () => {
    expect(Op).toEqual({
      addAddr: 1, delAddr: 2, getAddr: 3, flushAddrs: 4, setLimits: 5, getLimits: 6,
      setFlags: 7, announce: 8, remove: 9, subflowCreate: 10, subflowDestroy: 11,
    });
    for (const op of mptcpPmFamily.operations) {
      const open = op.name === 'get-addr' || op.name === 'get-limits';
      expect(op.flags, op.name).toEqual(open ? [] : ['uns-admin-perm']);
      expect(op.do, op.name).toBeDefined();
      expect(op.dump !== undefined, op.name).toBe(op.name === 'get-addr');
    }
    const getAddr = mptcpPmFamily.operations.find((o) => o.name === 'get-addr');
    expect(getAddr?.dump?.request?.attributes).toEqual(['token']);
    expect(getAddr?.do?.reply?.attributes).toEqual(['addr']);
  });

  it('events: values, group, and the attributes really sent', () => {
    expect(mptcpPmFamily.events.map((e) => [e.field, e.value])).toEqual(Object.entries(EventType));
    expect(new Set(mptcpPmFamily.events.map((e) => e.mcastGroup))).toEqual(new Set(['mptcp_pm_events']));
    expect(mptcpPmFamily.mcastGroups).toEqual(['mptcp_pm_cmds', 'mptcp_pm_events']);
    expect([...(eventOf('announced')?.attributes ?? [])].sort()).toEqual(['daddr4', 'daddr6', 'dport', 'rem-id', 'token']);
    for (const name of ['created', 'established']) {
      expect(eventOf(name)?.attributes).toEqual(expect.arrayContaining(['token', 'family', 'loc-id', 'rem-id', 'server-side', 'flags']));
    }
    expect(eventOf('closed')?.attributes).toEqual(['token']);
    expect(eventOf('sub-closed')?.attributes).toEqual(expect.arrayContaining(['reset-reason', 'reset-flags', 'error', 'if-idx']));
    expect(mptcpPmFamily.events.some((e) => e.attributes.includes('timeout'))).toBe(false);
    const announced: AnnouncedEvent = { token: 1, remId: 2, dport: 80 };
    expect('family' in announced).toBe(false);
  });
});
