/**
 * The controller of one node, as a state machine: the same code runs in the daemon (driven by the
 * messaging worker, the executor, the scheduler worker and timers) and in the simulator (driven
 * by a fake world). It never reads a clock, opens a socket or touches a disk: every input comes
 * through a method with the time it happened, and every effect goes out through `ready()`.
 *
 * What it does
 * - Replicated CIB: every mutation is a `crmd` group message applied by every member in the
 *   messaging layer's total order (messages.ts). On a new membership every member says which CIB
 *   version it holds; the best one (from the previous quorate partition first, then the newest) is
 *   sent in full and every member adopts it, then each member re-announces its own node's resource
 *   history, as Pacemaker's join rebuilds the status from each node's executor.
 * - DC: the lowest node id of the membership, once the join is complete. Only the DC schedules,
 *   runs transitions and fences.
 * - Transition engine (DC): the scheduler's plan is executed in its order; agent actions go to
 *   the target node's executor, whose results come back as `op` messages (recorded by every member
 *   into the status section as Pacemaker records them); an unexpected result or a membership change
 *   aborts the transition (in-flight actions finish), then the scheduler runs again.
 * - Attribute manager: fail counts and last-failure are updated deterministically when a failed
 *   result is applied; transient and permanent node attributes via `attr` messages.
 * - Fencing (DC): a fence action runs the configured stonith device on the DC's executor (through
 *   the target's fencing levels when it has some, fencing.ts); the outcome (`fenced`) clears the
 *   target's status before anything depending on it runs, and every member keeps it in its fence
 *   history (persisted by the driver, merged between members at every join).
 * - Client updates: accepted only in a quorate partition; an update names the version it was based
 *   on (a mismatch is rejected everywhere alike and changes nothing); the origin answers "ok" once
 *   a quorum of members has applied and persisted it (the driver persists before it sends acks).
 */
import {
  applyChange,
  cibadmin,
  compareCibVersions,
  escapeAttr,
  firstChild,
  childElements,
  formatVersion,
  parseXml,
  readVersion,
  withAttrs,
  withVersion,
  writeElement,
  type CibadminRequest,
  type CibVersion,
  type XmlElement,
  validateCib,
  parseIntervalMs,
  readCib,
} from '@paceline/cib';
import type { ActionRequest, ActionResult, AgentClass } from '@paceline/executor';
import {
  clearNodeHistory,
  clearResourceHistory,
  recordOpResult,
  setNodeAttribute,
  setNodeState,
  unpackCluster,
  OpParamSource,
  type FenceDevice,
  type OpResultRecord,
  type PlannedAction,
  type TransitionPlan,
} from '@paceline/scheduler';
import { decodeCrm, encodeCrm, type CrmMessage, type WireCibRequest } from './messages.js';
import {
  EMPTY_FENCE_HISTORY,
  fenceHistoryDigest,
  fenceLevelsFor,
  mergeFenceHistory,
  readFenceHistory,
  type FenceHistoryRecord,
  type FenceHistoryState,
  type FenceLevel,
  type FenceLevelAttempt,
} from './fencing.js';

export interface ControllerNode {
  readonly id: number;
  readonly name: string;
}

export interface ControllerTiming {
  /** Changes arriving within this window are scheduled together (Pacemaker batches CIB changes too). */
  readonly scheduleDebounceMs: number;
  /** Added to an action's own timeout before the DC gives up on its result (Pacemaker's cluster-delay). */
  readonly actionGraceMs: number;
  /** After a failed fencing attempt, wait this long before the scheduler asks again. */
  readonly fenceRetryMs: number;
  /**
   * While the configuration holds time-based rules (date expressions), the DC re-runs the
   * scheduler at least this often (cluster-recheck-interval when shorter).
   */
  readonly recheckMs: number;
}

export const CONTROLLER_TIMING_DEFAULTS: { readonly [K in keyof ControllerTiming]: { value: number; reason: string } } = {
  scheduleDebounceMs: { value: 20, reason: 'long enough to batch the results of one step of a transition, short next to a failover' },
  actionGraceMs: { value: 20_000, reason: 'an action result is lost only if its node is lost, which a view change reports sooner' },
  fenceRetryMs: { value: 2_000, reason: 'retries a failed fence device soon without a tight loop' },
  recheckMs: {
    value: 60_000,
    reason: 'with date expressions in the configuration, time-based rules take effect within a minute (failure-timeout has its exact recheck-by)',
  },
};

export interface ControllerOptions {
  readonly self: ControllerNode;
  /** Every configured node (from the node's config file). */
  readonly nodes: readonly ControllerNode[];
  /** The CIB this node persisted, as XML text, or undefined on a first start. */
  readonly cibXml: string | undefined;
  /**
   * The CIB version this node last changed while in a quorate partition (persisted next to the
   * CIB; see ControllerOutput.quorateVersion). A join prefers the CIB with the newest one.
   */
  readonly quorateVersion?: CibVersion;
  readonly timing?: Partial<ControllerTiming>;
  /** The fence history this node persisted (ControllerOutput.fenceHistory), or undefined on a first start. */
  readonly fenceHistory?: FenceHistoryState;
}

/** The membership the controller works in: the crmd group members of the current view. */
export interface Membership {
  /** Identifies the view (messaging's view key); with the member list it names this membership. */
  readonly viewKey: string;
  readonly members: readonly number[];
  readonly quorate: boolean;
  /** Votes needed for quorum (acks needed before a client update is "ok"). */
  readonly quorumVotes: number;
}

export type ClientRequest =
  | { readonly kind: 'cib-update'; readonly base?: string; readonly request: WireCibRequest }
  | { readonly kind: 'attr'; readonly node: string; readonly name: string; readonly value?: string; readonly lifetime: 'forever' | 'reboot' }
  /** crm_resource --cleanup: forget the resource's history and fail counts where it has failures. */
  | { readonly kind: 'cleanup'; readonly lrmId: string; readonly node?: string }
  /**
   * crm_resource --refresh: forget the whole history and fail counts of a resource (or, without
   * `lrmId`, of every resource) on `node` (or every node), failures or not: it is probed again.
   */
  | { readonly kind: 'refresh'; readonly lrmId?: string; readonly node?: string }
  /** stonith_admin --cleanup --history: forget the fencing outcomes of `target` (or of every node). */
  | { readonly kind: 'fence-history-clear'; readonly target?: string };

export interface ClientReply {
  readonly reqId: string;
  readonly ok: boolean;
  readonly result?: unknown;
  readonly error?: { readonly code: string; readonly message: string };
}

export interface ExecOrder {
  /** Local tag; results come back through onExecResult(tag, result). */
  readonly tag: number;
  readonly request: ActionRequest;
}

export interface ScheduleOrder {
  readonly token: number;
  readonly cibXml: string;
  readonly nowSec: number;
}

export interface JournalEvent {
  readonly event: string;
  readonly [field: string]: unknown;
}

export interface ControllerOutput {
  readonly send: CrmMessage[];
  readonly exec: ExecOrder[];
  readonly cancel: { readonly lrmId: string; readonly intervalMs?: number }[];
  readonly schedule: ScheduleOrder[];
  /** The CIB changed: the driver persists `cibXml()` (this version) before it sends `send`. */
  persist: CibVersion | undefined;
  /** Persist with the CIB: the version last changed in a quorate partition (ControllerOptions.quorateVersion). */
  quorateVersion: CibVersion | undefined;
  readonly replies: ClientReply[];
  readonly journal: JournalEvent[];
  /** The node may exit now (after a graceful shutdown). */
  exit: boolean;
  /**
   * This node fenced itself without a fence device (see README, no-quorum-policy=suicide): it has
   * stopped what it ran, as hard as it could, and must now exit at once, without the graceful
   * shutdown, with a failure status so that its supervisor starts it again (a reboot). `exit` is
   * set too. The reason, for the log.
   */
  selfFence: string | undefined;
  /** The fence history changed: the driver persists it (and passes it back in ControllerOptions). */
  fenceHistory: FenceHistoryState | undefined;
}

function emptyOutput(): ControllerOutput {
  return { send: [], exec: [], cancel: [], schedule: [], persist: undefined, quorateVersion: undefined, replies: [], journal: [], exit: false, selfFence: undefined, fenceHistory: undefined };
}

type ActionState = 'pending' | 'dispatched' | 'done' | 'failed';

interface Transition {
  readonly id: number;
  readonly plan: TransitionPlan;
  readonly state: Map<number, ActionState>;
  readonly deadline: Map<number, number>;
  readonly byId: Map<number, PlannedAction>;
  aborted: string | undefined;
  readonly startedMs: number;
}

type LocalCall =
  | { readonly kind: 'action'; readonly dc: number; readonly tr: number; readonly action: PlannedAction; reported: boolean; readonly transitionKey: string }
  | { readonly kind: 'fence'; readonly tr: number; readonly action: PlannedAction; readonly device: FenceDevice; readonly reason: string | undefined }
  /** An administrator's fencing request (stonith_admin), outside any transition: `requestFence`. */
  | { readonly kind: 'manual-fence'; readonly reqId: string; readonly target: string; readonly action: 'off' | 'on' | 'reboot'; readonly device: FenceDevice }
  /** One device run of a fencing operation through the target's fencing topology. */
  | { readonly kind: 'fence-step'; readonly op: TopologyFence; readonly step: FenceStep };

/** Who asked for a fencing through the topology: a transition's fence action, or stonith_admin. */
type FenceOrigin =
  | { readonly kind: 'transition'; readonly tr: number; readonly action: PlannedAction; readonly reason: string }
  | { readonly kind: 'manual'; readonly reqId: string };

/** One device run within a level: a reboot through several devices is "off" on each, then "on". */
interface FenceStep {
  readonly deviceId: string;
  readonly action: string;
  /** An "on" of a remapped reboot: its failure does not fail the level. */
  readonly optional: boolean;
}

/** A fencing operation working through the target's topology levels (fencing.ts), on the DC (or the stonith_admin node). */
interface TopologyFence {
  readonly target: string;
  readonly action: 'off' | 'on' | 'reboot';
  readonly origin: FenceOrigin;
  readonly levels: readonly FenceLevel[];
  readonly devices: ReadonlyMap<string, FenceDevice>;
  /** Position in `levels`, and in the current level's steps. */
  levelPos: number;
  stepPos: number;
  steps: readonly FenceStep[];
  readonly attempts: FenceLevelAttempt[];
}

interface PendingUpdate {
  readonly acks: Set<number>;
  applied: boolean;
  version: string | undefined;
}

export interface ControllerCounters {
  messagesDropped: number;
  transitions: number;
  transitionsAborted: number;
  actionsDispatched: number;
  actionsFailed: number;
  fencingOk: number;
  fencingFailed: number;
  updatesRejected: number;
}

const INFINITY = 1_000_000;
/** Call id of a pending operation in a join's history refresh: after every finished one. */
const PENDING_CALL_ID = 2_147_483_647;

function versionTuple(v: CibVersion): [number, number, number] {
  return [v.adminEpoch, v.epoch, v.numUpdates];
}

function tupleVersion(t: readonly [number, number, number]): CibVersion {
  return { adminEpoch: t[0], epoch: t[1], numUpdates: t[2] };
}

/** A minimal valid CIB for a first start without a configuration. */
export function emptyCibXml(): string {
  return '<cib crm_feature_set="3.16.2" validate-with="pacemaker-3.9" epoch="0" num_updates="0" admin_epoch="0"><configuration><crm_config/><nodes/><resources/><constraints/></configuration><status/></cib>';
}

function crmConfigOption(cib: XmlElement, name: string): string | undefined {
  const config = firstChild(cib, 'configuration');
  const crm = config ? firstChild(config, 'crm_config') : undefined;
  for (const set of crm ? childElements(crm, 'cluster_property_set') : []) {
    for (const nv of childElements(set, 'nvpair')) if (nv.attrs['name'] === name) return nv.attrs['value'];
  }
  return undefined;
}

/** Pacemaker's default cluster-recheck-interval. */
const RECHECK_INTERVAL_DEFAULT_MS = 15 * 60_000;

/** Whether the configuration holds a date expression (a rule whose outcome changes with time). */
function hasDateExpression(cib: XmlElement): boolean {
  const config = firstChild(cib, 'configuration');
  const visit = (el: XmlElement): boolean => el.name === 'date_expression' || el.children.some((c) => c.kind === 'element' && visit(c));
  return config !== undefined && visit(config);
}

function isTrueValue(v: string | undefined): boolean {
  return v !== undefined && /^(true|yes|on|y|1)$/i.test(v);
}

