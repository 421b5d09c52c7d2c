/**
 * The cluster's safety and liveness properties, checked while the simulation runs. Each violation
 * is a sentence with the simulated time, so a failing seed explains itself:
 *
 * - one DC: two nodes that both believe they are the DC of a quorate membership may coexist only
 *   while the stale one has not yet noticed that it is cut off (dcSplitGraceMs);
 * - one place: a primitive outside clones never becomes active on a node while it is active on
 *   another (read from the simulated agents, not from the CIB);
 * - fencing first: when stonith is enabled, a resource that was active on a node that was lost
 *   (powered off without a clean stop) starts elsewhere only after that node was fenced (or has
 *   booted again, which is as good);
 * - CIB versions persisted by a node never go backwards;
 * - an acknowledged client update is present in the CIB of every node that joins a quorate
 *   membership after the acknowledgement;
 * - convergence (`convergence()`): every node joined in one membership, the DC idle, the
 *   scheduler wanting nothing more, and the status section matching what really runs.
 */
import { childElements, compareCibVersions, firstChild, formatVersion, parseCib, withAttrs, writeElement, type CibVersion, type XmlElement } from '@paceline/cib';
import { unpackCluster } from '@paceline/scheduler';
import type { ClientCall, ClusterSim, NodeRuntime } from './world.js';
import { computePlan } from './world.js';

export interface CheckOptions {
  /** How long two quorate DCs may coexist (failure detection, then a new view): see the module doc. */
  readonly dcSplitGraceMs: number;
  /** Stop recording after this many violations (the first ones explain the failure). */
  readonly violationsMax: number;
}

export const CHECK_DEFAULTS: CheckOptions = {
  dcSplitGraceMs: 5_000,
  violationsMax: 20,
};

interface LostNode {
  readonly atMs: number;
  readonly rscs: ReadonlySet<string>;
}

export class Checker {
  readonly violations: string[] = [];
  readonly opts: CheckOptions;
  private readonly persisted = new Map<number, CibVersion>();
  private readonly lost = new Map<string, LostNode>();
  private readonly acked: { marker: string; atMs: number; version: string }[] = [];
  private splitSinceMs: number | undefined;
  private splitReported = false;
  /** Counters, to show that a run exercised something. */
  readonly seen = { starts: 0, fences: 0, joins: 0, persists: 0, acked: 0, dcSplits: 0, toleratedDoubles: 0 };

  constructor(
    private readonly sim: ClusterSim,
    opts: Partial<CheckOptions> = {},
  ) {
    this.opts = { ...CHECK_DEFAULTS, ...opts };
  }

  violation(text: string): void {
    if (this.violations.length >= this.opts.violationsMax) return;
    const line = `at ${this.sim.nowMs} ms: ${text}`;
    this.violations.push(line);
    this.sim.log(`VIOLATION ${text}`);
  }

  onBoot(rt: NodeRuntime): void {
    // A node that booted again runs nothing: as safe as fenced.
    this.lost.delete(rt.spec.name);
  }

  onCrash(rt: NodeRuntime): void {
    const name = rt.spec.name;
    const rscs = new Set<string>();
    for (const [rsc, nodes] of this.sim.agents.activeMap()) if (nodes.includes(name)) rscs.add(rsc);
    this.lost.set(name, { atMs: this.sim.nowMs, rscs });
  }

  onFence(target: string): void {
    this.seen.fences++;
    this.lost.delete(target);
  }

  onStart(node: string, rsc: string, agentClass: string): void {
    this.seen.starts++;
    if (agentClass === 'stonith') return;
    const rt = this.sim.runtimeByName(node);
    const cib = rt?.controller.cib;
    if (cib && clonedPrimitives(cib).has(rsc)) return;
    const others = this.sim.agents.activeOn(rsc).filter((n) => n !== node);
    const fencing = cib !== undefined && stonithEnabled(cib);
    // Without fencing, a partition makes both sides act before they hear of each other (Pacemaker
    // too): only a double start within one membership is then a fault.
    const view = rt?.controller.currentMembership?.viewKey;
    const counted = fencing ? others : others.filter((n) => this.sim.runtimeByName(n)?.controller.currentMembership?.viewKey === view);
    if (counted.length > 0) this.violation(`${rsc} starts on ${node} while it is active on ${counted.join(', ')}`);
    else if (others.length > 0) this.seen.toleratedDoubles++;
    if (!fencing) return;
    for (const [lostNode, l] of this.lost) {
      if (lostNode !== node && l.rscs.has(rsc)) {
        this.violation(`${rsc} starts on ${node}, but ${lostNode} (lost at ${l.atMs} ms while running it) has not been fenced`);
      }
    }
  }

