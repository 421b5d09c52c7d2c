/**
 * Shared pieces of the lab suites: a stand-in for the node daemon, and small process helpers.
 */
import { readFileSync } from 'node:fs';

/**
 * A stand-in node: checks that its config exists (exit 3 otherwise), starts a child (so process
 * group handling shows) and waits. It answers no API, so a lab of these never settles.
 */
export const STANDIN = ['sh', '-c', 'test -f "$0" || exit 3; sleep 1000 & wait', '{config}'];

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The state letter of /proc/PID/stat (R, S, T, Z...). */
export function procState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A lab name unique to this test process. */
export function labName(prefix: string): string {
  return `${prefix}${(process.pid % 46656).toString(36)}`.slice(0, 8);
}
