/**
 * Renderings of a drill series: a text table per run, an SVG timeline chart per run (hand-written
 * SVG, no dependency), and a series report in Markdown or HTML. Pure functions of the report.
 */
import type { TimelineEntry } from './drill-timeline.js';

/** One invariant checked during a run. */
export interface InvariantResult {
  readonly name: string;
  /** ok, violated, or not applicable (e.g. fencing with stonith disabled). */
  readonly status: 'ok' | 'violated' | 'n/a';
  readonly detail?: string;
}

/** One run of a drill, as `--output json` prints it. */
export interface DrillRun {
  readonly run: number;
  readonly passed: boolean;
  /** Fault to the service answering again, as the client saw it (-1: it never answered). */
  readonly failover_ms: number;
  readonly fault: string;
  readonly from?: string;
  readonly to?: string;
  readonly reasons: readonly string[];
  readonly invariants: readonly InvariantResult[];
  readonly timeline: readonly TimelineEntry[];
  /** Scenario-specific figures of the run (e.g. longest_gap_ms, answers per real server). */
  readonly metrics?: Readonly<Record<string, number>>;
}

export interface DrillReport {
  readonly scenario: string;
  readonly seed: number;
  readonly startedAt: string;
  /** Runs asked for (--repeat); `runs` is shorter when the series stopped early. */
  readonly requested: number;
  /** Why the series stopped before `requested` runs. */
  readonly stoppedEarly?: string;
  readonly runs: readonly DrillRun[];
  /** failover_ms over every run in which the service answered again; passed: runs that passed. */
  readonly summary: { readonly count: number; readonly passed: number; readonly min?: number; readonly median?: number; readonly max?: number };
}

const pad = (s: string, n: number): string => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const padL = (s: string, n: number): string => (s.length >= n ? s : ' '.repeat(n - s.length) + s);
const ms = (n: number | undefined): string => (n === undefined ? '-' : `${n} ms`);

/** The text output: per run a verdict line, the timeline table and the invariants; then min/median/max. */
export function formatDrillText(r: DrillReport): string {
  const lines: string[] = [`drill ${r.scenario} (seed ${r.seed}), ${r.runs.length} of ${r.requested} run(s)`];
  if (r.stoppedEarly) lines.push(`series stopped early: ${r.stoppedEarly}`);
  for (const run of r.runs) {
    lines.push('');
    lines.push(`run ${run.run}: ${run.passed ? 'PASSED' : 'FAILED'}  ${run.fault}${run.to ? ` -> ${run.to}` : ''}  failover ${run.failover_ms < 0 ? 'none' : `${run.failover_ms} ms`}`);
    lines.push(`  ${padL('+ms', 7)}  ${pad('event', 13)}  ${pad('node', 7)}  detail`);
    for (const e of run.timeline) lines.push(`  ${padL(String(e.offsetMs), 7)}  ${pad(e.kind, 13)}  ${pad(e.node ?? '', 7)}  ${e.detail}`);
    for (const i of run.invariants) lines.push(`  invariant ${pad(i.name, 28)} ${i.status}${i.detail ? `: ${i.detail}` : ''}`);
    if (run.metrics) lines.push(`  metrics ${Object.entries(run.metrics).map(([k, v]) => `${k}=${v}`).join(' ')}`);
    for (const reason of run.reasons) lines.push(`  ! ${reason}`);
  }
  const s = r.summary;
  lines.push('');
  lines.push(`${s.passed}/${r.runs.length} passed; failover min ${ms(s.min)}, median ${ms(s.median)}, max ${ms(s.max)}`);
  return `${lines.join('\n')}\n`;
}

const xmlEsc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const COLORS: Readonly<Record<TimelineEntry['kind'], string>> = {
  fault: '#c0392b',
  detection: '#e67e22',
  view: '#d4ac0d',
  dc: '#7d3c98',
  'fence-request': '#6c3483',
  fence: '#4a235a',
  stop: '#7f8c8d',
  stopped: '#566573',
  start: '#2471a3',
  started: '#1a5276',
  answering: '#1e8449',
  heal: '#117a65',
  'node-stop': '#a04000',
  'node-start': '#0e6655',
};

