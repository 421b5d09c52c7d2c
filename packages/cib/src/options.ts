/**
 * The one table of Pacemaker 2.1.5 options: cluster options (crm_config), resource
 * meta-attributes, operation attributes and fencing-device parameters, with their type, default,
 * allowed values and help. Validation, the shell's completion and help, and the docs read it.
 *
 * Sources: cluster options and fencing parameters are Pacemaker 2.1.5's own metadata
 * (`pacemaker-schedulerd metadata`, `pacemaker-controld metadata`, `pacemaker-based metadata`,
 * `pacemaker-fenced metadata`), copied verbatim; resource and operation attributes follow
 * "Pacemaker Explained" 2.1 (tables "Meta-attributes of a Primitive Resource", clone and
 * promotable options, "Properties of an Operation").
 *
 * Value checks follow the validators Pacemaker attaches to each option (pcmk__valid_boolean,
 * pcmk__valid_number, pcmk__valid_interval_spec, pcmk__valid_percentage, ...). An invalid cluster
 * option makes Pacemaker fall back to the default; an invalid meta-attribute is mostly read as its
 * default too: either way the user did not get what they wrote, so validation reports it.
 */
import { pacemakerDurationSeconds, parseIsoDateTime, parseIsoDuration } from './iso8601.js';

/** How a value is checked. */
export type OptionType =
  /** true/false, yes/no, on/off, y/n, 1/0 (any case). */
  | 'boolean'
  /** An integer, or INFINITY/+INFINITY/-INFINITY (pcmk__valid_number). */
  | 'integer'
  /** An integer above 0, or INFINITY (pcmk__valid_positive_number). */
  | 'positive-integer'
  /** An integer of 0 or more. */
  | 'nonnegative-integer'
  /** A score: integer or [+-]INFINITY (values beyond +/-1000000 are capped). */
  | 'score'
  /** An interval or timeout: `10s`, `1min`, `500ms`, `1h`, a plain number (seconds) or ISO 8601 `PT10S`. */
  | 'duration'
  /** A whole number followed by `%` (pcmk__valid_percentage). */
  | 'percentage'
  /** One of `values` (case-insensitive, as Pacemaker compares them). */
  | 'enum'
  /** An ISO 8601 date/time. */
  | 'date'
  /** A TCP port, 1..65535. */
  | 'port'
  /** Free text. */
  | 'string'
  /** A dotted version number. */
  | 'version';

/** Where an option is written. */
export type OptionScope =
  /** nvpairs of a cluster_property_set in crm_config. */
  | 'cluster'
  /** meta_attributes of a resource (or rsc_defaults). */
  | 'resource'
  /** Attributes of an `<op>` (or its meta_attributes, or op_defaults). */
  | 'operation'
  /** instance_attributes of a fencing (class stonith) resource. */
  | 'fencing';

/** Which Pacemaker component reads the option (for cluster options and fencing parameters). */
export type OptionOwner = 'scheduler' | 'controller' | 'cib' | 'fencer';

/** Which resources a resource meta-attribute is for. */
export type OptionAppliesTo = 'primitive' | 'clone' | 'promotable' | 'guest-node' | 'any';

export interface OptionDef {
  readonly name: string;
  readonly scope: OptionScope;
  readonly owner?: OptionOwner;
  readonly type: OptionType;
  /** For 'enum': the allowed values, as Pacemaker lists them. */
  readonly values?: readonly string[];
  /** Values still accepted but deprecated, mapped to what to write instead. */
  readonly deprecatedValues?: Readonly<Record<string, string>>;
  /** The default as Pacemaker writes it; undefined when there is none or it depends on context (see `defaultNote`). */
  readonly defaultValue?: string;
  /** When the default depends on context, how. */
  readonly defaultNote?: string;
  readonly shortHelp: string;
  readonly longHelp: string;
  /** Older names Pacemaker still reads for this option. */
  readonly aliases?: readonly string[];
  /** Set when the option itself is deprecated: what to do instead. */
  readonly deprecated?: string;
  /** "Advanced use only" in Pacemaker's metadata. */
  readonly advanced?: boolean;
  /** For resource meta-attributes: which resources it applies to. */
  readonly appliesTo?: OptionAppliesTo;
  /** For 'duration': negative values are meaningful (stonith-watchdog-timeout). */
  readonly negativeAllowed?: boolean;
}

const ROLE_VALUES = ['Stopped', 'Started', 'Unpromoted', 'Promoted'] as const;
const LEGACY_ROLES = { Slave: 'Unpromoted', Master: 'Promoted' } as const;

// ---------------------------------------------------------------------------------------------
// Cluster options (crm_config): generated from Pacemaker 2.1.5's daemon metadata.
// ---------------------------------------------------------------------------------------------

