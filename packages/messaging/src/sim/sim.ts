/**
 * Deterministic simulation of N messaging nodes in one process: a fake clock and a fake network
 * with loss, duplication, reordering (random delay), partitions, crash and restart, all drawn
 * from one seeded PRNG. Packets go through the real wire codec (header, HMAC, replay windows)
 * and the real payload codec, so the simulation exercises exactly what the driver runs.
 *
 * The simulator records what every node incarnation installed and delivered; `checkHistory`
 * verifies the safety properties against that record.
 */
import { makeConfig, type ConfigInput, type MessagingConfig } from '../config.js';
import { decodeMessage, encodeMessage, MESSAGE_TYPE, type MemberRef, type ViewId } from '../messages.js';
import { MessagingCore, type NodeEvent } from '../node.js';
import type { QuorumInfo } from '../quorum.js';
import { PacketCodec } from '../wire.js';
import { Prng } from './prng.js';

export interface NetworkFaults {
  lossRate: number;
  duplicateRate: number;
  delayMinMs: number;
  delayMaxMs: number;
}

export interface ViewRecord {
  readonly atMs: number;
  readonly id: ViewId;
  readonly members: string;
  readonly memberIds: readonly number[];
  readonly quorum: QuorumInfo;
  /** Process groups at install, "group:ids;..." sorted. */
  readonly groups: string;
}

export interface DeliveryRecord {
  /** Suppressed as a duplicate of an earlier delivery at this node. */
  readonly duplicate: boolean;
  readonly view: string;
  readonly seq: number;
  readonly sender: number;
  readonly body: string;
}

/** What one node incarnation did, in order. */
export interface ProcessHistory {
  readonly key: string;
  readonly nodeId: number;
  readonly incarnation: number;
  readonly views: ViewRecord[];
  readonly deliveries: DeliveryRecord[];
  readonly sent: string[];
  crashed: boolean;
}

interface SimNode {
  core: MessagingCore;
  codec: PacketCodec;
  history: ProcessHistory;
  up: boolean;
}

interface InFlight {
  atMs: number;
  order: number;
  to: number;
  datagram: Buffer;
}

export const SIM_GROUP = 'sim';
const TICK_MS = 5;
const KEY = new Uint8Array(64).fill(7);

export function viewKey(v: ViewId): string {
  return `${v.epoch}@${v.leader}:${v.leaderIncarnation}`;
}

export class Simulation {
  readonly prng: Prng;
  readonly config: MessagingConfig;
  readonly histories: ProcessHistory[] = [];
  nowMs = 0;
  faults: NetworkFaults = { lossRate: 0, duplicateRate: 0, delayMinMs: 1, delayMaxMs: 2 };
  /** Node id -> partition label; nodes with different labels cannot talk. */
  readonly partitionOf = new Map<number, number>();
  private readonly oneWayCuts = new Set<string>();
  private readonly nodes = new Map<number, SimNode>();
  private inFlight: InFlight[] = [];
  private order = 0;
  private readonly sentCounter = new Map<string, number>();
  readonly trace: string[] = [];
  /** Every event of every node, for scenario tests that look beyond views and messages. */
  readonly events: { atMs: number; key: string; event: NodeEvent }[] = [];

  constructor(seed: number, input: ConfigInput, readonly traceOn = false) {
    this.prng = new Prng(seed);
    this.config = makeConfig(input).config;
  }

  get nodeIds(): number[] {
    return this.config.nodes.map((n) => n.nodeId);
  }

  isUp(nodeId: number): boolean {
    return this.nodes.get(nodeId)?.up ?? false;
  }

  core(nodeId: number): MessagingCore | undefined {
    const n = this.nodes.get(nodeId);
    return n?.up ? n.core : undefined;
  }

  /**
   * Starts (or restarts, with a higher incarnation) a node; it joins the simulation group. With
   * `config`, the node starts from that configuration (a node added to the running cluster with
   * the nodelist it was given, or a node restarted from an older configuration file).
   */
  start(nodeId: number, config: MessagingConfig = this.config): void {
    const prev = this.nodes.get(nodeId);
    const incarnation = (prev?.history.incarnation ?? 0) + 1000 + this.nowMs;
    const self: MemberRef = { nodeId, incarnation };
    const core = new MessagingCore(config, self, this.nowMs);
    const codec = new PacketCodec({
      clusterName: config.clusterName,
      localNodeId: nodeId,
      incarnation,
      security: { mode: 'hmac-sha256', encrypt: false, authKey: KEY },
      knownNodeIds: new Set(config.nodes.map((n) => n.nodeId)),
    });
    const history: ProcessHistory = { key: `${nodeId}:${incarnation}`, nodeId, incarnation, views: [], deliveries: [], sent: [], crashed: false };
    this.histories.push(history);
    this.nodes.set(nodeId, { core, codec, history, up: true });
    core.joinGroup(SIM_GROUP);
    this.log(`start ${history.key}`);
  }

  crash(nodeId: number): void {
    const n = this.nodes.get(nodeId);
    if (n === undefined || !n.up) return;
    n.up = false;
    n.history.crashed = true;
    this.log(`crash ${n.history.key}`);
  }