  onPersist(rt: NodeRuntime, v: CibVersion): void {
    this.seen.persists++;
    const prev = this.persisted.get(rt.spec.id);
    if (prev && compareCibVersions(v, prev) < 0) this.violation(`${rt.spec.name} persisted CIB ${formatVersion(v)} after ${formatVersion(prev)} (a version went backwards)`);
    if (!prev || compareCibVersions(v, prev) > 0) this.persisted.set(rt.spec.id, v);
  }

  onReply(call: ClientCall): void {
    if (!call.reply?.ok || call.marker === undefined) return;
    this.seen.acked++;
    const version = (call.reply.result as { version?: string } | undefined)?.version ?? '?';
    this.acked.push({ marker: call.marker, atMs: this.sim.nowMs, version });
  }

  onJoin(rt: NodeRuntime): void {
    this.seen.joins++;
    this.checkAcked(rt, rt.joinedAtMs ?? this.sim.nowMs);
  }

  /** Every update acknowledged before `sinceMs` is in rt's CIB, when rt is joined in a quorate membership. */
  checkAcked(rt: NodeRuntime, sinceMs: number): void {
    if (!rt.controller.joined || !rt.controller.currentMembership?.quorate) return;
    const present = crmConfigIds(rt.controller.cib);
    for (const a of this.acked) {
      if (a.atMs < sinceMs && !present.has(a.marker)) {
        this.violation(`${rt.spec.name} joined a quorate membership with CIB ${formatVersion(rt.controller.cibVersion)} lacking update ${a.marker}, acknowledged at ${a.atMs} ms (version ${a.version})`);
      }
    }
  }

  afterStep(): void {
    // two_node quorum (one vote of two) lets both halves of a split be quorate by design: fencing,
    // not quorum, decides there, and nothing starts before it succeeds (the fencing check).
    const majority = (rt: NodeRuntime): boolean => 2 * (rt.controller.currentMembership?.quorumVotes ?? 0) > this.sim.specs.length;
    const dcs = this.sim.up().filter((rt) => rt.controller.isDc && rt.controller.currentMembership?.quorate && majority(rt));
    if (dcs.length < 2) {
      this.splitSinceMs = undefined;
      this.splitReported = false;
      return;
    }
    if (this.splitSinceMs === undefined) {
      this.splitSinceMs = this.sim.nowMs;
      this.seen.dcSplits++;
    }
    if (!this.splitReported && this.sim.nowMs - this.splitSinceMs > this.opts.dcSplitGraceMs) {
      this.splitReported = true;
      const what = dcs.map((rt) => `${rt.spec.name} [${rt.controller.currentMembership?.members.join(',')}]`).join(' and ');
      this.violation(`two DCs of quorate memberships for more than ${this.opts.dcSplitGraceMs} ms: ${what}`);
    }
  }

  /** At the end of a run: the acknowledged updates are in every joined, quorate node's CIB. */
  finalChecks(): void {
    for (const rt of this.sim.up()) this.checkAcked(rt, this.sim.nowMs + 1);
  }
}

/** Why the cluster has not converged, or undefined when it has. */
export function convergence(sim: ClusterSim): string | undefined {
  const up = sim.up();
  if (up.length === 0) return 'no node is running';
  const ids = up.map((rt) => rt.spec.id).join(',');
  for (const rt of up) {
    const m = rt.controller.currentMembership;
    if (!rt.controller.joined || !m) return `${rt.spec.name} has not joined`;
    if (m.members.join(',') !== ids) return `${rt.spec.name}'s membership is [${m.members.join(',')}], running nodes are [${ids}]`;
    if (m.viewKey !== up[0]!.controller.currentMembership!.viewKey) return `${rt.spec.name} is in view ${m.viewKey}, ${up[0]!.spec.name} in ${up[0]!.controller.currentMembership!.viewKey}`;
  }
  const dcId = up[0]!.controller.dc;
  const dc = dcId !== undefined ? sim.runtimes.get(dcId) : undefined;
  if (!dc?.up) return 'no DC';
  const t = dc.controller.transitionState;
  if (t.state !== 'idle') return `the DC's transition is ${t.state}`;
  const version = formatVersion(dc.controller.cibVersion);
  for (const rt of up) if (formatVersion(rt.controller.cibVersion) !== version) return `${rt.spec.name} has CIB ${formatVersion(rt.controller.cibVersion)}, the DC ${version}`;
  const m = dc.controller.currentMembership!;
  const nowSec = Math.floor(sim.wallMs() / 1000);
  const key = `${m.quorate}|${dc.spec.id}|${nowSec}|${[...sim.agents.activeMap()].map(([r, n]) => `${r}@${n.join('+')}`).join(' ')}`;
  const cached = planVerdicts.get(dc.controller.cib);
  if (cached?.key === key) return cached.verdict;
  const verdict = schedulerVerdict(sim, dc.controller.cib, m.quorate, dc.spec.id, nowSec);
  planVerdicts.set(dc.controller.cib, { key, verdict });
  return verdict;
}

