/**
 * Resource definition changes (pcmk__handle_rsc_config_changes, pcmk__check_action_config): the
 * digests recorded in the history of active resources are compared with the configuration; a
 * changed definition forces a restart ("due to resource definition change") or, when the agent
 * supports it, a reload.
 */
import type { NvSet, Operation } from '@paceline/cib';
import type { Digests } from './digest.js';
import { computeDigests, findOp } from './digest.js';
import { failCount } from './assign.js';
import type { Unpacked } from './unpack.js';
import type { HistoryOp, WNode, WRsc } from './work.js';
import { activeIndexes, nodeAvailable, primitivesOf } from './work.js';
import { parseIntervalMs } from './util.js';

export interface ConfigChange {
  /** A required start ("due to resource definition change"). */
  readonly restart: boolean;
  /** A reload-agent. */
  readonly reload: boolean;
  /** A required stop without a reason (agent changed, or reload of a pending start). */
  readonly stop: boolean;
}

function opDefaultsTimeoutMs(u: Unpacked): number | undefined {
  const v = u.opDefaults.get('timeout');
  return v === undefined ? undefined : parseIntervalMs(v);
}

export function configChanges(u: Unpacked): Map<WRsc, ConfigChange> {
  const out = new Map<WRsc, ConfigChange>();
  const cache: DigestCache = new Map();
  const timeoutMs = opDefaultsTimeoutMs(u);
  for (const top of u.resources) {
    for (const r of primitivesOf(top)) {
      // Generated guest connections have no configuration of their own to compare.
      if (r.orphan || !r.def || r.runningOn.length === 0) continue;
      for (const node of r.runningOn) {
        if (!node.maintenance && !nodeAvailable(node)) continue;
        const ops = r.history.get(node.name);
        if (!ops) continue;
        const c = checkHistory(u, r, node, ops, cache, timeoutMs);
        if (c) {
          const prev = out.get(r);
          out.set(r, {
            restart: c.restart || (prev?.restart ?? false),
            reload: c.reload || (prev?.reload ?? false),
            stop: c.stop || (prev?.stop ?? false),
          });
        }
      }
    }
  }
  return out;
}

/**
 * Digests per resource and operation, shared by the nodes the resource runs on when nothing in its
 * parameters depends on the node (no rules in its instance attribute sets or its operations').
 */
type DigestCache = Map<WRsc, Map<string, Digests> | undefined>;

function nodeIndependent(r: WRsc): boolean {
  const noRules = (sets: readonly NvSet[] | undefined): boolean => (sets ?? []).every((s) => (s.ref ?? s).rules.length === 0);
  for (let p: WRsc | undefined = r; p; p = p.parent) {
    if (p.def) {
      if (!noRules(p.def.instanceAttributes) || !noRules(p.def.templateRef?.instanceAttributes)) return false;
    } else if (!noRules(p.instanceSets)) return false;
  }
  const opsWithoutRules = (ops: readonly Operation[] | undefined): boolean =>
    (ops ?? []).every((o) => noRules((o.ref ?? o).instanceAttributes) && noRules((o.ref ?? o).meta));
  return opsWithoutRules(r.def?.ops) && opsWithoutRules(r.def?.templateRef?.ops);
}

