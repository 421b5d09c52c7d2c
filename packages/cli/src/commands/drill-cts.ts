/**
 * `paceline drill cts TEST` and `paceline drill random`: Pacemaker's CTS tests and RandomTests on
 * a three-node lab in network namespaces (root). See @paceline/lab drill-cts.ts, drill-random.ts.
 *
 *   paceline drill cts TEST[,TEST...] [--repeat N] [--seed S] [--output text|json] [--keep] [--dir DIR]
 *   paceline drill random [--duration 30m] [--seed S] [--from-step K] [--steps N] [--keep-going]
 *                         [--exclude TEST,FAULT...]
 *                         [--output text|json] [--keep] [--dir DIR]
 *
 * Exit codes: 0 every step passed; 1 a step failed or the lab did not come up; 64 bad usage.
 * Progress lines go to stderr; the result (text or JSON) to stdout.
 */
import { Command, InvalidArgumentError } from 'commander';
import { CTS_TESTS, isCtsTest, runCtsDrill, runRandomDrill, type CtsTestName, type SeriesReport } from '@paceline/lab';
import { DRILL_EXIT, parseDuration, positiveInt, wholeNumber } from './drill-options.js';

/** The text output of a series. */
export function formatSeriesText(r: SeriesReport): string {
  const lines = [`drill ${r.kind}${r.test ? ` ${r.test}` : ''} (seed ${r.seed}): ${r.steps.length} step(s) in ${Math.round(r.durationMs / 1000)} s, ${r.passed} passed, ${r.failed} failed`];
  for (const s of r.steps) {
    lines.push(`step ${s.step} ${s.test}: ${s.passed ? 'PASSED' : 'FAILED'} (${s.detail}) ${Math.round(s.durationMs / 100) / 10} s`);
    for (const i of s.invariants) lines.push(`  invariant ${i.name.padEnd(26)} ${i.status}${i.detail ? `: ${i.detail}` : ''}`);
    for (const reason of s.reasons) lines.push(`  ! ${reason}`);
  }
  if (r.stoppedEarly) lines.push(`stopped early: ${r.stoppedEarly}`);
  if (r.firstFailure) lines.push(`first failure: step ${r.firstFailure.step} (${r.firstFailure.test}); replay: ${r.firstFailure.replay}`);
  return `${lines.join('\n')}\n`;
}

interface Flags {
  seed?: number;
  output: string;
  keep?: boolean;
  dir?: string;
  settleTimeout: number;
}

function needRoot(): boolean {
  if (typeof process.getuid === 'function' && process.getuid() === 0) return true;
  process.stderr.write('paceline drill: the drill runs a lab in network namespaces and needs root\n');
  process.exitCode = DRILL_EXIT.failed;
  return false;
}

async function runSeries(what: string, o: Flags, go: (common: { seed: number; progress: (l: string) => void; keep: boolean; settleTimeoutMs: number; dir?: string }) => Promise<SeriesReport>): Promise<void> {
  if (o.output !== 'text' && o.output !== 'json') {
    process.stderr.write(`paceline drill ${what}: --output must be text or json, not '${o.output}'\n`);
    process.exitCode = DRILL_EXIT.usage;
    return;
  }
  if (!needRoot()) return;
  const seed = o.seed ?? Date.now() % 2 ** 31;
  const progress = (l: string): void => void process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${l}\n`);
  progress(`drill ${what}, seed ${seed}`);
  try {
    const r = await go({ seed, progress, keep: o.keep === true, settleTimeoutMs: o.settleTimeout * 1000, ...(o.dir === undefined ? {} : { dir: o.dir }) });
    process.stdout.write(o.output === 'json' ? `${JSON.stringify(r, null, 2)}\n` : formatSeriesText(r));
    process.exitCode = r.failed === 0 && r.steps.length > 0 ? DRILL_EXIT.ok : DRILL_EXIT.failed;
  } catch (err) {
    process.stderr.write(`paceline drill ${what}: ${(err as Error).message}\n`);
    process.exitCode = DRILL_EXIT.failed;
  }
}

const common = (c: Command): Command =>
  c
    .option('--seed <S>', 'seed of the random choices (default: from the clock, printed)', wholeNumber)
    .option('--output <FORMAT>', 'text or json', 'text')
    .option('--keep', 'leave the lab up afterwards')
    .option('--dir <DIR>', 'lab directory (default: a new temporary one)')
    .option('--settle-timeout <SECONDS>', 'how long to wait for the cluster to settle', positiveInt, 60);

/** Adds `cts` and `random` under the `drill` command (which must enable positional options). */
export function registerCtsDrillCommands(drill: Command): void {
  common(drill.command('cts'))
    .description(`a CTS test on a 3-node lab in network namespaces (root): ${CTS_TESTS.join(', ')}`)
    .argument('<TEST>', 'the CTS test, or several separated by commas (run in order on one lab)')
    .option('--repeat <N>', 'number of runs (of the whole list)', positiveInt, 1)
    .action(async (list: string, o: Flags & { repeat: number }) => {
      const tests = list.split(',').map((t) => t.trim());
      const bad = tests.filter((t) => !isCtsTest(t));
      if (bad.length > 0) {
        process.stderr.write(`paceline drill cts: unknown test '${bad.join("', '")}' (${CTS_TESTS.join(', ')})\n`);
        process.exitCode = DRILL_EXIT.usage;
        return;
      }
      await runSeries(`cts ${list}`, o, (x) => runCtsDrill({ ...x, tests: tests as CtsTestName[], repeat: o.repeat }));
    });

  common(drill.command('random'))
    .description('random CTS tests and faults for a duration, invariants after each; stops at the first violation (root)')
    .option('--duration <D>', 'how long: 60s, 30m, 1h (default 30m)', parseDuration)
    .option('--from-step <K>', 'start at step K (replays step K of the same seed)', positiveInt)
    .option('--steps <N>', 'at most N steps', positiveInt)
    .option('--keep-going', 'do not stop at the first failed step')
    .option('--exclude <LIST>', 'CTS tests or faults never to pick, separated by commas')
    .action(async (o: Flags & { duration?: number; fromStep?: number; steps?: number; keepGoing?: boolean; exclude?: string }) => {
      const exclude = o.exclude === undefined ? [] : o.exclude.split(',').map((x) => x.trim()).filter((x) => x !== '');
      await runSeries('random', o, (x) =>
        runRandomDrill({ ...x, durationMs: o.duration ?? 30 * 60_000, ...(o.fromStep === undefined ? {} : { fromStep: o.fromStep }), ...(o.steps === undefined ? {} : { steps: o.steps }), keepGoing: o.keepGoing === true, exclude }),
      );
    });
}
