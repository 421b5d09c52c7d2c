/**
 * The driver's one-shot timer, which can be moved later without waking the thread.
 *
 * Node's setTimeout cannot: clearTimeout and a later setTimeout from an I/O callback leave the
 * thread's libuv timer armed for the old time, and the thread wakes then for nothing (see
 * native/timer.c). An idle node moves its timer later on every heartbeat it receives, so that
 * cost it a wake-up per heartbeat interval. The native timer (dist/paceline_timer.node, built by
 * the package's build when a C compiler and Node's headers are there) is a libuv timer of its own;
 * without it, or with PACELINE_TIMER=node, setTimeout is used: correct, one more wake-up per
 * interval.
 */
import { createRequire } from 'node:module';

/** A one-shot timer calling the function it was made with. */
export interface DriverTimer {
  /** Arms it for `ms` from now, replacing any earlier arming. */
  start(ms: number): void;
  /** Disarms it; start() may arm it again. */
  stop(): void;
  /** Disarms it for good. */
  close(): void;
  /** Which implementation this is. */
  readonly kind: 'native' | 'node';
}

interface NativeTimerModule {
  create(callback: () => void): object;
  start(handle: object, ms: number): void;
  stop(handle: object): void;
  close(handle: object): void;
}

let loaded: NativeTimerModule | null | undefined;

/** The native module, or undefined when it was not built or PACELINE_TIMER=node. */
function nativeTimers(): NativeTimerModule | undefined {
  if (loaded === undefined) {
    loaded = null;
    if (process.env.PACELINE_TIMER !== 'node') {
      try {
        loaded = createRequire(import.meta.url)('../../dist/paceline_timer.node') as NativeTimerModule;
      } catch {
        loaded = null;
      }
    }
  }
  return loaded ?? undefined;
}

/**
 * A stopped timer calling `fn` on this thread's loop: native when available, else setTimeout
 * (`prefer: 'node'` asks for setTimeout, for tests).
 */
export function createDriverTimer(fn: () => void, prefer: 'native' | 'node' = 'native'): DriverTimer {
  const native = prefer === 'native' ? nativeTimers() : undefined;
  if (native !== undefined) {
    const handle = native.create(fn);
    let closed = false;
    return {
      kind: 'native',
      start: (ms) => native.start(handle, Math.max(0, ms)),
      stop: () => native.stop(handle),
      close: () => {
        if (closed) return;
        closed = true;
        native.close(handle);
      },
    };
  }
  let t: NodeJS.Timeout | undefined;
  return {
    kind: 'node',
    start: (ms) => {
      if (t !== undefined) clearTimeout(t);
      t = setTimeout(fn, Math.max(0, ms));
    },
    stop: () => {
      if (t !== undefined) clearTimeout(t);
      t = undefined;
    },
    close: () => {
      if (t !== undefined) clearTimeout(t);
      t = undefined;
    },
  };
}
