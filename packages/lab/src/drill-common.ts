/**
 * What every drill scenario shares: the scenario contract (`DrillScenarioDef`, registered in
 * drill-scenarios.ts), the context of one run, and the invariants and verdict every scenario
 * reports the same way.
 */
import { buildTimeline, fencingBeforeRecovery, firstOf, type LogEvent, type TimelineEntry } from './drill-timeline.js';
import type { DrillRun, InvariantResult } from './drill-render.js';
import type { LabState } from './lab.js';
import { macOf } from './netns.js';
import type { NodeStatus } from './settle.js';
import type { Sample } from './watch.js';

/** What a scenario's prepare step gets: the lab to be, before it comes up. */
export interface PrepareCtx {
  /** The lab directory (exists; lab.json not written yet). */
  readonly dir: string;
  /** The lab name (1-8 lower-case letters or digits); namespaces are pl-NAME-*. */
  readonly name: string;
  /** The lab's subnet index: addresses are 10.77.X.*. */
  readonly subnetIndex: number;
  /** The lab's first floating address (10.77.X.100). */
  readonly vip: string;
  /** Node names of the lab, node1..nodeN (N = the scenario's `nodes`). */
  readonly nodes: readonly string[];
  readonly stonith: boolean;
  readonly log: (line: string) => void;
}

/** A prepared scenario: its CIB and the steps bound to what prepare made. */
export interface ScenarioInstance {
  /** The initial CIB (XML) every node loads. */
  readonly cib: string;
  /** Extra messaging settings of every node (e.g. timing). */
  readonly messaging?: Record<string, unknown>;
  /** After the nodes started, before the drill waits for the cluster to settle (extra namespaces). */
  afterUp?(lab: LabState): Promise<void>;
  /** One run: fault, measure, invariants, back to a settled cluster. */
  run(lab: LabState, ctx: RunCtx): Promise<RunOutcome>;
  /** After the lab went down (also after a failure): release what prepare made (loop devices). */
  cleanup?(): void;
}

/** A drill scenario: `paceline drill NAME`. */
export interface DrillScenarioDef {
  readonly name: string;
  /** One line for --help. */
  readonly description: string;
  /** Lab nodes (node1..nodeN). */
  readonly nodes: number;
  /** Programs the scenario needs beyond the lab's own (checked before the lab comes up). */
  readonly tools?: readonly string[];
  /** Before the lab comes up: files, shared storage, the CIB. Throws a clear error when it cannot. */
  prepare(ctx: PrepareCtx): Promise<ScenarioInstance>;
}

/** One run's context. */
export interface RunCtx {
  readonly run: number;
  readonly vip: string;
  readonly stonith: boolean;
  /** Pause between finding the holder and the fault (seeded, 200..1000 ms). */
  readonly preFaultMs: number;
  /** The series' seeded random numbers in [0, 1) (for scenario choices; deterministic per seed). */
  readonly rand: () => number;
  readonly log: (l: string) => void;
  readonly settleTimeoutMs: number;
}

/** How long a run waits for its watchers' first samples (python3 starts slowly on a loaded machine). */
export const READY_MS = 20_000;

/** A run and whether the cluster settled again after it (the series stops when it did not). */
export type RunOutcome = { run: DrillRun; unsettled: boolean };

/** Node id → name, for the timeline. */
export const ids = (lab: LabState): Map<number, string> => new Map(lab.nodes.map((n) => [n.id, n.name]));

/** The node that ran recovery: the one that asked for the fence, else the first DC named after the fault. */
export function recoveryDc(timeline: readonly TimelineEntry[], survivors: readonly string[]): string {
  const fr = firstOf(timeline, 'fence-request')?.node;
  if (fr !== undefined) return fr;
  const dc = /DC is (\S+)/.exec(firstOf(timeline, 'dc')?.detail ?? '')?.[1];
  return dc !== undefined && survivors.includes(dc) ? dc : survivors[0]!;
}

