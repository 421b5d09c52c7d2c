/**
 * Clone and promotable-clone assignment (pcmk_sched_clone.c, pcmk_sched_promotable.c and the
 * instance comparison of pcmk_sched_resource.c): instances are sorted, kept where they run when
 * possible, spread over nodes within clone-node-max, and the best-scored ones promoted.
 */
import { addThisWith, addWithThis } from './constraints.js';
import { copyMap } from './util.js';
import { SCORE_INFINITY, addScores } from '@paceline/cib';
import type { AssignCtx } from './assign.js';
import { addColocatedNodeScores, anyAvailable, applyColocScore, applyColocToAllowed, assign, recordScores } from './assign.js';
import type { WColocation, WNode, WRsc } from './work.js';
import { R_PROMOTED, R_STARTED, R_STOPPED, R_UNKNOWN, R_UNPROMOTED, nodeAvailable, primitivesOf } from './work.js';

/** Per-clone node counters (Pacemaker reuses pe_node_t.count on the clone's allowed nodes). */
type Counts = Map<string, number>;

export function assignClone(ctx: AssignCtx, clone: WRsc, prefer: WNode | undefined): WNode | undefined {
  if (!clone.provisional || clone.allocating) return undefined;
  if (clone.promotable) addPromotionScores(ctx, clone);
  clone.allocating = true;
  for (const c of [...clone.thisWith]) assign(ctx, c.primary, prefer);
  for (const c of [...clone.withThis]) {
    if (!c.influence) continue;
    const merged = addColocatedNodeScores(ctx, c.dependent, clone.allowed, c.nodeAttribute, c.score / SCORE_INFINITY, {
      active: true,
      thisWith: false,
      nonnegative: true,
    });
    if (merged) replace(clone.allowed, merged);
  }
  recordScores(ctx, 'pcmk__clone_allocate', clone);
  clone.children.sort((a, b) => cmpInstance(ctx, clone, a, b));
  const counts: Counts = new Map();
  distribute(ctx, clone, clone.children, clone.cloneMax, clone.cloneNodeMax, counts);
  if (clone.promotable) setInstanceRoles(ctx, clone);
  clone.allocating = false;
  clone.provisional = false;
  return undefined;
}

function replace(into: Map<string, number>, from: Map<string, number>): void {
  into.clear();
  for (const [k, v] of from) into.set(k, v);
}

/** Nodes an instance (primitive or cloned group) is active on. */
function activeNodes(inst: WRsc): WNode[] {
  if (inst.variant === 'primitive') return inst.runningOn;
  const out: WNode[] = [];
  for (const p of primitivesOf(inst)) for (const n of p.runningOn) if (!out.includes(n)) out.push(n);
  return out;
}

function instanceFailed(inst: WRsc): boolean {
  return inst.failed || inst.children.some(instanceFailed);
}

function instanceNumber(inst: WRsc): number {
  const m = /[:-]([0-9]+)$/.exec(inst.id);
  return m ? Number(m[1]) : 0;
}

/** pcmk__cmp_instance: the order in which instances are assigned (and later listed). */
function cmpInstance(ctx: AssignCtx, clone: WRsc, a: WRsc, b: WRsc): number {
  const na = activeNodes(a);
  const nb = activeNodes(b);
  if (na.length > 0 && nb.length > 0 && na.length !== nb.length) return na.length < nb.length ? -1 : 1;
  const n1 = na[0];
  const n2 = nb[0];
  const allowed = (r: WRsc, n: WNode | undefined): boolean => n === undefined || (r.allowed.get(n.name) ?? -1) >= 0;
  const can1 = allowed(a, n1);
  const can2 = allowed(b, n2);
  if (can1 !== can2) return can1 ? -1 : 1;
  if (a.promotionPriority !== b.promotionPriority) return a.promotionPriority > b.promotionPriority ? -1 : 1;
  if (!n1 && !n2) return 0;
  if (!n1) return 1;
  if (!n2) return -1;
  const av1 = nodeAvailable(n1);
  const av2 = nodeAvailable(n2);
  if (av1 !== av2) return av1 ? -1 : 1;
  const t1 = clone.allowed.has(n1.name);
  const t2 = clone.allowed.has(n2.name);
  if (!t1 && !t2) return 0;
  if (!t1) return 1;
  if (!t2) return -1;
  const f1 = instanceFailed(a);
  const f2 = instanceFailed(b);
  if (f1 !== f2) return f1 ? 1 : -1;
  const c = cmpByColocation(ctx, clone, a, n1, b, n2);
  if (c !== 0) return c;
  return instanceNumber(a) - instanceNumber(b);
}

