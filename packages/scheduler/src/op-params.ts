/**
 * The configured parameters of a resource operation, gathered from the configuration model the
 * way Pacemaker 2.1.5 does for the graph and for `op-digest`:
 *
 * - `params`: the resource's instance attributes (its own, its template's, then its parents'),
 *   rules evaluated for a node's attributes and the time (pe_rsc_params);
 * - `opParams`: the operation's own instance attributes (e.g. OCF_CHECK_LEVEL);
 * - `opMeta`: the action's meta attributes as unpack_operation builds them: op_defaults, a probe's
 *   minimum-interval monitor timeout, the op's meta sets, the op's XML attributes; interval,
 *   timeout and start-delay normalized to milliseconds;
 * - `digest`: the op-digest crm_simulate writes with each simulated result (pcmk_sched_actions.c
 *   add_op_digest_to_xml): the digest of the parameters after pcmk__filter_op_for_digest, i.e.
 *   `params` and `opParams`, and CRM_meta_timeout for recurring operations.
 *
 * Without the digest, Pacemaker (and paceline) reading a recorded result would see "resource
 * definition change" on every resource. The digest function and the rule-aware set merge are the
 * engine's (digest.ts, util.ts).
 */
import { parseScore, type Cib, type NvSet, type Operation, type Resource } from '@paceline/cib';
import { operationDigest } from './digest.js';
import { mergeNvSets, parseIntervalMs, type RuleContext } from './util.js';

type Primitive = Resource & { kind: 'primitive' };

interface Located {
  readonly primitive: Primitive;
  /** Parents from the nearest outwards (group, clone, bundle). */
  readonly parents: readonly Resource[];
}

/** Pacemaker's default operation timeout (CRM_DEFAULT_OP_TIMEOUT_S). */
export const DEFAULT_OP_TIMEOUT_MS = 20_000;

/** Finds configured primitives by id, with their parents. Built once per CIB and time. */
export class OpParamSource {
  private readonly located = new Map<string, Located>();
  private readonly opDefaultsTimeoutMs: number | undefined;

  constructor(private readonly cib: Cib, private readonly nowSec: number) {
    const visit = (r: Resource, parents: readonly Resource[]): void => {
      switch (r.kind) {
        case 'primitive':
          this.located.set(r.id, { primitive: r, parents });
          return;
        case 'group':
          for (const c of r.children) visit(c, [r, ...parents]);
          return;
        case 'clone':
        case 'master':
          if (r.child) visit(r.child, [r, ...parents]);
          return;
        case 'bundle':
          if (r.primitive) visit(r.primitive, [r, ...parents]);
          return;
        default: {
          const never: never = r;
          throw new Error(`unknown resource kind ${(never as Resource).kind}`);
        }
      }
    };
    for (const r of cib.configuration?.resources?.resources ?? []) visit(r, []);
    const defaults = mergeNvSets(cib.configuration?.opDefaults?.meta ?? [], { nodeAttrs: undefined, nowSec });
    const t = defaults.get('timeout');
    this.opDefaultsTimeoutMs = t !== undefined ? parseIntervalMs(t) : undefined;
  }

  /** The configured primitive `rscId` (its configured id, not a clone instance id), if any. */
  primitive(rscId: string): Primitive | undefined {
    return this.located.get(rscId)?.primitive;
  }

  /** The resource's instance attributes on a node (own, template, then parents'; rules evaluated). */
  params(rscId: string, nodeAttrs: ReadonlyMap<string, string> | undefined): Map<string, string> | undefined {
    const found = this.located.get(rscId);
    if (!found) return undefined;
    const ctx = { nodeAttrs, nowSec: this.nowSec };
    const params = new Map<string, string>();
    const sets: NvSet[][] = [[...found.primitive.instanceAttributes], [...(found.primitive.templateRef?.instanceAttributes ?? [])]];
    for (const p of found.parents) sets.push([...p.instanceAttributes]);
    for (const s of sets) mergeNvSets(s, ctx, params);
    return params;
  }

  /** The configured operation of `task`/`intervalMs` (the primitive's, else its template's). */
  op(rscId: string, task: string, intervalMs: number): Operation | undefined {
    const found = this.located.get(rscId);
    return found ? findOp(found.primitive, task, intervalMs) : undefined;
  }

  /** The operation's own instance attributes (empty when the op is not configured). */
  opParams(rscId: string, task: string, intervalMs: number, nodeAttrs: ReadonlyMap<string, string> | undefined): Map<string, string> {
    const op = this.op(rscId, task, intervalMs);
    return op ? mergeNvSets(op.instanceAttributes, { nodeAttrs, nowSec: this.nowSec }) : new Map<string, string>();
  }

  /** The op-digest of `task`/`intervalMs` of configured primitive `rscId` on a node, if known. */
  digest(rscId: string, task: string, intervalMs: number, nodeAttrs: ReadonlyMap<string, string> | undefined): string | undefined {
    const params = this.params(rscId, nodeAttrs);
    if (!params) return undefined;
    const ctx = { nodeAttrs, nowSec: this.nowSec };
    const op = this.op(rscId, task, intervalMs);
    if (op) for (const [k, v] of mergeNvSets(op.instanceAttributes, ctx)) params.set(k, v);
    if (intervalMs > 0) params.set('CRM_meta_timeout', String(this.digestTimeoutMs(op, ctx)));
    return operationDigest(params);
  }

