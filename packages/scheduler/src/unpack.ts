/**
 * Phase 1, unpack: cluster options, nodes and their state, resources (with clone instances),
 * and the operation history read the way Pacemaker 2.1.5's unpack.c reads it.
 */
import type { Cib, LrmResource, LrmRscOp, NodeState, Primitive, Resource } from '@paceline/cib';
import { SCORE_INFINITY, addScores, parseScore } from '@paceline/cib';
import type { BuiltBundle, Replica } from './bundle.js';
import { bundleGuestNames, bundleLayout, pinReplicaInstances } from './bundle.js';
import { findOp } from './digest.js';
import { paramsChangedSince } from './config-changes.js';
import type { Diagnostic } from './types.js';
import type { MigrationContext } from './migration-history.js';
import { HistoryIndex, sortHistory, unpackMigrateFromFailure, unpackMigrateToFailure, unpackMigrateToSuccess } from './migration-history.js';
import { boolOr, isTrue, mergeNvSets, parseIntervalMs, parseRole, copyMap } from './util.js';
import type { HistoryOp, OnFail, RoleNum, RscOptions, Variant, WNode, WRsc } from './work.js';
import { R_PROMOTED, R_STARTED, R_STOPPED, R_UNKNOWN, R_UNPROMOTED, activeIndexes, cloneAncestor, contribute, newRsc, roleNum, topNoBundle, topParent } from './work.js';

export interface ClusterFlags {
  readonly stonithEnabled: boolean;
  readonly symmetric: boolean;
  readonly haveQuorum: boolean;
  readonly noQuorumPolicy: 'stop' | 'freeze' | 'ignore' | 'demote' | 'suicide';
  readonly stopOrphans: boolean;
  readonly maintenanceMode: boolean;
  readonly stopAll: boolean;
  readonly startFailureFatal: boolean;
  readonly stonithAction: string;
  readonly placementStrategy: string;
  readonly startupProbes: boolean;
  haveStonithResource: boolean;
}

export interface Unpacked {
  readonly nowSec: number;
  readonly options: Map<string, string>;
  /** op_defaults meta attributes (timeout, ...). */
  readonly opDefaults: Map<string, string>;
  readonly flags: ClusterFlags;
  readonly nodes: WNode[];
  readonly nodeByName: Map<string, WNode>;
  readonly nodeById: Map<string, WNode>;
  /** Top-level resources, sorted by priority (stable), orphans appended. */
  readonly resources: WRsc[];
  /** Every resource by id (instances included). */
  readonly byId: Map<string, WRsc>;
  /** Configured (pre-expansion) ids that name a clone's template child, e.g. `rsc` -> clone. */
  readonly templateOf: Map<string, WRsc>;
  readonly diagnostics: Diagnostic[];
  /** Failed stop/actions that want fencing (set by pe_fence_node). */
  readonly fenceRequests: Map<string, string>;
  /** Bundles by their resource, with their replicas. */
  readonly bundles: Map<WRsc, BuiltBundle>;
  /** What the migration history readers need (the status index is built on first use). */
  readonly migration: MigrationContext;
}

export function unpack(cib: Cib, nowSec: number): Unpacked {
  const diagnostics: Diagnostic[] = [];
  const options = mergeNvSets(cib.configuration?.crmConfig?.propertySets ?? [], { nodeAttrs: undefined, nowSec });
  const flags = readFlags(cib, options);
  const nodes = readNodes(cib, flags, nowSec);
  const nodeByName = new Map(nodes.map((n) => [n.name, n]));
  const nodeById = new Map(nodes.map((n) => [n.id, n]));
  const ctx: BuildCtx = { cib, nowSec, flags, nodes, byId: new Map(), templateOf: new Map(), options, cloneChild: new Map(), cloneExplicit: new Map(), bundles: new Map(), diagnostics };
  const top: WRsc[] = [];
  for (const r of cib.configuration?.resources?.resources ?? []) {
    const w = buildResource(ctx, r, undefined, undefined);
    if (w) top.push(w);
  }
  // Generated guest connections come after every configured resource.
  for (const [name, p] of guestDefinitions(cib)) {
    const container = ctx.byId.get(p.id);
    if (!container || ctx.byId.has(name)) continue;
    const conn = guestConnection(ctx, name, container);
    top.push(conn);
    const node = nodes.find((n) => n.name === name);
    if (node) node.connection = conn;
  }
  const sorted = top.map((r, i) => ({ r, i })).sort((a, b) => b.r.priority - a.r.priority || a.i - b.i).map((x) => x.r);
  const u: Unpacked = {
    nowSec,
    options,
    opDefaults: mergeNvSets(cib.configuration?.opDefaults?.meta ?? [], { nodeAttrs: undefined, nowSec }),
    flags,
    nodes,
    nodeByName,
    nodeById,
    resources: sorted,
    byId: ctx.byId,
    templateOf: ctx.templateOf,
    diagnostics,
    fenceRequests: new Map(),
    bundles: ctx.bundles,
    migration: migrationContext(cib, nodeByName, (rsc, node) => addRunning(u, rsc, node)),
  };
  for (const b of ctx.bundles.values()) pinReplicaInstances(b, ctx.byId.values());
  // setup_container: resources naming a container in their meta run inside it.
  for (const r of ctx.byId.values()) {
    const cid = r.meta.get('container');
    if (r.variant !== 'primitive' || r.container || cid === undefined || cid === r.id) continue;
    const c = ctx.byId.get(cid);
    if (c) r.container = c;
  }
  linkRemoteNodes(u);
  unpackNodeStates(cib, u);
  unpackHistory(cib, u, ctx);
  for (const n of u.nodes) if ((n.kind === 'remote' || n.kind === 'guest') && !n.unpacked) determineRemoteOnline(u, n);
  return u;
}

function migrationContext(cib: Cib, nodeByName: ReadonlyMap<string, WNode>, addRunning: MigrationContext['addRunning']): MigrationContext {
  let index: HistoryIndex | undefined;
  return {
    get index(): HistoryIndex {
      index ??= new HistoryIndex(cib.status?.nodeStates ?? []);
      return index;
    },
    nodeByName,
    addRunning,
  };
}

function readFlags(cib: Cib, o: Map<string, string>): ClusterFlags {
  const stonithEnabled = boolOr(o.get('stonith-enabled'), true);
  const haveQuorum = isTrue(cib.cib.haveQuorum);
  const nqp = (o.get('no-quorum-policy') ?? 'stop').toLowerCase();
  let noQuorumPolicy: ClusterFlags['noQuorumPolicy'] = 'stop';
  if (nqp === 'ignore' || nqp === 'freeze' || nqp === 'demote') noQuorumPolicy = nqp;
  else if (nqp === 'suicide' && stonithEnabled && (haveQuorum || isTrue(cib.cib.noQuorumPanic))) noQuorumPolicy = 'suicide';
  let stonithAction = o.get('stonith-action') ?? 'reboot';
  if (stonithAction === 'poweroff') stonithAction = 'off';
  return {
    stonithEnabled,
    symmetric: boolOr(o.get('symmetric-cluster'), true),
    haveQuorum,
    noQuorumPolicy,
    stopOrphans: boolOr(o.get('stop-orphan-resources'), true),
    maintenanceMode: boolOr(o.get('maintenance-mode'), false),
    stopAll: boolOr(o.get('stop-all-resources'), false),
    startFailureFatal: boolOr(o.get('start-failure-is-fatal'), true),
    stonithAction,
    placementStrategy: o.get('placement-strategy') ?? 'default',
    startupProbes: boolOr(o.get('enable-startup-probes'), true),
    haveStonithResource: isTrue(o.get('have-watchdog')),
  };
}

/** utilization_value: an integer, 0 when invalid. */
export function utilizationValue(v: string | undefined): number {
  if (v === undefined) return 0;
  const n = Number.parseInt(v, 10);
  return Number.isNaN(n) ? 0 : n;
}

/** A top-level primitive that defines a Pacemaker Remote node (ocf:pacemaker:remote). */
function isRemoteConnection(r: Resource): r is Primitive {
  if (r.kind !== 'primitive') return false;
  const t = r.templateRef;
  return (r.class ?? t?.class) === 'ocf' && (r.provider ?? t?.provider) === 'pacemaker' && (r.type ?? t?.type) === 'remote';
}

