/**
 * The node API's wire protocol: JSON text frames over a WebSocket (unix socket, or TCP with a
 * token). Shared by the daemon's server and `ApiClient`; this module does no I/O.
 *
 *   request  {"id": 1, "method": "status", "params": {...}}
 *   reply    {"id": 1, "ok": true, "result": ...}
 *            {"id": 1, "ok": false, "error": {"code": "...", "message": "..."}}
 *   event    {"event": "cib" | "cluster" | "log", "data": ...}   (after a `subscribe` request)
 *
 * A reply to a frame whose id could not be read carries `"id": null`. Method names and error
 * codes are append-only: a client of an older version keeps working.
 */

/** Version of this protocol; returned by the `hello` method. */
export const API_PROTOCOL_VERSION = 1;

/** Every method the server accepts, with its one-line contract (docs and `--help` read this). */
export const API_METHODS = {
  hello: 'protocol version and server identity; needs no params',
  subscribe: 'params {topics: string[]}: start receiving events of these topics on this connection',
  unsubscribe: 'params {topics: string[]}: stop receiving events of these topics',
  status: 'cluster summary: nodes, resources, DC, quorum, transition state, CIB version',
  'cib.query': 'params {scope?, xpath?}: the CIB (or a section) as XML with its version',
  'cib.update': 'params {baseVersion?, op, scope?, xpath?, xml?}: apply one change; replies with the new version',
  'resource.cleanup': 'params {rsc?, node?}: forget failures and operation history',
  'resource.refresh':
    'params {resource?, node?}: forget the whole operation history and fail counts of a resource (a group or clone: its primitives; none: every resource) on a node (none: every node), failed or not, so that it is probed again (crm_resource --refresh); replies {resources, node}',
  'resource.move': 'params {rsc, node?, lifetime?}: prefer a node (location constraint)',
  'resource.ban': 'params {rsc, node?, lifetime?}: keep a resource off a node',
  'resource.clear': 'params {rsc}: remove the constraints created by move and ban',
  'node.standby': 'params {node, on}: put a node in or out of standby',
  'node.attribute': "params {node, name, value?, lifetime: 'forever'|'reboot'}: set (or delete, without value) a node attribute",
  'events.tail': 'params {after?, limit?}: journal entries after a sequence number',
  'fence.devices': 'params {target?}: the configured fence devices (those that can fence target), with their agent, host list and where they run',
  'fence.history': 'params {target?}: the fencing outcomes of the cluster (of target; * or none: all), oldest first, as this node keeps them (persisted, merged with the other nodes\' at every join)',
  'fence.request': "params {target, action: 'off'|'on'|'reboot'}: fence a node now through its fencing levels, or without any with the first device that can (stonith_admin -F/-U/-B); replies once done",
  'fence.cleanup': 'params {target?}: forget the fence history of target (* or none: of every node) on every node (stonith_admin --cleanup --history); replies {target} once a quorum has it',
  'cluster.add-node':
    'params {name, address, id?, votes?}: add a node to the running cluster\'s nodelist (address: host:port, one per link, comma-separated; id: the next free one); every member applies it at the same point of the message order and persists it; replies {node, nodelist} once applied here',
  'cluster.remove-node':
    'params {name}: remove a node that is not a member of the current view from the nodelist (crm_node --remove), as cluster.add-node, then its node_state and node entries from the CIB; replies {node, nodelist, cib: {removed, kept?}} (kept: why the CIB kept an entry)',
} as const;

export type ApiMethod = keyof typeof API_METHODS;
export const API_METHOD_NAMES = Object.keys(API_METHODS) as ApiMethod[];

/** Event topics a client may subscribe to. */
export const API_TOPICS = ['cib', 'cluster', 'log'] as const;
export type ApiTopic = (typeof API_TOPICS)[number];

/**
 * Stable error codes, with what each means. Expected failures carry one of these; the CLI maps
 * them to exit codes.
 */
export const API_ERROR_CODES = {
  'bad-frame': 'the frame is not a JSON text frame',
  'bad-request': 'the frame is JSON but not a request {id, method, params?}',
  'frame-too-large': 'the frame exceeds the server frame size limit',
  'unknown-method': 'no such method',
  'bad-params': 'the params of the method are missing or malformed',
  busy: 'too many requests in flight on this connection',
  unauthorized: 'missing or wrong token (TCP only)',
  'not-found': 'the named resource, node or CIB element does not exist',
  conflict: 'the CIB changed since baseVersion; re-read and retry',
  'no-quorum': 'the partition is not quorate; the CIB cannot be changed',
  unavailable: 'the node is starting, stopping or not joined to the cluster yet',
  timeout: 'no reply in time (client side)',
  closed: 'the connection closed before the reply (client side)',
  'connect-failed': 'could not connect to the API endpoint (client side)',
  internal: 'a bug or unexpected failure on the server; see its log',
  'fence-failed': 'the fence device ran and failed (or timed out)',
} as const;

