// Generic-netlink controller (`nlctrl`) layer: the CTRL_CMD_GETFAMILY request and the decoding of
// its reply into family id, version, multicast groups and operations, through the codec and the
// tables generated from scripts/spec/nlctrl.yaml.

import { FAMILY_VERSION, Op, OpFlags, nlctrlFamily, type GetfamilyReply, type GetfamilyRequest } from '../../../generated/nlctrl.js';
import { decodeAttrs, encodeAttrs } from '../core/codec.js';

/** nlctrl's genl version, and the bits of the flags it reports per command (GENL_ADMIN_PERM, …). */
export { FAMILY_VERSION as CTRL_VERSION, OpFlags as GenlOpFlag };

/** A generic-netlink family as the controller describes it. */
export interface FamilyInfo {
  readonly name: string;
  /** -1 when the reply carries none. */
  readonly id: number;
  readonly version: number;
  readonly hdrsize: number;
  readonly maxattr: number;
  /** Multicast group name → group id. */
  readonly groups: ReadonlyMap<string, number>;
  /** Command → CTRL op flags ({@link GenlOpFlag}). */
  readonly ops: ReadonlyMap<number, number>;
}

/** Attribute bytes of a CTRL_CMD_GETFAMILY request for `name`. */
export function getFamilyRequest(name: string): Buffer {
  const req: GetfamilyRequest = { familyName: name };
  return encodeAttrs(nlctrlFamily, 'ctrl-attrs', { ...req }).finish();
}

/**
 * Decodes a CTRL_CMD_GETFAMILY reply (attribute bytes after the genl header).
 * @throws DecodeError naming the attribute (`ctrl.ops[2].flags: expected 4 bytes, got 2`).
 */
export function decodeFamily(attrs: Uint8Array): FamilyInfo {
  const r = decodeAttrs<GetfamilyReply>(nlctrlFamily, 'ctrl-attrs', attrs, 'ctrl');
  const groups = new Map<string, number>();
  for (const g of r.mcastGroups ?? []) if (g.name !== undefined && g.id !== undefined) groups.set(g.name, g.id);
  const ops = new Map<number, number>();
  for (const o of r.ops ?? []) if (o.id !== undefined) ops.set(o.id, o.flags ?? 0);
  return { name: r.familyName ?? '', id: r.familyId ?? -1, version: r.version ?? 0, hdrsize: r.hdrsize ?? 0, maxattr: r.maxattr ?? 0, groups, ops };
}

/** The command number of CTRL_CMD_GETFAMILY. */
export const CTRL_CMD_GETFAMILY = Op.getfamily;
