/**
 * @paceline/scheduler: Pacemaker 2.1.5-compatible policy engine. A pure function from a CIB and a
 * time to a transition (see README).
 */
export type * from './types.js';
export { schedule, schedulePhases, startSchedule, unpackCluster, effectiveNowSec, explain } from './schedule.js';
export type { SchedulePhase, StartedSchedule } from './schedule.js';
export { renderSummary } from './render.js';
export { formatScoreLine, formatScores } from './scores.js';
export * from './crm_simulate/index.js';
export type * from './plan-types.js';
export { planTransition } from './plan.js';
export { recordOpResult, setNodeState, clearNodeHistory, clearResourceHistory, setNodeAttribute, opFailed, OP_STATUS, RECORD_FEATURE_SET } from './status-record.js';
export type { OpResultRecord, NodeStateAttr } from './status-record.js';
export { OpParamSource, DEFAULT_OP_TIMEOUT_MS } from './op-params.js';
