/**
 * Small parsing helpers the scheduler phases share: name/value set merging, Pacemaker booleans,
 * intervals, roles, and a minimal rule evaluator.
 *
 * Rules and durations are evaluated by @paceline/cib (rules.ts, options.ts).
 */
import type { NvSet, Rule } from '@paceline/cib';
import { SCORE_INFINITY, evaluateRule as cibEvaluateRule, parseIntervalMs as cibParseIntervalMs, parseScore, timeFromEpochSeconds } from '@paceline/cib';
import type { Role } from './types.js';

/** Pacemaker's crm_is_true: yes, true, on, y, 1 (case-insensitive). */
export function isTrue(value: string | undefined): boolean {
  if (value === undefined) return false;
  const v = value.toLowerCase();
  return v === 'true' || v === 'yes' || v === 'on' || v === 'y' || v === '1';
}

/** A boolean with a default when absent. */
export function boolOr(value: string | undefined, dflt: boolean): boolean {
  return value === undefined ? dflt : isTrue(value);
}

/** Context for evaluating rules against a node. */
export interface RuleContext {
  readonly nodeAttrs: ReadonlyMap<string, string> | undefined;
  readonly nowSec: number;
  /** Resource meta/params for value-source and rsc_expression; optional. */
  readonly rscClass?: string;
  readonly rscProvider?: string;
  readonly rscType?: string;
  readonly opName?: string;
  readonly opIntervalMs?: number;
}

/**
 * Merge name/value sets the Pacemaker way: sets in descending score order (stable), only those
 * whose rules pass, first value of each name wins. `into` holds values that already won.
 */
export function mergeNvSets(sets: readonly NvSet[], ctx: RuleContext, into?: Map<string, string>): Map<string, string> {
  const out = into ?? new Map<string, string>();
  // Most sets lists are empty or hold one set: no ordering to do.
  if (sets.length === 0) return out;
  if (sets.length === 1) {
    mergeNvSet(sets[0]!.ref ?? sets[0]!, ctx, out);
    return out;
  }
  const order = sets
    .map((s, i) => ({ s: s.ref ?? s, i, score: parseScore((s.ref ?? s).score) }))
    .sort((a, b) => b.score - a.score || a.i - b.i);
  for (const { s } of order) mergeNvSet(s, ctx, out);
  return out;
}

/** One (resolved) set of `mergeNvSets`: skipped when it has rules and none passes. */
function mergeNvSet(s: NvSet, ctx: RuleContext, out: Map<string, string>): void {
  if (s.rules.length > 0 && !s.rules.some((r) => evaluateRule(r, ctx))) return;
  for (const p of s.nvpairs) {
    const pp = p.ref ?? p;
    const name = pp.name ?? p.name;
    const value = pp.value ?? p.value;
    // populate_hash: a pair without a name or value is skipped; "#default" removes a value set
    // earlier, so the option takes its default.
    if (name === undefined || value === undefined) continue;
    if (value.length === defaultValue.length && value.toLowerCase() === defaultValue) {
      out.delete(name);
      continue;
    }
    if (!out.has(name)) out.set(name, value);
  }
}

const defaultValue = '#default';

/** Evaluates a rule with @paceline/cib's evaluator (Pacemaker 2.1.5's rules.c semantics). */
export function evaluateRule(rule: Rule, ctx: RuleContext): boolean {
  const rsc = ctx.rscClass !== undefined && ctx.rscType !== undefined
    ? { standard: ctx.rscClass, agent: ctx.rscType, ...(ctx.rscProvider !== undefined ? { provider: ctx.rscProvider } : {}) }
    : undefined;
  return cibEvaluateRule(rule, {
    now: timeFromEpochSeconds(ctx.nowSec),
    ...(ctx.nodeAttrs !== undefined ? { nodeAttrs: ctx.nodeAttrs } : {}),
    ...(rsc !== undefined ? { rsc } : {}),
    ...(ctx.opName !== undefined ? { op: { name: ctx.opName, intervalMs: ctx.opIntervalMs ?? 0 } } : {}),
  }).passed;
}

/** An interval or duration in milliseconds (the options table's parser); unparsable -> 0. */
export function parseIntervalMs(text: string | undefined): number {
  if (text === undefined) return 0;
  let ms = intervalMsByText.get(text);
  if (ms === undefined) {
    const r = cibParseIntervalMs(text.trim());
    ms = r.ok ? r.ms : 0;
    // A CIB spells its intervals a few dozen ways; the bound only guards against odd input.
    if (intervalMsByText.size >= intervalMemoMax) intervalMsByText.clear();
    intervalMsByText.set(text, ms);
  }
  return ms;
}

/** parseIntervalMs's results by text: it runs once per operation and history entry. */
const intervalMsByText = new Map<string, number>();
const intervalMemoMax = 4096;

/** Parses a role name (old and new spellings) as Pacemaker's text2role does. */
export function parseRole(text: string | undefined): Role | undefined {
  if (text === undefined) return undefined;
  switch (text.toLowerCase()) {
    case 'stopped':
      return 'Stopped';
    case 'started':
      return 'Started';
    case 'slave':
    case 'unpromoted':
      return 'Unpromoted';
    case 'master':
    case 'promoted':
      return 'Promoted';
    case 'unknown':
      return 'Unknown';
    default:
      return undefined;
  }
}

const roleRank: Record<Role, number> = { Unknown: 0, Stopped: 1, Started: 2, Unpromoted: 3, Promoted: 4 };

/** Role order as Pacemaker's enum: Unknown < Stopped < Started < Unpromoted < Promoted. */
export function roleRankOf(role: Role): number {
  return roleRank[role];
}

export { SCORE_INFINITY };

/** A copy of a map without the per-entry arrays `new Map(map)` allocates while iterating. */
export function copyMap<K, V>(m: ReadonlyMap<K, V>): Map<K, V> {
  const out = new Map<K, V>();
  m.forEach((v, k) => out.set(k, v));
  return out;
}
