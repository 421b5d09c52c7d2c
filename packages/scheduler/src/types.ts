/**
 * The scheduler's result types: read-only values every phase returns and every consumer
 * (crm_simulate rendering, `-S` simulation, the controller, `explain`) reads.
 *
 * Contract: values are produced once by a phase and never mutated afterwards. Node and resource
 * names are Pacemaker's (clone instances are `child:N`, bundle replicas `bundle-N`). `undefined`
 * means "not applicable" (e.g. a stopped resource has no node), never "unknown default".
 */

/** Pacemaker's resource roles, spelled as 2.1.5 prints them. */
export type Role = 'Unknown' | 'Stopped' | 'Started' | 'Unpromoted' | 'Promoted';

/** One node as the status section and configuration describe it. */
export interface NodeInfo {
  readonly id: string;
  readonly name: string;
  /** member: a cluster node; remote: pacemaker_remote node; guest: a VM/container resource's node. */
  readonly kind: 'member' | 'remote' | 'guest' | 'ping';
  readonly online: boolean;
  /** Must be fenced before anything it ran can be recovered elsewhere. */
  readonly unclean: boolean;
  readonly standby: boolean;
  /** Standby because of on-fail=standby. */
  readonly standbyOnFail: boolean;
  readonly maintenance: boolean;
  readonly shutdown: boolean;
  readonly pending: boolean;
  /** Fencing is wanted for it (unclean, or a failed stop, ...), with Pacemaker's reason. */
  readonly fenceReason: string | undefined;
  /** Node attributes: configured instance attributes, then transient ones (transient win). */
  readonly attributes: ReadonlyMap<string, string>;
  readonly utilization: ReadonlyMap<string, number>;
  /** Legacy node score (`<node score=...>`), already parsed. */
  readonly weight: number;
  /** For a guest node, the resource that hosts it; for a remote node, its connection resource. */
  readonly connectionRsc: string | undefined;
}

/** One parsed `<lrm_rsc_op>` of one resource on one node. */
export interface OpRecord {
  readonly id: string;
  readonly task: string;
  readonly intervalMs: number;
  readonly callId: number;
  readonly rc: number;
  /** The executor status (0 done, 1 cancelled, 2 timeout, 3 not supported, 4 error, ...; -1 pending). */
  readonly opStatus: number;
  readonly lastRcChange: number | undefined;
  readonly lastRun: number | undefined;
  readonly opDigest: string | undefined;
  readonly restartDigest: string | undefined;
  readonly secureDigest: string | undefined;
  readonly migrateSource: string | undefined;
  readonly migrateTarget: string | undefined;
  readonly exitReason: string | undefined;
  /** The expected rc taken from the transition key (7 for probes that expect "not running"). */
  readonly expectedRc: number | undefined;
}

/** A resource's failures on one node. */
export interface FailInfo {
  readonly node: string;
  /** Sum of fail-count-RSC#op_interval attributes; INFINITY bounded. */
  readonly count: number;
  /** Newest last-failure time (epoch seconds), 0 if none. */
  readonly lastFailure: number;
  /** Whether failure-timeout has expired at `now`, so the count is ignored. */
  readonly expired: boolean;
}

export type ResourceVariant = 'primitive' | 'group' | 'clone' | 'bundle';

/** One resource of the unpacked cluster: primitives, groups, clones, clone instances, replicas. */
export interface ResourceInfo {
  /** Pacemaker's id: `rsc`, `child:2` for anonymous/unique clone instances. */
  readonly id: string;
  readonly variant: ResourceVariant;
  /** Parent id (group, clone, bundle) or undefined for a top-level resource. */
  readonly parent: string | undefined;
  /** Child ids in order (group members, clone instances, bundle replicas). */
  readonly children: readonly string[];
  /** `class:provider:type` for primitives, e.g. `ocf:heartbeat:IPaddr2`. */
  readonly agent: string | undefined;
  /** The role it has now (the highest seen across nodes). */
  readonly role: Role;
  /** The nodes it is active on now (more than one: multiply active). */
  readonly runningOn: readonly string[];
  /** The node each active copy runs on, with its role there. */
  readonly activeRoles: ReadonlyMap<string, Role>;
  readonly failed: boolean;
  readonly managed: boolean;
  readonly orphan: boolean;
  readonly blocked: boolean;
  /** A failure was taken as success (pe_rsc_failure_ignored: on-fail=ignore, a filler's failed stop). */
  readonly failureIgnored?: boolean;
  /** target-role meta, parsed ('Started' when absent). */
  readonly targetRole: Role;
  readonly failCounts: readonly FailInfo[];
  /** Parsed operation history per node (sorted by call id). */
  readonly history: ReadonlyMap<string, readonly OpRecord[]>;
  /** The merged meta attributes, as written (rsc_defaults applied). */
  readonly meta: ReadonlyMap<string, string>;
  /** Promotable clone (or one of its instances). */
  readonly promotable: boolean;
  /** Globally unique clone (or one of its instances). */
  readonly unique: boolean;
}

/** The unpacked status: the first phase's value. */
export interface ClusterState {
  /** Time used for failure-timeout, rules and shutdown locks (epoch seconds). */
  readonly nowSec: number;
  readonly haveQuorum: boolean;
  readonly stonithEnabled: boolean;
  readonly symmetric: boolean;
  readonly nodes: readonly NodeInfo[];
  readonly nodeByName: ReadonlyMap<string, NodeInfo>;
  /** Every resource, parents before children, in configuration order. */
  readonly resources: readonly ResourceInfo[];
  readonly resourceById: ReadonlyMap<string, ResourceInfo>;
  /** Cluster options as written (crm_config, first set by score wins). */
  readonly options: ReadonlyMap<string, string>;
}

