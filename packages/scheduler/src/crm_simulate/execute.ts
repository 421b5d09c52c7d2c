/**
 * "Executing Cluster Transition:": crm_simulate's simulated run of the transition graph
 * (pcmk_simulate.c with pcmk_graph_consumer.c), and the results it writes into the status section.
 *
 * The graph: one synapse per action Pacemaker would put in it (pcmk_graph_producer.c
 * should_add_action_to_graph), in Pacemaker's synapse order: each resource's own actions, then its
 * children's (clones list children first), then every remaining action; within each list the
 * newest action first, because Pacemaker prepends actions to its lists (pe_actions.c). Each
 * synapse waits for its inputs. Execution repeats passes over the synapses in order, firing every synapse whose
 * inputs are confirmed; a simulated action confirms at once, so a later synapse in the same pass can
 * fire too. A failed action (`-F`) stops everything but pseudo-actions, as Pacemaker's abort
 * priority does.
 *
 * NEEDS-ENGINE (worked around here; see the report):
 * - `Action.expectedRc` (the graph's CRM_meta_op_target_rc): without it, probes expect 7 unless the
 *   resource is active on the node, monitors of a Promoted-role op expect 8, others 0.
 * - `Action.inGraph` and graph-filtered `inputs` (should_add_input_to_graph): without them the
 *   graph is rebuilt from runnable/optional flags, and an input outside the graph blocks its
 *   synapse only when it is not optional.
 * - migrate_source / migrate_target of migrations: taken from the paired migrate action.
 */
import { SCORE_INFINITY } from '@paceline/cib';
import type { Action, ClusterState, ResourceInfo, Transition } from '../types.js';
import { configuredId } from './status.js';
import type { DigestSource } from './digests.js';
import { StatusEditor, type AgentIdentity } from './status-edit.js';

/** Fields the engine may add to `Action`; read when present. */
interface ActionExtras {
  readonly expectedRc?: number;
  readonly inGraph?: boolean;
  readonly stonithAction?: string;
  /** The synapse priority (INFINITY for notifications and fencing-related work). */
  readonly priority?: number;
  /**
   * The id the graph gives the action's resource (`<primitive id>`: the instance's clone_name, the
   * id its history was found under, else the configured id; `Action.rsc` is then the long id).
   */
  readonly graphRscId?: string;
}

/** An `-F` spec: `${rsc}_${task}_${intervalMs}@${node}=${rc}`. */
export interface OpFailSpec {
  readonly text: string;
}

export interface ExecuteInput {
  readonly transition: Transition;
  readonly state: ClusterState;
  readonly editor: StatusEditor;
  /** Agent identities of configured primitives (by configured id). */
  readonly agents: ReadonlyMap<string, AgentIdentity>;
  /** Promoted-role recurring monitors, as `${configuredId}_monitor_${intervalMs}`. */
  readonly promotedMonitors: ReadonlySet<string>;
  readonly opFail: readonly string[];
  /** The synapses in graph order, when known (e.g. read from a graph file); else graphOrder(). */
  readonly order?: readonly Action[];
  /** Digests of the configured parameters, recorded as op-digest (omitted when undefined). */
  readonly digests?: DigestSource;
  /** The real clock (epoch seconds) for injected last-failure times, as crm_simulate uses time(). */
  readonly clockSec: number;
  /** Receives each executed action as crm_simulate reports it (text lines or XML elements). */
  readonly report: ((e: ExecEvent) => void) | undefined;
}

/** One reported step of the simulated execution (the inject-* messages of pcmk_output.c). */
export type ExecEvent =
  | { readonly kind: 'pseudo'; readonly task: string; readonly node: string | undefined }
  | { readonly kind: 'rsc'; readonly rsc: string; readonly op: string; readonly node: string; readonly intervalMs: number }
  | { readonly kind: 'fence'; readonly target: string; readonly op: string }
  | { readonly kind: 'cluster'; readonly task: string; readonly node: string; readonly rsc: string | undefined }
  | { readonly kind: 'failed'; readonly actionId: number; readonly rc: number }
  | { readonly kind: 'attribute'; readonly text: string };

