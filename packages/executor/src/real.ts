/**
 * The composition of a real executor: the process's clock, real processes, agents found on the
 * file system, the process environment. Everything in it can be overridden.
 */
import { availableParallelism } from 'node:os';
import { FsAgentLocator, defaultAgentPaths, type AgentPaths } from './agents.js';
import { RealClock } from './clock.js';
import { defaultActionsParallelMax } from './defaults.js';
import { Executor, type ExecutorOptions } from './executor.js';
import { RealProcessRunner } from './process.js';

export interface RealExecutorOptions extends Partial<ExecutorOptions> {
  readonly paths?: AgentPaths;
}

export function createExecutor(opts: RealExecutorOptions = {}): Executor {
  const paths = opts.paths ?? defaultAgentPaths();
  return new Executor({
    ...opts,
    clock: opts.clock ?? new RealClock(),
    runner: opts.runner ?? new RealProcessRunner(),
    locator: opts.locator ?? new FsAgentLocator(paths),
    actionsParallelMax: opts.actionsParallelMax ?? defaultActionsParallelMax(availableParallelism()),
    // A snapshot: reading process.env walks the C environment on every access, which every
    // agent run paid for (a daemon does not change its own environment after start).
    baseEnv: opts.baseEnv ?? { ...process.env },
  });
}
