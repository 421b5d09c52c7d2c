/**
 * Phases 5-7: actions (start/stop/promote/demote per primitive), fencing, and ordering
 * propagation (mandatory orders make dependent starts unrunnable or required, restarts cascade),
 * then the Transition Summary lines as Pacemaker's rsc_action_default prints them.
 *
 * The flag model is per primitive: what the summary needs. The transition graph built from it
 * (probes, monitors, pseudo-actions, notifications, ordering inputs) is in `graph-actions.ts`.
 */
import type { ConfigChange } from './config-changes.js';
import type { Constraints, WOrder } from './constraints.js';
import type { Action, ChangeKind, Role, SummaryLine } from './types.js';
import type { Unpacked } from './unpack.js';
import { fenceNode } from './unpack.js';
import { blockStartsBehindPendingProbes, buildGraphActions, type PrimOrder } from './graph-actions.js';
import type { WNode, WRsc } from './work.js';
import { R_PROMOTED, R_STARTED, R_STOPPED, R_UNKNOWN, R_UNPROMOTED, nodeAvailable, primitivesOf, roleName, topNoBundle, topParent } from './work.js';
import { SCORE_INFINITY } from '@paceline/cib';

/** What the action phase decided for one primitive. */
export interface PrimPlan {
  readonly rsc: WRsc;
  current: WNode | undefined;
  next: WNode | undefined;
  moving: boolean;
  hasStart: boolean;
  startRequired: boolean;
  startRunnable: boolean;
  startReason: string | undefined;
  stopRequired: boolean;
  stopRunnable: boolean;
  stopReason: string | undefined;
  promoteRequired: boolean;
  demoteRequired: boolean;
  /** The promote cannot run; with the reason ("colocation with X"). */
  promoteBlocked: string | undefined;
  /** Unrunnable start already propagated to colocation dependents. */
  blockedDependents: boolean;
  /** A reload-agent is scheduled (cancelled when the stop becomes required). */
  reload: boolean;
  /** The move is done by live migration (migrate_to/migrate_from). */
  migrate: boolean;
  /** Why a move is a stop and start rather than a migration ("unrunnable A stop"). */
  moveReason: string | undefined;
  /** A partial migration (migrate_to done) continues with migrate_from on the same target. */
  partialContinues: boolean;
  /** Migration is ruled out for this transition (a partial migration that cannot continue). */
  migrationBlocked: boolean;
  /**
   * multiple-active=stop_unexpected on a multiply active resource: it is stopped only where it is not
   * expected, and its start where it stays is a pseudo-action.
   */
  stopUnexpected: boolean;
}

export interface Fencing {
  readonly node: WNode;
  readonly action: string;
  readonly reason: string;
  /** For a guest node: the resource whose recovery fences it. */
  readonly resource: string | undefined;
}

function canFence(u: Unpacked, node: WNode): boolean {
  if (node.kind === 'guest') {
    // Fenced by stopping the container: possible if its host is up or itself fenceable.
    const hosts = node.connection?.container?.runningOn ?? [];
    return hosts.every((h) => h.online || canFence(u, h));
  }
  if (!u.flags.stonithEnabled || !u.flags.haveStonithResource) return false;
  if (u.flags.haveQuorum || u.flags.noQuorumPolicy === 'ignore') return true;
  return node.online;
}

function anyManaged(u: Unpacked): boolean {
  const m = (r: WRsc): boolean => r.managed || r.children.some(m);
  return u.resources.some(m);
}

/**
 * Fencing of unclean nodes. Pacemaker creates a fence action when a node is first found unclean
 * (during unpack, in status order) or, for nodes never seen, here; its action list is built by
 * prepending, so the summary lists fencing in reverse order of creation.
 */
/**
 * apply_remote_ordering for stops: a resource that must stop on a remote node whose connection
 * cannot be recovered can only be stopped by fencing that node.
 */
export function remoteConnectionFencing(u: Unpacked): void {
  for (const n of u.nodes) {
    if (n.kind !== 'remote' || !n.connection) continue;
    const c = n.connection;
    if (c.nextRole !== R_STOPPED && c.allocatedTo) continue;
    const host = c.runningOn[0];
    const failed = (host !== undefined && host.unclean) || c.failed;
    if (!failed) continue;
    const stopping = [...u.byId.values()].some((r) => r.variant === 'primitive' && r.managed && r.runningOn.includes(n) && r.allocatedTo !== n);
    if (stopping) fenceNode(u, n, 'resources are active but connection is unrecoverable');
  }
}

