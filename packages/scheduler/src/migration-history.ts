/**
 * Reading live-migration history (unpack.c 2.1.5: unpack_migrate_to_success,
 * unpack_migrate_to_failure, unpack_migrate_from_failure and their helpers find_lrm_op,
 * find_lrm_resource, non_monitor_after, monitor_not_running_after, newer_state_after_migrate,
 * and pe__is_newer_op).
 *
 * A migrate_to/migrate_from record can say that the resource is also (or only) active on the other
 * node of the migration, that a migration is partial (migrate_to done, migrate_from not yet) and may
 * continue, that it is "dangling" (both done, the source never stopped), or that the resource must be
 * recovered without migrating. These functions look at the history of the other node, as Pacemaker
 * does with XPath queries over the whole status section.
 */
import type { LrmResource, LrmRscOp, NodeState } from '@paceline/cib';
import type { WNode, WRsc } from './work.js';
import { R_STARTED, R_STOPPED } from './work.js';

/** The status's lrm_resource entries by node name and resource id, built once per unpack. */
export class HistoryIndex {
  private readonly byKey = new Map<string, LrmResource[]>();

  /** Indexes every node_state's lrm_resource entries of `states`. */
  constructor(states: readonly NodeState[]) {
    for (const st of states) {
      if (st.uname === undefined) continue;
      for (const lr of st.lrm?.resources ?? []) {
        const key = `${st.uname}\u0000${lr.id}`;
        const list = this.byKey.get(key);
        if (list) list.push(lr);
        else this.byKey.set(key, [lr]);
      }
    }
  }

  /** find_lrm_resource: the single lrm_resource of `rscId` on `nodeName` (none when several match). */
  resource(rscId: string, nodeName: string): LrmResource | undefined {
    const list = this.byKey.get(`${nodeName}\u0000${rscId}`);
    return list && list.length === 1 ? list[0] : undefined;
  }

  /**
   * find_lrm_op: the single operation `task` of `rscId` on `nodeName`; for migrate_to, with
   * migrate_target `other`, for migrate_from with migrate_source `other` (when given). With
   * `targetRc` >= 0, only if it completed with that rc. Several matches count as none, as
   * get_xpath_object returns nothing then.
   */
  op(rscId: string, task: string, nodeName: string, other: string | undefined, targetRc: number): LrmRscOp | undefined {
    let found: LrmRscOp | undefined;
    let count = 0;
    for (const lr of this.byKey.get(`${nodeName}\u0000${rscId}`) ?? []) {
      for (const op of lr.ops) {
        if (op.operation !== task) continue;
        if (other !== undefined && task === 'migrate_to' && op.migrateTarget !== other) continue;
        if (other !== undefined && task === 'migrate_from' && op.migrateSource !== other) continue;
        found = op;
        count++;
      }
    }
    if (count !== 1 || !found) return undefined;
    if (targetRc >= 0 && (intOr(found.rcCode, 1) !== targetRc || intOr(found.opStatus, 4) !== 0)) return undefined;
    return found;
  }
}

function intOr(text: string | undefined, dflt: number): number {
  if (text === undefined) return dflt;
  const n = Number.parseInt(text, 10);
  return Number.isNaN(n) ? dflt : n;
}

/** decode_transition_magic: the transition number and UUID of "status:rc;action:transition:rc:uuid". */
function decodeMagic(magic: string | undefined): { id: number; uuid: string } | undefined {
  if (magic === undefined) return undefined;
  const semi = magic.indexOf(';');
  if (semi < 0) return undefined;
  const parts = magic.slice(semi + 1).split(':');
  if (parts.length < 4) return undefined;
  const id = Number.parseInt(parts[1] ?? '', 10);
  if (Number.isNaN(id)) return undefined;
  return { id, uuid: parts.slice(3).join(':') };
}

