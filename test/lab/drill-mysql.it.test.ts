/**
 * `paceline drill mysql --repeat 1 --output json` on a real three-node lab in network namespaces
 * with MariaDB's datadir on an ext4 shared disk (loop device): rows written through the floating
 * IP before the holder is powered off are all there after the failover (data-intact), and the
 * disk is mounted on the new node only after the old one was fenced.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { labNamespaces } from '@paceline/lab';
import { missing, repoRoot } from '../support/env.js';
import { drillJson, expectPassedPowerOffRun } from './drill-support.js';

const reason = missing({
  root: true,
  netns: true,
  tools: ['ip', 'nft', 'ping', 'python3', 'losetup', 'mkfs.ext4', 'mariadbd', 'mariadb', 'mariadb-install-db', 'mariadb-admin'],
  paths: [join(repoRoot, 'packages/cli/dist/main.js'), '/dev/loop-control'],
});

describe.skipIf(reason !== undefined)(`paceline drill mysql in namespaces ${reason ? `(skipped: ${reason})` : ''}`, () => {
  it('fails MariaDB over with every row written before the fault', async () => {
    const { report, code } = await drillJson(['mysql', '--repeat', '1', '--seed', '4', '--settle-timeout', '30']);
    expect(report.scenario).toBe('mysql');
    const run = report.runs[0]!;
    expectPassedPowerOffRun(run, ['single-mac', 'fencing-before-recovery', 'cib-same-on-every-node', 'no-resource-left-stopped', 'data-intact'], 'db-fs', 30_000);
    expect(run.invariants.find((i) => i.name === 'data-intact')!.detail).toMatch(/^20 rows, same checksum$/);
    expect(code).toBe(0);
    expect(labNamespaces(`dr${(process.pid % 46656).toString(36)}`)).toEqual([]);
  }, 120_000);
});