/** cmp_instance_by_colocation: the parent's colocations scored on each instance's current node. */
function cmpByColocation(ctx: AssignCtx, clone: WRsc, a: WRsc, n1: WNode, b: WRsc, n2: WNode): number {
  if (clone.thisWith.length === 0 && clone.withThis.length === 0) return 0;
  const score = (n: WNode): number => {
    let t = new Map<string, number>([[n.name, 0]]);
    for (const c of clone.thisWith) {
      const m = addColocatedNodeScores(ctx, c.primary, t, c.nodeAttribute, c.score / SCORE_INFINITY, { active: false, thisWith: false, nonnegative: false });
      if (m) t = m;
    }
    for (const c of clone.withThis) {
      if (!c.influence) continue;
      const m = addColocatedNodeScores(ctx, c.dependent, t, c.nodeAttribute, c.score / SCORE_INFINITY, { active: false, thisWith: false, nonnegative: true });
      if (m) t = m;
    }
    return t.get(n.name) ?? 0;
  };
  const s1 = score(n1);
  const s2 = score(n2);
  return s1 < s2 ? 1 : s1 > s2 ? -1 : 0;
}

function availableCount(ctx: AssignCtx, clone: WRsc): number {
  let n = 0;
  for (const name of clone.allowed.keys()) {
    const node = ctx.u.nodeByName.get(name);
    if (node && nodeAvailable(node)) n++;
  }
  return n;
}

/** distribute_children: keep instances where they run when possible, then place the rest. */
export function distribute(ctx: AssignCtx, clone: WRsc, children: readonly WRsc[], max: number, perHost: number, counts: Counts = new Map()): void {
  const available = availableCount(ctx, clone);
  const allColoc = max < available;
  const loopMax = Math.max(1, available > 0 ? Math.floor(max / available) : 1);
  let allocated = 0;
  for (const child of children) {
    if (allocated >= max) break;
    const cur = activeNodes(child)[0];
    if (!cur || !child.provisional || child.failed) continue;
    if (!nodeAvailable(cur)) continue;
    if (clone.allowed.has(cur.name) && (counts.get(cur.name) ?? 0) >= loopMax) continue;
    if (allocateInstance(ctx, clone, child, cur, allColoc, perHost, counts)) allocated++;
  }
  for (const child of children) {
    if (!child.provisional) continue;
    if (allocated >= max) {
      banAll(ctx, child);
      continue;
    }
    if (allocateInstance(ctx, clone, child, undefined, allColoc, perHost, counts)) allocated++;
  }
  // Instances that were never placed end up stopped.
  for (const child of children) if (child.provisional) assign(ctx, child, undefined);
}

/** pcmk__bundle_allocate: containers like clone instances, then each replica's IP, connection and instance. */
export function assignBundle(ctx: AssignCtx, bundle: WRsc): WNode | undefined {
  const b = ctx.u.bundles.get(bundle);
  if (!b || !bundle.provisional || bundle.allocating) return undefined;
  bundle.allocating = true;
  recordScores(ctx, 'pcmk__bundle_allocate', bundle);
  const containers = b.replicas.map((r) => r.container);
  containers.sort((x, y) => cmpInstance(ctx, bundle, x, y));
  distribute(ctx, bundle, containers, b.layout.replicas, b.layout.replicasPerHost);
  for (const rep of b.replicas) {
    if (rep.ip) assign(ctx, rep.ip, undefined);
    if (rep.remote) assign(ctx, rep.remote, undefined);
    if (rep.child && rep.node) {
      for (const name of [...rep.child.allowed.keys()]) {
        if (name !== rep.node.name) rep.child.allowed.set(name, -SCORE_INFINITY);
        else rep.child.allowed.set(name, SCORE_INFINITY);
      }
      const clone = b.clone;
      if (clone) clone.allocating = true;
      assign(ctx, rep.child, rep.node);
      if (clone) clone.allocating = false;
    }
  }
  if (b.clone) {
    const guests = new Set(b.replicas.map((r) => r.node?.name));
    for (const name of [...b.clone.allowed.keys()]) b.clone.allowed.set(name, guests.has(name) ? 0 : -SCORE_INFINITY);
    assignClone(ctx, b.clone, undefined);
  }
  bundle.allocating = false;
  bundle.provisional = false;
  return undefined;
}

