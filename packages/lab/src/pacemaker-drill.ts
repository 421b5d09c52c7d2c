/**
 * `paceline drill vip-failover --against pacemaker`: the same scenario as paceline's
 * vip-failover drill, run on real Pacemaker + Corosync (pacemaker-lab.ts), and the two series
 * side by side.
 *
 * A run: wait until settled (three nodes online, quorum, vip and dummy on one node, DC idle),
 * watch the floating IP from the client (watchIp: ICMP + ARP every 10 ms), pause 200..1000 ms
 * (seeded, as paceline's drill), power off the node holding vip, wait until the address
 * answers again for a second (at most 60 s), power the node on again and wait until settled.
 * failover_ms is measured exactly as for paceline (finalRecovery: the fault to the first ICMP
 * reply after the last missed one). Pacemaker runs without fencing (stonith-enabled=false, as
 * the anchors do); the table says which series fenced.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finalRecovery } from './drill.js';
import { seededRandom } from './drill-run.js';
import type { DrillReport, DrillRun, InvariantResult } from './drill-render.js';
import { seriesSummary, type TimelineEntry } from './drill-timeline.js';
import { sleep } from './lab.js';
import { macOf, pickSubnetIndex } from './netns.js';
import { pacemakerLabDown, pacemakerLabUp, pacemakerPowerOff, pacemakerPowerOn, pacemakerWaitSettled, type PacemakerLab } from './pacemaker-lab.js';
import { analyze, watchIp, type Sample } from './watch.js';

export interface PacemakerDrillOptions {
  readonly repeat: number;
  readonly seed: number;
  /** Lab directory (a new temporary one when omitted; removed afterwards unless keep). */
  readonly dir?: string;
  /** Lab name (1-8 lower-case letters or digits). */
  readonly name?: string;
  readonly keep?: boolean;
  /** corosync totem token in ms (corosync's default when omitted). */
  readonly token?: number;
  readonly settleTimeoutMs?: number;
  readonly progress?: (line: string) => void;
}

/** One vip-failover run on the Pacemaker lab. */
export async function pacemakerVipRun(lab: PacemakerLab, opts: { run: number; preFaultMs: number; settleTimeoutMs: number; timeoutMs?: number; stableMs?: number; log: (l: string) => void }): Promise<{ run: DrillRun; unsettled: boolean }> {
  const before = await pacemakerWaitSettled(lab, { timeoutMs: opts.settleTimeoutMs, progress: opts.log });
  const from = before.started.get('vip')![0]!;
  const byMac = new Map(lab.nodes.map((n) => [macOf(lab.name, n), n]));
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const w = watchIp({ netns: lab.clientNs, ip: lab.vip });
  let samples: Sample[] = [];
  let faultAt = 0;
  try {
    await w.ready();
    await sleep(opts.preFaultMs);
    faultAt = await pacemakerPowerOff(lab, from);
    opts.log(`pacemaker: power off ${from}`);
    const end = faultAt + timeoutMs;
    for (;;) {
      await sleep(50);
      const rec = finalRecovery(w.samples, faultAt);
      if (rec.answeredAt !== undefined && Date.now() - rec.answeredAt >= (opts.stableMs ?? 1000)) break;
      if (Date.now() > end) break;
    }
  } finally {
    samples = await w.stop();
  }
  const rec = finalRecovery(samples, faultAt);
  const o = analyze(samples, faultAt);
  const to = o.macAfter?.length === 1 ? byMac.get(o.macAfter[0]!) : undefined;
  const reasons: string[] = [];
  if (rec.failoverMs === undefined) reasons.push(`${lab.vip} did not answer again within ${timeoutMs} ms`);
  if (to === from) reasons.push(`${lab.vip} answers from ${from}, the node that was powered off`);
  for (const e of rec.early) reasons.push(`${lab.vip} answered from ${e.macs.map((m) => byMac.get(m) ?? m).join(',')} ${e.offsetMs} ms after the fault, before the failover`);
  const invariants: InvariantResult[] = [
    o.twoMacSamples.length === 0 ? { name: 'single-mac', status: 'ok' } : { name: 'single-mac', status: 'violated', detail: `${o.twoMacSamples.length} ARP probes answered from two MACs` },
    { name: 'fencing-before-recovery', status: 'n/a', detail: 'stonith disabled' },
  ];
  const timeline: TimelineEntry[] = [{ offsetMs: 0, kind: 'fault', node: from, detail: `power off ${from}${before.dc === from ? ' (the DC)' : ''}` }];
  if (rec.answeredAt !== undefined) timeline.push({ offsetMs: rec.answeredAt - faultAt, kind: 'answering', ...(to === undefined ? {} : { node: to }), detail: `${lab.vip} answers${to ? ` from ${to}` : ''}` });
  let unsettled = false;
  await pacemakerPowerOn(lab, from);
  try {
    await pacemakerWaitSettled(lab, { timeoutMs: opts.settleTimeoutMs, progress: opts.log });
  } catch (err) {
    unsettled = true;
    reasons.push(`after the run: ${(err as Error).message}`);
  }
  const all = [...reasons, ...invariants.filter((i) => i.status === 'violated').map((i) => `invariant ${i.name} violated${i.detail ? `: ${i.detail}` : ''}`)];
  return {
    run: { run: opts.run, passed: all.length === 0, failover_ms: rec.failoverMs ?? -1, fault: `power off ${from}`, from, ...(to === undefined ? {} : { to }), reasons: all, invariants, timeline },
    unsettled,
  };
}

