/**
 * `paceline drill SCENARIO`: a series of runs of a failover scenario on a three-node netns lab
 * with the floating-IP CIB, each with its timeline (nodes' logs + the outside watcher), its
 * invariants and a verdict.
 *
 *   vip-failover  power off the node holding the IP (vipFailoverRun), N times
 *   partition     isolate the holder from the other two (2|1), the quorate side takes the IP
 *                 over; then heal and wait until the cluster settled again
 *
 * Invariants of every run: the IP never answers from two MACs (watcher); fencing before
 * recovery (the DC's log has the lost node's fence-ok before the start of vip elsewhere); the
 * same CIB version on every node once settled; no resource left stopped (every node is online
 * once settled, and every resource of this CIB can run on any of them).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { floatingIpCib, vipFailoverRun, vipHolder } from './drill.js';
import { buildTimeline, fencingBeforeRecovery, firstOf, readNodeLogs, seriesSummary, type LogEvent, type TimelineEntry } from './drill-timeline.js';
import type { DrillReport, DrillRun, InvariantResult } from './drill-render.js';
import { faults } from './faults.js';
import { labDown, labStatus, labUp, nodeByMac, sleep, type LabState } from './lab.js';
import { pickSubnetIndex, vipAddress } from './netns.js';
import { waitSettled, type NodeStatus } from './settle.js';
import { analyze, watchIp } from './watch.js';

export const DRILL_SCENARIOS = ['vip-failover', 'partition'] as const;
export type DrillScenario = (typeof DRILL_SCENARIOS)[number];

export interface DrillOptions {
  readonly scenario: DrillScenario;
  readonly repeat: number;
  /** Seeds the pause before each fault (200..1000 ms), so runs hit different heartbeat phases. */
  readonly seed: number;
  /** Lab directory (a new temporary one when omitted; removed afterwards unless keep). */
  readonly dir?: string;
  /** Lab name (1-8 lower-case letters or digits). */
  readonly name?: string;
  /** Leave the lab up (and its directory) after the series. */
  readonly keep?: boolean;
  /** Fencing through fence_lab (default true). */
  readonly stonith?: boolean;
  readonly progress?: (line: string) => void;
  /** How long to wait for the cluster to settle after each run (default 60 s). */
  readonly settleTimeoutMs?: number;
}

/** A small deterministic PRNG (mulberry32) for the seeded pauses. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs a drill series on a lab of its own; takes the lab down afterwards unless `keep`. */
export async function runDrill(opts: DrillOptions): Promise<DrillReport & { dir: string }> {
  if (!(DRILL_SCENARIOS as readonly string[]).includes(opts.scenario)) throw new Error(`unknown drill scenario '${opts.scenario}' (${DRILL_SCENARIOS.join(', ')})`);
  if (!Number.isInteger(opts.repeat) || opts.repeat < 1) throw new Error('--repeat must be a positive whole number');
  if (!Number.isInteger(opts.seed)) throw new Error('--seed must be a whole number');
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'paceline-drill-'));
  const name = opts.name ?? `dr${(process.pid % 46656).toString(36)}`;
  const log = opts.progress ?? (() => undefined);
  const stonith = opts.stonith ?? true;
  const index = pickSubnetIndex();
  const vip = vipAddress(index);
  const nodes = ['node1', 'node2', 'node3'];
  const cib = join(dir, 'cib.xml');
  writeFileSync(cib, floatingIpCib({ vip, labDir: dir, nodes, stonith }));
  const rand = seededRandom(opts.seed);
  const startedAt = new Date().toISOString();
  const runs: DrillRun[] = [];
  let stoppedEarly: string | undefined;
  try {
    const lab = await labUp({ name, nodes: 3, driver: 'netns', dir, cib, subnetIndex: index, settleTimeoutMs: 60_000, progress: log });
    for (let i = 1; i <= opts.repeat; i++) {
      const preFaultMs = 200 + Math.floor(rand() * 800);
      const ctx: RunCtx = { run: i, vip, stonith, preFaultMs, log, settleTimeoutMs: opts.settleTimeoutMs ?? 60_000 };
      const { run, unsettled } = opts.scenario === 'vip-failover' ? await vipRun(lab, ctx) : await partitionRun(lab, ctx);
      runs.push(run);
      log(`run ${i}/${opts.repeat}: ${run.passed ? 'passed' : `FAILED (${run.reasons.join('; ')})`} failover_ms=${run.failover_ms}`);
      if (unsettled && i < opts.repeat) {
        stoppedEarly = `the cluster did not settle after run ${i}`;
        log(`${stoppedEarly}: the series stops here`);
        break;
      }
    }
  } finally {
    if (!opts.keep) {
      await labDown(dir, { name }).catch(() => undefined);
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    } else log(`lab ${name} left up in ${dir} (paceline lab down --dir ${dir})`);
  }
  const ok = runs.filter((r) => r.failover_ms >= 0).map((r) => r.failover_ms);
  return { scenario: opts.scenario, seed: opts.seed, startedAt, requested: opts.repeat, ...(stoppedEarly === undefined ? {} : { stoppedEarly }), runs, summary: { ...seriesSummary(ok), passed: runs.filter((r) => r.passed).length }, dir };
}

