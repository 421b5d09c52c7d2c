/**
 * ISO 8601 dates, durations and intervals exactly as Pacemaker 2.1.5's crm_time reads them.
 *
 * Pacemaker keeps a date as (year, ordinal day, seconds into the day, UTC offset) and does its
 * arithmetic on those fields; this module does the same so that date rules and recheck times
 * agree with Pacemaker to the second, quirks included:
 * - Accepted date forms: `2024-03-05`, `20240305`, ordinal `2024-065`, week `2024-W10-2`, and
 *   `epoch`. Anything after the date that is not ` ` or `T` + time is ignored (as Pacemaker does).
 * - Times: `12`, `12:30`, `12:30:15`, `1230`, `123015`; `24:00:00` is midnight of the next day.
 * - Zones: `Z` anywhere after the time, or an offset separated by a space (`12:00:00 +02:00`).
 *   An offset glued to the time (`12:00:00+02:00`) is IGNORED by Pacemaker 2.1.5, which then uses
 *   the local zone; `parseIsoDateTime` reports that as a warning so validation can flag it.
 * - A date without a zone is local time: the caller says what "local" is (`localOffsetSeconds`,
 *   default 0 = UTC). Nothing here reads the clock or the machine's time zone.
 * - Adding months keeps the day of month unless the target month is shorter, then clamps
 *   (Jan 31 + P1M = Feb 29 in 2024); adding years keeps the ordinal day (2024-02-29 + P1Y =
 *   2025-03-01).
 */

/** Seconds in a day. */
export const DAY_SECONDS = 86_400;
const HOUR_SECONDS = 3_600;

/** A point in time as Pacemaker stores it. `seconds` are local (offset applied on comparison). */
export interface CrmTime {
  readonly years: number;
  /** Ordinal day of the year, 1..365/366. */
  readonly days: number;
  /** Seconds since local midnight, 0..86399. */
  readonly seconds: number;
  /** Offset east of UTC in seconds (+02:00 = 7200). */
  readonly offsetSeconds: number;
}

/** A duration: calendar parts are kept apart because their length depends on where they start. */
export interface CrmDuration {
  readonly years: number;
  readonly months: number;
  readonly days: number;
  readonly seconds: number;
}

export interface CrmInterval {
  readonly start: CrmTime;
  readonly end: CrmTime;
  readonly duration: CrmDuration | undefined;
}

/** Parse result: errors as values with a stable code; `warnings` for accepted-but-surprising input. */
export type IsoResult<T> =
  | { readonly ok: true; readonly value: T; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly code: 'iso8601-invalid'; readonly problem: string };

export interface IsoParseOptions {
  /** Offset of local time east of UTC, used when a time carries no zone. Default 0 (UTC). */
  readonly localOffsetSeconds?: number;
  /** The current time, needed only for time-only strings (`12:00`) and bare-duration intervals. */
  readonly now?: CrmTime;
}

// ---------------------------------------------------------------------------------------------
// Calendar
// ---------------------------------------------------------------------------------------------

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function yearDays(year: number): number {
  return isLeapYear(year) ? 366 : 365;
}

/** Days in `month` (1..12) of `year`; 0 for a month out of range. */
export function daysInMonth(month: number, year: number): number {
  if (month === 2 && isLeapYear(year)) return 29;
  return MONTH_DAYS[month - 1] ?? 0;
}

function ordinalDays(year: number, month: number, day: number): number {
  let result = 0;
  for (let m = 1; m < month; m++) result += daysInMonth(m, year);
  return result + day;
}

/** Weekday of 1 January: 1 = Monday .. 7 = Sunday (Pacemaker's formula). */
export function january1Weekday(year: number): number {
  const yy = (year - 1) % 100;
  const c = year - 1 - yy;
  const g = yy + Math.trunc(yy / 4);
  return 1 + ((((Math.trunc(c / 100) % 4) * 5) + g) % 7);
}

export function weeksInYear(year: number): number {
  if (january1Weekday(year) === 4) return 53;
  return january1Weekday(year + 1) === 5 ? 53 : 52;
}

/** Calendar date of an ordinal date (month and day of month). */
export function gregorianOf(t: Pick<CrmTime, 'years' | 'days'>): { year: number; month: number; day: number } {
  let days = t.days;
  let month = 1;
  for (; month <= 12 && days > 0; month++) {
    const mdays = daysInMonth(month, t.years);
    if (mdays >= days) break;
    days -= mdays;
  }
  return { year: t.years, month, day: days };
}

