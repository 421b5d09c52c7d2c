/**
 * The `clock-jump` drill scenario (three nodes, floatingIpCib, nodes under libfaketime): the wall
 * clocks of the floating IP's holder and of the DC jump an hour forward, then two hours back
 * (an hour behind true time), while a client pings the address and the run polls every node's
 * status. Nothing may happen: the address keeps answering from one MAC, no resource moves or
 * fails, nobody is fenced, and the cluster settles with the same CIB everywhere. Then the holder
 * (still an hour behind) is powered off: the failover must work and is measured as in
 * vip-failover, with the DC an hour behind; the holder boots again with its clock still behind,
 * rejoins, and finally every clock goes back to true time (one more jump) and the cluster must
 * settle again with nothing moved.
 *
 * The timeline is the failover's (survivors' logs, read with each node's clock offset taken out)
 * with the clock jumps as `fault` entries before it (negative offsets) and the resets after it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { floatingIpCib, vipFailoverRun } from './drill.js';
import { lostNodeTimeline, recoveryDc, settledInvariants, singleMacInvariant, verdict, fencingInvariant, type DrillScenarioDef, type RunCtx, type RunOutcome } from './drill-common.js';
import type { InvariantResult } from './drill-render.js';
import { readNodeLogs, type LogEvent, type TimelineEntry } from './drill-timeline.js';
import { faults, formatClockOffset } from './faults.js';
import { findLibfaketime, labExec, labStatus, libfaketimeCandidates, nodePid, sleep, type LabState } from './lab.js';
import { waitSettled, type NodeStatus } from './settle.js';
import { watchIp, type Sample } from './watch.js';

/** How long each clock state is watched before the next jump. */
export const CLOCK_HOLD_MS = 6000;
/** The jumps of a run, in seconds: an hour forward, then two hours back (an hour behind true time). */
export const CLOCK_JUMPS_S: readonly number[] = [3600, -7200];

/** `clock-jump`: the holder's and the DC's wall clocks jump; nothing may move; then the holder is powered off. */
export const clockJumpScenario: DrillScenarioDef = {
  name: 'clock-jump',
  description: "jump the wall clocks of a floating IP's holder and of the DC +1h, then -2h: nothing may move; then power the holder off (3 nodes, libfaketime)",
  nodes: 3,
  prepare: async (p) => {
    if (findLibfaketime() === undefined) throw new Error(`drill clock-jump needs libfaketime (apt-get install faketime); looked for ${libfaketimeCandidates().join(', ')}`);
    return { cib: floatingIpCib({ vip: p.vip, labDir: p.dir, nodes: p.nodes, stonith: p.stonith }), run: clockJumpRun };
  },
};

/** One clock jump as the run made it (host wall-clock ms). */
export interface ClockJump {
  readonly at: number;
  readonly node: string;
  /** The jump, in seconds. */
  readonly deltaS: number;
  /** The node's offset from true time afterwards, in seconds. */
  readonly offsetS: number;
}

/** What the run saw while clocks jumped (before the power-off). */
interface JumpWatch {
  readonly jumps: ClockJump[];
  /** Resource placement changes and failures seen by polling every node's status. */
  readonly moves: string[];
  /** DCs named during the jumps (one expected). */
  readonly dcs: Set<string>;
  /** Nodes whose clock did not move as asked (`date +%s` in the node), or whose daemon lacks libfaketime. */
  readonly clockProblems: string[];
}

/** Every node's view of where each resource runs (`vip=node1 dummy=node1`), and failures. */
function placement(s: NodeStatus): string {
  return (s.resources ?? [])
    .filter((r) => r.id !== 'fence-lab')
    .map((r) => `${r.id}=${r.nodes.join(',') || '-'}${r.failed ? '!' : ''}`)
    .sort()
    .join(' ');
}

/** The status of the first node that is quorate and names a DC (the cluster's view), or undefined. */
async function clusterView(lab: LabState): Promise<NodeStatus | undefined> {
  for (const n of (await labStatus(lab.dir)).nodes) if (n.api.ok && n.api.status.quorate && n.api.status.dc !== undefined) return n.api.status;
  return undefined;
}