export function scheduleFencing(u: Unpacked): Fencing[] {
  const haveManaged = anyManaged(u);
  const created: string[] = [...u.fenceRequests.keys()];
  const reasons = new Map(u.fenceRequests);
  const wanted = new Set<string>();
  const guests = new Map<string, Fencing>();
  for (const n of u.nodes) {
    if (n.kind === 'guest') {
      // Guests are "fenced" by recovering their container (pcmk__fence_guest).
      const container = n.connection?.container;
      if (n.remoteRequiresReset && haveManaged && container && canFence(u, n)) {
        const action = container.allocatedTo ? 'reboot' : 'off';
        guests.set(n.name, { node: n, action, reason: 'guest is unclean', resource: container.id });
        created.push(n.name);
      }
      continue;
    }
    if (n.kind !== 'member' && n.kind !== 'remote') continue;
    if (haveManaged && n.unclean && canFence(u, n)) {
      wanted.add(n.name);
      if (!reasons.has(n.name)) {
        reasons.set(n.name, 'node is unclean');
        created.push(n.name);
      }
    }
  }
  const out: Fencing[] = [];
  for (const name of created.reverse()) {
    const guest = guests.get(name);
    if (guest) {
      out.push(guest);
      continue;
    }
    const node = u.nodeByName.get(name);
    if (!node || !wanted.has(name)) continue;
    out.push({ node, action: u.flags.stonithAction, reason: reasons.get(name) ?? 'node is unclean', resource: undefined });
  }
  return out;
}

function quorumBlocks(u: Unpacked, r: WRsc): string | undefined {
  if (u.flags.haveQuorum || !r.needsQuorum) return undefined;
  switch (u.flags.noQuorumPolicy) {
    case 'stop':
    case 'suicide':
      return 'no quorum';
    case 'freeze':
      return r.runningOn.length === 0 || r.nextRole > r.role ? 'quorum freeze' : undefined;
    case 'demote':
      return r.role === R_PROMOTED || r.role === R_UNPROMOTED ? undefined : 'no quorum';
    case 'ignore':
      return undefined;
    default:
      return undefined;
  }
}

export function planPrimitives(u: Unpacked, fenced: ReadonlySet<string>, changes: ReadonlyMap<WRsc, ConfigChange>): Map<WRsc, PrimPlan> {
  const plans = new Map<WRsc, PrimPlan>();
  for (const top of u.resources) {
    for (const r of primitivesOf(top)) plans.set(r, planOne(u, r, fenced, changes.get(r)));
  }
  return plans;
}

function planOne(u: Unpacked, r: WRsc, fenced: ReadonlySet<string>, change: ConfigChange | undefined): PrimPlan {
  if (r.nextRole === R_UNKNOWN) r.nextRole = r.allocatedTo ? (topNoBundle(r).promotable ? R_UNPROMOTED : R_STARTED) : R_STOPPED;
  const current = activeOn(r);
  const next = r.allocatedTo;
  const moving = !!current && !!next && current !== next && r.nextRole >= R_STARTED;
  const p: PrimPlan = {
    rsc: r,
    current,
    next,
    moving,
    // schedule_restart_actions creates no start for a blocked resource (pe_rsc_block).
    hasStart: !!next && !r.blocked,
    startRequired: false,
    startRunnable: !!next,
    startReason: undefined,
    stopRequired: false,
    stopRunnable: true,
    stopReason: undefined,
    promoteRequired: false,
    demoteRequired: false,
    reload: false,
    promoteBlocked: undefined,
    blockedDependents: false,
    migrate: false,
    moveReason: undefined,
    partialContinues: false,
    migrationBlocked: false,
    stopUnexpected: false,
  };
  let needStop = moving;
  if (r.partialMigrationSource || r.partialMigrationTarget) {
    // pcmk__primitive_create_actions: a partial migration continues only towards the same target.
    if (moving && migrationAllowed(r, current) && r.runningOn.length === 2 && current === r.partialMigrationSource && next === r.partialMigrationTarget) {
      p.partialContinues = true;
    } else {
      needStop = true;
      p.migrationBlocked = true;
      r.partialMigrationSource = undefined;
      r.partialMigrationTarget = undefined;
    }
  }
  if (next) {
    const q = quorumBlocks(u, r);
    if (q) {
      p.startRunnable = false;
      p.startReason = q;
    }
    if (!nodeAvailable(next) || next.pending) p.startRunnable = false;
  }
  const multiple = multiplyActive(r);
  if (multiple && r.multipleActive !== 'block') needStop = true;
  if (multiple && r.multipleActive === 'stop_unexpected' && !p.partialContinues) p.stopUnexpected = true;
  if (!moving) {
    if (r.failed && r.stopNeeded) needStop = true;
    else if (r.blocked) needStop = true;
  }
  if (!r.managed) needStop = false;
  if (current) {
    if (needStop || r.nextRole === R_STOPPED || !next) p.stopRequired = true;
    if (!next) p.stopReason = 'node availability';
    if (!r.managed) p.stopRunnable = false;
    // A stop on a node that is down: implied by its fencing, or impossible.
    for (const n of r.runningOn) {
      if (!n.online) p.stopRunnable = fenced.has(n.name);
    }
  }
  if (next && r.nextRole >= R_STARTED) {
    // schedule_role_transition_actions: a resource that counts as stopped although active somewhere
    // (a migration's other node) is started.
    if (!current || moving || p.stopRequired || r.role === R_STOPPED) p.startRequired = true;
  }
  if (change?.restart && next && r.managed && r.nextRole >= R_STARTED) {
    p.startRequired = true;
    // Pacemaker clears action reasons of resources that require nothing when it re-creates them.
    if (r.needsQuorum || r.needsFencing) p.startReason = 'resource definition change';
  } else if (change?.reload && current && next === current) p.reload = true;
  if (change?.stop && current && r.managed) p.stopRequired = true;
  if (r.restartRequested && current && r.managed) p.stopRequired = true;
  // A running resource whose start here cannot run (no quorum, ...) must stop, and its
  // (now required) start stays blocked.
  if (current && next && !p.startRunnable && r.managed) {
    p.stopRequired = true;
    p.startRequired = true;
  }
  const curRole = r.role === R_STOPPED && current ? R_STARTED : r.role;
  if (next && r.nextRole === R_PROMOTED && (curRole !== R_PROMOTED || p.stopRequired || moving)) p.promoteRequired = true;
  if (current && curRole === R_PROMOTED && (r.nextRole < R_PROMOTED || p.stopRequired || moving)) p.demoteRequired = true;
  // Recovery by demotion (on-fail=demote): the demote is required, and so is the promote when the
  // instance stays promoted where it is.
  if (r.failed && !r.stopNeeded && current && curRole === R_PROMOTED && !p.stopRequired) {
    p.demoteRequired = true;
    if (!moving && next === current && r.nextRole === R_PROMOTED) p.promoteRequired = true;
  }
  if (!r.managed) {
    p.startRequired = false;
    p.stopRequired = false;
    p.promoteRequired = false;
    p.demoteRequired = false;
  }
  return p;
}

