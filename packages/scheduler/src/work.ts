/**
 * The scheduler's working model: nodes and resources as the phases see them while one
 * `schedule` call runs. Built fresh by `unpack` for every call and discarded at the end; nothing
 * here outlives a call, so the scheduler stays a pure function of (cib, now).
 *
 * Why mutable: Pacemaker's algorithms (assignment with colocation recursion, ordering flag
 * propagation) are fixed-point computations over a shared graph. Each phase owns the fields it
 * fills (documented per field); the public result (`types.ts`) is a frozen copy.
 */
import type { LrmRscOp, NvSet, Primitive } from '@paceline/cib';
import type { Role, ScoreContribution } from './types.js';

export const R_UNKNOWN = 0;
export const R_STOPPED = 1;
export const R_STARTED = 2;
export const R_UNPROMOTED = 3;
export const R_PROMOTED = 4;
export type RoleNum = 0 | 1 | 2 | 3 | 4;

const roleNames: readonly Role[] = ['Unknown', 'Stopped', 'Started', 'Unpromoted', 'Promoted'];
export function roleName(r: RoleNum): Role {
  return roleNames[r] ?? 'Unknown';
}
export function roleNum(r: Role): RoleNum {
  return roleNames.indexOf(r) as RoleNum;
}

/** Pacemaker's action_fail_response, in cmp_on_fail's order of severity. */
export type OnFail =
  | 'ignore'
  | 'demote'
  | 'recover'
  | 'restart-container'
  | 'reset-remote'
  | 'migrate'
  | 'block'
  | 'stop'
  | 'standby'
  | 'fence';

export interface WNode {
  readonly id: string;
  readonly name: string;
  readonly kind: 'member' | 'remote' | 'guest' | 'ping';
  readonly attrs: Map<string, string>;
  readonly configWeight: number;
  online: boolean;
  unclean: boolean;
  standby: boolean;
  standbyOnFail: boolean;
  maintenance: boolean;
  shutdown: boolean;
  pending: boolean;
  expectedUp: boolean;
  isDc: boolean;
  fenceReason: string | undefined;
  /** Remote/guest nodes: the connection resource (set once resources are built). */
  connection: WRsc | undefined;
  /** Never seen in the status section (startup fencing applies). */
  unseen: boolean;
  /** Remote/guest node whose node_state says it was fenced (node_fenced). */
  remoteWasFenced: boolean;
  /** Remote node whose connection failed in a way that requires a reset. */
  remoteRequiresReset: boolean;
  /** Resources assigned so far (assignment phase): the node-sorting tie-breaker. */
  numResources: number;
  /** Remaining capacity per utilization attribute (configured capacity minus what is assigned). */
  capacity: Map<string, number>;
  /** Fail counts and last failures by resource id (fail-count-ID[#op]); read on first use. */
  failures?: NodeFailures;
  unpacked: boolean;
}

/** Fail-count attributes of a node, summed per resource id. */
export interface NodeFailures {
  readonly count: Map<string, number>;
  readonly last: Map<string, number>;
}

export type Variant = 'primitive' | 'group' | 'clone' | 'bundle';
/** Pacemaker's enum order for variants (native < group < clone < container). */
export const variantRank: Record<Variant, number> = { primitive: 0, group: 1, clone: 2, bundle: 3 };

export interface WColocation {
  readonly id: string;
  readonly dependent: WRsc;
  readonly primary: WRsc;
  readonly score: number;
  readonly dependentRole: RoleNum;
  readonly primaryRole: RoleNum;
  readonly nodeAttribute: string | undefined;
  readonly influence: boolean;
}

