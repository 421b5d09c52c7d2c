/**
 * Pacemaker's CTS tests (cts/lab/CTStests.py) on a three-node netns lab: `paceline drill cts
 * TEST`. Each test drives the lab through the fault verbs and the nodes' API, makes the checks
 * CTS makes for it (its `reasons`), then brings every node back, waits until the cluster settled
 * and checks the drill invariants:
 *
 *   single-activity          no resource active on two powered nodes at once, sampled every
 *                            second during the test from what really runs (Dummy state files,
 *                            the floating address on eth0, the tmpfs mount), and at the end
 *   fencing-before-recovery  a resource that ran on a node lost uncleanly (power, crash,
 *                            partition) starts elsewhere only after that node's fence-ok, in
 *                            the recovering node's log
 *   cib-same-on-every-node   one CIB version everywhere once settled (and one DC)
 *   no-resource-left-stopped every resource runs once settled (every node online)
 *
 * The lab's CIB (ctsCib): vip (IPaddr), d1..d3 (Dummy), fs (tmpfs Filesystem, monitor at
 * OCF_CHECK_LEVEL 20), fence_lab, no-quorum-policy stop, maintenance-mode false.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ApiClient } from '@paceline/controller';
import { labCib, esc, floatingIpPrimitive } from './drill.js';
import { fencingBeforeRecovery, readNodeLogs, parseActionKey, type LogEvent } from './drill-timeline.js';
import type { InvariantResult } from './drill-render.js';
import { settledInvariants } from './drill-run.js';
import { dummyStateFile, faults } from './faults.js';
import { alive, machinePid, nodePid, repoRoot, sleep, type LabNode, type LabState } from './lab.js';
import { run as runCmd } from './netns.js';
import { queryStatus, waitSettled, type NodeStatus } from './settle.js';

/** The CTS tests `paceline drill cts` knows, by CTS's names. */
export const CTS_TESTS = [
  'StartOnebyOne',
  'SimulStart',
  'SimulStop',
  'StopOnebyOne',
  'RestartOnebyOne',
  'RestartTest',
  'FlipTest',
  'StonithdTest',
  'StandbyTest',
  'MaintenanceMode',
  'ResourceRecover',
  'ComponentFail',
  'SplitBrainTest',
  'Reattach',
  'ResyncCIB',
  'NearQuorumPointTest',
  'PartialStart',
] as const;
export type CtsTestName = (typeof CTS_TESTS)[number];

/** The Dummy resources of the CTS CIB. */
export const CTS_DUMMIES = ['d1', 'd2', 'd3'] as const;
/** Every resource of the CTS CIB except the fence device. */
export const CTS_RESOURCES = ['vip', ...CTS_DUMMIES, 'fs'] as const;


/** The CTS lab's CIB (see the module comment); `fsDir` is the tmpfs mount point (the same path on every node). */
export function ctsCib(opts: { labDir: string; nodes: readonly string[]; vip: string; fsDir: string }): string {
  const dummies = CTS_DUMMIES.map(
    (d) => `      <primitive id="${d}" class="ocf" provider="paceline" type="Dummy">
        <operations><op id="${d}-monitor" name="monitor" interval="3s" timeout="20s"/></operations>
      </primitive>
`,
  ).join('');
  return labCib({
    labDir: opts.labDir,
    nodes: opts.nodes,
    stonith: true,
    options: '        <nvpair id="opt-maintenance-mode" name="maintenance-mode" value="false"/>\n',
    resources: `${floatingIpPrimitive('vip', opts.vip, '3s', '      ')}
${dummies}      <primitive id="fs" class="ocf" provider="paceline" type="Filesystem">
        <instance_attributes id="fs-ia">
          <nvpair id="fs-device" name="device" value="tmpfs"/>
          <nvpair id="fs-directory" name="directory" value="${esc(opts.fsDir)}"/>
          <nvpair id="fs-fstype" name="fstype" value="tmpfs"/>
          <nvpair id="fs-options" name="options" value="size=1m"/>
        </instance_attributes>
        <operations>
          <op id="fs-monitor" name="monitor" interval="4s" timeout="20s">
            <instance_attributes id="fs-monitor-ia"><nvpair id="fs-monitor-level" name="OCF_CHECK_LEVEL" value="20"/></instance_attributes>
          </op>
        </operations>
      </primitive>
`,
  });
}

/** What a CTS test run needs. */
export interface CtsContext {
  readonly lab: LabState;
  readonly f: ReturnType<typeof faults>;
  /** Seeded PRNG in [0, 1). */
  readonly rand: () => number;
  readonly log: (line: string) => void;
  readonly settleTimeoutMs: number;
  readonly vip: string;
  readonly fsDir: string;
}

/** What one test did, for the invariants: the moment of its main fault and the nodes lost uncleanly. */
export interface CtsTestOutcome {
  readonly detail: string;
  readonly faultAt: number;
  /** Nodes that left uncleanly (power, crash, partition): their resources may move only after a fence. */
  readonly lost: readonly string[];
  /** CTS's checks that failed. */
  readonly reasons: readonly string[];
}

// ---------------------------------------------------------------------------------------------
// Small helpers