function banAll(ctx: AssignCtx, r: WRsc): void {
  for (const n of ctx.u.nodes) r.allowed.set(n.name, -SCORE_INFINITY);
  for (const c of r.children) banAll(ctx, c);
}

/** common_update_score: set a node's score on the instance and all its children. */
function setScore(r: WRsc, node: string, score: number): void {
  if (r.allowed.has(node)) r.allowed.set(node, score);
  for (const c of r.children) setScore(c, node, score);
}

function appendParentColocations(clone: WRsc, child: WRsc, all: boolean): void {
  for (const c of clone.thisWith) if (all || c.score < 0 || c.score === SCORE_INFINITY) addThisWith(child, c);
  for (const c of clone.withThis) {
    if (!c.influence) continue;
    if (all || c.score < 0) addWithThis(child, c);
  }
}

function canRunInstance(ctx: AssignCtx, clone: WRsc, inst: WRsc, limit: number, counts: Counts): void {
  for (const name of [...inst.allowed.keys()]) {
    const node = ctx.u.nodeByName.get(name);
    if (!node || !nodeAvailable(node) || inst.orphan) {
      setScore(inst, name, -SCORE_INFINITY);
      continue;
    }
    const local = clone.allowed.get(name);
    if (local === undefined) setScore(inst, name, -SCORE_INFINITY);
    else if (local < 0) setScore(inst, name, local);
    else if ((counts.get(name) ?? 0) >= limit) setScore(inst, name, -SCORE_INFINITY);
  }
}

function instanceLocation(inst: WRsc): WNode | undefined {
  if (inst.variant === 'primitive') return inst.allocatedTo;
  return inst.allocatedTo ?? inst.children[0]?.allocatedTo;
}

function snapshot(r: WRsc): Map<WRsc, Map<string, number>> {
  const m = new Map<WRsc, Map<string, number>>();
  const v = (x: WRsc): void => {
    m.set(x, copyMap(x.allowed));
    for (const c of x.children) v(c);
  };
  v(r);
  return m;
}

/** pcmk__unassign_resource: the node gets back its resource count and the capacity used. */
function unassign(r: WRsc): void {
  const old = r.allocatedTo;
  if (old && r.variant === 'primitive') {
    old.numResources--;
    for (const [k, v] of r.utilization) old.capacity.set(k, (old.capacity.get(k) ?? 0) + v);
  }
  r.allocatedTo = undefined;
  r.provisional = true;
  if (r.variant === 'primitive' && r.nextRole === R_STOPPED && r.targetRole !== R_STOPPED) r.nextRole = R_UNKNOWN;
  for (const c of r.children) unassign(c);
}

function allocateInstance(
  ctx: AssignCtx,
  clone: WRsc,
  inst: WRsc,
  prefer: WNode | undefined,
  allColoc: boolean,
  limit: number,
  counts: Counts,
): WNode | undefined {
  if (!inst.provisional) return instanceLocation(inst);
  if (inst.allocating) return undefined;
  appendParentColocations(clone, inst, allColoc);
  if (prefer) {
    const lp = inst.allowed.get(prefer.name);
    if (lp === undefined || lp < 0) return undefined;
  }
  canRunInstance(ctx, clone, inst, limit, counts);
  const backup = snapshot(inst);
  assign(ctx, inst, prefer);
  let chosen = instanceLocation(inst);
  if (chosen && prefer && chosen !== prefer) {
    for (const [r, m] of backup) replace(r.allowed, m);
    unassign(inst);
    chosen = undefined;
  }
  if (chosen && clone.allowed.has(chosen.name)) counts.set(chosen.name, (counts.get(chosen.name) ?? 0) + 1);
  return chosen;
}

// ---------------------------------------------------------------------------------------------
// Colocation with a clone as the primary
// ---------------------------------------------------------------------------------------------

