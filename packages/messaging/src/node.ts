/**
 * The protocol core of one node: failure detection, membership views, total-order delivery with
 * virtual synchrony, fragmentation, flow control, process groups and quorum. A pure state
 * machine: the driver (real or simulated) calls `step()` for each authenticated message,
 * `tick()` every few milliseconds, and then `ready()` for what to send and what to deliver.
 * Time comes in as arguments; the core opens no socket and reads no clock.
 *
 * Protocol in brief:
 * - Every node heartbeats all configured peers; a peer silent for deadtimeMs is lost.
 * - The lowest node id among the nodes a node considers alive is the would-be leader. When its
 *   installed view differs from the alive set, it proposes (epoch above any seen); members promise,
 *   freeze the old view and answer with a flush report (old view, contiguous prefix received,
 *   delivered). With all reports in, the leader sends install: members, per old view the cut
 *   (the lowest prefix among its survivors), the merged quorum state and the group table.
 * - In a view, senders submit fragments to the leader, which numbers them (the total order) and
 *   broadcasts them. Members ack their contiguous prefix; an entry is delivered once stable
 *   (every member acked it). Since a delivered entry is held by every member, the cut of a view
 *   change is at or above anything delivered anywhere, and every survivor delivers exactly up to
 *   the cut: the same messages in the same view, or not at all (virtual synchrony).
 * - Own messages not delivered by the cut are resubmitted whole in the next view.
 */
import type { MessagingConfig, NodeEntry, QuorumConfig } from './config.js';
import {
  decodeNodelist,
  encodeNodelist,
  orderedEntry,
  ENTRY_KIND,
  type EntryKind,
  type Fragment,
  type GroupTableRow,
  type MemberRef,
  type Nodelist,
  type NodelistEntry,
  type OrderedEntry,
  type ProtocolMessage,
  type QuorumState,
  type ViewCut,
  type ViewId,
} from './messages.js';
import { Queue } from './queue.js';
import { evaluateQuorum, initialQuorumState, lastManStandingExpected, mergeQuorumStates, type QuorumInfo } from './quorum.js';

export interface GroupMembership {
  readonly group: string;
  readonly members: readonly number[];
}

export interface ViewInfo {
  readonly id: ViewId;
  readonly members: readonly MemberRef[];
  readonly joined: readonly MemberRef[];
  readonly left: readonly MemberRef[];
  readonly quorum: QuorumInfo;
  /** Every process group and its members as the view starts (CPG's initial membership). */
  readonly groups: readonly GroupMembership[];
}

export type NodeEvent =
  | { readonly type: 'view'; readonly view: ViewInfo }
  | { readonly type: 'message'; readonly view: ViewId; readonly seq: number; readonly sender: number; readonly group: string; readonly msgId: number; readonly data: Uint8Array }
  /**
   * A message this node already delivered, ordered again in a later view: its sender was cut
   * off from the partition that delivered it and resubmitted it. Not for applications (each
   * message reaches an application at most once); simulations count it as delivered.
   */
  | { readonly type: 'duplicate'; readonly view: ViewId; readonly seq: number; readonly sender: number; readonly msgId: number; readonly data: Uint8Array }
  | { readonly type: 'group'; readonly view: ViewId; readonly group: string; readonly members: readonly number[]; readonly joined: readonly number[]; readonly left: readonly number[] }
  /**
   * The nodelist changed: an agreed change was delivered (`cause` 'change', from `sender`'s
   * message `msgId`), or a newer list came with a view install (`cause` 'catch-up'). The driver
   * updates its peers' addresses; the host persists the list.
   */
  | { readonly type: 'nodelist'; readonly nodelist: Nodelist; readonly cause: 'change' | 'catch-up'; readonly sender: number; readonly msgId: number }
  /** An agreed nodelist change every member refused alike (`reason`): see MessagingCore.proposeNodelist. */
  | { readonly type: 'nodelist-refused'; readonly sender: number; readonly msgId: number; readonly reason: string }
  | { readonly type: 'late-heartbeat'; readonly nodeId: number; readonly silentMs: number }
  | { readonly type: 'peer-lost'; readonly nodeId: number; readonly silentMs: number };

/** A message to send: to node ids (the driver maps them to addresses or one multicast). */
export interface Outgoing {
  readonly to: readonly number[];
  readonly message: ProtocolMessage;
}

export interface Ready {
  readonly send: Outgoing[];
  readonly events: NodeEvent[];
}

export type SendError = 'not-in-group' | 'message-too-large' | 'send-queue-full' | 'bad-group-name' | 'not-quorate' | 'bad-nodelist';
export type SendResult = { ok: true; msgId: number } | { ok: false; code: SendError };

export interface CoreCounters {
  heartbeatsSent: number;
  /** Heartbeat rounds this node started as the pacer (its own timer; see HEARTBEAT_MEMBER_SLACK). */
  roundsPaced: number;
  lateHeartbeats: number;
  /** Probes sent to peers whose heartbeat was late (see MessagingCore.probeLate). */
  probesSent: number;
  peersLost: number;
  proposals: number;
  viewsInstalled: number;
  fragmentsSubmitted: number;
  fragmentsOrdered: number;
  retransmittedEntries: number;
  retransmittedSubmits: number;
  messagesDelivered: number;
  duplicatesSuppressed: number;
  oversizedDropped: number;
  staleIgnored: number;
}

interface Peer {
  incarnation: number;
  lastHeardMs: number;
  warned: boolean;
  lost: boolean;
  view: ViewId | undefined;
  /** The nodelist version of the peer's last heartbeat (which reported `view`). */
  nodelistVersion: number | undefined;
}

interface OutMessage {
  readonly msgId: number;
  readonly kind: EntryKind;
  readonly group: string;
  readonly data: Uint8Array;
}

interface FlushReport {
  readonly oldView: ViewId | undefined;
  readonly prefixSeq: number;
  readonly deliveredSeq: number;
  readonly quorum: QuorumState;
  readonly groups: readonly string[];
  readonly nodelist?: Nodelist;
  readonly pendingNodelistSeq?: number;
}

interface Proposal {
  readonly epoch: number;
  readonly members: readonly MemberRef[];
  readonly flushes: Map<number, FlushReport>;
  readonly startedMs: number;
  lastSentMs: number;
  readonly lowerExpected: boolean;
}

interface InstallRetry {
  readonly message: Extract<ProtocolMessage, { t: 'install' }>;
  readonly pending: Set<number>;
  readonly sentMs: number;
  lastSentMs: number;
}

/** Leader-side sequencing state of the installed view. */
interface Sequencer {
  lastSeq: number;
  stableSeq: number;
  /** Payload bytes of the entries in `log` (ordered, not yet stable). */
  unstableBytes: number;
  readonly log: Map<number, OrderedEntry>;
  readonly acked: Map<number, number>;
  readonly ackProgressMs: Map<number, number>;
  /** When entries were last re-sent to each member (retransmissions are paced). */
  readonly resentMs: Map<number, number>;
  readonly nextSubmit: Map<number, number>;
  /** Submissions that arrived ahead of a gap, per sender (bounded by submitWindowMax each). */
  readonly early: Map<number, Map<number, Fragment>>;
  pending: OrderedEntry[];
  stableSentSeq: number;
}

const ACK_EVERY_ENTRIES = 64;
const GROUP_NAME_BYTES_MAX = 255;
const FRAGMENT_OVERHEAD_BYTES = 40;

/** Broken invariants stop the node (on in production). The message is built only on failure: this runs per message. */
function invariant(cond: unknown, what: () => string): asserts cond {
  if (!cond) throw new Error(`messaging invariant broken: ${what()}`);
}

function sameView(a: ViewId | undefined, b: ViewId | undefined): boolean {
  return a !== undefined && b !== undefined && a.epoch === b.epoch && a.leader === b.leader && a.leaderIncarnation === b.leaderIncarnation;
}

function allEmpty(sets: Iterable<{ readonly size: number }>): boolean {
  for (const x of sets) if (x.size !== 0) return false;
  return true;
}

function memberKey(members: readonly MemberRef[]): string {
  return members.map((m) => `${m.nodeId}:${m.incarnation}`).join(',');
}

/**
 * The quorum policy in force for a nodelist: two_node applies while the list holds exactly two
 * nodes (with more, votequorum's majority rule; wait_for_all then defaults to off again).
 */
function effectiveQuorum(q: QuorumConfig, nodes: readonly NodeEntry[]): QuorumConfig {
  return q.twoNode && nodes.length !== 2 ? { ...q, twoNode: false } : q;
}

const votesOf = (nodes: readonly NodeEntry[]): number => nodes.reduce((sum, n) => sum + n.votes, 0);

function nodelistEntries(nodes: readonly NodeEntry[]): NodelistEntry[] {
  return nodes.map((n) => ({ nodeId: n.nodeId, votes: n.votes, name: n.name ?? '', addresses: n.addresses ?? [] }));
}

