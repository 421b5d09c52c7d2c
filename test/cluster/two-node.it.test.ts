/**
 * A two-node cluster (votequorum two_node, which implies wait_for_all) in network namespaces:
 * when the link between the nodes breaks, each node is quorate alone and fences the other. With
 * priority-fencing-delay and a priority on the floating IP, fencing the node that runs the IP
 * waits, so that node fences first and keeps the service: the race has one winner, chosen by
 * where the service runs. The loser reboots (fence_lab) and, still cut off, waits for its peer
 * (wait_for_all) instead of starting anything.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyze, faults, floatingIpCib, labDown, labStatus, labUp, pickSubnetIndex, vipAddress, waitSettled, watchIp, type LabState } from '@paceline/lab';
import { missing, repoRoot } from '../support/env.js';

const built = join(repoRoot, 'packages/cli/dist/main.js');
const reason = missing({ root: true, netns: true, tools: ['ip', 'nft', 'ping', 'python3'], paths: [built] });

/** The drill CIB plus priority-fencing-delay and a priority on the IP. */
function twoNodeCib(vip: string, labDir: string): string {
  return floatingIpCib({ vip, labDir, nodes: ['node1', 'node2'], stonith: true })
    .replace(
      '<nvpair id="opt-no-quorum-policy" name="no-quorum-policy" value="stop"/>',
      '<nvpair id="opt-no-quorum-policy" name="no-quorum-policy" value="stop"/>\n        <nvpair id="opt-pfd" name="priority-fencing-delay" value="3s"/>',
    )
    .replace('<primitive id="vip" class="ocf" provider="paceline" type="IPaddr">', '<primitive id="vip" class="ocf" provider="paceline" type="IPaddr">\n        <meta_attributes id="vip-meta"><nvpair id="vip-priority" name="priority" value="10"/></meta_attributes>');
}

describe.skipIf(reason !== undefined)(`two-node cluster: the fence race ${reason ? `(skipped: ${reason})` : ''}`, () => {
  let dir = '';
  let lab: LabState;
  let vip = '';
  const name = `two${process.pid % 10000}`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'paceline-two-node-'));
    const index = pickSubnetIndex();
    vip = vipAddress(index);
    const cib = join(dir, 'cib.xml');
    writeFileSync(cib, twoNodeCib(vip, dir));
    lab = await labUp({ name, nodes: 2, driver: 'netns', dir, cib, subnetIndex: index, settleTimeoutMs: 60_000, messaging: { quorum: { twoNode: true } } });
  }, 90_000);

  afterAll(async () => {
    await labDown(dir, { name }).catch(() => undefined);
    if (dir && existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('the node running the IP wins the fence race and keeps the IP', async () => {
    const before = await labStatus(lab.dir);
    const first = before.nodes.find((n) => n.api.ok);
    const holder = first?.api.ok ? first.api.status.resources?.find((r) => r.id === 'vip')?.nodes[0] : undefined;
    expect(holder).toMatch(/^node[12]$/);
    const other = holder === 'node1' ? 'node2' : 'node1';
    const w = watchIp({ netns: lab.client!.netns, ip: vip });
    await w.ready();
    const f = faults(lab.dir);
    const t0 = f.partition([['node1'], ['node2']]);

    // The loser is fenced (rebooted by fence_lab): its daemon restarts, and it holds nothing.
    const holderNode = lab.nodes.find((n) => n.name === holder)!;
    const deadline = Date.now() + 30_000;
    let fencedOther = false;
    while (Date.now() < deadline && !fencedOther) {
      await new Promise((r) => setTimeout(r, 200));
      const s = await labStatus(lab.dir);
      const h = s.nodes.find((n) => n.name === holder);
      fencedOther = h?.api.ok === true && h.api.status.nodes.some((n) => n.name === other && !n.online) && (h.api.status.resources?.find((r) => r.id === 'vip')?.nodes ?? []).join() === holder;
    }
    expect(fencedOther).toBe(true);
    await new Promise((r) => setTimeout(r, 4000)); // past priority-fencing-delay: the loser never got to fence
    const samples = await w.stop();
    const o = analyze(samples, t0);
    expect(o.twoMacSamples).toEqual([]);
    // The mechanism, from the loser's own log: its request to fence the holder waited for
    // priority-fencing-delay (it was killed before the delay ran out, or asked with the delay).
    const loserLog = readFileSync(join(lab.dir, 'nodes', other, 'log'), 'utf8').split('\n').filter((l) => l.includes('"event":"fence-request"'));
    for (const line of loserLog) {
      const e = JSON.parse(line) as { target: string; delayMs: number };
      if (e.target === holder) expect(e.delayMs).toBeGreaterThanOrEqual(3000);
    }
    // The holder was never fenced: its daemon is the one that started the lab.
    const s = await labStatus(lab.dir);
    expect(s.nodes.find((n) => n.name === holder)?.pid).toBe(before.nodes.find((n) => n.name === holder)?.pid);
    void holderNode;
    // The rebooted loser, still cut off, waits for its peer (wait_for_all) and runs nothing.
    const loser = s.nodes.find((n) => n.name === other);
    if (loser?.api.ok) {
      expect(loser.api.status.quorate).toBe(false);
      for (const r of loser.api.status.resources ?? []) expect(r.nodes).not.toContain(other);
    }
    f.heal();
    await waitSettled(lab.nodes, { timeoutMs: 60_000 });
    const healed = await labStatus(lab.dir);
    const view = healed.nodes.find((n) => n.api.ok);
    expect(view?.api.ok && view.api.status.resources?.find((r) => r.id === 'vip')?.nodes).toEqual([holder]);
  }, 150_000);
});
