import { describe, expect, it } from 'vitest';
import { SimClock } from './clock.js';
import type { AgentLocator } from './command.js';
import { Executor, type ExecutorOptions } from './executor.js';
import type { SpawnSpec } from './process.js';
import { SimProcessRunner, type SimBehaviour } from './sim-process.js';
import type { ActionRequest, ActionResult } from './types.js';

/** Agents named `missing*` are not installed; every other agent lives at /agents/TYPE. */
const locator: AgentLocator = {
  locate: (a) => (a.type.startsWith('missing') ? undefined : { path: `/agents/${a.type}` }),
};

function setup(behave: (spec: SpawnSpec) => SimBehaviour, opts: Partial<ExecutorOptions> = {}) {
  const clock = new SimClock();
  const runner = new SimProcessRunner(clock, behave);
  const executor = new Executor({ clock, runner, locator, actionsParallelMax: 4, killGraceMs: 1000, abandonAfterKillMs: 3000, ...opts });
  const results: ActionResult[] = [];
  const submit = (req: Partial<ActionRequest> & { rscId: string }): number => {
    const r = executor.execute({ agent: { agentClass: 'ocf', provider: 'test', type: 'Agent' }, action: 'start', ...req }, (res) => results.push(res));
    if (!r.ok) throw new Error(r.error.message);
    return r.callId;
  };
  return { clock, runner, executor, results, submit };
}

const env = (spec: SpawnSpec, name: string) => spec.env[`OCF_RESKEY_${name}`];