const CLUSTER_OPTIONS: readonly OptionDef[] = [
  {
    name: "no-quorum-policy",
    scope: 'cluster',
    owner: 'scheduler',
    type: 'enum',
    values: ["stop","freeze","ignore","demote","suicide"],
    defaultValue: "stop",
    shortHelp: "What to do when the cluster does not have quorum",
    longHelp: "What to do when the cluster does not have quorum  Allowed values: stop, freeze, ignore, demote, suicide",
  },
  {
    name: "symmetric-cluster",
    scope: 'cluster',
    owner: 'scheduler',
    type: 'boolean',
    defaultValue: "true",
    shortHelp: "Whether resources can run on any node by default",
    longHelp: "Whether resources can run on any node by default",
  },
  {
    name: "maintenance-mode",
    scope: 'cluster',
    owner: 'scheduler',
    type: 'boolean',
    defaultValue: "false",
    shortHelp: "Whether the cluster should refrain from monitoring, starting, and stopping resources",
    longHelp: "Whether the cluster should refrain from monitoring, starting, and stopping resources",
  },
  {
    name: "start-failure-is-fatal",
    scope: 'cluster',
    owner: 'scheduler',
    type: 'boolean',
    defaultValue: "true",
    shortHelp: "Whether a start failure should prevent a resource from being recovered on the same node",
    longHelp: "When true, the cluster will immediately ban a resource from a node if it fails to start there. When false, the cluster will instead check the resource's fail count against its migration-threshold.",
  },
  {
    name: "enable-startup-probes",
    scope: 'cluster',
    owner: 'scheduler',
    type: 'boolean',
    defaultValue: "true",
    shortHelp: "Whether the cluster should check for active resources during start-up",
    longHelp: "Whether the cluster should check for active resources during start-up",
  },
  {
    name: "shutdown-lock",
    scope: 'cluster',
    owner: 'scheduler',
    type: 'boolean',
    defaultValue: "false",
    shortHelp: "Whether to lock resources to a cleanly shut down node",
    longHelp: "When true, resources active on a node when it is cleanly shut down are kept \"locked\" to that node (not allowed to run elsewhere) until they start again on that node after it rejoins (or for at most shutdown-lock-limit, if set). Stonith resources and Pacemaker Remote connections are never locked. Clone and bundle instances and the promoted role of promotable clones are currently never locked, though support could be added in a future release.",
  },
  {
    name: "shutdown-lock-limit",
    scope: 'cluster',
    owner: 'scheduler',
    type: 'duration',
    defaultValue: "0",
    shortHelp: "Do not lock resources to a cleanly shut down node longer than this",
    longHelp: "If shutdown-lock is true and this is set to a nonzero time duration, shutdown locks will expire after this much time has passed since the shutdown was initiated, even if the node has not rejoined.",
  },
  {
    name: "stonith-enabled",
    scope: 'cluster',
    owner: 'scheduler',
    type: 'boolean',
    defaultValue: "true",
    shortHelp: "*** Advanced Use Only *** Whether nodes may be fenced as part of recovery",
    longHelp: "If false, unresponsive nodes are immediately assumed to be harmless, and resources that were active on them may be recovered elsewhere. This can result in a \"split-brain\" situation, potentially leading to data loss and/or service unavailability.",
    advanced: true,
  },
  {
    name: "stonith-action",
    scope: 'cluster',
    owner: 'scheduler',
    type: 'enum',
    values: ["reboot","off","poweroff"],
    defaultValue: "reboot",
    shortHelp: "Action to send to fence device when a node needs to be fenced (\"poweroff\" is a deprecated alias for \"off\")",
    longHelp: "Action to send to fence device when a node needs to be fenced (\"poweroff\" is a deprecated alias for \"off\")  Allowed values: reboot, off, poweroff",
    deprecatedValues: { poweroff: 'off' },
  },
  {
    name: "stonith-timeout",
    scope: 'cluster',
    owner: 'scheduler',
    type: 'duration',
    defaultValue: "60s",
    shortHelp: "*** Advanced Use Only *** Unused by Pacemaker",
    longHelp: "This value is not used by Pacemaker, but is kept for backward compatibility, and certain legacy fence agents might use it.",
    advanced: true,
  },
  {
    name: "have-watchdog",
    scope: 'cluster',
    owner: 'scheduler',
    type: 'boolean',
    defaultValue: "false",
    shortHelp: "Whether watchdog integration is enabled",
    longHelp: "This is set automatically by the cluster according to whether SBD is detected to be in use. User-configured values are ignored. The value `true` is meaningful if diskless SBD is used and `stonith-watchdog-timeout` is nonzero. In that case, if fencing is required, watchdog-based self-fencing will be performed via SBD without requiring a fencing resource explicitly configured.",
  },
  {
    name: "concurrent-fencing",
    scope: 'cluster',
    owner: 'scheduler',
    type: 'boolean',
    defaultValue: "false",
    shortHelp: "Allow performing fencing operations in parallel",
    longHelp: "Allow performing fencing operations in parallel",
  },
  {
    name: "startup-fencing",
    scope: 'cluster',
    owner: 'scheduler',
    type: 'boolean',
    defaultValue: "true",
    shortHelp: "*** Advanced Use Only *** Whether to fence unseen nodes at start-up",
    longHelp: "Setting this to false may lead to a \"split-brain\" situation,potentially leading to data loss and/or service unavailability.",
    advanced: true,
  },
  {
    name: "priority-fencing-delay",
    scope: 'cluster',
    owner: 'scheduler',
    type: 'duration',
    defaultValue: "0",
    shortHelp: "Apply fencing delay targeting the lost nodes with the highest total resource priority",
    longHelp: "Apply specified delay for the fencings that are targeting the lost nodes with the highest total resource priority in case we don't have the majority of the nodes in our cluster partition, so that the more significant nodes potentially win any fencing match, which is especially meaningful under split-brain of 2-node cluster. A promoted resource instance takes the base priority + 1 on calculation if the base priority is not 0. Any static/random delays that are introduced by `pcmk_delay_base/max` configured for the corresponding fencing resources will be added to this delay. This delay should be significantly greater than, safely twice, the maximum `pcmk_delay_base/max`. By default, priority fencing delay is disabled.",
  },
  {
    name: "cluster-delay",
    scope: 'cluster',
    owner: 'scheduler',
    type: 'duration',
    defaultValue: "60s",
    shortHelp: "Maximum time for node-to-node communication",
    longHelp: "The node elected Designated Controller (DC) will consider an action failed if it does not get a response from the node executing the action within this time (after considering the action's own timeout). The \"correct\" value will depend on the speed and load of your network and cluster nodes.",
    aliases: ["transition_idle_timeout"],
  },
  {
    name: "batch-limit",
    scope: 'cluster',
    owner: 'scheduler',
    type: 'integer',
    defaultValue: "0",
    shortHelp: "Maximum number of jobs that the cluster may execute in parallel across all nodes",
    longHelp: "The \"correct\" value will depend on the speed and load of your network and cluster nodes. If set to 0, the cluster will impose a dynamically calculated limit when any node has a high load.",
  },
  {
    name: "migration-limit",
    scope: 'cluster',
    owner: 'scheduler',
    type: 'integer',
    defaultValue: "-1",
    shortHelp: "The number of live migration actions that the cluster is allowed to execute in parallel on a node (-1 means no limit)",
    longHelp: "The number of live migration actions that the cluster is allowed to execute in parallel on a node (-1 means no limit)",
  },
  {
    name: "stop-all-resources",
    scope: 'cluster',
    owner: 'scheduler',
    type: 'boolean',
    defaultValue: "false",
    shortHelp: "Whether the cluster should stop all active resources",
    longHelp: "Whether the cluster should stop all active resources",
  },
  {
    name: "stop-orphan-resources",
    scope: 'cluster',
    owner: 'scheduler',
    type: 'boolean',
    defaultValue: "true",
    shortHelp: "Whether to stop resources that were removed from the configuration",
    longHelp: "Whether to stop resources that were removed from the configuration",
  },
  {
    name: "stop-orphan-actions",
    scope: 'cluster',
    owner: 'scheduler',
    type: 'boolean',
    defaultValue: "true",
    shortHelp: "Whether to cancel recurring actions removed from the configuration",
    longHelp: "Whether to cancel recurring actions removed from the configuration",
  },
  {
    name: "remove-after-stop",
    scope: 'cluster',
    owner: 'scheduler',
    type: 'boolean',
    defaultValue: "false",
    shortHelp: "*** Deprecated *** Whether to remove stopped resources from the executor",
    longHelp: "Values other than default are poorly tested and potentially dangerous. This option will be removed in a future release.",
  },
  {
    name: "pe-error-series-max",
    scope: 'cluster',
    owner: 'scheduler',
    type: 'integer',
    defaultValue: "-1",
    shortHelp: "The number of scheduler inputs resulting in errors to save",
    longHelp: "Zero to disable, -1 to store unlimited.",
  },
  {
    name: "pe-warn-series-max",
    scope: 'cluster',
    owner: 'scheduler',
    type: 'integer',
    defaultValue: "5000",
    shortHelp: "The number of scheduler inputs resulting in warnings to save",
    longHelp: "Zero to disable, -1 to store unlimited.",
  },
  {
    name: "pe-input-series-max",
    scope: 'cluster',
    owner: 'scheduler',
    type: 'integer',
    defaultValue: "4000",
    shortHelp: "The number of scheduler inputs without errors or warnings to save",
    longHelp: "Zero to disable, -1 to store unlimited.",
  },
  {
    name: "node-health-strategy",
    scope: 'cluster',
    owner: 'scheduler',
    type: 'enum',
    values: ["none","migrate-on-red","only-green","progressive","custom"],
    defaultValue: "none",
    shortHelp: "How cluster should react to node health attributes",
    longHelp: "Requires external entities to create node attributes (named with the prefix \"#health\") with values \"red\", \"yellow\", or \"green\".  Allowed values: none, migrate-on-red, only-green, progressive, custom",
  },
  {
    name: "node-health-base",
    scope: 'cluster',
    owner: 'scheduler',
    type: 'integer',
    defaultValue: "0",
    shortHelp: "Base health score assigned to a node",
    longHelp: "Only used when node-health-strategy is set to progressive.",
  },
  {
    name: "node-health-green",
    scope: 'cluster',
    owner: 'scheduler',
    type: 'integer',
    defaultValue: "0",
    shortHelp: "The score to use for a node health attribute whose value is \"green\"",
    longHelp: "Only used when node-health-strategy is set to custom or progressive.",
  },
  {
    name: "node-health-yellow",
    scope: 'cluster',
    owner: 'scheduler',
    type: 'integer',
    defaultValue: "0",
    shortHelp: "The score to use for a node health attribute whose value is \"yellow\"",
    longHelp: "Only used when node-health-strategy is set to custom or progressive.",
  },
  {
    name: "node-health-red",
    scope: 'cluster',
    owner: 'scheduler',
    type: 'integer',
    defaultValue: "-INFINITY",
    shortHelp: "The score to use for a node health attribute whose value is \"red\"",
    longHelp: "Only used when node-health-strategy is set to custom or progressive.",
  },
  {
    name: "placement-strategy",
    scope: 'cluster',
    owner: 'scheduler',
    type: 'enum',
    values: ["default","utilization","minimal","balanced"],
    defaultValue: "default",
    shortHelp: "How the cluster should allocate resources to nodes",
    longHelp: "How the cluster should allocate resources to nodes  Allowed values: default, utilization, minimal, balanced",
  },
  {
    name: "dc-version",
    scope: 'cluster',
    owner: 'controller',
    type: 'string',
    defaultValue: "none",
    shortHelp: "Pacemaker version on cluster node elected Designated Controller (DC)",
    longHelp: "Includes a hash which identifies the exact changeset the code was built from. Used for diagnostic purposes.",
  },
  {
    name: "cluster-infrastructure",
    scope: 'cluster',
    owner: 'controller',
    type: 'string',
    defaultValue: "corosync",
    shortHelp: "The messaging stack on which Pacemaker is currently running",
    longHelp: "Used for informational and diagnostic purposes.",
  },
  {
    name: "cluster-name",
    scope: 'cluster',
    owner: 'controller',
    type: 'string',
    shortHelp: "An arbitrary name for the cluster",
    longHelp: "This optional value is mostly for users' convenience as desired in administration, but may also be used in Pacemaker configuration rules via the #cluster-name node attribute, and by higher-level tools and resource agents.",
  },
  {
    name: "dc-deadtime",
    scope: 'cluster',
    owner: 'controller',
    type: 'duration',
    defaultValue: "20s",
    shortHelp: "How long to wait for a response from other nodes during start-up",
    longHelp: "The optimal value will depend on the speed and load of your network and the type of switches used.",
    aliases: ["dc_deadtime"],
  },
  {
    name: "cluster-recheck-interval",
    scope: 'cluster',
    owner: 'controller',
    type: 'duration',
    defaultValue: "15min",
    shortHelp: "Polling interval to recheck cluster state and evaluate rules with date specifications",
    longHelp: "Pacemaker is primarily event-driven, and looks ahead to know when to recheck cluster state for failure timeouts and most time-based rules. However, it will also recheck the cluster after this amount of inactivity, to evaluate rules with date specifications and serve as a fail-safe for certain types of scheduler bugs.  Allowed values: Zero disables polling, while positive values are an interval in seconds(unless other units are specified, for example \"5min\")",
    aliases: ["cluster_recheck_interval"],
  },
  {
    name: "load-threshold",
    scope: 'cluster',
    owner: 'controller',
    type: 'percentage',
    defaultValue: "80%",
    shortHelp: "Maximum amount of system load that should be used by cluster nodes",
    longHelp: "The cluster will slow down its recovery process when the amount of system resources used (currently CPU) approaches this limit",
  },
  {
    name: "node-action-limit",
    scope: 'cluster',
    owner: 'controller',
    type: 'integer',
    defaultValue: "0",
    shortHelp: "Maximum number of jobs that can be scheduled per node (defaults to 2x cores)",
    longHelp: "Maximum number of jobs that can be scheduled per node (defaults to 2x cores)",
  },
  {
    name: "fence-reaction",
    scope: 'cluster',
    owner: 'controller',
    type: 'enum',
    values: ["stop","panic"],
    defaultValue: "stop",
    shortHelp: "How a cluster node should react if notified of its own fencing",
    longHelp: "A cluster node may receive notification of its own fencing if fencing is misconfigured, or if fabric fencing is in use that doesn't cut cluster communication. Allowed values are \"stop\" to attempt to immediately stop Pacemaker and stay stopped, or \"panic\" to attempt to immediately reboot the local node, falling back to stop on failure.",
  },
  {
    name: "election-timeout",
    scope: 'cluster',
    owner: 'controller',
    type: 'duration',
    defaultValue: "2min",
    shortHelp: "*** Advanced Use Only ***",
    longHelp: "Declare an election failed if it is not decided within this much time. If you need to adjust this value, it probably indicates the presence of a bug.",
    aliases: ["election_timeout"],
    advanced: true,
  },
  {
    name: "shutdown-escalation",
    scope: 'cluster',
    owner: 'controller',
    type: 'duration',
    defaultValue: "20min",
    shortHelp: "*** Advanced Use Only ***",
    longHelp: "Exit immediately if shutdown does not complete within this much time. If you need to adjust this value, it probably indicates the presence of a bug.",
    aliases: ["shutdown_escalation"],
    advanced: true,
  },
  {
    name: "join-integration-timeout",
    scope: 'cluster',
    owner: 'controller',
    type: 'duration',
    defaultValue: "3min",
    shortHelp: "*** Advanced Use Only ***",
    longHelp: "If you need to adjust this value, it probably indicates the presence of a bug.",
    aliases: ["crmd-integration-timeout"],
    advanced: true,
  },
  {
    name: "join-finalization-timeout",
    scope: 'cluster',
    owner: 'controller',
    type: 'duration',
    defaultValue: "30min",
    shortHelp: "*** Advanced Use Only ***",
    longHelp: "If you need to adjust this value, it probably indicates the presence of a bug.",
    aliases: ["crmd-finalization-timeout"],
    advanced: true,
  },
  {
    name: "transition-delay",
    scope: 'cluster',
    owner: 'controller',
    type: 'duration',
    defaultValue: "0s",
    shortHelp: "*** Advanced Use Only *** Enabling this option will slow down cluster recovery under all conditions",
    longHelp: "Delay cluster recovery for this much time to allow for additional events to occur. Useful if your configuration is sensitive to the order in which ping updates arrive.",
    aliases: ["crmd-transition-delay"],
    advanced: true,
  },
  {
    name: "stonith-watchdog-timeout",
    negativeAllowed: true,
    scope: 'cluster',
    owner: 'controller',
    type: 'duration',
    defaultValue: "0",
    shortHelp: "How long before nodes can be assumed to be safely down when watchdog-based self-fencing via SBD is in use",
    longHelp: "If this is set to a positive value, lost nodes are assumed to self-fence using watchdog-based SBD within this much time. This does not require a fencing resource to be explicitly configured, though a fence_watchdog resource can be configured, to limit use to specific nodes. If this is set to 0 (the default), the cluster will never assume watchdog-based self-fencing. If this is set to a negative value, the cluster will use twice the local value of the `SBD_WATCHDOG_TIMEOUT` environment variable if that is positive, or otherwise treat this as 0. WARNING: When used, this timeout must be larger than `SBD_WATCHDOG_TIMEOUT` on all nodes that use watchdog-based SBD, and Pacemaker will refuse to start on any of those nodes where this is not true for the local value or SBD is not active. When this is set to a negative value, `SBD_WATCHDOG_TIMEOUT` must be set to the same value on all nodes that use SBD, otherwise data corruption or loss could occur.",
  },
  {
    name: "stonith-max-attempts",
    scope: 'cluster',
    owner: 'controller',
    type: 'positive-integer',
    defaultValue: "10",
    shortHelp: "How many times fencing can fail before it will no longer be immediately re-attempted on a target",
    longHelp: "How many times fencing can fail before it will no longer be immediately re-attempted on a target",
  },
  {
    name: "enable-acl",
    scope: 'cluster',
    owner: 'cib',
    type: 'boolean',
    defaultValue: "false",
    shortHelp: "Enable Access Control Lists (ACLs) for the CIB",
    longHelp: "Enable Access Control Lists (ACLs) for the CIB",
  },
  {
    name: "cluster-ipc-limit",
    scope: 'cluster',
    owner: 'cib',
    type: 'positive-integer',
    defaultValue: "500",
    shortHelp: "Maximum IPC message backlog before disconnecting a cluster daemon",
    longHelp: "Raise this if log has \"Evicting client\" messages for cluster daemon PIDs (a good value is the number of resources in the cluster multiplied by the number of nodes).",
  },
];

