/**
 * The transition graph's actions for primitives: probes (pcmk_sched_probes.c), the scheduled
 * start/stop/promote/demote actions, recurring monitors after a start or promote
 * (pcmk_sched_recurring.c), shutdowns, and the ordering edges between them
 * (pcmk__primitive_internal_constraints, ordering constraints between primitives, fencing, and
 * pcmk__order_probes' probe-before-stop and probe-before-restart orderings).
 *
 * Ids follow Pacemaker's creation order where the graph's synapse order depends on it: fencing,
 * then probes (node by node, resources in order), then each primitive's demote, stops, start,
 * promote and recurring monitors; shutdowns last.
 *
 * Not yet modelled: group/clone pseudo-actions, notifications, cancels of recurring monitors,
 * migrations (migrate_to/migrate_from), bundles.
 */
import type { Constraints, WOrder } from './constraints.js';
import type { Action } from './types.js';
import type { Fencing, PrimPlan } from './actions.js';
import type { Unpacked } from './unpack.js';
import type { WNode, WRsc } from './work.js';
import { R_PROMOTED, R_STARTED, R_STOPPED, R_UNPROMOTED, cloneAncestor, primitivesOf, roleNum } from './work.js';
import { isTrue, parseIntervalMs, parseRole } from './util.js';
import { failCount } from './assign.js';
import { agentChanged } from './config-changes.js';

/** An action while the graph is built (inputs grow as orderings are added). */
interface GAction {
  id: number;
  key: string;
  rsc: string | undefined;
  task: string;
  intervalMs: number;
  node: string | undefined;
  optional: boolean;
  runnable: boolean;
  pseudo: boolean;
  reason: string | undefined;
  inputs: number[];
  expectedRc?: number;
  /**
   * When Pacemaker creates it: 0 while unpacking the status (recurring operations found active,
   * stops of failed resources), 0.5 the configuration checks (clean-ups after agent changes, fail
   * count clearing for changed definitions), 1 probes, 2 the resources' actions. Ids follow (phase,
   * creation).
   */
  phase?: number;
}

/** One ordering between primitive actions, as the action phase's edges describe it. */
export interface PrimOrder {
  readonly first: WRsc;
  readonly then: WRsc;
  readonly firstAction: string;
  readonly thenAction: string;
  readonly symmetrical: boolean;
  /** The first side is any of these primitives (a clone): every one's action is an input. */
  readonly firsts: readonly WRsc[];
  /** The ordering constraint it was expanded from (undefined: a group's internal order). */
  readonly origin: WOrder | undefined;
}

interface Built {
  readonly actions: GAction[];
  /** Orderings after a load_stopped pseudo-action (dropped where they close a loop). */
  readonly loadEdges: [GAction, GAction][];
  /** Actions by resource id and task (several nodes possible). */
  readonly byRsc: Map<string, Map<string, GAction[]>>;
}

function add(b: Built, a: Omit<GAction, 'id' | 'inputs'>): GAction {
  // Every action has the same fields in the same order (one hidden class for V8, and no spread):
  // a large transition holds a probe per resource and node.
  const full: GAction = {
    id: b.actions.length,
    key: a.key,
    rsc: a.rsc,
    task: a.task,
    intervalMs: a.intervalMs,
    node: a.node,
    optional: a.optional,
    runnable: a.runnable,
    pseudo: a.pseudo,
    reason: a.reason,
    inputs: [],
    expectedRc: a.expectedRc,
    phase: a.phase,
  };
  b.actions.push(full);
  if (a.rsc !== undefined) {
    let m = b.byRsc.get(a.rsc);
    if (m === undefined) {
      m = new Map<string, GAction[]>();
      b.byRsc.set(a.rsc, m);
    }
    const kind = a.task === 'monitor' && a.intervalMs === 0 ? 'probe' : a.task === 'monitor' ? 'recurring' : a.task;
    const list = m.get(kind);
    if (list === undefined) m.set(kind, [full]);
    else list.push(full);
  }
  return full;
}

function actionsOf(b: Built, rsc: WRsc, kind: string): GAction[] {
  return b.byRsc.get(rsc.id)?.get(kind) ?? [];
}

function order(first: GAction, then: GAction): void {
  if (first === then || then.inputs.includes(first.id)) return;
  then.inputs.push(first.id);
}

// ---------------------------------------------------------------------------------------------
// Probes
// ---------------------------------------------------------------------------------------------

/** (resource id, node) pairs a location with resource-discovery=never covers, for every descendant. */
function neverDiscover(cons: Constraints): Set<string> {
  const out = new Set<string>();
  for (const loc of cons.locations) {
    if (loc.discovery !== 'never') continue;
    for (const p of primitivesOf(loc.rsc)) for (const n of loc.scores.keys()) out.add(`${p.id}\u0000${n}`);
  }
  return out;
}

function stateKnown(r: WRsc, node: WNode): boolean {
  if (r.knownOn.has(node.name)) return true;
  if (r.unique) return false;
  const clone = cloneAncestor(r);
  return clone !== undefined && !clone.unique && clone.knownOn.has(node.name);
}

/** Whether `r` (or one of its primitives) is active on, or assigned to, `node`. */
function instanceOn(r: WRsc, node: WNode, assigned: boolean): boolean {
  return primitivesOf(r).some((p) => (assigned ? p.allocatedTo === node : p.runningOn.includes(node)));
}

/** The primitives pcmk__probe_rsc_on_node would probe on `node` for `r`, in order. */
function probeTargets(r: WRsc, node: WNode, never: ReadonlySet<string>, plans: ReadonlyMap<WRsc, PrimPlan>, out: WRsc[]): void {
  if (node.kind === 'remote' || node.kind === 'guest') {
    if (r.isFenceDevice || r.agentClass === 'stonith') return;
    if (r.isRemoteConnection) return;
    if (node.kind === 'guest' && node.connection?.container !== undefined && primitivesOf(r).includes(node.connection.container)) return;
  }
  if (r.variant === 'bundle') return;
  if (r.variant === 'group' || (r.variant === 'clone' && r.unique)) {
    for (const c of r.children) probeTargets(c, node, never, plans, out);
    return;
  }
  if (r.variant === 'clone') {
    // probe_anonymous_clone: the instance active there, else the one assigned there, else the first.
    const child = r.children.find((c) => instanceOn(c, node, false)) ?? r.children.find((c) => instanceOn(c, node, true)) ?? r.children[0];
    if (child) probeTargets(child, node, never, plans, out);
    return;
  }
  if (r.container !== undefined && !r.isRemoteConnection) return;
  if (r.orphan || stateKnown(r, node)) return;
  if (r.exclusiveNodes !== undefined && !r.exclusiveNodes.has(node.name)) return;
  if (never.size > 0 && never.has(`${r.id}\u0000${node.name}`)) return;
  if (!plans.has(r)) return;
  out.push(r);
}