interface RunCtx {
  readonly run: number;
  readonly vip: string;
  readonly stonith: boolean;
  readonly preFaultMs: number;
  readonly log: (l: string) => void;
  readonly settleTimeoutMs: number;
}

type RunOutcome = { run: DrillRun; unsettled: boolean };

const ids = (lab: LabState): Map<number, string> => new Map(lab.nodes.map((n) => [n.id, n.name]));

/** The node that ran recovery: the one that asked for the fence, else the first DC named after the fault. */
function recoveryDc(timeline: readonly TimelineEntry[], survivors: readonly string[]): string {
  const fr = firstOf(timeline, 'fence-request')?.node;
  if (fr !== undefined) return fr;
  const dc = /DC is (\S+)/.exec(firstOf(timeline, 'dc')?.detail ?? '')?.[1];
  return dc !== undefined && survivors.includes(dc) ? dc : survivors[0]!;
}

/** The invariants read from the cluster once it settled again, and from the DC's log. */
export function settledInvariants(settled: readonly NodeStatus[], expected: readonly string[]): InvariantResult[] {
  if (settled.length === 0) {
    const detail = 'the cluster did not settle after the run';
    return [
      { name: 'cib-same-on-every-node', status: 'violated', detail },
      { name: 'no-resource-left-stopped', status: 'violated', detail },
    ];
  }
  const versions = new Set(settled.map((s) => s.cibVersion));
  const missingNodes = expected.filter((n) => !settled.some((s) => s.node === n));
  const cib: InvariantResult =
    versions.size === 1 && missingNodes.length === 0
      ? { name: 'cib-same-on-every-node', status: 'ok', detail: `version ${[...versions][0]}` }
      : { name: 'cib-same-on-every-node', status: 'violated', detail: missingNodes.length > 0 ? `no status from ${missingNodes.join(',')}` : `versions ${[...versions].join(' ')}` };
  const stopped: string[] = [];
  for (const s of settled) for (const r of s.resources ?? []) if (r.nodes.length === 0 || r.failed) stopped.push(`${r.id}${r.failed ? ' failed' : ' stopped'} (as ${s.node} sees it)`);
  const allOnline = settled.every((s) => expected.every((n) => s.nodes.some((x) => x.name === n && x.online)));
  const rsc: InvariantResult = !allOnline
    ? { name: 'no-resource-left-stopped', status: 'n/a', detail: 'not every node online' }
    : stopped.length === 0
      ? { name: 'no-resource-left-stopped', status: 'ok' }
      : { name: 'no-resource-left-stopped', status: 'violated', detail: stopped.join('; ') };
  return [cib, rsc];
}