/** The fence requests and results in every node's whole log (counted, not timed: a jumped node's log times are off). */
function fenceEvents(lab: LabState): number {
  let n = 0;
  for (const node of lab.nodes) {
    let text = '';
    try {
      text = readFileSync(join(lab.dir, 'nodes', node.name, 'log'), 'utf8');
    } catch {
      continue;
    }
    n += (text.match(/"event":"fence-(request|ok|failed)"/g) ?? []).length;
  }
  return n;
}

/**
 * Whether `node` runs on the offset asked for: its daemon maps libfaketime, and `date +%s` run in
 * the node (its environment, like an agent's) is `offsetS` away from the host's clock (± 2 s).
 */
async function checkClock(lab: LabState, node: string, offsetS: number): Promise<string | undefined> {
  const n = lab.nodes.find((x) => x.name === node)!;
  const pid = nodePid(n);
  let maps = '';
  try {
    maps = readFileSync(`/proc/${pid}/maps`, 'utf8');
  } catch {
    return `${node}: no daemon to check`;
  }
  if (!maps.includes('libfaketime')) return `${node}: the daemon (pid ${pid}) runs without libfaketime`;
  const host = Date.now() / 1000;
  const r = await labExec(lab.dir, node, ['date', '+%s'], { stdio: 'pipe' });
  const seen = Number(r.stdout.trim()) - host;
  if (r.code !== 0 || !Number.isFinite(seen)) return `${node}: date failed (${r.stderr.trim() || `exit ${r.code}`})`;
  return Math.abs(seen - offsetS) <= 2 ? undefined : `${node}: its clock is ${Math.round(seen)} s off the host's, not ${offsetS} s`;
}

/** Polls every node's status for `ms`, recording placement changes against `expected` and DCs. */
async function watchStatus(lab: LabState, expected: string, ms: number, w: JumpWatch, phase: string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const r = await labStatus(lab.dir);
    for (const n of r.nodes) {
      if (!n.api.ok) continue;
      const p = placement(n.api.status);
      if (p !== expected && !w.moves.some((m) => m.startsWith(`${phase}: ${n.name}`))) w.moves.push(`${phase}: ${n.name} sees ${p} (was ${expected})`);
      if (n.api.status.dc !== undefined) w.dcs.add(n.api.status.dc);
    }
    await sleep(500);
  }
}

/** Jumps every node of `nodes` by `deltaS` at once, checks the clocks moved, then watches for `holdMs`. */
async function jumpAndWatch(lab: LabState, nodes: readonly string[], deltaS: number, expected: string, w: JumpWatch, log: (l: string) => void, holdMs: number): Promise<void> {
  const f = faults(lab.dir);
  const ats = await Promise.all(nodes.map((n) => f.clockJump(n, deltaS)));
  nodes.forEach((node, i) => {
    const offsetS = f.clockOffset(node);
    w.jumps.push({ at: ats[i]!, node, deltaS, offsetS });
    log(`clock jump ${node} ${formatClockOffset(deltaS)} (now ${formatClockOffset(offsetS)} off true time)`);
  });
  for (const node of nodes) {
    const why = await checkClock(lab, node, f.clockOffset(node));
    if (why !== undefined) w.clockProblems.push(why);
  }
  await watchStatus(lab, expected, holdMs, w, `after ${nodes.join('+')} ${formatClockOffset(deltaS)}`);
}

/**
 * The logs of jumped nodes on the host's time: each line of a node whose clock jumped gets its
 * current offset taken out (t - offset), and only the lines logged since its last jump are kept
 * (host time in [last jump, now]): they are the ones that offset holds for. A line logged on an
 * earlier offset would land elsewhere (a stale start of vip an hour "later" looks like a start
 * after the fault). Nodes that did not jump keep their log up to now.
 */
