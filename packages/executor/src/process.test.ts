/**
 * RealProcessRunner with real processes, through both ways of starting them: the native spawner
 * (native/spawn.c: posix_spawn, output read natively) and node:child_process. Checks the
 * ProcessSink contract and that both paths hand the sink the same text.
 */
import { closeSync, existsSync, fstatSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { OUTPUT_CHUNK_BYTES, OUTPUT_DRAIN_MS, RealProcessRunner, type ProcessEnd, type SpawnSpec } from './process.js';

interface Run {
  readonly stdout: string;
  readonly stderr: string;
  readonly stdoutChunks: number;
  readonly end: ProcessEnd;
  /** From spawn to `end`. */
  readonly ms: number;
}

const env = { PATH: '/usr/bin:/bin' };

/** Runs `sh -c script` and collects what the sink hears, failing on any breach of its contract. */
function run(runner: RealProcessRunner, script: string, extra: Partial<SpawnSpec> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    let stdoutChunks = 0;
    let ended = false;
    let spawning = true;
    const started = performance.now();
    const breach = (what: string) => reject(new Error(`ProcessSink contract broken: ${what}`));
    runner.spawn(
      { command: '/bin/sh', args: ['-c', script], env, ...extra },
      {
        stdout: (c) => {
          if (ended || spawning) breach('stdout after end or inside spawn');
          stdout += c;
          stdoutChunks += 1;
        },
        stderr: (c) => {
          if (ended || spawning) breach('stderr after end or inside spawn');
          stderr += c;
        },
        end: (end) => {
          if (ended || spawning) breach('end twice or inside spawn');
          ended = true;
          // Anything arriving later (a second end, late output) is caught before resolving.
          setTimeout(() => resolve({ stdout, stderr, stdoutChunks, end, ms: performance.now() - started }), 50);
        },
      },
    );
    spawning = false;
  });
}

const native = new RealProcessRunner();

it('has the native spawner built (scripts/build-native.mjs) where a C compiler is', () => {
  if (process.env.CI === 'true' || existsSync('/usr/bin/cc')) expect(native.nativeSpawn).toBe(true);
});

it.skipIf(!native.nativeSpawn)('native watchAll: throws with a code when it cannot watch, leaving the pipes to the caller', () => {
  const m = createRequire(import.meta.url)('../dist/paceline_spawn.node') as {
    spawn(file: string, argv: string[], envp: string[], cwd: string): [number, number, number, number];
    watchAll(pid: number, outFd: number, errFd: number, chunk: number, drainMs: number, onOutput: () => void, onEnd: () => void): void;
  };
  const [pid, inFd, outFd, errFd] = m.spawn('/bin/sh', ['/bin/sh', '-c', 'sleep 5'], [], '/');
  // A regular file cannot be polled: the set-up fails after the pidfd was opened.
  const file = openSync('/proc/self/stat', 'r');
  try {
    let called = false;
    expect(() => m.watchAll(pid, file, errFd, OUTPUT_CHUNK_BYTES, OUTPUT_DRAIN_MS, () => (called = true), () => (called = true))).toThrow(expect.objectContaining({ code: 'EPERM' }));
    expect(called).toBe(false);
    for (const fd of [file, inFd, outFd, errFd]) fstatSync(fd); // still open
  } finally {
    process.kill(-pid, 'SIGKILL');
    for (const fd of [file, inFd, outFd, errFd]) closeSync(fd);
  }
});

