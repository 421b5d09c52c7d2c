/**
 * Configuration of the messaging layer: one table of defaults, each with the reason for its value.
 *
 * Every duration is in milliseconds. The failure-detection defaults are chosen for two goals
 * that pull against each other: detect a dead node well under one second on a LAN, and never
 * declare a live node lost on a jittery network (20 ms ± 20 ms delay, 2 % loss).
 */

/** One configured cluster node (like corosync.conf's nodelist.node). */
export interface NodeEntry {
  /** Stable node id, 1..2^32-1 (like corosync's nodeid). The lowest id breaks ties. */
  readonly nodeId: number;
  /** Quorum votes of this node (votequorum's quorum_votes). */
  readonly votes: number;
  /** The node's name, carried in agreed nodelist changes (optional: the core does not need it). */
  readonly name?: string;
  /** One "host:port" per link, carried in agreed nodelist changes (the driver sends to them). */
  readonly addresses?: readonly string[];
}

export interface QuorumConfig {
  /** Expected votes; undefined means the sum of the configured nodes' votes. */
  readonly expectedVotes: number | undefined;
  /** Two-node cluster: quorate with one of two votes; implies waitForAll unless set to false. */
  readonly twoNode: boolean;
  /** Not quorate for the first time until all expected votes have been seen in one view. */
  readonly waitForAll: boolean | undefined;
  /** Lower expected votes to the surviving votes after a stable, quorate view for the window. */
  readonly lastManStanding: boolean;
  readonly lastManStandingWindowMs: number;
  /** An exact half of the expected votes is quorate when it holds the lowest configured node id. */
  readonly autoTieBreaker: boolean;
}

export interface TimingConfig {
  /** Heartbeat period. */
  readonly heartbeatIntervalMs: number;
  /** A peer silent this long is declared lost. */
  readonly deadtimeMs: number;
  /** A peer silent this long produces a late-heartbeat warning (Heartbeat's warntime), and is probed until it answers. */
  readonly warntimeMs: number;
  /** Quiet period after a change of the alive set before the leader proposes a view. */
  readonly joinSettleMs: number;
  /** Quiet period after start before a node forms its first view (Heartbeat's initdead). */
  readonly initialSettleMs: number;
  /** Period of protocol retransmissions (proposals, installs, submissions, acks). */
  readonly retransmitIntervalMs: number;
  /** A sender re-submits fragments the leader has not ordered after this long without progress. */
  readonly submitRetransmitMs: number;
  /** The leader re-sends unacknowledged entries to a member silent this long (tail loss). */
  readonly orderedRetransmitMs: number;
  /** A proposal not completed in this time is abandoned and a new one made. */
  readonly proposalTimeoutMs: number;
}

export interface LimitsConfig {
  /** Largest payload of one fragment inside an ordered message (bytes). */
  readonly fragmentBytesMax: number;
  /** Largest application message (bytes); larger sends are refused. */
  readonly messageBytesMax: number;
  /** Ordered-but-not-stable messages the leader holds before it stops sequencing. */
  readonly orderWindowMax: number;
  /** Bytes of ordered-but-not-stable fragments the leader holds before it stops sequencing. */
  readonly orderWindowBytesMax: number;
  /** Own fragments sent to the leader and not yet seen ordered. */
  readonly submitWindowMax: number;
  /** Own messages waiting to be delivered (flow control: send() refuses beyond this). */
  readonly sendQueueMessagesMax: number;
  /** Bytes of own messages waiting to be delivered (flow control together with sendQueueMessagesMax). */
  readonly sendQueueBytesMax: number;
  /** Fragments one retransmission burst re-sends to one member. */
  readonly retransmitBurstMax: number;
  /** Ordered fragments batched in one packet (also bounded by packetBytesMax). */
  readonly batchFragmentsMax: number;
  /** Largest datagram built by the protocol (bytes, before the security trailer). */
  readonly packetBytesMax: number;
}

export interface MessagingConfig {
  readonly clusterName: string;
  readonly nodes: readonly NodeEntry[];
  /** Version of `nodes` (0: as first configured; each agreed nodelist change adds one). See messages.ts Nodelist. */
  readonly nodelistVersion?: number;
  readonly quorum: QuorumConfig;
  readonly timing: TimingConfig;
  readonly limits: LimitsConfig;
}

/** The defaults, each with its one-line reason. Read by config validation, docs and status. */
export const TIMING_DEFAULTS: { readonly [K in keyof TimingConfig]: { value: number; reason: string } } = {
  heartbeatIntervalMs: {
    value: 200,
    reason: 'five heartbeats a second per peer: a late one is probed at once (warntimeMs), so sparse heartbeats cost no detection speed, and half the packets of 100 ms halve an idle node\'s CPU',
  },
  deadtimeMs: {
    value: 600,
    reason: 'three heartbeats, then some fifteen probes a retransmit interval apart, must all go unanswered: at 2 % loss far below 1e-12 per window, yet detection plus view change stays under 1 s',
  },
  warntimeMs: {
    value: 300,
    reason: 'half an interval past a heartbeat\'s time: a late heartbeat is logged, and the peer is probed every retransmit interval until it answers or the deadtime passes',
  },
  joinSettleMs: { value: 50, reason: 'like corosync join: batches near-simultaneous changes into one view without delaying detection' },
  initialSettleMs: { value: 500, reason: 'a starting node hears its peers (2.5 heartbeats) before forming a view, avoiding a singleton view then a merge' },
  retransmitIntervalMs: { value: 20, reason: 'a few loopback/LAN round trips: recovers a lost packet quickly without flooding' },
  submitRetransmitMs: {
    value: 100,
    reason: 'the leader may hold submissions while its order window is full; resending sooner only adds load when it is busy',
  },
  orderedRetransmitMs: {
    value: 50,
    reason: 'gaps are NACKed within 5 ms; this timer only repairs a lost tail, and must outlast a busy member\'s ack delay',
  },
  proposalTimeoutMs: { value: 300, reason: 'half a deadtime: a stuck proposal is retried long before failure detection would re-trigger' },
};

