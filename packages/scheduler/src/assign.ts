/**
 * Phases 3 and 4: node criteria (locations, stickiness, failure thresholds) and assignment of
 * resources to nodes, following Pacemaker 2.1.5's pcmk__primitive_assign, pcmk__group_assign,
 * clone instance distribution and colocation score merging.
 */
import { copyMap } from './util.js';
import { SCORE_INFINITY, addScores } from '@paceline/cib';
import type { Constraints, WLocation } from './constraints.js';
import { addThisWith, addWithThis } from './constraints.js';
import type { ScoreLog } from './scores.js';
import type { Unpacked } from './unpack.js';
import type { NodeFailures, WColocation, WNode, WRsc } from './work.js';
import { applyColocToPriority, applyColocWithClone, assignBundle, assignClone } from './clone.js';
import { R_PROMOTED, R_STARTED, R_STOPPED, R_UNKNOWN, R_UNPROMOTED, contribute, contributeChange, contributeDiff, nodeAvailable, topParent } from './work.js';

const INFINITY_HACK = SCORE_INFINITY * -100;

// ---------------------------------------------------------------------------------------------
// Node criteria
// ---------------------------------------------------------------------------------------------

export function applyNodeCriteria(u: Unpacked, cons: Constraints): void {
  for (const loc of cons.locations) {
    applyLocation(loc.rsc, loc);
    if (loc.discovery === 'exclusive') markExclusive(loc.rsc, loc.scores);
  }
  for (const r of u.resources) applyStickiness(u, r);
  for (const node of u.nodes) for (const r of u.resources) checkFailureThreshold(u, r, node);
  for (const r of u.resources) applyExclusiveDiscovery(r, r.exclusiveNodes);
}

function markExclusive(r: WRsc, scores: ReadonlyMap<string, number>): void {
  r.exclusiveNodes ??= new Set();
  for (const n of scores.keys()) r.exclusiveNodes.add(n);
  for (const c of r.children) {
    // A bundle's location applies to its containers and IPs; its connections and instances keep
    // their own (exclusive) guest placement.
    if (r.variant === 'bundle' && (c.variant !== 'primitive' || c.isRemoteConnection)) continue;
    markExclusive(c, scores);
  }
}

/** apply_exclusive_discovery: exclusive resources are banned where no exclusive location names the node. */
function applyExclusiveDiscovery(r: WRsc, inherited: Set<string> | undefined): void {
  const ex = r.exclusiveNodes ?? inherited;
  for (const c of r.children) applyExclusiveDiscovery(c, r.variant === 'bundle' ? c.exclusiveNodes : ex);
  if (!ex) return;
  for (const name of r.allowed.keys()) if (!ex.has(name)) r.allowed.set(name, -SCORE_INFINITY);
}

function applyLocation(rsc: WRsc, loc: WLocation): void {
  const item = loc.id;
  if (loc.role !== R_UNKNOWN && loc.role !== rsc.nextRole) return;
  if (rsc.variant === 'bundle') {
    // pcmk__bundle_rsc_location: the bundle, its containers and IPs.
    addLocationScores(rsc, loc.scores, false, item);
    for (const c of rsc.children) if (c.variant === 'primitive' && !c.isRemoteConnection) addLocationScores(c, loc.scores, false, item);
    return;
  }
  if (rsc.variant === 'group') {
    addLocationScores(rsc, loc.scores, false, item);
    let first = true;
    for (const m of rsc.children) {
      addLocationScoresDeep(m, loc.scores, !first, item);
      first = false;
    }
    return;
  }
  addLocationScoresDeep(rsc, loc.scores, false, item);
}

function addLocationScores(r: WRsc, scores: ReadonlyMap<string, number>, zero: boolean, item: string): void {
  for (const [n, s] of scores) {
    r.allowed.set(n, addScores(r.allowed.get(n) ?? 0, zero ? 0 : s));
    if (!zero && r.variant === 'primitive') contribute(r, n, 'location', item, s);
  }
}

function addLocationScoresDeep(r: WRsc, scores: ReadonlyMap<string, number>, zero: boolean, item: string): void {
  if (r.variant === 'group' && r.parent !== undefined) {
    // A cloned group instance: the group and its members, as for a group.
    addLocationScores(r, scores, zero, item);
    let first = true;
    for (const m of r.children) {
      addLocationScoresDeep(m, scores, zero || !first, item);
      first = false;
    }
    return;
  }
  for (const c of r.children) addLocationScoresDeep(c, scores, zero, item);
  addLocationScores(r, scores, zero, item);
}

