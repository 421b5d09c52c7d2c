/**
 * Allocation scores against Pacemaker 2.1.5's corpus (`scores/NAME.scores`, what `crm_simulate -s`
 * printed for `xml/NAME.xml`): the engine's `ScheduleResult.scores` through `formatScoreLine`.
 *
 * The comparison is order-insensitive: the corpus files are sorted line by line (Pacemaker's
 * regression suite sorts them), so both sides are sorted and compared as multisets of lines.
 *
 * Cases named in `scores-corpus.pinned.txt` must keep matching; the list only grows:
 *   PACELINE_BLESS=1 npx vitest run packages/scheduler/src/scores-corpus.test.ts
 * PACELINE_CASE=name prints that case's missing and extra lines.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { epochSecondsOf, parseCib, parseIsoDateTime } from '@paceline/cib';
import { missing, schedulerCorpusDir } from '../../../test/support/env.js';
import { schedule } from './schedule.js';
import { formatScoreLine } from './scores.js';

const pinnedPath = join(dirname(fileURLToPath(import.meta.url)), 'scores-corpus.pinned.txt');

interface Case {
  readonly group: string;
  readonly name: string;
  readonly now: string | undefined;
}

function readCases(): Case[] {
  const rows = readFileSync(join(schedulerCorpusDir, 'INDEX.tsv'), 'utf8').trim().split('\n').slice(1);
  return rows.map((row) => {
    const [group = '', name = '', , extra = ''] = row.split('\t');
    const m = /(?:^|\s)-t\s+(.+)$/.exec(extra.trim());
    return { group, name, now: m?.[1] };
  });
}

function expectedLines(name: string): string[] | undefined {
  const file = join(schedulerCorpusDir, 'scores', `${name}.scores`);
  if (!existsSync(file)) return undefined;
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '' && l !== 'Allocation scores:')
    .sort();
}

function actualLines(c: Case): string[] {
  const cib = parseCib(readFileSync(join(schedulerCorpusDir, 'xml', `${c.name}.xml`), 'utf8'));
  const t = c.now === undefined ? undefined : parseIsoDateTime(c.now);
  if (t && !t.ok) throw new Error(`${c.name}: bad -t ${c.now ?? ''}: ${t.problem}`);
  return schedule(cib, t?.ok ? { nowSec: epochSecondsOf(t.value) } : {}).scores.map(formatScoreLine).sort();
}

function sameLines(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((l, i) => l === b[i]);
}

function difference(expected: readonly string[], actual: readonly string[]): string[] {
  const want = new Set(expected);
  const got = new Set(actual);
  return [...expected.filter((l) => !got.has(l)).map((l) => `- ${l}`), ...actual.filter((l) => !want.has(l)).map((l) => `+ ${l}`)];
}

function readPinned(): Set<string> {
  if (!existsSync(pinnedPath)) return new Set();
  return new Set(readFileSync(pinnedPath, 'utf8').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#')));
}

const why = missing({ paths: [join(schedulerCorpusDir, 'INDEX.tsv')] });

describe.skipIf(!!why)(`allocation scores of the scheduler corpus ${why ?? ''}`, () => {
  // Every pinned case keeps printing exactly Pacemaker's scores; the count of matches is reported.
  it('keeps every pinned case matching and reports the count', () => {
    const show = new Set((process.env.PACELINE_CASE ?? '').split(',').filter((s) => s !== ''));
    const passing: string[] = [];
    const failing: string[] = [];
    for (const c of readCases()) {
      const expected = expectedLines(c.name);
      if (!expected) continue;
      let actual: string[];
      try {
        actual = actualLines(c);
      } catch (e) {
        actual = [`error: ${(e as Error).message}`];
      }
      if (sameLines(expected, actual)) passing.push(c.name);
      else failing.push(c.name);
      if (show.has(c.name)) console.log(`${c.name}:\n${difference(expected, actual).join('\n')}`);
    }
    console.log(`Allocation scores: ${passing.length} passed, ${failing.length} failed`);
    const pinned = readPinned();
    const regressions = failing.filter((n) => pinned.has(n));
    if (process.env.PACELINE_BLESS === '1') {
      const all = [...new Set([...pinned, ...passing])].sort();
      writeFileSync(pinnedPath, `${all.join('\n')}\n`);
    } else {
      const fresh = passing.filter((n) => !pinned.has(n));
      if (fresh.length > 0) console.log(`${fresh.length} passing cases not pinned yet: PACELINE_BLESS=1 npx vitest run packages/scheduler/src/scores-corpus.test.ts`);
    }
    expect(regressions).toEqual([]);
  });
});
