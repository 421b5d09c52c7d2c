/**
 * One run of one action: spawn, capture output (bounded), enforce the timeout by killing the
 * whole process group (TERM, then KILL after a grace), and stop early on cancellation. Reports
 * how it ended exactly once, through `onEnd`, never synchronously inside the constructor.
 */
import { OutputCapture } from './capture.js';
import type { Clock, TimerId } from './clock.js';
import type { ProcessEnd, ProcessHandle, ProcessRunner, SpawnSpec } from './process.js';

export interface AttemptLimits {
  readonly timeoutMs: number;
  readonly killGraceMs: number;
  readonly abandonAfterKillMs: number;
  readonly outputCharsMax: number;
}

/** Why the executor stopped the process, if it did. */
export type StopReason = 'timeout' | 'cancel';

export interface AttemptOutcome {
  /** How the process ended; `abandoned` = it did not die within abandonAfterKillMs of KILL. */
  readonly end: ProcessEnd | { readonly kind: 'abandoned' };
  readonly stoppedBy: StopReason | undefined;
  readonly stdout: OutputCapture;
  readonly stderr: OutputCapture;
  readonly startedAtMs: number;
  readonly endedAtMs: number;
}

export class Attempt {
  private readonly stdout: OutputCapture;
  private readonly stderr: OutputCapture;
  private readonly startedAtMs: number;
  private readonly handle: ProcessHandle;
  private timers: TimerId[] = [];
  private stoppedBy: StopReason | undefined;
  private killSent = false;
  private over = false;

  constructor(
    private readonly clock: Clock,
    runner: ProcessRunner,
    spec: SpawnSpec,
    private readonly limits: AttemptLimits,
    private readonly onEnd: (outcome: AttemptOutcome) => void,
  ) {
    this.stdout = new OutputCapture(limits.outputCharsMax, false);
    this.stderr = new OutputCapture(limits.outputCharsMax, true);
    this.startedAtMs = clock.monotonicMs();
    this.handle = runner.spawn(spec, {
      stdout: (c) => this.stdout.push(c),
      stderr: (c) => this.stderr.push(c),
      end: (end) => this.finish(end),
    });
    this.timers.push(clock.setTimer(limits.timeoutMs, () => this.stop('timeout')));
  }

  /** Stops the run because it was cancelled. No effect once it has ended or is being stopped. */
  cancel(): void {
    this.stop('cancel');
  }

  private stop(reason: StopReason): void {
    if (this.over || this.stoppedBy) return;
    this.stoppedBy = reason;
    this.handle.killGroup('SIGTERM');
    this.timers.push(
      this.clock.setTimer(this.limits.killGraceMs, () => {
        this.handle.killGroup('SIGKILL');
        this.killSent = true;
        this.timers.push(this.clock.setTimer(this.limits.abandonAfterKillMs, () => this.finish({ kind: 'abandoned' })));
      }),
    );
  }

  private finish(end: AttemptOutcome['end']): void {
    if (this.over) return;
    this.over = true;
    // The leader died of our TERM; what is left of its group (children that ignore TERM) is
    // killed now rather than left running after the action has been reported.
    if (this.stoppedBy && !this.killSent && end.kind !== 'abandoned' && end.kind !== 'spawn-failed') this.handle.killGroup('SIGKILL');
    for (const t of this.timers) this.clock.clearTimer(t);
    this.timers = [];
    this.onEnd({
      end,
      stoppedBy: this.stoppedBy,
      stdout: this.stdout,
      stderr: this.stderr,
      startedAtMs: this.startedAtMs,
      endedAtMs: this.clock.monotonicMs(),
    });
  }
}