function applyStickiness(u: Unpacked, r: WRsc): void {
  if (r.children.length > 0) {
    for (const c of r.children) applyStickiness(u, c);
    return;
  }
  if (!r.managed || r.stickiness < 1 || r.runningOn.length !== 1) return;
  const node = r.runningOn[0] as WNode;
  if (!u.flags.symmetric && !r.allowed.has(node.name)) return;
  r.allowed.set(node.name, addScores(r.allowed.get(node.name) ?? 0, r.stickiness));
  contribute(r, node.name, 'stickiness', undefined, r.stickiness);
}

/** Sum of the fail-count attributes for `r` on `node`, 0 when expired by failure-timeout. */
/** The node's fail counts and last failures by resource id, read once from its attributes. */
function nodeFailures(node: WNode): NodeFailures {
  let t = node.failures;
  if (t) return t;
  t = { count: new Map(), last: new Map() };
  for (const [k, v] of node.attrs) {
    const isCount = k.startsWith('fail-count-');
    if (!isCount && !k.startsWith('last-failure-')) continue;
    const rest = k.slice(isCount ? 11 : 13);
    const hash = rest.indexOf('#');
    const id = hash < 0 ? rest : rest.slice(0, hash);
    if (isCount) t.count.set(id, addScores(t.count.get(id) ?? 0, parseInt10(v)));
    else t.last.set(id, Math.max(t.last.get(id) ?? 0, parseInt10(v)));
  }
  node.failures = t;
  return t;
}

export function failCount(u: Unpacked, r: WRsc, node: WNode): number {
  const t = nodeFailures(node);
  if (t.count.size === 0) return 0;
  const base = r.id.replace(/:[0-9]+$/, '');
  const ids = new Set([base, r.id, r.cloneName ?? base]);
  let count = 0;
  let lastFailure = 0;
  for (const id of ids) {
    const c = t.count.get(id);
    if (c !== undefined) count = addScores(count, c);
    const l = t.last.get(id);
    if (l !== undefined) lastFailure = Math.max(lastFailure, l);
  }
  if (count > 0 && r.failureTimeoutSec > 0 && lastFailure > 0 && u.nowSec > lastFailure + r.failureTimeoutSec) return 0;
  return count;
}

function parseInt10(v: string): number {
  if (v === 'INFINITY' || v === '+INFINITY') return SCORE_INFINITY;
  const n = Number.parseInt(v, 10);
  return Number.isNaN(n) ? 0 : n;
}

function checkFailureThreshold(u: Unpacked, r: WRsc, node: WNode): void {
  if (r.children.length > 0) {
    for (const c of r.children) checkFailureThreshold(u, c, node);
    return;
  }
  if (r.migrationThreshold === 0 || r.failureIgnored) return;
  // failcount_clear_action_exists: a fail count about to be cleared does not ban.
  if (r.failcountClears.has(node.name)) return;
  const fc = failCount(u, r, node);
  if (fc <= 0) return;
  if (r.migrationThreshold - fc > 0) return;
  const tp = topParent(r);
  const target = !r.unique ? tp : r;
  banDeep(target, node.name);
  contribute(r, node.name, 'failure', `fail-count ${fc} reached migration-threshold ${r.migrationThreshold}`, -SCORE_INFINITY);
}

function banDeep(r: WRsc, node: string): void {
  r.allowed.set(node, -SCORE_INFINITY);
  for (const c of r.children) banDeep(c, node);
}

// ---------------------------------------------------------------------------------------------
// Assignment
// ---------------------------------------------------------------------------------------------

export interface AssignCtx {
  readonly u: Unpacked;
  readonly scores: ScoreLog;
  /** Location scores with role Promoted, per clone id then node (promotion scores). */
  readonly promotedLocations?: Map<string, Map<string, number>>;
  /** Promotable clones that may not promote (a Promoted-role ticket is missing). */
  readonly noPromotion?: ReadonlySet<WRsc>;
}

/**
 * The node table cmp_resources compares: pcmk__add_colocated_node_scores from an empty table. A
 * group starts from its last member (its scores with that member's colocations merged in) and then
 * merges the group's own colocations.
 */
function sortingScores(ctx: AssignCtx, r: WRsc): Map<string, number> {
  if (r.variant !== 'group') return scoresFromAllowed(ctx, r);
  const last = r.children[r.children.length - 1];
  if (!last) return new Map();
  r.merging = true;
  const work = mergeThisWith(ctx, r, scoresFromAllowed(ctx, last));
  r.merging = false;
  return work;
}

