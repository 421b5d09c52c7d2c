/**
 * Deterministic simulation of the messaging core under random faults, many seeds.
 * SEED=n replays one seed with a trace; SIM_SEEDS=a..b runs another range; SIM_STORM_MS=n
 * lengthens the fault phase (default 3000 simulated ms).
 */
import { describe, expect, it } from 'vitest';
import { runScenario } from '../../packages/messaging/src/sim/scenario.js';

function seedsToRun(): number[] {
  if (process.env.SEED !== undefined) return [Number(process.env.SEED)];
  const range = (process.env.SIM_SEEDS ?? '1..300').split('..').map(Number);
  const from = range[0] ?? 1;
  const to = range[1] ?? from;
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

const SEEDS = seedsToRun();

describe('messaging simulation', () => {
  // Under loss, duplication, reordering, partitions, crashes and restarts, every seed must keep
  // views agreed and ordered, total order, virtual synchrony and votequorum's answer, and settle
  // afterwards; this is the property the controller relies on to never act on a split view.
  it('keeps membership, order, virtual synchrony and quorum under random faults', () => {
    const failures: string[] = [];
    const trace = process.env.SEED !== undefined;
    const total = { views: 0, deliveries: 0, duplicates: 0, seeds: 0 };
    for (const seed of SEEDS) {
      const stormMs = process.env.SIM_STORM_MS !== undefined ? Number(process.env.SIM_STORM_MS) : undefined;
      const r = runScenario({ seed, trace, ...(stormMs !== undefined ? { stormMs } : {}) });
      total.seeds += 1;
      total.views += r.stats.views;
      total.deliveries += r.stats.deliveries;
      total.duplicates += r.stats.duplicates;
      if (trace) console.log(r.trace.join('\n'));
      if (r.violations.length > 0) {
        const storm = process.env.SIM_STORM_MS !== undefined ? `SIM_STORM_MS=${process.env.SIM_STORM_MS} ` : '';
        failures.push(`seed ${seed}: ${r.violations.slice(0, 5).join('\n    ')}\n  replay: ${storm}SEED=${seed} npx vitest run test/messaging/sim.test.ts`);
      }
    }
    console.log(`messaging sim: ${total.seeds} seeds, ${total.views} views installed, ${total.deliveries} deliveries, ${total.duplicates} duplicates suppressed`);
    // A simulation that installs no views or delivers nothing would pass vacuously.
    expect(total.views).toBeGreaterThan(total.seeds * 3);
    expect(total.deliveries).toBeGreaterThan(total.seeds * 100);
    expect(failures, failures.join('\n')).toEqual([]);
  }, Math.max(60_000, SEEDS.length * 500 * (Number(process.env.SIM_STORM_MS ?? 3000) / 3000)));
});