function fencingInvariant(stonith: boolean, logs: ReadonlyMap<string, readonly LogEvent[]>, dc: string, target: string, to: string | undefined, faultAt: number): InvariantResult {
  if (!stonith) return { name: 'fencing-before-recovery', status: 'n/a', detail: 'stonith disabled' };
  if (to === undefined) return { name: 'fencing-before-recovery', status: 'violated', detail: 'vip was not recovered on another node' };
  const why = fencingBeforeRecovery(logs.get(dc) ?? [], target, 'vip', to, faultAt);
  return why === undefined ? { name: 'fencing-before-recovery', status: 'ok', detail: `in ${dc}'s log` } : { name: 'fencing-before-recovery', status: 'violated', detail: `${dc}'s log: ${why}` };
}

function verdict(run: number, fault: string, failover: number | undefined, reasons: readonly string[], invariants: readonly InvariantResult[], timeline: readonly TimelineEntry[], from: string, to: string | undefined): DrillRun {
  const all = [...reasons, ...invariants.filter((i) => i.status === 'violated').map((i) => `invariant ${i.name} violated${i.detail ? `: ${i.detail}` : ''}`)];
  return { run, passed: all.length === 0, failover_ms: failover ?? -1, fault, from, ...(to === undefined ? {} : { to }), reasons: all, invariants, timeline };
}

/** One vip-failover run: vipFailoverRun, then the timeline and the invariants. */
async function vipRun(lab: LabState, c: RunCtx): Promise<RunOutcome> {
  const r = await vipFailoverRun(lab, { vip: c.vip, timeoutMs: 30_000, preFaultMs: c.preFaultMs, progress: c.log, settleTimeoutMs: c.settleTimeoutMs });
  const survivors = lab.nodes.map((n) => n.name).filter((n) => n !== r.from);
  const logs = readNodeLogs(lab.dir, survivors);
  const fault = `power off ${r.from}`;
  const timeline = buildTimeline({
    faultAt: r.faultAt,
    fault,
    lost: [r.from],
    ids: ids(lab),
    logs,
    ...(r.answeredAt === undefined ? {} : { answeredAt: r.answeredAt }),
    ...(r.to === undefined ? {} : { answeredBy: r.to }),
    until: r.recoveredAt,
  });
  const dc = recoveryDc(timeline, survivors);
  const invariants: InvariantResult[] = [
    r.twoMacProbes === 0 ? { name: 'single-mac', status: 'ok' } : { name: 'single-mac', status: 'violated', detail: `${r.twoMacProbes} ARP probes answered from two MACs` },
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
async function partitionRun(lab: LabState, c: RunCtx): Promise<RunOutcome> {
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
    o.twoMacSamples.length === 0 ? { name: 'single-mac', status: 'ok' } : { name: 'single-mac', status: 'violated', detail: `${o.twoMacSamples.length} ARP probes answered from two MACs` },
    isolatedRuns.length === 0 ? { name: 'nothing-on-minority-side', status: 'ok' } : { name: 'nothing-on-minority-side', status: 'violated', detail: isolatedRuns.join('; ') },
    fencingInvariant(c.stonith, logs, recoveryDc(timeline, others), holder, to, faultAt),
    ...settledInvariants(settled, lab.nodes.map((n) => n.name)),
    after.length === 1 && others.includes(after[0]!) ? { name: 'vip-stays-after-heal', status: 'ok', detail: `on ${after[0]}` } : { name: 'vip-stays-after-heal', status: 'violated', detail: `vip on ${after.join(',') || 'no node'} after healing` },
  ];
  return { run: verdict(c.run, fault, movedAt === undefined ? undefined : movedAt - faultAt, reasons, invariants, timeline, holder, to), unsettled: settled.length === 0 };
}
