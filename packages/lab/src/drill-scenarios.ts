/**
 * The registry of `paceline drill` scenarios: name → definition (description, lab size, CIB,
 * extra namespaces, run). Each scenario lives in a file of its own (drill-vip.ts, drill-web.ts,
 * ...); adding one is one line here.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DrillScenarioDef } from './drill-common.js';
import { partitionScenario, vipFailoverScenario } from './drill-vip.js';
import { webScenario } from './drill-web.js';
import { lvsScenario } from './drill-lvs.js';
import { mysqlScenario } from './drill-mysql.js';
import { twoNodeSplitScenario } from './drill-two-node.js';
import { rollingRestartScenario } from './drill-rolling.js';
import { clockJumpScenario } from './drill-clock.js';

const SCENARIOS: readonly DrillScenarioDef[] = [vipFailoverScenario, partitionScenario, webScenario, mysqlScenario, lvsScenario, twoNodeSplitScenario, rollingRestartScenario, clockJumpScenario];

/** Every scenario, in the order --help lists them. */
export function drillScenarios(): readonly DrillScenarioDef[] {
  return SCENARIOS;
}

/** The scenario named so; throws naming the known ones when there is none. */
export function drillScenario(name: string): DrillScenarioDef {
  const s = SCENARIOS.find((x) => x.name === name);
  if (s === undefined) throw new Error(`unknown drill scenario '${name}' (${DRILL_SCENARIOS.join(', ')})`);
  return s;
}

/** The scenario names (`paceline drill NAME`). */
export const DRILL_SCENARIOS: readonly string[] = SCENARIOS.map((s) => s.name);

/** The tools of a scenario missing on this machine (PATH and the sbin directories). */
export function missingTools(def: DrillScenarioDef): string[] {
  const dirs = (process.env['PATH'] ?? '').split(':').concat(['/usr/sbin', '/sbin', '/usr/bin']).filter((d) => d !== '');
  return (def.tools ?? []).filter((t) => !dirs.some((d) => existsSync(join(d, t))));
}
