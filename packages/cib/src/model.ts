/**
 * The typed model of a Pacemaker 2.1 CIB: read-only views over the lossless XML tree.
 *
 * Contract for every consumer (scheduler, validation, shell, tools):
 * - The model is read from the tree by `readCib` (read.ts) and never mutated. Edits go through the
 *   tree (cibadmin operations, patches) and a fresh `readCib`.
 * - Every object keeps `xml`, the element it was read from, so writers and patchers can find it and
 *   nothing the user wrote is lost. `attrs` is that element's full attribute map, for open-ended or
 *   not-yet-modelled attributes.
 * - Values are strings exactly as written, because Pacemaker parses them lazily and differently per
 *   use (scores like "INFINITY", "-INFINITY", "+INFINITY"; intervals like "10s"; booleans like
 *   "yes"/"true"/"1"). `undefined` means the attribute is absent, never "default applied": defaults
 *   belong to the options table and the scheduler. Use `parseScore` for scores.
 * - Child elements a reader does not model are kept in `unknown` (in document order); they remain in
 *   the tree in any case.
 * - id-refs: where Pacemaker resolves `id-ref` (nvsets, nvpairs, rules, ops, resource sets), the
 *   model keeps both the reference (`idRef`) and the resolved target (`ref`, undefined when the id is
 *   not found or names an element of another kind). Consumers should use `ref ?? this`.
 */
import type { XmlElement } from './xml.js';

/** An element's attributes exactly as written, in document order. */
export type XmlAttrs = Readonly<Record<string, string>>;

/** What every model object carries: its source element and that element's attributes. */
export interface XmlBacked {
  readonly xml: XmlElement;
  readonly attrs: XmlAttrs;
}

// ---------------------------------------------------------------------------------------------
// Rules (parsed structure only; evaluation lives in rules.ts)
// ---------------------------------------------------------------------------------------------

/** `<rule>`: a boolean combination of expressions and nested rules. */
export interface Rule extends XmlBacked {
  readonly kind: 'rule';
  readonly id: string | undefined;
  /** `id-ref`: this rule stands for the rule with that id. */
  readonly idRef: string | undefined;
  /** The rule `idRef` names, when found. */
  readonly ref: Rule | undefined;
  readonly score: string | undefined;
  /** `score-attribute`: take the score from this node attribute (location rules). */
  readonly scoreAttribute: string | undefined;
  /** `boolean-op`: "and" (Pacemaker's default) or "or", as written. */
  readonly booleanOp: string | undefined;
  /** `role`: location rules only apply to instances in this role. */
  readonly role: string | undefined;
  /** Sub-expressions in document order. */
  readonly expressions: readonly RuleCondition[];
  /** Children that are not conditions. */
  readonly unknown: readonly XmlElement[];
}

/** `<expression>`: compares a node attribute (or `#uname`, `#id`, `#kind`, ...) with a value. */
export interface Expression extends XmlBacked {
  readonly kind: 'expression';
  readonly id: string | undefined;
  readonly attribute: string | undefined;
  /** lt, gt, lte, gte, eq, ne, defined, not_defined */
  readonly operation: string | undefined;
  readonly value: string | undefined;
  /** string, integer, number, version (legacy: "int") */
  readonly type: string | undefined;
  /** `value-source`: literal (default), param, meta */
  readonly valueSource: string | undefined;
}

/** `<date_spec>` and `<duration>`: cron-like fields (years, months, weekdays, hours, moon, ...). */
export interface DateFields extends XmlBacked {
  readonly id: string | undefined;
  /** Every attribute except `id`, as written (e.g. `{ hours: "9-16", weekdays: "1-5" }`). */
  readonly fields: XmlAttrs;
}

/** `<date_expression>`: in_range (start/end or start+duration), gt, lt, date_spec. */
export interface DateExpression extends XmlBacked {
  readonly kind: 'date_expression';
  readonly id: string | undefined;
  readonly operation: string | undefined;
  readonly start: string | undefined;
  readonly end: string | undefined;
  readonly dateSpec: DateFields | undefined;
  readonly duration: DateFields | undefined;
}

