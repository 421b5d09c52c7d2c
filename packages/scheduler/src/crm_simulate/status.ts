/**
 * "Current cluster status:" / "Revised Cluster Status:" as crm_simulate 2.1.5 prints them:
 * the Node List (pe_output.c node_list_text) and the Full List of Resources (pe_output.c
 * resource_list, native.c pcmk__native_output_string, group.c pe__group_default, clone.c
 * pe__clone_default, bundle.c pe__bundle_text).
 *
 * Reads the engine's unpacked `ClusterState`, and the CIB model for what the state does not carry
 * (agent class/provider/type of templated primitives, descriptions, the probe results behind
 * "Stopped (not installed)"). Pure: builds text, no I/O.
 */
import { parseScore, SCORE_INFINITY, type Cib, type LrmResource, type Primitive, type Resource } from '@paceline/cib';
import type { ClusterState, NodeInfo, ResourceInfo, Role } from '../types.js';
import { mergeNvSets, parseIntervalMs, parseRole } from '../util.js';
import { TextOutput } from './text.js';
import { configuredId } from '../graph-info.js';

export { configuredId };

/** Pacemaker's pcmk__numeric_strcasecmp: numbers inside names compare numerically. */
export function compareNodeNames(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(j);
    if (isDigit(ca) && isDigit(cb)) {
      const ea = digitsEnd(a, i);
      const eb = digitsEnd(b, j);
      const na = Number(a.slice(i, ea));
      const nb = Number(b.slice(j, eb));
      if (na !== nb) return na < nb ? -1 : 1;
      if (ea - i !== eb - j) return ea - i < eb - j ? -1 : 1;
      i = ea;
      j = eb;
    } else {
      const la = a[i]!.toLowerCase();
      const lb = b[j]!.toLowerCase();
      if (la !== lb) return la < lb ? -1 : 1;
      i++;
      j++;
    }
  }
  if (i >= a.length && j < b.length) return -1;
  if (i < a.length && j >= b.length) return 1;
  return 0;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function digitsEnd(s: string, from: number): number {
  let k = from;
  while (k < s.length && isDigit(s.charCodeAt(k))) k++;
  return k;
}

/** What the renderer needs to know besides the state. */
export interface StatusOptions {
  /** Show pending actions ("Starting", "(Monitoring)"): crm_simulate does for the current status. */
  readonly showPending: boolean;
  /** -A: the "Node Attributes" section. */
  readonly showAttributes?: boolean;
}

/** Agent fields and description of a configured primitive (templates resolved). */
interface PrimitiveConfig {
  readonly class: string | undefined;
  readonly provider: string | undefined;
  readonly type: string | undefined;
  readonly description: string | undefined;
  /** failure-timeout meta as written (own sets, then rsc_defaults). */
  readonly failureTimeout: string | undefined;
}

/** The parts of an operation record the renderer reads. */
interface OpSeen {
  readonly task: string;
  readonly intervalMs: number;
  readonly rc: number;
  readonly opStatus: number;
  readonly callId: number;
  /** `on_node`: only entries carrying it are found by pe__failed_probe_for_rsc. */
  readonly onNode?: string | undefined;
  readonly lastRcChange?: number | undefined;
}

type History = ReadonlyMap<string, readonly OpSeen[]>;

/** Everything rendering looks up, built once per status. */
interface View {
  readonly state: ClusterState;
  readonly cib: Cib | undefined;
  /** Operation history read from the CIB by lrm_resource id (used when the state carries none). */
  readonly cibHistory: CibHistory;
  /** Shutdown locks in force: lrm_resource id -> the node it is locked to. */
  readonly locks: ReadonlyMap<string, string>;
  readonly primitives: ReadonlyMap<string, PrimitiveConfig>;
  /** Resource id -> node names of primitives running there (for "standby (with active resources)"). */
  readonly nodesWithResources: ReadonlySet<string>;
  readonly opts: StatusOptions;
}

function collectPrimitives(cib: Cib | undefined, nowSec: number): Map<string, PrimitiveConfig> {
  const out = new Map<string, PrimitiveConfig>();
  const defaults = mergeNvSets(cib?.configuration?.rscDefaults?.meta ?? [], { nodeAttrs: undefined, nowSec });
  const visit = (r: Resource): void => {
    switch (r.kind) {
      case 'primitive':
        out.set(r.id, primitiveConfig(r, defaults, nowSec));
        return;
      case 'group':
        for (const c of r.children) visit(c);
        return;
      case 'clone':
      case 'master':
        if (r.child) visit(r.child);
        return;
      case 'bundle':
        if (r.primitive) visit(r.primitive);
        return;
      default: {
        const never: never = r;
        throw new Error(`unknown resource kind ${(never as Resource).kind}`);
      }
    }
  };
  for (const r of cib?.configuration?.resources?.resources ?? []) visit(r);
  return out;
}

