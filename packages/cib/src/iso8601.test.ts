import { describe, expect, it } from 'vitest';
import {
  addDuration,
  compareTimes,
  epochSecondsOf,
  formatTime,
  isoWeekOf,
  makeTime,
  pacemakerDurationSeconds,
  parseIsoDateTime,
  parseIsoDuration,
  parseIsoInterval,
  subtractDuration,
  timeFromEpochSeconds,
  weeksInYear,
} from './iso8601.js';

function date(text: string, localOffsetSeconds = 0): string {
  const r = parseIsoDateTime(text, { localOffsetSeconds, now: makeTime(2026, 11, 21, 8, 0, 0) });
  return r.ok ? formatTime(r.value) : `invalid`;
}

describe('parseIsoDateTime', () => {
  // Every date form Pacemaker accepts must land on the same instant Pacemaker's iso8601 tool prints.
  it.each([
    ['2024-03-05', '2024-03-05 00:00:00Z'],
    ['20240305', '2024-03-05 00:00:00Z'],
    ['2024-W10-2', '2024-03-05 00:00:00Z'],
    ['2024-065', '2024-03-05 00:00:00Z'],
    ['2024-366', '2024-12-31 00:00:00Z'],
    ['2009-W01-1', '2008-12-29 00:00:00Z'],
    ['2009-W53-7', '2010-01-03 00:00:00Z'],
    ['2020-W53-1', '2020-12-28 00:00:00Z'],
    ['2024-03-05T12:00:00Z', '2024-03-05 12:00:00Z'],
    ['2024-03-05 12:00:00', '2024-03-05 12:00:00Z'],
    ['2024-03-05T12:00', '2024-03-05 12:00:00Z'],
    ['2024-03-05T1200', '2024-03-05 12:00:00Z'],
    ['2024-03-05T12Z', '2024-03-05 12:00:00Z'],
    ['2024-03-05T24:00:00', '2024-03-06 00:00:00Z'],
    ['2024-03-00', '2024-02-29 00:00:00Z'],
    ['epoch', '1970-01-01 00:00:00Z'],
    ['12:00:00Z', '2026-11-21 12:00:00Z'],
    ['T09:30', '2026-11-21 09:30:00Z'],
  ])('%s -> %s', (text, expected) => {
    expect(date(text)).toBe(expected);
  });

  // A space-separated offset is honoured; the instant compares in UTC.
  it('applies a space-separated zone offset', () => {
    const r = parseIsoDateTime('2024-03-05T12:00:00 +02:00');
    expect(r.ok && formatTime(r.value)).toBe('2024-03-05 12:00:00 +02:00');
    expect(r.ok && compareTimes(r.value, makeTime(2024, 3, 5, 10, 0, 0))).toBe(0);
  });

  // Pacemaker 2.1.5 ignores an offset glued to the time; we must agree, and say so as a warning.
  it('ignores a glued offset like Pacemaker and warns', () => {
    const r = parseIsoDateTime('2024-03-05T12:00:00+02:00', { localOffsetSeconds: 3600 });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.offsetSeconds).toBe(3600);
    expect(r.warnings[0]).toMatch(/ignored/);
  });

  // A date without a zone is local time, and "local" is the caller's parameter, never the machine's.
  it('uses the given local offset for zoneless times', () => {
    const r = parseIsoDateTime('2024-03-05 12:00:00', { localOffsetSeconds: -5 * 3600 });
    expect(r.ok && compareTimes(r.value, makeTime(2024, 3, 5, 17, 0, 0))).toBe(0);
  });

  // Bad dates are errors as values (no throw), so a broken rule cannot crash the scheduler.
  it.each(['', 'garbage', '2024', '2024-02-30', '2024-13-01', '2024-00-05', '2023-366', '2024-W53-1', '2024-W10-8', '2024-03-05T25:00', '2024-03-05T12:60', '12:00'])(
    'rejects %j',
    (text) => {
      const r = parseIsoDateTime(text);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.code).toBe('iso8601-invalid');
    },
  );
});

describe('parseIsoDuration', () => {
  // Durations keep calendar parts apart (their length depends on the start), as crm_time does.
  it.each([
    ['P1Y2M3DT4H5M6S', { years: 1, months: 2, days: 3, seconds: 4 * 3600 + 5 * 60 + 6 }],
    ['PT30M', { years: 0, months: 0, days: 0, seconds: 1800 }],
    ['P2W', { years: 0, months: 0, days: 14, seconds: 0 }],
    ['P1M', { years: 0, months: 1, days: 0, seconds: 0 }],
    ['PT36H', { years: 0, months: 0, days: 0, seconds: 129600 }],
    ['P-1D', { years: 0, months: 0, days: -1, seconds: 0 }],
    ['P1Y1W', { years: 1, months: 0, days: 7, seconds: 0 }],
  ])('%s', (text, expected) => {
    const r = parseIsoDuration(text);
    expect(r.ok && r.value).toEqual(expected);
  });

  // Malformed durations are rejected with a reason rather than read as zero.
  it.each(['', 'P', 'PX', 'P1', '1D', 'PT1.5S', 'P1Q'])('rejects %j', (text) => {
    expect(parseIsoDuration(text).ok).toBe(false);
  });
});

