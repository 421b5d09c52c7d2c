/**
 * `paceline demo`: the main job on an embedded default, runnable on any machine with no cluster.
 *
 * Until the controller and the node daemon exist, the main job is the scheduler deciding, offline,
 * what a cluster does: it takes the two-node floating-IP cluster of `cib-examples/floating-ip.xml`,
 * places its resources (as `crm_simulate -S` would print it), then fails the node that holds the
 * address and shows the failover decision: fence the lost node, start the address on the survivor.
 * `--cib FILE` runs the same two steps on another CIB (failing the node that runs the most).
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { crmSimulate, type CrmSimulateResult } from '@paceline/scheduler';

/** The embedded default: shipped with the repository, next to the packages. */
export const defaultDemoCib = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../cib-examples/floating-ip.xml');

export interface DemoIo {
  out(text: string): void;
  err(text: string): void;
  setExitCode(code: number): void;
}

const defaultIo: DemoIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  setExitCode: (c) => {
    process.exitCode = c;
  },
};

/** The node hosting the most started resources after the first step: the one whose loss shows most. */
function busiestNode(result: CrmSimulateResult): string | undefined {
  const counts = new Map<string, number>();
  for (const r of result.scheduled?.transition.summary ?? []) {
    const node = r.to;
    if (node && (r.change === 'Start' || r.change === 'Move' || r.change === 'Recover')) counts.set(node, (counts.get(node) ?? 0) + 1);
  }
  let best: string | undefined;
  for (const [node, n] of counts) if (best === undefined || n > (counts.get(best) ?? 0)) best = node;
  return best;
}

export function runDemo(cibPath: string, io: DemoIo): number {
  let text: string;
  try {
    text = readFileSync(cibPath, 'utf8');
  } catch (e) {
    io.err(`paceline demo: cannot read ${cibPath}: ${(e as Error).message}\n`);
    return 66;
  }
  const rule = '='.repeat(78);
  io.out(`${rule}\npaceline demo: the scheduler on ${cibPath}\n(offline: no cluster is started; this is what one would decide)\n${rule}\n\n`);
  io.out('Step 1: every node has just joined. Where does each resource go?\n\n');
  const first = crmSimulate(text, { simulate: true, saveOutput: true });
  io.out(first.stdout);
  if (first.exitCode !== 0 || first.outputCib === undefined) {
    io.err(first.stderr);
    return first.exitCode || 1;
  }
  const victim = busiestNode(first);
  if (victim === undefined) {
    io.out('\nNothing was started, so there is no failover to show.\n');
    return 0;
  }
  io.out(`\n${rule}\nStep 2: node ${victim} fails (power loss). The survivors' decision:\n\n`);
  const second = crmSimulate(first.outputCib, { simulate: true, nodeFail: [victim] });
  io.out(second.stdout);
  if (second.exitCode !== 0) io.err(second.stderr);
  io.out(
    `\n${rule}\nReplay both steps with crm_simulate's own options:\n` +
      `  paceline crm_simulate -S -x ${cibPath} -O /tmp/after.xml\n` +
      `  paceline crm_simulate -S -x /tmp/after.xml -f ${victim}\n` +
      `Why is a resource where it is: paceline crm_simulate -R -x /tmp/after.xml -f ${victim} --explain RSC\n`,
  );
  return second.exitCode;
}

export function registerDemo(program: Command, io: DemoIo = defaultIo): void {
  program
    .command('demo')
    .description('the main job on an embedded default: place the floating-IP cluster, then fail a node')
    .option('--cib <FILE>', 'run on this CIB instead of cib-examples/floating-ip.xml')
    .action((flags: { cib?: string }) => io.setExitCode(runDemo(flags.cib ?? defaultDemoCib, io)));
}
