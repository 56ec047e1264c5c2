// Generic-netlink controller (`nlctrl`) layer: the CTRL_CMD_GETFAMILY request and the decoding of
// its reply into family id, version, multicast groups and operations.

import { AttrWriter, readAttrs, read } from '../core/attr.js';

/** `nlctrl` command and attribute numbers (include/uapi/linux/genetlink.h). */
export const Ctrl = {
  VERSION: 2,
  CMD_GETFAMILY: 3,
  ATTR_FAMILY_ID: 1,
  ATTR_FAMILY_NAME: 2,
  ATTR_VERSION: 3,
  ATTR_HDRSIZE: 4,
  ATTR_MAXATTR: 5,
  ATTR_OPS: 6,
  ATTR_MCAST_GROUPS: 7,
  ATTR_OP_ID: 1,
  ATTR_OP_FLAGS: 2,
  ATTR_MCAST_GRP_NAME: 1,
  ATTR_MCAST_GRP_ID: 2,
} as const;

/** CTRL op flag bits (GENL_ADMIN_PERM, GENL_CMD_CAP_DO, …) as reported per op. */
export const GenlOpFlag = {
  ADMIN_PERM: 0x1,
  CMD_CAP_DO: 0x2,
  CMD_CAP_DUMP: 0x4,
  CMD_CAP_HASPOL: 0x8,
  UNS_ADMIN_PERM: 0x10,
} as const;

/** A generic-netlink family as the controller describes it. */
export interface FamilyInfo {
  readonly name: string;
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
  return new AttrWriter(64).string(Ctrl.ATTR_FAMILY_NAME, name).finish();
}

/** Decodes a CTRL_CMD_GETFAMILY reply (attribute bytes after the genl header). */
export function decodeFamily(attrs: Buffer): FamilyInfo {
  let name = '';
  let id = -1;
  let version = 0;
  let hdrsize = 0;
  let maxattr = 0;
  const groups = new Map<string, number>();
  const ops = new Map<number, number>();
  for (const a of readAttrs(attrs, 'ctrl')) {
    switch (a.type) {
      case Ctrl.ATTR_FAMILY_NAME: name = read.string(a, 'ctrl.family-name'); break;
      case Ctrl.ATTR_FAMILY_ID: id = read.u16(a, 'ctrl.family-id'); break;
      case Ctrl.ATTR_VERSION: version = read.u32(a, 'ctrl.version'); break;
      case Ctrl.ATTR_HDRSIZE: hdrsize = read.u32(a, 'ctrl.hdrsize'); break;
      case Ctrl.ATTR_MAXATTR: maxattr = read.u32(a, 'ctrl.maxattr'); break;
      case Ctrl.ATTR_OPS:
        for (const op of readAttrs(a.data, 'ctrl.ops')) {
          let cmd = -1;
          let flags = 0;
          for (const f of readAttrs(op.data, 'ctrl.ops.op')) {
            if (f.type === Ctrl.ATTR_OP_ID) cmd = read.u32(f, 'ctrl.ops.op.id');
            else if (f.type === Ctrl.ATTR_OP_FLAGS) flags = read.u32(f, 'ctrl.ops.op.flags');
          }
          if (cmd >= 0) ops.set(cmd, flags);
        }
        break;
      case Ctrl.ATTR_MCAST_GROUPS:
        for (const g of readAttrs(a.data, 'ctrl.mcast-groups')) {
          let gname: string | undefined;
          let gid: number | undefined;
          for (const f of readAttrs(g.data, 'ctrl.mcast-groups.group')) {
            if (f.type === Ctrl.ATTR_MCAST_GRP_NAME) gname = read.string(f, 'ctrl.mcast-groups.group.name');
            else if (f.type === Ctrl.ATTR_MCAST_GRP_ID) gid = read.u32(f, 'ctrl.mcast-groups.group.id');
          }
          if (gname !== undefined && gid !== undefined) groups.set(gname, gid);
        }
        break;
      default:
        break;
    }
  }
  return { name, id, version, hdrsize, maxattr, groups, ops };
}