function checkHistory(u: Unpacked, r: WRsc, node: WNode, ops: readonly HistoryOp[], cache: DigestCache, timeoutMs: number | undefined): ConfigChange | undefined {
  const agentStop = agentChanged(r, node);
  const { start, stop } = activeIndexes(ops);
  if (start < stop) return undefined;
  let restart = false;
  let reload = false;
  let pendingStop = false;
  let defChanged = false;
  ops.forEach((op, i) => {
    if (i < start) return;
    if (op.intervalMs > 0 && (r.meta.get('maintenance') === 'true' || node.maintenance)) return;
    if (!(op.intervalMs > 0 || ['monitor', 'start', 'promote', 'migrate_from'].includes(op.task))) return;
    if (op.intervalMs > 0 && !configured(r, op.task, op.intervalMs)) return;
    const task = op.intervalMs === 0 && ['monitor', 'migrate_from', 'promote'].includes(op.task) ? 'start' : op.task;
    const rc = digestCompare(u, r, node, task, op, cache, timeoutMs);
    if (rc !== 'match') defChanged = true;
    if (rc === 'restart') {
      if (op.intervalMs === 0) restart = true;
    } else if (rc === 'all' || rc === 'unknown') {
      if (op.intervalMs > 0) return;
      if (op.xml.opRestartDigest !== undefined) {
        if (r.managed && !r.failed) {
          if (r.startPending || agentStop) pendingStop = true;
          else reload = true;
        }
      } else restart = true;
    }
  });
  const stopNeeded = agentStop || pendingStop;
  // process_rsc_history: a changed action definition clears the fail count so it is retried fresh.
  if (defChanged && !r.failcountClears.has(node.name) && failCount(u, r, node) !== 0) r.failcountClears.set(node.name, 'action definition changed');
  return restart || reload || stopNeeded ? { restart, reload, stop: stopNeeded } : undefined;
}

/** pcmk__rsc_agent_changed: the history was recorded for another class, provider or type. */
export function agentChanged(r: WRsc, node: WNode): boolean {
  const old = r.historyAgent.get(node.name);
  if (!old || !r.def) return false;
  const t = r.def.templateRef;
  const cur = { class: r.def.class ?? t?.class, provider: r.def.provider ?? t?.provider, type: r.def.type ?? t?.type };
  return cur.class !== old.class || cur.provider !== old.provider || cur.type !== old.type;
}

/**
 * should_clear_for_param_change: the parameters recorded with a start or monitor failure differ
 * from the configuration's (rsc_action_digest_cmp neither matching nor without digest).
 */
export function paramsChangedSince(u: Unpacked, r: WRsc, node: WNode, op: HistoryOp): boolean {
  if (op.task !== 'start' && op.task !== 'monitor') return false;
  const rc = digestCompare(u, r, node, op.task, op, new Map(), opDefaultsTimeoutMs(u));
  return rc !== 'match' && rc !== 'unknown';
}

function configured(r: WRsc, task: string, intervalMs: number): boolean {
  return findOp(r, task, intervalMs) !== undefined;
}

function digestCompare(
  u: Unpacked,
  r: WRsc,
  node: WNode,
  task: string,
  op: HistoryOp,
  cache: DigestCache,
  timeoutMs: number | undefined,
): 'match' | 'restart' | 'all' | 'unknown' {
  const recordedAll = op.xml.opDigest;
  const recordedRestart = op.xml.opRestartDigest;
  const secureList = op.xml.opSecureDigest !== undefined ? (op.xml.opSecureParams ?? '') : undefined;
  const compute = (): Digests =>
    computeDigests(r, node, task, op.intervalMs, u.nowSec, timeoutMs, op.xml.opForceRestart, recordedRestart !== undefined, secureList, op.xml.crmFeatureSet);
  let perRsc = cache.get(r);
  if (!cache.has(r)) {
    perRsc = nodeIndependent(r) ? new Map() : undefined;
    cache.set(r, perRsc);
  }
  let d: Digests;
  if (perRsc) {
    const key = `${task}\0${op.intervalMs}\0${op.xml.opForceRestart ?? '\u0001'}\0${recordedRestart !== undefined}\0${secureList ?? '\u0001'}\0${op.xml.crmFeatureSet ?? ''}`;
    const hit = perRsc.get(key);
    d = hit ?? compute();
    if (!hit) perRsc.set(key, d);
  } else d = compute();
  let rc: 'match' | 'restart' | 'all' | 'unknown';
  if (recordedRestart !== undefined && d.restart !== undefined && d.restart !== recordedRestart) rc = 'restart';
  else if (recordedAll === undefined) rc = 'unknown';
  else if (recordedAll !== d.all) rc = op.intervalMs === 0 && d.hasExtra ? 'restart' : 'all';
  else rc = 'match';
  // crm_simulate works on sanitized CIBs: a change of private parameters only is ignored.
  if (rc !== 'match' && op.xml.opSecureDigest !== undefined && d.secure === op.xml.opSecureDigest) return 'match';
  return rc;
}
