/**
 * Pacemaker's CTS tests and RandomTests on real three-node labs in network namespaces the drills
 * create and remove, through the commander commands (the code the binary runs):
 *   - `paceline drill cts ComponentFail,SplitBrainTest,ResourceRecover`: each passes, with its
 *     invariants; the nodes lost uncleanly were fenced before their resources moved;
 *   - `paceline drill random --duration 30s`: steps picked by the seed, none violating anything;
 *   - the fault verbs on a lab of the test's own: net-delay (the relay forwards with the delay),
 *     net-loss (nftables drops), link-flap, rsc-fail/rsc-repair, fs-fill/fs-unfill,
 *     fs-readonly/fs-writable, graceful-stop; fence_lab's reboot (run state cleared, no mounts
 *     of the fencing node).
 * Longer: PACELINE_CTS_ALL=1 runs every CTS test once (about 3 minutes).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { alive, CTS_TESTS, ctsCib, faults, labDown, labNamespaces, labUp, nodePid, pickSubnetIndex, run, vipAddress, waitSettled, type LabState, type SeriesReport } from '@paceline/lab';
import { registerDrillCommand } from '../../packages/cli/src/commands/drill.js';
import { missing, repoRoot } from '../support/env.js';

const built = join(repoRoot, 'packages/cli/dist/main.js');
const reason = missing({ root: true, netns: true, tools: ['ip', 'nft', 'nsenter', 'unshare', 'mountpoint'], paths: [built] });

/** Runs `paceline ARGS` through the commander program; returns stdout and the exit code. */
async function paceline(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const program = new Command('paceline').enablePositionalOptions().exitOverride();
  registerDrillCommand(program);
  let stdout = '';
  let stderr = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((stdout += c.toString()), true));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((stderr += c.toString()), true));
  process.exitCode = undefined;
  try {
    await program.parseAsync(args, { from: 'user' });
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
  const code = typeof process.exitCode === 'number' ? process.exitCode : 0;
  process.exitCode = undefined;
  return { code, stdout, stderr };
}

function expectPassed(r: SeriesReport, stderr: string): void {
  const bad = r.steps.filter((s) => !s.passed).map((s) => `step ${s.step} ${s.test}: ${s.reasons.join('; ')}`);
  expect(bad, `${bad.join('\n')}\n${stderr.split('\n').slice(-30).join('\n')}`).toEqual([]);
  for (const s of r.steps) expect(s.invariants.map((i) => i.name).sort()).toEqual(['cib-same-on-every-node', 'fencing-before-recovery', 'no-resource-left-stopped', 'one-dc', 'single-activity']);
}

describe.skipIf(reason !== undefined)(`paceline drill cts / random in namespaces ${reason ? `(skipped: ${reason})` : ''}`, () => {
  it('runs three CTS tests on one lab, each passing with its invariants', async () => {
    const r = await paceline(['drill', 'cts', 'ComponentFail,SplitBrainTest,ResourceRecover', '--seed', '3', '--output', 'json', '--settle-timeout', '40']);
    const report = JSON.parse(r.stdout) as SeriesReport;
    expect(report.kind).toBe('cts');
    expect(report.steps.map((s) => s.test)).toEqual(['ComponentFail', 'SplitBrainTest', 'ResourceRecover']);
    expectPassed(report, r.stderr);
    expect(r.code).toBe(0);
    // The crash and the partition lose a node uncleanly: whatever moved off it moved after its fence.
    for (const s of report.steps.slice(0, 2)) expect(['ok', 'n/a']).toContain(s.invariants.find((i) => i.name === 'fencing-before-recovery')!.status);
    expect(report.steps[2]!.invariants.find((i) => i.name === 'fencing-before-recovery')!.status).toBe('n/a');
  }, 240_000);

  it('runs a short random drill with no violation and prints progress lines', async () => {
    const r = await paceline(['drill', 'random', '--duration', '30s', '--seed', '5', '--exclude', 'Reattach', '--output', 'json', '--settle-timeout', '40']);
    const report = JSON.parse(r.stdout) as SeriesReport;
    expect(report.kind).toBe('random');
    expect(report.seed).toBe(5);
    expect(report.steps.length).toBeGreaterThanOrEqual(1);
    expect(report.steps.map((s) => s.step)).toEqual(report.steps.map((_, i) => i + 1));
    expectPassed(report, r.stderr);
    expect(report.firstFailure).toBeUndefined();
    expect(r.stderr).toMatch(/step 1 \S+: passed in [\d.]+ s .*s elapsed, \d+ s left/);
    expect(r.code).toBe(0);
  }, 240_000);

  it.runIf(process.env.PACELINE_CTS_ALL === '1')(
    'runs every CTS test once (PACELINE_CTS_ALL=1)',
    async () => {
      const r = await paceline(['drill', 'cts', CTS_TESTS.join(','), '--seed', '1', '--output', 'json']);
      expectPassed(JSON.parse(r.stdout) as SeriesReport, r.stderr);
    },
    900_000,
  );
});