export const nodeNames = (lab: LabState): string[] => lab.nodes.map((n) => n.name);
const byName = (lab: LabState, name: string): LabNode => lab.nodes.find((n) => n.name === name)!;
const running = (lab: LabState, name: string): boolean => alive(nodePid(byName(lab, name)));

/** A random element (seeded). */
export function pick<T>(rand: () => number, xs: readonly T[]): T {
  if (xs.length === 0) throw new Error('pick from nothing');
  return xs[Math.min(xs.length - 1, Math.floor(rand() * xs.length))]!;
}

/** A seeded shuffle (Fisher-Yates). */
export function shuffle<T>(rand: () => number, xs: readonly T[]): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** One API request to a node. */
export async function nodeRequest(n: Pick<LabNode, 'apiSocket'>, method: string, params: unknown, timeoutMs = 10_000): Promise<unknown> {
  const api = await ApiClient.connect({ socket: n.apiSocket }, { timeoutMs: 5000 });
  try {
    return await api.request(method as 'status', params as undefined, { timeoutMs });
  } finally {
    await Promise.resolve(api.close()).catch(() => undefined);
  }
}

/** One API request to the first running node that answers it; throws the last error. */
async function anyRequest(c: CtsContext, method: string, params: unknown, among?: readonly string[]): Promise<unknown> {
  let last: Error | undefined;
  for (let attempt = 0; attempt < 20; attempt++) {
    for (const n of c.lab.nodes) {
      if ((among !== undefined && !among.includes(n.name)) || !alive(nodePid(n))) continue;
      try {
        return await nodeRequest(n, method, params);
      } catch (e) {
        last = e as Error;
      }
    }
    await sleep(500);
  }
  throw new Error(`${method}: ${last?.message ?? 'no node running'}`);
}

/** Sets a cluster property present in the CTS CIB (maintenance-mode). */
export async function setMaintenance(c: CtsContext, on: boolean): Promise<void> {
  await anyRequest(c, 'cib.update', { op: 'modify', xpath: "//nvpair[@id='opt-maintenance-mode']", xml: `<nvpair id="opt-maintenance-mode" name="maintenance-mode" value="${on}"/>` });
}

/** After a failed maintenance test: every node running again, maintenance-mode off (errors ignored: the step's restore reports). */
async function leaveMaintenance(c: CtsContext): Promise<void> {
  await startNodes(c, nodeNames(c.lab)).catch(() => undefined);
  await setMaintenance(c, false).catch(() => undefined);
}

/** Waits until the named nodes settled among themselves; returns their statuses, or throws. */
async function settle(c: CtsContext, names: readonly string[]): Promise<Map<string, NodeStatus>> {
  return waitSettled(
    c.lab.nodes.filter((n) => names.includes(n.name)),
    { timeoutMs: c.settleTimeoutMs },
  );
}

/** Starts the named nodes that are not running (power on: links up, boot). */
async function startNodes(c: CtsContext, names: readonly string[]): Promise<void> {
  for (const n of names) if (!running(c.lab, n)) await c.f.powerOn(n);
}

/**
 * Stops the named nodes gracefully, all at once. A node still running `settleTimeoutMs` after
 * its SIGTERM is powered off (so that the lab can go on) and the stop throws, naming it.
 */
async function stopNodes(c: CtsContext, names: readonly string[]): Promise<number> {
  const at = Date.now();
  const r = await Promise.allSettled(names.filter((n) => running(c.lab, n)).map((n) => gracefulOrKill(c, n)));
  const bad = r.flatMap((x) => (x.status === 'rejected' ? [(x.reason as Error).message] : []));
  if (bad.length > 0) throw new Error(bad.join('; '));
  return at;
}

/** gracefulStop; on timeout, power off (SIGKILL) and throw the timeout. */
async function gracefulOrKill(c: CtsContext, n: string): Promise<number> {
  try {
    return await c.f.gracefulStop(n, c.settleTimeoutMs);
  } catch (e) {
    if (running(c.lab, n)) await c.f.powerOff(n).catch(() => undefined);
    throw new Error(`${(e as Error).message} (powered off)`);
  }
}

/** Catches a step's error into reasons. */
async function check(reasons: string[], what: string, fn: () => Promise<unknown>): Promise<boolean> {
  try {
    await fn();
    return true;
  } catch (e) {
    reasons.push(`${what}: ${(e as Error).message}`);
    return false;
  }
}

/** Where each resource of the CTS CIB really runs: on powered nodes only (power file "on"). */
export function activity(c: Pick<CtsContext, 'lab' | 'vip' | 'fsDir'>): Map<string, string[]> {
  const out = new Map<string, string[]>(CTS_RESOURCES.map((r) => [r, []]));
  for (const n of c.lab.nodes) {
    if (!powered(n)) continue;
    for (const d of CTS_DUMMIES) if (existsSync(dummyStateFile(n, d))) out.get(d)!.push(n.name);
    if (n.netns !== undefined) {
      const a = runCmd(['ip', '-n', n.netns, '-4', '-o', 'addr', 'show', 'dev', 'eth0']);
      if (a.stdout.includes(` ${c.vip}/`)) out.get('vip')!.push(n.name);
    }
    // The machine's mount namespace (it outlives a stopped or crashed daemon), else the daemon's.
    const pid = machinePid(n) ?? nodePid(n);
    if (alive(pid) && runCmd(['nsenter', '-t', String(pid), '-m', 'mountpoint', '-q', c.fsDir]).status === 0) out.get('fs')!.push(n.name);
  }
  return out;
}

