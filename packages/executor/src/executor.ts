/**
 * The local resource manager's core: queues, serialises, times and reports agent actions.
 *
 * Contract:
 *   - `execute(request, onResult)` accepts an action and returns its call id; `onResult` is
 *     called later (never inside execute or cancel): once for a one-shot action; for a recurring
 *     one with the first result and then only with results whose (execStatus, rc) differ from
 *     the last one reported (as Pacemaker's executor does for the controller), and a final
 *     `cancelled` result when it is cancelled.
 *   - Actions on one resource (rscId) run one at a time, in the order they became due. Actions
 *     on different resources run in parallel, at most `actionsParallelMax` at once.
 *   - A recurring action waits `intervalMs` after each run ends before it is due again.
 * Time and processes come in through Clock and ProcessRunner, so tests use SimClock and
 * SimProcessRunner and never sleep.
 */
import { Attempt, type AttemptOutcome } from './attempt.js';
import type { Clock, TimerId } from './clock.js';
import { execStatusInfo, ocfRcName, OCF_ERR_GENERIC, OCF_ERR_INSTALLED, OCF_ERR_PERM, OCF_NOT_RUNNING, OCF_SUCCESS, type ExecStatus } from './codes.js';
import { buildSpawnSpec, exitCodeToOcf, type AgentLocator } from './command.js';
import {
  DEFAULT_ABANDON_AFTER_KILL_MS,
  DEFAULT_ACTION_TIMEOUT_MS,
  DEFAULT_CALLS_MAX,
  DEFAULT_KILL_GRACE_MS,
  DEFAULT_OUTPUT_CHARS_MAX,
} from './defaults.js';
import type { ProcessRunner } from './process.js';
import { formatAgent, type ActionRequest, type ActionResult, type CallId } from './types.js';

export interface ExecutorOptions {
  readonly clock: Clock;
  readonly runner: ProcessRunner;
  readonly locator: AgentLocator;
  /** Actions running at once over all resources; see defaultActionsParallelMax. */
  readonly actionsParallelMax: number;
  readonly killGraceMs?: number;
  readonly abandonAfterKillMs?: number;
  readonly defaultTimeoutMs?: number;
  readonly outputCharsMax?: number;
  /** The environment agents inherit; {} when omitted (tests), process.env in createExecutor. */
  readonly baseEnv?: Readonly<Record<string, string | undefined>>;
  readonly defaultOcfRoot?: string;
  /** Calls held at once (queued, running, waiting); more are refused with `too-many-calls`. */
  readonly callsMax?: number;
}

export type ExecuteError = { code: 'invalid-request' | 'closed' | 'too-many-calls'; message: string };

type Phase = 'delayed' | 'queued' | 'running' | 'waiting' | 'over';

interface Op {
  readonly callId: CallId;
  readonly req: ActionRequest;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly recurring: boolean;
  readonly onResult: (result: ActionResult) => void;
  phase: Phase;
  timer: TimerId | undefined;
  dueAtMs: number;
  attempt: Attempt | undefined;
  cancelled: boolean;
  runs: number;
  lastReported: { execStatus: ExecStatus; rc: number } | undefined;
}

export interface ExecutorCounts {
  readonly running: number;
  readonly queued: number;
  /** Waiting for their start-delay or their next interval. */
  readonly waiting: number;
}

export class Executor {
  private readonly ops = new Map<CallId, Op>();
  /** Due actions in the order they became due; the dispatcher skips busy resources. */
  private queue: Op[] = [];
  private readonly busyResources = new Set<string>();
  /** Fence devices started (registered) on this node. */
  private readonly stonithRegistered = new Set<string>();
  private runningCount = 0;
  private nextCallId = 1;
  private pumpTimer: TimerId | undefined;
  private closed = false;

  constructor(private readonly opts: ExecutorOptions) {
    if (!(opts.actionsParallelMax >= 1)) throw new Error('actionsParallelMax must be at least 1');
  }

