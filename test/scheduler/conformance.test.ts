/**
 * Scheduler conformance: every case of Pacemaker 2.1.5's scheduler corpus, in-process.
 *
 * Prints `Transition Summary: N passed, M failed` and `whole summary: N passed, M failed` with
 * per-group counts and the time taken. A case named in `pinned-transition.txt` (or
 * `pinned-whole.txt`) that fails is a regression and fails this test. Cases that pass and are not
 * pinned yet are listed with the command that pins them:
 *
 *   PACELINE_BLESS=1 npx vitest run test/scheduler/conformance.test.ts          (adds, never removes)
 *   PACELINE_BLESS=replace npx vitest run test/scheduler/conformance.test.ts    (exactly the passing set)
 *
 * To see why cases fail: PACELINE_CASE=name1,name2 npx vitest run test/scheduler/conformance.test.ts
 * (PACELINE_CASE=all-failing prints every failing case, long); PACELINE_SECTION=Current (or
 * Transition, Executing, Revised) prints that section's differences for the first PACELINE_LIMIT
 * (20) cases where it differs; PACELINE_REPORT_FILE=/tmp/verdicts.json writes every verdict.
 */
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { missing, schedulerCorpusDir } from '../support/env.js';
import { crmSimulate, scoreLine } from '../../packages/scheduler/src/crm_simulate/index.js';
import {
  describeDifference,
  formatReport,
  judgePinned,
  readPinned,
  runCorpus,
  sectionBlock,
  sectionHeadings,
  writePinned,
  type CaseResult,
  type Simulate,
} from './corpus.js';

const here = dirname(fileURLToPath(import.meta.url));
const pinnedTransitionPath = join(here, 'pinned-transition.txt');
const pinnedWholePath = join(here, 'pinned-whole.txt');

/**
 * The corpus runs `crm_simulate -S -x CASE.xml [extra args]`; extra args are only ever `-t DATE`.
 * The scores come from the same scheduling run, printed as `crm_simulate -sSQ` prints them.
 */
const simulateCase: Simulate = (cibText, extraArgs) => {
  let now: string | undefined;
  for (let i = 0; i < extraArgs.length; i++) {
    const arg = extraArgs[i];
    if (arg === '-t' || arg === '--set-datetime') now = extraArgs[++i];
    else throw new Error(`conformance runner: unsupported extra argument ${arg ?? ''}`);
  }
  const result = crmSimulate(cibText, { run: true, simulate: true, dot: true, ...(now !== undefined ? { now } : {}) });
  if (result.exitCode !== 0 && result.stdout === '') throw new Error(result.stderr.trim());
  const scores = result.scheduled ? `\n${result.scheduled.scores.map((s) => `${scoreLine(s)}\n`).join('')}` : undefined;
  return { text: result.stdout, ...(scores !== undefined ? { scores } : {}), ...(result.dot !== undefined ? { dot: result.dot } : {}) };
};

const why = missing({ paths: [join(schedulerCorpusDir, 'INDEX.tsv')] });

describe.skipIf(!!why)(`scheduler conformance corpus ${why ?? ''}`, () => {
  // The corpus as a regression gate: pinned cases must keep passing, the rest is reported.
  it('keeps every pinned case passing and reports the counts', () => {
    const run = runCorpus(schedulerCorpusDir, simulateCase);
    console.log(formatReport(run));

    const pinnedT = readPinned(pinnedTransitionPath);
    const pinnedW = readPinned(pinnedWholePath);
    const vt = judgePinned(run.results, pinnedT, (r) => r.transitionOk);
    const vw = judgePinned(run.results, pinnedW, (r) => r.wholeOk);

    printRequestedDifferences(run.results);
    const reportFile = process.env.PACELINE_REPORT_FILE;
    if (reportFile) {
      const rows = run.results.map((r) => ({ name: r.case.name, group: r.case.group, transition: r.transitionOk, transitionExact: r.transitionExact, whole: r.wholeOk, scores: r.scoresOk, dot: r.dotOk, sections: r.sectionsOk }));
      writeFileSync(reportFile, `${JSON.stringify(rows, null, 1)}\n`);
    }
    const bless = process.env.PACELINE_BLESS;
    if (bless === '1' || bless === 'replace') {
      const passT = run.results.filter((r) => r.transitionOk).map((r) => r.case.name);
      const passW = run.results.filter((r) => r.wholeOk).map((r) => r.case.name);
      const keep = bless === 'replace' ? [] : [...pinnedT];
      const keepW = bless === 'replace' ? [] : [...pinnedW];
      writePinned(pinnedTransitionPath, 'Corpus cases whose Transition Summary matches Pacemaker 2.1.5', new Set([...keep, ...passT]));
      writePinned(pinnedWholePath, 'Corpus cases whose whole crm_simulate -S summary matches Pacemaker 2.1.5', new Set([...keepW, ...passW]));
      console.log(`pinned lists rewritten (${bless === 'replace' ? 'replaced' : 'added'}): ${passT.length} transition, ${passW.length} whole`);
    } else if (vt.newlyPassing.length + vw.newlyPassing.length > 0) {
      console.log(
        `newly passing, not pinned yet: transition ${vt.newlyPassing.length} [${abbreviate(vt.newlyPassing)}], whole ${vw.newlyPassing.length} [${abbreviate(vw.newlyPassing)}]\n` +
          'pin them after review with: PACELINE_BLESS=1 npx vitest run test/scheduler/conformance.test.ts',
      );
    }
    for (const name of vt.regressions) console.log(describeDifference(findResult(run.results, name)));
    for (const name of vw.regressions) if (!vt.regressions.includes(name)) console.log(describeDifference(findResult(run.results, name)));

    expect({ transitionRegressions: vt.regressions, wholeRegressions: vw.regressions }).toEqual({
      transitionRegressions: [],
      wholeRegressions: [],
    });
    expect({ unknownPinnedT: vt.unknown, unknownPinnedW: vw.unknown }).toEqual({ unknownPinnedT: [], unknownPinnedW: [] });
  });
});

/** At most 40 names, then how many more. */
function abbreviate(names: readonly string[]): string {
  const shown = names.slice(0, 40).join(' ');
  return names.length > 40 ? `${shown} ... and ${names.length - 40} more` : shown;
}

function findResult(results: readonly CaseResult[], name: string): CaseResult {
  const r = results.find((x) => x.case.name === name);
  if (!r) throw new Error(`no result for ${name}`);
  return r;
}

function printRequestedDifferences(results: readonly CaseResult[]): void {
  const section = process.env.PACELINE_SECTION;
  if (section !== undefined) {
    const index = sectionHeadings.findIndex((h) => h.toLowerCase().startsWith(section.toLowerCase()));
    const failing = results.filter((r) => r.sectionsOk[index] === false);
    for (const r of failing.slice(0, Number(process.env.PACELINE_LIMIT ?? 20))) {
      const heading = sectionHeadings[index] ?? '';
      console.log(describeDifference({ ...r, actual: sectionBlock(r.actual, heading), expected: sectionBlock(r.expected, heading) }));
    }
  }
  const wanted = process.env.PACELINE_CASE;
  if (!wanted) return;
  const names = new Set(wanted.split(',').map((s) => s.trim()));
  for (const r of results) {
    const show = names.has(r.case.name) || (names.has('all-failing') && !r.wholeOk);
    if (show) console.log(describeDifference(r));
  }
}