export type ApiErrorCode = keyof typeof API_ERROR_CODES;

export interface ApiErrorBody {
  readonly code: ApiErrorCode;
  readonly message: string;
}

/** An expected failure with a stable code: thrown by handlers, turned into an error reply, and
 *  raised again by `ApiClient.request` on the other side. */
export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ApiRequest {
  readonly id: number;
  readonly method: string;
  readonly params?: unknown;
}

export type ApiReply = { readonly id: number | null; readonly ok: true; readonly result: unknown } | { readonly id: number | null; readonly ok: false; readonly error: ApiErrorBody };

export interface ApiEvent {
  readonly event: ApiTopic;
  readonly data: unknown;
}

// ---- result shapes of the methods (the controller fills them) ----

export interface StatusNode {
  readonly name: string;
  readonly id: number;
  readonly online: boolean;
  readonly standby: boolean;
  readonly maintenance: boolean;
  readonly unclean: boolean;
}

export interface StatusResource {
  readonly id: string;
  readonly agent: string;
  readonly role: string;
  readonly nodes: readonly string[];
  readonly failed: boolean;
  readonly managed: boolean;
}

export interface StatusResult {
  readonly clusterName: string;
  readonly node: string;
  /** Name of the DC; undefined while none is elected. */
  readonly dc?: string;
  readonly quorate: boolean;
  readonly viewId: string;
  readonly nodes: readonly StatusNode[];
  readonly resources: readonly StatusResource[];
  readonly transition: { readonly state: 'idle' | 'running' | 'scheduling'; readonly id: number };
  /** "admin_epoch.epoch.num_updates". */
  readonly cibVersion: string;
}

/** The cluster has settled: a DC exists and no transition is scheduled or running. */
export function isSettled(s: StatusResult): boolean {
  return s.dc !== undefined && s.transition.state === 'idle';
}

export interface HelloResult {
  readonly protocol: number;
  readonly node: string;
  readonly clusterName: string;
}

export interface CibQueryParams {
  readonly scope?: string;
  readonly xpath?: string;
}
export interface CibQueryResult {
  readonly xml: string;
  readonly version: string;
}
export interface CibUpdateParams {
  readonly baseVersion?: string;
  readonly op: 'replace' | 'modify' | 'create' | 'delete';
  readonly scope?: string;
  readonly xpath?: string;
  readonly xml?: string;
}

/** What `resource.refresh` forgot: the lrm ids (all: every resource), on `node` (absent: every node). */
export interface RefreshResult {
  readonly resources: readonly string[] | 'all';
  readonly node?: string;
  /** The CIB version once a quorum applied it. */
  readonly version?: string;
}

/** Params and result of each method, for typed calls of `ApiClient.request`. */
export interface ApiMethodTypes {
  hello: { params: undefined; result: HelloResult };
  subscribe: { params: { topics: readonly ApiTopic[] }; result: { topics: ApiTopic[] } };
  unsubscribe: { params: { topics: readonly ApiTopic[] }; result: { topics: ApiTopic[] } };
  status: { params: undefined; result: StatusResult };
  'cib.query': { params: CibQueryParams; result: CibQueryResult };
  'cib.update': { params: CibUpdateParams; result: { version: string } };
  'resource.cleanup': { params: { rsc?: string; node?: string }; result: unknown };
  'resource.refresh': { params: { resource?: string; node?: string }; result: RefreshResult };
  'resource.move': { params: { rsc: string; node?: string; lifetime?: string }; result: unknown };
  'resource.ban': { params: { rsc: string; node?: string; lifetime?: string }; result: unknown };
  'resource.clear': { params: { rsc: string }; result: unknown };
  'node.standby': { params: { node: string; on: boolean }; result: unknown };
  'node.attribute': { params: { node: string; name: string; value?: string; lifetime: 'forever' | 'reboot' }; result: unknown };
  'events.tail': { params: { after?: number; limit?: number }; result: unknown };
  'fence.devices': { params: { target?: string }; result: { devices: FenceDeviceInfo[] } };
  'fence.history': { params: { target?: string }; result: { history: FenceHistoryEntry[] } };
  'fence.request': { params: { target: string; action: 'off' | 'on' | 'reboot' }; result: { target: string; action: string; device: string; level?: number } };
  'fence.cleanup': { params: { target?: string }; result: { target: string } };
  'cluster.add-node': { params: { name: string; address: string; id?: number; votes?: number }; result: NodelistChangeResult };
  'cluster.remove-node': { params: { name: string }; result: NodelistChangeResult & { readonly cib: { readonly removed: readonly string[]; readonly kept?: string } } };
}

