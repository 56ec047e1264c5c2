// Domain layer, shared by the in-kernel (pm.ts) and userspace (userspace.ts) path-manager calls:
// sends one mptcp_pm op, and resolves the interfaces inputs name, all before anything is sent.

import {
  family, type AddAddrRequest, type AnnounceRequest, type DelAddrRequest, type FlushAddrsRequest, type GetAddrReply,
  type GetAddrRequest, type GetLimitsReply, type GetLimitsRequest, type Op, type RemoveRequest, type SetFlagsRequest,
  type SetLimitsRequest, type SubflowCreateRequest, type SubflowDestroyRequest,
} from '../../../generated/mptcp_pm.js';
import { decodeAttrs, encodeAttrs } from '../../netlink/core/codec.js';
import { ClosedError, UnsupportedError, ValidationError } from '../../netlink/core/errors.js';
import type { GenlSocket } from '../../netlink/genl/socket.js';
import type { Netns } from '../../os/netns.js';
import { OP_SINCE, type Features } from './features.js';
import { show } from '../input/validate.js';

export type OpName = keyof typeof Op;

/** Each op's descriptor by its field name. */
const OPS = new Map<string, (typeof family.operations)[number]>(family.operations.map((o) => [o.field, o]));
/** The attribute bytes of a request without attributes. */
const NO_ATTRS = new Uint8Array(0);

/** A plain object without keys: a request without attributes (anything else goes through the encoder's checks). */
function isEmptyObject(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Object.getPrototypeOf(v) !== Object.prototype) return false;
  for (const _ in v) return false;
  return true;
}

/** What each operation sends: its generated request type (get-addr's dump sends a subset of its do). */
export interface OpRequests {
  addAddr: AddAddrRequest;
  delAddr: DelAddrRequest;
  getAddr: GetAddrRequest;
  flushAddrs: FlushAddrsRequest;
  setLimits: SetLimitsRequest;
  getLimits: GetLimitsRequest;
  setFlags: SetFlagsRequest;
  announce: AnnounceRequest;
  remove: RemoveRequest;
  subflowCreate: SubflowCreateRequest;
  subflowDestroy: SubflowDestroyRequest;
}

/** What the operations that answer with attributes reply: their generated reply types. */
export interface OpReplies {
  getAddr: GetAddrReply;
  getLimits: GetLimitsReply;
}

function descriptor(op: OpName): (typeof family.operations)[number] {
  const desc = OPS.get(op);
  if (!desc) throw new Error(`unknown op ${op}`);
  return desc;
}

export interface OpOptions {
  /** Send as a dump and gather every part. */
  dump?: boolean;
  /** Send on a worker thread (see GenlSocket.request). */
  offThread?: boolean | 'auto';
}

/** An interface named by the caller in up to three ways, each with the field to blame. */
export interface InterfaceChoice {
  ifname?: { field: string; value: string };
  ifindex?: { field: string; value: number };
  /** An IPv6 zone id: an interface name, or a number taken as an index. */
  zone?: { field: string; value: string };
}

/** One mptcp_pm socket in one namespace; refuses (before sending) once closed or for an op the kernel lacks. */
export class OpRunner {
  private closed = false;
  private probing: Promise<void> | undefined;

  /**
   * @param learn when the policy-based features are not known yet: finds them (one GETPOLICY round
   * trip), called once by {@link learnFeatures}.
   */
  constructor(
    private readonly sock: GenlSocket,
    private readonly ns: Netns,
    private current: Features,
    readonly netns: string | undefined,
    private readonly learn?: () => Promise<Features>,
  ) {}

  /** What the kernel offers, as far as known (see {@link learnFeatures}). */
  get features(): Features {
    return this.current;
  }

