/**
 * The executor's defaults, each with the reason for its value. The one place they live.
 */

/** Pacemaker's default operation timeout (20 s): agents are written and tested against it. */
export const DEFAULT_ACTION_TIMEOUT_MS = 20_000;

/**
 * After TERM, how long a timed-out or cancelled agent's process group gets before KILL: long
 * enough for a shell agent to clean up a lock file, short enough that a hung stop escalates
 * (to fencing) within seconds of its timeout.
 */
export const DEFAULT_KILL_GRACE_MS = 2_000;

/**
 * After KILL, how long to wait for the process to be reaped before reporting the action anyway.
 * A process in uninterruptible sleep (a dead NFS server) cannot die; its resource must still get
 * an answer (timed out) so the cluster can act.
 */
export const DEFAULT_ABANDON_AFTER_KILL_MS = 5_000;

/**
 * Output kept per stream and action (the tail): the largest ClusterLabs meta-data is a few tens
 * of kilobytes, so 1 Mi characters loses nothing real, and bounds a flooding agent.
 */
export const DEFAULT_OUTPUT_CHARS_MAX = 1 << 20;

/** Timeout of the meta-data action when discovery asks for it (Pacemaker uses 5-30 s). */
export const DEFAULT_METADATA_TIMEOUT_MS = 10_000;

/** OCF_ROOT given to agents that live outside an `…/resource.d` directory. */
export const DEFAULT_OCF_ROOT = '/usr/lib/ocf';

/**
 * Actions running at once, over all resources: twice the CPU cores, as Pacemaker's
 * node-action-limit defaults to, because agents mostly wait on I/O and on the programs they
 * call; never below 4, so a one- or two-core node can still start a group while probes and
 * monitors run.
 */
export function defaultActionsParallelMax(cpuCount: number): number {
  return Math.max(4, 2 * Math.max(1, Math.floor(cpuCount)));
}

/** PATH given to agents when the executor's own environment has none. */
export const FALLBACK_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * Calls (queued, running, waiting for their interval) one executor holds at most: a node with
 * a thousand resources has a few monitors each; far beyond that a caller is looping, and the
 * executor refuses more rather than grow without bound.
 */
export const DEFAULT_CALLS_MAX = 100_000;
