/**
 * The scheduler conformance corpus (Pacemaker 2.1.5's cts/scheduler) and how a case is judged.
 *
 * A case passes exactly as Pacemaker's own cts-scheduler judges it: the text `crm_simulate -S -x
 * NAME.xml` prints is compared with `summary/NAME.summary` ignoring all white space and blank lines
 * (`diff --ignore-all-space --ignore-blank-lines`). Two verdicts per case: the "Transition Summary:"
 * block alone (the scheduling decision) and the whole summary (status rendering and the simulated
 * execution as well). The corpus is read in place and never edited; no case is special-cased.
 *
 * The runner is in-process: `runCorpus` calls a `Simulate` function (paceline's crm_simulate core)
 * on each case's text. Whatever that function throws is caught and counted as a failure of that case.
 */
import { readFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** One row of INDEX.tsv. */
export interface CorpusCase {
  readonly group: string;
  readonly name: string;
  readonly description: string;
  /** crm_simulate arguments of the extra_args column, e.g. ['-t', '2014-05-07 00:28:00']. */
  readonly extraArgs: readonly string[];
}

/**
 * What the runner gives the simulator: the CIB text and the case's extra crm_simulate arguments.
 * It returns what `crm_simulate -S` prints and, when it can, what `crm_simulate -sSQ` prints (the
 * allocation and promotion scores).
 */
export type Simulate = (
  cibText: string,
  extraArgs: readonly string[],
) => { readonly text: string; readonly scores?: string; readonly dot?: string };

export interface CaseResult {
  readonly case: CorpusCase;
  readonly transitionOk: boolean;
  readonly wholeOk: boolean;
  /** Scores as `scores/NAME.scores` (informational; undefined when the simulator gave none). */
  readonly scoresOk: boolean | undefined;
  /** The dot graph as `dot/NAME.dot`, lines sorted as cts-scheduler sorts them (informational). */
  readonly dotOk: boolean | undefined;
  /** The Transition Summary block is identical, white space included (column alignment). */
  readonly transitionExact: boolean;
  /** Per section of `sectionHeadings` (current status, transition, execution, revised status). */
  readonly sectionsOk: readonly boolean[];
  readonly actual: string;
  readonly expected: string;
  /** The message when the simulator threw. */
  readonly error: string | undefined;
}

export interface CorpusRun {
  readonly results: readonly CaseResult[];
  readonly elapsedMs: number;
}

/**
 * Splits the extra_args column into arguments: an option (`-t`) followed by its value, where the
 * value may contain spaces (`-t 2014-05-07 00:28:00`) and runs until the next option.
 */
export function splitExtraArgs(column: string): string[] {
  const out: string[] = [];
  let value: string[] = [];
  const flush = (): void => {
    if (value.length > 0) out.push(value.join(' '));
    value = [];
  };
  for (const token of column.trim().split(/\s+/)) {
    if (token === '') continue;
    if (/^-[A-Za-z-]/.test(token)) {
      flush();
      out.push(token);
    } else value.push(token);
  }
  flush();
  return out;
}

/** Reads INDEX.tsv (header line first; columns group, name, description, extra_args). */
export function readIndex(corpusDir: string): CorpusCase[] {
  const lines = readFileSync(join(corpusDir, 'INDEX.tsv'), 'utf8').split('\n');
  const cases: CorpusCase[] = [];
  for (const line of lines.slice(1)) {
    if (line.trim() === '') continue;
    const [group = '', name = '', description = '', extra = ''] = line.split('\t');
    cases.push({ group, name, description, extraArgs: splitExtraArgs(extra) });
  }
  return cases;
}

/** Lines compared as diff -w -B compares them: all white space removed, blank lines dropped. */
export function comparableLines(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const squeezed = line.replace(/\s+/g, '');
    if (squeezed !== '') out.push(squeezed);
  }
  return out;
}

export const sectionHeadings = ['Current cluster status:', 'Transition Summary:', 'Executing Cluster Transition:', 'Revised Cluster Status:'];

/**
 * The "Transition Summary:" block: its heading and every line up to the next section heading.
 * Empty when the text has no such heading.
 */
export function transitionBlock(text: string): string {
  return sectionBlock(text, 'Transition Summary:');
}

/** One section (heading included) up to the next section heading; '' when absent. */
export function sectionBlock(text: string, heading: string): string {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trim() === heading);
  if (start < 0) return '';
  const block: string[] = [];
  for (let i = start; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (i > start && sectionHeadings.includes(line.trim())) break;
    block.push(line);
  }
  return block.join('\n');
}

