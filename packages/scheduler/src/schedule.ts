/**
 * The scheduler as a flat list of named phases: unpack status, constraints, node criteria,
 * assignment, actions, fencing, orderings, summary. `schedule(cib, options)` is a pure function
 * of the CIB and the time; `unpackCluster` runs the first phase only.
 */
import { copyMap } from './util.js';
import type { Cib } from '@paceline/cib';
import { SCORE_INFINITY } from '@paceline/cib';
import type { Constraints } from './constraints.js';
import type { PrimPlan } from './actions.js';
import type { WColocation, WNode } from './work.js';
import { primitivesOf } from './work.js';
import { allResources } from '@paceline/cib';
import { applyOrderings, buildActions, planPrimitives, remoteConnectionFencing, scheduleFencing, summarize } from './actions.js';
import { applyNodeCriteria, assignAll, avoidRemoteNodes, failCount, groupInternalColocations } from './assign.js';
import { configChanges } from './config-changes.js';
import { healthLocations } from './health.js';
import { buildConstraints } from './constraints.js';
import { applyTickets } from './tickets.js';
import type { Action, ClusterState, Diagnostic, Explanation, FailInfo, NodeInfo, ResourceInfo, Role, ScheduleOptions, ScheduleResult, ScoreLine } from './types.js';
import type { Unpacked } from './unpack.js';
import { unpack } from './unpack.js';
import { ScoreLog } from './scores.js';
import type { WRsc } from './work.js';
import { R_PROMOTED, roleName } from './work.js';

/** The time to schedule at: the option, else the CIB's execution-date, else 0. */
export function effectiveNowSec(cib: Cib, options: ScheduleOptions): number {
  if (options.nowSec !== undefined) return options.nowSec;
  const e = cib.cib.executionDate;
  const n = e === undefined ? Number.NaN : Number.parseInt(e, 10);
  return Number.isNaN(n) ? 0 : n;
}

/** Phase 1 only: the unpacked cluster state. */
export function unpackCluster(cib: Cib, options: ScheduleOptions = {}): ClusterState {
  return toClusterState(unpack(cib, effectiveNowSec(cib, options)));
}

/** Everything one run produced, internals included (for `schedule` and `explain`). */
interface Run {
  readonly u: Unpacked;
  readonly plans: Map<WRsc, PrimPlan>;
  readonly result: ScheduleResult;
}

/** The state the phases of one run share; each phase fills its part. */
interface RunState {
  readonly cib: Cib;
  readonly options: ScheduleOptions;
  u?: Unpacked;
  state?: ClusterState;
  diagnostics: Diagnostic[];
  cons?: Constraints;
  noPromotion?: ReadonlySet<WRsc>;
  scores: ScoreLog;
  fencing?: ReturnType<typeof scheduleFencing>;
  plans?: Map<WRsc, PrimPlan>;
  result?: ScheduleResult;
}

/** One named step of a run (for callers that measure phases: the engine itself has no clock). */
export interface SchedulePhase {
  readonly name: string;
  readonly run: () => void;
}

function must<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new Error(`scheduler phase order: ${what} not computed yet`);
  return v;
}