/** One node of the cluster's nodelist (cluster.add-node, cluster.remove-node). */
export interface NodelistNode {
  readonly id: number;
  readonly name: string;
  readonly addresses: readonly string[];
  readonly votes: number;
}

/** The node added or removed, and the nodelist now in force with its version. */
export interface NodelistChangeResult {
  readonly node: NodelistNode;
  readonly nodelist: { readonly version: number; readonly nodes: readonly NodelistNode[] };
}

/** A configured fence device (`fence.devices`). */
export interface FenceDeviceInfo {
  readonly id: string;
  /** "stonith:fence_xyz". */
  readonly agent: string;
  /** pcmk_host_list / pcmk_host_map targets; absent: the device may fence any node. */
  readonly hostList?: readonly string[];
  /** Nodes where the device resource is started. */
  readonly runningOn: readonly string[];
}

/** One fencing outcome (`fence.history`). */
export interface FenceHistoryEntry {
  readonly target: string;
  readonly action: string;
  readonly ok: boolean;
  /** The node that ran the device. */
  readonly by: string;
  readonly device?: string;
  /** When it completed, epoch seconds. */
  readonly wallSec: number;
  /** Why it was fenced (the transition action) or why it failed. */
  readonly reason?: string;
  /** Fencing topology: the level that fenced (or the last one tried) and its devices. */
  readonly level?: number;
  readonly devices?: readonly string[];
  /** Every level tried, in order, with its outcome. */
  readonly attempts?: readonly { readonly level?: number; readonly devices: readonly string[]; readonly ok: boolean; readonly reason?: string }[];
  /** Asked for by an administrator (stonith_admin) rather than by the cluster. */
  readonly manual?: boolean;
}

// ---- validation of incoming frames ----

export type ParsedRequest = { readonly ok: true; readonly request: ApiRequest } | { readonly ok: false; readonly id: number | null; readonly error: ApiErrorBody };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isRequestId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * Parses one text frame received by the server. Never throws: a malformed frame gives an error
 * body (with the request id when it could be read), which the server sends back as a reply.
 */
export function parseRequestFrame(text: string): ParsedRequest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, id: null, error: { code: 'bad-frame', message: `not JSON: ${(err as Error).message}` } };
  }
  if (!isRecord(value)) return { ok: false, id: null, error: { code: 'bad-request', message: 'a request is a JSON object {id, method, params?}' } };
  const id = isRequestId(value.id) ? value.id : null;
  if (id === null) return { ok: false, id, error: { code: 'bad-request', message: 'id must be a non-negative integer' } };
  if (typeof value.method !== 'string' || value.method === '') return { ok: false, id, error: { code: 'bad-request', message: 'method must be a non-empty string' } };
  const unknownKeys = Object.keys(value).filter((k) => k !== 'id' && k !== 'method' && k !== 'params');
  if (unknownKeys.length > 0) return { ok: false, id, error: { code: 'bad-request', message: `unknown field(s) ${unknownKeys.join(', ')}` } };
  if (!Object.hasOwn(API_METHODS, value.method)) return { ok: false, id, error: { code: 'unknown-method', message: `unknown method ${JSON.stringify(value.method)}; known: ${API_METHOD_NAMES.join(', ')}` } };
  const problem = checkParams(value.method as ApiMethod, value.params);
  if (problem !== undefined) return { ok: false, id, error: { code: 'bad-params', message: `${value.method}: ${problem}` } };
  return { ok: true, request: { id, method: value.method, params: value.params } };
}

type FieldKind = 'string' | 'boolean' | 'number';
type FieldSpec = Readonly<Record<string, readonly [FieldKind, 'required' | 'optional']>>;

