/**
 * Process execution, as the executor sees it: spawn a command in its own process group, collect
 * its output, learn how it ended, signal its whole group. One real implementation
 * (RealProcessRunner: the native spawner, or node:child_process) and one simulated
 * (SimProcessRunner, sim-process.ts).
 *
 * The native spawner also reads the child's stdout and stderr itself (native/spawn.c watchAll):
 * no Node stream exists for them, and an agent that prints less than OUTPUT_CHUNK_BYTES per
 * stream costs one callback into JavaScript, at its end. Node's stream machinery for those two
 * pipes was about a third of the main thread's CPU per agent run.
 */
import { spawn } from 'node:child_process';
import { closeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Socket } from 'node:net';
import { constants as osConstants } from 'node:os';
import type { Readable } from 'node:stream';

export interface SpawnSpec {
  /** Absolute path of the program. */
  readonly command: string;
  readonly args: readonly string[];
  /** The complete environment of the child (nothing is inherited implicitly). */
  readonly env: Readonly<Record<string, string>>;
  /** Written to the child's stdin, which is then closed; undefined = stdin closed at once. */
  readonly stdin?: string;
  readonly cwd?: string;
}

export type ProcessEnd =
  | { readonly kind: 'exited'; readonly exitCode: number }
  | { readonly kind: 'signalled'; readonly signal: string }
  /** The program could not be started; `errno` is Node's code (ENOENT, EACCES, ...). */
  | { readonly kind: 'spawn-failed'; readonly errno: string; readonly message: string };

/**
 * Receives a child's output and its end. `end` is called exactly once, after every output
 * chunk; nothing is called synchronously inside `spawn`.
 */
export interface ProcessSink {
  stdout(chunk: string): void;
  stderr(chunk: string): void;
  end(end: ProcessEnd): void;
}

export type KillSignal = 'SIGTERM' | 'SIGKILL';

export interface ProcessHandle {
  /**
   * Sends `signal` to every process in the child's process group. Also works after the child
   * has ended, to reach what is left of its group (Linux does not reuse a pid while a process
   * group of that number exists); a no-op when nothing is left.
   */
  killGroup(signal: KillSignal): void;
}

export interface ProcessRunner {
  spawn(spec: SpawnSpec, sink: ProcessSink): ProcessHandle;
}

/**
 * How long the real runner waits, after the child exits, for its stdout and stderr to reach end
 * of file. A grandchild that inherited them (an agent that starts a daemon carelessly) would
 * otherwise hold the action open for as long as the daemon lives.
 */
export const OUTPUT_DRAIN_MS = 200;

/**
 * The native spawner hands a stream's output over whenever this many bytes are buffered, and the
 * rest at the end. Output is neither lost nor capped here: the sink decides what it keeps (the
 * executor keeps a tail, counts what it drops and looks for the exit reason in all of stderr, see
 * capture.ts), so a flooding agent behaves as with node:child_process, whose pipes deliver reads
 * of up to 64 KiB too. Bounds the native buffer at 64 KiB per stream; the child never blocks on a
 * full pipe because the pipe is always read.
 */
export const OUTPUT_CHUNK_BYTES = 64 * 1024;

/** What the native spawner (native/spawn.c) exports. */
interface NativeSpawner {
  /** Returns [pid, stdin write fd, stdout read fd, stderr read fd]; throws an Error with `code`. */
  spawn(file: string, argv: readonly string[], envp: readonly string[], cwd: string): [number, number, number, number];
  /**
   * Reads outFd and errFd and watches the child on this thread's loop: onOutput(1 | 2, text) each
   * time chunkBytes of a stream are buffered (whole UTF-8 characters), then onEnd once, with the
   * exit code or signal number (the other is -1) and what is left of each stream, when the child
   * has ended and both pipes are at end of file, or drainMs after its end. It then has closed
   * outFd and errFd and reaped the child. Throws an Error with `code` when it cannot watch; the
   * caller still owns outFd and errFd then, and nothing will be called.
   */
  watchAll(
    pid: number,
    outFd: number,
    errFd: number,
    chunkBytes: number,
    drainMs: number,
    onOutput: (stream: 1 | 2, text: string) => void,
    onEnd: (exitCode: number, signal: number, stdout: string, stderr: string) => void,
  ): void;
  /** Whether the kernel can watch a child (pidfd_open, Linux 5.3 and later). */
  supported(): boolean;
}

/**
 * The native spawner, when it was built (packages/executor/scripts/build-native.mjs), the kernel
 * has pidfds, and PACELINE_SPAWN is not `fork`; undefined otherwise.
 */
function loadNativeSpawner(): NativeSpawner | undefined {
  if (process.env.PACELINE_SPAWN === 'fork') return undefined;
  try {
    const native = createRequire(import.meta.url)('../dist/paceline_spawn.node') as NativeSpawner;
    return native.supported() ? native : undefined;
  } catch {
    return undefined;
  }
}

const signalNames = new Map(Object.entries(osConstants.signals).map(([name, n]) => [n, name]));

/** How the native spawner's (exit code, signal number) pair reads as a ProcessEnd. */
function nativeEnd(exitCode: number, signal: number): ProcessEnd {
  return signal >= 0 ? { kind: 'signalled', signal: signalNames.get(signal) ?? `SIG${signal}` } : { kind: 'exited', exitCode };
}

/** node:child_process: a child's output streams and how it ended, turned into the sink's calls (see ProcessSink). */
class ChildEnd {
  private ended = false;