/** init_nongroup_colocated_nodes from an empty table, then the resource's own colocations. */
function scoresFromAllowed(ctx: AssignCtx, r: WRsc): Map<string, number> {
  if (r.merging) return copyMap(r.allowed);
  r.merging = true;
  const work = mergeThisWith(ctx, r, copyMap(r.allowed));
  r.merging = false;
  return work;
}

function mergeThisWith(ctx: AssignCtx, r: WRsc, start: Map<string, number>): Map<string, number> {
  let work = start;
  if (!anyAvailable(ctx.u, work)) return work;
  for (const c of r.thisWith) {
    const m = addColocatedNodeScores(ctx, c.primary, work, c.nodeAttribute, c.score / SCORE_INFINITY, { active: true, thisWith: true, nonnegative: false });
    if (m) work = m;
  }
  return work;
}

/** pcmk__sort_resources (placement strategies other than default): the order of assignment. */
export function sortResourcesForPlacement(ctx: AssignCtx): void {
  if (ctx.u.flags.placementStrategy.toLowerCase() === 'default') return;
  // pcmk__sort_nodes(nodes, NULL): weight, then (balanced) free capacity, then assigned count, then name.
  const strategy = ctx.u.flags.placementStrategy.toLowerCase();
  const nodes = [...ctx.u.nodes].sort((a, b) => {
    const wa = nodeAvailable(a) ? a.configWeight : -SCORE_INFINITY;
    const wb = nodeAvailable(b) ? b.configWeight : -SCORE_INFINITY;
    if (wa !== wb) return wa > wb ? -1 : 1;
    if (strategy !== 'minimal') {
      if (strategy === 'balanced') {
        const c = compareCapacities(a, b);
        if (c !== 0) return c < 0 ? -1 : 1;
      }
      if (a.numResources !== b.numResources) return a.numResources < b.numResources ? -1 : 1;
    }
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  });
  const scores = new Map(ctx.u.resources.map((r) => [r, sortingScores(ctx, r)]));
  const weight = (r: WRsc, n: WNode | undefined): number => (n ? (scores.get(r)?.get(n.name) ?? -SCORE_INFINITY) : -SCORE_INFINITY);
  const sorted = ctx.u.resources
    .map((r, i) => ({ r, i }))
    .sort((x, y) => {
      const a = x.r;
      const b = y.r;
      if (a.priority !== b.priority) return a.priority > b.priority ? -1 : 1;
      const wa = weight(a, a.runningOn[0]);
      const wb = weight(b, b.runningOn[0]);
      if (wa !== wb) return wa > wb ? -1 : 1;
      for (const n of nodes) {
        const na = weight(a, n);
        const nb = weight(b, n);
        if (na !== nb) return na > nb ? -1 : 1;
      }
      return x.i - y.i;
    })
    .map((x) => x.r);
  ctx.u.resources.splice(0, ctx.u.resources.length, ...sorted);
}

export function assignAll(ctx: AssignCtx): void {
  sortResourcesForPlacement(ctx);
  // Remote connections first: resources on remote nodes depend on them.
  for (const r of ctx.u.resources) if (r.isRemoteConnection) assign(ctx, r, r.partialMigrationTarget);
  for (const r of ctx.u.resources) if (!r.isRemoteConnection) assign(ctx, r, undefined);
}

/** rsc_avoids_remote_nodes: fencing devices and remote connections never run on remote nodes. */
export function avoidRemoteNodes(u: Unpacked): void {
  const remotes = u.nodes.filter((n) => n.kind === 'remote' || n.kind === 'guest');
  if (remotes.length === 0) return;
  const visit = (r: WRsc): void => {
    if (r.variant === 'primitive' && (r.isFenceDevice || r.isRemoteConnection)) {
      for (const n of remotes) if (r.allowed.has(n.name)) r.allowed.set(n.name, -SCORE_INFINITY);
    }
    for (const c of r.children) visit(c);
  };
  for (const r of u.resources) visit(r);
}

/** remote_connection_assigned: the node will be up if its connection runs. */
function remoteConnectionAssigned(ctx: AssignCtx, r: WRsc): void {
  const node = ctx.u.nodeByName.get(r.id);
  if (!node) return;
  if (r.allocatedTo && r.nextRole !== R_STOPPED) {
    node.online = true;
    if (node.unseen) node.unclean = false;
  } else {
    node.shutdown = true;
  }
}