/** `<rsc_expression>` (rsc_defaults rules): matches the resource agent. */
export interface RscExpression extends XmlBacked {
  readonly kind: 'rsc_expression';
  readonly id: string | undefined;
  readonly class: string | undefined;
  readonly provider: string | undefined;
  readonly type: string | undefined;
}

/** `<op_expression>` (op_defaults rules): matches the operation name and interval. */
export interface OpExpression extends XmlBacked {
  readonly kind: 'op_expression';
  readonly id: string | undefined;
  readonly name: string | undefined;
  readonly interval: string | undefined;
}

/** Anything that can appear inside a rule. */
export type RuleCondition = Rule | Expression | DateExpression | RscExpression | OpExpression;

// ---------------------------------------------------------------------------------------------
// Name/value sets
// ---------------------------------------------------------------------------------------------

/** `<nvpair>`; with `id-ref` it stands for another nvpair (name and value come from `ref`). */
export interface NvPair extends XmlBacked {
  readonly id: string | undefined;
  readonly idRef: string | undefined;
  readonly ref: NvPair | undefined;
  readonly name: string | undefined;
  readonly value: string | undefined;
}

/** Element names of name/value sets. */
export type NvSetKind = 'instance_attributes' | 'meta_attributes' | 'utilization' | 'cluster_property_set';

/**
 * A name/value set. Several sets of one kind are merged by the consumer: highest `score` first,
 * only sets whose `rules` pass (any of them; no rules = pass), first value of a name wins.
 */
export interface NvSet extends XmlBacked {
  readonly kind: NvSetKind;
  readonly id: string | undefined;
  readonly idRef: string | undefined;
  /** The set `idRef` names, when found. Its nvpairs and rules apply in place of this one's. */
  readonly ref: NvSet | undefined;
  readonly score: string | undefined;
  readonly rules: readonly Rule[];
  readonly nvpairs: readonly NvPair[];
  readonly unknown: readonly XmlElement[];
}

// ---------------------------------------------------------------------------------------------
// Nodes
// ---------------------------------------------------------------------------------------------

/** `<node>` in configuration/nodes. */
export interface Node extends XmlBacked {
  readonly id: string;
  readonly uname: string | undefined;
  /** member (default), remote, ping; legacy "normal" means member. */
  readonly type: string | undefined;
  readonly description: string | undefined;
  /** Legacy node score. */
  readonly score: string | undefined;
  readonly instanceAttributes: readonly NvSet[];
  readonly utilization: readonly NvSet[];
  readonly unknown: readonly XmlElement[];
}

// ---------------------------------------------------------------------------------------------
// Resources
// ---------------------------------------------------------------------------------------------

/** `<op>` of a primitive or template. */
export interface Operation extends XmlBacked {
  readonly id: string | undefined;
  readonly idRef: string | undefined;
  readonly ref: Operation | undefined;
  /** start, stop, monitor, promote, demote, migrate_to, migrate_from, notify, ... */
  readonly name: string | undefined;
  /** As written ("0", "10s", "P1D", "10000ms"). */
  readonly interval: string | undefined;
  readonly role: string | undefined;
  readonly timeout: string | undefined;
  readonly onFail: string | undefined;
  readonly enabled: string | undefined;
  readonly recordPending: string | undefined;
  readonly startDelay: string | undefined;
  readonly intervalOrigin: string | undefined;
  readonly requires: string | undefined;
  readonly description: string | undefined;
  /** Operation meta-attributes given as nested sets (the `op` attributes above are the common way). */
  readonly meta: readonly NvSet[];
  /** Operation instance attributes, e.g. OCF_CHECK_LEVEL. */
  readonly instanceAttributes: readonly NvSet[];
  readonly unknown: readonly XmlElement[];
}

