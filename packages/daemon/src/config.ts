/**
 * The node configuration file (JSON, default /etc/paceline/paceline.json): validation, defaults
 * and its reference documentation, all read from one table (`CONFIG_FIELDS`).
 *
 * `parseNodeConfig` checks a parsed JSON value and never throws: every problem is a diagnostic
 * naming the field path (`nodes[1].addresses[0]`) and the reason. Errors make the config
 * unusable (`config` is undefined); warnings (unknown fields, odd but workable values) do not.
 * The `messaging` section is checked for types here, then handed to the messaging layer's own
 * `parseFileConfig`, whose diagnostics are reported under `messaging`.
 *
 * Relative paths in the file are resolved against the directory of the file.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, isAbsolute, join as joinPath, resolve } from 'node:path';
import {
  AUTHKEY_PATH_DEFAULT,
  LIMITS_DEFAULTS,
  QUORUM_DEFAULTS,
  TICK_INTERVAL_MS_DEFAULT,
  TIMING_DEFAULTS,
  parseFileConfig,
  type LinkFileConfig,
  type MessagingFileConfig,
  type ResolvedConfig,
} from '@paceline/messaging';
import { nearestNames } from '@paceline/cib';
import { isLogLevel, parseLogTarget, type LogLevel, type LogTarget } from './log.js';

export const NODE_CONFIG_PATH_DEFAULT = '/etc/paceline/paceline.json';

export interface ConfigDiagnostic {
  readonly severity: 'error' | 'warning';
  /** Field path in the file, e.g. `nodes[1].addresses[0]`; empty for the whole file. */
  readonly path: string;
  readonly reason: string;
}

export interface ClusterNodeConfig {
  readonly id: number;
  readonly name: string;
  /** One "host:port" per messaging link. */
  readonly addresses: readonly string[];
  readonly votes: number;
}

export interface ApiTcpConfig {
  readonly host: string;
  readonly port: number;
  readonly tokenPath: string;
}

export interface NodeConfig {
  readonly clusterName: string;
  /** This node. */
  readonly node: { readonly id: number; readonly name: string };
  /** Every configured node, sorted by id. */
  readonly nodes: readonly ClusterNodeConfig[];
  /** Version of `nodes`: 0 as first written, then the version of each agreed nodelist change the node stored. */
  readonly nodelistVersion: number;
  /** The file form handed to the messaging layer (top-level cluster name and nodes filled in). */
  readonly messagingFile: MessagingFileConfig;
  /** The messaging layer's resolved configuration. */
  readonly messaging: ResolvedConfig;
  readonly dataDir: string;
  readonly api: { readonly socket: string; readonly group: string; readonly tcp: ApiTcpConfig | undefined };
  readonly log: { readonly level: LogLevel; readonly target: LogTarget };
  /** Agent directories; undefined: the executor's search path (docs: executor agents.ts). */
  readonly agents: { readonly ocfRoot?: string; readonly lsbDir?: string; readonly stonithDir?: string };
  /** CIB XML file loaded when dataDir holds no CIB yet. */
  readonly initialCib: string | undefined;
}

export interface NodeConfigResult {
  readonly config: NodeConfig | undefined;
  readonly diagnostics: readonly ConfigDiagnostic[];
}

type Kind = 'string' | 'integer' | 'boolean' | 'object' | 'array' | 'number';

/** One documented field of the file. `default` undefined: required, or absent means "none". */
interface FieldDoc {
  readonly path: string;
  readonly type: string;
  readonly required?: true;
  readonly default?: string | number | boolean;
  /** Why the default is what it is (one line), or what the field means. */
  readonly help: string;
}

/** Defaults of the node config, each with its reason. */
export const NODE_CONFIG_DEFAULTS = {
  dataDir: { value: '/var/lib/paceline', reason: "systemd's StateDirectory=paceline; survives reboots, which the CIB must" },
  apiSocket: { value: '/run/paceline/api.sock', reason: "systemd's RuntimeDirectory=paceline; a stale socket vanishes with the boot" },
  apiGroup: { value: 'haclient', reason: "Pacemaker's group for cluster administrators; members may use the API without root" },
  apiTokenPath: { value: '/etc/paceline/api-token', reason: 'next to the authkey; a file (mode 0600) keeps the token out of the config and process list' },
  logLevel: { value: 'info' as LogLevel, reason: 'every cluster event (view, DC, transition, action, fencing) is info; debug is for diagnosis' },
  logTarget: { value: 'stderr', reason: 'under systemd, stderr goes to the journal with timestamps and rotation for free' },
  votes: { value: 1, reason: "votequorum's default: one vote per node" },
  authkeyPath: { value: AUTHKEY_PATH_DEFAULT, reason: "corosync's /etc/corosync/authkey, under paceline's directory" },
} as const;

