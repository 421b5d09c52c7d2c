/**
 * Recording into a CIB's status section the way Pacemaker 2.1.5's controller does, so that the
 * scheduler reads back what Pacemaker's would: operation results (pcmk__create_history_xml and
 * the controller's lrm_resource updates), node states, node attributes, cleanups.
 *
 * Every function takes the `<cib>` root (the immutable `XmlElement` tree of @paceline/cib) and
 * returns a new root, sharing every unchanged subtree; the input is never modified. A function
 * that changes nothing returns its input. Version counters are not touched: the CIB manager
 * bumps them (`applyChange(before, after)`).
 *
 * History entries of one resource on one node (`lrm_resource`), by id:
 * - `RSC_last_0`: the last non-recurring operation (also written for a failed one);
 * - `RSC_last_failure_0`: the last failed operation (kept until a cleanup);
 * - `RSC_monitor_10000`: one per recurring interval (a failed recurring op goes to last_failure);
 * - `RSC_migrate_to_0` / `RSC_migrate_from_0`: migrations, kept apart;
 * - `RSC_pre_notify_start_0` ...: notifications, always recorded as rc 0.
 * A successful stop removes the recurring entries (the controller cancels them and erases their
 * history); a cancelled recurring operation removes its own entry.
 */
import { element, withAttrs, type XmlElement, type XmlNode } from '@paceline/cib';
import type { PlannedAgent } from './plan-types.js';

/** The feature set the controller records with each result (Pacemaker 2.1.5's CRM_FEATURE_SET). */
export const RECORD_FEATURE_SET = '3.16.2';

/** Executor op-status values (enum pcmk_exec_status). */
export const OP_STATUS = {
  pending: -1,
  done: 0,
  cancelled: 1,
  timeout: 2,
  notSupported: 3,
  error: 4,
  notInstalled: 5,
  notConnected: 6,
  invalid: 7,
  noFenceDevice: 8,
  noSecrets: 9,
} as const;

/** One operation result as the controller records it. */
export interface OpResultRecord {
  readonly node: string;
  readonly nodeId: string;
  /** The lrm_resource id (PlannedAction.lrmId). */
  readonly lrmId: string;
  readonly agent: PlannedAgent;
  readonly task: string;
  readonly intervalMs: number;
  readonly callId: number;
  readonly rc: number;
  /** Executor status (OP_STATUS): 0 done, 1 cancelled, 2 timeout, 4 error, -1 pending, ... */
  readonly opStatus: number;
  /** The rc that is success (PlannedAction.expectedRc). */
  readonly targetRc: number;
  /** `actionId:transitionId:targetRc:uuid` (pcmk__transition_key). */
  readonly transitionKey: string;
  /** When a recurring op's rc last changed (epoch s; 0: unknown, lastRunSec is used). */
  readonly lastRcChangeSec: number;
  /** When the operation ran (epoch s). */
  readonly lastRunSec: number;
  readonly execMs: number;
  readonly queueMs: number;
  readonly opDigest?: string;
  readonly exitReason?: string;
  readonly migrateSource?: string;
  readonly migrateTarget?: string;
  /** Notifications: CRM_meta_notify_type / notify_operation (pre/post, start/stop/...). */
  readonly notifyType?: string;
  readonly notifyOperation?: string;
  /** crm-debug-origin; default `do_update_resource`. */
  readonly origin?: string;
}

/** Node-state attributes the controller maintains. */
export type NodeStateAttr = 'in_ccm' | 'crmd' | 'join' | 'expected';

// ---------------------------------------------------------------------------------------------
// Immutable child edits
// ---------------------------------------------------------------------------------------------

/** The new element, or undefined to remove it. */
type Edit = (el: XmlElement) => XmlElement | undefined;

function isElement(c: XmlNode, name: string, pred?: (e: XmlElement) => boolean): c is XmlElement {
  return c.kind === 'element' && c.name === name && (!pred || pred(c));
}

/**
 * Applies `edit` to the first child `name` matching `pred` (created by `create` when there is
 * none and `create` is given). Returns `parent` itself when nothing changes.
 */
function editChild(
  parent: XmlElement,
  name: string,
  pred: ((e: XmlElement) => boolean) | undefined,
  create: (() => XmlElement) | undefined,
  edit: Edit,
): XmlElement {
  const i = parent.children.findIndex((c) => isElement(c, name, pred));
  if (i < 0) {
    if (!create) return parent;
    const made = edit(create());
    return made ? { ...parent, children: [...parent.children, made] } : parent;
  }
  const old = parent.children[i] as XmlElement;
  const next = edit(old);
  if (next === old) return parent;
  const children = parent.children.slice();
  if (next) children[i] = next;
  else children.splice(i, 1);
  return { ...parent, children };
}