function primitiveConfig(p: Primitive, defaults: ReadonlyMap<string, string>, nowSec: number): PrimitiveConfig {
  const t = p.templateRef;
  const meta = mergeNvSets([...p.meta, ...(t?.meta ?? [])], { nodeAttrs: undefined, nowSec });
  return {
    class: p.class ?? t?.class,
    provider: p.provider ?? t?.provider,
    type: p.type ?? t?.type,
    description: p.description,
    failureTimeout: meta.get('failure-timeout') ?? defaults.get('failure-timeout'),
  };
}


/** Renders one status block (title is "Current cluster status" or "Revised Cluster Status"). */
export function renderClusterStatus(out: TextOutput, title: string, state: ClusterState, cib: Cib | undefined, opts: StatusOptions): void {
  const view: View = {
    state,
    cib,
    cibHistory: new CibHistory(cib),
    locks: readLocks(cib, state),
    primitives: collectPrimitives(cib, state.nowSec),
    nodesWithResources: nodesRunningResources(state),
    opts,
  };
  out.beginList(title);
  const printedNodes = renderNodeList(out, view);
  renderResourceList(out, view, printedNodes);
  if (opts.showAttributes) renderNodeAttributes(out, view);
  out.endList();
}

/** Attribute names pe_output.c leaves out of "Node Attributes" (FILTER_STR). */
const hiddenAttributePrefixes = ['fail-count', 'last-failure', 'shutdown', 'terminate', 'standby', '#'];

/**
 * node_attribute_list: each online node's attributes, sorted by name. NOT DONE: the ping
 * connectivity notes ("Connectivity is lost/degraded") Pacemaker adds for ping resources.
 */
function renderNodeAttributes(out: TextOutput, view: View): void {
  let opened = false;
  for (const n of sortedNodes(view.state)) {
    if (!n.online) continue;
    const names = [...n.attributes.keys()].filter((k) => !hiddenAttributePrefixes.some((p) => k.startsWith(p))).sort();
    if (names.length === 0) continue;
    if (!opened) {
      out.spacer();
      out.beginList('Node Attributes');
      opened = true;
    }
    out.beginList(`Node: ${n.name}`);
    for (const name of names) out.item(`${name.padEnd(32)}\t: ${(n.attributes.get(name) ?? '').padEnd(10)}`);
    out.endList();
  }
  if (opened) out.endList();
}

/**
 * Operation history read from the CIB by lrm_resource id, each resource's read when first asked
 * for: rendering needs it only for resources whose state carries none.
 */
class CibHistory {
  private index: Map<string, { node: string; lr: LrmResource }[]> | undefined;
  private readonly read = new Map<string, History>();

  constructor(private readonly cib: Cib | undefined) {}

  get(id: string): History | undefined {
    const known = this.read.get(id);
    if (known !== undefined) return known;
    const entries = this.entries().get(id);
    if (entries === undefined) return undefined;
    const perNode = new Map<string, OpSeen[]>();
    for (const { node, lr } of entries) {
      const ops = lr.ops.map((op) => ({
        task: op.operation ?? '',
        intervalMs: intOf(op.interval),
        rc: intOf(op.rcCode),
        opStatus: intOf(op.opStatus),
        callId: intOf(op.callId),
        onNode: op.onNode,
        lastRcChange: op.lastRcChange !== undefined ? intOf(op.lastRcChange) : undefined,
      }));
      ops.sort((a, b) => a.callId - b.callId);
      perNode.set(node, [...(perNode.get(node) ?? []), ...ops]);
    }
    this.read.set(id, perNode);
    return perNode;
  }

  /** Whether any operation recorded for `id` is pending (op-status -1), without reading them all. */
  hasPending(id: string): boolean {
    for (const { lr } of this.entries().get(id) ?? []) {
      // Only a value with a minus sign can read as -1: most need no parsing.
      for (const op of lr.ops) if (op.opStatus?.includes('-') === true && intOf(op.opStatus) === -1) return true;
    }
    return false;
  }

  /** The lrm_resource ids with history, in document order. */
  ids(): IterableIterator<string> {
    return this.entries().keys();
  }

  private entries(): Map<string, { node: string; lr: LrmResource }[]> {
    if (this.index === undefined) {
      this.index = new Map();
      for (const ns of this.cib?.status?.nodeStates ?? []) {
        const node = ns.uname ?? ns.id;
        for (const lr of ns.lrm?.resources ?? []) {
          const list = this.index.get(lr.id);
          if (list === undefined) this.index.set(lr.id, [{ node, lr }]);
          else list.push({ node, lr });
        }
      }
    }
    return this.index;
  }
}

/**
 * unpack_shutdown_lock: with the shutdown-lock option on, an lrm_resource carrying a shutdown-lock
 * time locks the resource to that node, unless shutdown-lock-limit has passed since.
 */
function readLocks(cib: Cib | undefined, state: ClusterState): Map<string, string> {
  const out = new Map<string, string>();
  const enabled = (state.options.get('shutdown-lock') ?? '').toLowerCase();
  if (!['true', 'yes', 'on', 'y', '1'].includes(enabled)) return out;
  const limitSec = Math.floor(parseIntervalMs(state.options.get('shutdown-lock-limit')) / 1000);
  for (const ns of cib?.status?.nodeStates ?? []) {
    for (const lr of ns.lrm?.resources ?? []) {
      const lockTime = intOf(lr.shutdownLock);
      if (lockTime === 0) continue;
      if (limitSec > 0 && state.nowSec > lockTime + limitSec) continue;
      out.set(lr.id, ns.uname ?? ns.id);
    }
  }
  return out;
}