function powered(n: LabNode): boolean {
  try {
    return readFileSync(join(n.dir, 'power'), 'utf8').startsWith('on');
  } catch {
    return false;
  }
}

/** Samples `activity` every `everyMs` until stopped; returns the samples where a resource ran on two nodes. */
export function sampleActivity(c: Pick<CtsContext, 'lab' | 'vip' | 'fsDir'>, everyMs = 1000): { stop: () => Promise<string[]> } {
  const doubles: string[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      for (const [rsc, on] of activity(c)) if (on.length > 1) doubles.push(`${new Date().toISOString()} ${rsc} on ${on.join(',')}`);
      await sleep(everyMs);
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return doubles;
    },
  };
}

/** Starts/stops of resources (not probes or monitors) in a node's log after `since`. */
export function startStops(log: readonly LogEvent[], since: number, rscs: readonly string[]): string[] {
  const out: string[] = [];
  for (const e of log) {
    if (e.t < since || e.event !== 'action-dispatch') continue;
    const a = parseActionKey(String(e.data['action'] ?? ''));
    if (a === undefined || a.interval !== 0 || !rscs.includes(a.rsc) || (a.task !== 'start' && a.task !== 'stop')) continue;
    out.push(`${a.rsc} ${a.task} on ${String(e.data['host'] ?? '?')}`);
  }
  return out;
}

function allLogs(c: CtsContext): Map<string, LogEvent[]> {
  return readNodeLogs(c.lab.dir, nodeNames(c.lab));
}

// ---------------------------------------------------------------------------------------------
// The tests

type CtsTest = (c: CtsContext) => Promise<CtsTestOutcome>;

/** StartOnebyOne: every node stopped, then started one at a time; each start must join and settle. */
async function startOnebyOne(c: CtsContext): Promise<CtsTestOutcome> {
  const reasons: string[] = [];
  await stopNodes(c, nodeNames(c.lab));
  const order = shuffle(c.rand, nodeNames(c.lab));
  const faultAt = Date.now();
  const up: string[] = [];
  for (const n of order) {
    await startNodes(c, [n]);
    up.push(n);
    if (up.length === 1) {
      const st = await waitAlone(c, n);
      if (st === undefined) reasons.push(`${n} alone did not answer its status`);
      else if (st.quorate) reasons.push(`${n} alone is quorate`);
    } else if (!(await check(reasons, `after starting ${up.join(',')}`, () => settle(c, up)))) break;
  }
  return { detail: `start ${order.join(', ')} one by one`, faultAt, lost: [], reasons };
}

/** Polls a lone node's status until it answers (and reports no DC transition running). */
async function waitAlone(c: CtsContext, name: string): Promise<NodeStatus | undefined> {
  const end = Date.now() + c.settleTimeoutMs;
  while (Date.now() < end) {
    const a = await queryStatus(byName(c.lab, name).apiSocket);
    if (a.ok && a.status.transition.state === 'idle') return a.status;
    await sleep(250);
  }
  return undefined;
}

/** SimulStart: every node stopped, then all started at once; the cluster must settle. */
async function simulStart(c: CtsContext): Promise<CtsTestOutcome> {
  const reasons: string[] = [];
  await stopNodes(c, nodeNames(c.lab));
  const faultAt = Date.now();
  await Promise.all(nodeNames(c.lab).map((n) => startNodes(c, [n])));
  await check(reasons, 'after starting every node at once', () => settle(c, nodeNames(c.lab)));
  return { detail: 'start every node at once', faultAt, lost: [], reasons };
}

/** SimulStop: every node stopped at once; each must exit, and nothing may run afterwards. */
async function simulStop(c: CtsContext): Promise<CtsTestOutcome> {
  const reasons: string[] = [];
  let faultAt = Date.now();
  await check(reasons, 'stopping every node at once', async () => (faultAt = await stopNodes(c, nodeNames(c.lab))));
  const left = [...activity(c)].filter(([, on]) => on.length > 0).map(([r, on]) => `${r} on ${on.join(',')}`);
  if (left.length > 0) reasons.push(`still active after every node stopped: ${left.join('; ')}`);
  return { detail: 'stop every node at once', faultAt, lost: [], reasons };
}

