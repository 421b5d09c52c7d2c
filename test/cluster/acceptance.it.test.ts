/**
 * The controller issue's acceptance, with real processes: three paceline nodes in network
 * namespaces, a floating IP (ocf:paceline:IPaddr) and a Dummy colocated with it, fencing through
 * fence_lab. A client in a fourth namespace watches the address (ICMP and ARP every 10 ms).
 *
 * - Power loss of the node holding the IP: the survivors fence it, the IP answers from another
 *   node (never from two MACs), the CIB says where everything is; the fenced node restarts,
 *   rejoins with the current CIB, and the IP stays where it is (stickiness).
 * - A whole-cluster restart keeps the configuration (including a change made through the API)
 *   and the fence history (stonith_admin --history: persisted by every node, the same on every
 *   node, the fenced one included); stonith_admin --cleanup --history clears it everywhere.
 * - A 2|1 partition leaves the resources only on the quorate side.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  faults,
  floatingIpCib,
  labDown,
  labStatus,
  labUp,
  pickSubnetIndex,
  vipAddress,
  vipFailoverRun,
  waitSettled,
  watchIp,
  analyze,
  type LabState,
} from '@paceline/lab';
import { apiCall } from '../support/cluster.js';
import { missing, repoRoot } from '../support/env.js';
import { existsSync } from 'node:fs';

const built = join(repoRoot, 'packages/cli/dist/main.js');
const reason = missing({ root: true, netns: true, tools: ['ip', 'nft', 'ping', 'python3'], paths: [built] });

const api = apiCall;

interface HistoryEntry {
  readonly target: string;
  readonly action: string;
  readonly ok: boolean;
  readonly by: string;
  readonly wallSec: number;
}

/** Every node's fence history (fence.history), by node name. */
async function histories(lab: LabState): Promise<Map<string, readonly HistoryEntry[]>> {
  const out = new Map<string, readonly HistoryEntry[]>();
  for (const n of lab.nodes) out.set(n.name, (await api<{ history: HistoryEntry[] }>(lab, n.name, 'fence.history', {})).history);
  return out;
}