function newNode(id: string, name: string, kind: WNode['kind'], attrs: Map<string, string>, weight: number, dc: boolean): WNode {
  return {
    id,
    name,
    kind,
    attrs,
    configWeight: weight,
    online: false,
    unclean: false,
    standby: false,
    standbyOnFail: false,
    maintenance: false,
    shutdown: false,
    pending: false,
    expectedUp: false,
    isDc: dc,
    fenceReason: undefined,
    connection: undefined,
    unseen: false,
    remoteWasFenced: false,
    remoteRequiresReset: false,
    numResources: 0,
    capacity: new Map(),
    unpacked: false,
  };
}

function readNodes(cib: Cib, flags: ClusterFlags, nowSec: number): WNode[] {
  const out: WNode[] = [];
  const names = new Set<string>();
  for (const n of cib.configuration?.nodes ?? []) {
    const name = n.uname ?? n.id;
    const type = n.type === 'remote' ? 'remote' : n.type === 'ping' ? 'ping' : 'member';
    const attrs = new Map<string, string>([
      ['#uname', name],
      ['#id', n.id],
      ['#kind', type === 'remote' ? 'remote' : 'cluster'],
    ]);
    const dc = cib.cib.dcUuid === n.id;
    attrs.set('#is_dc', dc ? 'true' : 'false');
    mergeNvSets(n.instanceAttributes, { nodeAttrs: attrs, nowSec }, attrs);
    const node = newNode(n.id, name, type, attrs, parseScore(n.score), dc);
    for (const [k, v] of mergeNvSets(n.utilization, { nodeAttrs: attrs, nowSec })) node.capacity.set(k, utilizationValue(v));
    if (type === 'member' && flags.stonithEnabled) {
      node.unclean = true;
      node.unseen = true;
    }
    out.push(node);
    names.add(name);
  }
  for (const r of cib.configuration?.resources?.resources ?? []) {
    if (!isRemoteConnection(r) || names.has(r.id)) continue;
    const attrs = new Map<string, string>([
      ['#uname', r.id],
      ['#id', r.id],
      ['#kind', 'remote'],
      ['#is_dc', 'false'],
    ]);
    out.push(newNode(r.id, r.id, 'remote', attrs, 0, false));
    names.add(r.id);
  }
  for (const r of cib.configuration?.resources?.resources ?? []) {
    if (r.kind !== 'bundle') continue;
    for (const name of bundleGuestNames(r)) {
      if (names.has(name)) continue;
      const attrs = new Map<string, string>([
        ['#uname', name],
        ['#id', name],
        ['#kind', 'container'],
        ['#is_dc', 'false'],
      ]);
      // Bundle guest nodes start with -INFINITY: only their replica's instance may run there.
      out.push(newNode(name, name, 'guest', attrs, -SCORE_INFINITY, false));
      names.add(name);
    }
  }
  for (const [name] of guestDefinitions(cib)) {
    if (names.has(name)) continue;
    const attrs = new Map<string, string>([
      ['#uname', name],
      ['#id', name],
      ['#kind', 'container'],
      ['#is_dc', 'false'],
    ]);
    out.push(newNode(name, name, 'guest', attrs, 0, false));
    names.add(name);
  }
  // Pacemaker keeps its node list sorted by name.
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Guest nodes (expand_remote_rsc_meta): a primitive (top level or in a group) with the
 * `remote-node` meta-attribute hosts a Pacemaker Remote node of that name. Returns guest name ->
 * hosting primitive, in document order.
 */
function guestDefinitions(cib: Cib): Map<string, Primitive> {
  const out = new Map<string, Primitive>();
  const consider = (p: Primitive): void => {
    for (const set of p.meta) {
      for (const pair of (set.ref ?? set).nvpairs) {
        const pp = pair.ref ?? pair;
        if ((pp.name ?? pair.name) === 'remote-node' && (pp.value ?? pair.value)) {
          const name = (pp.value ?? pair.value) as string;
          if (!out.has(name)) out.set(name, p);
          return;
        }
      }
    }
  };
  for (const r of cib.configuration?.resources?.resources ?? []) {
    if (r.kind === 'primitive') consider(r);
    else if (r.kind === 'group') for (const c of r.children) consider(c);
  }
  return out;
}

/** The connection resource Pacemaker generates for a guest node (ocf:pacemaker:remote). */
function guestConnection(ctx: BuildCtx, name: string, container: WRsc): WRsc {
  const meta = fullMeta(ctx, new Map([['container', container.id]]), { class: 'ocf', provider: 'pacemaker', type: 'remote' });
  const opts = readOptions(ctx, meta, 'primitive', false, 'ocf');
  const w = newRsc({
    id: name,
    variant: 'primitive',
    parent: undefined,
    def: undefined,
    agentClass: 'ocf',
    agent: 'ocf:pacemaker:remote',
    meta,
    opts: { ...opts, allowMigrate: meta.get('allow-migrate') === undefined ? true : opts.allowMigrate, needsFencing: false },
  });
  w.isRemoteConnection = true;
  w.container = container;
  ctx.byId.set(w.id, w);
  initAllowed(ctx, w, true);
  return w;
}

/** link_rsc2remotenode + handle_startup_fencing for remote nodes. */
function linkRemoteNodes(u: Unpacked): void {
  for (const n of u.nodes) {
    if (n.kind !== 'remote') continue;
    const r = u.byId.get(n.name);
    if (!r || r.variant !== 'primitive' || r.parent) continue;
    n.connection = r;
    r.isRemoteConnection = true;
    if (u.flags.stonithEnabled) {
      n.unclean = true;
      n.unseen = true;
    }
  }
}

/** pe_fence_node for a cluster node: mark unclean, remember the first reason. */
export function fenceNode(u: Unpacked, node: WNode, reason: string): void {
  if (node.kind === 'guest') {
    // A guest is "fenced" by recovering the resource that hosts it.
    const container = node.connection?.container;
    if (container && !container.failed && container.managed) {
      node.remoteRequiresReset = true;
      container.failed = true;
      container.stopNeeded = true;
    }
    return;
  }
  if (!node.unclean) node.unclean = true;
  if (!u.fenceRequests.has(node.name)) u.fenceRequests.set(node.name, reason);
}

function unpackNodeStates(cib: Cib, u: Unpacked): void {
  const seen = new Set<string>();
  for (const st of cib.status?.nodeStates ?? []) {
    const node = u.nodeById.get(st.id) ?? (st.uname ? u.nodeByName.get(st.uname) : undefined);
    // unpack_node_state: for remote and guest nodes only whether they were fenced, at this point.
    if (node && (node.kind === 'remote' || node.kind === 'guest')) node.remoteWasFenced = intOr(st.nodeFenced, 0) !== 0;
    if (!node || node.kind !== 'member' || seen.has(node.id)) continue;
    seen.add(node.id);
    for (const set of st.transientAttributes?.sets ?? []) mergeNvSetsOverwrite(set, node.attrs, u.nowSec);
    node.unclean = false;
    if (isTrue(node.attrs.get('standby'))) node.standby = true;
    if (isTrue(node.attrs.get('maintenance'))) node.maintenance = true;
    determineOnline(u, st, node);
    if (!u.flags.haveQuorum && node.online && u.flags.noQuorumPolicy === 'suicide') {
      fenceNode(u, node, 'cluster does not have quorum');
    }
  }
  for (const n of u.nodes) {
    if (!seen.has(n.id) && n.unclean && !u.fenceRequests.has(n.name)) {
      // Never seen by the cluster: fenced at startup ("node is unclean").
    }
  }
}

function mergeNvSetsOverwrite(set: import('@paceline/cib').NvSet, into: Map<string, string>, nowSec: number): void {
  const tmp = mergeNvSets([set], { nodeAttrs: into, nowSec });
  for (const [k, v] of tmp) into.set(k, v);
}

function determineOnline(u: Unpacked, st: NodeState, node: WNode): void {
  const shutdownAttr = node.attrs.get('shutdown');
  node.shutdown = false;
  node.expectedUp = false;
  if (shutdownAttr !== undefined && shutdownAttr !== '0' && shutdownAttr !== '') node.shutdown = true;
  else if ((st.expected ?? '').toLowerCase() === 'member') node.expectedUp = true;
  let online: boolean;
  if (!u.flags.stonithEnabled) online = onlineNoFencing(u, st, node);
  else online = onlineFencing(u, st, node);
  node.online = online;
}

function onlineNoFencing(u: Unpacked, st: NodeState, node: WNode): boolean {
  const join = (st.join ?? '').toLowerCase();
  if (!isInCluster(st.inCcm)) return false;
  if ((st.crmd ?? '').toLowerCase() === 'online' || isTimestampOnline(st.crmd)) {
    return join === 'member';
  }
  if (!node.expectedUp) return false;
  fenceNode(u, node, 'peer is unexpectedly down');
  return false;
}

function isInCluster(v: string | undefined): boolean {
  if (v === undefined) return false;
  if (isTrue(v)) return true;
  return /^[1-9][0-9]*$/.test(v);
}

function isTimestampOnline(v: string | undefined): boolean {
  return v !== undefined && /^[1-9][0-9]*$/.test(v);
}

function onlineFencing(u: Unpacked, st: NodeState, node: WNode): boolean {
  const join = (st.join ?? '').toLowerCase();
  const terminate = node.attrs.get('terminate');
  const doTerminate = isTrue(terminate) || (terminate !== undefined && /^[1-9]/.test(terminate));
  const inCluster = isInCluster(st.inCcm);
  const crmdOnline = (st.crmd ?? '').toLowerCase() === 'online' || isTimestampOnline(st.crmd);
  const exp = (st.expected ?? 'down').toLowerCase();
  let online = inCluster;
  if (node.shutdown) {
    online = crmdOnline;
  } else if (st.inCcm === undefined) {
    fenceNode(u, node, 'peer has not been seen by the cluster');
  } else if (join === 'banned') {
    // CRMD_JOINSTATE_NACK
    fenceNode(u, node, 'peer failed Pacemaker membership criteria');
  } else if (!doTerminate && exp === 'down') {
    if (inCluster || crmdOnline) {
      node.standby = true;
      node.pending = true;
    }
  } else if (doTerminate && join === 'down' && !inCluster && !crmdOnline) {
    online = false;
  } else if (!inCluster) {
    fenceNode(u, node, 'peer is no longer part of the cluster');
  } else if (!crmdOnline) {
    fenceNode(u, node, 'peer process is no longer available');
  } else if (doTerminate) {
    fenceNode(u, node, 'termination was requested');
  } else if (join === 'member') {
    // active
  } else if (join === 'pending' || join === 'down') {
    node.standby = true;
    node.pending = true;
  } else {
    fenceNode(u, node, 'peer was in an unknown state');
  }
  return online;
}

// ---------------------------------------------------------------------------------------------
// Resources
// ---------------------------------------------------------------------------------------------

interface BuildCtx {
  readonly cib: Cib;
  readonly nowSec: number;
  readonly flags: ClusterFlags;
  readonly nodes: WNode[];
  readonly byId: Map<string, WRsc>;
  readonly templateOf: Map<string, WRsc>;
  readonly options: Map<string, string>;
  /** The configured child of each clone, to build orphan instances from. */
  readonly cloneChild: Map<WRsc, Primitive | import('@paceline/cib').Group>;
  readonly cloneExplicit: Map<WRsc, Map<string, string>>;
  readonly bundles: Map<WRsc, BuiltBundle>;
  readonly diagnostics: Diagnostic[];
}

function explicitMeta(ctx: BuildCtx, r: Resource | Primitive, parentExplicit: Map<string, string> | undefined): Map<string, string> {
  const m = new Map<string, string>();
  mergeNvSets(r.meta, { nodeAttrs: undefined, nowSec: ctx.nowSec }, m);
  if (r.kind === 'primitive' && r.templateRef) mergeNvSets(r.templateRef.meta, { nodeAttrs: undefined, nowSec: ctx.nowSec }, m);
  if (parentExplicit) parentExplicit.forEach((v, k) => {
    if (!m.has(k)) m.set(k, v);
  });
  return m;
}

function fullMeta(ctx: BuildCtx, explicit: Map<string, string>, agent: { class?: string; provider?: string; type?: string }): Map<string, string> {
  const m = copyMap(explicit);
  mergeNvSets(ctx.cib.configuration?.rscDefaults?.meta ?? [], {
    nodeAttrs: undefined,
    nowSec: ctx.nowSec,
    rscClass: agent.class,
    rscProvider: agent.provider,
    rscType: agent.type,
  }, m);
  return m;
}

function readOptions(ctx: BuildCtx, meta: Map<string, string>, variant: Variant, inClone: boolean, agentClass: string | undefined): RscOptions {
  const managedV = meta.get('is-managed');
  let managed = !ctx.flags.maintenanceMode;
  if (managedV !== undefined && managedV !== 'default') managed = isTrue(managedV);
  if (isTrue(meta.get('maintenance'))) managed = false;
  if (ctx.flags.maintenanceMode) managed = false;
  const st = meta.get('resource-stickiness');
  let stickiness = st !== undefined && st !== 'default' ? parseScore(st) : 0;
  if (st === undefined && ctx.options.get('default-resource-stickiness') !== undefined) {
    stickiness = parseScore(ctx.options.get('default-resource-stickiness'));
  }
  const mt = meta.get('migration-threshold');
  let migrationThreshold = SCORE_INFINITY;
  if (mt !== undefined && mt !== 'default') {
    migrationThreshold = parseScore(mt);
    if (migrationThreshold < 0) migrationThreshold = 1;
  }
  const isFence = agentClass === 'stonith';
  const req = (meta.get('requires') ?? '').toLowerCase();
  let needsFencing = ctx.flags.stonithEnabled && !isFence;
  let needsQuorum = !(req === '' && !isFence && !ctx.flags.stonithEnabled && ctx.flags.noQuorumPolicy === 'ignore');
  if (req === 'nothing') {
    needsFencing = false;
    needsQuorum = false;
  } else if (req === 'quorum') needsFencing = false;
  else if (req === 'fencing' || req === 'unfencing') needsFencing = ctx.flags.stonithEnabled && !isFence;
  const nodesCount = ctx.nodes.length;
  const cmv = meta.get('clone-max');
  const promotedMaxV = meta.get('promoted-max') ?? meta.get('master-max');
  const promotedNodeMaxV = meta.get('promoted-node-max') ?? meta.get('master-node-max');
  const unique = inClone ? isTrue(meta.get('globally-unique')) : true;
  let cloneNodeMax = meta.get('clone-node-max') !== undefined ? Math.max(0, Number.parseInt(meta.get('clone-node-max') ?? '1', 10) || 0) : 1;
  if (!unique && cloneNodeMax > 1) cloneNodeMax = 1;
  // get_target_role: "started" and "default" mean no explicit role; roles above Started only
  // apply inside promotable clones.
  const tr = meta.get('target-role');
  let targetRole = tr === undefined || tr.toLowerCase() === 'default' ? undefined : parseRole(tr);
  if (targetRole === 'Started' || targetRole === 'Unknown') targetRole = undefined;
  if ((targetRole === 'Promoted' || targetRole === 'Unpromoted') && !(inClone && isTrue(meta.get('promotable')))) targetRole = undefined;
  return {
    priority: parseScore(meta.get('priority')),
    stickiness,
    migrationThreshold,
    failureTimeoutSec: Math.trunc(parseIntervalMs(meta.get('failure-timeout')) / 1000),
    managed,
    unique,
    promotable: inClone && isTrue(meta.get('promotable')),
    isFenceDevice: isFence,
    needsFencing,
    needsQuorum,
    cloneMax: cmv === undefined ? Math.max(1, nodesCount) : Math.max(0, Number.parseInt(cmv, 10) || 0),
    cloneNodeMax,
    promotedMax: promotedMaxV === undefined ? 1 : Math.max(0, Number.parseInt(promotedMaxV, 10) || 0),
    promotedNodeMax: promotedNodeMaxV === undefined ? 1 : Math.max(0, Number.parseInt(promotedNodeMaxV, 10) || 0),
    interleave: isTrue(meta.get('interleave')),
    ordered: isTrue(meta.get('ordered')),
    targetRole: targetRole === undefined ? undefined : roleNum(targetRole),
    allowMigrate: isTrue(meta.get('allow-migrate')),
    multipleActive: (meta.get('multiple-active') ?? 'stop_start').toLowerCase(),
  };
  void variant;
}

function agentOf(p: Primitive): { class?: string; provider?: string; type?: string } {
  const t = p.templateRef;
  const c = p.class ?? t?.class;
  const pr = p.provider ?? t?.provider;
  const ty = p.type ?? t?.type;
  // Only the fields that are set (no object spreads: this runs once per primitive).
  const a: { class?: string; provider?: string; type?: string } = {};
  if (c) a.class = c;
  if (pr) a.provider = pr;
  if (ty) a.type = ty;
  return a;
}

function agentString(a: { class?: string; provider?: string; type?: string }): string {
  return a.provider ? `${a.class}:${a.provider}:${a.type}` : `${a.class}:${a.type}`;
}

/** Symmetric clusters allow every node at its configured weight ("symmetric_default"). */
/**
 * common_unpack's default location: every node at 0 in a symmetric cluster; a guest connection
 * (`optIn`) always opts in ("remote_connection_default"), its container decides where it may run.
 */
function initAllowed(ctx: BuildCtx, r: WRsc, optIn = false): void {
  if (!ctx.flags.symmetric && !optIn) return;
  for (const n of ctx.nodes) r.allowed.set(n.name, addScores(r.allowed.get(n.name) ?? n.configWeight, 0));
}

function buildResource(
  ctx: BuildCtx,
  r: Resource,
  parent: WRsc | undefined,
  parentExplicit: Map<string, string> | undefined,
  suffix = '',
): WRsc | undefined {
  const explicit = explicitMeta(ctx, r, parentExplicit);
  const inClone = parent !== undefined && (parent.variant === 'clone' || cloneAncestor(parent) !== undefined);
  switch (r.kind) {
    case 'primitive': {
      const agent = agentOf(r);
      const meta = fullMeta(ctx, explicit, agent);
      const opts = readOptions(ctx, meta, 'primitive', inClone, agent.class);
      const remote = agent.class === 'ocf' && agent.provider === 'pacemaker' && agent.type === 'remote';
      // Remote connections may live-migrate unless configured otherwise.
      const o2 = remote && meta.get('allow-migrate') === undefined ? { ...opts, allowMigrate: true } : opts;
      const w = newRsc({ id: r.id + suffix, variant: 'primitive', parent, def: r, agentClass: agent.class, agent: agentString(agent), meta, opts: o2 });
      if (opts.isFenceDevice) ctx.flags.haveStonithResource = true;
      const utilization = r.templateRef?.utilization.length ? [...r.utilization, ...r.templateRef.utilization] : r.utilization;
      if (utilization.length > 0) {
        mergeNvSets(utilization, { nodeAttrs: undefined, nowSec: ctx.nowSec }).forEach((v, k) => w.utilization.set(k, utilizationValue(v)));
      }
      if (opts.targetRole !== undefined) w.nextRole = opts.targetRole;
      ctx.byId.set(w.id, w);
      initAllowed(ctx, w);
      return w;
    }
    case 'group': {
      const meta = fullMeta(ctx, explicit, {});
      const opts = readOptions(ctx, meta, 'group', inClone, undefined);
      const w = newRsc({ id: r.id + suffix, instanceSets: r.instanceAttributes, variant: 'group', parent, def: undefined, agentClass: undefined, agent: undefined, meta, opts });
      ctx.byId.set(w.id, w);
      initAllowed(ctx, w);
      for (const c of r.children) {
        const cw = buildResource(ctx, c, w, explicit, suffix);
        if (cw) w.children.push(cw);
      }
      if (opts.targetRole !== undefined) w.nextRole = opts.targetRole;
      return w;
    }
    case 'clone':
    case 'master': {
      if (r.kind === 'master' && !explicit.has('promotable')) explicit.set('promotable', 'true');
      if (!explicit.has('resource-stickiness')) {
        const dflt = fullMeta(ctx, explicit, {}).get('resource-stickiness');
        if (dflt === undefined) explicit.set('resource-stickiness', '1');
      }
      const meta = fullMeta(ctx, explicit, {});
      let opts = readOptions(ctx, meta, 'clone', true, undefined);
      let childExplicit = explicit;
      if (opts.unique && r.child && forcedAnonymous(r.child)) {
        // pe__force_anon: agents of this class cannot be unique clones; at most one per node.
        ctx.diagnostics.push({
          severity: 'warning',
          code: 'clone-forced-anonymous',
          item: r.id,
          message: `Ignoring globally-unique for ${r.id} because its agent class can only be an anonymous clone`,
        });
        opts = { ...opts, unique: false, cloneNodeMax: 1, cloneMax: Math.min(opts.cloneMax, ctx.nodes.length) };
        childExplicit = copyMap(explicit);
        childExplicit.set('globally-unique', 'false');
      }
      const w = newRsc({ id: r.id + suffix, instanceSets: r.instanceAttributes, variant: 'clone', parent, def: undefined, agentClass: undefined, agent: undefined, meta, opts });
      ctx.byId.set(w.id, w);
      initAllowed(ctx, w);
      if (!r.child) return w;
      for (let i = 0; i < opts.cloneMax; i++) {
        const inst = buildResource(ctx, r.child, w, childExplicit, `:${i}`);
        if (inst) w.children.push(inst);
      }
      ctx.templateOf.set(r.child.id, w);
      ctx.cloneChild.set(w, r.child);
      ctx.cloneExplicit.set(w, childExplicit);
      if (r.child.kind === 'group') for (const m of r.child.children) ctx.templateOf.set(m.id, w);
      return w;
    }
    case 'bundle':
      return buildBundle(ctx, r, explicit);
    default: {
      const never: never = r;
      return never;
    }
  }
}

/** Classes whose agents support unique clones (pcmk_ra_cap_unique). */
const uniqueCapableClasses: ReadonlySet<string> = new Set(['ocf', 'stonith']);

/** A primitive under `r` has an agent class that cannot be cloned uniquely (native_unpack). */
function forcedAnonymous(r: Resource): boolean {
  if (r.kind === 'primitive') {
    const cls = r.class ?? r.templateRef?.class;
    return cls !== undefined && !uniqueCapableClasses.has(cls);
  }
  if (r.kind === 'group') return r.children.some((c) => forcedAnonymous(c));
  return false;
}

/** A generated primitive of a bundle (container, IP or remote connection). */
function generatedPrimitive(ctx: BuildCtx, bundle: WRsc, explicit: Map<string, string>, id: string, provider: string, type: string): WRsc {
  const agent = { class: 'ocf', provider, type };
  const meta = fullMeta(ctx, copyMap(explicit), agent);
  const opts = readOptions(ctx, meta, 'primitive', false, 'ocf');
  const remote = provider === 'pacemaker' && type === 'remote';
  const w = newRsc({
    id,
    variant: 'primitive',
    parent: bundle,
    def: undefined,
    agentClass: 'ocf',
    agent: agentString(agent),
    meta,
    opts: remote ? { ...opts, allowMigrate: meta.get('allow-migrate') === undefined ? true : opts.allowMigrate, needsFencing: false } : opts,
  });
  if (opts.targetRole !== undefined) w.nextRole = opts.targetRole;
  ctx.byId.set(w.id, w);
  initAllowed(ctx, w);
  return w;
}

function buildBundle(ctx: BuildCtx, b: import('@paceline/cib').Bundle, explicit: Map<string, string>): WRsc | undefined {
  const layout = bundleLayout(b);
  if (!layout) return undefined;
  const meta = fullMeta(ctx, explicit, {});
  const opts = readOptions(ctx, meta, 'bundle', false, undefined);
  const w = newRsc({ id: b.id, variant: 'bundle', parent: undefined, def: undefined, agentClass: undefined, agent: undefined, meta, opts });
  ctx.byId.set(w.id, w);
  initAllowed(ctx, w);
  let clone: WRsc | undefined;
  if (layout.withRemote && b.primitive) {
    const cm = copyMap(explicit);
    cm.set('ordered', 'true');
    cm.set('clone-max', String(layout.replicas));
    cm.set('clone-node-max', String(layout.replicasPerHost));
    cm.set('globally-unique', layout.replicasPerHost > 1 ? 'true' : 'false');
    if (layout.promotedMax > 0) {
      cm.set('promotable', 'true');
      cm.set('promoted-max', String(layout.promotedMax));
    }
    const cmeta = fullMeta(ctx, cm, {});
    const copts = readOptions(ctx, cmeta, 'clone', true, undefined);
    clone = newRsc({ id: `${b.id}-${layout.promotedMax > 0 ? 'master' : 'clone'}`, variant: 'clone', parent: w, def: undefined, agentClass: undefined, agent: undefined, meta: cmeta, opts: copts });
    ctx.byId.set(clone.id, clone);
    initAllowed(ctx, clone);
    for (let i = 0; i < layout.replicas; i++) {
      const inst = buildResource(ctx, b.primitive, clone, cm, `:${i}`);
      if (inst) clone.children.push(inst);
    }
    ctx.templateOf.set(b.primitive.id, clone);
    ctx.cloneChild.set(clone, b.primitive);
    ctx.cloneExplicit.set(clone, cm);
  }
  const replicas: Replica[] = [];
  for (let i = 0; i < layout.replicas; i++) {
    const container = generatedPrimitive(ctx, w, explicit, `${b.id}-${layout.runtime}-${i}`, 'heartbeat', layout.runtime);
    w.children.push(container);
    const addr = layout.ips[i];
    let ip: WRsc | undefined;
    if (addr !== undefined) {
      ip = generatedPrimitive(ctx, w, explicit, `${b.id}-ip-${addr}`, 'heartbeat', 'IPaddr2');
      w.children.push(ip);
    }
    let remote: WRsc | undefined;
    let node: WNode | undefined;
    const child = clone?.children[i];
    if (child) {
      remote = generatedPrimitive(ctx, w, explicit, `${b.id}-${i}`, 'pacemaker', 'remote');
      remote.isRemoteConnection = true;
      remote.container = container;
      w.children.push(remote);
      node = ctx.nodes.find((n) => n.name === remote?.id);
      if (node) node.connection = remote;
    }
    replicas.push({ index: i, ip, container, remote, child, node });
  }
  if (clone) w.children.push(clone);
  ctx.bundles.set(w, { rsc: w, layout, replicas, clone });
  return w;
}

// ---------------------------------------------------------------------------------------------
// Operation history
// ---------------------------------------------------------------------------------------------

interface ParsedOp extends HistoryOp {
  readonly id: string;
  /** The result as interpreted (remapped) while unpacking; `rc`/`status` keep what was recorded. */
  effRc: number;
  effStatus: number;
  readonly targetRc: number;
  readonly lastRcChange: number;
  readonly key: string;
}

const EXEC_PENDING = -1;
const EXEC_DONE = 0;
const EXEC_ERROR = 4;
const EXEC_ERROR_HARD = 5;
const EXEC_ERROR_FATAL = 6;
const EXEC_NOT_INSTALLED = 7;
const EXEC_NOT_SUPPORTED = 3;

/** A small non-negative or negative decimal integer; `dflt` when absent or not a number. */
function intOr(text: string | undefined, dflt: number): number {
  if (text === undefined) return dflt;
  const n = Number.parseInt(text, 10);
  return Number.isNaN(n) ? dflt : n;
}

/** The expected rc recorded in a transition key "action:transition:target-rc:uuid" (-1: none). */
function targetRcOf(key: string | undefined): number {
  if (key === undefined) return -1;
  const a = key.indexOf(':');
  const b = a < 0 ? -1 : key.indexOf(':', a + 1);
  const c = b < 0 ? -1 : key.indexOf(':', b + 1);
  if (c < 0) return -1;
  // The usual field is a few digits: read them in place (no substring per history entry).
  let rc = 0;
  for (let i = b + 1; i < c; i++) {
    const d = key.charCodeAt(i) - 48;
    if (d < 0 || d > 9 || i - b > 9) return intOr(key.slice(b + 1, c), -1);
    rc = rc * 10 + d;
  }
  return c > b + 1 ? rc : -1;
}

function parseOp(op: LrmRscOp): ParsedOp {
  const rc = intOr(op.rcCode, 0);
  const status = intOr(op.opStatus, 0);
  return {
    xml: op,
    id: op.id,
    task: op.operation ?? '',
    intervalMs: intOr(op.interval, 0),
    callId: intOr(op.callId, 0),
    rc,
    status,
    effRc: rc,
    effStatus: status,
    targetRc: targetRcOf(op.transitionKey),
    lastRcChange: intOr(op.lastRcChange ?? op.lastRun, 0),
    key: op.operationKey ?? op.id,
  };
}

/** The history is a single completed probe with the expected "not running" result (rc 7). */
function isStoppedProbeOnly(lr: LrmResource): boolean {
  if (lr.ops.length !== 1) return false;
  const op = lr.ops[0] as LrmRscOp;
  return (
    op.operation === 'monitor' &&
    intOr(op.interval, 0) === 0 &&
    intOr(op.rcCode, 0) === 7 &&
    intOr(op.opStatus, 0) === EXEC_DONE &&
    targetRcOf(op.transitionKey) === 7
  );
}

function isProbe(op: ParsedOp): boolean {
  return op.task === 'monitor' && op.intervalMs === 0;
}

function unpackHistory(cib: Cib, u: Unpacked, ctx: BuildCtx): void {
  const states = cib.status?.nodeStates ?? [];
  const nodeOf = (st: NodeState): WNode | undefined => u.nodeById.get(st.id) ?? (st.uname ? u.nodeByName.get(st.uname) : undefined);
  const doNode = (st: NodeState, node: WNode): void => {
    if (node.kind === 'remote' || node.kind === 'guest') {
      determineRemoteOnline(u, node);
      handleRemoteAttrs(u, st, node);
    }
    node.unpacked = true;
    for (const lr of st.lrm?.resources ?? []) unpackLrmResource(u, ctx, node, lr);
  };
  // Passes repeat while they make progress: a remote node's history needs its connection's state.
  let progress = true;
  while (progress) {
    progress = false;
    for (const st of states) {
      const node = nodeOf(st);
      if (!node || node.unpacked || node.kind === 'ping') continue;
      if (node.kind === 'remote' || node.kind === 'guest') {
        if (!node.connection || node.connection.role !== R_STARTED) continue;
        if (node.kind === 'guest' && node.connection.container?.role !== R_STARTED) continue;
      } else if (!u.flags.stonithEnabled && !node.online) continue;
      doNode(st, node);
      progress = true;
    }
  }
  if (u.flags.stonithEnabled) {
    for (const st of states) {
      const node = nodeOf(st);
      if (!node || node.unpacked || node.kind === 'ping') continue;
      doNode(st, node);
    }
  }
}

/** determine_remote_online_status. */
function determineRemoteOnline(u: Unpacked, node: WNode): void {
  const rsc = node.connection;
  if (!rsc) {
    node.online = false;
    return;
  }
  const container = rsc.container;
  const host = container && container.runningOn.length === 1 ? container.runningOn[0] : undefined;
  if (rsc.role === R_STARTED) node.online = true;
  if (rsc.role === R_STARTED && rsc.nextRole === R_STOPPED) node.shutdown = true;
  if (container && container.failed) {
    node.online = false;
    node.remoteRequiresReset = true;
  } else if (rsc.failed) node.online = false;
  else if (rsc.role === R_STOPPED || (container && container.role === R_STOPPED)) {
    node.online = false;
    node.remoteRequiresReset = false;
  } else if (host && !host.online && host.unclean) {
    node.online = false;
    node.remoteRequiresReset = true;
  }
  void u;
}

/** unpack_handle_remote_attrs. */
function handleRemoteAttrs(u: Unpacked, st: NodeState, node: WNode): void {
  if (!node.remoteRequiresReset) {
    node.unclean = false;
    node.unseen = false;
  }
  for (const set of st.transientAttributes?.sets ?? []) mergeNvSetsOverwrite(set, node.attrs, u.nowSec);
  const sd = node.attrs.get('shutdown');
  if (sd !== undefined && sd !== '0' && sd !== '') node.shutdown = true;
  if (isTrue(node.attrs.get('standby'))) node.standby = true;
  if (isTrue(node.attrs.get('maintenance')) || (node.connection !== undefined && !node.connection.managed)) node.maintenance = true;
}

function findResourceForHistory(u: Unpacked, ctx: BuildCtx, node: WNode, lr: LrmResource): WRsc | undefined {
  const rscId = lr.id;
  const direct = u.byId.get(rscId);
  if (direct && direct.variant === 'primitive') {
    const tp = topParent(direct);
    if (tp.variant !== 'clone' || tp.unique) return direct;
  } else if (direct) {
    return undefined;
  }
  const base = rscId.replace(/:[0-9]+$/, '');
  const clone = ctx.templateOf.get(base);
  if (!clone) {
    if (direct) return direct;
    return undefined;
  }
  const bundle = clone.parent ? u.bundles.get(clone.parent) : undefined;
  if (bundle) return bundle.replicas.find((rep) => rep.node === node)?.child;
  if (clone.unique) return u.byId.get(rscId) ?? u.byId.get(`${base}:0`);
  let inst = findAnonymousInstance(clone, node, base);
  // Instances that do not need fencing are not considered active on a lost node (unless the clone
  // runs everywhere): their history there becomes an orphan instance.
  const universal = clone.cloneMax === u.nodes.length;
  if (inst && !inst.needsFencing && (!node.online || node.unclean) && node.kind !== 'guest' && !universal) inst = undefined;
  return inst ?? anonymousOrphan(u, ctx, clone, base);
}

function instanceMember(inst: WRsc, base: string): WRsc | undefined {
  if (inst.variant === 'primitive') return inst.id.replace(/:[0-9]+$/, '') === base ? inst : undefined;
  for (const c of inst.children) {
    const m = instanceMember(c, base);
    if (m) return m;
  }
  return undefined;
}

function instanceLocation(inst: WRsc): WNode | undefined {
  for (const p of inst.variant === 'primitive' ? [inst] : inst.children) {
    if (p.runningOn[0]) return p.runningOn[0];
    if (p.pendingNode) return p.pendingNode;
  }
  return undefined;
}

function findAnonymousInstance(clone: WRsc, node: WNode, base: string): WRsc | undefined {
  let inactive: WRsc | undefined;
  let skipInactive = false;
  for (const inst of clone.children) {
    const loc = instanceLocation(inst);
    if (loc) {
      if (loc === node) {
        const m = instanceMember(inst, base);
        if (m) {
          if (m.runningOn.length > 0) {
            skipInactive = true;
            continue;
          }
          return m;
        }
      }
    } else if (!skipInactive && !inactive && !inst.blocked) {
      const m = instanceMember(inst, base);
      if (m && (!m.pendingNode || m.pendingNode === node)) inactive = m;
    }
  }
  if (!skipInactive && inactive) return inactive;
  return undefined;
}

/** create_anonymous_orphan: a new instance past clone-max, marked orphan, never placed. */
function anonymousOrphan(u: Unpacked, ctx: BuildCtx, clone: WRsc, base: string): WRsc | undefined {
  const def = ctx.cloneChild.get(clone);
  if (!def) return undefined;
  const inst = buildResource(ctx, def, clone, ctx.cloneExplicit.get(clone), `:${clone.children.length}`);
  if (!inst) return undefined;
  clone.children.push(inst);
  const mark = (r: WRsc): void => {
    r.orphan = true;
    for (const n of u.nodes) r.allowed.set(n.name, -SCORE_INFINITY);
    for (const c of r.children) mark(c);
  };
  mark(inst);
  return instanceMember(inst, base);
}

function makeOrphan(u: Unpacked, lr: LrmResource): WRsc {
  const agent = { class: lr.class, provider: lr.provider, type: lr.type };
  const meta = new Map<string, string>();
  const w = newRsc({
    id: lr.id,
    variant: 'primitive',
    parent: undefined,
    def: undefined,
    agentClass: lr.class,
    agent: agentString(agent),
    meta,
    opts: {
      priority: 0,
      stickiness: 0,
      migrationThreshold: SCORE_INFINITY,
      failureTimeoutSec: 0,
      managed: u.flags.stopOrphans && !u.flags.maintenanceMode,
      unique: true,
      promotable: false,
      isFenceDevice: lr.class === 'stonith',
      needsFencing: u.flags.stonithEnabled && lr.class !== 'stonith',
      needsQuorum: true,
      cloneMax: 0,
      cloneNodeMax: 0,
      promotedMax: 0,
      promotedNodeMax: 0,
      interleave: false,
      ordered: false,
      targetRole: undefined,
      allowMigrate: false,
      multipleActive: 'stop_start',
    },
  });
  w.orphan = true;
  if (agent.class === 'ocf' && agent.provider === 'pacemaker' && agent.type === 'remote') orphanRemoteNode(u, w, lr.container);
  if (u.flags.symmetric) for (const n of u.nodes) w.allowed.set(n.name, 0);
  if (u.flags.stopOrphans) for (const n of u.nodes) w.allowed.set(n.name, -SCORE_INFINITY);
  u.byId.set(w.id, w);
  u.resources.push(w);
  return w;
}

/**
 * create_fake_resource for an orphaned remote connection: its remote node exists (created when not
 * configured, after every resource was unpacked, so no resource is allowed there) and is shutting
 * down; link_rsc2remotenode applies startup fencing.
 */
function orphanRemoteNode(u: Unpacked, conn: WRsc, containerId: string | undefined): void {
  let node = u.nodeByName.get(conn.id);
  const container = containerId !== undefined ? u.byId.get(containerId) : undefined;
  if (!node) {
    const attrs = new Map<string, string>([
      ['#uname', conn.id],
      ['#id', conn.id],
      ['#kind', 'remote'],
      ['#is_dc', 'false'],
    ]);
    node = newNode(conn.id, conn.id, container ? 'guest' : 'remote', attrs, 0, false);
    u.nodes.push(node);
    u.nodeByName.set(node.name, node);
    if (!u.nodeById.has(node.id)) u.nodeById.set(node.id, node);
  }
  conn.isRemoteConnection = true;
  node.connection = conn;
  // An orphaned container filler (pe_rsc_orphan_container_filler) runs inside its container.
  if (container) {
    conn.container = container;
    node.shutdown = true;
    return;
  }
  if (node.kind !== 'remote') return;
  if (u.flags.stonithEnabled) {
    node.unclean = true;
    node.unseen = true;
  }
  node.shutdown = true;
}

/** The history entry names another class, provider or type than the configuration (kept for clean-up). */
function recordedForOtherAgent(r: WRsc, lr: LrmResource): boolean {
  if (!r.def) return false;
  const t = r.def.templateRef;
  return (r.def.class ?? t?.class) !== lr.class || (r.def.provider ?? t?.provider) !== lr.provider || (r.def.type ?? t?.type) !== lr.type;
}

/** Ban `rsc` (or every primitive under it) from `node`. */
export function banRsc(r: WRsc, nodeName: string, score: number, why = 'failed operation'): void {
  r.allowed.set(nodeName, addScores(r.allowed.get(nodeName) ?? 0, score));
  if (r.variant === 'primitive') contribute(r, nodeName, 'failure', why, score);
  for (const c of r.children) banRsc(c, nodeName, score, why);
}

/**
 * check_operation_expiry, its parameter-change half: the last failure of a start or monitor whose
 * parameters have changed since gets its fail count cleared (a clear_failcount action), and the
 * threshold does not ban the resource from that node. Bundled resources (whose parameters need
 * their replica's address, which Pacemaker checks later) are left out.
 */
function clearFailcountForParamChange(u: Unpacked, rsc: WRsc, node: WNode, op: ParsedOp): void {
  if (!op.id.endsWith('_last_failure_0') || rsc.orphan || !rsc.def || failCountExpired(u, rsc, node, op)) return;
  for (let p: WRsc | undefined = rsc; p; p = p.parent) if (p.variant === 'bundle') return;
  if (paramsChangedSince(u, rsc, node, op)) rsc.failcountClears.set(node.name, 'resource parameters have changed');
}

function failCountExpired(u: Unpacked, r: WRsc, node: WNode, op: ParsedOp): boolean {
  if (r.failureTimeoutSec <= 0) return false;
  const lastFailure = op.lastRcChange;
  return lastFailure > 0 && u.nowSec > lastFailure + r.failureTimeoutSec;
  void node;
}

function defaultOnFail(u: Unpacked, r: WRsc, op: ParsedOp): OnFail {
  const cfg = findOp(r, op.task, op.intervalMs);
  const v = cfg?.onFail?.toLowerCase();
  if (v) {
    switch (v) {
      case 'ignore':
        return 'ignore';
      case 'block':
        return 'block';
      case 'stop':
        return 'stop';
      case 'standby':
        return 'standby';
      case 'fence':
        return u.flags.stonithEnabled ? 'fence' : 'block';
      case 'demote':
        return 'demote';
      case 'restart':
        return 'recover';
      case 'restart-container':
        return r.container ? 'restart-container' : 'recover';
      default:
        break;
    }
  }
  // unpack_operation's defaults: fillers restart their container; a remote connection's failure
  // fences the remote node (or stops the connection when fencing is disabled), except a probe's or a
  // start's (a failed start means no connection existed).
  if (r.container) return 'restart-container';
  if (r.isRemoteConnection && !(op.task === 'monitor' && op.intervalMs === 0) && op.task !== 'start') {
    return u.flags.stonithEnabled ? 'reset-remote' : 'stop';
  }
  if (op.task === 'stop') return u.flags.stonithEnabled && u.flags.haveStonithResource ? 'fence' : 'block';
  return 'recover';
}

const onFailRank: Record<OnFail, number> = {
  ignore: 0,
  demote: 1,
  recover: 2,
  'restart-container': 3,
  'reset-remote': 4,
  migrate: 5,
  block: 6,
  stop: 7,
  standby: 8,
  fence: 9,
};

interface OpState {
  onFail: OnFail;
  lastFailure: ParsedOp | undefined;
}

function unpackLrmResource(u: Unpacked, ctx: BuildCtx, node: WNode, lr: LrmResource): void {
  if (lr.ops.length === 0) return;
  let rsc = findResourceForHistory(u, ctx, node, lr);
  if (!rsc) rsc = u.byId.get(lr.id)?.orphan ? u.byId.get(lr.id) : makeOrphan(u, lr);
  if (!rsc) return;
  if (rsc.id !== lr.id) rsc.cloneName = lr.id;
  const saved = rsc.role;
  rsc.role = R_UNKNOWN;
  if (isStoppedProbeOnly(lr) && !rsc.history.has(node.name) && !rsc.runningOn.includes(node)) {
    // The usual history on a node that does not run the resource: one probe that found it stopped,
    // as expected. unpack_rsc_op would leave it stopped with no failure; no operation objects.
    rsc.role = R_STOPPED;
    rsc.nextRole = R_UNKNOWN;
    processRscState(u, rsc, node, 'ignore');
  } else {
    const ops = lr.ops.length > 1 ? sortHistory(lr.ops.map(parseOp)) : lr.ops.map(parseOp);
    const st: OpState = { onFail: 'ignore', lastFailure: undefined };
    for (const op of ops) unpackRscOp(u, rsc, node, op, st);
    processRscState(u, rsc, node, st.onFail);
    recordActiveRecurring(rsc, node, ops);
    // Only the history of nodes the resource is active on is read again (definition changes): keep
    // that, not one table entry per resource and node.
    if (rsc.runningOn.includes(node) || rsc.history.has(node.name)) {
      rsc.historyAgent.set(node.name, lr);
      rsc.history.set(node.name, ops);
    } else if (recordedForOtherAgent(rsc, lr)) rsc.historyAgent.set(node.name, lr);
  }
  if (rsc.targetRole !== undefined) {
    if (rsc.nextRole === R_UNKNOWN || rsc.targetRole < rsc.nextRole) rsc.nextRole = rsc.targetRole;
  }
  if (saved > rsc.role) rsc.role = saved;
}

/** process_recurring: the recurring operations active on `node` after the last start. */
function recordActiveRecurring(rsc: WRsc, node: WNode, ops: readonly ParsedOp[]): void {
  if (!node.online) return;
  const { start, stop } = activeIndexes(ops);
  if (start < stop) return;
  for (let i = Math.max(start, 0); i < ops.length; i++) {
    const op = ops[i] as ParsedOp;
    if (op.intervalMs === 0 || op.status === -1) continue;
    rsc.activeRecurring ??= new Map();
    const set = rsc.activeRecurring.get(node.name) ?? new Set<string>();
    set.add(`${op.task}_${op.intervalMs}`);
    rsc.activeRecurring.set(node.name, set);
  }
}

function setActive(r: WRsc): void {
  const tp = topNoBundle(r);
  r.role = tp.promotable ? R_UNPROMOTED : R_STARTED;
}

function unpackRscOp(u: Unpacked, rsc: WRsc, node: WNode, op: ParsedOp, st: OpState): void {
  if (op.task === 'notify' || op.task === 'meta-data') return;
  const banTarget = rsc.unique ? rsc : topParent(rsc);
  const expired = op.effStatus !== EXEC_NOT_INSTALLED && op.effRc !== op.targetRc && failCountExpired(u, rsc, node, op);
  if (op.effStatus !== EXEC_NOT_INSTALLED) clearFailcountForParamChange(u, rsc, node, op);
  const oldRc = op.effRc;
  remapOperation(u, rsc, node, op, st);
  const maskable = isProbe(op) && (oldRc === 5 || oldRc === 2 || op.effStatus === EXEC_NOT_INSTALLED);
  if (expired && maskable) {
    if (rsc.role <= R_STOPPED) rsc.role = R_UNKNOWN;
    return;
  } else if (expired && op.effRc !== op.targetRc && op.intervalMs === 0) {
    return;
  }
  if (maskable) {
    updateResourceState(u, rsc, node, op, op.targetRc, st);
    banRsc(banTarget, node.name, -SCORE_INFINITY);
    return;
  }
  switch (op.effStatus) {
    case EXEC_PENDING:
      if (op.task === 'start') {
        rsc.startPending = true;
        setActive(rsc);
      } else if (op.task === 'promote') rsc.role = R_PROMOTED;
      if (!rsc.pendingNode && (op.intervalMs !== 0 || op.task !== 'monitor')) rsc.pendingNode = node;
      return;
    case EXEC_DONE:
      updateResourceState(u, rsc, node, op, op.effRc, st);
      return;
    case EXEC_NOT_INSTALLED: {
      const fs = defaultOnFail(u, rsc, op);
      if (fs === 'ignore') st.onFail = 'migrate';
      banRsc(banTarget, node.name, -SCORE_INFINITY);
      unpackFailure(u, rsc, node, op, st);
      return;
    }
    default:
      break;
  }
  const strategy = defaultOnFail(u, rsc, op);
  if (strategy === 'ignore' || (strategy === 'restart-container' && op.task === 'stop')) {
    updateResourceState(u, rsc, node, op, op.targetRc, st);
    rsc.failureIgnored = true;
    // A filler's failed stop is taken as done, but its container still restarts.
    if (strategy === 'restart-container' && onFailRank[st.onFail] <= onFailRank.recover) st.onFail = strategy;
    return;
  }
  unpackFailure(u, rsc, node, op, st);
  if (op.effStatus === EXEC_ERROR_HARD) banRsc(banTarget, node.name, -SCORE_INFINITY);
  else if (op.effStatus === EXEC_ERROR_FATAL) for (const n of u.nodes) banRsc(banTarget, n.name, -SCORE_INFINITY);
}

function remapOperation(u: Unpacked, rsc: WRsc, node: WNode, op: ParsedOp, st: OpState): void {
  if (op.task === 'monitor') {
    if (op.effRc === 190) op.effRc = 0;
    else if (op.effRc === 191) op.effRc = 8;
  }
  if (isProbe(op) && (op.effRc === 5 || op.effRc === 2 || op.effStatus === EXEC_NOT_INSTALLED)) {
    op.effStatus = EXEC_DONE;
    op.effRc = 7;
  }
  if (op.effStatus !== EXEC_DONE && op.effStatus !== EXEC_ERROR) return;
  op.effStatus = EXEC_DONE;
  const probe = isProbe(op);
  if (op.targetRc < 0) op.effStatus = EXEC_ERROR;
  else if (op.targetRc !== op.effRc) op.effStatus = EXEC_ERROR;
  switch (op.effRc) {
    case 0:
      if (probe && op.targetRc === 7) op.effStatus = EXEC_DONE;
      break;
    case 7:
      if (probe || op.targetRc === op.effRc || !rsc.managed) {
        op.effStatus = EXEC_DONE;
        rsc.role = R_STOPPED;
        st.onFail = 'ignore';
        rsc.nextRole = R_UNKNOWN;
      }
      break;
    case 8:
      if (probe && op.effRc !== op.targetRc) op.effStatus = EXEC_DONE;
      rsc.role = R_PROMOTED;
      break;
    case 9:
    case 191:
      rsc.role = R_PROMOTED;
      op.effStatus = EXEC_ERROR;
      break;
    case 6:
      op.effStatus = EXEC_ERROR_FATAL;
      break;
    case 3:
      op.effStatus = op.intervalMs === 0 ? EXEC_ERROR_HARD : EXEC_NOT_SUPPORTED;
      if (op.intervalMs === 0) checkRecoverable(u, rsc, node, op);
      break;
    case 5:
    case 2:
    case 4:
      checkRecoverable(u, rsc, node, op);
      op.effStatus = EXEC_ERROR_HARD;
      break;
    default:
      if (op.effStatus === EXEC_DONE) op.effStatus = EXEC_ERROR;
      break;
  }
}

function canFence(u: Unpacked, node: WNode): boolean {
  if (!u.flags.stonithEnabled || !u.flags.haveStonithResource) return false;
  if (u.flags.haveQuorum || u.flags.noQuorumPolicy === 'ignore') return true;
  return node.online;
}

function checkRecoverable(u: Unpacked, rsc: WRsc, node: WNode, op: ParsedOp): void {
  if (op.task !== 'stop') return;
  if (canFence(u, node)) return;
  rsc.managed = false;
  rsc.blocked = true;
}

function updateResourceState(u: Unpacked, rsc: WRsc, node: WNode, op: ParsedOp, rc: number, st: OpState): void {
  let clear = false;
  const probeMasked = isProbe(op) && (op.rc === 5 || op.rc === 2 || op.status === EXEC_NOT_INSTALLED);
  if (rc === 5 || probeMasked) rsc.role = R_STOPPED;
  else if (rc === 7) clear = true;
  else if (op.task === 'monitor') {
    if (st.lastFailure && st.lastFailure.key === op.key) clear = true;
    if (rsc.role < R_STARTED) setActive(rsc);
    if (rc === 8) rsc.role = R_PROMOTED;
  } else if (op.task === 'start') {
    rsc.role = R_STARTED;
    if (topNoBundle(rsc).promotable) rsc.role = R_UNPROMOTED;
    clear = true;
  } else if (op.task === 'stop') {
    rsc.role = R_STOPPED;
    clear = true;
  } else if (op.task === 'promote') {
    rsc.role = R_PROMOTED;
    clear = true;
  } else if (op.task === 'demote') {
    if (st.onFail === 'demote') clear = true;
    rsc.role = R_UNPROMOTED;
  } else if (op.task === 'migrate_from') {
    rsc.role = R_STARTED;
    clear = true;
  } else if (op.task === 'migrate_to') {
    unpackMigrateToSuccess(u.migration, rsc, node, op.xml);
  } else if (rsc.role < R_STARTED) {
    setActive(rsc);
  }
  if (clear) {
    switch (st.onFail) {
      case 'stop':
      case 'fence':
      case 'migrate':
      case 'standby':
        break;
      case 'reset-remote':
        break;
      default:
        st.onFail = 'ignore';
        rsc.nextRole = R_UNKNOWN;
    }
  }
  void node;
}

function unpackFailure(u: Unpacked, rsc: WRsc, node: WNode, op: ParsedOp, st: OpState): void {
  st.lastFailure = op;
  const actionOnFail = defaultOnFail(u, rsc, op);
  if (onFailRank[st.onFail] < onFailRank[actionOnFail]) st.onFail = actionOnFail;
  if (op.task === 'stop') banRsc(rsc, node.name, -SCORE_INFINITY);
  else if (op.task === 'migrate_to') unpackMigrateToFailure(u.migration, rsc, node, op.xml);
  else if (op.task === 'migrate_from') unpackMigrateFromFailure(u.migration, rsc, node, op.xml);
  else if (op.task === 'promote') rsc.role = R_PROMOTED;
  else if (op.task === 'demote') {
    if (actionOnFail === 'block') {
      rsc.role = R_PROMOTED;
      rsc.nextRole = R_STOPPED;
    } else if (op.effRc === 7) rsc.role = R_STOPPED;
    else rsc.role = R_UNPROMOTED;
  }
  if (isProbe(op) && op.effRc === 5) rsc.role = R_STOPPED;
  else if (rsc.role < R_STARTED) setActive(rsc);
  // fail_role: on-fail=stop means the resource must stay stopped.
  if (actionOnFail === 'stop') {
    if (rsc.nextRole < R_STOPPED || rsc.nextRole === R_UNKNOWN) rsc.nextRole = R_STOPPED;
    const tp = topParent(rsc);
    const target = tp.variant === 'clone' && !tp.unique ? tp : rsc;
    for (const n of u.nodes) banRsc(target, n.name, -SCORE_INFINITY);
  }
}

function processRscState(u: Unpacked, rsc: WRsc, node: WNode, onFail0: OnFail): void {
  let onFail = onFail0;
  if (rsc.role !== R_UNKNOWN) {
    let it: WRsc | undefined = rsc;
    while (it) {
      it.knownOn.add(node.name);
      if (it.unique) break;
      it = it.parent;
    }
  }
  if (rsc.role > R_STOPPED && !node.online && !node.maintenance && rsc.managed) {
    if (node.kind === 'guest') {
      rsc.failed = true;
      rsc.stopNeeded = true;
      fenceNode(u, node, `${rsc.id} is thought to be active there`);
    } else if (u.flags.stonithEnabled) {
      if (node.kind === 'remote' && node.connection && !node.connection.failed) {
        // Fencing is revoked if the connection can be re-established elsewhere.
        node.unseen = true;
        fenceNode(u, node, `${rsc.id} is active there (fencing will be revoked if remote connection can be re-established elsewhere)`);
      } else fenceNode(u, node, `${rsc.id} is thought to be active there`);
    }
  }
  const saveOnFail = onFail;
  if (node.unclean) onFail = 'ignore';
  switch (onFail) {
    case 'ignore':
      break;
    case 'demote':
      rsc.failed = true;
      break;
    case 'fence':
      fenceNode(u, node, `${rsc.id} failed there`);
      break;
    case 'standby':
      node.standby = true;
      node.standbyOnFail = true;
      break;
    case 'block':
      rsc.managed = false;
      rsc.blocked = true;
      break;
    case 'migrate':
      banRsc(rsc, node.name, -SCORE_INFINITY);
      break;
    case 'stop':
      rsc.nextRole = R_STOPPED;
      break;
    case 'recover':
      if (rsc.role !== R_STOPPED && rsc.role !== R_UNKNOWN) {
        rsc.failed = true;
        rsc.stopNeeded = true;
      }
      break;
    case 'restart-container':
      rsc.failed = true;
      rsc.stopNeeded = true;
      if (rsc.container) rsc.container.restartRequested = true;
      break;
    case 'reset-remote': {
      rsc.failed = true;
      rsc.stopNeeded = true;
      // The connection failed in a way that should fence its remote node.
      const remote = rsc.isRemoteConnection && u.flags.stonithEnabled ? u.nodeByName.get(rsc.id) : undefined;
      if (remote && remote.kind === 'remote' && !remote.remoteWasFenced) fenceNode(u, remote, 'remote connection is unrecoverable');
      break;
    }
    default: {
      const never: never = onFail;
      void never;
    }
  }
  if (rsc.role !== R_STOPPED && rsc.role !== R_UNKNOWN) {
    addRunning(u, rsc, node);
    rsc.roleOn.set(node.name, rsc.role);
    switch (onFail) {
      case 'ignore':
        break;
      case 'demote':
      case 'block':
        rsc.failed = true;
        break;
      default:
        rsc.failed = true;
        rsc.stopNeeded = true;
    }
  } else if (rsc.cloneName?.includes(':')) {
    // Older status sections name instances ("rsc:1"); a stopped one forgets that name, or stopped
    // instances would look like orphans.
    rsc.cloneName = undefined;
  }
  // A successful stop after migrate_to on the source leaves the partially migrated resource active
  // on the target.
  if (rsc.role === R_STOPPED && rsc.partialMigrationSource === node && rsc.partialMigrationTarget && rsc.runningOn.length > 0) rsc.role = R_STARTED;
  void saveOnFail;
}

/**
 * native_add_running: `rsc` is active on `node`. A primitive on a maintenance node becomes
 * unmanaged; an unmanaged resource is held where it is (INFINITY there) and its parents only
 * learn where it runs; a primitive active on several nodes applies multiple-active=stop_only (banned
 * everywhere) or block (unmanaged, with its group or bundle when they block too). Then the parent.
 */
function addRunning(u: Unpacked, rsc: WRsc, node: WNode): void {
  if (rsc.runningOn.includes(node)) return;
  rsc.runningOn.push(node);
  if (rsc.variant === 'primitive' && node.maintenance) rsc.managed = false;
  if (!rsc.managed) {
    banRsc(rsc, node.name, SCORE_INFINITY, 'not managed: held where it is active');
    if (node.online) for (let p = rsc.parent; p; p = p.parent) if (!p.runningOn.includes(node)) p.runningOn.push(node);
    return;
  }
  if (rsc.variant === 'primitive' && rsc.runningOn.length > 1) {
    if (rsc.multipleActive === 'stop_only') {
      for (const n of u.nodes) rsc.allowed.set(n.name, -SCORE_INFINITY);
    } else if (rsc.multipleActive === 'block') {
      rsc.managed = false;
      rsc.blocked = true;
      const p = rsc.parent;
      if (p && (p.variant === 'group' || p.variant === 'bundle') && p.multipleActive === 'block') {
        for (const c of p.children) {
          c.managed = false;
          c.blocked = true;
        }
      }
    }
  }
  if (rsc.parent) addRunning(u, rsc.parent, node);
}

export { R_UNPROMOTED };