/** The text line of an event (inject_pseudo_action, inject_rsc_action, ...). */
export function eventText(e: ExecEvent): { item: boolean; text: string } {
  switch (e.kind) {
    case 'pseudo':
      return { item: true, text: `Pseudo action:   ${e.task}${e.node !== undefined ? ` on ${e.node}` : ''}` };
    case 'rsc':
      return { item: true, text: `Resource action: ${e.rsc.padEnd(15)} ${e.op}${e.intervalMs > 0 ? `=${e.intervalMs}` : ''} on ${e.node}` };
    case 'fence':
      return { item: true, text: `Fencing ${e.target} (${e.op})` };
    case 'cluster':
      return { item: true, text: `Cluster action:  ${e.task}${e.rsc !== undefined ? ` for ${e.rsc}` : ''} on ${e.node}` };
    case 'failed':
      return { item: false, text: `Pretending action ${e.actionId} failed with rc=${e.rc}` };
    case 'attribute':
      return { item: true, text: e.text };
    default: {
      const never: never = e;
      throw new Error(`unknown event ${JSON.stringify(never)}`);
    }
  }
}

export interface ExecuteResult {
  /** Whether every synapse ran (Pacemaker: "Transition failed: terminated" otherwise). */
  readonly complete: boolean;
  readonly executed: readonly Action[];
}

function extras(a: Action): ActionExtras {
  return a as Action & ActionExtras;
}

/** should_add_action_to_graph, from the flags the engine exposes. */
export function inGraph(a: Action, state: ClusterState): boolean {
  const given = extras(a).inGraph;
  if (given !== undefined) return given;
  if (!a.runnable || a.optional) return false;
  const rsc = a.rsc !== undefined ? state.resourceById.get(a.rsc) : undefined;
  if (rsc && !rsc.managed && a.task !== 'monitor' && a.intervalMs === 0) return false;
  if (a.pseudo || a.task === 'stonith' || a.task === 'do_shutdown') return true;
  if (a.node === undefined) return false;
  const node = state.nodeByName.get(a.node);
  if (node && node.kind !== 'guest' && (!node.online || node.unclean)) return false;
  return true;
}

/** Pacemaker's synapse order: resources depth-first (clones: children first), then the rest. */
export function graphOrder(transition: Transition, state: ClusterState): Action[] {
  const byRsc = new Map<string, Action[]>();
  const rest: Action[] = [];
  const sorted = [...transition.actions].sort((a, b) => b.id - a.id);
  for (const a of sorted) {
    if (!inGraph(a, state)) continue;
    if (a.rsc !== undefined && state.resourceById.has(a.rsc)) {
      const list = byRsc.get(a.rsc) ?? [];
      list.push(a);
      byRsc.set(a.rsc, list);
    } else rest.push(a);
  }
  const out: Action[] = [];
  const deferred: Action[] = [];
  const visit = (r: ResourceInfo): void => {
    const own = byRsc.get(r.id) ?? [];
    const kids = r.children.map((id) => state.resourceById.get(id)).filter((x): x is ResourceInfo => x !== undefined);
    if (r.variant === 'clone') {
      for (const k of kids) visit(k);
      out.push(...own);
    } else if (r.variant === 'bundle') {
      for (const k of kids) visit(k);
      deferred.push(...own);
    } else {
      out.push(...own);
      for (const k of kids) visit(k);
    }
  };
  for (const r of state.resources) if (r.parent === undefined) visit(r);
  return [...out, ...[...deferred, ...rest].sort((a, b) => b.id - a.id)];
}

/** Name crm_simulate prints and records history under. */
function historyIds(rsc: ResourceInfo | undefined, id: string): { shown: string; lrmName: string } {
  if (!rsc || rsc.unique || !/:\d+$/.test(id)) return { shown: id, lrmName: id };
  return { shown: id, lrmName: configuredId(id) };
}