  /** Accepts an action; see the module contract for when onResult is called. */
  execute(req: ActionRequest, onResult: (result: ActionResult) => void): { ok: true; callId: CallId } | { ok: false; error: ExecuteError } {
    if (this.closed) return { ok: false, error: { code: 'closed', message: 'the executor is closed' } };
    const callsMax = this.opts.callsMax ?? DEFAULT_CALLS_MAX;
    if (this.ops.size >= callsMax) return { ok: false, error: { code: 'too-many-calls', message: `already ${this.ops.size} calls (callsMax)` } };
    const invalid = validate(req);
    if (invalid) return { ok: false, error: { code: 'invalid-request', message: invalid } };
    const intervalMs = req.intervalMs ?? 0;
    const op: Op = {
      callId: this.nextCallId++,
      req,
      intervalMs,
      timeoutMs: req.timeoutMs ?? this.opts.defaultTimeoutMs ?? DEFAULT_ACTION_TIMEOUT_MS,
      recurring: req.recurring ?? intervalMs > 0,
      onResult,
      phase: 'delayed',
      timer: undefined,
      dueAtMs: 0,
      attempt: undefined,
      cancelled: false,
      runs: 0,
      lastReported: undefined,
    };
    this.ops.set(op.callId, op);
    const delayMs = req.startDelayMs ?? 0;
    if (delayMs > 0) op.timer = this.opts.clock.setTimer(delayMs, () => this.enqueue(op));
    else this.enqueue(op);
    return { ok: true, callId: op.callId };
  }

  /** Runs one action once and resolves with its result (interval only goes into the environment). */
  run(req: ActionRequest): Promise<ActionResult> {
    return new Promise((resolve, reject) => {
      const r = this.execute({ ...req, recurring: false }, resolve);
      if (!r.ok) reject(new Error(`${r.error.code}: ${r.error.message}`));
    });
  }

  /**
   * Cancels a call: a queued or waiting one at once, a running one by killing its process group.
   * Its onResult then gets a `cancelled` result. False when the call is unknown or over.
   */
  cancel(callId: CallId): boolean {
    const op = this.ops.get(callId);
    if (!op || op.cancelled || op.phase === 'over') return false;
    op.cancelled = true;
    if (op.phase === 'running') {
      op.attempt?.cancel();
      return true;
    }
    if (op.timer !== undefined) this.opts.clock.clearTimer(op.timer);
    if (op.phase === 'queued') this.queue = this.queue.filter((o) => o !== op);
    op.phase = 'over';
    this.opts.clock.setTimer(0, () => this.report(op, this.notRunResult(op, 'cancelled', 'cancelled before it ran'), true));
    return true;
  }

  /** Cancels every call on a resource, optionally only one action/interval. Returns how many. */
  cancelMatching(filter: { rscId: string; action?: string; intervalMs?: number }): number {
    let n = 0;
    for (const op of [...this.ops.values()]) {
      if (op.req.rscId !== filter.rscId) continue;
      if (filter.action !== undefined && op.req.action !== filter.action) continue;
      if (filter.intervalMs !== undefined && op.intervalMs !== filter.intervalMs) continue;
      if (this.cancel(op.callId)) n++;
    }
    return n;
  }

  /** Cancels everything and accepts nothing more. Results of the cancelled calls still arrive. */
  close(): void {
    this.closed = true;
    for (const id of [...this.ops.keys()]) this.cancel(id);
  }

  counts(): ExecutorCounts {
    let waiting = 0;
    for (const op of this.ops.values()) if (op.phase === 'delayed' || op.phase === 'waiting') waiting++;
    return { running: this.runningCount, queued: this.queue.length, waiting };
  }

  private enqueue(op: Op): void {
    op.timer = undefined;
    op.phase = 'queued';
    op.dueAtMs = this.opts.clock.monotonicMs();
    this.queue.push(op);
    this.schedulePump();
  }

  /** Dispatch runs from a timer, so nothing starts (or reports) inside execute or cancel. */
  private schedulePump(): void {
    if (this.pumpTimer !== undefined) return;
    this.pumpTimer = this.opts.clock.setTimer(0, () => {
      this.pumpTimer = undefined;
      this.pump();
    });
  }

  private pump(): void {
    if (this.runningCount >= this.opts.actionsParallelMax || this.queue.length === 0) return;
    const rest: Op[] = [];
    for (const op of this.queue) {
      if (this.runningCount < this.opts.actionsParallelMax && !this.busyResources.has(op.req.rscId)) this.start(op);
      else rest.push(op);
    }
    this.queue = rest;
  }