export function assign(ctx: AssignCtx, r: WRsc, prefer: WNode | undefined): WNode | undefined {
  switch (r.variant) {
    case 'primitive':
      return assignPrimitive(ctx, r, prefer);
    case 'group':
      return assignGroup(ctx, r, prefer);
    case 'clone':
      return assignClone(ctx, r, prefer);
    case 'bundle':
      return assignBundle(ctx, r);
    default: {
      const never: never = r.variant;
      return never;
    }
  }
}

function nodeWeight(r: WRsc, n: WNode): number {
  return nodeAvailable(n) ? (r.allowed.get(n.name) ?? -SCORE_INFINITY) : -SCORE_INFINITY;
}

/** Allowed nodes, best first (pcmk__sort_nodes). */
function sortedAllowed(ctx: AssignCtx, r: WRsc): WNode[] {
  const nodes: WNode[] = [];
  for (const name of r.allowed.keys()) {
    const n = ctx.u.nodeByName.get(name);
    if (n) nodes.push(n);
  }
  const active = r.runningOn.length > 0 ? currentNode(r) : undefined;
  const balanced = ctx.u.flags.placementStrategy === 'balanced';
  const minimal = ctx.u.flags.placementStrategy === 'minimal';
  nodes.sort((a, b) => {
    const wa = nodeWeight(r, a);
    const wb = nodeWeight(r, b);
    if (wa !== wb) return wa > wb ? -1 : 1;
    if (!minimal) {
      if (balanced) {
        const c = compareCapacities(a, b);
        if (c !== 0) return c < 0 ? -1 : 1;
      }
      if (a.numResources !== b.numResources) return a.numResources < b.numResources ? -1 : 1;
      if (active) {
        if (active === a) return -1;
        if (active === b) return 1;
      }
    }
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  });
  return nodes;
}

/** pcmk__compare_node_capacities: negative when `a` has more free capacity. */
function compareCapacities(a: WNode, b: WNode): number {
  let result = 0;
  for (const [k, v] of a.capacity) {
    const w = b.capacity.get(k) ?? 0;
    if (v > w) result--;
    else if (v < w) result++;
  }
  for (const [k, w] of b.capacity) {
    if (a.capacity.has(k)) continue;
    if (0 > w) result--;
    else if (0 < w) result++;
  }
  return result;
}

function enoughCapacity(node: WNode, need: ReadonlyMap<string, number>): boolean {
  for (const [k, v] of need) if (v > (node.capacity.get(k) ?? 0)) return false;
  return true;
}

/** pcmk__colocated_resources: what must land on the same node (mandatory colocations). */
function colocatedResources(r: WRsc, orig: WRsc, out: WRsc[]): WRsc[] {
  if (r.variant === 'group') {
    for (const m of r.children) colocatedResources(m, orig, out);
  }
  if (out.includes(r)) return out;
  out.push(r);
  for (const c of r.thisWith) {
    if (c.primary === orig) continue;
    if (c.score === SCORE_INFINITY && colocationAffectsLocation(r, c.primary, c)) colocatedResources(c.primary, orig, out);
  }
  for (const c of r.withThis) {
    if (c.dependent === orig) continue;
    if (r.variant === 'clone' && c.dependent.variant !== 'clone') continue;
    if (c.score === SCORE_INFINITY && colocationAffectsLocation(c.dependent, r, c)) colocatedResources(c.dependent, orig, out);
  }
  return out;
}

function addUtilization(r: WRsc, into: Map<string, number>, all: readonly WRsc[]): void {
  if (!r.provisional) return;
  if (r.variant === 'primitive') {
    for (const [k, v] of r.utilization) into.set(k, (into.get(k) ?? 0) + v);
  } else if (r.variant === 'group') {
    for (const m of r.children) if (m.provisional && !all.includes(m)) addUtilization(m, into, all);
  }
}

/** pcmk__ban_insufficient_capacity: returns the most capable node when none fits everything. */
function banInsufficientCapacity(ctx: AssignCtx, r: WRsc): WNode | undefined {
  const strategy = ctx.u.flags.placementStrategy.toLowerCase();
  if (strategy === 'default') return undefined;
  const rscs = colocatedResources(r, r, []);
  if (!rscs.includes(r)) rscs.push(r);
  const need = new Map<string, number>();
  for (const x of rscs) addUtilization(x, need, rscs);
  let anyCapable = false;
  let mostCapable: WNode | undefined;
  for (const [name, w] of r.allowed) {
    const node = ctx.u.nodeByName.get(name);
    if (!node || !nodeAvailable(node) || w < 0) continue;
    if (enoughCapacity(node, need)) anyCapable = true;
    if (!mostCapable || compareCapacities(node, mostCapable) < 0) mostCapable = node;
  }
  const own = anyCapable ? need : r.utilization;
  for (const [name, w] of r.allowed) {
    const node = ctx.u.nodeByName.get(name);
    if (!node || !nodeAvailable(node) || w < 0) continue;
    if (!enoughCapacity(node, own)) {
      r.allowed.set(name, -SCORE_INFINITY);
      contribute(r, name, 'utilization', 'insufficient capacity', -SCORE_INFINITY);
    }
  }
  return anyCapable ? undefined : mostCapable;
}