/** Whether `a` should replace `b`: a higher version (equal versions with different lists cannot both be agreed: see proposeNodelist; the larger encoding wins so every member picks alike). */
function newerNodelist(a: Nodelist, b: Nodelist): boolean {
  if (a.version !== b.version) return a.version > b.version;
  return Buffer.compare(encodeNodelist(a), encodeNodelist(b)) > 0;
}

/** Why `next` cannot follow a nodelist (ids, votes, names), or undefined. */
export function nodelistProblem(next: readonly NodelistEntry[]): string | undefined {
  if (next.length === 0) return 'the nodelist would be empty';
  const ids = new Set<number>();
  const names = new Set<string>();
  for (const n of next) {
    if (!Number.isInteger(n.nodeId) || n.nodeId < 1 || n.nodeId > 0xffffffff) return `node id ${n.nodeId} is not in 1..4294967295`;
    if (!Number.isInteger(n.votes) || n.votes < 0 || n.votes > 255) return `node ${n.nodeId}: votes ${n.votes} not in 0..255`;
    if (ids.has(n.nodeId)) return `node id ${n.nodeId} twice`;
    if (n.name !== '' && names.has(n.name)) return `node name ${n.name} twice`;
    ids.add(n.nodeId);
    names.add(n.name);
  }
  return undefined;
}

/** A heartbeat due within this fraction of an interval is sent on receipt of a peer's heartbeat. */
export const HEARTBEAT_EARLY_FRACTION = 0.3;
/**
 * Heartbeats go in rounds. The pacer of a round sends its heartbeat from its own timer, naming the
 * next round's pacer (`pace`: the next member of the view after itself, in node id order, that is
 * not late); every other node answers it at once, so each node wakes about once per interval and
 * the pacer's extra cost (a timer wake-up, a cold seal) goes round the view instead of always
 * falling on one node. A node not named runs its own timer this many intervals late: it is only a
 * fallback for a named pacer that stays silent, early enough (1.25 intervals, below the default
 * warntime of 1.5) that a crashed pacer costs the others no late-heartbeat warning about each
 * other. Each round's heartbeat moves that timer later again, which costs no wake-up with the
 * driver's native timer (driver/timer.ts). Its own timer runs at the interval again when its
 * last heartbeat was not in a paced round (HEARTBEAT_PACE_STALE of an interval after the
 * designation), at start-up or after the pacer was lost. When two nodes start the same round, the
 * designation of the lower node id wins everywhere it arrives (HEARTBEAT_PACE_STALE again).
 */
export const HEARTBEAT_MEMBER_SLACK = 0.25;
/** See HEARTBEAT_MEMBER_SLACK. */
export const HEARTBEAT_PACE_STALE = 0.5;

export class MessagingCore {
  readonly counters: CoreCounters = {
    heartbeatsSent: 0,
    roundsPaced: 0,
    lateHeartbeats: 0,
    probesSent: 0,
    peersLost: 0,
    proposals: 0,
    viewsInstalled: 0,
    fragmentsSubmitted: 0,
    fragmentsOrdered: 0,
    retransmittedEntries: 0,
    retransmittedSubmits: 0,
    messagesDelivered: 0,
    duplicatesSuppressed: 0,
    oversizedDropped: 0,
    staleIgnored: 0,
  };
  private readonly peers = new Map<number, Peer>();
  private readonly configuredIds: number[];
  /** The nodelist in force (config.nodes until an agreed change or a catch-up replaces it), sorted by id. */
  private nodes: readonly NodeEntry[];
  private nodelistVersion: number;
  /** config.quorum as it applies to `nodes` (effectiveQuorum). */
  private quorumCfg: QuorumConfig;
  /** An agreed nodelist change was applied: the leader installs a new view, so every member reports the new quorum. */
  private nodelistViewWanted = false;
  /** The installed view's members may hold different nodelists (install.nodelistUnsettled): no change is decided in it. */
  private viewNodelistUnsettled = false;
  private aliveKey = '';
  /** The alive set may have changed since aliveKey was computed (a peer new, lost or back). */
  private aliveDirty = true;
  private aliveChangedMs: number;
  private lastHeartbeatMs = -Infinity;
  /** The latest pacer designation: who paces the next round, who named it, and when (HEARTBEAT_MEMBER_SLACK). */
  private pace: { pacer: number; by: number; atMs: number } | undefined;
  private epochMax = 0;
  private installed: { id: ViewId; members: readonly MemberRef[]; installedMs: number } | undefined;
  private promise: { epoch: number; leader: number; atMs: number } | undefined;
  private quorumState: QuorumState;
  private quorumInfo: QuorumInfo | undefined;
  private lmsDone = false;
  // Receiving side of the installed view.
  private received = new Map<number, OrderedEntry>();
  private prefixSeq = 0;
  private deliveredSeq = 0;
  private stableSeq = 0;
  private ackSentSeq = 0;
  private ackSentMs = -Infinity;
  /** When the current gap in received entries was first seen (undefined: no gap). */
  private gapSinceMs: number | undefined;
  /** Incarnation of each member of the installed view. */
  private memberIncarnation = new Map<number, number>();
  /** Highest msgId delivered per sender incarnation (at most one entry per configured node). */
  private readonly deliveredMsgId = new Map<number, { incarnation: number; msgId: number }>();
  private readonly reassembly = new Map<number, { msgId: number; parts: Uint8Array[]; bytes: number; fragments: number }>();
  // Sending side.
  private readonly outbox = new Queue<OutMessage>();
  private outboxBytes = 0;
  private nextMsgId = 1;
  /** Own fragments of this view not yet seen ordered, in submitId order. */
  private readonly fragments = new Queue<Fragment>();
  private nextSubmitId = 1;
  private orderedSubmitId = 0;
  private sentSubmitId = 0;
  private submitProgressMs = 0;
  private orderedSubmitIdAtCheck = 0;
  // Leader side.
  private seq: Sequencer | undefined;
  private proposal: Proposal | undefined;
  private installRetry: InstallRetry | undefined;
  // Groups.
  private readonly intent = new Set<string>();
  private agreedGroups = new Map<number, Set<string>>();
  private out: Outgoing[] = [];
  private events: NodeEvent[] = [];

  constructor(
    private readonly config: MessagingConfig,
    readonly self: MemberRef,
    private readonly startedMs: number,
  ) {
    invariant(config.nodes.some((n) => n.nodeId === self.nodeId), () => `node ${self.nodeId} is in the node list`);
    this.configuredIds = config.nodes.map((n) => n.nodeId);
    this.nodes = config.nodes;
    this.nodelistVersion = config.nodelistVersion ?? 0;
    this.quorumCfg = effectiveQuorum(config.quorum, config.nodes);
    this.aliveChangedMs = startedMs;
    this.quorumState = initialQuorumState(this.quorumCfg, config.nodes);
  }

  // ---------------------------------------------------------------- public API

  /** Queues an application message to a group this node has joined. */
  send(group: string, data: Uint8Array): SendResult {
    if (!this.intent.has(group)) return { ok: false, code: 'not-in-group' };
    if (data.length > this.config.limits.messageBytesMax) return { ok: false, code: 'message-too-large' };
    return this.enqueue(ENTRY_KIND.data, group, data);
  }

  joinGroup(group: string): SendResult {
    if (Buffer.byteLength(group) === 0 || Buffer.byteLength(group) > GROUP_NAME_BYTES_MAX) return { ok: false, code: 'bad-group-name' };
    if (this.intent.has(group)) return { ok: true, msgId: 0 };
    const r = this.enqueue(ENTRY_KIND.groupJoin, group, new Uint8Array(0));
    if (r.ok) this.intent.add(group);
    return r;
  }

  leaveGroup(group: string): SendResult {
    if (!this.intent.has(group)) return { ok: false, code: 'not-in-group' };
    const r = this.enqueue(ENTRY_KIND.groupLeave, group, new Uint8Array(0));
    if (r.ok) this.intent.delete(group);
    return r;
  }

  /** The nodelist in force, with its version. */
  get nodelist(): Nodelist {
    return { version: this.nodelistVersion, nodes: nodelistEntries(this.nodes) };
  }

  /**
   * Proposes `nodes` as the cluster's next nodelist (what corosync does with an edited nodelist
   * and a reload, but agreed): the change is ordered like a message, and every member of the
   * view applies it at the same place in the total order ('nodelist' event, cause 'change'), or
   * refuses it alike ('nodelist-refused'): when at that place the view is not quorate, another
   * change came first (the version moved on), it would drop a member of the view, or the view
   * would not be quorate under the new list, or the view's members may hold different lists
   * (a change was delivered in the cut of the view change; the leader forms a new view at once).
   * `baseVersion`: the version of the list `nodes` was made from (default: the current one).
   * Refused at once ('not-quorate', 'bad-nodelist')
   * when this node's view is not quorate or the list is malformed. Expected votes follow the
   * votes added or removed (unless quorum.expectedVotes is configured).
   */
  proposeNodelist(nodes: readonly NodelistEntry[], baseVersion = this.nodelistVersion): SendResult {
    if (this.installed === undefined || !(this.quorumInfo?.quorate ?? false)) return { ok: false, code: 'not-quorate' };
    // Stamped with the version the caller built the list from: made from an older list, it is refused when delivered.
    const next: Nodelist = { version: baseVersion + 1, nodes: [...nodes].sort((a, b) => a.nodeId - b.nodeId) };
    if (nodelistProblem(next.nodes) !== undefined) return { ok: false, code: 'bad-nodelist' };
    let data: Buffer;
    try {
      data = encodeNodelist(next);
    } catch {
      return { ok: false, code: 'bad-nodelist' }; // a name or address longer than the wire allows
    }
    return this.enqueue(ENTRY_KIND.nodelist, '', data);
  }