function phasesOf(s: RunState): readonly SchedulePhase[] {
  const { cib } = s;
  return [
    {
      name: 'unpack',
      run: () => {
        s.u = unpack(cib, effectiveNowSec(cib, s.options));
        s.state = toClusterState(s.u);
        s.diagnostics.push(...s.u.diagnostics);
      },
    },
    {
      name: 'constraints',
      run: () => {
        const u = must(s.u, 'unpack');
        const tags = new Map<string, readonly string[]>();
        for (const t of cib.configuration?.tags ?? []) tags.set(t.id, t.refs);
        // A template named in a constraint stands for the primitives built from it.
        for (const t of cib.configuration?.resources?.templates ?? []) {
          tags.set(t.id, allResources(cib).filter((r) => r.kind === 'primitive' && r.template === t.id).map((r) => r.id));
        }
        s.noPromotion = applyTickets(cib, u, tags, s.diagnostics).noPromotion;
        const cons0 = buildConstraints(u, { constraints: cib.configuration?.constraints?.constraints ?? [], tags }, s.diagnostics);
        s.cons = withGuestConstraints(u, { ...cons0, locations: [...healthLocations(u), ...cons0.locations] });
        groupInternalColocations(u);
      },
    },
    {
      name: 'node criteria',
      run: () => {
        const u = must(s.u, 'unpack');
        applyNodeCriteria(u, must(s.cons, 'constraints'));
        avoidRemoteNodes(u);
      },
    },
    {
      name: 'assignment',
      run: () => {
        const u = must(s.u, 'unpack');
        const promotedLocations = new Map<string, Map<string, number>>();
        for (const l of must(s.cons, 'constraints').locations) {
          if (l.role !== R_PROMOTED) continue;
          const m = promotedLocations.get(l.rsc.id) ?? new Map<string, number>();
          for (const [n, sc] of l.scores) m.set(n, (m.get(n) ?? 0) + sc);
          promotedLocations.set(l.rsc.id, m);
        }
        assignAll({ u, scores: s.scores, promotedLocations, noPromotion: must(s.noPromotion, 'tickets') });
        if (u.flags.startupProbes && u.nodes.some((n) => n.online && !n.unclean)) sortInstancesByNumber(u);
      },
    },
    {
      name: 'actions',
      run: () => {
        const u = must(s.u, 'unpack');
        remoteConnectionFencing(u);
        s.fencing = scheduleFencing(u);
        const fenced = new Set(s.fencing.map((f) => f.node.name));
        s.plans = planPrimitives(u, fenced, configChanges(u));
        applyOrderings(u, must(s.cons, 'constraints'), s.plans);
      },
    },
    {
      name: 'summary',
      run: () => {
        const u = must(s.u, 'unpack');
        const plans = must(s.plans, 'actions');
        const fencing = must(s.fencing, 'actions');
        const summary = summarize(u, plans, fencing);
        const cons = must(s.cons, 'constraints');
        let actions: readonly Action[] | undefined;
        const log = s.scores;
        let lines: readonly ScoreLine[] | undefined;
        // Score lines are expanded from the compact log when first read (crm_simulate -s, explain).
        // The action graph is built when first read too: crm_simulate -R and -s print only the
        // summary (16 x 1000: 33 ms of a 600 ms run), -S, -G, -D, explain and the DC read it.
        s.result = {
          state: must(s.state, 'unpack'),
          transition: {
            summary,
            get actions(): readonly Action[] {
              actions ??= buildActions(u, plans, fencing, cons);
              return actions;
            },
          },
          get scores(): readonly ScoreLine[] {
            lines ??= log.lines();
            return lines;
          },
          diagnostics: s.diagnostics,
        };
      },
    },
  ];
}

/**
 * The phases of `schedule(cib, options)` in order, and how to get the result once they have all
 * run. For benchmarks and tracing; `schedule` runs them back to back.
 */
export function schedulePhases(cib: Cib, options: ScheduleOptions = {}): { phases: readonly SchedulePhase[]; result: () => ScheduleResult } {
  const s: RunState = { cib, options, diagnostics: [], scores: new ScoreLog() };
  return { phases: phasesOf(s), result: () => must(s.result, 'summary') };
}

/** A run whose status is unpacked and whose scheduling is still to do (see `startSchedule`). */
export interface StartedSchedule {
  /** The unpacked cluster state: what `unpackCluster(cib, options)` returns. */
  readonly state: ClusterState;
  /** Runs the remaining phases: what `schedule(cib, options)` returns. Once only. */
  schedule(): ScheduleResult;
}

/**
 * `unpackCluster` and then `schedule` on the same CIB and options, unpacking the status once: for
 * callers that show the state before scheduling (crm_simulate prints the current status, then the
 * Transition Summary). `state` is the run's own unpacked state, which the later phases do not
 * change (it is a copy).
 */