describe.skipIf(reason !== undefined)(`lab fault verbs on a real lab ${reason ? `(skipped: ${reason})` : ''}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'paceline-ctfault-'));
  const name = `ctf${(process.pid % 1296).toString(36)}`;
  let lab: LabState | undefined;
  const fsDir = join(dir, 'mnt');
  beforeAll(async () => {
    const index = pickSubnetIndex();
    mkdirSync(fsDir, { recursive: true });
    writeFileSync(join(dir, 'cib.xml'), ctsCib({ labDir: dir, nodes: ['node1', 'node2', 'node3'], vip: vipAddress(index), fsDir }));
    lab = await labUp({ name, nodes: 3, driver: 'netns', dir, cib: join(dir, 'cib.xml'), subnetIndex: index, settleTimeoutMs: 60_000 });
  }, 90_000);
  afterAll(async () => {
    await labDown(dir, { name }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    expect(labNamespaces(name)).toEqual([]);
  });

  it('injects and undoes each new fault', async () => {
    const f = faults(dir);
    const settle = (): Promise<unknown> => waitSettled(lab!.nodes, { timeoutMs: 40_000 });
    await settle();
    const ns = (n: string): string => lab!.nodes.find((x) => x.name === n)!.netns!;

    // net-delay: every datagram node1 sends goes through the relay, 60 ms late on average.
    const t0 = await f.netDelay('node1', 60, 10);
    expect(t0).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 3000));
    f.netDelayClear('node1');
    await new Promise((r) => setTimeout(r, 300));
    const stats = JSON.parse(readFileSync(join(dir, 'nodes/node1/relay.log'), 'utf8').trim().split('\n').at(-1)!) as { forwarded: number; delayMeanMs: number };
    expect(stats.forwarded).toBeGreaterThan(10);
    expect(stats.delayMeanMs).toBeGreaterThanOrEqual(50);
    expect(stats.delayMeanMs).toBeLessThan(200);
    expect(run(['ip', 'netns', 'exec', ns('node1'), 'nft', 'list', 'tables']).stdout).not.toContain('paceline_delay');
    expect(() => f.netDelayClear('node1')).toThrow(/no delay/);

    // net-loss: nftables drops about that share of node2's messaging datagrams.
    f.netLoss('node2', 30);
    await new Promise((r) => setTimeout(r, 2000));
    const counters = run(['ip', 'netns', 'exec', ns('node2'), 'nft', 'list', 'table', 'inet', 'paceline_loss']).stdout;
    const dropped = [...counters.matchAll(/counter packets (\d+)/g)].reduce((a, m) => a + Number(m[1]), 0);
    expect(dropped).toBeGreaterThan(0);
    f.netLossClear('node2');
    expect(() => f.netLossClear('node2')).toThrow(/no packet loss/);
    expect(() => f.netLoss('node2', 120)).toThrow(/percentage/);

    // link-flap: out and in twice; up afterwards.
    await f.linkFlap('node3', { count: 2, downMs: 150, upMs: 150 });
    expect(run(['ip', '-n', ns('node3'), 'link', 'show', 'eth0']).stdout).toMatch(/state UP|LOWER_UP/);
    // The peers may notice the flap (and fence node3) a moment later.
    await new Promise((r) => setTimeout(r, 3000));
    await settle();

    // rsc-fail / rsc-repair on d1 where it runs: the cluster restarts it; cleanup clears the failure.
    const d1 = lab!.nodes.find((n) => existsSync(join(n.dir, 'rsctmp/paceline-Dummy-d1.state')))!;
    f.rscFail(d1.name, 'd1', 'monitor');
    expect(existsSync(join(d1.dir, 'rsctmp/paceline-Dummy-d1.state.fail-monitor'))).toBe(true);
    await f.rscRepair(d1.name, 'd1');
    expect(existsSync(join(d1.dir, 'rsctmp/paceline-Dummy-d1.state.fail-monitor'))).toBe(false);
    expect(() => f.rscFail(d1.name, 'no-such', 'stop')).toThrow(/not active/);

    // fs-fill and fs-readonly on the node where fs is mounted: writes fail, then work again.
    const fsNode = lab!.nodes.find((n) => run(['nsenter', '-t', String(nodePid(n)), '-m', 'mountpoint', '-q', fsDir]).status === 0)!;
    const write = (): number => run(['nsenter', '-t', String(nodePid(fsNode)), '-m', 'sh', '-c', `echo x > ${fsDir}/probe && rm -f ${fsDir}/probe`]).status;
    expect(write()).toBe(0);
    f.fsFill(fsNode.name, fsDir);
    expect(write()).not.toBe(0);
    f.fsUnfill(fsNode.name, fsDir);
    expect(write()).toBe(0);
    f.fsReadOnly(fsNode.name, fsDir);
    expect(write()).not.toBe(0);
    f.fsWritable(fsNode.name, fsDir);
    expect(write()).toBe(0);
    expect(() => f.fsFill(fsNode.name, join(dir, 'nodes'))).toThrow(/not a mount point/);

    // graceful-stop: the daemon leaves and exits; daemon-start brings it back.
    const pid = nodePid(lab!.nodes[2]!);
    await f.gracefulStop('node3', 30_000);
    expect(alive(pid)).toBe(false);
    await f.daemonStart('node3');
    await f.rscRepair(lab!.nodes[0]!.name, 'fs').catch(() => undefined);
    await settle();
  }, 180_000);

  it('fence_lab reboots a node with its run state cleared and without the fencing node\'s mounts', async () => {
    // A node that fences another runs fence_lab in its own mount namespace; the rebooted node
    // must not inherit the fencer's mounts under the lab directory, and its HA_RSCTMP is
    // cleared as a power cycle clears /run (the boot script sees power "off", not "on").
    const n1 = lab!.nodes[0]!;
    const n2 = lab!.nodes[1]!;
    const extra = join(dir, 'extra');
    mkdirSync(extra, { recursive: true });
    writeFileSync(join(n1.dir, 'rsctmp/stale'), 'x');
    const inN2 = (cmd: string): number => run(['nsenter', '-t', String(nodePid(n2)), '-m', 'sh', '-c', cmd]).status;
    expect(inN2(`mount -t tmpfs tmpfs ${extra}`)).toBe(0);
    const before = nodePid(n1);
    const r = run(['nsenter', '-t', String(nodePid(n2)), '-m', join(repoRoot, 'agents/stonith/fence_lab'), '-o', 'reboot', '-n', 'node1', `--lab-dir=${dir}`]);
    expect(r.status, r.stderr).toBe(0);
    let after = nodePid(n1);
    for (let i = 0; i < 100 && (after === before || !alive(after)); i++) {
      await new Promise((res) => setTimeout(res, 100));
      after = nodePid(n1);
    }
    expect(alive(after)).toBe(true);
    expect(after).not.toBe(before);
    expect(run(['nsenter', '-t', String(after), '-m', 'mountpoint', '-q', extra]).status).not.toBe(0);
    expect(existsSync(join(n1.dir, 'rsctmp/stale'))).toBe(false);
    inN2(`umount ${extra}`);
    await waitSettled(lab!.nodes, { timeoutMs: 40_000 });
  }, 60_000);
});
