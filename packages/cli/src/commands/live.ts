/**
 * What the live Pacemaker-compatible tools (crm_mon, cibadmin, crm_resource, crm_attribute,
 * crm_node, crm_standby, crm_failcount) share: the API socket option, one connection per run,
 * and Pacemaker's exit codes (crm_exit_t) for the API's error codes.
 */
import { renameSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ApiClient, ApiError } from '@paceline/controller';
import { NODE_CONFIG_DEFAULTS } from '@paceline/daemon';

/** crm_exit_t values these tools end with (Pacemaker 2.1.5 include/crm/common/results.h). */
export const CRM_EX = {
  ok: 0,
  error: 1,
  invalidParam: 2,
  usage: 64,
  dataErr: 65,
  noInput: 66,
  unavailable: 69,
  software: 70,
  config: 78,
  disconnect: 102,
  old: 103,
  noSuch: 105,
  quorum: 106,
  unsafe: 107,
  exists: 108,
  timeout: 124,
} as const;

/** A failure with the exit code the tool ends with; its message is printed as `TOOL: message`. */
export class ToolError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'ToolError';
  }
}

/** The API socket: --socket, else $PACELINE_API_SOCKET, else the node's default (/run/paceline/api.sock). */
export function apiSocket(flag: string | undefined): string {
  return flag ?? (process.env.PACELINE_API_SOCKET || NODE_CONFIG_DEFAULTS.apiSocket.value);
}

/**
 * Adds `--socket PATH` to a tool, and makes its option errors reach `main` (exit 64, as
 * CRM_EX_USAGE) instead of ending the process with commander's exit 1.
 */
export function withSocketOption(cmd: Command): Command {
  return cmd.exitOverride().option('--socket <PATH>', `the node API socket (default: $PACELINE_API_SOCKET or ${NODE_CONFIG_DEFAULTS.apiSocket.value})`);
}

/** The exit code for an API failure, as the Pacemaker tool would end for the same cause. */
export function exitCodeOfApiError(code: string): number {
  switch (code) {
    case 'not-found':
      return CRM_EX.noSuch;
    case 'conflict':
      return CRM_EX.old;
    case 'no-quorum':
      return CRM_EX.quorum;
    case 'bad-params':
      return CRM_EX.invalidParam;
    case 'connect-failed':
    case 'closed':
    case 'unauthorized':
      return CRM_EX.disconnect;
    case 'unavailable':
      return CRM_EX.unavailable;
    case 'timeout':
      return CRM_EX.timeout;
    default:
      return CRM_EX.error;
  }
}

/** Opens one API connection for `fn` and closes it afterwards, whatever happens. */
export async function withApi<T>(socket: string | undefined, fn: (api: ApiClient) => Promise<T>): Promise<T> {
  const path = apiSocket(socket);
  let api: ApiClient;
  try {
    api = await ApiClient.connect({ socket: path });
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new ToolError(CRM_EX.disconnect, `Could not connect to the cluster (API socket ${path}): ${why}`);
  }
  try {
    return await fn(api);
  } finally {
    await api.close();
  }
}

/**
 * Runs a tool's body and sets the process exit code: its return value, or the code of the
 * ToolError / ApiError it threw (printed as `TOOL: message` on stderr). Other errors propagate (bugs).
 */
export async function runTool(tool: string, body: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await body();
  } catch (e) {
    if (e instanceof ToolError) {
      process.stderr.write(`${tool}: ${e.message}\n`);
      process.exitCode = e.exitCode;
    } else if (e instanceof ApiError) {
      process.stderr.write(`${tool}: ${e.message} (${e.code})\n`);
      process.exitCode = exitCodeOfApiError(e.code);
    } else {
      throw e;
    }
  }
}

/** Escapes text for an XML attribute value. */
export function xmlAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Pacemaker's crm_time "Sun Nov 22 00:10:00 2026" (local time, as ctime prints it). */
export function ctime(epochSec: number): string {
  const d = new Date(epochSec * 1000);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${days[d.getDay()]} ${months[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${d.getFullYear()}`;
}

/**
 * The directory of shadow CIBs: $CIB_shadow_dir, else /var/lib/paceline/shadow for root, else
 * $XDG_STATE_HOME/paceline/shadow (default ~/.local/state/paceline/shadow).
 */
export function shadowDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CIB_shadow_dir) return env.CIB_shadow_dir;
  if (typeof process.getuid === 'function' && process.getuid() === 0) return '/var/lib/paceline/shadow';
  const state = env.XDG_STATE_HOME || `${env.HOME ?? '.'}/.local/state`;
  return `${state}/paceline/shadow`;
}

/** The file of the shadow CIB `name` (`shadow.NAME` in the shadow directory). A name with a `/` is refused. */
export function shadowFile(name: string, env: NodeJS.ProcessEnv = process.env): string {
  if (name === '' || name.includes('/')) throw new ToolError(CRM_EX.usage, `invalid shadow instance name ${JSON.stringify(name)}`);
  return `${shadowDir(env)}/shadow.${name}`;
}

/**
 * The CIB file the offline tools work on, when they work offline: $CIB_file, else the shadow
 * copy named by $CIB_shadow (as Pacemaker's tools honour both); undefined to go live.
 */
export function offlineCibFile(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.CIB_file) return env.CIB_file;
  if (env.CIB_shadow) return shadowFile(env.CIB_shadow, env);
  return undefined;
}

/**
 * Replaces `file` with `text` at once (a temporary file beside it, then a rename), so that a
 * tool stopped half-way never leaves a CIB file cut short.
 */
export function replaceFile(file: string, text: string, mode?: number): void {
  const tmp = `${file}.paceline-tmp`;
  writeFileSync(tmp, text, mode === undefined ? undefined : { mode });
  renameSync(tmp, file);
}
