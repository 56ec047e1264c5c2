// Descriptor types for a generic-netlink family. Generated files (generated/*.ts) are plain data of
// these shapes; the hand-written runtime (codec.ts, socket.ts, client.ts) interprets them.

/** Wire kinds an attribute can have, as named in the kernel's genetlink YAML schema. */
export type WireKind =
  | 'u8' | 'u16' | 'u32' | 'u64'
  | 's8' | 's16' | 's32' | 's64'
  | 'binary' | 'string' | 'flag' | 'nest' | 'pad' | 'unused'
  /** A nest of nests whose types are only indexes: decoded to an array (genetlink-legacy). */
  | 'indexed-array'
  /** A nest whose attribute types are ids (one level per `typeValue` name): decoded to objects keyed by id. */
  | 'nest-type-value';

/** One attribute of an attribute set. */
export interface AttrDesc {
  /** Spec name, e.g. `rcv-add-addrs`. */
  readonly name: string;
  /** camelCase field name used in decoded objects, e.g. `rcvAddAddrs`. */
  readonly field: string;
  /** Attribute type number (nla_type without the NESTED/BYTEORDER bits). */
  readonly type: number;
  readonly kind: WireKind;
  /** Network byte order for integers; host (little-endian here) when absent. */
  readonly byteOrder?: 'big-endian';
  /** Exact length for binary attributes (`exact-len`). */
  readonly exactLen?: number;
  /** Minimum length for binary/string attributes (`min-len`). */
  readonly minLen?: number;
  /** Maximum length for binary/string attributes (`max-len`). */
  readonly maxLen?: number;
  /** For `nest`, `indexed-array` and `nest-type-value`: the name of the nested attribute set. */
  readonly nested?: string;
  /** For `nest-type-value`: what the ids of each level are (`type-value`), outermost first. */
  readonly typeValue?: readonly string[];
  /** Name of an enum or flags definition the value draws from (informational for decoding). */
  readonly enumName?: string;
  /** Whether `enumName` is used as a bitmask (`enum-as-flags`) or the enum is of type `flags`. */
  readonly asFlags?: boolean;
}

/** An attribute set: its attributes by type number and by field name. */
export interface AttrSetDesc {
  readonly name: string;
  /** Set whose numbering this one reuses (`subset-of`), if any. */
  readonly subsetOf?: string;
  readonly attrs: readonly AttrDesc[];
}

/** One entry of an enum or flags definition. `value` is the numeric value (for flags, the bit mask). */
export interface EnumEntry {
  readonly name: string;
  readonly value: number;
}

export interface EnumDesc {
  readonly name: string;
  readonly kind: 'enum' | 'flags';
  readonly entries: readonly EnumEntry[];
}

/** Request or reply: the attribute set and the attributes it may carry (spec names). */
export interface OpMessageDesc {
  /** Its own command number, when the spec numbers requests and replies apart (enum-model directional). */
  readonly value?: number;
  readonly attributes: readonly string[];
}

export interface OpModeDesc {
  readonly request?: OpMessageDesc;
  readonly reply?: OpMessageDesc;
}

/** A command of the family. */
export interface OpDesc {
  /** Spec name, e.g. `add-addr`. */
  readonly name: string;
  /** camelCase, e.g. `addAddr`. */
  readonly field: string;
  /** genl `cmd` value. */
  readonly value: number;
  /** Attribute set used by its request and reply. */
  readonly attributeSet: string;
  /** Privilege flags from the spec (`admin-perm`, `uns-admin-perm`). */
  readonly flags: readonly string[];
  readonly do?: OpModeDesc;
  readonly dump?: OpModeDesc;
}

/** A notification (event) sent on a multicast group. */
export interface EventDesc {
  readonly name: string;
  readonly field: string;
  /** genl `cmd` value carried by the notification. */
  readonly value: number;
  readonly attributeSet: string;
  /** Attributes the kernel really sends with it (spec names). */
  readonly attributes: readonly string[];
  readonly mcastGroup: string;
}

/** A whole family. */
export interface FamilyDesc {
  readonly name: string;
  readonly version: number;
  readonly attributeSets: Readonly<Record<string, AttrSetDesc>>;
  readonly enums: Readonly<Record<string, EnumDesc>>;
  readonly operations: readonly OpDesc[];
  readonly events: readonly EventDesc[];
  readonly mcastGroups: readonly string[];
}

/** An attribute whose type the spec does not describe, kept raw by the decoder (`unknown` field). */
export interface UnknownAttr {
  /** Attribute type number (nla_type without the NESTED/BYTEORDER bits). */
  type: number;
  /** Payload without the attribute header and padding. */
  data: Uint8Array;
}