function probeOn(b: Built, r: WRsc, node: WNode, never: ReadonlySet<string>, plans: Map<WRsc, PrimPlan>): void {
  const targets: WRsc[] = [];
  probeTargets(r, node, never, plans, targets);
  for (const t of targets) {
    add(b, { key: `${t.id}_monitor_0`, rsc: t.id, task: 'monitor', intervalMs: 0, node: node.name, optional: false, runnable: true, pseudo: false, reason: undefined, expectedRc: 7, phase: 1 });
  }
}

/**
 * Probes on a pending node cannot run; a resource active nowhere cannot start before its probe
 * there (pcmk__probe_rsc_on_node orders probe -> start with runnable_left), and for a clone
 * instance that blocks the clone's start, so every instance's. The probes themselves are left out
 * of the graph, as Pacemaker leaves out unrunnable actions.
 */
export function blockStartsBehindPendingProbes(u: Unpacked, cons: Constraints, plans: Map<WRsc, PrimPlan>): void {
  if (!u.flags.startupProbes) return;
  const pending = u.nodes.filter((n) => n.online && !n.unclean && n.pending && n.kind !== 'ping');
  if (pending.length === 0) return;
  const never = neverDiscover(cons);
  for (const node of pending) {
    for (const top of u.resources) {
      const targets: WRsc[] = [];
      probeTargets(top, node, never, plans, targets);
      for (const t of targets) {
        if (t.runningOn.length > 0) continue;
        const clone = cloneAncestor(t);
        const blocked = clone ? primitivesOf(clone) : [t];
        for (const q of blocked) {
          const qp = plans.get(q);
          if (qp && qp.hasStart) qp.startRunnable = false;
        }
      }
    }
  }
}

function scheduleProbes(u: Unpacked, b: Built, cons: Constraints, plans: Map<WRsc, PrimPlan>): void {
  if (!u.flags.startupProbes) return;
  const never = neverDiscover(cons);
  for (const node of u.nodes) {
    if (!node.online || node.unclean || node.pending) continue;
    if (node.kind === 'ping') continue;
    for (const top of u.resources) probeOn(b, top, node, never, plans);
  }
}

// ---------------------------------------------------------------------------------------------
// Recurring monitors
// ---------------------------------------------------------------------------------------------

interface RecurringOp {
  readonly name: string;
  readonly intervalMs: number;
  readonly role: number | undefined;
}

const cannotRecur: ReadonlySet<string> = new Set(['stop', 'start', 'demote', 'promote', 'reload-agent', 'migrate_to', 'migrate_from']);

/** The configured recurring operations (is_recurring_history): enabled, not duplicated. */
function recurringOps(r: WRsc): RecurringOp[] {
  const ops = [...(r.def?.ops ?? []), ...(r.def?.templateRef?.ops ?? [])].map((o) => o.ref ?? o);
  const count = new Map<string, number>();
  for (const o of ops) {
    const k = `${o.name ?? ''}_${parseIntervalMs(o.interval)}`;
    count.set(k, (count.get(k) ?? 0) + 1);
  }
  const out: RecurringOp[] = [];
  for (const o of ops) {
    const name = o.name;
    const intervalMs = parseIntervalMs(o.interval);
    if (name === undefined || intervalMs <= 0 || cannotRecur.has(name)) continue;
    if ((count.get(`${name}_${intervalMs}`) ?? 0) > 1) continue;
    if (o.enabled !== undefined && !isTrue(o.enabled)) continue;
    const role = parseRole(o.role);
    out.push({ name, intervalMs, role: role === undefined ? undefined : roleNum(role) });
  }
  return out;
}

function recurringActive(r: WRsc, node: WNode, op: RecurringOp): boolean {
  return r.activeRecurring?.get(node.name)?.has(`${op.name}_${op.intervalMs}`) === true;
}

function cancelAction(b: Built, r: WRsc, node: WNode, op: RecurringOp): GAction {
  // custom_action finds the recurring action unpack created for the active operation (same key and
  // node) and turns it into the cancel, so the cancel keeps that early id.
  return add(b, { key: `${r.id}_${op.name}_${op.intervalMs}`, rsc: r.id, task: 'cancel', intervalMs: op.intervalMs, node: node.name, optional: false, runnable: true, pseudo: false, reason: undefined, phase: 0 });
}

interface RscSteps {
  readonly start: GAction | undefined;
  readonly stops: readonly GAction[];
  readonly promote: GAction | undefined;
  readonly demote: GAction | undefined;
}

/**
 * Recurring operations of the history that are no longer configured (pcmk__check_action_config:
 * "orphan"), or on a node or resource in maintenance, are cancelled after any stop there.
 * Pacemaker schedules these while checking the history, before probes.
 */
function cancelOrphanedRecurring(b: Built, u: Unpacked, r: WRsc): void {
  const active = r.activeRecurring;
  // Guest connections are generated with their own monitor; their ops are not in the configuration.
  if (!active || r.orphan || (r.isRemoteConnection && r.container !== undefined)) return;
  const stopOrphans = isTrue(u.options.get('stop-orphan-actions') ?? 'true');
  const configured = new Set<string>();
  for (const o0 of [...(r.def?.ops ?? []), ...(r.def?.templateRef?.ops ?? [])]) {
    const o = o0.ref ?? o0;
    if (o.enabled === undefined || isTrue(o.enabled)) configured.add(`${o.name ?? ''}_${parseIntervalMs(o.interval)}`);
  }
  for (const n of r.runningOn) {
    const keys = active.get(n.name);
    if (!keys || !n.online) continue;
    // pe_rsc_maintenance comes from the resource's own meta-attribute, not maintenance-mode.
    const maintenance = n.maintenance || isTrue(r.meta.get('maintenance'));
    for (const key of keys) {
      const cut = key.lastIndexOf('_');
      const name = key.slice(0, cut);
      const intervalMs = Number(key.slice(cut + 1));
      if (!maintenance && (configured.has(key) || !stopOrphans)) continue;
      add(b, { key: `${r.id}_${key}`, rsc: r.id, task: 'cancel', intervalMs, node: n.name, optional: false, runnable: true, pseudo: false, reason: undefined, phase: 0 });
      void name;
    }
  }
}

/**
 * clear_failcounts_if_orphaned: an orphan's fail counts are cleared on every online node that has
 * one, before it stops (created after the probes, before the resources' actions).
 */
function clearOrphanFailcounts(b: Built, u: Unpacked): void {
  if (!isTrue(u.options.get('stop-orphan-resources') ?? 'true')) return;
  for (const top of u.resources) {
    if (!top.orphan) continue;
    for (const r of primitivesOf(top)) {
      // Observed in 2.1.5's output: orphans known only from "not running" probes get no clearing.
      if (r.runningOn.length === 0) continue;
      for (const n of u.nodes) {
        if (!n.online || failCount(u, r, n) === 0) continue;
        add(b, { key: `${r.id}_clear_failcount_0`, rsc: r.id, task: 'clear_failcount', intervalMs: 0, node: n.name, optional: false, runnable: true, pseudo: false, reason: 'it is orphaned', phase: 1.5 });
      }
    }
  }
}