/** pcmk__clone_apply_coloc_score for a primitive dependent. */
export function applyColocWithClone(ctx: AssignCtx, dependent: WRsc, clone: WRsc, c: WColocation): void {
  if (clone.promotable) {
    if (clone.provisional) return;
    if (c.primaryRole !== R_UNKNOWN) {
      if (dependent.provisional) return updateDependentWithPromotable(ctx, clone, dependent, c);
      if (c.dependentRole === R_PROMOTED) return updatePromotableDependentPriority(ctx, clone, dependent, c);
    }
  }
  const interleave = c.dependent.variant === 'clone' && c.dependent.interleave;
  if (clone.provisional) return;
  if (interleave) {
    const inst = findCompatibleChild(ctx, dependent, clone, R_UNKNOWN);
    if (inst) applyColocScore(ctx, dependent, inst, c);
    else if (c.score >= SCORE_INFINITY) {
      for (const n of ctx.u.nodes) dependent.allowed.set(n.name, -SCORE_INFINITY);
    }
    return;
  }
  if (c.score >= SCORE_INFINITY) {
    const hosts = new Set<string>();
    for (const inst of clone.children) {
      const n = instanceLocation(inst);
      if (n && !blockedDeep(inst)) hosts.add(n.name);
    }
    for (const name of dependent.allowed.keys()) if (!hosts.has(name)) dependent.allowed.set(name, -SCORE_INFINITY);
    excludeMissing(dependent, hosts);
    return;
  }
  for (const inst of clone.children) applyColocScore(ctx, dependent, inst, c);
}

function blockedDeep(r: WRsc): boolean {
  return r.blocked || r.children.some(blockedDeep);
}

function instanceNextRole(inst: WRsc): number {
  if (inst.variant === 'primitive') return inst.nextRole;
  let m = 0;
  for (const c of inst.children) m = Math.max(m, instanceNextRole(c));
  return m;
}

function findCompatibleChild(ctx: AssignCtx, local: WRsc, clone: WRsc, filter: number): WRsc | undefined {
  const byNode = (node: WNode): WRsc | undefined =>
    clone.children.find((ch) => {
      if (filter !== R_UNKNOWN && instanceNextRole(ch) !== filter) return false;
      return !blockedDeep(ch) && instanceLocation(ch) === node;
    });
  const ln = instanceLocation(local);
  if (ln) return byNode(ln);
  const nodes = [...local.allowed.entries()]
    .map(([n, w]) => ({ node: ctx.u.nodeByName.get(n), w }))
    .filter((x): x is { node: WNode; w: number } => x.node !== undefined)
    .sort((a, b) => {
      const wa = nodeAvailable(a.node) ? a.w : -SCORE_INFINITY;
      const wb = nodeAvailable(b.node) ? b.w : -SCORE_INFINITY;
      if (wa !== wb) return wa > wb ? -1 : 1;
      if (a.node.numResources !== b.node.numResources) return a.node.numResources - b.node.numResources;
      return a.node.name < b.node.name ? -1 : 1;
    });
  for (const { node } of nodes) {
    const f = byNode(node);
    if (f) return f;
  }
  return undefined;
}

function updateDependentWithPromotable(ctx: AssignCtx, clone: WRsc, dependent: WRsc, c: WColocation): void {
  const affected = new Map<string, number>();
  for (const inst of clone.children) {
    const node = instanceLocation(inst);
    if (!node) continue;
    if (instanceNextRole(inst) === c.primaryRole) {
      if (c.score < SCORE_INFINITY) {
        const attr = c.nodeAttribute ?? '#uname';
        const pv = node.attrs.get(attr);
        for (const [name, w] of dependent.allowed) {
          const dv = ctx.u.nodeByName.get(name)?.attrs.get(attr);
          if (pv !== undefined && dv?.toLowerCase() === pv.toLowerCase()) dependent.allowed.set(name, addScores(w, c.score));
        }
      }
      affected.set(node.name, primitivesOf(inst)[0]?.allowed.get(node.name) ?? 0);
    }
  }
  if (c.score >= SCORE_INFINITY && (c.dependentRole !== R_PROMOTED || c.primaryRole !== R_PROMOTED)) {
    for (const [name, w] of dependent.allowed) {
      const other = affected.get(name);
      if (other === undefined) dependent.allowed.set(name, -SCORE_INFINITY);
      else dependent.allowed.set(name, addScores(w, other));
    }
    excludeMissing(dependent, affected.keys());
  }
}

/** node_list_exclude's second half: nodes of the list the dependent has no score for get -INFINITY. */
function excludeMissing(dependent: WRsc, nodes: Iterable<string>): void {
  for (const name of nodes) if (!dependent.allowed.has(name)) dependent.allowed.set(name, -SCORE_INFINITY);
}

