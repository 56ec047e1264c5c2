// The spec after reading and checking: plain data the renderers walk. Descriptor parts reuse the
// contract types of src/netlink/core/spec-types.ts so the output cannot drift from them.

import type { AttrDesc, EnumEntry, EventDesc, OpDesc } from '../../src/netlink/core/spec-types.js';

export interface ConstModel {
  readonly name: string;
  /** SCREAMING_SNAKE identifier. */
  readonly ident: string;
  readonly value: number | string;
  readonly doc?: string;
}

export interface EnumEntryModel extends EnumEntry {
  /** camelCase key in the generated object. */
  readonly key: string;
  readonly doc?: string;
}

export interface EnumModel {
  readonly name: string;
  readonly kind: 'enum' | 'flags';
  /** PascalCase identifier. */
  readonly ident: string;
  /** C name of the enum type, when the spec gives one. */
  readonly cEnumName?: string;
  /** C prefix of the entries, e.g. `MPTCP_EVENT_`. */
  readonly cPrefix: string;
  readonly entries: readonly EnumEntryModel[];
  readonly doc?: string;
}

export interface AttrModel extends AttrDesc {
  /** C name of the attribute type, e.g. `MPTCP_PM_ADDR_ATTR_PORT`. */
  readonly cName: string;
  readonly doc?: string;
}

export interface AttrSetModel {
  readonly name: string;
  /** PascalCase identifier of its interface. */
  readonly ident: string;
  readonly subsetOf?: string;
  readonly cPrefix: string;
  readonly attrs: readonly AttrModel[];
  readonly doc?: string;
}

export interface OpModel extends OpDesc {
  /** PascalCase stem of its request/reply type names. */
  readonly ident: string;
  readonly doc?: string;
}

export interface EventModel extends EventDesc {
  /** PascalCase stem of its payload type name. */
  readonly ident: string;
  readonly doc?: string;
}

export interface FamilyModel {
  readonly name: string;
  readonly version: number;
  /** camelCase identifier of the family descriptor constant. */
  readonly ident: string;
  readonly doc?: string;
  readonly consts: readonly ConstModel[];
  readonly enums: readonly EnumModel[];
  readonly attrSets: readonly AttrSetModel[];
  readonly cmdPrefix: string;
  /** Command values that only reserve a number (no do, dump or event). */
  readonly placeholders: readonly { readonly name: string; readonly field: string; readonly value: number }[];
  readonly ops: readonly OpModel[];
  readonly events: readonly EventModel[];
  readonly mcastGroups: readonly string[];
}
