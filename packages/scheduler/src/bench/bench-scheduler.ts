/**
 * `node packages/scheduler/dist/bench/bench-scheduler.js [--crm-simulate] [--max-resources N]
 * [--shape unprobed|sparse]`: scheduler timings on the synthetic clusters of the scheduler anchor
 * (groups of 4-5 primitives, location preferences, orderings, anti-colocations, all started, node
 * 1 lost), 8 x 400, 16 x 1000 and 32 x 4000.
 *
 * Shapes (synthCib's `history`; calibration figures in packages/cib/src/synth.ts):
 * - `unprobed` (default): history only on the node running each resource, so both schedulers
 *   probe every resource on every other online node (R x (N - 2) probes). This is the shape that
 *   reproduces the anchor: crm_simulate's memory matches it at every size (60 / 190 MB against
 *   59 / 196, and 1.33 GB extrapolated at 32 x 4000 against 1.3 GB), its time at 8 x 400 (0.27-
 *   0.30 s), and its growth (probes x actions, pcmk__order_probes). On this machine 16 x 1000
 *   takes 3.7-4.0 s, half the anchor's 8.0 s: that pass is memory-bound, and the figures this
 *   bench prints are the ratio to the crm_simulate it runs itself, not to the anchor's.
 * - `sparse`: every resource's history on every node, so nothing needs probing. crm_simulate
 *   grows about linearly here (16 x 1000: 1.4-1.6 s, 274 MB, further from the anchor's memory).
 *
 * Each size runs in a fresh child process, as `crm_simulate -R -x FILE` would: read and parse the
 * file (streamed in 64 KiB pieces, never held whole), schedule (the first, cold run is the
 * end-to-end figure; two more warm runs follow for the best schedule time). The child reports wall
 * and CPU time per phase (read and parse, then each engine phase of `schedulePhases`), the time
 * Node took to start and load the code, and its peak RSS (getrusage maxrss), so the memory figure
 * is the whole process's and not polluted by the other sizes. With `--crm-simulate` and
 * Pacemaker's crm_simulate installed it also runs `crm_simulate -R -x` on the same file (sizes up
 * to --max-resources, default 1000: crm_simulate needs minutes on 32 x 4000) and reports whether
 * both Transition Summaries are the same, white space aside, and the ratio of wall times measured
 * in the same run, start-up included on both sides (other work on the machine slows both). It then
 * runs the user's command, `paceline crm_simulate -R -x FILE`, the same way as crm_simulate (a
 * process each, both printing the current status and the Transition Summary): the like-for-like
 * figure.
 * Last, how time grows with nodes x resources: ms per 1000 cells and the fitted exponent.
 *
 * Targets (issue 3): 16 x 1000 at least 10x faster than crm_simulate; 32 x 4000 under 2 s end to
 * end and under 300 MB peak RSS.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCibPieces, synthCib, writeXml } from '@paceline/cib';
import type { SynthOptions } from '@paceline/cib';
import { StringDecoder } from 'node:string_decoder';
import { renderSummary } from '../render.js';
import { schedulePhases } from '../schedule.js';

/**
 * Only the parent runs processes: the child (what `crm_simulate -R` does) does not load
 * node:child_process, whose loading would count in its start-up.
 */
const { execFileSync } = process.argv.includes('--child') ? { execFileSync: undefined } : await import('node:child_process');

function run(file: string, args: readonly string[], options: { encoding: 'utf8'; maxBuffer: number }): string;
function run(file: string, args: readonly string[], options: { stdio: 'ignore' }): void;
function run(file: string, args: readonly string[], options: { encoding: 'utf8'; maxBuffer: number } | { stdio: 'ignore' }): string | void {
  if (!execFileSync) throw new Error('bench: the child runs no processes');
  return execFileSync(file, [...args], options) as string | void;
}

interface Size {
  readonly nodes: number;
  readonly resources: number;
}

const sizes: readonly Size[] = [
  { nodes: 8, resources: 400 },
  { nodes: 16, resources: 1000 },
  { nodes: 32, resources: 4000 },
];
const warmRuns = 2;

/** One measured step: wall and CPU (user + system) milliseconds. */
interface Step {
  readonly name: string;
  readonly wallMs: number;
  readonly cpuMs: number;
}

