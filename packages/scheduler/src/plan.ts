/**
 * The bridge from the scheduler to the controller: `planTransition` turns a CIB and its
 * ScheduleResult into a `TransitionPlan` (plan-types.ts), the graph's synapses in Pacemaker's
 * order with everything the executor needs, as Pacemaker's graph carries it
 * (pcmk_graph_producer.c create_graph_action / add_action_attributes):
 *
 * - params: the resource's instance attributes for the target node (own, template, parents';
 *   rules evaluated for the node's attributes and the time) over the op's instance attributes;
 * - meta (CRM_meta_* without the prefix, dashes as underscores): the op's meta (unpack_operation:
 *   name, interval, timeout, start_delay, role, on_fail, ...), on_node / on_node_uuid,
 *   op_target_rc of probes and promoted monitors, the clone's meta (clone, clone_max,
 *   clone_node_max, globally_unique, notify, promoted_max/promoted_node_max and the legacy
 *   master_max/master_node_max), migrate_source / migrate_target, and for clones with
 *   notifications the notify_* lists (pe_notify.c) on notify, start, stop, promote and demote;
 * - expectedRc (CRM_meta_op_target_rc), opDigest (what crm_simulate records), timeoutMs,
 *   startDelayMs; fenceAction for fencing.
 *
 * Pure: the same CIB and result give the same plan.
 */
import { childElements, firstChild, parseScore, type Cib, type XmlElement } from '@paceline/cib';
import type { FenceDevice, PlannedAction, PlannedAgent, TransitionPlan } from './plan-types.js';
import type { Action, ClusterState, ResourceInfo, ScheduleResult } from './types.js';
import {
  agentFromInfo, agentsOf, clusterTasks, configuredId, configuredPrimitives, expectedRcOf, graphOrder, historyNames,
  inputsInGraph, knownHistoryIds, lrmNameOf, migrationEnds, promotedMonitorsOf, stonithActionOf, statusHistoryView,
  type AgentIdentity, type HistoryNames, type HistoryView,
} from './graph-info.js';
import { OpParamSource } from './op-params.js';
import { isTrue, parseIntervalMs } from './util.js';
import { formatSummary } from './crm_simulate/summary.js';
import { compareNodeNames } from './crm_simulate/status.js';

/** Pacemaker's default stonith-timeout. */
const DEFAULT_FENCE_TIMEOUT_MS = 60_000;

/** What planning one action needs, built once per plan. */
interface PlanContext {
  readonly state: ClusterState;
  readonly actions: readonly Action[];
  readonly byId: ReadonlyMap<number, Action>;
  readonly source: OpParamSource;
  readonly view: HistoryView;
  readonly known: ReadonlySet<string>;
  readonly agents: ReadonlyMap<string, AgentIdentity>;
  readonly promotedMonitors: ReadonlySet<string>;
  readonly notifyData: Map<string, Readonly<Record<string, string>>>;
  readonly result: ScheduleResult;
  readonly root: XmlElement;
}

/**
 * The transition as the controller executes it. `cib` must be the CIB `result` was computed from
 * (its configuration gives parameters, its status the history ids); `result.state.nowSec` is the
 * time rules are evaluated at.
 */
export function planTransition(cib: Cib, result: ScheduleResult): TransitionPlan {
  const { state, transition } = result;
  const order = graphOrder(transition, state);
  const graphIds = new Set(order.map((a) => a.id));
  const byId = new Map(transition.actions.map((a) => [a.id, a]));
  const view = statusHistoryView(cib.xml);
  const ctx: PlanContext = {
    state,
    actions: transition.actions,
    byId,
    source: new OpParamSource(cib, state.nowSec),
    view,
    known: knownHistoryIds(view, state),
    agents: agentsOf(cib),
    promotedMonitors: promotedMonitorsOf(cib),
    notifyData: new Map(),
    result,
    root: cib.xml,
  };
  const actions = order.map((a) => {
    const { inputs, blocked } = inputsInGraph(a, graphIds, byId);
    return planAction(a, inputs, blocked, ctx);
  });
  return { actions, summary: formatSummary(transition.summary), fenceDevices: fenceDevices(cib, state, ctx.source, order) };
}