  /** Everything to send and deliver since the last call. */
  ready(nowMs: number): Ready {
    this.flushSubmits(nowMs);
    this.flushOrdered();
    const ready = { send: this.out, events: this.events };
    this.out = [];
    this.events = [];
    return ready;
  }

  status(nowMs: number) {
    return {
      self: this.self,
      view: this.installed ? { id: this.installed.id, members: this.installed.members } : undefined,
      frozen: this.isFrozen(),
      quorum: this.quorumInfo,
      peers: [...this.peers].map(([nodeId, p]) => ({ nodeId, incarnation: p.incarnation, silentMs: nowMs - p.lastHeardMs, lost: p.lost })),
      order: { prefixSeq: this.prefixSeq, deliveredSeq: this.deliveredSeq, stableSeq: this.stableSeq, outbox: this.outbox.length },
      groups: [...this.intent],
      counters: { ...this.counters },
    };
  }

  /**
   * True when nothing is in flight: no view change, no unacknowledged or undelivered entries, no
   * own messages queued. A driver may then tick less often (timers only need heartbeat precision).
   */
  get quiescent(): boolean {
    const s = this.seq;
    return (
      this.proposal === undefined &&
      !this.isFrozen() &&
      (this.installRetry === undefined || this.installRetry.pending.size === 0) &&
      this.outbox.length === 0 &&
      this.received.size === 0 &&
      this.stableSeq >= this.prefixSeq &&
      // The leader is the sequencer: it acknowledges to nobody, so only members owe an ack.
      (this.installed?.id.leader === this.self.nodeId || this.ackSentSeq >= this.prefixSeq) &&
      (s === undefined || (s.stableSeq === s.lastSeq && allEmpty(s.early.values())))
    );
  }

  /**
   * For an idle driver: when tick() next has timed work to do (the next heartbeat, or a peer's warn
   * or dead time), or undefined while the membership is not settled (the alive set differs from
   * the installed view), when the driver should keep ticking at its normal rate.
   */
  nextDueMs(): number | undefined {
    const v = this.installed;
    if (v === undefined || !this.isAliveSet(v.members)) return undefined;
    const t = this.config.timing;
    let due = this.heartbeatDueMs();
    for (const [nodeId, p] of this.peers) {
      if (p.lost) continue;
      due = Math.min(due, p.lastHeardMs + (p.warned ? t.deadtimeMs : t.warntimeMs));
      if (p.warned) due = Math.min(due, (this.probedMs.get(nodeId) ?? -Infinity) + t.retransmitIntervalMs);
    }
    return due;
  }

  /** Own messages queued and not yet delivered back (flow control: send() refuses at sendQueueMessagesMax). */
  get sendQueueLength(): number {
    return this.outbox.length;
  }

  get view(): ViewId | undefined {
    return this.installed?.id;
  }

  // ---------------------------------------------------------------- input

  /** One authenticated message from `from`. */
  step(from: MemberRef, m: ProtocolMessage, nowMs: number): void {
    if (from.nodeId === this.self.nodeId || !this.configuredIds.includes(from.nodeId)) return;
    if (!this.noteHeard(from, nowMs)) {
      this.counters.staleIgnored += 1;
      return;
    }
    switch (m.t) {
      case 'heartbeat': {
        this.epochMax = Math.max(this.epochMax, m.epochMax);
        const peer = this.peerOf(from.nodeId);
        peer.view = m.view;
        peer.nodelistVersion = m.nodelistVersion;
        // A peer on an older nodelist may not know the nodes (the leader among them) that would
        // bring it into a view: it gets the newer list directly. Not a member of this node's view:
        // the change reaches it in the total order (or the next view's install), and a push could
        // overtake that delivery, leaving it to refuse the change as one that "came first".
        if (m.nodelistVersion !== undefined && m.nodelistVersion < this.nodelistVersion && !sameView(m.view, this.installed?.id)) this.sendTo([from.nodeId], { t: 'nodelist', nodelist: this.nodelist });
        if (m.pace !== undefined) this.notePace(from.nodeId, m.pace, nowMs);
        this.heartbeatIfDue(nowMs, true);
        break;
      }
      case 'nodelist':
        this.onNodelistPushed(from, m.nodelist);
        break;
      case 'probe':
        // Answered at once, to the prober only: its next probe may be a retransmit interval away.
        this.sendTo([from.nodeId], { t: 'heartbeat', view: this.installed?.id, epochMax: this.epochMax, nodelistVersion: this.nodelistVersion });
        break;
      case 'propose':
        this.onPropose(from, m, nowMs);
        break;
      case 'flush':
        this.onFlush(from, m, nowMs);
        break;
      case 'reject':
        this.epochMax = Math.max(this.epochMax, m.epochPromised);
        if (this.proposal !== undefined && m.epochPromised >= this.proposal.epoch) this.proposal = undefined;
        break;
      case 'install':
        this.onInstall(from, m, nowMs);
        break;
      case 'installed':
        if (this.installRetry?.message.epoch === m.epoch) this.installRetry.pending.delete(from.nodeId);
        break;
      case 'submit':
        if (this.isMemberOfView(from) && this.seq !== undefined && m.epoch === this.installed?.id.epoch && !this.isFrozen()) {
          this.acceptSubmits(from.nodeId, m.fragments, nowMs);
        }
        break;
      case 'ordered':
        this.onOrdered(from, m, nowMs);
        break;
      case 'ack':
        this.onAck(from, m, nowMs);
        break;
      default: {
        const never: never = m;
        throw new Error(`unhandled message ${JSON.stringify(never)}`);
      }
    }
  }

  /** Timers: heartbeats, failure detection, proposals, retransmissions, acks. */
  tick(nowMs: number): void {
    this.heartbeatIfDue(nowMs, false);
    this.detectFailures(nowMs);
    this.probeLate(nowMs);
    this.driveMembership(nowMs);
    this.retransmit(nowMs);
    this.maybeAck(nowMs, false);
  }

  // ---------------------------------------------------------------- failure detection

  /**
   * When this node's own timer sends its next heartbeat: one interval after the last when it paces
   * the next round or no round is paced, else HEARTBEAT_MEMBER_SLACK intervals later.
   */
  private heartbeatDueMs(): number {
    const interval = this.config.timing.heartbeatIntervalMs;
    const pace = this.pace;
    const paced = pace !== undefined && this.installed !== undefined && this.lastHeartbeatMs - pace.atMs <= interval * HEARTBEAT_PACE_STALE;
    return this.lastHeartbeatMs + (paced && pace.pacer !== this.self.nodeId ? interval * (1 + HEARTBEAT_MEMBER_SLACK) : interval);
  }

  /**
   * The pacer this node names when it starts a round: the next member of its view after itself
   * (node id order, wrapping) that is neither lost nor late; itself when there is none.
   */
  private nextPacer(): number {
    const members = this.installed?.members ?? [];
    const me = members.findIndex((m) => m.nodeId === this.self.nodeId);
    for (let k = 1; k < members.length; k++) {
      const id = members[(me + k) % members.length]!.nodeId;
      if (id === this.self.nodeId) continue;
      const p = this.peers.get(id);
      if (p !== undefined && !p.lost && !p.warned) return id;
    }
    return this.self.nodeId;
  }

  /**
   * A designation heard in a heartbeat: taken unless one from a lower node id was heard within
   * HEARTBEAT_PACE_STALE of an interval (two nodes started the same round).
   */
  private notePace(by: number, pacer: number, nowMs: number): void {
    const p = this.pace;
    const fresh = p !== undefined && nowMs - p.atMs <= this.config.timing.heartbeatIntervalMs * HEARTBEAT_PACE_STALE;
    if (fresh && p.by < by) return;
    this.pace = { pacer, by, atMs: nowMs };
  }