/** ISO week date (week-year, week, weekday 1=Monday..7=Sunday), as crm_time_get_isoweek. */
export function isoWeekOf(t: Pick<CrmTime, 'years' | 'days'>): { weekYear: number; week: number; weekday: number } {
  const jan1 = january1Weekday(t.years);
  const h = t.days + jan1 - 1;
  const weekday = 1 + ((h - 1) % 7);
  if (t.days <= 8 - jan1 && jan1 > 4) return { weekYear: t.years - 1, week: weeksInYear(t.years - 1), weekday };
  if (yearDays(t.years) - t.days < 4 - weekday) return { weekYear: t.years + 1, week: 1, weekday };
  let week = Math.trunc((t.days + (7 - weekday) + (jan1 - 1)) / 7);
  if (jan1 > 4) week -= 1;
  return { weekYear: t.years, week, weekday };
}

export function timeOfDay(t: Pick<CrmTime, 'seconds'>): { hour: number; minute: number; second: number } {
  return { hour: Math.trunc(t.seconds / HOUR_SECONDS), minute: Math.trunc((t.seconds % HOUR_SECONDS) / 60), second: t.seconds % 60 };
}

// ---------------------------------------------------------------------------------------------
// Arithmetic (crm_time_add_days/seconds/months, on a mutable scratch copy)
// ---------------------------------------------------------------------------------------------

interface Scratch {
  years: number;
  days: number;
  seconds: number;
  offsetSeconds: number;
}

function scratchOf(t: CrmTime): Scratch {
  return { years: t.years, days: t.days, seconds: t.seconds, offsetSeconds: t.offsetSeconds };
}

function frozen(s: Scratch): CrmTime {
  return { years: s.years, days: s.days, seconds: s.seconds, offsetSeconds: s.offsetSeconds };
}

function addDaysTo(t: Scratch, extra: number): void {
  let ydays = yearDays(t.years);
  t.days += extra;
  while (t.days > ydays) {
    t.years++;
    t.days -= ydays;
    ydays = yearDays(t.years);
  }
  while (t.days < 1) {
    t.years--;
    t.days += yearDays(t.years);
  }
}

function addSecondsTo(t: Scratch, extra: number): void {
  t.seconds += extra;
  let days = Math.trunc(t.seconds / DAY_SECONDS);
  t.seconds %= DAY_SECONDS;
  if (t.seconds < 0) {
    t.seconds += DAY_SECONDS;
    days--;
  }
  if (t.seconds === 0) t.seconds = 0; // normalise -0
  addDaysTo(t, days);
}

function addMonthsTo(t: Scratch, extra: number): void {
  let { year: y, month: m, day: d } = gregorianOf(t);
  for (let i = extra; i > 0; i--) {
    m++;
    if (m === 13) {
      m = 1;
      y++;
    }
  }
  for (let i = -extra; i > 0; i--) {
    m--;
    if (m === 0) {
      m = 12;
      y--;
    }
  }
  d = Math.min(d, daysInMonth(m, y));
  t.years = y;
  t.days = ordinalDays(y, m, d);
}

/** Which calendar unit to add, for `addToTime` (the `<duration>` element's attributes). */
export type TimeUnit = 'years' | 'months' | 'weeks' | 'days' | 'hours' | 'minutes' | 'seconds';

/** `t` plus `amount` of one unit, as crm_time_add_<unit>. */
export function addToTime(t: CrmTime, unit: TimeUnit, amount: number): CrmTime {
  const s = scratchOf(t);
  switch (unit) {
    case 'years':
      s.years += amount;
      break;
    case 'months':
      addMonthsTo(s, amount);
      break;
    case 'weeks':
      addDaysTo(s, 7 * amount);
      break;
    case 'days':
      addDaysTo(s, amount);
      break;
    case 'hours':
      addSecondsTo(s, amount * HOUR_SECONDS);
      break;
    case 'minutes':
      addSecondsTo(s, amount * 60);
      break;
    case 'seconds':
      addSecondsTo(s, amount);
      break;
    default: {
      const never: never = unit;
      throw new Error(`unknown time unit ${String(never)}`);
    }
  }
  return frozen(s);
}

/** `t + d` as crm_time_add: years, then months (clamping the day), then days, then seconds. */
export function addDuration(t: CrmTime, d: CrmDuration): CrmTime {
  const s = scratchOf(t);
  s.years += d.years;
  addMonthsTo(s, d.months);
  addDaysTo(s, d.days);
  addSecondsTo(s, d.seconds);
  return frozen(s);
}