/** Convergence verdicts by CIB (immutable trees): the scheduler runs once per CIB, time and reality. */
const planVerdicts = new WeakMap<XmlElement, { key: string; verdict: string | undefined }>();

function schedulerVerdict(sim: ClusterSim, cib: XmlElement, quorate: boolean, dcId: number, nowSec: number): string | undefined {
  const input = withAttrs(cib, { 'have-quorum': quorate ? '1' : '0', 'dc-uuid': String(dcId) });
  const xml = writeElement(input);
  const plan = computePlan(xml, nowSec);
  if ('error' in plan) return `the scheduler fails: ${plan.error}`;
  const wanted = plan.actions.filter((a) => !a.blocked && a.kind !== 'pseudo');
  if (wanted.length > 0) return `the scheduler still wants ${wanted.length} action(s): ${wanted.slice(0, 4).map((a) => a.key + (a.node ? ` on ${a.node}` : '')).join(', ')}`;
  return realityMismatch(sim, xml, nowSec);
}

/** Whether the status section says what the agents really run (primitives of classes ocf and lsb). */
function realityMismatch(sim: ClusterSim, xml: string, nowSec: number): string | undefined {
  const state = unpackCluster(parseCib(xml), { nowSec });
  const cibSays = new Map<string, Set<string>>();
  const blocked = new Set<string>();
  for (const r of state.resources) {
    if (r.variant !== 'primitive' || r.agent?.startsWith('stonith:')) continue;
    // A stop that failed without fencing leaves the resource blocked until an administrator's
    // cleanup (Pacemaker does the same): what really runs cannot be known from the CIB.
    if (r.blocked || !r.managed) blocked.add(r.id.replace(/:\d+$/, ''));
    const key = r.id.replace(/:\d+$/, '');
    const set = cibSays.get(key) ?? new Set<string>();
    for (const n of r.runningOn) set.add(n);
    cibSays.set(key, set);
  }
  const real = sim.agents.activeMap();
  for (const key of new Set([...cibSays.keys(), ...[...real.keys()].filter((k) => !k.includes('('))])) {
    if (blocked.has(key)) continue;
    const a = [...(cibSays.get(key) ?? [])].sort().join(',');
    const b = (real.get(key) ?? []).join(',');
    if (a !== b) return `${key}: the CIB says active on [${a}], the agents on [${b}]`;
  }
  return undefined;
}

/** Ids of primitives inside a clone, master or bundle: they may be active on several nodes. */
export function clonedPrimitives(cib: XmlElement): Set<string> {
  const out = new Set<string>();
  const config = firstChild(cib, 'configuration');
  const rscs = config ? firstChild(config, 'resources') : undefined;
  const visit = (el: XmlElement, inClone: boolean): void => {
    const clone = inClone || el.name === 'clone' || el.name === 'master' || el.name === 'bundle';
    if (el.name === 'primitive' && clone && el.attrs['id'] !== undefined) out.add(el.attrs['id']);
    for (const c of childElements(el)) visit(c, clone);
  };
  if (rscs) for (const c of childElements(rscs)) visit(c, false);
  return out;
}

function crmConfigNvpairs(cib: XmlElement): XmlElement[] {
  const config = firstChild(cib, 'configuration');
  const crm = config ? firstChild(config, 'crm_config') : undefined;
  const out: XmlElement[] = [];
  for (const set of crm ? childElements(crm, 'cluster_property_set') : []) out.push(...childElements(set, 'nvpair'));
  return out;
}

function crmConfigIds(cib: XmlElement): Set<string> {
  return new Set(crmConfigNvpairs(cib).map((nv) => nv.attrs['id'] ?? ''));
}

/** Pacemaker's default: stonith-enabled is true unless set false. */
export function stonithEnabled(cib: XmlElement): boolean {
  const v = crmConfigNvpairs(cib).find((nv) => nv.attrs['name'] === 'stonith-enabled')?.attrs['value'];
  return v === undefined || !/^(false|no|off|n|0)$/i.test(v);
}
