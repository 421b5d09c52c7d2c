/**
 * What the transition graph says about each action, derived the same way for every consumer:
 * crm_simulate's graph XML and simulated execution (crm_simulate/graph.ts, execute.ts) and the
 * controller's plan (plan.ts).
 *
 * - `inGraph` / `graphOrder`: which actions are synapses (should_add_action_to_graph) and in
 *   which order Pacemaker lists them;
 * - `inputsInGraph`: the inputs a synapse waits for (should_add_input_to_graph), and whether a
 *   mandatory input outside the graph blocks it;
 * - `expectedRcOf`: CRM_meta_op_target_rc; `stonithActionOf`; `notifyKey`; `migrationEnds`;
 * - history naming: `historyNames` gives the id an action's result is recorded under (an
 *   anonymous clone instance's clone_name, else its configured id), reading the lrm_resource
 *   entries through a `HistoryView` (the CIB's status section, or crm_simulate's editor).
 *
 * NEEDS-ENGINE (read when present on `Action`, worked around until then): `expectedRc`, `inGraph`,
 * `stonithAction`, `priority`, `graphRscId`.
 */
import type { Cib, Resource, XmlElement } from '@paceline/cib';
import type { Action, ClusterState, ResourceInfo } from './types.js';
import { parseIntervalMs } from './util.js';

