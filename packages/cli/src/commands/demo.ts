/**
 * `paceline demo`: the main job on an embedded default, runnable on any machine.
 *
 * Live (the default): starts a local three-node cluster with the lab (network namespaces with
 * root, processes on loopback otherwise), with a floating IP and a Dummy colocated with it (on
 * loopback: two Dummy resources, since one machine cannot give each node its own addresses),
 * fencing through fence_lab; shows its status; powers off the node that holds the services and
 * shows the failover as measured from outside; then leaves the cluster running and says how to
 * look at it and stop it (`--once` stops it at the end).
 *
 * `--offline`: the scheduler alone on `cib-examples/floating-ip.xml` (or `--cib FILE`), as
 * `crm_simulate -S` prints it: placement, then the loss of the busiest node.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { ApiClient, type StatusResult } from '@paceline/controller';
import { faults, floatingIpCib, labCib, labDown, labUp, pickSubnetIndex, vipAddress, vipFailoverRun, waitSettled, type LabState } from '@paceline/lab';
import { formatClusterStatus } from './node.js';
import { fileURLToPath } from 'node:url';
import { Option, type Command } from 'commander';
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

/** Two Dummy services and fence_lab: the loopback demo (every node shares the machine's addresses). */
export function loopbackDemoCib(labDir: string, nodes: readonly string[]): string {
  return labCib({
    labDir,
    nodes,
    stonith: true,
    resources: `      <primitive id="web" class="ocf" provider="paceline" type="Dummy">
        <operations><op id="web-monitor" name="monitor" interval="2s" timeout="20s"/></operations>
      </primitive>
      <primitive id="app" class="ocf" provider="paceline" type="Dummy">
        <operations><op id="app-monitor" name="monitor" interval="5s" timeout="20s"/></operations>
      </primitive>
`,
    constraints: '      <rsc_colocation id="app-with-web" rsc="app" with-rsc="web" score="INFINITY"/>\n',
  });
}