/** pe__current_node: the first node it runs on (the only one, normally). */
export function currentNode(r: WRsc): WNode | undefined {
  return r.runningOn[0];
}

function finalize(ctx: AssignCtx, r: WRsc, chosen: WNode | undefined, force: boolean): boolean {
  let c = chosen;
  if (!force && c) {
    const w = r.allowed.get(c.name) ?? -SCORE_INFINITY;
    if (w < 0 || !nodeAvailable(c)) {
      r.nextRole = R_STOPPED;
      c = undefined;
    }
  }
  r.provisional = false;
  r.allocatedTo = undefined;
  if (!c) {
    if (r.nextRole === R_UNKNOWN || r.nextRole > R_STOPPED) r.nextRole = R_STOPPED;
    return false;
  }
  r.allocatedTo = c;
  c.numResources++;
  for (const [k, v] of r.utilization) c.capacity.set(k, (c.capacity.get(k) ?? 0) - v);
  return true;
}

function assignBest(ctx: AssignCtx, r: WRsc, prefer0: WNode | undefined): boolean {
  const mostFree = banInsufficientCapacity(ctx, r);
  const prefer = prefer0 ?? mostFree;
  const nodes = sortedAllowed(ctx, r);
  const best = nodes[0];
  let chosen: WNode | undefined;
  if (prefer && best) {
    const pw = r.allowed.get(prefer.name);
    if (pw !== undefined && nodeWeight(r, prefer) >= nodeWeight(r, best) && nodeAvailable(prefer) && pw >= 0) chosen = prefer;
  }
  if (!chosen && best) {
    chosen = best;
    const parent = r.parent;
    const uniqueClone = parent !== undefined && parent.variant === 'clone' && parent.unique;
    if (!uniqueClone && nodeWeight(r, chosen) > 0 && nodeAvailable(chosen)) {
      const running = currentNode(r);
      if (running && nodeAvailable(running) && (r.allowed.get(running.name) ?? -1) >= 0) {
        for (const n of nodes.slice(1)) {
          if (nodeWeight(r, n) !== nodeWeight(r, chosen)) break;
          if (n === running) chosen = n;
        }
      }
    }
  }
  return finalize(ctx, r, chosen, false);
}

/**
 * pe__show_node_weights: `r`'s allowed-node scores as they stand now, then each child's own,
 * recursively; orphans (and everything under them) are not shown.
 */
export function recordScores(ctx: AssignCtx, fn: string, r: WRsc): void {
  if (r.orphan) return;
  ctx.scores.table(fn, r.id, r.allowed, r.contrib);
  for (const c of r.children) recordScores(ctx, fn, c);
}

function assignPrimitive(ctx: AssignCtx, r: WRsc, prefer: WNode | undefined): WNode | undefined {
  if (r.parent && !r.parent.allocating && r.parent.provisional) assign(ctx, r.parent, prefer);
  if (!r.provisional) return r.allocatedTo;
  if (r.allocating) return undefined;
  r.allocating = true;
  for (const c of [...r.thisWith]) {
    const before = copyMap(r.allowed);
    applyThisWith(ctx, r, c);
    contributeDiff(r, before, 'colocation', () => `${c.id} (with ${c.primary.id})`);
  }
  for (const c of [...r.withThis]) applyWithThis(ctx, r, c);
  if (r.nextRole === R_STOPPED) {
    for (const n of ctx.u.nodes) r.allowed.set(n.name, addScores(r.allowed.get(n.name) ?? 0, -SCORE_INFINITY));
  } else if (r.nextRole > r.role && !ctx.u.flags.haveQuorum && ctx.u.flags.noQuorumPolicy === 'freeze') {
    r.nextRole = r.role;
  }
  recordScores(ctx, 'pcmk__primitive_assign', r);
  r.finalScores = copyMap(r.allowed);
  if (ctx.u.flags.stonithEnabled && !ctx.u.flags.haveStonithResource) r.managed = false;
  if (!r.managed) {
    if (r.nextRole === R_UNKNOWN || true) r.nextRole = r.role;
    finalize(ctx, r, currentNode(r), true);
  } else if (ctx.u.flags.stopAll) {
    finalize(ctx, r, undefined, true);
  } else {
    assignBest(ctx, r, prefer);
  }
  r.allocating = false;
  if (r.isRemoteConnection) remoteConnectionAssigned(ctx, r);
  return r.allocatedTo;
}

