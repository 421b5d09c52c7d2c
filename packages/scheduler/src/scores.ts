/**
 * Allocation and promotion scores as `crm_simulate -s` (Pacemaker 2.1.5) prints them: a pure
 * formatter over `ScheduleResult.scores`.
 */
import { scoreToString } from '@paceline/cib';
import type { ScoreLine } from './types.js';

/** `pcmk__primitive_assign: rsc1 allocation score on node1: INFINITY` or `rsc:0 promotion score on node1: 5`. */
export function formatScoreLine(s: ScoreLine): string {
  if (s.fn === 'promotion') return `${s.rsc} promotion score on ${s.node}: ${scoreToString(s.score)}`;
  return `${s.fn}: ${s.rsc} allocation score on ${s.node}: ${scoreToString(s.score)}`;
}

/** Every score line, in the order the engine computed them. */
export function formatScores(scores: readonly ScoreLine[]): string[] {
  return scores.map(formatScoreLine);
}
