/**
 * Series of CTS steps on one lab: `paceline drill cts TEST` (one test, --repeat times) and
 * `paceline drill random` (Pacemaker's RandomTests: for a duration, a CTS test or a fault picked
 * at random by the seed, the invariants checked after each; stops at the first violation).
 *
 * Step k of a series uses its own PRNG, seeded from (seed, k): a failing step replays alone with
 * `--seed S --from-step K --steps 1` (the lab starts from the same settled state each time).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { activity, CTS_DUMMIES, CTS_TESTS, ctsCib, isCtsTest, nodeNames, pick, runCtsTest, runStep, type CtsContext, type CtsStep, type CtsTestName, type CtsTestOutcome } from './drill-cts.js';
import { seededRandom } from './drill-run.js';
import { faults, formatClockOffset } from './faults.js';
import { findLibfaketime, labDown, labUp, sleep } from './lab.js';
import { pickSubnetIndex, vipAddress } from './netns.js';

/** The faults the random drill injects besides the CTS tests (each with its undo). */
export const RANDOM_FAULTS = ['power-off', 'link-flap', 'net-loss', 'net-delay', 'rsc-fail', 'fs-readonly', 'fs-fill', 'freeze', 'clock-jump'] as const;
export type RandomFault = (typeof RANDOM_FAULTS)[number];

