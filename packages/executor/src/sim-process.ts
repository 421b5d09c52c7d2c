/**
 * The simulated process runner: processes that exist only on a Clock (normally a SimClock), with
 * behaviour chosen per spawn by the test. Used by the executor's unit tests and by simulations
 * of whole nodes; it never starts a real process.
 */
import type { Clock, TimerId } from './clock.js';
import type { KillSignal, ProcessEnd, ProcessHandle, ProcessRunner, ProcessSink, SpawnSpec } from './process.js';

export interface SimBehaviour {
  /** How long the process runs before exiting by itself; Infinity = it hangs. */
  readonly durationMs: number;
  /** Exit code when it exits by itself (default 0). */
  readonly exitCode?: number;
  /** Ends by this signal instead of exiting, when its time is up (a crashing agent). */
  readonly dieBySignal?: string;
  /** Output written at once when it starts. */
  readonly stdout?: string;
  readonly stderr?: string;
  /** Keeps running on SIGTERM (only SIGKILL ends it). */
  readonly ignoresTerm?: boolean;
  /** Survives even SIGKILL (a process in uninterruptible sleep on a dead NFS server). */
  readonly unkillable?: boolean;
  /** The spawn fails with this errno (ENOENT, EACCES). */
  readonly spawnErrno?: string;
}

export interface SimProcess {
  readonly spec: SpawnSpec;
  readonly startedAtMs: number;
  /** Signals sent to its group, including any sent after it ended. */
  readonly signals: KillSignal[];
  endedAtMs: number | undefined;
  end: ProcessEnd | undefined;
}

export class SimProcessRunner implements ProcessRunner {
  /** Every process spawned, in order. */
  readonly spawned: SimProcess[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly behave: (spec: SpawnSpec) => SimBehaviour,
  ) {}

  /** Processes started and not yet ended. */
  running(): SimProcess[] {
    return this.spawned.filter((p) => p.end === undefined);
  }

  spawn(spec: SpawnSpec, sink: ProcessSink): ProcessHandle {
    const b = this.behave(spec);
    const proc: SimProcess = { spec, startedAtMs: this.clock.monotonicMs(), signals: [], endedAtMs: undefined, end: undefined };
    this.spawned.push(proc);
    let timer: TimerId | undefined;
    const finish = (end: ProcessEnd): void => {
      if (proc.end) return;
      if (timer !== undefined) this.clock.clearTimer(timer);
      proc.end = end;
      proc.endedAtMs = this.clock.monotonicMs();
      sink.end(end);
    };
    if (b.spawnErrno !== undefined) {
      const errno = b.spawnErrno;
      this.clock.setTimer(0, () => finish({ kind: 'spawn-failed', errno, message: `spawn ${spec.command} ${errno}` }));
      return { killGroup: () => undefined };
    }
    this.clock.setTimer(0, () => {
      if (proc.end) return;
      if (b.stdout) sink.stdout(b.stdout);
      if (b.stderr) sink.stderr(b.stderr);
    });
    if (Number.isFinite(b.durationMs)) {
      timer = this.clock.setTimer(b.durationMs, () =>
        finish(b.dieBySignal ? { kind: 'signalled', signal: b.dieBySignal } : { kind: 'exited', exitCode: b.exitCode ?? 0 }),
      );
    }
    return {
      killGroup: (signal: KillSignal): void => {
        proc.signals.push(signal);
        if (proc.end) return;
        if (b.unkillable) return;
        if (signal === 'SIGKILL' || !b.ignoresTerm) this.clock.setTimer(0, () => finish({ kind: 'signalled', signal }));
      },
    };
  }
}