/** The invariants read from the cluster once it settled again: same CIB everywhere, nothing stopped. */
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

/** fencing-before-recovery: in the DC's log, `target`'s fence-ok comes before the start of `rsc` on `to`. */
export function fencingInvariant(stonith: boolean, logs: ReadonlyMap<string, readonly LogEvent[]>, dc: string, target: string, to: string | undefined, faultAt: number, rsc = 'vip'): InvariantResult {
  if (!stonith) return { name: 'fencing-before-recovery', status: 'n/a', detail: 'stonith disabled' };
  if (to === undefined) return { name: 'fencing-before-recovery', status: 'violated', detail: `${rsc} was not recovered on another node` };
  const why = fencingBeforeRecovery(logs.get(dc) ?? [], target, rsc, to, faultAt);
  return why === undefined ? { name: 'fencing-before-recovery', status: 'ok', detail: `in ${dc}'s log` } : { name: 'fencing-before-recovery', status: 'violated', detail: `${dc}'s log: ${why}` };
}

/** single-mac from the number of ARP requests answered by two MACs. */
export function singleMacInvariant(twoMacProbes: number): InvariantResult {
  return twoMacProbes === 0 ? { name: 'single-mac', status: 'ok' } : { name: 'single-mac', status: 'violated', detail: `${twoMacProbes} ARP probes answered from two MACs` };
}

/** The run's verdict: it passed when there is no reason and no violated invariant. */
export function verdict(run: number, fault: string, failover: number | undefined, reasons: readonly string[], invariants: readonly InvariantResult[], timeline: readonly TimelineEntry[], from: string, to: string | undefined): DrillRun {
  const all = [...reasons, ...invariants.filter((i) => i.status === 'violated').map((i) => `invariant ${i.name} violated${i.detail ? `: ${i.detail}` : ''}`)];
  return { run, passed: all.length === 0, failover_ms: failover ?? -1, fault, from, ...(to === undefined ? {} : { to }), reasons: all, invariants, timeline };
}

/** The timeline of a run in which `lost` went away at faultAt (survivors' logs, the client's answer). */
export function lostNodeTimeline(lab: LabState, o: { faultAt: number; fault: string; lost: readonly string[]; logs: ReadonlyMap<string, readonly LogEvent[]>; answeredAt?: number; answeredBy?: string; until: number }): TimelineEntry[] {
  return buildTimeline({
    faultAt: o.faultAt,
    fault: o.fault,
    lost: o.lost,
    ids: ids(lab),
    logs: o.logs,
    ...(o.answeredAt === undefined ? {} : { answeredAt: o.answeredAt }),
    ...(o.answeredBy === undefined ? {} : { answeredBy: o.answeredBy }),
    until: o.until,
  });
}

/**
 * MAC → node name of the lab's nodes, read once (before a fault: every `ip -n` into a node's
 * namespace during a power-off can be killed with the node's processes). The veth pairs survive
 * power cycles, so the table holds for the whole series.
 */
export function macTable(lab: LabState): Map<string, string> {
  return new Map(lab.nodes.map((n) => [macOf(lab.name, n.name), n.name]));
}

/** The node(s) whose MAC answered the last ARP probe at or before t ('a,b' for two; unknown MACs as they are; undefined: nobody). */
export function arpHolderAt(macs: ReadonlyMap<string, string>, arp: readonly Sample[], t: number): string | undefined {
  const s = arp.filter((x) => x.probe === 'arp' && x.t <= t).at(-1);
  if (s === undefined || !s.up) return undefined;
  return (s.macs ?? []).map((m) => macs.get(m.toLowerCase()) ?? m).join(',');
}

/** Whether, at t, the floating address answered ARP from a node (one) other than `lost`. */
export function servedByOther(macs: ReadonlyMap<string, string>, arp: readonly Sample[], t: number, lost: string): boolean {
  const h = arpHolderAt(macs, arp, t);
  return h !== undefined && h !== '' && !h.split(',').includes(lost);
}