/** `<operations>`; may itself be an `id-ref` to another operations block. */
export interface Operations extends XmlBacked {
  readonly id: string | undefined;
  readonly idRef: string | undefined;
  readonly ref: Operations | undefined;
  readonly ops: readonly Operation[];
  readonly unknown: readonly XmlElement[];
}

/**
 * The shape every resource variant shares. `kind` names the XML element. Sets are listed in
 * document order; merge them by score as described at `NvSet`.
 */
export interface ResourceCommon extends XmlBacked {
  readonly id: string;
  readonly description: string | undefined;
  readonly meta: readonly NvSet[];
  readonly instanceAttributes: readonly NvSet[];
  readonly utilization: readonly NvSet[];
  readonly unknown: readonly XmlElement[];
}

/** Agent identity of a primitive or template, as written. */
export interface AgentFields {
  /** ocf, lsb, systemd, service, stonith, nagios, upstart */
  readonly class: string | undefined;
  readonly provider: string | undefined;
  readonly type: string | undefined;
  /** The `<operations>` block; `ops` lists its ops (those of `operations.ref` for an id-ref). */
  readonly operations: Operations | undefined;
  readonly ops: readonly Operation[];
}

/** `<primitive>`: one agent instance. With `template`, missing fields come from the template. */
export interface Primitive extends ResourceCommon, AgentFields {
  readonly kind: 'primitive';
  readonly template: string | undefined;
  /** The `rsc_template` named by `template`, when found. */
  readonly templateRef: ResourceTemplate | undefined;
}

/** `<template>` (rsc_template): defaults for primitives that name it; not a resource itself. */
export interface ResourceTemplate extends ResourceCommon, AgentFields {
  readonly kind: 'template';
}

/** `<group>`: primitives started in order and kept together. */
export interface Group extends ResourceCommon {
  readonly kind: 'group';
  readonly children: readonly Primitive[];
}

/** Shared shape of `<clone>` and legacy `<master>`. */
export interface CloneCommon extends ResourceCommon {
  /** The cloned resource (Pacemaker allows exactly one). Undefined for an empty clone. */
  readonly child: Primitive | Group | undefined;
}

/** `<clone>`; promotable when meta `promotable` is true (read the merged meta to decide). */
export interface Clone extends CloneCommon {
  readonly kind: 'clone';
}

/** Legacy `<master>` (Pacemaker < 2.0 syntax): always promotable. */
export interface Master extends CloneCommon {
  readonly kind: 'master';
}

/** Container runtime of a bundle. */
export interface BundleContainer extends XmlBacked {
  readonly kind: 'docker' | 'podman' | 'rkt';
  readonly image: string | undefined;
  readonly replicas: string | undefined;
  readonly replicasPerHost: string | undefined;
  /** `promoted-max`, or legacy `masters`. */
  readonly promotedMax: string | undefined;
  readonly network: string | undefined;
  readonly runCommand: string | undefined;
  readonly options: string | undefined;
}

export interface BundlePortMapping extends XmlBacked {
  readonly id: string | undefined;
  readonly port: string | undefined;
  readonly internalPort: string | undefined;
  readonly range: string | undefined;
}

export interface BundleNetwork extends XmlBacked {
  readonly ipRangeStart: string | undefined;
  readonly controlPort: string | undefined;
  readonly hostInterface: string | undefined;
  readonly hostNetmask: string | undefined;
  readonly addHost: string | undefined;
  readonly portMappings: readonly BundlePortMapping[];
  readonly unknown: readonly XmlElement[];
}

export interface BundleStorageMapping extends XmlBacked {
  readonly id: string | undefined;
  readonly sourceDir: string | undefined;
  readonly sourceDirRoot: string | undefined;
  readonly targetDir: string | undefined;
  readonly options: string | undefined;
}