/** `t - d` as crm_time_subtract. */
export function subtractDuration(t: CrmTime, d: CrmDuration): CrmTime {
  const s = scratchOf(t);
  s.years -= d.years;
  if (d.months !== 0) addMonthsTo(s, -d.months);
  addDaysTo(s, -d.days);
  addSecondsTo(s, -d.seconds);
  return frozen(s);
}

/** The same instant expressed in UTC (offset 0). */
export function toUtc(t: CrmTime): CrmTime {
  if (t.offsetSeconds === 0) return t;
  const s = scratchOf(t);
  s.offsetSeconds = 0;
  addSecondsTo(s, -t.offsetSeconds);
  return frozen(s);
}

/** The same instant expressed at another offset. */
export function withOffset(t: CrmTime, offsetSeconds: number): CrmTime {
  const s = scratchOf(toUtc(t));
  s.offsetSeconds = offsetSeconds;
  addSecondsTo(s, offsetSeconds);
  return frozen(s);
}

/** Negative, zero or positive as `a` is before, at or after `b` (compared in UTC). */
export function compareTimes(a: CrmTime, b: CrmTime): number {
  const ua = toUtc(a);
  const ub = toUtc(b);
  return Math.sign(ua.years - ub.years) || Math.sign(ua.days - ub.days) || Math.sign(ua.seconds - ub.seconds);
}

function daysBeforeYear(year: number): number {
  const y = year - 1;
  return 365 * y + Math.floor(y / 4) - Math.floor(y / 100) + Math.floor(y / 400);
}

const EPOCH_DAYS = daysBeforeYear(1970);

/** Seconds since 1970-01-01T00:00:00Z. */
export function epochSecondsOf(t: CrmTime): number {
  const u = toUtc(t);
  return (daysBeforeYear(u.years) - EPOCH_DAYS + u.days - 1) * DAY_SECONDS + u.seconds;
}

/** The instant `epochSeconds` (whole seconds) seen at `offsetSeconds` east of UTC. */
export function timeFromEpochSeconds(epochSeconds: number, offsetSeconds = 0): CrmTime {
  const s: Scratch = { years: 1970, days: 1, seconds: 0, offsetSeconds: 0 };
  const whole = Math.floor(epochSeconds);
  addDaysTo(s, Math.floor(whole / DAY_SECONDS));
  addSecondsTo(s, whole - Math.floor(whole / DAY_SECONDS) * DAY_SECONDS);
  return withOffset(frozen(s), offsetSeconds);
}

/** A calendar date-time at an offset (month 1..12). No validation beyond the arithmetic. */
export function makeTime(year: number, month: number, day: number, hour = 0, minute = 0, second = 0, offsetSeconds = 0): CrmTime {
  return { years: year, days: ordinalDays(year, month, day), seconds: hour * HOUR_SECONDS + minute * 60 + second, offsetSeconds };
}

const pad = (n: number, width = 2): string => String(Math.abs(n)).padStart(width, '0');

/** Pacemaker's display form, which Pacemaker also parses back: `2024-03-05 12:00:00Z` or `... +02:00`. */
export function formatTime(t: CrmTime): string {
  const { year, month, day } = gregorianOf(t);
  const { hour, minute, second } = timeOfDay(t);
  const base = `${year < 0 ? '-' : ''}${pad(year, 4)}-${pad(month)}-${pad(day)} ${pad(hour)}:${pad(minute)}:${pad(second)}`;
  if (t.offsetSeconds === 0) return `${base}Z`;
  const off = Math.abs(t.offsetSeconds);
  return `${base} ${t.offsetSeconds < 0 ? '-' : '+'}${pad(Math.trunc(off / HOUR_SECONDS))}:${pad(Math.trunc((off % HOUR_SECONDS) / 60))}`;
}

export function formatDuration(d: CrmDuration): string {
  const parts = [d.years ? `${d.years}Y` : '', d.months ? `${d.months}M` : '', d.days ? `${d.days}D` : ''].join('');
  const time = d.seconds ? `T${d.seconds}S` : '';
  return `P${parts}${time || (parts ? '' : 'T0S')}`;
}

// ---------------------------------------------------------------------------------------------
// A tiny sscanf("%d") so the parser accepts exactly what Pacemaker's sscanf calls accept
// ---------------------------------------------------------------------------------------------

