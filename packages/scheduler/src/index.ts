/**
 * @paceline/scheduler: Pacemaker 2.1.5-compatible policy engine. A pure function from a CIB and a
 * time to a transition (see README).
 */
export type * from './types.js';
export { schedule, schedulePhases, unpackCluster, effectiveNowSec, explain } from './schedule.js';
export type { SchedulePhase } from './schedule.js';
export { renderSummary } from './render.js';
export { formatScoreLine, formatScores } from './scores.js';
export * from './crm_simulate/index.js';