interface Edge {
  readonly first: WRsc;
  readonly then: WRsc;
  readonly kind: 'Mandatory' | 'Optional' | 'Serialize';
  readonly symmetrical: boolean;
  readonly firstAction: string;
  readonly thenAction: string;
  /** The first side counts as runnable when at least `min` of these primitives can start. */
  readonly anyOf: { readonly prims: readonly WRsc[]; readonly min: number } | undefined;
  /** How Pacemaker names the "first" action in reasons ("A start", "grp running", "one-or-more:set"). */
  readonly label: string;
  /** Implies-then propagates ("required X ...") from this edge. */
  readonly implies: boolean;
  /** The "then" side is a group, reached through its start pseudo-action. */
  readonly viaGroup: boolean;
  /** A scheduler-generated order: it blocks migration without naming a reason. */
  readonly internal: boolean;
  /** Implies-then from a clone only counts instances on the "then" node (action_flags_for_ordering). */
  readonly nodeFilter: boolean;
  /** The ordering constraint it was expanded from (undefined: a group's internal order). */
  readonly origin: WOrder | undefined;
}

/** A bundle's containers (ordering a bundle orders its replicas' containers). */
function bundleContainers(r: WRsc): WRsc[] {
  return r.children.filter((c) => c.variant === 'primitive' && !c.isRemoteConnection && /-(docker|podman|rkt)-[0-9]+$/.test(c.id));
}

/** A group's members start one after the other unless ordered=false. */
function groupOrdered(g: WRsc): boolean {
  const v = g.meta.get('ordered');
  return v === undefined || v === 'true';
}

function firstsOf(r: WRsc): WRsc[] {
  // An unordered group is running once every member is; an ordered one once its last member is.
  if (r.variant === 'group' && !groupOrdered(r)) return r.children.flatMap(firstsOf);
  if (r.variant === 'group') return r.children.length ? firstsOf(r.children[r.children.length - 1] as WRsc) : [];
  if (r.variant === 'clone') return r.children.flatMap(firstsOf);
  if (r.variant === 'bundle') return bundleContainers(r);
  return [r];
}

function thensOf(r: WRsc): WRsc[] {
  // Every member of an unordered group starts after the group's start.
  if (r.variant === 'group' && !groupOrdered(r)) return r.children.flatMap(thensOf);
  if (r.variant === 'group') return r.children.length ? thensOf(r.children[0] as WRsc) : [];
  if (r.variant === 'clone') return r.children.flatMap(thensOf);
  if (r.variant === 'bundle') return bundleContainers(r);
  return [r];
}

/** The name Pacemaker gives a resource's (remapped) first action in reasons. */
function labelOf(r: WRsc, task: string): string {
  if (r.variant === 'primitive') return `${r.id} ${task}`;
  const mapped: Record<string, string> = { start: 'running', stop: 'stopped', promote: 'promoted', demote: 'demoted' };
  return `${r.id} ${mapped[task] ?? task}`;
}

