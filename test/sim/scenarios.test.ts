/**
 * Scenario files (test/sim/*.scenario): stories of a simulated cluster, each with its expected
 * states, run through packages/sim. PACELINE_SIM_SEED=n runs them with another seed;
 * PACELINE_SIM_TRACE=1 prints each trace.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../../packages/sim/src/index.js';

const dir = resolve(import.meta.dirname);
const root = resolve(dir, '../..');
const files = readdirSync(dir).filter((f) => f.endsWith('.scenario')).sort();

describe('cluster scenarios', () => {
  it('has scenarios to run', () => {
    expect(files.length).toBeGreaterThanOrEqual(5);
  });
  for (const f of files) {
    it(f, () => {
      const path = join(dir, f);
      const seed = process.env.PACELINE_SIM_SEED !== undefined ? Number(process.env.PACELINE_SIM_SEED) : undefined;
      const r = runScenario(readFileSync(path, 'utf8'), { file: `test/sim/${f}`, readFile: (p) => readFileSync(resolve(root, p), 'utf8'), ...(seed !== undefined ? { seed } : {}) });
      if (process.env.PACELINE_SIM_TRACE) console.log(r.trace.join('\n'));
      const problems = [...r.failures, ...r.violations];
      const replay = `replay: PACELINE_SIM_SEED=${r.seed} PACELINE_SIM_TRACE=1 npx vitest run test/sim/scenarios.test.ts -t '${f}'`;
      expect(problems, `${problems.join('\n')}\n${r.trace.slice(-40).join('\n')}\n${replay}`).toEqual([]);
    });
  }
});