function actionKind(a: Action): PlannedAction['kind'] {
  if (a.pseudo) return 'pseudo';
  if (a.task === 'stonith') return 'fence';
  if (a.rsc === undefined || clusterTasks.has(a.task) || a.task === 'probe_again') return 'cluster';
  return 'rsc';
}

function planAction(a: Action, inputs: number[], blocked: boolean, ctx: PlanContext): PlannedAction {
  const kind = actionKind(a);
  const base = {
    id: a.id,
    key: a.key,
    task: a.task,
    kind,
    ...(a.rsc !== undefined ? { rsc: a.rsc } : {}),
    ...(a.node !== undefined ? { node: a.node } : {}),
    intervalMs: a.intervalMs,
    inputs,
    blocked,
  };
  switch (kind) {
    case 'pseudo':
      return { ...base, expectedRc: 0 };
    case 'fence':
      return { ...base, expectedRc: 0, ...fenceDetails(a, ctx.state) };
    case 'cluster':
      return {
        ...base,
        expectedRc: 0,
        ...(a.rsc !== undefined ? { lrmId: lrmNameOf(ctx.state.resourceById.get(a.rsc), a.rsc) } : {}),
        meta: nodeMeta(a, ctx.state),
      };
    case 'rsc':
      return { ...base, ...resourceDetails(a, ctx) };
    default: {
      const never: never = kind;
      throw new Error(`unknown action kind ${String(never)}`);
    }
  }
}

function fenceDetails(a: Action, state: ClusterState): Partial<PlannedAction> {
  const fenceAction = stonithActionOf(a);
  const timeoutMs = positiveMs(state.options.get('stonith-timeout'), DEFAULT_FENCE_TIMEOUT_MS);
  return { fenceAction, timeoutMs, meta: { ...nodeMeta(a, state), stonith_action: fenceAction, timeout: String(timeoutMs) } };
}

function nodeMeta(a: Action, state: ClusterState): Record<string, string> {
  if (a.node === undefined) return {};
  const id = state.nodeByName.get(a.node)?.id;
  return { on_node: a.node, ...(id !== undefined ? { on_node_uuid: id } : {}) };
}

/**
 * pcmk__add_bundle_meta_to_xml for a guest node defined by a `remote-node` meta-attribute: an
 * action there carries the host its container runs on (physical_host: the current host for stop
 * and demote, the next one for start, monitor and promote) and the resource's
 * container-attribute-target. Bundle guests are not covered yet.
 */
function guestHostMeta(a: Action, rsc: ResourceInfo | undefined, ctx: PlanContext): Record<string, string> {
  const { state } = ctx;
  if (a.node === undefined || state.nodeByName.get(a.node)?.kind !== 'guest') return {};
  const container = state.resources.find((r) => r.variant === 'primitive' && r.meta.get('remote-node') === a.node);
  if (!container) return {};
  let task = a.task;
  if (task === 'notify') task = ctx.notifyData.get(String(a.id))?.notify_operation ?? a.key.replace(/^.*_notify_([a-z]+)_0$/, '$1');
  let host: string | undefined;
  if (task === 'stop' || task === 'demote') host = container.runningOn[0];
  else if (task === 'start' || task === 'monitor' || task === 'promote') host = containerNextNode(container, ctx);
  if (host === undefined) return {};
  const target = rsc?.meta.get('container-attribute-target');
  return { ...(target !== undefined ? { container_attribute_target: target } : {}), physical_host: host };
}

/**
 * pe_create_remote_xml: the connection generated for a `remote-node` guest has a 30s monitor (30s
 * timeout) and a start whose timeout is the container's remote-connect-timeout (60s by default).
 */