/** Orders between primitives: constraints expanded through groups and clones, plus group internals. */
function primitiveEdges(u: Unpacked, cons: Constraints): Edge[] {
  const edges: Edge[] = [];
  let viaGroup = false;
  let internal = false;
  let origin: WOrder | undefined;
  const push = (e: Omit<Edge, 'anyOf' | 'label' | 'implies' | 'viaGroup' | 'internal' | 'nodeFilter' | 'origin'> & Partial<Pick<Edge, 'anyOf' | 'label' | 'implies' | 'nodeFilter'>>): void => {
    edges.push({ anyOf: undefined, label: labelOf(e.first, e.firstAction), implies: true, viaGroup, internal, nodeFilter: true, origin, ...e });
  };
  for (const o of cons.orders) {
    origin = o;
    viaGroup = o.then.variant === 'group';
    internal = o.internal === true;
    // The members of a composite "then" see the reason through its own start pseudo-action.
    // Groups and clones hand ordering updates to their members, so reasons name the first side.
    const thenLabel = (base: string): string => base;
    if (o.anyOf) {
      const prims = o.anyOf.members.flatMap(firstsOf);
      for (const t of thensOf(o.then)) {
        push({ first: prims[0] ?? o.first, then: t, kind: o.kind, symmetrical: o.symmetrical, firstAction: o.firstAction, thenAction: o.thenAction, anyOf: { prims, min: o.anyOf.min }, label: thenLabel(o.anyOf.name), implies: false });
      }
      continue;
    }
    if (o.first.variant === 'clone' && o.then.variant === 'clone' && o.then.interleave) {
      // Interleaved clones: each "then" instance waits only for the "first" instance on its node.
      const nodeOf = (i: WRsc): WNode | undefined => primitivesOf(i)[0]?.allocatedTo ?? primitivesOf(i)[0]?.runningOn[0];
      for (const ti of o.then.children) {
        const tn = nodeOf(ti);
        const fi = tn ? o.first.children.find((x) => nodeOf(x) === tn) : undefined;
        if (!fi) continue;
        for (const f of firstsOf(fi)) for (const t of thensOf(ti)) {
          push({ first: f, then: t, kind: o.kind, symmetrical: o.symmetrical, firstAction: o.firstAction, thenAction: o.thenAction });
        }
      }
      continue;
    }
    const firsts = firstsOf(o.first);
    const label = thenLabel(labelOf(o.first, o.firstAction));
    if (o.first.variant === 'clone' || o.first.variant === 'bundle') {
      for (const t of thensOf(o.then)) {
        push({ first: firsts[0] ?? o.first, then: t, kind: o.kind, symmetrical: o.symmetrical, firstAction: o.firstAction, thenAction: o.thenAction, anyOf: { prims: firsts, min: firsts.length > 0 ? 1 : 0 }, label, implies: true, nodeFilter: o.first.variant === 'clone' && o.then.variant !== 'clone' });
      }
      continue;
    }
    for (const f of firsts) for (const t of thensOf(o.then)) {
      push({ first: f, then: t, kind: o.kind, symmetrical: o.symmetrical, firstAction: o.firstAction, thenAction: o.thenAction, label });
    }
  }
  viaGroup = false;
  internal = false;
  origin = undefined;
  const visit = (r: WRsc): void => {
    if (r.variant === 'group') {
      const ordered = groupOrdered(r);
      for (let i = 1; i < r.children.length && ordered; i++) {
        for (const f of firstsOf(r.children[i - 1] as WRsc)) for (const t of thensOf(r.children[i] as WRsc)) {
          push({ first: f, then: t, kind: 'Mandatory', symmetrical: true, firstAction: 'start', thenAction: 'start' });
        }
      }
    }
    for (const c of r.children) visit(c);
  };
  for (const r of u.resources) visit(r);
  return edges;
}

function startsOk(q: PrimPlan | undefined): boolean {
  return q !== undefined && q.hasStart && q.rsc.nextRole >= R_STARTED && q.startRunnable;
}

/** Whether the "first" side of an edge can start (for runnable_left). */
function firstRunnable(e: Edge, plans: Map<WRsc, PrimPlan>): boolean {
  if (e.anyOf) {
    let n = 0;
    for (const p of e.anyOf.prims) if (startsOk(plans.get(p))) n++;
    return n >= e.anyOf.min && n > 0;
  }
  return startsOk(plans.get(e.first));
}

/**
 * Whether the first side's start is required and runnable (for implies_then). A clone's flags are
 * taken on the "then" node only (action_flags_for_ordering).
 */
function firstRequired(e: Edge, plans: Map<WRsc, PrimPlan>, thenNode: WNode | undefined): boolean {
  if (e.anyOf) {
    return e.anyOf.prims.some((p) => {
      const q = plans.get(p);
      return q !== undefined && q.startRequired && q.startRunnable && (!e.nodeFilter || thenNode === undefined || q.next === thenNode);
    });
  }
  const f = plans.get(e.first);
  return f !== undefined && f.startRequired && f.startRunnable;
}

/** Which moves are live migrations: allowed, and not behind a first that moves without migrating. */
function decideMigrations(edges: readonly Edge[], plans: Map<WRsc, PrimPlan>): void {
  for (const p of plans.values()) p.migrate = p.moving && canMigrate(p);
  let changed = true;
  while (changed) {
    changed = false;
    for (const e of edges) {
      if (!e.symmetrical) continue;
      const t = plans.get(e.then);
      if (!t || !t.migrate) continue;
      if (e.viaGroup) continue;
      const firsts = e.anyOf ? e.anyOf.prims : [e.first];
      const blocker = firsts.map((x) => plans.get(x)).find((f) => f !== undefined && f.rsc !== t.rsc && f.startRequired && !f.migrate);
      if (!blocker) continue;
      t.migrate = false;
      if (!e.internal) t.moveReason = `unrunnable ${e.anyOf ? e.label.replace(/ [a-z]+$/, ' stop') : `${blocker.rsc.id} stop`}`;
      changed = true;
    }
  }
}