  /** Makes the policy-based features known, asking the kernel once when open did not. */
  async learnFeatures(): Promise<Features> {
    if (this.learn === undefined) return this.current;
    this.probing ??= this.learn().then((f) => void (this.current = f));
    await this.probing;
    return this.current;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** @throws ClosedError once {@link close} was called. */
  assertOpen(): void {
    if (this.closed) throw new ClosedError('MptcpPm');
  }

  /** The op's descriptor. @throws ClosedError; UnsupportedError when this kernel lacks it. */
  requireOp(op: OpName): (typeof family.operations)[number] {
    this.assertOpen();
    const desc = descriptor(op);
    if (!this.features.commands[op]) {
      throw new UnsupportedError(`mptcp_pm ${desc.name}`, OP_SINCE[op] ?? 'a later version');
    }
    return desc;
  }

  /**
   * Sends `op` with top-level attributes of its set; resolves with the attribute bytes of each reply.
   * Refusals before sending (closed, unsupported op, bad attributes) come back as a rejection.
   */
  run<O extends OpName>(op: O, attrs: OpRequests[O], opts: OpOptions = {}): Promise<Buffer[]> {
    try {
      const desc = this.requireOp(op);
      const bytes = isEmptyObject(attrs) ? NO_ATTRS : encodeAttrs(family, desc.attributeSet, attrs as Record<string, unknown>).finish();
      const reply = !opts.dump && (desc.do?.reply?.attributes.length ?? 0) > 0;
      return this.sock.request(desc.value, bytes, {
        op: desc.name, dump: opts.dump, offThread: opts.offThread, reply, attributes: { family, set: desc.attributeSet },
      });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** The attributes of one reply of `op` (none when the kernel sent no reply), as its generated type. */
  decodeReply<O extends keyof OpReplies>(op: O, reply: Buffer | undefined): OpReplies[O] {
    return decodeAttrs<OpReplies[O]>(family, descriptor(op).attributeSet, reply ?? Buffer.alloc(0));
  }

  /**
   * The index of the interface chosen, or undefined when none is. Each way given must name an
   * interface that exists in this namespace, and all must name the same one.
   * @throws ValidationError naming the field.
   */
  resolveInterface(choice: InterfaceChoice): number | undefined {
    this.assertOpen();
    const found: { field: string; index: number; said: string }[] = [];
    if (choice.ifname) {
      const { field, value } = choice.ifname;
      const index = this.ns.interfaceIndex(value);
      if (!index) throw new ValidationError(field, `no interface named ${show(value)} in ${this.where()}`);
      found.push({ field, index, said: `interface ${value}` });
    }
    if (choice.ifindex) {
      const { field, value } = choice.ifindex;
      if (this.ns.interfaceName(value) === undefined) throw new ValidationError(field, `no interface with index ${value} in ${this.where()}`);
      found.push({ field, index: value, said: `index ${value}` });
    }
    if (choice.zone) {
      const { field, value } = choice.zone;
      let index: number;
      if (/^[0-9]{1,10}$/.test(value)) {
        index = Number(value);
        if (this.ns.interfaceName(index) === undefined) throw new ValidationError(field, `zone %${value}: no interface with index ${value} in ${this.where()}`);
      } else {
        index = /^[^/:\s]{1,15}$/.test(value) ? this.ns.interfaceIndex(value) : 0;
        if (!index) throw new ValidationError(field, `zone ${show(`%${value}`)}: no interface of that name in ${this.where()}`);
      }
      found.push({ field, index, said: `zone %${value}` });
    }
    const first = found[0];
    const other = found.find((f) => f.index !== first?.index);
    if (first && other) {
      throw new ValidationError(other.field, `${other.said} is interface index ${other.index}, but ${first.said} is index ${first.index}`);
    }
    return first?.index;
  }

  /** Name of interface `index` in this namespace; undefined when absent. */
  interfaceName(index: number): string | undefined {
    return this.ns.interfaceName(index);
  }

  /** "network namespace "blue"" or "this network namespace", for messages. */
  where(): string {
    return this.netns !== undefined ? `network namespace ${show(this.netns)}` : 'this network namespace';
  }

  /** Closes the socket; pending requests reject with ClosedError. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sock.close();
  }
}