// ---------------------------------------------------------------------------------------------
// Resource meta-attributes (Pacemaker Explained 2.1, "Resource Meta-Attributes" and clone options)
// ---------------------------------------------------------------------------------------------

const RESOURCE_META: readonly OptionDef[] = [
  {
    name: 'priority',
    scope: 'resource',
    type: 'score',
    defaultValue: '0',
    appliesTo: 'any',
    shortHelp: 'Which resources to keep active when not all can be',
    longHelp: 'If not all resources can be active, the cluster will stop lower-priority resources in order to keep higher-priority ones active.',
  },
  {
    name: 'critical',
    scope: 'resource',
    type: 'boolean',
    defaultValue: 'true',
    appliesTo: 'any',
    shortHelp: 'Default influence of this resource in colocation constraints',
    longHelp:
      'Use this value as the default for influence in all colocation constraints involving this resource, as well as in the implicit colocation constraints created if this resource is in a group.',
  },
  {
    name: 'target-role',
    scope: 'resource',
    type: 'enum',
    values: ROLE_VALUES,
    deprecatedValues: LEGACY_ROLES,
    defaultValue: 'Started',
    appliesTo: 'any',
    shortHelp: 'What state the cluster should attempt to keep the resource in',
    longHelp:
      'What state should the cluster attempt to keep this resource in? Allowed values: Stopped (force the resource to be stopped), Started (allow the resource to be started, and promoted if promotable), Unpromoted (allow the resource to be started, but only in the unpromoted role if promotable), Promoted (equivalent to Started).',
  },
  {
    name: 'is-managed',
    scope: 'resource',
    type: 'boolean',
    defaultValue: 'true',
    appliesTo: 'any',
    shortHelp: 'Whether the cluster may start and stop the resource',
    longHelp: 'If false, the cluster will not start or stop the resource on any node. Recurring actions for the resource are unaffected.',
  },
  {
    name: 'maintenance',
    scope: 'resource',
    type: 'boolean',
    defaultValue: 'false',
    appliesTo: 'any',
    shortHelp: 'Put the resource in maintenance mode',
    longHelp:
      'If true, the cluster will not start or stop the resource on any node, and will pause any recurring monitors (except those specifying role as Stopped). If true, the maintenance-mode cluster option or maintenance node attribute override this.',
  },
  {
    name: 'resource-stickiness',
    scope: 'resource',
    type: 'score',
    defaultNote: '1 for individual clone instances, 0 for all other resources',
    appliesTo: 'any',
    shortHelp: 'How much the resource prefers to stay where it is',
    longHelp: 'A score that will be added to the current node when a resource is already active. This allows running resources to stay where they are, even if they would be placed elsewhere if they were being started from a stopped state.',
  },
  {
    name: 'requires',
    scope: 'resource',
    type: 'enum',
    values: ['nothing', 'quorum', 'fencing', 'unfencing'],
    defaultNote: 'quorum for resources with a class of stonith, otherwise unfencing if unfencing is active in the cluster, otherwise fencing if stonith-enabled is true, otherwise quorum',
    appliesTo: 'primitive',
    shortHelp: 'Conditions under which the resource can be started',
    longHelp:
      'Conditions under which the resource can be started. Allowed values: nothing (can always be started), quorum (the cluster can only start this resource if a majority of the configured nodes are active), fencing (only if a majority of the configured nodes are active and any failed or unknown nodes have been fenced), unfencing (only on nodes that have been unfenced, in addition to the fencing conditions).',
  },
  {
    name: 'migration-threshold',
    scope: 'resource',
    type: 'score',
    defaultValue: 'INFINITY',
    appliesTo: 'any',
    shortHelp: 'Failures on a node before the resource is banned from it',
    longHelp:
      'How many failures may occur for this resource on a node, before this node is marked ineligible to host this resource. A value of 0 indicates that this feature is disabled (the node will never be marked ineligible); by contrast, the cluster treats INFINITY (the default) as a very large but finite number.',
  },
  {
    name: 'failure-timeout',
    scope: 'resource',
    type: 'duration',
    defaultValue: '0',
    appliesTo: 'any',
    shortHelp: 'How long before failures expire',
    longHelp:
      'How many seconds to wait before acting as if the failure had not occurred, and potentially allowing the resource back to the node on which it failed. A value of 0 indicates that this feature is disabled.',
  },
  {
    name: 'multiple-active',
    scope: 'resource',
    type: 'enum',
    values: ['block', 'stop_only', 'stop_start', 'stop_unexpected'],
    defaultValue: 'stop_start',
    appliesTo: 'any',
    shortHelp: 'What to do if the resource is found active on more than one node',
    longHelp:
      'What should the cluster do if it ever finds the resource active on more than one node? Allowed values: block (mark the resource as unmanaged), stop_only (stop all active instances and leave them that way), stop_start (stop all active instances and start the resource in one location only), stop_unexpected (stop all active instances except where the resource should be active; only for multiply active primitives in groups or clones).',
  },
  {
    name: 'allow-migrate',
    scope: 'resource',
    type: 'boolean',
    defaultNote: 'true for ocf:pacemaker:remote resources, false otherwise',
    appliesTo: 'primitive',
    shortHelp: 'Whether to live-migrate the resource instead of stopping and starting it',
    longHelp: 'Whether the cluster should try to "live migrate" this resource when it needs to be moved (the agent must support migrate_to and migrate_from).',
  },
  {
    name: 'allow-unhealthy-nodes',
    scope: 'resource',
    type: 'boolean',
    defaultValue: 'false',
    appliesTo: 'any',
    shortHelp: 'Whether the resource may run on unhealthy nodes',
    longHelp: 'Whether the resource should be able to run on a node even if the node\'s health score would otherwise prevent it.',
  },
  {
    name: 'container-attribute-target',
    scope: 'resource',
    type: 'enum',
    values: ['host'],
    appliesTo: 'any',
    shortHelp: 'Where node attributes of bundle and guest resources are read',
    longHelp:
      'Specific to bundle resources. If set to host, then node attributes for the resource will be read from the host node rather than the bundle node.',
  },
  {
    name: 'remote-node',
    scope: 'resource',
    type: 'string',
    appliesTo: 'guest-node',
    shortHelp: 'Make the resource a guest node with this name',
    longHelp:
      'The name of the Pacemaker Remote guest node this resource is associated with, if any. If specified, this both enables the resource as a guest node and defines the unique name used to identify the guest node. This value must not overlap with any resource or node IDs.',
  },
  {
    name: 'remote-port',
    scope: 'resource',
    type: 'port',
    defaultValue: '3121',
    appliesTo: 'guest-node',
    shortHelp: 'Port for the guest connection',
    longHelp: 'If remote-node is specified, the port on the guest used for its Pacemaker Remote connection.',
  },
  {
    name: 'remote-addr',
    scope: 'resource',
    type: 'string',
    defaultNote: 'the value of remote-node',
    appliesTo: 'guest-node',
    shortHelp: 'Address of the guest',
    longHelp: 'If remote-node is specified, the IP address or hostname used to connect to the guest via Pacemaker Remote.',
  },
  {
    name: 'remote-connect-timeout',
    scope: 'resource',
    type: 'duration',
    defaultValue: '60s',
    appliesTo: 'guest-node',
    shortHelp: 'How long to wait for the guest connection',
    longHelp: 'If remote-node is specified, how long before a pending guest connection will time out.',
  },
  {
    name: 'remote-allow-migrate',
    scope: 'resource',
    type: 'boolean',
    defaultValue: 'true',
    appliesTo: 'guest-node',
    shortHelp: 'Whether the guest connection may migrate',
    longHelp: 'If remote-node is specified, this acts as the allow-migrate meta-attribute for the implicit remote connection resource.',
  },
  {
    name: 'clone-max',
    scope: 'resource',
    type: 'nonnegative-integer',
    defaultNote: 'the number of nodes in the cluster',
    appliesTo: 'clone',
    shortHelp: 'How many copies of the resource to start',
    longHelp: 'The maximum number of clone instances that can be started across the entire cluster.',
  },
  {
    name: 'clone-node-max',
    scope: 'resource',
    type: 'nonnegative-integer',
    defaultValue: '1',
    appliesTo: 'clone',
    shortHelp: 'How many copies may run on one node',
    longHelp: 'The maximum number of clone instances that can be started on a single node.',
  },
  {
    name: 'clone-min',
    scope: 'resource',
    type: 'nonnegative-integer',
    defaultValue: '0',
    appliesTo: 'clone',
    shortHelp: 'How many copies must run before dependents may start',
    longHelp:
      'The number of instances that must be running before any dependent resources can run. This is particularly useful for services behind a virtual IP address that need only a minimum of instances to serve users.',
  },
  {
    name: 'notify',
    scope: 'resource',
    type: 'boolean',
    defaultValue: 'false',
    appliesTo: 'clone',
    shortHelp: 'Whether to notify other instances of actions',
    longHelp: 'When a clone instance is started or stopped, send a notification to all other instances beforehand and afterwards (the agent must support the notify action).',
  },
  {
    name: 'globally-unique',
    scope: 'resource',
    type: 'boolean',
    defaultValue: 'false',
    appliesTo: 'clone',
    shortHelp: 'Whether each clone instance does a different job',
    longHelp:
      'If true, each clone instance performs a distinct function, and more than one instance may run on a node (clone-node-max greater than 1). If false, every instance is interchangeable.',
  },
  {
    name: 'ordered',
    scope: 'resource',
    type: 'boolean',
    defaultValue: 'false',
    appliesTo: 'clone',
    shortHelp: 'Whether instances start one after another',
    longHelp: 'If true, clone instances must be started sequentially instead of in parallel.',
  },
  {
    name: 'interleave',
    scope: 'resource',
    type: 'boolean',
    defaultValue: 'false',
    appliesTo: 'clone',
    shortHelp: 'Whether ordering with other clones is per instance',
    longHelp:
      'When this clone is ordered relative to another clone, if true, instances of this clone only need to wait for the instance of the other clone on the same node, rather than all instances of the other clone.',
  },
  {
    name: 'promotable',
    scope: 'resource',
    type: 'boolean',
    defaultValue: 'false',
    appliesTo: 'clone',
    shortHelp: 'Whether instances can be promoted',
    longHelp: 'If true, clone instances can perform a special role that Pacemaker will manage via the resource agent\'s promote and demote actions.',
  },
  {
    name: 'promoted-max',
    scope: 'resource',
    type: 'nonnegative-integer',
    defaultValue: '1',
    appliesTo: 'promotable',
    aliases: ['master-max'],
    shortHelp: 'How many instances may be promoted',
    longHelp: 'If promotable is true, the number of instances that can be promoted at one time across the entire cluster.',
  },
  {
    name: 'promoted-node-max',
    scope: 'resource',
    type: 'nonnegative-integer',
    defaultValue: '1',
    appliesTo: 'promotable',
    aliases: ['master-node-max'],
    shortHelp: 'How many instances may be promoted on one node',
    longHelp: 'If promotable is true and globally-unique is false, the number of clone instances can be promoted at one time on a single node.',
  },
  {
    name: 'master-max',
    scope: 'resource',
    type: 'nonnegative-integer',
    defaultValue: '1',
    appliesTo: 'promotable',
    deprecated: 'use promoted-max',
    shortHelp: 'Deprecated name of promoted-max',
    longHelp: 'Deprecated name of promoted-max, still read by Pacemaker 2.1.',
  },
  {
    name: 'master-node-max',
    scope: 'resource',
    type: 'nonnegative-integer',
    defaultValue: '1',
    appliesTo: 'promotable',
    deprecated: 'use promoted-node-max',
    shortHelp: 'Deprecated name of promoted-node-max',
    longHelp: 'Deprecated name of promoted-node-max, still read by Pacemaker 2.1.',
  },
  {
    name: 'restart-type',
    scope: 'resource',
    type: 'enum',
    values: ['ignore', 'restart'],
    defaultValue: 'ignore',
    appliesTo: 'any',
    deprecated: 'use ordering constraints',
    shortHelp: 'Deprecated',
    longHelp: 'Deprecated: whether to restart the resource when a resource it depends on is restarted.',
  },
];