/** What a child reports for one file. */
interface ChildReport {
  /** From process start to the first step: Node's start-up and loading the code. */
  readonly startupMs: number;
  /** CPU time (user + system) the process used in that start-up. */
  readonly startupCpuMs: number;
  readonly steps: readonly Step[];
  readonly warmScheduleMs: readonly number[];
  /** Peak RSS after read, parse and the first schedule (the end-to-end figure). */
  readonly peakRssMb: number;
  /** Peak RSS after parsing only (what @paceline/cib's model costs). */
  readonly parseRssMb: number;
  readonly summary: readonly string[];
}

function timed(name: string, work: () => void): Step {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  work();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { name, wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
}

function normalize(lines: readonly string[]): string[] {
  return lines.map((l) => l.replace(/\s+/g, ' ').trim()).filter((l) => l.length > 0);
}

/**
 * Bytes read from the file at a time. Pieces this size stay in V8's young generation, so each is
 * freed by the next scavenge instead of waiting in old space for a full collection.
 */
const readBytes = 64 * 1024;

/** `file` as UTF-8 text, in pieces (what parseCibPieces reads). */
function* fileText(file: string): Generator<string> {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(readBytes);
    const decoder = new StringDecoder('utf8');
    for (let n = readSync(fd, buf, 0, readBytes, null); n > 0; n = readSync(fd, buf, 0, readBytes, null)) {
      yield decoder.write(buf.subarray(0, n));
    }
    const rest = decoder.end();
    if (rest !== '') yield rest;
  } finally {
    closeSync(fd);
  }
}

/**
 * The child: read and parse `file` (streamed: the text is never held whole, as crm_simulate's
 * libxml2 reads it) and schedule it once cold, then time warm schedules.
 */
function child(file: string): ChildReport {
  // performance.now() counts from the process's start.
  const startupMs = performance.now();
  const startupCpu = process.cpuUsage();
  const startupCpuMs = (startupCpu.user + startupCpu.system) / 1000;
  const steps: Step[] = [];
  let cib: ReturnType<typeof parseCibPieces> | undefined;
  steps.push(timed('read, parse', () => (cib = parseCibPieces(() => fileText(file)))));
  const parseRssMb = process.resourceUsage().maxRSS / 1024;
  const parsed = cib as ReturnType<typeof parseCibPieces>;
  const run = schedulePhases(parsed);
  for (const p of run.phases) steps.push(timed(p.name, p.run));
  const summary = normalize(renderSummary(run.result().transition.summary));
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  const warmScheduleMs: number[] = [];
  for (let i = 0; i < warmRuns; i++) {
    const again = schedulePhases(parsed);
    warmScheduleMs.push(timed('schedule', () => again.phases.forEach((p) => p.run())).wallMs);
  }
  return { startupMs, startupCpuMs, steps, warmScheduleMs, peakRssMb, parseRssMb, summary };
}

/**
 * Runs `crm_simulate -R -x file`: its wall time, its CPU time (user + system, from the shell's
 * `times`, which a loaded machine distorts less than wall time) and its Transition Summary.
 */