/** Polls until every node holds the same fence history (a join merges them), and returns it. */
async function agreedHistory(lab: LabState, timeoutMs = 15_000): Promise<readonly HistoryEntry[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const all = await histories(lab).catch(() => undefined);
    const lists = all ? [...all.values()].map((h) => JSON.stringify(h)) : [];
    if (all && all.size === lab.nodes.length && new Set(lists).size === 1) return [...all.values()][0]!;
    if (Date.now() > deadline) throw new Error(`the nodes' fence histories differ: ${JSON.stringify(all ? [...all] : 'unreadable')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function placement(lab: LabState): Promise<Map<string, Map<string, string[]>>> {
  const report = await labStatus(lab.dir);
  const out = new Map<string, Map<string, string[]>>();
  for (const n of report.nodes) {
    if (!n.api.ok) continue;
    out.set(n.name, new Map((n.api.status.resources ?? []).map((r): [string, string[]] => [r.id, [...r.nodes]])));
  }
  return out;
}

describe.skipIf(reason !== undefined)(`acceptance: a three-node cluster in namespaces ${reason ? `(skipped: ${reason})` : ''}`, () => {
  let dir = '';
  let lab: LabState;
  let vip = '';
  const name = `acc${process.pid % 10000}`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'paceline-acceptance-'));
    const index = pickSubnetIndex();
    vip = vipAddress(index);
    const cib = join(dir, 'cib.xml');
    writeFileSync(cib, floatingIpCib({ vip, labDir: dir, nodes: ['node1', 'node2', 'node3'], stonith: true }));
    lab = await labUp({ name, nodes: 3, driver: 'netns', dir, cib, subnetIndex: index, settleTimeoutMs: 60_000, progress: () => undefined });
  }, 90_000);

  afterAll(async () => {
    await labDown(dir, { name }).catch(() => undefined);
    if (dir && existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('fences the node that holds the IP when it loses power, and the IP answers from another node', async () => {
    const before = await placement(lab);
    const holder = before.get('node1')?.get('vip')?.[0];
    expect(holder).toBeDefined();
    expect(before.get('node1')?.get('dummy')).toEqual([holder]);

    const run = await vipFailoverRun(lab, { vip, timeoutMs: 30_000 });
    expect(run.reasons).toEqual([]);
    expect(run.passed).toBe(true);
    expect(run.from).toBe(holder);
    expect(run.to).not.toBe(holder);
    expect(run.failover_ms).toBeLessThan(5000);

    // The survivors fenced the lost node before recovering (the DC's journal says so, in order).
    const survivor = lab.nodes.find((n) => n.name !== holder)!.name;
    const events = await api<{ kind: string; data: Record<string, unknown> }[]>(lab, survivor, 'events.tail', { after: 0, limit: 10_000 });
    const fenceAt = events.findIndex((e) => e.kind === 'fence-ok' && e.data['target'] === holder);
    const startAt = events.findIndex((e, i) => i > fenceAt && e.kind === 'action-result' && e.data['rsc'] === 'vip' && e.data['task'] === 'start' && e.data['host'] === run.to);
    // The DC recorded both (when the survivor asked is not the DC, the replicated fence-ok is still in its journal).
    expect(fenceAt).toBeGreaterThanOrEqual(0);
    expect(startAt).toBeGreaterThan(fenceAt);

    // vipFailoverRun waited for the fenced node to boot and rejoin: every node agrees, and the IP stayed.
    const after = await placement(lab);
    expect(after.size).toBe(3);
    for (const [, rscs] of after) {
      expect(rscs.get('vip')).toEqual([run.to]);
      expect(rscs.get('dummy')).toEqual([run.to]);
    }
  }, 120_000);

  it('keeps the configuration and the fence history across a whole-cluster restart', async () => {
    // The power loss above was fenced; every node knows (the fenced one learnt it when it rejoined).
    const before = await agreedHistory(lab);
    expect(before.some((h) => h.ok && h.action === 'reboot')).toBe(true);
    const res = await api<{ version: string }>(lab, 'node2', 'cib.update', {
      op: 'modify',
      scope: 'crm_config',
      xml: '<crm_config><cluster_property_set id="cib-bootstrap-options"><nvpair id="acc-marker" name="cluster-recheck-interval" value="7min"/></cluster_property_set></crm_config>',
    });
    expect(res.version).toMatch(/^\d+\.\d+\.\d+$/);
    const f = faults(lab.dir);
    for (const n of lab.nodes) await f.powerOff(n.name);
    for (const n of lab.nodes) await f.powerOn(n.name);
    await waitSettled(lab.nodes, { timeoutMs: 60_000 });
    const q = await api<{ xml: string }>(lab, 'node3', 'cib.query', { scope: 'crm_config' });
    expect(q.xml).toContain('name="cluster-recheck-interval" value="7min"');
    const p = await placement(lab);
    const holders = [...p.values()].map((r) => r.get('vip')?.join(','));
    expect(new Set(holders).size).toBe(1);
    expect(holders[0]).toMatch(/^node\d$/);

    // Every daemon restarted: the history came back from each node's store (nothing else holds it).
    const after = await agreedHistory(lab);
    expect(after.slice(0, before.length)).toEqual(before);
    // stonith_admin --cleanup --history: gone on every node.
    const fenced = before.find((h) => h.ok)!.target;
    expect(await api<{ target: string }>(lab, 'node3', 'fence.cleanup', { target: fenced })).toEqual({ target: fenced });
    const cleaned = await agreedHistory(lab);
    expect(cleaned.filter((h) => h.target === fenced)).toEqual([]);
  }, 150_000);

  it('keeps resources only on the quorate side of a 2|1 partition', async () => {
    const p = await placement(lab);
    const holder = p.get('node1')!.get('vip')![0]!;
    const others = lab.nodes.map((n) => n.name).filter((n) => n !== holder);
    const w = watchIp({ netns: lab.client!.netns, ip: vip });
    await w.ready();
    const f = faults(lab.dir);
    const t0 = await f.partition([[holder], others]);
    // The majority fences the isolated holder (fence_lab reboots it; it comes back still isolated,
    // without quorum) and takes the IP over.
    const deadline = Date.now() + 30_000;
    let moved = false;
    while (Date.now() < deadline && !moved) {
      await new Promise((r) => setTimeout(r, 200));
      const now = await placement(lab);
      moved = others.every((o) => {
        const v = now.get(o)?.get('vip');
        return v !== undefined && v.length === 1 && others.includes(v[0]!);
      });
    }
    expect(moved).toBe(true);
    await new Promise((r) => setTimeout(r, 2000));
    const samples = await w.stop();
    const o = analyze(samples, t0);
    expect(o.twoMacSamples).toEqual([]);
    // The isolated node runs nothing.
    const isolated = (await placement(lab)).get(holder);
    if (isolated) for (const [, nodes] of isolated) expect(nodes.filter((n) => n === holder)).toEqual([]);
    f.heal();
    await waitSettled(lab.nodes, { timeoutMs: 60_000 });
    const healed = await placement(lab);
    const vipNow = healed.get(others[0]!)!.get('vip');
    expect(vipNow?.length).toBe(1);
    expect(others).toContain(vipNow![0]);
  }, 150_000);
});