/** pe__is_newer_op: > 0 when `a` happened after `b`, < 0 before, 0 when it cannot tell. */
export function isNewerOp(a: LrmRscOp, b: LrmRscOp, sameNodeDefault: boolean): number {
  const sameNode = a.onNode === undefined || b.onNode === undefined ? sameNodeDefault : a.onNode === b.onNode || a.onNode.toLowerCase() === b.onNode.toLowerCase();
  if (sameNode && a.id === b.id) return 0;
  const aCall = intOr(a.callId, -1);
  const bCall = intOr(b.callId, -1);
  if (aCall === -1 && bCall === -1) return 0;
  if (sameNode && aCall >= 0 && aCall < bCall) return -1;
  if (sameNode && bCall >= 0 && aCall > bCall) return 1;
  if (aCall >= 0 && bCall >= 0 && (!sameNode || aCall === bCall)) {
    const lastA = intOr(a.lastRcChange, -1);
    const lastB = intOr(b.lastRcChange, -1);
    if (lastA >= 0 && lastA < lastB) return -1;
    if (lastB >= 0 && lastA > lastB) return 1;
    return 0;
  }
  const ma = decodeMagic(a.transitionMagic);
  const mb = decodeMagic(b.transitionMagic);
  if (!ma || !mb) return 0;
  if (ma.uuid.toLowerCase() !== mb.uuid.toLowerCase() || ma.id === mb.id) {
    if (bCall === -1) return -1;
    if (aCall === -1) return 1;
  } else if ((ma.id >= 0 && ma.id < mb.id) || mb.id === -1) return -1;
  else if ((mb.id >= 0 && ma.id > mb.id) || ma.id === -1) return 1;
  return 0;
}

/**
 * g_list_sort as unpack_lrm_resource runs it: a merge sort (left half floor(n/2), ties keep the
 * left element) over the history in reverse document order (the list was built by prepending),
 * comparing with pe__is_newer_op. Pending operations (call-id -1) are placed by their transition
 * number, which a plain call-id sort gets wrong.
 */
export function sortHistory<T extends { readonly xml: LrmRscOp }>(docOrder: readonly T[]): T[] {
  const cmp = (a: T, b: T): number => isNewerOp(a.xml, b.xml, true);
  const sort = (list: T[]): T[] => {
    if (list.length < 2) return list;
    const half = Math.floor(list.length / 2);
    const left = sort(list.slice(0, half));
    const right = sort(list.slice(half));
    const out: T[] = [];
    let i = 0;
    let j = 0;
    while (i < left.length && j < right.length) out.push(cmp(left[i] as T, right[j] as T) <= 0 ? (left[i++] as T) : (right[j++] as T));
    while (i < left.length) out.push(left[i++] as T);
    while (j < right.length) out.push(right[j++] as T);
    return out;
  };
  return sort([...docOrder].reverse());
}

const stateTasks: ReadonlySet<string> = new Set(['start', 'stop', 'migrate_to', 'migrate_from']);

/** The context the migration readers need: the index, the nodes, and native_add_running. */
export interface MigrationContext {
  readonly index: HistoryIndex;
  readonly nodeByName: ReadonlyMap<string, WNode>;
  /** native_add_running: `rsc` is also active on `node`. */
  addRunning(rsc: WRsc, node: WNode): void;
}

/** non_monitor_after: a start, stop or migration on `nodeName` newer than `xmlOp`. */
function nonMonitorAfter(c: MigrationContext, rscId: string, nodeName: string, xmlOp: LrmRscOp, sameNode: boolean): boolean {
  const lr = c.index.resource(rscId, nodeName);
  if (!lr) return false;
  return lr.ops.some((op) => op !== xmlOp && op.operation !== undefined && stateTasks.has(op.operation) && isNewerOp(op, xmlOp, sameNode) > 0);
}

/** monitor_not_running_after: a monitor on `nodeName`, newer than `xmlOp`, found it not running. */
function monitorNotRunningAfter(c: MigrationContext, rscId: string, nodeName: string, xmlOp: LrmRscOp, sameNode: boolean): boolean {
  const monitor = c.index.op(rscId, 'monitor', nodeName, undefined, 7);
  return monitor !== undefined && isNewerOp(monitor, xmlOp, sameNode) > 0;
}

/** newer_state_after_migrate: `nodeName`'s history moved on after the migration events. */
function newerStateAfterMigrate(c: MigrationContext, rscId: string, nodeName: string, migrateTo: LrmRscOp | undefined, migrateFrom: LrmRscOp | undefined): boolean {
  let xmlOp = migrateFrom ?? migrateTo;
  if (!xmlOp) return false;
  const source = xmlOp.migrateSource;
  const target = xmlOp.migrateTarget;
  let sameNode = false;
  const eq = (x: string | undefined): boolean => x !== undefined && x.toLowerCase() === nodeName.toLowerCase();
  if (eq(target)) {
    if (migrateFrom) {
      xmlOp = migrateFrom;
      sameNode = true;
    } else if (migrateTo) xmlOp = migrateTo;
  } else if (eq(source)) {
    if (migrateTo) {
      xmlOp = migrateTo;
      sameNode = true;
    } else if (migrateFrom) xmlOp = migrateFrom;
  }
  return nonMonitorAfter(c, rscId, nodeName, xmlOp, sameNode) || monitorNotRunningAfter(c, rscId, nodeName, xmlOp, sameNode);
}

