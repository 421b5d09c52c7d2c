/**
 * `paceline drill two-node-split --repeat 1 --output json` on a real two-node lab in network
 * namespaces: the link between the nodes breaks, the node running the IP wins the fence race
 * (priority-fencing-delay), keeps the IP without an outage, the loser runs nothing, and after
 * the heal the IP stays where it was.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { labNamespaces } from '@paceline/lab';
import { missing, repoRoot } from '../support/env.js';
import { drillJson } from './drill-support.js';

const reason = missing({ root: true, netns: true, tools: ['ip', 'nft', 'ping', 'python3'], paths: [join(repoRoot, 'packages/cli/dist/main.js')] });

describe.skipIf(reason !== undefined)(`paceline drill two-node-split in namespaces ${reason ? `(skipped: ${reason})` : ''}`, () => {
  it('the holder of the IP fences the other node and keeps the IP', async () => {
    const { report, code } = await drillJson(['two-node-split', '--repeat', '1', '--seed', '8', '--settle-timeout', '30']);
    expect(report.scenario).toBe('two-node-split');
    const run = report.runs[0]!;
    expect(run.reasons).toEqual([]);
    expect(run.invariants.map((i) => `${i.name}=${i.status}`).sort()).toEqual(
      ['single-mac', 'holder-wins', 'loser-runs-nothing', 'cib-same-on-every-node', 'no-resource-left-stopped', 'vip-stays-after-heal'].map((n) => `${n}=ok`).sort(),
    );
    // The holder kept the IP: the client saw no outage (at most a lost ping or two).
    expect(run.failover_ms).toBeGreaterThanOrEqual(0);
    expect(run.failover_ms).toBeLessThan(1000);
    const fence = run.timeline.find((e) => e.kind === 'fence');
    expect(fence?.node).toBe(run.from);
    expect(fence!.detail).toMatch(new RegExp(`^${run.from}: node[12] fenced`));
    expect(run.timeline.at(-1)!.kind).toBe('heal');
    expect(code).toBe(0);
    expect(labNamespaces(`dr${(process.pid % 46656).toString(36)}`)).toEqual([]);
  }, 90_000);
});