  /**
   * Sends this node's heartbeat when its timer is due (`early` false), or on receipt of a peer's
   * heartbeat when one interval has nearly passed (HEARTBEAT_EARLY_FRACTION): answering at once,
   * a little early, lines the nodes' heartbeats up behind the leader's, so an idle member wakes up
   * for its peers' heartbeats only and not also for a timer of its own. When the leader's stop
   * arriving, one of a member's heartbeats is late by at most HEARTBEAT_MEMBER_SLACK intervals,
   * then they follow at the interval; deadtime spans six intervals by default.
   */
  private heartbeatIfDue(nowMs: number, early: boolean): void {
    const interval = this.config.timing.heartbeatIntervalMs;
    if (early ? nowMs - this.lastHeartbeatMs < interval * (1 - HEARTBEAT_EARLY_FRACTION) : nowMs < this.heartbeatDueMs()) return;
    this.lastHeartbeatMs = nowMs;
    this.counters.heartbeatsSent += 1;
    if (early || this.installed === undefined) {
      this.sendTo(this.otherConfigured(), { t: 'heartbeat', view: this.installed?.id, epochMax: this.epochMax, nodelistVersion: this.nodelistVersion });
      return;
    }
    // From this node's own timer: it starts a round and names the next round's pacer.
    const pace = this.nextPacer();
    this.counters.roundsPaced += 1;
    this.notePace(this.self.nodeId, pace, nowMs);
    this.sendTo(this.otherConfigured(), { t: 'heartbeat', view: this.installed.id, epochMax: this.epochMax, nodelistVersion: this.nodelistVersion, pace });
  }

  /** Records liveness; false when the message comes from an older incarnation than known. */
  private noteHeard(from: MemberRef, nowMs: number): boolean {
    const p = this.peers.get(from.nodeId);
    if (p !== undefined && from.incarnation < p.incarnation) return false;
    if (p === undefined || from.incarnation > p.incarnation) {
      this.peers.set(from.nodeId, { incarnation: from.incarnation, lastHeardMs: nowMs, warned: false, lost: false, view: undefined, nodelistVersion: undefined });
      this.aliveDirty = true;
      return true;
    }
    p.lastHeardMs = nowMs;
    p.warned = false;
    if (p.lost) this.aliveDirty = true;
    p.lost = false;
    return true;
  }

  /**
   * A peer whose heartbeat is late (silent past the warntime) is asked directly, every retransmit
   * interval until it answers or the deadtime passes: a lost heartbeat then costs a round trip,
   * not an interval. This is what lets heartbeats be sparse (one every 200 ms by default, half the
   * packets, and of an idle node's CPU, of the former 100 ms) while a peer is declared lost only
   * when its heartbeats and some fifteen probes in a row all went unanswered.
   */
  private probeLate(nowMs: number): void {
    const t = this.config.timing;
    for (const [nodeId, p] of this.peers) {
      if (!p.warned || p.lost) continue;
      if (nowMs - (this.probedMs.get(nodeId) ?? -Infinity) < t.retransmitIntervalMs) continue;
      this.probedMs.set(nodeId, nowMs);
      this.counters.probesSent += 1;
      this.sendTo([nodeId], { t: 'probe' });
    }
  }

  /** nodeId -> when this node last probed it (probeLate). */
  private readonly probedMs = new Map<number, number>();

  private peerOf(nodeId: number): Peer {
    const p = this.peers.get(nodeId);
    invariant(p !== undefined, () => `peer ${nodeId} known`);
    return p;
  }

  private detectFailures(nowMs: number): void {
    const t = this.config.timing;
    for (const [nodeId, p] of this.peers) {
      const silentMs = nowMs - p.lastHeardMs;
      if (!p.warned && !p.lost && silentMs >= t.warntimeMs) {
        p.warned = true;
        this.counters.lateHeartbeats += 1;
        this.events.push({ type: 'late-heartbeat', nodeId, silentMs });
      }
      if (!p.lost && silentMs >= t.deadtimeMs) {
        p.lost = true;
        this.aliveDirty = true;
        this.counters.peersLost += 1;
        this.events.push({ type: 'peer-lost', nodeId, silentMs });
      }
    }
    if (!this.aliveDirty) return;
    this.aliveDirty = false;
    const key = memberKey(this.aliveMembers());
    if (key !== this.aliveKey) {
      this.aliveKey = key;
      this.aliveChangedMs = nowMs;
    }
  }

  /**
   * True when `members` is exactly the alive set (self and every peer heard within the deadtime),
   * checked without building it: an idle node asks this on every wake-up.
   */
  private isAliveSet(members: readonly MemberRef[]): boolean {
    let alive = 1;
    for (const p of this.peers.values()) if (!p.lost) alive += 1;
    if (members.length !== alive) return false;
    for (const m of members) {
      if (m.nodeId === this.self.nodeId) {
        if (m.incarnation !== this.self.incarnation) return false;
        continue;
      }
      const p = this.peers.get(m.nodeId);
      if (p === undefined || p.lost || p.incarnation !== m.incarnation) return false;
    }
    return true;
  }

  /** Self plus every peer heard within the deadtime, by node id. */
  private aliveMembers(): MemberRef[] {
    const alive: MemberRef[] = [this.self];
    for (const [nodeId, p] of this.peers) if (!p.lost) alive.push({ nodeId, incarnation: p.incarnation });
    return alive.sort((a, b) => a.nodeId - b.nodeId);
  }

  // ---------------------------------------------------------------- membership

  private isFrozen(): boolean {
    return this.promise !== undefined && this.promise.epoch > (this.installed?.id.epoch ?? 0);
  }

  private isMemberOfView(from: MemberRef): boolean {
    return this.installed?.members.some((m) => m.nodeId === from.nodeId && m.incarnation === from.incarnation) ?? false;
  }

  private driveMembership(nowMs: number): void {
    const t = this.config.timing;
    const alive = this.aliveMembers();
    if (this.proposal !== undefined) {
      const p = this.proposal;
      if (!this.isAliveSet(p.members) || nowMs - p.startedMs >= t.proposalTimeoutMs) {
        this.proposal = undefined;
      } else if (nowMs - p.lastSentMs >= t.retransmitIntervalMs) {
        p.lastSentMs = nowMs;
        const missing = p.members.filter((m) => !p.flushes.has(m.nodeId)).map((m) => m.nodeId);
        this.sendTo(missing, { t: 'propose', epoch: p.epoch, members: p.members });
      }
      return;
    }
    if (alive[0]?.nodeId !== this.self.nodeId) return;
    if (nowMs - this.startedMs < t.initialSettleMs || nowMs - this.aliveChangedMs < t.joinSettleMs) return;
    const lowerExpected = this.lastManStandingDue(nowMs);
    if (this.needsView(alive, nowMs) || lowerExpected) this.propose(alive, nowMs, lowerExpected);
  }

  private needsView(alive: readonly MemberRef[], nowMs: number): boolean {
    const v = this.installed;
    if (v === undefined || v.id.leader !== this.self.nodeId) return this.isFrozen() ? this.promiseStale(nowMs) : true;
    if (!this.isAliveSet(v.members)) return true;
    if (this.isFrozen()) return this.promiseStale(nowMs);
    if (this.memberMovedOn(v.id) || this.nodelistViewWanted || this.memberNodelistDiffers()) return true;
    const stuck = this.installRetry !== undefined && nowMs - this.installRetry.sentMs >= this.config.timing.proposalTimeoutMs && this.installRetry.pending.size > 0;
    return stuck;
  }

  /**
   * A member of my view whose heartbeat reports a different view of the same or a later epoch
   * left my view without my noticing (e.g. it declared us lost during a partition shorter than
   * our own detection, then healed): only a new view brings it back.
   */
  private memberMovedOn(mine: ViewId): boolean {
    for (const m of this.installed?.members ?? []) {
      if (m.nodeId === this.self.nodeId) continue;
      const reported = this.peers.get(m.nodeId)?.view;
      if (reported !== undefined && reported.epoch >= mine.epoch && !sameView(reported, mine)) return true;
    }
    return false;
  }

  /** A promise to another leader that did not lead to an install in time may be overridden. */
  private promiseStale(nowMs: number): boolean {
    return this.promise === undefined || this.promise.leader === this.self.nodeId || nowMs - this.promise.atMs >= this.config.timing.proposalTimeoutMs;
  }

  private lastManStandingDue(nowMs: number): boolean {
    const q = this.config.quorum;
    const v = this.installed;
    if (!q.lastManStanding || this.lmsDone || v === undefined || v.id.leader !== this.self.nodeId || this.isFrozen()) return false;
    if (this.quorumInfo === undefined || !this.quorumInfo.quorate) return false;
    if (this.quorumInfo.totalVotes >= this.quorumInfo.expectedVotes) return false;
    return nowMs - v.installedMs >= q.lastManStandingWindowMs;
  }

  private propose(members: readonly MemberRef[], nowMs: number, lowerExpected: boolean): void {
    const epoch = Math.max(this.epochMax, this.promise?.epoch ?? 0, this.installed?.id.epoch ?? 0) + 1;
    this.epochMax = epoch;
    this.counters.proposals += 1;
    this.installRetry = undefined;
    this.proposal = { epoch, members, flushes: new Map(), startedMs: nowMs, lastSentMs: nowMs, lowerExpected };
    this.sendTo(
      members.filter((m) => m.nodeId !== this.self.nodeId).map((m) => m.nodeId),
      { t: 'propose', epoch, members },
    );
    this.promise = { epoch, leader: this.self.nodeId, atMs: nowMs };
    this.proposal.flushes.set(this.self.nodeId, this.flushReport());
    this.maybeCompleteProposal(nowMs);
  }