export function anyAvailable(u: Unpacked, allowed: Map<string, number>): boolean {
  // forEach: no [name, score] pair allocated per entry (tables are a node count long).
  let any = false;
  allowed.forEach((w, name) => {
    if (any || w < 0) return;
    const n = u.nodeByName.get(name);
    if (n && nodeAvailable(n)) any = true;
  });
  return any;
}

function applyThisWith(ctx: AssignCtx, r: WRsc, c: WColocation): void {
  const archive = c.dependentRole >= R_PROMOTED || (c.score < 0 && c.score > -SCORE_INFINITY) ? copyMap(r.allowed) : undefined;
  assign(ctx, c.primary, undefined);
  applyColocScore(ctx, r, c.primary, c);
  if (archive && !anyAvailable(ctx.u, r.allowed)) {
    r.allowed.clear();
    for (const [k, v] of archive) r.allowed.set(k, v);
  }
}

/**
 * Merges the scores of a resource colocated with `r` into `r`'s (recording the change as a
 * contribution). addColocatedNodeScores leaves `r.allowed` alone and returns a new table, so the
 * change is told from the two tables, without copying `r.allowed` first.
 */
function applyWithThis(ctx: AssignCtx, r: WRsc, c: WColocation): void {
  if (!c.influence) return;
  const factor = c.score / SCORE_INFINITY;
  const merged = addColocatedNodeScores(ctx, c.dependent, r.allowed, c.nodeAttribute, factor, { active: true, thisWith: false, nonnegative: false });
  if (!merged) return;
  contributeChange(r, r.allowed, merged, 'colocation', () => `${c.id} (${c.dependent.id} with this)`);
  r.allowed.clear();
  merged.forEach((v, k) => r.allowed.set(k, v));
}

/** pcmk__add_colocated_node_scores: a new table, or undefined to keep `nodes` as they are. */
export function addColocatedNodeScores(
  ctx: AssignCtx,
  rsc: WRsc,
  nodes: Map<string, number>,
  attr: string | undefined,
  factor: number,
  flags: { active: boolean; thisWith: boolean; nonnegative: boolean },
): Map<string, number> | undefined {
  if (rsc.merging) return undefined;
  rsc.merging = true;
  let work: Map<string, number> | undefined;
  if (rsc.variant === 'group') {
    const member = rsc.children[0];
    if (!member) {
      rsc.merging = false;
      return undefined;
    }
    work = addColocatedNodeScores(ctx, member, copyMap(nodes), attr, factor, flags) ?? copyMap(nodes);
  } else {
    work = copyMap(nodes);
    addNodeScoresMatchingAttr(ctx, work, rsc, attr, factor, flags.nonnegative);
  }
  if (anyAvailable(ctx.u, work)) {
    const multiplier = factor < 0 ? -1 : 1;
    let list: WColocation[];
    if (flags.thisWith) list = rsc.thisWith;
    else if (rsc.variant === 'group') list = (rsc.children[rsc.children.length - 1] ?? rsc).withThis;
    else list = rsc.withThis;
    for (const c of [...list]) {
      let other: WRsc;
      if (flags.thisWith) other = c.primary;
      else if (!c.influence) continue;
      else other = c.dependent;
      const f = (multiplier * c.score) / SCORE_INFINITY;
      const m = addColocatedNodeScores(ctx, other, work, c.nodeAttribute, f, { ...flags, active: true });
      if (m) work = m;
    }
  } else if (flags.active) {
    rsc.merging = false;
    return undefined;
  }
  if (flags.nonnegative) for (const [k, v] of work) if (v === INFINITY_HACK) work.set(k, 1);
  rsc.merging = false;
  return work;
}