// ---------------------------------------------------------------------------------------------
// Operation attributes (Pacemaker Explained 2.1, "Properties of an Operation")
// ---------------------------------------------------------------------------------------------

const OPERATION_OPTIONS: readonly OptionDef[] = [
  {
    name: 'name',
    scope: 'operation',
    type: 'string',
    shortHelp: 'The action to perform',
    longHelp: 'The action to perform. This can be any action supported by the agent; common values include monitor, start, stop, promote, demote, notify, migrate_to, migrate_from, reload.',
  },
  {
    name: 'interval',
    scope: 'operation',
    type: 'duration',
    defaultValue: '0',
    shortHelp: 'How often to perform the operation',
    longHelp: 'How frequently (in seconds) to perform the operation. A value of 0 means "when needed". A positive value defines a recurring action, which is typically used with monitor.',
  },
  {
    name: 'timeout',
    scope: 'operation',
    type: 'duration',
    defaultValue: '20s',
    shortHelp: 'How long to wait before declaring the action failed',
    longHelp: 'How long to wait before declaring the action has failed. (Pacemaker 2.1 reads timeouts with crm_get_msec: ISO 8601 durations are not accepted here.)',
  },
  {
    name: 'on-fail',
    scope: 'operation',
    type: 'enum',
    values: ['ignore', 'block', 'stop', 'restart', 'fence', 'standby', 'demote'],
    defaultNote: 'restart; fence for stop actions when fencing is enabled (block when it is not); stop for demote... as Pacemaker Explained describes',
    shortHelp: 'What to do if the action fails',
    longHelp:
      'The action to take if this action ever fails. Allowed values: ignore (pretend the resource did not fail), block (do not perform any further operations on the resource), stop (stop the resource and do not start it elsewhere), demote (demote the resource, without a full restart; only for promote actions and recurring monitors with role Promoted), restart (stop the resource and start it again, possibly on a different node), fence (STONITH the node on which the resource failed), standby (move all resources away from the node on which the resource failed).',
  },
  {
    name: 'enabled',
    scope: 'operation',
    type: 'boolean',
    defaultValue: 'true',
    shortHelp: 'Whether the operation is used',
    longHelp: 'If false, ignore this operation definition. This is typically used to pause a particular recurring monitor operation.',
  },
  {
    name: 'record-pending',
    scope: 'operation',
    type: 'boolean',
    defaultValue: 'true',
    shortHelp: 'Whether to record pending operations in the status',
    longHelp: 'If true, the intention to perform the operation is recorded so that GUIs and CLI tools can indicate that an operation is in progress.',
  },
  {
    name: 'role',
    scope: 'operation',
    type: 'enum',
    values: ROLE_VALUES,
    deprecatedValues: LEGACY_ROLES,
    shortHelp: 'Run the operation only in this role',
    longHelp: 'Run the operation only on node(s) that the cluster thinks should be in the specified role. This only makes sense for recurring monitor operations.',
  },
  {
    name: 'start-delay',
    scope: 'operation',
    type: 'duration',
    defaultValue: '0',
    deprecated: 'rarely needed; prefer fixing the agent',
    shortHelp: 'Delay before the operation is first run',
    longHelp: 'How long to wait before the first run of the operation.',
  },
  {
    name: 'interval-origin',
    scope: 'operation',
    type: 'date',
    deprecated: 'use a date_spec rule instead',
    shortHelp: 'Start recurring operations relative to this time',
    longHelp: 'If the operation is recurring, schedule it relative to this ISO 8601 date/time instead of when the resource started.',
  },
  {
    name: 'OCF_CHECK_LEVEL',
    scope: 'operation',
    type: 'nonnegative-integer',
    defaultValue: '0',
    shortHelp: 'Depth of monitoring (OCF agents)',
    longHelp: 'Set as an instance attribute of a monitor operation: how thorough the OCF agent\'s monitor should be (0, 10, 20... agent-specific).',
  },
  {
    name: 'requires',
    scope: 'operation',
    type: 'enum',
    values: ['nothing', 'quorum', 'fencing', 'unfencing'],
    deprecated: 'set requires as a resource meta-attribute',
    shortHelp: 'Deprecated per-operation requires',
    longHelp: 'Deprecated: conditions under which the operation can run; set it on the resource instead.',
  },
  {
    name: 'description',
    scope: 'operation',
    type: 'string',
    shortHelp: 'A description of the operation',
    longHelp: 'Free text describing the operation; Pacemaker ignores it.',
  },
];