function updatePromotableDependentPriority(ctx: AssignCtx, clone: WRsc, dependent: WRsc, c: WColocation): void {
  const inst = findCompatibleChild(ctx, dependent, clone, c.primaryRole);
  if (inst) dependent.promotionPriority = addScores(dependent.promotionPriority, c.score);
  else if (c.score >= SCORE_INFINITY) dependent.promotionPriority = -SCORE_INFINITY;
}

/** pcmk__apply_coloc_to_priority: a role colocation adjusts the dependent instance's priority. */
export function applyColocToPriority(dependent: WRsc, primary: WRsc, c: WColocation): void {
  const dn = dependent.allocatedTo;
  const pn = primary.allocatedTo;
  if (!dn || !pn) return;
  const attr = c.nodeAttribute ?? '#id';
  const dv = dn.attrs.get(attr);
  const pv = pn.attrs.get(attr);
  if (dv?.toLowerCase() !== pv?.toLowerCase()) {
    if (c.score === SCORE_INFINITY && c.dependentRole === R_PROMOTED) dependent.promotionPriority = -SCORE_INFINITY;
    return;
  }
  if (c.primaryRole !== R_UNKNOWN && c.primaryRole !== primary.nextRole) return;
  const mult = c.dependentRole === R_UNPROMOTED ? -1 : 1;
  dependent.promotionPriority = addScores(mult * c.score, dependent.promotionPriority);
}

// ---------------------------------------------------------------------------------------------
// Promotion
// ---------------------------------------------------------------------------------------------

function baseId(id: string): string {
  return id.replace(/:[0-9]+$/, '');
}

function findActiveAnonInstance(clone: WRsc, id: string, node: WNode): WRsc | undefined {
  for (const inst of clone.children) {
    for (const p of primitivesOf(inst)) if (baseId(p.id) === id && p.runningOn.includes(node)) return p;
  }
  return undefined;
}

function anonymousKnownOn(clone: WRsc, id: string, node: WNode): boolean {
  for (const inst of clone.children) {
    for (const p of primitivesOf(inst)) if (baseId(p.id) === id && p.knownOn.has(node.name)) return true;
  }
  return false;
}

function promotionScoreApplies(clone: WRsc, r: WRsc, node: WNode): boolean {
  const id = baseId(r.id);
  let ok = false;
  if (!r.unique) {
    const active = findActiveAnonInstance(clone, id, node);
    if (active === r) ok = true;
    else if (!active && anonymousKnownOn(clone, id, node)) ok = true;
  }
  if (!ok) {
    if (r.runningOn.length === 0 && r.knownOn.size === 0) ok = true;
    else if (r.knownOn.has(node.name) || r.runningOn.includes(node)) ok = true;
    else return false;
  }
  return (r.allowed.get(node.name) ?? -1) >= 0;
}

/**
 * promotion_score: the promotion score of `r` on `node`, `dflt` when no attribute applies. A cloned
 * group's is the sum of the scores its members have (matches the corpus: a member without one adds
 * nothing), `dflt` when none has one.
 */
function promotionScore(clone: WRsc, r: WRsc, node: WNode, dflt: number): number {
  return ownPromotionScore(clone, r, node) ?? dflt;
}

function ownPromotionScore(clone: WRsc, r: WRsc, node: WNode): number | undefined {
  if (r.children.length > 0) {
    let total: number | undefined;
    for (const c of r.children) {
      const s = ownPromotionScore(clone, c, node);
      if (s !== undefined) total = (total ?? 0) + s;
    }
    return total;
  }
  if (!promotionScoreApplies(clone, r, node)) return undefined;
  // pe_node_attribute_calculated: with container-attribute-target=host, a guest's attributes are
  // read from the node hosting its container.
  let attrs: ReadonlyMap<string, string> | undefined = node.attrs;
  if ((r.meta.get('container-attribute-target') ?? '').toLowerCase() === 'host' && node.kind === 'guest') {
    attrs = node.connection?.container?.runningOn[0]?.attrs;
  }
  const name = r.cloneName ?? r.id;
  let v = attrs?.get(`master-${name}`);
  if (v === undefined && !r.unique) {
    const b = baseId(r.id);
    if (b !== r.id) v = attrs?.get(`master-${b}`);
  }
  if (v === undefined) return undefined;
  return parseScoreText(v);
}

