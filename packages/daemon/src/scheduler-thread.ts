/**
 * The scheduler's worker thread, as the node uses it: CIB XML + time in, TransitionPlan out.
 *
 * The thread exists only while there is scheduling to do. It is started by the first request
 * (or earlier, by warm(): the node warms it as soon as a peer's heartbeat is late or the
 * membership changes, so that a failover never waits for it), and stopped once it has been idle
 * for `idleMs`. An idle node therefore carries no scheduler isolate (about 20 MB of resident
 * memory), and the DC pays for one only while the cluster is changing.
 */
import { Worker } from 'node:worker_threads';
import type { TransitionPlan } from '@paceline/scheduler';

/** How long the thread stays up after its last request (it restarts in about 100 ms). */
export const SCHEDULER_IDLE_MS = 30_000;

export type PlanResult = TransitionPlan | { error: string };

interface Reply {
  readonly token: number;
  readonly plan?: TransitionPlan;
  readonly error?: string;
}

export class SchedulerThread {
  private worker: Worker | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly waiting = new Map<number, (r: PlanResult) => void>();
  private stopped = false;
  /** Threads started so far (for the log and tests). */
  starts = 0;

  constructor(
    private readonly opts: { readonly idleMs?: number; readonly onStart?: () => void; readonly onStop?: (reason: string) => void } = {},
  ) {}

  /** True while the thread is up. */
  get running(): boolean {
    return this.worker !== undefined;
  }

  /** Starts the thread now if it is not up, so that the next plan() does not wait for it. */
  warm(): void {
    if (this.stopped) return;
    this.ensure();
    if (this.waiting.size === 0) this.armIdle();
  }

  /** Schedules `cibXml` at `nowSec`; an error result when the thread fails or is stopped. */
  plan(token: number, cibXml: string, nowSec: number): Promise<PlanResult> {
    if (this.stopped) return Promise.resolve({ error: 'the scheduler is stopped' });
    const worker = this.ensure();
    this.disarmIdle();
    return new Promise((resolve) => {
      this.waiting.set(token, resolve);
      worker.postMessage({ token, cibXml, nowSec });
    });
  }

  /** Stops the thread for good; pending requests get an error result. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.disarmIdle();
    await this.terminate('node stopping');
  }

  private ensure(): Worker {
    if (this.worker !== undefined) return this.worker;
    // A small young generation: the scheduler's garbage is short-lived, and a large nursery would
    // stay resident between runs.
    const worker = new Worker(new URL('./scheduler-worker.js', import.meta.url), { resourceLimits: { maxYoungGenerationSizeMb: 16 } });
    worker.unref();
    worker.on('message', (m: Reply) => {
      const done = this.waiting.get(m.token);
      this.waiting.delete(m.token);
      done?.(m.plan ?? { error: m.error ?? 'unknown scheduler error' });
      if (this.waiting.size === 0) this.armIdle();
    });
    const lost = (why: string): void => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.failWaiting(why);
      this.opts.onStop?.(why);
    };
    worker.on('error', (err) => lost(`scheduler thread failed: ${err.message}`));
    worker.on('exit', (code) => lost(`scheduler thread exited (code ${code})`));
    this.worker = worker;
    this.starts += 1;
    this.opts.onStart?.();
    return worker;
  }

  private armIdle(): void {
    this.disarmIdle();
    this.idleTimer = setTimeout(() => void this.terminate('idle'), this.opts.idleMs ?? SCHEDULER_IDLE_MS);
    this.idleTimer.unref();
  }

  private disarmIdle(): void {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  private async terminate(why: string): Promise<void> {
    const worker = this.worker;
    if (worker === undefined) return;
    this.worker = undefined;
    this.failWaiting(why);
    this.opts.onStop?.(why);
    await worker.terminate();
  }

  private failWaiting(why: string): void {
    const waiting = [...this.waiting.values()];
    this.waiting.clear();
    for (const done of waiting) done({ error: why });
  }
}