describe('Executor', () => {
  it('runs a one-shot action and reports the agent rc, its name and the execution time', () => {
    // The basic contract every caller relies on: status done, rc from the exit code, times measured.
    const { clock, results, submit } = setup(() => ({ durationMs: 250, exitCode: 7 }));
    submit({ rscId: 'r1', action: 'monitor' });
    expect(results).toHaveLength(0);
    clock.advance(1000);
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ execStatus: 'done', rc: 7, rcName: 'OCF_NOT_RUNNING', exitCode: 7, execMs: 250, queueMs: 0, runNumber: 1 });
  });

  it('never calls back inside execute, even for an agent that is not installed', () => {
    // A caller that records the call id after execute returns must see it before any result.
    const { clock, runner, results, submit } = setup(() => ({ durationMs: 1 }));
    submit({ rscId: 'r1', agent: { agentClass: 'ocf', provider: 'test', type: 'missing' } });
    expect(results).toHaveLength(0);
    clock.flush();
    expect(results[0]).toMatchObject({ execStatus: 'not-installed', rc: 5, rcName: 'OCF_ERR_INSTALLED' });
    expect(runner.spawned).toHaveLength(0);
  });

  it('serialises actions on one resource and measures the queue time of the second', () => {
    // A stop must not overlap the start of the same resource: Pacemaker's executor queues per resource.
    const { clock, runner, results, submit } = setup(() => ({ durationMs: 300 }));
    submit({ rscId: 'r1', action: 'start' });
    submit({ rscId: 'r1', action: 'stop' });
    clock.advance(100);
    expect(runner.running()).toHaveLength(1);
    clock.advance(1000);
    expect(results.map((r) => r.action)).toEqual(['start', 'stop']);
    expect(runner.spawned[1]?.startedAtMs).toBe(300);
    expect(results[1]?.queueMs).toBe(300);
  });

  it('runs different resources in parallel, never more than actionsParallelMax at once', () => {
    // The parallel limit protects a node from a burst of probes; resources must still not wait on each other below it.
    const { clock, runner, results, submit } = setup(() => ({ durationMs: 100 }), { actionsParallelMax: 2 });
    for (let i = 0; i < 5; i++) submit({ rscId: `r${i}` });
    let maxRunning = 0;
    for (let t = 0; t < 400; t += 10) {
      clock.advance(10);
      maxRunning = Math.max(maxRunning, runner.running().length);
    }
    expect(maxRunning).toBe(2);
    expect(results).toHaveLength(5);
    expect(runner.spawned.map((p) => p.startedAtMs)).toEqual([0, 0, 100, 100, 200]);
    expect(results.map((r) => r.queueMs).sort((a, b) => a - b)).toEqual([0, 0, 100, 100, 200]);
  });

  it('lets a resource that is free run past a queued action of a busy resource', () => {
    // One slow resource must not hold up others queued behind its second action.
    const { clock, runner, submit } = setup((s) => ({ durationMs: s.env.OCF_RESOURCE_INSTANCE === 'slow' ? 1000 : 10 }), { actionsParallelMax: 2 });
    submit({ rscId: 'slow', action: 'start' });
    submit({ rscId: 'slow', action: 'monitor' });
    submit({ rscId: 'fast' });
    clock.advance(1);
    expect(runner.running().map((p) => p.spec.env.OCF_RESOURCE_INSTANCE)).toEqual(['slow', 'fast']);
  });

  it('repeats a recurring monitor at its interval and reports only changes', () => {
    // The controller writes every reported result into the CIB; unchanged results would flood it.
    const rcs = [0, 0, 0, 7, 7, 0, 0];
    let n = 0;
    const { clock, runner, results, submit } = setup(() => ({ durationMs: 50, exitCode: rcs[n++] ?? 0 }));
    submit({ rscId: 'r1', action: 'monitor', intervalMs: 10_000 });
    clock.advance(6 * 10_050 + 60);
    expect(runner.spawned.map((p) => p.startedAtMs)).toEqual([0, 10_050, 20_100, 30_150, 40_200, 50_250, 60_300]);
    expect(results.map((r) => [r.rc, r.runNumber])).toEqual([[0, 1], [7, 4], [0, 6]]);
    expect(env(runner.spawned[0]!.spec, 'CRM_meta_interval')).toBe('10000');
  });

  it('treats a change of execution status with the same rc as a change', () => {
    // A monitor that starts timing out must be reported even though timeouts also carry rc 1.
    const plan: SimBehaviour[] = [
      { durationMs: 10, exitCode: 1 },
      { durationMs: Infinity },
      { durationMs: Infinity },
    ];
    let n = 0;
    const { clock, results, submit } = setup(() => plan[n++] ?? { durationMs: 10 }, { killGraceMs: 100 });
    submit({ rscId: 'r1', action: 'monitor', intervalMs: 1000, timeoutMs: 500 });
    clock.advance(10 + 1000 + 500 + 1000 + 500 + 1);
    expect(results.map((r) => [r.execStatus, r.rc])).toEqual([
      ['done', 1],
      ['timed-out', 1],
    ]);
  });

  it('runs a probe (monitor, interval 0) once and tells the agent its interval is 0', () => {
    // Probes find resources already running before the cluster starts anything; they must not repeat.
    const { clock, runner, results, submit } = setup(() => ({ durationMs: 10, exitCode: 7 }));
    submit({ rscId: 'r1', action: 'monitor', intervalMs: 0 });
    clock.advance(100_000);
    expect(runner.spawned).toHaveLength(1);
    expect(env(runner.spawned[0]!.spec, 'CRM_meta_interval')).toBe('0');
    expect(results.map((r) => r.rcName)).toEqual(['OCF_NOT_RUNNING']);
  });

  it('starts the timeout when the process starts, not while it waits in the queue', () => {
    // An action queued behind a slow start must get its full timeout once it runs.
    const { clock, results, submit } = setup(() => ({ durationMs: 800 }));
    submit({ rscId: 'r1', action: 'start', timeoutMs: 1000 });
    submit({ rscId: 'r1', action: 'monitor', timeoutMs: 1000 });
    clock.advance(5000);
    expect(results.map((r) => [r.action, r.execStatus, r.queueMs])).toEqual([
      ['start', 'done', 0],
      ['monitor', 'done', 800],
    ]);
  });

  it('delays the first run of an action by its start-delay', () => {
    // start-delay lets a service settle before its first monitor; it must not delay later runs.
    const { clock, runner, submit } = setup(() => ({ durationMs: 10 }));
    submit({ rscId: 'r1', action: 'monitor', intervalMs: 1000, startDelayMs: 5000 });
    clock.advance(4999);
    expect(runner.spawned).toHaveLength(0);
    clock.advance(1 + 10 + 1000 + 1);
    expect(runner.spawned.map((p) => p.startedAtMs)).toEqual([5000, 6010]);
  });

  it('kills a hung action at its timeout: TERM to the group, then KILL after the grace', () => {
    // A hung stop must end in bounded time with "timed out", or the node cannot be recovered.
    const { clock, runner, results, submit } = setup(() => ({ durationMs: Infinity, ignoresTerm: true }));
    submit({ rscId: 'r1', action: 'stop', timeoutMs: 20_000 });
    clock.advance(20_000);
    expect(runner.spawned[0]?.signals).toEqual(['SIGTERM']);
    clock.advance(1000);
    expect(runner.spawned[0]?.signals).toEqual(['SIGTERM', 'SIGKILL']);
    clock.flush();
    expect(results[0]).toMatchObject({ execStatus: 'timed-out', rc: 1, signal: 'SIGKILL', execMs: 21_000 });
    expect(runner.spawned[0]?.signals).toEqual(['SIGTERM', 'SIGKILL']);
    expect(results[0]?.exitReason).toMatch(/timed out after 20000 ms/);
  });

  it('reports a process that survives SIGKILL as an error after a bound, and frees the resource', () => {
    // A process stuck in the kernel must not block its resource's queue forever.
    const { clock, results, submit } = setup(() => ({ durationMs: Infinity, unkillable: true }));
    submit({ rscId: 'r1', action: 'stop', timeoutMs: 1000 });
    submit({ rscId: 'r1', action: 'start', timeoutMs: 1000 });
    clock.advance(1000 + 1000 + 3000);
    expect(results[0]).toMatchObject({ execStatus: 'timed-out', rc: 1 });
    clock.advance(5000);
    expect(results).toHaveLength(2);
  });

  it('cancels a queued action without running it, and a running one by killing it', () => {
    // The controller cancels actions that a new transition no longer wants.
    const { clock, executor, runner, results, submit } = setup(() => ({ durationMs: 10_000 }));
    const running = submit({ rscId: 'r1', action: 'start' });
    const queued = submit({ rscId: 'r1', action: 'stop' });
    clock.advance(100);
    expect(executor.cancel(queued)).toBe(true);
    expect(executor.cancel(running)).toBe(true);
    expect(executor.cancel(running)).toBe(false);
    expect(results).toHaveLength(0);
    clock.advance(1);
    expect(results.map((r) => [r.action, r.execStatus])).toEqual([
      ['stop', 'cancelled'],
      ['start', 'cancelled'],
    ]);
    expect(runner.spawned).toHaveLength(1);
    expect(runner.spawned[0]?.signals).toEqual(['SIGTERM', 'SIGKILL']);
    expect(executor.counts()).toEqual({ running: 0, queued: 0, waiting: 0 });
  });

  it('stops a recurring monitor on cancel, reporting cancelled once', () => {
    // Before a stop the controller cancels monitors; one that kept running would report a failure.
    const { clock, executor, runner, results, submit } = setup(() => ({ durationMs: 10 }));
    const id = submit({ rscId: 'r1', action: 'monitor', intervalMs: 1000 });
    clock.advance(2500);
    expect(executor.cancelMatching({ rscId: 'r1', action: 'monitor' })).toBe(1);
    clock.advance(10_000);
    expect(runner.spawned).toHaveLength(3);
    expect(results.map((r) => r.execStatus)).toEqual(['done', 'cancelled']);
    expect(results[1]?.callId).toBe(id);
  });

  it('reports an agent killed by a signal as an error with the signal', () => {
    // A segfaulting agent did not answer; its exit must not be mistaken for an rc.
    const { clock, results, submit } = setup(() => ({ durationMs: 5, dieBySignal: 'SIGSEGV' }));
    submit({ rscId: 'r1' });
    clock.advance(10);
    expect(results[0]).toMatchObject({ execStatus: 'error', rc: 1, signal: 'SIGSEGV' });
    expect(results[0]?.exitReason).toMatch(/SIGSEGV/);
  });

  it('maps spawn failures: ENOENT is not installed, EACCES is a permission error', () => {
    // An agent deleted between discovery and the run, or one that lost its execute bit.
    const { clock, results, submit } = setup((s) => ({ durationMs: 1, spawnErrno: s.command.endsWith('Gone') ? 'ENOENT' : 'EACCES' }));
    submit({ rscId: 'r1', agent: { agentClass: 'ocf', provider: 'x', type: 'Gone' } });
    submit({ rscId: 'r2', agent: { agentClass: 'ocf', provider: 'x', type: 'NoExec' } });
    clock.advance(10);
    expect(results.map((r) => [r.rscId, r.execStatus, r.rcName])).toEqual([
      ['r1', 'not-installed', 'OCF_ERR_INSTALLED'],
      ['r2', 'error', 'OCF_ERR_PERM'],
    ]);
  });

  it('takes the exit reason from the last ocf-exit-reason line on stderr', () => {
    // The exit reason is what users see in crm_mon for a failed action.
    const stderr = 'INFO: x\nocf-exit-reason:first\nERROR: ocf-exit-reason:Parameter "ip" is required\nmore\n';
    const { clock, results, submit } = setup(() => ({ durationMs: 5, exitCode: 6, stderr }));
    submit({ rscId: 'r1' });
    clock.advance(10);
    expect(results[0]).toMatchObject({ execStatus: 'done', rc: 6, rcName: 'OCF_ERR_CONFIGURED', exitReason: 'Parameter "ip" is required' });
  });

  it('maps out-of-range OCF exit codes to OCF_ERR_GENERIC but keeps the raw code', () => {
    // A shell's 127 (command not found) is a failure, not an unknown state.
    const { clock, results, submit } = setup(() => ({ durationMs: 5, exitCode: 127 }));
    submit({ rscId: 'r1' });
    clock.advance(10);
    expect(results[0]).toMatchObject({ rc: 1, exitCode: 127 });
  });

  it('runs status for an LSB monitor and maps its status code 3 to OCF_NOT_RUNNING', () => {
    // LSB status codes differ from action codes; a stopped service must read as stopped, not failed.
    const { clock, runner, results, submit } = setup(() => ({ durationMs: 5, exitCode: 3 }));
    submit({ rscId: 'svc', agent: { agentClass: 'lsb', type: 'svc' }, action: 'monitor' });
    submit({ rscId: 'svc', agent: { agentClass: 'lsb', type: 'svc' }, action: 'start' });
    clock.advance(100);
    expect(runner.spawned[0]?.spec.args).toEqual(['status']);
    expect(results.map((r) => r.rc)).toEqual([7, 3]);
  });

  it('rejects invalid requests as values with a stable code', () => {
    // Bad input from a caller is an expected failure, not an exception.
    const { executor } = setup(() => ({ durationMs: 1 }));
    const agent = { agentClass: 'ocf' as const, provider: 'p', type: 't' };
    expect(executor.execute({ rscId: '', agent, action: 'start' }, () => undefined)).toMatchObject({ ok: false, error: { code: 'invalid-request' } });
    expect(executor.execute({ rscId: 'r', agent, action: 'start', timeoutMs: 0 }, () => undefined)).toMatchObject({ ok: false });
    expect(executor.execute({ rscId: 'r', agent, action: 'monitor', recurring: true }, () => undefined)).toMatchObject({ ok: false });
    expect(executor.execute({ rscId: 'r', agent: { agentClass: 'ocf', type: 't' }, action: 'start' }, () => undefined)).toMatchObject({ ok: false });
    executor.close();
    expect(executor.execute({ rscId: 'r', agent, action: 'start' }, () => undefined)).toMatchObject({ ok: false, error: { code: 'closed' } });
  });

  it('refuses calls beyond callsMax and accepts again once one is over', () => {
    // Everything that grows has a bound: a looping caller must not exhaust the node's memory.
    const { clock, executor, submit } = setup(() => ({ durationMs: 10 }), { callsMax: 2 });
    submit({ rscId: 'a' });
    submit({ rscId: 'b' });
    const agent = { agentClass: 'ocf' as const, provider: 'p', type: 't' };
    expect(executor.execute({ rscId: 'c', agent, action: 'start' }, () => undefined)).toMatchObject({ ok: false, error: { code: 'too-many-calls' } });
    clock.advance(20);
    expect(executor.execute({ rscId: 'c', agent, action: 'start' }, () => undefined)).toMatchObject({ ok: true });
  });

  it('cancels everything on close, recurring monitors included', () => {
    // Shutting a node down must stop every timer and kill every agent it started.
    const { clock, executor, runner, results, submit } = setup(() => ({ durationMs: 100 }));
    submit({ rscId: 'a', action: 'monitor', intervalMs: 1000 });
    submit({ rscId: 'b', action: 'start' });
    submit({ rscId: 'c', action: 'monitor', intervalMs: 1000, startDelayMs: 500 });
    clock.advance(150);
    submit({ rscId: 'b', action: 'stop' });
    executor.close();
    clock.advance(10_000);
    expect(results.filter((r) => r.execStatus === 'cancelled').map((r) => r.rscId).sort()).toEqual(['a', 'b', 'c']);
    expect(runner.running()).toHaveLength(0);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('keeps the tail of a flooding agent and counts what it dropped', () => {
    // An agent in a loop printing must not grow the executor without bound.
    const { clock, results, submit } = setup(() => ({ durationMs: 5, stdout: 'x'.repeat(10_000) + 'END' }), { outputCharsMax: 100 });
    submit({ rscId: 'r1' });
    clock.advance(10);
    expect(results[0]?.stdout).toHaveLength(100);
    expect(results[0]?.stdout.endsWith('END')).toBe(true);
    expect(results[0]?.outputTruncatedChars).toBe(9903);
  });
});