/** Shape of the params of each method; undefined means "no params". */
const PARAM_SPECS: { readonly [M in ApiMethod]: FieldSpec | 'topics' | undefined } = {
  hello: undefined,
  subscribe: 'topics',
  unsubscribe: 'topics',
  status: undefined,
  'cib.query': { scope: ['string', 'optional'], xpath: ['string', 'optional'] },
  'cib.update': { baseVersion: ['string', 'optional'], op: ['string', 'required'], scope: ['string', 'optional'], xpath: ['string', 'optional'], xml: ['string', 'optional'] },
  'resource.cleanup': { rsc: ['string', 'optional'], node: ['string', 'optional'] },
  'resource.refresh': { resource: ['string', 'optional'], rsc: ['string', 'optional'], node: ['string', 'optional'] },
  'resource.move': { rsc: ['string', 'required'], node: ['string', 'optional'], lifetime: ['string', 'optional'] },
  'resource.ban': { rsc: ['string', 'required'], node: ['string', 'optional'], lifetime: ['string', 'optional'] },
  'resource.clear': { rsc: ['string', 'required'] },
  'node.standby': { node: ['string', 'required'], on: ['boolean', 'required'] },
  'node.attribute': { node: ['string', 'required'], name: ['string', 'required'], value: ['string', 'optional'], lifetime: ['string', 'required'] },
  'events.tail': { after: ['number', 'optional'], limit: ['number', 'optional'] },
  'fence.devices': { target: ['string', 'optional'] },
  'fence.history': { target: ['string', 'optional'] },
  'fence.request': { target: ['string', 'required'], action: ['string', 'required'] },
  'fence.cleanup': { target: ['string', 'optional'] },
  'cluster.add-node': { name: ['string', 'required'], address: ['string', 'required'], id: ['number', 'optional'], votes: ['number', 'optional'] },
  'cluster.remove-node': { name: ['string', 'required'] },
};

const ENUMS: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> = {
  'cib.update': { op: ['replace', 'modify', 'create', 'delete'] },
  'node.attribute': { lifetime: ['forever', 'reboot'] },
  'fence.request': { action: ['off', 'on', 'reboot'] },
};

/** Returns why `params` do not fit `method`, or undefined when they do. */
export function checkParams(method: ApiMethod, params: unknown): string | undefined {
  const spec = PARAM_SPECS[method];
  if (spec === undefined) return params === undefined || (isRecord(params) && Object.keys(params).length === 0) ? undefined : 'takes no params';
  if (!isRecord(params)) return 'params must be an object';
  if (spec === 'topics') {
    const topics = params.topics;
    if (!Array.isArray(topics) || topics.length === 0) return 'params.topics must be a non-empty array';
    const bad = topics.filter((t) => !(API_TOPICS as readonly unknown[]).includes(t));
    return bad.length > 0 ? `unknown topic(s) ${bad.map((t) => JSON.stringify(t)).join(', ')}; known: ${API_TOPICS.join(', ')}` : undefined;
  }
  for (const key of Object.keys(params)) if (!Object.hasOwn(spec, key)) return `unknown param ${key}`;
  for (const [key, [kind, need]] of Object.entries(spec)) {
    const v = params[key];
    if (v === undefined) {
      if (need === 'required') return `param ${key} is required`;
      continue;
    }
    if (typeof v !== kind) return `param ${key} must be a ${kind}`;
    const allowed = ENUMS[method]?.[key];
    if (allowed !== undefined && !allowed.includes(v as string)) return `param ${key} must be one of ${allowed.join(', ')}`;
  }
  return undefined;
}

export type ParsedServerFrame =
  | { readonly kind: 'reply'; readonly reply: ApiReply }
  | { readonly kind: 'event'; readonly event: ApiEvent }
  | { readonly kind: 'invalid'; readonly reason: string };

/** Parses one frame received by a client: a reply or an event. Never throws. */
export function parseServerFrame(text: string): ParsedServerFrame {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    return { kind: 'invalid', reason: `not JSON: ${(err as Error).message}` };
  }
  if (!isRecord(v)) return { kind: 'invalid', reason: 'not a JSON object' };
  if (typeof v.event === 'string') {
    if (!(API_TOPICS as readonly string[]).includes(v.event)) return { kind: 'invalid', reason: `unknown event topic ${v.event}` };
    return { kind: 'event', event: { event: v.event as ApiTopic, data: v.data } };
  }
  const id = v.id === null || isRequestId(v.id) ? v.id : undefined;
  if (id === undefined) return { kind: 'invalid', reason: 'reply without a valid id' };
  if (v.ok === true) return { kind: 'reply', reply: { id, ok: true, result: v.result } };
  if (v.ok === false && isRecord(v.error) && typeof v.error.code === 'string' && typeof v.error.message === 'string') {
    return { kind: 'reply', reply: { id, ok: false, error: { code: v.error.code as ApiErrorCode, message: v.error.message } } };
  }
  return { kind: 'invalid', reason: 'reply needs ok: true with result, or ok: false with error {code, message}' };
}

/** Serialises a reply; a result that cannot be serialised becomes an `internal` error reply. */
export function encodeReply(reply: ApiReply): string {
  try {
    return JSON.stringify(reply);
  } catch (err) {
    return JSON.stringify({ id: reply.id, ok: false, error: { code: 'internal', message: `result not serialisable: ${(err as Error).message}` } });
  }
}