/**
 * process_rsc_history -> pcmk__schedule_cleanup: where the history was recorded for another agent
 * (class, provider or type), it is deleted (not for failed resources, nor on unavailable nodes),
 * after every stop of the resource and before its start.
 */
function agentChangeCleanups(b: Built, u: Unpacked, r: WRsc, stops: readonly GAction[], start: GAction | undefined): void {
  if (r.orphan || !r.def || r.failed) return;
  for (const name of r.historyAgent.keys()) {
    const n = u.nodeByName.get(name);
    if (!n || !n.online || n.unclean || !agentChanged(r, n)) continue;
    if (actionsOf(b, r, 'delete').some((d) => d.node === name)) continue;
    // Created with the configuration checks, before probes and the resources' own actions.
    const del = add(b, { key: `${r.id}_delete_0`, rsc: r.id, task: 'delete', intervalMs: 0, node: name, optional: false, runnable: true, pseudo: false, reason: undefined, phase: 0.5 });
    for (const s of stops) order(s, del);
    if (start) order(del, start);
  }
}

/** recurring_op_for_active: a monitor for the role the resource will have, or a cancel. */
function recurringForActive(b: Built, p: PrimPlan, node: WNode, op: RecurringOp, steps: RscSteps, cancels: GAction[]): void {
  const r = p.rsc;
  const optional = !p.startRequired && recurringActive(r, node, op);
  const mismatch = (op.role !== undefined && r.nextRole !== op.role) || (op.role === undefined && r.nextRole === R_PROMOTED);
  if (mismatch) {
    if (!optional) return;
    const c = cancelAction(b, r, node, op);
    cancels.push(c);
    const role = r.role === R_STOPPED && p.current ? R_STARTED : r.role;
    let after: GAction | undefined;
    if (role === R_UNPROMOTED || role === R_STARTED) after = r.nextRole === R_PROMOTED ? steps.promote : r.nextRole === R_STOPPED ? steps.stops[0] : undefined;
    else if (role === R_PROMOTED) after = steps.demote;
    if (after) order(c, after);
    return;
  }
  if (optional) return;
  const runnable = p.startRunnable && node.online && !node.unclean;
  const reused = recurringActive(r, node, op);
  const m = add(b, { key: `${r.id}_${op.name}_${op.intervalMs}`, rsc: r.id, task: op.name, intervalMs: op.intervalMs, node: node.name, optional: false, runnable, pseudo: false, reason: undefined, expectedRc: r.nextRole === R_PROMOTED ? 8 : 0, ...(reused ? { phase: 0 } : {}) });
  if (steps.start) order(steps.start, m);
  if (r.nextRole === R_PROMOTED && steps.promote) order(steps.promote, m);
  else if (r.role === R_PROMOTED && steps.demote) order(steps.demote, m);
}

/** recurring_op_for_inactive: Stopped-role monitors on every node the resource will not run on. */
function recurringForInactive(b: Built, u: Unpacked, p: PrimPlan, op: RecurringOp, steps: RscSteps): void {
  const r = p.rsc;
  if (op.role !== R_STOPPED) return;
  if (cloneAncestor(r) !== undefined && !r.unique) return;
  for (const n of u.nodes) {
    if (n.kind === 'ping') continue;
    if (n === p.next) {
      if (recurringActive(r, n, op)) {
        const c = cancelAction(b, r, n, op);
        if (steps.start && (r.nextRole === R_STARTED || r.nextRole === R_UNPROMOTED)) order(c, steps.start);
      }
      continue;
    }
    if (recurringActive(r, n, op)) continue;
    const stops = steps.stops.filter((s) => s.node === n.name);
    const runnable = n.online && !n.unclean && stops.every((s) => s.runnable);
    const m = add(b, { key: `${r.id}_${op.name}_${op.intervalMs}`, rsc: r.id, task: op.name, intervalMs: op.intervalMs, node: n.name, optional: false, runnable, pseudo: false, reason: undefined, expectedRc: 7 });
    if (r.managed) {
      for (const probe of actionsOf(b, r, 'probe')) if (probe.node === n.name) order(probe, m);
      for (const s of stops) order(s, m);
    }
  }
}

/** pcmk__create_recurring_actions. */
function scheduleRecurring(b: Built, u: Unpacked, p: PrimPlan, steps: RscSteps): void {
  const r = p.rsc;
  if (r.blocked || u.flags.maintenanceMode || isTrue(r.meta.get('maintenance'))) return;
  const node = p.next;
  const active = node !== undefined && !node.maintenance && (r.nextRole !== R_STOPPED || !r.managed);
  const cancels: GAction[] = [];
  for (const op of recurringOps(r)) {
    if (active && node && op.role !== R_STOPPED) recurringForActive(b, p, node, op, steps, cancels);
    recurringForInactive(b, u, p, op, steps);
  }
}

// ---------------------------------------------------------------------------------------------
// The graph
// ---------------------------------------------------------------------------------------------

function primitiveActions(b: Built, u: Unpacked, p: PrimPlan, fenced: ReadonlySet<string>): void {
  const r = p.rsc;
  let demote: GAction | undefined;
  const stops: GAction[] = [];
  if (p.demoteRequired && p.current) {
    const n = p.current;
    const implied = fenced.has(n.name);
    demote = add(b, { key: `${r.id}_demote_0`, rsc: r.id, task: 'demote', intervalMs: 0, node: n.name, optional: false, runnable: n.online || implied, pseudo: !n.online || implied, reason: undefined });
  }
  // pcmk__abort_dangling_migration: the source of a completed migration still needs its stop.
  for (const n of r.danglingMigrations) {
    stops.push(add(b, { key: `${r.id}_stop_0`, rsc: r.id, task: 'stop', intervalMs: 0, node: n.name, optional: false, runnable: true, pseudo: !n.online || fenced.has(n.name), reason: undefined }));
  }
  if (p.stopRequired && p.current) {
    for (const n of r.runningOn) {
      // stop_resource: the target of a partial migration that continues is not stopped.
      if (p.partialContinues && n === r.partialMigrationTarget && n === p.next) continue;
      if (r.danglingMigrations.includes(n)) continue;
      // is_expected_node: with stop_unexpected, not where the resource is expected to stay.
      if (expectedNode(p, n)) continue;
      stops.push(add(b, { key: `${r.id}_stop_0`, rsc: r.id, task: 'stop', intervalMs: 0, node: n.name, optional: false, runnable: p.stopRunnable, pseudo: !n.online || fenced.has(n.name), reason: p.stopReason ?? (p.stopUnexpected && p.next ? 'being multiply active' : undefined), ...(r.failed ? { phase: 0 } : {}) }));
    }
  }
  let start: GAction | undefined;
  let promote: GAction | undefined;
  if (p.startRequired && p.next) {
    start = add(b, { key: `${r.id}_start_0`, rsc: r.id, task: 'start', intervalMs: 0, node: p.next.name, optional: false, runnable: p.startRunnable, pseudo: expectedNode(p, p.next), reason: p.startReason });
  }
  if (p.promoteRequired && p.next) {
    promote = add(b, { key: `${r.id}_promote_0`, rsc: r.id, task: 'promote', intervalMs: 0, node: p.next.name, optional: false, runnable: p.startRunnable && p.promoteBlocked === undefined, pseudo: false, reason: p.promoteBlocked });
  }
  for (const c of actionsOf(b, r, 'cancel')) for (const s of stops) if (s.node === c.node) order(s, c);
  for (const c of actionsOf(b, r, 'clear_failcount')) if (c.reason === 'it is orphaned') for (const s of stops) order(c, s);
  // An orphan's history is removed once it has stopped (remove-after-stop too); orphaned clone
  // instances keep theirs.
  if ((r.orphan && cloneAncestor(r) === undefined) || isTrue(u.options.get('remove-after-stop'))) {
    for (const s of stops) {
      const del = add(b, { key: `${r.id}_delete_0`, rsc: r.id, task: 'delete', intervalMs: 0, node: s.node, optional: false, runnable: s.runnable, pseudo: false, reason: undefined });
      order(s, del);
    }
  }
  agentChangeCleanups(b, u, r, stops, start);
  // pcmk__primitive_internal_constraints: demote -> stop -> start -> promote; probes -> start.
  for (const s of stops) if (demote) order(demote, s);
  if (start) {
    for (const s of stops) order(s, start);
    if (demote) order(demote, start);
    for (const probe of actionsOf(b, r, 'probe')) order(probe, start);
  }
  if (promote) {
    if (start) order(start, promote);
    for (const s of stops) order(s, promote);
    if (demote) order(demote, promote);
    for (const probe of actionsOf(b, r, 'probe')) order(probe, promote);
  }
  if (p.migrate && start && p.current && p.next) migrationActions(b, p, p.current, p.next, start, stops);
  scheduleRecurring(b, u, p, { start, stops, promote, demote });
}