export interface WRsc {
  readonly id: string;
  readonly variant: Variant;
  parent: WRsc | undefined;
  children: WRsc[];
  readonly def: Primitive | undefined;
  /** Instance attribute sets of a group or clone (primitives read theirs from `def`). */
  readonly instanceSets: readonly NvSet[] | undefined;
  readonly agentClass: string | undefined;
  readonly agent: string | undefined;
  readonly meta: Map<string, string>;
  readonly priority: number;
  readonly stickiness: number;
  readonly migrationThreshold: number;
  readonly failureTimeoutSec: number;
  managed: boolean;
  readonly unique: boolean;
  readonly promotable: boolean;
  readonly isFenceDevice: boolean;
  /** requires=fencing (the default with fencing enabled). */
  readonly needsFencing: boolean;
  readonly needsQuorum: boolean;
  orphan: boolean;
  /** The connection resource of a Pacemaker Remote node (named like the node). */
  isRemoteConnection: boolean;
  /** For a guest node's connection or a filler: the resource (VM, container) that hosts it. */
  container: WRsc | undefined;
  /** A filler failed: this container must restart. */
  restartRequested: boolean;
  readonly cloneMax: number;
  readonly cloneNodeMax: number;
  readonly promotedMax: number;
  readonly promotedNodeMax: number;
  readonly interleave: boolean;
  readonly ordered: boolean;
  readonly targetRole: RoleNum | undefined;
  /** allow-migrate; cleared when the history shows a migration that must be recovered instead. */
  allowMigrate: boolean;
  readonly multipleActive: string;
  // -- unpack (status) --
  role: RoleNum;
  nextRole: RoleNum;
  runningOn: WNode[];
  /** Role on each node it is active on (for promotable instances). */
  roleOn: Map<string, RoleNum>;
  knownOn: Set<string>;
  failed: boolean;
  stopNeeded: boolean;
  blocked: boolean;
  startPending: boolean;
  failureIgnored: boolean;
  /** Nodes where the fail count gets cleared (check_operation_expiry), with the reason. */
  failcountClears: Map<string, string>;
  pendingNode: WNode | undefined;
  partialMigrationSource: WNode | undefined;
  partialMigrationTarget: WNode | undefined;
  /** Sources of migrations that completed (or failed) without the source being stopped: each needs a stop. */
  danglingMigrations: WNode[];
  /** Node history id the instance was matched from (anonymous clones). */
  cloneName: string | undefined;
  /** Utilization the resource consumes (primitives). */
  utilization: Map<string, number>;
  /** Operation history per node name, sorted by call id, kept for the nodes the resource is active on (unpack). */
  history: Map<string, HistoryOp[]>;
  /** The agent recorded with that history, per node name. */
  historyAgent: Map<string, { readonly class?: string; readonly provider?: string; readonly type?: string }>;
  /**
   * Recurring operations the history shows active, per node name (`task_intervalMs` keys), as
   * unpack.c process_recurring finds them: after the last start, not pending, node online.
   */
  activeRecurring: Map<string, Set<string>> | undefined;
  // -- node criteria and assignment --
  allowed: Map<string, number>;
  /** What built each node's score, in order (for explain): node name -> contributions. */
  contrib: Map<string, ScoreContribution[]>;
  /** The scores the resource was assigned with (set when it is assigned). */
  finalScores: Map<string, number> | undefined;
  /** Nodes named by resource-discovery=exclusive locations (undefined: not exclusive). */
  exclusiveNodes: Set<string> | undefined;
  thisWith: WColocation[];
  withThis: WColocation[];
  provisional: boolean;
  allocating: boolean;
  merging: boolean;
  allocatedTo: WNode | undefined;
  /** Promotion score chosen for promotable instances. */
  promotionPriority: number;
}

/** One recorded operation, as unpack parsed it. */
export interface HistoryOp {
  readonly xml: LrmRscOp;
  readonly task: string;
  readonly intervalMs: number;
  readonly callId: number;
  readonly rc: number;
  readonly status: number;
}

export function newRsc(init: {
  id: string;
  instanceSets?: readonly NvSet[];
  variant: Variant;
  parent: WRsc | undefined;
  def: Primitive | undefined;
  agentClass: string | undefined;
  agent: string | undefined;
  meta: Map<string, string>;
  opts: RscOptions;
}): WRsc {
  const o = init.opts;
  return {
    id: init.id,
    variant: init.variant,
    parent: init.parent,
    children: [],
    def: init.def,
    instanceSets: init.instanceSets,
    agentClass: init.agentClass,
    agent: init.agent,
    meta: init.meta,
    // Each option named (no spread): every resource gets one object shape, built without a copy loop.
    priority: o.priority,
    stickiness: o.stickiness,
    migrationThreshold: o.migrationThreshold,
    failureTimeoutSec: o.failureTimeoutSec,
    managed: o.managed,
    unique: o.unique,
    promotable: o.promotable,
    isFenceDevice: o.isFenceDevice,
    needsFencing: o.needsFencing,
    needsQuorum: o.needsQuorum,
    cloneMax: o.cloneMax,
    cloneNodeMax: o.cloneNodeMax,
    promotedMax: o.promotedMax,
    promotedNodeMax: o.promotedNodeMax,
    interleave: o.interleave,
    ordered: o.ordered,
    targetRole: o.targetRole,
    allowMigrate: o.allowMigrate,
    multipleActive: o.multipleActive,
    orphan: false,
    isRemoteConnection: false,
    container: undefined,
    restartRequested: false,
    role: R_STOPPED,
    nextRole: R_UNKNOWN,
    runningOn: [],
    roleOn: new Map(),
    knownOn: new Set(),
    failed: false,
    stopNeeded: false,
    blocked: false,
    startPending: false,
    failureIgnored: false,
    failcountClears: new Map(),
    pendingNode: undefined,
    partialMigrationSource: undefined,
    partialMigrationTarget: undefined,
    danglingMigrations: [],
    cloneName: undefined,
    utilization: new Map(),
    history: new Map(),
    historyAgent: new Map(),
    activeRecurring: undefined,
    allowed: new Map(),
    exclusiveNodes: undefined,
    contrib: new Map(),
    finalScores: undefined,
    thisWith: [],
    withThis: [],
    provisional: true,
    allocating: false,
    merging: false,
    allocatedTo: undefined,
    promotionPriority: init.opts.priority,
  };
}