// ---------------------------------------------------------------------------------------------
// Fencing device parameters: generated from `pacemaker-fenced metadata` (2.1.5).
// ---------------------------------------------------------------------------------------------

const FENCING_OPTIONS: readonly OptionDef[] = [
  {
    name: "pcmk_host_argument",
    scope: 'fencing',
    owner: 'fencer',
    type: 'string',
    defaultValue: "port",
    shortHelp: "Advanced use only: An alternate parameter to supply instead of 'port'",
    longHelp: "some devices do not support the standard 'port' parameter or may provide additional ones. Use this to specify an alternate, device-specific, parameter that should indicate the machine to be fenced. A value of none can be used to tell the cluster not to supply any additional parameters.",
    advanced: true,
  },
  {
    name: "pcmk_host_map",
    scope: 'fencing',
    owner: 'fencer',
    type: 'string',
    defaultValue: "",
    shortHelp: "A mapping of host names to ports numbers for devices that do not support host names.",
    longHelp: "Eg. node1:1;node2:2,3 would tell the cluster to use port 1 for node1 and ports 2 and 3 for node2",
  },
  {
    name: "pcmk_host_list",
    scope: 'fencing',
    owner: 'fencer',
    type: 'string',
    defaultValue: "",
    shortHelp: "Eg. node1,node2,node3",
    longHelp: "A list of machines controlled by this device (Optional unless pcmk_host_list=static-list)",
  },
  {
    name: "pcmk_host_check",
    scope: 'fencing',
    owner: 'fencer',
    type: 'enum',
    values: ["dynamic-list","static-list","status","none"],
    defaultValue: "dynamic-list",
    shortHelp: "How to determine which machines are controlled by the device.",
    longHelp: "Allowed values: dynamic-list (query the device via the 'list' command), static-list (check the pcmk_host_list attribute), status (query the device via the 'status' command), none (assume every device can fence every machine)",
  },
  {
    name: "pcmk_delay_max",
    scope: 'fencing',
    owner: 'fencer',
    type: 'duration',
    defaultValue: "0s",
    shortHelp: "Enable a base delay for fencing actions and specify base delay value.",
    longHelp: "Enable a delay of no more than the time specified before executing fencing actions. Pacemaker derives the overall delay by taking the value of pcmk_delay_base and adding a random delay value such that the sum is kept below this maximum.",
  },
  {
    name: "pcmk_delay_base",
    scope: 'fencing',
    owner: 'fencer',
    type: 'string',
    defaultValue: "0s",
    shortHelp: "Enable a base delay for fencing actions and specify base delay value.",
    longHelp: "This enables a static delay for fencing actions, which can help avoid \"death matches\" where two nodes try to fence each other at the same time. If pcmk_delay_max  is also used, a random delay will be added such that the total delay is kept below that value.This can be set to a single time value to apply to any node targeted by this device (useful if a separate device is configured for each target), or to a node map (for example, \"node1:1s;node2:5\") to set a different value per target.",
  },
  {
    name: "pcmk_action_limit",
    scope: 'fencing',
    owner: 'fencer',
    type: 'integer',
    defaultValue: "1",
    shortHelp: "The maximum number of actions can be performed in parallel on this device",
    longHelp: "Cluster property concurrent-fencing=true needs to be configured first.Then use this to specify the maximum number of actions can be performed in parallel on this device. -1 is unlimited.",
  },
  {
    name: "pcmk_reboot_action",
    scope: 'fencing',
    owner: 'fencer',
    type: 'string',
    defaultValue: "reboot",
    shortHelp: "Advanced use only: An alternate command to run instead of 'reboot'",
    longHelp: "Some devices do not support the standard commands or may provide additional ones. Use this to specify an alternate, device-specific, command that implements the 'reboot' action.",
    advanced: true,
  },
  {
    name: "pcmk_reboot_timeout",
    scope: 'fencing',
    owner: 'fencer',
    type: 'duration',
    defaultValue: "60s",
    shortHelp: "Advanced use only: Specify an alternate timeout to use for reboot actions instead of stonith-timeout",
    longHelp: "Some devices need much more/less time to complete than normal.Use this to specify an alternate, device-specific, timeout for 'reboot' actions.",
    advanced: true,
  },
  {
    name: "pcmk_reboot_retries",
    scope: 'fencing',
    owner: 'fencer',
    type: 'integer',
    defaultValue: "2",
    shortHelp: "Advanced use only: The maximum number of times to retry the 'reboot' command within the timeout period",
    longHelp: "Some devices do not support multiple connections. Operations may 'fail' if the device is busy with another task so Pacemaker will automatically retry the operation,      if there is time remaining. Use this option to alter the number of times Pacemaker retries 'reboot' actions before giving up.",
    advanced: true,
  },
  {
    name: "pcmk_off_action",
    scope: 'fencing',
    owner: 'fencer',
    type: 'string',
    defaultValue: "off",
    shortHelp: "Advanced use only: An alternate command to run instead of 'off'",
    longHelp: "Some devices do not support the standard commands or may provide additional ones.Use this to specify an alternate, device-specific, command that implements the 'off' action.",
    advanced: true,
  },
  {
    name: "pcmk_off_timeout",
    scope: 'fencing',
    owner: 'fencer',
    type: 'duration',
    defaultValue: "60s",
    shortHelp: "Advanced use only: Specify an alternate timeout to use for off actions instead of stonith-timeout",
    longHelp: "Some devices need much more/less time to complete than normal.Use this to specify an alternate, device-specific, timeout for 'off' actions.",
    advanced: true,
  },
  {
    name: "pcmk_off_retries",
    scope: 'fencing',
    owner: 'fencer',
    type: 'integer',
    defaultValue: "2",
    shortHelp: "Advanced use only: The maximum number of times to retry the 'off' command within the timeout period",
    longHelp: "Some devices do not support multiple connections. Operations may 'fail' if the device is busy with another task so Pacemaker will automatically retry the operation,      if there is time remaining. Use this option to alter the number of times Pacemaker retries 'off' actions before giving up.",
    advanced: true,
  },
  {
    name: "pcmk_on_action",
    scope: 'fencing',
    owner: 'fencer',
    type: 'string',
    defaultValue: "on",
    shortHelp: "Advanced use only: An alternate command to run instead of 'on'",
    longHelp: "Some devices do not support the standard commands or may provide additional ones.Use this to specify an alternate, device-specific, command that implements the 'on' action.",
    advanced: true,
  },
  {
    name: "pcmk_on_timeout",
    scope: 'fencing',
    owner: 'fencer',
    type: 'duration',
    defaultValue: "60s",
    shortHelp: "Advanced use only: Specify an alternate timeout to use for on actions instead of stonith-timeout",
    longHelp: "Some devices need much more/less time to complete than normal.Use this to specify an alternate, device-specific, timeout for 'on' actions.",
    advanced: true,
  },
  {
    name: "pcmk_on_retries",
    scope: 'fencing',
    owner: 'fencer',
    type: 'integer',
    defaultValue: "2",
    shortHelp: "Advanced use only: The maximum number of times to retry the 'on' command within the timeout period",
    longHelp: "Some devices do not support multiple connections. Operations may 'fail' if the device is busy with another task so Pacemaker will automatically retry the operation,      if there is time remaining. Use this option to alter the number of times Pacemaker retries 'on' actions before giving up.",
    advanced: true,
  },
  {
    name: "pcmk_list_action",
    scope: 'fencing',
    owner: 'fencer',
    type: 'string',
    defaultValue: "list",
    shortHelp: "Advanced use only: An alternate command to run instead of 'list'",
    longHelp: "Some devices do not support the standard commands or may provide additional ones.Use this to specify an alternate, device-specific, command that implements the 'list' action.",
    advanced: true,
  },
  {
    name: "pcmk_list_timeout",
    scope: 'fencing',
    owner: 'fencer',
    type: 'duration',
    defaultValue: "60s",
    shortHelp: "Advanced use only: Specify an alternate timeout to use for list actions instead of stonith-timeout",
    longHelp: "Some devices need much more/less time to complete than normal.Use this to specify an alternate, device-specific, timeout for 'list' actions.",
    advanced: true,
  },
  {
    name: "pcmk_list_retries",
    scope: 'fencing',
    owner: 'fencer',
    type: 'integer',
    defaultValue: "2",
    shortHelp: "Advanced use only: The maximum number of times to retry the 'list' command within the timeout period",
    longHelp: "Some devices do not support multiple connections. Operations may 'fail' if the device is busy with another task so Pacemaker will automatically retry the operation,      if there is time remaining. Use this option to alter the number of times Pacemaker retries 'list' actions before giving up.",
    advanced: true,
  },
  {
    name: "pcmk_monitor_action",
    scope: 'fencing',
    owner: 'fencer',
    type: 'string',
    defaultValue: "monitor",
    shortHelp: "Advanced use only: An alternate command to run instead of 'monitor'",
    longHelp: "Some devices do not support the standard commands or may provide additional ones.Use this to specify an alternate, device-specific, command that implements the 'monitor' action.",
    advanced: true,
  },
  {
    name: "pcmk_monitor_timeout",
    scope: 'fencing',
    owner: 'fencer',
    type: 'duration',
    defaultValue: "60s",
    shortHelp: "Advanced use only: Specify an alternate timeout to use for monitor actions instead of stonith-timeout",
    longHelp: "Some devices need much more/less time to complete than normal. Use this to specify an alternate, device-specific, timeout for 'monitor' actions.",
    advanced: true,
  },
  {
    name: "pcmk_monitor_retries",
    scope: 'fencing',
    owner: 'fencer',
    type: 'integer',
    defaultValue: "2",
    shortHelp: "Advanced use only: The maximum number of times to retry the 'monitor' command within the timeout period",
    longHelp: "Some devices do not support multiple connections. Operations may 'fail' if the device is busy with another task so Pacemaker will automatically retry the operation,      if there is time remaining. Use this option to alter the number of times Pacemaker retries 'monitor' actions before giving up.",
    advanced: true,
  },
  {
    name: "pcmk_status_action",
    scope: 'fencing',
    owner: 'fencer',
    type: 'string',
    defaultValue: "status",
    shortHelp: "Advanced use only: An alternate command to run instead of 'status'",
    longHelp: "Some devices do not support the standard commands or may provide additional ones.Use this to specify an alternate, device-specific, command that implements the 'status' action.",
    advanced: true,
  },
  {
    name: "pcmk_status_timeout",
    scope: 'fencing',
    owner: 'fencer',
    type: 'duration',
    defaultValue: "60s",
    shortHelp: "Advanced use only: Specify an alternate timeout to use for status actions instead of stonith-timeout",
    longHelp: "Some devices need much more/less time to complete than normal.Use this to specify an alternate, device-specific, timeout for 'status' actions.",
    advanced: true,
  },
  {
    name: "pcmk_status_retries",
    scope: 'fencing',
    owner: 'fencer',
    type: 'integer',
    defaultValue: "2",
    shortHelp: "Advanced use only: The maximum number of times to retry the 'status' command within the timeout period",
    longHelp: "Some devices do not support multiple connections. Operations may 'fail' if the device is busy with another task so Pacemaker will automatically retry the operation,      if there is time remaining. Use this option to alter the number of times Pacemaker retries 'status' actions before giving up.",
    advanced: true,
  },
];

