/**
 * `paceline drill SCENARIO`: a series of runs of a failover scenario (drill-scenarios.ts) on a
 * netns lab of its own, each with its timeline (nodes' logs + the outside watcher), its
 * invariants and a verdict. The scenario says how many nodes, prepares the CIB (and whatever it
 * needs: shared storage, extra namespaces), and runs one fault; this file brings the lab up,
 * repeats the runs with seeded pauses, and takes everything down again.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunCtx, ScenarioInstance } from './drill-common.js';
import type { DrillReport, DrillRun } from './drill-render.js';
import { DRILL_SCENARIOS, drillScenario, missingTools } from './drill-scenarios.js';
import { seriesSummary } from './drill-timeline.js';
import { labDown, labUp } from './lab.js';
import { pickSubnetIndex, vipAddress } from './netns.js';
import { waitSettled } from './settle.js';

export * from './drill-common.js';
export * from './drill-scenarios.js';
export { partitionScenario, vipFailoverScenario } from './drill-vip.js';
export * from './drill-web.js';
export * from './drill-lvs.js';
export * from './drill-mysql.js';
export * from './drill-two-node.js';
export * from './drill-rolling.js';
export * from './drill-hosts.js';
export * from './drill-probe.js';
export * from './drill-storage.js';

/** A scenario name (see DRILL_SCENARIOS). */
export type DrillScenario = string;

export interface DrillOptions {
  readonly scenario: DrillScenario;
  readonly repeat: number;
  /** Seeds the pause before each fault (200..1000 ms), so runs hit different heartbeat phases. */
  readonly seed: number;
  /** Lab directory (a new temporary one when omitted; removed afterwards unless keep). */
  readonly dir?: string;
  /** Lab name (1-8 lower-case letters or digits). */
  readonly name?: string;
  /** Leave the lab up (and its directory) after the series. */
  readonly keep?: boolean;
  /** Fencing through fence_lab (default true). */
  readonly stonith?: boolean;
  readonly progress?: (line: string) => void;
  /** How long to wait for the cluster to settle after each run (default 60 s). */
  readonly settleTimeoutMs?: number;
}

/** A small deterministic PRNG (mulberry32) for the seeded pauses. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs a drill series on a lab of its own; takes the lab down afterwards unless `keep`. */
export async function runDrill(opts: DrillOptions): Promise<DrillReport & { dir: string }> {
  if (!DRILL_SCENARIOS.includes(opts.scenario)) throw new Error(`unknown drill scenario '${opts.scenario}' (${DRILL_SCENARIOS.join(', ')})`);
  if (!Number.isInteger(opts.repeat) || opts.repeat < 1) throw new Error('--repeat must be a positive whole number');
  if (!Number.isInteger(opts.seed)) throw new Error('--seed must be a whole number');
  const def = drillScenario(opts.scenario);
  const lacks = missingTools(def);
  if (lacks.length > 0) throw new Error(`drill ${def.name} needs ${lacks.join(', ')} (not found on PATH)`);
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'paceline-drill-'));
  const name = opts.name ?? `dr${(process.pid % 46656).toString(36)}`;
  const log = opts.progress ?? (() => undefined);
  const stonith = opts.stonith ?? true;
  const index = pickSubnetIndex();
  const vip = vipAddress(index);
  const nodes = Array.from({ length: def.nodes }, (_, i) => `node${i + 1}`);
  const rand = seededRandom(opts.seed);
  const startedAt = new Date().toISOString();
  const runs: DrillRun[] = [];
  let stoppedEarly: string | undefined;
  let inst: ScenarioInstance | undefined;
  try {
    inst = await def.prepare({ dir, name, subnetIndex: index, vip, nodes, stonith, log });
    const cib = join(dir, 'cib.xml');
    writeFileSync(cib, inst.cib);
    const settleTimeoutMs = opts.settleTimeoutMs ?? 60_000;
    const lab = await labUp({ name, nodes: def.nodes, driver: 'netns', dir, cib, subnetIndex: index, settle: false, progress: log, ...(inst.messaging === undefined ? {} : { messaging: inst.messaging }) });
    await inst.afterUp?.(lab);
    await waitSettled(lab.nodes, { timeoutMs: 60_000, progress: log });
    for (let i = 1; i <= opts.repeat; i++) {
      const preFaultMs = 200 + Math.floor(rand() * 800);
      const ctx: RunCtx = { run: i, vip, stonith, preFaultMs, rand, log, settleTimeoutMs };
      let outcome: Awaited<ReturnType<ScenarioInstance['run']>>;
      try {
        outcome = await inst.run(lab, ctx);
      } catch (err) {
        // A run that could not complete (a watcher that did not start, a lab that broke) is a
        // failed run, and the last one: the lab is in no known state.
        const msg = (err as Error).message;
        runs.push({ run: i, passed: false, failover_ms: -1, fault: 'none (the run could not complete)', reasons: [msg], invariants: [], timeline: [] });
        stoppedEarly = `run ${i} could not complete: ${msg}`;
        log(`run ${i}/${opts.repeat}: FAILED (${msg}); the series stops here`);
        break;
      }
      const { run, unsettled } = outcome;
      runs.push(run);
      log(`run ${i}/${opts.repeat}: ${run.passed ? 'passed' : `FAILED (${run.reasons.join('; ')})`} failover_ms=${run.failover_ms}`);
      if (unsettled && i < opts.repeat) {
        stoppedEarly = `the cluster did not settle after run ${i}`;
        log(`${stoppedEarly}: the series stops here`);
        break;
      }
    }
  } finally {
    if (!opts.keep) {
      await labDown(dir, { name }).catch(() => undefined);
      try {
        inst?.cleanup?.();
      } catch (err) {
        log(`cleanup: ${(err as Error).message}`);
      }
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    } else log(`lab ${name} left up in ${dir} (paceline lab down --dir ${dir}${inst?.cleanup ? '; the scenario\'s shared storage stays set up too' : ''})`);
  }
  const ok = runs.filter((r) => r.failover_ms >= 0).map((r) => r.failover_ms);
  return { scenario: opts.scenario, seed: opts.seed, startedAt, requested: opts.repeat, ...(stoppedEarly === undefined ? {} : { stoppedEarly }), runs, summary: { ...seriesSummary(ok), passed: runs.filter((r) => r.passed).length }, dir };
}
