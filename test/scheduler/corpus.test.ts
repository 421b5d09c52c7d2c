import { describe, expect, it } from 'vitest';
import { comparableLines, judgePinned, sameText, splitExtraArgs, transitionBlock, withoutDateAnnouncement, type CaseResult } from './corpus.js';

describe('corpus comparison', () => {
  // Pacemaker's cts-scheduler diffs with --ignore-all-space --ignore-blank-lines: column widths and
  // blank lines never decide a case, any other character does.
  it('ignores white space and blank lines, nothing else', () => {
    expect(sameText('a  b\n\n  c\t d\n', 'ab\ncd')).toBe(true);
    expect(sameText('Start rsc1 ( node1 )', 'Start rsc1 ( node2 )')).toBe(false);
    expect(sameText('a\nb', 'b\na')).toBe(false);
    expect(comparableLines('  * Online: [ n1 n2 ]\n\n')).toEqual(['*Online:[n1n2]']);
  });

  // The Transition Summary verdict looks only at that block.
  it('cuts out the Transition Summary block', () => {
    const text = 'Current cluster status:\n  x\nTransition Summary:\n  * Start a ( n1 )\n\nExecuting Cluster Transition:\n  y\n';
    expect(transitionBlock(text)).toBe('Transition Summary:\n  * Start a ( n1 )\n');
    expect(transitionBlock('no heading')).toBe('');
  });

  // INDEX.tsv's extra_args: option values may contain spaces ("-t 2014-05-07 00:28:00").
  it('splits extra arguments with spaced values', () => {
    expect(splitExtraArgs('-t 2014-05-07 00:28:00')).toEqual(['-t', '2014-05-07 00:28:00']);
    expect(splitExtraArgs('-t 2005-020')).toEqual(['-t', '2005-020']);
    expect(splitExtraArgs('')).toEqual([]);
  });

  // The summaries were made without -t, so only the line that -t itself adds is dropped.
  it('drops only the announcement of the date the runner passed', () => {
    const text = 'Setting effective cluster time: 2005-020\nCurrent cluster status:\nSetting effective cluster time: 2006-001';
    expect(withoutDateAnnouncement(text, ['-t', '2005-020'])).toBe('Current cluster status:\nSetting effective cluster time: 2006-001');
    expect(withoutDateAnnouncement(text, [])).toBe(text);
  });
});

describe('pinned lists', () => {
  const result = (name: string, ok: boolean): CaseResult => ({
    case: { group: '1', name, description: '', extraArgs: [] },
    transitionOk: ok,
    wholeOk: ok,
    scoresOk: undefined,
    dotOk: undefined,
    transitionExact: ok,
    sectionsOk: [],
    actual: '',
    expected: '',
    error: undefined,
  });

  // A pinned case that fails is a regression; a passing unpinned one is reported for blessing.
  it('finds regressions, new passes and stale names', () => {
    const v = judgePinned([result('a', false), result('b', true), result('c', true)], new Set(['a', 'b', 'gone']), (r) => r.transitionOk);
    expect(v).toEqual({ regressions: ['a'], newlyPassing: ['c'], unknown: ['gone'] });
  });
});