/** The fields of the file, in document order; validation of unknown keys and the docs read it. */
export const CONFIG_FIELDS: readonly FieldDoc[] = [
  { path: 'clusterName', type: 'string', required: true, help: 'Name of the cluster (1..255 bytes); nodes of different clusters ignore each other.' },
  { path: 'node', type: 'object', required: true, help: 'This node.' },
  { path: 'node.id', type: 'integer', required: true, help: 'Node id of this node, 1..4294967295; must appear in `nodes`.' },
  { path: 'node.name', type: 'string', required: true, help: 'Name of this node (as in the CIB); must match its entry in `nodes`.' },
  { path: 'nodes', type: 'array', required: true, help: 'Every node of the cluster (like corosync.conf nodelist), including this one.' },
  { path: 'nodes[].id', type: 'integer', required: true, help: 'Unique node id, 1..4294967295. The lowest id of a partition is its DC.' },
  { path: 'nodes[].name', type: 'string', required: true, help: 'Unique node name: letters, digits, `.`, `_`, `-`; at most 63 characters.' },
  { path: 'nodes[].addresses', type: 'string[]', required: true, help: 'One `host:port` per messaging link, in link order.' },
  { path: 'nodes[].votes', type: 'integer', default: NODE_CONFIG_DEFAULTS.votes.value, help: NODE_CONFIG_DEFAULTS.votes.reason },
  {
    path: 'nodelistVersion',
    type: 'integer',
    default: 0,
    help: 'Version of `nodes`, written by the node itself: each agreed change of the running cluster (`paceline cluster join` of a new node, `paceline cluster remove`) adds one, and every member rewrites `nodes` and this field. A member that starts with an older version takes the newest list from its peers.',
  },
  { path: 'messaging', type: 'object', default: '{}', help: "The messaging layer's file config without clusterName, nodeId, nodes (filled in from the top level)." },
  { path: 'messaging.authkeyPath', type: 'string', default: NODE_CONFIG_DEFAULTS.authkeyPath.value, help: NODE_CONFIG_DEFAULTS.authkeyPath.reason },
  { path: 'messaging.crypto', type: 'object', help: 'Packet protection.' },
  { path: 'messaging.crypto.mode', type: "'hmac-sha256' | 'aes-256-gcm'", default: 'hmac-sha256', help: 'Authentication of every packet with a key derived from the authkey.' },
  { path: 'messaging.crypto.encrypt', type: 'boolean', default: false, help: 'Encrypt payloads too (needs mode aes-256-gcm).' },
  { path: 'messaging.links', type: 'array', default: '[{"transport":"udpu"}]', help: 'Links (rings); each node lists one address per link.' },
  { path: 'messaging.links[].transport', type: "'udpu' | 'udp'", required: true, help: 'udpu: unicast to every node; udp: multicast to mcastGroup.' },
  { path: 'messaging.links[].mcastGroup', type: 'string', help: 'Multicast group address (udp only).' },
  { path: 'messaging.links[].mcastPort', type: 'integer', help: 'Multicast port (udp only; default 5405).' },
  { path: 'messaging.links[].ttl', type: 'integer', help: 'Multicast TTL (udp only).' },
  { path: 'messaging.links[].mcastInterface', type: 'string', help: 'Local interface address for multicast (udp only).' },
  { path: 'messaging.quorum', type: 'object', help: 'Quorum policy (votequorum options).' },
  ...quorumFields(),
  { path: 'messaging.timing', type: 'object', help: 'Failure detection and protocol timers, in milliseconds.' },
  ...tableFields('messaging.timing', TIMING_DEFAULTS),
  { path: 'messaging.limits', type: 'object', help: 'Bounds of the messaging layer.' },
  ...tableFields('messaging.limits', LIMITS_DEFAULTS),
  { path: 'messaging.statusPath', type: 'string', help: 'File where the messaging layer writes its runtime status.' },
  {
    path: 'messaging.incarnationPath',
    type: 'string',
    default: '<dataDir>/incarnation',
    help: 'File recording the last incarnation, so that it grows across restarts even when the clock was stepped back.',
  },
  { path: 'messaging.tickIntervalMs', type: 'integer', default: TICK_INTERVAL_MS_DEFAULT, help: 'How often the driver ticks the protocol core.' },
  { path: 'dataDir', type: 'string', default: NODE_CONFIG_DEFAULTS.dataDir.value, help: NODE_CONFIG_DEFAULTS.dataDir.reason },
  { path: 'api', type: 'object', default: '{}', help: 'The node API (WebSocket, JSON frames).' },
  { path: 'api.socket', type: 'string', default: NODE_CONFIG_DEFAULTS.apiSocket.value, help: NODE_CONFIG_DEFAULTS.apiSocket.reason },
  { path: 'api.group', type: 'string', default: NODE_CONFIG_DEFAULTS.apiGroup.value, help: `Group owning the socket (mode 0660) when it exists. ${NODE_CONFIG_DEFAULTS.apiGroup.reason}.` },
  { path: 'api.tcp', type: 'object', help: 'Optional TCP listener; every connection must present the token.' },
  { path: 'api.tcp.listen', type: 'string', required: true, help: '`host:port` (IPv6 as `[addr]:port`). Traffic is not encrypted: prefer loopback or a trusted network.' },
  { path: 'api.tcp.tokenPath', type: 'string', default: NODE_CONFIG_DEFAULTS.apiTokenPath.value, help: NODE_CONFIG_DEFAULTS.apiTokenPath.reason },
  { path: 'log', type: 'object', default: '{}', help: 'Structured log: one JSON object per line.' },
  { path: 'log.level', type: "'debug' | 'info' | 'warn' | 'error'", default: NODE_CONFIG_DEFAULTS.logLevel.value, help: NODE_CONFIG_DEFAULTS.logLevel.reason },
  { path: 'log.target', type: "'stderr' | 'file:PATH'", default: NODE_CONFIG_DEFAULTS.logTarget.value, help: `${NODE_CONFIG_DEFAULTS.logTarget.reason}. A file is appended to and reopened on SIGHUP.` },
  { path: 'agents', type: 'object', help: "Agent directories; each absent one keeps the executor's search path." },
  { path: 'agents.ocfRoot', type: 'string', help: 'OCF root (holds resource.d/PROVIDER/TYPE).' },
  { path: 'agents.lsbDir', type: 'string', help: 'Directory of LSB init scripts.' },
  { path: 'agents.stonithDir', type: 'string', help: 'Directory of fence_* agents.' },
  { path: 'initialCib', type: 'string', help: 'CIB XML file loaded when dataDir holds no CIB yet (must exist).' },
];