describe('Executor: fence devices as resources', () => {
  const fence = { agentClass: 'stonith' as const, type: 'fence_x' };

  it('probes an unregistered device as not running without running the agent', () => {
    // Pacemaker's executor answers from its registry: a device nobody started is not running,
    // even when the fence agent would say the hardware answers (which made nodes fence each other).
    const { clock, runner, results, submit } = setup(() => ({ durationMs: 10, exitCode: 0 }));
    submit({ rscId: 'f1', agent: fence, action: 'monitor' });
    clock.advance(1000);
    expect(results[0]).toMatchObject({ execStatus: 'done', rc: 7 });
    expect(runner.spawned).toHaveLength(0);
  });

  it('starts a device by checking it with the agent monitor, then monitors it; stop unregisters', () => {
    const { clock, runner, results, submit } = setup(() => ({ durationMs: 10, exitCode: 0 }));
    submit({ rscId: 'f1', agent: fence, action: 'start' });
    clock.advance(1000);
    expect(results[0]).toMatchObject({ action: 'start', rc: 0 });
    expect(runner.spawned[0]?.spec.stdin).toContain('action=monitor');
    submit({ rscId: 'f1', agent: fence, action: 'monitor' });
    clock.advance(1000);
    expect(results[1]).toMatchObject({ action: 'monitor', rc: 0 });
    expect(runner.spawned).toHaveLength(2);
    submit({ rscId: 'f1', agent: fence, action: 'stop' });
    submit({ rscId: 'f1', agent: fence, action: 'monitor' });
    clock.advance(1000);
    expect(results.slice(2).map((r) => [r.action, r.rc])).toEqual([['stop', 0], ['monitor', 7]]);
    expect(runner.spawned).toHaveLength(2);
  });

  it('does not register a device whose check fails', () => {
    const { clock, results, submit } = setup(() => ({ durationMs: 10, exitCode: 1 }));
    submit({ rscId: 'f1', agent: fence, action: 'start' });
    submit({ rscId: 'f1', agent: fence, action: 'monitor' });
    clock.advance(1000);
    expect(results.map((r) => [r.action, r.rc])).toEqual([['start', 1], ['monitor', 7]]);
  });
});