/** is_expected_node: a multiply active resource with stop_unexpected stays on its next node. */
function expectedNode(p: PrimPlan, n: WNode): boolean {
  return p.stopUnexpected && p.rsc.nextRole > R_STOPPED && p.next === n;
}

/**
 * pcmk__create_migration_actions: a live migration is migrate_to on the current node, then
 * migrate_from on the new one, then the stop; the start becomes a pseudo-action.
 */
function migrationActions(b: Built, p: PrimPlan, from: WNode, to: WNode, start: GAction, stops: readonly GAction[]): void {
  const r = p.rsc;
  // A partial migration already did its migrate_to: only migrate_from remains.
  const migrateTo = p.partialContinues ? undefined : add(b, { key: `${r.id}_migrate_to_0`, rsc: r.id, task: 'migrate_to', intervalMs: 0, node: from.name, optional: false, runnable: start.runnable, pseudo: false, reason: undefined });
  const migrateFrom = add(b, { key: `${r.id}_migrate_from_0`, rsc: r.id, task: 'migrate_from', intervalMs: 0, node: to.name, optional: false, runnable: start.runnable, pseudo: false, reason: undefined });
  start.pseudo = true;
  for (const probe of actionsOf(b, r, 'probe')) order(probe, migrateTo ?? migrateFrom);
  if (migrateTo) order(migrateTo, migrateFrom);
  for (const s of stops) order(migrateFrom, s);
  order(migrateFrom, start);
}

const inverse: Readonly<Record<string, string>> = { start: 'stop', stop: 'start', promote: 'demote', demote: 'promote' };
/** The pseudo-action that marks a collective action complete (running after start, ...). */
const completed: Readonly<Record<string, string>> = { start: 'running', stop: 'stopped', promote: 'promoted', demote: 'demoted' };

/**
 * pcmk__group_create_actions and pcmk__group_internal_constraints: start/running/stop/stopped
 * pseudo-actions around the members' actions. Each is mandatory when a member's matching action is
 * (pcmk__group_action_flags); "running" and "stopped" are unrunnable when a member's action is.
 */
function groupActions(b: Built, g: WRsc): void {
  const members = g.children.filter((c) => c.variant === 'primitive');
  const pseudo = (task: string, memberTask: string, completes: boolean): GAction | undefined => {
    const acts = members.flatMap((m) => actionsOf(b, m, memberTask));
    if (acts.length === 0) return undefined;
    const runnable = completes ? acts.every((a) => a.runnable) : acts.some((a) => a.runnable);
    return add(b, { key: `${g.id}_${task}_0`, rsc: g.id, task, intervalMs: 0, node: undefined, optional: false, runnable, pseudo: true, reason: undefined });
  };
  const start = pseudo('start', 'start', false);
  const running = pseudo('running', 'start', true);
  const stop = pseudo('stop', 'stop', false);
  const stopped = pseudo('stopped', 'stop', true);
  if (stop && stopped) order(stop, stopped);
  if (stopped && start) order(stopped, start);
  if (start && running) order(start, running);
  if (cloneAncestor(g)?.promotable === true) {
    // Groups inside promotable clones also get demote/demoted/promote/promoted pseudo-actions.
    const demote = pseudo('demote', 'demote', false);
    const demoted = pseudo('demoted', 'demote', true);
    const promote = pseudo('promote', 'promote', false);
    const promoted = pseudo('promoted', 'promote', true);
    if (demote && demoted) order(demote, demoted);
    if (promote && promoted) order(promote, promoted);
    for (const m of members) {
      for (const a of actionsOf(b, m, 'demote')) {
        if (demote) order(demote, a);
        if (demoted) order(a, demoted);
      }
      for (const a of actionsOf(b, m, 'promote')) {
        if (promote) order(promote, a);
        if (promoted) order(a, promoted);
      }
    }
  }
  for (const m of members) {
    for (const a of actionsOf(b, m, 'stop')) {
      if (stop) order(stop, a);
      if (stopped) order(a, stopped);
    }
    for (const a of actionsOf(b, m, 'start')) {
      if (start) order(start, a);
      if (running) order(a, running);
    }
  }
}

/** One clone action's notification pseudo-actions (pe__action_notif_pseudo_ops). */
interface NotifyOps {
  readonly task: string;
  readonly pre: GAction | undefined;
  readonly preDone: GAction | undefined;
  readonly post: GAction | undefined;
  readonly postDone: GAction | undefined;
}

/** Notifications still to create for a clone, in Pacemaker's order (at graph expansion). */
interface PendingNotify {
  readonly clone: WRsc;
  readonly ops: NotifyOps;
}

function notifPseudoOps(b: Built, c: WRsc, task: string, action: GAction | undefined, complete: GAction | undefined): NotifyOps {
  const mk = (type: string, on: GAction, t: string): GAction => add(b, { key: `${c.id}_${type}_notify_${on.task}_0`, rsc: c.id, task: t, intervalMs: 0, node: undefined, optional: false, runnable: on.runnable, pseudo: true, reason: undefined });
  let pre: GAction | undefined;
  let preDone: GAction | undefined;
  let post: GAction | undefined;
  let postDone: GAction | undefined;
  if (action) {
    pre = mk('pre', action, 'notify');
    preDone = mk('confirmed-pre', action, 'notified');
    order(pre, preDone);
    order(preDone, action);
  }
  if (complete) {
    post = mk('post', complete, 'notify');
    postDone = mk('confirmed-post', complete, 'notified');
    order(complete, post);
    order(post, postDone);
  }
  if (preDone && post) order(preDone, post);
  return { task, pre, preDone, post, postDone };
}