/** Fixed point of the ordering effects on start/stop flags. */
export function applyOrderings(u: Unpacked, cons: Constraints, plans: Map<WRsc, PrimPlan>): void {
  blockStartsBehindPendingProbes(u, cons, plans);
  inhibitUnpairedInterleavedInstances(cons, plans);
  const all = primitiveEdges(u, cons);
  const edges = all.filter((e) => e.kind === 'Mandatory' && e.firstAction === 'start' && e.thenAction === 'start');
  // handle_restart_type: an optional order whose "then" has restart-type=restart implies the then.
  const restartEdges = all.filter((e) => e.kind === 'Optional' && e.firstAction === 'start' && e.thenAction === 'start' && e.origin?.then.meta.get('restart-type') === 'restart');
  const restartStopEdges = all.filter((e) => e.kind === 'Optional' && e.firstAction === 'stop' && e.thenAction === 'stop' && !e.anyOf && e.origin?.then.meta.get('restart-type') === 'restart');
  blockStopsBehindUnmanaged(all, plans);
  decideMigrations(edges, plans);
  let changed = true;
  let rounds = 0;
  while (changed && rounds < 100) {
    changed = false;
    rounds++;
    for (const e of edges) {
      const t = plans.get(e.then);
      if (!t || e.first === e.then) continue;
      if (e.symmetrical && !e.anyOf) {
        // The inverse order (then stop before first stop) cannot complete when the then side is a
        // blocked, unmanaged resource whose stop will never run.
        const f0 = plans.get(e.first);
        if (f0 && f0.current && f0.stopRequired && f0.stopRunnable && t.current && !t.rsc.managed && t.rsc.blocked) {
          f0.stopRunnable = false;
          if (!f0.stopReason) f0.stopReason = `unrunnable ${t.rsc.id} stop`;
          changed = true;
        }
      }
      if (!t.rsc.managed) continue;
      if (!e.symmetrical) {
        // handle_asymmetric_ordering: a resource staying where it runs is not affected.
        const staying = !t.startRequired && !!t.current && t.next === t.current && t.rsc.runningOn.length === 1;
        if (!staying && t.hasStart && t.startRunnable && !firstRunnable(e, plans)) {
          t.startRunnable = false;
          t.startRequired = true;
          if (!t.startReason) t.startReason = `unrunnable ${e.label}`;
          changed = true;
        }
        continue;
      }
      // runnable_left: then cannot start unless first can.
      if (t.hasStart && t.startRunnable && !firstRunnable(e, plans)) {
        t.startRunnable = false;
        // implies_then runs first when the first start is required although unrunnable (a
        // stopping resource's start, required by its own stop): the reason names it "required".
        const fp = e.anyOf ? undefined : plans.get(e.first);
        const requiredFirst =
          !t.startRequired &&
          (fp !== undefined
            ? fp.startRequired || (!fp.hasStart && fp.stopRequired && fp.current !== undefined)
            : // A clone's "running" is required when one of its instances' starts is.
              e.anyOf !== undefined && !e.label.includes('one-or-more') && e.anyOf.prims.some((q) => plans.get(q)?.startRequired === true));
        if (!t.startReason) t.startReason = `${requiredFirst ? 'required' : 'unrunnable'} ${e.label}`;
        if (t.current) t.stopRequired = true;
        changed = true;
      }
      // implies_then: a required first start makes the then start required.
      const fMigrates = !e.anyOf && plans.get(e.first)?.migrate === true;
      if (e.implies && !fMigrates && !t.startRequired && t.hasStart && t.rsc.nextRole >= R_STARTED && firstRequired(e, plans, t.next)) {
        t.startRequired = true;
        if (!t.startReason) t.startReason = `required ${e.label}`;
        changed = true;
      }
      const f = plans.get(e.first);
      // symmetrical inverse: a required first stop requires the then stop.
      if (!e.anyOf && f && f.stopRequired && !f.migrate && f.current && t.current && !t.stopRequired) {
        t.stopRequired = true;
        changed = true;
      }
      for (const p of [f, t]) if (p && restartRules(p)) changed = true;
    }
    for (const e of restartEdges) {
      const t = plans.get(e.then);
      if (!t || e.first === e.then || !t.rsc.managed) continue;
      const fMigrates = !e.anyOf && plans.get(e.first)?.migrate === true;
      if (!fMigrates && !t.startRequired && t.hasStart && t.rsc.nextRole >= R_STARTED && firstRequired(e, plans, t.next)) {
        t.startRequired = true;
        if (!t.startReason) t.startReason = `required ${e.label}`;
        changed = true;
        restartRules(t);
      }
    }
    // The same for stops: a required first stop makes the then stop (and so a restart) required.
    for (const e of restartStopEdges) {
      const t = plans.get(e.then);
      const f = plans.get(e.first);
      if (!t || !f || e.first === e.then || !t.rsc.managed) continue;
      if (f.current && f.stopRequired && t.current && !t.stopRequired) {
        t.stopRequired = true;
        changed = true;
        restartRules(t);
      }
    }
    for (const p of plans.values()) {
      if (restartRules(p)) changed = true;
      if (guestRestart(p, plans)) changed = true;
      if (blockColocationDependents(p, plans)) changed = true;
    }
  }
}

