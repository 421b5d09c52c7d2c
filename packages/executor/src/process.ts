/**
 * Process execution, as the executor sees it: spawn a command in its own process group, stream
 * its output, learn how it ended, signal its whole group. One real implementation
 * (RealProcessRunner, node:child_process) and one simulated (SimProcessRunner, sim-process.ts).
 */
import { spawn } from 'node:child_process';

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

/** Spawns real processes, each the leader of a new process group (detached). */
export class RealProcessRunner implements ProcessRunner {
  spawn(spec: SpawnSpec, sink: ProcessSink): ProcessHandle {
    let ended = false;
    const finish = (end: ProcessEnd): void => {
      if (ended) return;
      ended = true;
      child.stdout?.destroy();
      child.stderr?.destroy();
      sink.end(end);
    };
    const child = spawn(spec.command, [...spec.args], {
      detached: true,
      env: { ...spec.env },
      cwd: spec.cwd ?? '/',
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (c: string) => ended || sink.stdout(c));
    child.stderr.on('data', (c: string) => ended || sink.stderr(c));
    // An agent that exits without reading stdin makes our write fail with EPIPE: not an error.
    child.stdin.on('error', () => undefined);
    child.stdin.end(spec.stdin ?? '');
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (child.pid === undefined) finish({ kind: 'spawn-failed', errno: err.code ?? 'EUNKNOWN', message: err.message });
    });
    child.on('exit', (code, signal) => {
      const end: ProcessEnd = signal ? { kind: 'signalled', signal } : { kind: 'exited', exitCode: code ?? 0 };
      let open = 2;
      const closed = (): void => {
        open -= 1;
        if (open === 0) finish(end);
      };
      if (child.stdout.readableEnded || child.stdout.destroyed) closed();
      else child.stdout.once('close', closed);
      if (child.stderr.readableEnded || child.stderr.destroyed) closed();
      else child.stderr.once('close', closed);
      setTimeout(() => finish(end), OUTPUT_DRAIN_MS).unref();
    });
    return {
      killGroup(signal: KillSignal): void {
        if (child.pid === undefined) return;
        try {
          process.kill(-child.pid, signal);
        } catch {
          // ESRCH: the group is already gone.
        }
      },
    };
  }
}
