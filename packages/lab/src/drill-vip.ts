/**
 * The floating-IP scenarios on a three-node lab with floatingIpCib (IPaddr + a Dummy colocated
 * with it, fence_lab):
 *
 *   vip-failover  power off the node holding the IP (vipFailoverRun)
 *   partition     isolate the holder from the other two (2|1), the quorate side takes the IP
 *                 over; then heal and wait until the cluster settled again
 *
 * Invariants: the IP never answers from two MACs (watcher); fencing before recovery (the DC's
 * log has the lost node's fence-ok before the start of vip elsewhere); the same CIB version on
 * every node once settled; no resource left stopped.
 */
import { floatingIpCib, vipFailoverRun, vipHolder } from './drill.js';
import { fencingInvariant, ids, lostNodeTimeline, recoveryDc, settledInvariants, singleMacInvariant, verdict, type DrillScenarioDef, type RunCtx, type RunOutcome } from './drill-common.js';
import { buildTimeline, readNodeLogs } from './drill-timeline.js';
import type { InvariantResult } from './drill-render.js';
import { faults } from './faults.js';
import { labStatus, nodeByMac, sleep, type LabState } from './lab.js';
import { waitSettled, type NodeStatus } from './settle.js';
import { analyze, watchIp } from './watch.js';

/** `vip-failover`: power off the holder of the floating IP. */
export const vipFailoverScenario: DrillScenarioDef = {
  name: 'vip-failover',
  description: 'power off the node holding a floating IP (3 nodes, IPaddr + Dummy)',
  nodes: 3,
  prepare: async (p) => ({ cib: floatingIpCib({ vip: p.vip, labDir: p.dir, nodes: p.nodes, stonith: p.stonith }), run: vipRun }),
};

/** `partition`: the holder alone against the two others, then heal. */
export const partitionScenario: DrillScenarioDef = {
  name: 'partition',
  description: 'cut the holder of a floating IP off from the two others (2|1), then heal',
  nodes: 3,
  prepare: async (p) => ({ cib: floatingIpCib({ vip: p.vip, labDir: p.dir, nodes: p.nodes, stonith: p.stonith }), run: partitionRun }),
};

/** One vip-failover run: vipFailoverRun, then the timeline and the invariants. */
export async function vipRun(lab: LabState, c: RunCtx): Promise<RunOutcome> {
  const r = await vipFailoverRun(lab, { vip: c.vip, timeoutMs: 30_000, preFaultMs: c.preFaultMs, progress: c.log, settleTimeoutMs: c.settleTimeoutMs });
  const survivors = lab.nodes.map((n) => n.name).filter((n) => n !== r.from);
  const logs = readNodeLogs(lab.dir, survivors);
  const fault = `power off ${r.from}`;
  const timeline = lostNodeTimeline(lab, {
    faultAt: r.faultAt,
    fault,
    lost: [r.from],
    logs,
    ...(r.answeredAt === undefined ? {} : { answeredAt: r.answeredAt }),
    ...(r.to === undefined ? {} : { answeredBy: r.to }),
    until: r.recoveredAt,
  });
  const dc = recoveryDc(timeline, survivors);
  const invariants: InvariantResult[] = [
    singleMacInvariant(r.twoMacProbes),
    fencingInvariant(c.stonith, logs, dc, r.from, r.to, r.faultAt),
    ...settledInvariants(r.settled, lab.nodes.map((n) => n.name)),
  ];
  // single-mac is also one of vipFailoverRun's reasons; keep it once.
  const reasons = r.reasons.filter((x) => !/two MACs/.test(x));
  return { run: verdict(c.run, fault, r.failover_ms, reasons, invariants, timeline, r.from, r.to), unsettled: r.unsettled };
}

/**
 * One partition run: the holder of vip alone on one side, the two others on the other. The
 * quorate side fences the holder and starts vip; the run measures the fault to the first ARP
 * answer from the new holder's MAC alone (the client can reach both sides, so ICMP may never
 * stop), checks that the isolated side runs nothing, then heals and waits until settled.
 */