/** Every option, in table order: cluster, resource, operation, fencing. */
export const OPTIONS: readonly OptionDef[] = [...CLUSTER_OPTIONS, ...RESOURCE_META, ...OPERATION_OPTIONS, ...FENCING_OPTIONS];

const BY_SCOPE_AND_NAME: ReadonlyMap<string, OptionDef> = new Map(OPTIONS.map((o) => [`${o.scope}\0${o.name}`, o]));
const BY_SCOPE_AND_ALIAS: ReadonlyMap<string, OptionDef> = new Map(
  OPTIONS.flatMap((o) => (o.aliases ?? []).map((a) => [`${o.scope}\0${a}`, o] as const)),
);

/** The options of one scope, in table order (for completion and help). */
export function optionsFor(scope: OptionScope): readonly OptionDef[] {
  return OPTIONS.filter((o) => o.scope === scope);
}

/**
 * Look an option up by the name written in the CIB. Older names (aliases) find the current
 * option, with `viaAlias` set to the name that was used. Undefined when Pacemaker has no such option.
 */
export function findOption(scope: OptionScope, name: string): { def: OptionDef; viaAlias?: string } | undefined {
  const def = BY_SCOPE_AND_NAME.get(`${scope}\0${name}`);
  if (def) return { def };
  const aliased = BY_SCOPE_AND_ALIAS.get(`${scope}\0${name}`);
  return aliased ? { def: aliased, viaAlias: name } : undefined;
}

