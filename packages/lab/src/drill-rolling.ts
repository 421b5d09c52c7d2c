/**
 * `paceline drill rolling-restart`: maintenance, not failure. On the three-node floating-IP lab,
 * every node in turn (the order seeded) is stopped gracefully (SIGTERM: the daemon asks the
 * cluster to shut it down, its resources move away first), started again once the other nodes
 * see it offline, and the cluster settles before the next one. The client pings the IP every 10 ms throughout.
 *
 * failover_ms is the longest time the IP did not answer (the moves of vip are planned stops and
 * starts: no failure detection, no fencing). Invariants: single-mac, no-fencing (no node asked
 * for or did a fence during the run), service-stays-up (the IP answers at the end and the longest
 * outage is under SERVICE_GAP_LIMIT_MS: a planned move, not a failover after a timeout; "at the
 * end" is a reply within the watch's last 500 ms),
 * cib-same-on-every-node and no-resource-left-stopped. The timeline has node-stop/node-start
 * for each node, and the resources' stops and starts.
 */
import { floatingIpCib } from './drill.js';
import { settledInvariants, singleMacInvariant, verdict, type DrillScenarioDef, type RunCtx, type RunOutcome, READY_MS } from './drill-common.js';
import type { InvariantResult } from './drill-render.js';
import { buildTimeline, readNodeLogs, type TimelineEntry } from './drill-timeline.js';
import { daemonStart, gracefulStop } from './faults.js';
import { labStatus, sleep, type LabState } from './lab.js';
import { waitSettled, type NodeStatus } from './settle.js';
import { analyze, watchIp, type Sample } from './watch.js';

/** The longest outage of the IP a planned move may cause (a failover needs detection + fencing: more). */
export const SERVICE_GAP_LIMIT_MS = 5000;

export const rollingRestartScenario: DrillScenarioDef = {
  name: 'rolling-restart',
  description: 'stop and start every node in turn (graceful): the IP stays up, nobody is fenced (3 nodes)',
  nodes: 3,
  prepare: async (p) => ({ cib: floatingIpCib({ vip: p.vip, labDir: p.dir, nodes: p.nodes, stonith: p.stonith }), run: rollingRun }),
};

/** The longest time between two ICMP replies within [from, to] (the edges count as replies); ms. */
export function longestIcmpGap(samples: readonly Sample[], from: number, to: number): number {
  const ts = samples.filter((s) => s.probe === 'icmp' && s.up && s.t >= from && s.t <= to).map((s) => s.t).sort((a, b) => a - b);
  let best = 0;
  let prev = from;
  for (const t of [...ts, to]) {
    best = Math.max(best, t - prev);
    prev = t;
  }
  return best;
}

/** A seeded order of the nodes (Fisher-Yates with the series' random numbers). */
export function seededOrder(names: readonly string[], rand: () => number): string[] {
  const a = [...names];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** Resolves (with the moment) once every other running node's API shows `node` offline; throws after timeoutMs. */
export async function waitSeenOffline(lab: LabState, node: string, timeoutMs: number): Promise<number> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const r = await labStatus(lab.dir);
    const others = r.nodes.filter((n) => n.name !== node);
    if (others.every((n) => n.api.ok && n.api.status.nodes.some((x) => x.name === node && !x.online))) return Date.now();
    if (Date.now() > end) throw new Error(`the other nodes did not see ${node} offline within ${timeoutMs} ms of its graceful stop`);
    await sleep(100);
  }
}

/** One rolling-restart run (see the file comment). */
export async function rollingRun(lab: LabState, c: RunCtx): Promise<RunOutcome> {
  const order = seededOrder(lab.nodes.map((n) => n.name), c.rand);
  const w = watchIp({ netns: lab.client!.netns, ip: c.vip });
  const reasons: string[] = [];
  const marks: TimelineEntry[] = [];
  let startAt = 0;
  let samples: Sample[] = [];
  let settled: NodeStatus[] = [];
  try {
    await w.ready(READY_MS);
    await sleep(c.preFaultMs);
    startAt = Date.now();
    for (const node of order) {
      const at = await gracefulStop(lab, node, 60_000);
      marks.push({ offsetMs: at - startAt, kind: 'node-stop', node, detail: `${node} stopped gracefully (SIGTERM; gone after ${Date.now() - at} ms)` });
      c.log(`${node} stopped`);
      // As an operator does: start it again once the others saw it leave.
      const seenAt = await waitSeenOffline(lab, node, 30_000);
      marks.push({ offsetMs: seenAt - startAt, kind: 'view', node, detail: `the other nodes see ${node} offline` });
      const up = await daemonStart(lab, node);
      marks.push({ offsetMs: up - startAt, kind: 'node-start', node, detail: `${node} started again` });
      settled = [...(await waitSettled(lab.nodes, { timeoutMs: c.settleTimeoutMs, progress: c.log })).values()];
    }
    await sleep(500);
  } catch (err) {
    reasons.push((err as Error).message);
    settled = [];
  } finally {
    samples = await w.stop();
  }
  const until = Date.now();
  const names = lab.nodes.map((n) => n.name);
  const logs = readNodeLogs(lab.dir, names);
  const fences = [...logs.values()].flat().filter((e) => e.t >= startAt && e.t <= until && (e.event === 'fence-request' || e.event === 'fence-ok'));
  const gap = longestIcmpGap(samples, startAt, until);
  // ping -O reports a reply slower than the 10 ms interval as missed first: look at the last 500 ms.
  const lastT = samples.at(-1)?.t ?? until;
  const answering = samples.some((s) => s.probe === 'icmp' && s.up && s.t >= lastT - 500);
  const timeline = [
    ...buildTimeline({ faultAt: startAt, fault: `rolling restart ${order.join(', ')}`, lost: [], ids: new Map(lab.nodes.map((n) => [n.id, n.name])), logs, until }).filter((e) => e.kind !== 'view' && e.kind !== 'detection'),
    ...marks,
  ].sort((a, b) => a.offsetMs - b.offsetMs);
  const invariants: InvariantResult[] = [
    singleMacInvariant(analyze(samples, startAt).twoMacSamples.length),
    fences.length === 0 ? { name: 'no-fencing', status: 'ok' } : { name: 'no-fencing', status: 'violated', detail: fences.map((e) => `${e.node}: ${e.event} ${String(e.data['target'])}`).join('; ') },
    answering && gap < SERVICE_GAP_LIMIT_MS
      ? { name: 'service-stays-up', status: 'ok', detail: `longest outage ${gap} ms` }
      : { name: 'service-stays-up', status: 'violated', detail: answering ? `the IP did not answer for ${gap} ms` : 'the IP does not answer at the end' },
    ...settledInvariants(settled, names),
  ];
  const run = verdict(c.run, `rolling restart ${order.join(', ')}`, gap, reasons, invariants, timeline, order[0]!, undefined);
  return { run: { ...run, metrics: { longest_gap_ms: gap } }, unsettled: settled.length === 0 };
}