/** StopOnebyOne: nodes stopped one at a time; the quorate rest keeps everything running; at the end nothing runs. */
async function stopOnebyOne(c: CtsContext): Promise<CtsTestOutcome> {
  const reasons: string[] = [];
  const order = shuffle(c.rand, nodeNames(c.lab));
  const faultAt = Date.now();
  const rest = [...order];
  for (const n of order) {
    if (!(await check(reasons, `stopping ${n}`, () => gracefulOrKill(c, n)))) break;
    rest.shift();
    if (rest.length >= 2) {
      const ok = await check(reasons, `after stopping ${n}`, () => settle(c, rest));
      const act = activity(c);
      const off = CTS_RESOURCES.filter((r) => !act.get(r)!.some((x) => rest.includes(x)));
      if (ok && off.length > 0) reasons.push(`with ${rest.join(',')} up (quorate), not running: ${off.join(',')}`);
    }
  }
  const left = [...activity(c)].filter(([, on]) => on.length > 0).map(([r, on]) => `${r} on ${on.join(',')}`);
  if (reasons.length === 0 && left.length > 0) reasons.push(`still active after every node stopped: ${left.join('; ')}`);
  return { detail: `stop ${order.join(', ')} one by one`, faultAt, lost: [], reasons };
}

/** RestartOnebyOne: each node in turn stopped and started again; the cluster settles after each. */
async function restartOnebyOne(c: CtsContext): Promise<CtsTestOutcome> {
  const reasons: string[] = [];
  const order = shuffle(c.rand, nodeNames(c.lab));
  const faultAt = Date.now();
  for (const n of order) if (!(await restartNode(c, n, reasons, 0))) break;
  return { detail: `restart ${order.join(', ')} one by one`, faultAt, lost: [], reasons };
}

async function restartNode(c: CtsContext, n: string, reasons: string[], downMs: number): Promise<boolean> {
  if (!(await check(reasons, `stopping ${n}`, () => gracefulOrKill(c, n)))) return false;
  const rest = nodeNames(c.lab).filter((x) => x !== n);
  if (!(await check(reasons, `after stopping ${n}`, () => settle(c, rest)))) return false;
  const on = [...activity(c)].filter(([, nodes]) => nodes.includes(n)).map(([r]) => r);
  if (on.length > 0) reasons.push(`${on.join(',')} still active on ${n} after it stopped`);
  await sleep(downMs);
  await c.f.powerOn(n);
  return check(reasons, `after starting ${n} again`, () => settle(c, nodeNames(c.lab)));
}

/** RestartTest: one random node stopped and started again. */
async function restartTest(c: CtsContext): Promise<CtsTestOutcome> {
  const reasons: string[] = [];
  const n = pick(c.rand, nodeNames(c.lab));
  const faultAt = Date.now();
  await restartNode(c, n, reasons, 0);
  return { detail: `restart ${n}`, faultAt, lost: [], reasons };
}

/** FlipTest: one random node stopped, left down 0-5 s, started again (a flip and a flip back). */
async function flipTest(c: CtsContext): Promise<CtsTestOutcome> {
  const reasons: string[] = [];
  const n = pick(c.rand, nodeNames(c.lab));
  const downMs = Math.floor(c.rand() * 5000);
  const faultAt = Date.now();
  await restartNode(c, n, reasons, downMs);
  return { detail: `flip ${n} (down ${downMs} ms)`, faultAt, lost: [], reasons };
}

/**
 * StonithdTest: a random node fenced from outside the cluster (fence_lab reboot, as stonith_admin
 * would ask; the API has no fence method). The node must come back (new pid) and rejoin.
 */
async function stonithdTest(c: CtsContext): Promise<CtsTestOutcome> {
  const reasons: string[] = [];
  const n = pick(c.rand, nodeNames(c.lab));
  const before = nodePid(byName(c.lab, n));
  const faultAt = Date.now();
  const r = runCmd([fenceLabPath(), '--action=reboot', `--plug=${n}`, `--lab-dir=${c.lab.dir}`]);
  if (r.status !== 0) reasons.push(`fence_lab reboot ${n}: exit ${r.status}: ${r.stderr.trim()}`);
  // fence_lab runs the boot script detached: the new pid file may come a moment later.
  let after = nodePid(byName(c.lab, n));
  for (let i = 0; i < 100 && (after === before || !alive(after)); i++) {
    await sleep(100);
    after = nodePid(byName(c.lab, n));
  }
  if (after === before || !alive(after)) reasons.push(`${n} was not rebooted (pid ${before} -> ${after ?? 'none'})`);
  await check(reasons, `after fencing ${n}`, () => settle(c, nodeNames(c.lab)));
  // The fence is this test's own (out of band, at faultAt): whatever starts afterwards starts
  // after the fence, so there is no unclean loss left for the invariant to judge.
  return { detail: `fence (reboot) ${n} with fence_lab`, faultAt, lost: [], reasons };
}

/** agents/stonith/fence_lab in the repository. */
export function fenceLabPath(): string {
  return join(repoRoot, 'agents/stonith/fence_lab');
}

/** StandbyTest: a random node in standby: nothing may run there; out of standby: the cluster settles. */
async function standbyTest(c: CtsContext): Promise<CtsTestOutcome> {
  const reasons: string[] = [];
  const n = pick(c.rand, nodeNames(c.lab));
  const faultAt = Date.now();
  await check(reasons, `standby ${n}`, async () => {
    await anyRequest(c, 'node.standby', { node: n, on: true });
    await settle(c, nodeNames(c.lab));
    const on = [...activity(c)].filter(([, nodes]) => nodes.includes(n)).map(([r]) => r);
    if (on.length > 0) reasons.push(`${on.join(',')} still active on ${n} in standby`);
    const st = await queryStatus(byName(c.lab, n).apiSocket);
    if (st.ok) for (const r of st.status.resources ?? []) if (r.nodes.includes(n) && r.id !== 'fence-lab') reasons.push(`the cluster places ${r.id} on ${n} in standby`);
  });
  await check(reasons, `standby off ${n}`, async () => {
    await anyRequest(c, 'node.standby', { node: n, on: false });
    await settle(c, nodeNames(c.lab));
  });
  return { detail: `standby ${n}, then back`, faultAt, lost: [], reasons };
}

