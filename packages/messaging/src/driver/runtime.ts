/**
 * The real driver of one node: UDP sockets (one per link), a timer, the packet codec and the
 * protocol core. It runs on a worker thread of its own (see worker.ts) so that a busy main
 * thread never delays a heartbeat; it can also run in-process for tools.
 *
 * Links: heartbeats go out on every link, so each link's health per peer is known; everything
 * else goes to a peer over the lowest-numbered link on which that peer was heard within the
 * deadtime (failover), or over all links when none was.
 */
import { createSocket, type Socket } from 'node:dgram';
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { isIP } from 'node:net';
import { renameSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { decodeMessage, encodeMessage, MESSAGE_TYPE, type Nodelist, type NodelistEntry, type ProtocolMessage } from '../messages.js';
import { MessagingCore, type NodeEvent, type SendResult } from '../node.js';
import { PacketCodec } from '../wire.js';
import { createDriverTimer, type DriverTimer } from './timer.js';
import { DEFAULT_MCAST_PORT, parseEndpoint, type Endpoint, type ResolvedConfig } from './file-config.js';

/** Socket buffers sized for a full order window plus heartbeats (capped by net.core.rmem_max). */
export const SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;

export type RuntimeCommand =
  | { readonly op: 'join'; readonly group: string }
  | { readonly op: 'leave'; readonly group: string }
  | { readonly op: 'send'; readonly group: string; readonly data: Uint8Array }
  /** Propose the cluster's next nodelist (MessagingCore.proposeNodelist). */
  | { readonly op: 'nodelist'; readonly nodes: readonly NodelistEntry[]; readonly baseVersion?: number };

export interface LinkStatus {
  readonly linkId: number;
  readonly transport: 'udpu' | 'udp';
  readonly local: string;
  readonly sendErrors: number;
  readonly peers: { nodeId: number; connected: boolean; silentMs: number | undefined }[];
}

interface Link {
  /** Bound to the node's own address: sends everything, receives unicast. */
  readonly socket: Socket;
  /** Multicast links only: bound to the group's port, receives the group's traffic. */
  readonly mcastSocket: Socket | undefined;
  readonly local: Endpoint;
  readonly mcast: Endpoint | undefined;
  sendErrors: number;
  /** nodeId -> monotonic ms when last heard on this link. */
  readonly heardMs: Map<number, number>;
}

/**
 * dgram's address lookup for every send: peers' addresses are IP literals, answered at once
 * instead of through dns.lookup's deferred callback (a measurable share of an idle node's CPU
 * at ten heartbeats a second per peer); names still go to dns.lookup.
 */
function literalLookup(address: string, options: LookupOneOptions, callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void): void {
  const family = isIP(address);
  if (family !== 0) callback(null, address, family);
  else dnsLookup(address, options, callback);
}

export class NodeRuntime {
  readonly core: MessagingCore;
  readonly codec: PacketCodec;
  private readonly links: Link[] = [];
  /** The tick timer: moved on every packet of an idle node, so it must move without waking (see timer.ts). */
  private readonly timer: DriverTimer = createDriverTimer(() => this.scheduleTick());
  private statusTimer: NodeJS.Timeout | undefined;
  readonly startedAt = new Date();
  /** nodeId -> endpoint per link: the configuration's, then each agreed nodelist's. */
  private readonly addresses: Map<number, readonly (Endpoint | undefined)[]>;

  constructor(
    private readonly cfg: ResolvedConfig,
    authKey: Uint8Array,
    readonly incarnation: number,
    private readonly emit: (e: NodeEvent) => void,
    private readonly onDrain: () => void = () => {},
  ) {
    const self = { nodeId: cfg.nodeId, incarnation };
    this.core = new MessagingCore(cfg.core, self, this.nowMs());
    this.addresses = new Map(cfg.addresses);
    this.codec = new PacketCodec({
      clusterName: cfg.core.clusterName,
      localNodeId: cfg.nodeId,
      incarnation,
      security: { mode: cfg.crypto.mode, encrypt: cfg.crypto.encrypt, authKey },
      knownNodeIds: new Set(cfg.core.nodes.map((n) => n.nodeId)),
    });
  }

  private nowMs(): number {
    return performance.now();
  }

  /** Binds every link's socket, then starts ticking. */
  async start(): Promise<void> {
    const own = this.cfg.addresses.get(this.cfg.nodeId) ?? [];
    for (const [i, l] of this.cfg.links.entries()) {
      const local = own[i];
      if (local === undefined) continue;
      const family = local.host.includes(':') ? 'udp6' : 'udp4';
      const mcast = l.transport === 'udp' && l.mcastGroup ? { host: l.mcastGroup, port: l.mcastPort ?? DEFAULT_MCAST_PORT } : undefined;
      // With multicast both sockets may share a port (corosync's habit): both need SO_REUSEADDR.
      const socket = await this.openSocket(i, family, local.port, local.host, mcast !== undefined);
      let mcastSocket: Socket | undefined;
      if (mcast !== undefined) {
        // Multicast arrives on a socket bound to the group's port on every address; unicast
        // (replies to one node) keeps using the node's own address.
        mcastSocket = await this.openSocket(i, family, mcast.port, undefined, true);
        mcastSocket.addMembership(mcast.host, l.mcastInterface);
        socket.setMulticastTTL(l.ttl ?? 1);
        if (l.mcastInterface) socket.setMulticastInterface(l.mcastInterface);
      }
      this.links[i] = { socket, mcastSocket, local, mcast, sendErrors: 0, heardMs: new Map() };
    }
    this.scheduleTick();
    if (this.cfg.statusPath) this.statusTimer = setInterval(() => this.writeStatus(), 1000);
  }

  /**
   * Ticks every tickIntervalMs while anything is in flight, and at a quarter heartbeat interval
   * when quiescent (heartbeats and failure detection need no finer timing); this keeps an idle
   * node's CPU low. Packets and commands still trigger immediate work.
   */
  private scheduleTick(): void {
    if (this.stopped) return;
    this.tick();
    this.timerIdle = this.core.quiescent;
    this.timer.start(this.timerIdle ? this.idleDelayMs() : this.cfg.tickIntervalMs);
  }

  /**
   * Quiescent: sleep until the core's next timed work (a heartbeat, a peer's warn or dead time),
   * at most two heartbeat intervals; while the membership is unsettled, a quarter interval after
   * the last tick. Fewer wake-ups are what keeps an idle node's CPU low; packets still wake it at
   * once. Every packet of an idle node moves the timer (rearmIdle), so each deadline here is a
   * fixed point in time, never "a quarter interval from now": packets arriving more often than
   * that (heartbeat rounds of two partitions interleaving) would otherwise postpone the tick, and
   * with it the proposal that merges the partitions, for as long as they keep coming.
   */
  private idleDelayMs(): number {
    const hb = this.cfg.core.timing.heartbeatIntervalMs;
    const due = this.core.nextDueMs();
    if (due === undefined) return Math.max(this.cfg.tickIntervalMs, Math.ceil(this.lastTickMs + Math.floor(hb / 4) - this.nowMs()));
    return Math.min(2 * hb, Math.max(this.cfg.tickIntervalMs, Math.ceil(due - this.nowMs())));
  }

  private timerIdle = false;

  /**
   * An idle node that answered a heartbeat on receipt has moved its own next heartbeat (and its
   * peers' warn times) later: the timer is moved to that, or it would wake the node for nothing
   * shortly after, once per heartbeat interval. Only the native timer moves later without that
   * wake-up (timer.ts).
   */
  private rearmIdle(): void {
    if (!this.timerIdle || this.stopped) return;
    this.timer.start(this.idleDelayMs());
  }

  /** Activity arrived while the slow idle timer was set: tick at full rate again. */
  private wake(): void {
    if (!this.timerIdle || this.stopped) return;
    this.timerIdle = false;
    this.timer.start(this.cfg.tickIntervalMs);
  }

  private async openSocket(linkIdx: number, family: 'udp4' | 'udp6', port: number, host: string | undefined, shared: boolean): Promise<Socket> {
    const socket = createSocket({ type: family, reuseAddr: shared, lookup: literalLookup });
    socket.on('message', (buf) => this.onDatagram(linkIdx, buf));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    socket.on('error', () => {
      const link = this.links[linkIdx];
      if (link) link.sendErrors += 1;
    });
    try {
      socket.setRecvBufferSize(SOCKET_BUFFER_BYTES);
      socket.setSendBufferSize(SOCKET_BUFFER_BYTES);
    } catch {
      // The kernel caps the size at net.core.rmem_max / wmem_max; smaller buffers still work.
    }
    return socket;
  }

  /**
   * Takes one link down (its socket closes), as an administrator would when a network is under
   * maintenance; traffic fails over to the remaining links. A link cannot be brought back up
   * without restarting the node.
   */
  shutLink(linkId: number): boolean {
    const link = this.links[linkId];
    if (link === undefined) return false;
    link.socket.close();
    link.mcastSocket?.close();
    delete this.links[linkId];
    return true;
  }

  private stopped = false;

  /** Closes the sockets and stops the timers; calling it again does nothing. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.timer.close();
    if (this.statusTimer) clearInterval(this.statusTimer);
    for (const l of this.links) {
      l?.socket.close();
      l?.mcastSocket?.close();
    }
  }

  command(c: RuntimeCommand): SendResult {
    let r: SendResult;
    switch (c.op) {
      case 'join':
        r = this.core.joinGroup(c.group);
        break;
      case 'leave':
        r = this.core.leaveGroup(c.group);
        break;
      case 'send':
        r = this.core.send(c.group, c.data);
        if (!r.ok && r.code === 'send-queue-full') this.refusedSend = true;
        break;
      case 'nodelist':
        r = this.core.proposeNodelist(c.nodes, c.baseVersion);
        break;
      default: {
        const never: never = c;
        throw new Error(`unknown command ${JSON.stringify(never)}`);
      }
    }
    this.schedulePump();
    return r;
  }

  private pumpScheduled = false;
  /** A send was refused for flow control; the host hears 'drain' once the queue is half empty. */
  private refusedSend = false;

  /** Commands arrive in bursts; pumping once per burst lets their fragments share datagrams. */
  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
      // Work in flight (a message, a view change) needs full-rate ticks; a heartbeat does not.
      if (!this.core.quiescent) this.wake();
    });
  }

  private tick(): void {
    this.lastTickMs = this.nowMs();
    this.core.tick(this.lastTickMs);
    this.pump();
  }

  /** When tick() last ran: the unsettled-membership pace counts from it (idleDelayMs). */
  private lastTickMs = 0;

  private onDatagram(linkIdx: number, buf: Buffer): void {
    const opened = this.codec.open(buf);
    if (!opened.ok) return;
    const m = decodeMessage(opened.header.type, opened.payload);
    if (m === undefined) {
      this.codec.countMalformed();
      return;
    }
    const now = this.nowMs();
    this.links[linkIdx]?.heardMs.set(opened.header.senderNodeId, now);
    this.core.step({ nodeId: opened.header.senderNodeId, incarnation: opened.header.incarnation }, m, now);
    // A heartbeat on a quiescent node is answered at once: deferring it to the next turn of the
    // event loop would cost an idle node a second wake-up per packet. Other traffic is pumped once
    // per burst, so that acknowledgements and retransmissions share datagrams.
    if (this.timerIdle && this.core.quiescent) {
      this.pump();
      this.rearmIdle();
    } else this.schedulePump();
  }

  /** Sends what the core produced and hands its events to the host. */
  private pump(): void {
    const r = this.core.ready(this.nowMs());
    // A new nodelist first: what the core sends now may go to a node it just added.
    for (const e of r.events) if (e.type === 'nodelist') this.applyNodelist(e.nodelist);
    for (const o of r.send) this.transmit(o.to, o.message);
    for (const e of r.events) this.emit(e);
    if (this.refusedSend && this.core.sendQueueLength <= this.cfg.core.limits.sendQueueMessagesMax / 2) {
      this.refusedSend = false;
      this.onDrain();
    }
  }

  private transmit(to: readonly number[], message: ProtocolMessage): void {
    const datagram = this.codec.seal(MESSAGE_TYPE[message.t], encodeMessage(message));
    const everyLink = message.t === 'heartbeat' || message.t === 'probe';
    const mcastDone = new Set<number>();
    for (const nodeId of to) {
      for (const i of everyLink ? this.links.keys() : this.linksFor(nodeId)) {
        const link = this.links[i];
        if (link === undefined) continue;
        if (link.mcast && to.length > 1) {
          if (!mcastDone.has(i)) this.sendOn(link, datagram, link.mcast);
          mcastDone.add(i);
          continue;
        }
        const ep = this.addresses.get(nodeId)?.[i];
        if (ep !== undefined) this.sendOn(link, datagram, ep);
      }
    }
  }

  /**
   * Puts an agreed nodelist in force in the driver: the peers' addresses (one per link; an
   * address that does not parse is left out, as parseFileConfig does) and the node ids the codec
   * accepts. This node's own sockets stay as they are (a changed own address needs a restart).
   */
  private applyNodelist(nl: Nodelist): void {
    this.addresses.clear();
    for (const n of nl.nodes) this.addresses.set(n.nodeId, this.cfg.links.map((_, i) => (n.addresses[i] === undefined ? undefined : parseEndpoint(n.addresses[i]!))));
    this.codec.setKnownNodeIds(new Set(nl.nodes.map((n) => n.nodeId)));
    for (const l of this.links) for (const id of [...(l?.heardMs.keys() ?? [])]) if (!this.addresses.has(id)) l!.heardMs.delete(id);
  }

  /** The lowest link that heard the peer within the deadtime, else every link. */
  private linksFor(nodeId: number): number[] {
    const now = this.nowMs();
    for (const [i, l] of this.links.entries()) {
      const heard = l?.heardMs.get(nodeId);
      if (heard !== undefined && now - heard < this.cfg.core.timing.deadtimeMs) return [i];
    }
    return [...this.links.keys()];
  }

  /**
   * No completion callback: a datagram the kernel takes at once needs no further work, where a
   * callback costs every send an asynchronous completion (and an idle node another turn of the
   * event loop). A failed send reaches the socket's 'error' listener, which counts it.
   */
  private sendOn(link: Link, datagram: Buffer, ep: Endpoint): void {
    link.socket.send(datagram, ep.port, ep.host);
  }

  linkStatus(): LinkStatus[] {
    const now = this.nowMs();
    const up = [...this.links.entries()].filter((e): e is [number, Link] => e[1] !== undefined);
    return up.map(([i, l]) => ({
      linkId: i,
      transport: this.cfg.links[i]?.transport ?? 'udpu',
      local: `${l.local.host}:${l.local.port}`,
      sendErrors: l.sendErrors,
      peers: this.core.nodelist.nodes
        .filter((n) => n.nodeId !== this.cfg.nodeId)
        .map((n) => {
          const heard = l.heardMs.get(n.nodeId);
          const silentMs = heard === undefined ? undefined : Math.round(now - heard);
          return { nodeId: n.nodeId, connected: silentMs !== undefined && silentMs < this.cfg.core.timing.deadtimeMs, silentMs };
        }),
    }));
  }

  /** A JSON snapshot for `paceline messaging status`. */
  status() {
    const s = this.core.status(this.nowMs());
    return {
      clusterName: this.cfg.core.clusterName,
      nodeId: this.cfg.nodeId,
      incarnation: this.incarnation,
      pid: process.pid,
      startedAt: this.startedAt.toISOString(),
      writtenAt: new Date().toISOString(),
      crypto: this.cfg.crypto,
      links: this.linkStatus(),
      view: s.view,
      frozen: s.frozen,
      quorum: s.quorum,
      peers: s.peers,
      groups: s.groups,
      nodelist: this.core.nodelist,
      order: s.order,
      counters: s.counters,
      wire: this.codec.counters,
    };
  }

  private writeStatus(): void {
    const path = this.cfg.statusPath;
    if (path === undefined) return;
    try {
      writeFileSync(`${path}.tmp`, JSON.stringify(this.status(), null, 1));
      renameSync(`${path}.tmp`, path);
    } catch {
      // Status is advisory; a missing directory must never disturb the protocol.
    }
  }
}

export type RuntimeStatus = ReturnType<NodeRuntime['status']>;