function generatedGuestOpMeta(connId: string, task: string, intervalMs: number, state: ClusterState): Record<string, string> {
  const container = state.resources.find((r) => r.variant === 'primitive' && r.meta.get('remote-node') === connId);
  if (!container) return {};
  if (task === 'monitor' && intervalMs === 30_000) return { name: 'monitor', interval: '30000', timeout: '30000' };
  if (task === 'start' && intervalMs === 0) {
    const timeoutMs = positiveMs(container.meta.get('remote-connect-timeout') ?? '60s', 60_000);
    return { name: 'start', timeout: String(timeoutMs) };
  }
  return {};
}

/** Where a container is assigned: the node of its start in the transition, else where it stays. */
function containerNextNode(container: ResourceInfo, ctx: PlanContext): string | undefined {
  const start = ctx.actions.find((x) => x.rsc === container.id && x.task === 'start' && x.runnable);
  if (start) return start.node;
  const stops = ctx.actions.some((x) => x.rsc === container.id && x.task === 'stop');
  return stops ? undefined : container.runningOn[0];
}

/** agent, params, meta, timeouts, digest and history id of an agent action. */
function resourceDetails(a: Action, ctx: PlanContext): Partial<PlannedAction> & { expectedRc: number } {
  const { state, source } = ctx;
  const rsc = state.resourceById.get(a.rsc ?? '');
  const names: HistoryNames = historyNames(a, state, ctx.view, ctx.known);
  const cfgId = configuredId(names.lrmName);
  const engineAttrs = a.node !== undefined ? state.nodeByName.get(a.node)?.attributes : undefined;
  const nodeAttrs = withClusterName(engineAttrs, state);
  const agent = plannedAgent(ctx.agents.get(cfgId) ?? agentFromInfo(rsc));
  // A cancel takes the meta of the operation it cancels (its key names it).
  const opTask = a.task === 'cancel' ? cancelledTask(a) : a.task;
  const params: Record<string, string> = {};
  for (const [k, v] of source.opParams(cfgId, opTask, a.intervalMs, nodeAttrs)) params[k] = v;
  for (const [k, v] of source.params(cfgId, nodeAttrs) ?? []) params[k] = v;
  const expectedRc = expectedRcOf(a, state, ctx.promotedMonitors);
  const meta: Record<string, string> = {};
  for (const [k, v] of source.opMeta(cfgId, opTask, a.intervalMs, nodeAttrs)) meta[metaName(k)] = v;
  if (source.primitive(cfgId) === undefined) Object.assign(meta, generatedGuestOpMeta(cfgId, opTask, a.intervalMs, state));
  Object.assign(meta, nodeMeta(a, state));
  if ((a.task === 'monitor' && a.intervalMs === 0) || expectedRc !== 0) meta.op_target_rc = String(expectedRc);
  if (a.task === 'cancel') Object.assign(meta, cancelMeta(a, opTask, rsc, cfgId, names.graphId, ctx));
  Object.assign(meta, parentMeta(rsc, state));
  const ends = migrationEnds(a, ctx.actions, state);
  if (ends.migrateSource !== undefined) meta.migrate_source = ends.migrateSource;
  if (ends.migrateTarget !== undefined) meta.migrate_target = ends.migrateTarget;
  // pcmk__create_migration_actions: a migrate_to is always recorded while pending.
  if (a.task === 'migrate_to') meta.record_pending = 'true';
  Object.assign(meta, notifyMeta(a, rsc, ctx));
  Object.assign(meta, guestHostMeta(a, rsc, ctx));
  // The digest the engine compares with (its node attributes), so that a recorded result never
  // looks like a definition change to it.
  const digest = a.task === 'cancel' ? undefined : source.digest(cfgId, a.task, a.intervalMs, engineAttrs);
  const startDelayMs = meta.start_delay !== undefined ? Number(meta.start_delay) : undefined;
  return {
    lrmId: names.graphId,
    ...(agent ? { agent } : {}),
    params,
    meta,
    timeoutMs: Number(meta.timeout),
    ...(startDelayMs !== undefined && startDelayMs > 0 ? { startDelayMs } : {}),
    expectedRc,
    ...(digest !== undefined ? { opDigest: digest } : {}),
    ...ends,
  };
}