function newNotify(b: Built, r: WRsc, node: WNode, op: GAction | undefined, confirm: GAction | undefined, type: string, task: string): GAction | undefined {
  if (!op || !confirm || !node.online || !op.runnable) return undefined;
  const a = add(b, { key: `${r.id}_${type}_notify_${task}_0`, rsc: r.id, task: 'notify', intervalMs: 0, node: node.name, optional: false, runnable: true, pseudo: false, reason: undefined, phase: 3 });
  order(op, a);
  order(a, confirm);
  return a;
}

function newPostNotify(b: Built, r: WRsc, node: WNode, n: NotifyOps): void {
  newNotify(b, r, node, n.post, n.postDone, 'post', n.task);
  if (!n.postDone) return;
  for (const m of actionsOf(b, r, 'recurring')) if (m.node === node.name) order(n.postDone, m);
}

/** create_notify_actions for one primitive instance. */
function instanceNotifications(b: Built, r: WRsc, n: NotifyOps, anyDoing: boolean, plans: Map<WRsc, PrimPlan>): void {
  const task = n.task;
  if ((task === 'start' || task === 'promote' || task === 'demote') && !anyDoing) return;
  const p = plans.get(r);
  const role = r.role === R_STOPPED && r.runningOn.length > 0 ? R_STARTED : r.role;
  if (role !== R_STOPPED && (task === 'stop' || task === 'demote')) {
    const stop = actionsOf(b, r, 'stop')[0];
    for (const node of r.runningOn) {
      if (stop && stop.pseudo && (node.unclean || node.remoteRequiresReset)) continue;
      newNotify(b, r, node, n.pre, n.preDone, 'pre', task);
      if (task === 'demote' || !stop) newPostNotify(b, r, node, n);
    }
  }
  if (r.nextRole !== R_STOPPED && r.nextRole !== 0 && (task === 'start' || task === 'promote')) {
    const start = actionsOf(b, r, 'start')[0];
    const promote = actionsOf(b, r, 'promote')[0];
    if (start) {
      if (promote && !promote.runnable) return;
      if (!start.runnable) return;
    }
    const node = p?.next;
    if (!node) return;
    if (task !== 'start' || !start) newNotify(b, r, node, n.pre, n.preDone, 'pre', task);
    newPostNotify(b, r, node, n);
  }
}

/** pe__create_notifications for every clone, in creation order. */
function createNotifications(b: Built, pending: readonly PendingNotify[], plans: Map<WRsc, PrimPlan>): void {
  for (const { clone, ops } of pending) {
    const anyDoing = clone.children.some((i) => primitivesOf(i).some((p) => actionsOf(b, p, ops.task).length > 0));
    for (const inst of clone.children) for (const p of primitivesOf(inst)) instanceNotifications(b, p, ops, anyDoing, plans);
  }
}

/** Whether an instance (primitive or group) has an action of `task` that is mandatory and runnable. */
function instanceDoes(b: Built, inst: WRsc, task: string): boolean {
  return primitivesOf(inst).some((p) => actionsOf(b, p, task).some((a) => a.runnable));
}

/** An instance's side of an ordering with its clone: a primitive's action or a group's pseudo-action. */
function instanceEndpoint(b: Built, inst: WRsc, task: string, side: 'first' | 'then'): GAction[] {
  if (inst.variant === 'group') return actionsOf(b, inst, side === 'first' ? (completed[task] ?? task) : task);
  if (inst.variant === 'primitive') return actionsOf(b, inst, task);
  return [];
}

/**
 * pcmk__create_instance_actions and the clone's internal constraints: start/running/stop/stopped
 * (and promote/promoted/demote/demoted for promotable clones) around the instances' actions.
 */
function cloneActions(b: Built, c: WRsc, pending: PendingNotify[]): void {
  const notify = isTrue(c.meta.get('notify'));
  const insts = c.children;
  const anyStarting = insts.some((i) => instanceDoes(b, i, 'start'));
  const anyStopping = insts.some((i) => instanceDoes(b, i, 'stop'));
  const anyActive = insts.some((i) => primitivesOf(i).some((p) => p.runningOn.length > 0));
  const mk = (task: string, runnable: boolean): GAction => add(b, { key: `${c.id}_${task}_0`, rsc: c.id, task, intervalMs: 0, node: undefined, optional: false, runnable, pseudo: true, reason: undefined });
  const start = anyStarting ? mk('start', true) : undefined;
  const running = anyStarting ? mk('running', anyActive || anyStarting) : undefined;
  const startNotify = notify ? notifPseudoOps(b, c, 'start', start, running) : undefined;
  const stop = anyStopping ? mk('stop', true) : undefined;
  const stopped = anyStopping ? mk('stopped', true) : undefined;
  const stopNotify = notify ? notifPseudoOps(b, c, 'stop', stop, stopped) : undefined;
  if (startNotify?.pre && stopNotify?.postDone) order(stopNotify.postDone, startNotify.pre);
  if (startNotify) pending.push({ clone: c, ops: startNotify });
  if (stopNotify) pending.push({ clone: c, ops: stopNotify });
  if (start && running) order(start, running);
  if (stop && stopped) order(stop, stopped);
  if (stopped && start) order(stopped, start);
  for (const i of insts) {
    for (const a of instanceEndpoint(b, i, 'start', 'then')) if (start) order(start, a);
    for (const a of instanceEndpoint(b, i, 'start', 'first')) if (running) order(a, running);
    for (const a of instanceEndpoint(b, i, 'stop', 'then')) if (stop) order(stop, a);
    for (const a of instanceEndpoint(b, i, 'stop', 'first')) if (stopped) order(a, stopped);
  }
  if (c.ordered) {
    // child_ordering_constraints: instances start in order and stop in reverse order.
    let lastStop: GAction | undefined;
    let lastStart: GAction | undefined;
    for (const i of insts) {
      const stopA = instanceEndpoint(b, i, 'stop', 'then')[0];
      if (stopA) {
        if (lastStop) order(stopA, lastStop);
        lastStop = stopA;
      }
      const startA = instanceEndpoint(b, i, 'start', 'then')[0];
      if (startA) {
        if (lastStart) order(lastStart, startA);
        lastStart = startA;
      }
    }
  }
  if (!c.promotable) return;
  const anyPromoting = insts.some((i) => instanceDoes(b, i, 'promote'));
  const anyDemoting = insts.some((i) => instanceDoes(b, i, 'demote'));
  const promote = anyPromoting ? mk('promote', true) : undefined;
  const promoted = anyPromoting ? mk('promoted', true) : undefined;
  const promoteNotify = notify ? notifPseudoOps(b, c, 'promote', promote, promoted) : undefined;
  const demote = anyDemoting ? mk('demote', true) : undefined;
  const demoted = anyDemoting ? mk('demoted', true) : undefined;
  const demoteNotify = notify ? notifPseudoOps(b, c, 'demote', demote, demoted) : undefined;
  if (promoteNotify) pending.push({ clone: c, ops: promoteNotify });
  if (demoteNotify) pending.push({ clone: c, ops: demoteNotify });
  if (promoteNotify?.pre && startNotify?.postDone) order(startNotify.postDone, promoteNotify.pre);
  if (promoteNotify?.pre && demoteNotify?.postDone) order(demoteNotify.postDone, promoteNotify.pre);
  if (stopNotify?.pre && demoteNotify?.postDone) order(demoteNotify.postDone, stopNotify.pre);
  if (promote && promoted) order(promote, promoted);
  if (demote && demoted) order(demote, demoted);
  if (running && promote) order(running, promote);
  if (demoted && stop) order(demoted, stop);
  if (demoted && promote) order(demoted, promote);
  if (demoted && start) order(demoted, start);
  if (stopped && promote) order(stopped, promote);
  for (const i of insts) {
    for (const a of instanceEndpoint(b, i, 'promote', 'then')) if (promote) order(promote, a);
    for (const a of instanceEndpoint(b, i, 'promote', 'first')) if (promoted) order(a, promoted);
    for (const a of instanceEndpoint(b, i, 'demote', 'then')) if (demote) order(demote, a);
    for (const a of instanceEndpoint(b, i, 'demote', 'first')) if (demoted) order(a, demoted);
  }
}