function addNodeScoresMatchingAttr(
  ctx: AssignCtx,
  nodes: Map<string, number>,
  rsc: WRsc,
  attr0: string | undefined,
  factor: number,
  onlyPositive: boolean,
): void {
  const attr = attr0 ?? '#uname';
  // best_node_score_matching_attr for every value at once: one pass over the resource's nodes.
  const bestByValue = new Map<string, number>();
  rsc.allowed.forEach((ow, oname) => {
    const on = ctx.u.nodeByName.get(oname);
    if (!on || !nodeAvailable(on)) return;
    const v = on.attrs.get(attr);
    if (v === undefined) return;
    const key = caseFold(v);
    const prev = bestByValue.get(key);
    if (prev === undefined ? ow > -SCORE_INFINITY : ow > prev) bestByValue.set(key, ow);
  });
  nodes.forEach((weight, name) => {
    const node = ctx.u.nodeByName.get(name);
    if (!node) return;
    const value = node.attrs.get(attr);
    const best = value === undefined ? -SCORE_INFINITY : (bestByValue.get(caseFold(value)) ?? -SCORE_INFINITY);
    if (factor < 0 && best < 0) return;
    if (weight === INFINITY_HACK) return;
    const wf = factor * best;
    let w = Math.trunc(wf < 0 ? wf - 0.5 : wf + 0.5);
    if (w === 0 && best !== 0) w = factor > 0 ? 1 : factor < 0 ? -1 : 0;
    const ns = addScores(w, weight);
    if (onlyPositive && ns < 0 && weight > 0) {
      nodes.set(name, INFINITY_HACK);
      return;
    }
    if (onlyPositive && ns < 0 && weight === 0) return;
    nodes.set(name, ns);
  });
}

const noUpperCase = /^[^A-Z\u0080-\uffff]*$/;

/** Attribute values compare case-insensitively; most are lower case already (no new string then). */
function caseFold(v: string): string {
  let folded = foldedValues.get(v);
  if (folded === undefined) {
    folded = noUpperCase.test(v) ? v : v.toLowerCase();
    // Node names and attribute values: a few dozen per cluster; the bound guards against odd input.
    if (foldedValues.size >= foldedValuesMax) foldedValues.clear();
    foldedValues.set(v, folded);
  }
  return folded;
}

/** caseFold's results: colocations fold every node's value once per resource they score. */
const foldedValues = new Map<string, string>();
const foldedValuesMax = 4096;

/** Dispatch on the primary's variant (pcmk__*_apply_coloc_score, for the dependent's sake). */
export function applyColocScore(ctx: AssignCtx, dependent: WRsc, primary: WRsc, c: WColocation): void {
  if (dependent.variant === 'group') {
    const colocated = dependent.meta.get('collocated') === undefined || dependent.meta.get('collocated') === 'true';
    if (colocated) {
      const first = dependent.children[0];
      if (first) applyColocScore(ctx, first, primary, c);
    } else if (c.score < SCORE_INFINITY) {
      for (const m of dependent.children) applyColocScore(ctx, m, primary, c);
    }
    return;
  }
  if (dependent.variant === 'clone') {
    for (const inst of dependent.children) applyColocScore(ctx, inst, primary, c);
    return;
  }
  if (primary.variant === 'group') {
    if (primary.provisional) return;
    const member = c.score >= SCORE_INFINITY ? primary.children[primary.children.length - 1] : primary.children[0];
    if (member) applyColocScore(ctx, dependent, member, c);
    return;
  }
  if (primary.variant === 'clone') {
    applyColocWithClone(ctx, dependent, primary, c);
    return;
  }
  if (primary.variant === 'bundle') {
    applyColocWithBundle(ctx, dependent, primary, c);
    return;
  }
  switch (colocationAffects(dependent, primary, c)) {
    case 'role':
      applyColocToPriority(dependent, primary, c);
      return;
    case 'location':
      applyColocToAllowed(ctx, dependent, primary, c);
      return;
    case 'nothing':
      return;
    default:
      return;
  }
}

/** pcmk__bundle_apply_coloc_score for a primitive dependent: the replicas' containers decide. */
function applyColocWithBundle(ctx: AssignCtx, dependent: WRsc, bundle: WRsc, c: WColocation): void {
  const b = ctx.u.bundles.get(bundle);
  if (!b || bundle.provisional) return;
  if (c.score >= SCORE_INFINITY) {
    const hosts = new Set(b.replicas.map((r) => r.container.allocatedTo?.name).filter((x): x is string => x !== undefined));
    for (const name of [...dependent.allowed.keys()]) if (!hosts.has(name)) dependent.allowed.set(name, -SCORE_INFINITY);
    return;
  }
  for (const rep of b.replicas) applyColocScore(ctx, dependent, rep.container, c);
}

/** pcmk__colocation_affects. */
export function colocationAffects(dependent: WRsc, primary: WRsc, c: WColocation): 'nothing' | 'role' | 'location' {
  if (primary.provisional) return 'nothing';
  if (c.dependentRole >= R_UNPROMOTED && dependent.parent?.promotable && !dependent.provisional) return 'role';
  if (!dependent.provisional) return 'nothing';
  return colocationAffectsLocation(dependent, primary, c) ? 'location' : 'nothing';
}