/** Where a resource runs, as a node's status says (first answer). */
async function placedOn(c: CtsContext, rsc: string): Promise<string | undefined> {
  for (const n of c.lab.nodes) {
    if (!running(c.lab, n.name)) continue;
    const a = await queryStatus(n.apiSocket);
    if (a.ok) return a.status.resources?.find((r) => r.id === rsc)?.nodes[0];
  }
  return undefined;
}

/**
 * MaintenanceMode: maintenance-mode on; a Dummy fails (its service stops); the cluster must not
 * react (no start or stop, it stays stopped); maintenance-mode off: the cluster notices and
 * starts it again.
 */
async function maintenanceMode(c: CtsContext): Promise<CtsTestOutcome> {
  const reasons: string[] = [];
  const rsc = pick(c.rand, CTS_DUMMIES);
  const where = await placedOn(c, rsc);
  const faultAt = Date.now();
  if (where === undefined) return { detail: `maintenance mode (${rsc} runs nowhere)`, faultAt, lost: [], reasons: [`${rsc} runs nowhere before the test`] };
  await check(reasons, 'maintenance-mode on', async () => {
    await setMaintenance(c, true);
    await settle(c, nodeNames(c.lab));
    const since = Date.now();
    c.f.rscFail(where, rsc, 'stop');
    await sleep(8000);
    const acts = startStops(allLogs(c).get(where) ?? [], since, [...CTS_RESOURCES]).concat(...nodeNames(c.lab).filter((x) => x !== where).map((x) => startStops(allLogs(c).get(x) ?? [], since, [...CTS_RESOURCES])));
    if (acts.length > 0) reasons.push(`actions in maintenance mode: ${[...new Set(acts)].join('; ')}`);
    if (activity(c).get(rsc)!.length > 0) reasons.push(`${rsc} was started again in maintenance mode`);
  });
  if (reasons.length > 0) await leaveMaintenance(c);
  await check(reasons, 'maintenance-mode off', async () => {
    await setMaintenance(c, false);
    await waitActive(c, rsc, 30_000);
    await anyRequest(c, 'resource.cleanup', {});
    await settle(c, nodeNames(c.lab));
  });
  return { detail: `maintenance mode, ${rsc} fails on ${where}`, faultAt, lost: [], reasons };
}

async function waitActive(c: CtsContext, rsc: string, timeoutMs: number): Promise<string> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const on = activity(c).get(rsc)!;
    if (on.length === 1) return on[0]!;
    if (Date.now() > end) throw new Error(`${rsc} not active on one node within ${timeoutMs} ms (on ${on.join(',') || 'none'})`);
    await sleep(250);
  }
}

/** ResourceRecover: a Dummy's service stops on its own; the cluster must stop and start it again (recover), then cleanup. */
async function resourceRecover(c: CtsContext): Promise<CtsTestOutcome> {
  const reasons: string[] = [];
  const rsc = pick(c.rand, CTS_DUMMIES);
  const where = await placedOn(c, rsc);
  const faultAt = Date.now();
  if (where === undefined) return { detail: `recover ${rsc} (runs nowhere)`, faultAt, lost: [], reasons: [`${rsc} runs nowhere before the test`] };
  await check(reasons, `recovering ${rsc}`, async () => {
    c.f.rscFail(where, rsc, 'stop');
    const now = await waitActive(c, rsc, 30_000);
    const logs = allLogs(c);
    const starts = nodeNames(c.lab).flatMap((n) => startStops(logs.get(n) ?? [], faultAt, [rsc]));
    if (!starts.some((s) => s.startsWith(`${rsc} start`))) reasons.push(`${rsc} runs on ${now} again but no node logged its start`);
    const failed = nodeNames(c.lab).some((n) => (logs.get(n) ?? []).some((e) => e.t >= faultAt && e.event === 'action-result' && e.data['rsc'] === rsc && e.data['task'] === 'monitor' && Number(e.data['rc']) !== 0));
    if (!failed) reasons.push(`no failed monitor of ${rsc} was logged`);
    await anyRequest(c, 'resource.cleanup', { rsc });
    await settle(c, nodeNames(c.lab));
  });
  return { detail: `${rsc} fails on ${where} and is recovered`, faultAt, lost: [], reasons };
}

/** ComponentFail: a node's daemon is killed (its resources keep running); the cluster fences it and recovers. */
async function componentFail(c: CtsContext): Promise<CtsTestOutcome> {
  const reasons: string[] = [];
  const n = pick(c.rand, nodeNames(c.lab));
  const faultAt = c.f.daemonCrash(n);
  await waitFenced(c, n, faultAt, reasons);
  return { detail: `daemon of ${n} killed`, faultAt, lost: [n], reasons };
}