/** A vip-failover series on a Pacemaker lab of its own; the lab goes down afterwards unless keep. */
export async function runPacemakerDrill(opts: PacemakerDrillOptions): Promise<DrillReport & { dir: string }> {
  if (!Number.isInteger(opts.repeat) || opts.repeat < 1) throw new Error('--repeat must be a positive whole number');
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'paceline-pcmk-'));
  const name = opts.name ?? `pm${(process.pid % 46656).toString(36)}`;
  const log = opts.progress ?? (() => undefined);
  const rand = seededRandom(opts.seed);
  const startedAt = new Date().toISOString();
  const runs: DrillRun[] = [];
  let stoppedEarly: string | undefined;
  const settleTimeoutMs = opts.settleTimeoutMs ?? 120_000;
  try {
    const lab = await pacemakerLabUp({ name, dir, subnetIndex: pickSubnetIndex(), ...(opts.token === undefined ? {} : { token: opts.token }), progress: log });
    for (let i = 1; i <= opts.repeat; i++) {
      const { run, unsettled } = await pacemakerVipRun(lab, { run: i, preFaultMs: 200 + Math.floor(rand() * 800), settleTimeoutMs, log });
      runs.push(run);
      log(`pacemaker run ${i}/${opts.repeat}: ${run.passed ? 'passed' : `FAILED (${run.reasons.join('; ')})`} failover_ms=${run.failover_ms}`);
      if (unsettled && i < opts.repeat) {
        stoppedEarly = `the cluster did not settle after run ${i}`;
        break;
      }
    }
  } finally {
    if (!opts.keep) {
      pacemakerLabDown({ name });
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    } else log(`pacemaker lab ${name} left up in ${dir}`);
  }
  const ok = runs.filter((r) => r.failover_ms >= 0).map((r) => r.failover_ms);
  return { scenario: 'vip-failover', seed: opts.seed, startedAt, requested: opts.repeat, ...(stoppedEarly === undefined ? {} : { stoppedEarly }), runs, summary: { ...seriesSummary(ok), passed: runs.filter((r) => r.passed).length }, dir };
}

/** One series of a comparison: which stack, whether it fenced, and its report. */
export interface ComparedSeries {
  readonly stack: 'paceline' | 'pacemaker';
  readonly fencing: boolean;
  readonly report: DrillReport;
}

/** The comparison table: per stack runs, passed, failover min/median/max in ms, fencing. */
export function formatComparison(scenario: string, seed: number, series: readonly ComparedSeries[]): string {
  const head = ['stack', 'runs', 'passed', 'min ms', 'median ms', 'max ms', 'fencing'];
  const rows = series.map((s) => [s.stack, String(s.report.runs.length), String(s.report.summary.passed), ...[s.report.summary.min, s.report.summary.median, s.report.summary.max].map((x) => (x === undefined ? '-' : String(x))), s.fencing ? 'on' : 'off']);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  const out = [`drill ${scenario} (seed ${seed}): paceline vs pacemaker, failover = fault to the floating IP answering again (client, 10 ms probes)`, line(head), ...rows.map(line)];
  for (const s of series) for (const r of s.report.runs) if (!r.passed) out.push(`  ${s.stack} run ${r.run}: ${r.reasons.join('; ')}`);
  return `${out.join('\n')}\n`;
}