  constructor(
    private readonly sink: ProcessSink,
    private readonly stdout: Readable,
    private readonly stderr: Readable,
  ) {
    stdout.setEncoding('utf8');
    stderr.setEncoding('utf8');
    stdout.on('data', (c: string) => this.ended || sink.stdout(c));
    stderr.on('data', (c: string) => this.ended || sink.stderr(c));
    // A pipe the child closed without our reading it all is not an error of the action.
    stdout.on('error', () => undefined);
    stderr.on('error', () => undefined);
  }

  /** The child ended: the sink hears it once both outputs are read, or OUTPUT_DRAIN_MS later. */
  exited(end: ProcessEnd): void {
    let open = 2;
    const closed = (): void => {
      open -= 1;
      if (open === 0) this.finish(end);
    };
    for (const s of [this.stdout, this.stderr]) {
      if (s.readableEnded || s.destroyed) closed();
      else s.once('close', closed);
    }
    setTimeout(() => this.finish(end), OUTPUT_DRAIN_MS).unref();
  }

  finish(end: ProcessEnd): void {
    if (this.ended) return;
    this.ended = true;
    this.stdout.destroy();
    this.stderr.destroy();
    this.sink.end(end);
  }
}

function killGroupOf(pid: number | undefined, signal: KillSignal): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

/**
 * Spawns real processes, each the leader of a new session and process group (detached).
 *
 * With the native spawner (posix_spawn, a vfork: see native/spawn.c) the daemon's memory is not
 * copied-on-write for each agent run, and the child's output is read natively (no Node stream);
 * without it (not built, or PACELINE_SPAWN=fork), node:child_process, which forks and streams.
 * Both give the child the same environment, cwd, session, signal dispositions and pipes, and the
 * sink the same text: the native path calls it with fewer, larger chunks (one per stream for
 * small outputs), then `end`, OUTPUT_DRAIN_MS after the exit at the latest.
 */
export class RealProcessRunner implements ProcessRunner {
  private readonly native: NativeSpawner | undefined;

  constructor(opts: { readonly native?: boolean } = {}) {
    this.native = opts.native === false ? undefined : loadNativeSpawner();
  }

  /** Whether agents are started by the native spawner. */
  get nativeSpawn(): boolean {
    return this.native !== undefined;
  }

  spawn(spec: SpawnSpec, sink: ProcessSink): ProcessHandle {
    return this.native ? this.spawnNative(this.native, spec, sink) : this.spawnForked(spec, sink);
  }

  private spawnNative(native: NativeSpawner, spec: SpawnSpec, sink: ProcessSink): ProcessHandle {
    let fds: [number, number, number, number];
    try {
      const envp = Object.entries(spec.env).map(([k, v]) => `${k}=${v}`);
      fds = native.spawn(spec.command, [spec.command, ...spec.args], envp, spec.cwd ?? '/');
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      setImmediate(() => sink.end({ kind: 'spawn-failed', errno: e.code ?? 'EUNKNOWN', message: `spawn ${spec.command} ${e.code ?? 'EUNKNOWN'}: ${e.message}` }));
      return { killGroup: () => undefined };
    }
    const [pid, inFd, outFd, errFd] = fds;
    if (spec.stdin === undefined) {
      // Nothing to write: closing our end gives the child end of file, without a stream for it.
      closeSync(inFd);
    } else {
      const stdin = new Socket({ fd: inFd, readable: false, writable: true });
      // An agent that exits without reading stdin makes our write fail with EPIPE: not an error.
      stdin.on('error', () => undefined);
      stdin.end(spec.stdin);
    }
    try {
      native.watchAll(
        pid,
        outFd,
        errFd,
        OUTPUT_CHUNK_BYTES,
        OUTPUT_DRAIN_MS,
        (stream, text) => (stream === 1 ? sink.stdout(text) : sink.stderr(text)),
        (exitCode, signal, stdout, stderr) => {
          if (stdout !== '') sink.stdout(stdout);
          if (stderr !== '') sink.stderr(stderr);
          sink.end(nativeEnd(exitCode, signal));
        },
      );
    } catch (err) {
      // Out of descriptors, say: a child whose end cannot be learnt is not left to run unseen.
      const e = err as NodeJS.ErrnoException;
      closeSync(outFd);
      closeSync(errFd);
      killGroupOf(pid, 'SIGKILL');
      setImmediate(() => sink.end({ kind: 'spawn-failed', errno: e.code ?? 'EUNKNOWN', message: `watch ${spec.command}: ${e.message}` }));
    }
    return { killGroup: (signal) => killGroupOf(pid, signal) };
  }

  private spawnForked(spec: SpawnSpec, sink: ProcessSink): ProcessHandle {
    const proc = spawn(spec.command, [...spec.args], {
      detached: true,
      env: { ...spec.env },
      cwd: spec.cwd ?? '/',
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const child = new ChildEnd(sink, proc.stdout, proc.stderr);
    // An agent that exits without reading stdin makes our write fail with EPIPE: not an error.
    proc.stdin.on('error', () => undefined);
    proc.stdin.end(spec.stdin ?? '');
    proc.on('error', (err: NodeJS.ErrnoException) => {
      if (proc.pid === undefined) child.finish({ kind: 'spawn-failed', errno: err.code ?? 'EUNKNOWN', message: err.message });
    });
    proc.on('exit', (code, signal) => child.exited(signal ? { kind: 'signalled', signal } : { kind: 'exited', exitCode: code ?? 0 }));
    return { killGroup: (signal) => killGroupOf(proc.pid, signal) };
  }
}