  private flushReport(): FlushReport {
    const pending = this.pendingNodelistSeq();
    return {
      oldView: this.installed?.id,
      prefixSeq: this.prefixSeq,
      deliveredSeq: this.deliveredSeq,
      quorum: this.quorumState,
      groups: [...this.intent].sort(),
      ...(this.nodelistVersion > 0 ? { nodelist: this.nodelist } : {}),
      ...(pending !== undefined ? { pendingNodelistSeq: pending } : {}),
    };
  }

  private onPropose(from: MemberRef, m: Extract<ProtocolMessage, { t: 'propose' }>, nowMs: number): void {
    this.epochMax = Math.max(this.epochMax, m.epoch);
    if (!m.members.some((x) => x.nodeId === this.self.nodeId && x.incarnation === this.self.incarnation)) return;
    const pr = this.promise;
    if (pr !== undefined && pr.epoch === m.epoch && pr.leader === from.nodeId) {
      if (this.isFrozen()) this.sendFlush(from.nodeId, m.epoch);
      return;
    }
    const floor = Math.max(pr?.epoch ?? 0, this.installed?.id.epoch ?? 0);
    if (m.epoch <= floor) {
      this.sendTo([from.nodeId], { t: 'reject', epochPromised: floor });
      return;
    }
    this.promise = { epoch: m.epoch, leader: from.nodeId, atMs: nowMs };
    this.proposal = undefined;
    this.sendFlush(from.nodeId, m.epoch);
  }

  private sendFlush(to: number, epoch: number): void {
    this.sendTo([to], { t: 'flush', epoch, ...this.flushReport() });
  }

  private onFlush(from: MemberRef, m: Extract<ProtocolMessage, { t: 'flush' }>, nowMs: number): void {
    const p = this.proposal;
    if (p === undefined || m.epoch !== p.epoch) return;
    if (!p.members.some((x) => x.nodeId === from.nodeId && x.incarnation === from.incarnation)) return;
    p.flushes.set(from.nodeId, m);
    this.maybeCompleteProposal(nowMs);
  }

  private maybeCompleteProposal(nowMs: number): void {
    const p = this.proposal;
    if (p === undefined || p.flushes.size < p.members.length) return;
    const install = this.buildInstall(p);
    this.proposal = undefined;
    const others = p.members.filter((x) => x.nodeId !== this.self.nodeId).map((x) => x.nodeId);
    this.sendTo(others, install);
    this.installRetry = { message: install, pending: new Set(others), sentMs: nowMs, lastSentMs: nowMs };
    this.applyInstall(install, this.self, nowMs);
  }

  /**
   * The lowest seq of a nodelist change received in this view and not delivered yet (it may be
   * delivered in the cut of the next view change, after this report went out); none in a view
   * whose changes are all refused anyway (unsettled).
   */
  private pendingNodelistSeq(): number | undefined {
    if (this.viewNodelistUnsettled) return undefined;
    let lowest: number | undefined;
    for (const e of this.received.values()) if (e.kind === ENTRY_KIND.nodelist && e.seq > this.deliveredSeq && (lowest === undefined || e.seq < lowest)) lowest = e.seq;
    return lowest;
  }

  /** The cut of every old view is the lowest contiguous prefix among its survivors. */
  private buildInstall(p: Proposal): Extract<ProtocolMessage, { t: 'install' }> {
    const cuts = new Map<string, ViewCut & { deliveredMax: number }>();
    for (const f of p.flushes.values()) {
      if (f.oldView === undefined) continue;
      const key = `${f.oldView.epoch}/${f.oldView.leader}/${f.oldView.leaderIncarnation}`;
      const c = cuts.get(key);
      cuts.set(key, {
        oldView: f.oldView,
        cutSeq: Math.min(c?.cutSeq ?? Infinity, f.prefixSeq),
        deliveredMax: Math.max(c?.deliveredMax ?? 0, f.deliveredSeq),
      });
    }
    for (const c of cuts.values()) invariant(c.cutSeq >= c.deliveredMax, () => `cut ${c.cutSeq} covers delivered ${c.deliveredMax}`);
    // The newest nodelist among the members goes out with the install; expected votes are merged
    // among the members that hold it (a member still on an older list reports older votes).
    let nodelist = this.nodelist;
    for (const f of p.flushes.values()) if (f.nodelist !== undefined && newerNodelist(f.nodelist, nodelist)) nodelist = f.nodelist;
    const current = [...p.flushes.values()].filter((f) => (f.nodelist?.version ?? 0) === nodelist.version);
    let quorum = mergeQuorumStates(current.map((f) => f.quorum), this.quorumState);
    const ids = p.members.map((x) => x.nodeId);
    if (p.lowerExpected) {
      const entries: NodeEntry[] = nodelist.nodes.map((n) => ({ nodeId: n.nodeId, votes: n.votes }));
      const total = evaluateQuorum(effectiveQuorum(this.config.quorum, entries), entries, ids, quorum).info.totalVotes;
      quorum = { ...quorum, expectedVotes: lastManStandingExpected(quorum, total) };
    }
    const groupTable: GroupTableRow[] = p.members.map((x) => ({ nodeId: x.nodeId, groups: p.flushes.get(x.nodeId)?.groups ?? [] }));
    // A nodelist change at or below its view's cut, not delivered by a survivor that reported it,
    // is applied during the install, after the reports: the new view's members may then differ.
    const unsettled = [...p.flushes.values()].some((f) => {
      if (f.pendingNodelistSeq === undefined || f.oldView === undefined) return false;
      const cut = cuts.get(`${f.oldView.epoch}/${f.oldView.leader}/${f.oldView.leaderIncarnation}`);
      return cut !== undefined && f.pendingNodelistSeq <= cut.cutSeq;
    });
    return {
      t: 'install',
      epoch: p.epoch,
      members: p.members,
      cuts: [...cuts.values()].map((c) => ({ oldView: c.oldView, cutSeq: c.cutSeq })),
      quorum,
      groupTable,
      ...(nodelist.version > 0 ? { nodelist } : {}),
      ...(unsettled ? { nodelistUnsettled: true } : {}),
    };
  }

  private onInstall(from: MemberRef, m: Extract<ProtocolMessage, { t: 'install' }>, nowMs: number): void {
    if (sameView(this.installed?.id, { epoch: m.epoch, leader: from.nodeId, leaderIncarnation: from.incarnation })) {
      this.sendTo([from.nodeId], { t: 'installed', epoch: m.epoch });
      return;
    }
    const pr = this.promise;
    if (pr === undefined || pr.epoch !== m.epoch || pr.leader !== from.nodeId || !this.isFrozen()) return;
    this.applyInstall(m, from, nowMs);
    this.sendTo([from.nodeId], { t: 'installed', epoch: m.epoch });
  }

  private applyInstall(m: Extract<ProtocolMessage, { t: 'install' }>, leader: MemberRef, nowMs: number): void {
    const old = this.installed;
    if (old !== undefined) {
      const cut = m.cuts.find((c) => sameView(c.oldView, old.id));
      invariant(cut !== undefined, () => `install ${m.epoch} carries a cut for my view ${old.id.epoch}/${old.id.leader}`);
      invariant(this.prefixSeq >= cut.cutSeq, () => `prefix ${this.prefixSeq} reaches cut ${cut.cutSeq}`);
      this.deliverUpTo(cut.cutSeq);
    }
    const id: ViewId = { epoch: m.epoch, leader: leader.nodeId, leaderIncarnation: leader.incarnation };
    this.installed = { id, members: m.members, installedMs: nowMs };
    this.memberIncarnation = new Map(m.members.map((x) => [x.nodeId, x.incarnation]));
    this.epochMax = Math.max(this.epochMax, m.epoch);
    this.counters.viewsInstalled += 1;
    this.resetOrdering(m.members, leader.nodeId);
    if (m.nodelist !== undefined && newerNodelist(m.nodelist, this.nodelist)) {
      this.adoptNodelist(m.nodelist);
      this.events.push({ type: 'nodelist', nodelist: this.nodelist, cause: 'catch-up', sender: leader.nodeId, msgId: 0 });
    }
    // An unsettled view decides no nodelist change, and its leader forms the next view at once:
    // the reports for it carry every member's list as it is after the cut.
    this.viewNodelistUnsettled = m.nodelistUnsettled === true;
    this.nodelistViewWanted = this.viewNodelistUnsettled;
    const ids = m.members.map((x) => x.nodeId);
    const q = evaluateQuorum(this.quorumCfg, this.nodes, ids, m.quorum);
    this.lmsDone = q.next.expectedVotes <= q.info.totalVotes;
    this.quorumState = q.next;
    this.quorumInfo = q.info;
    const oldKeys = new Set((old?.members ?? []).map((x) => `${x.nodeId}:${x.incarnation}`));
    const newKeys = new Set(m.members.map((x) => `${x.nodeId}:${x.incarnation}`));
    this.events.push({
      type: 'view',
      view: {
        id,
        members: m.members,
        joined: m.members.filter((x) => !oldKeys.has(`${x.nodeId}:${x.incarnation}`)),
        left: (old?.members ?? []).filter((x) => !newKeys.has(`${x.nodeId}:${x.incarnation}`)),
        quorum: q.info,
        groups: this.groupsOf(m.groupTable),
      },
    });
    this.installGroupTable(m.groupTable, id);
    this.resubmitOutbox();
  }