/** Options read from a resource's merged meta attributes. */
export interface RscOptions {
  priority: number;
  stickiness: number;
  migrationThreshold: number;
  failureTimeoutSec: number;
  managed: boolean;
  unique: boolean;
  promotable: boolean;
  isFenceDevice: boolean;
  needsFencing: boolean;
  needsQuorum: boolean;
  cloneMax: number;
  cloneNodeMax: number;
  promotedMax: number;
  promotedNodeMax: number;
  interleave: boolean;
  ordered: boolean;
  targetRole: RoleNum | undefined;
  allowMigrate: boolean;
  multipleActive: string;
}

/** Every primitive under `r` (itself when primitive), depth-first. */
export function primitivesOf(r: WRsc, out: WRsc[] = []): WRsc[] {
  if (r.variant === 'primitive') out.push(r);
  else for (const c of r.children) primitivesOf(c, out);
  return out;
}

export function topParent(r: WRsc): WRsc {
  let p = r;
  while (p.parent) p = p.parent;
  return p;
}

/** pe__const_top_resource(rsc, false): the top resource, stopping below a bundle. */
export function topNoBundle(r: WRsc): WRsc {
  let p = r;
  while (p.parent && p.parent.variant !== 'bundle') p = p.parent;
  return p;
}

/** Pacemaker's pe_rsc_is_clone on the nearest clone ancestor. */
export function cloneAncestor(r: WRsc): WRsc | undefined {
  let p = r.parent;
  while (p) {
    if (p.variant === 'clone') return p;
    p = p.parent;
  }
  return undefined;
}

/** A node can run resources (pcmk__node_available without score). */
export function nodeAvailable(n: WNode): boolean {
  return n.online && !n.shutdown && !n.unclean && !n.standby && !n.maintenance;
}

/** Records one contribution to `r`'s score on `node` (explain). */
export function contribute(r: WRsc, node: string, source: string, item: string | undefined, score: number): void {
  addContribution(r, node, { source, item, score });
}

/** Appends `entry` (never changed once made, so several nodes may share it) to `node`'s list. */
function addContribution(r: WRsc, node: string, entry: ScoreContribution): void {
  const list = r.contrib.get(node);
  if (list) list.push(entry);
  else r.contrib.set(node, [entry]);
}

/**
 * Records the per-node difference between two score tables as one contribution each. Nodes with
 * the same difference share one entry (a colocation usually moves many nodes by the same amount).
 * `item` may be given as a function naming it, called only when some score changed.
 */
export function contributeDiff(r: WRsc, before: ReadonlyMap<string, number>, source: string, item: string | undefined | (() => string)): void {
  contributeChange(r, before, r.allowed, source, item);
}

/**
 * contributeDiff between two given tables: records, for each node of `after`, its difference from
 * `before` as a contribution to `r` (`r.allowed` is neither read nor changed).
 */
export function contributeChange(
  r: WRsc,
  before: ReadonlyMap<string, number>,
  after: ReadonlyMap<string, number>,
  source: string,
  item: string | undefined | (() => string),
): void {
  let last: ScoreContribution | undefined;
  // A function names the item only when something changed (most colocations change nothing).
  let named: string | undefined;
  after.forEach((a, node) => {
    const b = before.get(node) ?? 0;
    if (a === b) return;
    if (typeof item === 'function') named ??= item();
    else named = item;
    if (last?.score !== a - b) last = { source, item: named, score: a - b };
    addContribution(r, node, last);
  });
}

/** calculate_active_ops: index of the last start-like and the last successful stop. */
export function activeIndexes(ops: readonly HistoryOp[]): { start: number; stop: number } {
  let start = -1;
  let stop = -1;
  let impliedMonitor = -1;
  let impliedClone = -1;
  ops.forEach((op, i) => {
    if (op.task === 'stop' && op.status === 0) stop = i;
    else if (op.task === 'start' || op.task === 'migrate_from') start = i;
    else if (impliedMonitor <= stop && op.task === 'monitor') {
      if (op.rc === 0 || op.rc === 8) impliedMonitor = i;
    } else if (op.task === 'promote' || op.task === 'demote') impliedClone = i;
  });
  if (start === -1) {
    if (impliedClone !== -1) start = impliedClone;
    else if (impliedMonitor !== -1) start = impliedMonitor;
  }
  return { start, stop };
}