/** A flag-carrying action of the transition graph. */
export interface Action {
  /** Sequential id, as in the graph. */
  readonly id: number;
  /** Pacemaker's key: `rsc_task_intervalMs` (e.g. `web_monitor_10000`), or `stonith-node1-reboot`. */
  readonly key: string;
  readonly rsc: string | undefined;
  /** start, stop, monitor, promote, demote, migrate_to, migrate_from, notify, stonith, cancel, running, stopped, ... */
  readonly task: string;
  readonly intervalMs: number;
  readonly node: string | undefined;
  readonly optional: boolean;
  readonly runnable: boolean;
  /** Not executed by an agent (group/clone start/stop markers, fencing-done markers). */
  readonly pseudo: boolean;
  /** Why the action exists, when Pacemaker records one ("node availability", "no quorum", ...). */
  readonly reason: string | undefined;
  /** Ids of actions that must complete before this one (ordering edges). */
  readonly inputs: readonly number[];
}

/** The kinds of Transition Summary lines, as Pacemaker prints them. */
export type ChangeKind =
  | 'Start'
  | 'Stop'
  | 'Move'
  | 'Recover'
  | 'Restart'
  | 'Promote'
  | 'Demote'
  | 'Re-promote'
  | 'Migrate'
  | 'Reload'
  | 'Fence';

/**
 * One "Transition Summary:" line. For resources: `change`, `rsc`, `from`/`to` (nodes), roles, and
 * the reason. For fencing: `change: 'Fence'`, `node`, `fenceAction` and `reason`.
 * `text` is the line exactly as Pacemaker's text output prints it (without the leading "  * ",
 * column widths as in a fresh crm_simulate run); `render.ts` can rebuild it.
 */
export interface SummaryLine {
  readonly change: ChangeKind;
  readonly rsc: string | undefined;
  readonly from: string | undefined;
  readonly to: string | undefined;
  readonly roleFrom: Role | undefined;
  readonly roleTo: Role | undefined;
  /** "due to X" text without "due to", e.g. "node availability"; for Fence, the quoted reason. */
  readonly reason: string | undefined;
  /** The action cannot run ("blocked"). */
  readonly blocked: boolean;
  /** Fence only: reboot, off, on. */
  readonly fenceAction: string | undefined;
  /** Fence of a guest: the resource hosting it. */
  readonly fenceResource: string | undefined;
  /** The details between parentheses, as Pacemaker builds them (e.g. `node1 -> node2`). */
  readonly details: string;
}

export interface Transition {
  readonly actions: readonly Action[];
  readonly summary: readonly SummaryLine[];
}

/** One contribution to a node's score for a resource, for `explain`. */
export interface ScoreContribution {
  /** What it comes from: 'location', 'stickiness', 'colocation', 'failure', 'node-state', 'group', ... */
  readonly source: string;
  /** Constraint or resource id it came from, when any. */
  readonly item: string | undefined;
  readonly score: number;
}

/**
 * One score line as `crm_simulate -s` prints it (`formatScoreLine`): `FN: RSC allocation score on
 * NODE: S`, or `RSC promotion score on NODE: S` (fn `promotion`; NODE `none` when unplaced).
 */
export interface ScoreLine {
  /**
   * The Pacemaker 2.1.5 function that printed it: pcmk__primitive_assign, pcmk__group_assign,
   * pcmk__clone_allocate, pcmk__bundle_allocate; or `promotion`.
   */
  readonly fn: string;
  readonly rsc: string;
  readonly node: string;
  readonly score: number;
  /** How the score was built (in order); empty when not traced. */
  readonly contributions: readonly ScoreContribution[];
}

/** A configuration problem the scheduler stepped over, or a notable decision. */
export interface Diagnostic {
  readonly severity: 'error' | 'warning' | 'info';
  /** Stable code, e.g. 'constraint-unknown-resource'. */
  readonly code: string;
  /** The configuration item it concerns (constraint id, resource id, ...). */
  readonly item: string | undefined;
  /** Pacemaker-style message, e.g. "Ignoring constraint 'c1' because resource 'x' does not exist". */
  readonly message: string;
}

/** Options of `unpackCluster` and `schedule`. */
export interface ScheduleOptions {
  /** The time, epoch seconds. Default: the CIB's `execution-date`, else 0 ("beginning of time"). */
  readonly nowSec?: number;
}

export interface ScheduleResult {
  readonly state: ClusterState;
  readonly transition: Transition;
  /** Allocation scores in Pacemaker's print order (for `-s`). */
  readonly scores: readonly ScoreLine[];
  readonly diagnostics: readonly Diagnostic[];
}

/** One node in an explanation: the resource's score there and how it was built. */
export interface NodeExplanation {
  readonly node: string;
  readonly score: number;
  /** Why the node cannot run any resource now (offline, standby, ...), if so. */
  readonly problem: string | undefined;
  readonly contributions: readonly ScoreContribution[];
}

/** Why a primitive is where it is, or stopped (`explain`). */
export interface Explanation {
  readonly rsc: string;
  readonly role: Role;
  readonly runningOn: readonly string[];
  readonly nextRole: Role;
  readonly assignedTo: string | undefined;
  readonly managed: boolean;
  readonly failed: boolean;
  /** Why its start cannot run ("unrunnable A start", "no quorum", ...), if it cannot. */
  readonly blockedBy: string | undefined;
  /** Nodes, best score first. */
  readonly nodes: readonly NodeExplanation[];
  /** Its Transition Summary lines. */
  readonly summary: readonly SummaryLine[];
}