interface Scanned {
  readonly value: number;
  readonly end: number;
}

/** Like sscanf's %d / %Nd at `pos`: optional leading whitespace, sign, digits (at most `width` chars). */
function scanInt(s: string, pos: number, width = Infinity): Scanned | undefined {
  let i = pos;
  while (i < s.length && /\s/.test(s[i] ?? '')) i++;
  const start = i;
  let sign = 1;
  if (s[i] === '+' || s[i] === '-') {
    if (s[i] === '-') sign = -1;
    i++;
  }
  const digitsStart = i;
  while (i < s.length && i - start < width && /[0-9]/.test(s[i] ?? '')) i++;
  if (i === digitsStart) return undefined;
  return { value: sign * Number(s.slice(digitsStart, i)), end: i };
}

/** sscanf(s, format) for formats made of %d / %Nd conversions and literal characters. */
function scanf(s: string, format: readonly (string | number)[]): number[] {
  const values: number[] = [];
  let pos = 0;
  for (const part of format) {
    if (typeof part === 'string') {
      if (s.startsWith(part, pos)) {
        pos += part.length;
        continue;
      }
      break;
    }
    const got = scanInt(s, pos, part === 0 ? Infinity : part);
    if (!got) break;
    values.push(got.value);
    pos = got.end;
  }
  return values;
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

type Parsed<T> = IsoResult<T>;

function fail<T>(problem: string): Parsed<T> {
  return { ok: false, code: 'iso8601-invalid', problem };
}

/** hours[:minutes[:seconds]] or hhmmss, as crm_time_parse_sec. */
function parseSecondsOfDay(text: string): { seconds: number } | { problem: string } {
  let v = scanf(text, [0, ':', 0, ':', 0]);
  if (v.length === 1) v = scanf(text, [2, 2, 2]);
  if (v.length === 0) return { problem: `'${text}' is not a valid ISO 8601 time` };
  const [hour = 0, minute = 0, second = 0] = v;
  if (hour < 0 || minute < 0 || second < 0) return { problem: `'${text}' is not a valid ISO 8601 time` };
  if (!(hour === 24 && minute === 0 && second === 0) && hour >= 24) return { problem: `${hour} is not a valid hour` };
  if (minute >= 60) return { problem: `${minute} is not a valid minute` };
  if (second >= 60) return { problem: `${second} is not a valid second` };
  return { seconds: hour * HOUR_SECONDS + minute * 60 + second };
}

function parseOffset(offsetText: string | undefined, localOffsetSeconds: number): { offset: number } | { problem: string } {
  if (offsetText === undefined) return { offset: localOffsetSeconds };
  if (offsetText.startsWith('Z')) return { offset: 0 };
  const first = offsetText[0] ?? '';
  if (first !== '+' && first !== '-' && !/[0-9]/.test(first)) return { offset: 0 };
  const rest = first === '+' || first === '-' ? offsetText.slice(1) : offsetText;
  const got = parseSecondsOfDay(rest);
  if ('problem' in got) return { problem: `bad time zone offset: ${got.problem}` };
  return { offset: first === '-' ? -got.seconds : got.seconds };
}

/** Time of day and zone from `timeText` onto date `dt`, as crm_time_parse. */
function applyTime(dt: Scratch, timeText: string, localOffsetSeconds: number, warnings: string[]): string | undefined {
  const sec = parseSecondsOfDay(timeText);
  if ('problem' in sec) return sec.problem;
  dt.seconds = sec.seconds;
  let offsetText: string | undefined;
  const z = timeText.indexOf('Z');
  if (z >= 0) offsetText = timeText.slice(z);
  else {
    const sp = timeText.indexOf(' ');
    if (sp >= 0) offsetText = timeText.slice(sp).replace(/^\s+/, '');
  }
  if (offsetText === undefined && /^[0-9:]+[+-][0-9]/.test(timeText)) {
    warnings.push(`the zone offset in '${timeText}' is ignored (Pacemaker needs a space before it); local time is used`);
  }
  const off = parseOffset(offsetText, localOffsetSeconds);
  if ('problem' in off) return off.problem;
  dt.offsetSeconds = off.offset;
  if (dt.seconds === DAY_SECONDS) {
    dt.seconds = 0;
    addDaysTo(dt, 1);
  }
  return undefined;
}

/** The date part of parse_date; returns the scratch date or a problem. */
function parseDatePart(text: string): Scratch | string {
  const dt: Scratch = { years: 0, days: 0, seconds: 0, offsetSeconds: 0 };
  let v = scanf(text, [0, '-', 0, '-', 0]);
  if (v.length === 1) v = scanf(text, [4, 2, 2]);
  if (v.length === 3) {
    const [year = 0, month = 0, day = 0] = v;
    if (month > 12) return `'${month}' is not a valid month`;
    if (day > daysInMonth(month, year)) return `'${day}' is not a valid day of the month`;
    dt.years = year;
    dt.days = ordinalDays(year, month, day);
    return dt;
  }
  v = scanf(text, [0, '-', 0]);
  if (v.length === 2) {
    const [year = 0, day = 0] = v;
    if (day > yearDays(year)) return `'${day}' is not a valid day of the year (max ${yearDays(year)})`;
    dt.years = year;
    dt.days = day;
    return dt;
  }
  v = scanf(text, [0, '-W', 0, '-', 0]);
  if (v.length === 3) return weekDate(v[0] ?? 0, v[1] ?? 0, v[2] ?? 0);
  return 'not a valid ISO 8601 date/time';
}

function weekDate(year: number, week: number, day: number): Scratch | string {
  if (week > weeksInYear(year)) return `'${week}' is not a valid week of the year (max ${weeksInYear(year)})`;
  if (day < 1 || day > 7) return `'${day}' is not a valid day of the week`;
  const dt: Scratch = { years: year, days: 0, seconds: 0, offsetSeconds: 0 };
  const jan1 = january1Weekday(year);
  addDaysTo(dt, (week - 1) * 7);
  addDaysTo(dt, jan1 <= 4 ? 1 - jan1 : 8 - jan1);
  addDaysTo(dt, day);
  return dt;
}

function isValidTime(t: Scratch): boolean {
  return t.days > 0 && t.days <= yearDays(t.years) && t.seconds >= 0 && t.seconds < DAY_SECONDS;
}

/**
 * Parse a date/time as Pacemaker's parse_date (the `start`/`end` of date expressions, crm_rule
 * and iso8601 -d). The text may continue with `/...` (an interval): that part is ignored here.
 */
export function parseIsoDateTime(text: string, options: IsoParseOptions = {}): IsoResult<CrmTime> {
  const local = options.localOffsetSeconds ?? 0;
  const warnings: string[] = [];
  if (text.length === 0) return fail('no ISO 8601 date/time given');
  let dt: Scratch;
  let timeText: string | undefined;
  if (text[0] === 'T' || text[2] === ':') {
    if (!options.now) return fail(`'${text}' is a time without a date, and no current date was given`);
    dt = scratchOf(options.now);
    timeText = text[0] === 'T' ? text.slice(1) : text;
  } else {
    if (/^epoch($|[/\s])/i.test(text)) {
      return { ok: true, value: { years: 1970, days: 1, seconds: 0, offsetSeconds: 0 }, warnings };
    }
    const date = parseDatePart(text);
    if (typeof date === 'string') return fail(`'${text}' is not a valid ISO 8601 date/time: ${date}`);
    dt = date;
    const after = text.slice(/^[0-9W-]*/.exec(text)?.[0].length ?? 0);
    if (after[0] === ' ' || after[0] === 'T') timeText = after.slice(1);
    dt.offsetSeconds = local;
  }
  if (timeText !== undefined) {
    const problem = applyTime(dt, timeText, local, warnings);
    if (problem) return fail(`'${text}' is not a valid ISO 8601 date/time: ${problem}`);
  }
  if (!isValidTime(dt)) return fail(`'${text}' is not a valid ISO 8601 date/time`);
  return { ok: true, value: frozen(dt), warnings };
}

/** Like parse_int(str, 10, ...): returns the value and the characters consumed, or undefined. */
function durationInt(s: string, pos: number): Scanned | undefined {
  let i = pos;
  let negate = false;
  let fraction = false;
  if (s[i] === '.' || s[i] === ',') {
    fraction = true;
    i++;
  } else if (s[i] === '-') {
    negate = true;
    i++;
  } else if (s[i] === '+' || s[i] === ':') i++;
  const digitsStart = i;
  while ((fraction || i - digitsStart < 10) && /[0-9]/.test(s[i] ?? '')) i++;
  if (i === digitsStart) return undefined;
  // Pacemaker's fraction handling multiplies by an upper bound of 0 here: fractions count as 0.
  const value = fraction ? 0 : Number(s.slice(digitsStart, i));
  return { value: negate ? -value : value, end: i };
}

/** Parse a duration (`P1Y2M3DT4H5M6S`, `PT30M`, `P2W`) as crm_time_parse_duration. Stops at `/` or space. */
export function parseIsoDuration(text: string): IsoResult<CrmDuration> {
  if (text.length === 0) return fail('no ISO 8601 duration given');
  if (text[0] !== 'P') return fail(`'${text}' is not a valid ISO 8601 duration because it does not start with 'P'`);
  if (text.length === 1 || /\s/.test(text[1] ?? '')) return fail(`'${text}' is not a valid ISO 8601 duration because nothing follows 'P'`);
  const d = { years: 0, months: 0, days: 0, seconds: 0 };
  let isTime = false;
  for (let i = 1; i < text.length && text[i] !== '/' && !/\s/.test(text[i] ?? ''); i++) {
    if (text[i] === 'T') {
      isTime = true;
      continue;
    }
    const n = durationInt(text, i);
    if (!n) return fail(`'${text}' is not a valid ISO 8601 duration because there is no integer at '${text.slice(i)}'`);
    i = n.end;
    const unit = text[i];
    if (unit === 'Y') d.years = n.value;
    else if (unit === 'M' && isTime) d.seconds += n.value * 60;
    else if (unit === 'M') d.months = n.value;
    else if (unit === 'W') d.days += n.value * 7;
    else if (unit === 'D') d.days += n.value;
    else if (unit === 'H') d.seconds += n.value * HOUR_SECONDS;
    else if (unit === 'S') d.seconds += n.value;
    else if (unit === undefined) return fail(`'${text}' is not a valid ISO 8601 duration because there are no units after ${n.value}`);
    else return fail(`'${text}' is not a valid ISO 8601 duration because '${unit}' is not a valid time unit`);
  }
  return { ok: true, value: d, warnings: [] };
}

/** Parse an interval `start/end`, `start/duration`, `duration/end` or `duration` (from `now`). */
export function parseIsoInterval(text: string, options: IsoParseOptions = {}): IsoResult<CrmInterval> {
  if (text.length === 0) return fail('no ISO 8601 interval given');
  const warnings: string[] = [];
  let start: CrmTime | undefined;
  let end: CrmTime | undefined;
  let duration: CrmDuration | undefined;
  const first = text[0] === 'P' ? parseIsoDuration(text) : parseIsoDateTime(text, options);
  if (!first.ok) return first;
  warnings.push(...first.warnings);
  if ('months' in first.value) duration = first.value;
  else start = first.value;
  const slash = text.indexOf('/');
  if (slash >= 0) {
    const rest = text.slice(slash + 1);
    if (rest[0] === 'P') {
      if (duration) return fail(`'${text}' is not a valid ISO 8601 interval because it has two durations`);
      const d = parseIsoDuration(rest);
      if (!d.ok) return d;
      duration = d.value;
    } else {
      const e = parseIsoDateTime(rest, options);
      if (!e.ok) return e;
      warnings.push(...e.warnings);
      end = e.value;
    }
  } else if (duration) {
    if (!options.now) return fail(`'${text}' is only a duration, and no current time was given as its start`);
    start = options.now;
  } else {
    return fail(`'${text}' is not a valid ISO 8601 interval because it has no duration or end`);
  }
  if (!start && end && duration) start = subtractDuration(end, duration);
  if (start && !end && duration) end = addDuration(start, duration);
  if (!start || !isValidTime(scratchOf(start))) return fail(`'${text}' is not a valid ISO 8601 interval because the start is invalid`);
  if (!end || !isValidTime(scratchOf(end))) return fail(`'${text}' is not a valid ISO 8601 interval because the end is invalid`);
  return { ok: true, value: { start, end, duration }, warnings };
}

/**
 * Seconds in a duration as Pacemaker 2.1.5's crm_time_get_seconds counts them (used for interval
 * and timeout values written as `P...`): months are 30 days, and, as in Pacemaker, the day count
 * is taken as an ordinal day (`P1D` counts 0 days, `P2D` one day) and years count from year 1.
 */
export function pacemakerDurationSeconds(d: CrmDuration): number {
  let total = 0;
  for (let y = 1; y < d.years; y++) total += DAY_SECONDS * yearDays(y);
  if (d.months > 0) total += DAY_SECONDS * 30 * d.months;
  if (d.days > 0) total += DAY_SECONDS * (d.days - 1);
  return total + d.seconds;
}