function crmSimulateSummary(file: string): { ms: number; cpuMs: number; lines: string[] } {
  const started = performance.now();
  const script = 'crm_simulate -R -x "$1"; rc=$?; echo "== times"; times; exit $rc';
  const out = run('sh', ['-c', script, 'sh', file], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const ms = performance.now() - started;
  return { ms, cpuMs: childCpuMs(out), lines: transitionSummary(out) };
}

/**
 * Runs the user's command, `paceline crm_simulate -R -x file` (packages/cli/bin/paceline.js, a
 * process of its own as crm_simulate is), timed the same way as crmSimulateSummary: the figure
 * to hold against crm_simulate's, since both print the same current status and Transition Summary.
 */
function pacelineSummary(file: string): { ms: number; cpuMs: number; lines: string[] } {
  const bin = fileURLToPath(new URL('../../../cli/bin/paceline.js', import.meta.url));
  const started = performance.now();
  const script = '"$1" "$2" crm_simulate -R -x "$3"; rc=$?; echo "== times"; times; exit $rc';
  const out = run('sh', ['-c', script, 'sh', process.execPath, bin, file], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const ms = performance.now() - started;
  return { ms, cpuMs: childCpuMs(out), lines: transitionSummary(out) };
}

/** The Transition Summary lines of crm_simulate's text output (either tool's), normalized. */
function transitionSummary(out: string): string[] {
  const m = /Transition Summary:\n([\s\S]*?)(?:\n\n|\n== times|$)/.exec(out);
  return normalize((m?.[1] ?? '').split('\n'));
}

/** The children's user + system time from the shell's `times` after "== times", in ms. */
function childCpuMs(out: string): number {
  // `times`: the shell's user and system time, then its children's: "0m1.234s 0m0.050s".
  const children = /== times\n.*\n(\d+)m([\d.]+)s (\d+)m([\d.]+)s/.exec(out);
  const seconds = (min: string | undefined, sec: string | undefined): number => Number(min) * 60 + Number(sec);
  return children ? (seconds(children[1], children[2]) + seconds(children[3], children[4])) * 1000 : Number.NaN;
}

function hasCrmSimulate(): boolean {
  try {
    run('crm_simulate', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function runChild(file: string): ChildReport {
  const self = fileURLToPath(import.meta.url);
  const out = run(process.execPath, [self, '--child', file], { encoding: 'utf8', maxBuffer: 1 << 28 });
  return JSON.parse(out) as ChildReport;
}

/** A synthetic cluster shape the bench can run (`--shape NAME`). */
interface Shape {
  readonly name: string;
  readonly about: string;
  readonly history: SynthOptions['history'];
}

const shapes: readonly Shape[] = [
  { name: 'unprobed', about: 'history only on the node running each resource: Pacemaker probes every resource on every other online node', history: 'running-node' },
  { name: 'sparse', about: 'history of every resource on every node: nothing to probe', history: 'every-node' },
];

/** The shape `--shape NAME` names (default: the first); an unknown name is an error. */
function shapeOption(argv: readonly string[]): Shape {
  const i = argv.indexOf('--shape');
  if (i < 0) return shapes[0]!;
  const name = argv[i + 1];
  const shape = shapes.find((s) => s.name === name);
  if (!shape) throw new Error(`--shape: unknown shape ${JSON.stringify(name)} (known: ${shapes.map((s) => s.name).join(', ')})`);
  return shape;
}

function fmt(ms: number): string {
  return ms.toFixed(0);
}

function main(argv: readonly string[]): void {
  const childIdx = argv.indexOf('--child');
  if (childIdx >= 0) {
    process.stdout.write(JSON.stringify(child(argv[childIdx + 1] ?? '')));
    return;
  }
  const compare = argv.includes('--crm-simulate') && hasCrmSimulate();
  const maxIdx = argv.indexOf('--max-resources');
  const compareMax = maxIdx >= 0 ? Number(argv[maxIdx + 1]) : 1000;
  const shape = shapeOption(argv);
  console.log(`shape: ${shape.name} (${shape.about})`);
  const dir = mkdtempSync(join(tmpdir(), 'paceline-bench-'));
  const growth: Growth[] = [];
  try {
    for (const size of sizes) {
      const file = join(dir, `cib-${size.nodes}x${size.resources}.xml`);
      writeFileSync(file, writeXml(synthCib({ nodes: size.nodes, resources: size.resources, seed: 1, withStatus: true, node1Lost: true, history: shape.history })));
      process.stderr.write(`${size.nodes} x ${size.resources}: running ...\n`);
      const r = runChild(file);
      const engine = r.steps.filter((s) => s.name !== 'read, parse');
      const sum = (xs: readonly Step[], k: 'wallMs' | 'cpuMs'): number => xs.reduce((a, s) => a + s[k], 0);
      const endMs = sum(r.steps, 'wallMs');
      const endCpuMs = sum(r.steps, 'cpuMs');
      const scheduleMs = sum(engine, 'wallMs');
      console.log(`\n${size.nodes} nodes x ${size.resources} resources (fresh process, first run cold):`);
      for (const s of r.steps) console.log(`  ${s.name.padEnd(14)} ${fmt(s.wallMs).padStart(6)} ms wall ${fmt(s.cpuMs).padStart(6)} ms cpu`);
      console.log(`  ${'schedule'.padEnd(14)} ${fmt(scheduleMs).padStart(6)} ms wall ${fmt(sum(engine, 'cpuMs')).padStart(6)} ms cpu (warm: ${r.warmScheduleMs.map(fmt).join(', ')} ms)`);
      console.log(`  ${'node start-up'.padEnd(14)} ${fmt(r.startupMs).padStart(6)} ms wall ${fmt(r.startupCpuMs).padStart(6)} ms cpu (not in end to end)`);
      console.log(`  ${'end to end'.padEnd(14)} ${fmt(endMs).padStart(6)} ms wall ${fmt(endCpuMs).padStart(6)} ms cpu, peak RSS ${r.peakRssMb.toFixed(0)} MB (${r.parseRssMb.toFixed(0)} MB after parse), ${r.summary.length} summary lines`);
      growth.push({ size, scheduleMs: Math.min(scheduleMs, ...r.warmScheduleMs), endMs });
      if (compare && size.resources <= compareMax) {
        const theirs = crmSimulateSummary(file);
        const same = theirs.lines.length === r.summary.length && theirs.lines.every((l, i) => l === r.summary[i]);
        const oursMs = r.startupMs + endMs;
        const oursCpuMs = r.startupCpuMs + endCpuMs;
        console.log(
          `  crm_simulate -R ${fmt(theirs.ms)} ms wall ${fmt(theirs.cpuMs)} ms cpu: ${(theirs.ms / oursMs).toFixed(1)}x our ${fmt(oursMs)} ms wall, ` +
            `${(theirs.cpuMs / oursCpuMs).toFixed(1)}x our ${fmt(oursCpuMs)} ms cpu (end to end and Node start-up), summary ${same ? 'same' : 'DIFFERENT'}`,
        );
        // The commands side by side, each a process printing the status and the Transition Summary.
        const cmd = pacelineSummary(file);
        const cmdSame = cmd.lines.length === theirs.lines.length && cmd.lines.every((l, i) => l === theirs.lines[i]);
        console.log(
          `  paceline crm_simulate -R ${fmt(cmd.ms)} ms wall ${fmt(cmd.cpuMs)} ms cpu: crm_simulate -R is ${(theirs.ms / cmd.ms).toFixed(1)}x slower (wall), ` +
            `${(theirs.cpuMs / cmd.cpuMs).toFixed(1)}x (cpu), summary ${cmdSame ? 'same' : 'DIFFERENT'}`,
        );
      }
      rmSync(file, { force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  printGrowth(growth);
}

/** One size's figures for the growth report. */
interface Growth {
  readonly size: Size;
  /** Best schedule time (cold or warm), ms. */
  readonly scheduleMs: number;
  /** Cold read, parse and schedule, ms. */
  readonly endMs: number;
}

/** Least-squares slope of log(y) over log(x): the exponent k of y ~ x^k. */
function fittedExponent(points: readonly { x: number; y: number }[]): number {
  const xs = points.map((p) => Math.log(p.x));
  const ys = points.map((p) => Math.log(p.y));
  const mean = (v: readonly number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
  const mx = mean(xs);
  const my = mean(ys);
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? Number.NaN : num / den;
}

/**
 * How time grows with nodes x resources ("cells"): per size, ms per 1000 cells; then the exponent
 * k of time ~ cells^k fitted over all sizes (1 is linear in cells; below 1, per-resource work
 * dominates per-node work).
 */
function printGrowth(growth: readonly Growth[]): void {
  if (growth.length === 0) return;
  const cells = (s: Size): number => s.nodes * s.resources;
  console.log('\ngrowth with nodes x resources (cells):');
  for (const g of growth) {
    const k = cells(g.size) / 1000;
    console.log(
      `  ${`${g.size.nodes}x${g.size.resources}`.padEnd(8)} ${String(cells(g.size)).padStart(7)} cells: ` +
        `schedule ${(g.scheduleMs / k).toFixed(2)} ms, end to end ${(g.endMs / k).toFixed(2)} ms per 1000 cells`,
    );
  }
  if (growth.length < 2) return;
  const fit = (pick: (g: Growth) => number): string => fittedExponent(growth.map((g) => ({ x: cells(g.size), y: pick(g) }))).toFixed(2);
  console.log(`  fitted: schedule ~ cells^${fit((g) => g.scheduleMs)}, end to end ~ cells^${fit((g) => g.endMs)}`);
}

main(process.argv.slice(2));