function isGroupOrder(o: WOrder): boolean {
  const plain = (r: WRsc): boolean => r.variant === 'primitive' || r.variant === 'group' || r.variant === 'clone';
  if (o.anyOf !== undefined || o.kind === 'Serialize' || !plain(o.first) || !plain(o.then)) return false;
  if (o.first.variant === 'clone' && o.then.variant === 'clone' && o.then.interleave) return false;
  return o.first.variant !== 'primitive' || o.then.variant !== 'primitive';
}

/** A resource's side of an ordering: its own actions, or a group's pseudo-action. */
function endpoint(b: Built, r: WRsc, task: string, side: 'first' | 'then'): GAction[] {
  if (r.variant === 'group' || r.variant === 'clone') return actionsOf(b, r, side === 'first' ? (completed[task] ?? task) : task);
  return actionsOf(b, r, task);
}

function isInterleaved(o: WOrder): boolean {
  return o.anyOf === undefined && o.kind !== 'Serialize' && o.first.variant === 'clone' && o.then.variant === 'clone' && o.then.interleave;
}

/** The node an instance is (or will be) on, for interleaving. */
function instanceNode(i: WRsc): WNode | undefined {
  const p = primitivesOf(i)[0];
  return p?.allocatedTo ?? p?.runningOn[0];
}

/** Interleaved clones: each "then" instance is ordered after the "first" instance on its node. */
function interleavedOrderings(b: Built, orders: readonly WOrder[]): void {
  for (const o of orders) {
    if (!isInterleaved(o)) continue;
    for (const ti of o.then.children) {
      const node = instanceNode(ti);
      const fi = node ? o.first.children.find((x) => instanceNode(x) === node) : undefined;
      if (!fi) continue;
      for (const fa of instanceEndpoint(b, fi, o.firstAction, 'first')) for (const ta of instanceEndpoint(b, ti, o.thenAction, 'then')) order(fa, ta);
      if (!o.symmetrical) continue;
      const fInv = inverse[o.firstAction];
      const tInv = inverse[o.thenAction];
      if (!fInv || !tInv) continue;
      for (const ta of instanceEndpoint(b, ti, tInv, 'first')) for (const fa of instanceEndpoint(b, fi, fInv, 'then')) order(ta, fa);
    }
  }
}

/** Ordering constraints with a group on either side order the group's pseudo-actions. */
function groupConstraintOrderings(b: Built, orders: readonly WOrder[]): void {
  for (const o of orders) {
    if (!isGroupOrder(o) || o.first === o.then) continue;
    for (const fa of endpoint(b, o.first, o.firstAction, 'first')) for (const ta of endpoint(b, o.then, o.thenAction, 'then')) order(fa, ta);
    if (!o.symmetrical) continue;
    const fi = inverse[o.firstAction];
    const ti = inverse[o.thenAction];
    if (!fi || !ti) continue;
    for (const ta of endpoint(b, o.then, ti, 'first')) for (const fa of endpoint(b, o.first, fi, 'then')) order(ta, fa);
  }
}

/**
 * "One or more" orders (require-all=false sets, clone-min): a pseudo-action named after the set
 * follows the members' actions and precedes the "then" side; it can run once `min` members can.
 */
function oneOrMoreOrderings(b: Built, orders: readonly WOrder[], plans: Map<WRsc, PrimPlan>): void {
  const byName = new Map<string, GAction>();
  for (const o of orders) {
    const any = o.anyOf;
    if (!any || o.kind === 'Serialize') continue;
    let pseudo = byName.get(any.name);
    // Mandatory (in the graph) only when a member's action is.
    if (!pseudo && !any.members.some((m) => memberEndpoint(b, m, o.firstAction, 'first').length > 0)) continue;
    if (!pseudo) {
      const able = any.members.filter((m) => primitivesOf(m).some((p) => { const q = plans.get(p); return q !== undefined && q.hasStart && q.startRunnable && p.nextRole >= R_STARTED; })).length;
      pseudo = add(b, { key: any.name, rsc: undefined, task: 'one-or-more', intervalMs: 0, node: undefined, optional: false, runnable: able >= any.min && able > 0, pseudo: true, reason: undefined, phase: 0.2 });
      byName.set(any.name, pseudo);
      for (const m of any.members) for (const fa of memberEndpoint(b, m, o.firstAction, 'first')) order(fa, pseudo);
    }
    for (const ta of memberEndpoint(b, o.then, o.thenAction, 'then')) order(pseudo, ta);
    if (!o.symmetrical) continue;
    const fi = inverse[o.firstAction];
    const ti = inverse[o.thenAction];
    if (!fi || !ti) continue;
    for (const m of any.members) for (const ta of memberEndpoint(b, o.then, ti, 'first')) for (const fa of memberEndpoint(b, m, fi, 'then')) order(ta, fa);
  }
}

/** An ordering side for any variant: a primitive's actions, a group's or clone's pseudo-action. */
function memberEndpoint(b: Built, r: WRsc, task: string, side: 'first' | 'then'): GAction[] {
  return r.variant === 'primitive' || r.variant === 'group' || r.variant === 'clone' ? endpoint(b, r, task, side) : primitivesOf(r).flatMap((p) => actionsOf(b, p, task));
}