describe('date arithmetic', () => {
  // Month addition clamps to the end of a shorter month; year addition keeps the ordinal day.
  it.each([
    ['2024-01-31', 'P1M', '2024-02-29 00:00:00Z'],
    ['2023-01-31', 'P1M', '2023-02-28 00:00:00Z'],
    ['2024-02-29', 'P1Y', '2025-03-01 00:00:00Z'],
    ['2024-03-31', 'P-1M', '2024-02-29 00:00:00Z'],
    ['2024-12-31T23:00:00Z', 'PT2H', '2025-01-01 01:00:00Z'],
    ['2024-01-31', 'P1M1D', '2024-03-01 00:00:00Z'],
  ])('%s + %s = %s', (start, duration, expected) => {
    const s = parseIsoDateTime(start);
    const d = parseIsoDuration(duration);
    if (!s.ok || !d.ok) throw new Error('fixture does not parse');
    expect(formatTime(addDuration(s.value, d.value))).toBe(expected);
  });

  // Subtraction is the inverse used for `duration/end` intervals.
  it('subtracts a duration', () => {
    const e = parseIsoDateTime('2024-03-01');
    const d = parseIsoDuration('P1D');
    if (!e.ok || !d.ok) throw new Error('fixture does not parse');
    expect(formatTime(subtractDuration(e.value, d.value))).toBe('2024-02-29 00:00:00Z');
  });

  // Conversions to and from epoch seconds are how callers pass "now"; they must round-trip.
  it('round-trips epoch seconds and offsets', () => {
    const t = timeFromEpochSeconds(1_709_640_000); // 2024-03-05T12:00:00Z
    expect(formatTime(t)).toBe('2024-03-05 12:00:00Z');
    expect(epochSecondsOf(t)).toBe(1_709_640_000);
    const local = timeFromEpochSeconds(1_709_640_000, 7200);
    expect(formatTime(local)).toBe('2024-03-05 14:00:00 +02:00');
    expect(compareTimes(local, t)).toBe(0);
    expect(epochSecondsOf(timeFromEpochSeconds(-86_401))).toBe(-86_401);
  });

  // ISO weeks decide date_spec weeks/weekyears; year boundaries are where they go wrong.
  it.each([
    [2008, 12, 29, 2009, 1, 1],
    [2010, 1, 3, 2009, 53, 7],
    [2008, 9, 27, 2008, 39, 6],
    [2024, 3, 5, 2024, 10, 2],
    [2021, 1, 1, 2020, 53, 5],
  ])('%i-%i-%i is week-year %i week %i day %i', (y, m, d, wy, w, wd) => {
    expect(isoWeekOf(makeTime(y, m, d))).toEqual({ weekYear: wy, week: w, weekday: wd });
  });

  // 53-week years follow the Thursday rule.
  it('counts weeks in a year', () => {
    expect([2015, 2020, 2024, 2026].map(weeksInYear)).toEqual([53, 53, 52, 53]);
  });
});

describe('parseIsoInterval', () => {
  // Intervals in all three written forms give the same start and end as Pacemaker's iso8601 -p.
  it.each([
    ['2024-01-01/2024-02-01', '2024-01-01 00:00:00Z', '2024-02-01 00:00:00Z'],
    ['2024-01-01/P1M', '2024-01-01 00:00:00Z', '2024-02-01 00:00:00Z'],
    ['P1D/2024-03-01', '2024-02-29 00:00:00Z', '2024-03-01 00:00:00Z'],
    ['PT1H', '2026-11-21 08:00:00Z', '2026-11-21 09:00:00Z'],
  ])('%s', (text, start, end) => {
    const r = parseIsoInterval(text, { now: makeTime(2026, 11, 21, 8) });
    expect(r.ok && [formatTime(r.value.start), formatTime(r.value.end)]).toEqual([start, end]);
  });

  // An interval needs an end or a duration, and at most one duration.
  it.each(['2024-01-01', 'P1D/P2D', '', 'x/2024-01-01'])('rejects %j', (text) => {
    expect(parseIsoInterval(text, { now: makeTime(2026, 1, 1) }).ok).toBe(false);
  });
});

describe('pacemakerDurationSeconds', () => {
  // Interval/timeout values written as P... are counted the way Pacemaker 2.1.5 counts them.
  it('counts like crm_time_get_seconds', () => {
    const s = (t: string): number => {
      const r = parseIsoDuration(t);
      if (!r.ok) throw new Error(r.problem);
      return pacemakerDurationSeconds(r.value);
    };
    expect(s('PT10S')).toBe(10);
    expect(s('PT1H30M')).toBe(5400);
    expect(s('P1M')).toBe(30 * 86400);
    // Pacemaker 2.1.5 counts days as an ordinal (crm_simulate schedules interval="P1D" as monitor_0).
    expect(s('P1D')).toBe(0);
    expect(s('P2D')).toBe(86400);
    expect(s('P1Y')).toBe(0);
  });
});