/** The seed of step k of a series seeded with `seed` (a 32-bit mix, so neighbouring steps differ). */
export function stepSeed(seed: number, step: number): number {
  let h = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(step, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** What step k of a random series does: a CTS test or a fault (drawn from the step's own PRNG). */
export function randomChoice(rand: () => number, menu: readonly string[] = [...CTS_TESTS, ...RANDOM_FAULTS]): string {
  return pick(rand, menu);
}

export interface SeriesOptions {
  readonly seed: number;
  /** Lab directory (a new temporary one when omitted; removed afterwards unless keep). */
  readonly dir?: string;
  /** Lab name (1-8 lower-case letters or digits). */
  readonly name?: string;
  readonly keep?: boolean;
  readonly progress?: (line: string) => void;
  /** How long to wait for the cluster to settle (default 60 s). */
  readonly settleTimeoutMs?: number;
}

export interface CtsDrillOptions extends SeriesOptions {
  /** The tests, run in this order on one lab, the whole list `repeat` times. */
  readonly tests: readonly CtsTestName[];
  readonly repeat: number;
}

export interface RandomDrillOptions extends SeriesOptions {
  /** Run steps until this much time has passed (a step under way is finished). */
  readonly durationMs: number;
  /** First step number (default 1): with the same seed, step K does what it did in the full run. */
  readonly fromStep?: number;
  /** At most this many steps. */
  readonly steps?: number;
  /** Keep going after a violation (default: stop at the first). */
  readonly keepGoing?: boolean;
  /** CTS tests or faults never to pick (e.g. one known to fail). */
  readonly exclude?: readonly string[];
}

/** The result of a series, as `--output json` prints it. */
export interface SeriesReport {
  readonly kind: 'cts' | 'random';
  readonly test?: string;
  readonly seed: number;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly steps: readonly CtsStep[];
  readonly passed: number;
  readonly failed: number;
  /** The first failed step and how to replay it. */
  readonly firstFailure?: { readonly step: number; readonly test: string; readonly replay: string };
  readonly stoppedEarly?: string;
}

/**
 * Brings up the CTS lab (3 nodes, netns, ctsCib), runs `body`, takes the lab down unless keep.
 * A temporary lab directory is removed afterwards, unless `body` reports a failed step through
 * `failed()`: then it stays (the nodes' logs) and its path is printed.
 */
async function withCtsLab<T>(o: SeriesOptions, body: (c: Omit<CtsContext, 'rand'>, failed: () => void) => Promise<T>): Promise<T> {
  const ownDir = o.dir === undefined;
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'paceline-cts-'));
  const name = o.name ?? `ct${(process.pid % 1296).toString(36)}`;
  const log = o.progress ?? (() => undefined);
  const index = pickSubnetIndex();
  const vip = vipAddress(index);
  const fsDir = join(dir, 'mnt');
  mkdirSync(fsDir, { recursive: true });
  const cib = join(dir, 'cib.xml');
  const nodes = ['node1', 'node2', 'node3'];
  writeFileSync(cib, ctsCib({ labDir: dir, nodes, vip, fsDir }));
  let anyFailed = false;
  try {
    const lab = await labUp({ name, nodes: 3, driver: 'netns', dir, cib, subnetIndex: index, settleTimeoutMs: o.settleTimeoutMs ?? 60_000, progress: log });
    return await body({ lab, f: faults(dir), log, settleTimeoutMs: o.settleTimeoutMs ?? 60_000, vip, fsDir }, () => (anyFailed = true));
  } finally {
    if (!o.keep) {
      await labDown(dir, { name }).catch(() => undefined);
      if (ownDir && !anyFailed) rmSync(dir, { recursive: true, force: true });
      else if (ownDir) log(`a step failed: the lab's directory (nodes' logs) is kept in ${dir}`);
    } else log(`lab ${name} left up in ${dir} (paceline lab down --dir ${dir})`);
  }
}

function stepLine(s: CtsStep): string {
  return `step ${s.step} ${s.test}: ${s.passed ? 'passed' : 'FAILED'} in ${Math.round(s.durationMs / 100) / 10} s (${s.detail})${s.passed ? '' : `: ${s.reasons.join('; ')}`}`;
}

/** `paceline drill cts TEST[,TEST...] --repeat N`: the tests, N times over, on one lab. */
export async function runCtsDrill(o: CtsDrillOptions): Promise<SeriesReport> {
  if (o.tests.length === 0) throw new Error('no CTS test named');
  for (const t of o.tests) if (!isCtsTest(t)) throw new Error(`unknown CTS test '${String(t)}' (${CTS_TESTS.join(', ')})`);
  if (!Number.isInteger(o.repeat) || o.repeat < 1) throw new Error('--repeat must be a positive whole number');
  if (!Number.isInteger(o.seed)) throw new Error('--seed must be a whole number');
  const startedAt = new Date().toISOString();
  const t0 = Date.now();
  const steps: CtsStep[] = [];
  const list = o.tests.join(',');
  await withCtsLab(o, async (base, failed) => {
    let k = 0;
    for (let r = 1; r <= o.repeat; r++) {
      for (const test of o.tests) {
        k++;
        const s = await runCtsTest({ ...base, rand: seededRandom(stepSeed(o.seed, k)) }, k, test);
        if (!s.passed) failed();
        steps.push(s);
        base.log(stepLine(s));
      }
    }
  });
  return report('cts', o.seed, startedAt, t0, steps, undefined, (s) => `paceline drill cts ${list} --seed ${o.seed} --repeat ${Math.ceil(s.step / o.tests.length)}`, list);
}

function report(kind: 'cts' | 'random', seed: number, startedAt: string, t0: number, steps: readonly CtsStep[], stoppedEarly: string | undefined, replay: (s: CtsStep) => string, test?: string): SeriesReport {
  const bad = steps.find((s) => !s.passed);
  return {
    kind,
    ...(test === undefined ? {} : { test }),
    seed,
    startedAt,
    durationMs: Date.now() - t0,
    steps,
    passed: steps.filter((s) => s.passed).length,
    failed: steps.filter((s) => !s.passed).length,
    ...(bad === undefined ? {} : { firstFailure: { step: bad.step, test: bad.test, replay: replay(bad) } }),
    ...(stoppedEarly === undefined ? {} : { stoppedEarly }),
  };
}

/** `paceline drill random --duration D --seed S`: random CTS tests and faults until D has passed. */
export async function runRandomDrill(o: RandomDrillOptions): Promise<SeriesReport> {
  if (!Number.isFinite(o.durationMs) || o.durationMs <= 0) throw new Error('--duration must be positive');
  if (!Number.isInteger(o.seed)) throw new Error('--seed must be a whole number');
  const from = o.fromStep ?? 1;
  if (!Number.isInteger(from) || from < 1) throw new Error('--from-step must be a positive whole number');
  const all: string[] = [...CTS_TESTS, ...RANDOM_FAULTS];
  const unknown = (o.exclude ?? []).filter((x) => !all.includes(x));
  if (unknown.length > 0) throw new Error(`--exclude: unknown test or fault ${unknown.join(', ')} (${all.join(', ')})`);
  // Without libfaketime the lab runs real clocks: no clock jump then (said once, below).
  const noClock = findLibfaketime() === undefined;
  const menu = all.filter((x) => !(o.exclude ?? []).includes(x) && !(noClock && x === 'clock-jump'));
  if (menu.length === 0) throw new Error('--exclude leaves nothing to run');
  if (noClock) o.progress?.('clock-jump left out: libfaketime is not installed (apt-get install faketime)');
  const startedAt = new Date().toISOString();
  const t0 = Date.now();
  const steps: CtsStep[] = [];
  let stoppedEarly: string | undefined;
  await withCtsLab(o, async (base, failed) => {
    const end = Date.now() + o.durationMs;
    for (let k = from; Date.now() < end && (o.steps === undefined || k < from + o.steps); k++) {
      const rand = seededRandom(stepSeed(o.seed, k));
      const what = randomChoice(rand, menu);
      const c: CtsContext = { ...base, rand };
      const s = isCtsTest(what) ? await runCtsTest(c, k, what) : await runStep(c, k, what, (cc) => randomFault(cc, what as RandomFault));
      steps.push(s);
      if (!s.passed) failed();
      const left = Math.max(0, Math.round((end - Date.now()) / 1000));
      base.log(`${stepLine(s)} [${Math.round((Date.now() - t0) / 1000)} s elapsed, ${left} s left]`);
      if (!s.passed && !o.keepGoing) {
        stoppedEarly = `step ${k} (${what}) failed; replay: ${replayRandom(o.seed, k, o.exclude)}`;
        base.log(stoppedEarly);
        break;
      }
    }
  });
  return report('random', o.seed, startedAt, t0, steps, stoppedEarly, (s) => replayRandom(o.seed, s.step, o.exclude));
}

/** The command that replays step k of a random series alone (the same --exclude: it shapes the choices). */
export function replayRandom(seed: number, step: number, exclude: readonly string[] = []): string {
  return `paceline drill random --seed ${seed} --from-step ${step} --steps 1 --duration 30m${exclude.length > 0 ? ` --exclude ${exclude.join(',')}` : ''}`;
}

const between = (rand: () => number, lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));