/** cts-scheduler's dot comparison: the lines between the first and the last, sorted. */
function sortedDot(text: string): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  return lines.slice(1, -1).sort().join('\n');
}

function blankLinesDropped(text: string): string {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .join('\n');
}

export function sameText(a: string, b: string): boolean {
  const la = comparableLines(a);
  const lb = comparableLines(b);
  return la.length === lb.length && la.every((l, i) => l === lb[i]);
}

/** Drops the "Setting effective cluster time: DATE" lines for the `-t DATE` the runner passed. */
export function withoutDateAnnouncement(text: string, extraArgs: readonly string[]): string {
  const i = extraArgs.indexOf('-t');
  const date = i >= 0 ? extraArgs[i + 1] : undefined;
  if (date === undefined) return text;
  const line = `Setting effective cluster time: ${date}`;
  return text
    .split('\n')
    .filter((l) => l !== line)
    .join('\n');
}

/** Runs one case; a throw from the simulator is a failure with its message kept. */
export function runCase(corpusDir: string, c: CorpusCase, simulate: Simulate): CaseResult {
  const expected = readFileSync(join(corpusDir, 'summary', `${c.name}.summary`), 'utf8');
  const cibText = readFileSync(join(corpusDir, 'xml', `${c.name}.xml`), 'utf8');
  let actual = '';
  let scores: string | undefined;
  let dot: string | undefined;
  let error: string | undefined;
  try {
    const out = simulate(cibText, c.extraArgs);
    actual = out.text;
    scores = out.scores;
    dot = out.dot;
  } catch (err) {
    error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  }
  const transitionOk = error === undefined && sameText(transitionBlock(actual), transitionBlock(expected));
  // cts-scheduler produced the summaries without the extra arguments (its own "@TODO Why isn't
  // test_args added here?"), so they lack the line `-t` makes crm_simulate print; the decision is
  // the same either way, and the runner passes `-t` for a deterministic time.
  actual = withoutDateAnnouncement(actual, c.extraArgs);
  const wholeOk = error === undefined && sameText(actual, expected);
  const sections = sectionHeadings.map((h) => error === undefined && sameText(sectionBlock(actual, h), sectionBlock(expected, h)));
  const scoresPath = join(corpusDir, 'scores', `${c.name}.scores`);
  const scoresOk = scores === undefined || !existsSync(scoresPath) ? undefined : sameText(scores, readFileSync(scoresPath, 'utf8'));
  const dotPath = join(corpusDir, 'dot', `${c.name}.dot`);
  const dotOk = dot === undefined || !existsSync(dotPath) ? undefined : sortedDot(dot) === sortedDot(readFileSync(dotPath, 'utf8'));
  const transitionExact = transitionOk && blankLinesDropped(transitionBlock(actual)) === blankLinesDropped(transitionBlock(expected));
  return { case: c, transitionOk, wholeOk, scoresOk, dotOk, transitionExact, sectionsOk: sections, actual, expected, error };
}

/** Runs every case (or those `only` names), timing the whole run. */
export function runCorpus(corpusDir: string, simulate: Simulate, only?: ReadonlySet<string>): CorpusRun {
  const started = process.hrtime.bigint();
  const results: CaseResult[] = [];
  for (const c of readIndex(corpusDir)) {
    if (only && !only.has(c.name)) continue;
    results.push(runCase(corpusDir, c, simulate));
  }
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  return { results, elapsedMs };
}

// ---------------------------------------------------------------------------------------------
// Pinned lists
// ---------------------------------------------------------------------------------------------

/** Case names in a pinned list: one per line, `#` comments and blank lines ignored. */
export function readPinned(path: string): Set<string> {
  if (!existsSync(path)) return new Set();
  const names = new Set<string>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const name = line.replace(/#.*/, '').trim();
    if (name !== '') names.add(name);
  }
  return names;
}

export function writePinned(path: string, heading: string, names: Iterable<string>, testFile = 'test/scheduler/conformance.test.ts'): void {
  const sorted = [...names].sort();
  const body = sorted.map((n) => `${n}\n`).join('');
  writeFileSync(path, `# ${heading}\n# One case name a line; PACELINE_BLESS=1 npx vitest run ${testFile} adds the cases that pass.\n${body}`);
}

