/**
 * `paceline drill rolling-restart --repeat 1 --output json` on a real three-node lab in network
 * namespaces: every node is stopped gracefully and started again in turn; the floating IP keeps
 * answering (a planned move, well under the limit), nobody is fenced, and the cluster ends with
 * every resource running.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { labNamespaces, SERVICE_GAP_LIMIT_MS } from '@paceline/lab';
import { missing, repoRoot } from '../support/env.js';
import { drillJson } from './drill-support.js';

const reason = missing({ root: true, netns: true, tools: ['ip', 'nft', 'ping', 'python3'], paths: [join(repoRoot, 'packages/cli/dist/main.js')] });

describe.skipIf(reason !== undefined)(`paceline drill rolling-restart in namespaces ${reason ? `(skipped: ${reason})` : ''}`, () => {
  it('restarts every node in turn without fencing, the IP staying up', async () => {
    const { report, code } = await drillJson(['rolling-restart', '--repeat', '1', '--seed', '9', '--settle-timeout', '30']);
    expect(report.scenario).toBe('rolling-restart');
    const run = report.runs[0]!;
    expect(run.reasons).toEqual([]);
    expect(run.invariants.map((i) => `${i.name}=${i.status}`).sort()).toEqual(['single-mac', 'no-fencing', 'service-stays-up', 'cib-same-on-every-node', 'no-resource-left-stopped'].map((n) => `${n}=ok`).sort());
    expect(run.failover_ms).toBeLessThan(SERVICE_GAP_LIMIT_MS);
    expect(run.metrics?.['longest_gap_ms']).toBe(run.failover_ms);
    // Every node was stopped and started once, each start after its stop.
    for (const node of ['node1', 'node2', 'node3']) {
      const stop = run.timeline.filter((e) => e.kind === 'node-stop' && e.node === node);
      const start = run.timeline.filter((e) => e.kind === 'node-start' && e.node === node);
      expect(stop).toHaveLength(1);
      expect(start).toHaveLength(1);
      expect(start[0]!.offsetMs).toBeGreaterThanOrEqual(stop[0]!.offsetMs);
    }
    // The IP moved at least once (its holder was stopped), by a planned stop and start.
    expect(run.timeline.some((e) => e.kind === 'stop' && e.rsc === 'vip')).toBe(true);
    expect(run.timeline.some((e) => e.kind === 'fence' || e.kind === 'fence-request')).toBe(false);
    expect(code).toBe(0);
    expect(labNamespaces(`dr${(process.pid % 46656).toString(36)}`)).toEqual([]);
  }, 120_000);
});