describe.each([
  { runner: native, how: 'native spawner' },
  { runner: new RealProcessRunner({ native: false }), how: 'node:child_process' },
])('RealProcessRunner, $how', ({ runner }) => {
  it('hands over stdout and stderr, then how the child exited', async () => {
    const r = await run(runner, 'echo out; echo err >&2; exit 3');
    expect(r).toMatchObject({ stdout: 'out\n', stderr: 'err\n', end: { kind: 'exited', exitCode: 3 } });
  });

  it('writes stdin and closes it', async () => {
    const r = await run(runner, 'cat', { stdin: 'a=1\nb=2\n' });
    expect(r).toMatchObject({ stdout: 'a=1\nb=2\n', end: { kind: 'exited', exitCode: 0 } });
  });

  it('keeps output written in many small pieces, in order', async () => {
    const r = await run(runner, 'i=0; while [ $i -lt 300 ]; do echo "line $i"; echo "e$i" >&2; i=$((i+1)); done');
    expect(r.stdout).toBe(Array.from({ length: 300 }, (_, i) => `line ${i}\n`).join(''));
    expect(r.stderr).toBe(Array.from({ length: 300 }, (_, i) => `e${i}\n`).join(''));
  });

  it('reads a large output to its end without blocking the child, keeping every character', async () => {
    // 8 MiB on stdout and 3 MiB on stderr: far beyond a pipe's 64 KiB, so the child only gets
    // to exit if both pipes are read while it runs.
    const r = await run(runner, 'head -c 8388608 /dev/zero | tr "\\0" a; head -c 3145728 /dev/zero | tr "\\0" b >&2; echo done >&2');
    expect(r.end).toEqual({ kind: 'exited', exitCode: 0 });
    expect(r.stdout.length).toBe(8 << 20);
    expect(/^a*$/.test(r.stdout)).toBe(true);
    expect(r.stderr.length).toBe((3 << 20) + 5);
    expect(r.stderr.endsWith('bdone\n')).toBe(true);
  });

  it('does not split a character that straddles a chunk boundary', async () => {
    // A 3-byte euro sign at bytes OUTPUT_CHUNK_BYTES - 1 .. + 1, written a byte at a time so
    // that a chunk fills up in the middle of it, then more text.
    const euro = `printf '\\342'; sleep 0.05; printf '\\202'; sleep 0.05; printf '\\254'`;
    const r = await run(runner, `head -c ${OUTPUT_CHUNK_BYTES - 1} /dev/zero | tr "\\0" x; ${euro}; head -c 100000 /dev/zero | tr "\\0" y`);
    expect(r.stdout).toBe('x'.repeat(OUTPUT_CHUNK_BYTES - 1) + '€' + 'y'.repeat(100000));
  });

  it('replaces invalid UTF-8 as Node does', async () => {
    const bytes = Buffer.from([0x61, 0xff, 0xfe, 0x62, 0xc3, 0x28, 0xe2, 0x82, 0x41, 0xf0, 0x9f, 0x98, 0x80, 0xed, 0xa0, 0x80, 0xe2, 0x82]);
    const printf = [...bytes].map((b) => `\\${b.toString(8).padStart(3, '0')}`).join('');
    const r = await run(runner, `printf '${printf}'; printf '${printf}' >&2`);
    expect(r.stdout).toBe(bytes.toString('utf8'));
    expect(r.stderr).toBe(bytes.toString('utf8'));
  });

  it('reports a killed child as signalled, with what it wrote before', async () => {
    const r = await run(runner, 'echo before; kill -KILL $$; echo after');
    expect(r).toMatchObject({ stdout: 'before\n', end: { kind: 'signalled', signal: 'SIGKILL' } });
  });

  it('ends OUTPUT_DRAIN_MS after the exit when a grandchild holds stdout open', async () => {
    const r = await run(runner, 'echo parent; (sleep 3; echo late) & exit 0');
    expect(r).toMatchObject({ stdout: 'parent\n', end: { kind: 'exited', exitCode: 0 } });
    expect(r.ms).toBeGreaterThanOrEqual(OUTPUT_DRAIN_MS - 5);
    expect(r.ms).toBeLessThan(2500);
  });

  it('reports a program that cannot be started, asynchronously', async () => {
    const end = await new Promise<ProcessEnd>((resolve) => {
      runner.spawn({ command: '/nonexistent/agent', args: [], env }, { stdout: () => undefined, stderr: () => undefined, end: resolve });
    });
    expect(end).toMatchObject({ kind: 'spawn-failed', errno: 'ENOENT' });
  });
});