export const LIMITS_DEFAULTS: { readonly [K in keyof LimitsConfig]: { value: number; reason: string } } = {
  fragmentBytesMax: { value: 1200, reason: 'a fragment plus headers fits a 1500-byte Ethernet MTU, so IP never fragments' },
  messageBytesMax: { value: 16 * 1024 * 1024, reason: 'CIB documents of large clusters reach several MiB; 16 MiB bounds reassembly memory' },
  orderWindowMax: {
    value: 512,
    reason: 'unacknowledged entries in flight: ~700 KB at full fragments fits a 4 MiB socket buffer with room for heartbeats; enough to fill loopback pipes',
  },
  orderWindowBytesMax: {
    value: 1024 * 1024,
    reason: 'in-flight bytes per member stay well inside a 4 MiB socket buffer, so large messages do not overflow it and force retransmissions',
  },
  submitWindowMax: { value: 256, reason: 'bounds what one sender has in flight to the leader: half the order window' },
  sendQueueMessagesMax: { value: 8192, reason: 'flow control: a sender faster than the cluster gets an error instead of unbounded memory' },
  sendQueueBytesMax: { value: 64 * 1024 * 1024, reason: 'four maximal messages: large CIB syncs queue, a runaway sender does not exhaust memory' },
  retransmitBurstMax: { value: 64, reason: 'one NACK or timeout resends at most ~80 KB, so a slow member is not drowned by repairs' },
  batchFragmentsMax: { value: 64, reason: 'small messages share datagrams, which is what makes 20,000 msgs/s cheap' },
  packetBytesMax: { value: 1400, reason: 'fits a 1500-byte Ethernet MTU after IP/UDP and the security trailer' },
};

export const QUORUM_DEFAULTS: QuorumConfig = {
  expectedVotes: undefined,
  twoNode: false,
  waitForAll: undefined,
  lastManStanding: false,
  lastManStandingWindowMs: 10_000, // votequorum's default last_man_standing_window
  autoTieBreaker: false,
};

function defaultsOf<T>(table: { readonly [K in keyof T]: { value: number } }): T {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(table) as [string, { value: number }][]) out[k] = v.value;
  return out as T;
}

export interface ConfigInput {
  clusterName: string;
  nodes: readonly (Partial<NodeEntry> & { nodeId: number })[];
  nodelistVersion?: number;
  quorum?: Partial<QuorumConfig>;
  timing?: Partial<TimingConfig>;
  limits?: Partial<LimitsConfig>;
}

export interface ConfigDiagnostic {
  readonly item: string;
  readonly reason: string;
}

/** Builds a full configuration from partial input; returns diagnostics instead of throwing. */
export function makeConfig(input: ConfigInput): { config: MessagingConfig; diagnostics: ConfigDiagnostic[] } {
  const diagnostics: ConfigDiagnostic[] = [];
  const timing: TimingConfig = { ...defaultsOf<TimingConfig>(TIMING_DEFAULTS), ...input.timing };
  const limits: LimitsConfig = { ...defaultsOf<LimitsConfig>(LIMITS_DEFAULTS), ...input.limits };
  const seen = new Set<number>();
  const nodes: NodeEntry[] = [];
  for (const n of input.nodes) {
    if (!Number.isInteger(n.nodeId) || n.nodeId < 1 || n.nodeId > 0xffffffff) {
      diagnostics.push({ item: `node ${n.nodeId}`, reason: 'node id must be an integer in 1..4294967295; ignored' });
      continue;
    }
    if (seen.has(n.nodeId)) {
      diagnostics.push({ item: `node ${n.nodeId}`, reason: 'duplicate node id; ignored' });
      continue;
    }
    seen.add(n.nodeId);
    nodes.push({ nodeId: n.nodeId, votes: n.votes ?? 1, ...(n.name !== undefined ? { name: n.name } : {}), ...(n.addresses !== undefined ? { addresses: n.addresses } : {}) });
  }
  nodes.sort((a, b) => a.nodeId - b.nodeId);
  if (timing.deadtimeMs <= timing.heartbeatIntervalMs * 2) {
    diagnostics.push({ item: 'timing.deadtimeMs', reason: 'should exceed two heartbeat intervals or one lost packet declares a node lost' });
  }
  if (timing.warntimeMs >= timing.deadtimeMs) diagnostics.push({ item: 'timing.warntimeMs', reason: 'should be below deadtimeMs to be useful' });
  if (Buffer.byteLength(input.clusterName) === 0 || Buffer.byteLength(input.clusterName) > 255) {
    diagnostics.push({ item: 'clusterName', reason: 'must be 1..255 bytes' });
  }
  const quorum: QuorumConfig = { ...QUORUM_DEFAULTS, ...input.quorum };
  const nodelistVersion = input.nodelistVersion ?? 0;
  if (!Number.isSafeInteger(nodelistVersion) || nodelistVersion < 0) diagnostics.push({ item: 'nodelistVersion', reason: 'must be an integer >= 0' });
  return { config: { clusterName: input.clusterName, nodes, nodelistVersion, quorum, timing, limits }, diagnostics };
}