function expectedRc(a: Action, input: ExecuteInput, rsc: ResourceInfo | undefined): number {
  const given = extras(a).expectedRc;
  if (given !== undefined) return given;
  if (a.task !== 'monitor') return 0;
  if (a.intervalMs === 0) {
    if (!rsc || a.node === undefined || !rsc.runningOn.includes(a.node)) return 7;
    return rsc.activeRoles.get(a.node) === 'Promoted' || rsc.role === 'Promoted' ? 8 : 0;
  }
  return input.promotedMonitors.has(`${configuredId(a.rsc ?? '')}_monitor_${a.intervalMs}`) ? 8 : 0;
}

/** The rc an `-F` spec gives this action, if one matches (case-insensitive prefix, as strncasecmp). */
function injectedFailure(a: Action, names: readonly string[], specs: readonly string[]): number | undefined {
  for (const spec of specs) {
    for (const name of names) {
      const prefix = `${name}_${a.task}_${a.intervalMs}@${a.node ?? ''}=`.toLowerCase();
      if (!spec.toLowerCase().startsWith(prefix)) continue;
      const rc = Number.parseInt(spec.slice(prefix.length), 10);
      if (Number.isFinite(rc)) return rc;
    }
  }
  return undefined;
}

function stonithActionOf(a: Action): string {
  const given = extras(a).stonithAction;
  if (given !== undefined) return given;
  const m = /-([a-z]+)$/.exec(a.key);
  return m ? m[1]! : 'reboot';
}

/** Node-level actions the graph holds as crm_event (inject-cluster-action), some naming a resource. */
const clusterTasks: ReadonlySet<string> = new Set(['do_shutdown', 'clear_failcount', 'lrm_delete']);

/**
 * Pacemaker's per-resource orderings (pcmk__primitive_internal_constraints and probes), used only
 * when the engine gives no ordering at all (NEEDS-ENGINE: orderings), so that a restart still stops
 * before it starts: demote -> stop -> start -> promote, probe -> start, migrate_to -> migrate_from
 * -> stop, and a recurring monitor after the start or promote on its node.
 */
function withImpliedOrderings(actions: readonly Action[], state: ClusterState): readonly Action[] {
  if (actions.some((a) => a.inputs.length > 0)) return actions;
  const byRsc = new Map<string, Action[]>();
  for (const a of actions) {
    if (a.rsc === undefined) continue;
    const list = byRsc.get(a.rsc) ?? [];
    list.push(a);
    byRsc.set(a.rsc, list);
  }
  const before: Readonly<Record<string, readonly string[]>> = {
    stop: ['demote', 'migrate_from'],
    start: ['stop', 'probe', 'demote'],
    promote: ['start', 'probe'],
    migrate_from: ['migrate_to'],
    monitor: ['start', 'promote', 'demote', 'migrate_from'],
  };
  return actions.map((a) => {
    if (a.rsc === undefined) return a;
    const kind = a.task === 'monitor' && a.intervalMs === 0 ? 'probe' : a.task;
    const wanted = before[kind];
    if (!wanted) return a;
    const inputs = (byRsc.get(a.rsc) ?? [])
      .filter((b) => b !== a && wanted.includes(b.task === 'monitor' && b.intervalMs === 0 ? 'probe' : b.task))
      .filter((b) => (kind !== 'monitor' || b.node === a.node) && inGraph(b, state))
      .map((b) => b.id);
    return inputs.length > 0 ? { ...a, inputs } : a;
  });
}

/** Runs the graph; prints each action (when `out` is given) and records results in the editor. */
export function executeTransition(given: ExecuteInput): ExecuteResult {
  const input = given.order ? given : { ...given, transition: { ...given.transition, actions: withImpliedOrderings(given.transition.actions, given.state) } };
  const { state } = input;
  const synapses = input.order ?? graphOrder(input.transition, state);
  const known = knownHistoryIds(input);
  const inGraphIds = new Set(synapses.map((a) => a.id));
  const byId = new Map(input.transition.actions.map((a) => [a.id, a]));
  const confirmed = new Set<number>();
  const failed = new Set<number>();
  const fired = new Set<number>();
  const executed: Action[] = [];
  let aborted = false;

  const ready = (a: Action): boolean => {
    for (const id of a.inputs) {
      if (inGraphIds.has(id)) {
        if (!confirmed.has(id) || failed.has(id)) return false;
        continue;
      }
      const inp = byId.get(id);
      if (inp && !inp.optional) return false;
    }
    return true;
  };

  for (let progress = true; progress; ) {
    progress = false;
    for (const a of synapses) {
      if (fired.has(a.id) || !ready(a)) continue;
      if (aborted && !a.pseudo && (extras(a).priority ?? 0) < SCORE_INFINITY) continue;
      fired.add(a.id);
      progress = true;
      executed.push(a);
      const ok = runAction(a, input, known);
      confirmed.add(a.id);
      if (!ok) {
        failed.add(a.id);
        aborted = true;
      }
    }
  }
  // Synapses skipped after a failure leave the graph "Stopped", which Pacemaker counts as complete;
  // synapses that never became ready without a failure leave it "Terminated".
  return { complete: aborted || fired.size === synapses.length, executed };
}