function intOf(text: string | undefined): number {
  const n = Number.parseInt(text ?? '0', 10);
  return Number.isFinite(n) ? n : 0;
}

/** The state's history of a resource, else what the CIB records under its id. */
function historyOf(view: View, r: ResourceInfo): History {
  if (r.history.size > 0) return r.history;
  // An anonymous instance's history is kept under the configured id, shared by all instances.
  if (!r.unique && r.id !== configuredId(r.id)) return new Map();
  return view.cibHistory.get(r.id) ?? new Map();
}

function nodesRunningResources(state: ClusterState): Set<string> {
  const out = new Set<string>();
  for (const r of state.resources) if (r.variant === 'primitive') for (const n of r.runningOn) out.add(n);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Nodes
// ---------------------------------------------------------------------------------------------

export function sortedNodes(state: ClusterState): NodeInfo[] {
  return [...state.nodes].sort((a, b) => compareNodeNames(a.name, b.name));
}

/** pe_output.c node_text_status. */
function nodeStatusText(n: NodeInfo, view: View): string {
  if (n.unclean) {
    if (n.online) return 'UNCLEAN (online)';
    if (n.pending) return 'UNCLEAN (pending)';
    return 'UNCLEAN (offline)';
  }
  if (n.pending) return 'pending';
  if (n.standbyOnFail && n.online) return 'standby (on-fail)';
  if (n.standby) {
    if (!n.online) return 'OFFLINE (standby)';
    return view.nodesWithResources.has(n.name) ? 'standby (with active resources)' : 'standby';
  }
  if (n.maintenance) return n.online ? 'maintenance' : 'OFFLINE (maintenance)';
  return n.online ? 'online' : 'OFFLINE';
}

/** pe_health.c: the red/yellow/green scores the node-health-strategy implies. */
function healthScores(state: ClusterState): { red: number; yellow: number; green: number } | undefined {
  const strategy = (state.options.get('node-health-strategy') ?? 'none').toLowerCase();
  switch (strategy) {
    case 'none':
      return undefined;
    case 'migrate-on-red':
      return { red: -SCORE_INFINITY, yellow: 0, green: 0 };
    case 'only-green':
      return { red: -SCORE_INFINITY, yellow: -SCORE_INFINITY, green: 0 };
    default: {
      const opt = (name: string): number => parseScore(state.options.get(name) ?? '0');
      return { red: opt('node-health-red'), yellow: opt('node-health-yellow'), green: opt('node-health-green') };
    }
  }
}

/** pe__node_health: -1 red, 0 yellow, 1 fine, from the node's #health* attributes. */
function nodeHealth(view: View, n: NodeInfo): number {
  const scores = healthScores(view.state);
  if (!scores) return 1;
  let rc = 1;
  for (const [name, value] of n.attributes) {
    if (!name.startsWith('#health')) continue;
    const lower = value.toLowerCase();
    if (lower === 'red') return -1;
    if (lower === 'yellow') {
      rc = 0;
      continue;
    }
    const score = parseScore(value, scores);
    if (score <= scores.red) return -1;
    if (score <= scores.yellow && scores.yellow !== scores.green) rc = 0;
  }
  return rc;
}

function nodeKindLabel(n: NodeInfo): string {
  if (n.kind === 'guest') return 'GuestNode';
  if (n.kind === 'remote') return 'RemoteNode';
  return 'Node';
}

/** Returns whether anything was printed (for the spacer before the resource list). */
function renderNodeList(out: TextOutput, view: View): boolean {
  const nodes = sortedNodes(view.state);
  if (nodes.length === 0) return false;
  const online: string[] = [];
  const offline: string[] = [];
  const onlineRemote: string[] = [];
  const offlineRemote: string[] = [];
  const onlineGuest: string[] = [];
  out.beginList('Node List');
  for (const n of nodes) {
    const health = nodeHealth(view, n);
    const individual = n.unclean || n.pending || (n.standbyOnFail && n.online) || n.standby || n.maintenance || health <= 0;
    if (individual) {
      const healthText = health < 0 ? ' (health is RED)' : health === 0 ? ' (health is YELLOW)' : '';
      out.item(`${nodeKindLabel(n)} ${n.name}: ${nodeStatusText(n, view)}${healthText}`);
    } else if (n.online) {
      if (n.kind === 'guest') onlineGuest.push(n.name);
      else if (n.kind === 'remote') onlineRemote.push(n.name);
      else online.push(n.name);
    } else if (n.kind === 'remote') offlineRemote.push(n.name);
    else if (n.kind !== 'guest') offline.push(n.name);
  }
  const lists: Array<[string, string[]]> = [
    ['Online', online],
    ['OFFLINE', offline],
    ['RemoteOnline', onlineRemote],
    ['RemoteOFFLINE', offlineRemote],
    ['GuestOnline', onlineGuest],
  ];
  for (const [label, names] of lists) if (names.length > 0) out.item(`[ ${names.join(' ')} ]`, label);
  out.endList();
  return true;
}

// ---------------------------------------------------------------------------------------------
// Resources: activity, as rsc->fns->active(rsc, all)
// ---------------------------------------------------------------------------------------------

function child(view: View, id: string): ResourceInfo | undefined {
  return view.state.resourceById.get(id);
}

function childrenOf(view: View, r: ResourceInfo): ResourceInfo[] {
  const out: ResourceInfo[] = [];
  for (const id of r.children) {
    const c = child(view, id);
    if (c) out.push(c);
  }
  return out;
}

/** native_active, group_active, clone_active, bundle: `all` asks "fully active". */
function isActive(view: View, r: ResourceInfo, all: boolean): boolean {
  if (r.variant === 'primitive') {
    for (const name of r.runningOn) {
      const n = view.state.nodeByName.get(name);
      if (!n) return true;
      if (n.unclean) return true;
      if (!n.online && r.managed) continue;
      return true;
    }
    return false;
  }
  const kids = childrenOf(view, r);
  if (r.variant === 'group') {
    let any = false;
    let every = true;
    for (const c of kids) {
      if (isActive(view, c, all)) any = true;
      else every = false;
    }
    if (!any) return false;
    return !(all && !every);
  }
  // clone, bundle
  for (const c of kids) {
    const a = isActive(view, c, all);
    if (!all && a) return true;
    if (all && !a) return false;
  }
  return all;
}

/** target-role as the resource sees it: its own meta, else inherited from its parents. */
function targetRoleOf(view: View, r: ResourceInfo): string | undefined {
  for (let cur: ResourceInfo | undefined = r; cur; cur = cur.parent !== undefined ? child(view, cur.parent) : undefined) {
    const v = cur.meta.get('target-role');
    if (v !== undefined) return v;
  }
  return undefined;
}

function isDisabled(view: View, r: ResourceInfo): boolean {
  const tr = targetRoleOf(view, r);
  if (tr === undefined) return false;
  const role = textToRole(tr);
  return role === 'Stopped' || (role === 'Unpromoted' && isUnderPromotable(view, r));
}

/** A role as written in target-role; "unknown" is not a role one can ask for. */
function textToRole(text: string): Role | undefined {
  const role = parseRole(text);
  return role === 'Unknown' ? undefined : role;
}

function uberParent(view: View, r: ResourceInfo): ResourceInfo {
  let cur = r;
  for (;;) {
    if (cur.parent === undefined) return cur;
    const p = child(view, cur.parent);
    if (!p) return cur;
    cur = p;
  }
}

function isUnderPromotable(view: View, r: ResourceInfo): boolean {
  const top = uberParent(view, r);
  return top.promotable || r.promotable;
}

// ---------------------------------------------------------------------------------------------
// Resource list
// ---------------------------------------------------------------------------------------------

function renderResourceList(out: TextOutput, view: View, spacer: boolean): void {
  let printedHeader = false;
  let printedAny = false;
  const header = (): void => {
    if (printedHeader) return;
    if (spacer) out.spacer();
    out.beginList('Full List of Resources');
    printedHeader = true;
  };
  for (const r of view.state.resources) {
    if (r.parent !== undefined) continue;
    const active = isActive(view, r, true);
    if (r.orphan && !active) continue;
    header();
    if (renderResource(out, view, r)) printedAny = true;
  }
  if (!printedAny) {
    header();
    out.item('No resources');
  }
  if (printedHeader) out.endList();
}

/** Dispatches on the variant; returns whether something was printed. */
function renderResource(out: TextOutput, view: View, r: ResourceInfo): boolean {
  switch (r.variant) {
    case 'primitive':
      return renderPrimitive(out, view, r, printableId(view, r));
    case 'group':
      return renderGroup(out, view, r);
    case 'clone':
      return renderClone(out, view, r);
    case 'bundle':
      return renderBundle(out, view, r);
    default: {
      const never: never = r.variant;
      throw new Error(`unknown variant ${String(never)}`);
    }
  }
}

/** rsc_printable_id: anonymous clone instances print their configured id. */
function printableId(view: View, r: ResourceInfo): string {
  if (r.unique) return r.id;
  const top = uberParent(view, r);
  if (top === r || top.variant === 'group') return r.id;
  return configuredId(r.id);
}

/**
 * Implicit resources Pacemaker creates with meta internal=true and does not list: a guest node's
 * connection (named after the guest node, not configured). The meta is honoured when the engine
 * sets it; the guest connection is recognised in any case.
 */
function isInternal(view: View, r: ResourceInfo): boolean {
  if (isTrue(r.meta.get('internal'))) return true;
  return !view.primitives.has(r.id) && view.state.nodeByName.get(r.id)?.kind === 'guest';
}

function renderPrimitive(out: TextOutput, view: View, r: ResourceInfo, name: string): boolean {
  if (isInternal(view, r)) return false;
  out.item(primitiveLine(view, r, name));
  return true;
}

function isTrue(v: string | undefined): boolean {
  if (v === undefined) return false;
  const l = v.toLowerCase();
  return l === 'true' || l === 'yes' || l === 'on' || l === 'y' || l === '1';
}

/** native.c native_pending_task / pending_state from the first pending, non-probe operation. */
function pendingOf(view: View, r: ResourceInfo): { task: string; node: string } | undefined {
  if (r.history.size === 0 && !view.cibHistory.hasPending(r.id)) return undefined;
  for (const [node, ops] of historyOf(view, r)) {
    for (const op of ops) {
      if (op.opStatus !== -1) continue;
      if (op.task === 'monitor' && op.intervalMs === 0) continue;
      return { task: op.task, node };
    }
  }
  return undefined;
}

function pendingState(task: string | undefined): string | undefined {
  switch (task) {
    case 'start':
      return 'Starting';
    case 'stop':
      return 'Stopping';
    case 'migrate_to':
    case 'migrate_from':
      return 'Migrating';
    case 'promote':
      return 'Promoting';
    case 'demote':
      return 'Demoting';
    default:
      return undefined;
  }
}

/** native_displayable_role: "Started" under a promotable clone shows as "Unpromoted". */
function displayableRole(view: View, r: ResourceInfo): Role {
  if (r.role === 'Started' && isUnderPromotable(view, r)) return 'Unpromoted';
  return r.role;
}

/** Pacemaker's services_ocf_exitcode_str: the text crm_simulate and crm_mon show for an rc. */
export const ocfExitText: Readonly<Record<number, string>> = {
  0: 'ok',
  1: 'error',
  2: 'invalid parameter',
  3: 'unimplemented feature',
  4: 'insufficient privileges',
  5: 'not installed',
  6: 'not configured',
  7: 'not running',
  8: 'promoted',
  9: 'promoted (failed)',
  190: 'degraded',
  191: 'promoted (degraded)',
};

/**
 * pe__failed_probe_for_rsc: a probe that found the agent not installed or misconfigured, recorded
 * with its `on_node` (Pacemaker matches failed operations by that attribute, so history entries
 * written without it are never found), on `node` or anywhere when `node` is undefined, and not
 * expired by failure-timeout (expired probe failures are not recorded as failures).
 */
function failedProbeRc(view: View, r: ResourceInfo, node: string | undefined): number | undefined {
  const id = r.unique ? r.id : configuredId(r.id);
  const history = view.cibHistory.get(id) ?? new Map<string, readonly OpSeen[]>();
  for (const [n, ops] of history) {
    if (node !== undefined && n !== node) continue;
    if (r.failCounts.some((f) => f.node === n && f.expired)) continue;
    for (const op of ops) {
      if (op.task !== 'monitor' || op.intervalMs !== 0 || op.onNode === undefined) continue;
      if (failureExpired(view, r, op)) continue;
      if (node !== undefined && op.onNode.toLowerCase() !== node.toLowerCase()) continue;
      if (op.rc === 5 || op.rc === 2 || op.opStatus === 7) return op.rc;
    }
  }
  return undefined;
}

/** check_operation_expiry: a failure older than the resource's failure-timeout is forgotten. */
function failureExpired(view: View, r: ResourceInfo, op: OpSeen): boolean {
  const timeoutMs = parseIntervalMs(r.meta.get('failure-timeout') ?? view.primitives.get(configuredId(r.id))?.failureTimeout);
  if (timeoutMs <= 0 || op.lastRcChange === undefined) return false;
  return op.lastRcChange + Math.floor(timeoutMs / 1000) <= view.state.nowSec;
}

function agentText(view: View, r: ResourceInfo): string {
  const cfg = view.primitives.get(configuredId(r.id)) ?? view.primitives.get(r.id);
  let cls = cfg?.class;
  let provider = cfg?.provider;
  let type = cfg?.type;
  if (cls === undefined && r.agent !== undefined) {
    const parts = r.agent.split(':');
    cls = parts[0];
    if (parts.length >= 3) {
      provider = parts[1] || undefined;
      type = parts.slice(2).join(':');
    } else type = parts[1];
  }
  cls ??= 'unknown';
  type ??= 'unknown';
  const withProvider = cls === 'ocf';
  return `${cls}${withProvider && provider !== undefined ? `:${provider}` : ''}:${type}`;
}

/**
 * Optional fields of `ResourceInfo`: Pacemaker's pe_rsc_failure_ignored flag (set by the engine)
 * and the shutdown-lock node (NEEDS-ENGINE). Read when present.
 */
interface ResourceExtras {
  readonly failureIgnored?: boolean;
  readonly lockNode?: string;
}

/**
 * pcmk__native_output_string. `at.node` overrides the node shown (bundles show the container's;
 * null: none).
 */
function primitiveLine(view: View, r: ResourceInfo, name: string, at?: { node: string | null }): string {
  const extras = r as ResourceInfo & ResourceExtras;
  const multiple = r.runningOn.length > 1;
  const pending = pendingOf(view, r);
  const lockNode = extras.lockNode ?? view.locks.get(r.id);
  let node: string | undefined = at ? (at.node ?? undefined) : (r.runningOn[0] ?? pending?.node ?? lockNode);
  if (multiple) node = undefined;
  let s = `${name}\t(${agentText(view, r)}):\t`;
  if (r.orphan) s += ' ORPHANED';
  const role = displayableRole(view, r);
  if (r.failed) {
    s += ' FAILED';
    if (role === 'Promoted') s += ` ${role}`;
  } else {
    const state = (view.opts.showPending ? pendingState(pending?.task) : undefined) ?? role;
    s += ` ${state}`;
  }
  if (node !== undefined) s += ` ${node}`;
  if (role === 'Stopped') {
    const rc = failedProbeRc(view, r, node);
    if (rc !== undefined) s += ` (${ocfExitText[rc] ?? 'unknown'}) `;
  }
  const flags: string[] = [];
  const n = node !== undefined ? view.state.nodeByName.get(node) : undefined;
  if (n && !n.online && n.unclean) flags.push('UNCLEAN');
  if (node !== undefined && node === lockNode) flags.push('LOCKED');
  if (view.opts.showPending && pending?.task === 'monitor') flags.push('Monitoring');
  const targetRole = targetRoleOf(view, r);
  if (targetRole !== undefined) {
    const tr = textToRole(targetRole);
    if (tr === 'Stopped') flags.push('disabled');
    else if (tr === 'Unpromoted' && isUnderPromotable(view, r)) flags.push(`target-role:${targetRole}`);
  }
  if (r.blocked) flags.push('blocked');
  else if (!r.managed) flags.push('unmanaged');
  if (extras.failureIgnored) flags.push('failure ignored');
  if (flags.length > 0) s += ` (${flags.join(', ')})`;
  if (multiple) {
    const desc = view.primitives.get(configuredId(r.id))?.description;
    if (desc !== undefined) s += ` ${desc}`;
    s += ` [ ${r.runningOn.join(' ')} ]`;
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Groups
// ---------------------------------------------------------------------------------------------

function renderGroup(out: TextOutput, view: View, r: ResourceInfo): boolean {
  const kids = childrenOf(view, r);
  if (kids.length === 0) return false;
  const attrs: string[] = [];
  if (!r.managed) attrs.push('unmanaged');
  if (isDisabled(view, r)) attrs.push('disabled');
  out.beginList(`Resource Group: ${r.id}${attrs.length > 0 ? ` (${attrs.join(', ')})` : ''}`);
  for (const c of kids) renderResource(out, view, c);
  out.endList();
  return true;
}

// ---------------------------------------------------------------------------------------------
// Clones
// ---------------------------------------------------------------------------------------------

/** ID(clone_data->xml_obj_child): the configured child of a clone (also when it has no instance). */
function configuredChildId(view: View, r: ResourceInfo): string | undefined {
  for (const c of view.cib?.configuration?.resources?.resources ?? []) {
    if ((c.kind === 'clone' || c.kind === 'master') && c.id === r.id) return c.child?.id;
  }
  return undefined;
}

function cloneHeader(view: View, r: ResourceInfo): string {
  const attrs: string[] = [];
  if (r.promotable) attrs.push('promotable');
  if (r.unique) attrs.push('unique');
  if (!r.managed) attrs.push('unmanaged');
  if (isDisabled(view, r)) attrs.push('disabled');
  const childId = configuredChildId(view, r) ?? configuredId(r.children[0] ?? '');
  return `Clone Set: ${r.id} [${childId}]${attrs.length > 0 ? ` (${attrs.join(', ')})` : ''}`;
}

/** is_set_recursive(rsc, flag, any). */
function anyRecursive(view: View, r: ResourceInfo, test: (x: ResourceInfo) => boolean): boolean {
  if (test(r)) return true;
  return childrenOf(view, r).some((c) => anyRecursive(view, c, test));
}

function allRecursive(view: View, r: ResourceInfo, test: (x: ResourceInfo) => boolean): boolean {
  if (!test(r)) return false;
  return childrenOf(view, r).every((c) => allRecursive(view, c, test));
}

/** The node an instance is active on, when it is on exactly one (native_location / group). */
function instanceLocation(view: View, r: ResourceInfo): string | undefined {
  if (r.variant === 'primitive') return r.runningOn.length === 1 ? r.runningOn[0] : undefined;
  const nodes = new Set<string>();
  for (const c of childrenOf(view, r)) {
    for (const n of c.variant === 'primitive' ? c.runningOn : [instanceLocation(view, c)]) if (n) nodes.add(n);
  }
  return nodes.size === 1 ? [...nodes][0] : undefined;
}

/** The instance's role: the highest of its members'. */
function instanceRole(view: View, r: ResourceInfo): Role {
  if (r.variant === 'primitive') return r.role;
  let best: Role = 'Unknown';
  const rank: Record<Role, number> = { Unknown: 0, Stopped: 1, Started: 2, Unpromoted: 3, Promoted: 4 };
  for (const c of childrenOf(view, r)) {
    const cr = instanceRole(view, c);
    if (rank[cr] > rank[best]) best = cr;
  }
  return best;
}

function renderClone(out: TextOutput, view: View, r: ResourceInfo): boolean {
  let opened = false;
  const open = (): void => {
    if (!opened) out.beginList(cloneHeader(view, r));
    opened = true;
  };
  const promoted: string[] = [];
  const started: string[] = [];
  const kids = childrenOf(view, r);
  for (const c of kids) {
    const partially = isActive(view, c, false);
    let full = false;
    if (r.unique) {
      full = partially || !r.orphan;
    } else if (view.opts.showPending && pendingOf(view, c) !== undefined) {
      full = true;
    } else if (!partially) {
      // listed among the stopped nodes below
    } else if (anyRecursive(view, c, (x) => x.orphan) || !allRecursive(view, c, (x) => x.managed) || anyRecursive(view, c, (x) => x.failed)) {
      full = true;
    } else if (isActive(view, c, true)) {
      const where = instanceLocation(view, c);
      const node = where !== undefined ? view.state.nodeByName.get(where) : undefined;
      if (where === undefined) full = true;
      else if (node && !node.online && node.unclean) full = true;
      else if (instanceRole(view, c) === 'Promoted') promoted.push(where);
      else started.push(where);
    } else {
      full = true;
    }
    if (full) {
      open();
      if (c.variant === 'group') renderGroup(out, view, c);
      else renderPrimitive(out, view, c, printableId(view, c));
    }
  }
  promoted.sort(compareNodeNames);
  started.sort(compareNodeNames);
  if (promoted.length > 0) {
    open();
    out.item(`Promoted: [ ${promoted.join(' ')} ]`);
  }
  if (started.length > 0) {
    open();
    if (r.promotable) {
      const tr = configuredRole(view, r);
      out.item(`Unpromoted${tr === 'Unpromoted' ? ' (target-role)' : ''}: [ ${started.join(' ')} ]`);
    } else out.item(`Started: [ ${started.join(' ')} ]`);
  }
  const activeInstances = promoted.length + started.length;
  const stopped = !r.unique && cloneMax(view, r) > activeInstances ? stoppedNodes(view, r, kids) : new Map<string, string>();
  if (stopped.size > 0) {
    open();
    const statuses = [...new Set(stopped.values())].sort();
    for (const status of statuses) {
      const nodes = [...stopped].filter(([, s]) => s === status).map(([n]) => n).sort(compareNodeNames);
      out.item(`${status}: [ ${nodes.join(' ')} ]`);
    }
  } else if (activeInstances === 0) open();
  if (opened) out.endList();
  return opened;
}

function cloneMax(view: View, r: ResourceInfo): number {
  const v = r.meta.get('clone-max') ?? r.meta.get('clone_max');
  if (v !== undefined && /^\s*-?\d+/.test(v)) return parseInt(v, 10);
  return Math.max(1, view.state.nodes.length);
}

/**
 * The "Stopped: [ ... ]" table of an anonymous clone: every node the clone may run on (all nodes
 * in a symmetric cluster, else where it was probed) that runs none of its instances.
 */
function stoppedNodes(view: View, r: ResourceInfo, kids: readonly ResourceInfo[]): Map<string, string> {
  // The clone's running_on: an unmanaged instance adds only online nodes to its parents.
  const running = new Set<string>();
  const configured = new Set<string>();
  const collect = (x: ResourceInfo): void => {
    configured.add(configuredId(x.id));
    for (const n of x.runningOn) {
      if (x.variant === 'primitive' && !x.managed && !view.state.nodeByName.get(n)?.online) continue;
      running.add(n);
    }
    for (const c of childrenOf(view, x)) collect(c);
  };
  for (const k of kids) collect(k);
  const candidates = view.state.symmetric ? view.state.nodes.map((n) => n.name) : knownOn(view, configured);
  const disabled = configuredRole(view, r) === 'Stopped';
  const out = new Map<string, string>();
  for (const name of candidates) {
    if (running.has(name)) continue;
    let rc: number | undefined;
    for (const k of kids) {
      rc ??= failedProbeRc(view, k, name);
      if (rc !== undefined) break;
    }
    out.set(name, rc !== undefined ? `Stopped (${ocfExitText[rc] ?? 'unknown'})` : disabled ? 'Stopped (disabled)' : 'Stopped');
  }
  return out;
}

/**
 * An anonymous clone's known_on (asymmetric clusters list these as stopped): nodes whose status
 * (read when the node is online or unclean) has history for one of the clone's resources.
 */
function knownOn(view: View, configured: ReadonlySet<string>): string[] {
  const out = new Set<string>();
  for (const id of view.cibHistory.ids()) {
    if (!configured.has(configuredId(id))) continue;
    for (const node of view.cibHistory.get(id)?.keys() ?? []) {
      const n = view.state.nodeByName.get(node);
      if (n && (n.online || n.unclean)) out.add(node);
    }
  }
  return [...out];
}

/** clone.c configured_role: the clone's target-role, else its first child's. */
function configuredRole(view: View, r: ResourceInfo): Role | undefined {
  const own = targetRoleOf(view, r);
  if (own !== undefined) return textToRole(own);
  const first = r.children[0] !== undefined ? child(view, r.children[0]) : undefined;
  const fromChild = first?.meta.get('target-role');
  return fromChild !== undefined ? textToRole(fromChild) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Bundles
// ---------------------------------------------------------------------------------------------

/** bundle.c next_ip: the next IPv4 address of a bundle's range, undefined past .253 of the third octet. */
function nextIp(last: string): string | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(last);
  if (!m) return undefined;
  let [o1, o2, o3, o4] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
  if (o3 > 253) return undefined;
  if (o4 > 253) {
    o3++;
    o4 = 1;
  } else o4++;
  return `${o1}.${o2}.${o3}.${o4}`;
}

/** One replica as Pacemaker names its implicit resources (bundle.c). */
interface Replica {
  readonly offset: number;
  readonly ipaddr: string | undefined;
  readonly containerId: string;
  readonly remoteId: string | undefined;
  readonly childId: string | undefined;
}

/** The replicas a configured bundle expands to. */
function bundleReplicas(b: Resource & { kind: 'bundle' }): Replica[] {
  const promotedMax = parseInt(b.container?.promotedMax ?? '0', 10) || 0;
  const replicasText = b.container?.replicas;
  const count = replicasText !== undefined ? parseInt(replicasText, 10) || 0 : promotedMax > 0 ? promotedMax : 1;
  const kind = b.container?.kind ?? 'docker';
  const ipStart = b.network?.ipRangeStart;
  const validNetwork = ipStart !== undefined || b.network?.controlPort !== undefined;
  const out: Replica[] = [];
  let lastIp: string | undefined;
  for (let i = 0; i < count; i++) {
    const ipaddr = ipStart === undefined ? undefined : lastIp === undefined ? ipStart : nextIp(lastIp);
    lastIp = ipaddr;
    out.push({
      offset: i,
      ipaddr,
      containerId: `${b.id}-${kind}-${i}`,
      remoteId: b.primitive && validNetwork ? `${b.id}-${i}` : undefined,
      childId: b.primitive ? `${b.primitive.id}:${i}` : undefined,
    });
  }
  return out;
}

function findBundle(cib: Cib | undefined, id: string): (Resource & { kind: 'bundle' }) | undefined {
  for (const r of cib?.configuration?.resources?.resources ?? []) if (r.kind === 'bundle' && r.id === id) return r;
  return undefined;
}

/**
 * pe__bundle_text: "Container bundle set: B [image]" and one line per replica, named after its
 * remote connection (or container), with the replica's address, showing the state of the
 * bundled resource (or the container) on the container's node.
 *
 * The replicas' resources are looked up by Pacemaker's names (B-docker-0, B-ip-ADDR, B-0, child:0);
 * one the state does not hold prints as stopped. NEEDS-ENGINE: guest nodes of bundles and the
 * replicas' resources in `ClusterState`.
 */
function renderBundle(out: TextOutput, view: View, r: ResourceInfo): boolean {
  const config = findBundle(view.cib, r.id);
  if (!config) return false;
  const replicas = bundleReplicas(config);
  const image = config.container?.image ?? '';
  out.beginList(`Container bundle${replicas.length > 1 ? ' set' : ''}: ${r.id} [${image}]${r.unique ? ' (unique)' : ''}${r.managed ? '' : ' (unmanaged)'}`);
  for (const rep of replicas) {
    const container = child(view, rep.containerId);
    const shown = (rep.childId !== undefined ? child(view, rep.childId) : undefined) ?? container ?? stoppedStandIn(view, config, rep);
    const name = `${rep.remoteId ?? rep.containerId}${rep.ipaddr !== undefined ? ` (${rep.ipaddr})` : ''}`;
    if (isTrue(shown.meta.get('internal'))) continue;
    out.item(primitiveLine(view, shown, name, { node: container?.runningOn[0] ?? null }));
  }
  out.endList();
  return true;
}

/** A stopped replica the state does not describe. */
function stoppedStandIn(view: View, b: Resource & { kind: 'bundle' }, rep: Replica): ResourceInfo {
  const p = b.primitive;
  const agent = p ? `${p.class ?? 'ocf'}:${p.class === 'ocf' && p.provider ? `${p.provider}:` : ''}${p.type ?? 'unknown'}` : `ocf:heartbeat:${b.container?.kind ?? 'docker'}`;
  return {
    id: rep.childId ?? rep.containerId,
    variant: 'primitive',
    parent: b.id,
    children: [],
    agent,
    role: 'Stopped',
    runningOn: [],
    activeRoles: new Map(),
    failed: false,
    managed: true,
    orphan: false,
    blocked: false,
    targetRole: 'Started',
    failCounts: [],
    history: new Map(),
    meta: new Map(),
    promotable: (parseInt(b.container?.promotedMax ?? '0', 10) || 0) > 0,
    unique: false,
  };
}