/** Waits until some node logged fence-ok for `n` after `since` (reason when not); powers it on when fencing left it off. */
async function waitFenced(c: CtsContext, n: string, since: number, reasons: string[]): Promise<void> {
  const end = Date.now() + c.settleTimeoutMs;
  for (;;) {
    const logs = allLogs(c);
    if (nodeNames(c.lab).some((x) => x !== n && (logs.get(x) ?? []).some((e) => e.t >= since && e.event === 'fence-ok' && e.data['target'] === n))) break;
    if (Date.now() > end) {
      reasons.push(`${n} was not fenced within ${c.settleTimeoutMs} ms`);
      break;
    }
    await sleep(250);
  }
}

/** SplitBrainTest: one node cut off from the other two; the quorate pair keeps (or takes over) everything; heal; one DC, one CIB. */
async function splitBrainTest(c: CtsContext): Promise<CtsTestOutcome> {
  const reasons: string[] = [];
  const alone = pick(c.rand, nodeNames(c.lab));
  const pair = nodeNames(c.lab).filter((x) => x !== alone);
  const faultAt = c.f.partition([[alone], pair]);
  await waitFenced(c, alone, faultAt, reasons);
  await check(reasons, `the pair ${pair.join(',')}`, async () => {
    await settle(c, pair);
    const act = activity(c);
    const off = CTS_RESOURCES.filter((r) => !act.get(r)!.some((x) => pair.includes(x)));
    if (off.length > 0) reasons.push(`not running on the quorate side: ${off.join(',')}`);
  });
  c.f.heal();
  await check(reasons, 'after healing', async () => {
    await startNodes(c, [alone]);
    const st = await settle(c, nodeNames(c.lab));
    const dcs = new Set([...st.values()].map((s) => s.dc));
    if (dcs.size !== 1) reasons.push(`DCs after healing: ${[...dcs].join(',')}`);
  });
  return { detail: `partition ${alone} | ${pair.join(',')}, heal`, faultAt, lost: [alone], reasons };
}

/**
 * Reattach: maintenance-mode on, every node stopped (resources keep running, unmanaged), every
 * node started again: no resource may be started or stopped; maintenance-mode off: still none.
 */
async function reattach(c: CtsContext): Promise<CtsTestOutcome> {
  const reasons: string[] = [];
  const faultAt = Date.now();
  const before = activity(c);
  await check(reasons, 'reattach', async () => {
    await setMaintenance(c, true);
    await settle(c, nodeNames(c.lab));
    const since = Date.now();
    await stopNodes(c, nodeNames(c.lab));
    const during = activity(c);
    const lost = CTS_RESOURCES.filter((r) => during.get(r)!.join() !== before.get(r)!.join());
    if (lost.length > 0) reasons.push(`stopping the cluster in maintenance mode changed ${lost.map((r) => `${r} (${before.get(r)!.join(',') || '-'} -> ${during.get(r)!.join(',') || '-'})`).join(', ')}`);
    await Promise.all(nodeNames(c.lab).map((n) => startNodes(c, [n])));
    await settle(c, nodeNames(c.lab));
    await setMaintenance(c, false);
    await settle(c, nodeNames(c.lab));
    const logs = allLogs(c);
    const acts = [...new Set(nodeNames(c.lab).flatMap((n) => startStops(logs.get(n) ?? [], since, [...CTS_RESOURCES])))];
    if (acts.length > 0) reasons.push(`resources restarted on reattach: ${acts.join('; ')}`);
  });
  if (reasons.length > 0) await leaveMaintenance(c);
  return { detail: 'maintenance mode, stop and start the whole cluster, reattach', faultAt, lost: [], reasons };
}

/**
 * ResyncCIB: the CIB is changed (a marker property), every node stopped, one node's data
 * directory wiped; every node started: the wiped node must end with the cluster's CIB.
 */
async function resyncCib(c: CtsContext): Promise<CtsTestOutcome> {
  const reasons: string[] = [];
  const n = pick(c.rand, nodeNames(c.lab));
  const marker = String(Math.floor(c.rand() * 1e9));
  const faultAt = Date.now();
  await check(reasons, 'resync', async () => {
    // A marker left by an earlier run that could not remove it goes first.
    await anyRequest(c, 'cib.update', { op: 'delete', xpath: "//cluster_property_set[@id='cts-resync']" }).catch(() => undefined);
    await anyRequest(c, 'cib.update', { op: 'create', scope: 'crm_config', xml: `<cluster_property_set id="cts-resync"><nvpair id="cts-resync-marker-${marker}" name="cts-marker-${marker}" value="${marker}"/></cluster_property_set>` });
    await settle(c, nodeNames(c.lab));
    await stopNodes(c, nodeNames(c.lab));
    const data = join(byName(c.lab, n).dir, 'data');
    for (const e of readdirSync(data)) rmSync(join(data, e), { recursive: true, force: true });
    mkdirSync(data, { recursive: true });
    await Promise.all(nodeNames(c.lab).map((x) => startNodes(c, [x])));
    await settle(c, nodeNames(c.lab));
    const q = (await nodeRequest(byName(c.lab, n), 'cib.query', {})) as { xml: string };
    if (!q.xml.includes(`cts-marker-${marker}`)) reasons.push(`${n}, its CIB wiped, did not get the cluster's CIB (no marker ${marker})`);
  });
  await anyRequest(c, 'cib.update', { op: 'delete', xpath: "//cluster_property_set[@id='cts-resync']" }).catch((e: Error) => reasons.push(`removing the marker: ${e.message}`));
  return { detail: `wipe ${n}'s CIB with the cluster down, start all`, faultAt, lost: [], reasons };
}