export async function partitionRun(lab: LabState, c: RunCtx): Promise<RunOutcome> {
  const holder = await vipHolder(lab);
  if (holder === undefined) throw new Error('vip runs nowhere before the partition');
  const others = lab.nodes.map((n) => n.name).filter((n) => n !== holder);
  const w = watchIp({ netns: lab.client!.netns, ip: c.vip });
  const reasons: string[] = [];
  const f = faults(lab.dir);
  let faultAt = 0;
  let movedAt: number | undefined;
  let to: string | undefined;
  let isolatedRuns: string[] = [];
  let samples: Awaited<ReturnType<typeof w.stop>> = [];
  try {
    await w.ready();
    await sleep(c.preFaultMs);
    faultAt = f.partition([[holder], others]);
    c.log(`partition ${holder} | ${others.join(',')}`);
    const end = faultAt + 30_000;
    while (Date.now() < end) {
      await sleep(50);
      const arp = w.samples.filter((s) => s.probe === 'arp' && s.t > faultAt);
      const first = arp.find((s) => s.macs?.length === 1 && others.includes(nodeByMac(lab, s.macs[0]!) ?? ''));
      if (first !== undefined && Date.now() - first.t >= 1000) {
        const last = arp.at(-1);
        if (last?.macs?.length === 1 && nodeByMac(lab, last.macs[0]!) === nodeByMac(lab, first.macs![0]!)) {
          movedAt = first.t;
          to = nodeByMac(lab, first.macs![0]!);
          break;
        }
      }
    }
    if (movedAt === undefined) reasons.push(`${c.vip} did not answer from ${others.join(' or ')} alone within 30000 ms`);
    // The isolated side, as its own API and the quorate side see it.
    const report = await labStatus(lab.dir);
    isolatedRuns = report.nodes.flatMap((n) => (n.api.ok ? (n.api.status.resources ?? []).filter((r) => r.nodes.includes(holder) && r.id !== 'fence-lab').map((r) => `${r.id} on ${holder} (as ${n.name} sees it)`) : []));
  } finally {
    samples = await w.stop();
  }
  const until = Date.now();
  const o = analyze(samples, faultAt);
  const healAt = f.heal();
  c.log('heal');
  let settled: NodeStatus[] = [];
  try {
    settled = [...(await waitSettled(lab.nodes, { timeoutMs: c.settleTimeoutMs, progress: c.log })).values()];
  } catch (err) {
    reasons.push(`after healing: ${(err as Error).message}`);
  }
  const after = settled[0]?.resources?.find((r) => r.id === 'vip')?.nodes ?? [];
  const logs = readNodeLogs(lab.dir, others);
  const fault = `partition ${holder} | ${others.join(',')}`;
  const timeline = [
    ...buildTimeline({ faultAt, fault, lost: [holder], ids: ids(lab), logs, ...(movedAt === undefined ? {} : { answeredAt: movedAt }), ...(to === undefined ? {} : { answeredBy: to }), until }),
    { offsetMs: healAt - faultAt, kind: 'heal' as const, detail: 'partition healed' },
  ];
  const invariants: InvariantResult[] = [
    singleMacInvariant(o.twoMacSamples.length),
    isolatedRuns.length === 0 ? { name: 'nothing-on-minority-side', status: 'ok' } : { name: 'nothing-on-minority-side', status: 'violated', detail: isolatedRuns.join('; ') },
    fencingInvariant(c.stonith, logs, recoveryDc(timeline, others), holder, to, faultAt),
    ...settledInvariants(settled, lab.nodes.map((n) => n.name)),
    after.length === 1 && others.includes(after[0]!) ? { name: 'vip-stays-after-heal', status: 'ok', detail: `on ${after[0]}` } : { name: 'vip-stays-after-heal', status: 'violated', detail: `vip on ${after.join(',') || 'no node'} after healing` },
  ];
  return { run: verdict(c.run, fault, movedAt === undefined ? undefined : movedAt - faultAt, reasons, invariants, timeline, holder, to), unsettled: settled.length === 0 };
}