/** Executes one action; false when an `-F` spec made it fail. */
function runAction(a: Action, input: ExecuteInput, known: ReadonlySet<string>): boolean {
  const report = input.report;
  if (a.pseudo) {
    const showNode = a.task === 'stonith' && a.node !== undefined;
    report?.({ kind: 'pseudo', task: a.key, node: showNode ? a.node : undefined });
    return true;
  }
  if (a.task === 'stonith') {
    const op = stonithActionOf(a);
    const target = a.node ?? '';
    report?.({ kind: 'fence', target, op });
    if (op !== 'on') {
      input.editor.setNodeUp(target, false, 'simulate_fencing_action');
      input.editor.clearNodeHistory(target);
    }
    return true;
  }
  // CRM_OP_REPROBE: executed without a word or a history entry.
  if (a.task === 'probe_again') return true;
  if (a.rsc === undefined || clusterTasks.has(a.task)) {
    const rsc = a.rsc !== undefined ? input.state.resourceById.get(a.rsc) : undefined;
    const rscName = a.rsc !== undefined ? (extras(a).graphRscId ?? historyIds(rsc, a.rsc).lrmName) : undefined;
    report?.({ kind: 'cluster', task: a.task, node: a.node ?? '', rsc: rscName });
    return true;
  }
  return runResourceAction(a, input, known);
}

function runResourceAction(a: Action, input: ExecuteInput, known: ReadonlySet<string>): boolean {
  const report = input.report;
  const node = a.node ?? '';
  const rsc = input.state.resourceById.get(a.rsc ?? '');
  const ids = historyIds(rsc, a.rsc ?? '');
  const lrmName = rsc ? ids.lrmName : configuredId(ids.shown);
  // The graph's <primitive id>: the instance's clone_name, else its configured id.
  const graphId = ids.shown === lrmName ? ids.shown : (extras(a).graphRscId ?? graphIdOf(ids.shown, lrmName, node, input, known));
  const shown = graphId === ids.shown || known.has(graphId) ? graphId : ids.shown;
  if (a.task === 'delete' || a.task === 'meta-data') {
    report?.({ kind: 'rsc', rsc: shown, op: a.task, node, intervalMs: 0 });
    return true;
  }
  report?.({ kind: 'rsc', rsc: shown, op: a.task, node, intervalMs: a.intervalMs });
  const agent = input.agents.get(configuredId(lrmName)) ?? input.agents.get(lrmName) ?? agentFromInfo(rsc);
  // pcmk__inject_resource_history: the entry under the printed name, else under the graph's id.
  const historyName = input.editor.historyOn(node).some((e) => e.id === shown) ? shown : graphId;
  const history = input.editor.resourceHistory(node, historyName, historyName, agent);
  const targetRc = expectedRc(a, input, rsc);
  const failRc = injectedFailure(a, shown === graphId ? [shown] : [shown, graphId], input.opFail);
  const rc = failRc ?? targetRc;
  if (failRc !== undefined) {
    report?.({ kind: 'failed', actionId: a.id, rc: failRc });
    for (const text of input.editor.injectFailcount(node, graphId, a.task, a.intervalMs, failRc, input.clockSec)) report?.({ kind: 'attribute', text });
  }
  // The operation is recorded under the graph's id (op->rsc_id), whatever entry holds it.
  input.editor.recordOp(history, node, {
    rscId: graphId,
    task: a.task,
    intervalMs: a.intervalMs,
    rc,
    targetRc,
    nowSec: input.clockSec,
    opKey: a.task === 'notify' ? notifyKey(a, graphId) : undefined,
    opDigest: input.digests?.digest(configuredId(lrmName), a.task, a.intervalMs, input.state.nodeByName.get(node)?.attributes),
    ...migrationEnds(a, input),
  });
  return failRc === undefined;
}

