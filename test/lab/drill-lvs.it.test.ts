/**
 * `paceline drill lvs --repeat 1 --output json` on a real two-node director pair in network
 * namespaces, with three real servers in namespaces of their own on the lab bridge and the ipvs
 * agent on paceline's userspace director: after the active director is powered off, requests
 * through the floating IP are answered again and spread over all three real servers.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { labNamespaces } from '@paceline/lab';
import { missing, repoRoot } from '../support/env.js';
import { drillJson, expectPassedPowerOffRun } from './drill-support.js';

const reason = missing({ root: true, netns: true, tools: ['ip', 'nft', 'ping', 'python3'], paths: [join(repoRoot, 'packages/cli/dist/main.js')] });

describe.skipIf(reason !== undefined)(`paceline drill lvs in namespaces ${reason ? `(skipped: ${reason})` : ''}`, () => {
  it('moves the director to the other node and keeps spreading requests over the real servers', async () => {
    const { report, code } = await drillJson(['lvs', '--repeat', '1', '--seed', '6', '--settle-timeout', '30']);
    expect(report.scenario).toBe('lvs');
    const run = report.runs[0]!;
    expectPassedPowerOffRun(run, ['single-mac', 'fencing-before-recovery', 'cib-same-on-every-node', 'no-resource-left-stopped', 'spread-over-real-servers'], 'lvs-vip', 45_000);
    const m = run.metrics!;
    expect(m['longest_gap_ms']).toBeGreaterThan(0);
    expect(m['longest_gap_ms']).toBeGreaterThanOrEqual(run.failover_ms - 1000);
    expect(m['all_servers_back_ms']).toBeGreaterThanOrEqual(run.failover_ms);
    // Weighted round robin 3:1:1 over new connections: rs1 gets the most.
    for (const rs of ['rs1', 'rs2', 'rs3']) expect(m[rs]).toBeGreaterThan(0);
    expect(m['rs1']).toBeGreaterThan(m['rs2']!);
    expect(m['rs1']).toBeGreaterThan(m['rs3']!);
    expect(code).toBe(0);
    expect(labNamespaces(`dr${(process.pid % 46656).toString(36)}`)).toEqual([]);
  }, 150_000);
});
