/**
 * The transition as the controller executes it: every action of the graph with what the executor
 * needs to run it (agent, parameters, meta, timeout, the rc that counts as success, the digest to
 * record), in plain JSON so that it crosses a worker boundary or a file unchanged.
 *
 * `planTransition` (plan.ts) builds it from a CIB and its ScheduleResult; status-record.ts writes
 * the results back into the status section the way Pacemaker records them.
 */

export interface PlannedAgent {
  readonly class: string;
  readonly provider?: string;
  readonly type: string;
}

export interface PlannedAction {
  /** The scheduler's action id; `inputs` refer to these. */
  readonly id: number;
  /** Pacemaker's operation key, e.g. `web_monitor_10000`, `stonith-node1-reboot`. */
  readonly key: string;
  /** start, stop, monitor, promote, demote, migrate_to, migrate_from, notify, stonith, running, ... */
  readonly task: string;
  /**
   * rsc: an agent action on `node`; pseudo: done once its inputs are (group/clone markers, "fenced"
   * markers); fence: fence `node` (fenceAction); cluster: a node-level event (do_shutdown,
   * clear_failcount, lrm_delete) that the controller performs itself.
   */
  readonly kind: 'rsc' | 'pseudo' | 'fence' | 'cluster';
  /** The scheduler's resource id (clone instances are `rsc:N`). */
  readonly rsc?: string;
  /** The id its history is recorded under (the configured id for anonymous clone instances). */
  readonly lrmId?: string;
  /** The node it runs on (the fence target for kind fence). */
  readonly node?: string;
  readonly intervalMs: number;
  /** Ids of planned actions that must complete (successfully) first. */
  readonly inputs: readonly number[];
  /** A mandatory input is not in the graph (cannot run): this action never runs in this transition. */
  readonly blocked: boolean;
  readonly agent?: PlannedAgent;
  /** Instance attributes (rules evaluated for the node): OCF_RESKEY_*. */
  readonly params?: Readonly<Record<string, string>>;
  /** Meta attributes for the agent's environment (OCF_RESKEY_CRM_meta_*), without the prefix: clone_max, notify_type, ... */
  readonly meta?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
  readonly startDelayMs?: number;
  /** The rc that is success: 0, 7 for a probe of a resource believed stopped, 8 for promoted. */
  readonly expectedRc: number;
  /** op-digest of the parameters, recorded with the result. */
  readonly opDigest?: string;
  readonly fenceAction?: string;
  readonly migrateSource?: string;
  readonly migrateTarget?: string;
}

/** A configured fencing device (a stonith-class primitive) and the nodes it can fence. */
export interface FenceDevice {
  readonly id: string;
  readonly agent: PlannedAgent;
  readonly params: Readonly<Record<string, string>>;
  /** pcmk_host_list (or the keys of pcmk_host_map); undefined: the device is asked (or assumed) to fence any node. */
  readonly hostList?: readonly string[];
  /** pcmk_delay_base in ms (a fixed delay before fencing; two-node fence races). */
  readonly delayBaseMs: number;
  /** pcmk_delay_base given per host ("node1:1s;node2:5s"), in ms; delayBaseMs is then 0. */
  readonly delayBaseByHostMs?: Readonly<Record<string, number>>;
  /** Device priority (higher first), from the `priority` meta attribute. */
  readonly priority: number;
  /** Nodes where the scheduler has it active (or is starting it). */
  readonly runningOn: readonly string[];
  /** pcmk_reboot_timeout / stonith-timeout in ms. */
  readonly timeoutMs: number;
}

export interface TransitionPlan {
  /** In graph order (Pacemaker's synapse order); only actions that are in the graph. */
  readonly actions: readonly PlannedAction[];
  /** Transition Summary lines as crm_simulate prints them (without the leading "  * "). */
  readonly summary: readonly string[];
  readonly fenceDevices: readonly FenceDevice[];
}