export function startSchedule(cib: Cib, options: ScheduleOptions = {}): StartedSchedule {
  const s: RunState = { cib, options, diagnostics: [], scores: new ScoreLog() };
  const [first, ...rest] = phasesOf(s);
  first?.run();
  let done = false;
  return {
    state: must(s.state, 'unpack'),
    schedule: (): ScheduleResult => {
      if (done) throw new Error('startSchedule: schedule() runs once');
      done = true;
      for (const p of rest) p.run();
      return must(s.result, 'summary');
    },
  };
}

function run(cib: Cib, options: ScheduleOptions): Run {
  const s: RunState = { cib, options, diagnostics: [], scores: new ScoreLog() };
  for (const p of phasesOf(s)) p.run();
  return { u: must(s.u, 'unpack'), plans: must(s.plans, 'actions'), result: must(s.result, 'summary') };
}

export function schedule(cib: Cib, options: ScheduleOptions = {}): ScheduleResult {
  return run(cib, options).result;
}

/** Why a node is not usable for any resource, or undefined when it is. */
function nodeProblem(n: WNode): string | undefined {
  if (n.unclean) return 'unclean (to be fenced)';
  if (!n.online) return 'offline';
  if (n.shutdown) return 'shutting down';
  if (n.pending) return 'pending';
  if (n.standby) return n.standbyOnFail ? 'standby (on-fail)' : 'standby';
  if (n.maintenance) return 'maintenance';
  return undefined;
}

/**
 * Why `rscId` (or each primitive under it) is where it is, or stopped: for every node the score
 * it was assigned with and what built that score, the node's state, and what blocks its start.
 * Undefined when no such resource exists.
 */
export function explain(cib: Cib, rscId: string, options: ScheduleOptions = {}): readonly Explanation[] | undefined {
  const { u, plans, result } = run(cib, options);
  const r = u.byId.get(rscId);
  if (!r) return undefined;
  return primitivesOf(r).map((p): Explanation => {
    const plan = plans.get(p);
    const scores = p.finalScores ?? p.allowed;
    const nodes = u.nodes.map((n) => ({
      node: n.name,
      score: scores.get(n.name) ?? -SCORE_INFINITY,
      problem: nodeProblem(n),
      contributions: [...(p.contrib.get(n.name) ?? [])],
    }));
    nodes.sort((a, b) => b.score - a.score || (a.node < b.node ? -1 : 1));
    return {
      rsc: p.id,
      role: roleName(p.role),
      runningOn: p.runningOn.map((n) => n.name),
      nextRole: roleName(p.nextRole),
      assignedTo: p.allocatedTo?.name,
      managed: p.managed,
      failed: p.failed,
      blockedBy: plan && !plan.startRunnable && plan.hasStart ? (plan.startReason ?? 'start cannot run') : undefined,
      nodes,
      summary: result.transition.summary.filter((l) => l.rsc === p.id),
    };
  });
}
/**
 * A guest node's connection runs with, and starts after, the resource hosting the guest
 * (pcmk__primitive_internal_constraints for remote connections with a container).
 */
function withGuestConstraints(u: Unpacked, cons: Constraints): Constraints {
  const orders = [...cons.orders];
  const colocations = [...cons.colocations];
  const guestOf = new Map<WRsc, string>();
  for (const n of u.nodes) if (n.kind === 'guest' && n.connection?.container) guestOf.set(n.connection.container, n.name);
  for (const r of u.byId.values()) {
    if (r.variant !== 'primitive' || !r.container) continue;
    // A resource whose container hosts a guest node runs on that guest node instead.
    const guest = !r.isRemoteConnection ? (r.container.isRemoteConnection ? r.container.id : guestOf.get(r.container)) : undefined;
    if (guest !== undefined) {
      for (const name of [...r.allowed.keys()]) if (name !== guest) r.allowed.set(name, -SCORE_INFINITY);
      continue;
    }
    const c: WColocation = {
      id: 'resource-with-container',
      dependent: r,
      primary: r.container,
      score: SCORE_INFINITY,
      dependentRole: 0,
      primaryRole: 0,
      nodeAttribute: undefined,
      influence: true,
    };
    r.thisWith.push(c);
    r.container.withThis.push(c);
    colocations.push(c);
    orders.push({ id: 'resource-with-container', first: r.container, firstAction: 'start', then: r, thenAction: 'start', kind: 'Mandatory', symmetrical: true, internal: true });
  }
  for (const b of u.bundles.values()) {
    for (const rep of b.replicas) {
      if (!rep.ip) continue;
      const c: WColocation = {
        id: 'ip-with-docker',
        dependent: rep.ip,
        primary: rep.container,
        score: SCORE_INFINITY,
        dependentRole: 0,
        primaryRole: 0,
        nodeAttribute: undefined,
        influence: true,
      };
      rep.ip.thisWith.push(c);
      rep.container.withThis.push(c);
      colocations.push(c);
      orders.push({ id: 'ip-with-docker', first: rep.ip, firstAction: 'start', then: rep.container, thenAction: 'start', kind: 'Mandatory', symmetrical: true, internal: true });
    }
  }
  return { locations: cons.locations, colocations, orders };
}

