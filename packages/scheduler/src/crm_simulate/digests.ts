/**
 * The `op-digest` crm_simulate writes with each simulated result (pcmk_sched_actions.c
 * add_op_digest_to_xml): the digest of the action's parameters after pcmk__filter_op_for_digest,
 * i.e. the resource's instance attributes (its own, its template's, then its parents'), the
 * operation's instance attributes, and CRM_meta_timeout for recurring operations.
 *
 * Without it, Pacemaker (and paceline) reading the output CIB would see "resource definition
 * change" on every resource. The digest function and the rule-aware set merge are the engine's
 * (digest.ts, util.ts); this file only gathers the parameters from the configuration model.
 */
import type { Cib, NvSet, Operation, Resource } from '@paceline/cib';
import { operationDigest } from '../digest.js';
import { mergeNvSets, parseIntervalMs } from '../util.js';

interface Located {
  readonly primitive: Resource & { kind: 'primitive' };
  /** Parents from the nearest outwards (group, clone, bundle). */
  readonly parents: readonly Resource[];
}

/** Finds configured primitives by id, with their parents. Built once per simulation. */
export class DigestSource {
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

  /** The op-digest of `task`/`intervalMs` of configured primitive `rscId` on a node, if known. */
  digest(rscId: string, task: string, intervalMs: number, nodeAttrs: ReadonlyMap<string, string> | undefined): string | undefined {
    const found = this.located.get(rscId);
    if (!found) return undefined;
    const ctx = { nodeAttrs, nowSec: this.nowSec };
    const params = new Map<string, string>();
    const sets: NvSet[][] = [[...found.primitive.instanceAttributes], [...(found.primitive.templateRef?.instanceAttributes ?? [])]];
    for (const p of found.parents) sets.push([...p.instanceAttributes]);
    for (const s of sets) mergeNvSets(s, ctx, params);
    const op = findOp(found.primitive, task, intervalMs);
    if (op) for (const [k, v] of mergeNvSets(op.instanceAttributes, ctx)) params.set(k, v);
    if (intervalMs > 0) params.set('CRM_meta_timeout', String(this.timeoutMs(op, ctx)));
    return operationDigest(params);
  }

  private timeoutMs(op: Operation | undefined, ctx: { nodeAttrs: ReadonlyMap<string, string> | undefined; nowSec: number }): number {
    if (op?.timeout !== undefined) return parseIntervalMs(op.timeout);
    const meta = op ? mergeNvSets(op.meta, ctx) : undefined;
    const t = meta?.get('timeout');
    if (t !== undefined) return parseIntervalMs(t);
    return this.opDefaultsTimeoutMs ?? 20_000;
  }
}

function findOp(p: Resource & { kind: 'primitive' }, task: string, intervalMs: number): Operation | undefined {
  for (const o0 of [...p.ops, ...(p.templateRef?.ops ?? [])]) {
    const o = o0.ref ?? o0;
    if (o.name === task && parseIntervalMs(o.interval) === intervalMs) return o;
  }
  return undefined;
}