  private start(op: Op): void {
    op.phase = 'running';
    op.runs++;
    this.busyResources.add(op.req.rscId);
    this.runningCount++;
    let req = op.req;
    if (req.agent.agentClass === 'stonith' && req.target === undefined) {
      // A fence device as a cluster resource, as Pacemaker's executor treats it: start registers
      // the device (after its agent's monitor says the device answers), stop unregisters it, and
      // a monitor of a device not registered here is "not running" without asking the agent.
      const registered = this.stonithRegistered.has(req.rscId);
      if (req.action === 'stop') {
        this.stonithRegistered.delete(req.rscId);
        this.opts.clock.setTimer(0, () => this.runEnded(op, this.doneResult(op, OCF_SUCCESS)));
        return;
      }
      if ((req.action === 'monitor' || req.action === 'status') && !registered) {
        this.opts.clock.setTimer(0, () => this.runEnded(op, this.doneResult(op, OCF_NOT_RUNNING)));
        return;
      }
      if (req.action === 'start') req = { ...req, action: 'monitor' };
    }
    const loc = this.opts.locator.locate(op.req.agent);
    if (!loc) {
      this.opts.clock.setTimer(0, () =>
        this.runEnded(op, this.notRunResult(op, 'not-installed', `agent ${formatAgent(op.req.agent)} is not installed`)),
      );
      return;
    }
    const spec = buildSpawnSpec(req, loc, op, {
      baseEnv: this.opts.baseEnv ?? {},
      ...(this.opts.defaultOcfRoot !== undefined ? { defaultOcfRoot: this.opts.defaultOcfRoot } : {}),
    });
    const limits = {
      timeoutMs: op.timeoutMs,
      killGraceMs: this.opts.killGraceMs ?? DEFAULT_KILL_GRACE_MS,
      abandonAfterKillMs: this.opts.abandonAfterKillMs ?? DEFAULT_ABANDON_AFTER_KILL_MS,
      outputCharsMax: op.req.outputCharsMax ?? this.opts.outputCharsMax ?? DEFAULT_OUTPUT_CHARS_MAX,
    };
    op.attempt = new Attempt(this.opts.clock, this.opts.runner, spec, limits, (outcome) =>
      this.runEnded(op, this.outcomeResult(op, outcome)),
    );
  }

  private runEnded(op: Op, result: ActionResult): void {
    op.attempt = undefined;
    if (op.req.agent.agentClass === 'stonith' && op.req.target === undefined && op.req.action === 'start' && result.execStatus === 'done' && result.rc === OCF_SUCCESS) {
      this.stonithRegistered.add(op.req.rscId);
    }
    this.busyResources.delete(op.req.rscId);
    this.runningCount--;
    this.schedulePump();
    if (op.recurring && !op.cancelled && !this.closed) {
      op.phase = 'waiting';
      op.timer = this.opts.clock.setTimer(op.intervalMs, () => this.enqueue(op));
      this.report(op, result, false);
    } else {
      op.phase = 'over';
      this.report(op, result, true);
    }
  }

  /** Delivers a result, suppressing a recurring run's result equal to the last one reported. */
  private report(op: Op, result: ActionResult, final: boolean): void {
    if (final) this.ops.delete(op.callId);
    const last = op.lastReported;
    if (!final && last && last.execStatus === result.execStatus && last.rc === result.rc) return;
    op.lastReported = { execStatus: result.execStatus, rc: result.rc };
    op.onResult(result);
  }

  private baseResult(op: Op): Omit<ActionResult, 'execStatus' | 'rc' | 'rcName' | 'stdout' | 'stderr' | 'outputTruncatedChars' | 'execMs' | 'queueMs' | 'startedAtWallMs'> {
    return { callId: op.callId, rscId: op.req.rscId, agent: op.req.agent, action: op.req.action, intervalMs: op.intervalMs, runNumber: op.runs };
  }

  /** A result the executor decides itself (fence device registration). */
  private doneResult(op: Op, rc: number): ActionResult {
    return {
      ...this.baseResult(op),
      execStatus: 'done',
      rc,
      rcName: ocfRcName(rc),
      stdout: '',
      stderr: '',
      outputTruncatedChars: 0,
      execMs: 0,
      queueMs: this.opts.clock.monotonicMs() - op.dueAtMs,
      startedAtWallMs: this.opts.clock.wallMs(),
    };
  }