/** How the results compare with a pinned list. */
export interface PinnedVerdict {
  /** Pinned but failing now: regressions. */
  readonly regressions: string[];
  /** Passing but not pinned yet. */
  readonly newlyPassing: string[];
  /** Pinned names that are not in INDEX.tsv (a stale list). */
  readonly unknown: string[];
}

export function judgePinned(
  results: readonly CaseResult[],
  pinned: ReadonlySet<string>,
  passed: (r: CaseResult) => boolean,
): PinnedVerdict {
  const known = new Set(results.map((r) => r.case.name));
  const regressions = results.filter((r) => pinned.has(r.case.name) && !passed(r)).map((r) => r.case.name);
  const newlyPassing = results.filter((r) => !pinned.has(r.case.name) && passed(r)).map((r) => r.case.name);
  const unknown = [...pinned].filter((n) => !known.has(n));
  return { regressions, newlyPassing, unknown };
}

// ---------------------------------------------------------------------------------------------
// Reporting
// ---------------------------------------------------------------------------------------------

function countBy(results: readonly CaseResult[], passed: (r: CaseResult) => boolean): { pass: number; fail: number } {
  let pass = 0;
  for (const r of results) if (passed(r)) pass++;
  return { pass, fail: results.length - pass };
}

/** The report: totals, then one line per INDEX group with both verdicts' counts. */
export function formatReport(run: CorpusRun): string {
  const lines: string[] = [];
  const t = countBy(run.results, (r) => r.transitionOk);
  const w = countBy(run.results, (r) => r.wholeOk);
  const thrown = run.results.filter((r) => r.error !== undefined).length;
  lines.push(`Transition Summary: ${t.pass} passed, ${t.fail} failed`);
  lines.push(`whole summary: ${w.pass} passed, ${w.fail} failed`);
  const sectionCounts = sectionHeadings.map((h, i) => `${h.replace(/:$/, '')} ${countBy(run.results, (r) => r.sectionsOk[i] === true).pass}`);
  lines.push(`sections matching (informational): ${sectionCounts.join(', ')}`);
  lines.push(`scores/ matching (informational): ${countBy(run.results, (r) => r.scoresOk === true).pass}`);
  lines.push(`dot/ matching (informational): ${countBy(run.results, (r) => r.dotOk === true).pass}`);
  lines.push(`Transition Summary identical with white space (informational): ${countBy(run.results, (r) => r.transitionExact).pass} of ${t.pass}`);
  lines.push(`${run.results.length} cases in ${(run.elapsedMs / 1000).toFixed(2)} s (${(run.elapsedMs / Math.max(1, run.results.length)).toFixed(2)} ms per case); ${thrown} threw`);
  const groups = new Map<string, CaseResult[]>();
  for (const r of run.results) {
    const list = groups.get(r.case.group) ?? [];
    list.push(r);
    groups.set(r.case.group, list);
  }
  lines.push('group  cases  transition  whole   first case');
  for (const [group, list] of groups) {
    const gt = countBy(list, (r) => r.transitionOk);
    const gw = countBy(list, (r) => r.wholeOk);
    lines.push(
      `${group.padStart(5)}  ${String(list.length).padStart(5)}  ${String(gt.pass).padStart(10)}  ${String(gw.pass).padStart(5)}   ${list[0]?.case.name ?? ''}`,
    );
  }
  return lines.join('\n');
}

/** A line diff (longest common subsequence on white-space-free lines) of one failing case. */
export function describeDifference(r: CaseResult): string {
  if (r.error !== undefined) return `${r.case.name}: threw ${r.error}`;
  const want = r.expected.split('\n').filter((l) => l.trim() !== '');
  const got = r.actual.split('\n').filter((l) => l.trim() !== '');
  const key = (l: string): string => l.replace(/\s+/g, '');
  const n = want.length;
  const m = got.length;
  // lcs[i][j]: common length of want[i..] and got[j..]
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = key(want[i]!) === key(got[j]!) ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const out: string[] = [`${r.case.name} (${r.case.description}): - expected, + paceline`];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && key(want[i]!) === key(got[j]!)) {
      out.push(`   ${want[i]}`);
      i++;
      j++;
    } else if (j < m && (i >= n || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) {
      out.push(` + ${got[j]}`);
      j++;
    } else {
      out.push(` - ${want[i]}`);
      i++;
    }
  }
  return out.join('\n');
}
