/**
 * Protocol messages of the membership and ordering core, and their binary payload codec.
 *
 * Message type numbers are append-only (they are the wire header's `type`). `decodeMessage`
 * never throws: a payload that does not parse, has trailing bytes, or breaks a bound is
 * reported as undefined and the caller counts it as 'malformed-payload'.
 */

export interface MemberRef {
  readonly nodeId: number;
  readonly incarnation: number;
}

/**
 * A view is identified by (epoch, leader, leader incarnation). Epochs increase at every member;
 * the leader tells apart views of concurrent partitions, and its incarnation tells apart the
 * views of a restarted leader that could not know the epochs it used before.
 */
export interface ViewId {
  readonly epoch: number;
  readonly leader: number;
  readonly leaderIncarnation: number;
}

/** Kinds of ordered entries. Append-only. `nodelist`: a proposed nodelist (encodeNodelist), applied by every member at its place in the order. */
export const ENTRY_KIND = { data: 1, groupJoin: 2, groupLeave: 3, nodelist: 4 } as const;
export type EntryKind = (typeof ENTRY_KIND)[keyof typeof ENTRY_KIND];

/** One fragment of an application message or group operation, as submitted to the leader. */
export interface Fragment {
  /** Per-sender, per-view submission counter from 1; the leader accepts them strictly in order. */
  readonly submitId: number;
  readonly kind: EntryKind;
  readonly group: string;
  /** Sender-local message id, stable across resubmission. */
  readonly msgId: number;
  readonly fragIndex: number;
  readonly fragCount: number;
  readonly data: Uint8Array;
}

/** A fragment with its place in the view's total order. */
export interface OrderedEntry extends Fragment {
  readonly seq: number;
  readonly sender: number;
}

export interface GroupTableRow {
  readonly nodeId: number;
  readonly groups: readonly string[];
}

export interface ViewCut {
  readonly oldView: ViewId;
  /** Survivors of oldView deliver its entries 1..cutSeq, and nothing after. */
  readonly cutSeq: number;
}

/** One node of a cluster's nodelist as the members agree on it (corosync.conf's nodelist.node). */
export interface NodelistEntry {
  readonly nodeId: number;
  readonly votes: number;
  /** The node's name (the CIB's uname); empty when the configuration gave none. */
  readonly name: string;
  /** One "host:port" per link, in link order. */
  readonly addresses: readonly string[];
}

/**
 * The cluster's nodelist with its version. Version 0 is the nodelist of the configuration files
 * as first written; every agreed change (ENTRY_KIND.nodelist) adds one. Members compare versions
 * in flush reports, and an install carries the newest, so a member that missed a change (down or
 * partitioned, or restarted from an older file) catches up in its next view.
 */
export interface Nodelist {
  readonly version: number;
  readonly nodes: readonly NodelistEntry[];
}

export interface QuorumState {
  readonly expectedVotes: number;
  /** Whether wait_for_all has been satisfied (all expected votes seen at once). */
  readonly waitForAllMet: boolean;
}

export type ProtocolMessage =
  /** `nodelistVersion`: the sender's (messages.ts Nodelist); an optional trailing field, absent from older senders. */
  /**
   * `pace`: sent by a node starting a heartbeat round from its own timer, the node that paces the
   * next round (MessagingCore, HEARTBEAT_MEMBER_SLACK); absent from answers. Only with a nodelistVersion.
   */
  | { readonly t: 'heartbeat'; readonly view: ViewId | undefined; readonly epochMax: number; readonly nodelistVersion?: number; readonly pace?: number }
  /** "Are you there?": sent to a peer whose heartbeat is late; it answers with a heartbeat at once. */
  | { readonly t: 'probe' }
  | { readonly t: 'propose'; readonly epoch: number; readonly members: readonly MemberRef[] }
  | {
      readonly t: 'flush';
      readonly epoch: number;
      readonly oldView: ViewId | undefined;
      readonly prefixSeq: number;
      readonly deliveredSeq: number;
      readonly quorum: QuorumState;
      readonly groups: readonly string[];
      /** The sender's nodelist when its version is above 0 (an optional trailing field on the wire). */
      readonly nodelist?: Nodelist;
      /** The lowest seq of a nodelist change the sender received in its old view and has not delivered (it may be delivered in the cut). */
      readonly pendingNodelistSeq?: number;
    }
  | { readonly t: 'reject'; readonly epochPromised: number }
  | {
      readonly t: 'install';
      readonly epoch: number;
      readonly members: readonly MemberRef[];
      readonly cuts: readonly ViewCut[];
      readonly quorum: QuorumState;
      readonly groupTable: readonly GroupTableRow[];
      /** The newest nodelist among the members' flush reports, when its version is above 0 (optional trailing field). */
      readonly nodelist?: Nodelist;
      /** A nodelist change may be delivered in a cut of this install: members may hold different lists until the next view. */
      readonly nodelistUnsettled?: boolean;
    }
  | { readonly t: 'installed'; readonly epoch: number }
  | { readonly t: 'submit'; readonly epoch: number; readonly fragments: readonly Fragment[] }
  | { readonly t: 'ordered'; readonly epoch: number; readonly stableSeq: number; readonly entries: readonly OrderedEntry[] }
  | { readonly t: 'ack'; readonly epoch: number; readonly prefixSeq: number; readonly nack: boolean }
  /** A newer nodelist, sent to a peer whose heartbeat reports an older version (it may not know the view's leader yet). */
  | { readonly t: 'nodelist'; readonly nodelist: Nodelist };