/** One random fault: injected, held for a while, undone. The step's restore and invariants follow. */
export async function randomFault(c: CtsContext, what: RandomFault): Promise<CtsTestOutcome> {
  const n = pick(c.rand, nodeNames(c.lab));
  const holdMs = between(c.rand, 3000, 10_000);
  const reasons: string[] = [];
  const undo = async (fn: () => unknown): Promise<void> => {
    try {
      await fn();
    } catch (e) {
      reasons.push(`undo: ${(e as Error).message}`);
    }
  };
  switch (what) {
    case 'power-off': {
      const at = await c.f.powerOff(n);
      await sleep(holdMs);
      return { detail: `power off ${n} for ${holdMs} ms`, faultAt: at, lost: [n], reasons };
    }
    case 'link-flap': {
      const count = between(c.rand, 1, 3);
      const downMs = between(c.rand, 200, 3000);
      const at = await c.f.linkFlap(n, { count, downMs, upMs: 1000 });
      await sleep(holdMs);
      return { detail: `flap ${n}'s link ${count}x, down ${downMs} ms`, faultAt: at, lost: [n], reasons };
    }
    case 'net-loss': {
      const pct = between(c.rand, 5, 40);
      const at = c.f.netLoss(n, pct);
      await sleep(holdMs);
      await undo(() => c.f.netLossClear(n));
      return { detail: `${pct} % loss on ${n} for ${holdMs} ms`, faultAt: at, lost: [n], reasons };
    }
    case 'net-delay': {
      const d = between(c.rand, 10, 200);
      const j = between(c.rand, 0, d);
      const at = await c.f.netDelay(n, d, j);
      await sleep(holdMs);
      await undo(() => c.f.netDelayClear(n));
      return { detail: `delay ${d}±${j} ms on ${n} for ${holdMs} ms`, faultAt: at, lost: [n], reasons };
    }
    case 'rsc-fail': {
      const rsc = pick(c.rand, CTS_DUMMIES);
      const mode = c.rand() < 0.5 ? 'stop' : 'monitor';
      const on = activity(c).get(rsc)![0];
      if (on === undefined) return { detail: `fail ${rsc}`, faultAt: Date.now(), lost: [], reasons: [`${rsc} runs nowhere before the fault`] };
      const at = c.f.rscFail(on, rsc, mode);
      await sleep(holdMs);
      await undo(() => c.f.rscRepair(on, rsc));
      return { detail: `${rsc} fails on ${on} (${mode}) for ${holdMs} ms`, faultAt: at, lost: [], reasons };
    }
    case 'fs-readonly':
    case 'fs-fill': {
      const on = activity(c).get('fs')![0];
      if (on === undefined) return { detail: what, faultAt: Date.now(), lost: [], reasons: ['fs is mounted nowhere before the fault'] };
      const at = what === 'fs-readonly' ? c.f.fsReadOnly(on, c.fsDir) : c.f.fsFill(on, c.fsDir);
      await sleep(holdMs);
      // The monitor (OCF_CHECK_LEVEL 20) fails and the cluster remounts the filesystem: the undo
      // then finds a fresh mount (or none on that node), which is fine.
      try {
        if (what === 'fs-readonly') c.f.fsWritable(on, c.fsDir);
        else c.f.fsUnfill(on, c.fsDir);
      } catch {
        // Recovered already.
      }
      await undo(() => c.f.rscRepair(on, 'fs'));
      return { detail: `${what} on ${on} for ${holdMs} ms`, faultAt: at, lost: [], reasons };
    }
    case 'clock-jump': {
      // The wall clock only (libfaketime), an hour or two either way at most: nothing may move.
      const deltaS = (c.rand() < 0.5 ? -1 : 1) * between(c.rand, 60, 7200);
      const was = activity(c);
      const at = await c.f.clockJump(n, deltaS);
      await sleep(holdMs);
      const now = activity(c);
      for (const [rsc, on] of was) if ((now.get(rsc) ?? []).join(',') !== on.join(',')) reasons.push(`${rsc} moved from ${on.join(',') || 'nowhere'} to ${(now.get(rsc) ?? []).join(',') || 'nowhere'} while ${n}'s clock was ${formatClockOffset(deltaS)} off`);
      await undo(() => c.f.clockReset(n));
      return { detail: `clock of ${n} ${formatClockOffset(deltaS)} for ${holdMs} ms`, faultAt: at, lost: [], reasons };
    }
    case 'freeze': {
      const at = c.f.freeze(n);
      await sleep(holdMs);
      try {
        c.f.thaw(n);
      } catch {
        // Fenced (and rebooted) meanwhile.
      }
      return { detail: `freeze ${n} for ${holdMs} ms`, faultAt: at, lost: [n], reasons };
    }
  }
}