  private resetOrdering(members: readonly MemberRef[], leader: number): void {
    this.received = new Map();
    this.reassembly.clear();
    this.prefixSeq = 0;
    this.deliveredSeq = 0;
    this.stableSeq = 0;
    this.ackSentSeq = 0;
    this.gapSinceMs = undefined;
    this.seq = undefined;
    if (leader === this.self.nodeId) {
      const ids = members.map((x) => x.nodeId);
      this.seq = {
        lastSeq: 0,
        stableSeq: 0,
        unstableBytes: 0,
        log: new Map(),
        acked: new Map(ids.map((id) => [id, 0])),
        ackProgressMs: new Map(ids.map((id) => [id, 0])),
        resentMs: new Map(ids.map((id) => [id, -Infinity])),
        nextSubmit: new Map(ids.map((id) => [id, 1])),
        early: new Map(ids.map((id) => [id, new Map()])),
        pending: [],
        stableSentSeq: 0,
      };
    }
  }

  // ---------------------------------------------------------------- nodelist

  /** An agreed nodelist change, delivered: every member decides alike (same state, same place in the order). */
  private onNodelistEntry(data: Uint8Array, sender: number, msgId: number): void {
    const next = decodeNodelist(data);
    const refusal = this.nodelistRefusal(next);
    if (refusal !== undefined || next === undefined) {
      this.events.push({ type: 'nodelist-refused', sender, msgId, reason: refusal ?? 'malformed nodelist' });
      return;
    }
    this.adoptNodelistVotes(next);
    this.nodelistViewWanted = true;
    this.events.push({ type: 'nodelist', nodelist: this.nodelist, cause: 'change', sender, msgId });
  }

  /**
   * Puts `nl` in force with the expected votes following the votes it adds or removes, as a
   * delivered change does and as a catch-up must too: the next view merges the highest expected
   * votes among the members on the newest list, so one member that reached it with its old figure
   * would keep that figure on every member.
   */
  private adoptNodelistVotes(nl: Nodelist): void {
    const expectedVotes = this.expectedVotesAfter(nl.nodes);
    this.adoptNodelist(nl);
    this.quorumState = { ...this.quorumState, expectedVotes };
    const v = this.installed;
    if (v !== undefined) this.quorumInfo = evaluateQuorum(this.quorumCfg, this.nodes, v.members.map((m) => m.nodeId), this.quorumState).info;
  }

  /** Expected votes once `next` replaces the nodelist: they follow the votes added or removed (a configured expectedVotes stays). */
  private expectedVotesAfter(next: readonly NodelistEntry[]): number {
    if (this.config.quorum.expectedVotes !== undefined) return this.quorumState.expectedVotes;
    return Math.max(1, this.quorumState.expectedVotes + votesOf(next) - votesOf(this.nodes));
  }

  /** Why every member refuses the delivered change `next`, or undefined to apply it. */
  private nodelistRefusal(next: Nodelist | undefined): string | undefined {
    if (next === undefined) return 'malformed nodelist';
    // First: in such a view the members' versions differ, so the version check would not decide alike.
    if (this.viewNodelistUnsettled) return 'the view is being formed again: its members may hold different nodelists; retry';
    const problem = nodelistProblem(next.nodes);
    if (problem !== undefined) return problem;
    if (next.version !== this.nodelistVersion + 1) return `another change came first: the nodelist is at version ${this.nodelistVersion}, the change was made against version ${next.version - 1}`;
    const v = this.installed;
    if (v === undefined || !(this.quorumInfo?.quorate ?? false)) return 'the partition is not quorate';
    const ids = new Set(next.nodes.map((n) => n.nodeId));
    const dropped = v.members.filter((m) => !ids.has(m.nodeId)).map((m) => m.nodeId);
    if (dropped.length > 0) return `node ${dropped.join(', ')} is a member of the current view: stop it before removing it`;
    const entries: NodeEntry[] = next.nodes.map((n) => ({ nodeId: n.nodeId, votes: n.votes }));
    const q = evaluateQuorum(effectiveQuorum(this.config.quorum, entries), entries, v.members.map((m) => m.nodeId), { ...this.quorumState, expectedVotes: this.expectedVotesAfter(next.nodes) }).info;
    if (!q.quorate) return `the current view would lose quorum (${q.totalVotes} votes present, ${q.quorumVotes} of ${q.expectedVotes} expected needed): start the missing nodes first`;
    return undefined;
  }

  /** Puts `nl` in force: node ids the core accepts, quorum policy; peers no longer listed are forgotten. */
  private adoptNodelist(nl: Nodelist): void {
    const nodes: NodeEntry[] = [...nl.nodes].sort((a, b) => a.nodeId - b.nodeId).map((n) => ({ nodeId: n.nodeId, votes: n.votes, name: n.name, addresses: n.addresses }));
    this.nodes = nodes;
    this.nodelistVersion = nl.version;
    this.quorumCfg = effectiveQuorum(this.config.quorum, nodes);
    this.configuredIds.length = 0;
    for (const n of nodes) this.configuredIds.push(n.nodeId);
    for (const id of [...this.peers.keys()]) {
      if (this.configuredIds.includes(id)) continue;
      this.peers.delete(id);
      this.aliveDirty = true;
    }
  }

  /**
   * A newer nodelist from a peer (see the heartbeat case of step): every version was agreed by a
   * quorate view, so a newer one replaces ours. Our next heartbeats report it; the leader of our
   * view (if any) then installs a new view, which brings its members to the newest list.
   */
  private onNodelistPushed(from: MemberRef, nl: Nodelist): void {
    if (nl.version <= this.nodelistVersion || nodelistProblem(nl.nodes) !== undefined || !nl.nodes.some((n) => n.nodeId === this.self.nodeId)) return;
    this.adoptNodelistVotes(nl);
    this.nodelistViewWanted = true;
    this.events.push({ type: 'nodelist', nodelist: this.nodelist, cause: 'catch-up', sender: from.nodeId, msgId: 0 });
  }

  /** A member of my view whose heartbeat reports another nodelist version: a new view brings every member to the newest list. */
  private memberNodelistDiffers(): boolean {
    for (const m of this.installed?.members ?? []) {
      if (m.nodeId === this.self.nodeId) continue;
      const p = this.peers.get(m.nodeId);
      if (p?.nodelistVersion !== undefined && sameView(p.view, this.installed?.id) && p.nodelistVersion !== this.nodelistVersion) return true;
    }
    return false;
  }

  // ---------------------------------------------------------------- groups

  private installGroupTable(rows: readonly GroupTableRow[], view: ViewId): void {
    const before = this.agreedGroups;
    this.agreedGroups = new Map(rows.map((r) => [r.nodeId, new Set(r.groups)]));
    const names = new Set<string>();
    for (const t of [before, this.agreedGroups]) for (const gs of t.values()) for (const g of gs) names.add(g);
    for (const g of [...names].sort()) {
      const was = this.groupMembers(before, g);
      const now = this.groupMembers(this.agreedGroups, g);
      const joined = now.filter((x) => !was.includes(x));
      const left = was.filter((x) => !now.includes(x));
      if (joined.length > 0 || left.length > 0) this.events.push({ type: 'group', view, group: g, members: now, joined, left });
    }
  }

  private groupsOf(rows: readonly GroupTableRow[]): GroupMembership[] {
    const table = new Map(rows.map((r) => [r.nodeId, new Set(r.groups)]));
    const names = [...new Set(rows.flatMap((r) => r.groups))].sort();
    return names.map((group) => ({ group, members: this.groupMembers(table, group) }));
  }

  /** The agreed process groups now (changes with ordered join/leave and with views). */
  groupTable(): GroupMembership[] {
    const names = new Set<string>();
    for (const gs of this.agreedGroups.values()) for (const g of gs) names.add(g);
    return [...names].sort().map((group) => ({ group, members: this.groupMembers(this.agreedGroups, group) })).filter((g) => g.members.length > 0);
  }

  private groupMembers(table: Map<number, Set<string>>, group: string): number[] {
    const out: number[] = [];
    for (const [id, gs] of table) if (gs.has(group)) out.push(id);
    return out.sort((a, b) => a - b);
  }

