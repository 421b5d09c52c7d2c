/**
 * crm_simulate-compatible text and simulation (pure). Entry point: `crmSimulate` (CIB text and
 * options in; stdout, stderr, exit code, artifacts and the scheduler's result out). The parts are
 * exported for other front ends (`explainResource` for `resource why`, the renderer, the executor).
 *
 * What this module needs from the engine (each read when present, worked around until then):
 * - `Transition.actions`: ids in Pacemaker's creation order (the synapse order is derived from
 *   them, newest first per resource); `inputs` filtered as should_add_input_to_graph filters them;
 *   optional `Action.inGraph`, `expectedRc` (CRM_meta_op_target_rc), `stonithAction`, `priority`,
 *   `graphRscId` (an anonymous instance's clone_name).
 * - `ResourceInfo.history` filled (pending operations, instance-to-history mapping), and optional
 *   `failureIgnored`, `lockNode`.
 * - Bundles and guest nodes in `ClusterState` (replica resources under Pacemaker's names).
 * - `ScoreLine` for promotion scores (printed as `RSC promotion score on NODE: S` when `fn` is
 *   '' or 'promotion'); utilization traces for `-U`.
 * - packages/scheduler/src/index.ts re-exporting this module (`export * from
 *   './crm_simulate/index.js'`) so the CLI can import it from '@paceline/scheduler'.
 */
export { crmSimulate, simulateCib, readCibText, exitCodes, scoreLine, type CrmSimulateOptions, type CrmSimulateResult } from './run.js';
export { renderClusterStatus, compareNodeNames, ocfExitText } from './status.js';
export { formatSummary, formatSummaryLine, SummaryWidths } from './summary.js';
export { executeTransition, graphOrder, inGraph } from './execute.js';
export { renderDot, renderGraphXml } from './graph.js';
export { TextOutput } from './text.js';
export { explainResource } from './explain.js';