/** `<bundle>`: containers, optionally each running one primitive. */
export interface Bundle extends ResourceCommon {
  readonly kind: 'bundle';
  readonly container: BundleContainer | undefined;
  readonly network: BundleNetwork | undefined;
  readonly storage: readonly BundleStorageMapping[];
  readonly primitive: Primitive | undefined;
}

/** A resource that can be scheduled. `switch (r.kind)` over it ends in an exhaustiveness check. */
export type Resource = Primitive | Group | Clone | Master | Bundle;

/** Anything read from the resources section, templates included. */
export type ResourceLike = Resource | ResourceTemplate;

export interface Resources extends XmlBacked {
  /** Top-level resources in document order (templates excluded). */
  readonly resources: readonly Resource[];
  readonly templates: readonly ResourceTemplate[];
  readonly unknown: readonly XmlElement[];
}

/** `<rsc_defaults>` / `<op_defaults>`. */
export interface Defaults extends XmlBacked {
  readonly meta: readonly NvSet[];
  readonly instanceAttributes: readonly NvSet[];
  readonly unknown: readonly XmlElement[];
}

// ---------------------------------------------------------------------------------------------
// Constraints
// ---------------------------------------------------------------------------------------------

/** `<resource_ref>` inside a resource set. */
export interface ResourceRef extends XmlBacked {
  readonly id: string;
}

/** `<resource_set>`; may be an `id-ref` to another set. */
export interface ResourceSet extends XmlBacked {
  readonly id: string | undefined;
  readonly idRef: string | undefined;
  readonly ref: ResourceSet | undefined;
  readonly sequential: string | undefined;
  readonly requireAll: string | undefined;
  readonly ordering: string | undefined;
  readonly action: string | undefined;
  readonly role: string | undefined;
  readonly score: string | undefined;
  /** Order kind for the set (Mandatory, Optional, Serialize). */
  readonly orderKind: string | undefined;
  readonly resources: readonly ResourceRef[];
  readonly unknown: readonly XmlElement[];
}

export interface ConstraintCommon extends XmlBacked {
  readonly id: string;
  readonly sets: readonly ResourceSet[];
  readonly unknown: readonly XmlElement[];
}

export interface LocationConstraint extends ConstraintCommon {
  readonly kind: 'rsc_location';
  readonly rsc: string | undefined;
  readonly rscPattern: string | undefined;
  readonly node: string | undefined;
  readonly score: string | undefined;
  readonly role: string | undefined;
  readonly resourceDiscovery: string | undefined;
  readonly rules: readonly Rule[];
}

export interface ColocationConstraint extends ConstraintCommon {
  readonly kind: 'rsc_colocation';
  readonly rsc: string | undefined;
  readonly withRsc: string | undefined;
  readonly rscRole: string | undefined;
  readonly withRscRole: string | undefined;
  readonly rscInstance: string | undefined;
  readonly withRscInstance: string | undefined;
  readonly score: string | undefined;
  readonly nodeAttribute: string | undefined;
  readonly influence: string | undefined;
}

export interface OrderConstraint extends ConstraintCommon {
  readonly kind: 'rsc_order';
  readonly first: string | undefined;
  readonly then: string | undefined;
  readonly firstAction: string | undefined;
  readonly thenAction: string | undefined;
  readonly firstInstance: string | undefined;
  readonly thenInstance: string | undefined;
  /** The `kind` attribute: Mandatory, Optional, Serialize. */
  readonly orderKind: string | undefined;
  readonly score: string | undefined;
  readonly symmetrical: string | undefined;
  readonly requireAll: string | undefined;
}

export interface TicketConstraint extends ConstraintCommon {
  readonly kind: 'rsc_ticket';
  readonly ticket: string | undefined;
  readonly rsc: string | undefined;
  readonly rscRole: string | undefined;
  readonly lossPolicy: string | undefined;
}

export type Constraint = LocationConstraint | ColocationConstraint | OrderConstraint | TicketConstraint;

export interface Constraints extends XmlBacked {
  /** In document order. */
  readonly constraints: readonly Constraint[];
  readonly unknown: readonly XmlElement[];
}