  /**
   * The action's meta attributes (unpack_operation), names as the op writes them ("start-delay"):
   * op_defaults meta (rules evaluated for the operation), for a probe the timeout of the
   * minimum-interval monitor, the op's meta sets, then the op's XML attributes; `id` dropped;
   * `interval` (only when recurring), `timeout` (always; for fence devices' starts and probes
   * pcmk_monitor_timeout wins) and `start-delay` in milliseconds.
   */
  opMeta(rscId: string, task: string, intervalMs: number, nodeAttrs: ReadonlyMap<string, string> | undefined): Map<string, string> {
    const found = this.located.get(rscId);
    const agent = found ? agentFieldsOf(found.primitive) : {};
    const ctx: RuleContext = {
      nodeAttrs,
      nowSec: this.nowSec,
      opName: task,
      opIntervalMs: intervalMs,
      ...(agent.class !== undefined ? { rscClass: agent.class } : {}),
      ...(agent.provider !== undefined ? { rscProvider: agent.provider } : {}),
      ...(agent.type !== undefined ? { rscType: agent.type } : {}),
    };
    const meta = overwriteNvSets(this.cib.configuration?.opDefaults?.meta ?? [], ctx, new Map());
    const probe = task === 'monitor' && intervalMs === 0;
    if (probe && found) {
      const minMon = minIntervalMonitor(found.primitive);
      if (minMon?.timeout !== undefined) meta.set('timeout', minMon.timeout);
    }
    // find_rsc_op_entry: migrations fall back to a legacy "migrate" op.
    const op = found
      ? (findOp(found.primitive, task, intervalMs) ?? (task === 'migrate_to' || task === 'migrate_from' ? findOp(found.primitive, 'migrate', intervalMs) : undefined))
      : undefined;
    if (op) {
      overwriteNvSets(op.meta, ctx, meta);
      for (const [k, v] of Object.entries(op.attrs)) meta.set(k, v);
    }
    meta.delete('id');
    if (intervalMs > 0) meta.set('interval', String(intervalMs));
    else meta.delete('interval');
    if (agent.class === 'stonith' && (task === 'start' || probe)) {
      const t = this.params(rscId, nodeAttrs)?.get('pcmk_monitor_timeout');
      if (t !== undefined) meta.set('timeout', t);
    }
    meta.set('timeout', String(positiveMs(meta.get('timeout'), DEFAULT_OP_TIMEOUT_MS)));
    const delay = meta.get('start-delay');
    if (delay !== undefined) meta.set('start-delay', String(parseIntervalMs(delay)));
    return meta;
  }

  /** The timeout the digest of a recurring op records (op timeout, op meta, op_defaults, 20 s). */
  private digestTimeoutMs(op: Operation | undefined, ctx: { nodeAttrs: ReadonlyMap<string, string> | undefined; nowSec: number }): number {
    if (op?.timeout !== undefined) return parseIntervalMs(op.timeout);
    const meta = op ? mergeNvSets(op.meta, ctx) : undefined;
    const t = meta?.get('timeout');
    if (t !== undefined) return parseIntervalMs(t);
    return this.opDefaultsTimeoutMs ?? DEFAULT_OP_TIMEOUT_MS;
  }
}

/**
 * pe__unpack_dataset_nvpairs with overwrite (how unpack_operation reads op_defaults and op meta
 * sets): the sets in descending score order (stable), each whose rules pass overwriting what the
 * previous ones set, so among equal scores the last matching set wins.
 */
function overwriteNvSets(sets: readonly NvSet[], ctx: RuleContext, into: Map<string, string>): Map<string, string> {
  const order = sets.map((s, i) => ({ s, i, score: parseScore((s.ref ?? s).score) })).sort((a, b) => b.score - a.score || a.i - b.i);
  for (const { s } of order) for (const [k, v] of mergeNvSets([s], ctx)) into.set(k, v);
  return into;
}

/** unpack_timeout: a positive duration in ms, else the default. */
function positiveMs(text: string | undefined, dflt: number): number {
  const ms = parseIntervalMs(text);
  return ms > 0 ? ms : dflt;
}

function agentFieldsOf(p: Primitive): { class?: string; provider?: string; type?: string } {
  const t = p.templateRef;
  const out: { class?: string; provider?: string; type?: string } = {};
  const c = p.class ?? t?.class;
  const pr = p.provider ?? t?.provider;
  const ty = p.type ?? t?.type;
  if (c !== undefined) out.class = c;
  if (pr !== undefined) out.provider = pr;
  if (ty !== undefined) out.type = ty;
  return out;
}

function opsOf(p: Primitive): Operation[] {
  return [...p.ops, ...(p.templateRef?.ops ?? [])].map((o) => o.ref ?? o);
}

function findOp(p: Primitive, task: string, intervalMs: number): Operation | undefined {
  for (const o of opsOf(p)) if (o.name === task && parseIntervalMs(o.interval) === intervalMs) return o;
  return undefined;
}

/** find_min_interval_mon: the enabled recurring monitor with the smallest interval. */
function minIntervalMonitor(p: Primitive): Operation | undefined {
  let best: Operation | undefined;
  let bestMs = Number.POSITIVE_INFINITY;
  for (const o of opsOf(p)) {
    if (o.name !== 'monitor') continue;
    const ms = parseIntervalMs(o.interval);
    if (ms <= 0 || (o.enabled !== undefined && /^(false|no|off|n|0)$/i.test(o.enabled))) continue;
    if (ms < bestMs) {
      best = o;
      bestMs = ms;
    }
  }
  return best;
}