/**
 * An SVG chart of one run: a time axis in ms from the fault, the outage (fault → answering) as
 * a band, and one row per timeline entry with its marker and label.
 */
export function timelineSvg(run: DrillRun, title: string): string {
  const rowH = 20;
  const left = 300;
  const width = 960;
  const top = 56;
  const plotW = width - left - 30;
  const tl = run.timeline;
  const maxOff = Math.max(100, ...tl.map((e) => e.offsetMs));
  const minOff = Math.min(0, ...tl.map((e) => e.offsetMs));
  const span = niceCeil(maxOff - minOff);
  const x = (off: number): number => left + ((off - minOff) / span) * plotW;
  const height = top + tl.length * rowH + 40;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<title>${xmlEsc(title)}</title>`);
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="10" y="20" font-size="14" font-weight="bold">${xmlEsc(title)}</text>`);
  out.push(`<text x="10" y="38">${xmlEsc(`${run.passed ? 'passed' : 'FAILED'}, failover ${run.failover_ms < 0 ? 'none' : `${run.failover_ms} ms`}`)}</text>`);
  const ans = tl.find((e) => e.kind === 'answering');
  const bandEnd = ans ? x(ans.offsetMs) : left + plotW;
  out.push(`<rect x="${x(0).toFixed(1)}" y="${top - 6}" width="${Math.max(1, bandEnd - x(0)).toFixed(1)}" height="${tl.length * rowH + 4}" fill="#fdedec"/>`);
  const axisY = top + tl.length * rowH + 6;
  out.push(`<line x1="${left}" y1="${axisY}" x2="${left + plotW}" y2="${axisY}" stroke="#333"/>`);
  const step = span / 5;
  for (let i = 0; i <= 5; i++) {
    const off = minOff + i * step;
    const xx = x(off).toFixed(1);
    out.push(`<line x1="${xx}" y1="${top - 6}" x2="${xx}" y2="${axisY + 4}" stroke="#ddd"/>`);
    out.push(`<text x="${xx}" y="${axisY + 18}" text-anchor="middle">${Math.round(off)} ms</text>`);
  }
  tl.forEach((e, i) => {
    const y = top + i * rowH + rowH / 2;
    const label = `${padL(String(e.offsetMs), 5)} ${e.kind}${e.node ? ` ${e.node}` : ''}${e.rsc ? ` ${e.rsc}` : ''}`;
    out.push(`<text x="10" y="${y + 4}" font-family="monospace">${xmlEsc(label)}</text>`);
    out.push(`<line x1="${x(minOff).toFixed(1)}" y1="${y}" x2="${x(e.offsetMs).toFixed(1)}" y2="${y}" stroke="#eee"/>`);
    out.push(`<circle cx="${x(e.offsetMs).toFixed(1)}" cy="${y}" r="5" fill="${COLORS[e.kind]}"><title>${xmlEsc(`+${e.offsetMs} ms ${e.detail}`)}</title></circle>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** 1, 2, 5 × 10^k at or above n. */
function niceCeil(n: number): number {
  const p = 10 ** Math.floor(Math.log10(Math.max(1, n)));
  for (const m of [1, 2, 5, 10]) if (m * p >= n) return m * p;
  return 10 * p;
}

/** The series report in Markdown: summary, a table of runs, and each run's timeline. */
export function drillMarkdown(r: DrillReport, svgFiles: readonly string[] = []): string {
  const s = r.summary;
  const out: string[] = [
    `# paceline drill ${r.scenario}`,
    '',
    `Started ${r.startedAt}, seed ${r.seed}, ${r.runs.length} of ${r.requested} run(s), ${s.passed} passed.${r.stoppedEarly ? ` Series stopped early: ${mdCell(r.stoppedEarly)}.` : ''}`,
    '',
    '| failover | ms |',
    '|---|---:|',
    `| min | ${s.min ?? '-'} |`,
    `| median | ${s.median ?? '-'} |`,
    `| max | ${s.max ?? '-'} |`,
    '',
    '| run | verdict | fault | to | failover ms | invariants |',
    '|---:|---|---|---|---:|---|',
  ];
  for (const run of r.runs) {
    const inv = run.invariants.map((i) => `${i.name}: ${i.status}`).join('; ');
    out.push(`| ${run.run} | ${run.passed ? 'passed' : '**FAILED**'} | ${mdCell(run.fault)} | ${run.to ?? '-'} | ${run.failover_ms < 0 ? '-' : run.failover_ms} | ${mdCell(inv)} |`);
  }
  r.runs.forEach((run, i) => {
    out.push('', `## Run ${run.run}`, '');
    if (svgFiles[i]) out.push(`![run ${run.run} timeline](${svgFiles[i]})`, '');
    if (run.metrics) out.push(`Metrics: ${Object.entries(run.metrics).map(([k, v]) => `${k} ${v}`).join(', ')}.`, '');
    out.push('| +ms | event | node | detail |', '|---:|---|---|---|');
    for (const e of run.timeline) out.push(`| ${e.offsetMs} | ${e.kind} | ${e.node ?? ''} | ${mdCell(e.detail)} |`);
    for (const reason of run.reasons) out.push('', `- ${mdCell(reason)}`);
  });
  return `${out.join('\n')}\n`;
}

const mdCell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The series report as one HTML page, with each run's SVG chart inline. */
export function drillHtml(r: DrillReport): string {
  const s = r.summary;
  const h = xmlEsc;
  const out: string[] = [
    '<!DOCTYPE html>',
    `<html><head><meta charset="utf-8"><title>${h(`paceline drill ${r.scenario}`)}</title>`,
    '<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px}td.n{text-align:right}.bad{color:#c0392b;font-weight:bold}</style>',
    '</head><body>',
    `<h1>${h(`paceline drill ${r.scenario}`)}</h1>`,
    `<p>Started ${h(r.startedAt)}, seed ${r.seed}, ${r.runs.length} of ${r.requested} run(s), ${s.passed} passed.${r.stoppedEarly ? ` <span class="bad">Series stopped early: ${h(r.stoppedEarly)}.</span>` : ''}</p>`,
    `<table><tr><th>failover</th><th>ms</th></tr><tr><td>min</td><td class="n">${s.min ?? '-'}</td></tr><tr><td>median</td><td class="n">${s.median ?? '-'}</td></tr><tr><td>max</td><td class="n">${s.max ?? '-'}</td></tr></table>`,
  ];
  for (const run of r.runs) {
    out.push(`<h2>Run ${run.run}: <span class="${run.passed ? '' : 'bad'}">${run.passed ? 'passed' : 'FAILED'}</span>, failover ${run.failover_ms < 0 ? 'none' : `${run.failover_ms} ms`}</h2>`);
    out.push(timelineSvg(run, `${r.scenario} run ${run.run}: ${run.fault}`));
    out.push('<table><tr><th>+ms</th><th>event</th><th>node</th><th>detail</th></tr>');
    for (const e of run.timeline) out.push(`<tr><td class="n">${e.offsetMs}</td><td>${h(e.kind)}</td><td>${h(e.node ?? '')}</td><td>${h(e.detail)}</td></tr>`);
    out.push('</table><ul>');
    for (const i of run.invariants) out.push(`<li class="${i.status === 'violated' ? 'bad' : ''}">${h(`${i.name}: ${i.status}${i.detail ? ` (${i.detail})` : ''}`)}</li>`);
    for (const reason of run.reasons) out.push(`<li class="bad">${h(reason)}</li>`);
    out.push('</ul>');
  }
  out.push('</body></html>');
  return `${out.join('\n')}\n`;
}