function tableFields(prefix: string, table: Readonly<Record<string, { value: number; reason: string }>>): FieldDoc[] {
  return Object.entries(table).map(([k, v]) => ({ path: `${prefix}.${k}`, type: 'integer', default: v.value, help: v.reason }));
}

function quorumFields(): FieldDoc[] {
  const help: Record<string, string> = {
    expectedVotes: 'Expected votes (default: the sum of the nodes\' votes).',
    twoNode: 'Two-node cluster: quorate with one of two votes; implies waitForAll.',
    waitForAll: 'Not quorate the first time until all expected votes were seen at once.',
    lastManStanding: 'Lower expected votes to the survivors after a stable view.',
    lastManStandingWindowMs: "How long the view must be stable (votequorum's default).",
    autoTieBreaker: 'An exact half holding the lowest node id is quorate.',
  };
  return Object.entries(QUORUM_DEFAULTS).map(([k, v]) => ({
    path: `messaging.quorum.${k}`,
    type: k === 'expectedVotes' || k === 'lastManStandingWindowMs' ? 'integer' : 'boolean',
    ...(v !== undefined ? { default: v } : {}),
    help: help[k] ?? '',
  }));
}

// ---------------------------------------------------------------- validation

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
/** A node name: letters, digits, `.`, `_`, `-`, at most 63 characters, not starting with a punctuation mark. */
export const NODE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** Collects diagnostics while checking one file. */
class Checker {
  readonly diagnostics: ConfigDiagnostic[] = [];
  constructor(readonly baseDir: string) {}

  error(path: string, reason: string): void {
    this.diagnostics.push({ severity: 'error', path, reason });
  }
  warn(path: string, reason: string): void {
    this.diagnostics.push({ severity: 'warning', path, reason });
  }
  get failed(): boolean {
    return this.diagnostics.some((d) => d.severity === 'error');
  }

  /** Warns about keys of `obj` that CONFIG_FIELDS does not list under `docPath`. */
  unknownKeys(obj: Obj, path: string, docPath: string): void {
    const known = new Set(CONFIG_FIELDS.filter((f) => f.path.startsWith(docPath === '' ? '' : `${docPath}.`)).map((f) => f.path.slice(docPath === '' ? 0 : docPath.length + 1).split('.')[0]!.replace('[]', '')));
    for (const k of Object.keys(obj)) if (!known.has(k)) this.warn(join(path, k), `unknown field; ignored${suggest(k, known)}`);
  }

  /** The section at `obj[key]` as an object ({} when absent and optional). */
  section(obj: Obj, key: string, path: string, required = false): Obj | undefined {
    const v = obj[key];
    if (v === undefined) {
      if (required) this.error(join(path, key), 'required');
      return required ? undefined : {};
    }
    if (!isObj(v)) {
      this.error(join(path, key), `must be an object, not ${describe(v)}`);
      return undefined;
    }
    return v;
  }

  get(obj: Obj, key: string, path: string, kind: Kind, required = false): unknown {
    const v = obj[key];
    const p = join(path, key);
    if (v === undefined) {
      if (required) this.error(p, `required (${kind})`);
      return undefined;
    }
    const ok =
      kind === 'integer' ? Number.isSafeInteger(v) : kind === 'array' ? Array.isArray(v) : kind === 'object' ? isObj(v) : typeof v === kind && !(kind === 'number' && !Number.isFinite(v));
    if (!ok) {
      this.error(p, `must be ${kind === 'integer' || kind === 'array' || kind === 'object' ? 'an' : 'a'} ${kind}, not ${describe(v)}`);
      return undefined;
    }
    return v;
  }