/** Pacemaker's interval spec (e.g. "15min", "60s", "PT5M", "5000ms") to ms; undefined when unreadable. */
export function parseDurationMs(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  const m = /^(\d+(?:\.\d+)?)\s*(ms|msec|s|sec|m|min|h|hr)?$/i.exec(t);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = (m[2] ?? 's').toLowerCase();
  const mult = unit === 'ms' || unit === 'msec' ? 1 : unit === 's' || unit === 'sec' ? 1000 : unit === 'm' || unit === 'min' ? 60_000 : 3_600_000;
  return Math.round(n * mult);
}

/**
 * The fence devices that can fence `target` (all of them when undefined), the most preferred
 * first: higher priority, then id in byte order (as Pacemaker's fencer picks among devices).
 */
export function fenceDevicesFor(devices: readonly FenceDevice[], target?: string): FenceDevice[] {
  return devices
    .filter((d) => target === undefined || d.hostList === undefined || d.hostList.includes(target))
    .sort((a, b) => b.priority - a.priority || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export class ControllerCore {
  readonly self: ControllerNode;
  private nodes: readonly ControllerNode[];
  private nodeById: Map<number, ControllerNode>;
  private readonly timing: ControllerTiming;
  readonly counters: ControllerCounters = {
    messagesDropped: 0,
    transitions: 0,
    transitionsAborted: 0,
    actionsDispatched: 0,
    actionsFailed: 0,
    fencingOk: 0,
    fencingFailed: 0,
    updatesRejected: 0,
  };

  private cibRoot: XmlElement;
  private out: ControllerOutput = emptyOutput();
  private nowMs = 0;
  private wallMs = 0;

  // Membership and join
  private membership: Membership | undefined;
  private membershipKey = '';
  private phase: 'alone' | 'syncing' | 'joined' = 'alone';
  private wasQuorate = false;
  /** This process has been in a quorate membership (Pacemaker's controld_ever_had_quorum). */
  private everQuorate = false;
  private quorateVersion: CibVersion;
  private readonly hellos = new Map<number, { version: CibVersion; quorateVersion: CibVersion; digest: string; wasQuorate: boolean; node: string; records: readonly OpResultRecord[]; fresh: boolean; fh: string | undefined }>();
  /** This controller has completed a join since it started (its hellos are no longer `fresh`). */
  private everJoined = false;
  /** Results of this node's executor (op, fenced) produced during a join: sent once it completes. */
  private heldResults: CrmMessage[] = [];
  private syncDecided = false;
  private buffered: { sender: number; m: CrmMessage }[] = [];

  // Local executor
  private nextTag = 1;
  private readonly calls = new Map<number, LocalCall>();
  /** This node's own resource history: lrmId -> op key -> record (what lrm refresh announces). */
  private readonly localHistory = new Map<string, Map<string, OpResultRecord>>();
  /** Recurring calls by lrmId:interval, so that a stop can cancel them. */
  private readonly recurring = new Map<string, number>();

  // DC
  private transition: Transition | undefined;
  private nextTransitionId = 1;
  private scheduleWantedAtMs: number | undefined;
  private scheduling: { token: number; forMembership: string } | undefined;
  private nextToken = 1;
  private lastScheduleMs = -Infinity;
  private lastPlan: TransitionPlan | undefined;
  private readonly fenceAttempts = new Map<string, number>();
  /** Fencings started outside a transition (stonith_admin), by target, until their outcome (the `fencing` message). */
  private readonly fencesInFlight = new Map<string, { by: string; action: string; untilMs: number; rejoined: boolean }>();
  /** Every member's record of fencing outcomes (persisted by the driver, merged at joins). */
  private fenceHistoryState: FenceHistoryState;
  /** Numbers this node's fencing outcomes (with its name and the time: a cluster-unique history id). */
  private nextFenceSeq = 1;

  // Clients
  private nextReq = 1;
  private readonly pendingUpdates = new Map<string, PendingUpdate>();

  // Shutdown
  private shuttingDown = false;
  /** Self-fencing (no-quorum-policy=suicide): no new work; `stops` are the hard stops still running. */
  private selfFencing: { readonly reason: string; readonly stops: Set<number> } | undefined;
  /** Monotonic ms by which a fail count expires (failure-timeout): the DC schedules again then. */
  private recheckAtMs: number | undefined;
  /** Expired fail counts the DC asked to clear (node|rsc|last-failure), so it asks once. */
  private readonly clearingFailCounts = new Set<string>();

  constructor(opts: ControllerOptions) {
    this.self = opts.self;
    this.nodes = opts.nodes;
    this.nodeById = new Map(opts.nodes.map((n) => [n.id, n]));
    const timing: Record<string, number> = {};
    for (const [k, v] of Object.entries(CONTROLLER_TIMING_DEFAULTS)) timing[k] = opts.timing?.[k as keyof ControllerTiming] ?? v.value;
    this.timing = timing as unknown as ControllerTiming;
    this.cibRoot = parseXml(opts.cibXml ?? emptyCibXml()).root;
    this.quorateVersion = opts.quorateVersion ?? { adminEpoch: 0, epoch: 0, numUpdates: 0 };
    this.fenceHistoryState = opts.fenceHistory ? mergeFenceHistory(EMPTY_FENCE_HISTORY, readFenceHistory(opts.fenceHistory)) : EMPTY_FENCE_HISTORY;
  }

  /** The fencing outcomes this node knows of (of every member: merged at joins), oldest first. */
  get fenceHistory(): readonly FenceHistoryRecord[] {
    return this.fenceHistoryState.entries;
  }

  // ---------------------------------------------------------------------------------------------
  // Read-only views

  get cib(): XmlElement {
    return this.cibRoot;
  }

  get cibVersion(): CibVersion {
    return readVersion(this.cibRoot);
  }

  /** The DC's node id, once the membership is joined. */
  get dc(): number | undefined {
    if (this.phase !== 'joined' || !this.membership) return undefined;
    return this.membership.members[0];
  }

  get isDc(): boolean {
    return this.dc === this.self.id;
  }

  get joined(): boolean {
    return this.phase === 'joined';
  }

  get currentMembership(): Membership | undefined {
    return this.membership;
  }

  /** idle, scheduling or running (meaningful on the DC). */
  get transitionState(): { state: 'idle' | 'scheduling' | 'running'; id: number } {
    if (this.transition) return { state: 'running', id: this.transition.id };
    if (this.scheduling || this.scheduleWantedAtMs !== undefined) return { state: 'scheduling', id: this.nextTransitionId - 1 };
    return { state: 'idle', id: this.nextTransitionId - 1 };
  }

  get lastTransitionPlan(): TransitionPlan | undefined {
    return this.lastPlan;
  }

  nodeName(id: number): string {
    return this.nodeById.get(id)?.name ?? String(id);
  }

  /**
   * Replaces the configured nodes (an agreed nodelist change of the messaging layer: a node
   * added to or removed from the running cluster). The CIB's node entries follow the joins as
   * before: a new node gets its entry when it first joins.
   */
  setNodes(nodes: readonly ControllerNode[]): void {
    this.nodes = [...nodes];
    this.nodeById = new Map(nodes.map((n) => [n.id, n]));
  }

  private nodeByName(name: string): ControllerNode | undefined {
    return this.nodes.find((n) => n.name === name);
  }

  /** Collects and clears what the driver must do. */
  ready(): ControllerOutput {
    const out = this.out;
    this.out = emptyOutput();
    return out;
  }

  private send(m: CrmMessage): void {
    // Results produced while a join is in progress wait for it to complete: the members buffer
    // mutations during a join and drop them when the membership changes again before it
    // completes, and the DC would then wait for a result that never comes (found by the drills:
    // a fence or a probe answered during a whole-cluster restart stalled the transition until
    // its timeout). Sent once joined, they reach every member in the same joined state.
    if ((m.t === 'op' || m.t === 'fenced') && this.phase !== 'joined') {
      this.heldResults.push(m);
      return;
    }
    this.out.send.push(m);
  }

  private log(event: string, fields: Record<string, unknown> = {}): void {
    this.out.journal.push({ event, ...fields });
  }

  private setTime(nowMs: number, wallMs: number): void {
    this.nowMs = nowMs;
    this.wallMs = wallMs;
  }

  // ---------------------------------------------------------------------------------------------
  // Inputs

  /** A new view or a change of the crmd group: start the join. */
  onMembership(given: Membership, nowMs: number, wallMs: number): void {
    this.setTime(nowMs, wallMs);
    const m: Membership = { ...given, members: [...given.members].sort((a, b) => a - b) };
    const key = `${m.viewKey}|${m.members.join(',')}`;
    if (key === this.membershipKey) {
      this.membership = m;
      return;
    }
    const previous = this.membership;
    if (previous) this.wasQuorate = previous.quorate;
    this.membership = m;
    this.membershipKey = key;
    if (m.quorate && m.members.includes(this.self.id)) this.everQuorate = true;
    this.log('membership', { members: m.members.map((id) => this.nodeName(id)), quorate: m.quorate, view: m.viewKey });
    this.abortTransition('membership change', m);
    this.clearingFailCounts.clear();
    this.hellos.clear();
    this.syncDecided = false;
    this.buffered = [];
    this.scheduling = undefined;
    // Whoever is DC after the join schedules from scratch; a stale wish must not linger.
    this.scheduleWantedAtMs = undefined;
    if (!m.members.includes(this.self.id)) {
      this.phase = 'alone';
      return;
    }
    this.phase = 'syncing';
    this.send({ t: 'hello', m: key, version: versionTuple(this.cibVersion), digest: cibDigest(writeElement(this.cibRoot)), wasQuorate: this.wasQuorate, quorateVersion: versionTuple(this.quorateVersion), node: this.self.name, records: this.localRecords(), ...(this.everJoined ? {} : { fresh: true }), fh: fenceHistoryDigest(this.fenceHistoryState) });
    // Client updates waiting for acks: members that left will never ack. (Compared with the new
    // membership's acksNeeded(), which shrinks with it, such an update was never answered.)
    for (const [req, p] of this.pendingUpdates) {
      if (p.applied) {
        this.out.replies.push({ reqId: req, ok: false, error: { code: 'indeterminate', message: 'the membership changed before a quorum acknowledged the update; query the CIB to see whether it took effect' } });
        this.pendingUpdates.delete(req);
      }
    }
  }

  /** A message of the crmd group, in the total order. */
  onMessage(sender: number, data: Uint8Array, nowMs: number, wallMs: number): void {
    this.setTime(nowMs, wallMs);
    const m = decodeCrm(data);
    if (!m) {
      this.counters.messagesDropped++;
      this.log('message-dropped', { sender, bytes: data.length });
      return;
    }
    if (!this.membership || !this.membership.members.includes(sender)) return;
    this.handle(sender, m);
  }

  /** A result from this node's executor for an order from `ready().exec`. */
  onExecResult(tag: number, r: ActionResult, nowMs: number, wallMs: number): void {
    this.setTime(nowMs, wallMs);
    const call = this.calls.get(tag);
    if (!call) return;
    if (call.kind === 'fence') {
      this.calls.delete(tag);
      this.onFenceResult(call, r);
      return;
    }
    if (call.kind === 'manual-fence') {
      this.calls.delete(tag);
      this.onManualFenceResult(call, r);
      return;
    }
    if (call.kind === 'fence-step') {
      this.calls.delete(tag);
      this.onFenceStepResult(call.op, call.step, r);
      return;
    }
    const a = call.action;
    const recurring = a.intervalMs > 0 && a.task === 'monitor';
    if (!recurring) this.calls.delete(tag);
    this.hardStopDone(tag);
    if (r.execStatus === 'cancelled' && recurring) {
      this.calls.delete(tag);
      return;
    }
    const rec = this.recordFor(a, r, call.transitionKey);
    this.remember(rec);
    const ref = call.reported ? undefined : { dc: call.dc, tr: call.tr, action: a.id };
    call.reported = true;
    this.send({ t: 'op', rec, ...(ref ? { ref } : {}) });
  }

  /** The scheduler's answer to a ScheduleOrder (or an error). */
  onPlan(token: number, plan: TransitionPlan | { error: string }, nowMs: number, wallMs: number): void {
    this.setTime(nowMs, wallMs);
    if (!this.scheduling || this.scheduling.token !== token) return;
    this.scheduling = undefined;
    if (!this.isDc) return;
    if ('error' in plan) {
      this.log('schedule-failed', { error: plan.error });
      this.scheduleWantedAtMs = this.nowMs + this.timing.fenceRetryMs;
      return;
    }
    this.lastPlan = plan;
    this.recheckAtMs = this.failureExpiryMs();
    if (this.recheckAtMs !== undefined) this.log('recheck-by', { inMs: Math.round(this.recheckAtMs - this.nowMs), why: 'failure-timeout' });
    if (this.scheduleWantedAtMs !== undefined) return; // Something changed meanwhile: schedule again first.
    if (this.clearExpiredFailCounts()) return; // Their removal reschedules once it is applied.
    const runnable = plan.actions.filter((a) => !a.blocked);
    if (runnable.length === 0) {
      this.log('transition-idle', { summary: plan.summary });
      return;
    }
    const id = this.nextTransitionId++;
    const t: Transition = {
      id,
      plan,
      state: new Map(plan.actions.map((a) => [a.id, a.blocked ? 'failed' : 'pending'] as const)),
      deadline: new Map(),
      byId: new Map(plan.actions.map((a) => [a.id, a])),
      aborted: undefined,
      startedMs: nowMs,
    };
    this.transition = t;
    this.counters.transitions++;
    this.log('transition-start', { transition: id, actions: runnable.length, summary: plan.summary });
    this.advance();
  }

  /** A client request (from the API of this node). */
  request(reqId: string, req: ClientRequest, nowMs: number, wallMs: number): void {
    this.setTime(nowMs, wallMs);
    const refuse = (code: string, message: string): void => {
      this.out.replies.push({ reqId, ok: false, error: { code, message } });
    };
    if (this.phase !== 'joined' || !this.membership) return refuse('not-joined', 'this node has not joined the cluster yet; retry in a moment');
    if (!this.membership.quorate) return refuse('no-quorum', 'this partition has no quorum: the CIB cannot be changed here (an update would be lost when the partitions merge)');
    switch (req.kind) {
      case 'cib-update':
        this.pendingUpdates.set(reqId, { acks: new Set(), applied: false, version: undefined });
        this.send({ t: 'update', req: reqId, origin: this.self.id, ...(req.base !== undefined ? { base: req.base } : {}), request: req.request });
        return;
      case 'attr': {
        const node = this.nodeByName(req.node) ?? this.configuredNode(req.node);
        if (!node) return refuse('no-such-node', `no node named ${req.node}`);
        const kind = req.lifetime === 'reboot' ? 'transient' : 'permanent';
        this.pendingUpdates.set(reqId, { acks: new Set(), applied: false, version: undefined });
        this.send({ t: 'attr', node: node.name, id: String(node.id), name: req.name, ...(req.value !== undefined ? { value: req.value } : {}), kind, req: reqId });
        return;
      }
      case 'cleanup':
      case 'refresh': {
        if (req.node !== undefined && !this.nodeByName(req.node) && !this.configuredNode(req.node)) return refuse('no-such-node', `no node named ${req.node}`);
        this.pendingUpdates.set(reqId, { acks: new Set(), applied: false, version: undefined });
        const where = req.node !== undefined ? { node: req.node } : {};
        if (req.kind === 'cleanup') this.send({ t: 'cleanup', lrmId: req.lrmId, ...where, req: reqId, failed: true });
        else this.send({ t: 'refresh', ...(req.lrmId !== undefined ? { lrmId: req.lrmId } : {}), ...where, req: reqId });
        return;
      }
      case 'fence-history-clear':
        this.pendingUpdates.set(reqId, { acks: new Set(), applied: false, version: undefined });
        this.send({ t: 'fence-history-clear', ...(req.target !== undefined ? { target: req.target } : {}), atMs: this.wallMs, req: reqId });
        return;
      default: {
        const never: never = req;
        return refuse('bad-request', `unknown request ${JSON.stringify(never)}`);
      }
    }
  }

  /** A new unique request id for this node. */
  newRequestId(): string {
    return `${this.self.id}:${this.nextReq++}:${this.membershipKey.length}`;
  }

  /** Ask to leave the cluster gracefully: resources move away first (Pacemaker's shutdown attribute). */
  requestShutdown(nowMs: number, wallMs: number): void {
    this.setTime(nowMs, wallMs);
    this.shuttingDown = true;
    if (this.phase !== 'joined') {
      this.out.exit = true;
      return;
    }
    this.send({ t: 'attr', node: this.self.name, id: String(this.self.id), name: 'shutdown', value: String(Math.floor(wallMs / 1000)), kind: 'transient' });
  }

  tick(nowMs: number, wallMs: number): void {
    this.setTime(nowMs, wallMs);
    if (!this.isDc) return;
    if (this.transition) {
      for (const [id, deadline] of this.transition.deadline) {
        if (this.transition.state.get(id) === 'dispatched' && nowMs > deadline) {
          this.log('action-timeout', { transition: this.transition.id, action: this.transition.byId.get(id)?.key });
          this.finishAction(id, false, 'no result in time');
        }
      }
    }
    if (!this.transition && !this.scheduling && nowMs >= this.nextRecheckMs()) this.wantSchedule(0);
    if (this.scheduleWantedAtMs !== undefined && nowMs >= this.scheduleWantedAtMs && !this.transition && !this.scheduling) this.runScheduler();
  }

  /** When tick() next has work (monotonic ms), so a driver can sleep until then; undefined: nothing due. */
  nextWakeMs(): number | undefined {
    if (!this.isDc || this.selfFencing) return undefined;
    let at = this.scheduleWantedAtMs ?? (this.transition || this.scheduling ? Infinity : this.nextRecheckMs());
    if (this.transition) for (const d of this.transition.deadline.values()) at = Math.min(at, d + 1);
    return Number.isFinite(at) ? at : undefined;
  }

  /**
   * When the DC runs the scheduler again although nothing changed: cluster-recheck-interval after
   * the last run, or sooner when a fail count expires by failure-timeout before that (Pacemaker
   * 2.1's "recheck-by"), so that a failure-timeout of 20 s takes effect about 20 s later.
   */
  private nextRecheckMs(): number {
    const interval = this.lastScheduleMs + this.recheckMs();
    return this.recheckAtMs !== undefined && this.recheckAtMs > this.lastScheduleMs ? Math.min(interval, this.recheckAtMs) : interval;
  }

  /**
   * The monotonic time at which the next fail count of the CIB expires (the first second at
   * which the scheduler's `now > last-failure + failure-timeout` holds), or undefined. Cheap when
   * there are no failures: only then is the CIB unpacked.
   */
  private failureExpiryMs(): number | undefined {
    const nowSec = Math.floor(this.wallMs / 1000);
    const at = nextFailureExpirySec(this.cibRoot, nowSec);
    return at === undefined ? undefined : this.nowMs + Math.max(0, at * 1000 - this.wallMs);
  }

  /**
   * The DC clears fail counts that failure-timeout expired (Pacemaker's scheduler asks for that
   * with a clear_failcount action, "it expired"; the scheduler here only ignores them): their
   * fail-count and last-failure attributes go, as an administrator's cleanup of the counts would.
   * Returns whether it asked for anything (the changes reschedule when they are applied).
   */
  private clearExpiredFailCounts(): boolean {
    if (!this.membership?.quorate) return false;
    const nowSec = Math.floor(this.wallMs / 1000);
    let any = false;
    for (const e of failureTimeoutEntries(this.cibRoot, nowSec)) {
      if (nowSec <= e.lastSec + e.timeoutSec) continue;
      const key = `${e.node}|${e.rsc}|${e.lastSec}`;
      if (this.clearingFailCounts.has(key)) continue;
      const node = this.nodeByName(e.node) ?? this.configuredNode(e.node);
      if (!node) continue;
      this.clearingFailCounts.add(key);
      this.log('failcount-expired', { node: e.node, rsc: e.rsc, lastFailure: e.lastSec, failureTimeout: e.timeoutSec });
      for (const name of e.attrs) this.send({ t: 'attr', node: node.name, id: String(node.id), name, kind: 'transient' });
      any = true;
    }
    return any;
  }

  /**
   * How long after a run the DC runs the scheduler again although nothing changed:
   * cluster-recheck-interval (Pacemaker's default 15 minutes; 0 turns it off), and at most
   * timing.recheckMs while the configuration holds date expressions. Nothing else in a CIB changes
   * with time alone: an expiring fail count has its own recheck-by (failureExpiryMs). Each run
   * starts the scheduler's thread, so an idle cluster is not woken for nothing.
   */
  private recheckMs(): number {
    const opt = parseDurationMs(crmConfigOption(this.cibRoot, 'cluster-recheck-interval'));
    const interval = opt === undefined || opt < 0 ? RECHECK_INTERVAL_DEFAULT_MS : opt === 0 ? Infinity : opt;
    if (this.dateRulesMemo?.root !== this.cibRoot) this.dateRulesMemo = { root: this.cibRoot, has: hasDateExpression(this.cibRoot) };
    return this.dateRulesMemo.has ? Math.min(interval, this.timing.recheckMs) : interval;
  }

  /** Whether the current CIB (by identity) holds date expressions; see recheckMs. */
  private dateRulesMemo: { readonly root: XmlElement; readonly has: boolean } | undefined;

  // ---------------------------------------------------------------------------------------------
  // Messages

  private handle(sender: number, m: CrmMessage): void {
    switch (m.t) {
      case 'hello':
        return this.onHello(sender, m);
      case 'sync':
        return this.onSync(sender, m);
      case 'exec':
        // Run orders of this membership's DC (members[0]), also while the join is in progress: an
        // order sent just before a view change is delivered in the new view, and its DC waits for it.
        if (m.action.node === this.self.name && m.dc === this.membership?.members[0] && !this.selfFencing) this.runAction(m.dc, m.tr, m.action);
        return;
      case 'ack': {
        const p = this.pendingUpdates.get(m.req);
        if (p) {
          p.acks.add(m.node);
          this.maybeAnswer(m.req);
        }
        return;
      }
      case 'fencing':
        if (m.action !== 'on' && typeof m.timeoutMs === 'number') {
          this.fencesInFlight.set(m.target, { by: m.by, action: m.action, untilMs: this.nowMs + m.timeoutMs + this.timing.actionGraceMs, rejoined: false });
        }
        return;
      case 'shutdown-ok':
        // Leave only once our "expected down" is ordered (then every member has it: no fencing).
        if (m.node === this.self.name && this.shuttingDown) this.send({ t: 'node', node: this.self.name, id: String(this.self.id), attrs: { expected: 'down' } });
        return;
      default:
        // Mutations of the CIB: held back until the membership's CIB is synced, then applied in order.
        if (this.phase === 'syncing') {
          this.buffered.push({ sender, m });
          return;
        }
        if (this.phase === 'alone') return;
        this.applyMutation(sender, m);
    }
  }

  private onHello(sender: number, m: Extract<CrmMessage, { t: 'hello' }>): void {
    // A target of an announced fencing that says hello from a new run has rebooted since then.
    const flight = m.fresh === true ? this.fencesInFlight.get(m.node) : undefined;
    if (flight) flight.rejoined = true;
    if (m.m !== this.membershipKey || this.phase !== 'syncing' || !this.membership) return;
    const records = Array.isArray(m.records) ? m.records.filter((r) => r.node === m.node) : [];
    const qv = Array.isArray(m.quorateVersion) && m.quorateVersion.length === 3 ? tupleVersion(m.quorateVersion) : { adminEpoch: 0, epoch: 0, numUpdates: 0 };
    this.hellos.set(sender, { version: tupleVersion(m.version), quorateVersion: qv, digest: m.digest, wasQuorate: m.wasQuorate, node: m.node, records, fresh: m.fresh === true, fh: typeof m.fh === 'string' ? m.fh : undefined });
    if (this.hellos.size < this.membership.members.length || this.syncDecided) return;
    this.syncDecided = true;
    const all = [...this.hellos.values()];
    const first = all[0]!;
    if (all.every((h) => h.digest === first.digest && compareCibVersions(h.version, first.version) === 0)) {
      // Every member holds the same CIB: nothing to send.
      this.completeJoin(undefined);
      return;
    }
    const source = this.chooseSyncSource();
    this.log('join-sync-source', { source: this.nodeName(source), version: formatVersion(this.hellos.get(source)!.version) });
    if (source !== this.self.id) return;
    // The adopted CIB gets a version above every member's, so that no member's version goes
    // backwards (a minority partition's status changes may have counted past ours).
    const newest = all.map((h) => h.version).reduce((a, b) => (compareCibVersions(a, b) >= 0 ? a : b));
    const root = compareCibVersions(newest, this.cibVersion) > 0 ? withVersion(this.cibRoot, { ...newest, numUpdates: newest.numUpdates + 1 }) : this.cibRoot;
    this.send({ t: 'sync', m: this.membershipKey, xml: writeElement(root) });
  }

  /**
   * The member whose CIB everyone adopts: among members whose previous membership was quorate
   * (if any), the one whose CIB was changed last while quorate (the newest quorate version: churn
   * in a partition without quorum, which only status changes can make, does not count), then the
   * newest version; ties go to the lowest node id. A node restarting alone with an older CIB is
   * therefore never chosen over a newer one, nor a minority's status over the majority's.
   */
  private chooseSyncSource(): number {
    const entries = [...this.hellos.entries()];
    const quorate = entries.filter(([, h]) => h.wasQuorate);
    const pool = quorate.length > 0 ? quorate : entries;
    pool.sort(([ida, a], [idb, b]) => compareCibVersions(b.quorateVersion, a.quorateVersion) || compareCibVersions(b.version, a.version) || ida - idb);
    return pool[0]![0];
  }

  private onSync(sender: number, m: Extract<CrmMessage, { t: 'sync' }>): void {
    if (m.m !== this.membershipKey || this.phase !== 'syncing' || !this.syncDecided) return;
    let root: XmlElement;
    try {
      root = parseXml(m.xml).root;
    } catch (e) {
      this.counters.messagesDropped++;
      this.log('sync-unreadable', { from: this.nodeName(sender), error: String(e) });
      return;
    }
    this.cibRoot = root;
    this.persist();
    this.completeJoin(sender);
  }

  private localRecords(): OpResultRecord[] {
    const out: OpResultRecord[] = [];
    for (const ops of this.localHistory.values()) out.push(...ops.values());
    out.sort((a, b) => a.callId - b.callId);
    // Starts still running, recorded as pending (Pacemaker's record-pending): a new DC must not
    // start the resource elsewhere while it may be starting here (found by the simulator).
    for (const call of this.calls.values()) {
      if (call.kind !== 'action' || call.reported || call.action.task !== 'start') continue;
      const a = call.action;
      const sec = Math.floor(this.wallMs / 1000);
      out.push({
        node: this.self.name, nodeId: String(this.self.id), lrmId: a.lrmId ?? a.rsc ?? '', agent: a.agent ?? { class: 'ocf', type: 'unknown' },
        task: a.task, intervalMs: a.intervalMs, callId: PENDING_CALL_ID, rc: 193, opStatus: -1, targetRc: a.expectedRc, transitionKey: call.transitionKey,
        lastRcChangeSec: sec, lastRunSec: sec, execMs: 0, queueMs: 0, ...(a.opDigest !== undefined ? { opDigest: a.opDigest } : {}),
      });
    }
    return out;
  }

  /**
   * The membership's CIB is agreed: every member now applies the same join, deterministically
   * (it depends only on the hellos and the membership, which all members share): each member's
   * resource history is replaced by what its executor reported in its hello (as Pacemaker's join
   * rebuilds the status from every node's executor), members are online and configured, and
   * nodes that were online and are not members any more are offline (unclean until fenced, when
   * they were expected to stay). Then the mutations held back during the join are applied.
   */
  private completeJoin(syncedFrom: number | undefined): void {
    if (!this.membership) return;
    const before = this.cibVersion;
    let root = this.cibRoot;
    const members = new Set(this.membership.members);
    for (const id of this.membership.members) {
      const h = this.hellos.get(id);
      if (!h) continue;
      const nodeId = String(id);
      root = removeLrm(root, h.node);
      if (this.configuredNodeIn(root, h.node) === undefined) root = addConfiguredNode(root, nodeId, h.node);
      root = setNodeState(root, { id: nodeId, uname: h.node }, { in_ccm: 'true', crmd: 'online', join: 'member', expected: 'member' });
      for (const rec of h.records) root = recordOpResult(root, rec);
      // A node that restarted starts without the transient attributes of its previous run (as
      // Pacemaker's DC erases them when a node joins), even when it came back before any
      // membership noticed it gone: a `shutdown` left over from a graceful stop would otherwise
      // have it shut down again, its resources stopped, the moment it returns.
      if (h.fresh) for (const name of transientAttrNames(root, h.node)) root = setNodeAttribute(root, { id: nodeId, uname: h.node }, 'transient', name, undefined);
    }
    for (const ns of nodeStatesOf(root)) {
      const id = Number(ns.attrs['id']);
      if (members.has(id)) continue;
      if (ns.attrs['in_ccm'] === 'false' && ns.attrs['crmd'] === 'offline' && ns.attrs['join'] === 'down') continue;
      const gone = { id: ns.attrs['id'] ?? String(id), uname: ns.attrs['uname'] ?? String(id) };
      root = setNodeState(root, gone, { in_ccm: 'false', crmd: 'offline', join: 'down' });
      // A node that leaves loses its transient attributes (shutdown, fail counts), as in Pacemaker;
      // kept, a node that shut down gracefully would be asked to shut down again when it returns.
      for (const name of transientAttrNames(root, gone.uname)) root = setNodeAttribute(root, gone, 'transient', name, undefined);
    }
    this.commit(root);
    this.phase = 'joined';
    this.everJoined = true;
    const results = this.heldResults;
    this.heldResults = [];
    for (const r of results) this.send(r);
    this.syncFenceHistory();
    const dc = this.dc;
    this.log('join-complete', {
      dc: dc !== undefined ? this.nodeName(dc) : undefined,
      syncedFrom: syncedFrom !== undefined ? this.nodeName(syncedFrom) : undefined,
      before: formatVersion(before),
      version: formatVersion(this.cibVersion),
    });
    const held = this.buffered;
    this.buffered = [];
    for (const b of held) this.applyMutation(b.sender, b.m);
    if (this.isDc) {
      this.log('dc', { dc: this.self.name });
      this.wantSchedule(0);
    }
  }

  private nodeStates(): XmlElement[] {
    return nodeStatesOf(this.cibRoot);
  }

  private configuredNode(name: string): ControllerNode | undefined {
    return this.configuredNodeIn(this.cibRoot, name);
  }

  private configuredNodeIn(root: XmlElement, name: string): ControllerNode | undefined {
    const config = firstChild(root, 'configuration');
    const nodes = config ? firstChild(config, 'nodes') : undefined;
    for (const n of nodes ? childElements(nodes, 'node') : []) {
      if (n.attrs['uname'] === name) return { id: Number(n.attrs['id']), name };
    }
    return undefined;
  }

  /** Applies one replicated mutation; every member does the same with the same message. */
  private applyMutation(sender: number, m: CrmMessage): void {
    switch (m.t) {
      case 'update':
        return this.applyUpdate(m);
      case 'op':
        return this.applyOp(m);
      case 'node': {
        let root = setNodeState(this.cibRoot, { id: m.id, uname: m.node }, m.attrs);
        if (m.configure) root = addConfiguredNode(root, m.id, m.node);
        if (m.attrs['crmd'] === 'offline' && m.attrs['expected'] === 'down') root = clearNodeHistory(root, m.node);
        this.commit(root);
        this.changed('node-state', { node: m.node, ...m.attrs });
        if (m.node === this.self.name && this.shuttingDown && m.attrs['expected'] === 'down') this.out.exit = true;
        return;
      }
      case 'attr': {
        const root = setNodeAttribute(this.cibRoot, { id: m.id, uname: m.node }, m.kind, m.name, m.value);
        this.commit(root);
        this.changed('attribute', { node: m.node, name: m.name, value: m.value, kind: m.kind });
        if (m.req) this.updateApplied(m.req, true);
        return;
      }
      case 'cleanup': {
        const all = m.node !== undefined ? [m.node] : this.nodeStates().map((ns) => ns.attrs['uname'] ?? '');
        // An administrator's cleanup touches only nodes where the resource failed (crm_resource -C).
        const targets = m.failed ? all.filter((n) => hasFailures(this.cibRoot, n, m.lrmId)) : all;
        let root = this.cibRoot;
        for (const n of targets) root = clearResourceHistory(root, n, m.lrmId);
        this.commit(root);
        if (targets.includes(this.self.name)) this.localHistory.delete(m.lrmId);
        this.changed('cleanup', { rsc: m.lrmId, node: m.node, cleaned: targets });
        if (m.req) this.updateApplied(m.req, true);
        return;
      }
      case 'refresh':
        return this.applyRefresh(m);
      case 'cancelled': {
        const root = removeOpEntry(this.cibRoot, m.node, `${m.lrmId}_monitor_${m.intervalMs}`);
        this.commit(root);
        return;
      }
      case 'fenced':
        return this.applyFenced(m);
      case 'fence-history': {
        const before = this.fenceHistoryState.entries.length;
        this.setFenceHistory(mergeFenceHistory(this.fenceHistoryState, readFenceHistory(m)));
        const added = this.fenceHistoryState.entries.length - before;
        if (added !== 0) this.log('fence-history-merged', { from: this.nodeName(sender), entries: this.fenceHistoryState.entries.length, added });
        return;
      }
      case 'fence-history-clear': {
        const key = m.target ?? '*';
        if (typeof m.atMs === 'number') this.setFenceHistory(mergeFenceHistory(this.fenceHistoryState, { entries: [], cleared: { [key]: m.atMs } }));
        this.log('fence-history-cleared', { target: key, by: this.nodeName(sender) });
        if (m.req) this.updateApplied(m.req, true);
        return;
      }
      default:
        return;
    }
  }

  /**
   * crm_resource --refresh: the resource's (or every resource's) history and fail counts go on the
   * named node (or everywhere), failures or not; this node's executor forgets them too (its
   * recurring monitors of them are cancelled, as Pacemaker's lrm delete does), so the scheduler
   * probes them again.
   */
  private applyRefresh(m: Extract<CrmMessage, { t: 'refresh' }>): void {
    const targets = m.node !== undefined ? [m.node] : this.nodeStates().map((ns) => ns.attrs['uname'] ?? '');
    let root = this.cibRoot;
    for (const n of targets) {
      const ids = m.lrmId !== undefined ? [m.lrmId] : [...new Set([...lrmResourceIds(root, n), ...failedResourceIds(root, n)])];
      for (const id of ids) root = clearResourceHistory(root, n, id);
    }
    this.commit(root);
    if (targets.includes(this.self.name)) {
      const ids = m.lrmId !== undefined ? [m.lrmId] : [...this.localHistory.keys()];
      for (const id of ids) {
        this.cancelRecurring(id, undefined);
        this.localHistory.delete(id);
      }
    }
    this.changed('refresh', { rsc: m.lrmId, node: m.node });
    if (m.req) this.updateApplied(m.req, true);
  }

  private applyUpdate(m: Extract<CrmMessage, { t: 'update' }>): void {
    const mine = m.origin === this.self.id;
    const reject = (code: string, message: string): void => {
      this.counters.updatesRejected++;
      this.log('cib-update-rejected', { req: m.req, code, message });
      if (mine) {
        this.pendingUpdates.delete(m.req);
        this.out.replies.push({ reqId: m.req, ok: false, error: { code, message } });
      }
    };
    if (!this.membership?.quorate) return reject('no-quorum', 'the partition lost quorum before the update was ordered');
    if (m.base !== undefined && m.base !== formatVersion(this.cibVersion)) {
      return reject('conflict', `the update was based on CIB ${m.base}, but the CIB is now ${formatVersion(this.cibVersion)}: re-read it and apply the change again`);
    }
    let req: CibadminRequest;
    try {
      req = toCibadminRequest(m.request);
    } catch (e) {
      return reject('bad-xml', e instanceof Error ? e.message : String(e));
    }
    const result = cibadmin(this.cibRoot, req, { validate: validateConfiguration });
    if (!result.ok) return reject(result.error.code, result.error.message);
    if (result.value.change !== 'none') {
      this.commit(result.value.cib, true);
      this.changed('cib-update', { req: m.req, version: formatVersion(this.cibVersion), change: result.value.change });
    }
    this.send({ t: 'ack', req: m.req, node: this.self.id });
    if (mine) this.updateApplied(m.req, false);
  }

  private updateApplied(req: string, ackSelf: boolean): void {
    const p = this.pendingUpdates.get(req);
    if (!p) {
      // Attribute and cleanup requests of other nodes: acknowledge too.
      if (ackSelf) this.send({ t: 'ack', req, node: this.self.id });
      return;
    }
    p.applied = true;
    p.version = formatVersion(this.cibVersion);
    if (ackSelf) this.send({ t: 'ack', req, node: this.self.id });
    this.maybeAnswer(req);
  }

  private acksNeeded(): number {
    const m = this.membership;
    if (!m) return 1;
    return Math.max(1, Math.min(m.quorumVotes, m.members.length));
  }

  private maybeAnswer(req: string): void {
    const p = this.pendingUpdates.get(req);
    if (!p || !p.applied || p.acks.size < this.acksNeeded()) return;
    this.pendingUpdates.delete(req);
    this.out.replies.push({ reqId: req, ok: true, result: { version: p.version, acks: p.acks.size } });
  }

  private applyOp(m: Extract<CrmMessage, { t: 'op' }>): void {
    const rec = m.rec;
    let root = recordOpResult(this.cibRoot, rec);
    const failed = isFailure(rec);
    if (failed) {
      const startFatal = crmConfigOption(this.cibRoot, 'start-failure-is-fatal');
      const fatal = rec.task === 'stop' || (rec.task === 'start' && (startFatal === undefined || isTrueValue(startFatal)));
      const attr = `${rec.lrmId}#${rec.task}_${rec.intervalMs}`;
      const current = transientAttr(this.cibRoot, rec.node, `fail-count-${attr}`);
      const next = fatal ? INFINITY : Math.min(INFINITY, (current === undefined ? 0 : scoreOf(current)) + 1);
      const nodeId = rec.nodeId;
      root = setNodeAttribute(root, { id: nodeId, uname: rec.node }, 'transient', `fail-count-${attr}`, next >= INFINITY ? 'INFINITY' : String(next));
      root = setNodeAttribute(root, { id: nodeId, uname: rec.node }, 'transient', `last-failure-${attr}`, String(rec.lastRunSec));
    }
    this.commit(root);
    this.log('action-result', { node: rec.node, rsc: rec.lrmId, task: rec.task, interval: rec.intervalMs, rc: rec.rc, expected: rec.targetRc, opStatus: rec.opStatus, callId: rec.callId, execMs: rec.execMs, failed, exitReason: rec.exitReason });
    const t = this.transition;
    const expected = !failed && rec.rc === rec.targetRc;
    if (this.isDc && t && m.ref && m.ref.dc === this.self.id && m.ref.tr === t.id) {
      this.finishAction(m.ref.action, expected, expected ? undefined : `rc ${rec.rc}, expected ${rec.targetRc}`);
      if (!expected) this.wantSchedule(this.timing.scheduleDebounceMs);
      return;
    }
    // A result no transition waits for (a recurring monitor that changed, a late answer): reschedule.
    this.wantSchedule(this.timing.scheduleDebounceMs);
  }

  private applyFenced(m: Extract<CrmMessage, { t: 'fenced' }>): void {
    const wallMs = typeof m.wallMs === 'number' ? m.wallMs : m.wallSec * 1000;
    const rec: FenceHistoryRecord = {
      id: typeof m.id === 'string' ? m.id : `${m.by}:${wallMs}:${m.target}:${m.action}:${m.ok ? 'ok' : 'failed'}`,
      target: m.target, action: m.action, ok: m.ok, by: m.by, device: m.device, wallMs,
      ...(m.reason !== undefined ? { reason: m.reason } : {}),
      ...(m.level !== undefined ? { level: m.level } : {}),
      ...(m.devices !== undefined ? { devices: [...m.devices] } : {}),
      ...(m.attempts !== undefined ? { attempts: [...m.attempts] } : {}),
      ...(m.manual ? { manual: true } : {}),
    };
    this.setFenceHistory(mergeFenceHistory(this.fenceHistoryState, { entries: [rec], cleared: {} }));
    const flight = this.fencesInFlight.get(m.target);
    const announced = flight !== undefined && flight.by === m.by;
    if (announced) this.fencesInFlight.delete(m.target);
    this.log(m.ok ? 'fence-ok' : 'fence-failed', { target: m.target, action: m.action, by: m.by, device: m.device, reason: m.reason, ...(m.level !== undefined ? { level: m.level, devices: m.devices } : {}), ...(m.attempts && m.attempts.length > 1 ? { attempts: m.attempts } : {}) });
    // A target that rebooted and is already back in this membership (its join replaced its
    // history with what it runs now: nothing) must not be marked down again: the join's record of
    // it is the newer truth. Every member decides alike (the same messages in the same order).
    // For an announced fencing (stonith_admin: `fencing`), back means a hello from a new run
    // since the announcement: the target may still be in the membership only because its loss
    // has not been seen yet (a quick reboot), and it must be marked down then, or the DC would
    // take it for lost uncleanly and fence it again. A scheduled fencing targets a node already
    // out of the membership: there, being in it again is being back.
    const rejoined = announced ? flight.rejoined : this.membership?.members.includes(Number(m.targetId)) === true;
    // Unfencing ("on") powers a node on or gives it its access back: it marks nothing down.
    if (m.ok && !rejoined && m.action !== 'on') {
      let root = setNodeState(this.cibRoot, { id: m.targetId, uname: m.target }, { in_ccm: 'false', crmd: 'offline', join: 'down', expected: 'down' });
      root = clearNodeHistory(root, m.target);
      this.commit(root);
      this.changed('fenced', { target: m.target });
    } else if (m.ok) this.log('fenced-already-rejoined', { target: m.target });
    const t = this.transition;
    if (!this.isDc || !t) return;
    for (const a of t.plan.actions) {
      if (a.kind === 'fence' && a.node === m.target && t.state.get(a.id) === 'dispatched') this.finishAction(a.id, m.ok, m.ok ? undefined : 'fencing failed');
    }
    // The aborted transition already asked for a run after the debounce (wantSchedule keeps the
    // earliest): set the retry time outright, or a failing device is retried every few ms.
    if (!m.ok) this.scheduleWantedAtMs = this.nowMs + this.timing.fenceRetryMs;
  }

  private setFenceHistory(h: FenceHistoryState): void {
    if (fenceHistoryDigest(h) === fenceHistoryDigest(this.fenceHistoryState)) return;
    this.fenceHistoryState = h;
    this.out.fenceHistory = h;
  }

  /**
   * After a join: when the members' fence histories differ (their hellos' digests), each member
   * sends its own and every member merges them all, as Pacemaker's fencers sync their histories
   * on a membership change; so a node that was down when a fencing happened learns of it.
   */
  private syncFenceHistory(): void {
    const digests = new Set<string>();
    for (const h of this.hellos.values()) if (h.fh !== undefined) digests.add(h.fh);
    if (digests.size <= 1) return;
    const h = this.fenceHistoryState;
    if (h.entries.length === 0 && Object.keys(h.cleared).length === 0) return;
    this.send({ t: 'fence-history', entries: h.entries, cleared: h.cleared });
  }

  /** A history id unique in the cluster: this node, the time, and its own sequence. */
  private newFenceId(): string {
    return `${this.self.name}:${this.wallMs}:${this.nextFenceSeq++}`;
  }

  private changed(what: string, fields: Record<string, unknown>): void {
    this.log(what, fields);
    // Results the transition expects do not reschedule (applyOp decides); everything else does.
    this.wantSchedule(this.timing.scheduleDebounceMs);
  }

  /** `versioned`: root already carries its new version (cibadmin bumps it); otherwise bump it here. */
  private commit(root: XmlElement, versioned = false): void {
    if (root === this.cibRoot) return;
    this.cibRoot = versioned ? root : applyChange(this.cibRoot, root);
    this.persist();
  }

  private persist(): void {
    // The driver serializes once per batch (cibXml()), however many mutations the batch applied.
    this.out.persist = this.cibVersion;
    if (this.membership?.quorate && this.phase !== 'alone') {
      this.quorateVersion = this.cibVersion;
      this.out.quorateVersion = this.quorateVersion;
    }
  }

  /** The current CIB as XML (for persistence, queries and the scheduler). */
  cibXml(): string {
    return writeElement(this.cibRoot);
  }

  // ---------------------------------------------------------------------------------------------
  // DC: scheduling and the transition engine

  private wantSchedule(delayMs: number): void {
    if (!this.isDc) return;
    const at = this.nowMs + delayMs;
    if (this.scheduleWantedAtMs === undefined || at < this.scheduleWantedAtMs) this.scheduleWantedAtMs = at;
    if (this.transition && !this.transition.aborted && delayMs > 0) {
      // Only unexpected changes abort: applyOp calls wantSchedule for those; expected results do not.
      this.abortTransition('cluster changed');
    }
  }

  private runScheduler(): void {
    if (!this.membership || this.selfFencing) return;
    this.scheduleWantedAtMs = undefined;
    this.lastScheduleMs = this.nowMs;
    const token = this.nextToken++;
    this.scheduling = { token, forMembership: this.membershipKey };
    const nowSec = Math.floor(this.wallMs / 1000);
    // execution-date makes the saved input replayable: crm_simulate -x uses it as "now".
    // no-quorum-panic: this controller had quorum and lost it (as Pacemaker's controller marks
    // it): only then does no-quorum-policy=suicide fence the partition, so that a node booting
    // alone does not fence itself over and over.
    const panic: Record<string, string> = !this.membership.quorate && this.everQuorate ? { 'no-quorum-panic': '1' } : {};
    const input = withAttrs(this.cibRoot, { 'have-quorum': this.membership.quorate ? '1' : '0', 'dc-uuid': String(this.self.id), 'execution-date': String(nowSec), ...panic });
    this.out.schedule.push({ token, cibXml: writeElement(input), nowSec });
    this.log('schedule', { token, version: formatVersion(this.cibVersion), quorate: this.membership.quorate });
  }

  private abortTransition(reason: string, m?: Membership): void {
    const t = this.transition;
    if (!t) return;
    if (!t.aborted) {
      t.aborted = reason;
      this.counters.transitionsAborted++;
      this.log('transition-abort', { transition: t.id, reason });
    }
    if (m) {
      // Actions on nodes that left will never answer.
      for (const a of t.plan.actions) {
        if (t.state.get(a.id) !== 'dispatched') continue;
        const node = a.kind === 'fence' ? this.self.name : a.node;
        const id = node !== undefined ? this.nodeByName(node)?.id : undefined;
        if (id === undefined || !m.members.includes(id)) t.state.set(a.id, 'failed');
      }
      if (!m.members.includes(this.self.id) || m.members[0] !== this.self.id) {
        // No longer DC: forget the transition (the new DC reschedules from the CIB).
        this.transition = undefined;
        return;
      }
    }
    this.maybeFinishTransition();
  }

  private finishAction(id: number, ok: boolean, why: string | undefined): void {
    const t = this.transition;
    if (!t || t.state.get(id) !== 'dispatched') return;
    t.state.set(id, ok ? 'done' : 'failed');
    t.deadline.delete(id);
    const a = t.byId.get(id);
    if (!ok) {
      this.counters.actionsFailed++;
      this.log('action-failed', { transition: t.id, action: a?.key, node: a?.node, why });
      this.abortTransition(`${a?.key ?? id} failed: ${why ?? ''}`);
      return;
    }
    this.advance();
  }

  /** Dispatches every action whose inputs are done; completes the transition when nothing is left. */
  private advance(): void {
    const t = this.transition;
    if (!t) return;
    for (let progress = true; progress; ) {
      progress = false;
      for (const a of t.plan.actions) {
        if (t.state.get(a.id) !== 'pending' || t.aborted) continue;
        if (!a.inputs.every((i) => t.state.get(i) === 'done' || !t.state.has(i))) continue;
        if (a.inputs.some((i) => t.state.get(i) === 'failed')) continue;
        progress = this.dispatch(t, a) || progress;
      }
    }
    this.maybeFinishTransition();
  }

  /** True when the action completed at once (pseudo and cluster actions). */
  private dispatch(t: Transition, a: PlannedAction): boolean {
    this.counters.actionsDispatched++;
    switch (a.kind) {
      case 'pseudo':
        t.state.set(a.id, 'done');
        return true;
      case 'cluster':
        t.state.set(a.id, 'done');
        this.clusterAction(a);
        return true;
      case 'fence':
        t.state.set(a.id, 'dispatched');
        t.deadline.set(a.id, this.nowMs + this.fenceTimeoutMs(t.plan, a) + this.timing.actionGraceMs);
        this.startFencing(t, a);
        return false;
      case 'rsc': {
        const node = a.node !== undefined ? this.nodeByName(a.node) : undefined;
        if (!node || !this.membership?.members.includes(node.id)) {
          t.state.set(a.id, 'failed');
          this.log('action-failed', { transition: t.id, action: a.key, node: a.node, why: 'node not in the membership' });
          this.abortTransition(`${a.key}: node ${a.node ?? '?'} not a member`);
          return false;
        }
        t.state.set(a.id, 'dispatched');
        t.deadline.set(a.id, this.nowMs + (a.timeoutMs ?? 20_000) + (a.startDelayMs ?? 0) + this.timing.actionGraceMs);
        this.log('action-dispatch', { transition: t.id, action: a.key, node: a.node });
        if (a.task === 'cancel') {
          // A cancel is answered by the node's `cancelled` message; treat it as done once sent.
          this.send({ t: 'exec', dc: this.self.id, tr: t.id, action: a });
          t.state.set(a.id, 'done');
          t.deadline.delete(a.id);
          return true;
        }
        // The DC's own actions run at once: an order is not a CIB change, so it needs no ordering
        // (its result still goes through the group like every other).
        if (a.node === this.self.name) this.runAction(this.self.id, t.id, a);
        else this.send({ t: 'exec', dc: this.self.id, tr: t.id, action: a });
        return false;
      }
      default:
        return false;
    }
  }

  private clusterAction(a: PlannedAction): void {
    const node = a.node !== undefined ? (this.nodeByName(a.node) ?? this.configuredNode(a.node)) : undefined;
    switch (a.task) {
      case 'do_shutdown':
        if (a.node !== undefined) this.send({ t: 'shutdown-ok', node: a.node });
        return;
      case 'clear_failcount':
        if (node && a.lrmId !== undefined) {
          for (const name of transientAttrNames(this.cibRoot, node.name)) {
            if (name.startsWith(`fail-count-${a.lrmId}#`) || name.startsWith(`last-failure-${a.lrmId}#`)) {
              this.send({ t: 'attr', node: node.name, id: String(node.id), name, kind: 'transient' });
            }
          }
        }
        return;
      case 'lrm_delete':
        if (a.lrmId !== undefined) this.send({ t: 'cleanup', lrmId: a.lrmId, ...(a.node !== undefined ? { node: a.node } : {}) });
        return;
      default:
        this.log('cluster-action-ignored', { task: a.task, node: a.node });
    }
  }

  private maybeFinishTransition(): void {
    const t = this.transition;
    if (!t) return;
    const inFlight = [...t.state.values()].some((s) => s === 'dispatched');
    if (inFlight) return;
    const pending = [...t.state.entries()].some(([id, s]) => s === 'pending' && !t.aborted && this.canStillRun(t, id));
    if (pending) return;
    this.transition = undefined;
    const done = [...t.state.values()].filter((s) => s === 'done').length;
    const failed = [...t.state.values()].filter((s) => s === 'failed').length;
    this.log('transition-done', { transition: t.id, aborted: t.aborted, done, failed, ms: Math.round(this.nowMs - t.startedMs) });
    if (t.aborted && this.scheduleWantedAtMs === undefined) this.wantSchedule(this.timing.scheduleDebounceMs);
  }

  private canStillRun(t: Transition, id: number): boolean {
    const a = t.byId.get(id);
    if (!a) return false;
    return !a.inputs.some((i) => t.state.get(i) === 'failed');
  }

  // ---------------------------------------------------------------------------------------------
  // Fencing (on the DC)

  private fenceTimeoutMs(plan: TransitionPlan, a: PlannedAction): number {
    const target = a.node ?? '';
    const levels = target !== this.self.name ? fenceLevelsFor(this.cibRoot, target) : [];
    if (levels.length > 0) {
      // Every level may run, each device of it (twice for a remapped reboot), one after another.
      const byId = new Map(plan.fenceDevices.map((d) => [d.id, d]));
      let total = 0;
      for (const l of levels) for (const s of levelSteps(l, a.fenceAction ?? 'reboot')) total += byId.get(s.deviceId)?.timeoutMs ?? 0;
      return Math.max(total, 1000);
    }
    const devices = this.devicesFor(plan, target);
    return devices[0]?.timeoutMs ?? 60_000;
  }

  /**
   * A fencing of `target` started outside a transition (a `fencing` message) whose outcome is
   * still awaited: its node is a member and its time is not up.
   */
  private fenceInFlight(target: string): { by: string; action: string; untilMs: number; rejoined: boolean } | undefined {
    const f = this.fencesInFlight.get(target);
    if (!f) return undefined;
    const byId = this.nodeByName(f.by)?.id;
    if (this.nowMs > f.untilMs || byId === undefined || !this.membership?.members.includes(byId)) {
      this.fencesInFlight.delete(target);
      return undefined;
    }
    return f;
  }

  /** The id and times every `fenced` message carries. */
  private fenceStamp(): { id: string; wallSec: number; wallMs: number } {
    return { id: this.newFenceId(), wallSec: Math.floor(this.wallMs / 1000), wallMs: this.wallMs };
  }

  private devicesFor(plan: TransitionPlan, target: string): FenceDevice[] {
    return fenceDevicesFor(plan.fenceDevices, target);
  }

  private startFencing(t: Transition, a: PlannedAction): void {
    const target = a.node ?? '';
    const running = this.fenceInFlight(target);
    if (running && target !== this.self.name && (a.fenceAction ?? 'reboot') !== 'on') {
      // An administrator's fencing of this very node is under way: its outcome (`fenced`, which
      // finishes this action, see applyFenced) is awaited instead of fencing the node twice.
      this.log('fence-merged', { target, action: a.fenceAction ?? 'reboot', with: running.by, withAction: running.action });
      return;
    }
    const attempts = (this.fenceAttempts.get(target) ?? 0) + 1;
    this.fenceAttempts.set(target, attempts);
    // A target with fencing levels is fenced through them (self-fencing keeps its own device).
    const levels = target !== this.self.name ? fenceLevelsFor(this.cibRoot, target) : [];
    if (levels.length > 0) {
      const action = (a.fenceAction ?? 'reboot') as 'off' | 'on' | 'reboot';
      this.log('fence-request', { target, action, levels: levels.map((l) => `${l.index}:${l.devices.join(',')}`), attempt: attempts });
      return this.startTopologyFence({ target, action, origin: { kind: 'transition', tr: t.id, action: a, reason: a.key }, levels, devices: new Map(t.plan.fenceDevices.map((d) => [d.id, d])) });
    }
    const devices = this.devicesFor(t.plan, target);
    const device = devices[(attempts - 1) % Math.max(1, devices.length)];
    const reason = a.key;
    if (target === this.self.name) {
      // Fencing this very node (no-quorum-policy=suicide): the node's own device against itself,
      // as Pacemaker's fencer allows suicide when the DC is alone; without one, a hard stop.
      this.log('self-fence', { action: a.fenceAction ?? 'reboot', device: device?.id, why: a.key });
      if (!device) return this.hardStop(`no fence device can fence ${target}`);
      this.selfFencing = { reason: `fenced by its own device ${device.id}`, stops: new Set() };
    }
    if (!device) {
      this.counters.fencingFailed++;
      this.log('fence-no-device', { target, why: 'no configured fence device can fence this node' });
      const targetId = String(this.nodeByName(target)?.id ?? target);
      this.send({ t: 'fenced', target, targetId, action: a.fenceAction ?? 'reboot', ok: false, by: this.self.name, device: undefined, reason: 'no fence device', ...this.fenceStamp() });
      return;
    }
    const delayMs = device.delayBaseMs + this.priorityFencingDelayMs(target);
    const tag = this.nextTag++;
    this.calls.set(tag, { kind: 'fence', tr: t.id, action: a, device, reason });
    this.log('fence-request', { target, action: a.fenceAction ?? 'reboot', device: device.id, delayMs, attempt: attempts });
    this.out.exec.push({
      tag,
      request: {
        rscId: device.id,
        agent: { agentClass: device.agent.class as AgentClass, ...(device.agent.provider ? { provider: device.agent.provider } : {}), type: device.agent.type },
        action: a.fenceAction ?? 'reboot',
        target,
        params: device.params,
        timeoutMs: device.timeoutMs,
        ...(delayMs > 0 ? { startDelayMs: delayMs } : {}),
      },
    });
  }

  /**
   * stonith_admin --fence / --reboot / --unfence: runs `device` against `target` on this node's
   * executor now, outside any transition (as Pacemaker's fencer executes a manual request). The
   * outcome is broadcast as `fenced`, so every member journals it and keeps it in its fence
   * history, and a successful off or reboot marks the target down as a scheduled fencing does;
   * then `reqId` is answered (ok, or the device's failure). Needs a joined, quorate node.
   */
  requestFence(reqId: string, target: string, action: 'off' | 'on' | 'reboot', devices: FenceDevice | readonly FenceDevice[], nowMs: number, wallMs: number): void {
    this.setTime(nowMs, wallMs);
    const refuse = (code: string, message: string): void => void this.out.replies.push({ reqId, ok: false, error: { code, message } });
    if (this.phase !== 'joined' || !this.membership) return refuse('not-joined', 'this node has not joined the cluster yet; retry in a moment');
    if (!this.membership.quorate) return refuse('no-quorum', 'this partition has no quorum: it may not fence');
    if (target === this.self.name && action !== 'on') return refuse('bad-request', `${target} is this node: ask another node to fence it`);
    const all = 'id' in devices ? [devices] : devices;
    const levels = fenceLevelsFor(this.cibRoot, target);
    if (levels.length > 0) {
      this.log('fence-request', { target, action, levels: levels.map((l) => `${l.index}:${l.devices.join(',')}`), manual: true });
      const byId = new Map(all.map((d) => [d.id, d]));
      let timeoutMs = 0;
      for (const l of levels) for (const st of levelSteps(l, action)) timeoutMs += byId.get(st.deviceId)?.timeoutMs ?? 0;
      this.send({ t: 'fencing', target, action, by: this.self.name, timeoutMs: Math.max(timeoutMs, 1000) });
      return this.startTopologyFence({ target, action, origin: { kind: 'manual', reqId }, levels, devices: new Map(all.map((d) => [d.id, d])) });
    }
    const device = fenceDevicesFor(all, target)[0];
    if (!device) return refuse('not-found', `no fence device can fence ${target}`);
    const tag = this.nextTag++;
    this.calls.set(tag, { kind: 'manual-fence', reqId, target, action, device });
    this.log('fence-request', { target, action, device: device.id, manual: true });
    this.send({ t: 'fencing', target, action, by: this.self.name, timeoutMs: device.timeoutMs });
    this.out.exec.push({
      tag,
      request: {
        rscId: device.id,
        agent: { agentClass: device.agent.class as AgentClass, ...(device.agent.provider ? { provider: device.agent.provider } : {}), type: device.agent.type },
        action,
        target,
        params: device.params,
        timeoutMs: device.timeoutMs,
      },
    });
  }

  private onManualFenceResult(call: Extract<LocalCall, { kind: 'manual-fence' }>, r: ActionResult): void {
    const ok = r.execStatus === 'done' && r.rc === 0;
    const reason = ok ? 'stonith_admin' : (r.exitReason ?? `rc ${r.rc} (${r.execStatus})`);
    const targetId = String(this.nodeByName(call.target)?.id ?? this.configuredNode(call.target)?.id ?? call.target);
    this.send({ t: 'fenced', target: call.target, targetId, action: call.action, ok, by: this.self.name, device: call.device.id, reason, ...this.fenceStamp(), manual: true });
    this.out.replies.push(ok ? { reqId: call.reqId, ok: true, result: { target: call.target, action: call.action, device: call.device.id } } : { reqId: call.reqId, ok: false, error: { code: 'fence-failed', message: `fencing ${call.target} (${call.action}) with ${call.device.id} failed: ${reason}` } });
  }

  /** Starts a fencing operation through the target's levels (fencing.ts): level 1's first device. */
  private startTopologyFence(init: Pick<TopologyFence, 'target' | 'action' | 'origin' | 'levels' | 'devices'>): void {
    const op: TopologyFence = { ...init, levelPos: 0, stepPos: 0, steps: levelSteps(init.levels[0]!, init.action), attempts: [] };
    this.runFenceStep(op);
  }

  /** Runs the operation's next device, or ends its level when no step is left. */
  private runFenceStep(op: TopologyFence): void {
    const level = op.levels[op.levelPos]!;
    const step = op.steps[op.stepPos];
    if (!step) return this.fenceLevelDone(op, true, undefined);
    const device = op.devices.get(step.deviceId);
    // As Pacemaker's fencer, a level whose device is missing or cannot fence the target fails.
    const cannot = !device ? `device ${step.deviceId} is not a configured fence device` : device.hostList !== undefined && !device.hostList.includes(op.target) ? `device ${step.deviceId} cannot fence ${op.target}` : undefined;
    if (cannot !== undefined || !device) {
      if (!step.optional) return this.fenceLevelDone(op, false, cannot);
      op.stepPos++;
      return this.runFenceStep(op);
    }
    // The fencing delays (pcmk_delay_base, priority-fencing-delay) apply once, before the first device.
    const first = op.levelPos === 0 && op.stepPos === 0 && op.origin.kind === 'transition';
    const delayMs = first ? device.delayBaseMs + this.priorityFencingDelayMs(op.target) : 0;
    const tag = this.nextTag++;
    this.calls.set(tag, { kind: 'fence-step', op, step });
    this.log('fence-device-run', { target: op.target, level: level.index, device: device.id, action: step.action, ...(delayMs > 0 ? { delayMs } : {}) });
    this.out.exec.push({
      tag,
      request: {
        rscId: device.id,
        agent: { agentClass: device.agent.class as AgentClass, ...(device.agent.provider ? { provider: device.agent.provider } : {}), type: device.agent.type },
        action: step.action,
        target: op.target,
        params: device.params,
        timeoutMs: device.timeoutMs,
        ...(delayMs > 0 ? { startDelayMs: delayMs } : {}),
      },
    });
  }

  private onFenceStepResult(op: TopologyFence, step: FenceStep, r: ActionResult): void {
    const ok = r.execStatus === 'done' && r.rc === 0;
    const why = `${step.deviceId} (${step.action}): ${r.exitReason ?? `rc ${r.rc} (${r.execStatus})`}`;
    if (!ok && !step.optional) return this.fenceLevelDone(op, false, why);
    if (!ok) this.log('fence-unfence-failed', { target: op.target, level: op.levels[op.levelPos]!.index, reason: why });
    op.stepPos++;
    this.runFenceStep(op);
  }

  /** A level succeeded (the operation is done) or failed (the next level runs, if any). */
  private fenceLevelDone(op: TopologyFence, ok: boolean, reason: string | undefined): void {
    const level = op.levels[op.levelPos]!;
    op.attempts.push({ level: level.index, devices: level.devices, ok, ...(reason !== undefined ? { reason } : {}) });
    if (!ok) {
      this.log('fence-level-failed', { target: op.target, level: level.index, devices: level.devices, reason });
      if (op.levelPos + 1 < op.levels.length) {
        op.levelPos++;
        op.stepPos = 0;
        op.steps = levelSteps(op.levels[op.levelPos]!, op.action);
        return this.runFenceStep(op);
      }
    }
    const origin = op.origin;
    if (origin.kind === 'transition') {
      if (ok) {
        this.counters.fencingOk++;
        this.fenceAttempts.delete(op.target);
      } else this.counters.fencingFailed++;
    }
    const failed = `every fencing level failed: ${op.attempts.map((a) => `level ${a.level ?? '?'}: ${a.reason ?? 'failed'}`).join('; ')}`;
    const targetId = String(this.nodeByName(op.target)?.id ?? this.configuredNode(op.target)?.id ?? op.target);
    const manual = origin.kind === 'manual';
    this.send({
      t: 'fenced', target: op.target, targetId, action: op.action, ok, by: this.self.name, device: level.devices.join(','),
      reason: ok ? (manual ? 'stonith_admin' : origin.reason) : failed,
      ...this.fenceStamp(), level: level.index, devices: level.devices, attempts: [...op.attempts], ...(manual ? { manual: true } : {}),
    });
    if (origin.kind !== 'manual') return;
    this.out.replies.push(
      ok
        ? { reqId: origin.reqId, ok: true, result: { target: op.target, action: op.action, device: level.devices.join(','), level: level.index } }
        : { reqId: origin.reqId, ok: false, error: { code: 'fence-failed', message: `fencing ${op.target} (${op.action}) failed: ${failed}` } },
    );
  }

  /**
   * priority-fencing-delay: fencing a node that runs more important resources (by the `priority`
   * meta attribute) than this one waits, so that in a split of a two-node cluster the node with
   * the services fences first and wins the race.
   */
  private priorityFencingDelayMs(target: string): number {
    const delay = parseDurationMs(crmConfigOption(this.cibRoot, 'priority-fencing-delay'));
    if (!delay) return 0;
    const mine = nodePriority(this.cibRoot, this.self.name);
    const theirs = nodePriority(this.cibRoot, target);
    return theirs > mine ? delay : 0;
  }

  private onFenceResult(call: Extract<LocalCall, { kind: 'fence' }>, r: ActionResult): void {
    const target = call.action.node ?? '';
    const ok = r.execStatus === 'done' && r.rc === 0;
    if (target === this.self.name && this.selfFencing?.stops.size === 0) {
      // Still alive after fencing itself: the device failed (or "succeeded" without effect).
      this.selfFencing = undefined;
      this.log('self-fence-device-failed', { device: call.device.id, rc: r.rc, status: r.execStatus, reason: r.exitReason });
      return this.hardStop(`fence device ${call.device.id} could not fence this node (rc ${r.rc}, ${r.execStatus})`);
    }
    if (ok) {
      this.counters.fencingOk++;
      this.fenceAttempts.delete(target);
    } else this.counters.fencingFailed++;
    const targetId = String(this.nodeByName(target)?.id ?? target);
    this.send({
      t: 'fenced',
      target,
      targetId,
      action: call.action.fenceAction ?? 'reboot',
      ok,
      by: this.self.name,
      device: call.device.id,
      reason: ok ? call.reason : (r.exitReason ?? `rc ${r.rc} (${r.execStatus})`),
      ...this.fenceStamp(),
    });
  }

  /**
   * Self-fencing without a device: every resource this node's executor ran is stopped at once,
   * in no order (its recurring monitors cancelled, new orders ignored), then the node exits
   * (ControllerOutput.selfFence). What a stop could not stop keeps running: the quorate side
   * fences this node before it recovers anything, as it does for any lost node.
   */
  private hardStop(reason: string): void {
    if (this.selfFencing && this.selfFencing.stops.size > 0) return;
    const stops = new Set<number>();
    this.selfFencing = { reason, stops };
    this.scheduleWantedAtMs = undefined;
    for (const key of [...this.recurring.keys()]) this.cancelRecurring(key.slice(0, key.lastIndexOf(':')), undefined);
    const nowSec = Math.floor(this.wallMs / 1000);
    let source: OpParamSource | undefined;
    try {
      source = new OpParamSource(readCib(this.cibRoot), nowSec);
    } catch (e) {
      this.log('hard-stop-no-params', { error: e instanceof Error ? e.message : String(e) });
    }
    const nodeAttrs = new Map(transientNvpairs(this.cibRoot, this.self.name).map((nv) => [nv.attrs['name'] ?? '', nv.attrs['value'] ?? '']));
    const active: string[] = [];
    for (const [lrmId, ops] of this.localHistory) {
      const last = ops.get(`${lrmId}_last_0`);
      if (!last || !mayBeActive(last) || last.agent.class === 'stonith') continue;
      active.push(lrmId);
      const configured = lrmId.replace(/:\d+$/, '');
      const params = source?.params(configured, nodeAttrs) ?? new Map<string, string>();
      const tag = this.nextTag++;
      const action: PlannedAction = {
        id: -1, key: `${lrmId}_stop_0`, kind: 'rsc', task: 'stop', rsc: lrmId, lrmId, node: this.self.name, intervalMs: 0, expectedRc: 0, inputs: [], blocked: false,
        agent: last.agent, params: Object.fromEntries(params), timeoutMs: 20_000,
      };
      this.calls.set(tag, { kind: 'action', dc: this.self.id, tr: 0, action, reported: true, transitionKey: `-1:0:0:paceline-self-fence` });
      stops.add(tag);
      this.out.exec.push({
        tag,
        request: {
          rscId: lrmId,
          agent: { agentClass: last.agent.class as AgentClass, ...(last.agent.provider ? { provider: last.agent.provider } : {}), type: last.agent.type },
          action: 'stop', intervalMs: 0, recurring: false, timeoutMs: 20_000, params: Object.fromEntries(params), meta: {},
        },
      });
    }
    this.log('hard-stop', { reason, resources: active });
    if (stops.size === 0) this.selfFenceExit();
  }

  private hardStopDone(tag: number): void {
    const f = this.selfFencing;
    if (!f || !f.stops.delete(tag)) return;
    if (f.stops.size === 0) this.selfFenceExit();
  }

  private selfFenceExit(): void {
    const reason = this.selfFencing?.reason ?? 'self-fence';
    this.log('self-fenced', { reason });
    this.out.selfFence = reason;
    this.out.exit = true;
  }

  // ---------------------------------------------------------------------------------------------
  // Running actions on this node

  private runAction(dc: number, tr: number, a: PlannedAction): void {
    const lrmId = a.lrmId ?? a.rsc ?? '';
    if (a.task === 'cancel') {
      this.cancelRecurring(lrmId, a.intervalMs);
      this.send({ t: 'cancelled', node: this.self.name, lrmId, intervalMs: a.intervalMs });
      return;
    }
    if (!a.agent) {
      this.log('action-unrunnable', { action: a.key, why: 'no agent in the plan' });
      return;
    }
    if (a.task === 'stop' || a.task === 'migrate_to') this.cancelRecurring(lrmId, undefined);
    const recurring = a.task === 'monitor' && a.intervalMs > 0;
    if (recurring) this.cancelRecurring(lrmId, a.intervalMs);
    const tag = this.nextTag++;
    const transitionKey = `${a.id}:${tr}:${a.expectedRc}:paceline-${dc}`;
    this.calls.set(tag, { kind: 'action', dc, tr, action: a, reported: false, transitionKey });
    if (recurring) this.recurring.set(`${lrmId}:${a.intervalMs}`, tag);
    const meta: Record<string, string> = { ...(a.meta ?? {}) };
    this.out.exec.push({
      tag,
      request: {
        rscId: lrmId,
        agent: { agentClass: a.agent.class as AgentClass, ...(a.agent.provider ? { provider: a.agent.provider } : {}), type: a.agent.type },
        action: a.task,
        intervalMs: a.intervalMs,
        recurring,
        ...(a.timeoutMs !== undefined ? { timeoutMs: a.timeoutMs } : {}),
        ...(a.startDelayMs ? { startDelayMs: a.startDelayMs } : {}),
        params: a.params ?? {},
        meta,
      },
    });
  }

  private cancelRecurring(lrmId: string, intervalMs: number | undefined): void {
    for (const [key, tag] of [...this.recurring]) {
      const [id, iv] = [key.slice(0, key.lastIndexOf(':')), Number(key.slice(key.lastIndexOf(':') + 1))];
      if (id !== lrmId || (intervalMs !== undefined && iv !== intervalMs)) continue;
      this.recurring.delete(key);
      this.calls.delete(tag);
      this.out.cancel.push({ lrmId, intervalMs: iv });
      this.localHistory.get(lrmId)?.delete(`${lrmId}_monitor_${iv}`);
    }
  }

  private recordFor(a: PlannedAction, r: ActionResult, transitionKey: string): OpResultRecord {
    const lrmId = a.lrmId ?? a.rsc ?? '';
    const opStatus = { done: 0, cancelled: 1, 'timed-out': 2, error: 4, 'not-installed': 7 }[r.execStatus] ?? 4;
    const prev = this.localHistory.get(lrmId)?.get(opKeyOf(lrmId, a.task, a.intervalMs));
    const runSec = Math.floor(r.startedAtWallMs / 1000);
    const lastRcChangeSec = prev && prev.rc === r.rc && prev.task === a.task ? prev.lastRcChangeSec : runSec;
    return {
      node: this.self.name,
      nodeId: String(this.self.id),
      lrmId,
      agent: a.agent ?? { class: 'ocf', type: 'unknown' },
      task: a.task,
      intervalMs: a.intervalMs,
      callId: r.callId,
      rc: r.rc,
      opStatus,
      targetRc: a.expectedRc,
      transitionKey,
      lastRcChangeSec,
      lastRunSec: runSec,
      execMs: Math.round(r.execMs),
      queueMs: Math.round(r.queueMs),
      ...(a.opDigest !== undefined ? { opDigest: a.opDigest } : {}),
      ...(r.exitReason !== undefined ? { exitReason: r.exitReason } : {}),
      ...(a.migrateSource !== undefined ? { migrateSource: a.migrateSource } : {}),
      ...(a.migrateTarget !== undefined ? { migrateTarget: a.migrateTarget } : {}),
    };
  }

  /** Keeps this node's history as Pacemaker's executor would report it on a join. */
  private remember(rec: OpResultRecord): void {
    let ops = this.localHistory.get(rec.lrmId);
    if (!ops) {
      ops = new Map();
      this.localHistory.set(rec.lrmId, ops);
    }
    if (rec.intervalMs > 0) ops.set(opKeyOf(rec.lrmId, rec.task, rec.intervalMs), rec);
    else {
      if (rec.task === 'stop' && rec.rc === 0) for (const k of [...ops.keys()]) if (ops.get(k)!.intervalMs > 0) ops.delete(k);
      if (isFailure(rec)) ops.set(`${rec.lrmId}_last_failure_0`, rec);
      ops.set(`${rec.lrmId}_last_0`, rec);
    }
  }
}

/** Whether a resource's last recorded operation leaves it possibly active (what a hard stop stops). */
function mayBeActive(last: OpResultRecord): boolean {
  if (last.task === 'stop') return last.rc !== 0 || last.opStatus !== 0;
  if (last.task === 'monitor') return !(last.rc === 7 && last.opStatus === 0);
  if (last.task === 'migrate_to') return last.rc !== 0;
  return true;
}

/** Whether `lrmId` has a fail count or a recorded failed operation on `uname` (what cleanup cleans). */
function hasFailures(cib: XmlElement, uname: string, lrmId: string): boolean {
  if (failedResourceIds(cib, uname).has(lrmId)) return true;
  const ns = nodeStateOf(cib, uname);
  const lrm = ns ? firstChild(ns, 'lrm') : undefined;
  const resources = lrm ? firstChild(lrm, 'lrm_resources') : undefined;
  const r = resources ? childElements(resources, 'lrm_resource').find((x) => x.attrs['id'] === lrmId) : undefined;
  return r !== undefined && childElements(r, 'lrm_rsc_op').some((op) => op.attrs['id'] === `${lrmId}_last_failure_0`);
}

/** Resources with a fail-count or last-failure attribute on `uname`. */
function failedResourceIds(cib: XmlElement, uname: string): Set<string> {
  const out = new Set<string>();
  for (const name of transientAttrNames(cib, uname)) {
    const m = /^(?:fail-count|last-failure)-(.+?)(?:#.*)?$/.exec(name);
    if (m) out.add(m[1]!);
  }
  return out;
}

/** Ids of the lrm_resource entries of `uname`'s status. */
function lrmResourceIds(cib: XmlElement, uname: string): string[] {
  const ns = nodeStateOf(cib, uname);
  const lrm = ns ? firstChild(ns, 'lrm') : undefined;
  const resources = lrm ? firstChild(lrm, 'lrm_resources') : undefined;
  return resources ? childElements(resources, 'lrm_resource').map((r) => r.attrs['id'] ?? '') : [];
}

/** One resource's failures on one node, with the failure-timeout that applies to them. */
export interface FailureTimeoutEntry {
  readonly node: string;
  /** The resource id as the attributes name it (the part after fail-count- / last-failure-, before '#'). */
  readonly rsc: string;
  /** Newest last-failure (epoch seconds). */
  readonly lastSec: number;
  readonly timeoutSec: number;
  /** The fail-count-* and last-failure-* attribute names of this resource on this node. */
  readonly attrs: readonly string[];
}

/**
 * Fail counts subject to a failure-timeout (the resource's own meta, then its parents', with
 * rsc_defaults as the scheduler merges them), read from the transient attributes as the scheduler
 * reads them. Unpacks the CIB only when some node has a last-failure attribute.
 */
export function failureTimeoutEntries(cib: XmlElement, nowSec: number): FailureTimeoutEntry[] {
  const byNode = new Map<string, Map<string, { last: number; count: boolean; attrs: string[] }>>();
  let anyLast = false;
  for (const ns of nodeStatesOf(cib)) {
    const uname = ns.attrs['uname'] ?? '';
    for (const nv of transientNvpairs(cib, uname)) {
      const name = nv.attrs['name'] ?? '';
      const isCount = name.startsWith('fail-count-');
      if (!isCount && !name.startsWith('last-failure-')) continue;
      const rest = name.slice(isCount ? 'fail-count-'.length : 'last-failure-'.length);
      const id = rest.includes('#') ? rest.slice(0, rest.indexOf('#')) : rest;
      const m = byNode.get(uname) ?? new Map<string, { last: number; count: boolean; attrs: string[] }>();
      const e = m.get(id) ?? { last: 0, count: false, attrs: [] };
      e.attrs.push(name);
      if (isCount) e.count = true;
      else {
        const sec = Number.parseInt(nv.attrs['value'] ?? '', 10);
        if (Number.isFinite(sec) && sec > e.last) e.last = sec;
        anyLast = true;
      }
      m.set(id, e);
      byNode.set(uname, m);
    }
  }
  if (!anyLast) return [];
  let state;
  try {
    state = unpackCluster(readCib(cib), { nowSec });
  } catch {
    return [];
  }
  const timeoutOf = (id: string): number => {
    let r = state.resourceById.get(id) ?? state.resources.find((x) => x.variant === 'primitive' && x.id.replace(/:\d+$/, '') === id);
    for (; r; r = r.parent !== undefined ? state.resourceById.get(r.parent) : undefined) {
      const text = r.meta.get('failure-timeout');
      if (text === undefined) continue;
      const parsed = parseIntervalMs(text.trim());
      return parsed.ok ? Math.trunc(parsed.ms / 1000) : 0;
    }
    return 0;
  };
  const out: FailureTimeoutEntry[] = [];
  for (const [node, m] of byNode) {
    for (const [rsc, e] of m) {
      if (!e.count || e.last <= 0) continue;
      const timeoutSec = timeoutOf(rsc);
      if (timeoutSec > 0) out.push({ node, rsc, lastSec: e.last, timeoutSec, attrs: e.attrs });
    }
  }
  return out;
}

/**
 * Pacemaker 2.1's "recheck-by" for failure-timeout: the first whole second (epoch) at which a fail
 * count of the CIB counts as expired (the scheduler's `now > last-failure + failure-timeout`),
 * among fail counts not yet expired at `nowSec`; undefined when there is none.
 */
export function nextFailureExpirySec(cib: XmlElement, nowSec: number): number | undefined {
  let best: number | undefined;
  for (const e of failureTimeoutEntries(cib, nowSec)) {
    const at = e.lastSec + e.timeoutSec + 1;
    if (at > nowSec && (best === undefined || at < best)) best = at;
  }
  return best;
}

function opKeyOf(lrmId: string, task: string, intervalMs: number): string {
  return intervalMs > 0 ? `${lrmId}_${task}_${intervalMs}` : `${lrmId}_last_0`;
}

/** Whether a result counts as a failure (fail count, last-failure): Pacemaker's rules, simplified. */
export function isFailure(rec: OpResultRecord): boolean {
  if (rec.opStatus === 1) return false; // cancelled
  if (rec.rc === rec.targetRc && rec.opStatus === 0) return false;
  const probe = rec.task === 'monitor' && rec.intervalMs === 0;
  if (probe && rec.opStatus === 0 && (rec.rc === 0 || rec.rc === 7 || rec.rc === 8)) return false;
  if (rec.task === 'stop' && rec.rc === 7 && rec.opStatus === 0) return false;
  return true;
}

function scoreOf(v: string): number {
  if (/^\+?INFINITY$/i.test(v.trim())) return INFINITY;
  const n = Number.parseInt(v, 10);
  return Number.isFinite(n) ? n : 0;
}

function nodeStateOf(cib: XmlElement, uname: string): XmlElement | undefined {
  const status = firstChild(cib, 'status');
  return status ? childElements(status, 'node_state').find((n) => n.attrs['uname'] === uname) : undefined;
}

function transientNvpairs(cib: XmlElement, uname: string): XmlElement[] {
  const ns = nodeStateOf(cib, uname);
  const ta = ns ? firstChild(ns, 'transient_attributes') : undefined;
  const out: XmlElement[] = [];
  for (const set of ta ? childElements(ta, 'instance_attributes') : []) out.push(...childElements(set, 'nvpair'));
  return out;
}

function transientAttr(cib: XmlElement, uname: string, name: string): string | undefined {
  return transientNvpairs(cib, uname).find((nv) => nv.attrs['name'] === name)?.attrs['value'];
}

function transientAttrNames(cib: XmlElement, uname: string): string[] {
  return transientNvpairs(cib, uname).map((nv) => nv.attrs['name'] ?? '');
}

/**
 * The device runs of one fencing level: each device with the action, in order; a reboot through
 * several devices is "off" on each, then "on" on each (the ons may fail), as Pacemaker remaps it.
 */
function levelSteps(level: FenceLevel, action: string): FenceStep[] {
  if (action !== 'reboot' || level.devices.length < 2) return level.devices.map((deviceId) => ({ deviceId, action, optional: false }));
  return [...level.devices.map((deviceId) => ({ deviceId, action: 'off', optional: false })), ...level.devices.map((deviceId) => ({ deviceId, action: 'on', optional: true }))];
}

/** Sum of the `priority` meta attribute of resources active on a node (for priority-fencing-delay). */
function nodePriority(cib: XmlElement, uname: string): number {
  const ns = nodeStateOf(cib, uname);
  const lrm = ns ? firstChild(ns, 'lrm') : undefined;
  const resources = lrm ? firstChild(lrm, 'lrm_resources') : undefined;
  const active = new Set<string>();
  for (const r of resources ? childElements(resources, 'lrm_resource') : []) {
    const last = childElements(r, 'lrm_rsc_op').find((op) => op.attrs['id'] === `${r.attrs['id']}_last_0`);
    if (last && (last.attrs['operation'] === 'start' || last.attrs['operation'] === 'promote' || (last.attrs['operation'] === 'monitor' && last.attrs['rc-code'] === '0'))) active.add(r.attrs['id'] ?? '');
  }
  let sum = 0;
  const config = firstChild(cib, 'configuration');
  const rscs = config ? firstChild(config, 'resources') : undefined;
  const visit = (el: XmlElement, inherited: number): void => {
    let prio = inherited;
    const meta = firstChild(el, 'meta_attributes');
    for (const nv of meta ? childElements(meta, 'nvpair') : []) if (nv.attrs['name'] === 'priority') prio = scoreOf(nv.attrs['value'] ?? '0');
    if (el.name === 'primitive' && active.has(el.attrs['id'] ?? '')) sum += prio;
    for (const c of el.children) if (c.kind === 'element' && c.name !== 'meta_attributes') visit(c, prio);
  };
  if (rscs) for (const c of childElements(rscs)) visit(c, 0);
  return sum;
}

function addConfiguredNode(root: XmlElement, id: string, uname: string): XmlElement {
  const result = cibadmin(root, { op: 'create', scope: 'nodes', xml: parseXml(`<node id="${escapeAttr(id)}" uname="${escapeAttr(uname)}"/>`).root });
  return result.ok ? result.value.cib : root;
}

/** Removes a node's resource history but keeps its transient attributes (fail counts survive a re-join). */
function nodeStatesOf(root: XmlElement): XmlElement[] {
  const status = firstChild(root, 'status');
  return status ? childElements(status, 'node_state') : [];
}

/** FNV-1a (32 bits) of the CIB text: members holding the same version and digest skip the sync. */
export function cibDigest(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0') + ':' + text.length.toString(16);
}

function removeLrm(root: XmlElement, node: string): XmlElement {
  const result = cibadmin(root, { op: 'delete', xpath: `//node_state[@uname='${node}']/lrm`, multiple: true });
  return result.ok ? result.value.cib : root;
}

function removeOpEntry(root: XmlElement, node: string, opId: string): XmlElement {
  const xpath = `//node_state[@uname='${node}']//lrm_rsc_op[@id='${opId}']`;
  const result = cibadmin(root, { op: 'delete', xpath, multiple: true });
  return result.ok ? result.value.cib : root;
}


function toCibadminRequest(w: WireCibRequest): CibadminRequest {
  const xml = w.xml !== undefined ? parseXml(w.xml).root : undefined;
  const need = (): XmlElement => {
    if (!xml) throw new Error(`${w.op} needs XML`);
    return xml;
  };
  const scope = w.scope !== undefined ? { scope: w.scope } : {};
  const xpath = w.xpath !== undefined ? { xpath: w.xpath } : {};
  switch (w.op) {
    case 'create':
      return { op: 'create', ...scope, ...xpath, xml: need(), ...(w.allowCreate ? { allowCreate: true } : {}) };
    case 'modify':
      return { op: 'modify', ...scope, ...xpath, xml: need(), ...(w.allowCreate ? { allowCreate: true } : {}), ...(w.multiple ? { multiple: true } : {}) };
    case 'replace':
      return { op: 'replace', ...scope, ...xpath, xml: need(), ...(w.multiple ? { multiple: true } : {}) };
    case 'delete':
      return { op: 'delete', ...scope, ...xpath, ...(xml ? { xml } : {}), ...(w.multiple ? { multiple: true } : {}) };
    case 'erase':
      return { op: 'erase', force: true };
    case 'bump':
      return { op: 'bump' };
    case 'patch':
      return { op: 'patch', xml: need() };
    default:
      throw new Error(`unknown CIB operation ${String((w as { op: unknown }).op)}`);
  }
}

/** Refuses a changed CIB whose configuration has errors (the schema check of the CIB manager). */
function validateConfiguration(cib: XmlElement): string | undefined {
  const errors = validateCib(cib).filter((d) => d.severity === 'error');
  return errors.length > 0 ? errors.map((d) => d.message).join('; ') : undefined;
}