// ---------------------------------------------------------------------------------------------
// Fencing topology, tags, alerts, ACLs
// ---------------------------------------------------------------------------------------------

export interface FencingLevel extends XmlBacked {
  readonly id: string | undefined;
  readonly index: string | undefined;
  readonly target: string | undefined;
  readonly targetPattern: string | undefined;
  readonly targetAttribute: string | undefined;
  readonly targetValue: string | undefined;
  /** As written: comma-separated device ids. */
  readonly devices: string | undefined;
  /** `devices` split on commas, empty entries dropped. */
  readonly deviceIds: readonly string[];
}

export interface FencingTopology extends XmlBacked {
  readonly levels: readonly FencingLevel[];
  readonly unknown: readonly XmlElement[];
}

export interface Tag extends XmlBacked {
  readonly id: string;
  /** ids of the `<obj_ref>` children, in order. */
  readonly refs: readonly string[];
  readonly unknown: readonly XmlElement[];
}

export interface AlertRecipient extends XmlBacked {
  readonly id: string | undefined;
  readonly value: string | undefined;
  readonly description: string | undefined;
  readonly meta: readonly NvSet[];
  readonly instanceAttributes: readonly NvSet[];
  readonly unknown: readonly XmlElement[];
}

export interface Alert extends XmlBacked {
  readonly id: string | undefined;
  readonly path: string | undefined;
  readonly description: string | undefined;
  /** `<select>`: which events to send (kept as XML). */
  readonly select: XmlElement | undefined;
  readonly meta: readonly NvSet[];
  readonly instanceAttributes: readonly NvSet[];
  readonly recipients: readonly AlertRecipient[];
  readonly unknown: readonly XmlElement[];
}

/** One child of `<acls>` (acl_target, acl_group, acl_role, legacy acl_user): kept light. */
export interface AclEntry extends XmlBacked {
  readonly kind: string;
  readonly id: string | undefined;
}

export interface Acls extends XmlBacked {
  readonly entries: readonly AclEntry[];
}

// ---------------------------------------------------------------------------------------------
// Configuration and the document
// ---------------------------------------------------------------------------------------------

export interface CrmConfig extends XmlBacked {
  readonly propertySets: readonly NvSet[];
  readonly unknown: readonly XmlElement[];
}

/**
 * `<configuration>`. Optional sections are undefined when the element is absent (Pacemaker treats
 * an absent section like an empty one, but writers need to know which).
 */
export interface Configuration extends XmlBacked {
  readonly crmConfig: CrmConfig | undefined;
  readonly nodes: readonly Node[];
  readonly nodesXml: XmlElement | undefined;
  readonly resources: Resources | undefined;
  readonly constraints: Constraints | undefined;
  readonly rscDefaults: Defaults | undefined;
  readonly opDefaults: Defaults | undefined;
  readonly fencingTopology: FencingTopology | undefined;
  readonly tags: readonly Tag[];
  readonly tagsXml: XmlElement | undefined;
  readonly alerts: readonly Alert[];
  readonly alertsXml: XmlElement | undefined;
  readonly acls: Acls | undefined;
  readonly unknown: readonly XmlElement[];
}

// ---------------------------------------------------------------------------------------------
// Status
// ---------------------------------------------------------------------------------------------

/** `<lrm_rsc_op>`: one recorded operation result. All values as written. */
export interface LrmRscOp extends XmlBacked {
  readonly id: string;
  readonly operation: string | undefined;
  readonly operationKey: string | undefined;
  readonly callId: string | undefined;
  readonly rcCode: string | undefined;
  readonly opStatus: string | undefined;
  readonly interval: string | undefined;
  readonly lastRcChange: string | undefined;
  readonly lastRun: string | undefined;
  readonly execTime: string | undefined;
  readonly queueTime: string | undefined;
  readonly opDigest: string | undefined;
  readonly opForceRestart: string | undefined;
  readonly opRestartDigest: string | undefined;
  readonly opSecureParams: string | undefined;
  readonly opSecureDigest: string | undefined;
  readonly transitionKey: string | undefined;
  readonly transitionMagic: string | undefined;
  readonly onNode: string | undefined;
  readonly exitReason: string | undefined;
  readonly crmFeatureSet: string | undefined;
  readonly crmDebugOrigin: string | undefined;
  readonly migrateSource: string | undefined;
  readonly migrateTarget: string | undefined;
  readonly unknown: readonly XmlElement[];
}

