/**
 * `paceline sim run [--seed N | --seeds A..B] [--storm-ms MS] [--trace]`: whole-cluster random
 * simulations (packages/sim), the same runs as test/sim/seeds.test.ts.
 * `paceline sim scenario FILE [--seed N] [--trace]`: runs one scenario file (test/sim/*.scenario).
 *
 * Exit codes: 0 every run held its properties; 1 a violation or a failed expectation (the output
 * names the seed and the command that replays it); 2 bad arguments or an unreadable file.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { ScenarioError, runRandomCluster, runScenario } from '@paceline/sim';

export const SIM_EXIT = { ok: 0, violation: 1, usage: 2 } as const;

function seedRange(flags: { seed?: string; seeds?: string }): number[] | undefined {
  if (flags.seed !== undefined) return /^\d+$/.test(flags.seed) ? [Number(flags.seed)] : undefined;
  const m = /^(\d+)\.\.(\d+)$/.exec(flags.seeds ?? '1..20');
  if (!m || Number(m[2]) < Number(m[1])) return undefined;
  return Array.from({ length: Number(m[2]) - Number(m[1]) + 1 }, (_, i) => Number(m[1]) + i);
}

export function registerSimCommands(program: Command): void {
  const sim = program.command('sim').description('deterministic whole-cluster simulation (real controller, scheduler, messaging and executor)');
  sim
    .command('run')
    .description('random faults against a simulated cluster, one run per seed')
    .option('--seed <N>', 'run this seed only (and print its trace with --trace)')
    .option('--seeds <A..B>', 'run this range of seeds', '1..20')
    .option('--storm-ms <MS>', 'simulated milliseconds of faults per run', '20000')
    .option('--trace', 'print the trace of every run')
    .action((flags: { seed?: string; seeds?: string; stormMs: string; trace?: boolean }) => {
      const seeds = seedRange(flags);
      const stormMs = Number(flags.stormMs);
      if (!seeds || !Number.isFinite(stormMs) || stormMs < 0) {
        process.stderr.write('paceline sim run: --seed takes an integer, --seeds A..B, --storm-ms a number of ms\n');
        process.exitCode = SIM_EXIT.usage;
        return;
      }
      let failed = 0;
      for (const seed of seeds) {
        const r = runRandomCluster({ seed, stormMs });
        const ok = r.violations.length === 0;
        if (!ok) failed++;
        process.stdout.write(`seed ${seed}: ${ok ? 'ok' : 'FAILED'} (${r.description}; ${Math.round(r.simulatedMs / 1000)} s simulated, ${r.stats.starts} starts, ${r.stats.fences} fencings)\n`);
        if (flags.trace) process.stdout.write(`${r.trace.join('\n')}\n`);
        if (!ok) process.stdout.write(`  ${r.violations.join('\n  ')}\n  replay: paceline sim run --seed ${seed} --storm-ms ${stormMs} --trace\n`);
      }
      process.exitCode = failed > 0 ? SIM_EXIT.violation : SIM_EXIT.ok;
    });
  sim
    .command('scenario <FILE>')
    .description('run a scenario file (paths in load-cib are relative to the file, then to the current directory)')
    .option('--seed <N>', "override the scenario's seed")
    .option('--trace', 'print the trace')
    .action((file: string, flags: { seed?: string; trace?: boolean }) => {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (e) {
        process.stderr.write(`paceline sim scenario: cannot read ${file}: ${(e as Error).message}\n`);
        process.exitCode = SIM_EXIT.usage;
        return;
      }
      const readFile = (p: string): string => {
        try {
          return readFileSync(resolve(dirname(file), p), 'utf8');
        } catch {
          return readFileSync(p, 'utf8');
        }
      };
      try {
        const r = runScenario(text, { file, readFile, ...(flags.seed !== undefined ? { seed: Number(flags.seed) } : {}) });
        if (flags.trace) process.stdout.write(`${r.trace.join('\n')}\n`);
        const problems = [...r.failures, ...r.violations];
        if (problems.length === 0) process.stdout.write(`${file}: ok (seed ${r.seed}, ${Math.round(r.simulatedMs / 1000)} s simulated)\n`);
        else process.stdout.write(`${file}: FAILED (seed ${r.seed})\n  ${problems.join('\n  ')}\n  replay: paceline sim scenario ${file} --seed ${r.seed} --trace\n`);
        process.exitCode = problems.length === 0 ? SIM_EXIT.ok : SIM_EXIT.violation;
      } catch (e) {
        if (!(e instanceof ScenarioError)) throw e;
        process.stderr.write(`${e.message}\n`);
        process.exitCode = SIM_EXIT.usage;
      }
    });
}
