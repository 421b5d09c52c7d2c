/**
 * `npm run bench:executor`: the executor's own cost.
 *   1. Per action: a no-op agent (/bin/true linked in as ocf:bench:True) run N times through the
 *      executor, against spawning /bin/true directly with child_process; the difference is the
 *      executor's overhead (environment, process group, capture, timers, bookkeeping).
 *   2. Memory: 1000 recurring monitors of a no-op shell agent at a 10 s interval, measured over
 *      a bounded time (BENCH_EXECUTOR_SECONDS, default 30): RSS and heap before, peak, after;
 *      monitor runs per second and CPU per run.
 * Prints figures; asserts nothing about time.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RealProcessRunner, type ProcessRunner } from '../process.js';
import { createExecutor } from '../real.js';
import type { ActionResult } from '../types.js';

const ACTIONS = Number(process.env.BENCH_EXECUTOR_ACTIONS ?? 500);
const MONITORS = Number(process.env.BENCH_EXECUTOR_MONITORS ?? 1000);
const MONITOR_INTERVAL_MS = 10_000;
const WINDOW_S = Number(process.env.BENCH_EXECUTOR_SECONDS ?? 30);

const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

function rawSpawn(command: string, options: { detached?: boolean; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn(command, ['monitor'], { stdio: ['pipe', 'pipe', 'pipe'], ...options });
    c.on('error', reject);
    c.stdin.end();
    c.stdout.resume();
    c.stderr.resume();
    c.on('close', () => resolve());
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/**
 * Mean ms per call of each variant, measured in interleaved blocks (the median block), so that
 * noise from other processes on the machine hits every variant alike.
 */
async function interleaved(n: number, variants: Record<string, () => Promise<unknown>>): Promise<Record<string, number>> {
  const blockSize = 25;
  const blocks = Math.max(1, Math.round(n / blockSize));
  const perBlock: Record<string, number[]> = {};
  for (const [name, once] of Object.entries(variants)) {
    perBlock[name] = [];
    for (let i = 0; i < 10; i++) await once(); // warm up
  }
  for (let b = 0; b < blocks; b++) {
    for (const [name, once] of Object.entries(variants)) {
      const t0 = performance.now();
      for (let i = 0; i < blockSize; i++) await once();
      perBlock[name]?.push((performance.now() - t0) / blockSize);
    }
  }
  return Object.fromEntries(Object.entries(perBlock).map(([k, v]) => [k, median(v)]));
}

async function perAction(dir: string): Promise<void> {
  const executor = createExecutor({ paths: { ocfResourceDirs: [join(dir, 'ocf')], lsbDirs: [], stonithDirs: [] } });
  const agent = { agentClass: 'ocf' as const, provider: 'bench', type: 'True' };
  const req = { rscId: 'b', agent, action: 'monitor' };
  const ocfEnv = { ...process.env, OCF_ROOT: '/usr/lib/ocf', OCF_RA_VERSION_MAJOR: '1', OCF_RA_VERSION_MINOR: '1', OCF_RESOURCE_INSTANCE: 'b', OCF_RESKEY_CRM_meta_timeout: '20000' };
  process.stdout.write(`per action: ${ACTIONS} sequential runs of each variant, interleaved ...\n`);
  const ms = await interleaved(ACTIONS, {
    raw: () => rawSpawn('/bin/true'),
    rawLikeExecutor: () => rawSpawn('/bin/true', { detached: true, env: ocfEnv, cwd: '/' }),
    executor: async () => {
      const r = await executor.run(req);
      if (r.execStatus !== 'done' || r.rc !== 0) throw new Error(`bench agent failed: ${r.execStatus} ${r.rc}`);
    },
  });
  const raw = ms.raw ?? NaN;
  const like = ms.rawLikeExecutor ?? NaN;
  const via = ms.executor ?? NaN;
  const par = Math.min(ACTIONS, 2000);
  const t0 = performance.now();
  await Promise.all(Array.from({ length: par }, (_, i) => executor.run({ ...req, rscId: `p${i}` })));
  const parMs = performance.now() - t0;
  executor.close();
  process.stdout.write(
    [
      `  spawn /bin/true directly (child_process, median of blocks): ${raw.toFixed(2)} ms/action`,
      `  spawn /bin/true with the executor's spawn options (own process group, OCF env, cwd /): ${like.toFixed(2)} ms/action`,
      `  through the executor (/bin/true as ocf:bench:True): ${via.toFixed(2)} ms/action`,
      `  executor overhead over a plain spawn: ${(via - raw).toFixed(2)} ms/action; of which bookkeeping (beyond the spawn options): ${(via - like).toFixed(2)} ms`,
      `  ${par} actions on different resources at once (default parallel limit): ${parMs.toFixed(0)} ms, ${((par / parMs) * 1000).toFixed(0)} actions/s`,
      '',
    ].join('\n'),
  );
}