/**
 * pcmk__multi_update_actions with interleaved clones: for a mandatory order, an instance of the
 * "then" clone with no instance of the "first" clone assigned to its node must not be active
 * (pcmk__assign_resource to no node): its start cannot run and it stops where it runs.
 */
function inhibitUnpairedInterleavedInstances(cons: Constraints, plans: Map<WRsc, PrimPlan>): void {
  for (const o of cons.orders) {
    if (o.anyOf || o.kind !== 'Mandatory' || !o.symmetrical) continue;
    if (o.first.variant !== 'clone' || o.then.variant !== 'clone' || !o.then.interleave) continue;
    if (o.firstAction === 'stop' || o.firstAction === 'demote') continue;
    const locationOf = (i: WRsc): WNode | undefined => (i.variant === 'primitive' ? i.allocatedTo : primitivesOf(i)[0]?.allocatedTo);
    const blocked = (i: WRsc): boolean => i.blocked || primitivesOf(i).some((p) => p.blocked);
    for (const ti of o.then.children) {
      const n = locationOf(ti);
      if (!n) continue;
      if (o.first.children.some((fi) => !blocked(fi) && locationOf(fi) === n)) continue;
      for (const r of primitivesOf(ti)) {
        const p = plans.get(r);
        if (!p || !r.managed) continue;
        r.allocatedTo = undefined;
        p.next = undefined;
        p.hasStart = false;
        p.startRequired = false;
        p.startRunnable = false;
        p.moving = false;
        p.promoteRequired = false;
        r.nextRole = R_STOPPED;
        if (p.current) p.stopRequired = true;
      }
    }
  }
}

/**
 * A mandatory "A stop then B stop" makes B's stop unrunnable (runnable_left) when A is active but
 * unmanaged: A's stop exists (optional) but can never run.
 */
function blockStopsBehindUnmanaged(all: readonly Edge[], plans: Map<WRsc, PrimPlan>): void {
  for (const e of all) {
    if (e.kind !== 'Mandatory' || e.firstAction !== 'stop' || e.thenAction !== 'stop' || e.anyOf || e.first === e.then) continue;
    const f = plans.get(e.first);
    const t = plans.get(e.then);
    if (!f || !t || !f.current || f.rsc.managed || !t.current || !t.stopRequired) continue;
    t.stopRunnable = false;
  }
}

/**
 * pcmk__block_colocation_dependents: when a resource (every instance, for a clone) cannot start,
 * resources that must be colocated with it cannot start (or be promoted) either.
 */
function blockColocationDependents(p: PrimPlan, plans: Map<WRsc, PrimPlan>): boolean {
  if (p.blockedDependents || !p.hasStart || p.startRunnable || !p.rsc.managed) return false;
  p.blockedDependents = true;
  let top = topParent(p.rsc);
  if (top.parent) top = top.parent;
  if (top.variant === 'group') return false; // its colocations moved to its members
  if (top.variant === 'clone') {
    for (const inst of top.children) {
      for (const q of primitivesOf(inst)) {
        const qp = plans.get(q);
        if (qp && qp.hasStart && qp.startRunnable) return false;
      }
    }
  }
  let changed = false;
  for (const c of top.withThis) {
    if (c.score < SCORE_INFINITY) continue;
    const reason = `colocation with ${p.rsc.id}`;
    for (const d of primitivesOf(c.dependent)) {
      const dp = plans.get(d);
      if (!dp) continue;
      if (c.dependentRole === R_PROMOTED) {
        if (dp.promoteRequired && dp.promoteBlocked === undefined) {
          dp.promoteBlocked = reason;
          changed = true;
        }
      } else if (dp.hasStart && dp.startRunnable) {
        dp.startRunnable = false;
        if (!dp.startReason) dp.startReason = reason;
        if (dp.current) dp.stopRequired = true;
        changed = true;
      }
    }
  }
  return changed;
}

/** Resources on a guest node restart when the resource hosting the guest (re)starts. */
function guestRestart(p: PrimPlan, plans: Map<WRsc, PrimPlan>): boolean {
  const n = p.next;
  if (!n || n.kind !== 'guest' || p.startRequired || !p.hasStart || !p.rsc.managed || p.rsc.nextRole < R_STARTED) return false;
  const container = n.connection?.container;
  const c = container ? plans.get(container) : undefined;
  if (!c || !c.startRequired || !c.startRunnable || c.migrate) return false;
  p.startRequired = true;
  if (!p.startReason) p.startReason = `required ${container?.id ?? ''} start`;
  return true;
}

