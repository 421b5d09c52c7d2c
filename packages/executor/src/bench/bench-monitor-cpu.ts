/**
 * `node --expose-gc packages/executor/dist/bench/bench-monitor-cpu.js`: the daemon main thread's
 * CPU per agent run. Runs BENCH_MONITOR_RUNS (default 200) monitors of ocf:paceline:Dummy one
 * after another through a real executor, in a process grown to about the size of a daemon
 * (BENCH_MONITOR_HEAP_MB of live objects, default 60), and prints per run the CPU of this
 * process (process.cpuUsage(): user + system of all its threads, children not counted) and of
 * its main thread alone (/proc/self/task/PID/schedstat, nanoseconds on CPU), for
 * BENCH_MONITOR_ROUNDS rounds (default 5) so the spread shows how noisy the machine is.
 * PACELINE_SPAWN=fork measures the node:child_process path. Prints figures; asserts nothing.
 */
import { readFileSync } from 'node:fs';
import { createExecutor } from '../real.js';
import { RealProcessRunner } from '../process.js';

const RUNS = Number(process.env.BENCH_MONITOR_RUNS ?? 200);
const ROUNDS = Number(process.env.BENCH_MONITOR_ROUNDS ?? 5);
const HEAP_MB = Number(process.env.BENCH_MONITOR_HEAP_MB ?? 60);

/** Nanoseconds the main thread has run on a CPU (Linux schedstat). */
function mainThreadNs(): number {
  return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]);
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const show = (xs: readonly number[]): string => `${xs.map((v) => v.toFixed(3)).join(' ')}; median ${median(xs).toFixed(3)}`;

/** Live objects standing in for a daemon's CIB, status and caches (small objects, as they are). */
function ballast(mb: number): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < mb * 1024 * 8; i++) out.push({ id: `obj-${i}`, n: i, attrs: { a: 'x', b: i } });
  return out;
}

async function main(): Promise<void> {
  const keep = ballast(HEAP_MB);
  const runner = new RealProcessRunner();
  const executor = createExecutor({ runner });
  const agent = { agentClass: 'ocf' as const, provider: 'paceline', type: 'Dummy' };
  const params = { state: `/tmp/bench-monitor-cpu-${process.pid}.state` };
  const once = () => executor.run({ rscId: 'd1', agent, action: 'monitor', params, intervalMs: 2000 });
  for (let i = 0; i < 20; i++) await once(); // warm-up: JIT, agent lookup caches
  const perRun: number[] = [];
  const mainPerRun: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    (globalThis as { gc?: () => void }).gc?.();
    const before = process.cpuUsage();
    const mainBefore = mainThreadNs();
    for (let i = 0; i < RUNS; i++) {
      const r = await once();
      if (r.execStatus !== 'done') throw new Error(`monitor did not run: ${JSON.stringify(r)}`);
    }
    const used = process.cpuUsage(before);
    perRun.push((used.user + used.system) / RUNS / 1000);
    mainPerRun.push((mainThreadNs() - mainBefore) / RUNS / 1e6);
  }
  const rss = process.memoryUsage().rss / 1024 / 1024;
  console.log(`spawn: ${runner.nativeSpawn ? 'native' : 'node:child_process'}; rss ${rss.toFixed(0)} MB; ${RUNS} monitors x ${ROUNDS} rounds`);
  console.log(`process CPU per run (ms): ${show(perRun)}`);
  console.log(`main thread CPU per run (ms): ${show(mainPerRun)}`);
  executor.close();
  // The ballast lives to the end, as a daemon's state does.
  if (keep.length < 0) console.log(keep.length);
}

void main();