/** unknown_on_node: no operation history of the resource on the node. */
function unknownOnNode(c: MigrationContext, rscId: string, nodeName: string): boolean {
  const lr = c.index.resource(rscId, nodeName);
  return !lr || lr.ops.length === 0;
}

function markFailedNoMigrate(rsc: WRsc): void {
  rsc.failed = true;
  rsc.stopNeeded = true;
  rsc.allowMigrate = false;
}

/** unpack_migrate_to_success: a completed migrate_to on `node` (the source). */
export function unpackMigrateToSuccess(c: MigrationContext, rsc: WRsc, node: WNode, xmlOp: LrmRscOp): void {
  const source = xmlOp.migrateSource;
  const target = xmlOp.migrateTarget;
  if (source === undefined || target === undefined || source !== node.name) return;
  const sourceNewerOp = nonMonitorAfter(c, rsc.id, source, xmlOp, true);
  const migrateFrom = c.index.op(rsc.id, 'migrate_from', target, source, -1);
  if (sourceNewerOp && migrateFrom) return;
  const targetNewerState = newerStateAfterMigrate(c, rsc.id, target, xmlOp, migrateFrom);
  if (sourceNewerOp && targetNewerState) return;
  rsc.role = R_STARTED;
  const targetNode = c.nodeByName.get(target);
  const sourceNode = c.nodeByName.get(source);
  const fromRc = migrateFrom ? intOr(migrateFrom.rcCode, 0) : 0;
  const fromStatus = migrateFrom ? intOr(migrateFrom.opStatus, 0) : 0;
  if (migrateFrom && fromRc === 0 && fromStatus === 0) {
    // Both halves succeeded: the source only needs its stop ("dangling" migration).
    rsc.role = R_STOPPED;
    rsc.danglingMigrations.unshift(node);
  } else if (migrateFrom && fromStatus !== -1) {
    if (!targetNewerState && targetNode?.online) c.addRunning(rsc, targetNode);
    else markFailedNoMigrate(rsc);
  } else if (!targetNewerState && targetNode?.online) {
    // Pending, or complete but erased: active on the target too; a partial migration.
    c.addRunning(rsc, targetNode);
    if (sourceNode?.online) {
      rsc.partialMigrationTarget = targetNode;
      rsc.partialMigrationSource = sourceNode;
    }
  } else if (!sourceNewerOp) markFailedNoMigrate(rsc);
}

/** unpack_migrate_to_failure: a failed migrate_to on `node` (the source). */
export function unpackMigrateToFailure(c: MigrationContext, rsc: WRsc, node: WNode, xmlOp: LrmRscOp): void {
  const source = xmlOp.migrateSource;
  const target = xmlOp.migrateTarget;
  if (source === undefined || target === undefined || source !== node.name) return;
  rsc.role = R_STARTED;
  const targetMigrateFrom = c.index.op(rsc.id, 'migrate_from', target, source, 0);
  if (!unknownOnNode(c, rsc.id, target) && !newerStateAfterMigrate(c, rsc.id, target, xmlOp, targetMigrateFrom)) {
    const targetNode = c.nodeByName.get(target);
    if (targetNode?.online) c.addRunning(rsc, targetNode);
  } else if (!nonMonitorAfter(c, rsc.id, source, xmlOp, true)) {
    rsc.danglingMigrations.unshift(node);
  }
}

/** unpack_migrate_from_failure: a failed migrate_from on `node` (the target). */
export function unpackMigrateFromFailure(c: MigrationContext, rsc: WRsc, node: WNode, xmlOp: LrmRscOp): void {
  const source = xmlOp.migrateSource;
  const target = xmlOp.migrateTarget;
  if (source === undefined || target === undefined || target !== node.name) return;
  rsc.role = R_STARTED;
  const sourceMigrateTo = c.index.op(rsc.id, 'migrate_to', source, target, 0);
  if (!unknownOnNode(c, rsc.id, source) && !newerStateAfterMigrate(c, rsc.id, source, sourceMigrateTo, xmlOp)) {
    const sourceNode = c.nodeByName.get(source);
    if (sourceNode?.online) c.addRunning(rsc, sourceNode);
  }
}