/** Removes every child element matching; `parent` itself when none does. */
function removeChildren(parent: XmlElement, pred: (e: XmlElement) => boolean): XmlElement {
  const children = parent.children.filter((c) => !(c.kind === 'element' && pred(c)));
  return children.length === parent.children.length ? parent : { ...parent, children };
}

/** Applies `edit` to every child element matching; `parent` itself when nothing changes. */
function mapChildren(parent: XmlElement, pred: (e: XmlElement) => boolean, edit: Edit): XmlElement {
  let changed = false;
  const children: XmlNode[] = [];
  for (const c of parent.children) {
    if (c.kind !== 'element' || !pred(c)) {
      children.push(c);
      continue;
    }
    const next = edit(c);
    if (next !== c) changed = true;
    if (next) children.push(next);
  }
  return changed ? { ...parent, children } : parent;
}

function withStatus(root: XmlElement, edit: Edit): XmlElement {
  return editChild(root, 'status', undefined, () => element('status'), edit);
}

/** node_state of `node` (by id, else by uname), created when missing. */
function withNodeState(root: XmlElement, node: { id: string; uname: string }, edit: Edit): XmlElement {
  return withStatus(root, (status) => {
    const byId = status.children.some((c) => isElement(c, 'node_state', (e) => e.attrs.id === node.id));
    const pred = byId ? (e: XmlElement) => e.attrs.id === node.id : (e: XmlElement) => e.attrs.uname === node.uname;
    return editChild(status, 'node_state', pred, () => element('node_state', { id: node.id, uname: node.uname }), edit);
  });
}