/** Node attributes for rules, with `#cluster-name` (which Pacemaker adds to every node's). */
function withClusterName(attrs: ReadonlyMap<string, string> | undefined, state: ClusterState): ReadonlyMap<string, string> | undefined {
  const name = state.options.get('cluster-name');
  if (name === undefined || attrs?.has('#cluster-name')) return attrs;
  const out = new Map(attrs ?? []);
  out.set('#cluster-name', name);
  return out;
}

/** The call-id of the recorded `task`/`intervalMs` of `lrmId` on `uname` (the newest), if any. */
function recordedCallId(root: XmlElement, uname: string, lrmId: string, task: string, intervalMs: number): string | undefined {
  const status = firstChild(root, 'status');
  const ns = status ? childElements(status, 'node_state').find((e) => e.attrs.uname === uname) : undefined;
  const lrm = ns ? firstChild(ns, 'lrm') : undefined;
  const resources = lrm ? firstChild(lrm, 'lrm_resources') : undefined;
  let best: string | undefined;
  for (const r of resources ? childElements(resources, 'lrm_resource') : []) {
    if (r.attrs.id !== lrmId) continue;
    for (const op of childElements(r, 'lrm_rsc_op')) {
      if (op.attrs.operation !== task || Number(op.attrs.interval ?? '0') !== intervalMs) continue;
      const id = op.attrs['call-id'];
      if (id !== undefined && (best === undefined || Number(id) > Number(best))) best = id;
    }
  }
  return best;
}

/** The operation a cancel's key names: `rsc_monitor_10000` -> monitor. */
function cancelledTask(a: Action): string {
  const rsc = a.rsc ?? '';
  const rest = a.key.startsWith(`${rsc}_`) ? a.key.slice(rsc.length + 1) : a.key;
  const cut = rest.lastIndexOf('_');
  return cut > 0 ? rest.slice(0, cut) : 'monitor';
}

/**
 * A cancel's own meta: `operation` (pcmk__new_cancel_action), and for the cancel of an operation
 * no longer configured (or in maintenance: pcmk__schedule_cancel) the history's `call_id`.
 */
function cancelMeta(a: Action, opTask: string, rsc: ResourceInfo | undefined, cfgId: string, lrmId: string, ctx: PlanContext): Record<string, string> {
  const out: Record<string, string> = { operation: opTask };
  const op = ctx.source.op(cfgId, opTask, a.intervalMs);
  // Only the cancel of a role-specific monitor for a role change (recurring_op_for_active) has no
  // call id; those scheduled from the history (orphaned, disabled, changed, maintenance) do.
  const enabled = op !== undefined && (op.enabled === undefined || isTrue(op.enabled));
  const node = a.node !== undefined ? ctx.state.nodeByName.get(a.node) : undefined;
  const maintenance = node?.maintenance === true || isTrue(rsc?.meta.get('maintenance'));
  if (enabled && op.role !== undefined && !maintenance) return out;
  const callId = a.node !== undefined ? recordedCallId(ctx.root, a.node, lrmId, opTask, a.intervalMs) : undefined;
  if (callId !== undefined) out.call_id = callId;
  return out;
}

function plannedAgent(id: AgentIdentity): PlannedAgent | undefined {
  if (id.class === undefined || id.type === undefined) return undefined;
  return { class: id.class, ...(id.provider !== undefined ? { provider: id.provider } : {}), type: id.type };
}

/** crm_meta_name: CRM_meta_ names use underscores. */
function metaName(name: string): string {
  return name.replace(/-/g, '_');
}

/** unpack_timeout: a positive duration in ms, else the default. */
function positiveMs(text: string | undefined, dflt: number): number {
  const ms = parseIntervalMs(text);
  return ms > 0 ? ms : dflt;
}

