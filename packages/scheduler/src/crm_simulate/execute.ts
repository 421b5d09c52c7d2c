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
import type { Action, ClusterState, Transition } from '../types.js';
import type { OpParamSource } from '../op-params.js';
import {
  agentFromInfo, clusterTasks, configuredId, expectedRcOf, extras, graphOrder, historyNames, inGraph, inputsInGraph, knownHistoryIds, lrmNameOf,
  migrationEnds, notifyKey, stonithActionOf, type AgentIdentity,
} from '../graph-info.js';
import { StatusEditor } from './status-edit.js';

export { graphOrder, inGraph };

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
  readonly digests?: OpParamSource;
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
  const known = knownHistoryIds(input.editor, state);
  const inGraphIds = new Set(synapses.map((a) => a.id));
  const byId = new Map(input.transition.actions.map((a) => [a.id, a]));
  const confirmed = new Set<number>();
  const failed = new Set<number>();
  const fired = new Set<number>();
  const executed: Action[] = [];
  let aborted = false;

  const waits = new Map(synapses.map((a) => [a.id, inputsInGraph(a, inGraphIds, byId)]));
  const ready = (a: Action): boolean => {
    const w = waits.get(a.id) ?? inputsInGraph(a, inGraphIds, byId);
    return !w.blocked && w.inputs.every((id) => confirmed.has(id) && !failed.has(id));
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
    const rscName = a.rsc !== undefined ? (extras(a).graphRscId ?? lrmNameOf(rsc, a.rsc)) : undefined;
    report?.({ kind: 'cluster', task: a.task, node: a.node ?? '', rsc: rscName });
    return true;
  }
  return runResourceAction(a, input, known);
}

function runResourceAction(a: Action, input: ExecuteInput, known: ReadonlySet<string>): boolean {
  const report = input.report;
  const node = a.node ?? '';
  const rsc = input.state.resourceById.get(a.rsc ?? '');
  // The graph's <primitive id>: the instance's clone_name, else its configured id.
  const ids = historyNames(a, input.state, input.editor, known);
  const { lrmName, graphId } = ids;
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
  const targetRc = expectedRcOf(a, input.state, input.promotedMonitors);
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
    ...migrationEnds(a, input.transition.actions, input.state),
  });
  return failRc === undefined;
}