/** crm_xml_sanitize_id: ':' and '#' are not valid in XML ids. */
function sanitizeId(id: string): string {
  return id.replace(/[:#]/g, '.');
}

// ---------------------------------------------------------------------------------------------
// Operation results
// ---------------------------------------------------------------------------------------------

/** did_rsc_op_fail. */
export function opFailed(opStatus: number, rc: number, targetRc: number): boolean {
  switch (opStatus) {
    case OP_STATUS.cancelled:
    case OP_STATUS.pending:
      return false;
    case OP_STATUS.notSupported:
    case OP_STATUS.timeout:
    case OP_STATUS.error:
    case OP_STATUS.notConnected:
    case OP_STATUS.noFenceDevice:
    case OP_STATUS.noSecrets:
    case OP_STATUS.invalid:
      return true;
    default:
      return rc !== targetRc;
  }
}

/** The lrm_rsc_op ids a result is written under, and the task and rc it is recorded with. */
function historyIds(r: OpResultRecord): { ids: string[]; task: string; key: string; rc: number; opStatus: number; failed: boolean } {
  let task = r.task;
  // A reload is recorded as a start when it worked, as a monitor when not.
  if (task === 'reload' || task === 'reload-agent') task = r.opStatus === OP_STATUS.done ? 'start' : 'monitor';
  const key = `${r.lrmId}_${task}_${r.intervalMs}`;
  if (task === 'notify') {
    if (r.notifyType === undefined || r.notifyOperation === undefined) throw new Error(`recordOpResult: notify result for ${r.lrmId} without notifyType/notifyOperation`);
    const pending = r.opStatus === OP_STATUS.pending;
    return {
      ids: [`${r.lrmId}_${r.notifyType}_notify_${r.notifyOperation}_0`],
      task,
      key,
      rc: pending ? r.rc : 0,
      opStatus: pending ? r.opStatus : OP_STATUS.done,
      failed: false,
    };
  }
  if (r.task === 'migrate_to' || r.task === 'migrate_from') return { ids: [key], task, key, rc: r.rc, opStatus: r.opStatus, failed: false };
  if (opFailed(r.opStatus, r.rc, r.targetRc)) {
    const ids = [`${r.lrmId}_last_failure_0`];
    if (r.intervalMs === 0) ids.push(`${r.lrmId}_last_0`);
    return { ids, task, key, rc: r.rc, opStatus: r.opStatus, failed: true };
  }
  if (r.intervalMs > 0) return { ids: [key], task, key, rc: r.rc, opStatus: r.opStatus, failed: false };
  return { ids: [`${r.lrmId}_last_0`], task, key, rc: r.rc, opStatus: r.opStatus, failed: false };
}

/** The attributes of one lrm_rsc_op (in Pacemaker's order). */
function opAttrs(id: string, r: OpResultRecord, h: ReturnType<typeof historyIds>): Record<string, string> {
  const attrs: Record<string, string> = {
    id,
    operation_key: h.key,
    operation: h.task,
    'crm-debug-origin': r.origin ?? 'do_update_resource',
    crm_feature_set: RECORD_FEATURE_SET,
    'transition-key': r.transitionKey,
    'transition-magic': `${h.opStatus}:${h.rc};${r.transitionKey}`,
    'exit-reason': h.failed ? (r.exitReason ?? '') : '',
    on_node: r.node,
    'call-id': String(r.callId),
    'rc-code': String(h.rc),
    'op-status': String(h.opStatus),
    interval: String(r.intervalMs),
  };
  if (r.lastRunSec || r.lastRcChangeSec || r.execMs || r.queueMs) {
    attrs['last-rc-change'] = String(r.intervalMs !== 0 && r.lastRcChangeSec !== 0 ? r.lastRcChangeSec : r.lastRunSec);
    attrs['exec-time'] = String(r.execMs);
    attrs['queue-time'] = String(r.queueMs);
  }
  if (r.task === 'migrate_to' || r.task === 'migrate_from') {
    if (r.migrateSource !== undefined) attrs.migrate_source = r.migrateSource;
    if (r.migrateTarget !== undefined) attrs.migrate_target = r.migrateTarget;
  }
  if (r.opDigest !== undefined) attrs['op-digest'] = r.opDigest;
  return attrs;
}

/**
 * Records one operation result under `status/node_state/lrm/lrm_resources/lrm_resource` (each
 * created when missing, the lrm_resource with the agent's class/provider/type). An entry with the
 * same id gets the new attributes (others it has stay, as the CIB's merge keeps them).
 */
export function recordOpResult(root: XmlElement, r: OpResultRecord): XmlElement {
  if (r.lrmId === '') throw new Error('recordOpResult: empty lrmId');
  const node = { id: r.nodeId, uname: r.node };
  return withNodeState(root, node, (ns) =>
    editChild(ns, 'lrm', undefined, () => element('lrm', { id: r.nodeId }), (lrm) =>
      editChild(lrm, 'lrm_resources', undefined, () => element('lrm_resources'), (resources) =>
        editChild(resources, 'lrm_resource', (e) => e.attrs.id === r.lrmId, () => newLrmResource(r), (history) => recordInHistory(history, r)),
      ),
    ),
  );
}

function newLrmResource(r: OpResultRecord): XmlElement {
  const attrs: Record<string, string> = { id: r.lrmId, type: r.agent.type, class: r.agent.class };
  if (r.agent.provider !== undefined) attrs.provider = r.agent.provider;
  return element('lrm_resource', attrs);
}

function recordInHistory(history: XmlElement, r: OpResultRecord): XmlElement {
  // A cancelled recurring operation: the controller erases its history entry.
  if (r.opStatus === OP_STATUS.cancelled && r.intervalMs > 0) {
    const key = `${r.lrmId}_${r.task}_${r.intervalMs}`;
    return removeChildren(history, (e) => e.name === 'lrm_rsc_op' && e.attrs.id === key);
  }
  const h = historyIds(r);
  let out = history;
  for (const id of h.ids) {
    const attrs = opAttrs(id, r, h);
    out = editChild(out, 'lrm_rsc_op', (e) => e.attrs.id === id, () => element('lrm_rsc_op'), (op) => withAttrs(op, attrs));
  }
  // A stop that worked: its recurring operations were cancelled and their history erased.
  if (r.task === 'stop' && !h.failed && r.opStatus === OP_STATUS.done) {
    out = removeChildren(out, (e) => e.name === 'lrm_rsc_op' && e.attrs.operation !== 'notify' && (e.attrs.interval ?? '0') !== '0' && e.attrs.id !== `${r.lrmId}_last_failure_0`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Nodes
// ---------------------------------------------------------------------------------------------

/** Sets node_state attributes (in_ccm, crmd, join, expected), creating the node_state when missing. */
export function setNodeState(
  root: XmlElement,
  node: { readonly id: string; readonly uname: string },
  attrs: Partial<Record<NodeStateAttr, string>>,
): XmlElement {
  const changes: Record<string, string> = {};
  for (const k of ['in_ccm', 'crmd', 'join', 'expected'] as const) {
    const v = attrs[k];
    if (v !== undefined) changes[k] = v;
  }
  return withNodeState(root, node, (ns) => withAttrs(ns, changes));
}

/** Removes a node's resource history (lrm) and transient attributes, as after fencing. */
export function clearNodeHistory(root: XmlElement, uname: string): XmlElement {
  return editStatus(root, (status) =>
    mapChildren(status, (e) => e.name === 'node_state' && e.attrs.uname === uname, (ns) =>
      removeChildren(ns, (e) => e.name === 'lrm' || e.name === 'transient_attributes'),
    ),
  );
}

/**
 * Cleanup: removes `lrmId`'s lrm_resource and its fail-count / last-failure transient
 * attributes (`fail-count-ID`, `fail-count-ID#op_interval`, same for last-failure) on `uname`,
 * or on every node when `uname` is undefined.
 */
export function clearResourceHistory(root: XmlElement, uname: string | undefined, lrmId: string): XmlElement {
  const failAttr = (name: string | undefined): boolean => {
    if (name === undefined) return false;
    for (const prefix of ['fail-count-', 'last-failure-']) {
      if (name === `${prefix}${lrmId}` || name.startsWith(`${prefix}${lrmId}#`)) return true;
    }
    return false;
  };
  return editStatus(root, (status) =>
    mapChildren(status, (e) => e.name === 'node_state' && (uname === undefined || e.attrs.uname === uname), (ns) => {
      let out = mapChildren(ns, (e) => e.name === 'lrm', (lrm) =>
        mapChildren(lrm, (e) => e.name === 'lrm_resources', (res) => removeChildren(res, (e) => e.name === 'lrm_resource' && e.attrs.id === lrmId)),
      );
      out = mapChildren(out, (e) => e.name === 'transient_attributes', (ta) =>
        mapChildren(ta, (e) => e.name === 'instance_attributes', (set) => removeChildren(set, (e) => e.name === 'nvpair' && failAttr(e.attrs.name))),
      );
      return out;
    }),
  );
}

/** Edits an existing status section; the root itself when there is none. */
function editStatus(root: XmlElement, edit: Edit): XmlElement {
  return editChild(root, 'status', undefined, undefined, edit);
}

/**
 * Sets (or, with `value` undefined, deletes) a node attribute:
 * - transient: status/node_state/transient_attributes (id = node id)/instance_attributes
 *   `status-<id>`/nvpair `status-<id>-<name>` (what attrd writes; gone when the node leaves);
 * - permanent: configuration/nodes/node/instance_attributes `nodes-<id>`/nvpair
 *   `nodes-<id>-<name>` (what crm_attribute -l forever writes); the node entry is created when
 *   missing.
 * An existing nvpair of that name in any of the node's sets of that kind is updated in place.
 */
export function setNodeAttribute(
  root: XmlElement,
  node: { readonly id: string; readonly uname: string },
  kind: 'transient' | 'permanent',
  name: string,
  value: string | undefined,
): XmlElement {
  if (name === '') throw new Error('setNodeAttribute: empty attribute name');
  if (kind === 'transient') {
    const setId = `status-${node.id}`;
    if (value === undefined) {
      return editStatus(root, (status) =>
        mapChildren(status, (e) => e.name === 'node_state' && (e.attrs.id === node.id || e.attrs.uname === node.uname), (ns) =>
          mapChildren(ns, (e) => e.name === 'transient_attributes', (ta) => deleteNvpair(ta, name)),
        ),
      );
    }
    return withNodeState(root, node, (ns) =>
      editChild(ns, 'transient_attributes', undefined, () => element('transient_attributes', { id: node.id }), (ta) => putNvpair(ta, setId, name, value)),
    );
  }
  const setId = `nodes-${node.id}`;
  const withNodes = (edit: Edit): XmlElement =>
    editChild(root, 'configuration', undefined, value === undefined ? undefined : () => element('configuration'), (conf) =>
      editChild(conf, 'nodes', undefined, value === undefined ? undefined : () => element('nodes'), edit),
    );
  return withNodes((nodes) => {
    const byId = nodes.children.some((c) => isElement(c, 'node', (e) => e.attrs.id === node.id));
    const pred = byId ? (e: XmlElement) => e.attrs.id === node.id : (e: XmlElement) => e.attrs.uname === node.uname;
    if (value === undefined) return mapChildren(nodes, (e) => e.name === 'node' && pred(e), (n) => deleteNvpair(n, name));
    return editChild(nodes, 'node', pred, () => element('node', { id: node.id, uname: node.uname }), (n) => putNvpair(n, setId, name, value));
  });
}

/** Sets `name` in the first instance_attributes holding it, else in set `setId` (created). */
function putNvpair(holder: XmlElement, setId: string, name: string, value: string): XmlElement {
  const holding = holder.children.find(
    (c): c is XmlElement => isElement(c, 'instance_attributes') && c.children.some((p) => isElement(p, 'nvpair', (e) => e.attrs.name === name)),
  );
  const setPred = holding ? (e: XmlElement) => e === holding : (e: XmlElement) => e.attrs.id === setId;
  return editChild(holder, 'instance_attributes', setPred, () => element('instance_attributes', { id: setId }), (set) =>
    editChild(
      set,
      'nvpair',
      (e) => e.attrs.name === name,
      () => element('nvpair', { id: sanitizeId(`${set.attrs.id ?? setId}-${name}`), name, value }),
      (p) => withAttrs(p, { value }),
    ),
  );
}

function deleteNvpair(holder: XmlElement, name: string): XmlElement {
  return mapChildren(holder, (e) => e.name === 'instance_attributes', (set) => removeChildren(set, (e) => e.name === 'nvpair' && e.attrs.name === name));
}