export function unskew(logs: ReadonlyMap<string, readonly LogEvent[]>, jumps: readonly ClockJump[], now: number): Map<string, LogEvent[]> {
  return new Map(
    [...logs].map(([node, evs]) => {
      const last = jumps.filter((j) => j.node === node).at(-1);
      // Lines stamped in the future come from a +offset of an earlier run: never "after the fault".
      if (last === undefined) return [node, evs.filter((e) => e.t <= now)];
      const moved = evs.map((e) => ({ ...e, t: e.t - last.offsetS * 1000 }));
      return [node, moved.filter((e) => e.t >= last.at && e.t <= now)];
    }),
  );
}

/** The clock jumps as timeline entries, at offsets from `origin`. */
export function jumpEntries(jumps: readonly ClockJump[], origin: number): TimelineEntry[] {
  return jumps.map((j) => ({ offsetMs: j.at - origin, kind: 'fault', node: j.node, detail: `clock jump ${j.node} ${formatClockOffset(j.deltaS)} (now ${j.offsetS === 0 ? 'on true time' : `${formatClockOffset(j.offsetS)} off true time`})` }));
}

/** One clock-jump run (see the file's comment). */
export async function clockJumpRun(lab: LabState, c: RunCtx, o: { holdMs?: number } = {}): Promise<RunOutcome> {
  if (lab.fakeClock === undefined) throw new Error(`lab ${lab.name} runs real clocks: the clock-jump drill needs libfaketime (apt-get install faketime)`);
  const holdMs = o.holdMs ?? CLOCK_HOLD_MS;
  const f = faults(lab.dir);
  const first = await clusterView(lab);
  if (first === undefined) throw new Error('no quorate node answers before the clock jumps');
  const expected = placement(first);
  const holder = first.resources?.find((r) => r.id === 'vip')?.nodes[0];
  const dc = first.dc;
  if (holder === undefined || dc === undefined) throw new Error(`before the clock jumps: vip runs on ${holder ?? 'no node'}, DC ${dc ?? 'none'}`);
  const targets = [...new Set([holder, dc])];
  const w: JumpWatch = { jumps: [], moves: [], dcs: new Set([dc]), clockProblems: [] };
  const fencesBefore = fenceEvents(lab);
  const watcher = watchIp({ netns: lab.client!.netns, ip: c.vip });
  let samples: Sample[] = [];
  let startAt = 0;
  let endAt = 0;
  try {
    await watcher.ready();
    await sleep(c.preFaultMs);
    startAt = Date.now();
    for (const d of CLOCK_JUMPS_S) await jumpAndWatch(lab, targets, d, expected, w, c.log, holdMs);
    endAt = Date.now();
  } finally {
    samples = await watcher.stop();
  }
  const during = samples.filter((s) => s.t >= startAt && s.t <= endAt);
  const missed = during.filter((s) => s.probe === 'icmp' && !s.up).length;
  const fencesDuring = fenceEvents(lab) - fencesBefore;
  const reasons: string[] = [];
  let settledJumps: NodeStatus[] = [];
  try {
    settledJumps = [...(await waitSettled(lab.nodes, { timeoutMs: c.settleTimeoutMs, progress: c.log })).values()];
  } catch (err) {
    reasons.push(`after the clock jumps: ${(err as Error).message}`);
  }
  const jumpInvariants: InvariantResult[] = [
    w.clockProblems.length === 0 ? { name: 'clock-jumped', status: 'ok', detail: `${targets.join(', ')} at ${formatClockOffset(f.clockOffset(targets[0]!))}` } : { name: 'clock-jumped', status: 'violated', detail: w.clockProblems.join('; ') },
    singleMacInvariant(during.filter((s) => s.probe === 'arp' && (s.macs?.length ?? 0) >= 2).length),
    missed === 0 ? { name: 'vip-answers-through-jumps', status: 'ok' } : { name: 'vip-answers-through-jumps', status: 'violated', detail: `${missed} pings missed while clocks jumped` },
    w.moves.length === 0 ? { name: 'no-resource-moves', status: 'ok', detail: expected } : { name: 'no-resource-moves', status: 'violated', detail: w.moves.join('; ') },
    fencesDuring === 0 ? { name: 'no-fencing-on-jump', status: 'ok' } : { name: 'no-fencing-on-jump', status: 'violated', detail: `${fencesDuring} fence events logged while clocks jumped` },
    w.dcs.size === 1 ? { name: 'dc-stable', status: 'ok', detail: dc } : { name: 'dc-stable', status: 'violated', detail: `DCs seen: ${[...w.dcs].join(', ')}` },
    ...settledInvariants(settledJumps, lab.nodes.map((n) => n.name)).map((i) => ({ ...i, name: `${i.name}-after-jumps` })),
  ];

  // The holder, an hour behind, is powered off; the DC (an hour behind too when it is another node) recovers.
  const r = await vipFailoverRun(lab, { vip: c.vip, timeoutMs: 30_000, preFaultMs: c.preFaultMs, progress: c.log, settleTimeoutMs: c.settleTimeoutMs });
  reasons.push(...r.reasons.filter((x) => !/two MACs/.test(x)));
  if (r.from !== holder) reasons.push(`the address answered from ${r.from} before the power-off, not from ${holder}`);
  const survivors = lab.nodes.map((n) => n.name).filter((n) => n !== r.from);
  const offsets = new Map(lab.nodes.map((n) => [n.name, f.clockOffset(n.name)]));
  const logs = unskew(readNodeLogs(lab.dir, survivors), w.jumps, Date.now());
  const fault = `power off ${r.from} (clock ${formatClockOffset(offsets.get(r.from) ?? 0)})`;

  // Every clock back to true time: one more jump, after which nothing may move either.
  const resetWatch: JumpWatch = { jumps: [], moves: [], dcs: new Set(), clockProblems: [] };
  const after = await clusterView(lab);
  const expectedAfter = after === undefined ? '(no quorate node)' : placement(after);
  const fencesBeforeReset = fenceEvents(lab);
  for (const node of lab.nodes.map((n) => n.name).filter((n) => (offsets.get(n) ?? 0) !== 0)) {
    resetWatch.jumps.push({ at: await f.clockReset(node), node, deltaS: -(offsets.get(node) ?? 0), offsetS: 0 });
    c.log(`clock reset ${node} (${formatClockOffset(-(offsets.get(node) ?? 0))})`);
    const why = await checkClock(lab, node, 0);
    if (why !== undefined) resetWatch.clockProblems.push(why);
  }
  await watchStatus(lab, expectedAfter, holdMs, resetWatch, 'after the reset');
  let settled: NodeStatus[] = [];
  try {
    settled = [...(await waitSettled(lab.nodes, { timeoutMs: c.settleTimeoutMs, progress: c.log })).values()];
  } catch (err) {
    reasons.push(`after the clock reset: ${(err as Error).message}`);
  }
  const fencesReset = fenceEvents(lab) - fencesBeforeReset;

  const timeline = [
    ...jumpEntries(w.jumps, r.faultAt),
    ...lostNodeTimeline(lab, { faultAt: r.faultAt, fault, lost: [r.from], logs, ...(r.answeredAt === undefined ? {} : { answeredAt: r.answeredAt }), ...(r.to === undefined ? {} : { answeredBy: r.to }), until: r.recoveredAt }),
    ...jumpEntries(resetWatch.jumps, r.faultAt),
  ].sort((a, b) => a.offsetMs - b.offsetMs);
  const invariants: InvariantResult[] = [
    ...jumpInvariants,
    singleMacInvariant(r.twoMacProbes),
    fencingInvariant(c.stonith, logs, recoveryDc(timeline, survivors), r.from, r.to, r.faultAt),
    resetWatch.moves.length === 0 && fencesReset === 0 && resetWatch.clockProblems.length === 0
      ? { name: 'nothing-moves-on-reset', status: 'ok' }
      : { name: 'nothing-moves-on-reset', status: 'violated', detail: [...resetWatch.clockProblems, ...resetWatch.moves, ...(fencesReset > 0 ? [`${fencesReset} fence events`] : [])].join('; ') },
    ...settledInvariants(settled, lab.nodes.map((n) => n.name)),
  ];
  return { run: verdict(c.run, `clock jumps ${targets.join('+')} ${CLOCK_JUMPS_S.map(formatClockOffset).join(' ')}, then ${fault}`, r.failover_ms, reasons, invariants, timeline, r.from, r.to), unsettled: settled.length === 0 };
}