function canUseNetns(): boolean {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return false;
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
    execFileSync('nft', ['--version'], { stdio: 'ignore' });
    execFileSync('ping', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

async function nodeStatus(lab: LabState, node: string): Promise<StatusResult> {
  const n = lab.nodes.find((x) => x.name === node)!;
  const c = await ApiClient.connect({ socket: n.apiSocket });
  try {
    return (await c.request('status', undefined)) as StatusResult;
  } finally {
    c.close();
  }
}

export interface LiveDemoOptions {
  readonly driver?: 'netns' | 'local';
  readonly dir: string;
  readonly once: boolean;
}

/** The live demo; resolves with the exit code. */
export async function runLiveDemo(opts: LiveDemoOptions, io: DemoIo): Promise<number> {
  const driver = opts.driver ?? (canUseNetns() ? 'netns' : 'local');
  const dir = resolve(opts.dir);
  const name = 'demo';
  const rule = '='.repeat(78);
  const say = (t: string): void => io.out(t);
  if (existsSync(join(dir, 'lab.json'))) {
    say(`An earlier demo cluster is in ${dir}: taking it down first.\n`);
    await labDown(dir, { name });
  }
  // A fresh cluster: no node keeps the CIB of an earlier demo.
  rmSync(join(dir, 'nodes'), { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const nodes = ['node1', 'node2', 'node3'];
  const cib = join(dir, 'cib.xml');
  let vip: string | undefined;
  let subnetIndex: number | undefined;
  if (driver === 'netns') {
    subnetIndex = pickSubnetIndex();
    vip = vipAddress(subnetIndex);
    writeFileSync(cib, floatingIpCib({ vip, labDir: dir, nodes, stonith: true }));
  } else writeFileSync(cib, loopbackDemoCib(dir, nodes));
  say(
    `${rule}\npaceline demo: a three-node cluster on this machine (${driver === 'netns' ? 'one network namespace per node, a client namespace watching' : 'processes on loopback; run as root for network namespaces and a real floating IP'})\n` +
      `resources: ${vip ? `floating IP ${vip} and a Dummy colocated with it` : 'two Dummy services, colocated'}; fencing through fence_lab\n${rule}\n\n`,
  );
  let lab: LabState;
  try {
    lab = await labUp({ name, nodes: 3, driver, dir, cib, ...(subnetIndex !== undefined ? { subnetIndex } : {}), settleTimeoutMs: 60_000, progress: (l) => say(`  ${l}\n`) });
  } catch (e) {
    io.err(`paceline demo: the cluster did not come up: ${e instanceof Error ? e.message : String(e)}\n(node logs: ${dir}/nodes/NODE/log)\n`);
    await labDown(dir, { name }).catch(() => undefined);
    return 1;
  }
  let code = 0;
  try {
    const first = await nodeStatus(lab, 'node1');
    say(`\n${formatClusterStatus(first)}\n`);
    const service = vip ? 'vip' : 'web';
    const holder = first.resources.find((r) => r.id === service)?.nodes[0];
    if (holder === undefined) throw new Error(`${service} is not running anywhere`);
    say(`${rule}\nPower loss: every process of ${holder} is killed (kill -9)${vip ? ' and its link goes down' : ''}.\n${rule}\n`);
    if (vip) {
      const run = await vipFailoverRun(lab, { vip, progress: (l) => say(`  ${l}\n`) });
      say(`\n  ${vip} answered again from ${run.to ?? '?'} after ${run.failover_ms ?? '?'} ms, as the client namespace saw it (ping and ARP every 10 ms)${run.passed ? '' : `; PROBLEMS: ${run.reasons.join('; ')}`}\n`);
      if (!run.passed) code = 1;
    } else {
      const survivor = nodes.find((n) => n !== holder)!;
      const t0 = await faults(dir).powerOff(holder);
      let movedTo: string | undefined;
      while (movedTo === undefined && Date.now() - t0 < 30_000) {
        await new Promise((r) => setTimeout(r, 20));
        const s = await nodeStatus(lab, survivor).catch(() => undefined);
        const on = s?.resources.find((r) => r.id === service)?.nodes;
        if (on?.length === 1 && on[0] !== holder) movedTo = on[0];
      }
      if (movedTo === undefined) {
        say(`  ${service} did not move within 30 s\n`);
        code = 1;
      } else say(`  ${service} runs on ${movedTo} ${Date.now() - t0} ms after the power loss (fenced first: fence_lab rebooted ${holder})\n`);
      await waitSettled(lab.nodes, { timeoutMs: 60_000, progress: (l) => say(`  ${l}\n`) });
    }
    say(`\n${formatClusterStatus(await nodeStatus(lab, 'node1'))}\n`);
  } catch (e) {
    io.err(`paceline demo: ${e instanceof Error ? e.message : String(e)}\n`);
    code = 1;
  }
  if (opts.once) {
    await labDown(dir, { name });
    say('The demo cluster is down again (--once).\n');
  } else {
    say(
      `${rule}\nThe cluster keeps running. Look at it, change it, break it:\n` +
        `  npx paceline status --socket ${lab.nodes[0]!.apiSocket}\n` +
        `  npx paceline lab status --dir ${dir}\n` +
        `  npx paceline crm_simulate -L -s --socket ${lab.nodes[1]!.apiSocket}\n` +
        `  npx paceline lab fault --dir ${dir} power-off node2\n` +
        `Node logs (one JSON line per event): ${dir}/nodes/NODE/log\n` +
        `Stop it: npx paceline lab down --dir ${dir}\n`,
    );
  }
  return code;
}

export function registerDemo(program: Command, io: DemoIo = defaultIo): void {
  program
    .command('demo')
    .description('the main job: a local three-node cluster with the example resources, and a failover (--offline: the scheduler alone)')
    .option('--offline', 'no cluster: show what the scheduler decides for the floating-IP example (crm_simulate -S)')
    .option('--cib <FILE>', 'with --offline: run on this CIB instead of cib-examples/floating-ip.xml')
    .addOption(new Option('--driver <DRIVER>', 'netns (root) or local (loopback processes); default: netns when possible').choices(['netns', 'local']))
    .option('--dir <DIR>', 'where the demo cluster lives', join(tmpdir(), 'paceline-demo'))
    .option('--once', 'stop the cluster at the end')
    .action(async (flags: { offline?: boolean; cib?: string; driver?: 'netns' | 'local'; dir: string; once?: boolean }) => {
      if (flags.offline || flags.cib !== undefined) {
        io.setExitCode(runDemo(flags.cib ?? defaultDemoCib, io));
        return;
      }
      io.setExitCode(await runLiveDemo({ ...(flags.driver ? { driver: flags.driver } : {}), dir: flags.dir, once: flags.once === true }, io));
    });
}
