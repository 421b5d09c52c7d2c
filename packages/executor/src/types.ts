/**
 * The executor's request and result shapes.
 */
import type { ExecStatus } from './codes.js';

/** The agent classes, the one table of them. `systemd` is not supported yet (see README). */
export const AGENT_CLASSES = [
  { name: 'ocf', hasProvider: true, description: 'OCF 1.1 resource agents (resource.d/PROVIDER/TYPE)' },
  { name: 'lsb', hasProvider: false, description: 'LSB init scripts (/etc/init.d)' },
  { name: 'stonith', hasProvider: false, description: 'fence agents (fence_*; key=value on stdin)' },
] as const;

export type AgentClass = (typeof AGENT_CLASSES)[number]['name'];

export function isAgentClass(name: string): name is AgentClass {
  return AGENT_CLASSES.some((c) => c.name === name);
}

/** Which agent: `ocf:heartbeat:Dummy` is { agentClass: 'ocf', provider: 'heartbeat', type: 'Dummy' }. */
export interface AgentRef {
  readonly agentClass: AgentClass;
  /** Only for ocf. */
  readonly provider?: string;
  readonly type: string;
}

export function formatAgent(agent: AgentRef): string {
  return agent.agentClass === 'ocf' ? `ocf:${agent.provider ?? ''}:${agent.type}` : `${agent.agentClass}:${agent.type}`;
}

/** A name that can be a provider or agent type: no path separators, no dot-only names. */
export function isSafeAgentName(name: string): boolean {
  return /^[A-Za-z0-9_][A-Za-z0-9_.+-]*$/.test(name) && name !== '.' && name !== '..';
}

/**
 * Parses `ocf:heartbeat:Dummy`, `lsb:ssh`, `stonith:fence_dummy`. A bare name (no class) is
 * not an AgentRef: the catalogue resolves it by searching (see AgentCatalog.resolve).
 */
export function parseAgentRef(text: string): { ok: true; agent: AgentRef } | { ok: false; code: 'bad-agent-name'; message: string } {
  const parts = text.split(':');
  const bad = (why: string) => ({ ok: false as const, code: 'bad-agent-name' as const, message: `${text}: ${why}` });
  const cls = parts[0] ?? '';
  if (!isAgentClass(cls)) return bad(`unknown class "${cls}" (known: ${AGENT_CLASSES.map((c) => c.name).join(', ')})`);
  if (cls === 'ocf') {
    if (parts.length !== 3) return bad('ocf agents are named ocf:PROVIDER:TYPE');
    const [, provider, type] = parts as [string, string, string];
    if (!isSafeAgentName(provider) || !isSafeAgentName(type)) return bad('bad provider or type');
    return { ok: true, agent: { agentClass: 'ocf', provider, type } };
  }
  if (parts.length !== 2 || !isSafeAgentName(parts[1] ?? '')) return bad(`${cls} agents are named ${cls}:NAME`);
  return { ok: true, agent: { agentClass: cls, type: parts[1] as string } };
}

/**
 * One action to run. Only rscId, agent and action are required.
 * A request with `intervalMs > 0` is recurring (a monitor) unless `recurring` is false.
 */
export interface ActionRequest {
  /** The resource instance (OCF_RESOURCE_INSTANCE); actions with the same rscId never overlap. */
  readonly rscId: string;
  readonly agent: AgentRef;
  /** start, stop, monitor, promote, demote, notify, reload, validate-all, meta-data, on, off, ... */
  readonly action: string;
  /** 0 (default) for a one-shot action or a probe; the period of a recurring action. */
  readonly intervalMs?: number;
  /** Run repeatedly every intervalMs (default: intervalMs > 0). False runs once with the interval in the environment. */
  readonly recurring?: boolean;
  /** Killed after this long (default DEFAULT_ACTION_TIMEOUT_MS); counts from the process start. */
  readonly timeoutMs?: number;
  /** Wait this long before the first run (Pacemaker's start-delay). */
  readonly startDelayMs?: number;
  /** Instance parameters: OCF_RESKEY_name for ocf, name=value lines for stonith. */
  readonly params?: Readonly<Record<string, string>>;
  /** Extra meta attributes: OCF_RESKEY_CRM_meta_name (dashes become underscores). */
  readonly meta?: Readonly<Record<string, string>>;
  /** OCF_CHECK_LEVEL (monitor depth), e.g. 10 or 20. */
  readonly checkLevel?: number;
  /** Sets OCF_TRACE_RA=1: ClusterLabs agents then trace themselves (set -x into a file). */
  readonly traceRa?: boolean;
  /** stonith on/off/reboot/status: the node to act on (sent as port=, or pcmk_host_argument=, and nodename=). */
  readonly target?: string;
  /** Output kept per stream (default DEFAULT_OUTPUT_CHARS_MAX). */
  readonly outputCharsMax?: number;
}

/** Unique per executor, increasing. */
export type CallId = number;

export interface ActionResult {
  readonly callId: CallId;
  readonly rscId: string;
  readonly agent: AgentRef;
  readonly action: string;
  readonly intervalMs: number;
  /** Whether the action ran to completion. */
  readonly execStatus: ExecStatus;
  /**
   * The OCF rc: the agent's answer, mapped for its class, when execStatus is `done`; otherwise
   * the rc Pacemaker records for that status (EXEC_STATUSES.rcWhenNoExit).
   */
  readonly rc: number;
  /** OCF_SUCCESS, OCF_NOT_RUNNING, ... */
  readonly rcName: string;
  /** The raw exit code of the process, when it exited. */
  readonly exitCode?: number;
  /** The signal that ended the process, when one did. */
  readonly signal?: string;
  /** The agent's `ocf-exit-reason:` line, or the executor's reason when it did not run. */
  readonly exitReason?: string;
  readonly stdout: string;
  readonly stderr: string;
  /** Characters dropped from the start of stdout/stderr to respect outputCharsMax. */
  readonly outputTruncatedChars: number;
  /** From process start to its end (0 when it never ran). */
  readonly execMs: number;
  /** From becoming due (submitted, start-delay over, interval elapsed) to process start. */
  readonly queueMs: number;
  /** Wall-clock time the run started (or the result was decided, when it never ran). */
  readonly startedAtWallMs: number;
  /** 1 for the first run of a call, then counts every run of a recurring call, reported or not. */
  readonly runNumber: number;
}
