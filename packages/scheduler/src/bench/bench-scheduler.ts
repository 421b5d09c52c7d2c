/**
 * `node packages/scheduler/dist/bench/bench-scheduler.js [--crm-simulate] [--max-resources N]`:
 * scheduler timings on the synthetic clusters of the scheduler anchor (groups of 4-5 primitives,
 * location preferences, orderings, anti-colocations, all started, node 1 lost), 8 x 400,
 * 16 x 1000 and 32 x 4000. For each size it prints parse and schedule times (best of 3 and median,
 * wall clock), the peak RSS and the number of Transition Summary lines. With `--crm-simulate` and
 * Pacemaker's crm_simulate installed it also runs `crm_simulate -R -x` on the same CIB (sizes up
 * to --max-resources, default 1000: crm_simulate needs minutes on 32 x 4000) and reports whether
 * both Transition Summaries are the same, white space aside.
 *
 * Targets (issue 3): 16 x 1000 at least 10x faster than crm_simulate (8 s); 32 x 4000 under 2 s
 * and 300 MB.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCib, synthCib, writeXml } from '@paceline/cib';
import { renderSummary } from '../render.js';
import { schedule } from '../schedule.js';

interface Size {
  readonly nodes: number;
  readonly resources: number;
}

const sizes: readonly Size[] = [
  { nodes: 8, resources: 400 },
  { nodes: 16, resources: 1000 },
  { nodes: 32, resources: 4000 },
];
const runsPerMeasure = 3;

function measure<T>(work: () => T): { bestMs: number; medianMs: number; result: T } {
  const times: number[] = [];
  let result: T | undefined;
  for (let i = 0; i < runsPerMeasure; i++) {
    const started = performance.now();
    result = work();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { bestMs: times[0] ?? 0, medianMs: times[Math.floor(times.length / 2)] ?? 0, result: result as T };
}

function normalize(lines: readonly string[]): string[] {
  return lines.map((l) => l.replace(/\s+/g, ' ').trim()).filter((l) => l.length > 0);
}

function crmSimulateSummary(text: string): { ms: number; lines: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'paceline-bench-'));
  try {
    const file = join(dir, 'cib.xml');
    writeFileSync(file, text);
    const started = performance.now();
    const out = execFileSync('crm_simulate', ['-R', '-x', file], { encoding: 'utf8', maxBuffer: 1 << 30 });
    const ms = performance.now() - started;
    const m = /Transition Summary:\n([\s\S]*?)(?:\n\n|$)/.exec(out);
    return { ms, lines: normalize((m?.[1] ?? '').split('\n')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function hasCrmSimulate(): boolean {
  try {
    execFileSync('crm_simulate', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function main(argv: readonly string[]): void {
  const compare = argv.includes('--crm-simulate') && hasCrmSimulate();
  const maxIdx = argv.indexOf('--max-resources');
  const compareMax = maxIdx >= 0 ? Number(argv[maxIdx + 1]) : 1000;
  console.log('nodes x rsc    parse ms (best/median)   schedule ms (best/median)   rss MB   summary lines   crm_simulate');
  for (const size of sizes) {
    const text = writeXml(synthCib({ nodes: size.nodes, resources: size.resources, seed: 1, withStatus: true, node1Lost: true }));
    const parsed = measure(() => parseCib(text));
    const scheduled = measure(() => schedule(parsed.result));
    const mine = normalize(renderSummary(scheduled.result.transition.summary));
    const rssMb = process.memoryUsage().rss / 1e6;
    let versus = 'not run';
    if (compare && size.resources <= compareMax) {
      const theirs = crmSimulateSummary(text);
      const same = theirs.lines.length === mine.length && theirs.lines.every((l, i) => l === mine[i]);
      const oursMs = parsed.bestMs + scheduled.bestMs;
      versus = `${theirs.ms.toFixed(0)} ms (${(theirs.ms / oursMs).toFixed(1)}x slower), summary ${same ? 'same' : 'DIFFERENT'}`;
    }
    console.log(
      `${String(size.nodes).padStart(3)} x ${String(size.resources).padEnd(6)}` +
        `  ${parsed.bestMs.toFixed(0).padStart(7)} / ${parsed.medianMs.toFixed(0).padEnd(7)}` +
        `          ${scheduled.bestMs.toFixed(0).padStart(7)} / ${scheduled.medianMs.toFixed(0).padEnd(7)}` +
        `       ${rssMb.toFixed(0).padStart(5)}    ${String(mine.length).padStart(6)}         ${versus}`,
    );
  }
}

main(process.argv.slice(2));
