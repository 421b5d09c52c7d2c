/**
 * `paceline drill two-node-split`: a two-node cluster (votequorum two_node, which implies
 * wait_for_all) with the floating-IP CIB plus priority-fencing-delay 3 s and priority 10 on the
 * IP (test/cluster/two-node.it.test.ts). The link between the nodes breaks (the client still
 * reaches both): each node is quorate alone and asks to fence the other, but fencing the node
 * that runs the IP waits priority-fencing-delay, so that node shoots first and keeps the IP.
 *
 * One run: partition node1 | node2, wait until the holder sees the other fenced and past the
 * delay, then heal and wait until the cluster settled. failover_ms is the outage the client saw
 * (0 when no ping was lost: the IP never moved). Invariants: single-mac, holder-wins (the
 * holder's log has the fence-ok of the other, and the holder's daemon is the same process
 * throughout: it was never fenced), loser-runs-nothing (the rebooted loser, still cut off, is
 * not quorate and runs nothing, as its own API says), cib-same-on-every-node,
 * no-resource-left-stopped and vip-stays-after-heal.
 */
import { floatingIpCib, finalRecovery, vipHolder } from './drill.js';
import { lostNodeTimeline, settledInvariants, singleMacInvariant, verdict, type DrillScenarioDef, type RunCtx, type RunOutcome, READY_MS } from './drill-common.js';
import type { InvariantResult } from './drill-render.js';
import { readNodeLogs } from './drill-timeline.js';
import { faults } from './faults.js';
import { labStatus, nodePid, sleep, type LabState } from './lab.js';
import { waitSettled, type NodeStatus } from './settle.js';
import { analyze, watchIp, type Sample } from './watch.js';

/** The priority-fencing-delay of the scenario's CIB. */
export const PRIORITY_FENCING_DELAY_MS = 3000;

/** floatingIpCib for two nodes with priority-fencing-delay and a priority on the IP. */
export function twoNodeCib(o: { vip: string; labDir: string; stonith: boolean }): string {
  return floatingIpCib({ vip: o.vip, labDir: o.labDir, nodes: ['node1', 'node2'], stonith: o.stonith })
    .replace(
      '<nvpair id="opt-no-quorum-policy" name="no-quorum-policy" value="stop"/>',
      `<nvpair id="opt-no-quorum-policy" name="no-quorum-policy" value="stop"/>\n        <nvpair id="opt-pfd" name="priority-fencing-delay" value="${PRIORITY_FENCING_DELAY_MS / 1000}s"/>`,
    )
    .replace('<primitive id="vip" class="ocf" provider="paceline" type="IPaddr">', '<primitive id="vip" class="ocf" provider="paceline" type="IPaddr">\n        <meta_attributes id="vip-meta"><nvpair id="vip-priority" name="priority" value="10"/></meta_attributes>');
}

export const twoNodeSplitScenario: DrillScenarioDef = {
  name: 'two-node-split',
  description: 'split a two-node cluster: the node running the IP wins the fence race (priority-fencing-delay)',
  nodes: 2,
  async prepare(p) {
    if (!p.stonith) throw new Error('two-node-split is about the fence race: it needs stonith');
    return { cib: twoNodeCib({ vip: p.vip, labDir: p.dir, stonith: p.stonith }), messaging: { quorum: { twoNode: true } }, run: twoNodeSplitRun };
  },
};

