/**
 * `paceline drill web --repeat 1 --output json` on a real three-node lab in network namespaces
 * with an ext4 shared disk on a loop device (the drill makes and removes both): one power-off of
 * the web group's holder; the run passes with every invariant, including the page served after
 * the failover being the one written on the shared disk before it.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { labNamespaces } from '@paceline/lab';
import { missing, repoRoot } from '../support/env.js';
import { drillJson, expectPassedPowerOffRun } from './drill-support.js';

const reason = missing({ root: true, netns: true, tools: ['ip', 'nft', 'ping', 'python3', 'losetup', 'mkfs.ext4', 'apache2', 'curl'], paths: [join(repoRoot, 'packages/cli/dist/main.js'), '/dev/loop-control'] });

describe.skipIf(reason !== undefined)(`paceline drill web in namespaces ${reason ? `(skipped: ${reason})` : ''}`, () => {
  it('fails the web group over to another node, serving the page on the shared disk', async () => {
    const loopsBefore = execFileSync('losetup', ['-a'], { encoding: 'utf8' });
    const { report, code } = await drillJson(['web', '--repeat', '1', '--seed', '3', '--settle-timeout', '30']);
    expect(report.scenario).toBe('web');
    expect(report.runs).toHaveLength(1);
    const run = report.runs[0]!;
    expectPassedPowerOffRun(run, ['single-mac', 'fencing-before-recovery', 'cib-same-on-every-node', 'no-resource-left-stopped', 'content-from-shared-storage'], 'web-fs', 15_000);
    // The group starts in order on the new node: disk, address, server.
    const start = (rsc: string): number => run.timeline.find((e) => e.kind === 'start' && e.rsc === rsc && e.node === run.to)!.offsetMs;
    expect(start('web-fs')).toBeLessThanOrEqual(start('web-vip'));
    expect(start('web-vip')).toBeLessThanOrEqual(start('web-server'));
    expect(code).toBe(0);
    // The drill took its lab and its loop device away.
    expect(labNamespaces(`dr${(process.pid % 46656).toString(36)}`)).toEqual([]);
    expect(execFileSync('losetup', ['-a'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes('paceline-drill-'))).toEqual(loopsBefore.split('\n').filter((l) => l.includes('paceline-drill-')));
  }, 90_000);
});