/** The result of checking a value: accepted (perhaps with a warning), or the problem. */
export type OptionCheck = { readonly ok: true; readonly warning?: string } | { readonly ok: false; readonly problem: string };

const OK: OptionCheck = { ok: true };
const BOOLEAN_WORDS = new Set(['true', 'on', 'yes', 'y', '1', 'false', 'off', 'no', 'n', '0']);
const INFINITIES = new Set(['INFINITY', '+INFINITY', '-INFINITY']);

/** Pacemaker's crm_str_to_boolean: true/false when recognised, undefined otherwise. */
export function parseBoolean(value: string): boolean | undefined {
  const v = value.toLowerCase();
  if (!BOOLEAN_WORDS.has(v)) return undefined;
  return v === 'true' || v === 'on' || v === 'yes' || v === 'y' || v === '1';
}

/** Check a value written for option `def`. Never throws. */
export function checkOptionValue(def: OptionDef, value: string): OptionCheck {
  switch (def.type) {
    case 'boolean':
      return parseBoolean(value) === undefined ? { ok: false, problem: `"${value}" is not a boolean (true/false, yes/no, on/off, 1/0)` } : OK;
    case 'integer':
      return checkInteger(value, () => true, 'an integer or INFINITY');
    case 'positive-integer':
      return value === 'INFINITY' || value === '+INFINITY' ? OK : checkInteger(value, (n) => n > 0, 'an integer above 0 or INFINITY');
    case 'nonnegative-integer':
      return INFINITIES.has(value) ? { ok: false, problem: `"${value}" is not an integer of 0 or more` } : checkInteger(value, (n) => n >= 0, 'an integer of 0 or more');
    case 'score':
      return checkScore(value);
    case 'duration':
      return checkDuration(def, value);
    case 'percentage':
      return checkPercentage(value);
    case 'enum':
      return checkEnum(def, value);
    case 'date': {
      const r = parseIsoDateTime(value);
      return r.ok ? OK : { ok: false, problem: r.problem };
    }
    case 'port':
      return checkInteger(value, (n) => n >= 1 && n <= 65535, 'a port number (1-65535)');
    case 'version':
      return /^[0-9]+(\.[0-9]+)*$/.test(value) ? OK : { ok: false, problem: `"${value}" is not a version number` };
    case 'string':
      return OK;
    default: {
      const never: never = def.type;
      throw new Error(`unknown option type ${String(never)}`);
    }
  }
}

