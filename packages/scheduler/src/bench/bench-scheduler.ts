/**
 * `node packages/scheduler/dist/bench/bench-scheduler.js [--crm-simulate] [--max-resources N]`:
 * scheduler timings on the synthetic clusters of the scheduler anchor (groups of 4-5 primitives,
 * location preferences, orderings, anti-colocations, all started, node 1 lost), 8 x 400,
 * 16 x 1000 and 32 x 4000.
 *
 * Each size runs in a fresh child process, as `crm_simulate -R -x FILE` would: read the file,
 * parse, schedule (the first, cold run is the end-to-end figure; two more warm runs follow for the
 * best schedule time). The child reports wall and CPU time per phase (read, parse and each engine
 * phase of `schedulePhases`) and its peak RSS (getrusage maxrss), so the memory figure is the
 * whole process's and not polluted by the other sizes. With `--crm-simulate` and Pacemaker's
 * crm_simulate installed it also runs `crm_simulate -R -x` on the same file (sizes up to
 * --max-resources, default 1000: crm_simulate needs minutes on 32 x 4000) and reports whether both
 * Transition Summaries are the same, white space aside, and the ratio of wall times measured in
 * the same run (other work on the machine slows both).
 *
 * Targets (issue 3): 16 x 1000 at least 10x faster than crm_simulate; 32 x 4000 under 2 s end to
 * end and under 300 MB peak RSS.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCib, synthCib, writeXml } from '@paceline/cib';
import { renderSummary } from '../render.js';
import { schedulePhases } from '../schedule.js';

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

/** The child: read, parse and schedule `file` once cold, then time warm schedules. */
function child(file: string): ChildReport {
  const steps: Step[] = [];
  let text = '';
  steps.push(timed('read', () => (text = readFileSync(file, 'utf8'))));
  let cib: ReturnType<typeof parseCib> | undefined;
  steps.push(timed('parse', () => (cib = parseCib(text))));
  text = '';
  const parseRssMb = process.resourceUsage().maxRSS / 1024;
  const parsed = cib as ReturnType<typeof parseCib>;
  const run = schedulePhases(parsed);
  for (const p of run.phases) steps.push(timed(p.name, p.run));
  const summary = normalize(renderSummary(run.result().transition.summary));
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  const warmScheduleMs: number[] = [];
  for (let i = 0; i < warmRuns; i++) {
    const again = schedulePhases(parsed);
    warmScheduleMs.push(timed('schedule', () => again.phases.forEach((p) => p.run())).wallMs);
  }
  return { steps, warmScheduleMs, peakRssMb, parseRssMb, summary };
}

function crmSimulateSummary(file: string): { ms: number; lines: string[] } {
  const started = performance.now();
  const out = execFileSync('crm_simulate', ['-R', '-x', file], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const ms = performance.now() - started;
  const m = /Transition Summary:\n([\s\S]*?)(?:\n\n|$)/.exec(out);
  return { ms, lines: normalize((m?.[1] ?? '').split('\n')) };
}

function hasCrmSimulate(): boolean {
  try {
    execFileSync('crm_simulate', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function runChild(file: string): ChildReport {
  const self = fileURLToPath(import.meta.url);
  const out = execFileSync(process.execPath, [self, '--child', file], { encoding: 'utf8', maxBuffer: 1 << 28 });
  return JSON.parse(out) as ChildReport;
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
  const dir = mkdtempSync(join(tmpdir(), 'paceline-bench-'));
  const growth: { size: Size; scheduleMs: number; endMs: number }[] = [];
  try {
    for (const size of sizes) {
      const file = join(dir, `cib-${size.nodes}x${size.resources}.xml`);
      writeFileSync(file, writeXml(synthCib({ nodes: size.nodes, resources: size.resources, seed: 1, withStatus: true, node1Lost: true })));
      process.stderr.write(`${size.nodes} x ${size.resources}: running ...\n`);
      const r = runChild(file);
      const engine = r.steps.filter((s) => s.name !== 'read' && s.name !== 'parse');
      const sum = (xs: readonly Step[], k: 'wallMs' | 'cpuMs'): number => xs.reduce((a, s) => a + s[k], 0);
      const endMs = sum(r.steps, 'wallMs');
      const endCpuMs = sum(r.steps, 'cpuMs');
      const scheduleMs = sum(engine, 'wallMs');
      console.log(`\n${size.nodes} nodes x ${size.resources} resources (fresh process, first run cold):`);
      for (const s of r.steps) console.log(`  ${s.name.padEnd(14)} ${fmt(s.wallMs).padStart(6)} ms wall ${fmt(s.cpuMs).padStart(6)} ms cpu`);
      console.log(`  ${'schedule'.padEnd(14)} ${fmt(scheduleMs).padStart(6)} ms wall ${fmt(sum(engine, 'cpuMs')).padStart(6)} ms cpu (warm: ${r.warmScheduleMs.map(fmt).join(', ')} ms)`);
      console.log(`  ${'end to end'.padEnd(14)} ${fmt(endMs).padStart(6)} ms wall ${fmt(endCpuMs).padStart(6)} ms cpu, peak RSS ${r.peakRssMb.toFixed(0)} MB (${r.parseRssMb.toFixed(0)} MB after parse), ${r.summary.length} summary lines`);
      growth.push({ size, scheduleMs: Math.min(scheduleMs, ...r.warmScheduleMs), endMs });
      if (compare && size.resources <= compareMax) {
        const theirs = crmSimulateSummary(file);
        const same = theirs.lines.length === r.summary.length && theirs.lines.every((l, i) => l === r.summary[i]);
        console.log(`  crm_simulate -R ${fmt(theirs.ms)} ms: ${(theirs.ms / endMs).toFixed(1)}x our end to end, summary ${same ? 'same' : 'DIFFERENT'}`);
      }
      rmSync(file, { force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const base = growth[0];
  if (base) {
    const cells = (s: Size): number => s.nodes * s.resources;
    const parts = growth.map(
      (g) =>
        `${g.size.nodes}x${g.size.resources}: cells x${(cells(g.size) / cells(base.size)).toFixed(1)}, ` +
        `schedule x${(g.scheduleMs / base.scheduleMs).toFixed(1)}, end to end x${(g.endMs / base.endMs).toFixed(1)}`,
    );
    console.log(`\ngrowth relative to ${base.size.nodes}x${base.size.resources} (nodes x resources):\n  ${parts.join('\n  ')}`);
  }
}

main(process.argv.slice(2));
