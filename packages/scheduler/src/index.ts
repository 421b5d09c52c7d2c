/**
 * @paceline/scheduler: Pacemaker 2.1.5-compatible policy engine. A pure function from a CIB and a
 * time to a transition (see README).
 */
export type * from './types.js';
export { schedule, unpackCluster, effectiveNowSec, explain } from './schedule.js';
export { renderSummary } from './render.js';