/** A score as written in the CIB: an integer or [+-]INFINITY (Pacemaker's schema for score attributes). */
export function isScore(value: string): boolean {
  return INFINITIES.has(value) || /^[+-]?[0-9]+$/.test(value);
}

/** Pacemaker reads scores with char2score: the leading integer counts, no digits at all means 0. */
function checkScore(value: string): OptionCheck {
  if (isScore(value)) return OK;
  const lead = /^\s*([+-]?[0-9]+)/.exec(value)?.[1];
  if (lead !== undefined) return { ok: true, warning: `"${value}" is not a plain score; Pacemaker reads ${lead}` };
  return { ok: false, problem: `"${value}" is not a score (an integer, INFINITY or -INFINITY); Pacemaker reads it as 0` };
}

function checkInteger(value: string, inRange: (n: number) => boolean, what: string): OptionCheck {
  if (INFINITIES.has(value)) {
    return inRange(value === '-INFINITY' ? -Infinity : Infinity) ? OK : { ok: false, problem: `"${value}" is not ${what}` };
  }
  const m = /^\s*([+-]?[0-9]+)(.*)$/s.exec(value);
  if (!m || m[1] === undefined) return { ok: false, problem: `"${value}" is not ${what}` };
  if (!inRange(Number(m[1]))) return { ok: false, problem: `"${value}" is not ${what}` };
  if (m[2] !== '') return { ok: true, warning: `"${value}" has characters after the number; Pacemaker reads ${m[1]}` };
  return OK;
}

function checkDuration(def: OptionDef, value: string): OptionCheck {
  if (def.negativeAllowed && /^\s*-[0-9]/.test(value)) return checkDuration({ ...def, negativeAllowed: false }, value.trim().slice(1));
  const timeoutLike = def.scope === 'operation' && def.name === 'timeout';
  const parsed = timeoutLike ? parseMsec(value) : parseIntervalMs(value);
  if (parsed.ok) return OK;
  if (timeoutLike && value.startsWith('P') && parseIntervalMs(value).ok) {
    return { ok: false, problem: `"${value}": Pacemaker 2.1 does not accept ISO 8601 durations for timeouts (it uses the default); write e.g. 30s` };
  }
  return { ok: false, problem: `"${value}" is not a duration: ${parsed.problem}` };
}

function checkPercentage(value: string): OptionCheck {
  const m = /^\s*([+-]?[0-9]+)?/.exec(value);
  const n = m?.[1] === undefined ? 0 : Number(m[1]);
  const rest = value.slice(m?.[0].length ?? 0);
  if (!rest.startsWith('%') || n < 0) return { ok: false, problem: `"${value}" is not a percentage like 80%` };
  return OK;
}

function checkEnum(def: OptionDef, value: string): OptionCheck {
  const lower = value.toLowerCase();
  const deprecated = Object.entries(def.deprecatedValues ?? {}).find(([k]) => k.toLowerCase() === lower);
  if (deprecated) return { ok: true, warning: `"${value}" is deprecated; use "${deprecated[1]}"` };
  if ((def.values ?? []).some((v) => v.toLowerCase() === lower)) return OK;
  return { ok: false, problem: `"${value}" is not one of ${(def.values ?? []).join(', ')}` };
}

// ---------------------------------------------------------------------------------------------
// Durations as Pacemaker reads intervals and timeouts
// ---------------------------------------------------------------------------------------------

export type DurationParse = { readonly ok: true; readonly ms: number } | { readonly ok: false; readonly problem: string };

const UNIT_MULTIPLIERS: readonly (readonly [string, number, number])[] = [
  // [prefix, multiplier, divisor], checked in Pacemaker's order (so "ms" wins over "m").
  ['ms', 1, 1],
  ['us', 1, 1000],
  ['s', 1000, 1],
  ['m', 60_000, 1],
  ['h', 3_600_000, 1],
];

/**
 * Pacemaker's crm_get_msec: a number (digits and dots; only the integer part counts), optional
 * whitespace, then a unit whose first letters decide (ms/msec, us/usec, s/sec, m/min, h/hr; none =
 * seconds). Used for operation timeouts. No negative numbers, no ISO 8601.
 */
export function parseMsec(text: string): DurationParse {
  const t = text.replace(/^[ \t\n\r\f]+/, '');
  const num = /^[0-9.]+/.exec(t)?.[0];
  if (num === undefined) return { ok: false, problem: 'no number (expected e.g. 10s, 500ms, 1min, 1h)' };
  const units = t.slice(num.length).replace(/^[ \t\n\r\f]+/, '');
  let multiplier = 1000;
  let divisor = 1;
  const unit = UNIT_MULTIPLIERS.find(([p]) => units.slice(0, p.length).toLowerCase() === p);
  if (unit) [, multiplier, divisor] = unit;
  else if (units !== '' && units[0] !== '\n' && units[0] !== '\r') return { ok: false, problem: `unknown unit "${units}"` };
  const whole = /^[0-9]+/.exec(num)?.[0];
  if (whole === undefined) return { ok: false, problem: `"${num}" has no integer part` };
  return { ok: true, ms: Math.trunc((Number(whole) * multiplier) / divisor) };
}

/**
 * Pacemaker's crm_parse_interval_spec: ISO 8601 durations (`PT10S`, counted as Pacemaker 2.1.5
 * counts them, see pacemakerDurationSeconds) or crm_get_msec forms. Used for op intervals and the
 * cluster options of type time.
 */
export function parseIntervalMs(text: string): DurationParse {
  if (text.startsWith('P')) {
    const d = parseIsoDuration(text);
    if (!d.ok) return { ok: false, problem: d.problem };
    const ms = 1000 * pacemakerDurationSeconds(d.value);
    return ms < 0 ? { ok: false, problem: 'negative duration' } : { ok: true, ms };
  }
  return parseMsec(text);
}