  private applyGroupOp(e: OrderedEntry, view: ViewId): void {
    const row = this.agreedGroups.get(e.sender) ?? new Set<string>();
    this.agreedGroups.set(e.sender, row);
    const join = e.kind === ENTRY_KIND.groupJoin;
    if (join === row.has(e.group)) return;
    if (join) row.add(e.group);
    else row.delete(e.group);
    const members = this.groupMembers(this.agreedGroups, e.group);
    this.events.push({ type: 'group', view, group: e.group, members, joined: join ? [e.sender] : [], left: join ? [] : [e.sender] });
  }

  // ---------------------------------------------------------------- sending side

  private enqueue(kind: EntryKind, group: string, data: Uint8Array): SendResult {
    const l = this.config.limits;
    if (this.outbox.length >= l.sendQueueMessagesMax || (this.outbox.length > 0 && this.outboxBytes + data.length > l.sendQueueBytesMax)) {
      return { ok: false, code: 'send-queue-full' };
    }
    const msg: OutMessage = { msgId: this.nextMsgId++, kind, group, data };
    this.outbox.push(msg);
    this.outboxBytes += data.length;
    if (this.installed !== undefined && !this.isFrozen()) this.fragment(msg);
    return { ok: true, msgId: msg.msgId };
  }

  private fragment(msg: OutMessage): void {
    const size = this.config.limits.fragmentBytesMax;
    const fragCount = Math.max(1, Math.ceil(msg.data.length / size));
    for (let i = 0; i < fragCount; i++) {
      const data = msg.data.subarray(i * size, Math.min(msg.data.length, (i + 1) * size));
      this.fragments.push({ submitId: this.nextSubmitId++, kind: msg.kind, group: msg.group, msgId: msg.msgId, fragIndex: i, fragCount, data });
    }
  }

  /** After a view change every undelivered own message is submitted again, whole. */
  private resubmitOutbox(): void {
    this.fragments.clear();
    this.nextSubmitId = 1;
    this.orderedSubmitId = 0;
    this.orderedSubmitIdAtCheck = 0;
    this.sentSubmitId = 0;
    for (const msg of this.outbox) this.fragment(msg);
  }

  private flushSubmits(nowMs: number): void {
    const v = this.installed;
    if (v === undefined || this.isFrozen()) return;
    const first = this.fragments.at(0);
    if (first === undefined) return;
    if (this.orderedSubmitId >= first.submitId) this.fragments.drop(this.orderedSubmitId - first.submitId + 1);
    const head = this.fragments.at(0);
    if (head === undefined) return;
    const limit = this.orderedSubmitId + this.config.limits.submitWindowMax;
    const batch = this.fragments.slice(Math.max(0, this.sentSubmitId - head.submitId + 1), limit - head.submitId + 1);
    if (batch.length === 0) return;
    this.sentSubmitId = batch[batch.length - 1]!.submitId;
    this.submitProgressMs = nowMs;
    this.counters.fragmentsSubmitted += batch.length;
    if (v.id.leader === this.self.nodeId) {
      this.acceptSubmits(this.self.nodeId, batch, nowMs);
      return;
    }
    for (const chunk of this.chunk(batch)) this.sendTo([v.id.leader], { t: 'submit', epoch: v.id.epoch, fragments: chunk });
  }

  private chunk<T extends Fragment>(items: readonly T[]): T[][] {
    const l = this.config.limits;
    const out: T[][] = [];
    let cur: T[] = [];
    let bytes = 0;
    for (const f of items) {
      const size = f.data.length + FRAGMENT_OVERHEAD_BYTES + f.group.length;
      if (cur.length > 0 && (bytes + size > l.packetBytesMax || cur.length >= l.batchFragmentsMax)) {
        out.push(cur);
        cur = [];
        bytes = 0;
      }
      cur.push(f);
      bytes += size;
    }
    if (cur.length > 0) out.push(cur);
    return out;
  }

  // ---------------------------------------------------------------- leader: sequencing

  /** Buffers a sender's fragments (bounded by the submit window) and numbers what it can. */
  private acceptSubmits(sender: number, fragments: readonly Fragment[], nowMs: number): void {
    const s = this.seq;
    if (s === undefined) return;
    const early = s.early.get(sender);
    if (early === undefined) return;
    const next = s.nextSubmit.get(sender) ?? 1;
    const windowMax = this.config.limits.submitWindowMax;
    for (const f of fragments) if (f.submitId >= next && f.submitId < next + windowMax) early.set(f.submitId, f);
    this.sequence(nowMs);
  }

  /**
   * Numbers buffered fragments, one per sender in turn (fair), each sender's in its submission
   * order, while the order window has room. Runs on new submissions and when stability frees room.
   */
  private sequence(nowMs: number): void {
    const s = this.seq;
    if (s === undefined) return;
    // Members that were caught up get a full retransmit interval to acknowledge what follows.
    for (const [id, acked] of s.acked) if (acked >= s.lastSeq) s.ackProgressMs.set(id, nowMs);
    const windowMax = this.config.limits.orderWindowMax;
    const bytesMax = this.config.limits.orderWindowBytesMax;
    const room = () => s.lastSeq - s.stableSeq < windowMax && (s.unstableBytes < bytesMax || s.lastSeq === s.stableSeq);
    let progress = true;
    while (progress && room()) {
      progress = false;
      for (const [sender, early] of s.early) {
        const next = s.nextSubmit.get(sender) ?? 1;
        const f = early.get(next);
        if (f === undefined || !room()) continue;
        early.delete(next);
        s.nextSubmit.set(sender, next + 1);
        s.lastSeq += 1;
        const entry = orderedEntry(f, s.lastSeq, sender);
        s.log.set(entry.seq, entry);
        s.unstableBytes += entry.data.length;
        s.pending.push(entry);
        this.counters.fragmentsOrdered += 1;
        this.receiveEntry(entry);
        progress = true;
      }
    }
    this.advancePrefix();
    s.acked.set(this.self.nodeId, this.prefixSeq);
    this.updateStable();
  }

  private flushOrdered(): void {
    const s = this.seq;
    const v = this.installed;
    if (s === undefined || v === undefined || this.isFrozen()) return;
    const others = v.members.filter((m) => m.nodeId !== this.self.nodeId).map((m) => m.nodeId);
    if (s.pending.length > 0) {
      for (const chunk of this.chunk(s.pending)) this.sendTo(others, { t: 'ordered', epoch: v.id.epoch, stableSeq: s.stableSeq, entries: chunk });
      s.pending = [];
      s.stableSentSeq = s.stableSeq;
    } else if (s.stableSentSeq < s.stableSeq) {
      this.sendTo(others, { t: 'ordered', epoch: v.id.epoch, stableSeq: s.stableSeq, entries: [] });
      s.stableSentSeq = s.stableSeq;
    }
  }

  private onAck(from: MemberRef, m: Extract<ProtocolMessage, { t: 'ack' }>, nowMs: number): void {
    const s = this.seq;
    const v = this.installed;
    if (s === undefined || v === undefined || m.epoch !== v.id.epoch || !this.isMemberOfView(from) || this.isFrozen()) return;
    const prev = s.acked.get(from.nodeId) ?? 0;
    if (m.prefixSeq > prev) {
      s.acked.set(from.nodeId, Math.min(m.prefixSeq, s.lastSeq));
      s.ackProgressMs.set(from.nodeId, nowMs);
    }
    const stableBefore = s.stableSeq;
    this.updateStable();
    if (s.stableSeq > stableBefore) this.sequence(nowMs);
    if (m.nack || m.prefixSeq < s.lastSeq) this.resendTo(from.nodeId, m.prefixSeq, m.nack, nowMs);
    else if (m.prefixSeq <= prev && s.stableSeq >= m.prefixSeq) this.sendTo([from.nodeId], { t: 'ordered', epoch: v.id.epoch, stableSeq: s.stableSeq, entries: [] });
  }

  private updateStable(): void {
    const s = this.seq;
    if (s === undefined) return;
    let stable = s.lastSeq;
    for (const a of s.acked.values()) stable = Math.min(stable, a);
    if (stable <= s.stableSeq) return;
    for (let q = s.stableSeq + 1; q <= stable; q++) {
      s.unstableBytes -= s.log.get(q)?.data.length ?? 0;
      s.log.delete(q);
    }
    s.stableSeq = stable;
    this.stableSeq = Math.max(this.stableSeq, stable);
    this.deliverUpTo(Math.min(this.stableSeq, this.prefixSeq));
  }