/**
 * NearQuorumPointTest: around the quorum point of three nodes: one node stopped (2 of 3 keep
 * quorum and everything running), then at once a second stopped and the first started again.
 */
async function nearQuorumPoint(c: CtsContext): Promise<CtsTestOutcome> {
  const reasons: string[] = [];
  const [a, b, keep] = shuffle(c.rand, nodeNames(c.lab)) as [string, string, string];
  const faultAt = Date.now();
  await check(reasons, 'near the quorum point', async () => {
    await gracefulOrKill(c, a);
    await settle(c, [b, keep]);
    await Promise.all([gracefulOrKill(c, b), c.f.powerOn(a)]);
    await settle(c, [a, keep]);
    const act = activity(c);
    const off = CTS_RESOURCES.filter((r) => !act.get(r)!.some((x) => x === a || x === keep));
    if (off.length > 0) reasons.push(`with ${a},${keep} up, not running: ${off.join(',')}`);
  });
  return { detail: `stop ${a}; then stop ${b} while starting ${a}`, faultAt, lost: [], reasons };
}

/** PartialStart: a node stopped, started, and stopped again while it is still joining; the stop must complete. */
async function partialStart(c: CtsContext): Promise<CtsTestOutcome> {
  const reasons: string[] = [];
  const n = pick(c.rand, nodeNames(c.lab));
  const rest = nodeNames(c.lab).filter((x) => x !== n);
  const faultAt = Date.now();
  await check(reasons, 'partial start', async () => {
    await gracefulOrKill(c, n);
    await settle(c, rest);
    await c.f.powerOn(n);
    await sleep(Math.floor(c.rand() * 1500));
    await gracefulOrKill(c, n);
    await settle(c, rest);
  });
  return { detail: `start ${n} and stop it while it joins`, faultAt, lost: [], reasons };
}

const TESTS: Readonly<Record<CtsTestName, CtsTest>> = {
  StartOnebyOne: startOnebyOne,
  SimulStart: simulStart,
  SimulStop: simulStop,
  StopOnebyOne: stopOnebyOne,
  RestartOnebyOne: restartOnebyOne,
  RestartTest: restartTest,
  FlipTest: flipTest,
  StonithdTest: stonithdTest,
  StandbyTest: standbyTest,
  MaintenanceMode: maintenanceMode,
  ResourceRecover: resourceRecover,
  ComponentFail: componentFail,
  SplitBrainTest: splitBrainTest,
  Reattach: reattach,
  ResyncCIB: resyncCib,
  NearQuorumPointTest: nearQuorumPoint,
  PartialStart: partialStart,
};

/** Whether a name is one of CTS_TESTS (case-sensitive, as CTS spells them). */
export function isCtsTest(name: string): name is CtsTestName {
  return (CTS_TESTS as readonly string[]).includes(name);
}

// ---------------------------------------------------------------------------------------------
// Running a test with the invariants

/** One test (or random step) with its CTS checks and the drill invariants. */
export interface CtsStep {
  readonly step: number;
  readonly test: string;
  readonly detail: string;
  readonly passed: boolean;
  readonly durationMs: number;
  readonly reasons: readonly string[];
  readonly invariants: readonly InvariantResult[];
}

/** Brings every node back (power on, heal, undo network faults) and waits until the whole cluster settled. */
export async function restoreAll(c: CtsContext): Promise<Map<string, NodeStatus>> {
  try {
    c.f.heal();
  } catch {
    // Nothing partitioned.
  }
  for (const n of nodeNames(c.lab)) {
    for (const undo of [() => c.f.netLossClear(n), () => c.f.netDelayClear(n)]) {
      try {
        undo();
      } catch {
        // Not impaired.
      }
    }
  }
  await startNodes(c, nodeNames(c.lab));
  return settleRunning(c);
}

/** How long restoreAll waits, once settled, for every resource to run (the DC schedules the starts a moment after the join). */
export const RUNNING_GRACE_MS = 20_000;

/**
 * Settled, and then either every resource runs in two answers a second apart, or
 * RUNNING_GRACE_MS passed (the last answers are returned: the invariants judge them).
 */
async function settleRunning(c: CtsContext): Promise<Map<string, NodeStatus>> {
  const end = Date.now() + RUNNING_GRACE_MS;
  let st = await settle(c, nodeNames(c.lab));
  let clean = 0;
  while (Date.now() < end) {
    const stopped = [...st.values()].some((s) => (s.resources ?? []).some((r) => r.nodes.length === 0 || r.failed));
    clean = stopped ? 0 : clean + 1;
    if (clean >= 2) break;
    await sleep(stopped ? 500 : 1000);
    st = await settle(c, nodeNames(c.lab));
  }
  return st;
}

