/**
 * `paceline drill SCENARIO`: failover drills on a lab in network namespaces (root); the
 * scenarios are @paceline/lab's registry (drillScenarios(): vip-failover, partition, web, ...).
 *
 *   paceline drill SCENARIO [--repeat N] [--seed S] [--output text|json]
 *                  [--svg DIR] [--report FILE.md|FILE.html] [--keep] [--no-stonith]
 *                  [--dir DIR] [--settle-timeout SECONDS]
 *
 * Exit codes: 0 every run passed; 1 a run failed or the lab did not come up; 64 bad usage.
 * Progress goes to stderr; the result (text or JSON) to stdout.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { extname, join, relative, dirname, resolve } from 'node:path';
import { Command } from 'commander';
import { registerCtsDrillCommands } from './drill-cts.js';
import { DRILL_EXIT, positiveInt, wholeNumber } from './drill-options.js';
import { runAgainstPacemaker } from './drill-against.js';
import { DRILL_SCENARIOS, drillScenarios, drillHtml, drillMarkdown, formatDrillText, runDrill, timelineSvg, type DrillReport, type DrillScenario } from '@paceline/lab';

export { DRILL_EXIT };

interface DrillFlags {
  repeat: number;
  seed?: number;
  output: string;
  svg?: string;
  report?: string;
  keep?: boolean;
  stonith: boolean;
  dir?: string;
  settleTimeout: number;
  against?: string;
}

/** Writes one SVG per run into dir; returns their paths. */
export function writeSvgs(report: DrillReport, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  return report.runs.map((run) => {
    const p = join(dir, `${report.scenario}-run${run.run}.svg`);
    writeFileSync(p, timelineSvg(run, `${report.scenario} run ${run.run}: ${run.fault}`));
    return p;
  });
}

/** Writes the series report (HTML for .html/.htm, else Markdown). */
export function writeReport(report: DrillReport, file: string, svgs: readonly string[]): void {
  const ext = extname(file).toLowerCase();
  const text = ext === '.html' || ext === '.htm' ? drillHtml(report) : drillMarkdown(report, svgs.map((s) => relative(dirname(resolve(file)), s)));
  mkdirSync(dirname(resolve(file)), { recursive: true });
  writeFileSync(file, text);
}

/** Adds `drill` to the program. */
export function registerDrillCommand(program: Command): void {
  const drill = program
    .command('drill')
    .enablePositionalOptions()
    .description(`failover drill on a lab in network namespaces (root):\n${drillScenarios().map((d) => `  ${d.name.padEnd(14)} ${d.description}`).join('\n')}`)
    .argument('<SCENARIO>', DRILL_SCENARIOS.join(' | '))
    .option('--repeat <N>', 'number of runs', positiveInt, 1)
    .option('--seed <S>', 'seed of the pause before each fault (default: from the clock, printed)', wholeNumber)
    .option('--output <FORMAT>', 'text or json', 'text')
    .option('--svg <DIR>', 'write one SVG timeline chart per run into DIR')
    .option('--report <FILE>', 'write a series report: Markdown (.md) or HTML (.html)')
    .option('--keep', 'leave the lab up afterwards')
    .option('--no-stonith', 'no fence device (stonith-enabled=false)')
    .option('--dir <DIR>', 'lab directory (default: a new temporary one)')
    .option('--settle-timeout <SECONDS>', 'how long to wait for the cluster to settle after each run', positiveInt, 60)
    .option('--against <STACK>', 'vip-failover: also run the scenario on real Pacemaker + Corosync (pacemaker) and print both series')
    .action(async (scenario: string, o: DrillFlags) => {
      const usage = (msg: string): void => {
        process.stderr.write(`paceline drill: ${msg}\n`);
        process.exitCode = DRILL_EXIT.usage;
      };
      if (!(DRILL_SCENARIOS as readonly string[]).includes(scenario)) return usage(`unknown scenario '${scenario}' (${DRILL_SCENARIOS.join(', ')})`);
      if (o.output !== 'text' && o.output !== 'json') return usage(`--output must be text or json, not '${o.output}'`);
      if (o.report !== undefined && !['.md', '.markdown', '.html', '.htm'].includes(extname(o.report).toLowerCase())) return usage(`--report ${o.report}: the name must end in .md or .html`);
      if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
        process.stderr.write('paceline drill: the drill runs a lab in network namespaces and needs root\n');
        process.exitCode = DRILL_EXIT.failed;
        return;
      }
      const seed = o.seed ?? Date.now() % 2 ** 31;
      const progress = (l: string): void => void process.stderr.write(`${l}\n`);
      if (o.against !== undefined) {
        if (o.against !== 'pacemaker') return usage(`--against ${o.against}: the only other stack is pacemaker`);
        if (scenario !== 'vip-failover') return usage('--against pacemaker runs the vip-failover scenario only');
        if (o.svg !== undefined || o.report !== undefined || o.keep) return usage('--against pacemaker takes no --svg, --report or --keep');
        process.exitCode = await runAgainstPacemaker({ repeat: o.repeat, seed, stonith: o.stonith, settleTimeoutMs: o.settleTimeout * 1000, output: o.output, progress, ...(o.dir === undefined ? {} : { dir: o.dir }) });
        return;
      }
      try {
        const report = await runDrill({ scenario: scenario as DrillScenario, repeat: o.repeat, seed, keep: o.keep === true, stonith: o.stonith, settleTimeoutMs: o.settleTimeout * 1000, progress, ...(o.dir === undefined ? {} : { dir: o.dir }) });
        const svgs = o.svg === undefined ? [] : writeSvgs(report, o.svg);
        if (o.report !== undefined) writeReport(report, o.report, svgs);
        const { dir: _dir, ...out } = report;
        process.stdout.write(o.output === 'json' ? `${JSON.stringify(out, null, 2)}\n` : formatDrillText(report));
        process.exitCode = report.runs.every((r) => r.passed) ? DRILL_EXIT.ok : DRILL_EXIT.failed;
      } catch (err) {
        process.stderr.write(`paceline drill ${scenario}: ${(err as Error).message}\n`);
        process.exitCode = DRILL_EXIT.failed;
      }
    });
  registerCtsDrillCommands(drill);
}
