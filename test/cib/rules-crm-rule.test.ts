/**
 * Date handling against Pacemaker 2.1.5's own tools, the oracle for ISO 8601 and date rules:
 * - `iso8601 -d/-D/-p` for parsing dates, durations, date + duration and intervals;
 * - `crm_rule -c` for date_expression rules (in_range, gt, lt, duration, date_spec), evaluated at
 *   many instants, including seeded random date_specs.
 * The tools run with TZ=UTC so "local time" is UTC on both sides. Skipped without the tools.
 */
import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  addDuration,
  formatTime,
  parseIsoDateTime,
  parseIsoDuration,
  parseIsoInterval,
  toUtc,
} from '../../packages/cib/src/iso8601.js';
import { evaluateRule } from '../../packages/cib/src/rules.js';
import { parseXml } from '../../packages/cib/src/xml.js';
import { missing } from '../support/env.js';

const why = missing({ tools: ['crm_rule', 'iso8601'] });

function run(tool: string, args: readonly string[]): Promise<{ rc: number; out: string }> {
  return new Promise((resolve) => {
    execFile(tool, args, { env: { ...process.env, TZ: 'UTC' }, timeout: 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ rc: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

const DATES = [
  '2024-03-05', '20240305', '2024-W10-2', '2024-065', '2024-366', '2023-366', '2009-W01-1', '2009-W53-7', '2020-W53-4',
  '2024-W53-1', '2024-03-05T12:00:00Z', '2024-03-05 12:00:00', '2024-03-05T12:00', '2024-03-05T1230', '2024-03-05T12Z',
  '2024-03-05T24:00:00', '2024-03-05T12:00:00 +02:00', '2024-03-05T12:00:00 -05:30', '2024-03-05T12:00:00+02:00', '2024-02-30',
  '2024-13-01', '2024-00-05', '2024-03-00', 'epoch', 'garbage', '2024', '2024-03-05T25:00', '2024-03-05T12:60', '2000-02-29',
  '1900-02-29', '2024-12-31T23:59:59Z', '2023-001', '2021-W01-1', '2026-W53-7',
];

const DURATIONS = ['P1M', 'P1Y', 'P1D', 'PT1H', 'P1M1D', 'P-1M', 'PT36H', 'P2W', 'P1Y2M3DT4H5M6S', 'PT90M', 'P13M', 'P-1D'];
const STARTS = ['2024-01-31', '2024-02-29', '2023-01-31', '2024-03-31', '2024-12-31T23:00:00Z', '2025-01-01', '2024-02-29T12:00:00 +01:00'];
const PERIODS = ['2024-01-01/2024-02-01', '2024-01-01/P1M', 'P1D/2024-03-01', '2024-01-31/P1M', 'P1Y/2025-02-28', '2024-01-01', 'P1D/P2D', '2024-02-30/P1D'];

describe.skipIf(!!why)(`ISO 8601 against Pacemaker's iso8601 tool ${why ?? ''}`, () => {
  // Each date string is accepted or rejected as Pacemaker does, and lands on the same UTC instant.
  it.each(DATES)('date %j', async (text) => {
    const theirs = await run('iso8601', ['-d', text]);
    const ours = parseIsoDateTime(text);
    if (theirs.rc !== 0) {
      expect(ours.ok, theirs.out).toBe(false);
      return;
    }
    expect(ours.ok, theirs.out).toBe(true);
    if (ours.ok) expect(`Date: ${formatTime(toUtc(ours.value))}`).toBe(/Date: .*/.exec(theirs.out)?.[0]);
  });

  // Date + duration arithmetic (month clamping, leap years, negative parts) matches crm_time_add.
  it.each(STARTS.flatMap((s) => DURATIONS.map((d) => [s, d] as const)))('%s + %s', async (start, duration) => {
    const theirs = await run('iso8601', ['-d', start, '-D', duration]);
    const s = parseIsoDateTime(start);
    const d = parseIsoDuration(duration);
    if (!s.ok || !d.ok) throw new Error(`fixture does not parse: ${start} ${duration}`);
    const end = /Duration ends at: (.*)/.exec(theirs.out)?.[1];
    expect(formatTime(addDuration(s.value, d.value))).toBe(end);
  });

  // Intervals in every form give the same start and end, and the same rejections.
  it.each(PERIODS)('period %j', async (text) => {
    const theirs = await run('iso8601', ['-p', text]);
    const ours = parseIsoInterval(text);
    if (theirs.rc !== 0) {
      expect(ours.ok, theirs.out).toBe(false);
      return;
    }
    expect(ours.ok).toBe(true);
    if (ours.ok) expect(`Period: ${formatTime(toUtc(ours.value.start))} to ${formatTime(toUtc(ours.value.end))}`).toBe(/Period: .*/.exec(theirs.out)?.[0]);
  });
});

/** A tiny deterministic generator (mulberry32) so random cases are the same on every run. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function fixedRules(): string[] {
  const bounds = ['2024-03-05', '2024-W10-2', '2024-065T12:00:00Z', '2024-03-05 13:00:00 +02:00', '20240306', '2024-03-05T11:59:59Z', 'epoch'];
  const out: string[] = [];
  bounds.forEach((b, i) => {
    out.push(`<date_expression id="fs${i}" operation="in_range" start="${b}"/>`);
    out.push(`<date_expression id="fe${i}" operation="in_range" end="${b}"/>`);
    out.push(`<date_expression id="fg${i}" operation="gt" start="${b}"/>`);
    out.push(`<date_expression id="fl${i}" operation="lt" end="${b}"/>`);
  });
  out.push('<date_expression id="r1" operation="in_range" start="2024-03-01" end="2024-03-31T23:59:59Z"/>');
  out.push('<date_expression id="r2" operation="in_range" start="2024-01-31"><duration id="r2d" months="1"/></date_expression>');
  out.push('<date_expression id="r3" operation="in_range" start="2024-03-04T12:00:00Z"><duration id="r3d" days="1"/></date_expression>');
  out.push('<date_expression id="r4" operation="in_range" start="2024-02-26"><duration id="r4d" weeks="1" hours="12"/></date_expression>');
  out.push('<date_expression id="r5" operation="in_range" start="2023-03-05T12:00:00Z"><duration id="r5d" years="1"/></date_expression>');
  out.push('<date_expression id="r6" operation="in_range" start="2024-03-05T11:00:00Z"><duration id="r6d" minutes="60" seconds="0"/></date_expression>');
  return out;
}

function randomSpec(next: () => number, i: number): string {
  const range = (lo: number, hi: number): string => {
    const a = lo + Math.floor(next() * (hi - lo + 1));
    const b = lo + Math.floor(next() * (hi - lo + 1));
    const r = next();
    if (r < 0.4) return String(a);
    if (r < 0.8) return `${Math.min(a, b)}-${Math.max(a, b)}`;
    return r < 0.9 ? `${a}-` : `-${a}`;
  };
  const fields: Record<string, () => string> = {
    months: () => range(1, 12), monthdays: () => range(1, 31), hours: () => range(0, 23), minutes: () => range(0, 59),
    seconds: () => range(0, 59), yeardays: () => range(1, 366), weekyears: () => range(2023, 2025), weeks: () => range(1, 53),
    weekdays: () => range(1, 7),
  };
  const chosen = Object.keys(fields).filter(() => next() < 0.3);
  const attrs = [`years="${range(2023, 2025)}"`, ...chosen.map((f) => `${f}="${fields[f]?.() ?? ''}"`)];
  return `<date_expression id="x${i}" operation="date_spec"><date_spec id="x${i}s" ${attrs.join(' ')}/></date_expression>`;
}

const INSTANTS = [
  '2024-03-05 12:00:00', '2024-03-05 11:59:59', '2024-03-05 12:00:01', '2024-03-06 00:00:00', '2024-02-29 23:59:59',
  '2024-03-01 00:00:00', '2024-04-01 00:00:00', '2024-03-31 23:59:59', '2024-03-05 10:00:00', '2024-03-05 10:00:01',
  '2023-03-05 12:00:00', '2024-12-30 06:30:00', '2025-01-01 00:00:00', '2023-01-01 08:15:45', '2021-01-03 23:00:00',
  '2024-03-05 13:00:00', '2024-03-04 12:00:00', '2024-03-05 11:00:00',
];

describe.skipIf(!!why)(`date rules against crm_rule ${why ?? ''}`, () => {
  const next = rng(20241121);
  const exprs = [...fixedRules(), ...Array.from({ length: 150 }, (_, i) => randomSpec(next, i))];
  const rules = exprs.map((e, i) => `<rsc_location id="loc${i}" rsc="x"><rule id="rule${i}" score="1">${e}</rule></rsc_location>`);
  const cib = `<cib crm_feature_set="3.16.2" validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0"><configuration><crm_config/><nodes/><resources/><constraints>${rules.join('')}</constraints></configuration><status/></cib>`;
  const ruleEls = parseXml(cib).root;

  // Every rule, at every instant, is in effect exactly when crm_rule says so.
  it.each(INSTANTS)('at %s', async (instant) => {
    const args = ['-c', '--output-as=xml', '-d', instant, '-X', cib, ...rules.flatMap((_, i) => ['-r', `rule${i}`])];
    const theirs = await run('crm_rule', args);
    const verdicts = new Map([...theirs.out.matchAll(/<rule-check rule-id="(rule\d+)" rc="(\d+)"\/>/g)].map((m) => [m[1], m[2] === '0']));
    expect(verdicts.size, theirs.out.slice(0, 2000)).toBe(rules.length);
    const now = parseIsoDateTime(instant);
    if (!now.ok) throw new Error(now.problem);
    const disagreements: string[] = [];
    const locations = ruleEls.children.flatMap((c) => (c.kind === 'element' ? [c] : []))[0];
    const constraints = locations?.children.flatMap((c) => (c.kind === 'element' && c.name === 'constraints' ? [c] : []))[0];
    constraints?.children.forEach((loc, i) => {
      if (loc.kind !== 'element') return;
      const rule = loc.children.find((c) => c.kind === 'element');
      if (!rule || rule.kind !== 'element') return;
      const ours = evaluateRule(rule, { now: now.value }).passed;
      if (ours !== verdicts.get(`rule${i}`)) disagreements.push(`rule${i} ${exprs[i] ?? ''}: ours ${ours}, crm_rule ${verdicts.get(`rule${i}`)}`);
    });
    expect(disagreements).toEqual([]);
  });
});