function constraintOrderings(b: Built, orders: readonly PrimOrder[]): void {
  for (const o of orders) {
    if (o.origin !== undefined && (isGroupOrder(o.origin) || isInterleaved(o.origin) || (o.origin.anyOf !== undefined && o.origin.kind !== 'Serialize'))) continue;
    const thens = actionsOf(b, o.then, o.thenAction);
    for (const f of o.firsts) {
      if (f === o.then) continue;
      for (const fa of actionsOf(b, f, o.firstAction)) for (const ta of thens) order(fa, ta);
      if (!o.symmetrical) continue;
      const fi = inverse[o.firstAction];
      const ti = inverse[o.thenAction];
      if (!fi || !ti) continue;
      for (const ta of actionsOf(b, o.then, ti)) for (const fa of actionsOf(b, f, fi)) order(ta, fa);
    }
  }
}

/**
 * add_probe_orderings_for_stops (pcmk_sched_probes.c): for an ordering "stop X then Y" with X a
 * primitive other than Y's, every probe of X comes before Y too (a probe that finds X running
 * makes the stop needed only in the next transition). The orderings whose first side is a
 * primitive's stop: a group member's stop before the group's stopped, the members' reverse order
 * (a later member stops before an earlier one), and the stop side of primitive orderings and
 * their symmetrical inverses. Groups and clones have no probes of their own.
 */
function probeThenOrderings(u: Unpacked, b: Built, orders: readonly PrimOrder[]): void {
  if (!u.flags.startupProbes) return;
  const probesBefore = (first: WRsc, thens: readonly GAction[]): void => {
    if (thens.length === 0) return;
    const probes = actionsOf(b, first, 'probe');
    for (const probe of probes) for (const then of thens) order(probe, then);
  };
  const visit = (r: WRsc): void => {
    for (const c of r.children) visit(c);
    if (r.variant !== 'group') return;
    const stopped = actionsOf(b, r, 'stopped');
    for (const m of r.children) if (m.variant === 'primitive') probesBefore(m, stopped);
  };
  for (const top of u.resources) visit(top);
  probeRestartOrderings(u, b, orders);
  for (const o of orders) {
    const origin = o.origin;
    if (origin !== undefined && (isGroupOrder(origin) || isInterleaved(origin) || origin.anyOf !== undefined)) continue;
    for (const f of o.firsts) {
      if (f === o.then) continue;
      // A constraint's first side is the resource it names: a clone has no probes of its own.
      if (o.firstAction === 'stop' && f.variant === 'primitive' && (origin === undefined || origin.first === f)) {
        probesBefore(f, actionsOf(b, o.then, o.thenAction));
      }
      if (!o.symmetrical || inverse[o.thenAction] !== 'stop' || o.then.variant !== 'primitive') continue;
      if (origin !== undefined && origin.then !== o.then) continue;
      const fi = inverse[o.firstAction];
      if (fi) probesBefore(o.then, actionsOf(b, f, fi));
    }
  }
}

/**
 * add_restart_orderings_for_probe, for primitives outside clones: a probe comes before the start
 * of its resource, and so (in case that start is part of a restart) before the stop of every other
 * primitive whose start that start implies, transitively: the later members of an ordered group,
 * and the "then" side of mandatory start-then-start orderings between primitives. Stops implied by
 * fencing (pseudo-actions) are left out, as Pacemaker leaves them out.
 */
function probeRestartOrderings(u: Unpacked, b: Built, orders: readonly PrimOrder[]): void {
  const impliedStarts = new Map<WRsc, WRsc[]>();
  const implies = (first: WRsc, then: WRsc): void => {
    const list = impliedStarts.get(first);
    if (list === undefined) impliedStarts.set(first, [then]);
    else if (!list.includes(then)) list.push(then);
  };
  const visit = (r: WRsc): void => {
    if (r.variant === 'clone' || r.variant === 'bundle') return;
    for (const c of r.children) visit(c);
    // A group's members start in order unless ordered=false (the default is true).
    const ordered = r.meta.get('ordered');
    if (r.variant !== 'group' || (ordered !== undefined && !isTrue(ordered))) return;
    const members = r.children.filter((c) => c.variant === 'primitive');
    for (let i = 1; i < members.length; i++) implies(members[i - 1]!, members[i]!);
  };
  for (const top of u.resources) visit(top);
  for (const o of orders) {
    const origin = o.origin;
    if (origin === undefined || origin.kind !== 'Mandatory' || origin.anyOf !== undefined || isGroupOrder(origin) || isInterleaved(origin)) continue;
    if (o.firstAction !== 'start' || o.thenAction !== 'start' || o.firsts.length !== 1) continue;
    const first = o.firsts[0]!;
    if (first === o.then || first.variant !== 'primitive' || o.then.variant !== 'primitive') continue;
    if (cloneAncestor(first) !== undefined || cloneAncestor(o.then) !== undefined) continue;
    implies(first, o.then);
  }
  if (impliedStarts.size === 0) return;
  for (const [rsc, byKind] of b.byRsc) {
    const probes = byKind.get('probe');
    const r = probes !== undefined ? u.byId.get(rsc) : undefined;
    if (r === undefined || !impliedStarts.has(r)) continue;
    const seen = new Set<WRsc>([r]);
    const stack = [...impliedStarts.get(r)!];
    const stops: GAction[] = [];
    while (stack.length > 0) {
      const x = stack.pop()!;
      if (seen.has(x)) continue;
      seen.add(x);
      for (const stop of actionsOf(b, x, 'stop')) if (!stop.pseudo) stops.push(stop);
      for (const next of impliedStarts.get(x) ?? []) if (!seen.has(next)) stack.push(next);
    }
    for (const probe of probes!) for (const stop of stops) order(probe, stop);
  }
}

function fencingOrderings(b: Built, u: Unpacked, stonith: ReadonlyMap<string, GAction>): void {
  // order_start_vs_fencing: starts (and promotes) of resources that require fencing wait for it.
  for (const s of stonith.values()) {
    for (const top of u.resources) {
      for (const r of primitivesOf(top)) {
        if (!r.needsFencing || !r.managed) continue;
        for (const a of [...actionsOf(b, r, 'start'), ...actionsOf(b, r, 'promote')]) order(s, a);
      }
    }
  }
  // schedule_fencing_and_shutdowns: without concurrent fencing, non-DC fencing runs as a chain
  // in node order; fencing the DC comes after all others.
  const concurrent = isTrue(u.options.get('concurrent-fencing') ?? 'false');
  let previous: GAction | undefined;
  const others: GAction[] = [];
  let dc: GAction | undefined;
  for (const n of u.nodes) {
    const s = stonith.get(n.name);
    if (!s || n.kind === 'guest') continue;
    if (n.isDc) {
      dc = s;
      continue;
    }
    if (!concurrent && previous) order(previous, s);
    previous = s;
    others.push(s);
  }
  if (dc) for (const s of others) order(s, dc);
  for (const a of b.actions) {
    if (a.task !== 'stop' || a.node === undefined) continue;
    const s = stonith.get(a.node);
    if (!s) continue;
    order(s, a);
    // A group stopping a member that fencing stops waits for the fencing too.
    const parent = a.rsc !== undefined ? u.byId.get(a.rsc)?.parent : undefined;
    if (parent?.variant === 'group') for (const g of actionsOf(b, parent, 'stop')) order(s, g);
  }
}

