/**
 * How each agent class is invoked: the program, its arguments, its environment and its stdin,
 * built from a request. Pure; the executor hands the result to a ProcessRunner.
 *   ocf:     AGENT ACTION, with the OCF 1.1 environment (OCF_ROOT, OCF_RESKEY_*, CRM_meta_*).
 *   lsb:     SCRIPT ACTION (monitor runs status), the plain environment.
 *   stonith: AGENT with no arguments, `key=value` lines on stdin (action=, port=, nodename=).
 */
import { lsbExitToOcf, ocfExitToOcf, stonithExitToOcf } from './codes.js';
import { DEFAULT_OCF_ROOT, FALLBACK_PATH } from './defaults.js';
import type { SpawnSpec } from './process.js';
import type { ActionRequest, AgentClass, AgentRef } from './types.js';

/** Where an agent's program is, as found by an AgentLocator. */
export interface AgentLocation {
  readonly path: string;
  /** OCF_ROOT for ocf agents found under `ROOT/resource.d/`; undefined = the default root. */
  readonly ocfRoot?: string;
}

/** Finds agents' programs. The real one searches directories (FsAgentLocator). */
export interface AgentLocator {
  /** Undefined when the agent is not installed. */
  locate(agent: AgentRef): AgentLocation | undefined;
}

export interface CommandContext {
  /** The environment agents inherit; per-action OCF variables in it are dropped (see perActionVar). */
  readonly baseEnv: Readonly<Record<string, string | undefined>>;
  readonly defaultOcfRoot?: string;
}

export interface ResolvedTiming {
  readonly timeoutMs: number;
  readonly intervalMs: number;
}

export function buildSpawnSpec(req: ActionRequest, loc: AgentLocation, timing: ResolvedTiming, ctx: CommandContext): SpawnSpec {
  const cls: AgentClass = req.agent.agentClass;
  switch (cls) {
    case 'ocf':
      return { command: loc.path, args: [req.action], env: ocfEnv(req, loc, timing, ctx) };
    case 'lsb':
      return { command: loc.path, args: [lsbAction(req.action)], env: plainEnv(ctx) };
    case 'stonith':
      return { command: loc.path, args: [], env: plainEnv(ctx), stdin: stonithStdin(req) };
    default: {
      const never: never = cls;
      throw new Error(`unhandled agent class ${String(never)}`);
    }
  }
}

/** The OCF rc for a process that exited with `exitCode`, by the agent's class. */
export function exitCodeToOcf(agentClass: AgentClass, action: string, exitCode: number): number {
  switch (agentClass) {
    case 'ocf':
      return ocfExitToOcf(exitCode);
    case 'lsb':
      return lsbExitToOcf(lsbAction(action), exitCode);
    case 'stonith':
      return stonithExitToOcf(stonithAction(action), exitCode);
    default: {
      const never: never = agentClass;
      throw new Error(`unhandled agent class ${String(never)}`);
    }
  }
}

/** LSB scripts know `status`, not `monitor`. */
export function lsbAction(action: string): string {
  return action === 'monitor' ? 'status' : action;
}

/** Fence agents spell it `metadata`. */
export function stonithAction(action: string): string {
  return action === 'meta-data' ? 'metadata' : action;
}

/**
 * Variables that describe one action and must never leak from the executor's own environment
 * into an agent's (a stale OCF_RESKEY_x would look like a parameter the user set). Others, such
 * as OCF_FUNCTIONS_DIR, pass through; OCF_ROOT and the version variables are set per action.
 */
function perActionVar(name: string): boolean {
  return /^OCF_(RESKEY_|RESOURCE_|CHECK_LEVEL$|TRACE_RA$|ROOT$|RA_VERSION_|EXIT_REASON_SUPPORTED$)/.test(name);
}

/** baseEnv -> its plain environment, computed once per base (see plainEnv). */
const plainEnvOf = new WeakMap<object, Readonly<Record<string, string>>>();

/**
 * The base environment without per-action variables, PATH defaulted. Computed once per base
 * object and copied for each action (a monitor every few seconds filtered every variable of the
 * daemon's environment each time); a base is therefore taken as it is when first used, which is
 * why the real executor gives a snapshot of process.env, not process.env itself.
 */
function plainEnv(ctx: CommandContext): Record<string, string> {
  let base = plainEnvOf.get(ctx.baseEnv);
  if (base === undefined) {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(ctx.baseEnv)) {
      if (v !== undefined && !perActionVar(k)) env[k] = v;
    }
    if (env.PATH === undefined || env.PATH === '') env.PATH = FALLBACK_PATH;
    base = env;
    if (ctx.baseEnv !== process.env) plainEnvOf.set(ctx.baseEnv, base);
  }
  return { ...base };
}

/** Pacemaker's spelling of meta attribute variables: dashes become underscores. */
function metaVar(name: string): string {
  return `OCF_RESKEY_CRM_meta_${name.replace(/-/g, '_')}`;
}

function ocfEnv(req: ActionRequest, loc: AgentLocation, timing: ResolvedTiming, ctx: CommandContext): Record<string, string> {
  const env = plainEnv(ctx);
  env.OCF_ROOT = loc.ocfRoot ?? ctx.defaultOcfRoot ?? DEFAULT_OCF_ROOT;
  env.OCF_RA_VERSION_MAJOR = '1';
  env.OCF_RA_VERSION_MINOR = '1';
  env.OCF_EXIT_REASON_SUPPORTED = '1';
  env.OCF_RESOURCE_INSTANCE = req.rscId;
  env.OCF_RESOURCE_TYPE = req.agent.type;
  env.OCF_RESOURCE_PROVIDER = req.agent.provider ?? '';
  for (const [name, value] of Object.entries(req.params ?? {})) env[`OCF_RESKEY_${name}`] = value;
  for (const [name, value] of Object.entries(req.meta ?? {})) env[metaVar(name)] = value;
  env[metaVar('timeout')] = String(timing.timeoutMs);
  env[metaVar('interval')] = String(timing.intervalMs);
  if (req.checkLevel !== undefined) {
    env.OCF_CHECK_LEVEL = String(req.checkLevel);
    env.OCF_RESKEY_OCF_CHECK_LEVEL = String(req.checkLevel);
  }
  if (req.traceRa) env.OCF_TRACE_RA = '1';
  return env;
}

/** A value on one stdin line: a newline inside it would start a new key. */
function oneLine(value: string): string {
  return value.replace(/[\r\n]+/g, ' ');
}

/**
 * The stdin of a fence agent. Pacemaker's own pcmk_* parameters are not the agent's and are
 * left out; the target goes in the parameter named by pcmk_host_argument (default `port`,
 * `none` for agents that take no target), and always in `nodename`.
 */
export function stonithStdin(req: ActionRequest): string {
  const params = req.params ?? {};
  const lines: string[] = [`action=${oneLine(stonithAction(req.action))}`];
  for (const [name, value] of Object.entries(params)) {
    if (name === 'action' || name.startsWith('pcmk_')) continue;
    lines.push(`${oneLine(name)}=${oneLine(value)}`);
  }
  if (req.target !== undefined) {
    const hostArg = params.pcmk_host_argument ?? 'port';
    if (hostArg !== 'none' && !(hostArg in params)) lines.push(`${oneLine(hostArg)}=${oneLine(req.target)}`);
    lines.push(`nodename=${oneLine(req.target)}`);
  }
  return lines.join('\n') + '\n';
}
