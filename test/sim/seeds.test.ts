/**
 * The whole cluster under random faults, many seeds: the real messaging core, controller,
 * scheduler and executor with simulated network, disks and agents (packages/sim). Every seed must
 * keep the checkers quiet (one DC per quorate partition, no resource active twice, fencing before
 * recovery, CIB versions never backwards, acknowledged updates never lost) and converge once the
 * faults heal.
 *
 * 150 seeds by default (about 30 s). PACELINE_SIM_SEED=n replays one seed and prints its trace;
 * PACELINE_SIM_SEEDS=a..b runs another range; PACELINE_SIM_STORM_MS=n lengthens the fault phase
 * (default 20000 simulated ms).
 */
import { describe, expect, it } from 'vitest';
import { runRandomCluster } from '../../packages/sim/src/index.js';

function seedsToRun(): number[] {
  if (process.env.PACELINE_SIM_SEED !== undefined) return [Number(process.env.PACELINE_SIM_SEED)];
  const range = (process.env.PACELINE_SIM_SEEDS ?? '1..150').split('..').map(Number);
  const from = range[0] ?? 1;
  const to = range[1] ?? from;
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

const SEEDS = seedsToRun();
const STORM_MS = process.env.PACELINE_SIM_STORM_MS !== undefined ? Number(process.env.PACELINE_SIM_STORM_MS) : undefined;

describe('whole-cluster simulation', () => {
  it('is decided by its seed alone: the same seed gives the same trace', () => {
    const a = runRandomCluster({ seed: 7, stormMs: 8_000 });
    const b = runRandomCluster({ seed: 7, stormMs: 8_000 });
    const c = runRandomCluster({ seed: 8, stormMs: 8_000 });
    expect(a.trace.length).toBeGreaterThan(100);
    expect(b.trace).toEqual(a.trace);
    expect(c.trace).not.toEqual(a.trace);
  });

  it('keeps the cluster safe under random faults and converges after them', () => {
    const failures: string[] = [];
    const replaying = process.env.PACELINE_SIM_SEED !== undefined;
    const total = { seeds: 0, starts: 0, fences: 0, joins: 0, acked: 0, simulatedMs: 0 };
    for (const seed of SEEDS) {
      const r = runRandomCluster({ seed, ...(STORM_MS !== undefined ? { stormMs: STORM_MS } : {}) });
      total.seeds++;
      total.starts += r.stats.starts;
      total.fences += r.stats.fences;
      total.joins += r.stats.joins;
      total.acked += r.stats.acked;
      total.simulatedMs += r.simulatedMs;
      if (replaying) console.log(`${r.description}\n${r.trace.join('\n')}`);
      if (r.violations.length > 0) {
        const storm = STORM_MS !== undefined ? `PACELINE_SIM_STORM_MS=${STORM_MS} ` : '';
        failures.push(`seed ${seed} (${r.description}):\n    ${r.violations.slice(0, 5).join('\n    ')}\n  replay: ${storm}PACELINE_SIM_SEED=${seed} npx vitest run test/sim/seeds.test.ts`);
      }
    }
    console.log(`cluster sim: ${total.seeds} seeds, ${Math.round(total.simulatedMs / 1000)} s simulated, ${total.starts} starts, ${total.fences} fencings, ${total.joins} joins, ${total.acked} acknowledged updates`);
    // A run where nothing starts, nothing is fenced or nothing is acknowledged would pass vacuously.
    expect(total.starts).toBeGreaterThan(total.seeds * 5);
    if (total.seeds >= 10) {
      expect(total.fences).toBeGreaterThan(total.seeds / 2);
      expect(total.acked).toBeGreaterThan(total.seeds);
    }
    expect(failures, failures.join('\n')).toEqual([]);
  }, Math.max(120_000, SEEDS.length * 2_000));
});