  /** A non-empty path string, resolved against the config file's directory. */
  filePath(obj: Obj, key: string, path: string, fallback: string | undefined): string | undefined {
    const v = this.get(obj, key, path, 'string');
    if (v === undefined) return obj[key] === undefined ? fallback : undefined;
    if (v === '') {
      this.error(join(path, key), 'must not be empty');
      return undefined;
    }
    return isAbsolute(v as string) ? (v as string) : resolve(this.baseDir, v as string);
  }
}

const join = (path: string, key: string): string => (path === '' ? key : `${path}.${key}`);

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number' && !Number.isInteger(v)) return `the number ${v}`;
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`;
}

/** "; did you mean X?" for a near miss (see nearestNames). */
function suggest(key: string, known: ReadonlySet<string>): string {
  const near = nearestNames(key, known, 1)[0];
  return near === undefined ? '' : `; did you mean ${near}?`;
}

/**
 * Validates a parsed config file. `baseDir` resolves relative paths (the file's directory).
 * Pure apart from reading nothing: file existence is checked by `loadNodeConfig`.
 */
export function parseNodeConfig(value: unknown, baseDir = '/'): NodeConfigResult {
  const c = new Checker(baseDir);
  if (!isObj(value)) {
    c.error('', `the file must hold a JSON object, not ${describe(value)}`);
    return { config: undefined, diagnostics: c.diagnostics };
  }
  c.unknownKeys(value, '', '');
  const clusterName = c.get(value, 'clusterName', '', 'string', true) as string | undefined;
  const nodes = checkNodes(c, value);
  const self = checkSelf(c, value, nodes);
  const nodelistVersion = (c.get(value, 'nodelistVersion', '', 'integer') as number | undefined) ?? 0;
  if (nodelistVersion < 0) c.error('nodelistVersion', `must not be negative (${nodelistVersion})`);
  const dataDir = c.filePath(value, 'dataDir', '', NODE_CONFIG_DEFAULTS.dataDir.value);
  const messaging = checkMessaging(c, value, clusterName, self?.id, nodes, dataDir, nodelistVersion);
  const api = checkApi(c, value);
  const log = checkLog(c, value);
  const agents = checkAgents(c, value);
  const initialCib = c.filePath(value, 'initialCib', '', undefined);
  if (c.failed || clusterName === undefined || self === undefined || messaging === undefined || dataDir === undefined || api === undefined || log === undefined || agents === undefined) {
    return { config: undefined, diagnostics: c.diagnostics };
  }
  return { config: { clusterName, node: self, nodes, nodelistVersion, messagingFile: messaging.file, messaging: messaging.resolved, dataDir, api, log, agents, initialCib }, diagnostics: c.diagnostics };
}

function checkNodes(c: Checker, root: Obj): ClusterNodeConfig[] {
  const list = c.get(root, 'nodes', '', 'array', true) as unknown[] | undefined;
  if (list === undefined) return [];
  if (list.length === 0) c.error('nodes', 'must list at least this node');
  const out: ClusterNodeConfig[] = [];
  const ids = new Map<number, number>();
  const names = new Map<string, number>();
  list.forEach((raw, i) => {
    const p = `nodes[${i}]`;
    if (!isObj(raw)) return c.error(p, `must be an object {id, name, addresses}, not ${describe(raw)}`);
    c.unknownKeys(raw, p, 'nodes[]');
    const id = c.get(raw, 'id', p, 'integer', true) as number | undefined;
    const name = c.get(raw, 'name', p, 'string', true) as string | undefined;
    const votes = c.get(raw, 'votes', p, 'integer') as number | undefined;
    const addresses = checkAddresses(c, raw, p);
    if (id !== undefined && (id < 1 || id > 0xffffffff)) c.error(`${p}.id`, `must be in 1..4294967295, not ${id}`);
    else if (id !== undefined && ids.has(id)) c.error(`${p}.id`, `duplicate node id ${id} (also nodes[${ids.get(id)}])`);
    if (name !== undefined && !NODE_NAME.test(name)) c.error(`${p}.name`, `${JSON.stringify(name)} is not a valid node name (letters, digits, . _ -; at most 63)`);
    else if (name !== undefined && names.has(name)) c.error(`${p}.name`, `duplicate node name ${name} (also nodes[${names.get(name)}])`);
    if (votes !== undefined && (votes < 0 || votes > 255)) c.error(`${p}.votes`, `must be in 0..255, not ${votes}`);
    if (id === undefined || name === undefined || addresses === undefined) return;
    if (!ids.has(id)) ids.set(id, i);
    if (!names.has(name)) names.set(name, i);
    out.push({ id, name, addresses, votes: votes ?? NODE_CONFIG_DEFAULTS.votes.value });
  });
  return out.sort((a, b) => a.id - b.id);
}

function checkAddresses(c: Checker, raw: Obj, p: string): string[] | undefined {
  const addrs = c.get(raw, 'addresses', p, 'array', true) as unknown[] | undefined;
  if (addrs === undefined) return undefined;
  if (addrs.length === 0) c.error(`${p}.addresses`, 'must hold one host:port per link');
  let ok = true;
  addrs.forEach((a, j) => {
    if (typeof a !== 'string' || parseHostPort(a) === undefined) {
      c.error(`${p}.addresses[${j}]`, `${describe(a)} is not host:port (IPv6: [addr]:port)`);
      ok = false;
    }
  });
  return ok ? (addrs as string[]) : undefined;
}

/** "host:port" or "[v6]:port" with a port in 1..65535. */
export function parseHostPort(s: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(s);
  if (m === null) return undefined;
  const port = Number(m[3]);
  return port >= 1 && port <= 65535 ? { host: (m[1] ?? m[2])!, port } : undefined;
}

function checkSelf(c: Checker, root: Obj, nodes: readonly ClusterNodeConfig[]): { id: number; name: string } | undefined {
  const node = c.section(root, 'node', '', true);
  if (node === undefined) return undefined;
  c.unknownKeys(node, 'node', 'node');
  const id = c.get(node, 'id', 'node', 'integer', true) as number | undefined;
  const name = c.get(node, 'name', 'node', 'string', true) as string | undefined;
  if (id === undefined || name === undefined) return undefined;
  const entry = nodes.find((n) => n.id === id);
  if (entry === undefined) {
    c.error('node.id', `node ${id} is not in nodes (ids: ${nodes.map((n) => n.id).join(', ') || 'none'})`);
    return undefined;
  }
  if (entry.name !== name) {
    c.error('node.name', `${JSON.stringify(name)} differs from the name of node ${id} in nodes (${JSON.stringify(entry.name)})`);
    return undefined;
  }
  return { id, name };
}

function checkMessaging(
  c: Checker,
  root: Obj,
  clusterName: string | undefined,
  nodeId: number | undefined,
  nodes: readonly ClusterNodeConfig[],
  dataDir: string | undefined,
  nodelistVersion: number,
): { file: MessagingFileConfig; resolved: ResolvedConfig } | undefined {
  const m = c.section(root, 'messaging', '');
  if (m === undefined) return undefined;
  for (const k of ['clusterName', 'nodeId', 'nodes']) if (m[k] !== undefined) c.error(`messaging.${k}`, `set at the top level of the file (${k === 'nodeId' ? 'node.id' : k}), not here`);
  c.unknownKeys(m, 'messaging', 'messaging');
  const before = c.diagnostics.length;
  const authkeyPath = c.filePath(m, 'authkeyPath', 'messaging', undefined);
  const crypto = checkCrypto(c, m);
  const links = checkLinks(c, m);
  const quorum = numericSection(c, m, 'quorum');
  const timing = numericSection(c, m, 'timing');
  const limits = numericSection(c, m, 'limits');
  const statusPath = c.filePath(m, 'statusPath', 'messaging', undefined);
  // Always kept (default: in dataDir): the incarnation then grows across restarts even when the
  // clock was stepped back, else peers would drop a restarted node's packets as stale for good.
  const incarnationPath = c.filePath(m, 'incarnationPath', 'messaging', undefined) ?? (dataDir !== undefined ? joinPath(dataDir, 'incarnation') : undefined);
  const tickIntervalMs = c.get(m, 'tickIntervalMs', 'messaging', 'integer') as number | undefined;
  if (tickIntervalMs !== undefined && (tickIntervalMs < 1 || tickIntervalMs > 1000)) c.error('messaging.tickIntervalMs', `must be in 1..1000, not ${tickIntervalMs}`);
  if (c.diagnostics.slice(before).some((d) => d.severity === 'error') || clusterName === undefined || nodeId === undefined) return undefined;
  const file: MessagingFileConfig = {
    clusterName,
    nodeId,
    nodes: nodes.map((n) => ({ nodeId: n.id, votes: n.votes, name: n.name, addresses: n.addresses })),
    nodelistVersion,
    authkeyPath: authkeyPath ?? NODE_CONFIG_DEFAULTS.authkeyPath.value,
    ...(crypto !== undefined ? { crypto } : {}),
    ...(links !== undefined ? { links } : {}),
    ...(quorum !== undefined ? { quorum } : {}),
    ...(timing !== undefined ? { timing } : {}),
    ...(limits !== undefined ? { limits } : {}),
    ...(statusPath !== undefined ? { statusPath } : {}),
    ...(incarnationPath !== undefined ? { incarnationPath } : {}),
    ...(tickIntervalMs !== undefined ? { tickIntervalMs } : {}),
  };
  const parsed = parseFileConfig(file);
  for (const d of parsed.diagnostics) {
    const path = messagingItemPath(d.item, root.nodes);
    (parsed.config === undefined ? c.error.bind(c) : c.warn.bind(c))(path, d.reason);
  }
  if (parsed.config === undefined) c.error('messaging', 'rejected by the messaging layer (see the diagnostics above)');
  return parsed.config === undefined ? undefined : { file, resolved: parsed.config };
}

/** Maps a messaging diagnostic item ("node 3 address x", "link 0", "nodeId 2") to a path of this file. */
function messagingItemPath(item: string, rawNodes: unknown): string {
  const node = /^node (\d+)/.exec(item);
  if (node !== null) {
    const i = Array.isArray(rawNodes) ? rawNodes.findIndex((n) => isObj(n) && n.id === Number(node[1])) : -1;
    const where = i >= 0 ? `nodes[${i}]` : 'nodes';
    return / address /.test(item) ? `${where}.addresses` : where;
  }
  const link = /^link (\d+)$/.exec(item);
  if (link !== null) return `messaging.links[${link[1]}]`;
  if (item.startsWith('nodeId')) return 'node.id';
  if (item === 'clusterName') return 'clusterName';
  return `messaging.${item}`;
}

function checkCrypto(c: Checker, m: Obj): MessagingFileConfig['crypto'] | undefined {
  const cr = c.section(m, 'crypto', 'messaging');
  if (cr === undefined || m.crypto === undefined) return undefined;
  c.unknownKeys(cr, 'messaging.crypto', 'messaging.crypto');
  const mode = c.get(cr, 'mode', 'messaging.crypto', 'string') as string | undefined;
  const encrypt = c.get(cr, 'encrypt', 'messaging.crypto', 'boolean') as boolean | undefined;
  if (mode !== undefined && mode !== 'hmac-sha256' && mode !== 'aes-256-gcm') {
    c.error('messaging.crypto.mode', `must be hmac-sha256 or aes-256-gcm, not ${JSON.stringify(mode)}`);
    return undefined;
  }
  return { ...(mode !== undefined ? { mode } : {}), ...(encrypt !== undefined ? { encrypt } : {}) };
}

function checkLinks(c: Checker, m: Obj): LinkFileConfig[] | undefined {
  const links = c.get(m, 'links', 'messaging', 'array') as unknown[] | undefined;
  if (links === undefined) return undefined;
  const out: LinkFileConfig[] = [];
  links.forEach((l, i) => {
    const p = `messaging.links[${i}]`;
    if (!isObj(l)) return c.error(p, `must be an object {transport, ...}, not ${describe(l)}`);
    c.unknownKeys(l, p, 'messaging.links[]');
    const transport = c.get(l, 'transport', p, 'string', true);
    if (transport !== undefined && transport !== 'udpu' && transport !== 'udp') c.error(`${p}.transport`, `must be udpu or udp, not ${JSON.stringify(transport)}`);
    c.get(l, 'mcastGroup', p, 'string');
    c.get(l, 'mcastInterface', p, 'string');
    const port = c.get(l, 'mcastPort', p, 'integer') as number | undefined;
    if (port !== undefined && (port < 1 || port > 65535)) c.error(`${p}.mcastPort`, `must be in 1..65535, not ${port}`);
    const ttl = c.get(l, 'ttl', p, 'integer') as number | undefined;
    if (ttl !== undefined && (ttl < 0 || ttl > 255)) c.error(`${p}.ttl`, `must be in 0..255, not ${ttl}`);
    out.push(l as unknown as LinkFileConfig);
  });
  return out;
}

/** quorum / timing / limits: known keys only, each an integer (booleans for quorum flags). */
function numericSection(c: Checker, m: Obj, key: 'quorum' | 'timing' | 'limits'): Record<string, number | boolean> | undefined {
  const s = c.section(m, key, 'messaging');
  if (s === undefined || m[key] === undefined) return undefined;
  const p = `messaging.${key}`;
  c.unknownKeys(s, p, p);
  const out: Record<string, number | boolean> = {};
  for (const f of CONFIG_FIELDS.filter((f) => f.path.startsWith(`${p}.`))) {
    const k = f.path.slice(p.length + 1);
    const v = c.get(s, k, p, f.type === 'boolean' ? 'boolean' : 'integer') as number | boolean | undefined;
    if (typeof v === 'number' && v < (k === 'expectedVotes' ? 1 : 0)) c.error(`${p}.${k}`, `must not be ${k === 'expectedVotes' ? 'below 1' : 'negative'} (${v})`);
    else if (typeof v === 'number' && key !== 'quorum' && v === 0) c.error(`${p}.${k}`, 'must be positive');
    if (v !== undefined) out[k] = v;
  }
  return out;
}

function checkApi(c: Checker, root: Obj): NodeConfig['api'] | undefined {
  const api = c.section(root, 'api', '');
  if (api === undefined) return undefined;
  c.unknownKeys(api, 'api', 'api');
  const socket = c.filePath(api, 'socket', 'api', NODE_CONFIG_DEFAULTS.apiSocket.value);
  const group = c.get(api, 'group', 'api', 'string') as string | undefined;
  if (group !== undefined && !/^[a-z_][a-z0-9_-]*\$?$/i.test(group)) c.error('api.group', `${JSON.stringify(group)} is not a valid group name`);
  if (socket !== undefined && Buffer.byteLength(socket) > 107) c.error('api.socket', `path is ${Buffer.byteLength(socket)} bytes; unix socket paths are limited to 107`);
  let tcp: ApiTcpConfig | undefined;
  if (api.tcp !== undefined) {
    const t = c.section(api, 'tcp', 'api');
    if (t === undefined) return undefined;
    c.unknownKeys(t, 'api.tcp', 'api.tcp');
    const listen = c.get(t, 'listen', 'api.tcp', 'string', true) as string | undefined;
    const hp = listen === undefined ? undefined : parseHostPort(listen);
    if (listen !== undefined && hp === undefined) c.error('api.tcp.listen', `${JSON.stringify(listen)} is not host:port (IPv6: [addr]:port) with a port in 1..65535`);
    const tokenPath = c.filePath(t, 'tokenPath', 'api.tcp', NODE_CONFIG_DEFAULTS.apiTokenPath.value);
    if (hp !== undefined && tokenPath !== undefined) tcp = { ...hp, tokenPath };
    if (hp !== undefined && !isLoopback(hp.host)) c.warn('api.tcp.listen', `${hp.host} is not a loopback address: the token and all traffic cross the network unencrypted`);
  }
  if (socket === undefined || (api.group !== undefined && group === undefined)) return undefined;
  return { socket, group: group ?? NODE_CONFIG_DEFAULTS.apiGroup.value, tcp };
}

const isLoopback = (host: string): boolean => host === 'localhost' || host === '::1' || /^127\./.test(host);

function checkLog(c: Checker, root: Obj): NodeConfig['log'] | undefined {
  const log = c.section(root, 'log', '');
  if (log === undefined) return undefined;
  c.unknownKeys(log, 'log', 'log');
  const level = log.level === undefined ? NODE_CONFIG_DEFAULTS.logLevel.value : log.level;
  if (!isLogLevel(level)) c.error('log.level', `must be debug, info, warn or error, not ${describe(level)}`);
  const rawTarget = log.target === undefined ? NODE_CONFIG_DEFAULTS.logTarget.value : log.target;
  let target = typeof rawTarget === 'string' ? parseLogTarget(rawTarget) : undefined;
  if (target === undefined) c.error('log.target', `must be "stderr" or "file:PATH", not ${describe(rawTarget)}`);
  else if (target.kind === 'file' && !isAbsolute(target.path)) target = { kind: 'file', path: resolve(c.baseDir, target.path) };
  return isLogLevel(level) && target !== undefined ? { level, target } : undefined;
}

function checkAgents(c: Checker, root: Obj): NodeConfig['agents'] | undefined {
  const a = c.section(root, 'agents', '');
  if (a === undefined) return undefined;
  c.unknownKeys(a, 'agents', 'agents');
  const ocfRoot = c.filePath(a, 'ocfRoot', 'agents', undefined);
  const lsbDir = c.filePath(a, 'lsbDir', 'agents', undefined);
  const stonithDir = c.filePath(a, 'stonithDir', 'agents', undefined);
  return { ...(ocfRoot !== undefined ? { ocfRoot } : {}), ...(lsbDir !== undefined ? { lsbDir } : {}), ...(stonithDir !== undefined ? { stonithDir } : {}) };
}

/**
 * Reads, parses and validates a config file. Never throws: an unreadable file or bad JSON is a
 * diagnostic. Also checks that the files the config names as inputs exist (initialCib, agent
 * directories); the authkey and token files are checked by the parts that read them.
 */
export function loadNodeConfig(path: string): NodeConfigResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return { config: undefined, diagnostics: [{ severity: 'error', path: '', reason: `cannot read ${path}: ${(err as Error).message}` }] };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { config: undefined, diagnostics: [{ severity: 'error', path: '', reason: `${path} is not valid JSON: ${(err as Error).message}` }] };
  }
  const result = parseNodeConfig(value, dirname(resolve(path)));
  if (result.config === undefined) return result;
  const missing: ConfigDiagnostic[] = [];
  const { initialCib, agents } = result.config;
  if (initialCib !== undefined && !existsSync(initialCib)) missing.push({ severity: 'error', path: 'initialCib', reason: `${initialCib} does not exist` });
  for (const [k, dir] of Object.entries(agents)) if (dir !== undefined && !existsSync(dir)) missing.push({ severity: 'warning', path: `agents.${k}`, reason: `${dir} does not exist` });
  const diagnostics = [...result.diagnostics, ...missing];
  return { config: missing.some((d) => d.severity === 'error') ? undefined : result.config, diagnostics };
}

/**
 * Stores an agreed nodelist in the configuration file at `path`: its `nodes` and
 * `nodelistVersion` are replaced, every other field is kept; the file is written whole (a
 * temporary file beside it, synced, then renamed over it), so a crash leaves the old file or
 * the new one. Does nothing when the file holds this version or a newer one already. Throws
 * when the file cannot be read or written.
 */
export function storeNodelist(path: string, nodelist: { readonly version: number; readonly nodes: readonly ClusterNodeConfig[] }): boolean {
  const value = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  const stored = typeof value.nodelistVersion === 'number' ? value.nodelistVersion : 0;
  if (stored >= nodelist.version) return false;
  value.nodes = [...nodelist.nodes].sort((a, b) => a.id - b.id).map((n) => ({ id: n.id, name: n.name, addresses: [...n.addresses], votes: n.votes }));
  value.nodelistVersion = nodelist.version;
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    const fd = openSync(tmp, 'w', statSync(path).mode & 0o777);
    try {
      writeSync(fd, `${JSON.stringify(value, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  return true;
}

/** One line per diagnostic: "error: nodes[1].id: duplicate node id 1 (also nodes[0])". */
export function formatDiagnostics(diagnostics: readonly ConfigDiagnostic[]): string {
  return diagnostics.map((d) => `${d.severity}: ${d.path === '' ? '(file)' : d.path}: ${d.reason}`).join('\n');
}

// ---------------------------------------------------------------- docs

export const CONFIG_EXAMPLE = {
  clusterName: 'lab',
  node: { id: 1, name: 'node1' },
  nodes: [
    { id: 1, name: 'node1', addresses: ['10.77.0.11:5405'] },
    { id: 2, name: 'node2', addresses: ['10.77.0.12:5405'] },
    { id: 3, name: 'node3', addresses: ['10.77.0.13:5405'] },
  ],
  messaging: { authkeyPath: '/etc/paceline/authkey', crypto: { mode: 'hmac-sha256', encrypt: false }, links: [{ transport: 'udpu' }], quorum: { twoNode: false }, timing: {} },
  dataDir: '/var/lib/paceline',
  api: { socket: '/run/paceline/api.sock', group: 'haclient', tcp: { listen: '127.0.0.1:7405', tokenPath: '/etc/paceline/api-token' } },
  log: { level: 'info', target: 'stderr' },
};

/** JSON with one line per value that fits in 100 columns, nested otherwise (readable examples). */
function compactJson(value: unknown, indent: string): string {
  const flat = flatJson(value);
  if (indent.length + flat.length <= 100 || typeof value !== 'object' || value === null) return flat;
  const inner = indent + '  ';
  const items = Array.isArray(value) ? value.map((v) => inner + compactJson(v, inner)) : Object.entries(value).map(([k, v]) => `${inner}${JSON.stringify(k)}: ${compactJson(v, inner)}`);
  return `${Array.isArray(value) ? '[' : '{'}\n${items.join(',\n')}\n${indent}${Array.isArray(value) ? ']' : '}'}`;
}

function flatJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(flatJson).join(', ')}]`;
  if (typeof value === 'object' && value !== null) return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${flatJson(v)}`).join(', ')}}`;
  return JSON.stringify(value);
}

const cell = (s: string): string => s.replace(/\|/g, '\\|');

/** The Markdown reference of the file (docs/config.md is this text; a test keeps them equal). */
export function renderConfigReference(): string {
  const lines = [
    '# Node configuration file',
    '',
    '<!-- Generated by renderConfigReference() in packages/daemon/src/config.ts; do not edit by hand.',
    '     Regenerate: PACELINE_BLESS=1 npx vitest run packages/daemon/src/config.test.ts -->',
    '',
    `One JSON file per node, by default \`${NODE_CONFIG_PATH_DEFAULT}\`, read by \`paceline node start --config FILE\`.`,
    'Every problem is reported with the path of the field and the reason; errors stop the node from',
    'starting, warnings (unknown fields, a TCP API on a non-loopback address) do not. Relative paths',
    "are resolved against the file's directory.",
    '',
    '## Example',
    '',
    '```json',
    compactJson(CONFIG_EXAMPLE, ''),
    '```',
    '',
    '## Fields',
    '',
    '| Field | Type | Default | Meaning, and why the default |',
    '|---|---|---|---|',
    ...CONFIG_FIELDS.map((f) => `| \`${f.path}\` | ${cell(f.type)} | ${f.required ? '**required**' : f.default === undefined ? '—' : `\`${cell(String(f.default))}\``} | ${cell(f.help)} |`),
    '',
    '## Files the node reads',
    '',
    '- `messaging.authkeyPath`: the shared key (`paceline keygen`), mode 0400, the same on every node.',
    '- `api.tcp.tokenPath`: the API token (one line), mode 0600; required only when `api.tcp` is set.',
    '- `initialCib`: must exist when set; read only while `dataDir` holds no CIB.',
    '',
  ];
  return lines.join('\n');
}
