/**
 * Time, as the executor sees it: a monotonic reading for durations and timers, and a wall-clock
 * reading for the timestamps written into results. One real implementation (RealClock) and one
 * simulated (SimClock) that tests advance by hand, so scheduling is tested without sleeping.
 */

export type TimerId = number;

export interface Clock {
  /** Monotonic milliseconds; only differences mean anything. */
  monotonicMs(): number;
  /** Milliseconds since the Unix epoch, for timestamps shown to people and written to the CIB. */
  wallMs(): number;
  /** Calls `fn` once after `delayMs` (0 = as soon as possible, never synchronously). */
  setTimer(delayMs: number, fn: () => void): TimerId;
  /** Cancels a timer; unknown or already fired ids are ignored. */
  clearTimer(id: TimerId): void;
}

/** The process's real clocks and timers. */
export class RealClock implements Clock {
  private readonly timers = new Map<TimerId, { timeout: ReturnType<typeof setTimeout> } | { immediate: ReturnType<typeof setImmediate> }>();
  private nextId = 1;

  monotonicMs(): number {
    return performance.now();
  }

  wallMs(): number {
    return Date.now();
  }

  setTimer(delayMs: number, fn: () => void): TimerId {
    const id = this.nextId++;
    const fire = (): void => {
      this.timers.delete(id);
      fn();
    };
    // setTimeout(0) waits at least 1 ms; a 0 delay only means "not synchronously".
    this.timers.set(id, delayMs <= 0 ? { immediate: setImmediate(fire) } : { timeout: setTimeout(fire, delayMs) });
    return id;
  }

  clearTimer(id: TimerId): void {
    const handle = this.timers.get(id);
    if (handle === undefined) return;
    if ('timeout' in handle) clearTimeout(handle.timeout);
    else clearImmediate(handle.immediate);
    this.timers.delete(id);
  }
}

interface SimTimer {
  readonly id: TimerId;
  readonly dueMs: number;
  readonly fn: () => void;
}

/**
 * A clock that moves only when told. Timers fire in order of due time, then of creation, and
 * timers created while advancing fire in the same advance when they fall due within it.
 */
export class SimClock implements Clock {
  private nowMs = 0;
  private readonly timers = new Map<TimerId, SimTimer>();
  private nextId = 1;

  constructor(private readonly wallOffsetMs = 1_700_000_000_000) {}

  monotonicMs(): number {
    return this.nowMs;
  }

  wallMs(): number {
    return this.wallOffsetMs + this.nowMs;
  }

  setTimer(delayMs: number, fn: () => void): TimerId {
    const id = this.nextId++;
    this.timers.set(id, { id, dueMs: this.nowMs + Math.max(0, delayMs), fn });
    return id;
  }

  clearTimer(id: TimerId): void {
    this.timers.delete(id);
  }

  /** Timers not yet fired. */
  pendingTimers(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const targetMs = this.nowMs + ms;
    for (;;) {
      const next = this.nextDue(targetMs);
      if (!next) break;
      this.timers.delete(next.id);
      this.nowMs = next.dueMs;
      next.fn();
    }
    this.nowMs = targetMs;
  }

  /** Fires timers already due, without moving time. */
  flush(): void {
    this.advance(0);
  }

  private nextDue(limitMs: number): SimTimer | undefined {
    let best: SimTimer | undefined;
    for (const t of this.timers.values()) {
      if (t.dueMs > limitMs) continue;
      if (!best || t.dueMs < best.dueMs || (t.dueMs === best.dueMs && t.id < best.id)) best = t;
    }
    return best;
  }
}