/** One two-node-split run (see the file comment). */
export async function twoNodeSplitRun(lab: LabState, c: RunCtx): Promise<RunOutcome> {
  const holder = await vipHolder(lab);
  if (holder === undefined) throw new Error('vip runs nowhere before the split');
  const other = lab.nodes.map((n) => n.name).find((n) => n !== holder)!;
  const holderPid = nodePid(lab.nodes.find((n) => n.name === holder)!);
  const w = watchIp({ netns: lab.client!.netns, ip: c.vip });
  const f = faults(lab.dir);
  const reasons: string[] = [];
  let faultAt = 0;
  let fencedAt: number | undefined;
  let loserView: InvariantResult = { name: 'loser-runs-nothing', status: 'n/a', detail: "the loser's API did not answer" };
  let samples: Sample[] = [];
  try {
    await w.ready(READY_MS);
    await sleep(c.preFaultMs);
    faultAt = f.partition([[holder], [other]]);
    c.log(`partition ${holder} | ${other}`);
    const end = faultAt + 30_000;
    while (Date.now() < end && fencedAt === undefined) {
      await sleep(100);
      fencedAt = readNodeLogs(lab.dir, [holder]).get(holder)!.find((e) => e.t >= faultAt && e.event === 'fence-ok' && e.data['target'] === other)?.t;
    }
    if (fencedAt === undefined) reasons.push(`${holder} did not fence ${other} within 30000 ms of the split`);
    // Past the delay: had the loser been able to shoot, it would have by now.
    await sleep(Math.max(0, faultAt + PRIORITY_FENCING_DELAY_MS + 1500 - Date.now()));
    loserView = await loserInvariant(lab, other);
  } finally {
    samples = await w.stop();
  }
  const until = Date.now();
  const healAt = f.heal();
  c.log('heal');
  let settled: NodeStatus[] = [];
  try {
    settled = [...(await waitSettled(lab.nodes, { timeoutMs: c.settleTimeoutMs, progress: c.log })).values()];
  } catch (err) {
    reasons.push(`after healing: ${(err as Error).message}`);
  }
  const o = analyze(samples, faultAt);
  const rec = finalRecovery(samples, faultAt);
  if (rec.failoverMs === undefined) reasons.push(`${c.vip} did not answer at the end of the split`);
  const stillSame = nodePid(lab.nodes.find((n) => n.name === holder)!) === holderPid;
  const holderWins: InvariantResult =
    fencedAt !== undefined && stillSame
      ? { name: 'holder-wins', status: 'ok', detail: `${holder} fenced ${other} ${fencedAt - faultAt} ms after the split and was never fenced` }
      : { name: 'holder-wins', status: 'violated', detail: !stillSame ? `${holder}'s daemon was restarted (fenced)` : `no fence-ok of ${other} in ${holder}'s log` };
  const after = settled[0]?.resources?.find((r) => r.id === 'vip')?.nodes ?? [];
  const logs = readNodeLogs(lab.dir, [holder]);
  const fault = `partition ${holder} | ${other}`;
  const timeline = [
    ...lostNodeTimeline(lab, { faultAt, fault, lost: [other], logs, until }),
    { offsetMs: healAt - faultAt, kind: 'heal' as const, detail: 'partition healed' },
  ];
  const invariants: InvariantResult[] = [
    singleMacInvariant(o.twoMacSamples.length),
    holderWins,
    loserView,
    ...settledInvariants(settled, lab.nodes.map((n) => n.name)),
    after.length === 1 && after[0] === holder ? { name: 'vip-stays-after-heal', status: 'ok', detail: `on ${holder}` } : { name: 'vip-stays-after-heal', status: 'violated', detail: `vip on ${after.join(',') || 'no node'} after healing` },
  ];
  return { run: verdict(c.run, fault, rec.failoverMs, reasons, invariants, timeline, holder, holder), unsettled: settled.length === 0 };
}

/** loser-runs-nothing, from the loser's own API (after its reboot, still cut off). */
async function loserInvariant(lab: LabState, loser: string): Promise<InvariantResult> {
  const s = await labStatus(lab.dir);
  const l = s.nodes.find((n) => n.name === loser);
  if (l === undefined || !l.api.ok) return { name: 'loser-runs-nothing', status: 'n/a', detail: `${loser}'s API did not answer (rebooting)` };
  const runs = (l.api.status.resources ?? []).filter((r) => r.nodes.includes(loser)).map((r) => r.id);
  if (runs.length > 0 || l.api.status.quorate) return { name: 'loser-runs-nothing', status: 'violated', detail: `${loser} ${l.api.status.quorate ? 'is quorate' : 'is not quorate'} and runs ${runs.join(',') || 'nothing'}` };
  return { name: 'loser-runs-nothing', status: 'ok', detail: `${loser} not quorate, runs nothing` };
}