export const MESSAGE_TYPE = {
  heartbeat: 1,
  propose: 2,
  flush: 3,
  reject: 4,
  install: 5,
  installed: 6,
  submit: 7,
  ordered: 8,
  ack: 9,
  probe: 10,
  nodelist: 11,
} as const satisfies Record<ProtocolMessage['t'], number>;

/** Bounds a decoder enforces, so a peer with the key still cannot make us allocate without limit. */
export const DECODE_BOUNDS = {
  membersMax: 1024,
  listMax: 65536,
  stringBytesMax: 255,
  groupsPerNodeMax: 1024,
  /** Addresses of one node in a nodelist (one per link; corosync has at most 8 links). */
  linksMax: 8,
} as const;

class Writer {
  private buf: Buffer;
  private pos = 0;
  constructor(sizeHint = 256) {
    this.buf = Buffer.allocUnsafe(sizeHint);
  }
  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  u8(v: number): void {
    this.room(1);
    this.buf.writeUInt8(v, this.pos);
    this.pos += 1;
  }
  u32(v: number): void {
    this.room(4);
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
  }
  /** 48-bit unsigned integer: epochs, sequence numbers, incarnations. */
  u48(v: number): void {
    this.room(6);
    this.buf.writeUIntBE(v, this.pos, 6);
    this.pos += 6;
  }
  str(s: string): void {
    const b = Buffer.from(s, 'utf8');
    if (b.length > DECODE_BOUNDS.stringBytesMax) throw new Error(`string too long for the wire: ${b.length} bytes`);
    this.u8(b.length);
    this.room(b.length);
    b.copy(this.buf, this.pos);
    this.pos += b.length;
  }
  bytes(b: Uint8Array): void {
    this.u32(b.length);
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  done(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

/** Bounds-checked reader; every read returns undefined once the input is exhausted. */
class Reader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}
  private take(n: number): number | undefined {
    if (n < 0 || this.pos + n > this.buf.length) return undefined;
    const at = this.pos;
    this.pos += n;
    return at;
  }
  u8(): number | undefined {
    const at = this.take(1);
    return at === undefined ? undefined : this.buf.readUInt8(at);
  }
  u32(): number | undefined {
    const at = this.take(4);
    return at === undefined ? undefined : this.buf.readUInt32BE(at);
  }
  u48(): number | undefined {
    const at = this.take(6);
    return at === undefined ? undefined : this.buf.readUIntBE(at, 6);
  }
  str(): string | undefined {
    const n = this.u8();
    if (n === undefined) return undefined;
    const at = this.take(n);
    return at === undefined ? undefined : this.buf.toString('utf8', at, at + n);
  }
  bytes(): Buffer | undefined {
    const n = this.u32();
    if (n === undefined) return undefined;
    const at = this.take(n);
    return at === undefined ? undefined : this.buf.subarray(at, at + n);
  }
  list<T>(max: number, item: () => T | undefined): T[] | undefined {
    const n = this.u32();
    if (n === undefined || n > max) return undefined;
    const out: T[] = [];
    for (let i = 0; i < n; i++) {
      const v = item();
      if (v === undefined) return undefined;
      out.push(v);
    }
    return out;
  }
  atEnd(): boolean {
    return this.pos === this.buf.length;
  }
}

function writeView(w: Writer, v: ViewId | undefined): void {
  if (v === undefined) {
    w.u8(0);
    return;
  }
  w.u8(1);
  w.u48(v.epoch);
  w.u32(v.leader);
  w.u48(v.leaderIncarnation);
}

function readView(r: Reader): ViewId | undefined | null {
  const present = r.u8();
  if (present === 0) return undefined;
  if (present !== 1) return null;
  const epoch = r.u48();
  const leader = r.u32();
  const leaderIncarnation = r.u48();
  return epoch === undefined || leader === undefined || leaderIncarnation === undefined ? null : { epoch, leader, leaderIncarnation };
}

function writeMembers(w: Writer, members: readonly MemberRef[]): void {
  w.u32(members.length);
  for (const m of members) {
    w.u32(m.nodeId);
    w.u48(m.incarnation);
  }
}

function readMember(r: Reader): MemberRef | undefined {
  const nodeId = r.u32();
  const incarnation = r.u48();
  return nodeId === undefined || incarnation === undefined ? undefined : { nodeId, incarnation };
}

function writeStrings(w: Writer, list: readonly string[]): void {
  w.u32(list.length);
  for (const s of list) w.str(s);
}

function writeQuorum(w: Writer, q: QuorumState): void {
  w.u32(q.expectedVotes);
  w.u8(q.waitForAllMet ? 1 : 0);
}

function readQuorum(r: Reader): QuorumState | undefined {
  const expectedVotes = r.u32();
  const met = r.u8();
  if (expectedVotes === undefined || (met !== 0 && met !== 1)) return undefined;
  return { expectedVotes, waitForAllMet: met === 1 };
}

function writeNodelist(w: Writer, nl: Nodelist): void {
  w.u48(nl.version);
  w.u32(nl.nodes.length);
  for (const n of nl.nodes) {
    w.u32(n.nodeId);
    w.u8(n.votes);
    w.str(n.name);
    writeStrings(w, n.addresses);
  }
}

function readNodelist(r: Reader): Nodelist | undefined {
  const version = r.u48();
  const nodes = r.list(DECODE_BOUNDS.membersMax, () => {
    const nodeId = r.u32();
    const votes = r.u8();
    const name = r.str();
    const addresses = r.list(DECODE_BOUNDS.linksMax, () => r.str());
    return nodeId === undefined || votes === undefined || name === undefined || addresses === undefined ? undefined : { nodeId, votes, name, addresses };
  });
  return version === undefined || nodes === undefined ? undefined : { version, nodes };
}

/**
 * The optional tail of flush and install: absent (older senders; version 0 and nothing pending),
 * or a flags byte (1: a nodelist follows; 2: flush: a pending seq follows, install: unsettled),
 * then the nodelist, then (flush) the seq.
 */
function writeNodelistTail(w: Writer, nl: Nodelist | undefined, pendingSeq: number | undefined, unsettled: boolean): void {
  const flags = (nl !== undefined ? 1 : 0) | (pendingSeq !== undefined || unsettled ? 2 : 0);
  if (flags === 0) return;
  w.u8(flags);
  if (nl !== undefined) writeNodelist(w, nl);
  if (pendingSeq !== undefined) w.u48(pendingSeq);
}

function readNodelistTail(r: Reader, withSeq: boolean): { nodelist?: Nodelist; pendingSeq?: number; unsettled?: true } | null {
  if (r.atEnd()) return {};
  const flags = r.u8();
  if (flags === undefined || flags < 1 || flags > 3) return null;
  const nodelist = flags & 1 ? readNodelist(r) : undefined;
  if (flags & 1 && nodelist === undefined) return null;
  if (!(flags & 2)) return { ...(nodelist !== undefined ? { nodelist } : {}) };
  if (!withSeq) return { ...(nodelist !== undefined ? { nodelist } : {}), unsettled: true };
  const pendingSeq = r.u48();
  return pendingSeq === undefined ? null : { ...(nodelist !== undefined ? { nodelist } : {}), pendingSeq };
}

/** The payload of a nodelist entry (ENTRY_KIND.nodelist): the proposed list with the version it would get. */
export function encodeNodelist(nl: Nodelist): Buffer {
  const w = new Writer(256);
  writeNodelist(w, nl);
  return w.done();
}

/** Decodes encodeNodelist's bytes; undefined when they are not exactly one nodelist. */
export function decodeNodelist(data: Uint8Array): Nodelist | undefined {
  const r = new Reader(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  const nl = readNodelist(r);
  return nl !== undefined && r.atEnd() ? nl : undefined;
}

function writeFragment(w: Writer, f: Fragment): void {
  w.u48(f.submitId);
  w.u8(f.kind);
  w.str(f.group);
  w.u48(f.msgId);
  w.u32(f.fragIndex);
  w.u32(f.fragCount);
  w.bytes(f.data);
}

function readFragment(r: Reader): Fragment | undefined {
  const submitId = r.u48();
  const kind = r.u8();
  const group = r.str();
  const msgId = r.u48();
  const fragIndex = r.u32();
  const fragCount = r.u32();
  const data = r.bytes();
  if (submitId === undefined || kind === undefined || group === undefined || msgId === undefined) return undefined;
  if (fragIndex === undefined || fragCount === undefined || data === undefined) return undefined;
  if (kind !== ENTRY_KIND.data && kind !== ENTRY_KIND.groupJoin && kind !== ENTRY_KIND.groupLeave && kind !== ENTRY_KIND.nodelist) return undefined;
  if (fragCount < 1 || fragIndex >= fragCount) return undefined;
  return { submitId, kind, group, msgId, fragIndex, fragCount, data };
}

/** An ordered entry from a fragment (built field by field: this runs per message). */
export function orderedEntry(f: Fragment, seq: number, sender: number): OrderedEntry {
  return { submitId: f.submitId, kind: f.kind, group: f.group, msgId: f.msgId, fragIndex: f.fragIndex, fragCount: f.fragCount, data: f.data, seq, sender };
}

/** Encodes a message's payload; the wire header carries MESSAGE_TYPE[m.t]. */
export function encodeMessage(m: ProtocolMessage): Buffer {
  const w = new Writer(m.t === 'ordered' || m.t === 'submit' ? 2048 : 128);
  switch (m.t) {
    case 'heartbeat':
      writeView(w, m.view);
      w.u48(m.epochMax);
      if (m.nodelistVersion !== undefined) w.u48(m.nodelistVersion);
      if (m.nodelistVersion !== undefined && m.pace !== undefined) w.u32(m.pace);
      break;
    case 'nodelist':
      writeNodelist(w, m.nodelist);
      break;
    case 'probe':
      break;
    case 'propose':
      w.u48(m.epoch);
      writeMembers(w, m.members);
      break;
    case 'flush':
      w.u48(m.epoch);
      writeView(w, m.oldView);
      w.u48(m.prefixSeq);
      w.u48(m.deliveredSeq);
      writeQuorum(w, m.quorum);
      writeStrings(w, m.groups);
      writeNodelistTail(w, m.nodelist, m.pendingNodelistSeq, false);
      break;
    case 'reject':
      w.u48(m.epochPromised);
      break;
    case 'install':
      w.u48(m.epoch);
      writeMembers(w, m.members);
      w.u32(m.cuts.length);
      for (const c of m.cuts) {
        writeView(w, c.oldView);
        w.u48(c.cutSeq);
      }
      writeQuorum(w, m.quorum);
      w.u32(m.groupTable.length);
      for (const row of m.groupTable) {
        w.u32(row.nodeId);
        writeStrings(w, row.groups);
      }
      writeNodelistTail(w, m.nodelist, undefined, m.nodelistUnsettled === true);
      break;
    case 'installed':
      w.u48(m.epoch);
      break;
    case 'submit':
      w.u48(m.epoch);
      w.u32(m.fragments.length);
      for (const f of m.fragments) writeFragment(w, f);
      break;
    case 'ordered':
      w.u48(m.epoch);
      w.u48(m.stableSeq);
      w.u32(m.entries.length);
      for (const e of m.entries) {
        w.u48(e.seq);
        w.u32(e.sender);
        writeFragment(w, e);
      }
      break;
    case 'ack':
      w.u48(m.epoch);
      w.u48(m.prefixSeq);
      w.u8(m.nack ? 1 : 0);
      break;
    default: {
      const never: never = m;
      throw new Error(`unknown message ${JSON.stringify(never)}`);
    }
  }
  return w.done();
}

function decodeBody(type: number, r: Reader): ProtocolMessage | undefined {
  const B = DECODE_BOUNDS;
  switch (type) {
    case MESSAGE_TYPE.heartbeat: {
      const view = readView(r);
      const epochMax = r.u48();
      const nodelistVersion = r.atEnd() ? undefined : r.u48();
      const pace = nodelistVersion === undefined || r.atEnd() ? undefined : r.u32();
      if (view === null || epochMax === undefined || (!r.atEnd() && (nodelistVersion === undefined || pace === undefined))) return undefined;
      if (nodelistVersion === undefined) return { t: 'heartbeat', view, epochMax };
      return pace === undefined ? { t: 'heartbeat', view, epochMax, nodelistVersion } : { t: 'heartbeat', view, epochMax, nodelistVersion, pace };
    }
    case MESSAGE_TYPE.nodelist: {
      const nodelist = readNodelist(r);
      return nodelist === undefined ? undefined : { t: 'nodelist', nodelist };
    }
    case MESSAGE_TYPE.probe:
      return r.atEnd() ? { t: 'probe' } : undefined;
    case MESSAGE_TYPE.propose: {
      const epoch = r.u48();
      const members = r.list(B.membersMax, () => readMember(r));
      return epoch === undefined || members === undefined ? undefined : { t: 'propose', epoch, members };
    }
    case MESSAGE_TYPE.flush: {
      const epoch = r.u48();
      const oldView = readView(r);
      const prefixSeq = r.u48();
      const deliveredSeq = r.u48();
      const quorum = readQuorum(r);
      const groups = r.list(B.groupsPerNodeMax, () => r.str());
      const tail = readNodelistTail(r, true);
      if (epoch === undefined || oldView === null || prefixSeq === undefined || deliveredSeq === undefined) return undefined;
      if (quorum === undefined || groups === undefined || tail === null) return undefined;
      const { nodelist, pendingSeq } = tail;
      return { t: 'flush', epoch, oldView, prefixSeq, deliveredSeq, quorum, groups, ...(nodelist !== undefined ? { nodelist } : {}), ...(pendingSeq !== undefined ? { pendingNodelistSeq: pendingSeq } : {}) };
    }
    case MESSAGE_TYPE.reject: {
      const epochPromised = r.u48();
      return epochPromised === undefined ? undefined : { t: 'reject', epochPromised };
    }
    case MESSAGE_TYPE.install:
      return decodeInstall(r);
    case MESSAGE_TYPE.installed: {
      const epoch = r.u48();
      return epoch === undefined ? undefined : { t: 'installed', epoch };
    }
    case MESSAGE_TYPE.submit: {
      const epoch = r.u48();
      const fragments = r.list(B.listMax, () => readFragment(r));
      return epoch === undefined || fragments === undefined ? undefined : { t: 'submit', epoch, fragments };
    }
    case MESSAGE_TYPE.ordered: {
      const epoch = r.u48();
      const stableSeq = r.u48();
      const entries = r.list(B.listMax, () => {
        const seq = r.u48();
        const sender = r.u32();
        const f = readFragment(r);
        if (seq === undefined || sender === undefined || f === undefined) return undefined;
        return orderedEntry(f, seq, sender);
      });
      if (epoch === undefined || stableSeq === undefined || entries === undefined) return undefined;
      return { t: 'ordered', epoch, stableSeq, entries };
    }
    case MESSAGE_TYPE.ack: {
      const epoch = r.u48();
      const prefixSeq = r.u48();
      const nack = r.u8();
      if (epoch === undefined || prefixSeq === undefined || (nack !== 0 && nack !== 1)) return undefined;
      return { t: 'ack', epoch, prefixSeq, nack: nack === 1 };
    }
    default:
      return undefined;
  }
}

function decodeInstall(r: Reader): ProtocolMessage | undefined {
  const B = DECODE_BOUNDS;
  const epoch = r.u48();
  const members = r.list(B.membersMax, () => readMember(r));
  const cuts = r.list(B.membersMax, () => {
    const oldView = readView(r);
    const cutSeq = r.u48();
    return oldView === null || oldView === undefined || cutSeq === undefined ? undefined : { oldView, cutSeq };
  });
  const quorum = readQuorum(r);
  const groupTable = r.list(B.membersMax, () => {
    const nodeId = r.u32();
    const groups = r.list(B.groupsPerNodeMax, () => r.str());
    return nodeId === undefined || groups === undefined ? undefined : { nodeId, groups };
  });
  const tail = readNodelistTail(r, false);
  if (epoch === undefined || members === undefined || cuts === undefined || quorum === undefined || groupTable === undefined || tail === null) return undefined;
  return { t: 'install', epoch, members, cuts, quorum, groupTable, ...(tail.nodelist !== undefined ? { nodelist: tail.nodelist } : {}), ...(tail.unsettled ? { nodelistUnsettled: true } : {}) };
}

/** Decodes a payload of the given wire type; undefined when it is not exactly one valid message. */
export function decodeMessage(type: number, payload: Buffer): ProtocolMessage | undefined {
  const r = new Reader(payload);
  const m = decodeBody(type, r);
  return m !== undefined && r.atEnd() ? m : undefined;
}