function shutdowns(b: Built, u: Unpacked, fenced: ReadonlySet<string>): void {
  for (const n of u.nodes) {
    if (n.kind !== 'member' || !n.shutdown || !n.online || n.unclean || fenced.has(n.name)) continue;
    const s = add(b, { key: `do_shutdown-${n.name}`, rsc: undefined, task: 'do_shutdown', intervalMs: 0, node: n.name, optional: false, runnable: true, pseudo: false, reason: undefined });
    for (const a of b.actions) if (a.task === 'stop' && a.node === n.name && a.rsc !== undefined) order(a, s);
  }
}

/**
 * pcmk__create_utilization_constraints (placement strategies other than default): one
 * `load_stopped_NODE` pseudo-action per node a primitive may run on; stops there come before it,
 * and starts there after it.
 */
function loadStopped(b: Built, u: Unpacked): void {
  if (u.flags.placementStrategy.toLowerCase() === 'default') return;
  const byNode = new Map<string, GAction>();
  const loadOn = (name: string): GAction => {
    let a = byNode.get(name);
    if (!a) {
      a = add(b, { key: `load_stopped_${name}`, rsc: undefined, task: 'load_stopped', intervalMs: 0, node: name, optional: false, runnable: true, pseudo: true, reason: undefined });
      byNode.set(name, a);
    }
    return a;
  };
  for (const top of u.resources) {
    for (const r of primitivesOf(top)) {
      for (const n of u.nodes) {
        if (!r.allowed.has(n.name)) continue;
        const load = loadOn(n.name);
        for (const s of actionsOf(b, r, 'stop')) if (s.node === n.name) order(s, load);
        for (const s of actionsOf(b, r, 'start')) if (s.node === n.name) loadOrder(b, load, s);
        for (const s of actionsOf(b, r, 'migrate_to')) if (actionsOf(b, r, 'migrate_from').some((m) => m.node === n.name)) loadOrder(b, load, s);
      }
    }
  }
}

function loadOrder(b: Built, load: GAction, then: GAction): void {
  if (then.inputs.includes(load.id)) return;
  order(load, then);
  b.loadEdges.push([load, then]);
}

/** Whether `from` (transitively) waits for `target`. */
function waitsFor(b: Built, from: GAction, target: GAction): boolean {
  const seen = new Set<number>();
  const stack = [from];
  while (stack.length > 0) {
    const a = stack.pop() as GAction;
    for (const id of a.inputs) {
      if (id === target.id) return true;
      if (seen.has(id)) continue;
      seen.add(id);
      const next = b.actions[id];
      if (next) stack.push(next);
    }
  }
  return false;
}

/** should_add_input_to_graph: a load ordering that would close a loop is left out. */
function dropLoadLoops(b: Built): void {
  for (const [load, then] of b.loadEdges) {
    if (waitsFor(b, load, then)) then.inputs = then.inputs.filter((id) => id !== load.id);
  }
}

/**
 * Gives ids in Pacemaker's creation order (phase, then creation) and maps the inputs. Ids are the
 * actions' indexes, and phases are few: a stable bucket pass instead of a comparison sort.
 */
function renumber(actions: GAction[]): void {
  const phases = [...new Set(actions.map((a) => a.phase ?? 2))].sort((x, y) => x - y);
  const newId = new Int32Array(actions.length);
  const sorted: GAction[] = [];
  for (const phase of phases) {
    for (const a of actions) {
      if ((a.phase ?? 2) !== phase) continue;
      newId[a.id] = sorted.length;
      sorted.push(a);
    }
  }
  for (const a of actions) {
    a.id = newId[a.id]!;
    const inputs = a.inputs;
    for (let i = 0; i < inputs.length; i++) inputs[i] = newId[inputs[i]!]!;
  }
  for (let i = 0; i < sorted.length; i++) actions[i] = sorted[i]!;
}

/** Drops, in place, the inputs that can never run (see buildGraphActions). */
function dropUnrunnableInputs(actions: readonly GAction[]): void {
  for (const a of actions) {
    const inputs = a.inputs;
    let kept = 0;
    for (let i = 0; i < inputs.length; i++) {
      const id = inputs[i]!;
      if (actions[id]?.runnable === true) inputs[kept++] = id;
    }
    // Setting an array's length is a runtime call even when it does not change: only when needed.
    if (kept !== inputs.length) inputs.length = kept;
  }
}

/** The graph actions of a transition, with their ordering inputs. */
export function buildGraphActions(u: Unpacked, plans: Map<WRsc, PrimPlan>, fencing: readonly Fencing[], cons: Constraints, orders: readonly PrimOrder[]): Action[] {
  const b: Built = { actions: [], byRsc: new Map(), loadEdges: [] };
  const stonith = new Map<string, GAction>();
  for (const f of fencing) {
    const a = add(b, { key: `stonith-${f.node.name}-${f.action}`, rsc: undefined, task: 'stonith', intervalMs: 0, node: f.node.name, optional: false, runnable: true, pseudo: false, reason: f.reason });
    stonith.set(f.node.name, a);
  }
  const fenced = new Set(stonith.keys());
  // Fail count clearing decided while unpacking the history (check_operation_expiry).
  for (const top of u.resources) {
    for (const r of primitivesOf(top)) {
      for (const [node, reason] of r.failcountClears) {
        // Those of changed action definitions come later, with the other configuration checks.
        const phase = reason === 'action definition changed' ? 0.5 : 0;
        add(b, { key: `${r.id}_clear_failcount_0`, rsc: r.id, task: 'clear_failcount', intervalMs: 0, node, optional: false, runnable: true, pseudo: false, reason, phase });
      }
    }
  }
  for (const top of u.resources) for (const r of primitivesOf(top)) cancelOrphanedRecurring(b, u, r);
  scheduleProbes(u, b, cons, plans);
  clearOrphanFailcounts(b, u);
  const visit = (r: WRsc): void => {
    if (r.variant === 'primitive') {
      const p = plans.get(r);
      if (p) primitiveActions(b, u, p, fenced);
      return;
    }
    for (const c of r.children) visit(c);
    if (r.variant === 'group') groupActions(b, r);
    else if (r.variant === 'clone') cloneActions(b, r, pending);
  };
  const pending: PendingNotify[] = [];
  for (const top of u.resources) visit(top);
  createNotifications(b, pending, plans);
  loadStopped(b, u);
  groupConstraintOrderings(b, cons.orders);
  oneOrMoreOrderings(b, cons.orders, plans);
  interleavedOrderings(b, cons.orders);
  constraintOrderings(b, orders);
  probeThenOrderings(u, b, orders);
  fencingOrderings(b, u, stonith);
  shutdowns(b, u, fenced);
  dropLoadLoops(b);
  renumber(b.actions);
  // An input that can never run does not hold its action back: whether the action itself can run
  // was decided by the ordering flags (pcmk__update_action_for_orderings), so the edge is dropped
  // as should_add_input_to_graph drops unrunnable optional inputs.
  dropUnrunnableInputs(b.actions);
  return b.actions;
}

