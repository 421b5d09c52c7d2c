/**
 * `crm_simulate --explain RSC`: why a resource is where it is, or why it is stopped.
 *
 * Built only from the scheduler's result: the resource's current state, what the transition does to
 * it, every allocation score the scheduler computed for it (with the contributions the engine
 * traced: stickiness, constraints, colocations, failures, node state), the nodes that cannot run it,
 * and the actions of it that cannot run with the inputs that block them.
 */
import { scoreToString, type Cib, type Constraint, type ResourceSet } from '@paceline/cib';
import type { Action, ScheduleResult } from '../types.js';
import { compareNodeNames } from './status.js';

/** Explanation lines, or undefined when the resource is unknown. `cib` adds the constraints. */
export function explainResource(result: ScheduleResult, rscId: string, cib?: Cib): string[] | undefined {
  const { state, transition } = result;
  const rsc = state.resourceById.get(rscId);
  if (!rsc) return undefined;
  const lines: string[] = [];
  const where = rsc.runningOn.length > 0 ? `${rsc.role} on ${rsc.runningOn.join(', ')}` : 'Stopped';
  const flags = [rsc.failed ? 'failed' : '', rsc.managed ? '' : 'unmanaged', rsc.blocked ? 'blocked' : '', rsc.orphan ? 'orphaned' : '']
    .filter((f) => f !== '')
    .join(', ');
  lines.push(`Resource ${rsc.id} (${rsc.variant}${rsc.agent ? ` ${rsc.agent}` : ''}): now ${where}${flags ? ` [${flags}]` : ''}`);
  const targetRole = rsc.meta.get('target-role');
  if (targetRole !== undefined) lines.push(`  target-role: ${targetRole}`);
  const changes = transition.summary.filter((s) => s.rsc === rscId);
  if (changes.length === 0) lines.push('  Transition: no change');
  for (const c of changes) lines.push(`  Transition: ${c.change} (${c.details})${c.reason ? ` due to ${c.reason}` : ''}${c.blocked ? ' [blocked]' : ''}`);
  for (const f of rsc.failCounts) {
    lines.push(`  Failures on ${f.node}: ${f.count}${f.expired ? ' (expired)' : ''}`);
  }
  if (rsc.failCounts.length === 0) lines.push(...failCountAttributes(result, rscId));
  lines.push(...scoreLines(result, rscId));
  if (cib) lines.push(...constraintLines(cib, related(result, rscId)));
  lines.push(...blockedActions(transition.actions, rscId));
  return lines;
}

function scoreLines(result: ScheduleResult, rscId: string): string[] {
  const scores = result.scores.filter((s) => s.rsc === rscId);
  if (scores.length === 0) return ['  No allocation scores were computed for it.'];
  const lines = ['  Scores per node (the highest allowed score wins; -INFINITY means it cannot run there):'];
  const latest = new Map<string, (typeof scores)[number]>();
  for (const s of scores) latest.set(s.node, s);
  const nodes = [...latest.keys()].sort(compareNodeNames);
  for (const node of nodes) {
    const s = latest.get(node)!;
    const n = result.state.nodeByName.get(node);
    const state = n ? (n.unclean ? ' (unclean)' : !n.online ? ' (offline)' : n.standby ? ' (standby)' : n.maintenance ? ' (maintenance)' : '') : '';
    lines.push(`    ${node}${state}: ${scoreToString(s.score)}`);
    for (const c of s.contributions) lines.push(`      ${c.score >= 0 ? '+' : ''}${scoreToString(c.score)}  ${c.source}${c.item ? ` ${c.item}` : ''}`);
  }
  return lines;
}

function blockedActions(actions: readonly Action[], rscId: string): string[] {
  const byId = new Map(actions.map((a) => [a.id, a]));
  const lines: string[] = [];
  for (const a of actions) {
    if (a.rsc !== rscId || a.runnable || a.optional) continue;
    const blockers = a.inputs.map((id) => byId.get(id)).filter((x): x is Action => x !== undefined && !x.runnable);
    const why = blockers.map((b) => `${b.key}${b.node ? ` on ${b.node}` : ''}`).join(', ');
    lines.push(`  Cannot ${a.task}${a.node ? ` on ${a.node}` : ''}${a.reason ? `: ${a.reason}` : ''}${why ? ` (waits for unrunnable ${why})` : ''}`);
  }
  return lines;
}

/** The resource, its parents and (for clone instances) its configured id: what constraints name. */
function related(result: ScheduleResult, rscId: string): Set<string> {
  const out = new Set<string>([rscId, rscId.replace(/:\d+$/, '')]);
  for (let r = result.state.resourceById.get(rscId); r?.parent !== undefined; r = result.state.resourceById.get(r.parent)) {
    out.add(r.parent);
  }
  return out;
}

/** fail-count-RSC#op_interval node attributes, when the engine reports no fail counts. */
function failCountAttributes(result: ScheduleResult, rscId: string): string[] {
  const lines: string[] = [];
  const prefix = `fail-count-${rscId.replace(/:\d+$/, '')}#`;
  for (const n of result.state.nodes) {
    for (const [name, value] of n.attributes) if (name.startsWith(prefix)) lines.push(`  Fail count on ${n.name}: ${name.slice(prefix.length)} = ${value}`);
  }
  return lines;
}

function setNames(sets: readonly ResourceSet[]): string[] {
  return sets.flatMap((s) => (s.ref ?? s).resources.map((r) => r.id));
}

/** The constraints that name the resource (or its parents), one line each. */
function constraintLines(cib: Cib, names: ReadonlySet<string>): string[] {
  const lines: string[] = [];
  const mentions = (c: Constraint): boolean => {
    const direct = c.kind === 'rsc_location' || c.kind === 'rsc_ticket' ? [c.rsc] : c.kind === 'rsc_colocation' ? [c.rsc, c.withRsc] : [c.first, c.then];
    return [...direct, ...setNames(c.sets)].some((n) => n !== undefined && names.has(n));
  };
  for (const c of cib.configuration?.constraints?.constraints ?? []) {
    if (!mentions(c)) continue;
    switch (c.kind) {
      case 'rsc_location':
        lines.push(`    location ${c.id}: ${c.rsc ?? c.rscPattern ?? 'set'} ${c.node !== undefined ? `on ${c.node} score ${c.score ?? ''}` : `${c.rules.length} rule(s)`}${c.role ? ` role ${c.role}` : ''}`);
        break;
      case 'rsc_colocation':
        lines.push(`    colocation ${c.id}: ${c.rsc ?? 'set'}${c.rscRole ? ` (${c.rscRole})` : ''} with ${c.withRsc ?? 'set'}${c.withRscRole ? ` (${c.withRscRole})` : ''} score ${c.score ?? ''}`);
        break;
      case 'rsc_order':
        lines.push(`    order ${c.id}: ${c.first ?? 'set'} ${c.firstAction ?? 'start'} then ${c.then ?? 'set'} ${c.thenAction ?? c.firstAction ?? 'start'}${c.orderKind ? ` (${c.orderKind})` : c.score !== undefined ? ` score ${c.score}` : ''}`);
        break;
      case 'rsc_ticket':
        lines.push(`    ticket ${c.id}: ${c.rsc ?? 'set'} needs ticket ${c.ticket ?? ''}${c.lossPolicy ? ` (loss-policy ${c.lossPolicy})` : ''}`);
        break;
      default: {
        const never: never = c;
        throw new Error(`unknown constraint ${JSON.stringify(never)}`);
      }
    }
  }
  return lines.length > 0 ? ['  Constraints that name it:', ...lines] : ['  No constraint names it.'];
}