function parseScoreText(v: string): number {
  if (v === 'INFINITY' || v === '+INFINITY') return SCORE_INFINITY;
  if (v === '-INFINITY') return -SCORE_INFINITY;
  const n = Number.parseInt(v, 10);
  if (Number.isNaN(n)) return 0;
  return Math.max(-SCORE_INFINITY, Math.min(SCORE_INFINITY, n));
}

function addPromotionScores(ctx: AssignCtx, clone: WRsc): void {
  for (const inst of clone.children) {
    for (const [name, w] of inst.allowed) {
      const node = ctx.u.nodeByName.get(name);
      if (!node || !nodeAvailable(node)) continue;
      const score = promotionScore(clone, inst, node, 0);
      if (score > 0) {
        const ns = addScores(w, score);
        if (ns !== w) inst.allowed.set(name, ns);
      }
      if (score > inst.promotionPriority) inst.promotionPriority = score;
    }
  }
}

interface InstanceRank {
  sortIndex: number;
}

function instanceCurrentRole(inst: WRsc): number {
  if (inst.variant === 'primitive') return inst.role;
  let m = 0;
  for (const c of inst.children) m = Math.max(m, instanceCurrentRole(c));
  return m;
}

function setRoleDeep(r: WRsc, role: number, onlyUnknown: boolean): void {
  if (!onlyUnknown || r.nextRole === R_UNKNOWN) r.nextRole = role as WRsc['nextRole'];
  for (const c of r.children) setRoleDeep(c, role, onlyUnknown);
}

function setUnpromotedCurrent(r: WRsc): void {
  if (r.role === R_STARTED) r.role = R_UNPROMOTED;
  for (const c of r.children) setUnpromotedCurrent(c);
}

function setInstanceRoles(ctx: AssignCtx, clone: WRsc): void {
  const rank = new Map<WRsc, InstanceRank>();
  for (const inst of clone.children) rank.set(inst, { sortIndex: setInstancePriority(ctx, clone, inst) });
  sortPromotable(ctx, clone, rank);
  const promotedOn: Counts = new Map();
  let promoted = 0;
  for (const inst of clone.children) {
    const r = rank.get(inst) as InstanceRank;
    // The "promotion score" line crm_simulate -s prints for every instance, placed or not.
    ctx.scores.line('promotion', inst.id, instanceLocation(inst)?.name ?? 'none', r.sortIndex);
    let chosen: WNode | undefined;
    if (r.sortIndex >= 0 && (promoted < clone.promotedMax || !clone.managed)) chosen = nodeToBePromotedOn(ctx, clone, inst, promotedOn);
    if (!chosen) {
      const loc = instanceLocation(inst);
      setRoleDeep(inst, loc ? R_UNPROMOTED : R_STOPPED, false);
      continue;
    }
    // Without quorum, no-quorum-policy=demote keeps every instance unpromoted (effective_quorum_policy).
    if (!ctx.u.flags.haveQuorum && ctx.u.flags.noQuorumPolicy === 'demote') {
      setRoleDeep(inst, R_UNPROMOTED, false);
      continue;
    }
    if (instanceCurrentRole(inst) < R_PROMOTED && !ctx.u.flags.haveQuorum && ctx.u.flags.noQuorumPolicy === 'freeze') {
      setRoleDeep(inst, R_UNPROMOTED, false);
      continue;
    }
    promotedOn.set(chosen.name, (promotedOn.get(chosen.name) ?? 0) + 1);
    setRoleDeep(inst, R_PROMOTED, true);
    promoted++;
  }
}

/** set_instance_priority; returns the instance's initial sort index. */
function setInstancePriority(ctx: AssignCtx, clone: WRsc, inst: WRsc): number {
  if (instanceCurrentRole(inst) === R_STARTED) setUnpromotedCurrent(inst);
  const chosen = instanceLocation(inst);
  // An instance that will not be active keeps the sort index it had (0: never set before).
  if (!chosen) return 0;
  const next = inst.variant === 'primitive' ? inst.nextRole : instanceNextRole(inst);
  if (next === R_STARTED || next === R_UNKNOWN) {
    inst.promotionPriority = promotionScore(clone, inst, chosen, -1);
  } else if (next === R_UNPROMOTED || next === R_STOPPED) {
    inst.promotionPriority = -SCORE_INFINITY;
  }
  const locs = ctx.promotedLocations;
  for (const id of [inst.id, clone.id]) {
    const w = locs?.get(id)?.get(chosen.name);
    if (w !== undefined) inst.promotionPriority = addScores(inst.promotionPriority, w);
  }
  const targets = inst.variant === 'group' ? [inst.children[0]].filter((x): x is WRsc => x !== undefined) : [inst];
  for (const t of targets) {
    for (const c of t.thisWith) {
      applyRoleColocation(ctx, t, c.primary, c);
      if (t !== inst) inst.promotionPriority = t.promotionPriority;
    }
  }
  return next === R_PROMOTED ? SCORE_INFINITY : inst.promotionPriority;
}