  /**
   * Re-sends entries after `fromSeq` to one member, bounded by the burst size. A NACK is answered
   * after a quarter interval at most, a silent member after a full interval without ack progress;
   * either way at most one burst per quarter interval, so repairs never turn into a storm.
   */
  private resendTo(nodeId: number, fromSeq: number, urgent: boolean, nowMs: number): void {
    const s = this.seq;
    const v = this.installed;
    if (s === undefined || v === undefined) return;
    const interval = this.config.timing.retransmitIntervalMs;
    if (nowMs - (s.resentMs.get(nodeId) ?? -Infinity) < interval / 4) return;
    if (!urgent && nowMs - (s.ackProgressMs.get(nodeId) ?? 0) < this.config.timing.orderedRetransmitMs) return;
    s.ackProgressMs.set(nodeId, nowMs);
    s.resentMs.set(nodeId, nowMs);
    const entries: OrderedEntry[] = [];
    for (let q = Math.max(fromSeq, s.stableSeq) + 1; q <= s.lastSeq && entries.length < this.config.limits.retransmitBurstMax; q++) {
      const e = s.log.get(q);
      invariant(e !== undefined, () => `leader log holds unstable entry ${q}`);
      entries.push(e);
    }
    this.counters.retransmittedEntries += entries.length;
    for (const chunk of this.chunk(entries)) this.sendTo([nodeId], { t: 'ordered', epoch: v.id.epoch, stableSeq: s.stableSeq, entries: chunk });
  }

  // ---------------------------------------------------------------- receiving side

  private onOrdered(from: MemberRef, m: Extract<ProtocolMessage, { t: 'ordered' }>, nowMs: number): void {
    const v = this.installed;
    if (v === undefined || m.epoch !== v.id.epoch || from.nodeId !== v.id.leader || !this.isMemberOfView(from) || this.isFrozen()) return;
    for (const e of m.entries) {
      if (e.seq > this.prefixSeq && !this.received.has(e.seq) && this.received.size < this.config.limits.orderWindowMax * 2) this.receiveEntry(e);
    }
    this.advancePrefix();
    const gap = this.received.size > this.prefixSeq - this.deliveredSeq;
    if (!gap) this.gapSinceMs = undefined;
    else this.gapSinceMs ??= nowMs;
    this.stableSeq = Math.max(this.stableSeq, Math.min(m.stableSeq, this.prefixSeq));
    this.deliverUpTo(Math.min(this.stableSeq, this.prefixSeq));
    if (this.prefixSeq - this.ackSentSeq >= ACK_EVERY_ENTRIES) this.maybeAck(nowMs, true);
  }

  private receiveEntry(e: OrderedEntry): void {
    this.received.set(e.seq, e);
    if (e.sender === this.self.nodeId && e.submitId > this.orderedSubmitId) this.orderedSubmitId = e.submitId;
  }

  private advancePrefix(): void {
    while (this.received.has(this.prefixSeq + 1)) this.prefixSeq += 1;
  }

  /**
   * Acks go to the leader when forced (every ACK_EVERY_ENTRIES), when the prefix grew, or
   * periodically while unstable. A gap that outlives a quarter retransmit interval (so is not
   * mere reordering) turns the ack into a NACK, which the leader answers at once.
   */
  private maybeAck(nowMs: number, force: boolean): void {
    const v = this.installed;
    if (v === undefined || this.isFrozen() || v.id.leader === this.self.nodeId) return;
    const interval = this.config.timing.retransmitIntervalMs;
    const nack = this.gapSinceMs !== undefined && nowMs - this.gapSinceMs >= interval / 4;
    const grew = this.prefixSeq > this.ackSentSeq;
    const waiting = (this.stableSeq < this.prefixSeq || this.gapSinceMs !== undefined) && nowMs - this.ackSentMs >= interval;
    if (!force && !grew && !waiting && !(nack && nowMs - this.ackSentMs >= interval / 4)) return;
    this.ackSentSeq = this.prefixSeq;
    this.ackSentMs = nowMs;
    if (nack) this.gapSinceMs = nowMs;
    this.sendTo([v.id.leader], { t: 'ack', epoch: v.id.epoch, prefixSeq: this.prefixSeq, nack });
  }

  private deliverUpTo(seq: number): void {
    const v = this.installed;
    if (v === undefined) return;
    while (this.deliveredSeq < seq) {
      const q = this.deliveredSeq + 1;
      const e = this.received.get(q);
      invariant(e !== undefined, () => `entry ${q} present for delivery`);
      this.received.delete(q);
      this.deliveredSeq = q;
      this.deliverEntry(e, v.id);
    }
  }

  private deliverEntry(e: OrderedEntry, view: ViewId): void {
    if (e.kind === ENTRY_KIND.groupJoin || e.kind === ENTRY_KIND.groupLeave) this.applyGroupOp(e, view);
    else this.reassemble(e, view);
    if (e.sender === this.self.nodeId && e.fragIndex === e.fragCount - 1) {
      const head = this.outbox.shift();
      invariant(head !== undefined && head.msgId === e.msgId, () => `own message ${e.msgId} delivered in send order`);
      this.outboxBytes -= head.data.length;
    }
  }

  /** Senders' messages reach a node in msgId order, so one number per sender incarnation suffices. */
  private isDuplicate(e: OrderedEntry): boolean {
    const incarnation = this.memberIncarnation.get(e.sender);
    invariant(incarnation !== undefined, () => `sender ${e.sender} of entry ${e.seq} is a member of the view`);
    const last = this.deliveredMsgId.get(e.sender);
    if (last !== undefined && last.incarnation === incarnation && e.msgId <= last.msgId) return true;
    this.deliveredMsgId.set(e.sender, { incarnation, msgId: e.msgId });
    return false;
  }

  private reassemble(e: OrderedEntry, view: ViewId): void {
    if (e.fragCount === 1) {
      invariant(!this.reassembly.has(e.sender), () => `message ${e.sender}/${e.msgId} does not interrupt a fragmented one`);
      this.deliverMessage(e, view, e.data.length, [e.data]);
      return;
    }
    let r = this.reassembly.get(e.sender);
    if (e.fragIndex === 0) {
      r = { msgId: e.msgId, parts: [], bytes: 0, fragments: 0 };
      this.reassembly.set(e.sender, r);
    }
    invariant(r !== undefined && r.msgId === e.msgId && r.fragments === e.fragIndex, () => `fragments of ${e.sender}/${e.msgId} arrive in order`);
    r.fragments += 1;
    r.bytes += e.data.length;
    // A message above the size bound is dropped by every member alike (the order is the same everywhere).
    if (r.bytes <= this.config.limits.messageBytesMax) r.parts.push(e.data);
    else r.parts = [];
    if (e.fragIndex < e.fragCount - 1) return;
    this.reassembly.delete(e.sender);
    this.deliverMessage(e, view, r.bytes, r.parts);
  }

  /** Hands a complete message (its last fragment is `e`) to the application, at most once. */
  private deliverMessage(e: OrderedEntry, view: ViewId, bytes: number, parts: readonly Uint8Array[]): void {
    if (bytes > this.config.limits.messageBytesMax) {
      this.counters.oversizedDropped += 1;
      return;
    }
    const data = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    if (e.kind === ENTRY_KIND.nodelist) {
      // Decided by every member alike, whatever each delivered before: a change delivered again
      // (resubmitted by a sender cut off from the partition that applied it) is then refused by
      // the version check, where duplicate suppression would differ between members.
      this.isDuplicate(e);
      this.onNodelistEntry(data, e.sender, e.msgId);
      return;
    }
    if (this.isDuplicate(e)) {
      this.counters.duplicatesSuppressed += 1;
      this.events.push({ type: 'duplicate', view, seq: e.seq, sender: e.sender, msgId: e.msgId, data });
      return;
    }
    this.counters.messagesDelivered += 1;
    if (!(this.agreedGroups.get(this.self.nodeId)?.has(e.group) ?? false)) return;
    this.events.push({ type: 'message', view, seq: e.seq, sender: e.sender, group: e.group, msgId: e.msgId, data });
  }

  // ---------------------------------------------------------------- retransmission

  private retransmit(nowMs: number): void {
    const t = this.config.timing;
    const ir = this.installRetry;
    if (ir !== undefined && ir.pending.size > 0 && nowMs - ir.lastSentMs >= t.retransmitIntervalMs && nowMs - ir.sentMs < t.proposalTimeoutMs) {
      ir.lastSentMs = nowMs;
      this.sendTo([...ir.pending], ir.message);
    }
    if (this.orderedSubmitId !== this.orderedSubmitIdAtCheck) {
      this.orderedSubmitIdAtCheck = this.orderedSubmitId;
      this.submitProgressMs = nowMs;
    }
    if (this.installed !== undefined && !this.isFrozen() && this.sentSubmitId > this.orderedSubmitId && nowMs - this.submitProgressMs >= t.submitRetransmitMs) {
      this.counters.retransmittedSubmits += this.sentSubmitId - this.orderedSubmitId;
      this.sentSubmitId = this.orderedSubmitId;
    }
    const s = this.seq;
    if (s !== undefined && !this.isFrozen()) {
      for (const [nodeId, acked] of s.acked) if (nodeId !== this.self.nodeId && acked < s.lastSeq) this.resendTo(nodeId, acked, false, nowMs);
    }
  }

  // ---------------------------------------------------------------- output

  private otherConfigured(): number[] {
    return this.configuredIds.filter((id) => id !== this.self.nodeId);
  }

  private sendTo(to: readonly number[], message: ProtocolMessage): void {
    if (to.length > 0) this.out.push({ to, message });
  }
}