/** A required start of a running resource requires its stop, and a required stop its start. */
function restartRules(p: PrimPlan): boolean {
  let changed = false;
  // No stop exists to require when the resource counts as stopped (schedule_restart_actions starts
  // from its role), e.g. active only as the other node of a failed migration.
  if (p.startRequired && p.current && !p.stopRequired && p.rsc.managed && p.rsc.role !== R_STOPPED) {
    p.stopRequired = true;
    changed = true;
  }
  if (p.stopRequired && p.hasStart && p.rsc.nextRole >= R_STARTED && !p.startRequired && p.rsc.managed) {
    p.startRequired = true;
    changed = true;
  }
  if (p.stopRequired && p.reload) {
    p.reload = false;
    changed = true;
  }
  // A start after a stop that cannot run cannot run either (handle_restart_ordering).
  if (p.stopRequired && !p.stopRunnable && p.startRequired && p.startRunnable && p.current) {
    p.startRunnable = false;
    changed = true;
  }
  return changed;
}

// ---------------------------------------------------------------------------------------------
// Summary
// ---------------------------------------------------------------------------------------------

function line(
  change: ChangeKind,
  r: WRsc,
  origin: WNode | undefined,
  dest: WNode | undefined,
  reason: string | undefined,
  runnable: boolean,
  roleNow: number,
  roleNext: number,
): SummaryLine {
  const needRole = roleNow > R_STARTED || roleNext > R_UNPROMOTED;
  const sameHost = !!origin && !!dest && origin === dest;
  const sameRole = roleNow === roleNext;
  const rn = (x: number): Role => roleName(x as 0 | 1 | 2 | 3 | 4);
  let details: string;
  if (needRole && !origin) details = `${rn(roleNow)} -> ${rn(roleNext)} ${dest?.name}`;
  else if (!origin) details = `${dest?.name}`;
  else if (needRole && !dest) details = `${rn(roleNow)} ${origin.name}`;
  else if (!dest) details = origin.name;
  else if (needRole && sameRole && sameHost) details = `${rn(roleNow)} ${origin.name}`;
  else if (sameRole && sameHost) details = origin.name;
  else if (needRole && sameRole) details = `${origin.name} -> ${dest.name} ${rn(roleNow)}`;
  else if (sameRole) details = `${origin.name} -> ${dest.name}`;
  else if (sameHost) details = `${rn(roleNow)} -> ${rn(roleNext)} ${origin.name}`;
  else details = `${rn(roleNow)} ${origin.name} -> ${rn(roleNext)} ${dest.name}`;
  return {
    change,
    rsc: r.id,
    from: origin?.name,
    to: dest?.name,
    roleFrom: rn(roleNow),
    roleTo: rn(roleNext),
    reason,
    blocked: !runnable,
    fenceAction: undefined,
    fenceResource: undefined,
    details,
  };
}

export function summarize(u: Unpacked, plans: Map<WRsc, PrimPlan>, fencing: readonly Fencing[]): SummaryLine[] {
  const out: SummaryLine[] = [];
  for (const f of fencing) {
    out.push({
      change: 'Fence',
      rsc: undefined,
      from: undefined,
      to: f.node.name,
      roleFrom: undefined,
      roleTo: undefined,
      reason: f.reason,
      blocked: false,
      fenceAction: f.action,
      fenceResource: f.resource,
      details: f.node.name,
    });
  }
  for (const top of u.resources) {
    for (const r of summaryOrder(u, top)) {
      const p = plans.get(r);
      if (p) summarizeOne(p, out);
    }
  }
  return out;
}

/**
 * pe__find_active_on: the node a resource counts as active on: the source of a partial migration,
 * else the first node it runs on.
 */
function activeOn(r: WRsc): WNode | undefined {
  let active: WNode | undefined;
  for (const n of r.runningOn) {
    const happy = n.online && !n.unclean;
    if (r.partialMigrationSource) {
      if (n === r.partialMigrationSource) active = n;
    } else if (!r.needsFencing) {
      // A resource that does not need fencing counts as active on its first clean node.
      if (happy && (!active || !active.online || active.unclean)) active = n;
    }
    active ??= n;
  }
  return active;
}

/** Whether the resource counts as multiply active (on clean nodes only, unless it needs fencing). */
function multiplyActive(r: WRsc): boolean {
  if (r.needsFencing) return r.runningOn.length > 1;
  let clean = 0;
  for (const n of r.runningOn) if (n.online && !n.unclean) clean++;
  return clean > 1;
}

/** pcmk__rsc_can_migrate on the resource's own flags. */
function migrationAllowed(r: WRsc, current: WNode | undefined): boolean {
  if (!r.allowMigrate || r.failed || r.startPending || !r.managed) return false;
  if (!current || current.unclean) return false;
  return !!r.allocatedTo && !r.allocatedTo.unclean;
}