/** apply_coloc_score for an already placed instance of a promotable clone: role colocations. */
function applyRoleColocation(ctx: AssignCtx, dependent: WRsc, primary: WRsc, c: WColocation): void {
  if (c.dependentRole < R_UNPROMOTED) return;
  if (primary.variant === 'clone') {
    if (primary.provisional) return;
    if (primary.promotable && c.primaryRole !== R_UNKNOWN) {
      if (c.dependentRole === R_PROMOTED) updatePromotableDependentPriority(ctx, primary, dependent, c);
      return;
    }
    for (const inst of primary.children) applyRoleColocation(ctx, dependent, inst, c);
    return;
  }
  if (primary.variant === 'group') {
    const m = c.score >= SCORE_INFINITY ? primary.children[primary.children.length - 1] : primary.children[0];
    if (m) applyRoleColocation(ctx, dependent, m, c);
    return;
  }
  if (primary.provisional) return;
  applyColocToPriority(dependent, primary, c);
}

function sortPromotable(ctx: AssignCtx, clone: WRsc, rank: Map<WRsc, InstanceRank>): void {
  const weights = copyMap(clone.allowed);
  for (const inst of clone.children) {
    const r = rank.get(inst) as InstanceRank;
    if (r.sortIndex < 0) continue;
    const n = instanceLocation(inst);
    if (!n) continue;
    weights.set(n.name, addScores(r.sortIndex, weights.get(n.name) ?? 0));
  }
  let work = weights;
  for (const c of clone.thisWith) {
    if (c.dependentRole !== R_PROMOTED) continue;
    const m = addColocatedNodeScores(ctx, c.primary, work, c.nodeAttribute, c.score / SCORE_INFINITY, {
      active: c.score < SCORE_INFINITY,
      thisWith: false,
      nonnegative: false,
    });
    if (m) work = m;
  }
  for (const c of clone.withThis) {
    if (c.primaryRole !== R_PROMOTED || !c.influence) continue;
    const m = addColocatedNodeScores(ctx, c.dependent, work, c.nodeAttribute, c.score / SCORE_INFINITY, {
      active: true,
      thisWith: false,
      nonnegative: true,
    });
    if (m) work = m;
  }
  if (ctx.noPromotion?.has(clone)) for (const k of work.keys()) work.set(k, -SCORE_INFINITY);
  for (const inst of clone.children) {
    const r = rank.get(inst) as InstanceRank;
    const n = instanceLocation(inst);
    if (!inst.managed && instanceNextRole(inst) === R_PROMOTED) r.sortIndex = SCORE_INFINITY;
    else if (!n || r.sortIndex < 0) continue;
    else r.sortIndex = work.get(n.name) ?? 0;
  }
  clone.children.sort((a, b) => {
    const ra = (rank.get(a) as InstanceRank).sortIndex;
    const rb = (rank.get(b) as InstanceRank).sortIndex;
    if (ra !== rb) return ra > rb ? -1 : 1;
    const ca = instanceCurrentRole(a);
    const cb = instanceCurrentRole(b);
    if (ca !== cb) return ca > cb ? -1 : 1;
    return cmpInstance(ctx, clone, a, b);
  });
  void anyAvailable;
  void applyColocToAllowed;
}

function nodeToBePromotedOn(ctx: AssignCtx, clone: WRsc, inst: WRsc, promotedOn: Counts): WNode | undefined {
  for (const c of inst.children) if (!nodeToBePromotedOn(ctx, clone, c, new Map())) return undefined;
  const node = instanceLocation(inst);
  if (!node) return undefined;
  if (!inst.managed) {
    if (instanceCurrentRole(inst) !== R_PROMOTED) return undefined;
  } else if (inst.promotionPriority < 0) return undefined;
  else if (!nodeAvailable(node)) return undefined;
  if (!clone.allowed.has(node.name)) return undefined;
  if ((promotedOn.get(node.name) ?? 0) >= clone.promotedNodeMax && inst.managed) return undefined;
  return node;
}