/**
 * The drill invariants after a step: single activity (the samples and now), fencing before
 * recovery for the lost nodes, and, from the settled statuses, one DC, the same CIB and nothing
 * stopped. `before`: where each resource ran before the step.
 */
export function stepInvariants(c: CtsContext, o: { before: ReadonlyMap<string, readonly string[]>; doubles: readonly string[]; lost: readonly string[]; faultAt: number; settled: readonly NodeStatus[] }): InvariantResult[] {
  const names = nodeNames(c.lab);
  const now = activity(c);
  const doubleNow = [...now].filter(([, on]) => on.length > 1).map(([r, on]) => `${r} on ${on.join(',')}`);
  const doubleView = o.settled.flatMap((s) => (s.resources ?? []).filter((r) => r.nodes.length > 1).map((r) => `${r.id} on ${r.nodes.join(',')} (as ${s.node} sees it)`));
  const all = [...o.doubles, ...doubleNow, ...doubleView];
  const single: InvariantResult = all.length === 0 ? { name: 'single-activity', status: 'ok' } : { name: 'single-activity', status: 'violated', detail: all.slice(0, 5).join('; ') };
  const dcs = new Set(o.settled.map((s) => s.dc));
  const oneDc: InvariantResult = o.settled.length === 0 ? { name: 'one-dc', status: 'violated', detail: 'not settled' } : dcs.size === 1 ? { name: 'one-dc', status: 'ok', detail: `${[...dcs][0]}` } : { name: 'one-dc', status: 'violated', detail: [...dcs].join(',') };
  return [single, fencingInvariant(c, o), oneDc, ...settledInvariants(o.settled, names)];
}

function fencingInvariant(c: CtsContext, o: { before: ReadonlyMap<string, readonly string[]>; lost: readonly string[]; faultAt: number }): InvariantResult {
  if (o.lost.length === 0) return { name: 'fencing-before-recovery', status: 'n/a', detail: 'no node lost uncleanly' };
  const logs = allLogs(c);
  const now = activity(c);
  const problems: string[] = [];
  let checked = 0;
  for (const lost of o.lost) {
    for (const [rsc, was] of o.before) {
      if (!was.includes(lost)) continue;
      const to = now.get(rsc)?.[0];
      if (to === undefined || to === lost) continue;
      checked++;
      const whys = [...logs].filter(([n]) => n !== lost).map(([n, log]) => ({ n, why: fencingBeforeRecovery(log, lost, rsc, to, o.faultAt) }));
      // The node that dispatched the start is the one whose log has it: judge by that log.
      const judged = whys.filter((w) => w.why === undefined || !/^no start of/.test(w.why));
      if (judged.length === 0) problems.push(`${rsc} on ${to}: no log has its start after the fault`);
      else if (!judged.some((w) => w.why === undefined)) problems.push(judged.map((w) => `${w.n}'s log: ${w.why!}`).join('; '));
    }
  }
  if (checked === 0) return { name: 'fencing-before-recovery', status: 'n/a', detail: `nothing moved off ${o.lost.join(',')}` };
  return problems.length === 0 ? { name: 'fencing-before-recovery', status: 'ok', detail: `${checked} resource(s) moved off ${o.lost.join(',')}` } : { name: 'fencing-before-recovery', status: 'violated', detail: problems.join('; ') };
}

/**
 * Runs one step: `body` (a CTS test or a fault) with the activity sampler on, then restoreAll
 * and the invariants. Never throws for the cluster's misbehaviour: it becomes a reason.
 */
export async function runStep(c: CtsContext, step: number, test: string, body: (c: CtsContext) => Promise<CtsTestOutcome>): Promise<CtsStep> {
  const start = Date.now();
  const before = activity(c);
  const sampler = sampleActivity(c);
  let outcome: CtsTestOutcome;
  try {
    outcome = await body(c);
  } catch (e) {
    outcome = { detail: test, faultAt: start, lost: [], reasons: [`${test}: ${(e as Error).message}`] };
  }
  const reasons = [...outcome.reasons];
  let settled: NodeStatus[] = [];
  try {
    settled = [...(await restoreAll(c)).values()];
  } catch (e) {
    reasons.push(`after the step: ${(e as Error).message}`);
  }
  const doubles = await sampler.stop();
  const invariants = stepInvariants(c, { before, doubles, lost: outcome.lost, faultAt: outcome.faultAt, settled });
  const bad = invariants.filter((i) => i.status === 'violated').map((i) => `invariant ${i.name} violated${i.detail ? `: ${i.detail}` : ''}`);
  return { step, test, detail: outcome.detail, passed: reasons.length === 0 && bad.length === 0, durationMs: Date.now() - start, reasons: [...reasons, ...bad], invariants };
}

/** Runs the named CTS test as one step. */
export function runCtsTest(c: CtsContext, step: number, name: CtsTestName): Promise<CtsStep> {
  return runStep(c, step, name, TESTS[name]);
}