export function colocationAffectsLocation(dependent: WRsc, primary: WRsc, c: WColocation): boolean {
  if (c.score > 0 && c.dependentRole !== R_UNKNOWN && c.dependentRole !== dependent.nextRole) return false;
  if (c.score > 0 && c.primaryRole !== R_UNKNOWN && c.primaryRole !== primary.nextRole) return false;
  if (c.score < 0 && c.dependentRole !== R_UNKNOWN && c.dependentRole === dependent.nextRole) return false;
  if (c.score < 0 && c.primaryRole !== R_UNKNOWN && c.primaryRole === primary.nextRole) return false;
  return true;
}

export function applyColocToAllowed(ctx: AssignCtx, dependent: WRsc, primary: WRsc, c: WColocation): void {
  const attr = c.nodeAttribute ?? '#id';
  const pn = primary.allocatedTo;
  if (!pn && c.score < 0) return;
  const raw = pn?.attrs.get(attr);
  const value = raw === undefined ? undefined : caseFold(raw);
  const work = copyMap(dependent.allowed);
  work.forEach((w, name) => {
    const node = ctx.u.nodeByName.get(name);
    const nodeValue = node?.attrs.get(attr);
    if (!pn) work.set(name, addScores(-c.score, w));
    else if (value !== undefined && nodeValue !== undefined && caseFold(nodeValue) === value) {
      if (c.score < SCORE_INFINITY) work.set(name, addScores(c.score, w));
    } else if (c.score >= SCORE_INFINITY) work.set(name, addScores(-c.score, w));
  });
  if (c.score <= -SCORE_INFINITY || c.score >= SCORE_INFINITY || anyAvailable(ctx.u, work)) {
    work.forEach((v, k) => dependent.allowed.set(k, v));
  }
}

function assignGroup(ctx: AssignCtx, r: WRsc, prefer: WNode | undefined): WNode | undefined {
  if (!r.provisional) return r.allocatedTo;
  if (r.allocating) return undefined;
  if (r.children.length === 0) {
    r.provisional = false;
    return undefined;
  }
  r.allocating = true;
  const first = r.children[0] as WRsc;
  r.role = first.role;
  expandGroupColocations(r);
  recordScores(ctx, 'pcmk__group_assign', r);
  let firstNode: WNode | undefined;
  let firstSet = false;
  for (const m of r.children) {
    const n = assign(ctx, m, prefer);
    if (!firstSet) {
      firstNode = n;
      firstSet = true;
    }
  }
  r.nextRole = first.nextRole;
  r.allocating = false;
  r.provisional = false;
  r.allocatedTo = firstNode;
  return firstNode;
}

function expandGroupColocations(r: WRsc): void {
  const first = r.children[0];
  if (!first) return;
  for (const c of r.thisWith) insertThisWith(first, c);
  let anyUnmanaged = !first.managed;
  for (const m of r.children.slice(1)) {
    if (anyUnmanaged) {
      for (const c of r.thisWith) if (c.score === SCORE_INFINITY) insertThisWith(m, c);
    } else if (!m.managed) anyUnmanaged = true;
  }
  r.thisWith.length = 0;
  const last = r.children[r.children.length - 1] as WRsc;
  for (const c of r.withThis) addWithThis(last, c);
  r.withThis.length = 0;
}

function insertThisWith(r: WRsc, c: WColocation): void {
  addThisWith(r, c);
}

/** Internal group colocations: each member with the previous one, INFINITY. */
export function groupInternalColocations(u: Unpacked): WColocation[] {
  const out: WColocation[] = [];
  const visit = (r: WRsc): void => {
    if (r.variant === 'group') {
      const colocated = r.meta.get('collocated') === undefined || r.meta.get('collocated') === 'true';
      for (let i = 1; i < r.children.length && colocated; i++) {
        const d = r.children[i] as WRsc;
        const p = r.children[i - 1] as WRsc;
        const c: WColocation = {
          id: `${r.id}-internal`,
          dependent: d,
          primary: p,
          score: SCORE_INFINITY,
          dependentRole: R_UNKNOWN,
          primaryRole: R_UNKNOWN,
          nodeAttribute: undefined,
          influence: true,
        };
        d.thisWith.push(c);
        p.withThis.push(c);
        out.push(c);
      }
    }
    for (const c of r.children) visit(c);
  };
  for (const r of u.resources) visit(r);
  return out;
}

export { R_STARTED, R_UNPROMOTED };
