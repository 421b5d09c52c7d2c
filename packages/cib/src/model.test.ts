import { describe, expect, it } from 'vitest';
import { addScores, parseScore, SCORE_INFINITY, scoreToString } from './model.js';

const INF = SCORE_INFINITY;

describe('parseScore (Pacemaker char2score)', () => {
  // Scores decide placement; a misread score silently moves resources. Every row below (except the
  // health colours with options set) was checked against Pacemaker 2.1.5's crm_simulate -s.
  const table: ReadonlyArray<readonly [string | undefined, number]> = [
    [undefined, 0],
    ['0', 0],
    ['100', 100],
    ['-100', -100],
    ['INFINITY', INF],
    ['+INFINITY', INF],
    ['-INFINITY', -INF],
    ['infinity', 0], // case-sensitive: not infinity, and no digits
    ['-inf', 0],
    ['-INF', 0],
    ['+5', 5],
    [' 7', 7], // strtoll skips leading whitespace
    ['\t-3', -3],
    ['12abc', 12], // trailing garbage ignored
    ['1e3', 1],
    ['0x10', 0], // base 10
    ['-0', 0],
    ['abc', 0],
    ['', 0],
    ['2000000', INF], // bounded
    ['-2000000', -INF],
    ['1000000', INF],
    ['999999', 999999],
    ['9223372036854775807', INF], // LLONG_MAX, bounded
    ['9223372036854775808', 0], // out of long long range: 2.1 falls back to the default 0
    ['99999999999999999999', 0],
    ['-99999999999999999999', 0],
    ['red', 0], // health colours without options
    ['RED', 0],
    ['yellow', 0],
  ];
  it.each(table)('parseScore(%j) = %d', (input, expected) => {
    expect(parseScore(input)).toBe(expected);
  });

  // node-health-red/yellow/green give the colours their scores (case-insensitive names).
  it('uses the health scores for colour names', () => {
    const health = { red: -INF, yellow: -10, green: 5 };
    expect(parseScore('red', health)).toBe(-INF);
    expect(parseScore('Yellow', health)).toBe(-10);
    expect(parseScore('GREEN', health)).toBe(5);
    expect(parseScore('reddish', health)).toBe(0);
  });
});

describe('addScores (Pacemaker pcmk__add_scores)', () => {
  // Adding preferences must saturate, and a ban (-INFINITY) must beat any preference.
  const table: ReadonlyArray<readonly [number, number, number]> = [
    [1, 2, 3],
    [-5, 3, -2],
    [INF, -INF, -INF], // -INFINITY wins
    [-INF, INF, -INF],
    [INF, 5, INF],
    [-INF, -5, -INF],
    [INF, INF, INF],
    [999_999, 1, INF], // reaching INFINITY saturates
    [-999_999, -1, -INF],
    [600_000, 600_000, INF],
    [-600_000, -600_000, -INF],
    [2 * INF, -1, INF], // out-of-range inputs count as infinite
    [-2 * INF, 2 * INF, -INF],
  ];
  it.each(table)('addScores(%d, %d) = %d', (a, b, expected) => {
    expect(addScores(a, b)).toBe(expected);
  });
});

describe('scoreToString (Pacemaker score2char)', () => {
  // Scores are printed in crm_simulate output and written back to XML in this form.
  it.each([
    [INF, 'INFINITY'],
    [2 * INF, 'INFINITY'],
    [-INF, '-INFINITY'],
    [0, '0'],
    [-42, '-42'],
  ] as const)('scoreToString(%d) = %s', (score, expected) => {
    expect(scoreToString(score)).toBe(expected);
  });
});
