/**
 * The two things every agent result carries, each declared once:
 *   - the execution status: whether the action ran to completion (EXEC_STATUSES), with the
 *     op-status number Pacemaker writes into the CIB status section;
 *   - the OCF return code the agent gave (OCF_RCS), 0-9, 190, 191.
 * And the pure functions that turn a raw process exit code into an OCF rc, one per class:
 * OCF agents (out-of-range codes become OCF_ERR_GENERIC), LSB init scripts (status codes differ
 * from action codes), and fence agents (status: 0 on, 2 off).
 */

export interface OcfRcInfo {
  readonly rc: number;
  readonly name: string;
  readonly description: string;
}

/** The OCF return codes (OCF 1.1 plus Pacemaker's degraded codes), the one table of them. */
export const OCF_RCS: readonly OcfRcInfo[] = [
  { rc: 0, name: 'OCF_SUCCESS', description: 'success' },
  { rc: 1, name: 'OCF_ERR_GENERIC', description: 'generic error' },
  { rc: 2, name: 'OCF_ERR_ARGS', description: 'invalid arguments' },
  { rc: 3, name: 'OCF_ERR_UNIMPLEMENTED', description: 'action not implemented' },
  { rc: 4, name: 'OCF_ERR_PERM', description: 'insufficient privileges' },
  { rc: 5, name: 'OCF_ERR_INSTALLED', description: 'not installed' },
  { rc: 6, name: 'OCF_ERR_CONFIGURED', description: 'not configured' },
  { rc: 7, name: 'OCF_NOT_RUNNING', description: 'not running' },
  { rc: 8, name: 'OCF_RUNNING_PROMOTED', description: 'promoted' },
  { rc: 9, name: 'OCF_FAILED_PROMOTED', description: 'promoted (failed)' },
  { rc: 190, name: 'OCF_DEGRADED', description: 'running (degraded)' },
  { rc: 191, name: 'OCF_DEGRADED_PROMOTED', description: 'promoted (degraded)' },
];

export const OCF_SUCCESS = 0;
export const OCF_ERR_GENERIC = 1;
export const OCF_ERR_ARGS = 2;
export const OCF_ERR_UNIMPLEMENTED = 3;
export const OCF_ERR_PERM = 4;
export const OCF_ERR_INSTALLED = 5;
export const OCF_ERR_CONFIGURED = 6;
export const OCF_NOT_RUNNING = 7;
export const OCF_RUNNING_PROMOTED = 8;
export const OCF_FAILED_PROMOTED = 9;
export const OCF_DEGRADED = 190;
export const OCF_DEGRADED_PROMOTED = 191;

const rcByNumber = new Map(OCF_RCS.map((r) => [r.rc, r]));

/** `OCF_NOT_RUNNING` for 7; `unknown(42)` for a number outside the table. */
export function ocfRcName(rc: number): string {
  return rcByNumber.get(rc)?.name ?? `unknown(${rc})`;
}

export function isOcfRc(rc: number): boolean {
  return rcByNumber.has(rc);
}

/** How an action ended, from the executor's side. */
export type ExecStatus = 'done' | 'cancelled' | 'timed-out' | 'not-installed' | 'error';

export interface ExecStatusInfo {
  readonly status: ExecStatus;
  /** Pacemaker's `enum pcmk_exec_status` value, written as op-status in the CIB. */
  readonly pcmkOpStatus: number;
  /** The rc recorded when the agent gave none (Pacemaker's convention); undefined for done. */
  readonly rcWhenNoExit: number | undefined;
  readonly description: string;
}

/** The execution statuses, the one table of them. */
export const EXEC_STATUSES: readonly ExecStatusInfo[] = [
  { status: 'done', pcmkOpStatus: 0, rcWhenNoExit: undefined, description: 'the agent ran and exited; rc is its answer' },
  { status: 'cancelled', pcmkOpStatus: 1, rcWhenNoExit: OCF_ERR_GENERIC, description: 'cancelled before or while running' },
  { status: 'timed-out', pcmkOpStatus: 2, rcWhenNoExit: OCF_ERR_GENERIC, description: 'killed after its timeout' },
  { status: 'error', pcmkOpStatus: 4, rcWhenNoExit: OCF_ERR_GENERIC, description: 'could not run, or killed by a signal' },
  { status: 'not-installed', pcmkOpStatus: 7, rcWhenNoExit: OCF_ERR_INSTALLED, description: 'the agent was not found' },
];

export function execStatusInfo(status: ExecStatus): ExecStatusInfo {
  const info = EXEC_STATUSES.find((s) => s.status === status);
  if (!info) throw new Error(`unknown exec status ${String(status)}`);
  return info;
}

/**
 * An OCF agent's exit code as an OCF rc: codes outside the table become OCF_ERR_GENERIC, as
 * Pacemaker's services__ocf2ocf does (a shell's 127 "command not found" is a generic error).
 */
export function ocfExitToOcf(exitCode: number): number {
  return isOcfRc(exitCode) ? exitCode : OCF_ERR_GENERIC;
}

/** LSB exit codes of the `status` action (LSB 3.0, 20.2) that are not plain action codes. */
export const LSB_STATUS_OK = 0;
export const LSB_STATUS_DEAD_PIDFILE = 1;
export const LSB_STATUS_DEAD_LOCKFILE = 2;
export const LSB_STATUS_NOT_RUNNING = 3;
export const LSB_STATUS_UNKNOWN = 4;
/** Reserved for applications in LSB; Pacemaker reads them as not installed / no privilege. */
export const LSB_STATUS_NOT_INSTALLED = 150;
export const LSB_STATUS_INSUFFICIENT_PRIV = 151;

/**
 * An LSB init script's exit code as an OCF rc. Action codes 0-7 (start, stop, restart, ...)
 * mean the same as OCF's; status codes differ: 1, 2, 3 all mean "not running", 4 "unknown".
 * `monitor` is the same as `status` (the executor runs `status` for it). Pure; table-tested.
 */
export function lsbExitToOcf(action: string, exitCode: number): number {
  if (action !== 'status' && action !== 'monitor') {
    return exitCode >= 0 && exitCode <= OCF_NOT_RUNNING ? exitCode : OCF_ERR_GENERIC;
  }
  switch (exitCode) {
    case LSB_STATUS_OK:
      return OCF_SUCCESS;
    case LSB_STATUS_DEAD_PIDFILE:
    case LSB_STATUS_DEAD_LOCKFILE:
    case LSB_STATUS_NOT_RUNNING:
      return OCF_NOT_RUNNING;
    case LSB_STATUS_NOT_INSTALLED:
      return OCF_ERR_INSTALLED;
    case LSB_STATUS_INSUFFICIENT_PRIV:
      return OCF_ERR_PERM;
    default:
      return OCF_ERR_GENERIC;
  }
}

/**
 * A fence agent's exit code as an OCF rc. Fence agents answer 0 for success; `status` (and
 * `monitor` of some agents) answers 2 for "off", which is OCF_NOT_RUNNING; anything else failed.
 */
export function stonithExitToOcf(action: string, exitCode: number): number {
  if (exitCode === 0) return OCF_SUCCESS;
  if (exitCode === 2 && (action === 'status' || action === 'monitor')) return OCF_NOT_RUNNING;
  return OCF_ERR_GENERIC;
}