/**
 * add_graph_meta of the resource and its parents: the instance number, the clone's limits, the
 * guest node a resource hosts (remote_node) and the resource holding it (container).
 */
function parentMeta(rsc: ResourceInfo | undefined, state: ClusterState): Record<string, string> {
  const out: Record<string, string> = {};
  if (!rsc) return out;
  const instance = /:(\d+)$/.exec(rsc.id);
  const remoteNode = rsc.meta.get('remote-node');
  if (remoteNode !== undefined) out.remote_node = remoteNode;
  let inClone = false;
  for (let p: ResourceInfo | undefined = rsc; p; p = p.parent !== undefined ? state.resourceById.get(p.parent) : undefined) {
    const container = p.meta.get('container');
    // setup_container ignores a resource named as its own container (a group's container member).
    if (container !== undefined && container !== rsc.id && out.container === undefined) out.container = container;
    if (p.variant !== 'clone') continue;
    inClone = true;
    Object.assign(out, cloneMeta(p, state));
  }
  if (inClone && instance) out.clone = instance[1]!;
  return out;
}

/** clone_append_meta (clone-max and clone-node-max as clone_unpack settles them). */
function cloneMeta(c: ResourceInfo, state: ClusterState): Record<string, string> {
  const m = c.meta;
  const count = (text: string | undefined, dflt: number): number => {
    if (text === undefined) return dflt;
    return Math.max(0, Number.parseInt(text, 10) || 0);
  };
  // The engine creates clone-max instances (as clone_unpack settles it: default the node count at
  // unpack time, capped for a forced-anonymous clone), plus orphans found in the history.
  const cloneMax = c.children.filter((id) => state.resourceById.get(id)?.orphan !== true).length;
  const out: Record<string, string> = {
    globally_unique: c.unique ? 'true' : 'false',
    notify: isTrue(m.get('notify')) ? 'true' : 'false',
    clone_max: String(cloneMax),
    clone_node_max: String(c.unique ? count(m.get('clone-node-max'), 1) : Math.min(1, count(m.get('clone-node-max'), 1))),
  };
  if (c.promotable) {
    const pm = String(count(m.get('promoted-max') ?? m.get('master-max'), 1));
    const pnm = String(count(m.get('promoted-node-max') ?? m.get('master-node-max'), 1));
    Object.assign(out, { promoted_max: pm, promoted_node_max: pnm, master_max: pm, master_node_max: pnm });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Notifications (pe_notify.c)
// ---------------------------------------------------------------------------------------------

const completedTask: Readonly<Record<string, string>> = { start: 'running', stop: 'stopped', promote: 'promoted', demote: 'demoted' };

/**
 * The notify meta of an instance action: for a notify action notify_type / notify_operation /
 * notify_key_type / notify_key_operation and the lists; for start, stop, promote and demote the
 * lists alone (create_notify_actions adds them to every mandatory instance action of those tasks).
 */
function notifyMeta(a: Action, rsc: ResourceInfo | undefined, ctx: PlanContext): Record<string, string> {
  if (!rsc) return {};
  const clone = notifyingClone(rsc, ctx.state);
  if (!clone) return {};
  let own: Record<string, string> = {};
  if (a.task === 'notify') {
    const m = /_(pre|post)_notify_([a-z]+)_\d+$/.exec(a.key);
    if (!m) return {};
    const type = m[1]!;
    const op = m[2]!;
    own = { notify_type: type, notify_operation: op, ...notifyKeyOf(a, type, op, ctx) };
  } else if (!(a.task in completedTask)) return {};
  let lists = ctx.notifyData.get(clone.id);
  if (!lists) {
    lists = notifyLists(clone, ctx);
    ctx.notifyData.set(clone.id, lists);
  }
  return { ...own, ...lists };
}

/**
 * notify_key_type / notify_key_operation: the clone-level notification the instance's hangs on
 * (its input), e.g. `clone_post_notify_running_0` -> post, running.
 */
function notifyKeyOf(a: Action, type: string, op: string, ctx: PlanContext): Record<string, string> {
  for (const id of a.inputs) {
    const inp = ctx.byId.get(id);
    if (!inp || !inp.pseudo || inp.task !== 'notify') continue;
    const m = /_(pre|post)_notify_([a-z_]+)_\d+$/.exec(inp.key);
    if (m) return { notify_key_type: m[1]!, notify_key_operation: m[2]! };
  }
  return { notify_key_type: type, notify_key_operation: type === 'post' ? (completedTask[op] ?? op) : op };
}

/** The nearest clone above `rsc` whose notify meta is true. */
function notifyingClone(rsc: ResourceInfo, state: ClusterState): ResourceInfo | undefined {
  for (let p = rsc.parent !== undefined ? state.resourceById.get(rsc.parent) : undefined; p; p = p.parent !== undefined ? state.resourceById.get(p.parent) : undefined) {
    if (p.variant === 'clone') return isTrue(p.meta.get('notify')) ? p : undefined;
  }
  return undefined;
}

interface NotifyEntry {
  readonly rsc: string;
  readonly node: string | undefined;
}

/** collect_resource_data and add_notif_keys: the clone's notify_* lists. */
function notifyLists(clone: ResourceInfo, ctx: PlanContext): Record<string, string> {
  const { state } = ctx;
  const lists: Record<string, NotifyEntry[]> = { active: [], inactive: [], promoted: [], unpromoted: [], start: [], stop: [], promote: [], demote: [] };
  const prims: ResourceInfo[] = [];
  const collect = (r: ResourceInfo): void => {
    if (r.children.length > 0) {
      for (const id of r.children) {
        const c = state.resourceById.get(id);
        if (c) collect(c);
      }
      return;
    }
    prims.push(r);
  };
  for (const id of clone.children) {
    const inst = state.resourceById.get(id);
    if (inst) collect(inst);
  }
  const primIds = new Set(prims.map((p) => p.id));
  for (const p of prims) {
    const entry = { rsc: p.id, node: p.runningOn[0] };
    if (p.role === 'Stopped' || p.role === 'Unknown' || p.runningOn.length === 0) lists.inactive!.push({ rsc: p.id, node: undefined });
    else {
      lists.active!.push(entry);
      if (p.role === 'Promoted') lists.promoted!.push(entry);
      if (p.role === 'Unpromoted') lists.unpromoted!.push(entry);
    }
  }
  for (const a of ctx.actions) {
    if (a.rsc === undefined || !primIds.has(a.rsc) || a.node === undefined || a.optional) continue;
    const list = lists[a.task];
    if (!list || a.task === 'active' || a.task === 'inactive' || a.task === 'promoted' || a.task === 'unpromoted') continue;
    const unclean = state.nodeByName.get(a.node)?.unclean === true;
    if (!a.runnable && !(a.task === 'stop' && unclean)) continue;
    list.push({ rsc: a.rsc, node: a.node });
  }
  const out: Record<string, string> = {};
  const put = (name: string, entries: NotifyEntry[], withNodes: boolean): void => {
    const sorted = dedupe(entries).sort((x, y) => (x.rsc < y.rsc ? -1 : x.rsc > y.rsc ? 1 : compareNodeNames(x.node ?? '', y.node ?? '')));
    out[`notify_${name}_resource`] = sorted.map((e) => e.rsc).join(' ') || ' ';
    if (withNodes) out[`notify_${name}_uname`] = sorted.flatMap((e) => (e.node !== undefined ? [e.node] : [])).join(' ') || ' ';
  };
  put('stop', lists.stop!, true);
  put('start', lists.start!, true);
  put('demote', lists.demote!, true);
  put('promote', lists.promote!, true);
  put('active', lists.active!, true);
  put('slave', lists.unpromoted!, true);
  put('unpromoted', lists.unpromoted!, true);
  put('master', lists.promoted!, true);
  put('promoted', lists.promoted!, true);
  put('inactive', lists.inactive!, false);
  const names = state.nodes.map((n) => n.name).sort(compareNodeNames);
  out.notify_available_uname = availableNodes(clone, ctx, names).join(' ') || ' ';
  out.notify_all_uname = names.join(' ') || ' ';
  return out;
}

function dedupe(entries: readonly NotifyEntry[]): NotifyEntry[] {
  const seen = new Set<string>();
  return entries.filter((e) => {
    const k = `${e.rsc}\u0000${e.node ?? ''}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * The clone's allowed nodes (notify_available_uname): the nodes its allocation scores were
 * printed for (pe__show_node_weights walks the allowed-node table); when the engine printed none,
 * every node in a symmetric cluster and none in an opt-in one.
 */
function availableNodes(clone: ResourceInfo, ctx: PlanContext, names: readonly string[]): string[] {
  const scored = new Set<string>();
  for (const l of ctx.result.scores) if (l.fn === 'pcmk__clone_allocate' && l.rsc === clone.id) scored.add(l.node);
  if (scored.size > 0) return names.filter((n) => scored.has(n));
  return ctx.state.symmetric ? [...names] : [];
}

// ---------------------------------------------------------------------------------------------
// Fence devices
// ---------------------------------------------------------------------------------------------

/** Every stonith-class primitive with what the fencer needs to choose and run it. */
function fenceDevices(cib: Cib, state: ClusterState, source: OpParamSource, order: readonly Action[]): FenceDevice[] {
  const out: FenceDevice[] = [];
  const agents = agentsOf(cib);
  const clusterTimeout = positiveMs(state.options.get('stonith-timeout'), DEFAULT_FENCE_TIMEOUT_MS);
  for (const p of configuredPrimitives(cib)) {
    const id = agents.get(p.id);
    if (id?.class !== 'stonith' || id.type === undefined) continue;
    const params = Object.fromEntries(source.params(p.id, undefined) ?? []);
    const info = state.resourceById.get(p.id);
    const runningOn = new Set(info?.runningOn ?? []);
    for (const a of order) if (a.rsc === p.id && a.task === 'start' && a.node !== undefined) runningOn.add(a.node);
    const hostList = hostsOf(params);
    const delay = delayBase(params.pcmk_delay_base);
    out.push({
      id: p.id,
      agent: { class: 'stonith', ...(id.provider !== undefined ? { provider: id.provider } : {}), type: id.type },
      params,
      ...(hostList !== undefined ? { hostList } : {}),
      delayBaseMs: delay.ms,
      ...(delay.byHost !== undefined ? { delayBaseByHostMs: delay.byHost } : {}),
      priority: info ? parseScore(info.meta.get('priority')) : 0,
      runningOn: [...runningOn],
      timeoutMs: positiveMs(params.pcmk_reboot_timeout, clusterTimeout),
    });
  }
  return out;
}

/** pcmk_host_list, else the hosts of pcmk_host_map ("node1:port1;node2=port2"). */
function hostsOf(params: Readonly<Record<string, string>>): string[] | undefined {
  const list = params.pcmk_host_list;
  if (list !== undefined && list.trim() !== '') return list.split(/[\s,;]+/).filter((h) => h !== '');
  const map = params.pcmk_host_map;
  if (map !== undefined && map.trim() !== '') {
    return map.split(/[\s,;]+/).filter((e) => e !== '').map((e) => e.split(/[:=]/)[0]!).filter((h) => h !== '');
  }
  return undefined;
}

/** pcmk_delay_base: one duration, or per host ("node1:1s;node2:5s"). */
function delayBase(text: string | undefined): { ms: number; byHost?: Record<string, number> } {
  if (text === undefined) return { ms: 0 };
  if (!/[:=]/.test(text)) return { ms: parseIntervalMs(text) };
  const byHost: Record<string, number> = {};
  for (const entry of text.split(/[\s,;]+/)) {
    const m = /^([^:=]+)[:=](.+)$/.exec(entry);
    if (m) byHost[m[1]!] = parseIntervalMs(m[2]);
  }
  return { ms: 0, byHost };
}