/** pcmk__rsc_can_migrate, as far as the action model knows it. */
function canMigrate(p: PrimPlan): boolean {
  const r = p.rsc;
  if (p.migrationBlocked || !migrationAllowed(r, p.current)) return false;
  // A dangling stop is not migratable, which makes migrate_from (ordered before every stop) unrunnable.
  if (r.danglingMigrations.length > 0) return false;
  if (!p.current || !p.current.online || p.current.unclean) return false;
  if (r.parent && r.parent.variant === 'clone') return false;
  return p.startRunnable && p.stopRunnable;
}

/** Output order: bundles list each replica's IP, container, connection and instance together. */
function summaryOrder(u: Unpacked, top: WRsc): WRsc[] {
  const b = u.bundles.get(top);
  if (!b) return primitivesOf(top);
  const out: WRsc[] = [];
  for (const rep of b.replicas) {
    if (rep.ip) out.push(rep.ip);
    out.push(rep.container);
    if (rep.remote) out.push(rep.remote);
    if (rep.child) out.push(...primitivesOf(rep.child));
  }
  return out;
}

function summarizeOne(p: PrimPlan, out: SummaryLine[]): void {
  const r = p.rsc;
  // pcmk__output_resource_actions asks pe__current_node again: once a partial migration that
  // cannot continue is forgotten, that is the first clean node the resource is active on.
  const current = p.migrationBlocked ? activeOn(r) : p.current;
  const next = p.next;
  if (!r.managed || (!current && !next)) return;
  if (!current && r.orphan) return;
  const role = r.role === R_STOPPED && current ? R_STARTED : r.role;
  const nextRole = r.nextRole;
  const startOptional = !p.startRequired;
  if (role === nextRole) {
    if (p.reload && current && !p.moving) {
      out.push(line('Reload', r, current, next, undefined, true, role, nextRole));
      return;
    }
    if (!p.hasStart || startOptional) {
      if (p.demoteRequired && p.promoteRequired) out.push(line('Re-promote', r, current, next, undefined, true, role, nextRole));
      return;
    }
    if (!p.startRunnable) {
      out.push(line('Stop', r, current, undefined, p.stopReason ?? p.startReason, p.stopRunnable && !!current, role, nextRole));
      return;
    }
    const moving = p.migrationBlocked ? !!current && !!next && current !== next : p.moving;
    if (moving && current) {
      const change: ChangeKind = r.failed ? 'Recover' : p.migrate ? 'Migrate' : 'Move';
      // "Migrate" names its start's reason, "Move" its stop's.
      const reason = change === 'Move' ? p.moveReason : change === 'Migrate' ? p.startReason : undefined;
      out.push(line(change, r, current, next, reason, p.stopRunnable, role, nextRole));
      return;
    }
    if (r.failed) {
      out.push(line('Recover', r, current, undefined, p.stopUnexpected ? 'being multiply active' : undefined, p.stopRunnable, role, nextRole));
      return;
    }
    out.push(line('Restart', r, current, next, p.startReason, p.startRunnable, role, nextRole));
    return;
  }
  if (current && (nextRole === R_STOPPED || (p.hasStart && !p.startRunnable))) {
    for (const n of r.runningOn) {
      out.push(line('Stop', r, n, undefined, p.stopReason ?? p.startReason, p.stopRunnable, role, nextRole));
    }
    return;
  }
  if (current && r.failed && r.stopNeeded) {
    out.push(line('Recover', r, current, next, undefined, p.stopRunnable, role, nextRole));
  } else if (p.moving) {
    out.push(line('Move', r, current, next, undefined, p.stopRunnable, role, nextRole));
  } else if (current && p.stopRequired) {
    out.push(line('Restart', r, current, next, p.startReason, p.startRunnable, role, nextRole));
  } else if (role === R_PROMOTED) {
    out.push(line('Demote', r, current, next, undefined, true, role, nextRole));
  } else if (nextRole === R_PROMOTED) {
    out.push(line('Promote', r, current, next, p.promoteBlocked, p.startRunnable && p.promoteBlocked === undefined, role, nextRole));
  } else if ((role === R_STOPPED || role === R_UNKNOWN) && nextRole > R_STOPPED) {
    out.push(line('Start', r, current, next, p.startReason, p.startRunnable, role === R_UNKNOWN ? R_STOPPED : role, nextRole));
  }
}

/** The orderings between primitives' actions (constraints and group internals), for the graph. */
export function primitiveOrders(u: Unpacked, cons: Constraints): PrimOrder[] {
  return primitiveEdges(u, cons)
    .filter((e) => e.kind !== 'Serialize')
    .map((e) => ({ first: e.first, then: e.then, firstAction: e.firstAction, thenAction: e.thenAction, symmetrical: e.symmetrical, firsts: e.anyOf ? e.anyOf.prims : [e.first], origin: e.origin }));
}

/** The graph actions with their orderings, for consumers of `Transition`. */
export function buildActions(u: Unpacked, plans: Map<WRsc, PrimPlan>, fencing: readonly Fencing[], cons: Constraints): Action[] {
  return buildGraphActions(u, plans, fencing, cons, primitiveOrders(u, cons));
}