/** clone_create_probe sorts clone instances by number; the summary lists them in that order. */
function sortInstancesByNumber(u: Unpacked): void {
  const num = (r: WRsc): number => Number(/[:-]([0-9]+)$/.exec(r.id)?.[1] ?? 0);
  const visit = (r: WRsc): void => {
    if (r.variant === 'clone') r.children.sort((a, b) => num(a) - num(b));
    for (const c of r.children) visit(c);
  };
  for (const r of u.resources) visit(r);
}

function toClusterState(u: Unpacked): ClusterState {
  const nodes: NodeInfo[] = u.nodes.map((n) => ({
    id: n.id,
    name: n.name,
    kind: n.kind,
    online: n.online,
    unclean: n.unclean,
    standby: n.standby,
    standbyOnFail: n.standbyOnFail,
    maintenance: n.maintenance,
    shutdown: n.shutdown,
    pending: n.pending,
    fenceReason: u.fenceRequests.get(n.name),
    attributes: copyMap(n.attrs),
    utilization: new Map(),
    weight: n.configWeight,
    connectionRsc: undefined,
  }));
  const resources: ResourceInfo[] = [];
  const visit = (r: WRsc): void => {
    resources.push(resourceInfo(u, r));
    for (const c of r.children) visit(c);
  };
  for (const r of u.resources) visit(r);
  return {
    nowSec: u.nowSec,
    haveQuorum: u.flags.haveQuorum,
    stonithEnabled: u.flags.stonithEnabled,
    symmetric: u.flags.symmetric,
    nodes,
    nodeByName: new Map(nodes.map((n) => [n.name, n])),
    resources,
    resourceById: new Map(resources.map((r) => [r.id, r])),
    options: copyMap(u.options),
  };
}

/** The children of every resource without any: one shared frozen array. */
const noChildIds: readonly string[] = Object.freeze([]);

function resourceInfo(u: Unpacked, r: WRsc): ResourceInfo {
  const failCounts: FailInfo[] = [];
  if (r.variant === 'primitive') {
    for (const n of u.nodes) {
      const c = failCount(u, r, n);
      if (c > 0) failCounts.push({ node: n.name, count: c, lastFailure: 0, expired: false });
    }
  }
  const activeRoles = new Map<string, Role>();
  r.roleOn.forEach((v, k) => activeRoles.set(k, roleName(v)));
  const info: { -readonly [K in keyof ResourceInfo]: ResourceInfo[K] } = {
    id: r.id,
    variant: r.variant,
    parent: r.parent?.id,
    children: r.children.length === 0 ? noChildIds : r.children.map((c) => c.id),
    agent: r.agent,
    role: roleName(r.role === 0 ? 1 : r.role),
    runningOn: r.runningOn.map((n) => n.name),
    activeRoles,
    failed: r.failed,
    managed: r.managed,
    orphan: r.orphan,
    blocked: r.blocked,
    targetRole: r.targetRole === undefined ? 'Started' : roleName(r.targetRole),
    failCounts,
    history: new Map(),
    meta: copyMap(r.meta),
    promotable: r.promotable,
    unique: r.unique,
  };
  // Present only when set, as before (an object spread per resource cost more than the rest).
  if (r.failureIgnored) info.failureIgnored = true;
  return info;
}