async function memory(dir: string): Promise<void> {
  let runs = 0;
  const real = new RealProcessRunner();
  const counting: ProcessRunner = {
    spawn: (spec, sink) => {
      runs++;
      return real.spawn(spec, sink);
    },
  };
  const executor = createExecutor({ runner: counting, paths: { ocfResourceDirs: [join(dir, 'ocf')], lsbDirs: [], stonithDirs: [] } });
  const agent = { agentClass: 'ocf' as const, provider: 'bench', type: 'Noop' };
  global.gc?.();
  const before = process.memoryUsage();
  let reported = 0;
  const onResult = (r: ActionResult) => {
    reported++;
    if (r.execStatus !== 'done' && r.execStatus !== 'cancelled') process.stdout.write(`  unexpected ${r.execStatus} rc=${r.rc} ${r.exitReason ?? ''}\n`);
  };
  process.stdout.write(`memory: ${MONITORS} recurring monitors every ${MONITOR_INTERVAL_MS / 1000} s on a no-op sh agent, for ${WINDOW_S} s ...\n`);
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < MONITORS; i++) {
    const r = executor.execute({ rscId: `rsc${i}`, agent, action: 'monitor', intervalMs: MONITOR_INTERVAL_MS, params: { n: String(i) } }, onResult);
    if (!r.ok) throw new Error(r.error.message);
  }
  let peakRss = 0;
  let peakHeap = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakHeap = Math.max(peakHeap, m.heapUsed);
      const s = (performance.now() - t0) / 1000;
      const c = executor.counts();
      if (Math.round(s * 4) % 20 === 0) {
        process.stdout.write(`  t=${s.toFixed(0)}s running=${c.running} queued=${c.queued} waiting=${c.waiting} rss=${mb(m.rss)} MiB heap=${mb(m.heapUsed)} MiB\n`);
      }
      if (s >= WINDOW_S) {
        clearInterval(tick);
        resolve();
      }
    }, 250);
  });
  const cpu = process.cpuUsage(cpu0);
  global.gc?.();
  const after = process.memoryUsage();
  executor.close();
  process.stdout.write(
    [
      `  monitor runs: ${runs} in ${WINDOW_S} s (${(runs / WINDOW_S).toFixed(0)}/s), results reported: ${reported} (only changes)`,
      `  RSS: before ${mb(before.rss)} MiB, peak ${mb(peakRss)} MiB, end ${mb(after.rss)} MiB`,
      `  heap used: before ${mb(before.heapUsed)} MiB, peak ${mb(peakHeap)} MiB, end ${mb(after.heapUsed)} MiB (${(((after.heapUsed - before.heapUsed) / MONITORS) / 1024).toFixed(1)} KiB per monitor${global.gc ? '' : ', no --expose-gc: includes garbage'})`,
      `  executor process CPU: ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms, ${runs > 0 ? ((cpu.user + cpu.system) / 1000 / runs).toFixed(2) : '-'} ms per monitor run`,
      '',
    ].join('\n'),
  );
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'pl-bench-exec-'));
  try {
    mkdirSync(join(dir, 'ocf/bench'), { recursive: true });
    symlinkSync('/bin/true', join(dir, 'ocf/bench/True'));
    writeFileSync(join(dir, 'ocf/bench/Noop'), `#!/bin/sh\nexit 0\n`);
    chmodSync(join(dir, 'ocf/bench/Noop'), 0o755);
    await perAction(dir);
    await memory(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