/** `<lrm_resource>`: the history of one resource on one node. */
export interface LrmResource extends XmlBacked {
  readonly id: string;
  readonly class: string | undefined;
  readonly provider: string | undefined;
  readonly type: string | undefined;
  readonly container: string | undefined;
  readonly shutdownLock: string | undefined;
  /** In document order (not sorted by call-id). */
  readonly ops: readonly LrmRscOp[];
  readonly unknown: readonly XmlElement[];
}

/** `<lrm>` with its `<lrm_resources>`. */
export interface Lrm extends XmlBacked {
  readonly id: string | undefined;
  readonly resourcesXml: XmlElement | undefined;
  readonly resources: readonly LrmResource[];
  readonly unknown: readonly XmlElement[];
}

/** `<transient_attributes>`: node attributes that do not survive a restart. */
export interface TransientAttributes extends XmlBacked {
  readonly id: string | undefined;
  readonly sets: readonly NvSet[];
  readonly unknown: readonly XmlElement[];
}

/** `<node_state>`: one node's membership and history. All values as written. */
export interface NodeState extends XmlBacked {
  readonly id: string;
  readonly uname: string | undefined;
  /** "true"/"false", or a membership timestamp in newer Pacemaker. */
  readonly inCcm: string | undefined;
  /** "online"/"offline", or a timestamp in newer Pacemaker. */
  readonly crmd: string | undefined;
  /** down, pending, member, banned */
  readonly join: string | undefined;
  readonly expected: string | undefined;
  readonly crmDebugOrigin: string | undefined;
  readonly shutdown: string | undefined;
  readonly ha: string | undefined;
  readonly remoteNode: string | undefined;
  readonly nodeFenced: string | undefined;
  readonly clearShutdown: string | undefined;
  readonly nodeInMaintenance: string | undefined;
  readonly transientAttributes: TransientAttributes | undefined;
  readonly lrm: Lrm | undefined;
  readonly unknown: readonly XmlElement[];
}

/** `<ticket_state>` inside status/tickets. */
export interface TicketState extends XmlBacked {
  readonly id: string;
  readonly granted: string | undefined;
  readonly lastGranted: string | undefined;
  readonly standby: string | undefined;
}

export interface Status extends XmlBacked {
  readonly nodeStates: readonly NodeState[];
  readonly ticketsXml: XmlElement | undefined;
  readonly tickets: readonly TicketState[];
  readonly unknown: readonly XmlElement[];
}

/** `<cib>` attributes Pacemaker defines; all as written (versions are compared in version.ts). */
export interface CibAttributes {
  readonly adminEpoch: string | undefined;
  readonly epoch: string | undefined;
  readonly numUpdates: string | undefined;
  readonly validateWith: string | undefined;
  readonly crmFeatureSet: string | undefined;
  readonly haveQuorum: string | undefined;
  readonly dcUuid: string | undefined;
  readonly cibLastWritten: string | undefined;
  readonly updateOrigin: string | undefined;
  readonly updateClient: string | undefined;
  readonly updateUser: string | undefined;
  readonly noQuorumPanic: string | undefined;
  readonly remoteTlsPort: string | undefined;
  readonly remoteClearPort: string | undefined;
  /** crm_simulate's "now" when the input was saved; the scheduler uses it as the time. */
  readonly executionDate: string | undefined;
}

