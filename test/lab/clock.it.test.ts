/**
 * `paceline drill clock-jump --output json --dir DIR` on a real three-node lab in network
 * namespaces, nodes under libfaketime: the holder's (and DC's) wall clock jumps +1h then -2h,
 * nothing moves, then the holder is powered off and fails over. Beyond the drill's verdict, the
 * test checks the jump reached the daemon itself: the powered-off node booted again an hour
 * behind, so its `node-start` log line (stamped by the daemon's own Date) is an hour before the
 * host's clock. Costs ~30-40 s.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findLibfaketime, labNamespaces, libfaketimeCandidates, parseNodeLog } from '@paceline/lab';
import { missing, repoRoot } from '../support/env.js';
import { drillJson } from './drill-support.js';

const built = join(repoRoot, 'packages/cli/dist/main.js');
const reason = missing({ root: true, netns: true, tools: ['ip', 'nft', 'ping', 'python3', 'date'], paths: [built, findLibfaketime() ?? libfaketimeCandidates()[0]!] });

describe.skipIf(reason !== undefined)(`paceline drill clock-jump in namespaces ${reason ? `(skipped: ${reason})` : ''}`, () => {
  const dir = mkdtempSync(join(tmpdir(), 'paceline-clock-drill-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('jumps clocks with nothing moving, then fails over from the node an hour behind', async () => {
    const t0 = Date.now();
    const { report, code } = await drillJson(['clock-jump', '--seed', '3', '--settle-timeout', '30', '--dir', dir]);
    const t1 = Date.now();

    expect(report.scenario).toBe('clock-jump');
    expect(report.runs).toHaveLength(1);
    const run = report.runs[0]!;
    expect(run.reasons, JSON.stringify(run, null, 1)).toEqual([]);
    expect(run.passed).toBe(true);
    expect(code).toBe(0);
    const inv = new Map(run.invariants.map((i) => [i.name, i]));
    for (const name of ['clock-jumped', 'single-mac', 'vip-answers-through-jumps', 'no-resource-moves', 'no-fencing-on-jump', 'dc-stable', 'fencing-before-recovery', 'nothing-moves-on-reset', 'cib-same-on-every-node', 'no-resource-left-stopped']) {
      expect(inv.get(name)?.status, name).toBe('ok');
    }
    // `date +%s` in the jumped node was an hour behind the host's (± 2 s) before the power-off.
    expect(inv.get('clock-jumped')!.detail).toMatch(/at -1h$/);
    expect(run.failover_ms).toBeGreaterThan(0);
    expect(run.failover_ms).toBeLessThan(10_000);

    // The timeline: +1h and -2h before the power-off, the power-off at 0, the reset after it.
    const jumps = run.timeline.filter((e) => e.kind === 'fault' && e.detail.startsWith('clock jump'));
    expect(jumps.filter((e) => e.offsetMs < 0).map((e) => /clock jump \S+ (\S+)/.exec(e.detail)![1])).toEqual(expect.arrayContaining(['+1h', '-2h']));
    expect(jumps.some((e) => e.offsetMs > 0 && /now on true time/.test(e.detail))).toBe(true);
    const power = run.timeline.find((e) => e.kind === 'fault' && e.offsetMs === 0);
    expect(power?.detail).toMatch(new RegExp(`^power off ${run.from} \\(clock -1h\\)`));
    expect(run.timeline.find((e) => e.kind === 'answering')?.offsetMs).toBe(run.failover_ms);
    for (let i = 1; i < run.timeline.length; i++) expect(run.timeline[i]!.offsetMs).toBeGreaterThanOrEqual(run.timeline[i - 1]!.offsetMs);

    // The daemon's own clock: the node powered off an hour behind booted an hour behind.
    const from = run.from!;
    const starts = parseNodeLog(readFileSync(join(dir, 'nodes', from, 'log'), 'utf8'), from).filter((e) => e.event === 'node-start');
    expect(starts.length).toBeGreaterThanOrEqual(2);
    const reboot = starts.at(-1)!.t;
    expect(reboot).toBeGreaterThan(t0 - 3600_000 - 5000);
    expect(reboot).toBeLessThan(t1 - 3600_000 + 5000);
    // The first start was on true time.
    expect(Math.abs(starts[0]!.t - t0)).toBeLessThan(60_000);

    expect(labNamespaces(`dr${(process.pid % 46656).toString(36)}`)).toEqual([]);
  }, 120_000);
});