  private notRunResult(op: Op, status: ExecStatus, reason: string): ActionResult {
    const rc = execStatusInfo(status).rcWhenNoExit ?? OCF_ERR_GENERIC;
    const queueMs = op.phase === 'running' ? this.opts.clock.monotonicMs() - op.dueAtMs : 0;
    return {
      ...this.baseResult(op),
      execStatus: status,
      rc,
      rcName: ocfRcName(rc),
      exitReason: reason,
      stdout: '',
      stderr: '',
      outputTruncatedChars: 0,
      execMs: 0,
      queueMs,
      startedAtWallMs: this.opts.clock.wallMs(),
    };
  }

  private outcomeResult(op: Op, o: AttemptOutcome): ActionResult {
    const execMs = o.endedAtMs - o.startedAtMs;
    const common = {
      ...this.baseResult(op),
      stdout: o.stdout.text(),
      stderr: o.stderr.text(),
      outputTruncatedChars: o.stdout.truncatedChars() + o.stderr.truncatedChars(),
      execMs,
      queueMs: o.startedAtMs - op.dueAtMs,
      startedAtWallMs: this.opts.clock.wallMs() - execMs,
    };
    const agentReason = o.stderr.exitReason();
    const decided = decideOutcome(op, o);
    const exitReason = agentReason ?? decided.reason;
    return {
      ...common,
      execStatus: decided.status,
      rc: decided.rc,
      rcName: ocfRcName(decided.rc),
      ...(decided.exitCode !== undefined ? { exitCode: decided.exitCode } : {}),
      ...(decided.signal !== undefined ? { signal: decided.signal } : {}),
      ...(exitReason !== undefined ? { exitReason } : {}),
    };
  }
}

interface Decided {
  status: ExecStatus;
  rc: number;
  exitCode?: number;
  signal?: string;
  reason?: string;
}

/** The status and rc of a run from how its process ended and whether the executor stopped it. */
function decideOutcome(op: Op, o: AttemptOutcome): Decided {
  const e = o.end;
  const how: Partial<Decided> =
    e.kind === 'exited' ? { exitCode: e.exitCode } : e.kind === 'signalled' ? { signal: e.signal } : {};
  if (o.stoppedBy === 'timeout') {
    return { ...how, status: 'timed-out', rc: OCF_ERR_GENERIC, reason: `timed out after ${op.timeoutMs} ms` };
  }
  if (o.stoppedBy === 'cancel') return { ...how, status: 'cancelled', rc: OCF_ERR_GENERIC, reason: 'cancelled while running' };
  switch (e.kind) {
    case 'exited':
      return { ...how, status: 'done', rc: exitCodeToOcf(op.req.agent.agentClass, op.req.action, e.exitCode) };
    case 'signalled':
      return { ...how, status: 'error', rc: OCF_ERR_GENERIC, reason: `killed by signal ${e.signal}` };
    case 'spawn-failed':
      if (e.errno === 'ENOENT' || e.errno === 'ENOTDIR') return { status: 'not-installed', rc: OCF_ERR_INSTALLED, reason: e.message };
      if (e.errno === 'EACCES' || e.errno === 'EPERM') return { status: 'error', rc: OCF_ERR_PERM, reason: e.message };
      return { status: 'error', rc: OCF_ERR_GENERIC, reason: e.message };
    case 'abandoned':
      return { status: 'error', rc: OCF_ERR_GENERIC, reason: 'the process did not die after SIGKILL' };
    default: {
      const never: never = e;
      throw new Error(`unhandled process end ${JSON.stringify(never)}`);
    }
  }
}

/** A reason the request cannot be run, or undefined. */
function validate(req: ActionRequest): string | undefined {
  if (!req.rscId) return 'rscId is empty';
  if (!req.action || /\s/.test(req.action)) return `bad action name "${req.action}"`;
  for (const [name, v] of [['intervalMs', req.intervalMs], ['timeoutMs', req.timeoutMs], ['startDelayMs', req.startDelayMs]] as const) {
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) return `${name} must be a non-negative number`;
  }
  if (req.timeoutMs !== undefined && req.timeoutMs <= 0) return 'timeoutMs must be positive';
  if ((req.recurring ?? (req.intervalMs ?? 0) > 0) && !((req.intervalMs ?? 0) > 0)) return 'a recurring action needs intervalMs > 0';
  if (req.agent.agentClass === 'ocf' && !req.agent.provider) return 'ocf agents need a provider';
  for (const name of Object.keys(req.params ?? {})) if (!/^[A-Za-z0-9_.-]+$/.test(name)) return `bad parameter name "${name}"`;
  return undefined;
}