/**
 * lrm_resource ids in the status of nodes Pacemaker unpacks (online or unclean) before the
 * transition: the names resources are known by (clone_name) when crm_simulate looks them up.
 */
function knownHistoryIds(input: ExecuteInput): Set<string> {
  const out = new Set<string>();
  for (const uname of input.editor.nodeStateNames()) {
    const n = input.state.nodeByName.get(uname);
    if (n && n.kind === 'member' && !n.online && !n.unclean) continue;
    for (const e of input.editor.historyOn(uname)) out.add(e.id);
  }
  return out;
}

/** The instance's clone_name where it has history under another id, else the configured id. */
function graphIdOf(shown: string, lrmName: string, node: string, input: ExecuteInput, known: ReadonlySet<string>): string {
  const rsc = input.state.resourceById.get(shown);
  const name = historyNameOn(input, rsc, shown, lrmName, node);
  return name !== shown && known.has(name) ? name : lrmName;
}

/**
 * The lrm_resource id an anonymous clone instance's result goes under on `node` (Pacemaker: the
 * instance's clone_name, the id its history was found under). NEEDS-ENGINE: the engine knows which
 * history entry it matched to which instance; until it says, an existing entry of the same clone
 * on that node is reused when the instance is active there (numbered entries like `rsc:3` written
 * by old Pacemaker versions included), else the configured id is used.
 */
function historyNameOn(input: ExecuteInput, rsc: ResourceInfo | undefined, shown: string, lrmName: string, node: string): string {
  if (shown === lrmName || !rsc) return lrmName;
  const entries = input.editor.historyOn(node).filter((e) => configuredId(e.id) === lrmName);
  if (rsc.runningOn.includes(node)) {
    const active = entries.filter((e) => e.active);
    const exact = active.find((e) => e.id === shown) ?? active.find((e) => e.id === lrmName);
    if (exact) return exact.id;
    if (active[0]) return active[0].id;
  }
  if (entries.some((e) => e.id === shown)) return shown;
  return lrmName;
}

function agentFromInfo(rsc: ResourceInfo | undefined): AgentIdentity {
  const parts = (rsc?.agent ?? '').split(':');
  if (parts.length >= 3) return { class: parts[0], provider: parts[1] || undefined, type: parts.slice(2).join(':') };
  return { class: parts[0] || undefined, provider: undefined, type: parts[1] };
}

function notifyKey(a: Action, historyId: string): string {
  const rsc = a.rsc ?? '';
  return a.key.startsWith(`${rsc}_`) ? `${historyId}${a.key.slice(rsc.length)}` : a.key;
}

/** migrate_source / migrate_target of a migration, from the paired action of the same resource. */
function migrationEnds(a: Action, input: ExecuteInput): { migrateSource?: string; migrateTarget?: string } {
  if (a.task !== 'migrate_to' && a.task !== 'migrate_from') return {};
  const other = input.transition.actions.find(
    (x) => x.rsc === a.rsc && x.task === (a.task === 'migrate_to' ? 'migrate_from' : 'migrate_to'),
  );
  if (a.task === 'migrate_to') {
    const target = other?.node ?? input.transition.actions.find((x) => x.rsc === a.rsc && x.task === 'start' && x.node !== a.node)?.node;
    return { migrateSource: a.node, ...(target !== undefined ? { migrateTarget: target } : {}) };
  }
  const source = other?.node ?? input.state.resourceById.get(a.rsc ?? '')?.runningOn[0];
  return { ...(source !== undefined ? { migrateSource: source } : {}), migrateTarget: a.node };
}