/** The whole document. */
export interface Cib extends XmlBacked {
  readonly cib: CibAttributes;
  readonly configuration: Configuration | undefined;
  readonly status: Status | undefined;
  readonly unknown: readonly XmlElement[];
}

// ---------------------------------------------------------------------------------------------
// Scores
// ---------------------------------------------------------------------------------------------

/** Pacemaker's INFINITY (CRM_SCORE_INFINITY). */
export const SCORE_INFINITY = 1_000_000;

/**
 * Scores for node-health colours ("red", "yellow", "green", case-insensitive), set from the
 * node-health-red/yellow/green cluster options. Pacemaker keeps these as globals; here the caller
 * passes them. Omitted: all 0, as in Pacemaker before the options are unpacked.
 */
export interface HealthScores {
  readonly red: number;
  readonly yellow: number;
  readonly green: number;
}

const LLONG_MAX = 9223372036854775807n;
const LLONG_MIN = -9223372036854775808n;
const leadingIntegerRe = /^[ \t\n\v\f\r]*([+-]?)([0-9]+)/;

/**
 * Pacemaker 2.1's `pcmk__scan_ll(text, &v, 0)`: strtoll base 10 (leading whitespace and sign,
 * trailing garbage ignored); no digits -> 0; out of long long range -> 0 (2.1 replaces the clipped
 * value by the default when strtoll reports ERANGE).
 */
function scanLongLong(text: string): number {
  const m = leadingIntegerRe.exec(text);
  if (!m) return 0;
  const value = BigInt(`${m[1]}${m[2]}`);
  if (value > LLONG_MAX || value < LLONG_MIN) return 0;
  if (value > BigInt(SCORE_INFINITY)) return SCORE_INFINITY;
  if (value < BigInt(-SCORE_INFINITY)) return -SCORE_INFINITY;
  return Number(value) || 0;
}

/**
 * Pacemaker's `char2score`: undefined -> 0; "-INFINITY" -> -INFINITY; "INFINITY" and "+INFINITY"
 * -> INFINITY (case-sensitive); red/yellow/green (any case) -> the health scores; otherwise the
 * leading integer, bounded to +/-INFINITY; no digits -> 0.
 */
export function parseScore(score: string | undefined, health?: HealthScores): number {
  if (score === undefined) return 0;
  if (score === '-INFINITY') return -SCORE_INFINITY;
  if (score === 'INFINITY' || score === '+INFINITY') return SCORE_INFINITY;
  const lower = score.length <= 6 ? score.toLowerCase() : '';
  if (lower === 'red') return health?.red ?? 0;
  if (lower === 'yellow') return health?.yellow ?? 0;
  if (lower === 'green') return health?.green ?? 0;
  if (/^-?[0-9]{1,7}$/.test(score)) {
    const n = Number(score) || 0; // no -0
    return n > SCORE_INFINITY ? SCORE_INFINITY : n < -SCORE_INFINITY ? -SCORE_INFINITY : n;
  }
  return scanLongLong(score);
}

/**
 * Pacemaker's `pcmk__add_scores`: -INFINITY wins over everything (so INFINITY + -INFINITY is
 * -INFINITY), then INFINITY, else the sum bounded to +/-INFINITY.
 */
export function addScores(a: number, b: number): number {
  if (a <= -SCORE_INFINITY || b <= -SCORE_INFINITY) return -SCORE_INFINITY;
  if (a >= SCORE_INFINITY || b >= SCORE_INFINITY) return SCORE_INFINITY;
  const sum = a + b;
  if (sum >= SCORE_INFINITY) return SCORE_INFINITY;
  if (sum <= -SCORE_INFINITY) return -SCORE_INFINITY;
  return sum;
}

/** Pacemaker's `score2char`: "INFINITY", "-INFINITY" or the decimal integer. */
export function scoreToString(score: number): string {
  if (score >= SCORE_INFINITY) return 'INFINITY';
  if (score <= -SCORE_INFINITY) return '-INFINITY';
  return String(Math.trunc(score));
}