/** Fields the engine may add to `Action`; read when present. */
export interface ActionExtras {
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

export function extras(a: Action): ActionExtras {
  return a as Action & ActionExtras;
}

/** The configured id of a clone instance id (`rsc:2` -> `rsc`); other ids unchanged. */
export function configuredId(id: string): string {
  const m = /^(.*):\d+$/.exec(id);
  return m ? m[1]! : id;
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
export function graphOrder(transition: { readonly actions: readonly Action[] }, state: ClusterState): Action[] {
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

/**
 * should_add_input_to_graph as the graph consumer sees it: the inputs that are synapses, and
 * whether an input outside the graph that is not optional keeps the action from ever running.
 */
export function inputsInGraph(
  a: Action,
  graphIds: ReadonlySet<number>,
  byId: ReadonlyMap<number, Action>,
): { inputs: number[]; blocked: boolean } {
  const inputs: number[] = [];
  let blocked = false;
  for (const id of a.inputs) {
    if (graphIds.has(id)) {
      if (!inputs.includes(id)) inputs.push(id);
      continue;
    }
    const inp = byId.get(id);
    if (inp && !inp.optional) blocked = true;
  }
  return { inputs, blocked };
}

/**
 * CRM_meta_op_target_rc: the engine's when given; else probes expect 7 unless the resource is
 * active on the node (then 0, or 8 when promoted there), recurring monitors of a Promoted-role op
 * expect 8, everything else 0.
 */
export function expectedRcOf(a: Action, state: ClusterState, promotedMonitors: ReadonlySet<string>): number {
  const given = extras(a).expectedRc;
  if (given !== undefined) return given;
  if (a.task !== 'monitor') return 0;
  const rsc = a.rsc !== undefined ? state.resourceById.get(a.rsc) : undefined;
  if (a.intervalMs === 0) {
    if (!rsc || a.node === undefined || !rsc.runningOn.includes(a.node)) return 7;
    return rsc.activeRoles.get(a.node) === 'Promoted' || rsc.role === 'Promoted' ? 8 : 0;
  }
  return promotedMonitors.has(`${configuredId(a.rsc ?? '')}_monitor_${a.intervalMs}`) ? 8 : 0;
}

/** The fencing action (reboot, off, on) of a stonith action. */
export function stonithActionOf(a: Action): string {
  const given = extras(a).stonithAction;
  if (given !== undefined) return given;
  const m = /-([a-z]+)$/.exec(a.key);
  return m ? m[1]! : 'reboot';
}

/** Node-level actions the graph holds as crm_event (inject-cluster-action), some naming a resource. */
export const clusterTasks: ReadonlySet<string> = new Set(['do_shutdown', 'clear_failcount', 'lrm_delete']);

/** The key a notification is recorded under: the action key with the history id as resource. */
export function notifyKey(a: Action, historyId: string): string {
  const rsc = a.rsc ?? '';
  return a.key.startsWith(`${rsc}_`) ? `${historyId}${a.key.slice(rsc.length)}` : a.key;
}

/** migrate_source / migrate_target of a migration, from the paired action of the same resource. */
export function migrationEnds(
  a: Action,
  actions: readonly Action[],
  state: ClusterState,
): { migrateSource?: string; migrateTarget?: string } {
  if (a.task !== 'migrate_to' && a.task !== 'migrate_from') return {};
  const other = actions.find((x) => x.rsc === a.rsc && x.task === (a.task === 'migrate_to' ? 'migrate_from' : 'migrate_to'));
  if (a.task === 'migrate_to') {
    const target = other?.node ?? actions.find((x) => x.rsc === a.rsc && x.task === 'start' && x.node !== a.node)?.node;
    return { ...(a.node !== undefined ? { migrateSource: a.node } : {}), ...(target !== undefined ? { migrateTarget: target } : {}) };
  }
  const source = other?.node ?? state.resourceById.get(a.rsc ?? '')?.runningOn[0];
  return { ...(source !== undefined ? { migrateSource: source } : {}), ...(a.node !== undefined ? { migrateTarget: a.node } : {}) };
}

// ---------------------------------------------------------------------------------------------
// Agents and configured operations
// ---------------------------------------------------------------------------------------------

/** Agent identity for a new `lrm_resource`. */
export interface AgentIdentity {
  readonly class: string | undefined;
  readonly provider: string | undefined;
  readonly type: string | undefined;
}

/** Every configured primitive (inside groups, clones, bundles), in document order. */
export function configuredPrimitives(cib: Cib): Array<Resource & { kind: 'primitive' }> {
  const out: Array<Resource & { kind: 'primitive' }> = [];
  const visit = (r: Resource): void => {
    if (r.kind === 'primitive') out.push(r);
    else if (r.kind === 'group') for (const c of r.children) visit(c);
    else if (r.kind === 'clone' || r.kind === 'master') {
      if (r.child) visit(r.child);
    } else if (r.kind === 'bundle' && r.primitive) visit(r.primitive);
  };
  for (const r of cib.configuration?.resources?.resources ?? []) visit(r);
  return out;
}

/** Agent identity of every configured primitive (templates resolved), by id. */
export function agentsOf(cib: Cib): Map<string, AgentIdentity> {
  const out = new Map<string, AgentIdentity>();
  for (const r of configuredPrimitives(cib)) {
    const t = r.templateRef;
    out.set(r.id, { class: r.class ?? t?.class, provider: r.provider ?? t?.provider, type: r.type ?? t?.type });
  }
  return out;
}

/** `${primitive}_monitor_${intervalMs}` of monitors configured for the Promoted role. */
export function promotedMonitorsOf(cib: Cib): Set<string> {
  const out = new Set<string>();
  for (const r of configuredPrimitives(cib)) {
    const ops = r.ops.length > 0 ? r.ops : (r.templateRef?.ops ?? []);
    for (const op of ops) {
      const o = op.ref ?? op;
      const role = (o.role ?? '').toLowerCase();
      if ((o.name ?? op.name) === 'monitor' && (role === 'master' || role === 'promoted')) {
        out.add(`${r.id}_monitor_${parseIntervalMs(o.interval ?? op.interval)}`);
      }
    }
  }
  return out;
}

/** `class:provider:type` of the engine's resource split into an identity. */
export function agentFromInfo(rsc: ResourceInfo | undefined): AgentIdentity {
  const parts = (rsc?.agent ?? '').split(':');
  if (parts.length >= 3) return { class: parts[0], provider: parts[1] || undefined, type: parts.slice(2).join(':') };
  return { class: parts[0] || undefined, provider: undefined, type: parts[1] };
}

// ---------------------------------------------------------------------------------------------
// History naming
// ---------------------------------------------------------------------------------------------

/** One lrm_resource entry on a node: its id and whether its last operation leaves it active. */
export interface HistoryEntry {
  readonly id: string;
  readonly active: boolean;
}

/** Read access to the lrm_resource entries of the status section. */
export interface HistoryView {
  /** The entries recorded on `uname`, in document order. */
  historyOn(uname: string): readonly HistoryEntry[];
  /** The unames of every node_state, in document order. */
  nodeStateNames(): readonly string[];
}

/**
 * The lrm_resource entries under a `<status>` element on `uname`, each with whether its last
 * operation leaves the resource active there (a rough reading; the engine's unpack is the truth).
 */
export function historyEntriesOn(status: XmlElement | undefined, uname: string): HistoryEntry[] {
  const ns = status ? child(status, 'node_state', (c) => c.attrs.uname === uname) : undefined;
  const lrm = ns ? child(ns, 'lrm') : undefined;
  const resources = lrm ? child(lrm, 'lrm_resources') : undefined;
  const out: HistoryEntry[] = [];
  for (const c of resources?.children ?? []) {
    if (c.kind !== 'element' || c.name !== 'lrm_resource') continue;
    out.push({ id: c.attrs.id ?? '', active: lastOpLeavesActive(c) });
  }
  return out;
}

/** A HistoryView over a CIB tree's status section. */
export function statusHistoryView(root: XmlElement): HistoryView {
  const status = child(root, 'status');
  return {
    historyOn: (uname) => historyEntriesOn(status, uname),
    nodeStateNames: () => (status ? status.children : []).flatMap((c) => (c.kind === 'element' && c.name === 'node_state' ? [c.attrs.uname ?? ''] : [])),
  };
}

function child(el: XmlElement, name: string, pred?: (c: XmlElement) => boolean): XmlElement | undefined {
  for (const c of el.children) if (c.kind === 'element' && c.name === name && (!pred || pred(c))) return c;
  return undefined;
}

function lastOpLeavesActive(history: XmlElement): boolean {
  let last: Readonly<Record<string, string>> | undefined;
  let lastCall = Number.NEGATIVE_INFINITY;
  for (const c of history.children) {
    if (c.kind !== 'element' || c.name !== 'lrm_rsc_op') continue;
    if (c.attrs.operation === 'notify') continue;
    const call = Number.parseInt(c.attrs['call-id'] ?? '0', 10);
    if (call >= lastCall) {
      lastCall = call;
      last = c.attrs;
    }
  }
  if (!last) return false;
  const rc = last['rc-code'];
  if (last.operation === 'stop') return rc !== '0';
  if (last.operation === 'monitor') return rc !== '7';
  return true;
}

/**
 * lrm_resource ids in the status of nodes Pacemaker unpacks (online or unclean) before the
 * transition: the names resources are known by (clone_name) when they are looked up.
 */
export function knownHistoryIds(view: HistoryView, state: ClusterState): Set<string> {
  const out = new Set<string>();
  for (const uname of view.nodeStateNames()) {
    const n = state.nodeByName.get(uname);
    if (n && n.kind === 'member' && !n.online && !n.unclean) continue;
    for (const e of view.historyOn(uname)) out.add(e.id);
  }
  return out;
}

/** The id history is kept under when nothing else is known: the configured id for anonymous clone instances. */
export function lrmNameOf(rsc: ResourceInfo | undefined, id: string): string {
  return !rsc || rsc.unique || !/:\d+$/.test(id) ? id : configuredId(id);
}

/** The names one resource action goes by. */
export interface HistoryNames {
  /** The engine's id (`rsc:1` for clone instances). */
  readonly shown: string;
  /** The configured id for anonymous clone instances, else `shown`. */
  readonly lrmName: string;
  /** The graph's `<primitive id>` and the id the result is recorded under (op->rsc_id). */
  readonly graphId: string;
}

/** The names of a resource action on `node` (crm_simulate's and the controller's view alike). */
export function historyNames(a: Action, state: ClusterState, view: HistoryView, known: ReadonlySet<string>): HistoryNames {
  const id = a.rsc ?? '';
  const rsc = state.resourceById.get(id);
  const lrmName = rsc ? lrmNameOf(rsc, id) : configuredId(id);
  if (id === lrmName) return { shown: id, lrmName, graphId: id };
  const given = extras(a).graphRscId;
  if (given !== undefined) return { shown: id, lrmName, graphId: given };
  const name = historyNameOn(view, rsc, id, lrmName, a.node ?? '');
  return { shown: id, lrmName, graphId: name !== id && known.has(name) ? name : lrmName };
}

/**
 * The lrm_resource id an anonymous clone instance's result goes under on `node` (Pacemaker: the
 * instance's clone_name, the id its history was found under). NEEDS-ENGINE: the engine knows which
 * history entry it matched to which instance; until it says, an existing entry of the same clone
 * on that node is reused when the instance is active there (numbered entries like `rsc:3` written
 * by old Pacemaker versions included), else the configured id is used.
 */
function historyNameOn(view: HistoryView, rsc: ResourceInfo | undefined, shown: string, lrmName: string, node: string): string {
  if (shown === lrmName || !rsc) return lrmName;
  const entries = view.historyOn(node).filter((e) => configuredId(e.id) === lrmName);
  if (rsc.runningOn.includes(node)) {
    const active = entries.filter((e) => e.active);
    const exact = active.find((e) => e.id === shown) ?? active.find((e) => e.id === lrmName);
    if (exact) return exact.id;
    if (active[0]) return active[0].id;
  }
  if (entries.some((e) => e.id === shown)) return shown;
  return lrmName;
}