  partition(groups: readonly (readonly number[])[]): void {
    this.partitionOf.clear();
    groups.forEach((g, i) => g.forEach((id) => this.partitionOf.set(id, i)));
    this.log(`partition ${groups.map((g) => g.join(',')).join('|')}`);
  }

  /** Drops everything `from` sends to `to` (one direction only) until heal(). */
  cutOneWay(from: number, to: number): void {
    this.oneWayCuts.add(`${from}>${to}`);
    this.log(`cut ${from}->${to}`);
  }

  heal(): void {
    this.partitionOf.clear();
    this.oneWayCuts.clear();
    this.log('heal');
  }

  /** Sends one application message with a body unique per sender incarnation. */
  sendFrom(nodeId: number, bytes: number): boolean {
    const n = this.nodes.get(nodeId);
    if (n === undefined || !n.up) return false;
    const count = (this.sentCounter.get(n.history.key) ?? 0) + 1;
    const tag = `${n.history.key}#${count}#`;
    const body = tag + 'x'.repeat(Math.max(0, bytes - tag.length));
    const r = n.core.send(SIM_GROUP, Buffer.from(body));
    if (!r.ok) return false;
    this.sentCounter.set(n.history.key, count);
    n.history.sent.push(tag);
    return true;
  }

  /** Advances simulated time, delivering packets and ticking every node. */
  run(durationMs: number): void {
    const end = this.nowMs + durationMs;
    while (this.nowMs < end) {
      this.nowMs += 1;
      this.deliverDue();
      if (this.nowMs % TICK_MS === 0) {
        for (const [id, n] of this.nodes) {
          if (!n.up) continue;
          n.core.tick(this.nowMs);
          this.drain(id, n);
        }
      }
    }
  }

  private deliverDue(): void {
    if (this.inFlight.length === 0) return;
    const due = this.inFlight.filter((p) => p.atMs <= this.nowMs).sort((a, b) => a.atMs - b.atMs || a.order - b.order);
    if (due.length === 0) return;
    this.inFlight = this.inFlight.filter((p) => p.atMs > this.nowMs);
    for (const p of due) {
      const n = this.nodes.get(p.to);
      if (n === undefined || !n.up) continue;
      const opened = n.codec.open(p.datagram);
      if (!opened.ok) continue;
      const m = decodeMessage(opened.header.type, opened.payload);
      if (m === undefined) {
        n.codec.countMalformed();
        continue;
      }
      n.core.step({ nodeId: opened.header.senderNodeId, incarnation: opened.header.incarnation }, m, this.nowMs);
      this.drain(p.to, n);
    }
  }

  private drain(nodeId: number, n: SimNode): void {
    const r = n.core.ready(this.nowMs);
    // As the driver does: an agreed nodelist changes which senders the codec accepts.
    for (const e of r.events) if (e.type === 'nodelist') n.codec.setKnownNodeIds(new Set(e.nodelist.nodes.map((x) => x.nodeId)));
    for (const e of r.events) this.record(n.history, e);
    for (const o of r.send) {
      const datagram = n.codec.seal(MESSAGE_TYPE[o.message.t], encodeMessage(o.message));
      for (const to of o.to) this.transmit(nodeId, to, datagram);
    }
  }

  private transmit(from: number, to: number, datagram: Buffer): void {
    if ((this.partitionOf.get(from) ?? 0) !== (this.partitionOf.get(to) ?? 0)) return;
    if (this.oneWayCuts.has(`${from}>${to}`)) return;
    const f = this.faults;
    if (this.prng.chance(f.lossRate)) return;
    const copies = this.prng.chance(f.duplicateRate) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      this.inFlight.push({ atMs: this.nowMs + this.prng.int(f.delayMinMs, f.delayMaxMs), order: this.order++, to, datagram });
    }
  }

  private record(h: ProcessHistory, e: NodeEvent): void {
    this.events.push({ atMs: this.nowMs, key: h.key, event: e });
    if (e.type === 'view') {
      const ids = e.view.members.map((m) => m.nodeId);
      h.views.push({ atMs: this.nowMs, id: e.view.id, members: e.view.members.map((m) => `${m.nodeId}:${m.incarnation}`).join(','), memberIds: ids, quorum: e.view.quorum, groups: e.view.groups.map((g) => `${g.group}:${g.members.join(',')}`).join(';') });
      this.log(`${h.key} view ${viewKey(e.view.id)} [${h.views.at(-1)!.members}] quorate=${e.view.quorum.quorate}`);
    } else if (e.type === 'message' || e.type === 'duplicate') {
      const body = Buffer.from(e.data).toString('utf8');
      h.deliveries.push({ duplicate: e.type === 'duplicate', view: viewKey(e.view), seq: e.seq, sender: e.sender, body: body.slice(0, body.indexOf('#', body.indexOf('#') + 1) + 1) + `/${e.data.length}` });
    }
  }

  log(line: string): void {
    if (this.traceOn) this.trace.push(`${String(this.nowMs).padStart(6)} ${line}`);
  }
}
